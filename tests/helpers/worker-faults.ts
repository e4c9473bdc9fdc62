// FAULT INJECTOR (test-only): inputs that make a worker thread really die while it runs the real
// decode or inference task, for pools built on FAULT_WORKER_ENTRY (tests/helpers/fault-worker.ts).
// A real decode or inference cannot be made to kill its thread on demand, so the entry wraps the
// shipped task table: an input carrying a fault marker dies the named way instead of running; every
// other input runs the real task. Nothing here ships: the service's table has no such task.

/** How the thread dies: `process.exit()` inside the task (in a worker it ends only that thread), or an exception thrown asynchronously that nothing catches. */
export type WorkerFault = 'exit' | 'uncaught-async';

export const WORKER_FAULTS: readonly WorkerFault[] = ['exit', 'uncaught-async'];

export const FAULT_WORKER_ENTRY = new URL('./fault-worker.ts', import.meta.url);

const DICOM_MARKER = 'WORKER-FAULT:';
/** First pixel of an image carrying a fault (a value no normalised radiograph has); the second pixel is the fault's index. */
const IMAGE_MARKER = Math.fround(-3e38);

/** Bytes handed to the decode task in place of a DICOM file. */
export function faultyDicom(fault: WorkerFault): Uint8Array {
  return new TextEncoder().encode(`${DICOM_MARKER}${fault}`);
}

/** A model input image of `length` values (the first image of a batch) that makes the infer task die. */
export function faultyImage(fault: WorkerFault, length: number): Float32Array {
  const image = new Float32Array(length);
  image[0] = IMAGE_MARKER;
  image[1] = WORKER_FAULTS.indexOf(fault);
  return image;
}

export function faultInDicom(part10: Uint8Array): WorkerFault | undefined {
  const text = new TextDecoder().decode(part10.subarray(0, DICOM_MARKER.length + 20));
  return WORKER_FAULTS.find((fault) => text === `${DICOM_MARKER}${fault}`);
}

export function faultInImage(image: Float32Array): WorkerFault | undefined {
  return image[0] === IMAGE_MARKER ? WORKER_FAULTS[image[1] ?? -1] : undefined;
}
