// The transfer syntaxes this service reads, and how. Anything not listed (big endian, deflate,
// 12-bit JPEG Extended, JPEG XL...) is asked of the PACS as explicit little endian instead.

export type PixelEncoding = 'native' | 'rle' | 'jpeg' | 'jpeg-ls' | 'jpeg-2000' | 'ht-jpeg-2000';

export interface TransferSyntaxInfo {
  name: string;
  implicitVr: boolean;
  encoding: PixelEncoding;
  lossy: boolean;
}

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

const SUPPORTED: Readonly<Record<string, TransferSyntaxInfo>> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', implicitVr: true, encoding: 'native', lossy: false },
  [EXPLICIT_VR_LITTLE_ENDIAN]: { name: 'Explicit VR Little Endian', implicitVr: false, encoding: 'native', lossy: false },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', implicitVr: false, encoding: 'rle', lossy: false },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', implicitVr: false, encoding: 'jpeg', lossy: true },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless SV1', implicitVr: false, encoding: 'jpeg', lossy: false },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', implicitVr: false, encoding: 'jpeg-ls', lossy: false },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Near-Lossless', implicitVr: false, encoding: 'jpeg-ls', lossy: true },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Lossless', implicitVr: false, encoding: 'jpeg-2000', lossy: false },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', implicitVr: false, encoding: 'jpeg-2000', lossy: true },
  '1.2.840.10008.1.2.4.201': { name: 'HTJ2K Lossless', implicitVr: false, encoding: 'ht-jpeg-2000', lossy: false },
  '1.2.840.10008.1.2.4.202': { name: 'HTJ2K Lossless RPCL', implicitVr: false, encoding: 'ht-jpeg-2000', lossy: false },
  '1.2.840.10008.1.2.4.203': { name: 'HTJ2K', implicitVr: false, encoding: 'ht-jpeg-2000', lossy: true },
};

export function transferSyntaxInfo(uid: string): TransferSyntaxInfo | undefined {
  return Object.hasOwn(SUPPORTED, uid) ? SUPPORTED[uid] : undefined;
}

export function isSupportedTransferSyntax(uid: string): boolean {
  return transferSyntaxInfo(uid) !== undefined;
}
