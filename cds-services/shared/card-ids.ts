// Stable card and suggestion uuids: RFC 4122 version 5 (name-based, SHA-1) uuids, so the same
// assessment shown twice carries the same card uuid and feedback on either joins to it.
import { createHash } from 'node:crypto';

/** This project's namespace for name-based uuids (a random uuid, fixed once). */
const NAMESPACE = Buffer.from('6f1c2a4e9b7d4c3a8e5f0d2b1a9c7e63', 'hex');

export function nameBasedUuid(scope: string, name: string): string {
  const bytes = createHash('sha1').update(NAMESPACE).update(`${scope}\u0000${name}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
