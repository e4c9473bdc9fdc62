// The model card as typed data: JSON Schema validation (model-card.schema.json, which references the
// imaging preprocessing schema) plus the rules a schema cannot state. A card that passes here can be
// served without further checks on its own numbers; the ONNX file is checked in model-registry.ts.
import { Ajv, type ErrorObject } from 'ajv';
import preprocessingSchema from '../imaging/preprocessing.schema.json' with { type: 'json' };
import { parsePreprocessingSpec, type PreprocessingSpec } from '../imaging/preprocessing.js';
import { ModelCardError } from './errors.js';
import cardSchema from './model-card.schema.json' with { type: 'json' };
import type { FactorName } from './risk-factors.js';

export type Transform =
  | { kind: 'identity' }
  /** (clamp(raw, clip) − mean) / sd */
  | { kind: 'standardize'; mean: number; sd: number; clip?: [number, number] }
  /** 1 when the factor is not recorded, else 0; the missing rule never applies. */
  | { kind: 'is-missing' };

/** `impute.value` is in transformed space: it is the feature's value, not the factor's. */
export type MissingRule = { rule: 'impute'; value: number } | { rule: 'refuse' };

export interface CovariateFeature {
  name: string;
  factor: FactorName;
  transform: Transform;
  missing: MissingRule;
}

export interface RiskBand {
  name: string;
  label: string;
  /** Exclusive upper bound of F(horizon); absent on the last band only. */
  below?: number;
  /** How urgently a card in this band is shown (CDS Hooks indicator); info when absent. */
  indicator?: 'info' | 'warning' | 'critical';
}

export interface RiskBands {
  horizon: number;
  bands: RiskBand[];
}

export interface BaselineHazard {
  method: 'breslow';
  /** Strictly increasing, in the card's time unit. */
  times: number[];
  /** H0 at each time, non-decreasing; 0 before the first time. */
  cumulativeHazard: number[];
}

export interface ModelCard {
  schemaVersion: 1;
  id: string;
  version: string;
  name: string;
  description?: string;
  artifact: { file: string; sha256: string; opset: number; producer?: string };
  intendedUse: {
    status: 'demonstration' | 'research' | 'clinical';
    statement: string;
    population: { minAge: number; maxAge: number; sexes: ('female' | 'male')[] };
    outcome: string;
    timeUnit: 'year';
  };
  inputs: {
    image: { name: string; view: 'lateral' | 'ap'; bodyPart: 'lumbar spine'; preprocessing: PreprocessingSpec };
    covariates: { name: string; features: CovariateFeature[] } | null;
  };
  output: { name: string; meaning: 'log-hazard-ratio' };
  baseline: BaselineHazard;
  horizons: number[];
  riskBands: RiskBands;
  training: { data: string; recipe: Record<string, unknown> };
  evaluation: Record<string, unknown>;
  golden?: { file: string };
}

const ajv = new Ajv({ strict: true, allErrors: true });
ajv.addSchema(preprocessingSchema);
const validateSchema = ajv.compile<ModelCard>(cardSchema);

function fieldPath(instancePath: string): string {
  const path = instancePath.replace(/^\//, '').replaceAll('/', '.').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
  return path || '(root)';
}

const DISCRIMINATOR = /\/(kind|rule)$/;

const depth = (error: ErrorObject): number => error.instancePath.split('/').length;

/** Rank of an error: deeper is more specific; a bare type or oneOf complaint loses a tie. */
function specificity(error: ErrorObject): number {
  const generic = error.keyword === 'oneOf' || error.keyword === 'type';
  return depth(error) * 2 + (generic ? 0 : 1);
}

function detailOf(error: ErrorObject, errors: ErrorObject[]): string {
  switch (error.keyword) {
    case 'type':
      // A value matching neither branch of `null | object` fails both: say so once.
      return `must be ${errors.filter((e) => e.keyword === 'type' && e.instancePath === error.instancePath).map((e) => String(e.params.type)).join(' or ')}`;
    case 'additionalProperties':
      return `has unknown field "${String(error.params.additionalProperty)}"`;
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(error.params.allowedValue)}`;
    default:
      return error.message ?? 'is invalid';
  }
}

/**
 * The most useful of ajv's errors. A `oneOf` over transforms or missing rules reports every branch's
 * complaint; the branches whose `kind`/`rule` did not match are noise, and the deepest remaining
 * error (e.g. `...transform.sd must be > 0`) says what to fix.
 */
function describeSchemaError(errors: ErrorObject[]): string {
  const mismatched = errors.filter((e) => e.keyword === 'const' && DISCRIMINATOR.test(e.instancePath));
  const deadBranches = mismatched.map((e) => e.schemaPath.replace(/\/properties\/(kind|rule)\/const$/, '/'));
  const relevant = errors.filter((e) => e.keyword !== 'oneOf' && !deadBranches.some((branch) => e.schemaPath.startsWith(branch)));
  const first = mismatched[0];
  // Every branch's discriminator failed and nothing inside that object is wrong: the kind itself is.
  if (first !== undefined && relevant.every((e) => depth(e) < depth(first) - 1)) {
    const allowed = mismatched.filter((e) => e.instancePath === first.instancePath).map((e) => JSON.stringify(e.params.allowedValue));
    return `${fieldPath(first.instancePath)} must be one of ${allowed.join(', ')}`;
  }
  const deepest = (relevant.length > 0 ? relevant : errors).reduce((best, e) => (specificity(e) > specificity(best) ? e : best));
  return `${fieldPath(deepest.instancePath)} ${detailOf(deepest, errors)}`;
}

function isInGrid(t: number, times: readonly number[]): boolean {
  const first = times[0];
  const last = times[times.length - 1];
  return first !== undefined && last !== undefined && t >= first && t <= last;
}

/** Rules the schema cannot state; each message names its field. Empty when the card is consistent. */
export function cardProblems(card: ModelCard): string[] {
  const problems: string[] = [];
  const { times, cumulativeHazard } = card.baseline;
  if (times.length !== cumulativeHazard.length) {
    problems.push(`baseline.times has ${times.length} entries but baseline.cumulativeHazard has ${cumulativeHazard.length}`);
  }
  for (let i = 1; i < times.length; i++) {
    if (!((times[i] as number) > (times[i - 1] as number))) problems.push(`baseline.times[${i}] is not greater than baseline.times[${i - 1}] (times must strictly increase)`);
  }
  for (let i = 1; i < cumulativeHazard.length; i++) {
    if ((cumulativeHazard[i] as number) < (cumulativeHazard[i - 1] as number)) {
      problems.push(`baseline.cumulativeHazard[${i}] is below baseline.cumulativeHazard[${i - 1}] (H0 must not decrease)`);
    }
  }
  const grid = `the baseline grid [${times[0]}, ${times[times.length - 1]}]`;
  card.horizons.forEach((h, i) => {
    if (!isInGrid(h, times)) problems.push(`horizons[${i}] = ${h} is outside ${grid}; curves are never extrapolated`);
  });
  if (!isInGrid(card.riskBands.horizon, times)) problems.push(`riskBands.horizon = ${card.riskBands.horizon} is outside ${grid}`);
  const bands = card.riskBands.bands;
  bands.forEach((band, i) => {
    const last = i === bands.length - 1;
    if (last && band.below !== undefined) problems.push(`riskBands.bands[${i}] is the last band and must not have "below" (it takes every risk above the others)`);
    if (!last && band.below === undefined) problems.push(`riskBands.bands[${i}] needs "below" (only the last band goes without)`);
    const previous = bands[i - 1]?.below;
    if (band.below !== undefined && previous !== undefined && band.below <= previous) {
      problems.push(`riskBands.bands[${i}].below must be greater than riskBands.bands[${i - 1}].below`);
    }
    if (bands.findIndex((b) => b.name === band.name) !== i) problems.push(`riskBands.bands[${i}].name "${band.name}" is used twice`);
  });
  card.inputs.covariates?.features.forEach((feature, i) => {
    const key = `inputs.covariates.features[${i}]`;
    if (card.inputs.covariates?.features.findIndex((f) => f.name === feature.name) !== i) problems.push(`${key}.name "${feature.name}" is used twice`);
    if (feature.transform.kind === 'standardize' && feature.transform.clip && feature.transform.clip[0] >= feature.transform.clip[1]) {
      problems.push(`${key}.transform.clip must be [low, high] with low < high`);
    }
    if (feature.transform.kind === 'is-missing' && feature.missing.rule === 'refuse') {
      problems.push(`${key} is an is-missing indicator and cannot refuse a missing factor`);
    }
  });
  const tensorNames = [card.inputs.image.name, card.inputs.covariates?.name].filter((n) => n !== undefined);
  if (new Set(tensorNames).size !== tensorNames.length) problems.push('inputs.image.name and inputs.covariates.name must differ');
  try {
    parsePreprocessingSpec(card.inputs.image.preprocessing);
  } catch (error) {
    problems.push(`inputs.image.${(error as Error).message}`);
  }
  return problems;
}

/**
 * Validates parsed JSON as a model card (schema, then semantic rules). Throws ModelCardError naming
 * `file` and the first offending field; a card with several semantic problems lists them all.
 */
export function parseModelCard(value: unknown, file: string): ModelCard {
  if (!validateSchema(value)) throw new ModelCardError(file, describeSchemaError(validateSchema.errors ?? []));
  const problems = cardProblems(value);
  if (problems.length > 0) throw new ModelCardError(file, problems.join('; '));
  return value;
}
