// Decoded radiograph → model tensor, parameterised only by the model card's preprocessing block,
// so the synthetic training data and served requests go through this same code. Returns the
// tensor with a record of every decision, for the SMART app and for audits.
import { Ajv } from 'ajv';
import type { DecodedImage, PixelSpacing } from './dicom-decode.js';
import schema from './preprocessing.schema.json' with { type: 'json' };
import { planResize, resizeInto, type ResizeGeometry } from './resize.js';
import { buildValueLut, type Region, type VoiRecord, type VoiSpec } from './value-lut.js';

export interface PreprocessingSpec {
  height: number;
  width: number;
  voi: VoiSpec;
  borderCrop: number;
  padValue: number;
  normalisation: { mean: number; std: number };
}

export interface PreprocessingRecord {
  source: {
    rows: number;
    columns: number;
    bitsStored: number;
    signed: boolean;
    photometric: 'MONOCHROME1' | 'MONOCHROME2';
    transferSyntaxUid: string;
    transferSyntax: string;
    /** The pixels went through lossy compression, now or before (e.g. before a PACS transcoded them). */
    lossyCompression: boolean;
  };
  modalityLut: string;
  voi: VoiRecord;
  /** True when MONOCHROME1 was inverted so that dense bone is bright. */
  inverted: boolean;
  crop: Region;
  resize: ResizeGeometry;
  tensor: { height: number; width: number; padValue: number; mean: number; std: number };
  pixelSpacing: PixelSpacing | null;
  /** Millimetres per tensor pixel (rows, columns), when the source spacing is known. */
  tensorPixelSpacingMm: { rowMm: number; columnMm: number } | null;
  warnings: string[];
}

export interface PreprocessedImage {
  /** height × width, row-major (NCHW with N = C = 1). */
  tensor: Float32Array;
  record: PreprocessingRecord;
}

const validate = new Ajv({ strict: true, allErrors: false }).compile<PreprocessingSpec>(schema);

/** Validates a model card's preprocessing block; throws a TypeError naming the offending field. */
export function parsePreprocessingSpec(value: unknown): PreprocessingSpec {
  if (!validate(value)) {
    const error = validate.errors?.[0];
    throw new TypeError(`preprocessing${error?.instancePath.replaceAll('/', '.') ?? ''} ${error?.message ?? 'is invalid'}`);
  }
  if (value.voi.lowPercentile >= value.voi.highPercentile) throw new TypeError('preprocessing.voi lowPercentile must be below highPercentile');
  return value;
}

function cropRegion(image: DecodedImage, fraction: number): Region {
  const top = Math.round(image.rows * fraction);
  const left = Math.round(image.columns * fraction);
  return { top, left, rows: Math.max(1, image.rows - 2 * top), columns: Math.max(1, image.columns - 2 * left) };
}

export function preprocess(image: DecodedImage, spec: PreprocessingSpec): PreprocessedImage {
  const crop = cropRegion(image, spec.borderCrop);
  const values = buildValueLut(image, crop, spec.voi, spec.normalisation);
  const geometry = planResize(crop, spec.height, spec.width);
  const tensor = new Float32Array(spec.height * spec.width);
  const { mean, std } = spec.normalisation;
  resizeInto(
    { pixels: image.pixels, stride: image.columns, region: crop, lut: values.lut, shift: values.shift, mask: values.mask },
    geometry,
    tensor,
    spec.width,
    (spec.padValue - mean) / std,
  );
  const warnings = [...image.warnings];
  if (values.voi.method === 'percentile' && values.voi.high <= values.voi.low) warnings.push('image has a single grey level inside the crop');
  const spacing = image.spacing;
  return {
    tensor,
    record: {
      source: {
        rows: image.rows,
        columns: image.columns,
        bitsStored: image.bitsStored,
        signed: image.signed,
        photometric: image.photometric,
        transferSyntaxUid: image.transferSyntaxUid,
        transferSyntax: image.transferSyntax.name,
        lossyCompression: image.lossyCompression,
      },
      modalityLut: values.modalityLut,
      voi: values.voi,
      inverted: values.inverted,
      crop,
      resize: geometry,
      tensor: { height: spec.height, width: spec.width, padValue: spec.padValue, mean, std },
      pixelSpacing: spacing,
      tensorPixelSpacingMm: spacing ? { rowMm: spacing.rowMm / geometry.scaleRows, columnMm: spacing.columnMm / geometry.scaleColumns } : null,
      warnings,
    },
  };
}
