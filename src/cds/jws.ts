// Compact JWS signature check with node:crypto, on libuv's thread pool. jose's WebCrypto path cost
// ~85 µs of event-loop time per token in the hook benchmark; node:crypto's callback form costs the
// event loop only the dispatch, and the signature maths (~20% of a hook's CPU when it ran on the
// event loop, even for RS384) runs on another core. Key selection and JWKS fetching stay with jose.
import { constants, type KeyObject, verify, type VerifyKeyObjectInput } from 'node:crypto';
import type { JwsAlgorithm } from '../config.js';

interface AlgorithmSpec {
  hash: string | null;
  /** The key this algorithm needs: type, and for EC the curve. Anything else is refused (no algorithm confusion). */
  keyType: 'rsa' | 'ec' | 'ed25519';
  curve?: string;
  options: Omit<VerifyKeyObjectInput, 'key'>;
}

const SPECS: Readonly<Record<JwsAlgorithm, AlgorithmSpec>> = {
  RS256: { keyType: 'rsa', hash: 'sha256', options: {} },
  RS384: { keyType: 'rsa', hash: 'sha384', options: {} },
  RS512: { keyType: 'rsa', hash: 'sha512', options: {} },
  PS256: { keyType: 'rsa', hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  PS384: { keyType: 'rsa', hash: 'sha384', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 } },
  PS512: { keyType: 'rsa', hash: 'sha512', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 } },
  ES256: { keyType: 'ec', curve: 'prime256v1', hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { keyType: 'ec', curve: 'secp384r1', hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  ES512: { keyType: 'ec', curve: 'secp521r1', hash: 'sha512', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { keyType: 'ed25519', hash: null, options: {} },
};

/** Verifies the signature of a compact JWS whose header names `alg`; false for a wrong signature. */
export function verifyCompactSignature(token: string, alg: JwsAlgorithm, key: KeyObject): Promise<boolean> {
  const spec = SPECS[alg];
  const details = key.asymmetricKeyDetails;
  if (key.type !== 'public' || key.asymmetricKeyType !== spec.keyType || (spec.curve && details?.namedCurve !== spec.curve)) {
    return Promise.resolve(false);
  }
  const dot = token.lastIndexOf('.');
  const signingInput = Buffer.from(token.slice(0, dot));
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  const input: VerifyKeyObjectInput = { key, ...spec.options };
  return new Promise((resolve) => {
    try {
      verify(spec.hash, signingInput, input, signature, (error, valid) => resolve(!error && valid));
    } catch {
      // Refused before dispatch: options that do not fit the key, or a malformed signature.
      resolve(false);
    }
  });
}
