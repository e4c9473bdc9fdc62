// The EHR simulator's identity as a CDS client: a fresh ES384 key pair per start (CDS Hooks recommends
// ES384 or RS384), named by a random kid. The service trusts it through its `auth.clients` entry
// `{ iss, jwks: { keys: [publicJwk] } }`; the private key never leaves this process.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export interface SimulatorKey {
  /** The `iss` of every JWT the simulator signs. */
  readonly iss: string;
  readonly kid: string;
  readonly alg: 'ES384';
  /** Not extractable: it signs, and cannot be exported. */
  readonly privateKey: CryptoKey;
  /** The public half with `kid`, `alg` and `use`, for the service's configuration. */
  readonly publicJwk: JWK;
}

export async function createSimulatorKey(iss: string): Promise<SimulatorKey> {
  if (typeof iss !== 'string' || iss.trim() === '') throw new TypeError('iss must be a non-empty string');
  const { privateKey, publicKey } = await generateKeyPair('ES384');
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' };
  return { iss, kid, alg: 'ES384', privateKey, publicJwk };
}
