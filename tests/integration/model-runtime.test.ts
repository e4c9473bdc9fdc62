// The model runtime with real onnxruntime in worker threads: parity with the training framework's
// golden pairs for every model found, micro-batching of concurrent calls, busy and timeout refusals,
// an occlusion map, and `model-check` (in-process and as the CLI).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { decode } from 'fast-png';
import { ModelRunError } from '../../src/model/errors.js';
import { occlusionMap } from '../../src/model/explain.js';
import { loadGolden } from '../../src/model/golden.js';
import { createInferencePool } from '../../src/model/inference-pool.js';
import { checkModel } from '../../src/model/model-check.js';
import { CARD_FILE, loadModelRegistry } from '../../src/model/model-registry.js';
import type { InferenceSettings } from '../../src/model/model-runtime.js';
import { OnnxModelRuntime } from '../../src/model/onnx-model-runtime.js';
import { overlayPng } from '../../src/model/overlay-png.js';
import { createWorkerPool, type WorkerPool } from '../../src/workers/pool.js';
import { tempDir } from '../helpers/cds-app.js';

const run = promisify(execFile);
const FIXTURES = 'tests/fixtures/models';
const settings: InferenceSettings = { intraOpThreads: 1, maxBatch: 4, batchWindowMs: 20, maxQueue: 16, timeoutMs: 60_000 };

const SHIPPED = 'models';

interface GoldenParity {
  /** `dir/id` of every model whose golden pairs onnxruntime and the card's transforms reproduced. */
  checked: string[];
  /** Ids of the models whose card names no golden pairs. */
  withoutGolden: string[];
}

/** Runs the golden pairs of every model under `dir` through a runtime on `pool` (asserting parity); lists the models that have none. */
async function goldenParity(dir: string, pool: WorkerPool): Promise<GoldenParity> {
  const registry = await loadModelRegistry(dir);
  const runtime = await OnnxModelRuntime.create({ registry, pool, settings });
  const report: GoldenParity = { checked: [], withoutGolden: [] };
  try {
    for (const model of registry.models.values()) {
      const id = model.card.id;
      const golden = await loadGolden(model);
      if (!golden) {
        report.withoutGolden.push(id);
        continue;
      }
      const batch = await runtime.predictBatch(id, golden.images, golden.cases.map((c) => c.factors));
      const single = await Promise.all(golden.images.map((image, i) => runtime.predict(id, image, golden.cases[i]!.factors)));
      golden.cases.forEach((expected, i) => {
        assert.ok(Math.abs(batch[i]!.logRisk - expected.logRisk) <= 1e-4, `${id} case ${i}: ${batch[i]!.logRisk} vs ${expected.logRisk}`);
        assert.ok(Math.abs(single[i]!.logRisk - expected.logRisk) <= 1e-4, `${id} case ${i} (predict)`);
        assert.equal(batch[i]!.covariateVector.length, expected.covariateVector.length);
        batch[i]!.covariateVector.forEach((v, j) => assert.ok(Math.abs(v - expected.covariateVector[j]!) <= 1e-5, `${id} case ${i} feature ${j}`));
      });
      report.checked.push(`${dir}/${id}`);
    }
  } finally {
    await runtime.close();
  }
  return report;
}

/** The rule for shipped models: at least one, and every one with golden pairs that hold. */
async function assertShippedModelsHaveGolden(dir: string, pool: WorkerPool): Promise<void> {
  const { checked, withoutGolden } = await goldenParity(dir, pool);
  assert.deepEqual(withoutGolden, [], `shipped models without golden pairs in ${dir}: ${withoutGolden.join(', ')}`);
  assert.ok(checked.length > 0, `no model under ${dir}`);
}

describe('model runtime with onnxruntime in worker threads', () => {
  let pool: WorkerPool;
  let runtime: OnnxModelRuntime;

  before(async () => {
    pool = createInferencePool({ inferenceThreads: 1 });
    runtime = await OnnxModelRuntime.create({ registry: await loadModelRegistry(FIXTURES), pool, settings });
  });
  after(async () => {
    await runtime.close();
    await pool.close();
  });

  it('matches the golden pairs within 1e-4 for every model that has them; only the heavy fixture lacks them', async () => {
    const fixtures = await goldenParity(FIXTURES, pool);
    assert.deepEqual(fixtures.checked.sort(), [`${FIXTURES}/tiny-cnn-cov`, `${FIXTURES}/tiny-image-only`]);
    // Documented exception (src/model/README.md, Test models): its pairs would weigh megabytes.
    assert.deepEqual(fixtures.withoutGolden, ['heavy-test']);
  });

  it('every shipped model has golden pairs, and onnxruntime reproduces them', async () => {
    await assertShippedModelsHaveGolden(SHIPPED, pool);
  });

  it('the shipped-model rule fails a models directory where one model lacks golden pairs', async () => {
    // A copy of the shipped models, one card stripped of its golden pairs; the real folder is never touched.
    const dir = tempDir('shipped-models-');
    const { models } = await loadModelRegistry(SHIPPED);
    for (const model of models.values()) cpSync(model.folder, join(dir, model.card.id), { recursive: true });
    const stripped = [...models.keys()][0]!;
    const cardFile = join(dir, stripped, CARD_FILE);
    const card = JSON.parse(readFileSync(cardFile, 'utf8')) as { golden?: unknown };
    delete card.golden;
    writeFileSync(cardFile, JSON.stringify(card));
    await assert.rejects(assertShippedModelsHaveGolden(dir, pool), (error: unknown) => error instanceof assert.AssertionError && error.message.includes(`shipped models without golden pairs in ${dir}: ${stripped}`));
  });

  it('runs concurrent predictions for one model as shared ONNX runs', async () => {
    const golden = (await loadGolden(runtime.model('tiny-cnn-cov')))!;
    const images = [...golden.images, ...golden.images];
    const factors = [...golden.cases, ...golden.cases].map((c) => c.factors);
    const before = runtime.stats();
    const predictions = await Promise.all(images.map((image, i) => runtime.predict('tiny-cnn-cov', image, factors[i]!)));
    const after = runtime.stats();
    assert.equal(after.runs - before.runs, 2, 'eight concurrent predictions took two runs');
    assert.equal((after.batchSizes[4] ?? 0) - (before.batchSizes[4] ?? 0), 2);
    predictions.forEach((p, i) => assert.ok(Math.abs(p.logRisk - golden.cases[i % 4]!.logRisk) <= 1e-4));
  });

  it('refuses predictions beyond the queue limit as busy while a run is in progress', async () => {
    const busyPool = createWorkerPool({ threads: 1, maxQueue: 1 });
    const registry = await loadModelRegistry(FIXTURES);
    const small = await OnnxModelRuntime.create({ registry, pool: busyPool, settings: { ...settings, maxBatch: 1, maxQueue: 2 } });
    try {
      const image = new Float32Array(512 * 384);
      const factors = { ...(await loadGolden(registry.models.get('tiny-cnn-cov')!))!.cases[0]!.factors };
      const first = small.predict('heavy-test', image, factors);
      await tick(); // the first has left the queue for the only worker
      const outcomes = await Promise.allSettled([first, ...[1, 2, 3, 4].map(() => small.predict('heavy-test', image, factors))]);
      const busy = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof ModelRunError && o.reason.code === 'busy');
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
      assert.equal(busy.length, 2);
    } finally {
      await small.close();
      await busyPool.close();
    }
  });

  it('answers a run past its time cap with a timeout at once, lets it finish, and carries on', async () => {
    const registry = await loadModelRegistry(FIXTURES);
    const hasty = await OnnxModelRuntime.create({ registry, pool, settings: { ...settings, timeoutMs: 100 } });
    const images = Array.from({ length: 4 }, () => new Float32Array(512 * 384).fill(0.3));
    const factors = { ...(await loadGolden(registry.models.get('tiny-cnn-cov')!))!.cases[0]!.factors };
    const started = performance.now();
    await assert.rejects(hasty.predictBatch('heavy-test', images, images.map(() => factors)), (e: unknown) => e instanceof ModelRunError && e.code === 'timeout');
    const answeredMs = performance.now() - started;
    // The thread was not terminated (that would abort the process inside onnxruntime): close waits for the run.
    await hasty.close();
    const finishedMs = performance.now() - started;
    assert.ok(answeredMs < finishedMs, `answered after ${answeredMs.toFixed(0)} ms, run ended after ${finishedMs.toFixed(0)} ms`);
    const golden = (await loadGolden(runtime.model('tiny-image-only')))!;
    const again = await runtime.predict('tiny-image-only', golden.images[0]!, null);
    assert.ok(Math.abs(again.logRisk - golden.cases[0]!.logRisk) <= 1e-4);
  });

  it('computes a non-trivial occlusion map of the right shape and draws it', async () => {
    const golden = (await loadGolden(runtime.model('tiny-cnn-cov')))!;
    const image = golden.images[2]!;
    const map = await occlusionMap(runtime, 'tiny-cnn-cov', image, golden.cases[2]!.factors);
    assert.equal(map.rows, 16);
    assert.equal(map.cols, 12);
    assert.equal(map.values.length, 16 * 12);
    assert.ok(Math.abs(map.logRisk - golden.cases[2]!.logRisk) <= 1e-4);
    assert.ok(map.values.every(Number.isFinite));
    const magnitudes = Array.from(map.values, Math.abs);
    assert.ok(Math.max(...magnitudes) > 1e-4, 'some region moves the log-risk');
    assert.ok(new Set(map.values).size > 10, 'the map varies across the image');
    const png = decode(overlayPng({ image, normalisation: runtime.model('tiny-cnn-cov').card.inputs.image.preprocessing.normalisation, map }));
    assert.deepEqual([png.width, png.height, png.channels], [24, 32, 4]);
  });
});

describe('model-check', () => {
  const settingsFor = { createPool: () => createInferencePool({ inferenceThreads: 1 }), settings };

  it('passes every fixture model', async () => {
    for (const id of ['tiny-cnn-cov', 'tiny-image-only', 'heavy-test']) {
      const report = await checkModel(join(FIXTURES, id), settingsFor);
      assert.ok(report.ok, JSON.stringify(report.steps));
      assert.deepEqual(report.steps.map((s) => s.name), ['model card and artifact', 'ONNX graph against the card', 'inference on a neutral input', 'golden pairs', 'survival curves']);
    }
  });

  it('fails a model whose output differs from its golden pairs, and one whose graph differs from its card', async () => {
    const dir = tempDir('model-check-');
    const folder = join(dir, 'site-model');
    cpSync(join(FIXTURES, 'tiny-cnn-cov'), folder, { recursive: true });
    const golden = JSON.parse(readFileSync(join(folder, 'golden.json'), 'utf8')) as { cases: { logRisk: number }[] };
    golden.cases[1]!.logRisk += 0.01;
    writeFileSync(join(folder, 'golden.json'), JSON.stringify(golden));
    const report = await checkModel(folder, settingsFor);
    assert.equal(report.ok, false);
    const failed = report.steps.find((s) => !s.ok)!;
    assert.equal(failed.name, 'golden pairs');
    assert.match(failed.details.join('\n'), /case\(s\) 1: onnxruntime's log-risk differs/);
    assert.ok(report.warnings.some((w) => /must be named "tiny-cnn-cov"/.test(w)));

    const card = JSON.parse(readFileSync(join(folder, CARD_FILE), 'utf8')) as { output: { name: string } };
    card.output.name = 'risk';
    writeFileSync(join(folder, CARD_FILE), JSON.stringify(card));
    const renamed = await checkModel(folder, settingsFor);
    const graph = renamed.steps.find((s) => !s.ok)!;
    assert.equal(graph.name, 'ONNX graph against the card');
    assert.match(graph.details.join('\n'), /the card names output "risk" but the graph's outputs are \["log_risk"\]/);
  });

  it('runs as a CLI command that exits non-zero on failure', async () => {
    const cli = (dir: string) => run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'model-check', dir], { env: { ...process.env, CDS_CONFIG: '' } });
    const { stdout } = await cli(join(FIXTURES, 'tiny-image-only'));
    assert.match(stdout, /ok {3}golden pairs[\s\S]*PASSED/);
    const dir = tempDir('model-check-');
    cpSync(join(FIXTURES, 'tiny-image-only'), join(dir, 'tiny-image-only'), { recursive: true });
    writeFileSync(join(dir, 'tiny-image-only', 'model.onnx'), Buffer.concat([readFileSync(join(dir, 'tiny-image-only', 'model.onnx')), Buffer.from([0])]));
    await assert.rejects(cli(join(dir, 'tiny-image-only')), (error: { code?: number; stdout?: string }) => error.code === 1 && /FAIL model card and artifact[\s\S]*sha256 is/.test(error.stdout ?? ''));
  });
});
