// Kaplan–Meier estimators of the event-free survival S(t) and of the censoring distribution G(t),
// the latter being what the IPCW metrics (Uno's C, time-dependent AUC, Brier) weight by.
import { orderByTime, survivalData } from './input.js';
import type { NumericVector, SurvivalData } from './input.js';

/**
 * A right-continuous step function starting at 1: `survival[k]` holds on [times[k], times[k+1]).
 * Read it with `survivalAt` (value at t) or `survivalBefore` (left limit at t).
 */
export interface SurvivalStep {
  /** Strictly increasing. */
  readonly times: Float64Array;
  readonly survival: Float64Array;
}

export interface KaplanMeierCurve extends SurvivalStep {
  /** Every distinct observed time (event or censoring), increasing. */
  readonly times: Float64Array;
  /** Subjects with observed time ≥ times[k]. */
  readonly atRisk: Uint32Array;
  readonly events: Uint32Array;
  readonly censored: Uint32Array;
  /** Greenwood standard error of survival[k]; NaN once survival has reached 0 (the formula divides by zero there). */
  readonly standardError: Float64Array;
}

interface RiskTable {
  times: Float64Array;
  atRisk: Uint32Array;
  events: Uint32Array;
  censored: Uint32Array;
}

/** Counts at each distinct observed time. */
function riskTable(data: SurvivalData): RiskTable {
  const order = orderByTime(data);
  const n = order.length;
  const times: number[] = [];
  const atRisk: number[] = [];
  const events: number[] = [];
  const censored: number[] = [];
  for (let k = 0; k < n; ) {
    const t = data.time[order[k]!]!;
    let d = 0;
    let c = 0;
    const start = k;
    for (; k < n && data.time[order[k]!] === t; k++) {
      if (data.event[order[k]!] === 1) d++;
      else c++;
    }
    times.push(t);
    atRisk.push(n - start);
    events.push(d);
    censored.push(c);
  }
  return {
    times: Float64Array.from(times),
    atRisk: Uint32Array.from(atRisk),
    events: Uint32Array.from(events),
    censored: Uint32Array.from(censored),
  };
}

/**
 * Kaplan–Meier estimate S(t) = Π_{t_k ≤ t} (1 − d_k / n_k) at every distinct observed time.
 * Ties: events precede censorings at the same time, so n_k counts those censored at t_k.
 */
export function kaplanMeier(time: NumericVector, event: NumericVector): KaplanMeierCurve {
  const table = riskTable(survivalData(time, event));
  const m = table.times.length;
  const survival = new Float64Array(m);
  const standardError = new Float64Array(m);
  let s = 1;
  let greenwood = 0;
  for (let k = 0; k < m; k++) {
    const n = table.atRisk[k]!;
    const d = table.events[k]!;
    s *= 1 - d / n;
    greenwood += d === n ? Number.POSITIVE_INFINITY : d / (n * (n - d));
    survival[k] = s;
    standardError[k] = s === 0 ? Number.NaN : s * Math.sqrt(greenwood);
  }
  return { ...table, survival, standardError };
}

/**
 * Kaplan–Meier estimate of the censoring survival G(t) = P(C > t): censorings play the events.
 * Because events precede censorings at equal times, a subject with an event at t_k is no longer at
 * risk of being censored at t_k: the risk set is n_k − d_k (as scikit-survival's reverse KM).
 * IPCW metrics here weight an event at T_i by 1/G(T_i−) (censoring strictly before T_i; the usual
 * convention, Graf 1999) and a subject still event-free at t by 1/G(t).
 */
export function censoringDistribution(time: NumericVector, event: NumericVector): SurvivalStep {
  const table = riskTable(survivalData(time, event));
  const m = table.times.length;
  const survival = new Float64Array(m);
  let g = 1;
  for (let k = 0; k < m; k++) {
    const n = table.atRisk[k]! - table.events[k]!;
    // n = 0 only when everyone left at t_k had the event; then nobody is censored either.
    if (n > 0) g *= 1 - table.censored[k]! / n;
    survival[k] = g;
  }
  return { times: table.times, survival };
}

/** Number of grid times ≤ t (binary search). */
export function countAtOrBefore(times: Float64Array, t: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (times[mid]! <= t) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Number of grid times < t (binary search). */
function countBefore(times: Float64Array, t: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (times[mid]! < t) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** S(t): the value at the last grid time ≤ t; 1 before the first grid time. */
export function survivalAt(step: SurvivalStep, t: number): number {
  const k = countAtOrBefore(step.times, t);
  return k === 0 ? 1 : step.survival[k - 1]!;
}

/** S(t−): the value at the last grid time < t; 1 up to and including the first grid time. */
export function survivalBefore(step: SurvivalStep, t: number): number {
  const k = countBefore(step.times, t);
  return k === 0 ? 1 : step.survival[k - 1]!;
}
