// The table of work that runs in worker threads. Each task takes structured-cloneable input and
// returns its output plus the buffers to transfer back (not copy) to the calling thread.
import { decodeAndPreprocess, type DecodeTaskInput, type DecodeTaskOutput } from '../imaging/decode-task.js';
import type { SynthTaskInput, SynthTaskOutput } from '../synthetic/synth-task.js';
import { greyPng, overlayPng, type OverlayInput } from '../model/overlay-png.js';
import { inspectModel, runInference, type InferTaskInput, type InferTaskOutput, type InspectTaskInput, type InspectTaskOutput } from '../model/infer-task.js';

export interface TaskResult<T> {
  value: T;
  transfer: ArrayBuffer[];
}

/** A picture of the model's input image for the SMART app: alone (`grey`) or with an occlusion map over it. */
export type RadiographPngInput =
  | { kind: 'grey'; image: Float32Array; height: number; width: number; normalisation: { mean: number; std: number } }
  | ({ kind: 'overlay' } & Pick<OverlayInput, 'image' | 'normalisation' | 'map'>);

export const tasks = {
  'decode-preprocess': async (input: DecodeTaskInput): Promise<TaskResult<DecodeTaskOutput>> => {
    const value = await decodeAndPreprocess(input);
    return { value, transfer: value.ok ? [value.tensor.buffer as ArrayBuffer] : [] };
  },
  infer: async (input: InferTaskInput): Promise<TaskResult<InferTaskOutput>> => {
    const value = await runInference(input);
    return { value, transfer: value.ok ? [value.logRisk.buffer as ArrayBuffer] : [] };
  },
  'radiograph-png': (input: RadiographPngInput): Promise<TaskResult<Uint8Array>> => {
    const value = input.kind === 'grey' ? greyPng(input.image, input, input.normalisation) : overlayPng(input);
    return Promise.resolve({ value, transfer: [value.buffer as ArrayBuffer] });
  },
  'inspect-model': async (input: InspectTaskInput): Promise<TaskResult<InspectTaskOutput>> => ({ value: await inspectModel(input), transfer: [] }),
  // Loaded on first use: only the synth command runs it, and serving threads never load the generator.
  'synthesize-patient': async (input: SynthTaskInput): Promise<TaskResult<SynthTaskOutput>> => {
    const { synthesizePatient } = await import('../synthetic/synth-task.js');
    const value = await synthesizePatient(input);
    return { value, transfer: [value.tensor.buffer as ArrayBuffer, ...(value.part10 ? [value.part10.buffer as ArrayBuffer] : [])] };
  },
} satisfies Record<string, (input: never) => Promise<TaskResult<unknown>>>;

export type TaskName = keyof typeof tasks;
export type TaskInput<K extends TaskName> = Parameters<(typeof tasks)[K]>[0];
export type TaskOutput<K extends TaskName> = Awaited<ReturnType<(typeof tasks)[K]>>['value'];

export interface TaskMessage<K extends TaskName = TaskName> {
  task: K;
  input: TaskInput<K>;
}
