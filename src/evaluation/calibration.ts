// Calibration: does predicted risk match observed risk? Two views: by risk group at one horizon
// (Kaplan–Meier observed against mean predicted), and D-calibration over the whole curve.
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import { eventVector, finiteNumber, probabilityVector, survivalData } from './input.js';
import type { NumericVector, SurvivalData } from './input.js';
import { countAtOrBefore, kaplanMeier } from './kaplan-meier.js';

export interface CalibrationGroup {
  readonly n: number;
  /** Events observed at or before the horizon. */
  readonly events: number;
  /** Mean of F_i(t*) = 1 − S_i(t*) in the group. */
  readonly meanPredictedRisk: number;
  /** 1 − S_KM(t*) of the group. */
  readonly observedRisk: number;
  /** Greenwood standard error of observedRisk; NaN when the group's KM has reached 0. */
  readonly observedRiskStdErr: number;
}

export interface CalibrationResult {
  readonly horizon: number;
  /** Ordered from lowest to highest predicted risk. */
  readonly groups: readonly CalibrationGroup[];
  /** Weighted (by n) least squares of observedRisk on meanPredictedRisk across groups; NaN when all group means are equal. */
  readonly slope: number;
  readonly intercept: number;
  /** Mean of F_i(t*) over everyone. */
  readonly meanPredictedRisk: number;
  /** 1 − S_KM(t*) over everyone. */
  readonly observedRisk: number;
  /** Calibration-in-the-large: observedRisk / meanPredictedRisk (1 is ideal; > 1 the model under-predicts). */
  readonly observedToPredicted: number;
}

export interface CalibrationOptions {
  /** Number of equal-sized risk groups (default 10: deciles). */
  groups?: number;
  /**
   * Given groups instead: the group of each subject, 0 … k−1, every one used (e.g. the risk band
   * each prediction fell in). The result's groups are in that order; `groups` is then ignored.
   */
  groupOf?: NumericVector;
}

export interface DCalibrationResult {
  /** Mass in each of the 10 buckets [0, 0.1), [0.1, 0.2), …, [0.9, 1] of predicted S_i(T_i). */
  readonly counts: Float64Array;
  /** Pearson χ² against n/10 per bucket. */
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  /** P(χ²_9 ≥ statistic); small values reject "the predicted curves are calibrated". */
  readonly pValue: number;
}

const D_CALIBRATION_BUCKETS = 10;

/** Observed risk 1 − S_KM(t) of a subset, with the Greenwood standard error (0 before the first time). */
function observedRiskAt(data: SurvivalData, members: Uint32Array, t: number): { risk: number; stdErr: number } {
  const curve = kaplanMeier(
    Float64Array.from(members, (i) => data.time[i]!),
    Uint8Array.from(members, (i) => data.event[i]!),
  );
  const k = countAtOrBefore(curve.times, t);
  return k === 0 ? { risk: 0, stdErr: 0 } : { risk: 1 - curve.survival[k - 1]!, stdErr: curve.standardError[k - 1]! };
}

function mean(values: Float64Array, members: Uint32Array): number {
  let sum = 0;
  for (const i of members) sum += values[i]!;
  return sum / members.length;
}

/** Slope and intercept of y on x by least squares with weights w. */
function weightedLine(x: number[], y: number[], w: number[]): { slope: number; intercept: number } {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  x.forEach((xi, g) => {
    sw += w[g]!;
    sx += w[g]! * xi;
    sy += w[g]! * y[g]!;
  });
  const mx = sx / sw;
  const my = sy / sw;
  let sxx = 0;
  let sxy = 0;
  x.forEach((xi, g) => {
    sxx += w[g]! * (xi - mx) * (xi - mx);
    sxy += w[g]! * (xi - mx) * (y[g]! - my);
  });
  if (!(sxx > 0)) return { slope: Number.NaN, intercept: Number.NaN };
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Subjects ordered by predicted risk cut into `count` groups whose sizes differ by at most one. */
function riskGroups(order: Uint32Array, count: number): Uint32Array[] {
  const n = order.length;
  if (!Number.isInteger(count) || count < 1 || count > n) {
    throw new RangeError(`groups is ${count}; it must be an integer from 1 to the number of subjects (${n})`);
  }
  return Array.from({ length: count }, (_, g) => order.subarray(Math.floor((g * n) / count), Math.floor(((g + 1) * n) / count)));
}

/** The members of each given group 0 … k−1, in input order. */
function givenGroups(groupOf: NumericVector, n: number): Uint32Array[] {
  if (groupOf.length !== n) throw new RangeError(`groupOf has length ${groupOf.length}, expected ${n}`);
  const members: number[][] = [];
  for (let i = 0; i < n; i++) {
    const g = groupOf[i]!;
    if (!Number.isInteger(g) || g < 0 || g >= n) throw new RangeError(`groupOf[${i}] is ${g}; groups must be integers from 0 to k − 1`);
    (members[g] ??= []).push(i);
  }
  for (let g = 0; g < members.length; g++) {
    if (!members[g]) throw new RangeError(`group ${g} has no subjects; number the groups 0 … k − 1 without gaps`);
  }
  return members.map((m) => Uint32Array.from(m));
}

/**
 * Calibration at horizon t*: subjects sorted by predicted risk F_i(t*) = 1 − S_i(t*) are cut into
 * `groups` groups of equal size (sizes differ by at most one; equal predictions on a cut are split
 * by input order), or into the groups `groupOf` gives. `survivalAtHorizon[i]` is the predicted S_i(t*).
 */
export function calibrationAtHorizon(
  time: NumericVector,
  event: NumericVector,
  survivalAtHorizon: NumericVector,
  horizon: number,
  options: CalibrationOptions = {},
): CalibrationResult {
  const data = survivalData(time, event);
  const n = data.time.length;
  const predictedRisk = probabilityVector(survivalAtHorizon, n, 'survivalAtHorizon').map((s) => 1 - s);
  finiteNumber(horizon, 'horizon');
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => predictedRisk[a]! - predictedRisk[b]! || a - b);
  const memberSets = options.groupOf === undefined ? riskGroups(order, options.groups ?? 10) : givenGroups(options.groupOf, n);

  const groups: CalibrationGroup[] = [];
  for (const members of memberSets) {
    const observed = observedRiskAt(data, members, horizon);
    let events = 0;
    for (const i of members) if (data.event[i] === 1 && data.time[i]! <= horizon) events++;
    groups.push({
      n: members.length,
      events,
      meanPredictedRisk: mean(predictedRisk, members),
      observedRisk: observed.risk,
      observedRiskStdErr: observed.stdErr,
    });
  }
  const line = weightedLine(
    groups.map((g) => g.meanPredictedRisk),
    groups.map((g) => g.observedRisk),
    groups.map((g) => g.n),
  );
  const meanPredictedRisk = mean(predictedRisk, order);
  const observedRisk = observedRiskAt(data, order, horizon).risk;
  return { horizon, groups, ...line, meanPredictedRisk, observedRisk, observedToPredicted: observedRisk / meanPredictedRisk };
}

/** Bucket of a survival probability: [b/10, (b+1)/10), the top bucket closed at 1. */
function bucketOf(s: number): number {
  return Math.min(Math.floor(s * D_CALIBRATION_BUCKETS), D_CALIBRATION_BUCKETS - 1);
}

/**
 * D-calibration (Haider et al., JMLR 2020). If the predicted curves are right, S_i(T_i) is uniform on
 * [0, 1], so each of 10 equal buckets should hold n/10. An event adds 1 to the bucket of S_i(T_i).
 * A subject censored at c with s = S_i(c) has S_i(T_i) uniform on [0, s], so its unit mass is spread:
 * the bucket holding s gets (s − its lower edge)/s, each bucket wholly below gets 0.1/s (and s = 0
 * puts it all in the lowest bucket). `survivalAtObservedTime[i]` is S_i(T_i), the prediction at the
 * subject's own event or censoring time.
 */
export function dCalibration(event: NumericVector, survivalAtObservedTime: NumericVector): DCalibrationResult {
  const events = eventVector(event);
  const n = events.length;
  if (n === 0) throw new RangeError('event must not be empty');
  const survival = probabilityVector(survivalAtObservedTime, n, 'survivalAtObservedTime');
  const width = 1 / D_CALIBRATION_BUCKETS;
  const counts = new Float64Array(D_CALIBRATION_BUCKETS);
  for (let i = 0; i < n; i++) {
    const s = survival[i]!;
    const b = bucketOf(s);
    if (events[i] === 1) counts[b]! += 1;
    else if (s === 0) counts[0]! += 1;
    else {
      counts[b]! += (s - b * width) / s;
      for (let lower = 0; lower < b; lower++) counts[lower]! += width / s;
    }
  }
  const expected = n / D_CALIBRATION_BUCKETS;
  let statistic = 0;
  for (const observed of counts) statistic += ((observed - expected) * (observed - expected)) / expected;
  const degreesOfFreedom = D_CALIBRATION_BUCKETS - 1;
  return { counts, statistic, degreesOfFreedom, pValue: 1 - chisquareCdf(statistic, degreesOfFreedom) };
}
