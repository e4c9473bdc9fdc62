// Covariate assembly from the card: order, transforms, the impute and refuse rules, is-missing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assembleCovariates, NO_FACTORS, transformValue } from '../../src/model/covariates.js';
import { ModelInputError } from '../../src/model/errors.js';
import type { CovariateFeature } from '../../src/model/model-card.js';
import type { RiskFactors } from '../../src/model/risk-factors.js';

const patient: RiskFactors = {
  ...NO_FACTORS,
  age: 70,
  sex: 'female',
  weightKg: 100,
  heightCm: 200,
  priorFragilityFracture: true,
  glucocorticoids: false,
};

const features: CovariateFeature[] = [
  { name: 'age_z', factor: 'age', transform: { kind: 'standardize', mean: 60, sd: 8, clip: [40, 90] }, missing: { rule: 'refuse' } },
  { name: 'female', factor: 'female', transform: { kind: 'identity' }, missing: { rule: 'refuse' } },
  { name: 'bmi_z', factor: 'bmi', transform: { kind: 'standardize', mean: 25, sd: 5 }, missing: { rule: 'impute', value: 0 } },
  { name: 'prior', factor: 'priorFragilityFracture', transform: { kind: 'identity' }, missing: { rule: 'impute', value: 0 } },
  { name: 'gc', factor: 'glucocorticoids', transform: { kind: 'identity' }, missing: { rule: 'impute', value: 0.1 } },
  { name: 't_z', factor: 'femoralNeckTScore', transform: { kind: 'standardize', mean: -1, sd: 1 }, missing: { rule: 'impute', value: -0.5 } },
  { name: 't_missing', factor: 'femoralNeckTScore', transform: { kind: 'is-missing' }, missing: { rule: 'impute', value: 7 } },
];

describe('covariate assembly', () => {
  it('applies each transform in the card’s order', () => {
    const { vector, features: values } = assembleCovariates(features, patient);
    // BMI 100 / 2² = 25 → z 0; age (70 − 60) / 8 = 1.25.
    assert.deepEqual(Array.from(vector), [1.25, 1, 0, 1, 0, -0.5, 1]);
    assert.deepEqual(values.map((v) => v.name), features.map((f) => f.name));
    assert.deepEqual(values[0], { name: 'age_z', factor: 'age', raw: 70, value: 1.25, missing: false, imputed: false });
    assert.ok(vector instanceof Float32Array);
  });

  it('clamps before standardising', () => {
    assert.equal(transformValue({ kind: 'standardize', mean: 60, sd: 8, clip: [40, 90] }, 104), 3.75);
    assert.equal(transformValue({ kind: 'standardize', mean: 60, sd: 8, clip: [40, 90] }, 20), -2.5);
    assert.equal(transformValue({ kind: 'standardize', mean: 60, sd: 8 }, 104), 5.5);
  });

  it('imputes in transformed space and records it', () => {
    const { vector, features: values } = assembleCovariates(features, { ...patient, heightCm: null, glucocorticoids: null });
    assert.equal(vector[2], 0);
    assert.equal(vector[4], Math.fround(0.1));
    assert.deepEqual(values[2], { name: 'bmi_z', factor: 'bmi', raw: null, value: 0, missing: true, imputed: true });
    assert.deepEqual(values[4], { name: 'gc', factor: 'glucocorticoids', raw: null, value: 0.1, missing: true, imputed: true });
  });

  it('is-missing indicators encode absence and ignore the missing rule', () => {
    const recorded = assembleCovariates(features, { ...patient, femoralNeckTScore: -2 });
    assert.deepEqual([recorded.vector[5], recorded.vector[6]], [-1, 0]);
    const absent = assembleCovariates(features, patient);
    assert.deepEqual(absent.features[6], { name: 't_missing', factor: 'femoralNeckTScore', raw: null, value: 1, missing: true, imputed: false });
  });

  it('refuses when a factor with the refuse rule is missing, naming every such factor', () => {
    assert.throws(
      () => assembleCovariates(features, { ...patient, age: null }),
      (error: unknown) => error instanceof ModelInputError && error.code === 'missing-factor' && error.factors.join() === 'age' && /needs age, which is not recorded/.test(error.message),
    );
    assert.throws(
      () => assembleCovariates(features, NO_FACTORS),
      (error: unknown) => error instanceof ModelInputError && error.factors.join() === 'age,female' && /needs age, female, which are not recorded/.test(error.message),
    );
  });

  it('refuses a non-finite recorded value', () => {
    assert.throws(
      () => assembleCovariates(features, { ...patient, age: Number.NaN }),
      (error: unknown) => error instanceof ModelInputError && error.code === 'bad-factor' && error.factors.join() === 'age',
    );
  });
});
