// The worker-thread tasks of the model runtime: run one batch through a model, and describe a model's
// graph. They never throw; failures come back as plain data with a reason code.
import type { InferFailure } from './errors.js';
import { loadOrt, SessionLoadError, sessionFor } from './session-cache.js';
import type { ModelSignature, SessionMetadata, SignatureCheck } from './signature.js';

export interface InferTaskInput {
  model: ModelSignature;
  intraOpThreads: number;
  batch: number;
  /** batch × 1 × height × width, row-major; its buffer is transferred in. */
  image: Float32Array;
  /** batch × features; null for image-only models. */
  covariates: Float32Array | null;
}

export type InferTaskOutput = { ok: true; logRisk: Float32Array; runMs: number } | InferFailure;

export interface InspectTaskInput {
  model: ModelSignature;
  intraOpThreads: number;
}

export type InspectTaskOutput = { ok: true; metadata: SessionMetadata; check: SignatureCheck } | InferFailure;

function failure(error: unknown): InferFailure {
  if (error instanceof SessionLoadError) return { ok: false, code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, code: 'inference-failed', message: `onnxruntime failed: ${message.slice(0, 300)}` };
}

export async function inspectModel(input: InspectTaskInput): Promise<InspectTaskOutput> {
  try {
    const { metadata, check } = await sessionFor(input.model, input.intraOpThreads);
    return { ok: true, metadata, check };
  } catch (error) {
    return failure(error);
  }
}

export async function runInference(input: InferTaskInput): Promise<InferTaskOutput> {
  try {
    const { session, check } = await sessionFor(input.model, input.intraOpThreads);
    if (check.problems.length > 0) return { ok: false, code: 'model-mismatch', message: check.problems.join('; ') };
    const { Tensor } = await loadOrt();
    const { model, batch } = input;
    const feeds: Record<string, InstanceType<typeof Tensor>> = {
      [model.image.name]: new Tensor('float32', input.image, [batch, 1, model.image.height, model.image.width]),
    };
    if (model.covariates && input.covariates) feeds[model.covariates.name] = new Tensor('float32', input.covariates, [batch, model.covariates.length]);
    const started = performance.now();
    const outputs = await session.run(feeds, [model.output]);
    const runMs = performance.now() - started;
    const output = outputs[model.output];
    if (!output || output.type !== 'float32' || output.size !== batch) {
      return { ok: false, code: 'inference-failed', message: `output "${model.output}" is not ${batch} float32 values` };
    }
    // A fresh array owns its buffer, so it can be moved back to the caller.
    const logRisk = Float32Array.from(output.data as Float32Array);
    if (!logRisk.every(Number.isFinite)) return { ok: false, code: 'inference-failed', message: 'the model produced a non-finite log-risk' };
    return { ok: true, logRisk, runMs };
  } catch (error) {
    return failure(error);
  }
}
