// Risk factors → the model's covariate vector, exactly as the card describes: features by name, in
// the card's order, each with its transform and its missing-value rule. Nothing model-specific here.
import { ModelInputError } from './errors.js';
import type { CovariateFeature, Transform } from './model-card.js';
import { factorValue, type FactorName, type RiskFactors } from './risk-factors.js';

export interface FeatureValue {
  name: string;
  factor: FactorName;
  /** The factor as recorded (numeric encoding of risk-factors.ts); null when not recorded. */
  raw: number | null;
  /** What the model received. */
  value: number;
  missing: boolean;
  /** True when the card's impute rule supplied `value`. */
  imputed: boolean;
}

export interface CovariateVector {
  vector: Float32Array;
  features: FeatureValue[];
}

/** Nothing recorded: what an image-only request, or a patient without a chart, amounts to. */
export const NO_FACTORS: Readonly<RiskFactors> = Object.freeze({
  age: null,
  sex: null,
  weightKg: null,
  heightCm: null,
  priorFragilityFracture: null,
  parentHipFracture: null,
  currentSmoking: null,
  glucocorticoids: null,
  rheumatoidArthritis: null,
  secondaryOsteoporosis: null,
  alcohol: null,
  femoralNeckTScore: null,
});

/** A recorded value through its transform (is-missing gives 0: the value is there). */
export function transformValue(transform: Transform, raw: number): number {
  switch (transform.kind) {
    case 'identity':
      return raw;
    case 'standardize': {
      const [low, high] = transform.clip ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
      return (Math.min(Math.max(raw, low), high) - transform.mean) / transform.sd;
    }
    case 'is-missing':
      return 0;
  }
}

function featureValue(feature: CovariateFeature, factors: RiskFactors): FeatureValue | { refused: FactorName } {
  const raw = factorValue(factors, feature.factor);
  if (raw !== null && !Number.isFinite(raw)) {
    throw new ModelInputError('bad-factor', `risk factor ${feature.factor} is not a finite number`, [feature.factor]);
  }
  const base = { name: feature.name, factor: feature.factor, raw, missing: raw === null };
  if (raw !== null) return { ...base, value: transformValue(feature.transform, raw), imputed: false };
  // An is-missing indicator encodes the absence itself; the missing rule does not apply to it.
  if (feature.transform.kind === 'is-missing') return { ...base, value: 1, imputed: false };
  if (feature.missing.rule === 'refuse') return { refused: feature.factor };
  return { ...base, value: feature.missing.value, imputed: true };
}

/**
 * Builds the covariate vector for one patient. Throws ModelInputError `missing-factor` listing every
 * factor the card refuses to impute that is not recorded, and `bad-factor` for a non-finite value.
 */
export function assembleCovariates(features: readonly CovariateFeature[], factors: RiskFactors): CovariateVector {
  const values = features.map((feature) => featureValue(feature, factors));
  const refused = [...new Set(values.flatMap((v) => ('refused' in v ? [v.refused] : [])))];
  if (refused.length > 0) {
    throw new ModelInputError('missing-factor', `the model needs ${refused.join(', ')}, which ${refused.length === 1 ? 'is' : 'are'} not recorded`, refused);
  }
  const recorded = values.filter((v): v is FeatureValue => !('refused' in v));
  return { vector: Float32Array.from(recorded, (v) => v.value), features: recorded };
}
