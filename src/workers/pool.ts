// A pool of worker threads for CPU-bound work (DICOM decode, the pixel pipeline, inference), so the
// HTTP thread never stalls. Inputs' buffers can be transferred in; outputs' buffers are moved back.
// Every task has a hard time cap: a task still running at its deadline has its thread terminated.
// A thread that dies (process.exit in a task, an uncaught exception) fails its task and is replaced.
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
  /** Threads alive now, starting ones included: `threads` while open, since a thread that dies is replaced. */
  readonly liveThreads: number;
  readonly queued: number;
  close(): Promise<void>;
}

export interface WorkerPoolOptions {
  /** Default: min(available cores, 4). */
  threads?: number;
  /** Tasks that may wait for a thread before new ones are refused as busy. */
  maxQueue: number;
  /**
   * The module the threads run (its default export runs one TaskMessage). Default: worker.ts/.js, the
   * task table as it ships; tests pass an entry that wraps it to inject faults.
   */
  entry?: URL;
}

function workerEntry(entry?: URL): { filename: string; workerData?: { entry: string } } {
  // Running from sources, this module is a .ts file; a TypeScript entry needs the tsx bootstrap.
  const target = entry ?? new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
  if (!target.pathname.endsWith('.ts')) return { filename: fileURLToPath(target) };
  return { filename: fileURLToPath(new URL('./worker-tsx.mjs', import.meta.url)), workerData: { entry: target.href } };
}

export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const threads = options.threads ?? Math.min(availableParallelism(), 4);
  const piscina = new Piscina<TaskMessage, unknown>({
    ...workerEntry(options.entry),
    minThreads: threads,
    maxThreads: threads,
    maxQueue: options.maxQueue,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  let closed = false;
  return {
    threads,
    get liveThreads() {
      return piscina.threads.length;
    },
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
