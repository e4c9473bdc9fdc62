// One synthetic patient, end to end, in a worker thread: draw the patient, write its radiograph as a
// DICOM file, and turn that file into the model tensor with the service's own decode and
// preprocessing (decodeAndPreprocess, the function served requests use), so training data and
// served requests cannot drift apart.
import type { DecodeLimits } from '../imaging/dicom-decode.js';
import { decodeAndPreprocess } from '../imaging/decode-task.js';
import type { PreprocessingSpec } from '../imaging/preprocessing.js';
import { syntheticPatient, type SyntheticPatient } from './cohort.js';
import { acquisition, renderRadiograph, type Acquisition } from './radiograph.js';

export interface SynthTaskInput {
  seed: number;
  index: number;
  /** ISO date the radiographs are dated up to a year before. */
  indexDate: string;
  spec: PreprocessingSpec;
  limits: DecodeLimits;
  keepDicom: boolean;
}

export interface SynthTaskOutput {
  patient: SyntheticPatient;
  acquisition: Omit<Acquisition, 'phantom'>;
  tensor: Float32Array;
  part10: Uint8Array | null;
}

export async function synthesizePatient(input: SynthTaskInput): Promise<SynthTaskOutput> {
  const patient = syntheticPatient(input.seed, input.index);
  const { phantom, ...acquired } = acquisition(patient, new Date(input.indexDate));
  const part10 = await renderRadiograph(patient, { ...acquired, phantom });
  // decodeAndPreprocess takes ownership of the bytes it is given; keep our own copy when asked to.
  const result = await decodeAndPreprocess({ part10: input.keepDicom ? part10.slice() : part10, limits: input.limits, spec: input.spec });
  if (!result.ok) throw new Error(`synthetic patient ${patient.id}: the project's decoder refused its own file (${result.code}: ${result.message})`);
  return { patient, acquisition: acquired, tensor: result.tensor, part10: input.keepDicom ? part10 : null };
}
