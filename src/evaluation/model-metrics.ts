// Every metric of the evaluation report for one scored model on one cohort: discrimination
// (Harrell's C with a bootstrap interval, Uno's C, time-dependent AUC), overall accuracy (Brier,
// integrated Brier) and calibration (by decile at a horizon, D-calibration). Each metric is also
// exported on its own, over the same prepared inputs, for reports that can afford only some of them
// (the recorded predictions of a prospective study, whose follow-up bounds the horizons).
import { mulberry32 } from '../synthetic/random.js';
import { integratedBrierScore, brierScore } from './brier.js';
import { calibrationAtHorizon, dCalibration, type CalibrationOptions, type CalibrationResult } from './calibration.js';
import { harrellC, unoC } from './concordance.js';
import { censoringDistribution, type SurvivalStep } from './kaplan-meier.js';
import { cumulativeDynamicAuc, type TimeDependentAucResult } from './time-dependent-auc.js';

/** A model's scores on a cohort: its log hazard ratios and its survival curve per patient. */
export interface ScoredModel {
  name: string;
  label: string;
  logRisk: Float64Array;
  /** S_i(t); models read past their last grid time give the value there (they say nothing beyond). */
  survival(i: number, t: number): number;
}

export interface MetricOptions {
  /** Uno's C truncation and the end of the integrated Brier grid, years. */
  tau: number;
  aucTimes: readonly number[];
  /** Horizon of the Brier score and the calibration table. */
  horizon: number;
  bootstrap: { replicates: number; seed: number };
}

export const DEFAULT_METRIC_OPTIONS: MetricOptions = { tau: 5, aucTimes: [3, 5], horizon: 5, bootstrap: { replicates: 200, seed: 1 } };

/** The integrated Brier score's grid: from this time to τ in steps of IBS_STEP years. */
export const IBS_FROM = 0.5;
export const IBS_STEP = 0.25;

export interface ModelMetrics {
  name: string;
  label: string;
  harrellC: { value: number; ci95: [number, number] };
  unoC: { value: number; tau: number };
  auc: { time: number; value: number }[];
  brier: { time: number; value: number };
  integratedBrier: { value: number; from: number; to: number };
  calibration: CalibrationResult;
  dCalibration: { statistic: number; pValue: number };
}

/** A scored model on a cohort, prepared once for every metric: the censoring KM they all weight by, S_i(t) per t. */
export interface MetricInputs {
  readonly time: Float64Array;
  readonly event: Uint8Array;
  readonly model: ScoredModel;
  readonly censoring: SurvivalStep;
  /** S_i(t) for every patient (computed once per t; do not modify). */
  survivalAt(t: number): Float64Array;
}

export function metricInputs(time: Float64Array, event: Uint8Array, model: ScoredModel): MetricInputs {
  const n = time.length;
  const computed = new Map<number, Float64Array>();
  return {
    time,
    event,
    model,
    censoring: censoringDistribution(time, event),
    survivalAt(t) {
      let survival = computed.get(t);
      if (!survival) {
        survival = Float64Array.from({ length: n }, (_, i) => model.survival(i, t));
        computed.set(t, survival);
      }
      return survival;
    },
  };
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/**
 * Harrell's C with a percentile bootstrap interval, resampling patients with a seeded generator. A
 * replicate without a comparable pair (possible in small cohorts with few events) has no C and is
 * left out; `replicates` says how many counted (the interval is NaN when none did).
 */
export function harrellWithInterval(
  inputs: MetricInputs,
  options: MetricOptions['bootstrap'],
): { value: number; comparable: number; ci95: [number, number]; replicates: number } {
  const { time, event } = inputs;
  const risk = inputs.model.logRisk;
  const whole = harrellC(time, event, risk);
  const random = mulberry32(options.seed);
  const n = time.length;
  const t = new Float64Array(n);
  const e = new Uint8Array(n);
  const r = new Float64Array(n);
  const values: number[] = [];
  for (let b = 0; b < options.replicates; b++) {
    for (let k = 0; k < n; k++) {
      const i = Math.floor(random() * n);
      t[k] = time[i]!;
      e[k] = event[i]!;
      r[k] = risk[i]!;
    }
    try {
      values.push(harrellC(t, e, r).cIndex);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
  }
  const sorted = Float64Array.from(values).sort();
  const ci95: [number, number] = sorted.length === 0 ? [Number.NaN, Number.NaN] : [quantile(sorted, 0.025), quantile(sorted, 0.975)];
  return { value: whole.cIndex, comparable: whole.comparable, ci95, replicates: sorted.length };
}

export function unoAt(inputs: MetricInputs, tau: number): { value: number; tau: number } {
  return { value: unoC(inputs.time, inputs.event, inputs.model.logRisk, { tau, censoring: inputs.censoring }).cIndex, tau };
}

/** Cumulative/dynamic AUC at t of the predicted risk 1 − S_i(t). */
export function aucAt(inputs: MetricInputs, t: number): TimeDependentAucResult {
  return cumulativeDynamicAuc(inputs.time, inputs.event, inputs.survivalAt(t).map((s) => 1 - s), t, { censoring: inputs.censoring });
}

export function brierAt(inputs: MetricInputs, t: number): { time: number; value: number } {
  return { time: t, value: brierScore(inputs.time, inputs.event, inputs.survivalAt(t), t, { censoring: inputs.censoring }) };
}

/** The integrated Brier grid up to `to`: IBS_FROM, IBS_FROM + IBS_STEP, …, `to` (needs `to` ≥ IBS_FROM + IBS_STEP). */
export function integratedBrierGrid(to: number): number[] {
  return Array.from({ length: Math.round((to - IBS_FROM) / IBS_STEP) + 1 }, (_, k) => IBS_FROM + IBS_STEP * k);
}

export function integratedBrierTo(inputs: MetricInputs, to: number): { value: number; from: number; to: number } {
  const grid = integratedBrierGrid(to);
  const ibs = integratedBrierScore(inputs.time, inputs.event, grid, grid.map((t) => inputs.survivalAt(t)), { censoring: inputs.censoring });
  return { value: ibs.integratedBrier, from: IBS_FROM, to };
}

export function calibrationAt(inputs: MetricInputs, horizon: number, options: CalibrationOptions = {}): CalibrationResult {
  return calibrationAtHorizon(inputs.time, inputs.event, inputs.survivalAt(horizon), horizon, options);
}

export function dCalibrationOf(inputs: MetricInputs): { statistic: number; pValue: number } {
  const { time, event, model } = inputs;
  const d = dCalibration(event, Float64Array.from(time, (t, i) => model.survival(i, t)));
  return { statistic: d.statistic, pValue: d.pValue };
}

export function modelMetrics(time: Float64Array, event: Uint8Array, model: ScoredModel, options: MetricOptions = DEFAULT_METRIC_OPTIONS): ModelMetrics {
  const inputs = metricInputs(time, event, model);
  const harrell = harrellWithInterval(inputs, options.bootstrap);
  return {
    name: model.name,
    label: model.label,
    harrellC: { value: harrell.value, ci95: harrell.ci95 },
    unoC: unoAt(inputs, options.tau),
    auc: options.aucTimes.map((t) => ({ time: t, value: aucAt(inputs, t).auc })),
    brier: brierAt(inputs, options.horizon),
    integratedBrier: integratedBrierTo(inputs, options.tau),
    calibration: calibrationAt(inputs, options.horizon),
    dCalibration: dCalibrationOf(inputs),
  };
}
