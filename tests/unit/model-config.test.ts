// The model section of the configuration: defaults, environment overrides, validation, and the
// intra-op thread default resolved against the machine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { inferenceSettings } from '../../src/model/inference-pool.js';

describe('model configuration', () => {
  it('has documented defaults', () => {
    assert.deepEqual(loadConfig({}).model, { dir: 'models', inferenceThreads: 1, maxBatch: 8, batchWindowMs: 5, maxQueue: 64, timeoutMs: 30000 });
  });

  it('takes the directory and thread counts from the environment', () => {
    const { model } = loadConfig({ CDS_MODEL_DIR: '/srv/models', CDS_INFERENCE_THREADS: '2', CDS_INTRA_OP_THREADS: '3' });
    assert.equal(model.dir, '/srv/models');
    assert.equal(model.inferenceThreads, 2);
    assert.equal(model.intraOpThreads, 3);
  });

  it('refuses invalid values, naming the key and its source', () => {
    assert.throws(() => loadConfig({ CDS_INFERENCE_THREADS: '0' }), (e: unknown) => e instanceof ConfigError && /model\.inferenceThreads must be >= 1 \(from CDS_INFERENCE_THREADS\)/.test(e.message));
  });

  it('shares the cores among inference threads unless intraOpThreads is set', () => {
    const config = loadConfig({});
    assert.equal(inferenceSettings(config.model, 8).intraOpThreads, 8);
    assert.equal(inferenceSettings({ ...config.model, inferenceThreads: 3 }, 8).intraOpThreads, 2);
    assert.equal(inferenceSettings({ ...config.model, inferenceThreads: 4 }, 2).intraOpThreads, 1);
    assert.equal(inferenceSettings({ ...config.model, intraOpThreads: 5 }, 2).intraOpThreads, 5);
    assert.deepEqual(inferenceSettings(config.model, 2), { intraOpThreads: 2, maxBatch: 8, batchWindowMs: 5, maxQueue: 64, timeoutMs: 30000 });
  });
});
