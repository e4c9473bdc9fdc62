// Every pixel-value step before resizing — BitsStored/HighBit masking and sign, Modality LUT, VOI,
// MONOCHROME1 inversion and normalisation — depends on the stored value alone, so it is folded into
// one lookup table indexed by stored value (at most 2^16 entries) and the per-pixel work is one load.
import type { DecodedImage } from './dicom-decode.js';

export interface VoiSpec {
  /** `window-else-percentile`: the file's first window when it has one, else a percentile clip. */
  mode: 'window-else-percentile' | 'percentile';
  lowPercentile: number;
  highPercentile: number;
}

export interface Region {
  top: number;
  left: number;
  rows: number;
  columns: number;
}

export type VoiRecord =
  | { method: 'window'; center: number; width: number; function: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' }
  | { method: 'percentile'; lowPercentile: number; highPercentile: number; low: number; high: number; sampleStride: number; reason: string };

export interface ValueLut {
  /** Output value per masked stored value. */
  lut: Float32Array;
  shift: number;
  mask: number;
  voi: VoiRecord;
  inverted: boolean;
  modalityLut: string;
}

// Enough samples for stable percentiles while keeping the histogram pass cheap on 7.5-megapixel images.
const PERCENTILE_SAMPLES = 250_000;

function modalityValues(image: DecodedImage, size: number): Float64Array {
  const values = new Float64Array(size);
  const half = size >>> 1;
  const lut = image.modalityLut;
  for (let i = 0; i < size; i++) {
    const stored = image.signed && i >= half ? i - size : i;
    switch (lut.kind) {
      case 'identity':
        values[i] = stored;
        break;
      case 'rescale':
        values[i] = stored * lut.slope + lut.intercept;
        break;
      case 'sequence': {
        const index = Math.min(Math.max(stored - lut.firstMapped, 0), lut.data.length - 1);
        values[i] = lut.data[index]!;
        break;
      }
    }
  }
  return values;
}

/** Stored values that occur, ordered by modality value (sorting only when the Modality LUT is not monotonic). */
function presentInValueOrder(counts: Uint32Array, signed: boolean, modality: Float64Array): Int32Array {
  const size = counts.length;
  const half = size >>> 1;
  const present = new Int32Array(size);
  let n = 0;
  // In stored-value order: for signed data the negative half (upper bit patterns) comes first.
  for (let k = 0; k < size; k++) {
    const i = signed ? (k + half) % size : k;
    if (counts[i]! > 0) present[n++] = i;
  }
  const ordered = present.subarray(0, n);
  let rising = true;
  let falling = true;
  for (let k = 1; k < n; k++) {
    const step = modality[ordered[k]!]! - modality[ordered[k - 1]!]!;
    if (step < 0) rising = false;
    if (step > 0) falling = false;
  }
  if (rising) return ordered;
  if (falling) return ordered.reverse();
  return Int32Array.from(ordered).sort((a, b) => modality[a]! - modality[b]!);
}

function percentileRange(image: DecodedImage, region: Region, shift: number, mask: number, modality: Float64Array, spec: VoiSpec): { low: number; high: number; stride: number } {
  const counts = new Uint32Array(mask + 1);
  const stride = Math.max(1, Math.floor(Math.sqrt((region.rows * region.columns) / PERCENTILE_SAMPLES)));
  const { pixels, columns } = image;
  let total = 0;
  for (let y = region.top; y < region.top + region.rows; y += stride) {
    const rowStart = y * columns;
    for (let x = region.left; x < region.left + region.columns; x += stride) {
      counts[(pixels[rowStart + x]! >> shift) & mask]! += 1;
      total += 1;
    }
  }
  const present = presentInValueOrder(counts, image.signed, modality);
  const lowRank = (spec.lowPercentile / 100) * total;
  const highRank = (spec.highPercentile / 100) * total;
  let low = modality[present[0]!]!;
  let high = modality[present[present.length - 1]!]!;
  let seen = 0;
  let lowFound = false;
  for (const i of present) {
    seen += counts[i]!;
    if (!lowFound && seen > lowRank) {
      low = modality[i]!;
      lowFound = true;
    }
    if (seen >= highRank) {
      high = modality[i]!;
      break;
    }
  }
  return { low, high, stride };
}

/** Maps a modality value to [0, 1] display units, following DICOM PS3.3 C.11.2.1.2 for windows. */
function windowFunction(voi: VoiRecord): (x: number) => number {
  if (voi.method === 'percentile') {
    const { low, high } = voi;
    if (high <= low) return (x) => (x > low ? 1 : 0);
    return (x) => Math.min(1, Math.max(0, (x - low) / (high - low)));
  }
  const { center: c, width: w } = voi;
  switch (voi.function) {
    case 'LINEAR': {
      if (w <= 1) return (x) => (x > c - 0.5 ? 1 : 0);
      return (x) => Math.min(1, Math.max(0, (x - (c - 0.5)) / (w - 1) + 0.5));
    }
    case 'LINEAR_EXACT':
      return (x) => Math.min(1, Math.max(0, (x - c) / w + 0.5));
    case 'SIGMOID':
      return (x) => 1 / (1 + Math.exp((-4 * (x - c)) / w));
  }
}

/**
 * Builds the stored-value → normalised-value table. Output polarity is always MONOCHROME2 (dense
 * bone bright); `(v − mean) / std` is applied last.
 */
export function buildValueLut(image: DecodedImage, region: Region, voiSpec: VoiSpec, normalisation: { mean: number; std: number }): ValueLut {
  const size = 2 ** image.bitsStored;
  const mask = size - 1;
  const shift = image.highBit + 1 - image.bitsStored;
  const modality = modalityValues(image, size);
  const window = voiSpec.mode === 'window-else-percentile' ? image.windows[0] : undefined;
  let voi: VoiRecord;
  if (window) {
    voi = { method: 'window', ...window };
  } else {
    const { low, high, stride } = percentileRange(image, region, shift, mask, modality, voiSpec);
    const reason = voiSpec.mode === 'percentile' ? 'model card asks for a percentile clip' : 'the file has no usable window';
    voi = { method: 'percentile', lowPercentile: voiSpec.lowPercentile, highPercentile: voiSpec.highPercentile, low, high, sampleStride: stride, reason };
  }
  const toDisplay = windowFunction(voi);
  const inverted = image.photometric === 'MONOCHROME1';
  const { mean, std } = normalisation;
  const lut = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v = toDisplay(modality[i]!);
    lut[i] = ((inverted ? 1 - v : v) - mean) / std;
  }
  const lutKind = image.modalityLut;
  const modalityLut = lutKind.kind === 'rescale' ? `rescale (slope ${lutKind.slope}, intercept ${lutKind.intercept})` : lutKind.kind === 'sequence' ? `Modality LUT Sequence (${lutKind.data.length} entries)` : 'identity';
  return { lut, shift, mask, voi, inverted, modalityLut };
}
