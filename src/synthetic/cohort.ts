// The synthetic cohort's patients: FRAX risk factors with marginals like the study population
// (reference/science.md: aged 50–75, about 74 % women), a latent bone strength that the clinical
// factors explain only in part, and a known hazard of incident vertebral fracture. The radiograph
// (radiograph.ts) is drawn from the same latent strength, so the image carries information beyond
// the clinical factors, which is the study's premise. Every number here is invented for the demo.
import type { RiskFactors } from '../model/risk-factors.js';
import type { LumbarLevel, VertebralDeformity } from './lumbar-phantom.js';
import { LUMBAR_LEVELS } from './lumbar-phantom.js';
import { deriveSeed, draws, mulberry32, type Draws } from './random.js';

/** The generator's truth: written into every cohort file, so a cohort says how it was made. */
export const TRUTH = {
  version: 1,
  femaleShare: 0.744,
  /** age = 50 + 25·u^ageSkew, u uniform: mean ≈ 60.6. */
  ageSkew: 1.35,
  heightCm: { female: [157.5, 5.5], male: [169.5, 6] },
  /** Height lost per year over 50, and per SD of weak bone (kyphosis). */
  heightLossPerYear: 0.08,
  bmi: { mean: 24, sd: 3.2, min: 16, max: 40 },
  prevalence: {
    currentSmoking: { female: 0.05, male: 0.3 },
    alcohol: { female: 0.02, male: 0.12 },
    glucocorticoids: 0.04,
    rheumatoidArthritis: { female: 0.025, male: 0.01 },
    secondaryOsteoporosis: 0.08,
    parentHipFracture: 0.1,
  },
  /** Linear predictor of bone strength from the clinical factors (before scaling to unit variance). */
  strength: {
    agePerYear: -0.045,
    female: -0.55,
    bmiPerUnit: 0.07,
    currentSmoking: -0.25,
    glucocorticoids: -0.45,
    rheumatoidArthritis: -0.3,
    secondaryOsteoporosis: -0.35,
    alcohol: -0.25,
    parentHipFracture: -0.2,
    /** SD of the part the clinical factors do not explain; the clinical part has SD ≈ 0.46, so R² ≈ 0.23. */
    residualSd: 0.85,
    /** Centre and scale that make boneStrength ≈ N(0, 1) in this population (measured on 100,000 patients). */
    centre: -0.55,
    scale: 0.966,
  },
  /** Prevalent vertebral deformity, per level: logit = base + perWeakSd·(−strength) + levelOffset. */
  deformity: {
    base: -4.6,
    perWeakSd: 1.1,
    levelOffset: { L1: 0.4, L2: 0.2, L3: 0, L4: -0.3, L5: -0.6 } as Record<LumbarLevel, number>,
    /** Share of recognised (recorded) radiographic vertebral fractures. */
    recorded: 0.35,
  },
  /** Clinical fragility fracture before baseline: logit = base + perWeakSd·(−strength). */
  clinicalFracture: { base: -2.8, perWeakSd: 0.5 },
  /** Femoral-neck T-score: recorded for a minority; = mean + perSd·strength + noise. */
  tScore: { recorded: { female: 0.25, male: 0.1 }, mean: -1.1, perSd: 0.9, noiseSd: 0.75 },
  /** log hazard ratio η of incident vertebral fracture. */
  hazard: {
    perWeakSd: 1.1,
    perDeformity: 0.45,
    maxDeformities: 2,
    clinicalFracture: 0.3,
    agePerYear: 0.02,
    glucocorticoids: 0.3,
    parentHipFracture: 0.15,
    currentSmoking: 0.1,
  },
  /** Weibull baseline: H0(t) = (t / scale)^shape, years. */
  baseline: { shape: 1.2, scale: 55 },
  /** Administrative censoring: follow-up = min(max, minimum + Exp(mean)), years. */
  followUp: { minimum: 0.5, mean: 3.2, max: 10 },
} as const;

export interface SyntheticPatient {
  id: string;
  seed: number;
  index: number;
  /** All recorded but femoralNeckTScore, which most patients lack. */
  factors: RiskFactors;
  latent: {
    /** ≈ N(0, 1); low = weak bone. */
    boneStrength: number;
    /** Deformed levels at baseline, drawn on the radiograph. */
    deformities: Partial<Record<LumbarLevel, VertebralDeformity>>;
    clinicalFracture: boolean;
  };
  truth: { logHazard: number; eventTime: number; censorTime: number };
  outcome: { time: number; event: boolean };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const bySex = (value: { female: number; male: number }, female: boolean): number => (female ? value.female : value.male);
const round = (value: number, digits: number): number => Number(value.toFixed(digits));

function deformity(d: Draws, strength: number): VertebralDeformity {
  // Weaker bone, worse deformity (Genant grade 1 ≈ 20–25 %, 2 ≈ 25–40 %, 3 > 40 % height loss).
  const loss = Math.min(0.6, Math.max(0.2, d.normal(0.3 - 0.05 * strength, 0.07)));
  const kind = d.pick([
    ['wedge', 0.6],
    ['biconcave', 0.25],
    ['crush', 0.15],
  ] as const);
  if (kind === 'wedge') return { anterior: loss, middle: loss * 0.5, posterior: loss * 0.15 };
  if (kind === 'biconcave') return { anterior: loss * 0.2, middle: loss, posterior: loss * 0.2 };
  return { anterior: loss, middle: loss, posterior: loss * 0.85 };
}

/** Patient `index` of the cohort with this seed; independent of every other patient, so cohorts can be generated in parallel. */
export function syntheticPatient(seed: number, index: number): SyntheticPatient {
  const patientSeed = deriveSeed(seed, index);
  const d = draws(mulberry32(patientSeed));
  const p = TRUTH.prevalence;
  const female = d.bernoulli(TRUTH.femaleShare);
  const age = 50 + 25 * d.uniform() ** TRUTH.ageSkew;
  const bmi = Math.min(TRUTH.bmi.max, Math.max(TRUTH.bmi.min, d.normal(TRUTH.bmi.mean, TRUTH.bmi.sd)));
  const currentSmoking = d.bernoulli(bySex(p.currentSmoking, female));
  const alcohol = d.bernoulli(bySex(p.alcohol, female));
  const glucocorticoids = d.bernoulli(p.glucocorticoids);
  const rheumatoidArthritis = d.bernoulli(bySex(p.rheumatoidArthritis, female));
  const secondaryOsteoporosis = d.bernoulli(p.secondaryOsteoporosis);
  const parentHipFracture = d.bernoulli(p.parentHipFracture);

  const s = TRUTH.strength;
  const clinical =
    s.agePerYear * (age - 60) +
    (female ? s.female : 0) +
    s.bmiPerUnit * (bmi - TRUTH.bmi.mean) +
    (currentSmoking ? s.currentSmoking : 0) +
    (glucocorticoids ? s.glucocorticoids : 0) +
    (rheumatoidArthritis ? s.rheumatoidArthritis : 0) +
    (secondaryOsteoporosis ? s.secondaryOsteoporosis : 0) +
    (alcohol ? s.alcohol : 0) +
    (parentHipFracture ? s.parentHipFracture : 0);
  const boneStrength = (clinical - s.centre + d.normal(0, s.residualSd)) / s.scale;

  const deformities: Partial<Record<LumbarLevel, VertebralDeformity>> = {};
  for (const level of LUMBAR_LEVELS) {
    const logit = TRUTH.deformity.base - TRUTH.deformity.perWeakSd * boneStrength + TRUTH.deformity.levelOffset[level];
    if (d.bernoulli(sigmoid(logit))) deformities[level] = deformity(d, boneStrength);
  }
  const deformityCount = Object.keys(deformities).length;
  const clinicalFracture = d.bernoulli(sigmoid(TRUTH.clinicalFracture.base - TRUTH.clinicalFracture.perWeakSd * boneStrength));
  const recordedDeformity = deformityCount > 0 && d.bernoulli(TRUTH.deformity.recorded);

  const [heightMean, heightSd] = TRUTH.heightCm[female ? 'female' : 'male'];
  const heightCm = d.normal(heightMean, heightSd) - TRUTH.heightLossPerYear * (age - 50) - 1.5 * deformityCount;
  const weightKg = bmi * (heightCm / 100) ** 2;
  const t = TRUTH.tScore;
  const femoralNeckTScore = d.bernoulli(bySex(t.recorded, female)) ? round(t.mean + t.perSd * boneStrength + d.normal(0, t.noiseSd), 1) : null;

  const h = TRUTH.hazard;
  const logHazard =
    -h.perWeakSd * boneStrength +
    h.perDeformity * Math.min(deformityCount, h.maxDeformities) +
    (clinicalFracture ? h.clinicalFracture : 0) +
    h.agePerYear * (age - 60) +
    (glucocorticoids ? h.glucocorticoids : 0) +
    (parentHipFracture ? h.parentHipFracture : 0) +
    (currentSmoking ? h.currentSmoking : 0);
  // Inverse of S(t) = exp(−(t/scale)^shape · e^η) at an Exp(1) draw.
  const { shape, scale } = TRUTH.baseline;
  const eventTime = scale * (d.exponential(1) / Math.exp(logHazard)) ** (1 / shape);
  const f = TRUTH.followUp;
  const censorTime = Math.min(f.max, f.minimum + d.exponential(f.mean));
  const event = eventTime <= censorTime;

  return {
    id: `syn-${seed}-${index}`,
    seed: patientSeed,
    index,
    factors: {
      age: round(age, 1),
      sex: female ? 'female' : 'male',
      weightKg: round(weightKg, 1),
      heightCm: round(heightCm, 1),
      priorFragilityFracture: clinicalFracture || recordedDeformity,
      parentHipFracture,
      currentSmoking,
      glucocorticoids,
      rheumatoidArthritis,
      secondaryOsteoporosis,
      alcohol,
      femoralNeckTScore,
    },
    latent: { boneStrength, deformities, clinicalFracture },
    truth: { logHazard, eventTime, censorTime },
    outcome: { time: round(Math.min(eventTime, censorTime), 4), event },
  };
}
