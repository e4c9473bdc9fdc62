// Decodes compressed frames with dcmjs-codecs' WebAssembly build (libjpeg-turbo, CharLS, OpenJPEG,
// OpenJPH). The module is instantiated once per thread, on first use.
import dcmjsCodecs from 'dcmjs-codecs';
import { ImagingError } from './errors.js';
import type { PixelEncoding } from './transfer-syntax.js';

const { NativeCodecs, Context } = dcmjsCodecs;

let initialising: Promise<void> | undefined;

export function initCodecs(): Promise<void> {
  initialising ??= NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
  return initialising;
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
        decoded = NativeCodecs.decodeJpegLs(context).getDecodedBuffer();
        break;
      case 'jpeg-2000':
        decoded = NativeCodecs.decodeJpeg2000(context).getDecodedBuffer();
        break;
      case 'ht-jpeg-2000':
        decoded = NativeCodecs.decodeHtJpeg2000(context).getDecodedBuffer();
        break;
    }
  } catch (error) {
    throw new ImagingError('decode-failed', `${encoding} decoder failed: ${String((error as Error).message ?? error).slice(0, 200)}`);
  }
  if (!decoded) throw new ImagingError('decode-failed', `${encoding} decoder returned no pixels`);
  return decoded;
}
