// Client JWTs for the hook benchmarks: a signing key, tokens pre-signed in batches (each with its own
// jti, as the service refuses a replay), and a supply that hands each out once.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export type Alg = 'RS384' | 'ES384';

export interface Key {
  alg: Alg;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(alg: Alg): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const kid = `bench-${alg.toLowerCase()}`;
  return { alg, kid, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** Signs `count` tokens, each with its own jti. WebCrypto signs on libuv's thread pool, so batches use every core. */
export async function signTokens(key: Key, issuer: string, audience: string, count: number): Promise<string[]> {
  const iat = Math.floor(Date.now() / 1000);
  const sign = (): Promise<string> =>
    new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: key.alg, typ: 'JWT', kid: key.kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .sign(key.privateKey);
  const tokens: string[] = [];
  while (tokens.length < count) tokens.push(...(await Promise.all(Array.from({ length: Math.min(256, count - tokens.length) }, sign))));
  return tokens;
}

/** Hands out each token once. Running dry is a bench bug: the run is then reported invalid, never padded with reuse. */
export class TokenSupply {
  private next = 0;
  exhausted = false;
  constructor(private readonly tokens: string[]) {}
  take = (): string => {
    const token = this.tokens[this.next++];
    if (token !== undefined) return token;
    this.exhausted = true;
    return 'exhausted';
  };
}
