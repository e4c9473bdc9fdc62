// Evaluates survival models on a cohort: DeepSurv models through the real runtime (ONNX in worker
// threads, covariates assembled from their cards), the generator's oracle when the cohort is
// synthetic, and the study's Cox comparators fitted on a training cohort. Returns the report data;
// report.ts renders it.
import type { ModelRuntime } from '../model/model-runtime.js';
import { lastGridTime, survivalAt, type Baseline } from '../model/survival.js';
import type { Cohort } from './cohort-file.js';
import { COMPARATORS, cohortImageStatistics, fitComparator, scoreComparator } from './comparators.js';
import { DEFAULT_METRIC_OPTIONS, modelMetrics, type MetricOptions, type ModelMetrics, type ScoredModel } from './model-metrics.js';

export interface CohortSummary {
  dir: string;
  seed: number | null;
  count: number;
  events: number;
  meanFollowUpMonths: number;
  statement: string | null;
}

export interface Check {
  name: string;
  rule: string;
  value: number;
  threshold: number;
  pass: boolean;
}

export interface EvaluationReport {
  test: CohortSummary;
  train: CohortSummary | null;
  options: MetricOptions;
  models: ModelMetrics[];
  comparatorCoefficients: { name: string; features: { name: string; coefficient: number; standardError: number }[] }[];
  /** Comparators that could not be fitted (e.g. a tiny cohort whose few events a covariate separates), with why. */
  notFitted: { name: string; label: string; reason: string }[];
  checks: Check[];
}

export interface EvaluateOptions {
  runtime: ModelRuntime;
  /** Runtime model ids to score, first = the model the checks are about, with the names the report uses. */
  models: { id: string; name: string; label: string }[];
  test: Cohort;
  /** The comparators are fitted on it; without it only the models (and the oracle) are reported. */
  train: Cohort | null;
  options?: MetricOptions;
  batchSize?: number;
  onProgress?: (message: string) => void;
}

export function summarise(cohort: Cohort): CohortSummary {
  const { patients, metadata } = cohort;
  return {
    dir: cohort.dir,
    seed: metadata.seed ?? null,
    count: patients.length,
    events: patients.filter((p) => p.event).length,
    meanFollowUpMonths: (patients.reduce((sum, p) => sum + p.time, 0) / patients.length) * 12,
    statement: metadata.statement ?? null,
  };
}

/** S(t) from a Breslow baseline, held at the last grid time beyond it (the step function's last value). */
function baselineSurvival(baseline: Baseline, logRisk: Float64Array): ScoredModel['survival'] {
  const end = lastGridTime(baseline);
  return (i, t) => survivalAt(baseline, logRisk[i]!, Math.min(t, end))!;
}

async function scoreWithRuntime(options: EvaluateOptions, id: string): Promise<Float64Array> {
  const { runtime, test } = options;
  const batch = options.batchSize ?? 64;
  const logRisk = new Float64Array(test.patients.length);
  for (let start = 0; start < test.patients.length; start += batch) {
    const images = await test.images(start, batch);
    const factors = test.patients.slice(start, start + images.length).map((p) => p.factors);
    const predictions = await runtime.predictBatch(id, images, factors);
    predictions.forEach((p, k) => (logRisk[start + k] = p.logRisk));
    options.onProgress?.(`${id}: ${start + images.length}/${test.patients.length}`);
  }
  return logRisk;
}

function oracle(test: Cohort): ScoredModel | null {
  const truth = test.metadata.generator?.truth?.baseline;
  if (!truth || test.patients.some((p) => p.trueLogHazard === null)) return null;
  const logRisk = Float64Array.from(test.patients, (p) => p.trueLogHazard!);
  return {
    name: 'oracle',
    label: 'Oracle: the true hazard of the generator',
    logRisk,
    survival: (i, t) => Math.exp(-((t / truth.scale) ** truth.shape) * Math.exp(logRisk[i]!)),
  };
}

function checks(models: ModelMetrics[]): Check[] {
  const [main] = models;
  const find = (name: string): ModelMetrics | undefined => models.find((m) => m.name === name);
  if (!main) return [];
  const c = main.harrellC.value;
  const out: Check[] = [];
  const add = (name: string, rule: string, value: number, threshold: number, pass: boolean): void => {
    out.push({ name, rule, value, threshold, pass });
  };
  const oracleModel = find('oracle');
  if (oracleModel) add('near-oracle', `Harrell's C ≥ oracle − 0.03`, c, oracleModel.harrellC.value - 0.03, c >= oracleModel.harrellC.value - 0.03);
  const frax = find('cox-frax');
  if (frax) add('beats-frax-cox', `Harrell's C ≥ Cox PH (all FRAX factors) + 0.05`, c, frax.harrellC.value + 0.05, c >= frax.harrellC.value + 0.05);
  const shortcut = find('shortcut');
  if (shortcut) add('beats-shortcut', `shortcut's Harrell's C ≤ model − 0.03`, shortcut.harrellC.value, c - 0.03, shortcut.harrellC.value <= c - 0.03);
  const slope = main.calibration.slope;
  add('calibration-slope', `${main.calibration.horizon}-year calibration slope within 0.8–1.2`, slope, 1, slope >= 0.8 && slope <= 1.2);
  return out;
}

export async function evaluateCohort(options: EvaluateOptions): Promise<EvaluationReport> {
  const { runtime, test, train } = options;
  const metricOptions = options.options ?? DEFAULT_METRIC_OPTIONS;
  const scored: ScoredModel[] = [];
  for (const { id, name, label } of options.models) {
    const logRisk = await scoreWithRuntime(options, id);
    const { baseline } = runtime.model(id).card;
    scored.push({ name, label, logRisk, survival: baselineSurvival(baseline, logRisk) });
  }
  const truth = oracle(test);
  if (truth) scored.push(truth);
  const coefficients: EvaluationReport['comparatorCoefficients'] = [];
  const notFitted: EvaluationReport['notFitted'] = [];
  if (train) {
    options.onProgress?.('image statistics for the shortcut comparator');
    const trainStatistics = await cohortImageStatistics(train, train.metadata.preprocessing);
    const testStatistics = await cohortImageStatistics(test, test.metadata.preprocessing);
    for (const spec of COMPARATORS) {
      let fitted;
      try {
        fitted = fitComparator(train, spec, spec.imageStatistics ? trainStatistics : null);
      } catch (error) {
        notFitted.push({ name: spec.name, label: spec.label, reason: error instanceof Error ? error.message : String(error) });
        continue;
      }
      const logRisk = scoreComparator(fitted, test, spec.imageStatistics ? testStatistics : null);
      const baseline = { times: Array.from(fitted.baseline.times), cumulativeHazard: Array.from(fitted.baseline.cumulativeHazard) };
      scored.push({ name: spec.name, label: spec.label, logRisk, survival: baselineSurvival(baseline, logRisk) });
      coefficients.push({
        name: spec.name,
        features: fitted.featureNames.map((feature, j) => ({ name: feature, coefficient: fitted.fit.coefficients[j]!, standardError: fitted.fit.standardErrors[j]! })),
      });
    }
  }
  const time = Float64Array.from(test.patients, (p) => p.time);
  const event = Uint8Array.from(test.patients, (p) => (p.event ? 1 : 0));
  options.onProgress?.('metrics');
  const models = scored.map((model) => modelMetrics(time, event, model, metricOptions));
  return { test: summarise(test), train: train ? summarise(train) : null, options: metricOptions, models, comparatorCoefficients: coefficients, notFitted, checks: checks(models) };
}
