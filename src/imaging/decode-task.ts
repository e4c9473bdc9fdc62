// The CPU-bound half of getting an image, run in a worker thread: Part 10 bytes → decoded frame →
// model tensor. It never throws; failures come back as plain data with a reason code.
import type { PreprocessingSpec, PreprocessingRecord } from './preprocessing.js';
import { preprocess } from './preprocessing.js';
import { decodeDicom, type DecodeLimits } from './dicom-decode.js';
import { toFailure, type ImagingFailure } from './errors.js';

export interface DecodeTaskInput {
  part10: Uint8Array;
  limits: DecodeLimits;
  spec: PreprocessingSpec;
}

export type DecodeTaskOutput = { ok: true; tensor: Float32Array; record: PreprocessingRecord } | ImagingFailure;

export async function decodeAndPreprocess(input: DecodeTaskInput): Promise<DecodeTaskOutput> {
  try {
    const image = await decodeDicom(input.part10, input.limits);
    const { tensor, record } = preprocess(image, input.spec);
    return { ok: true, tensor, record };
  } catch (error) {
    return toFailure(error);
  }
}
