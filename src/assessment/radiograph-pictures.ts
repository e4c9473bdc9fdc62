// The pictures the SMART app shows beside the curves: the radiograph as the model read it (its input
// tensor back in grey) and the same with the occlusion map over it. The map costs one batch of model
// runs per chunk of patches (in the inference workers), so it is made once per assessment, shared by
// concurrent callers and kept in memory; the app asks for it after the curves are drawn. PNG encoding
// runs in the CPU worker pool, off the HTTP thread.
import { LRUCache } from 'lru-cache';
import { occlusionMap, type OcclusionOptions } from '../model/explain.js';
import type { ModelRuntime } from '../model/model-runtime.js';
import type { LoadedModel } from '../model/model-registry.js';
import type { WorkerPool } from '../workers/pool.js';
import type { RadiographPngInput } from '../workers/tasks.js';
import type { Assessment } from './assessment.js';
import { modelFactors } from './build-assessment.js';
import { SingleFlight } from './single-flight.js';

export interface RadiographPicturesOptions {
  runtime: Pick<ModelRuntime, 'model' | 'predictBatch'>;
  model: LoadedModel;
  /** The CPU worker pool (the decode pool) that encodes the PNGs. */
  pool: WorkerPool;
  /** Time cap of one encoding task. */
  timeoutMs: number;
  /** Explanation PNGs kept in memory. */
  cacheSize: number;
  occlusion?: OcclusionOptions;
}

export class RadiographPictures {
  private readonly explanations: LRUCache<string, Uint8Array>;
  private readonly flights = new SingleFlight<Uint8Array>();

  constructor(private readonly options: RadiographPicturesOptions) {
    this.explanations = new LRUCache({ max: Math.max(1, options.cacheSize) });
  }

  /** The model's input image as an 8-bit grey PNG (the normalisation undone). Rejects with WorkerPoolError. */
  thumbnail(pixels: Float32Array): Promise<Uint8Array> {
    const { height, width, normalisation } = this.options.model.card.inputs.image.preprocessing;
    return this.encode({ kind: 'grey', image: pixels, height, width, normalisation });
  }

  /**
   * The occlusion map over the image, for this assessment's image and factors (red raises the risk,
   * blue lowers it). Rejects with ImagingError (the image had to be read again), ModelRunError or WorkerPoolError.
   */
  explanation(assessment: Assessment, pixels: () => Promise<Float32Array>): Promise<Uint8Array> {
    const cached = this.explanations.get(assessment.key);
    if (cached) return Promise.resolve(cached);
    return this.flights.run(assessment.key, async () => {
      const image = await pixels();
      const { card } = this.options.model;
      const map = await occlusionMap(this.options.runtime, card.id, image, modelFactors(assessment.riskFactors), this.options.occlusion);
      const png = await this.encode({ kind: 'overlay', image, normalisation: card.inputs.image.preprocessing.normalisation, map });
      this.explanations.set(assessment.key, png);
      return png;
    });
  }

  /** Settles when every map in the making has (for shutdown). */
  settled(): Promise<void> {
    return this.flights.settled();
  }

  private encode(input: RadiographPngInput): Promise<Uint8Array> {
    // The image is copied to the worker, not transferred: the caller's tensor stays cached.
    return this.options.pool.run('radiograph-png', input, { timeoutMs: this.options.timeoutMs });
  }
}
