// The model runtime when the model or its thread goes wrong, with real onnxruntime in worker threads:
// a model whose output is NaN or ±Inf, a model file replaced on disk after start-up (another valid
// ONNX file, a truncated one, then the original again), and an inference thread that really dies.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ModelRunError, type ModelRunErrorCode } from '../../src/model/errors.js';
import { loadGolden, type GoldenSet } from '../../src/model/golden.js';
import { createInferencePool } from '../../src/model/inference-pool.js';
import { loadModelRegistry } from '../../src/model/model-registry.js';
import type { InferenceSettings } from '../../src/model/model-runtime.js';
import { OnnxModelRuntime } from '../../src/model/onnx-model-runtime.js';
import { createWorkerPool, type WorkerPool } from '../../src/workers/pool.js';
import { tempDir } from '../helpers/cds-app.js';
import { buildTestModels, type BuiltTestModels } from '../helpers/test-models.js';
import { FAULT_WORKER_ENTRY, WORKER_FAULTS, faultyImage } from '../helpers/worker-faults.js';

const FIXTURES = 'tests/fixtures/models';
const MODEL = 'tiny-cnn-cov';
const PIXELS = 32 * 24;
const settings: InferenceSettings = { intraOpThreads: 1, maxBatch: 4, batchWindowMs: 1, maxQueue: 16, timeoutMs: 60_000 };

async function rejectsWith(promise: Promise<unknown>, code: ModelRunErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ModelRunError, `expected ModelRunError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** A models directory holding a copy of the tiny-cnn-cov fixture, which the test may change on disk. */
function copyOfTinyCnnCov(): { dir: string; onnxFile: string } {
  const dir = tempDir('model-faults-');
  cpSync(join(FIXTURES, MODEL), join(dir, MODEL), { recursive: true });
  return { dir, onnxFile: join(dir, MODEL, 'model.onnx') };
}

/** An inference pool as createInferencePool makes it (one thread), on the fault-injecting worker entry. */
function faultInjectingInferencePool(): WorkerPool {
  return createWorkerPool({ threads: 1, maxQueue: 1, entry: FAULT_WORKER_ENTRY });
}

describe('model runtime: faults of the model and of its thread', () => {
  let built: BuiltTestModels;
  let golden: GoldenSet;

  before(async () => {
    built = await buildTestModels();
    golden = (await loadGolden((await loadModelRegistry(FIXTURES)).models.get(MODEL)!))!;
  });

  const expectGolden = (logRisk: number, i = 0): void => assert.ok(Math.abs(logRisk - golden.cases[i]!.logRisk) <= 1e-4, `${logRisk} vs golden ${golden.cases[i]!.logRisk}`);

  it('a NaN or infinite model output is refused as inference-failed; the same model’s finite outputs pass', async () => {
    const pool = createInferencePool({ inferenceThreads: 1 });
    const runtime = await OnnxModelRuntime.create({ registry: await loadModelRegistry(built.nonFiniteModelsDir), pool, settings });
    try {
      // The graph is log(mean(image)) (models/training/runtime_test_models.py).
      const finite = await runtime.predict('non-finite-output', new Float32Array(PIXELS).fill(0.5), null);
      assert.ok(Math.abs(finite.logRisk - Math.log(0.5)) <= 1e-6, String(finite.logRisk));
      await rejectsWith(runtime.predict('non-finite-output', new Float32Array(PIXELS), null), 'inference-failed', /non-finite/);
      await rejectsWith(runtime.predict('non-finite-output', new Float32Array(PIXELS).fill(-0.5), null), 'inference-failed', /non-finite/);
      // Scoring paths too: a batch with one non-finite output is refused, never returned in part.
      await rejectsWith(runtime.predictBatch('non-finite-output', [new Float32Array(PIXELS).fill(0.5), new Float32Array(PIXELS)], [null, null]), 'inference-failed', /non-finite/);
      const again = await runtime.predict('non-finite-output', new Float32Array(PIXELS).fill(2), null);
      assert.ok(Math.abs(again.logRisk - Math.log(2)) <= 1e-6, 'the runtime keeps serving');
    } finally {
      await runtime.close();
      await pool.close();
    }
  });

  it('a model file replaced on disk after start-up is never run: a fresh thread refuses it as model-mismatch, and serves again once it is restored', async () => {
    const { dir, onnxFile } = copyOfTinyCnnCov();
    const original = readFileSync(onnxFile);
    const pool = faultInjectingInferencePool();
    const runtime = await OnnxModelRuntime.create({ registry: await loadModelRegistry(dir), pool, settings });
    const predict = (): Promise<number> => runtime.predict(MODEL, golden.images[0]!, golden.cases[0]!.factors).then((p) => p.logRisk);
    try {
      expectGolden(await predict());

      copyFileSync(built.reweightedTinyCnnCov, onnxFile);
      // The thread's session was built from the bytes whose hash matched the card: the new weights are not run.
      expectGolden(await predict());
      // A fresh thread (after a real crash) reads the file again, and refuses it.
      await rejectsWith(runtime.predict(MODEL, faultyImage('exit', PIXELS), golden.cases[0]!.factors), 'worker-failed');
      await rejectsWith(predict(), 'model-mismatch', /changed since its card was checked/);

      writeFileSync(onnxFile, original.subarray(0, original.length >> 1));
      await rejectsWith(predict(), 'model-mismatch', /changed since its card was checked/);

      // A refused load is not remembered: with the checked file back, the next prediction loads and serves it.
      writeFileSync(onnxFile, original);
      expectGolden(await predict());
      assert.equal(pool.liveThreads, 1);
    } finally {
      await runtime.close();
      await pool.close();
    }
  });

  it('the replacement model really differs, so the refusal above is the hash check at work', async () => {
    // Served under its own hash (a card copied with the new file's sha256), the swapped-in file gives another log-risk.
    const { dir, onnxFile } = copyOfTinyCnnCov();
    copyFileSync(built.reweightedTinyCnnCov, onnxFile);
    const cardFile = join(dir, MODEL, 'model-card.json');
    const card = JSON.parse(readFileSync(cardFile, 'utf8')) as { artifact: { sha256: string } };
    card.artifact.sha256 = createHash('sha256').update(readFileSync(onnxFile)).digest('hex');
    writeFileSync(cardFile, JSON.stringify(card));
    const pool = createInferencePool({ inferenceThreads: 1 });
    const runtime = await OnnxModelRuntime.create({ registry: await loadModelRegistry(dir), pool, settings });
    try {
      const { logRisk } = await runtime.predict(MODEL, golden.images[0]!, golden.cases[0]!.factors);
      assert.ok(Number.isFinite(logRisk));
      assert.ok(Math.abs(logRisk - golden.cases[0]!.logRisk) > 1e-3, `${logRisk} is the original model's output`);
    } finally {
      await runtime.close();
      await pool.close();
    }
  });

  for (const fault of WORKER_FAULTS) {
    it(`an inference whose thread dies (${fault}) fails as worker-failed; the thread is replaced and real inferences succeed, crash after crash`, async () => {
      const { dir } = copyOfTinyCnnCov();
      const pool = faultInjectingInferencePool();
      const runtime = await OnnxModelRuntime.create({ registry: await loadModelRegistry(dir), pool, settings });
      try {
        for (let crash = 0; crash < 3; crash++) {
          await rejectsWith(runtime.predict(MODEL, faultyImage(fault, PIXELS), golden.cases[0]!.factors), 'worker-failed');
          assert.equal(pool.liveThreads, 1, 'the dead thread was replaced, and only it');
          const predictions = await runtime.predictBatch(MODEL, golden.images, golden.cases.map((c) => c.factors));
          predictions.forEach((p, i) => expectGolden(p.logRisk, i));
        }
        assert.equal(runtime.stats().queued, 0);
      } finally {
        await runtime.close();
        await pool.close();
      }
    });
  }
});
