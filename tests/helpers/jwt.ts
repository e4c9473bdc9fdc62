// Test-only JWT minting: real keys (jose), plus hand-built forgeries that a library would refuse to sign.
import { createHmac, KeyObject, randomUUID, sign } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JSONWebKeySet } from 'jose';

export interface SigningKey {
  alg: 'ES384' | 'RS384' | 'ES256' | 'RS256';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(alg: SigningKey['alg'], kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}

export function jwksOf(...keys: SigningKey[]): JSONWebKeySet {
  return { keys: keys.map((k) => k.publicJwk) };
}

export interface ClaimsOptions {
  iss: string;
  aud: string | string[];
  /** Seconds since the epoch; defaults relative to now. */
  iat?: number;
  exp?: number;
  nbf?: number;
  jti?: string | null;
  tenant?: string;
  jku?: string;
  typ?: string | null;
  /** null omits the kid header. */
  kid?: string | null;
  omit?: ('exp' | 'iat')[];
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function claimsOf(o: ClaimsOptions): Record<string, unknown> {
  const iat = o.iat ?? nowSeconds();
  const claims: Record<string, unknown> = { iss: o.iss, aud: o.aud, iat, exp: o.exp ?? iat + 300 };
  if (o.jti !== null) claims.jti = o.jti ?? randomUUID();
  if (o.nbf !== undefined) claims.nbf = o.nbf;
  if (o.tenant !== undefined) claims.tenant = o.tenant;
  for (const key of o.omit ?? []) delete claims[key];
  return claims;
}

function headerOf(key: SigningKey, options: ClaimsOptions): { alg: string } & Record<string, unknown> {
  const header: { alg: string } & Record<string, unknown> = { alg: key.alg };
  if (options.typ !== null) header.typ = options.typ ?? 'JWT';
  if (options.kid !== null) header.kid = options.kid ?? key.kid;
  if (options.jku !== undefined) header.jku = options.jku;
  return header;
}

export async function signJwt(key: SigningKey, options: ClaimsOptions): Promise<string> {
  return new SignJWT(claimsOf(options)).setProtectedHeader(headerOf(key, options)).sign(key.privateKey);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** signJwt without awaiting (node:crypto), for helpers that must set a header before a request starts. */
export function signJwtSync(key: SigningKey, options: ClaimsOptions): string {
  const signingInput = `${b64(headerOf(key, options))}.${b64(claimsOf(options))}`;
  const hash = `sha${key.alg.slice(2)}`;
  const signature = sign(hash, Buffer.from(signingInput), { key: KeyObject.from(key.privateKey), dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** An unsigned token (`alg: none`). */
export function unsignedJwt(options: ClaimsOptions & { kid: string }): string {
  return `${b64({ alg: 'none', typ: 'JWT', kid: options.kid })}.${b64(claimsOf(options))}.`;
}

/** An HMAC token keyed with a public key's text, the classic algorithm-confusion forgery. */
export function hs256Jwt(options: ClaimsOptions & { kid: string }, secret: string): string {
  const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: options.kid })}.${b64(claimsOf(options))}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** The token with its signature replaced by another token's (valid structure, wrong signature). */
export function withForeignSignature(token: string, donor: string): string {
  const [header, payload] = token.split('.');
  return `${header}.${payload}.${donor.split('.')[2]}`;
}
