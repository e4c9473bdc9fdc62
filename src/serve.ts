// The composition root: builds everything the service runs on once, from the configuration — models
// and their inference pool, the decode pool, the DICOMweb clients, the radiograph source, the store,
// the assessment pipeline, the services, the app — and closes them in the right order. The pipeline
// part (createPipeline) also serves batch scoring (`spine-cds score`), which has no HTTP app.
import type { Logger } from 'pino';
import { createServices } from '../cds-services/index.js';
import { createApp, type CdsApp } from './app.js';
import type { Assessor } from './assessment/assessor.js';
import { PipelineAssessor } from './assessment/pipeline-assessor.js';
import { RadiographPictures } from './assessment/radiograph-pictures.js';
import { RadiographCache } from './assessment/radiographs.js';
import { ServiceRegistry } from './cds/service.js';
import { ConfigError, type Config } from './config.js';
import { DicomwebClientFactory } from './imaging/dicomweb-client.js';
import { RadiographSource } from './imaging/radiograph-source.js';
import { createInferencePool, inferenceSettings } from './model/inference-pool.js';
import { loadModelRegistry, type ModelRegistry } from './model/model-registry.js';
import { OnnxModelRuntime } from './model/onnx-model-runtime.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';
import { createWorkerPool } from './workers/pool.js';

/** The assessment pipeline and what it owns. */
export interface Pipeline {
  assessor: Assessor;
  store: Store;
  models: ModelRegistry;
  /** The radiograph pictures of the SMART app (thumbnail, explanation map). */
  pictures: RadiographPictures;
  /**
   * Stops in dependency order: assessments in flight (including ones that outlived a hook's deadline)
   * end first, then inference (terminating a thread inside onnxruntime aborts the process), then
   * the pools, then the store.
   */
  close(): Promise<void>;
}

export interface Serving extends Pipeline {
  app: CdsApp;
  registry: ServiceRegistry;
}

export interface ServingOptions {
  logger: Logger;
  clock?: () => Date;
  env?: Readonly<Record<string, string | undefined>>;
}

/** The model the services use: the configured one, or the only one loaded. */
function chooseModel(config: Config, models: ModelRegistry): string {
  const ids = [...models.models.keys()];
  if (config.assessment.modelId !== undefined) {
    if (!models.models.has(config.assessment.modelId)) {
      throw new ConfigError(`Invalid configuration: assessment.modelId "${config.assessment.modelId}" is not among the models in ${models.dir} (${ids.join(', ') || 'none'})`);
    }
    return config.assessment.modelId;
  }
  if (ids.length === 1) return ids[0] as string;
  throw new ConfigError(
    ids.length === 0
      ? `Invalid configuration: no model in ${models.dir} (model.dir); the services need one`
      : `Invalid configuration: several models in ${models.dir} (${ids.join(', ')}); choose one with assessment.modelId`,
  );
}

/**
 * The assessment pipeline without the HTTP app — models and their inference pool, the decode pool,
 * DICOMweb, the radiograph source, the store, the radiograph cache and the assessor — for `serve`
 * (through createServing) and batch scoring, which share its store so either warms the other's cache.
 */
export async function createPipeline(config: Config, options: ServingOptions): Promise<Pipeline> {
  const { logger } = options;
  const clock = options.clock ?? (() => new Date());
  // Every model card is checked (schema, rules, sha256, graph) before serving: a bad model stops start-up.
  const models = await loadModelRegistry(config.model.dir);
  const modelId = chooseModel(config, models);
  const inferencePool = createInferencePool(config.model);
  const runtime = await OnnxModelRuntime.create({ registry: models, pool: inferencePool, settings: inferenceSettings(config.model) }).catch(async (error: unknown) => {
    await inferencePool.close();
    throw error;
  });
  for (const { card } of models.models.values()) {
    logger.info({ model: card.id, version: card.version, status: card.intendedUse.status }, `model loaded: ${card.intendedUse.statement}`);
  }
  const decodePool = createWorkerPool({ threads: config.workers.threads, maxQueue: config.workers.maxQueue });
  let store: Store;
  try {
    store = new SqliteStore({
      path: config.store.sqlitePath,
      busyTimeoutMs: config.store.busyTimeoutMs,
      minFreeBytes: config.store.minFreeBytes,
      onBackgroundError: (error) => logger.warn({ err: { name: error.name, message: error.message } }, 'issued-card index not written'),
    });
  } catch (error) {
    // Else the worker threads keep a CLI process alive after it has reported the error.
    await runtime.close();
    await Promise.all([inferencePool.close(), decodePool.close()]);
    throw error;
  }
  const dicomweb = new DicomwebClientFactory({ endpoints: config.imaging.dicomweb.endpoints, timeoutMs: config.imaging.dicomweb.timeoutMs, env: options.env ?? process.env });
  const source = new RadiographSource({ imaging: config.imaging, dicomweb, pool: decodePool, now: clock });
  const { cache } = config.assessment;
  const radiographs = new RadiographCache({ source, store, tensors: cache.tensors, choices: cache.assessments, failureMinutes: cache.imageFailureMinutes, clock, logger });
  const assessor = new PipelineAssessor({
    runtime,
    modelId,
    radiographs,
    store,
    config: config.assessment,
    lookbackDays: config.imaging.lookbackDays,
    patientIdentity: config.imaging.patientIdentity,
    allowsEndpoint: (address) => dicomweb.allows(address),
    clock,
    logger,
  });
  const pictures = new RadiographPictures({ runtime, model: assessor.model, pool: decodePool, timeoutMs: config.imaging.limits.decodeTimeoutMs, cacheSize: config.smartApp.explanationCache });
  let closing: Promise<void> | undefined;
  return {
    assessor,
    store,
    models,
    pictures,
    close: () =>
      (closing ??= (async () => {
        await assessor.drain();
        await pictures.settled();
        await runtime.close();
        await Promise.all([inferencePool.close(), decodePool.close()]);
        store.close();
      })()),
  };
}

export async function createServing(config: Config, options: ServingOptions): Promise<Serving> {
  const { logger } = options;
  const clock = options.clock ?? (() => new Date());
  const pipeline = await createPipeline(config, options);
  const { assessor, store, models, pictures } = pipeline;
  const registry = new ServiceRegistry(createServices({ assessor, config }));
  const app = createApp(config, { registry, store, logger, clock, models: models.models, smart: { assessor, pictures } });
  return { ...pipeline, app, registry };
}
