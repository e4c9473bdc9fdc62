// Inference must never stall the calling thread. The heavy fixture (512 × 384, ~12 GMAC) takes
// hundreds of milliseconds per image; run on this thread it blocks the event loop for that long (the
// control below shows the test can fail), while through the runtime's worker threads the loop's
// worst delay stays under 50 ms. On a shared two-core machine other processes can delay this thread
// too, so the measurement is taken up to three times: blocking fails every attempt, noise does not.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { createInferencePool } from '../../src/model/inference-pool.js';
import { loadModelFolder, type LoadedModel } from '../../src/model/model-registry.js';
import { OnnxModelRuntime } from '../../src/model/onnx-model-runtime.js';
import { NO_FACTORS } from '../../src/model/covariates.js';
import type { WorkerPool } from '../../src/workers/pool.js';

const HEIGHT = 512;
const WIDTH = 384;
const factors = { ...NO_FACTORS, age: 66, sex: 'female' as const };

/** Worst event-loop delay (ms) while `work` runs, sampled every 10 ms. */
async function worstLoopDelay(work: () => Promise<unknown>): Promise<{ maxMs: number; elapsedMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const started = performance.now();
  await work();
  const elapsedMs = performance.now() - started;
  await sleep(30); // let the monitor's timer fire once more after the work
  histogram.disable();
  return { maxMs: histogram.max / 1e6, elapsedMs };
}

function image(seed: number): Float32Array {
  return Float32Array.from({ length: HEIGHT * WIDTH }, (_, i) => Math.sin(i * 0.001 + seed));
}

describe('event loop while the heavy model runs', () => {
  let model: LoadedModel;
  let pool: WorkerPool;
  let runtime: OnnxModelRuntime;

  before(async () => {
    model = await loadModelFolder('tests/fixtures/models/heavy-test', { requireFolderName: true });
    pool = createInferencePool({ inferenceThreads: 1 });
    // One intra-op thread leaves this thread a core of its own on a two-core machine.
    runtime = await OnnxModelRuntime.create({
      registry: { models: new Map([[model.card.id, model]]) },
      pool,
      settings: { intraOpThreads: 1, maxBatch: 2, batchWindowMs: 5, maxQueue: 64, timeoutMs: 60_000 },
    });
    await runtime.predict('heavy-test', image(0), factors); // the worker's session exists before measuring
  });
  after(async () => {
    await runtime.close();
    await pool.close();
  });

  it('control: the same inference on this thread blocks the loop for ≥ 100 ms', async () => {
    const session = await InferenceSession.create(model.onnxFile, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
    const feeds = { image: new Tensor('float32', image(1), [1, 1, HEIGHT, WIDTH]), covariates: new Tensor('float32', new Float32Array(2), [1, 2]) };
    await session.run(feeds); // warm-up
    const { maxMs } = await worstLoopDelay(() => session.run(feeds));
    await session.release();
    assert.ok(maxMs >= 100, `one inference on this thread stalled the loop ${maxMs.toFixed(0)} ms`);
  });

  it('in the worker threads, the loop’s worst delay stays under 50 ms', async () => {
    const images = [2, 3, 4, 5, 6, 7].map(image);
    const attempts: number[] = [];
    while (attempts.length < 3 && !attempts.some((ms) => ms < 50)) {
      const runsBefore = runtime.stats().runs;
      const { maxMs, elapsedMs } = await worstLoopDelay(() => Promise.all(images.map((im) => runtime.predict('heavy-test', im, factors))));
      assert.ok(runtime.stats().runs - runsBefore >= 3, 'six predictions ran (in batches of at most two)');
      assert.ok(elapsedMs >= 300, `the inferences took ${elapsedMs.toFixed(0)} ms`);
      attempts.push(maxMs);
    }
    assert.ok(attempts.some((ms) => ms < 50), `worst event-loop delay per attempt: ${attempts.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  });
});
