// CDS client authentication (CDS Hooks 2.0.1 §Trusting CDS Clients): a JWT signed with an asymmetric
// key of a configured issuer, aud = the URL called, exp/iat/jti required, jti never accepted twice.
// Every failure becomes the same 401; the reason goes to the log only.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from 'jose';
import { LRUCache } from 'lru-cache';
import type { Config, TrustedClient } from '../config.js';

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
  | 'replayed-jti';

export class AuthError extends Error {
  override name = 'AuthError';
  /** For logs: the verifier's error code and claim, e.g. `ERR_JWT_CLAIM_VALIDATION_FAILED aud`. */
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

export function createClientAuthenticator(config: Config['auth'], clock: () => Date = () => new Date()): ClientAuthenticator {
  const remote = (url: string): JWTVerifyGetKey => createRemoteJWKSet(new URL(url), { timeoutDuration: config.jwksTimeoutMs });
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
  // A token stays acceptable until floor(now) - iat - tolerance > maxTokenAge, and its iat may be up to
  // `tolerance` ahead when first seen: remember each jti for maxTokenAge + 2·tolerance + 1 s after that.
  const seenJti = new LRUCache<string, true>({
    max: config.replayCacheSize,
    ttl: (config.maxTokenAgeSeconds + 2 * config.clockToleranceSeconds + 1) * 1000,
  });

  function keySource({ client, onRecord }: ClientKeys, header: ProtectedHeaderParameters): JWTVerifyGetKey {
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
      let header: ProtectedHeaderParameters;
      let iss: unknown;
      try {
        header = decodeProtectedHeader(token);
        iss = decodeJwt(token).iss;
      } catch {
        throw new AuthError('malformed-token');
      }
      const keys = typeof iss === 'string' ? clients.get(iss) : undefined;
      if (!keys) throw new AuthError('unknown-issuer');
      if (typeof header.alg !== 'string' || !(keys.client.algorithms as string[]).includes(header.alg)) {
        throw new AuthError('unsupported-alg');
      }
      if (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT') throw new AuthError('bad-typ');
      if (typeof header.kid !== 'string' || header.kid === '') throw new AuthError('missing-kid');

      let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
      try {
        ({ payload } = await jwtVerify(token, keySource(keys, header), {
          issuer: keys.client.iss,
          audience,
          algorithms: keys.client.algorithms,
          requiredClaims: ['exp', 'iat', 'jti'],
          maxTokenAge: config.maxTokenAgeSeconds,
          clockTolerance: config.clockToleranceSeconds,
          currentDate: clock(),
        }));
      } catch (error) {
        if (error instanceof AuthError) throw error;
        const { code, claim } = error as { code?: unknown; claim?: unknown };
        throw new AuthError('invalid-token', [code, claim].filter((x) => typeof x === 'string').join(' ') || undefined);
      }
      if (typeof payload.jti !== 'string' || payload.jti === '') throw new AuthError('invalid-token');
      const tenant = typeof payload.tenant === 'string' ? payload.tenant : undefined;
      if (keys.client.tenant !== undefined && tenant !== keys.client.tenant) throw new AuthError('wrong-tenant');
      const replayKey = `${keys.client.iss}\u0000${payload.jti}`;
      if (seenJti.has(replayKey)) throw new AuthError('replayed-jti');
      seenJti.set(replayKey, true);
      return tenant === undefined ? { iss: keys.client.iss } : { iss: keys.client.iss, tenant };
    },
  };
}
