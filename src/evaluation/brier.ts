// IPCW Brier score (Graf et al., Stat Med 1999) and its integral over a time grid, as
// scikit-survival's brier_score / integrated_brier_score except that an event at T_i is weighted by
// 1/G(T_i−) where scikit-survival reads G(T_i); the two differ only when censorings tie with events.
import { finiteNumber, probabilityVector, survivalData } from './input.js';
import type { NumericVector, SurvivalData } from './input.js';
import { censoringFor, eventWeight, survivorWeight } from './ipcw.js';
import type { IpcwOptions } from './ipcw.js';
import type { SurvivalStep } from './kaplan-meier.js';

export interface IntegratedBrierResult {
  /** ∫ BS(t) dt / (t_last − t_first), trapezoid rule over the grid. */
  readonly integratedBrier: number;
  readonly grid: Float64Array;
  /** BS at each grid time. */
  readonly scores: Float64Array;
}

function brierAt(data: SurvivalData, censoring: SurvivalStep, survival: Float64Array, t: number): number {
  let sum = 0;
  for (let i = 0; i < survival.length; i++) {
    const s = survival[i]!;
    const ti = data.time[i]!;
    if (ti > t) sum += (1 - s) * (1 - s) * survivorWeight(censoring, t);
    else if (data.event[i] === 1) sum += s * s * eventWeight(censoring, ti);
    // Censored at or before t: status at t unknown, contributes 0 but stays in the denominator n.
  }
  return sum / survival.length;
}

/**
 * BS(t) = (1/n) Σ_i [ S_i(t)² · I(T_i ≤ t, event) / G(T_i−) + (1 − S_i(t))² · I(T_i > t) / G(t) ].
 * `survivalAtT[i]` is the predicted S_i(t). Lower is better; 0.25 is what S ≡ 0.5 scores uncensored.
 */
export function brierScore(
  time: NumericVector,
  event: NumericVector,
  survivalAtT: NumericVector,
  t: number,
  options: IpcwOptions = {},
): number {
  const data = survivalData(time, event);
  const survival = probabilityVector(survivalAtT, data.time.length, 'survivalAtT');
  const censoring = censoringFor(data, options);
  return brierAt(data, censoring, survival, finiteNumber(t, 't'));
}

/**
 * Integrated Brier score over `grid` (≥ 2 strictly increasing times): trapezoid rule divided by
 * the span. `survivalOnGrid[k][i]` is the predicted S_i(grid[k]), one vector per grid time. Keep
 * the grid inside the follow-up, where G stays above 0.
 */
export function integratedBrierScore(
  time: NumericVector,
  event: NumericVector,
  grid: NumericVector,
  survivalOnGrid: readonly NumericVector[],
  options: IpcwOptions = {},
): IntegratedBrierResult {
  const data = survivalData(time, event);
  const times = Float64Array.from(grid);
  if (times.length < 2) throw new RangeError('grid needs at least 2 times');
  if (survivalOnGrid.length !== times.length) {
    throw new RangeError(`survivalOnGrid has ${survivalOnGrid.length} vectors, grid has ${times.length} times`);
  }
  for (let k = 0; k < times.length; k++) {
    finiteNumber(times[k]!, `grid[${k}]`);
    if (k > 0 && !(times[k]! > times[k - 1]!)) throw new RangeError('grid must be strictly increasing');
  }
  const censoring = censoringFor(data, options);
  const scores = times.map((t, k) =>
    brierAt(data, censoring, probabilityVector(survivalOnGrid[k]!, data.time.length, `survivalOnGrid[${k}]`), t),
  );
  let area = 0;
  for (let k = 1; k < times.length; k++) area += ((scores[k]! + scores[k - 1]!) / 2) * (times[k]! - times[k - 1]!);
  return { integratedBrier: area / (times[times.length - 1]! - times[0]!), grid: times, scores };
}
