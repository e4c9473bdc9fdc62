// TEST FIXTURES: mutations of DICOM Part 10 files for the decoder fuzz test
// (tests/integration/decoder-fuzz.test.ts), and a lenient map of where a file's headers lie, so that
// mutations can aim at them. Everything is drawn from a seeded PRNG: the same seed gives the same files.
//
// Mutations. Where they pick an offset, 40 % fall before PixelData (or in the first 2 kB), 25 % inside an
// element header, 15 % at the PixelData header, an encapsulation item or the first 256 bytes of the
// codestream, and 20 % anywhere: mutations inside pixel bytes are mostly benign.
// - flip-bits: flip 1–8 random bits
// - boundary-bytes: set 1–4 bytes (or a 2/4-byte run) to 0x00, 0xFF, 0x7F or 0x80
// - length: overwrite an element's 2- or 4-byte length with undefined/huge/odd/off-by-one/random values
// - truncate: cut the file at an offset
// - delete-chunk / duplicate-chunk / insert-random: remove, repeat or insert 1–512 bytes
// - zero-region: zero 1–256 bytes
// - transfer-syntax: replace the meta TransferSyntaxUID with another known UID that fits, or junk
// - retag: overwrite an element tag with PixelData, an item or delimiter tag, Rows, or a random tag
// - vr: overwrite an explicit VR with another (SQ, OB, UN, US...) or two random bytes
// - value: rewrite a short value, mostly of attributes the decoder interprets (Rows, BitsStored,
//   RescaleSlope, WindowWidth, LUTDescriptor...): boundary integers, or strings such as "1e308", "NaN",
//   "RGB", written in place or with the element's length changed to fit
// - codestream: overwrite 1–8 bytes of the first fragment, mostly its first 256 bytes (codec headers)
// - frame-size: overwrite a field that sizes the compressed frame: JPEG/JPEG-LS SOF lines, samples,
//   precision, components; JPEG 2000 SIZ sizes, tiles, components, depth and COD levels; RLE's header
// - cut-codestream: cut the first fragment short (its item length too, so the file stays well-formed),
//   sometimes ending it with an EOI marker
// Files without a transfer syntax, explicit VRs or a codestream fall back to another mutation.

import { mulberry32 } from '../../src/synthetic/random.js';

/** A seeded PRNG (mulberry32) with the draws the mutations need. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
}

// ---- where things are in a file ----

/** Latin-1 bytes of a string. */
export const text = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

const PIXEL_DATA = 0x7fe00010;
const ITEM = 0xfffee000;
const ITEM_DELIMITER = 0xfffee00d;
const SEQUENCE_DELIMITER = 0xfffee0dd;
export const UNDEFINED = 0xffffffff;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

export interface ElementHeader {
  offset: number;
  tag: number;
  /** The VR and its offset (explicit VR elements only). */
  vr: string | undefined;
  vrOffset: number | undefined;
  lengthOffset: number;
  lengthBytes: 2 | 4;
  valueOffset: number;
  length: number;
}

export interface FileMap {
  /** Every element, item and delimiter header, meta group included. */
  headers: ElementHeader[];
  transferSyntax: { offset: number; length: number } | undefined;
  /** The PixelData element header. */
  pixelData: number | undefined;
  /** Encapsulated pixel data item headers (basic offset table first). */
  items: number[];
  codestream: { offset: number; length: number } | undefined;
}

/** A lenient walk of an unmutated file (Part 10, or a raw implicit VR dataset), recording where headers lie; independent of src/. */
export function mapFile(bytes: Uint8Array): FileMap {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const map: FileMap = { headers: [], transferSyntax: undefined, pixelData: undefined, items: [], codestream: undefined };
  const part10 = bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM';
  let implicit = !part10;
  const header = (at: number, implicitVr: boolean): ElementHeader | undefined => {
    if (at + 8 > bytes.length) return undefined;
    const tag = ((view.getUint16(at, true) << 16) | view.getUint16(at + 2, true)) >>> 0;
    let h: ElementHeader;
    if (implicitVr || tag >>> 16 === 0xfffe) {
      h = { offset: at, tag, vr: undefined, vrOffset: undefined, lengthOffset: at + 4, lengthBytes: 4, valueOffset: at + 8, length: view.getUint32(at + 4, true) };
    } else {
      const vr = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!);
      if (LONG_VRS.has(vr)) {
        if (at + 12 > bytes.length) return undefined;
        h = { offset: at, tag, vr, vrOffset: at + 4, lengthOffset: at + 8, lengthBytes: 4, valueOffset: at + 12, length: view.getUint32(at + 8, true) };
      } else {
        h = { offset: at, tag, vr, vrOffset: at + 4, lengthOffset: at + 6, lengthBytes: 2, valueOffset: at + 8, length: view.getUint16(at + 6, true) };
      }
    }
    map.headers.push(h);
    return h;
  };
  const dataset = (start: number, end: number, depth: number): number => {
    let at = start;
    while (at < end && depth < 20) {
      const h = header(at, implicit);
      if (!h || h.tag === ITEM_DELIMITER) return h ? h.valueOffset : end;
      if (h.tag === PIXEL_DATA && depth === 0) map.pixelData = at;
      if (h.tag === PIXEL_DATA && depth === 0 && h.length === UNDEFINED) {
        at = h.valueOffset;
        for (let item = header(at, true); item?.tag === ITEM; item = header(at, true)) {
          map.items.push(at);
          if (map.items.length === 2) map.codestream = { offset: item.valueOffset, length: item.length };
          at = item.valueOffset + item.length;
        }
        at += 8;
      } else if (h.length === UNDEFINED) {
        at = sequence(h.valueOffset, bytes.length, depth + 1);
      } else {
        if (h.vr === 'SQ') sequence(h.valueOffset, h.valueOffset + h.length, depth + 1);
        at = h.valueOffset + h.length;
      }
    }
    return at;
  };
  const sequence = (start: number, end: number, depth: number): number => {
    let at = start;
    while (at < end) {
      const h = header(at, true);
      if (!h || h.tag === SEQUENCE_DELIMITER) return h ? h.valueOffset : end;
      if (h.tag !== ITEM) return end;
      if (h.length === UNDEFINED) {
        at = dataset(h.valueOffset, bytes.length, depth);
      } else {
        dataset(h.valueOffset, h.valueOffset + h.length, depth);
        at = h.valueOffset + h.length;
      }
    }
    return at;
  };
  let at = 0;
  if (part10) {
    at = 132;
    while (at + 8 <= bytes.length && view.getUint16(at, true) === 0x0002) {
      const h = header(at, false)!;
      if (h.tag === 0x00020010) {
        map.transferSyntax = { offset: h.valueOffset, length: h.length };
        implicit = String.fromCharCode(...bytes.subarray(h.valueOffset, h.valueOffset + h.length)).replace(/\0+$/, '') === '1.2.840.10008.1.2';
      }
      at = h.valueOffset + h.length;
    }
  }
  dataset(at, bytes.length, 0);
  return map;
}

// ---- mutations ----

/** An offset in a file of `length` bytes, biased towards the header, element headers and the pixel data's framing. */
function hotOffset(map: FileMap, length: number, rng: Rng): number {
  const roll = rng.int(100);
  let offset: number;
  if (roll < 40) {
    offset = rng.int((map.pixelData ?? Math.min(length, 2048)) + 16);
  } else if (roll < 65 && map.headers.length > 0) {
    const h = rng.pick(map.headers);
    offset = h.offset + rng.int(h.lengthOffset + h.lengthBytes - h.offset);
  } else if (roll < 80 && map.pixelData !== undefined) {
    const anchors = [map.pixelData, ...map.items];
    offset = rng.chance(0.3) && map.codestream ? map.codestream.offset + rng.int(Math.min(256, map.codestream.length + 1)) : rng.pick(anchors) + rng.int(16);
  } else {
    offset = rng.int(length);
  }
  return Math.min(offset, Math.max(0, length - 1));
}

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

const BOUNDARY = [0x00, 0xff, 0x7f, 0x80] as const;
const CHUNK_SIZES = [1, 2, 4, 8, 12, 16, 64, 512] as const;
const UIDS = [
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.5',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.100',
  '1.2.840.10008.1.2.4.110',
  '1.2.840.10008.1.2.4.201',
  '1.2.840.10008.1.2.4.203',
] as const;
const TAGS = [PIXEL_DATA, ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER, 0x00280010, 0x00020010, 0x00280008, 0x00283000] as const;
const VRS = ['SQ', 'OB', 'OW', 'UN', 'UT', 'US', 'UL', 'AE', 'DS', 'xx'] as const;

// Attributes the decoder interprets, for `value`: the image pixel module, rescale, windows, spacing, Modality LUT.
const INTERPRETED_TAGS = new Set([
  0x00280002, 0x00280004, 0x00280008, 0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280102, 0x00280103, 0x00281052, 0x00281053, 0x00281050,
  0x00281051, 0x00281056, 0x00280030, 0x00181164, 0x00283002, 0x00283006, 0x00080005,
]);
const NUMBERS_16 = [0, 1, 2, 7, 8, 12, 15, 16, 17, 32, 255, 256, 0x7fff, 0x8000, 0xffff] as const;
const NUMBERS_32 = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff] as const;
const STRINGS = [
  '0', '-0', '1', '-1', '0.5', '1e308', '-1e308', '1e-308', '5e-324', 'NaN', 'Infinity', '-Infinity', '65535', '4294967296', '1\\0', '0\\0', '\\',
  '1e308\\1e308', '-1e308\\1e-308', '', 'MONOCHROME1', 'MONOCHROME2', 'RGB', 'PALETTE COLOR', 'SIGMOID', 'LINEAR_EXACT', 'ISO_IR 192', 'ISO 2022 IR 87', '1e5\\-1e5', '9'.repeat(64),
] as const;

type Mutation = (bytes: Uint8Array, map: FileMap, rng: Rng) => Uint8Array;

/** Big-endian fields that size a codestream's frame: JPEG / JPEG-LS SOF, JPEG 2000 SIZ and COD; else RLE's little-endian header. */
function frameFields(head: Uint8Array): { at: number; size: 1 | 2 | 4; bigEndian: boolean }[] {
  const fields: { at: number; size: 1 | 2 | 4; bigEndian: boolean }[] = [];
  const add = (at: number, size: 1 | 2 | 4): void => {
    if (at + size <= head.length) fields.push({ at, size, bigEndian: true });
  };
  for (let i = 0; i + 1 < head.length; i++) {
    if (head[i] !== 0xff) continue;
    const marker = head[i + 1]!;
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc3 || marker === 0xf7) {
      // precision, lines, samples per line, components
      for (const [offset, size] of [[4, 1], [5, 2], [7, 2], [9, 1]] as const) add(i + offset, size);
    } else if (marker === 0x51) {
      // image and tile sizes and offsets, components, first component's depth
      for (const offset of [6, 10, 14, 18, 22, 26, 30, 34]) add(i + offset, 4);
      add(i + 38, 2);
      add(i + 40, 1);
    } else if (marker === 0x52) {
      // layers, decomposition levels, code-block width and height
      for (const [offset, size] of [[6, 2], [9, 1], [10, 1], [11, 1]] as const) add(i + offset, size);
    }
  }
  if (fields.length === 0) for (const at of [0, 4, 8]) if (at + 4 <= head.length) fields.push({ at, size: 4, bigEndian: false });
  return fields;
}

const MUTATIONS: Readonly<Record<string, Mutation>> = {
  'flip-bits': (bytes, map, rng) => {
    for (let n = 1 + rng.int(8); n > 0; n--) bytes[hotOffset(map, bytes.length, rng)]! ^= 1 << rng.int(8);
    return bytes;
  },
  'boundary-bytes': (bytes, map, rng) => {
    if (rng.chance(0.3)) {
      const at = hotOffset(map, bytes.length, rng);
      bytes.fill(rng.pick(BOUNDARY), at, at + rng.pick([2, 4]));
    } else {
      for (let n = 1 + rng.int(4); n > 0; n--) bytes[hotOffset(map, bytes.length, rng)] = rng.pick(BOUNDARY);
    }
    return bytes;
  },
  length: (bytes, map, rng) => {
    const { headers, pixelData, items } = map;
    if (headers.length === 0) return MUTATIONS['flip-bits']!(bytes, map, rng);
    const special = [pixelData, ...items].filter((o): o is number => o !== undefined);
    const chosen = rng.chance(0.3) && special.length > 0 ? headers.find((h) => h.offset === rng.pick(special)) : undefined;
    const h = chosen ?? rng.pick(headers);
    if (h.lengthOffset + h.lengthBytes > bytes.length) return bytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (h.lengthBytes === 4) {
      const old = view.getUint32(h.lengthOffset, true);
      const value = rng.pick([UNDEFINED, 0xfffffff0, 0x7fffffff, 0x80000000, 0, old + 1, old - 1, old * 2, old + 2 + rng.int(64), bytes.length - h.lengthOffset, rng.int(2 ** 32)]);
      view.setUint32(h.lengthOffset, value >>> 0, true);
    } else {
      const old = view.getUint16(h.lengthOffset, true);
      view.setUint16(h.lengthOffset, rng.pick([0xffff, 0, 0x8000, old + 1, old - 1, old + 2 + rng.int(64), rng.int(2 ** 16)]) & 0xffff, true);
    }
    return bytes;
  },
  truncate: (bytes, map, rng) => bytes.slice(0, rng.chance(0.5) ? hotOffset(map, bytes.length, rng) : rng.int(bytes.length)),
  'delete-chunk': (bytes, map, rng) => {
    const at = hotOffset(map, bytes.length, rng);
    return splice(bytes, at, Math.min(rng.pick(CHUNK_SIZES), bytes.length - at));
  },
  'duplicate-chunk': (bytes, map, rng) => {
    const at = hotOffset(map, bytes.length, rng);
    const chunk = bytes.slice(at, at + rng.pick(CHUNK_SIZES));
    return splice(bytes, rng.chance(0.5) ? at : hotOffset(map, bytes.length, rng), 0, chunk);
  },
  'insert-random': (bytes, map, rng) => splice(bytes, hotOffset(map, bytes.length, rng), 0, rng.bytes(1 + rng.int(64))),
  'zero-region': (bytes, map, rng) => {
    const at = hotOffset(map, bytes.length, rng);
    return bytes.fill(0, at, at + 1 + rng.int(256));
  },
  'transfer-syntax': (bytes, map, rng) => {
    const field = map.transferSyntax;
    if (!field || field.offset + field.length > bytes.length) return MUTATIONS['flip-bits']!(bytes, map, rng);
    const fits = UIDS.filter((uid) => uid.length <= field.length);
    const value = rng.chance(0.7)
      ? Uint8Array.from(rng.pick(fits).padEnd(field.length, '\0'), (c) => c.charCodeAt(0))
      : rng.chance(0.5)
        ? Uint8Array.from({ length: field.length }, () => rng.pick([0x2e, 0x30, 0x31, 0x32, 0x38, 0x39, 0x00, 0x20]))
        : rng.bytes(field.length);
    bytes.set(value, field.offset);
    return bytes;
  },
  retag: (bytes, map, rng) => {
    if (map.headers.length === 0) return MUTATIONS['flip-bits']!(bytes, map, rng);
    const h = rng.pick(map.headers);
    if (h.offset + 4 > bytes.length) return bytes;
    const tag = rng.chance(0.8) ? rng.pick(TAGS) : rng.int(2 ** 32);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint16(h.offset, tag >>> 16, true);
    view.setUint16(h.offset + 2, tag & 0xffff, true);
    return bytes;
  },
  value: (bytes, map, rng) => {
    const candidates = map.headers.filter((h) => h.tag >>> 16 !== 0xfffe && h.tag !== PIXEL_DATA && h.length > 0 && h.length <= 64 && h.valueOffset + h.length <= bytes.length);
    if (candidates.length === 0) return MUTATIONS['boundary-bytes']!(bytes, map, rng);
    const interpreted = candidates.filter((h) => INTERPRETED_TAGS.has(h.tag));
    const h = rng.chance(0.7) && interpreted.length > 0 ? rng.pick(interpreted) : rng.pick(candidates);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const binary = h.vr === undefined ? (h.length === 2 || h.length === 4) && rng.chance(0.6) : ['US', 'SS', 'UL', 'SL'].includes(h.vr);
    if (binary && (h.vr === 'US' || h.vr === 'SS' || h.length === 2)) {
      view.setUint16(h.valueOffset + 2 * rng.int(h.length >> 1), rng.chance(0.8) ? rng.pick(NUMBERS_16) : rng.int(2 ** 16), true);
    } else if (binary && h.length >= 4) {
      view.setUint32(h.valueOffset + 4 * rng.int(h.length >> 2), rng.chance(0.8) ? rng.pick(NUMBERS_32) : rng.int(2 ** 32), true);
    } else if (h.tag >>> 16 === 0x0002 || rng.chance(0.3)) {
      // In place, cut to the value's length (the file meta group keeps its group length right).
      bytes.fill(0x20, h.valueOffset, h.valueOffset + h.length);
      bytes.set(text(rng.pick(STRINGS)).subarray(0, h.length), h.valueOffset);
    } else {
      // The whole string, with the element's length changed to fit.
      const value = text(rng.pick(STRINGS));
      const padded = new Uint8Array(value.length + (value.length % 2)).fill(0x20);
      padded.set(value);
      if (h.lengthBytes === 2) view.setUint16(h.lengthOffset, padded.length, true);
      else view.setUint32(h.lengthOffset, padded.length, true);
      return splice(bytes, h.valueOffset, h.length, padded);
    }
    return bytes;
  },
  codestream: (bytes, map, rng) => {
    const stream = map.codestream;
    if (!stream || stream.length === 0) return MUTATIONS.value!(bytes, map, rng);
    for (let n = 1 + rng.int(8); n > 0; n--) {
      const at = stream.offset + rng.int(rng.chance(0.7) ? Math.min(256, stream.length) : stream.length);
      if (at < bytes.length) bytes[at] = rng.chance(0.5) ? rng.pick(BOUNDARY) : rng.int(256);
    }
    return bytes;
  },
  'cut-codestream': (bytes, map, rng) => {
    const stream = map.codestream;
    if (!stream || stream.length < 4 || stream.offset + stream.length > bytes.length) return MUTATIONS.value!(bytes, map, rng);
    // Keep the file well-formed: the first fragment shrinks (its item length with it), sometimes ending in an EOI marker.
    const keep = rng.int(stream.length >> 1) * 2;
    const tail = rng.chance(0.3) ? Uint8Array.from([0xff, 0xd9]) : new Uint8Array(0);
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(stream.offset - 4, keep + tail.length, true);
    return splice(bytes, stream.offset + keep, stream.length - keep, tail);
  },
  'frame-size': (bytes, map, rng) => {
    const stream = map.codestream;
    if (!stream) return MUTATIONS.value!(bytes, map, rng);
    const start = stream.offset;
    const fields = frameFields(bytes.subarray(start, Math.min(start + Math.min(stream.length, 1024), bytes.length)));
    if (fields.length === 0) return bytes;
    const { at, size, bigEndian } = rng.pick(fields);
    const view = new DataView(bytes.buffer, bytes.byteOffset + start + at, size);
    const read = size === 1 ? view.getUint8(0) : size === 2 ? view.getUint16(0, !bigEndian) : view.getUint32(0, !bigEndian);
    const value = rng.pick([0, 1, 2, 0xff, 0xffff, 0x7fff, 0x10000, 0x7fffffff, 0xffffffff, rng.int(2 ** 32), read * 2, read + 1, read - 1]) >>> 0;
    if (size === 1) view.setUint8(0, value & 0xff);
    else if (size === 2) view.setUint16(0, value & 0xffff, !bigEndian);
    else view.setUint32(0, value, !bigEndian);
    return bytes;
  },
  vr: (bytes, map, rng) => {
    const explicit = map.headers.filter((h) => h.vrOffset !== undefined);
    if (explicit.length === 0) return MUTATIONS['boundary-bytes']!(bytes, map, rng);
    const h = rng.pick(explicit);
    if (h.vrOffset! + 2 > bytes.length) return bytes;
    bytes.set(rng.chance(0.8) ? Uint8Array.from(rng.pick(VRS), (c) => c.charCodeAt(0)) : rng.bytes(2), h.vrOffset);
    return bytes;
  },
};
// Weights: the length, structure and header mutations find more than bit noise does.
const MUTATION_TABLE: readonly string[] = Object.entries({
  'flip-bits': 3,
  'boundary-bytes': 2,
  length: 4,
  truncate: 2,
  'delete-chunk': 2,
  'duplicate-chunk': 2,
  'insert-random': 2,
  'zero-region': 1,
  'transfer-syntax': 1,
  retag: 2,
  vr: 2,
  value: 6,
  codestream: 3,
  'frame-size': 2,
  'cut-codestream': 2,
}).flatMap(([name, weight]) => Array<string>(weight).fill(name));

/** Applies 1 mutation (75 %), 2 (20 %) or 3 (5 %) to a copy of `bytes`, whose layout `map` describes. */
export function mutate(bytes: Uint8Array, map: FileMap, rng: Rng): { bytes: Uint8Array; mutations: string[] } {
  const count = rng.chance(0.75) ? 1 : rng.chance(0.8) ? 2 : 3;
  let mutated: Uint8Array = bytes.slice();
  const mutations: string[] = [];
  for (let n = 0; n < count && mutated.length > 0; n++) {
    const name = rng.pick(MUTATION_TABLE);
    mutations.push(name);
    mutated = MUTATIONS[name]!(mutated, map, rng);
  }
  return { bytes: mutated, mutations };
}

// ---- building DICOM bytes ----

/** An explicit VR little endian element, its value padded to even length with a NUL (right for UI and OB). */
export function element(group: number, elementNumber: number, vr: string, value: Uint8Array): Uint8Array {
  const padded = new Uint8Array(value.length + (value.length % 2));
  padded.set(value);
  const long = LONG_VRS.has(vr);
  const out = new Uint8Array((long ? 12 : 8) + padded.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, group, true);
  view.setUint16(2, elementNumber, true);
  out.set([vr.charCodeAt(0), vr.charCodeAt(1)], 4);
  if (long) view.setUint32(8, padded.length, true);
  else view.setUint16(6, padded.length, true);
  out.set(padded, long ? 12 : 8);
  return out;
}

/** The parts one after another in a new array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
