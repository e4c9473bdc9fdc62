// Global statistics of a preprocessed image (mean, spread, percentiles, a coarse histogram): the
// features of the "shortcut" comparator, a Cox model that sees the image's exposure and contrast but
// not its structure. If the CNN beats it clearly, the network reads anatomy, not exposure.
import type { PreprocessingSpec } from '../imaging/preprocessing.js';

const PERCENTILES = [1, 5, 25, 50, 75, 95, 99] as const;
const BINS = 10;

/** Names of the features imageStatistics returns, in order. */
export const IMAGE_STATISTIC_NAMES: readonly string[] = [
  'imageMean',
  'imageSd',
  ...PERCENTILES.map((p) => `imageP${p}`),
  // The last bin is left out: the shares sum to 1.
  ...Array.from({ length: BINS - 1 }, (_, k) => `imageHist${k}`),
];

/**
 * Statistics of the image in display units (0 black – 1 white, the normalisation undone), over the
 * image's own pixels (the padding, exactly padValue, is left out where it can be told apart).
 */
export function imageStatistics(tensor: Float32Array, spec: PreprocessingSpec): Float64Array {
  const { mean: m, std } = spec.normalisation;
  const values = new Float32Array(tensor.length);
  let n = 0;
  for (let i = 0; i < tensor.length; i++) {
    const v = tensor[i]! * std + m;
    if (v !== spec.padValue) values[n++] = v;
  }
  const pixels = n > 0 ? values.subarray(0, n) : values;
  pixels.sort();
  let sum = 0;
  for (const v of pixels) sum += v;
  const mean = sum / pixels.length;
  let squares = 0;
  for (const v of pixels) squares += (v - mean) ** 2;
  const histogram = new Float64Array(BINS);
  for (const v of pixels) histogram[Math.min(BINS - 1, Math.max(0, Math.floor(v * BINS)))]! += 1 / pixels.length;
  const at = (p: number): number => pixels[Math.min(pixels.length - 1, Math.floor((p / 100) * pixels.length))]!;
  return Float64Array.from([mean, Math.sqrt(squares / pixels.length), ...PERCENTILES.map(at), ...histogram.subarray(0, BINS - 1)]);
}
