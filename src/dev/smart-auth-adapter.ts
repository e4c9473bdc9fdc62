// oidc-provider's storage, in memory and owned by one server. The library's built-in memory adapter works but warns
// "development-only" at every start and shares one store between all providers of a process; this one keeps each
// test's authorization server apart and says nothing.
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

/** Models whose artifacts belong to a grant and go when it is revoked (as in oidc-provider's own adapter). */
const GRANT_BOUND_MODELS: ReadonlySet<string> = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

export function createMemoryAdapter(now: () => number = Date.now): AdapterFactory {
  const entries = new Map<string, Entry>(); // `${model}:${id}`
  const sessionIdByUid = new Map<string, string>();
  const keysByGrant = new Map<string, Set<string>>();

  function live(key: string): AdapterPayload | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now()) return entry.payload;
    entries.delete(key);
    return undefined;
  }

  function sweep(): void {
    const time = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= time) entries.delete(key);
    for (const [grantId, keys] of keysByGrant) {
      for (const key of keys) if (!entries.has(key)) keys.delete(key);
      if (keys.size === 0) keysByGrant.delete(grantId);
    }
  }

  return (model: string): Adapter => {
    const keyOf = (id: string): string => `${model}:${id}`;
    return {
      upsert(id, payload, expiresIn) {
        sweep();
        const key = keyOf(id);
        entries.set(key, { payload, expiresAt: expiresIn === undefined ? Infinity : now() + expiresIn * 1000 });
        if (model === 'Session' && payload.uid !== undefined) sessionIdByUid.set(payload.uid, id);
        if (GRANT_BOUND_MODELS.has(model) && payload.grantId !== undefined) {
          const keys = keysByGrant.get(payload.grantId) ?? new Set<string>();
          keys.add(key);
          keysByGrant.set(payload.grantId, keys);
        }
        return Promise.resolve();
      },
      find(id) {
        return Promise.resolve(live(keyOf(id)));
      },
      findByUid(uid) {
        const id = sessionIdByUid.get(uid);
        return Promise.resolve(id === undefined ? undefined : live(keyOf(id)));
      },
      findByUserCode() {
        return Promise.resolve(undefined); // no device flow
      },
      consume(id) {
        const payload = live(keyOf(id));
        if (payload) payload.consumed = Math.floor(now() / 1000);
        return Promise.resolve();
      },
      destroy(id) {
        const key = keyOf(id);
        const uid = entries.get(key)?.payload.uid;
        if (model === 'Session' && uid !== undefined) sessionIdByUid.delete(uid);
        entries.delete(key);
        return Promise.resolve();
      },
      revokeByGrantId(grantId) {
        for (const key of keysByGrant.get(grantId) ?? []) entries.delete(key);
        keysByGrant.delete(grantId);
        return Promise.resolve();
      },
    };
  };
}
