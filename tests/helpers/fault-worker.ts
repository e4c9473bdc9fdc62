// FAULT INJECTOR (test-only) worker entry: the shipped worker (src/workers/worker.ts) unchanged, except
// that a decode or infer input carrying a fault marker (tests/helpers/worker-faults.ts) kills this
// thread instead of running. Used as `createWorkerPool({ entry: FAULT_WORKER_ENTRY, ... })`.
import runTask from '../../src/workers/worker.js';
import type { TaskMessage } from '../../src/workers/tasks.js';
import { faultInDicom, faultInImage, type WorkerFault } from './worker-faults.js';

function die(fault: WorkerFault): Promise<never> {
  if (fault === 'exit') process.exit(1);
  setImmediate(() => {
    throw new Error('injected fault: an uncaught exception in the worker thread');
  });
  return new Promise<never>(() => {});
}

function faultOf(message: TaskMessage): WorkerFault | undefined {
  if (message.task === 'decode-preprocess') return faultInDicom((message as TaskMessage<'decode-preprocess'>).input.part10);
  if (message.task === 'infer') return faultInImage((message as TaskMessage<'infer'>).input.image);
  return undefined;
}

export default function runWithFaults(message: TaskMessage): Promise<unknown> {
  const fault = faultOf(message);
  return fault ? die(fault) : runTask(message);
}
