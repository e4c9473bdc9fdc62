// The table of work that runs in worker threads. Each task takes structured-cloneable input and
// returns its output plus the buffers to transfer back (not copy) to the calling thread.
import { decodeAndPreprocess, type DecodeTaskInput, type DecodeTaskOutput } from '../imaging/decode-task.js';

export interface TaskResult<T> {
  value: T;
  transfer: ArrayBuffer[];
}

export const tasks = {
  'decode-preprocess': async (input: DecodeTaskInput): Promise<TaskResult<DecodeTaskOutput>> => {
    const value = await decodeAndPreprocess(input);
    return { value, transfer: value.ok ? [value.tensor.buffer as ArrayBuffer] : [] };
  },
} satisfies Record<string, (input: never) => Promise<TaskResult<unknown>>>;

export type TaskName = keyof typeof tasks;
export type TaskInput<K extends TaskName> = Parameters<(typeof tasks)[K]>[0];
export type TaskOutput<K extends TaskName> = Awaited<ReturnType<(typeof tasks)[K]>>['value'];

export interface TaskMessage<K extends TaskName = TaskName> {
  task: K;
  input: TaskInput<K>;
}
