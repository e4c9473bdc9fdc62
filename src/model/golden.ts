// Golden input/output pairs written by the training code beside a card (format: src/model/README.md).
// They pin the ONNX export and the covariate transforms to what the training framework computed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { ModelCardError } from './errors.js';
import schema from './golden.schema.json' with { type: 'json' };
import type { LoadedModel } from './model-registry.js';
import type { RiskFactors } from './risk-factors.js';

export interface GoldenCase {
  factors: RiskFactors;
  covariateVector: number[];
  logRisk: number;
}

interface GoldenFile {
  images: { file: string; shape: [number, 1, number, number] };
  cases: GoldenCase[];
}

export interface GoldenSet {
  file: string;
  /** One preprocessed image (height × width) per case. */
  images: Float32Array[];
  cases: GoldenCase[];
}

const validate = new Ajv({ strict: true, allErrors: false, allowUnionTypes: true }).compile<GoldenFile>(schema);

/** Reads the golden pairs a card names; null when it names none. Throws ModelCardError naming the file. */
export async function loadGolden(model: LoadedModel): Promise<GoldenSet | null> {
  if (!model.card.golden) return null;
  const file = join(model.folder, model.card.golden.file);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ModelCardError(file, `cannot be read as JSON (${(error as Error).message}); golden.file in the card names it`);
  }
  if (!validate(json)) {
    const error = validate.errors?.[0];
    throw new ModelCardError(file, `${error?.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)'} ${error?.message ?? 'is invalid'}`);
  }
  const [n, , height, width] = json.images.shape;
  const { preprocessing } = model.card.inputs.image;
  if (height !== preprocessing.height || width !== preprocessing.width) {
    throw new ModelCardError(file, `images are ${height} × ${width} but the card's preprocessing makes ${preprocessing.height} × ${preprocessing.width}`);
  }
  if (n !== json.cases.length) throw new ModelCardError(file, `images.shape says ${n} images but there are ${json.cases.length} cases`);
  const expectedLength = model.card.inputs.covariates?.features.length ?? 0;
  const wrong = json.cases.findIndex((c) => c.covariateVector.length !== expectedLength);
  if (wrong >= 0) throw new ModelCardError(file, `cases[${wrong}].covariateVector has ${json.cases[wrong]?.covariateVector.length} values; the card has ${expectedLength} features`);

  const imageFile = join(model.folder, json.images.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(imageFile);
  } catch (error) {
    throw new ModelCardError(imageFile, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const pixels = height * width;
  if (bytes.byteLength !== n * pixels * 4) throw new ModelCardError(imageFile, `has ${bytes.byteLength} bytes; ${n} × ${height} × ${width} float32 need ${n * pixels * 4}`);
  // Read through a DataView: the file is little-endian whatever this machine is.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const images = Array.from({ length: n }, (_, k) => Float32Array.from({ length: pixels }, (_, i) => view.getFloat32((k * pixels + i) * 4, true)));
  return { file, images, cases: json.cases };
}
