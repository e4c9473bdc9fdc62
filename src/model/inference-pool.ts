// The model section of the configuration turned into what the runtime is built from: a worker pool of
// its own (so inference never waits behind DICOM decodes, and decodes never behind inference) and the
// inference settings with the thread default resolved.
import { availableParallelism } from 'node:os';
import type { ModelConfig } from '../config.js';
import { createWorkerPool, type WorkerPool } from '../workers/pool.js';
import type { InferenceSettings } from './model-runtime.js';

/** Default intra-op threads: the cores shared among the inference threads, so they do not oversubscribe. */
export function inferenceSettings(config: ModelConfig, cores: number = availableParallelism()): InferenceSettings {
  return {
    intraOpThreads: config.intraOpThreads ?? Math.max(1, Math.floor(cores / config.inferenceThreads)),
    maxBatch: config.maxBatch,
    batchWindowMs: config.batchWindowMs,
    maxQueue: config.maxQueue,
    timeoutMs: config.timeoutMs,
  };
}

export function createInferencePool(config: Pick<ModelConfig, 'inferenceThreads'>): WorkerPool {
  // The runtime never starts more runs than there are threads, so the pool's own queue stays short.
  return createWorkerPool({ threads: config.inferenceThreads, maxQueue: config.inferenceThreads });
}
