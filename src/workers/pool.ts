// A pool of worker threads for CPU-bound work (DICOM decode, the pixel pipeline, inference), so the
// HTTP thread never stalls. Inputs' buffers can be transferred in; outputs' buffers are moved back.
// Every task has a hard time cap: a task still running at its deadline has its thread terminated.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { TaskInput, TaskMessage, TaskName, TaskOutput } from './tasks.js';

export type WorkerPoolErrorKind = 'timeout' | 'busy' | 'failed' | 'closed';

export class WorkerPoolError extends Error {
  override name = 'WorkerPoolError';
  constructor(
    readonly kind: WorkerPoolErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface RunOptions {
  timeoutMs: number;
  /** Buffers handed to the worker (they become unusable here). */
  transfer?: ArrayBuffer[];
}

export interface WorkerPool {
  run<K extends TaskName>(task: K, input: TaskInput<K>, options: RunOptions): Promise<TaskOutput<K>>;
  readonly threads: number;
  readonly queued: number;
  close(): Promise<void>;
}

export interface WorkerPoolOptions {
  /** Default: min(available cores, 4). */
  threads?: number;
  /** Tasks that may wait for a thread before new ones are refused as busy. */
  maxQueue: number;
}

function workerEntry(): string {
  // Running from sources, this module is a .ts file and the worker needs the tsx bootstrap.
  const fromSources = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSources ? './worker-tsx.mjs' : './worker.js', import.meta.url));
}

export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const threads = options.threads ?? Math.min(availableParallelism(), 4);
  const piscina = new Piscina<TaskMessage, unknown>({
    filename: workerEntry(),
    minThreads: threads,
    maxThreads: threads,
    maxQueue: options.maxQueue,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  let closed = false;
  return {
    threads,
    get queued() {
      return piscina.queueSize;
    },
    async run(task, input, { timeoutMs, transfer }) {
      if (closed) throw new WorkerPoolError('closed', 'worker pool is closed');
      // Piscina's own limit also counts threads still starting as capacity, so it admits more than
      // maxQueue waiting tasks after a thread was replaced; the queue length is checked here instead.
      if (piscina.queueSize >= options.maxQueue && piscina.queueSize > 0) throw new WorkerPoolError('busy', 'worker queue is full');
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        return (await piscina.run({ task, input }, { signal, transferList: transfer })) as TaskOutput<typeof task>;
      } catch (error) {
        if (signal.aborted) throw new WorkerPoolError('timeout', `task ${task} exceeded ${timeoutMs} ms`);
        const message = error instanceof Error ? error.message : String(error);
        // Piscina refuses a task when every thread is busy and its queue (maxQueue) is full.
        if (/queue is at limit|no task queue available/i.test(message)) throw new WorkerPoolError('busy', 'worker queue is full');
        throw new WorkerPoolError('failed', `task ${task} failed in its worker: ${message.slice(0, 200)}`);
      }
    },
    async close() {
      closed = true;
      await piscina.destroy();
    },
  };
}
