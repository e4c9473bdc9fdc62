// Settings shared by the imaging benchmark and its memory probe.
import type { DecodeLimits } from '../../src/imaging/dicom-decode.js';
import type { PreprocessingSpec } from '../../src/imaging/preprocessing.js';

export const ROWS = 3000;
export const COLUMNS = 2500;

export const BENCH_LIMITS: DecodeLimits = { maxBytes: 200 * 1024 * 1024, maxPixels: 50_000_000, maxFrames: 1 };

/** A model card's preprocessing block as the demonstration model will use it: 512 × 384, percentile VOI. */
export const BENCH_SPEC: PreprocessingSpec = {
  height: 512,
  width: 384,
  voi: { mode: 'window-else-percentile', lowPercentile: 0.5, highPercentile: 99.5 },
  borderCrop: 0.02,
  padValue: 0,
  normalisation: { mean: 0.5, std: 0.25 },
};
