// Survival math against hand computation. Baseline: H0 = 0.1 at t = 1, 0.3 at t = 2, 0.3 at t = 4;
// with g = ln 2 the hazard ratio is 2, so S(1) = e^−0.2, S(2) = S(4) = e^−0.6.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RiskBands } from '../../src/model/model-card.js';
import { baselineCumulativeHazard, horizonRisks, riskBand, survivalAt, survivalCurves } from '../../src/model/survival.js';

const baseline = { times: [1, 2, 4], cumulativeHazard: [0.1, 0.3, 0.3] };
const g = Math.log(2);
const close = (actual: number | null, expected: number): void => {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${actual} ≈ ${expected}`);
};

describe('survival curves from the Breslow baseline', () => {
  it('H0 is a step function: 0 before the first time, the last grid value ≤ t, null past the grid', () => {
    assert.equal(baselineCumulativeHazard(baseline, 0), 0);
    assert.equal(baselineCumulativeHazard(baseline, 0.999), 0);
    assert.equal(baselineCumulativeHazard(baseline, 1), 0.1);
    assert.equal(baselineCumulativeHazard(baseline, 1.999), 0.1);
    assert.equal(baselineCumulativeHazard(baseline, 3), 0.3);
    assert.equal(baselineCumulativeHazard(baseline, 4), 0.3);
    assert.equal(baselineCumulativeHazard(baseline, 4.0001), null);
    assert.equal(baselineCumulativeHazard(baseline, -1), null);
  });

  it('S(t) = exp(−H0(t)·exp(g))', () => {
    assert.equal(survivalAt(baseline, g, 0.5), 1);
    close(survivalAt(baseline, g, 1), Math.exp(-0.2));
    close(survivalAt(baseline, g, 1.5), Math.exp(-0.2));
    close(survivalAt(baseline, g, 2), Math.exp(-0.6));
    close(survivalAt(baseline, 0, 2), Math.exp(-0.3));
    assert.equal(survivalAt(baseline, g, 5), null);
  });

  it('gives S = 1 before the first event time even when exp(g) overflows', () => {
    assert.equal(survivalAt(baseline, 1000, 0.5), 1);
    assert.equal(survivalAt(baseline, 1000, 1), 0);
  });

  it('curves: S, F = 1 − S and the hazard per interval, as increment and as rate', () => {
    const curves = survivalCurves(baseline, g);
    assert.deepEqual(curves.times, [0, 1, 2, 4]);
    [1, Math.exp(-0.2), Math.exp(-0.6), Math.exp(-0.6)].forEach((s, i) => close(curves.survival[i]!, s));
    curves.cumulativeIncidence.forEach((f, i) => assert.equal(f, 1 - curves.survival[i]!));
    assert.equal(curves.hazard.length, 3);
    const [first, second, third] = curves.hazard;
    assert.deepEqual([first!.start, first!.end, second!.start, second!.end, third!.start, third!.end], [0, 1, 1, 2, 2, 4]);
    close(first!.increment, 0.2);
    close(first!.rate, 0.2);
    close(second!.increment, 0.4);
    close(second!.rate, 0.4);
    assert.equal(third!.increment, 0);
    assert.equal(third!.rate, 0);
  });

  it('horizon risks, and null with a reason past the last grid time', () => {
    const [one, four, five] = horizonRisks(baseline, g, [1, 4, 5]);
    assert.equal(one!.horizon, 1);
    close(one!.risk, 1 - Math.exp(-0.2));
    close(four!.survival, Math.exp(-0.6));
    assert.equal(five!.risk, null);
    assert.ok(five!.risk === null && /beyond the baseline's last time 4; the curve is not extrapolated/.test(five!.reason));
  });
});

describe('risk bands', () => {
  const bands: RiskBands = {
    horizon: 2,
    bands: [
      { name: 'low', label: 'Low', below: 0.3 },
      { name: 'moderate', label: 'Moderate', below: 0.5 },
      { name: 'high', label: 'High' },
    ],
  };

  it('picks the first band whose upper bound exceeds F(horizon), else the last', () => {
    // F(2) = 1 − e^−0.3 ≈ 0.259; with g = ln 2, 1 − e^−0.6 ≈ 0.451; with g = ln 4, 1 − e^−1.2 ≈ 0.699.
    assert.equal(riskBand(bands, baseline, 0).name, 'low');
    assert.equal(riskBand(bands, baseline, g).name, 'moderate');
    const high = riskBand(bands, baseline, Math.log(4));
    assert.equal(high.name, 'high');
    close(high.risk, 1 - Math.exp(-1.2));
  });

  it('treats "below" as exclusive', () => {
    // H0(2) = ln 2 and g = 0 give F(2) = 1 − 1/2 = 0.5 exactly.
    const edge = { times: [2], cumulativeHazard: [Math.log(2)] };
    assert.equal(1 - survivalAt(edge, 0, 2)!, 0.5);
    assert.equal(riskBand(bands, edge, 0).name, 'high');
  });

  it('answers null with a reason when the band horizon is past the grid', () => {
    const band = riskBand({ ...bands, horizon: 10 }, baseline, 0);
    assert.equal(band.name, null);
    assert.ok(band.name === null && /beyond the baseline's last time/.test(band.reason));
  });
});
