// Decodes compressed frames with WebAssembly codecs: dcmjs-codecs (libjpeg-turbo, OpenJPEG, OpenJPH,
// RLE) and, for JPEG-LS, Cornerstone's CharLS build, which decodes a 2,500 × 3,000 16-bit frame in
// about 200 ms where dcmjs-codecs' build takes 340 ms. Modules are instantiated once per thread.
import charlsFactory, { type CharlsModule } from '@cornerstonejs/codec-charls/decodewasmjs';
import dcmjsCodecs from 'dcmjs-codecs';
import { ImagingError } from './errors.js';
import type { PixelEncoding } from './transfer-syntax.js';

const { NativeCodecs, Context } = dcmjsCodecs;

let initialising: Promise<void> | undefined;
let charls: CharlsModule | undefined;

export function initCodecs(): Promise<void> {
  initialising ??= Promise.all([
    NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false }),
    charlsFactory().then((module) => {
      charls = module;
    }),
  ]).then(() => undefined);
  return initialising;
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
  let decoded: Uint8Array | undefined;
  try {
    switch (encoding) {
      case 'rle':
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
    if (error instanceof ImagingError) throw error;
    // Emscripten codecs throw bare numbers (exception pointers); there is no message to keep.
    const detail = error instanceof Error ? `: ${error.message.slice(0, 200)}` : '';
    throw new ImagingError('decode-failed', `${encoding} decoder rejected the frame${detail}`);
  }
  if (!decoded) throw new ImagingError('decode-failed', `${encoding} decoder returned no pixels`);
  return decoded;
}
