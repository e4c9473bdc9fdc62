// TEST FIXTURES: phantom lumbar radiographs written as DICOM Part 10 in the variants real PACS hold
// (CR/DX, MONOCHROME1/2, 8/12/16-bit, signed, rescale, window, three spacing cases, a For Processing
// twin), and compressed copies made by the Debian DCMTK and GDCM tools, so decoders are tested
// against files that other software wrote. Nothing is cached: compression runs in a temporary
// directory that is removed afterwards.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import dcmjs from 'dcmjs';
import { SOP_CLASS, writeRadiograph } from '../../src/synthetic/dicom-file.js';
import type { DicomAttributes, RadiographPixels } from '../../src/synthetic/dicom-file.js';
import { generateLumbarPhantom } from '../../src/synthetic/lumbar-phantom.js';
import type { PhantomView } from '../../src/synthetic/lumbar-phantom.js';

const run = promisify(execFile);
const { DicomMessage, DicomMetaDictionary } = dcmjs.data;

export interface DicomFixture {
  part10: Uint8Array;
  /** The stored values exactly as written, for bit-exact comparison after decoding. */
  pixels: RadiographPixels;
  /** Every attribute given to writeRadiograph (UIDs included); the image pixel module follows from `pixels`. */
  attributes: DicomAttributes;
}

/**
 * - `lateral`: DX LL, MONOCHROME2, 12-bit, window, PixelSpacing only (series 1 of the two-view study)
 * - `ap`: DX AP, MONOCHROME2, 12-bit, window, ImagerPixelSpacing only (series 2, same study)
 * - `forProcessing`: DX For Processing twin of `lateral` (same pixels; series 3, same study), no window
 * - `crMonochrome1Rescale`: CR, MONOCHROME1, 16-bit, RescaleSlope 0.75 / Intercept 200, no window, ImagerPixelSpacing only
 * - `crZeroSpacing`: CR, MONOCHROME1, 12-bit, two windows, PixelSpacing "0\0"
 * - `signed16`: DX, MONOCHROME2, signed 16-bit (Int16Array), RescaleIntercept 32768 (modality values: the unsigned 16-bit phantom's)
 * - `eightBit`: DX, MONOCHROME2, 8-bit, window, PixelSpacing only (the source for JPEG baseline)
 */
export const FIXTURE_NAMES = ['lateral', 'ap', 'forProcessing', 'crMonochrome1Rescale', 'crZeroSpacing', 'signed16', 'eightBit'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

export interface FixtureOptions {
  /** Default 256 × 192: enough anatomy for the pipeline, cheap to write and compress. */
  rows?: number;
  columns?: number;
  seed?: number;
}

interface Variant {
  view: PhantomView;
  bitsStored: number;
  photometric: 'MONOCHROME1' | 'MONOCHROME2';
  signed?: boolean;
  attributes: DicomAttributes;
  /** Adds WindowCenter/WindowWidth spanning the image's modality values (two windows if 2). */
  windows?: 1 | 2;
}

/** Window(s) over the modality value range of the stored pixels: the whole range, then its middle half. */
function windowsFor(data: RadiographPixels['data'], slope: number, intercept: number, count: 1 | 2): DicomAttributes {
  let min = Infinity;
  let max = -Infinity;
  for (const value of data) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const low = min * slope + intercept;
  const high = max * slope + intercept;
  const centre = Math.round((low + high) / 2);
  const width = Math.round(high - low + 1);
  return count === 1
    ? { WindowCenter: centre, WindowWidth: width, WindowCenterWidthExplanation: 'FULL RANGE' }
    : { WindowCenter: [centre, centre], WindowWidth: [width, Math.round(width / 2)], WindowCenterWidthExplanation: ['FULL RANGE', 'BONE'] };
}

export function lumbarFixtures(options: FixtureOptions = {}): Record<FixtureName, DicomFixture> {
  const { rows = 256, columns = 192, seed = 1 } = options;
  const uid = (): string => DicomMetaDictionary.uid();
  const patient = { PatientID: `PHANTOM-${seed}`, PatientName: 'Phantom^Lumbar', PatientBirthDate: '19520314', PatientSex: 'F' };
  const studyOf = (description: string, accession: string): DicomAttributes => ({
    StudyInstanceUID: uid(),
    StudyDate: '20240115',
    StudyTime: '101500',
    StudyID: accession,
    AccessionNumber: accession,
    StudyDescription: description,
  });
  const twoViews = studyOf('XR LUMBAR SPINE 2 VIEWS', `A${seed}-1`);
  const series = (SeriesNumber: number, SeriesDescription: string): DicomAttributes => ({
    SeriesInstanceUID: uid(),
    SeriesNumber,
    SeriesDescription,
  });
  const common = { ...patient, BodyPartExamined: 'LSPINE', InstanceNumber: 1, Manufacturer: 'SPINE-CDS PHANTOM' };
  const dx = (photometric: Variant['photometric'], intent: 'FOR PRESENTATION' | 'FOR PROCESSING'): DicomAttributes => ({
    Modality: 'DX',
    SOPClassUID: intent === 'FOR PRESENTATION' ? SOP_CLASS.dxForPresentation : SOP_CLASS.dxForProcessing,
    PresentationIntentType: intent,
    PixelIntensityRelationship: 'LOG',
    // +1: lower values mean less X-ray intensity (bone dark, MONOCHROME1); −1 the reverse.
    PixelIntensityRelationshipSign: photometric === 'MONOCHROME1' ? 1 : -1,
  });
  const cr = { Modality: 'CR', SOPClassUID: SOP_CLASS.crImage };

  const variants: Record<FixtureName, Variant> = {
    lateral: {
      view: 'lateral',
      bitsStored: 12,
      photometric: 'MONOCHROME2',
      windows: 1,
      attributes: { ...twoViews, ...series(1, 'LUMBAR LAT'), ...dx('MONOCHROME2', 'FOR PRESENTATION'), ViewPosition: 'LL', PixelSpacing: [0.15, 0.15] },
    },
    ap: {
      view: 'ap',
      bitsStored: 12,
      photometric: 'MONOCHROME2',
      windows: 1,
      attributes: { ...twoViews, ...series(2, 'LUMBAR AP'), ...dx('MONOCHROME2', 'FOR PRESENTATION'), ViewPosition: 'AP', ImagerPixelSpacing: [0.148, 0.148] },
    },
    forProcessing: {
      view: 'lateral',
      bitsStored: 12,
      photometric: 'MONOCHROME2',
      attributes: { ...twoViews, ...series(3, 'LUMBAR LAT RAW'), ...dx('MONOCHROME2', 'FOR PROCESSING'), ViewPosition: 'LL', PixelSpacing: [0.15, 0.15] },
    },
    crMonochrome1Rescale: {
      view: 'lateral',
      bitsStored: 16,
      photometric: 'MONOCHROME1',
      attributes: {
        ...studyOf('XR LUMBAR SPINE LAT', `A${seed}-2`),
        ...series(1, 'L-SPINE LAT'),
        ...cr,
        ViewPosition: 'LL',
        RescaleSlope: 0.75,
        RescaleIntercept: 200,
        RescaleType: 'US',
        ImagerPixelSpacing: [0.1, 0.1],
      },
    },
    crZeroSpacing: {
      view: 'ap',
      bitsStored: 12,
      photometric: 'MONOCHROME1',
      windows: 2,
      attributes: { ...studyOf('XR LUMBAR SPINE AP', `A${seed}-3`), ...series(1, 'L-SPINE AP'), ...cr, ViewPosition: 'AP', PixelSpacing: [0, 0] },
    },
    signed16: {
      view: 'lateral',
      bitsStored: 16,
      photometric: 'MONOCHROME2',
      signed: true,
      windows: 1,
      attributes: {
        ...studyOf('XR LUMBAR SPINE LAT', `A${seed}-4`),
        ...series(1, 'LUMBAR LAT'),
        ...dx('MONOCHROME2', 'FOR PRESENTATION'),
        ViewPosition: 'LL',
        RescaleSlope: 1,
        RescaleIntercept: 32768,
        RescaleType: 'US',
        ImagerPixelSpacing: [0.139, 0.139],
      },
    },
    eightBit: {
      view: 'lateral',
      bitsStored: 8,
      photometric: 'MONOCHROME2',
      windows: 1,
      attributes: { ...studyOf('XR LUMBAR SPINE LAT', `A${seed}-5`), ...series(1, 'LUMBAR LAT'), ...dx('MONOCHROME2', 'FOR PRESENTATION'), ViewPosition: 'LL', PixelSpacing: [0.3, 0.3] },
    },
  };

  const build = (variant: Variant): DicomFixture => {
    const { view, bitsStored, photometric } = variant;
    const phantom = generateLumbarPhantom({ seed, view, rows, columns, bitsStored, boneDensity: 0.5, photometric });
    let data: RadiographPixels['data'] = phantom.data;
    if (variant.signed) {
      // The unsigned phantom shifted into two's complement; RescaleIntercept 32768 restores its values.
      const signed = new Int16Array(phantom.data.length);
      for (let i = 0; i < signed.length; i++) signed[i] = phantom.data[i]! - 32768;
      data = signed;
    }
    const pixels: RadiographPixels = { data, rows, columns, bitsStored, photometric };
    const slope = (variant.attributes.RescaleSlope as number | undefined) ?? 1;
    const intercept = (variant.attributes.RescaleIntercept as number | undefined) ?? 0;
    const attributes: DicomAttributes = {
      ...common,
      ...variant.attributes,
      ...(variant.windows ? windowsFor(data, slope, intercept, variant.windows) : {}),
      SOPInstanceUID: uid(),
    };
    return { part10: writeRadiograph(pixels, attributes), pixels, attributes };
  };
  const fixtures: Partial<Record<FixtureName, DicomFixture>> = {};
  for (const name of FIXTURE_NAMES) fixtures[name] = build(variants[name]);
  return fixtures as Record<FixtureName, DicomFixture>;
}

export const COMPRESSED_SYNTAXES = [
  'rle',
  'jpegBaseline',
  'jpegLosslessSv1',
  'jpegLsLossless',
  'jpegLsNearLossless',
  'jpeg2000Lossless',
  'jpeg2000',
  'jpegExtended12',
] as const;
export type CompressedSyntax = (typeof COMPRESSED_SYNTAXES)[number];

export interface CompressionRecipe {
  transferSyntaxUid: string;
  /** Program and options; the input and output file names are appended. */
  command: readonly [string, ...string[]];
  lossy: boolean;
  /** Largest difference from the source's stored values the codec guarantees (lossless: 0); absent if none. */
  maxError?: number;
  /** BitsStored the source must have: JPEG baseline is 8-bit, JPEG extended here is 12-bit. */
  sourceBitsStored?: number;
  /** False where the service's own decoder refuses the syntax and must ask the PACS to transcode. */
  serviceDecodes: boolean;
}

// Lossless tools keep the SOPInstanceUID; lossy ones assign a new one and set LossyImageCompression 01.
// `+sr` scales lossy JPEG over the full range of the bit depth, so stored values keep their meaning
// (dcmcjpeg's default, `+sp`, shifts them to the image's minimum and rewrites the window to match).
// dcmcjpls refuses near-lossless on signed data.
export const COMPRESSION: Readonly<Record<CompressedSyntax, CompressionRecipe>> = {
  rle: { transferSyntaxUid: '1.2.840.10008.1.2.5', command: ['dcmcrle'], lossy: false, maxError: 0, serviceDecodes: true },
  jpegBaseline: { transferSyntaxUid: '1.2.840.10008.1.2.4.50', command: ['dcmcjpeg', '+eb', '+sr'], lossy: true, sourceBitsStored: 8, serviceDecodes: true },
  jpegLosslessSv1: { transferSyntaxUid: '1.2.840.10008.1.2.4.70', command: ['dcmcjpeg', '+e1'], lossy: false, maxError: 0, serviceDecodes: true },
  jpegLsLossless: { transferSyntaxUid: '1.2.840.10008.1.2.4.80', command: ['dcmcjpls', '+el'], lossy: false, maxError: 0, serviceDecodes: true },
  jpegLsNearLossless: { transferSyntaxUid: '1.2.840.10008.1.2.4.81', command: ['dcmcjpls', '+en', '+md', '2'], lossy: true, maxError: 2, serviceDecodes: true },
  jpeg2000Lossless: { transferSyntaxUid: '1.2.840.10008.1.2.4.90', command: ['gdcmconv', '--quiet', '--j2k'], lossy: false, maxError: 0, serviceDecodes: true },
  // Rate 10 (about 10:1); gdcmconv's `-q` quality collapsed a 12-bit phantom to 1 kB.
  jpeg2000: { transferSyntaxUid: '1.2.840.10008.1.2.4.91', command: ['gdcmconv', '--quiet', '--j2k', '--lossy', '-r', '10'], lossy: true, serviceDecodes: true },
  jpegExtended12: { transferSyntaxUid: '1.2.840.10008.1.2.4.51', command: ['dcmcjpeg', '+ee', '+sr'], lossy: true, sourceBitsStored: 12, serviceDecodes: false },
};

export interface CompressedVariant {
  syntax: CompressedSyntax;
  transferSyntaxUid: string;
  part10: Uint8Array;
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** The file meta TransferSyntaxUID, read without touching the data set. */
export function readTransferSyntax(part10: Uint8Array): string {
  const { meta } = DicomMessage.readFile(arrayBuffer(part10), { untilTag: '00080005' });
  const value = meta['00020010']?.Value?.[0];
  return typeof value === 'string' ? value : '';
}

function readBitsStored(part10: Uint8Array): number {
  const { dict } = DicomMessage.readFile(arrayBuffer(part10), { untilTag: '7FE00010' });
  return Number(dict['00280101']?.Value?.[0]);
}

/** Compresses a Part 10 file with the Debian tool for `syntax` and checks the transfer syntax it wrote. */
export async function compressPart10(part10: Uint8Array, syntax: CompressedSyntax): Promise<CompressedVariant> {
  const recipe = COMPRESSION[syntax];
  if (recipe.sourceBitsStored !== undefined) {
    const bitsStored = readBitsStored(part10);
    if (bitsStored !== recipe.sourceBitsStored) {
      throw new RangeError(`${syntax} needs a ${recipe.sourceBitsStored}-bit source; this file has BitsStored ${bitsStored}`);
    }
  }
  const directory = await mkdtemp(join(tmpdir(), 'spine-cds-dicom-'));
  try {
    const input = join(directory, 'in.dcm');
    const output = join(directory, 'out.dcm');
    await writeFile(input, part10);
    const [program, ...options] = recipe.command;
    await run(program, [...options, input, output]);
    const compressed = new Uint8Array(await readFile(output));
    const transferSyntaxUid = readTransferSyntax(compressed);
    if (transferSyntaxUid !== recipe.transferSyntaxUid) {
      throw new Error(`${recipe.command.join(' ')} wrote transfer syntax ${transferSyntaxUid}, expected ${recipe.transferSyntaxUid}`);
    }
    return { syntax, transferSyntaxUid, part10: compressed };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Runs DCMTK's dcmodify on a copy of the file (header edits only; the pixel data and transfer syntax stay). */
export async function dcmodify(part10: Uint8Array, args: readonly string[]): Promise<Uint8Array> {
  const directory = await mkdtemp(join(tmpdir(), 'spine-cds-dcmodify-'));
  try {
    const file = join(directory, 'file.dcm');
    await writeFile(file, part10);
    await run('dcmodify', ['-nb', '-q', ...args, file]);
    return new Uint8Array(await readFile(file));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
