// Micro-batching for inference: concurrent requests for the same model are collected into one run.
// A batch leaves when it is full or when its oldest request has waited `windowMs`, and only when an
// execution slot (a worker thread) is free; requests arriving while every slot is busy join the next
// batch, so batches grow under load instead of queueing runs. Requests waiting beyond `maxQueued`
// are refused at once rather than piling up.
//
// The time cap is soft: a run past `timeoutMs` fails its callers at once, but its slot is freed only
// when the run really ends. onnxruntime cannot be interrupted, and terminating a worker thread inside
// session.run aborts the whole process (onnxruntime-node 1.30: "terminate called after throwing an
// instance of 'Napi::Error'"), so a run is always allowed to finish.

export interface BatchSchedulerOptions<T, R> {
  /** Largest batch for a key (a model exported with a fixed batch of 1 gets 1). */
  maxBatch(key: string): number;
  windowMs: number;
  /** Requests that may wait for a batch, over all keys; more are refused with `busyError()`. */
  maxQueued: number;
  /** Batches that may run at once. */
  slots: number;
  execute(key: string, items: T[]): Promise<R[]>;
  /** Callers of a run still going after this long are answered with `timeoutError()`. */
  timeoutMs: number;
  busyError(): Error;
  closedError(): Error;
  timeoutError(): Error;
}

/** `work`'s outcome, or `error()` if it has not settled within `ms` (work itself carries on). */
export function withTimeout<V>(work: Promise<V>, ms: number, error: () => Error): Promise<V> {
  return new Promise<V>((resolve, reject) => {
    const timer = setTimeout(() => reject(error()), ms);
    void work.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

interface Waiting<T, R> {
  item: T;
  arrivedAt: number;
  resolve(result: R): void;
  reject(error: unknown): void;
}

interface KeyQueue<T, R> {
  waiting: Waiting<T, R>[];
  timer: NodeJS.Timeout | undefined;
  /** A slot has been asked for on this queue's behalf and not yet granted. */
  dispatching: boolean;
}

/** A FIFO counting semaphore: batches formed by `submit` and whole batches from `runBatch` share it. */
class Slots {
  private readonly waiters: (() => void)[] = [];
  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

export class BatchScheduler<T, R> {
  private readonly queues = new Map<string, KeyQueue<T, R>>();
  private readonly slots: Slots;
  /** Runs in progress (past their time cap or not), for close() to wait on. */
  private readonly running = new Set<Promise<R[]>>();
  private waitingCount = 0;
  private closed = false;

  constructor(private readonly options: BatchSchedulerOptions<T, R>) {
    this.slots = new Slots(options.slots);
  }

  /** Requests waiting for a batch (not yet running). */
  get queued(): number {
    return this.waitingCount;
  }

  /** One request, batched with others for the same key. Rejects with busyError() when the queue is full. */
  submit(key: string, item: T): Promise<R> {
    if (this.closed) return Promise.reject(this.options.closedError());
    if (this.waitingCount >= this.options.maxQueued) return Promise.reject(this.options.busyError());
    return new Promise<R>((resolve, reject) => {
      const queue = this.queueFor(key);
      queue.waiting.push({ item, arrivedAt: performance.now(), resolve, reject });
      this.waitingCount++;
      this.schedule(key, queue);
    });
  }

  /** A batch the caller formed already (batch scoring): waits for a slot, never merged, never refused as busy. */
  async runBatch(key: string, items: T[]): Promise<R[]> {
    if (this.closed) throw this.options.closedError();
    await this.slots.acquire();
    if (this.closed) {
      this.slots.release();
      throw this.options.closedError();
    }
    return this.start(key, items);
  }

  /** Refuses everything still waiting; resolves once the runs in progress have really ended. */
  async close(): Promise<void> {
    this.closed = true;
    for (const queue of this.queues.values()) {
      clearTimeout(queue.timer);
      for (const waiting of queue.waiting.splice(0)) waiting.reject(this.options.closedError());
    }
    this.waitingCount = 0;
    await Promise.allSettled([...this.running]);
  }

  /** Runs a batch in a slot already held; the slot is released when the run ends, not at its time cap. */
  private start(key: string, items: T[]): Promise<R[]> {
    const work = this.options.execute(key, items);
    this.running.add(work);
    const finished = (): void => {
      this.running.delete(work);
      this.slots.release();
    };
    void work.then(finished, finished);
    return withTimeout(work, this.options.timeoutMs, () => this.options.timeoutError());
  }

  private queueFor(key: string): KeyQueue<T, R> {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { waiting: [], timer: undefined, dispatching: false };
      this.queues.set(key, queue);
    }
    return queue;
  }

  /** Dispatch now if a batch is full or the oldest request's window has passed, else set a timer for it. */
  private schedule(key: string, queue: KeyQueue<T, R>): void {
    const oldest = queue.waiting[0];
    if (queue.dispatching || oldest === undefined) return;
    const remaining = this.options.windowMs - (performance.now() - oldest.arrivedAt);
    if (queue.waiting.length >= this.options.maxBatch(key) || remaining <= 0) {
      this.dispatch(key, queue);
    } else if (queue.timer === undefined) {
      queue.timer = setTimeout(() => {
        queue.timer = undefined;
        this.dispatch(key, queue);
      }, remaining);
    }
  }

  private dispatch(key: string, queue: KeyQueue<T, R>): void {
    clearTimeout(queue.timer);
    queue.timer = undefined;
    queue.dispatching = true;
    void this.slots.acquire().then(() => {
      queue.dispatching = false;
      // Taken only now that a slot is free: whatever arrived while waiting rides along.
      const batch = queue.waiting.splice(0, this.options.maxBatch(key));
      this.waitingCount -= batch.length;
      this.schedule(key, queue);
      if (batch.length === 0) {
        this.slots.release();
        return;
      }
      void this.start(key, batch.map((w) => w.item)).then(
        (results) => batch.forEach((w, i) => (i < results.length ? w.resolve(results[i] as R) : w.reject(new Error('batch returned too few results')))),
        (error: unknown) => batch.forEach((w) => w.reject(error)),
      );
    });
  }
}
