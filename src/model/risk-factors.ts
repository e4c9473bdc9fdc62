// The clinical risk factors a model card may ask for, by name, with one numeric encoding shared by
// the synthetic cohort files, the training script and the runtime. These are FRAX's inputs
// (reference/science.md) plus BMI; a model card picks and transforms them, nothing model-specific
// lives here. A null value means "not recorded"; the card's missing-value rule decides what it becomes.

export interface RiskFactors {
  /** Years, at the index date. */
  age: number | null;
  sex: 'female' | 'male' | null;
  weightKg: number | null;
  heightCm: number | null;
  priorFragilityFracture: boolean | null;
  parentHipFracture: boolean | null;
  currentSmoking: boolean | null;
  glucocorticoids: boolean | null;
  rheumatoidArthritis: boolean | null;
  secondaryOsteoporosis: boolean | null;
  /** Alcohol three or more units a day. */
  alcohol: boolean | null;
  femoralNeckTScore: number | null;
}

/** Every factor a card can name: the recorded ones and BMI, derived from weight and height. */
export const FACTOR_NAMES = [
  'age',
  'female',
  'weightKg',
  'heightCm',
  'bmi',
  'priorFragilityFracture',
  'parentHipFracture',
  'currentSmoking',
  'glucocorticoids',
  'rheumatoidArthritis',
  'secondaryOsteoporosis',
  'alcohol',
  'femoralNeckTScore',
] as const;

export type FactorName = (typeof FACTOR_NAMES)[number];

/** The yes/no factors: FRAX counts one left blank as "no". */
export const YES_NO_FACTORS = [
  'priorFragilityFracture',
  'parentHipFracture',
  'currentSmoking',
  'glucocorticoids',
  'rheumatoidArthritis',
  'secondaryOsteoporosis',
  'alcohol',
] as const satisfies readonly FactorName[];

export type YesNoFactor = (typeof YES_NO_FACTORS)[number];

export function isYesNoFactor(name: string): name is YesNoFactor {
  return (YES_NO_FACTORS as readonly string[]).includes(name);
}

export function isFactorName(name: string): name is FactorName {
  return (FACTOR_NAMES as readonly string[]).includes(name);
}

const bool = (value: boolean | null): number | null => (value === null ? null : value ? 1 : 0);

/**
 * The numeric value of one factor: numbers as recorded, booleans and `female` as 1/0, `bmi` as
 * kg/m² from weight and height. Null when not recorded (or, for BMI, when either part is missing).
 */
export function factorValue(factors: RiskFactors, name: FactorName): number | null {
  if (isYesNoFactor(name)) return bool(factors[name]);
  switch (name) {
    case 'female':
      return factors.sex === null ? null : factors.sex === 'female' ? 1 : 0;
    case 'bmi':
      return factors.weightKg === null || factors.heightCm === null || factors.heightCm <= 0
        ? null
        : factors.weightKg / (factors.heightCm / 100) ** 2;
    case 'age':
    case 'weightKg':
    case 'heightCm':
    case 'femoralNeckTScore':
      return factors[name];
  }
}
