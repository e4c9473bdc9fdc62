// One pass over a JSON body's bytes, before JSON.parse sees it, refusing what JSON.parse would accept
// but the service must not:
// - nesting deeper than a limit, so nothing downstream (schema checks, logging, copies) recurses
//   without bound;
// - the keys `__proto__` and `constructor`, so they can never reach an object that is later merged or
//   spread (prototype pollution); no CDS Hooks or FHIR field has either name;
// - a key repeated in one object: JSON.parse keeps the last, a proxy or audit trail may keep the first,
//   and the two would then disagree about what was sent (RFC 8259 §4 leaves it undefined; I-JSON,
//   RFC 7493, forbids it).
// Only the structure is followed here; grammar errors are left to JSON.parse, which runs next. The
// body is UTF-8, whose multi-byte sequences never contain an ASCII byte, so bytes can be scanned as is.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor']);

/** An open object (its keys so far, and whether a key comes next) or array (no keys). */
interface Frame {
  keys: Set<string> | null;
  expectKey: boolean;
}

/** The index of the quote that closes the string opening at `start` (bytes.length if none). */
function stringEnd(bytes: Buffer, start: number): number {
  for (let i = start; ; ) {
    i = bytes.indexOf(QUOTE, i + 1); // native search: string contents are skipped, not walked
    if (i === -1) return bytes.length;
    let backslashes = 0;
    while (bytes[i - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
}

/** A key as JSON.parse will see it: escapes (`\u005f_proto__`) decoded. */
function keyText(bytes: Buffer, start: number, end: number): string {
  const raw = bytes.toString('utf8', start + 1, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // a bad escape: JSON.parse refuses the whole body next
  }
}

/** A key fit to quote back; any other is described, not echoed. */
const quoted = (key: string): string => (/^[A-Za-z0-9_.-]{1,64}$/.test(key) ? `"${key}"` : 'a key');

/** Why the body must be refused, or undefined when its structure is acceptable. */
export function jsonStructureProblem(bytes: Buffer, maxDepth: number): string | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      const start = i;
      i = stringEnd(bytes, start);
      const top = stack.at(-1);
      if (top?.keys && top.expectKey) {
        top.expectKey = false;
        const key = keyText(bytes, start, i);
        if (FORBIDDEN_KEYS.has(key)) return `the key "${key}" is not allowed`;
        if (top.keys.has(key)) return `${quoted(key)} appears twice in one object`;
        top.keys.add(key);
      }
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (stack.length >= maxDepth) return `it is nested deeper than ${maxDepth} levels`;
      const isObject = byte === OPEN_OBJECT;
      stack.push({ keys: isObject ? new Set() : null, expectKey: isObject });
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      stack.pop();
    } else if (byte === COMMA) {
      const top = stack.at(-1);
      if (top?.keys) top.expectKey = true;
    }
  }
  return undefined;
}
