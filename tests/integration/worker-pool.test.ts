// The worker pool with the real decode task: buffers move rather than copy, the time cap
// terminates a busy thread and the pool carries on, a full queue answers busy, a thread that really
// dies fails its task as worker-failed and is replaced. (That the calling
// thread's event loop keeps turning is measured in bench/imaging, not asserted on this noisy machine.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeInWorker } from '../../src/imaging/decode-in-worker.js';
import { ImagingError } from '../../src/imaging/errors.js';
import type { PreprocessingSpec } from '../../src/imaging/preprocessing.js';
import { writeRadiograph } from '../../src/synthetic/dicom-file.js';
import { generateLumbarPhantom } from '../../src/synthetic/lumbar-phantom.js';
import { createWorkerPool, type WorkerPool } from '../../src/workers/pool.js';
import { FAULT_WORKER_ENTRY, WORKER_FAULTS, faultyDicom } from '../helpers/worker-faults.js';

const spec: PreprocessingSpec = {
  height: 128,
  width: 96,
  voi: { mode: 'window-else-percentile', lowPercentile: 1, highPercentile: 99 },
  borderCrop: 0.02,
  padValue: 0,
  normalisation: { mean: 0.5, std: 0.25 },
};
const limits = { maxBytes: 64 * 1024 * 1024, maxPixels: 20_000_000, maxFrames: 1, decodeTimeoutMs: 20_000 };

function radiograph(rows: number, columns: number): Uint8Array {
  return writeRadiograph(generateLumbarPhantom({ seed: 3, view: 'lateral', rows, columns, bitsStored: 12, boneDensity: 0.5 }), { Modality: 'DX' });
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof ImagingError && error.code === code);
}

describe('worker pool with the decode task', () => {
  let pool: WorkerPool;
  const small = radiograph(256, 192);
  const large = radiograph(2000, 1600);

  before(() => {
    pool = createWorkerPool({ threads: 2, maxQueue: 2 });
  });
  after(async () => {
    await pool.close();
  });

  it('transfers the file into the worker and moves the tensor back', async () => {
    const input = small.slice();
    const { tensor, record } = await decodeInWorker(pool, input, limits, spec);
    assert.equal(input.byteLength, 0, 'the input buffer was transferred (detached here), not copied');
    assert.equal(tensor.length, spec.height * spec.width);
    assert.ok(tensor.every(Number.isFinite));
    assert.equal(record.source.rows, 256);
  });

  it('copies instead when the bytes are a view into a larger buffer it must not detach', async () => {
    const shared = new Uint8Array(small.byteLength + 16);
    shared.set(small, 8);
    const view = shared.subarray(8, 8 + small.byteLength);
    await decodeInWorker(pool, view, limits, spec);
    assert.equal(shared.byteLength, small.byteLength + 16);
  });

  it('terminates a task past its time cap, and the pool keeps working', async () => {
    await rejectsWithCode(decodeInWorker(pool, large.slice(), { ...limits, decodeTimeoutMs: 1 }, spec), 'decode-timeout');
    const { tensor } = await decodeInWorker(pool, small.slice(), limits, spec);
    assert.equal(tensor.length, spec.height * spec.width);
  });

  it('reports the decoder’s reason codes from inside the worker', async () => {
    await rejectsWithCode(decodeInWorker(pool, new Uint8Array(200), limits, spec), 'not-dicom');
    await rejectsWithCode(decodeInWorker(pool, small.slice(0, small.length - 10), limits, spec), 'truncated');
  });

  it('answers busy when more tasks wait than the queue allows', async () => {
    const runs = Array.from({ length: 8 }, () => decodeInWorker(pool, large.slice(), limits, spec));
    const outcomes = await Promise.allSettled(runs);
    const busy = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof ImagingError && o.reason.code === 'busy');
    const done = outcomes.filter((o) => o.status === 'fulfilled');
    assert.ok(busy.length >= 1, 'some were refused');
    assert.ok(done.length >= 2, 'the ones that got a place finished');
    assert.equal(busy.length + done.length, 8);
  });

  it('refuses work once closed', async () => {
    const closing = createWorkerPool({ threads: 1, maxQueue: 1 });
    await closing.close();
    await rejectsWithCode(decodeInWorker(closing, small.slice(), limits, spec), 'worker-failed');
  });
});

describe('worker pool after a real worker crash, with the decode task', () => {
  // Threads of a pool on the fault-injecting entry die for real on a marked input (tests/helpers/worker-faults.ts).
  let pool: WorkerPool;
  const small = radiograph(256, 192);

  before(() => {
    pool = createWorkerPool({ threads: 2, maxQueue: 4, entry: FAULT_WORKER_ENTRY });
  });
  after(async () => {
    await pool.close();
  });

  for (const fault of WORKER_FAULTS) {
    it(`a decode whose thread dies (${fault}) fails as worker-failed; the thread is replaced and real decodes succeed, crash after crash`, async () => {
      for (let crash = 0; crash < 3; crash++) {
        await rejectsWithCode(decodeInWorker(pool, faultyDicom(fault), limits, spec), 'worker-failed');
        assert.equal(pool.liveThreads, 2, 'the dead thread was replaced, and only it');
        // More decodes than threads, so both the replacement and the surviving thread serve.
        const decoded = await Promise.all([1, 2, 3].map(() => decodeInWorker(pool, small.slice(), limits, spec)));
        for (const { tensor, record } of decoded) {
          assert.equal(tensor.length, spec.height * spec.width);
          assert.equal(record.source.rows, 256);
        }
      }
      assert.equal(pool.liveThreads, 2);
    });
  }

  it('a crash fails only the task on the dying thread; a decode running beside it succeeds', async () => {
    const [crashed, beside] = await Promise.allSettled([decodeInWorker(pool, faultyDicom('exit'), limits, spec), decodeInWorker(pool, small.slice(), limits, spec)]);
    assert.ok(crashed.status === 'rejected' && crashed.reason instanceof ImagingError && crashed.reason.code === 'worker-failed', String(crashed.status));
    assert.equal(beside.status, 'fulfilled');
    assert.equal(pool.liveThreads, 2);
  });
});
