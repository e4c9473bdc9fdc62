// The study's comparators (reference/science.md), fitted on a training cohort and scored on a test
// cohort: Cox PH on the M3 covariates (age, sex, BMI, glucocorticoids, secondary osteoporosis), Cox
// PH on every FRAX factor, and the "shortcut" — Cox PH on M3 plus global image statistics, which
// sees exposure and contrast but not structure.
import type { PreprocessingSpec } from '../imaging/preprocessing.js';
import { factorValue, type FactorName, type RiskFactors } from '../model/risk-factors.js';
import type { Cohort } from './cohort-file.js';
import { breslowBaseline, designMatrix, fitCox, linearPredictor, type BaselineHazard, type CoxFit } from './cox.js';
import { IMAGE_STATISTIC_NAMES, imageStatistics } from './image-statistics.js';

export const M3_FACTORS: readonly FactorName[] = ['age', 'female', 'bmi', 'glucocorticoids', 'secondaryOsteoporosis'];
export const FRAX_FACTORS: readonly FactorName[] = [
  ...M3_FACTORS,
  'priorFragilityFracture',
  'parentHipFracture',
  'currentSmoking',
  'rheumatoidArthritis',
  'alcohol',
  'femoralNeckTScore',
];

export interface ComparatorSpec {
  name: string;
  label: string;
  factors: readonly FactorName[];
  imageStatistics: boolean;
}

export const COMPARATORS: readonly ComparatorSpec[] = [
  { name: 'cox-m3', label: 'Cox PH, M3 covariates (age, sex, BMI, glucocorticoids, secondary osteoporosis)', factors: M3_FACTORS, imageStatistics: false },
  { name: 'cox-frax', label: 'Cox PH, all FRAX factors', factors: FRAX_FACTORS, imageStatistics: false },
  { name: 'shortcut', label: 'Shortcut: Cox PH, M3 + global image statistics', factors: M3_FACTORS, imageStatistics: true },
];

export interface FittedComparator {
  spec: ComparatorSpec;
  featureNames: string[];
  fit: CoxFit;
  baseline: BaselineHazard;
}

/** Feature names and values of one patient: a factor, or (T-score) its value imputed at 0 plus a missing indicator. */
function clinicalFeatures(factors: RiskFactors, names: readonly FactorName[]): { names: string[]; values: number[] } {
  const out = { names: [] as string[], values: [] as number[] };
  for (const name of names) {
    const value = factorValue(factors, name);
    if (name === 'femoralNeckTScore') {
      out.names.push(name, `${name}Missing`);
      out.values.push(value ?? 0, value === null ? 1 : 0);
    } else if (value === null && (name === 'age' || name === 'female' || name === 'bmi')) {
      throw new RangeError(`the comparators need ${name} for every patient`);
    } else {
      // FRAX: a factor not recorded counts as absent.
      out.names.push(name);
      out.values.push(value ?? 0);
    }
  }
  return out;
}

/** Image statistics of every patient of the cohort, read in batches. */
export async function cohortImageStatistics(cohort: Cohort, spec: PreprocessingSpec, batch = 256): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (let start = 0; start < cohort.patients.length; start += batch) {
    for (const image of await cohort.images(start, batch)) out.push(imageStatistics(image, spec));
  }
  return out;
}

function rows(cohort: Cohort, spec: ComparatorSpec, statistics: Float64Array[] | null): { names: string[]; rows: number[][] } {
  const clinical = cohort.patients.map((patient) => clinicalFeatures(patient.factors, spec.factors));
  const clinicalNames = clinical[0]?.names ?? [];
  return {
    names: spec.imageStatistics ? [...clinicalNames, ...IMAGE_STATISTIC_NAMES] : clinicalNames,
    rows: clinical.map(({ values }, i) => (spec.imageStatistics ? [...values, ...statistics![i]!] : values)),
  };
}

/**
 * Fits a comparator on the training cohort (Breslow ties, as the network's loss; a small ridge
 * keeps the collinear histogram shares estimable) with its Breslow baseline.
 */
export function fitComparator(train: Cohort, spec: ComparatorSpec, statistics: Float64Array[] | null): FittedComparator {
  const { names, rows: x } = rows(train, spec, statistics);
  const time = train.patients.map((p) => p.time);
  const event = train.patients.map((p) => (p.event ? 1 : 0));
  const fit = fitCox(time, event, designMatrix(x), { ties: 'breslow', ridge: spec.imageStatistics ? 1 : 0 });
  const baseline = breslowBaseline(time, event, linearPredictor(fit, designMatrix(x)));
  return { spec, featureNames: names, fit, baseline };
}

/** Linear predictors of the fitted comparator on another cohort. */
export function scoreComparator(fitted: FittedComparator, cohort: Cohort, statistics: Float64Array[] | null): Float64Array {
  return linearPredictor(fitted.fit, designMatrix(rows(cohort, fitted.spec, statistics).rows));
}
