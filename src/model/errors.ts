// Every way the model layer refuses, as typed errors with a reason code. Card problems stop start-up
// (the CLI prints them); input and run problems are per prediction and the service keeps serving.
// Messages name files, fields and factors, never patient values.

/** A model folder that cannot be served: unreadable, invalid card, hash mismatch, ONNX signature. */
export class ModelCardError extends Error {
  override name = 'ModelCardError';
  constructor(
    /** The card (or ONNX) file the problem is in. */
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

export type ModelInputErrorCode = 'unknown-model' | 'missing-factor' | 'bad-factor' | 'bad-image-shape' | 'bad-batch';

/** The caller's input cannot be scored by this model; retrying the same input will not help. */
export class ModelInputError extends Error {
  override name = 'ModelInputError';
  constructor(
    readonly code: ModelInputErrorCode,
    message: string,
    /** For `missing-factor` and `bad-factor`: the risk factors concerned (e.g. the ones the card refuses to impute). */
    readonly factors: readonly string[] = [],
  ) {
    super(message);
  }
}

export type ModelRunErrorCode = 'busy' | 'timeout' | 'worker-failed' | 'inference-failed' | 'model-mismatch' | 'closed';

/** The runtime could not produce an answer this time (load, time cap, crash, closed). */
export class ModelRunError extends Error {
  override name = 'ModelRunError';
  constructor(
    readonly code: ModelRunErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The plain-data form of a run failure that crosses the worker boundary (structured clone drops subclasses). */
export interface InferFailure {
  ok: false;
  code: Extract<ModelRunErrorCode, 'inference-failed' | 'model-mismatch'>;
  message: string;
}
