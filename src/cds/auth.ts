// CDS client authentication (CDS Hooks 2.0.1 §Trusting CDS Clients): a JWT signed with an asymmetric
// key of a configured issuer, aud = the URL called, exp/iat/jti required, jti never accepted twice.
// Every failure becomes the same 401; the reason goes to the log only.
// jose selects keys from JWKS (inline, URL, allow-listed jku) and caches remote ones: a JWKS URL is
// fetched again after jwksCacheMaxAgeMs, or when a token names an unknown kid (at most once per
// jwksCooldownMs); jose never follows a redirect (fetch with redirect: 'manual', a 3xx is a failure).
// The signature is checked with node:crypto (jws.ts) and the claims here, with jose's semantics
// (whole seconds). Token ids are remembered in the store, so a replay is refused after a restart too.
import { KeyObject, type webcrypto } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, type CompactJWSHeaderParameters, type JWTVerifyGetKey } from 'jose';
import type { Config, JwsAlgorithm, TrustedClient } from '../config.js';
import type { Store } from '../store/store.js';
import { verifyCompactSignature } from './jws.js';

export type AuthFailure =
  | 'missing-token'
  | 'malformed-token'
  | 'unsupported-alg'
  | 'bad-typ'
  | 'missing-kid'
  | 'unknown-issuer'
  | 'jku-not-allowed'
  | 'no-key-source'
  | 'invalid-token'
  | 'wrong-tenant'
  | 'replayed-jti'
  /** The client has replayCacheSize unexpired token ids on record: refused rather than forget one early. */
  | 'replay-cache-full';

export class AuthError extends Error {
  override name = 'AuthError';
  /** For logs only: which check failed, e.g. `signature`, `expired`, `aud`. */
  constructor(
    readonly reason: AuthFailure,
    readonly detail?: string,
  ) {
    super(`client authentication failed: ${reason}`);
  }
}

export interface AuthenticatedClient {
  iss: string;
  tenant?: string;
}

export interface ClientAuthenticator {
  /** Verifies `Authorization: Bearer <jwt>` for a call to `audience` (the exact URL called). Throws AuthError. */
  authenticate(authorization: string | undefined, audience: string): Promise<AuthenticatedClient>;
}

interface ClientKeys {
  client: TrustedClient;
  /** Keys on record (inline JWKS or configured JWKS URL), or undefined for a jku-only client. */
  onRecord?: JWTVerifyGetKey;
}

export interface AuthenticatorDeps {
  /** Where token ids are remembered (a store failure is rethrown, never taken as "not seen"). */
  tokenIds: Pick<Store, 'claimTokenId'>;
  clock?: () => Date;
}

export function createClientAuthenticator(config: Config['auth'], deps: AuthenticatorDeps): ClientAuthenticator {
  const { tokenIds } = deps;
  const clock = deps.clock ?? (() => new Date());
  const remote = (url: string): JWTVerifyGetKey =>
    createRemoteJWKSet(new URL(url), { timeoutDuration: config.jwksTimeoutMs, cooldownDuration: config.jwksCooldownMs, cacheMaxAge: config.jwksCacheMaxAgeMs });
  const clients = new Map<string, ClientKeys>(
    config.clients.map((client) => {
      let onRecord: JWTVerifyGetKey | undefined;
      if (client.jwks) onRecord = createLocalJWKSet(client.jwks);
      else if (client.jwksUrl) onRecord = remote(client.jwksUrl);
      return [client.iss, { client, onRecord }];
    }),
  );
  // One cached remote key set per allow-listed jku URL (bounded by configuration).
  const jkuKeySets = new Map<string, JWTVerifyGetKey>();

  function keySource({ client, onRecord }: ClientKeys, header: CompactJWSHeaderParameters): JWTVerifyGetKey {
    if (header.jku !== undefined) {
      if (!client.allowedJku.includes(header.jku)) throw new AuthError('jku-not-allowed');
      let keySet = jkuKeySets.get(header.jku);
      if (!keySet) jkuKeySets.set(header.jku, (keySet = remote(header.jku)));
      return keySet;
    }
    if (!onRecord) throw new AuthError('no-key-source');
    return onRecord;
  }

  return {
    async authenticate(authorization, audience) {
      const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      if (!token) throw new AuthError('missing-token');
      const { header, payload } = decode(token);
      const keys = typeof payload.iss === 'string' ? clients.get(payload.iss) : undefined;
      if (!keys) throw new AuthError('unknown-issuer');
      const { client } = keys;
      const alg = header.alg;
      if (typeof alg !== 'string' || !(client.algorithms as string[]).includes(alg)) throw new AuthError('unsupported-alg');
      if (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT') throw new AuthError('bad-typ');
      if (typeof header.kid !== 'string' || header.kid === '') throw new AuthError('missing-kid');
      // No JWS extensions are understood, so none may be critical (RFC 7515 §4.1.11).
      if (header.crit !== undefined) throw new AuthError('invalid-token', 'crit header');

      const jwsHeader = header as CompactJWSHeaderParameters;
      const key = await resolveKey(keySource(keys, jwsHeader), jwsHeader);
      if (!(await verifyCompactSignature(token, alg as JwsAlgorithm, key))) throw new AuthError('invalid-token', 'signature');
      const now = Math.floor(clock().getTime() / 1000);
      const problem = claimProblem(payload, client.iss, audience, now, config);
      if (problem) throw new AuthError('invalid-token', problem);

      const tenant = typeof payload.tenant === 'string' ? payload.tenant : undefined;
      if (client.tenant !== undefined && tenant !== client.tenant) throw new AuthError('wrong-tenant');
      const claimed = await tokenIds.claimTokenId({
        issuer: client.iss,
        id: payload.jti as string,
        expiresAt: refusedFrom(payload.exp as number, payload.iat as number, config),
        now,
        limit: config.replayCacheSize,
      });
      if (claimed === 'replayed') throw new AuthError('replayed-jti');
      if (claimed === 'full') throw new AuthError('replay-cache-full');
      return tenant === undefined ? { iss: client.iss } : { iss: client.iss, tenant };
    },
  };
}

type Json = Record<string, unknown>;

function decodePart(part: string | undefined): Json {
  const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
  return value as Json;
}

function decode(token: string): { header: Json; payload: Json } {
  // Three base64url parts; an empty signature is well-formed (alg "none") and refused later for its algorithm.
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw new AuthError('malformed-token');
  const parts = token.split('.');
  try {
    return { header: decodePart(parts[0]), payload: decodePart(parts[1]) };
  } catch {
    throw new AuthError('malformed-token');
  }
}

/** Why no key was had, for the log: jose's code, with what went wrong fetching a JWKS URL (not 200, a redirect, refused). */
function keyFailure(error: unknown): string {
  const { code, message, cause } = error as { code?: string; message?: string; cause?: { code?: unknown } };
  if (code === 'ERR_JOSE_GENERIC') return `${code}: ${message ?? ''}`;
  if (code !== undefined) return code;
  if (typeof cause?.code === 'string') return `JWKS fetch failed: ${cause.code}`;
  return 'no key';
}

/** Imported keys are cached by jose; their node:crypto form is cached here against the same objects. */
const keyObjects = new WeakMap<object, KeyObject>();

async function resolveKey(getKey: JWTVerifyGetKey, header: CompactJWSHeaderParameters): Promise<KeyObject> {
  let key: unknown;
  try {
    key = await getKey(header, { payload: '', signature: '' });
  } catch (error) {
    throw new AuthError('invalid-token', keyFailure(error));
  }
  if (key instanceof KeyObject) return key;
  if (typeof key === 'object' && key !== null) {
    const cached = keyObjects.get(key);
    if (cached) return cached;
    try {
      const keyObject = KeyObject.from(key as webcrypto.CryptoKey);
      keyObjects.set(key, keyObject);
      return keyObject;
    } catch {
      // Not a CryptoKey: a raw JWK or secret, which we never verify with.
    }
  }
  throw new AuthError('invalid-token', 'unusable key');
}

/**
 * The first whole second at which claimProblem refuses the token whatever the clock said at first use:
 * exp + tolerance (expired), or one past iat + maxTokenAge + tolerance (too old). Its jti is remembered until then.
 */
function refusedFrom(exp: number, iat: number, config: Config['auth']): number {
  const tolerance = config.clockToleranceSeconds;
  return Math.min(Math.ceil(exp) + tolerance, Math.floor(iat) + config.maxTokenAgeSeconds + tolerance + 1);
}

/** The registered-claim checks of jwtVerify (jose semantics, whole seconds); a description of the first failure. */
function claimProblem(payload: Json, iss: string, audience: string, now: number, config: Config['auth']): string | undefined {
  const tolerance = config.clockToleranceSeconds;
  const { aud, exp, nbf, iat, jti } = payload;
  if (payload.iss !== iss) return 'iss';
  if (aud !== audience && !(Array.isArray(aud) && aud.includes(audience))) return 'aud';
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'exp missing';
  if (exp <= now - tolerance) return 'expired';
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + tolerance)) return 'nbf';
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return 'iat missing';
  if (now - iat < -tolerance) return 'iat in the future';
  if (now - iat - tolerance > config.maxTokenAgeSeconds) return 'too old (iat)';
  if (typeof jti !== 'string' || jti === '') return 'jti missing';
  return undefined;
}
