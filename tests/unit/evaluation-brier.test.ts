import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brierScore, integratedBrierScore } from '../../src/evaluation/index.js';
import { mulberry32 } from '../../src/synthetic/random.js';

// A 2 event | B 3 event | C 3 censored | D 4 event | E 4 event | F 6 censored
// Censoring KM: G(t) = 1 on [2, 3), 3/4 on [3, 6); G(2−) = G(3−) = 1, G(4−) = 3/4.
const time = [2, 3, 3, 4, 4, 6];
const event = [1, 1, 0, 1, 1, 0];
const predicted = [0.3, 0.6, 0.5, 0.4, 0.8, 0.9];
const half = new Array<number>(6).fill(0.5);

const close = (actual: number, expected: number, tolerance = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≠ ${expected}`);

// BS(3.5): A event ≤ t: .3²/1 = .09 | B event ≤ t: .6²/1 = .36 | C censored ≤ t: 0
//          D, E, F alive after t, weight 1/G(3.5) = 4/3: (.6² + .2² + .1²)·4/3 = .41·4/3
//          → (.45 + .41·4/3) / 6
const bs35 = (0.45 + (0.41 * 4) / 3) / 6;

test('Brier score at 3.5 by hand', () => {
  close(brierScore(time, event, predicted, 3.5), bs35);
});

test('Brier score at 4 by hand: events at t count as cases, weighted by G(4−)', () => {
  // A .09 | B .36 | C 0 | D .4²/(3/4) | E .8²/(3/4) | F (1 − .9)²/G(4) = .01/(3/4) → (.45 + .81·4/3) / 6
  close(brierScore(time, event, predicted, 4), (0.45 + (0.81 * 4) / 3) / 6);
  // S ≡ .5 scores .25 × (Σ weights) / n, and here the weights sum to n: 1 + 1 + 0 + 3 · 4/3 = 6.
  close(brierScore(time, event, half, 4), 0.25);
});

test('integrated Brier score by hand', () => {
  // BS(2) with S ≡ .5 is .25 (no censoring before 2); BS(3.5) as above; BS(4) = (.45 + 1.08) / 6 = .255
  // trapezoid: [(.25 + bs35)/2 · 1.5 + (bs35 + .255)/2 · .5] / (4 − 2)
  const result = integratedBrierScore(time, event, [2, 3.5, 4], [half, predicted, predicted]);
  close(result.scores[2]!, 0.255);
  close(result.integratedBrier, (((0.25 + bs35) / 2) * 1.5 + ((bs35 + 0.255) / 2) * 0.5) / 2);
});

test('a perfect predictor without censoring scores 0, S ≡ 1/2 scores 1/4', () => {
  const rand = mulberry32(31);
  const t = Array.from({ length: 100 }, () => rand() * 10);
  const e = new Array<number>(t.length).fill(1);
  for (const horizon of [1, 5, 9]) {
    assert.equal(brierScore(t, e, t.map((ti) => (ti > horizon ? 1 : 0)), horizon), 0);
    close(brierScore(t, e, new Array<number>(t.length).fill(0.5), horizon), 0.25);
  }
});

test('bad grids and predictions are refused', () => {
  assert.throws(() => integratedBrierScore(time, event, [2], [half]), /at least 2/);
  assert.throws(() => integratedBrierScore(time, event, [3, 2], [half, half]), /strictly increasing/);
  assert.throws(() => integratedBrierScore(time, event, [2, 3], [half]), /1 vectors/);
  assert.throws(() => brierScore(time, event, [1.2, 0, 0, 0, 0, 0], 3), /survivalAtT\[0\]/);
  // An external G (e.g. from training data) that is 0 where weights are needed leaves them undefined.
  const censoring = { times: Float64Array.of(1), survival: Float64Array.of(0) };
  assert.throws(() => brierScore([2, 6, 7], [1, 0, 0], [0.5, 0.5, 0.5], 3, { censoring }), /censoring survival/);
});
