// Decodes compressed frames with WebAssembly codecs: dcmjs-codecs (libjpeg-turbo, OpenJPEG, OpenJPH,
// RLE) and, for JPEG-LS, Cornerstone's CharLS build, which decodes a 2,500 × 3,000 16-bit frame in
// about 200 ms where dcmjs-codecs' build takes 340 ms. Modules are instantiated once per thread, and
// again after a decode fails in them (see discardCodec).
import charlsFactory, { type CharlsModule } from '@cornerstonejs/codec-charls/decodewasmjs';
import dcmjsCodecs from 'dcmjs-codecs';
import { ImagingError } from './errors.js';
import type { PixelEncoding } from './transfer-syntax.js';

const { NativeCodecs, Context } = dcmjsCodecs;

let nativeReady: Promise<void> | undefined;
let charlsReady: Promise<void> | undefined;
let charls: CharlsModule | undefined;

export function initCodecs(): Promise<void> {
  nativeReady ??= NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
  charlsReady ??= charlsFactory().then((module) => {
    charls = module;
  });
  return Promise.all([nativeReady, charlsReady]).then(() => undefined);
}

/**
 * A codec that fails leaves its WebAssembly instance unusable. dcmjs-codecs reports errors by throwing a
 * JavaScript exception through its wasm frames, which skips the C++ cleanup and leaves the module's
 * stack pointer where it was; a trap (out-of-bounds access, `unreachable`) leaves a module in no known
 * state; CharLS, after some hundreds of rejected frames, fails every later one with an out-of-bounds
 * access. Found by tests/integration/decoder-fuzz.test.ts: a few bad files in a row made every later
 * compressed image in that thread fail. So the failed module's instance is dropped, and the next
 * initCodecs() makes a fresh one (about 30 ms).
 */
function discardCodec(encoding: Exclude<PixelEncoding, 'native'>): void {
  if (encoding === 'jpeg-ls') {
    charls = undefined;
    charlsReady = undefined;
  } else {
    NativeCodecs.release();
    nativeReady = undefined;
  }
}

/**
 * Whether a JPEG or JPEG-LS codestream ends with its EOI marker, after any padding (DICOM pads
 * odd-length fragments with NUL; some encoders use an FF fill byte). A frame cut short lacks it: CharLS then spins for 5–13 s whatever the frame
 * size, and libjpeg-turbo fills the rest with grey and succeeds. Not required of JPEG 2000: real
 * encoders omit its EOC (the NEMA WG04 sample RG3_J2KR does), and OpenJPEG reports truncation itself.
 */
function endsWithEoi(encoded: Uint8Array): boolean {
  let end = encoded.byteLength;
  while (end > 0 && (encoded[end - 1] === 0 || (encoded[end - 1] === 0xff && encoded[end - 2] === 0xd9))) end--;
  return end >= 2 && encoded[end - 2] === 0xff && encoded[end - 1] === 0xd9;
}

function decodeJpegLs(encoded: Uint8Array, geometry: FrameGeometry): Uint8Array {
  if (!charls) throw new Error('codecs not initialised');
  const decoder = new charls.JpegLSDecoder();
  try {
    decoder.getEncodedBuffer(encoded.byteLength).set(encoded);
    decoder.decode();
    const info = decoder.getFrameInfo();
    if (info.width !== geometry.columns || info.height !== geometry.rows || info.componentCount !== 1) {
      throw new ImagingError('pixel-data-length-mismatch', `JPEG-LS frame is ${info.width} × ${info.height} × ${info.componentCount}; the header says ${geometry.columns} × ${geometry.rows} × 1`);
    }
    // Copy out of the module's heap before the decoder frees it.
    return decoder.getDecodedBuffer().slice();
  } finally {
    decoder.delete();
  }
}

/** Bytes a PackBits segment (PS3.5 G.3.1) decodes to, counting no further than `needed`. */
function packBitsLength(bytes: Uint8Array, start: number, end: number, needed: number): number {
  let produced = 0;
  let at = start;
  while (at < end && produced < needed) {
    const control = (bytes[at]! << 24) >> 24;
    if (control >= 0) {
      produced += Math.min(control + 1, end - at - 1);
      at += control + 2;
    } else if (control > -128) {
      if (at + 1 >= end) break;
      produced += 1 - control;
      at += 2;
    } else {
      at += 1;
    }
  }
  return produced;
}

/**
 * Checks an RLE frame's header and segments (PS3.5 Annex G) before decoding: dcmjs-codecs' RLE decoder
 * returns a zero-filled frame for an empty or headerless input, ignores a wrong segment count or
 * out-of-range offsets, and zero-fills segments that end early, so such frames would "decode".
 */
function checkRleFrame(encoded: Uint8Array, geometry: FrameGeometry): void {
  if (encoded.byteLength < 64) throw new ImagingError('decode-failed', `RLE frame of ${encoded.byteLength} bytes is shorter than its 64-byte header`);
  const header = new DataView(encoded.buffer, encoded.byteOffset, 64);
  const segments = header.getUint32(0, true);
  const expected = geometry.bitsAllocated / 8;
  if (segments !== expected) throw new ImagingError('decode-failed', `RLE frame has ${segments} segments; ${expected} expected`);
  const needed = geometry.rows * geometry.columns;
  for (let s = 0; s < segments; s++) {
    const start = header.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? header.getUint32(8 + 4 * s, true) : encoded.byteLength;
    if (start < 64 || end < start || end > encoded.byteLength) throw new ImagingError('decode-failed', 'RLE segment offsets are out of order or past the frame');
    if (packBitsLength(encoded, start, end, needed) < needed) throw new ImagingError('decode-failed', `RLE segment ${s + 1} ends before the frame does`);
  }
}

export interface FrameGeometry {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  photometric: string;
}

/** Decodes one compressed frame to little-endian native samples. Call `initCodecs()` first. */
export function decodeFrame(encoding: Exclude<PixelEncoding, 'native'>, encoded: Uint8Array, geometry: FrameGeometry): Uint8Array {
  if (!NativeCodecs.isInitialized()) throw new Error('codecs not initialised');
  const context = new Context({
    width: geometry.columns,
    height: geometry.rows,
    bitsAllocated: geometry.bitsAllocated,
    bitsStored: geometry.bitsStored,
    samplesPerPixel: 1,
    pixelRepresentation: geometry.pixelRepresentation,
    planarConfiguration: 0,
    photometricInterpretation: geometry.photometric,
    encodedBuffer: encoded,
  });
  if ((encoding === 'jpeg' || encoding === 'jpeg-ls') && !endsWithEoi(encoded)) throw new ImagingError('decode-failed', `${encoding} frame does not end with its end marker (cut short?)`);
  let decoded: Uint8Array | undefined;
  try {
    switch (encoding) {
      case 'rle':
        checkRleFrame(encoded, geometry);
        decoded = NativeCodecs.decodeRle(context).getDecodedBuffer();
        break;
      case 'jpeg':
        decoded = NativeCodecs.decodeJpeg(context, { convertColorspaceToRgb: false }).getDecodedBuffer();
        break;
      case 'jpeg-ls':
        decoded = decodeJpegLs(encoded, geometry);
        break;
      case 'jpeg-2000':
        decoded = NativeCodecs.decodeJpeg2000(context).getDecodedBuffer();
        break;
      case 'ht-jpeg-2000':
        decoded = NativeCodecs.decodeHtJpeg2000(context).getDecodedBuffer();
        break;
    }
  } catch (error) {
    // Our own ImagingErrors come from checks made before the codec runs or after it succeeded.
    if (error instanceof ImagingError) throw error;
    discardCodec(encoding);
    // Emscripten codecs throw bare numbers (exception pointers); there is no message to keep.
    const detail = error instanceof Error ? `: ${error.message.slice(0, 200)}` : '';
    throw new ImagingError('decode-failed', `${encoding} decoder rejected the frame${detail}`);
  }
  if (!decoded) throw new ImagingError('decode-failed', `${encoding} decoder returned no pixels`);
  return decoded;
}
