// The pictures the SMART app shows beside the curves: the radiograph as the model read it (its input
// tensor back in grey) and the same with the occlusion map over it. The map costs one batch of model
// runs per patch row, so it is made once per assessment, shared by concurrent callers, and kept in
// memory; the app asks for it after the curves are drawn.
import { encode } from 'fast-png';
import { LRUCache } from 'lru-cache';
import { occlusionMap, type OcclusionOptions } from '../model/explain.js';
import type { ModelRuntime } from '../model/model-runtime.js';
import type { LoadedModel } from '../model/model-registry.js';
import { overlayPng } from '../model/overlay-png.js';
import type { Assessment } from './assessment.js';
import { modelFactors } from './build-assessment.js';
import { SingleFlight } from './single-flight.js';

export interface RadiographPicturesOptions {
  runtime: Pick<ModelRuntime, 'model' | 'predictBatch'>;
  model: LoadedModel;
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

  /** The model's input image as an 8-bit grey PNG (the normalisation undone). */
  thumbnail(pixels: Float32Array): Uint8Array {
    const { height, width, normalisation } = this.options.model.card.inputs.image.preprocessing;
    const grey = new Uint8Array(height * width);
    const { mean, std } = normalisation;
    for (let i = 0; i < grey.length; i++) grey[i] = Math.round(Math.min(1, Math.max(0, (pixels[i] as number) * std + mean)) * 255);
    return encode({ width, height, data: grey, channels: 1, depth: 8 });
  }

  /** The occlusion map over the image, for this assessment's image and factors (red raises the risk, blue lowers it). */
  explanation(assessment: Assessment, pixels: () => Promise<Float32Array>): Promise<Uint8Array> {
    const cached = this.explanations.get(assessment.key);
    if (cached) return Promise.resolve(cached);
    return this.flights.run(assessment.key, async () => {
      const image = await pixels();
      const { card } = this.options.model;
      const map = await occlusionMap(this.options.runtime, card.id, image, modelFactors(assessment.riskFactors), this.options.occlusion);
      const png = overlayPng({ image, normalisation: card.inputs.image.preprocessing.normalisation, map });
      this.explanations.set(assessment.key, png);
      return png;
    });
  }

  /** Settles when every map in the making has (for shutdown). */
  settled(): Promise<void> {
    return this.flights.settled();
  }
}
