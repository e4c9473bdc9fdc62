// Part 10 bytes → one greyscale frame of stored values plus what the pixel pipeline needs to
// interpret them. dcmjs reads the header (after a bounds-checked structure walk); pixel values are
// taken zero-copy from the file when native, or decoded by dcmjs-codecs when compressed.
import dcmjs from 'dcmjs';
import type { ImagingLimits } from '../config.js';
import { decodeFrame, initCodecs } from './codecs.js';
import { ImagingError } from './errors.js';
import { checkPart10Structure, type PixelDataLocation } from './part10-structure.js';
import type { DicomPatient } from './patient-identity.js';
import { transferSyntaxInfo, type TransferSyntaxInfo } from './transfer-syntax.js';

dcmjs.log.setLevel('silent');
// The root level does not reach loggers dcmjs made at load time: its validation logger would write
// "Invalid vr type" to stderr for every unknown VR in a file.
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');

export type ModalityLut =
  | { kind: 'identity' }
  | { kind: 'rescale'; slope: number; intercept: number }
  | { kind: 'sequence'; firstMapped: number; data: Uint16Array };

export interface VoiWindow {
  center: number;
  width: number;
  function: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
}

export interface PixelSpacing {
  /** Millimetres between rows, then between columns. */
  rowMm: number;
  columnMm: number;
  source: 'PixelSpacing' | 'ImagerPixelSpacing';
}

export interface DecodedImage {
  rows: number;
  columns: number;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  photometric: 'MONOCHROME1' | 'MONOCHROME2';
  /** Stored values of one frame, unmasked (mask and sign are applied by the pixel pipeline). */
  pixels: Uint8Array | Uint16Array;
  transferSyntaxUid: string;
  transferSyntax: TransferSyntaxInfo;
  /** Lossy compression now or at any earlier time (a lossy transfer syntax, or LossyImageCompression "01"). */
  lossyCompression: boolean;
  modalityLut: ModalityLut;
  windows: VoiWindow[];
  spacing: PixelSpacing | null;
  /** Non-fatal oddities worth recording (ignored attributes, fallbacks). */
  warnings: string[];
  /** Who the file says it is of: compared with the expected patient in the worker, never passed on. */
  patient: DicomPatient;
}

export type DecodeLimits = Pick<ImagingLimits, 'maxBytes' | 'maxPixels' | 'maxFrames'>;

type Attributes = Record<string, unknown>;

function numberOf(value: unknown): number | undefined {
  const first = Array.isArray(value) ? (value as unknown[])[0] : value;
  const n = typeof first === 'string' ? Number(first) : first;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function numbersOf(value: unknown): number[] {
  const list = Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value];
  return list.map((v) => numberOf(v)).filter((n): n is number => n !== undefined);
}

function textOf(value: unknown): string | undefined {
  const first = Array.isArray(value) ? (value as unknown[])[0] : value;
  return typeof first === 'string' ? first.trim().toUpperCase() : undefined;
}

/** A string value as written (PatientID is case-sensitive); PN as dcmjs gives it, a string or `{ Alphabetic }`. */
function stringOf(value: unknown): string | undefined {
  const first = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof first === 'string') return first;
  const alphabetic = typeof first === 'object' && first !== null ? (first as { Alphabetic?: unknown }).Alphabetic : undefined;
  return typeof alphabetic === 'string' ? alphabetic : undefined;
}

function readHeader(bytes: Uint8Array): Attributes {
  // Stop before the pixel data: it is taken from the file directly, without dcmjs copying it.
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  try {
    const file = dcmjs.data.DicomMessage.readFile(buffer, { untilTag: '7FE00010', includeUntilTagValue: false });
    return dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.dict);
  } catch (error) {
    throw new ImagingError('malformed', `DICOM header could not be read: ${String((error as Error).message).slice(0, 200)}`);
  }
}

function spacingOf(attributes: Attributes, warnings: string[]): PixelSpacing | null {
  for (const source of ['PixelSpacing', 'ImagerPixelSpacing'] as const) {
    const values = numbersOf(attributes[source]);
    if (values.length === 0) continue;
    const [rowMm, columnMm] = values;
    if (values.length === 2 && rowMm! > 0 && columnMm! > 0) return { rowMm: rowMm!, columnMm: columnMm!, source };
    warnings.push(`${source} ignored: not two positive values`);
  }
  return null;
}

function modalityLutOf(attributes: Attributes, warnings: string[]): ModalityLut {
  const sequence = attributes.ModalityLUTSequence;
  const item = (Array.isArray(sequence) ? sequence[0] : sequence) as Attributes | undefined;
  if (item && typeof item === 'object') {
    const descriptor = numbersOf(item.LUTDescriptor);
    const raw = Array.isArray(item.LUTData) ? (item.LUTData as unknown[])[0] : item.LUTData;
    if (descriptor.length === 3 && raw instanceof ArrayBuffer) {
      const entries = descriptor[0] === 0 ? 65536 : descriptor[0]!;
      const data = new Uint16Array(raw.slice(0, Math.min(raw.byteLength, entries * 2) & ~1));
      if (data.length === entries) return { kind: 'sequence', firstMapped: descriptor[1]!, data };
    }
    warnings.push('Modality LUT Sequence ignored: descriptor or data unusable');
  }
  const slope = numberOf(attributes.RescaleSlope);
  const intercept = numberOf(attributes.RescaleIntercept);
  if (slope === undefined && intercept === undefined) return { kind: 'identity' };
  if (slope === 0) {
    warnings.push('RescaleSlope 0 ignored');
    return { kind: 'identity' };
  }
  const rescale = { kind: 'rescale', slope: slope ?? 1, intercept: intercept ?? 0 } as const;
  // Stored values are at most 16 bits; a rescale that overflows doubles there is corrupt, not an image.
  if (!Number.isFinite(rescale.slope * 65536 + rescale.intercept) || !Number.isFinite(rescale.slope * -65536 + rescale.intercept)) {
    throw new ImagingError('malformed', 'RescaleSlope/RescaleIntercept overflow');
  }
  return rescale;
}

function windowsOf(attributes: Attributes): VoiWindow[] {
  const centers = numbersOf(attributes.WindowCenter);
  const widths = numbersOf(attributes.WindowWidth);
  const fn = textOf(attributes.VOILUTFunction);
  const windowFunction = fn === 'SIGMOID' || fn === 'LINEAR_EXACT' ? fn : 'LINEAR';
  return centers.flatMap((center, i) => {
    const width = widths[i];
    return width !== undefined && width > 0 ? [{ center, width, function: windowFunction }] : [];
  });
}

function concatenate(bytes: Uint8Array, parts: readonly { offset: number; length: number }[]): Uint8Array {
  if (parts.length === 1) return bytes.subarray(parts[0]!.offset, parts[0]!.offset + parts[0]!.length);
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    joined.set(bytes.subarray(p.offset, p.offset + p.length), at);
    at += p.length;
  }
  return joined;
}

/** The first frame's compressed bytes: fragments up to the second frame's basic-offset-table entry, or all of them. */
function firstEncodedFrame(bytes: Uint8Array, location: Extract<PixelDataLocation, { encapsulated: true }>, frames: number): Uint8Array {
  const [table, ...fragments] = location.fragments;
  if (!table || fragments.length === 0) throw new ImagingError('missing-pixel-data', 'encapsulated pixel data has no fragments');
  if (frames === 1) return concatenate(bytes, fragments);
  if (table.length >= 8) {
    const secondFrameOffset = new DataView(bytes.buffer, bytes.byteOffset + table.offset + 4, 4).getUint32(0, true);
    const first: typeof fragments = [];
    let position = 0;
    for (const fragment of fragments) {
      if (position >= secondFrameOffset) break;
      first.push(fragment);
      position += fragment.length + 8;
    }
    return concatenate(bytes, first);
  }
  if (fragments.length === frames) return concatenate(bytes, fragments.slice(0, 1));
  throw new ImagingError('malformed', 'multi-frame encapsulated pixel data without an offset table');
}

function asStoredArray(samples: Uint8Array, bitsAllocated: 8 | 16, count: number): Uint8Array | Uint16Array {
  if (bitsAllocated === 8) return samples.subarray(0, count);
  if ((samples.byteOffset & 1) === 0) return new Uint16Array(samples.buffer, samples.byteOffset, count);
  // An odd offset can only come from a malformed file; copy rather than fail.
  return new Uint16Array(samples.slice(0, count * 2).buffer);
}

/**
 * Decodes the first frame of a single-image greyscale DICOM file. Throws ImagingError with a reason
 * code for anything it cannot honestly turn into pixels.
 */
export async function decodeDicom(part10: Uint8Array, limits: DecodeLimits): Promise<DecodedImage> {
  if (part10.byteLength > limits.maxBytes) throw new ImagingError('too-large', `file of ${part10.byteLength} bytes exceeds the ${limits.maxBytes}-byte cap`);
  const structure = checkPart10Structure(part10, (uid) => transferSyntaxInfo(uid)?.implicitVr);
  const transferSyntax = transferSyntaxInfo(structure.transferSyntaxUid)!;
  const attributes = readHeader(part10);
  const warnings: string[] = [];

  const rows = numberOf(attributes.Rows) ?? 0;
  const columns = numberOf(attributes.Columns) ?? 0;
  if (rows < 1 || columns < 1) throw new ImagingError('malformed', 'Rows or Columns missing or zero');
  if (rows * columns > limits.maxPixels) throw new ImagingError('too-many-pixels', `${rows} × ${columns} exceeds the ${limits.maxPixels}-pixel cap`);
  const samplesPerPixel = numberOf(attributes.SamplesPerPixel) ?? 1;
  const photometric = textOf(attributes.PhotometricInterpretation);
  if (samplesPerPixel !== 1 || (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2')) {
    throw new ImagingError('unsupported-photometric', `photometric interpretation ${photometric ?? 'missing'} with ${samplesPerPixel} samples is not greyscale`);
  }
  const bitsAllocated = numberOf(attributes.BitsAllocated);
  if (bitsAllocated !== 8 && bitsAllocated !== 16) throw new ImagingError('unsupported-pixel-format', `BitsAllocated ${bitsAllocated ?? 'missing'} is not 8 or 16`);
  const bitsStored = numberOf(attributes.BitsStored) ?? bitsAllocated;
  const highBit = numberOf(attributes.HighBit) ?? bitsStored - 1;
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw new ImagingError('unsupported-pixel-format', `BitsStored ${bitsStored} / HighBit ${highBit} do not fit BitsAllocated ${bitsAllocated}`);
  }
  const frames = numberOf(attributes.NumberOfFrames) ?? 1;
  if (frames < 1) throw new ImagingError('malformed', 'NumberOfFrames is not positive');
  if (frames > limits.maxFrames) throw new ImagingError('multi-frame', `${frames} frames where at most ${limits.maxFrames} is expected`);
  if (frames > 1) warnings.push(`multi-frame image: first of ${frames} frames used`);

  const location = structure.pixelData;
  if (!location) throw new ImagingError('missing-pixel-data', 'the file has no PixelData');
  const count = rows * columns;
  const frameBytes = count * (bitsAllocated / 8);
  let samples: Uint8Array;
  if (transferSyntax.encoding === 'native') {
    if (location.encapsulated) throw new ImagingError('malformed', 'native transfer syntax with encapsulated pixel data');
    if (location.length < frameBytes * frames) {
      throw new ImagingError('pixel-data-length-mismatch', `PixelData holds ${location.length} bytes; Rows × Columns × frames needs ${frameBytes * frames}`);
    }
    samples = part10.subarray(location.offset, location.offset + frameBytes);
  } else {
    if (!location.encapsulated) throw new ImagingError('malformed', 'compressed transfer syntax with native pixel data');
    await initCodecs();
    const encoded = firstEncodedFrame(part10, location, frames);
    samples = decodeFrame(transferSyntax.encoding, encoded, { rows, columns, bitsAllocated, bitsStored, pixelRepresentation: numberOf(attributes.PixelRepresentation) ?? 0, photometric });
    if (samples.byteLength < frameBytes) {
      throw new ImagingError('pixel-data-length-mismatch', `decoder produced ${samples.byteLength} bytes; Rows × Columns needs ${frameBytes}`);
    }
  }
  if (attributes.VOILUTSequence !== undefined) warnings.push('VOI LUT Sequence not applied');

  return {
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    highBit,
    signed: numberOf(attributes.PixelRepresentation) === 1,
    photometric,
    pixels: asStoredArray(samples, bitsAllocated, count),
    transferSyntaxUid: structure.transferSyntaxUid,
    transferSyntax,
    lossyCompression: transferSyntax.lossy || textOf(attributes.LossyImageCompression) === '01',
    modalityLut: modalityLutOf(attributes, warnings),
    windows: windowsOf(attributes),
    spacing: spacingOf(attributes, warnings),
    warnings,
    patient: { patientId: stringOf(attributes.PatientID), patientName: stringOf(attributes.PatientName), birthDate: stringOf(attributes.PatientBirthDate) },
  };
}
