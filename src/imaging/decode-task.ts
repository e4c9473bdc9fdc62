// The CPU-bound half of getting an image, run in a worker thread: Part 10 bytes → decoded frame →
// model tensor. It never throws; failures come back as plain data with a reason code.
import type { PreprocessingSpec, PreprocessingRecord } from './preprocessing.js';
import { preprocess } from './preprocessing.js';
import { decodeDicom, type DecodeLimits } from './dicom-decode.js';
import { ImagingError, toFailure, type ImagingFailure } from './errors.js';
import { patientMismatch, type ExpectedPatient } from './patient-identity.js';

export interface DecodeTaskInput {
  part10: Uint8Array;
  limits: DecodeLimits;
  spec: PreprocessingSpec;
  expectedPatient?: ExpectedPatient;
}

export type DecodeTaskOutput = { ok: true; tensor: Float32Array; record: PreprocessingRecord } | ImagingFailure;

export async function decodeAndPreprocess(input: DecodeTaskInput): Promise<DecodeTaskOutput> {
  try {
    const image = await decodeDicom(input.part10, input.limits);
    const mismatch = input.expectedPatient ? patientMismatch(image.patient, input.expectedPatient) : null;
    if (mismatch !== null) throw new ImagingError('patient-mismatch', mismatch);
    const { tensor, record } = preprocess(image, input.spec);
    return { ok: true, tensor, record };
  } catch (error) {
    return toFailure(error);
  }
}
