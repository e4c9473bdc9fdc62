// A bounds-checked walk over a DICOM Part 10 file before dcmjs reads it. dcmjs trusts declared
// lengths: a value that runs past the end of the buffer is zero-filled into a fresh allocation of
// the declared size (up to 4 GiB), so a truncated or corrupted file would "parse" and a mutated
// length could exhaust memory. Walking the element structure first turns those into typed errors.
import { ImagingError } from './errors.js';

export interface Part10Structure {
  transferSyntaxUid: string;
  /** Byte offset where the dataset (after the file meta group) starts. */
  datasetOffset: number;
  pixelData: PixelDataLocation | undefined;
}

/** Where the pixel data lies: one native value, or encapsulated fragments (the first is the basic offset table). */
export type PixelDataLocation =
  | { encapsulated: false; offset: number; length: number }
  | { encapsulated: true; fragments: { offset: number; length: number }[] };

const PIXEL_DATA = 0x7fe00010;
const ITEM = 0xfffee000;
const ITEM_DELIMITER = 0xfffee00d;
const SEQUENCE_DELIMITER = 0xfffee0dd;
const UNDEFINED_LENGTH = 0xffffffff;
const MAX_DEPTH = 16;
// VRs whose explicit-VR header has two reserved bytes and a 32-bit length.
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

class Walker {
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly implicitVr: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(offset: number, length: number, what: string): void {
    if (offset + length > this.bytes.byteLength) throw new ImagingError('truncated', `file ends inside ${what}`);
  }

  tag(offset: number): number {
    this.need(offset, 4, 'an element tag');
    return ((this.view.getUint16(offset, true) << 16) | this.view.getUint16(offset + 2, true)) >>> 0;
  }

  /** Reads an element header at `offset`: its tag, VR (explicit only), value length and value offset. */
  header(offset: number): { tag: number; vr: string | undefined; length: number; valueOffset: number } {
    const tag = this.tag(offset);
    // Item and delimiter tags carry no VR even in explicit-VR datasets.
    if (this.implicitVr || tag >>> 16 === 0xfffe) {
      this.need(offset, 8, 'an element header');
      return { tag, vr: undefined, length: this.view.getUint32(offset + 4, true), valueOffset: offset + 8 };
    }
    this.need(offset, 8, 'an element header');
    const vr = String.fromCharCode(this.bytes[offset + 4]!, this.bytes[offset + 5]!);
    if (!/^[A-Z]{2}$/.test(vr)) throw new ImagingError('malformed', 'element has an invalid value representation');
    if (LONG_VRS.has(vr)) {
      this.need(offset, 12, 'an element header');
      return { tag, vr, length: this.view.getUint32(offset + 8, true), valueOffset: offset + 12 };
    }
    return { tag, vr, length: this.view.getUint16(offset + 6, true), valueOffset: offset + 8 };
  }

  /** Walks elements from `offset` to `end` (or to a delimiter when `end` is undefined); returns where it stopped. */
  dataset(offset: number, end: number | undefined, depth: number, onTopLevel?: (tag: number, valueOffset: number, length: number, vr: string | undefined) => number | undefined): number {
    if (depth > MAX_DEPTH) throw new ImagingError('malformed', 'sequences nested too deeply');
    let at = offset;
    for (;;) {
      if (end !== undefined && at >= end) {
        if (at > end) throw new ImagingError('malformed', 'element runs past its enclosing item');
        return at;
      }
      if (end === undefined && at >= this.bytes.byteLength) throw new ImagingError('truncated', 'file ends inside a sequence item');
      const { tag, vr, length, valueOffset } = this.header(at);
      if (tag === ITEM_DELIMITER) {
        if (end !== undefined) throw new ImagingError('malformed', 'unexpected item delimiter');
        return valueOffset;
      }
      const handled = onTopLevel?.(tag, valueOffset, length, vr);
      if (handled !== undefined) {
        at = handled;
      } else if (length === UNDEFINED_LENGTH) {
        at = this.sequence(valueOffset, undefined, depth + 1);
      } else {
        this.need(valueOffset, length, 'an element value');
        if (vr === 'SQ') this.sequence(valueOffset, valueOffset + length, depth + 1);
        at = valueOffset + length;
      }
    }
  }

  /** Walks the items of a sequence; `end` undefined means delimited by a sequence delimiter. */
  sequence(offset: number, end: number | undefined, depth: number): number {
    let at = offset;
    for (;;) {
      if (end !== undefined && at >= end) {
        if (at > end) throw new ImagingError('malformed', 'sequence item runs past its sequence');
        return at;
      }
      const { tag, length, valueOffset } = this.header(at);
      if (tag === SEQUENCE_DELIMITER) return valueOffset;
      if (tag !== ITEM) throw new ImagingError('malformed', 'sequence holds something other than items');
      if (length === UNDEFINED_LENGTH) {
        at = this.dataset(valueOffset, undefined, depth);
      } else {
        this.need(valueOffset, length, 'a sequence item');
        this.dataset(valueOffset, valueOffset + length, depth);
        at = valueOffset + length;
      }
    }
  }

  /** Walks encapsulated pixel data items; returns the offset after the sequence delimiter and the items. */
  fragments(offset: number): { end: number; fragments: { offset: number; length: number }[] } {
    const fragments: { offset: number; length: number }[] = [];
    let at = offset;
    for (;;) {
      const { tag, length, valueOffset } = this.header(at);
      if (tag === SEQUENCE_DELIMITER) return { end: valueOffset, fragments };
      if (tag !== ITEM || length === UNDEFINED_LENGTH) throw new ImagingError('malformed', 'encapsulated pixel data holds a non-fragment');
      this.need(valueOffset, length, 'a pixel data fragment');
      fragments.push({ offset: valueOffset, length });
      at = valueOffset + length;
    }
  }

  ascii(offset: number, length: number): string {
    return String.fromCharCode(...this.bytes.subarray(offset, offset + length)).replace(/[\0 ]+$/, '');
  }
}

/** Reads the file meta group: checks the preamble and returns the transfer syntax and where the dataset starts. */
export function readFileMeta(bytes: Uint8Array): { transferSyntaxUid: string; datasetOffset: number } {
  if (bytes.byteLength < 132 || bytes[128] !== 0x44 || bytes[129] !== 0x49 || bytes[130] !== 0x43 || bytes[131] !== 0x4d) {
    throw new ImagingError('not-dicom', 'not a DICOM Part 10 file (no "DICM" preamble)');
  }
  const meta = new Walker(bytes, false);
  let at = 132;
  let transferSyntaxUid: string | undefined;
  while (at + 4 <= bytes.byteLength && meta.tag(at) >>> 16 === 0x0002) {
    const { tag, length, valueOffset } = meta.header(at);
    if (length === UNDEFINED_LENGTH) throw new ImagingError('malformed', 'file meta element has undefined length');
    if (valueOffset + length > bytes.byteLength) throw new ImagingError('truncated', 'file ends inside the file meta information');
    if (tag === 0x00020010) transferSyntaxUid = meta.ascii(valueOffset, Math.min(length, 64));
    at = valueOffset + length;
  }
  if (!transferSyntaxUid) throw new ImagingError('malformed', 'file meta information has no transfer syntax');
  return { transferSyntaxUid, datasetOffset: at };
}

/**
 * Checks that the file is a complete, well-formed Part 10 file and locates its pixel data.
 * `implicitVrFor` tells whether a transfer syntax uses implicit VR, or undefined when it is not supported.
 */
export function checkPart10Structure(bytes: Uint8Array, implicitVrFor: (transferSyntaxUid: string) => boolean | undefined): Part10Structure {
  const { transferSyntaxUid, datasetOffset: at } = readFileMeta(bytes);
  const implicitVr = implicitVrFor(transferSyntaxUid);
  if (implicitVr === undefined) throw new ImagingError('unsupported-transfer-syntax', `transfer syntax ${transferSyntaxUid} is not supported`);
  const walker = new Walker(bytes, implicitVr);
  let pixelData: Part10Structure['pixelData'];
  walker.dataset(at, bytes.byteLength, 0, (tag, valueOffset, length) => {
    if (tag !== PIXEL_DATA) return undefined;
    if (length === UNDEFINED_LENGTH) {
      const { end, fragments } = walker.fragments(valueOffset);
      pixelData = { encapsulated: true, fragments };
      return end;
    }
    if (valueOffset + length > bytes.byteLength) throw new ImagingError('truncated', 'file ends inside the pixel data');
    pixelData = { encapsulated: false, offset: valueOffset, length };
    return valueOffset + length;
  });
  return { transferSyntaxUid, datasetOffset: at, pixelData };
}
