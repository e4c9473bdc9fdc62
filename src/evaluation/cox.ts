// Cox proportional-hazards regression (the study's clinical comparator) by Newton–Raphson on the
// partial likelihood, and the Breslow baseline that turns any log-hazard score — a Cox linear
// predictor or DeepSurv's g(x) — into survival curves, as pycox does.
import { finiteVector, orderByTime, survivalData } from './input.js';
import type { NumericVector } from './input.js';
import { cholesky, choleskySolve, inverseDiagonal } from './linear-algebra.js';

/** Covariates, row-major: subject i's value of covariate j is `data[i * columns + j]`. No intercept column. */
export interface DesignMatrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly columns: number;
}

export type CoxTies = 'breslow' | 'efron';

export interface CoxOptions {
  /** Handling of tied event times (default 'efron', as R's coxph). */
  ties?: CoxTies;
  /** Ridge penalty λ‖β‖²/2 on the standardised coefficients (default 0). */
  ridge?: number;
  /** Newton iterations allowed before giving up (default 50). */
  maxIterations?: number;
  /** Convergence: relative change of the penalised log partial likelihood (default 1e-9). */
  tolerance?: number;
}

export interface CoxFit {
  /** β on the original covariate scale (log hazard ratio per unit). */
  readonly coefficients: Float64Array;
  /** From the inverse (penalised) information matrix, on the original scale. */
  readonly standardErrors: Float64Array;
  /** Unpenalised log partial likelihood at β̂ (with the chosen tie handling). */
  readonly logPartialLikelihood: number;
  /** The same at β = 0; 2(ℓ(β̂) − ℓ(0)) is the likelihood-ratio statistic. */
  readonly nullLogPartialLikelihood: number;
  readonly iterations: number;
  readonly ties: CoxTies;
  readonly ridge: number;
}

/** Breslow cumulative baseline hazard on the unique event times. */
export interface BaselineHazard {
  /** Unique event times, increasing. */
  readonly times: Float64Array;
  readonly cumulativeHazard: Float64Array;
}

/** Step a Newton step must fall below (standardised scale) to count as converged. */
const STEP_TOLERANCE = 1e-6;
const MAX_STEP_HALVINGS = 30;
/** Pivot floor of the information, relative to its largest diagonal entry at β = 0. */
const SINGULAR_TOLERANCE = 1e-10;

/** Packs rows of equal length into a DesignMatrix. */
export function designMatrix(rows: readonly (readonly number[])[]): DesignMatrix {
  const columns = rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * columns);
  rows.forEach((row, i) => {
    if (row.length !== columns) throw new RangeError(`row ${i} has ${row.length} values, row 0 has ${columns}`);
    data.set(row, i * columns);
  });
  return { data, rows: rows.length, columns };
}

function checkDesign(x: DesignMatrix, rows: number): void {
  if (x.rows !== rows) throw new RangeError(`X has ${x.rows} rows, expected ${rows}`);
  if (!Number.isInteger(x.columns) || x.columns < 1) throw new RangeError('X needs at least one column');
  if (x.data.length !== x.rows * x.columns) throw new RangeError(`X.data has ${x.data.length} values, rows × columns is ${x.rows * x.columns}`);
  for (let k = 0; k < x.data.length; k++) {
    if (!Number.isFinite(x.data[k]!)) throw new RangeError(`X[${Math.floor(k / x.columns)}][${k % x.columns}] is not finite`);
  }
}

/** The data as the likelihood sweep wants it: standardised, sorted by time, tied times grouped. */
interface CoxProblem {
  readonly n: number;
  readonly p: number;
  /** Standardised covariates, rows in time order. */
  readonly z: Float64Array;
  /** Start of each group of equal times, plus n at the end. */
  readonly groupStart: Uint32Array;
  /** Events in each group; they are the group's first members (events sort before censorings). */
  readonly deaths: Uint32Array;
  readonly ties: CoxTies;
}

interface Scale {
  mean: Float64Array;
  sd: Float64Array;
}

/** Column means and standard deviations; a constant column makes β unidentifiable, so it is refused. */
function columnScale(x: DesignMatrix): Scale {
  const { rows, columns, data } = x;
  const mean = new Float64Array(columns);
  const sd = new Float64Array(columns);
  for (let i = 0; i < rows; i++) for (let j = 0; j < columns; j++) mean[j]! += data[i * columns + j]! / rows;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      const d = data[i * columns + j]! - mean[j]!;
      sd[j]! += (d * d) / rows;
    }
  }
  for (let j = 0; j < columns; j++) {
    sd[j] = Math.sqrt(sd[j]!);
    if (!(sd[j]! > 1e-12 * Math.max(1, Math.abs(mean[j]!)))) throw new RangeError(`column ${j} of X is constant; remove it`);
  }
  return { mean, sd };
}

function coxProblem(time: Float64Array, event: Uint8Array, x: DesignMatrix, scale: Scale, ties: CoxTies): CoxProblem {
  const order = orderByTime({ time, event });
  const n = order.length;
  const p = x.columns;
  const z = new Float64Array(n * p);
  const groupStart: number[] = [];
  const deaths: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    for (let j = 0; j < p; j++) z[k * p + j] = (x.data[i * p + j]! - scale.mean[j]!) / scale.sd[j]!;
    if (k === 0 || time[i] !== time[order[k - 1]!]) {
      groupStart.push(k);
      deaths.push(0);
    }
    deaths[deaths.length - 1]! += event[i]!;
  }
  groupStart.push(n);
  return { n, p, z, groupStart: Uint32Array.from(groupStart), deaths: Uint32Array.from(deaths), ties };
}

interface Evaluation {
  loglik: number;
  gradient: Float64Array;
  /** Observed information (minus the Hessian), p × p. */
  information: Float64Array;
}

/**
 * Log partial likelihood, gradient and information at β in one sweep from the latest time down,
 * accumulating the risk-set sums S0 = Σ w, S1 = Σ w z, S2 = Σ w z zᵀ (upper triangle), w = e^{η − c}.
 * The shift c = max η keeps exp finite and cancels out of every term.
 * Breslow: each of the d deaths at t sees the full risk set. Efron: the l-th (l = 0…d−1) sees it
 * with l/d of the tied deaths' weight removed.
 */
function evaluate(problem: CoxProblem, beta: Float64Array): Evaluation {
  const { n, p, z, groupStart, deaths, ties } = problem;
  const eta = new Float64Array(n);
  let shift = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < p; j++) sum += z[i * p + j]! * beta[j]!;
    eta[i] = sum;
    if (sum > shift) shift = sum;
  }
  const w = eta.map((e) => Math.exp(e - shift));
  const s1 = new Float64Array(p);
  const s2 = new Float64Array(p * p);
  const e1 = new Float64Array(p);
  const e2 = new Float64Array(p * p);
  const a = new Float64Array(p);
  const gradient = new Float64Array(p);
  const information = new Float64Array(p * p);
  let s0 = 0;
  let loglik = 0;

  /**
   * Subtracts `times` copies of the denominator term for a risk set with the fraction f of the tied
   * deaths' sums (e0, e1, e2) removed: φ = S0 − f·e0, a = S1 − f·e1, b = S2 − f·e2.
   */
  const subtractTerm = (times: number, phi: number, f: number): void => {
    for (let j = 0; j < p; j++) a[j] = s1[j]! - f * e1[j]!;
    loglik -= times * Math.log(phi);
    for (let j = 0; j < p; j++) {
      gradient[j]! -= (times * a[j]!) / phi;
      for (let k = j; k < p; k++) {
        information[j * p + k]! += times * ((s2[j * p + k]! - f * e2[j * p + k]!) / phi - (a[j]! * a[k]!) / (phi * phi));
      }
    }
  };

  for (let g = groupStart.length - 2; g >= 0; g--) {
    const start = groupStart[g]!;
    const end = groupStart[g + 1]!;
    for (let i = start; i < end; i++) {
      s0 += w[i]!;
      addToSums(z, p, i, w[i]!, s1, s2);
    }
    const d = deaths[g]!;
    if (d === 0) continue;
    for (let i = start; i < start + d; i++) {
      loglik += eta[i]! - shift;
      for (let j = 0; j < p; j++) gradient[j]! += z[i * p + j]!;
    }
    if (ties === 'breslow' || d === 1) {
      subtractTerm(d, s0, 0);
      continue;
    }
    e1.fill(0);
    e2.fill(0);
    let e0 = 0;
    for (let i = start; i < start + d; i++) {
      e0 += w[i]!;
      addToSums(z, p, i, w[i]!, e1, e2);
    }
    for (let l = 0; l < d; l++) subtractTerm(1, s0 - (l / d) * e0, l / d);
  }
  for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) information[j * p + k] = information[k * p + j]!;
  return { loglik, gradient, information };
}

/** m1 += w z_i, m2 += w z_i z_iᵀ (upper triangle). */
function addToSums(z: Float64Array, p: number, i: number, w: number, m1: Float64Array, m2: Float64Array): void {
  const row = i * p;
  for (let j = 0; j < p; j++) {
    const wz = w * z[row + j]!;
    m1[j]! += wz;
    for (let k = j; k < p; k++) m2[j * p + k]! += wz * z[row + k]!;
  }
}

function penalised(evaluation: Evaluation, beta: Float64Array, ridge: number): number {
  let squares = 0;
  for (const b of beta) squares += b * b;
  return evaluation.loglik - (ridge / 2) * squares;
}

/**
 * Cholesky factor of the penalised information I + λ·Id. Pivots are judged against the information
 * at β = 0 (`reference`): information that has collapsed since then means the likelihood keeps rising
 * as some coefficient grows without bound.
 */
function penalisedFactor(information: Float64Array, p: number, ridge: number, reference: number, iteration: number): Float64Array {
  const matrix = Float64Array.from(information);
  for (let j = 0; j < p; j++) matrix[j * p + j]! += ridge;
  try {
    return cholesky(matrix, p, SINGULAR_TOLERANCE, reference);
  } catch (cause) {
    const why =
      iteration === 0
        ? 'collinear covariates, or too few events'
        : 'a coefficient is running off to infinity (monotone likelihood: a covariate, or a combination, separates the deaths)';
    throw new Error(`Cox fit: the information matrix is singular (${why}); try options.ridge`, { cause });
  }
}

/**
 * Fits h(t | x) = h0(t) exp(xᵀβ). Covariates are standardised internally (better conditioning;
 * the ridge penalty applies on that scale) and β is returned per original unit. Newton steps are
 * halved until the penalised likelihood does not decrease (beyond the tolerance). Converged when its relative change is
 * below `tolerance` and the step below 1e-6. A coefficient running off to infinity (monotone
 * likelihood) throws instead of being returned as a large number: its information collapses, or
 * its steps never shrink.
 */
export function fitCox(time: NumericVector, event: NumericVector, x: DesignMatrix, options: CoxOptions = {}): CoxFit {
  const data = survivalData(time, event);
  checkDesign(x, data.time.length);
  if (!data.event.includes(1)) throw new RangeError('event has no events; the Cox model cannot be fitted');
  const ties = options.ties ?? 'efron';
  const ridge = options.ridge ?? 0;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-9;
  if (!(ridge >= 0) || !Number.isFinite(ridge)) throw new RangeError(`ridge is ${ridge}; it must be finite and ≥ 0`);
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new RangeError(`maxIterations is ${maxIterations}; it must be a positive integer`);
  if (!(tolerance > 0)) throw new RangeError(`tolerance is ${tolerance}; it must be > 0`);
  const scale = columnScale(x);
  const problem = coxProblem(data.time, data.event, x, scale, ties);
  const p = problem.p;

  let beta = new Float64Array(p);
  let current = evaluate(problem, beta);
  const nullLogPartialLikelihood = current.loglik;
  let reference = 0;
  for (let j = 0; j < p; j++) reference = Math.max(reference, current.information[j * p + j]! + ridge);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const before = penalised(current, beta, ridge);
    const score = current.gradient.map((g, j) => g - ridge * beta[j]!);
    let step = choleskySolve(penalisedFactor(current.information, p, ridge, reference, iteration - 1), p, score);
    let candidate = beta.map((b, j) => b + step[j]!);
    let next = evaluate(problem, candidate);
    // A loss within the tolerance is rounding noise near the optimum, not a reason to halve.
    const floor = before - tolerance * Math.max(1, Math.abs(before));
    for (let halving = 0; !(penalised(next, candidate, ridge) >= floor) && halving < MAX_STEP_HALVINGS; halving++) {
      step = step.map((s) => s / 2);
      candidate = beta.map((b, j) => b + step[j]!);
      next = evaluate(problem, candidate);
    }
    const after = penalised(next, candidate, ridge);
    const change = Math.abs(after - before);
    if (!(after >= floor)) {
      throw new Error(`Cox fit: no step improves the partial likelihood at iteration ${iteration} (numerical trouble)`);
    }
    beta = candidate;
    current = next;
    const largestStep = step.reduce((m, s) => Math.max(m, Math.abs(s)), 0);
    if (change <= tolerance * Math.max(1, Math.abs(after)) && largestStep <= STEP_TOLERANCE) {
      const variance = inverseDiagonal(penalisedFactor(current.information, p, ridge, reference, iteration), p);
      return {
        coefficients: beta.map((b, j) => b / scale.sd[j]!),
        standardErrors: variance.map((v, j) => Math.sqrt(v) / scale.sd[j]!),
        logPartialLikelihood: current.loglik,
        nullLogPartialLikelihood,
        iterations: iteration,
        ties,
        ridge,
      };
    }
  }
  throw new Error(
    `Cox fit did not converge in ${maxIterations} iterations; a coefficient may be infinite (a covariate that separates events from non-events); try options.ridge`,
  );
}

/** xᵀβ for each row, uncentred (no mean subtracted): the scale breslowBaseline expects. */
export function linearPredictor(fit: Pick<CoxFit, 'coefficients'>, x: DesignMatrix): Float64Array {
  const p = fit.coefficients.length;
  if (x.columns !== p) throw new RangeError(`X has ${x.columns} columns, the fit has ${p} coefficients`);
  checkDesign(x, x.rows);
  const lp = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let sum = 0;
    for (let j = 0; j < p; j++) sum += x.data[i * p + j]! * fit.coefficients[j]!;
    lp[i] = sum;
  }
  return lp;
}

/**
 * Breslow estimator of the cumulative baseline hazard (as pycox's compute_baseline_hazards):
 * h0(t_k) = d_k / Σ_{T_j ≥ t_k} exp(lp_j) at each unique event time t_k, H0 its cumulative sum.
 * `linearPredictor` is the model's log hazard ratio on the training data, uncentred; use the same
 * scale when predicting. Very large lp (> ~700) overflows exp.
 */
export function breslowBaseline(time: NumericVector, event: NumericVector, linearPredictor: NumericVector): BaselineHazard {
  const data = survivalData(time, event);
  const lp = finiteVector(linearPredictor, data.time.length, 'linearPredictor');
  const order = orderByTime(data);
  const times: number[] = [];
  const hazards: number[] = [];
  let riskSum = 0;
  for (let end = order.length; end > 0; ) {
    const t = data.time[order[end - 1]!]!;
    let start = end;
    let d = 0;
    for (; start > 0 && data.time[order[start - 1]!] === t; start--) {
      riskSum += Math.exp(lp[order[start - 1]!]!);
      d += data.event[order[start - 1]!]!;
    }
    if (d > 0) {
      times.push(t);
      hazards.push(d / riskSum);
    }
    end = start;
  }
  times.reverse();
  hazards.reverse();
  const cumulativeHazard = new Float64Array(hazards.length);
  let total = 0;
  hazards.forEach((h, k) => {
    total += h;
    cumulativeHazard[k] = total;
  });
  return { times: Float64Array.from(times), cumulativeHazard };
}
