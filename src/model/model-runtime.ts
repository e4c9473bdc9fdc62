// The model runtime's contract: what the assessment pipeline, batch scoring and explanations call.
// The implementation (onnx-model-runtime.ts) runs every inference in worker threads.
import type { FeatureValue } from './covariates.js';
import type { LoadedModel } from './model-registry.js';
import type { RiskFactors } from './risk-factors.js';

export interface Prediction {
  /** g(x): the log hazard ratio, uncentred (S(t|x) = exp(−H0(t)·exp(g))). */
  logRisk: number;
  /** What the model received; empty for image-only models. */
  covariateVector: Float32Array;
  featureValues: FeatureValue[];
}

export interface InferenceSettings {
  /** onnxruntime intra-op threads per session (per worker thread). */
  intraOpThreads: number;
  maxBatch: number;
  batchWindowMs: number;
  /** Predictions that may wait for a batch; more are refused as `busy`. */
  maxQueue: number;
  /**
   * Time cap of one ONNX run (one batch), counted from when it gets a worker. Soft: its predictions
   * fail with `timeout` at once, the run itself finishes (onnxruntime cannot be interrupted safely).
   */
  timeoutMs: number;
}

export interface RuntimeStats {
  /** ONNX runs completed. */
  runs: number;
  /** Predictions those runs produced. */
  predictions: number;
  /** How many runs had each batch size. */
  batchSizes: Record<number, number>;
  /** Predictions waiting for a batch now. */
  queued: number;
}

export interface ModelRuntime {
  readonly models: ReadonlyMap<string, LoadedModel>;
  /** The loaded model, or ModelInputError `unknown-model`. */
  model(modelId: string): LoadedModel;
  /**
   * Scores one preprocessed image (height × width, as the card's preprocessing makes it) with the
   * patient's risk factors (ignored by image-only models; null = nothing recorded). Concurrent calls
   * for the same model share ONNX runs. Rejects with ModelInputError or ModelRunError.
   */
  predict(modelId: string, image: Float32Array, covariates: RiskFactors | null): Promise<Prediction>;
  /** Many images at once (batch scoring, evaluation, explanations): split into runs of at most maxBatch. */
  predictBatch(modelId: string, images: readonly Float32Array[], covariates: readonly (RiskFactors | null)[]): Promise<Prediction[]>;
  /** Raw runs on ready-made covariate vectors (model checks on neutral input); null for image-only models. */
  runVectors(modelId: string, images: readonly Float32Array[], covariateVectors: readonly Float32Array[] | null): Promise<number[]>;
  stats(): RuntimeStats;
  /**
   * Refuses waiting predictions and resolves when runs in progress have ended. Await it before
   * closing the worker pool: terminating a thread inside onnxruntime aborts the process.
   */
  close(): Promise<void>;
}
