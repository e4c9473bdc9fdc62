// Concordance indices for right-censored data: Harrell's C and Uno's IPCW C. One O(n log n) sweep
// serves both: subjects are visited from the longest time down, and a Fenwick tree over the ranks of
// the risk scores counts, for each event, how many comparable partners have lower or equal risk.
//
// Conventions (as scikit-survival's concordance_index_censored / _ipcw):
// - a pair (i, j) is comparable when i had an event and T_i < T_j, or T_i = T_j with j censored
//   (an event precedes a censoring at the same time); two events at the same time are not comparable;
// - concordant when risk_i > risk_j (higher score = higher risk = shorter survival);
// - exactly equal risk scores count 1/2 (no tolerance: round the scores first if you need one).
import { finiteVector, orderByTime, survivalData } from './input.js';
import type { NumericVector, SurvivalData } from './input.js';
import { censoringFor, eventWeight } from './ipcw.js';
import type { IpcwOptions } from './ipcw.js';

export interface ConcordanceResult {
  /** (concordant + tiedRisk / 2) / comparable. */
  readonly cIndex: number;
  /** Pair counts; for Uno's C each pair carries the weight of its event subject. */
  readonly concordant: number;
  readonly discordant: number;
  readonly tiedRisk: number;
  readonly comparable: number;
}

export interface UnoOptions extends IpcwOptions {
  /** Truncation time τ: only events with T_i < τ start a pair. Default +Infinity (no truncation). */
  tau?: number;
}

export interface UnoConcordanceResult extends ConcordanceResult {
  /** The τ used. */
  readonly tau: number;
}

/** Counts over the ranks 0 … size−1 with O(log n) update and prefix sum. */
class FenwickTree {
  private readonly tree: Float64Array;
  total = 0;

  constructor(size: number) {
    this.tree = new Float64Array(size + 1);
  }

  add(rank: number): void {
    this.total++;
    for (let k = rank + 1; k < this.tree.length; k += k & -k) this.tree[k]! += 1;
  }

  /** Count of entries with rank < `rank`. */
  below(rank: number): number {
    let sum = 0;
    for (let k = rank; k > 0; k -= k & -k) sum += this.tree[k]!;
    return sum;
  }
}

/** Dense ranks of the scores (equal scores share a rank) and the number of distinct scores. */
function denseRanks(scores: Float64Array): { rank: Uint32Array; levels: number } {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  const rank = new Uint32Array(scores.length);
  let level = 0;
  for (let k = 0; k < order.length; k++) {
    if (k > 0 && scores[order[k]!]! !== scores[order[k - 1]!]!) level++;
    rank[order[k]!] = level;
  }
  return { rank, levels: level + 1 };
}

/** The shared sweep; `weight[i]` multiplies every pair that event subject i starts. */
function weightedConcordance(data: SurvivalData, risk: Float64Array, weight: (i: number) => number): ConcordanceResult {
  const order = orderByTime(data);
  const { rank, levels } = denseRanks(risk);
  const tree = new FenwickTree(levels);
  let concordant = 0;
  let tiedRisk = 0;
  let comparable = 0;
  for (let end = order.length; end > 0; ) {
    const t = data.time[order[end - 1]!]!;
    let start = end - 1;
    while (start > 0 && data.time[order[start - 1]!] === t) start--;
    // Censorings at t are comparable partners of the events at t, so they enter the tree first;
    // the events at t enter only after all of them have been scored.
    for (let k = start; k < end; k++) if (data.event[order[k]!] === 0) tree.add(rank[order[k]!]!);
    for (let k = start; k < end; k++) {
      const i = order[k]!;
      if (data.event[i] === 0) continue;
      const w = weight(i);
      if (w === 0) continue;
      const r = rank[i]!;
      const below = tree.below(r);
      concordant += w * below;
      tiedRisk += w * (tree.below(r + 1) - below);
      comparable += w * tree.total;
    }
    for (let k = start; k < end; k++) if (data.event[order[k]!] === 1) tree.add(rank[order[k]!]!);
    end = start;
  }
  if (!(comparable > 0)) throw new RangeError('no comparable pairs: the C-index is undefined');
  return {
    cIndex: (concordant + tiedRisk / 2) / comparable,
    concordant,
    discordant: comparable - concordant - tiedRisk,
    tiedRisk,
    comparable,
  };
}

/** Harrell's C: the share of comparable pairs ordered correctly by the risk score. */
export function harrellC(time: NumericVector, event: NumericVector, risk: NumericVector): ConcordanceResult {
  const data = survivalData(time, event);
  return weightedConcordance(data, finiteVector(risk, data.time.length, 'risk'), () => 1);
}

/**
 * Uno's C (Uno et al., Stat Med 2011): each pair started by an event at T_i < τ carries weight
 * 1/G(T_i−)², which makes the estimate free of the censoring distribution; pairs started by later
 * events are dropped. τ should be a time where G(τ) is still well above 0.
 */
export function unoC(time: NumericVector, event: NumericVector, risk: NumericVector, options: UnoOptions = {}): UnoConcordanceResult {
  const data = survivalData(time, event);
  const scores = finiteVector(risk, data.time.length, 'risk');
  const tau = options.tau ?? Number.POSITIVE_INFINITY;
  if (Number.isNaN(tau)) throw new RangeError('tau must be a number');
  const censoring = censoringFor(data, options);
  const weight = (i: number): number => {
    const t = data.time[i]!;
    if (!(t < tau)) return 0;
    const w = eventWeight(censoring, t);
    return w * w;
  };
  return { ...weightedConcordance(data, scores, weight), tau };
}
