// The runtime's own logic with an in-process stand-in for the worker pool (the real pool and
// onnxruntime are in tests/integration/model-runtime.test.ts): input checks, covariate assembly,
// batching, packing into transferred buffers, and every pool failure mapped to a typed error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelCardError, ModelInputError, ModelRunError } from '../../src/model/errors.js';
import { loadModelRegistry, type ModelRegistry } from '../../src/model/model-registry.js';
import type { InferenceSettings } from '../../src/model/model-runtime.js';
import { OnnxModelRuntime } from '../../src/model/onnx-model-runtime.js';
import { NO_FACTORS } from '../../src/model/covariates.js';
import type { SessionMetadata } from '../../src/model/signature.js';
import { WorkerPoolError, type RunOptions, type WorkerPool } from '../../src/workers/pool.js';
import type { TaskInput, TaskName, TaskOutput } from '../../src/workers/tasks.js';

const settings: InferenceSettings = { intraOpThreads: 1, maxBatch: 4, batchWindowMs: 5, maxQueue: 16, timeoutMs: 1000 };
const factors = { ...NO_FACTORS, age: 62, sex: 'female' as const };

/** Answers like the worker would: log-risk = sum of the image + sum of the covariates, per item. */
class FakePool implements WorkerPool {
  readonly threads = 1;
  readonly liveThreads = 1;
  readonly queued = 0;
  readonly calls: { task: TaskName; batch?: number; transfer: ArrayBuffer[]; image?: Float32Array }[] = [];
  failWith: WorkerPoolError | null = null;
  /** What the worker's signature check would report. */
  problems: string[] = [];

  run<K extends TaskName>(task: K, input: TaskInput<K>, options: RunOptions): Promise<TaskOutput<K>> {
    if (this.failWith) return Promise.reject(this.failWith);
    if (task === 'inspect-model') {
      const { model } = input as TaskInput<'inspect-model'>;
      const metadata: SessionMetadata = {
        inputs: [
          { name: model.image.name, isTensor: true, type: 'float32', shape: ['batch', 1, model.image.height, model.image.width] },
          ...(model.covariates ? [{ name: model.covariates.name, isTensor: true, type: 'float32', shape: ['batch', model.covariates.length] }] : []),
        ],
        outputs: [{ name: model.output, isTensor: true, type: 'float32', shape: ['batch', 1] }],
      };
      this.calls.push({ task, transfer: options.transfer ?? [] });
      return Promise.resolve({ ok: true, metadata, check: { problems: this.problems, fixedBatch: null } } as TaskOutput<K>);
    }
    const infer = input as TaskInput<'infer'>;
    this.calls.push({ task, batch: infer.batch, transfer: options.transfer ?? [], image: infer.image });
    const pixels = infer.model.image.height * infer.model.image.width;
    const length = infer.model.covariates?.length ?? 0;
    const logRisk = Float32Array.from({ length: infer.batch }, (_, i) => {
      const image = infer.image.subarray(i * pixels, (i + 1) * pixels).reduce((a, b) => a + b, 0);
      const covariates = infer.covariates?.subarray(i * length, (i + 1) * length).reduce((a, b) => a + b, 0) ?? 0;
      return image + covariates;
    });
    return Promise.resolve({ ok: true, logRisk, runMs: 1 } as TaskOutput<K>);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

let registry: ModelRegistry | undefined;
async function setup(options: Partial<InferenceSettings> = {}) {
  registry ??= await loadModelRegistry('tests/fixtures/models');
  const pool = new FakePool();
  const runtime = await OnnxModelRuntime.create({ registry, pool, settings: { ...settings, ...options } });
  return { pool, runtime };
}
const image = (value: number, length = 32 * 24): Float32Array => new Float32Array(length).fill(value);

describe('model runtime (stand-in pool)', () => {
  it('checks every model at creation and lists them', async () => {
    const { pool, runtime } = await setup();
    assert.deepEqual([...runtime.models.keys()], ['heavy-test', 'tiny-cnn-cov', 'tiny-image-only']);
    assert.equal(pool.calls.filter((c) => c.task === 'inspect-model').length, 3);
  });

  it('refuses to start when a graph does not match its card', async () => {
    registry ??= await loadModelRegistry('tests/fixtures/models');
    const pool = new FakePool();
    pool.problems = ['the card names input "image" but the graph\'s inputs are ["pixels"]'];
    await assert.rejects(
      OnnxModelRuntime.create({ registry, pool, settings }),
      (error: unknown) => error instanceof ModelCardError && /heavy-test\/model\.onnx: the card names input "image"/.test(error.message),
    );
  });

  it('assembles covariates, batches concurrent predictions and transfers packed buffers', async () => {
    const { pool, runtime } = await setup();
    const inputs = [image(0.5), image(1), image(-1)];
    const predictions = await Promise.all(inputs.map((im) => runtime.predict('tiny-cnn-cov', im, factors)));
    const infer = pool.calls.filter((c) => c.task === 'infer');
    assert.equal(infer.length, 1, 'one run for three concurrent predictions');
    assert.equal(infer[0]!.batch, 3);
    assert.equal(infer[0]!.transfer.length, 2, 'image and covariate buffers are transferred');
    assert.equal(infer[0]!.transfer[0], infer[0]!.image!.buffer);
    assert.ok(inputs.every((im) => im.length === 32 * 24), 'the caller’s images are not detached');
    const covariateSum = Array.from(predictions[0]!.covariateVector).reduce((a, b) => a + b, 0);
    predictions.forEach((p, i) => assert.ok(Math.abs(p.logRisk - (inputs[i]![0]! * 32 * 24 + covariateSum)) < 1e-3));
    assert.deepEqual(predictions[0]!.featureValues.map((f) => f.name), ['age', 'female', 'bmi', 'priorFragilityFracture', 'glucocorticoids', 'femoralNeckTScore', 'femoralNeckTScoreMissing']);
    assert.deepEqual(runtime.stats(), { runs: 1, predictions: 3, batchSizes: { 3: 1 }, queued: 0 });
  });

  it('image-only models take the image alone', async () => {
    const { pool, runtime } = await setup();
    const prediction = await runtime.predict('tiny-image-only', image(1), null);
    assert.equal(prediction.covariateVector.length, 0);
    assert.deepEqual(prediction.featureValues, []);
    assert.equal(pool.calls.at(-1)!.transfer.length, 1);
  });

  it('refuses bad input with typed errors', async () => {
    const { runtime } = await setup();
    const code = (c: string) => (error: unknown) => error instanceof ModelInputError && error.code === c;
    await assert.rejects(runtime.predict('nope', image(0), factors), code('unknown-model'));
    await assert.rejects(runtime.predict('tiny-cnn-cov', image(0, 100), factors), code('bad-image-shape'));
    await assert.rejects(runtime.predict('tiny-cnn-cov', image(0), { ...factors, age: null }), (e: unknown) => code('missing-factor')(e) && (e as ModelInputError).factors.join() === 'age');
    await assert.rejects(runtime.predictBatch('tiny-cnn-cov', [image(0)], []), code('bad-batch'));
    await assert.rejects(runtime.predictBatch('tiny-cnn-cov', [image(0), image(0)], [factors, NO_FACTORS]), (e: unknown) => code('missing-factor')(e) && /^covariates\[1\]: /.test((e as Error).message));
    await assert.rejects(runtime.runVectors('tiny-cnn-cov', [image(0)], [new Float32Array(2)]), code('bad-batch'));
    await assert.rejects(runtime.runVectors('tiny-image-only', [image(0)], [new Float32Array(2)]), code('bad-batch'));
  });

  it('splits predictBatch into runs of at most maxBatch', async () => {
    const { pool, runtime } = await setup({ maxBatch: 4 });
    const predictions = await runtime.predictBatch('tiny-image-only', Array.from({ length: 10 }, (_, i) => image(i)), Array(10).fill(null));
    assert.deepEqual(predictions.map((p) => Math.round(p.logRisk / (32 * 24))), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(pool.calls.filter((c) => c.task === 'infer').map((c) => c.batch), [4, 4, 2]);
  });

  it('maps pool failures to typed run errors', async () => {
    const { pool, runtime } = await setup();
    for (const [kind, code] of [['timeout', 'timeout'], ['busy', 'busy'], ['failed', 'worker-failed'], ['closed', 'closed']] as const) {
      pool.failWith = new WorkerPoolError(kind, kind);
      await assert.rejects(runtime.predict('tiny-image-only', image(0), null), (e: unknown) => e instanceof ModelRunError && e.code === code);
    }
  });

  it('answers busy beyond maxQueue and refuses everything after close', async () => {
    const { runtime } = await setup({ maxQueue: 2, maxBatch: 8, batchWindowMs: 50 });
    const outcomes = await Promise.allSettled([1, 2, 3].map((v) => runtime.predict('tiny-image-only', image(v), null)));
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.ok(outcomes[2]!.status === 'rejected' && outcomes[2]!.reason instanceof ModelRunError && outcomes[2]!.reason.code === 'busy');
    await runtime.close();
    await assert.rejects(runtime.predict('tiny-image-only', image(0), null), (e: unknown) => e instanceof ModelRunError && e.code === 'closed');
  });
});
