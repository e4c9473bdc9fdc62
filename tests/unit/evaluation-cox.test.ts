import assert from 'node:assert/strict';
import { test } from 'node:test';
import { breslowBaseline, designMatrix, fitCox, linearPredictor } from '../../src/evaluation/index.js';
import { survivalAt } from '../../src/model/survival.js';
import type { DesignMatrix } from '../../src/evaluation/index.js';
import { mulberry32 } from '../../src/synthetic/random.js';

const close = (actual: number, expected: number, tolerance = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≠ ${expected}`);

/**
 * Exponential survival with hazard 0.1·exp(xᵀβ), x ~ N(0, 1) per covariate, independent Exp(0.1)
 * censoring. Times are continuous, so there are no ties.
 */
function simulateCox(n: number, beta: readonly number[], seed: number): { time: Float64Array; event: Uint8Array; x: DesignMatrix } {
  const rand = mulberry32(seed);
  const p = beta.length;
  const data = new Float64Array(n * p);
  const time = new Float64Array(n);
  const event = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let eta = 0;
    for (let j = 0; j < p; j++) {
      data[i * p + j] = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      eta += data[i * p + j]! * beta[j]!;
    }
    const t = -Math.log(1 - rand()) / (0.1 * Math.exp(eta));
    const c = -Math.log(1 - rand()) / 0.1;
    time[i] = Math.min(t, c);
    event[i] = t <= c ? 1 : 0;
  }
  return { time, event, x: { data, rows: n, columns: p } };
}

// R survival's aml data: time in weeks, status, and x = 1 for "Nonmaintained".
const aml = {
  time: [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45],
  status: [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1],
  x: designMatrix([...new Array<number[]>(11).fill([0]), ...new Array<number[]>(12).fill([1])]),
};

test('R survival reference: coxph(Surv(time, status) ~ x, data = aml)', () => {
  // R prints coef 0.9155, se(coef) 0.5119, likelihood ratio test 3.38 on 1 df (Efron ties).
  const fit = fitCox(aml.time, aml.status, aml.x);
  assert.equal(fit.ties, 'efron');
  close(fit.coefficients[0]!, 0.9155, 5e-5);
  close(fit.standardErrors[0]!, 0.5119, 5e-5);
  close(2 * (fit.logPartialLikelihood - fit.nullLogPartialLikelihood), 3.38, 5e-3);
});

test('log partial likelihood at β = 0 by hand, Breslow and Efron', () => {
  // Times 2 3 3+ 4 4 6+: events at 2 (6 at risk), 3 (5 at risk), 4 (two tied, 3 at risk).
  // Breslow: −log 6 − log 5 − 2 log 3
  // Efron: the second tied death at 4 sees 3 − ½·2 = 2 → −log 6 − log 5 − log 3 − log 2 = −log 180
  const time = [2, 3, 3, 4, 4, 6];
  const event = [1, 1, 0, 1, 1, 0];
  const x = designMatrix([[1], [0], [1], [0], [1], [0]]);
  close(fitCox(time, event, x, { ties: 'breslow' }).nullLogPartialLikelihood, -Math.log(6) - Math.log(5) - 2 * Math.log(3));
  close(fitCox(time, event, x, { ties: 'efron' }).nullLogPartialLikelihood, -Math.log(180));
});

test('recovers known coefficients from simulated data', () => {
  const beta = [0.5, -0.8, 0.3];
  const { time, event, x } = simulateCox(5000, beta, 47);
  for (const ties of ['breslow', 'efron'] as const) {
    const fit = fitCox(time, event, x, { ties });
    beta.forEach((b, j) => {
      // The standard errors are about 0.02 here; 4 of them is a generous band.
      assert.ok(Math.abs(fit.coefficients[j]! - b) < 4 * fit.standardErrors[j]!, `${ties} β${j} ${fit.coefficients[j]} vs ${b}`);
      assert.ok(fit.standardErrors[j]! < 0.05);
    });
  }
});

test('coefficients are on the original scale: rescaling a covariate rescales its β', () => {
  const { time, event, x } = simulateCox(500, [0.5, -0.3], 53);
  const scaled = { ...x, data: x.data.map((v, k) => (k % 2 === 0 ? v * 10 + 3 : v)) };
  const a = fitCox(time, event, x);
  const b = fitCox(time, event, scaled);
  close(b.coefficients[0]! * 10, a.coefficients[0]!, 1e-8);
  close(b.standardErrors[0]! * 10, a.standardErrors[0]!, 1e-8);
  close(b.coefficients[1]!, a.coefficients[1]!, 1e-8);
});

test('Breslow and Efron agree when no event times are tied', () => {
  const { time, event, x } = simulateCox(300, [0.4, 0.2], 59);
  const breslow = fitCox(time, event, x, { ties: 'breslow' });
  const efron = fitCox(time, event, x, { ties: 'efron' });
  breslow.coefficients.forEach((b, j) => close(b, efron.coefficients[j]!, 1e-12));
  close(breslow.logPartialLikelihood, efron.logPartialLikelihood, 1e-9);
});

test('the ridge penalty shrinks coefficients towards 0', () => {
  const { time, event, x } = simulateCox(300, [0.6, -0.6], 61);
  const plain = fitCox(time, event, x);
  const ridged = fitCox(time, event, x, { ridge: 50 });
  assert.equal(ridged.ridge, 50);
  ridged.coefficients.forEach((b, j) => assert.ok(Math.abs(b) < Math.abs(plain.coefficients[j]!)));
});

test('unfittable designs throw clear errors', () => {
  const time = [1, 2, 3, 4, 5, 6];
  const event = [1, 0, 1, 1, 0, 1];
  assert.throws(() => fitCox(time, event, designMatrix(time.map(() => [2]))), /column 0 of X is constant/);
  assert.throws(() => fitCox(time, event, designMatrix(time.map((t) => [t % 2, 2 * (t % 2)]))), /singular \(collinear/);
  // The covariate ranks the deaths perfectly (higher x, earlier death): β̂ = +∞.
  assert.throws(() => fitCox(time, event, designMatrix(time.map((t) => [-t]))), /running off to infinity/);
  assert.throws(() => fitCox(aml.time, aml.status, aml.x, { maxIterations: 1 }), /did not converge in 1 iterations/);
  assert.throws(() => fitCox(time, [0, 0, 0, 0, 0, 0], designMatrix(time.map((t) => [t]))), /no events/);
  assert.throws(() => fitCox(time, event, designMatrix([[1]])), /X has 1 rows/);
  // A ridge penalty makes the separated case finite.
  assert.ok(Number.isFinite(fitCox(time, event, designMatrix(time.map((t) => [-t])), { ridge: 1 }).coefficients[0]!));
});

test('linearPredictor is xᵀβ, uncentred', () => {
  const fit = { coefficients: Float64Array.of(0.5, -2) };
  assert.deepEqual(Array.from(linearPredictor(fit, designMatrix([[1, 1], [4, 0]]))), [-1.5, 2]);
  assert.throws(() => linearPredictor(fit, designMatrix([[1]])), /1 columns/);
});

test('Breslow baseline and survival by hand', () => {
  // A 2 event | B 3 event | C 3+ | D 4 event | E 4 event | F 6+, exp(lp) = 1 2 1 1 2 1
  // h0(2) = 1 / (1+2+1+1+2+1) = 1/8; h0(3) = 1 / (2+1+1+2+1) = 1/7; h0(4) = 2 / (1+2+1) = 1/2
  // H0 = 1/8, 15/56, 43/56 at 2, 3, 4 (no entry at 6: censored)
  const lp = [0, Math.LN2, 0, 0, Math.LN2, 0];
  const baseline = breslowBaseline([2, 3, 3, 4, 4, 6], [1, 1, 0, 1, 1, 0], lp);
  assert.deepEqual(Array.from(baseline.times), [2, 3, 4]);
  [1 / 8, 15 / 56, 43 / 56].forEach((h, k) => close(baseline.cumulativeHazard[k]!, h));
  // S(t | lp = ln 2) = exp(−H0 · 2), a step function: 1 before 2, H0(3) on [3, 4), no extrapolation.
  const grid = { times: Array.from(baseline.times), cumulativeHazard: Array.from(baseline.cumulativeHazard) };
  close(survivalAt(grid, Math.LN2, 1.9)!, 1);
  close(survivalAt(grid, Math.LN2, 3)!, Math.exp((-15 / 56) * 2));
  close(survivalAt(grid, Math.LN2, 3.99)!, Math.exp((-15 / 56) * 2));
  close(survivalAt(grid, Math.LN2, 4)!, Math.exp((-43 / 56) * 2));
  assert.equal(survivalAt(grid, Math.LN2, 100), null);
});

test('20,000 subjects × 30 covariates: the coefficients are recovered', () => {
  const beta = Array.from({ length: 30 }, (_, j) => (j % 3 === 0 ? 0.3 : j % 3 === 1 ? -0.2 : 0));
  const { time, event, x } = simulateCox(20000, beta, 67);
  const fit = fitCox(time, event, x, { ties: 'efron' });
  beta.forEach((b, j) => assert.ok(Math.abs(fit.coefficients[j]! - b) < 0.06, `β${j} ${fit.coefficients[j]} vs ${b}`));
});
