// What the card promises about the ONNX graph (tensor names, shapes, float32) as plain data that
// crosses into worker threads, and the comparison with what onnxruntime reports for the loaded graph.
import type { LoadedModel } from './model-registry.js';

export interface ModelSignature {
  onnxFile: string;
  sha256: string;
  image: { name: string; height: number; width: number };
  /** Null for image-only models. */
  covariates: { name: string; length: number } | null;
  output: string;
}

/** One graph input or output as onnxruntime describes it (shape entries: number, or a symbolic name). */
export interface ValueInfo {
  name: string;
  isTensor: boolean;
  type: string | null;
  shape: readonly (number | string)[];
}

export interface SessionMetadata {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface SignatureCheck {
  problems: string[];
  /** The graph's batch size when it is fixed (only 1 is accepted); null when dynamic. */
  fixedBatch: number | null;
}

export function signatureOf(model: LoadedModel): ModelSignature {
  const { card } = model;
  return {
    onnxFile: model.onnxFile,
    sha256: card.artifact.sha256,
    image: { name: card.inputs.image.name, height: card.inputs.image.preprocessing.height, width: card.inputs.image.preprocessing.width },
    covariates: card.inputs.covariates ? { name: card.inputs.covariates.name, length: card.inputs.covariates.features.length } : null,
    output: card.output.name,
  };
}

const describe = (shape: readonly (number | string)[]): string => `[${shape.join(', ')}]`;

/** Compares a known dimension; symbolic dimensions (strings) accept any size. */
function shapeProblem(what: string, info: ValueInfo, expected: readonly (number | null)[]): string | null {
  if (info.shape.length === 0) return null; // onnxruntime does not know the shape: nothing to compare
  const wanted = `[${expected.map((d) => d ?? 'batch').join(', ')}]`;
  if (info.shape.length !== expected.length) return `${what} "${info.name}" has shape ${describe(info.shape)}, the card needs ${wanted}`;
  const mismatch = expected.some((d, i) => d !== null && typeof info.shape[i] === 'number' && info.shape[i] !== d);
  return mismatch ? `${what} "${info.name}" has shape ${describe(info.shape)}, the card needs ${wanted}` : null;
}

function typeProblem(what: string, info: ValueInfo): string | null {
  if (!info.isTensor) return `${what} "${info.name}" is not a tensor`;
  return info.type !== null && info.type !== 'float32' ? `${what} "${info.name}" is ${info.type}, the card needs float32` : null;
}

/** Every way the loaded graph differs from the card, by name. */
export function checkSignature(metadata: SessionMetadata, signature: ModelSignature): SignatureCheck {
  const problems: string[] = [];
  const expectedInputs = [signature.image.name, ...(signature.covariates ? [signature.covariates.name] : [])];
  const actualInputs = metadata.inputs.map((i) => i.name);
  for (const name of expectedInputs) if (!actualInputs.includes(name)) problems.push(`the card names input "${name}" but the graph's inputs are ${JSON.stringify(actualInputs)}`);
  for (const name of actualInputs) if (!expectedInputs.includes(name)) problems.push(`the graph has input "${name}", which the card does not describe`);
  const output = metadata.outputs.find((o) => o.name === signature.output);
  if (!output) problems.push(`the card names output "${signature.output}" but the graph's outputs are ${JSON.stringify(metadata.outputs.map((o) => o.name))}`);

  const image = metadata.inputs.find((i) => i.name === signature.image.name);
  const covariates = signature.covariates && metadata.inputs.find((i) => i.name === signature.covariates?.name);
  const checks: (string | null)[] = [];
  if (image) checks.push(typeProblem('input', image), shapeProblem('input', image, [null, 1, signature.image.height, signature.image.width]));
  if (covariates && signature.covariates) checks.push(typeProblem('input', covariates), shapeProblem('input', covariates, [null, signature.covariates.length]));
  if (output) {
    checks.push(typeProblem('output', output));
    if (output.shape.length !== 1) checks.push(shapeProblem('output', output, [null, 1]));
  }
  problems.push(...checks.filter((p) => p !== null));

  // A graph exported without a dynamic batch axis can still be served, one image per run.
  const batchDims = [image, covariates, output].map((v) => v?.shape[0]).filter((d) => typeof d === 'number');
  const fixed = batchDims.find((d) => d !== 1);
  if (fixed !== undefined) problems.push(`the graph's batch dimension is fixed at ${fixed}; export it dynamic (or 1)`);
  return { problems, fixedBatch: batchDims.length > 0 ? 1 : null };
}
