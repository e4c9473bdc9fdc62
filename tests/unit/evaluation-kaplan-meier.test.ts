import assert from 'node:assert/strict';
import { test } from 'node:test';
import { censoringDistribution, kaplanMeier, survivalAt, survivalBefore } from '../../src/evaluation/index.js';
import { mulberry32 } from '../../src/synthetic/random.js';

// Six subjects, ties of every kind (shared by the evaluation tests):
//   A 2 event | B 3 event | C 3 censored | D 4 event | E 4 event | F 6 censored
const time = [2, 3, 3, 4, 4, 6];
const event = [1, 1, 0, 1, 1, 0];

const close = (actual: number, expected: number, tolerance = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≠ ${expected}`);

test('Kaplan–Meier by hand, with Greenwood standard errors', () => {
  // t=2: n=6 d=1 → S = 5/6
  // t=3: n=5 d=1 (C, censored at 3, still at risk) → S = 5/6 · 4/5 = 2/3
  // t=4: n=3 d=2 → S = 2/3 · 1/3 = 2/9
  // t=6: n=1 d=0 → S = 2/9
  // Greenwood at 4: Σ d/(n(n−d)) = 1/30 + 1/20 + 2/3 = 3/4; SE = 2/9 · √(3/4)
  const km = kaplanMeier(time, event);
  assert.deepEqual(Array.from(km.times), [2, 3, 4, 6]);
  assert.deepEqual(Array.from(km.atRisk), [6, 5, 3, 1]);
  assert.deepEqual(Array.from(km.events), [1, 1, 2, 0]);
  assert.deepEqual(Array.from(km.censored), [0, 1, 0, 1]);
  [5 / 6, 2 / 3, 2 / 9, 2 / 9].forEach((s, k) => close(km.survival[k]!, s));
  close(km.standardError[0]!, (5 / 6) * Math.sqrt(1 / 30));
  close(km.standardError[2]!, (2 / 9) * Math.sqrt(3 / 4));
});

test('survivalAt is right-continuous and survivalBefore is the left limit', () => {
  const km = kaplanMeier(time, event);
  close(survivalAt(km, 1.9), 1);
  close(survivalAt(km, 2), 5 / 6);
  close(survivalBefore(km, 2), 1);
  close(survivalAt(km, 3.5), 2 / 3);
  close(survivalBefore(km, 4), 2 / 3);
  close(survivalAt(km, 4), 2 / 9);
  close(survivalAt(km, 100), 2 / 9);
});

test('censoring distribution by hand: events leave the censoring risk set at their own time', () => {
  // Censorings are the "events"; at each time the risk set is n − (events at that time):
  // t=2: 6−1=5 at risk, 0 censored → G = 1
  // t=3: 5−1=4 at risk, 1 censored (C) → G = 3/4
  // t=4: 3−2=1 at risk, 0 censored → G = 3/4
  // t=6: 1−0=1 at risk, 1 censored (F) → G = 0
  const g = censoringDistribution(time, event);
  assert.deepEqual(Array.from(g.times), [2, 3, 4, 6]);
  [1, 3 / 4, 3 / 4, 0].forEach((v, k) => close(g.survival[k]!, v));
  // The IPCW weight of an event at 3 uses G(3−) = 1, not G(3) = 3/4.
  close(survivalBefore(g, 3), 1);
  close(survivalBefore(g, 4), 3 / 4);
});

test('R survival reference: aml maintained group', () => {
  // survfit(Surv(time, status) ~ 1, data = aml[aml$x == "Maintained", ]) prints
  // 9: 0.909 (0.0867), 13: 0.818 (0.1163), 18: 0.716 (0.1397), 23: 0.614 (0.1526),
  // 31: 0.491 (0.1642), 34: 0.368 (0.1627), 48: 0.184 (0.1535).
  const km = kaplanMeier([9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161], [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]);
  const expected: [number, number, number][] = [
    [9, 0.909, 0.0867],
    [13, 0.818, 0.1163],
    [18, 0.716, 0.1397],
    [23, 0.614, 0.1526],
    [31, 0.491, 0.1642],
    [34, 0.368, 0.1627],
    [48, 0.184, 0.1535],
  ];
  for (const [t, s, se] of expected) {
    const k = km.times.indexOf(t);
    close(km.survival[k]!, s, 5e-4);
    close(km.standardError[k]!, se, 5e-5);
  }
});

test('without censoring Kaplan–Meier is the empirical survival function', () => {
  const rand = mulberry32(11);
  const times = Array.from({ length: 200 }, () => Math.round(rand() * 50) / 10);
  const km = kaplanMeier(times, new Array<number>(times.length).fill(1));
  for (const t of [0, 0.5, 1.3, 2.5, 4.99, 5]) {
    close(survivalAt(km, t), times.filter((ti) => ti > t).length / times.length, 1e-12);
  }
});

test('the Greenwood error is NaN once survival reaches 0', () => {
  const km = kaplanMeier([1, 2], [1, 1]);
  close(km.survival[1]!, 0);
  assert.ok(Number.isNaN(km.standardError[1]!));
});

test('invalid input is refused naming the argument', () => {
  assert.throws(() => kaplanMeier([1, 2], [1]), /event has length 1/);
  assert.throws(() => kaplanMeier([1, -2], [1, 1]), /time\[1\]/);
  assert.throws(() => kaplanMeier([1, 2], [1, 2]), /event\[1\]/);
  assert.throws(() => kaplanMeier([], []), { name: 'RangeError', message: 'time must not be empty' });
});
