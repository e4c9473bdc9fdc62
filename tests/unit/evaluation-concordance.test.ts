import assert from 'node:assert/strict';
import { test } from 'node:test';
import { censoringDistribution, harrellC, survivalBefore, unoC } from '../../src/evaluation/index.js';
import { mulberry32 } from '../../src/synthetic/random.js';

// A 2 event r=.9 | B 3 event r=.5 | C 3 censored r=.7 | D 4 event r=.6 | E 4 event r=.2 | F 6 censored r=.2
const time = [2, 3, 3, 4, 4, 6];
const event = [1, 1, 0, 1, 1, 0];
const risk = [0.9, 0.5, 0.7, 0.6, 0.2, 0.2];

const close = (actual: number, expected: number, tolerance = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≠ ${expected}`);

test("Harrell's C by hand", () => {
  // A (t=2): vs B C D E F, all lower risk              → 5 comparable, 5 concordant
  // B (t=3): vs C (censored at 3: comparable), D E F   → C .7 and D .6 discordant, E F concordant
  // D (t=4): vs F (E is a tied event: not comparable)  → concordant
  // E (t=4): vs F, equal risk                          → tied
  // C = (8 + 1/2) / 11
  const c = harrellC(time, event, risk);
  assert.deepEqual({ ...c, cIndex: 0 }, { cIndex: 0, concordant: 8, discordant: 2, tiedRisk: 1, comparable: 11 });
  close(c.cIndex, 8.5 / 11);
});

test("Uno's C by hand, untruncated and truncated at τ", () => {
  // G(T−): A G(2−)=1, B G(3−)=1, D and E G(4−)=3/4 → pair weights 1, 1, 16/9, 16/9
  // numerator   = 5·1 + 2·1 + 1·16/9 + ½·16/9 = 87/9
  // denominator = 5·1 + 4·1 + 1·16/9 + 1·16/9 = 113/9   → C = 87/113
  // τ = 4 keeps only events before 4 (A, B): (5 + 2) / (5 + 4) = 7/9
  const all = unoC(time, event, risk);
  close(all.cIndex, 87 / 113);
  assert.equal(all.tau, Number.POSITIVE_INFINITY);
  const truncated = unoC(time, event, risk, { tau: 4 });
  close(truncated.cIndex, 7 / 9);
  assert.equal(truncated.tau, 4);
});

test('perfect, reversed and constant rankings give 1, 0 and 1/2', () => {
  const rand = mulberry32(3);
  const t = Array.from({ length: 300 }, () => rand() * 10);
  const e = t.map(() => (rand() < 0.6 ? 1 : 0));
  assert.equal(harrellC(t, e, t.map((x) => -x)).cIndex, 1);
  assert.equal(harrellC(t, e, t).cIndex, 0);
  assert.equal(harrellC(t, e, new Float64Array(t.length).fill(0.3)).cIndex, 0.5);
  assert.equal(unoC(t, e, t.map((x) => -x), { tau: 8 }).cIndex, 1);
});

test("without censoring Uno's C equals Harrell's C", () => {
  const rand = mulberry32(5);
  const t = Array.from({ length: 200 }, () => Math.round(rand() * 20));
  const e = new Array<number>(t.length).fill(1);
  const r = t.map((x) => Math.round(-x / 4 + rand() * 3));
  close(unoC(t, e, r).cIndex, harrellC(t, e, r).cIndex);
});

/** The definition, pair by pair, with each pair weighted by w(i) of its event subject. */
function bruteForce(t: number[], e: number[], r: number[], w: (i: number) => number): number {
  let numerator = 0;
  let denominator = 0;
  t.forEach((ti, i) => {
    if (e[i] !== 1) return;
    t.forEach((tj, j) => {
      if (!(ti < tj || (ti === tj && e[j] === 0))) return;
      denominator += w(i);
      numerator += w(i) * (r[i]! > r[j]! ? 1 : r[i] === r[j] ? 0.5 : 0);
    });
  });
  return numerator / denominator;
}

test('the O(n log n) sweep agrees with the O(n²) definition on data full of ties', () => {
  const rand = mulberry32(17);
  const t = Array.from({ length: 400 }, () => Math.round(rand() * 30));
  const e = t.map(() => (rand() < 0.5 ? 1 : 0));
  const r = t.map((x) => Math.round(-x / 5 + rand() * 4));
  close(harrellC(t, e, r).cIndex, bruteForce(t, e, r, () => 1), 1e-12);
  const g = censoringDistribution(t, e);
  const tau = 20;
  const uno = (i: number): number => (t[i]! < tau ? 1 / survivalBefore(g, t[i]!) ** 2 : 0);
  close(unoC(t, e, r, { tau }).cIndex, bruteForce(t, e, r, uno), 1e-12);
});

test('no comparable pair, or a bad score, is an error', () => {
  assert.throws(() => harrellC([1, 2], [0, 0], [1, 2]), /no comparable pairs/);
  assert.throws(() => harrellC([1, 2], [1, 0], [1, Number.NaN]), /risk\[1\]/);
  // With an external G that is 0 before an event, the weight is undefined.
  assert.throws(() => unoC([1, 5], [1, 1], [2, 1], { censoring: { times: Float64Array.of(2), survival: Float64Array.of(0) } }), /censoring survival/);
});
