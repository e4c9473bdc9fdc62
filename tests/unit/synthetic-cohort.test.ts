import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syntheticPatient, TRUTH, type SyntheticPatient } from '../../src/synthetic/cohort.js';
import { acquisition, radiographUids, syntheticUid } from '../../src/synthetic/radiograph.js';

const COUNT = 20_000;
const cohort: SyntheticPatient[] = Array.from({ length: COUNT }, (_, i) => syntheticPatient(11, i));
const share = (test: (p: SyntheticPatient) => boolean, among: SyntheticPatient[] = cohort): number => among.filter(test).length / among.length;
const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

/** Pearson correlation. */
function correlation(x: number[], y: number[]): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

void describe('synthetic cohort', () => {
  void it('is deterministic per (seed, index) and differs between seeds', () => {
    assert.deepEqual(syntheticPatient(11, 5), cohort[5]);
    assert.notDeepEqual(syntheticPatient(12, 5).factors, cohort[5]!.factors);
    assert.equal(cohort[5]!.id, 'syn-11-5');
  });

  void it('has marginals like the study population (science.md)', () => {
    const ages = cohort.map((p) => p.factors.age!);
    assert.ok(Math.min(...ages) >= 50 && Math.max(...ages) <= 75, 'aged 50–75');
    assert.ok(Math.abs(mean(ages) - 60.5) < 0.5, `mean age ${mean(ages)}`);
    assert.ok(Math.abs(share((p) => p.factors.sex === 'female') - 0.744) < 0.015, 'about 74 % women');
    const events = share((p) => p.outcome.event);
    assert.ok(events > 0.06 && events < 0.09, `about 7.5 % incident fractures, got ${events}`);
    const followUpMonths = mean(cohort.map((p) => p.outcome.time)) * 12;
    assert.ok(followUpMonths > 36 && followUpMonths < 45, `mean follow-up about 40 months, got ${followUpMonths}`);
    assert.ok(Math.max(...cohort.map((p) => p.outcome.time)) <= TRUTH.followUp.max, 'censored at 10 years at most');
    assert.ok(share((p) => p.outcome.time > 5) > 0.15, 'enough follow-up beyond 5 years for the 5-year curve');
  });

  void it('has plausible FRAX-factor prevalences and a mostly missing T-score', () => {
    const women = cohort.filter((p) => p.factors.sex === 'female');
    const men = cohort.filter((p) => p.factors.sex === 'male');
    assert.ok(share((p) => p.factors.currentSmoking!, men) > share((p) => p.factors.currentSmoking!, women));
    for (const [name, lo, hi] of [
      ['glucocorticoids', 0.02, 0.06],
      ['rheumatoidArthritis', 0.01, 0.04],
      ['secondaryOsteoporosis', 0.05, 0.11],
      ['parentHipFracture', 0.07, 0.13],
      ['priorFragilityFracture', 0.05, 0.15],
    ] as const) {
      const prevalence = share((p) => p.factors[name] === true);
      assert.ok(prevalence > lo && prevalence < hi, `${name} ${prevalence}`);
    }
    const recorded = share((p) => p.factors.femoralNeckTScore !== null);
    assert.ok(recorded > 0.15 && recorded < 0.35, `T-score recorded for ${recorded}`);
    const bmi = cohort.map((p) => p.factors.weightKg! / (p.factors.heightCm! / 100) ** 2);
    assert.ok(Math.abs(mean(bmi) - TRUTH.bmi.mean) < 0.3);
  });

  void it('has a latent bone strength of about N(0, 1) that the clinical factors explain only in part', () => {
    const strength = cohort.map((p) => p.latent.boneStrength);
    const m = mean(strength);
    const sd = Math.sqrt(mean(strength.map((z) => (z - m) ** 2)));
    assert.ok(Math.abs(m) < 0.05 && Math.abs(sd - 1) < 0.05, `mean ${m}, sd ${sd}`);
    // Older women are weaker; but age explains little on its own.
    const age = correlation(cohort.map((p) => p.factors.age!), strength);
    assert.ok(age < -0.15 && age > -0.5, `age correlation ${age}`);
    const withT = cohort.filter((p) => p.factors.femoralNeckTScore !== null);
    const t = correlation(withT.map((p) => p.factors.femoralNeckTScore!), withT.map((p) => p.latent.boneStrength));
    assert.ok(t > 0.7 && t < 0.95, `T-score tracks bone strength with noise: ${t}`);
  });

  void it('makes weak bone deform and fracture more', () => {
    const weak = cohort.filter((p) => p.latent.boneStrength < -1);
    const strong = cohort.filter((p) => p.latent.boneStrength > 1);
    const deformed = (p: SyntheticPatient): boolean => Object.keys(p.latent.deformities).length > 0;
    assert.ok(share(deformed, weak) > 3 * share(deformed, strong));
    assert.ok(share((p) => p.outcome.event, weak) > 3 * share((p) => p.outcome.event, strong));
    // The ground-truth hazard is what the event times were drawn from: higher η, earlier events.
    const high = cohort.filter((p) => p.truth.logHazard > 1);
    const low = cohort.filter((p) => p.truth.logHazard < -1);
    assert.ok(mean(high.map((p) => p.truth.eventTime)) < mean(low.map((p) => p.truth.eventTime)) / 5);
  });
});

void describe('synthetic acquisition', () => {
  const indexDate = new Date('2026-01-01T00:00:00Z');
  const acquisitions = cohort.slice(0, 2000).map((p) => acquisition(p, indexDate));

  void it('varies like real lateral lumbar radiographs', () => {
    for (const a of acquisitions) {
      assert.ok(a.spacingMm >= 0.139 && a.spacingMm <= 0.2);
      assert.ok(a.rows * a.spacingMm > 270 && a.columns * a.spacingMm > 210, 'a 24 × 30 cm field');
      assert.ok(a.rows > a.columns, 'portrait');
      assert.ok(a.bitsStored >= 10 && a.bitsStored <= 16);
      assert.ok(a.studyDate <= '20260101' && a.studyDate >= '20250101');
    }
    const shareOf = (test: (a: (typeof acquisitions)[number]) => boolean): number => acquisitions.filter(test).length / acquisitions.length;
    assert.ok(shareOf((a) => a.photometric === 'MONOCHROME1') > 0.1);
    assert.ok(shareOf((a) => a.transferSyntaxUid !== '1.2.840.10008.1.2.1') > 0.1);
    assert.ok(shareOf((a) => a.modality === 'CR') > 0.2);
  });

  void it('does not change the patient, and gives stable valid UIDs', () => {
    assert.deepEqual(acquisition(cohort[3]!, indexDate), acquisitions[3]);
    const uids = radiographUids(cohort[3]!);
    assert.deepEqual(radiographUids(syntheticPatient(11, 3)), uids);
    for (const uid of Object.values(uids)) assert.match(uid, /^2\.25\.(0|[1-9][0-9]*)$/);
    assert.ok(uids.study.length <= 64);
    assert.notEqual(uids.study, uids.series);
    assert.notEqual(syntheticUid(1, 'study'), syntheticUid(2, 'study'));
  });
});
