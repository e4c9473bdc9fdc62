import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cumulativeDynamicAuc } from '../../src/evaluation/index.js';
import { mulberry32 } from '../../src/synthetic/random.js';

// A 2 event r=.9 | B 3 event r=.5 | C 3 censored r=.7 | D 4 event r=.6 | E 4 event r=.2 | F 6 censored r=.2
// Censoring KM (see the Kaplan–Meier test): G(2−) = G(3−) = 1, G(4−) = 3/4.
const time = [2, 3, 3, 4, 4, 6];
const event = [1, 1, 0, 1, 1, 0];
const risk = [0.9, 0.5, 0.7, 0.6, 0.2, 0.2];

const close = (actual: number, expected: number, tolerance = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≠ ${expected}`);

test('AUC(3.5) by hand', () => {
  // cases A (w 1), B (w 1); controls D .6, E .2, F .2; C censored before 3.5 is neither
  // A beats all 3; B beats E, F, loses to D → (3 + 2) / (2 · 3) = 5/6
  const auc = cumulativeDynamicAuc(time, event, risk, 3.5);
  close(auc.auc, 5 / 6);
  assert.deepEqual([auc.time, auc.cases, auc.controls], [3.5, 2, 3]);
});

test('AUC(4.5) by hand: later cases carry 1/G(T−)', () => {
  // cases A, B (w 1), D, E (w 1/G(4−) = 4/3); the one control F .2
  // A 1, B 1, D 1, E ties ½ → (1 + 1 + 4/3 + 2/3) / (1 + 1 + 4/3 + 4/3) = 4 / (14/3) = 6/7
  close(cumulativeDynamicAuc(time, event, risk, 4.5).auc, 6 / 7);
});

test('without censoring it is the Mann–Whitney AUC of cases against controls', () => {
  const rand = mulberry32(29);
  const t = Array.from({ length: 300 }, () => rand() * 10);
  const e = new Array<number>(t.length).fill(1);
  const r = t.map((x) => Math.round(10 - x + rand() * 6));
  const horizon = 4;
  let wins = 0;
  let pairs = 0;
  t.forEach((ti, i) => {
    if (ti > horizon) return;
    t.forEach((tj, j) => {
      if (tj <= horizon) return;
      pairs++;
      wins += r[i]! > r[j]! ? 1 : r[i] === r[j] ? 0.5 : 0;
    });
  });
  close(cumulativeDynamicAuc(t, e, r, horizon).auc, wins / pairs);
  assert.equal(cumulativeDynamicAuc(t, e, t.map((x) => -x), horizon).auc, 1);
});

test('without cases or controls the AUC is undefined', () => {
  assert.throws(() => cumulativeDynamicAuc(time, event, risk, 1), /0 cases/);
  assert.throws(() => cumulativeDynamicAuc(time, event, risk, 6), /0 controls/);
});
