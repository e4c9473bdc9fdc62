// ModelRuntime over onnxruntime-node in worker threads. session.run blocks its thread for the whole
// inference, so this thread only validates input, assembles covariates, packs batches into fresh
// buffers and transfers them to a worker; logRisk comes back transferred too.
//
// Time caps here are soft (batch-scheduler.ts): a worker thread is never terminated while it may be
// inside onnxruntime, because that aborts the whole process. The pool's own hard cap is therefore
// set out of reach, and close() waits for runs in progress before the owner closes the pool.
import { WorkerPoolError, type RunOptions, type WorkerPool } from '../workers/pool.js';
import type { TaskInput, TaskOutput } from '../workers/tasks.js';
import { BatchScheduler, withTimeout } from './batch-scheduler.js';
import { assembleCovariates, NO_FACTORS, type CovariateVector } from './covariates.js';
import { ModelCardError, ModelInputError, ModelRunError, type ModelRunErrorCode } from './errors.js';
import type { LoadedModel, ModelRegistry } from './model-registry.js';
import type { InferenceSettings, ModelRuntime, Prediction, RuntimeStats } from './model-runtime.js';
import type { RiskFactors } from './risk-factors.js';
import { signatureOf, type ModelSignature, type SessionMetadata } from './signature.js';

const POOL_ERRORS: Record<WorkerPoolError['kind'], ModelRunErrorCode> = {
  timeout: 'timeout',
  busy: 'busy',
  failed: 'worker-failed',
  closed: 'closed',
};

interface Entry {
  model: LoadedModel;
  signature: ModelSignature;
  maxBatch: number;
}

interface Item {
  image: Float32Array;
  covariates: Float32Array;
}

/**
 * Time cap for loading and inspecting a model: the first task in a fresh worker also starts the
 * thread and creates the session, which for a large graph takes far longer than one run.
 */
export const LOAD_TIMEOUT_MS = 120_000;

/** The pool's terminate-the-thread cap, out of reach (the largest timer delay, ~24.8 days); see above. */
const NO_HARD_CAP_MS = 2_147_483_647;

export interface ModelInspection {
  metadata: SessionMetadata;
  /** 1 when the graph's batch dimension is fixed, null when dynamic. */
  fixedBatch: number | null;
}

async function runOnPool<K extends 'infer' | 'inspect-model'>(pool: WorkerPool, task: K, input: TaskInput<K>, transfer: RunOptions['transfer'] = []): Promise<TaskOutput<K>> {
  try {
    return await pool.run(task, input, { timeoutMs: NO_HARD_CAP_MS, transfer });
  } catch (error) {
    if (error instanceof WorkerPoolError) throw new ModelRunError(POOL_ERRORS[error.kind], error.message);
    throw error;
  }
}

/**
 * Loads a model's graph in a worker and compares it with the card (names, float32, shapes). Throws
 * ModelCardError naming the ONNX file when they differ or onnxruntime cannot load it.
 */
export async function inspectModel(pool: WorkerPool, model: LoadedModel, settings: Pick<InferenceSettings, 'intraOpThreads'>): Promise<ModelInspection> {
  const result = await withTimeout(
    runOnPool(pool, 'inspect-model', { model: signatureOf(model), intraOpThreads: settings.intraOpThreads }),
    LOAD_TIMEOUT_MS,
    () => new ModelRunError('timeout', `loading ${model.onnxFile} took more than ${LOAD_TIMEOUT_MS} ms`),
  );
  if (!result.ok) throw new ModelCardError(model.onnxFile, result.message);
  if (result.check.problems.length > 0) throw new ModelCardError(model.onnxFile, result.check.problems.join('; '));
  return { metadata: result.metadata, fixedBatch: result.check.fixedBatch };
}

export interface OnnxModelRuntimeDeps {
  registry: Pick<ModelRegistry, 'models'>;
  /** Runs the `infer` and `inspect-model` tasks; one execution slot per thread. A pool of its own is best. */
  pool: WorkerPool;
  settings: InferenceSettings;
}

export class OnnxModelRuntime implements ModelRuntime {
  readonly models: ReadonlyMap<string, LoadedModel>;
  private readonly scheduler: BatchScheduler<Item, number>;
  private readonly counters = { runs: 0, predictions: 0, batchSizes: {} as Record<number, number> };

  private constructor(
    private readonly entries: ReadonlyMap<string, Entry>,
    private readonly pool: WorkerPool,
    private readonly settings: InferenceSettings,
  ) {
    this.models = new Map([...entries].map(([id, entry]) => [id, entry.model]));
    this.scheduler = new BatchScheduler<Item, number>({
      maxBatch: (id) => this.entries.get(id)?.maxBatch ?? 1,
      windowMs: settings.batchWindowMs,
      maxQueued: settings.maxQueue,
      slots: pool.threads,
      execute: (id, items) => this.execute(id, items),
      timeoutMs: settings.timeoutMs,
      busyError: () => new ModelRunError('busy', `more than ${settings.maxQueue} predictions are waiting`),
      closedError: () => new ModelRunError('closed', 'the model runtime is closed'),
      timeoutError: () => new ModelRunError('timeout', `inference exceeded ${settings.timeoutMs} ms`),
    });
  }

  /**
   * Checks every model's graph against its card in a worker, then serves. Throws ModelCardError (a
   * model that must not be served) or ModelRunError (the pool could not load it).
   */
  static async create(deps: OnnxModelRuntimeDeps): Promise<OnnxModelRuntime> {
    const entries = new Map<string, Entry>();
    for (const [id, model] of deps.registry.models) {
      const { fixedBatch } = await inspectModel(deps.pool, model, deps.settings);
      entries.set(id, { model, signature: signatureOf(model), maxBatch: Math.min(fixedBatch ?? deps.settings.maxBatch, deps.settings.maxBatch) });
    }
    return new OnnxModelRuntime(entries, deps.pool, deps.settings);
  }

  model(modelId: string): LoadedModel {
    return this.entry(modelId).model;
  }

  async predict(modelId: string, image: Float32Array, covariates: RiskFactors | null): Promise<Prediction> {
    const entry = this.entry(modelId);
    this.checkImage(entry, image, 'image');
    const assembled = this.assemble(entry, covariates);
    const logRisk = await this.scheduler.submit(modelId, { image, covariates: assembled.vector });
    return { logRisk, covariateVector: assembled.vector, featureValues: assembled.features };
  }

  async predictBatch(modelId: string, images: readonly Float32Array[], covariates: readonly (RiskFactors | null)[]): Promise<Prediction[]> {
    const entry = this.entry(modelId);
    if (images.length !== covariates.length) throw new ModelInputError('bad-batch', `${images.length} images but ${covariates.length} covariate records`);
    images.forEach((image, i) => this.checkImage(entry, image, `images[${i}]`));
    const assembled = covariates.map((factors, i) => {
      try {
        return this.assemble(entry, factors);
      } catch (error) {
        if (error instanceof ModelInputError) throw new ModelInputError(error.code, `covariates[${i}]: ${error.message}`, error.factors);
        throw error;
      }
    });
    const logRisks = await this.runChunks(entry, images.map((image, i) => ({ image, covariates: (assembled[i] as CovariateVector).vector })));
    return logRisks.map((logRisk, i) => ({ logRisk, covariateVector: (assembled[i] as CovariateVector).vector, featureValues: (assembled[i] as CovariateVector).features }));
  }

  async runVectors(modelId: string, images: readonly Float32Array[], covariateVectors: readonly Float32Array[] | null): Promise<number[]> {
    const entry = this.entry(modelId);
    const length = entry.signature.covariates?.length ?? 0;
    if ((covariateVectors === null) !== (length === 0) || (covariateVectors !== null && covariateVectors.length !== images.length)) {
      throw new ModelInputError('bad-batch', length === 0 ? 'this model takes no covariates' : `one covariate vector per image is needed`);
    }
    images.forEach((image, i) => this.checkImage(entry, image, `images[${i}]`));
    covariateVectors?.forEach((vector, i) => {
      if (vector.length !== length) throw new ModelInputError('bad-batch', `covariateVectors[${i}] has ${vector.length} values; the model takes ${length}`);
    });
    return this.runChunks(entry, images.map((image, i) => ({ image, covariates: covariateVectors?.[i] ?? new Float32Array(0) })));
  }

  stats(): RuntimeStats {
    return { ...this.counters, batchSizes: { ...this.counters.batchSizes }, queued: this.scheduler.queued };
  }

  close(): Promise<void> {
    return this.scheduler.close();
  }

  private entry(modelId: string): Entry {
    const entry = this.entries.get(modelId);
    if (!entry) throw new ModelInputError('unknown-model', `no model "${modelId}" is loaded`);
    return entry;
  }

  private checkImage(entry: Entry, image: Float32Array, what: string): void {
    const { height, width } = entry.signature.image;
    if (!(image instanceof Float32Array) || image.length !== height * width) {
      throw new ModelInputError('bad-image-shape', `${what} has ${image.length} values; model ${entry.model.card.id} takes ${height} × ${width} = ${height * width}`);
    }
  }

  private assemble(entry: Entry, factors: RiskFactors | null): CovariateVector {
    const features = entry.model.card.inputs.covariates?.features;
    return features ? assembleCovariates(features, factors ?? NO_FACTORS) : { vector: new Float32Array(0), features: [] };
  }

  private async runChunks(entry: Entry, items: Item[]): Promise<number[]> {
    const chunks: Item[][] = [];
    for (let i = 0; i < items.length; i += entry.maxBatch) chunks.push(items.slice(i, i + entry.maxBatch));
    const results = await Promise.all(chunks.map((chunk) => this.scheduler.runBatch(entry.model.card.id, chunk)));
    return results.flat();
  }

  /** One ONNX run in a worker. The packed buffers are fresh, so they are transferred, never copied. */
  private async execute(modelId: string, items: Item[]): Promise<number[]> {
    const { signature } = this.entry(modelId);
    const pixels = signature.image.height * signature.image.width;
    const image = new Float32Array(items.length * pixels);
    items.forEach((item, i) => image.set(item.image, i * pixels));
    const length = signature.covariates?.length ?? 0;
    const covariates = length > 0 ? new Float32Array(items.length * length) : null;
    if (covariates) items.forEach((item, i) => covariates.set(item.covariates, i * length));
    const transfer = [image.buffer, ...(covariates ? [covariates.buffer] : [])];
    const result = await runOnPool(this.pool, 'infer', { model: signature, intraOpThreads: this.settings.intraOpThreads, batch: items.length, image, covariates }, transfer);
    if (!result.ok) throw new ModelRunError(result.code, result.message);
    this.counters.runs++;
    this.counters.predictions += items.length;
    this.counters.batchSizes[items.length] = (this.counters.batchSizes[items.length] ?? 0) + 1;
    return Array.from(result.logRisk);
  }
}
