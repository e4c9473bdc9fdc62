// Every metric of the evaluation report for one scored model on one cohort: discrimination
// (Harrell's C with a bootstrap interval, Uno's C, time-dependent AUC), overall accuracy (Brier,
// integrated Brier) and calibration (by decile at a horizon, D-calibration).
import { mulberry32 } from '../synthetic/random.js';
import { integratedBrierScore, brierScore } from './brier.js';
import { calibrationAtHorizon, dCalibration, type CalibrationResult } from './calibration.js';
import { harrellC, unoC } from './concordance.js';
import { censoringDistribution } from './kaplan-meier.js';
import { cumulativeDynamicAuc } from './time-dependent-auc.js';

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

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/** Percentile bootstrap of Harrell's C, resampling patients with a seeded generator. */
function bootstrapC(time: Float64Array, event: Uint8Array, risk: Float64Array, options: MetricOptions['bootstrap']): [number, number] {
  const random = mulberry32(options.seed);
  const n = time.length;
  const t = new Float64Array(n);
  const e = new Uint8Array(n);
  const r = new Float64Array(n);
  const values = new Float64Array(options.replicates);
  for (let b = 0; b < options.replicates; b++) {
    for (let k = 0; k < n; k++) {
      const i = Math.floor(random() * n);
      t[k] = time[i]!;
      e[k] = event[i]!;
      r[k] = risk[i]!;
    }
    values[b] = harrellC(t, e, r).cIndex;
  }
  values.sort();
  return [quantile(values, 0.025), quantile(values, 0.975)];
}

export function modelMetrics(time: Float64Array, event: Uint8Array, model: ScoredModel, options: MetricOptions = DEFAULT_METRIC_OPTIONS): ModelMetrics {
  const n = time.length;
  const censoring = censoringDistribution(time, event);
  const survivalAt = (t: number): Float64Array => Float64Array.from({ length: n }, (_, i) => model.survival(i, t));
  const riskAt = (t: number): Float64Array => survivalAt(t).map((s) => 1 - s);
  const ibsFrom = 0.5;
  const grid = Array.from({ length: Math.round((options.tau - ibsFrom) / 0.25) + 1 }, (_, k) => ibsFrom + 0.25 * k);
  const ibs = integratedBrierScore(time, event, grid, grid.map(survivalAt), { censoring });
  const atHorizon = survivalAt(options.horizon);
  const d = dCalibration(event, Float64Array.from({ length: n }, (_, i) => model.survival(i, time[i]!)));
  return {
    name: model.name,
    label: model.label,
    harrellC: { value: harrellC(time, event, model.logRisk).cIndex, ci95: bootstrapC(time, event, model.logRisk, options.bootstrap) },
    unoC: { value: unoC(time, event, model.logRisk, { tau: options.tau, censoring }).cIndex, tau: options.tau },
    auc: options.aucTimes.map((t) => ({ time: t, value: cumulativeDynamicAuc(time, event, riskAt(t), t, { censoring }).auc })),
    brier: { time: options.horizon, value: brierScore(time, event, atHorizon, options.horizon, { censoring }) },
    integratedBrier: { value: ibs.integratedBrier, from: ibsFrom, to: options.tau },
    calibration: calibrationAtHorizon(time, event, atHorizon, options.horizon),
    dCalibration: { statistic: d.statistic, pValue: d.pValue },
  };
}
