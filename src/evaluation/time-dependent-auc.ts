// Cumulative/dynamic time-dependent AUC (Uno et al. 2007; Hung & Chiang 2010), the estimator of
// scikit-survival's cumulative_dynamic_auc: how well the score separates those who had the event by
// t (cases) from those still event-free after t (controls).
import { finiteNumber, finiteVector, survivalData } from './input.js';
import type { NumericVector } from './input.js';
import { censoringFor, eventWeight } from './ipcw.js';
import type { IpcwOptions } from './ipcw.js';

export interface TimeDependentAucResult {
  readonly time: number;
  readonly auc: number;
  /** Subjects with an event at T_i ≤ t. */
  readonly cases: number;
  /** Subjects with T_j > t (event or censoring later). */
  readonly controls: number;
}

/** Sorted copy of the scores of the subjects selected. */
function sortedScores(scores: Float64Array, selected: (i: number) => boolean): Float64Array {
  const picked: number[] = [];
  for (let i = 0; i < scores.length; i++) if (selected(i)) picked.push(scores[i]!);
  return Float64Array.from(picked).sort();
}

/** Number of sorted values < x (strict) or ≤ x (`inclusive`). */
function rankIn(sorted: Float64Array, x: number, inclusive: boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < x || (inclusive && sorted[mid] === x)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * AUC(t) = Σ_i Σ_j w_i [I(r_i > r_j) + ½ I(r_i = r_j)] / (Σ_i w_i · #controls), i over cases
 * (event with T_i ≤ t) weighted w_i = 1/G(T_i−), j over controls (T_j > t). Controls need no weight:
 * they all share 1/G(t), which cancels. Subjects censored at or before t are neither.
 * `risk` is any score where higher = higher risk by t, e.g. 1 − S_i(t) for a model with curves.
 */
export function cumulativeDynamicAuc(
  time: NumericVector,
  event: NumericVector,
  risk: NumericVector,
  t: number,
  options: IpcwOptions = {},
): TimeDependentAucResult {
  const data = survivalData(time, event);
  const scores = finiteVector(risk, data.time.length, 'risk');
  finiteNumber(t, 't');
  const censoring = censoringFor(data, options);
  const controls = sortedScores(scores, (j) => data.time[j]! > t);
  let cases = 0;
  let weighted = 0;
  let caseWeight = 0;
  for (let i = 0; i < scores.length; i++) {
    if (data.event[i] === 0 || data.time[i]! > t) continue;
    const w = eventWeight(censoring, data.time[i]!);
    const below = rankIn(controls, scores[i]!, false);
    const ties = rankIn(controls, scores[i]!, true) - below;
    weighted += w * (below + ties / 2);
    caseWeight += w;
    cases++;
  }
  if (cases === 0 || controls.length === 0) {
    throw new RangeError(`AUC at t = ${t} is undefined: ${cases} cases and ${controls.length} controls`);
  }
  return { time: t, auc: weighted / (caseWeight * controls.length), cases, controls: controls.length };
}
