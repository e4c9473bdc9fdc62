import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calibrationAtHorizon, dCalibration } from '../../src/evaluation/index.js';
import { mulberry32 } from '../../src/synthetic/random.js';

const close = (actual: number, expected: number, tolerance = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≠ ${expected}`);

/**
 * Exponential survival with hazard λ_i = 0.1·exp(x_i), x_i ~ N(0, 0.8²), independent Exp(0.05)
 * censoring and the end of follow-up at 10 years. Returns the true hazard rates too.
 */
function simulateExponential(n: number, seed: number): { time: Float64Array; event: Uint8Array; rate: Float64Array } {
  const rand = mulberry32(seed);
  const exponential = (rate: number): number => -Math.log(1 - rand()) / rate;
  const time = new Float64Array(n);
  const event = new Uint8Array(n);
  const rate = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = 0.8 * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    rate[i] = 0.1 * Math.exp(x);
    const t = exponential(rate[i]!);
    const c = Math.min(exponential(0.05), 10);
    time[i] = Math.min(t, c);
    event[i] = t <= c ? 1 : 0;
  }
  return { time, event, rate };
}

test('calibration at a horizon by hand (2 groups)', () => {
  // A 2 event | B 3 event | C 3 censored | D 4 event | E 4 event | F 6 censored; t* = 4.5
  // predicted S(t*) .3 .6 .5 .4 .8 .9 → risk F .7 .4 .5 .6 .2 .1
  // low group  {F .1, E .2, B .4}: mean .7/3; KM: t3 n3 d1 → 2/3, t4 n2 d1 → 1/3 → observed 2/3,
  //   Greenwood (1/3)²·(1/6 + 1/2) = 2/27; events by t*: B, E
  // high group {C .5, D .6, A .7}: mean .6; KM: t2 n3 d1 → 2/3, t4 n1 d1 → 0 → observed 1 (SE NaN)
  // line through (7/30, 2/3) and (3/5, 1) with equal weights: slope (1/3)/(11/30) = 10/11,
  //   intercept 2/3 − 10/11 · 7/30 = 5/11
  // in the large: overall KM(4.5) = 2/9 → observed 7/9; mean predicted 2.5/6 → ratio 28/15
  const result = calibrationAtHorizon([2, 3, 3, 4, 4, 6], [1, 1, 0, 1, 1, 0], [0.3, 0.6, 0.5, 0.4, 0.8, 0.9], 4.5, { groups: 2 });
  const [low, high] = result.groups;
  assert.deepEqual([low!.n, low!.events, high!.n, high!.events], [3, 2, 3, 2]);
  close(low!.meanPredictedRisk, 0.7 / 3);
  close(low!.observedRisk, 2 / 3);
  close(low!.observedRiskStdErr, Math.sqrt(2 / 27));
  close(high!.meanPredictedRisk, 0.6);
  close(high!.observedRisk, 1);
  assert.ok(Number.isNaN(high!.observedRiskStdErr));
  close(result.slope, 10 / 11);
  close(result.intercept, 5 / 11);
  close(result.observedRisk, 7 / 9);
  close(result.meanPredictedRisk, 2.5 / 6);
  close(result.observedToPredicted, 28 / 15);
});

test('a correctly specified model is calibrated by decile', () => {
  const { time, event, rate } = simulateExponential(20000, 41);
  const horizon = 5;
  const result = calibrationAtHorizon(time, event, rate.map((r) => Math.exp(-r * horizon)), horizon);
  assert.equal(result.groups.length, 10);
  assert.equal(result.groups.reduce((n, g) => n + g.n, 0), 20000);
  assert.ok(Math.abs(result.slope - 1) < 0.1, `slope ${result.slope}`);
  assert.ok(Math.abs(result.intercept) < 0.03, `intercept ${result.intercept}`);
  assert.ok(Math.abs(result.observedToPredicted - 1) < 0.05, `O/E ${result.observedToPredicted}`);
});

test('constant predictions leave the calibration line undefined', () => {
  const result = calibrationAtHorizon([1, 2, 3, 4], [1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5], 2.5, { groups: 2 });
  assert.ok(Number.isNaN(result.slope) && Number.isNaN(result.intercept));
  assert.throws(() => calibrationAtHorizon([1, 2], [1, 0], [0.5, 0.5], 2, { groups: 3 }), /groups is 3/);
});

test('D-calibration by hand', () => {
  // event, S(T) = .95 → bucket 9 gets 1;  event, S(T) = .05 → bucket 0 gets 1
  // censored, S(c) = .25 → bucket 2 gets (.25 − .2)/.25 = .2; buckets 0, 1 get .1/.25 = .4 each
  // censored, S(c) = 1 → bucket 9 gets (1 − .9)/1 = .1; buckets 0–8 get .1 each
  // counts 1.5 .5 .3 .1 .1 .1 .1 .1 .1 1.1 (sum 4); expected .4 each
  // χ² = (1.1² + .1² + .1² + 6·.3² + .7²) / .4 = 2.26 / .4 = 5.65
  // p = P(χ²₉ ≥ 5.65) = 0.774372 (closed form for odd df: 2Q(√x) + 2φ(√x)·Σ_{k=1..4} x^{k−½}/(1·3·…·(2k−1)))
  const result = dCalibration([1, 1, 0, 0], [0.95, 0.05, 0.25, 1]);
  [1.5, 0.5, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 1.1].forEach((c, k) => close(result.counts[k]!, c, 1e-12));
  close(result.statistic, 5.65, 1e-12);
  assert.equal(result.degreesOfFreedom, 9);
  close(result.pValue, 0.7743719869809125, 1e-9);
});

test('D-calibration accepts the true model and rejects a mis-scaled one', () => {
  const { time, event, rate } = simulateExponential(2000, 43);
  const correct = dCalibration(event, rate.map((r, i) => Math.exp(-r * time[i]!)));
  assert.ok(correct.pValue > 0.01, `p = ${correct.pValue}`);
  const threefold = dCalibration(event, rate.map((r, i) => Math.exp(-3 * r * time[i]!)));
  assert.ok(threefold.pValue < 0.001, `p = ${threefold.pValue}`);
});
