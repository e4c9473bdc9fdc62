import assert from 'node:assert/strict';
import { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { CompactSign, generateKeyPair } from 'jose';
import type { JwsAlgorithm } from '../../src/config.js';
import { verifyCompactSignature } from '../../src/cds/jws.js';

const ALGS: JwsAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

async function signed(alg: JwsAlgorithm): Promise<{ token: string; key: KeyObject }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const token = await new CompactSign(Buffer.from('{"iss":"x"}')).setProtectedHeader({ alg }).sign(privateKey);
  return { token, key: KeyObject.from(publicKey) };
}

function tamper(token: string): string {
  const signature = Buffer.from(token.split('.')[2]!, 'base64url');
  signature[signature.length >> 1]! ^= 0x01;
  return `${token.slice(0, token.lastIndexOf('.'))}.${signature.toString('base64url')}`;
}

describe('compact JWS signature check (node:crypto)', () => {
  for (const alg of ALGS) {
    it(`${alg}: accepts jose's signature and refuses a flipped bit or a changed payload`, async () => {
      const { token, key } = await signed(alg);
      assert.equal(await verifyCompactSignature(token, alg, key), true);
      assert.equal(await verifyCompactSignature(tamper(token), alg, key), false);
      const [header, , signature] = token.split('.');
      const otherPayload = Buffer.from('{"iss":"y"}').toString('base64url');
      assert.equal(await verifyCompactSignature(`${header}.${otherPayload}.${signature}`, alg, key), false);
    });
  }

  it('refuses a key of the wrong type or curve for the algorithm (no algorithm confusion)', async () => {
    const es384 = await signed('ES384');
    const es256 = await signed('ES256');
    const rs384 = await signed('RS384');
    assert.equal(await verifyCompactSignature(es384.token, 'ES384', es256.key), false, 'P-256 key for ES384');
    assert.equal(await verifyCompactSignature(rs384.token, 'RS384', es384.key), false, 'EC key for RS384');
    assert.equal(await verifyCompactSignature(rs384.token, 'PS384', rs384.key), false, 'PKCS#1 v1.5 signature as PSS');
    assert.equal(await verifyCompactSignature(es384.token, 'ES384', rs384.key), false, 'RSA key for ES384');
  });

  it('refuses an empty or garbage signature without throwing', async () => {
    const { token, key } = await signed('RS384');
    const input = token.slice(0, token.lastIndexOf('.'));
    assert.equal(await verifyCompactSignature(`${input}.`, 'RS384', key), false);
    assert.equal(await verifyCompactSignature(`${input}.AAAA`, 'ES384', (await signed('ES384')).key), false);
  });
});
