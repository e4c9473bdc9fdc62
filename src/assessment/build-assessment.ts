// Assembles an Assessment from its parts (the chart as read, the radiograph chosen, the model's
// prediction) and computes the key that identifies it. Pure.
import { createHash } from 'node:crypto';
import { ageInWholeYears, type PatientRecord } from '../fhir/patient-record.js';
import type { FeatureValue } from '../model/covariates.js';
import type { LoadedModel } from '../model/model-registry.js';
import type { Prediction } from '../model/model-runtime.js';
import type { FactorName, RiskFactors } from '../model/risk-factors.js';
import { horizonRisks, riskBand, survivalCurves } from '../model/survival.js';
import type { Assessment, FactorKey, ModelUsed, RiskFactorEntry } from './assessment.js';
import type { RadiographChoice } from './radiographs.js';

export const FACTOR_LABELS: Readonly<Record<FactorKey, string>> = {
  age: 'Age',
  sex: 'Sex',
  weightKg: 'Weight',
  heightCm: 'Height',
  bmi: 'Body mass index',
  priorFragilityFracture: 'Prior fragility fracture',
  parentHipFracture: "Parent's hip fracture",
  currentSmoking: 'Current smoking',
  glucocorticoids: 'Glucocorticoids',
  rheumatoidArthritis: 'Rheumatoid arthritis',
  secondaryOsteoporosis: 'Secondary osteoporosis',
  alcohol: 'Alcohol ≥ 3 units/day',
  femoralNeckTScore: 'Femoral neck T-score',
};

/** The model's factor name for a chart factor (the chart records sex; the model reads `female`). */
const MODEL_FACTOR: Readonly<Record<FactorKey, FactorName>> = {
  age: 'age',
  sex: 'female',
  weightKg: 'weightKg',
  heightCm: 'heightCm',
  bmi: 'bmi',
  priorFragilityFracture: 'priorFragilityFracture',
  parentHipFracture: 'parentHipFracture',
  currentSmoking: 'currentSmoking',
  glucocorticoids: 'glucocorticoids',
  rheumatoidArthritis: 'rheumatoidArthritis',
  secondaryOsteoporosis: 'secondaryOsteoporosis',
  alcohol: 'alcohol',
  femoralNeckTScore: 'femoralNeckTScore',
};

/** The chart's factors as entries, with any overrides applied (the model's values are added once it has run). */
export function factorEntries(record: PatientRecord, overrides: Partial<RiskFactors>): RiskFactorEntry[] {
  return (Object.keys(FACTOR_LABELS) as FactorKey[]).map((name) => {
    const finding = record.factors[name];
    const entry: RiskFactorEntry = {
      name,
      label: FACTOR_LABELS[name],
      value: finding.value,
      status: finding.status,
      sources: [...finding.sources],
      ...(finding.date === undefined ? {} : { date: finding.date }),
      ...(finding.note === undefined ? {} : { note: finding.note }),
    };
    const override = name in overrides ? overrides[name as keyof RiskFactors] : undefined;
    return override === undefined ? entry : { ...entry, value: override, overridden: true };
  });
}

/** The factors the model reads, from the entries (so an override reaches the model exactly as shown). */
export function modelFactors(entries: readonly RiskFactorEntry[]): RiskFactors {
  const value = <T>(name: FactorKey): T | null => (entries.find((e) => e.name === name)?.value ?? null) as T | null;
  return {
    age: value('age'),
    sex: value('sex'),
    weightKg: value('weightKg'),
    heightCm: value('heightCm'),
    priorFragilityFracture: value('priorFragilityFracture'),
    parentHipFracture: value('parentHipFracture'),
    currentSmoking: value('currentSmoking'),
    glucocorticoids: value('glucocorticoids'),
    rheumatoidArthritis: value('rheumatoidArthritis'),
    secondaryOsteoporosis: value('secondaryOsteoporosis'),
    alcohol: value('alcohol'),
    femoralNeckTScore: value('femoralNeckTScore'),
  };
}

export interface KeyParts {
  patientId: string;
  fhirServer: string | null;
  sopInstanceUid: string;
  model: LoadedModel;
  entries: readonly RiskFactorEntry[];
  record: PatientRecord;
}

/**
 * Everything that determines an assessment, hashed: a new image, a changed factor (value, source or
 * date), a new FRAX or DXA result, or another model gives another key, so a cached answer is never stale.
 */
export function assessmentKey(parts: KeyParts): string {
  const { card } = parts.model;
  const content = [
    // 2: the Assessment's patient.age became completed years (a stored 1 would quote 65 for a 64-year-old).
    2,
    parts.patientId,
    parts.fhirServer,
    parts.sopInstanceUid,
    card.id,
    card.artifact.sha256,
    parts.entries,
    parts.record.frax,
    parts.record.dxa,
  ];
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 40);
}

export function modelUsed(model: LoadedModel): ModelUsed {
  const { card } = model;
  return {
    id: card.id,
    version: card.version,
    sha256: card.artifact.sha256,
    name: card.name,
    status: card.intendedUse.status,
    statement: card.intendedUse.statement,
    outcome: card.intendedUse.outcome,
    timeUnit: card.intendedUse.timeUnit,
  };
}

function withModelValues(entries: readonly RiskFactorEntry[], model: LoadedModel, values: readonly FeatureValue[]): RiskFactorEntry[] {
  // An is-missing indicator says only whether the factor was recorded; the factor's own feature carries its value.
  const valueFeatures = new Set((model.card.inputs.covariates?.features ?? []).filter((f) => f.transform.kind !== 'is-missing').map((f) => f.name));
  return entries.map((entry) => {
    const feature = values.find((v) => v.factor === MODEL_FACTOR[entry.name] && valueFeatures.has(v.name));
    return feature ? { ...entry, model: { value: feature.value, imputed: feature.imputed } } : entry;
  });
}

export interface AssessmentParts extends KeyParts {
  key: string;
  computedAt: Date;
  choice: RadiographChoice;
  prediction: Prediction;
}

export function buildAssessment(parts: AssessmentParts): Assessment {
  const { card } = parts.model;
  const { logRisk } = parts.prediction;
  const band = riskBand(card.riskBands, card.baseline, logRisk);
  // The card's rules keep riskBands.horizon on the grid, so a band is always found.
  if (band.name === null) throw new Error(`model ${card.id}: ${band.reason}`);
  const bandDefinition = card.riskBands.bands.find((b) => b.name === band.name);
  const riskFactors = withModelValues(parts.entries, parts.model, parts.prediction.featureValues);
  const { source, preprocessing } = parts.choice;
  // Missing factors are not repeated here: each entry says whether the model's default stood in for it.
  const caveats = [
    ...(source.view === 'unknown' ? ['The radiograph does not record its projection; it was read as a lateral view.'] : []),
    ...(preprocessing.source.lossyCompression ? ['The radiograph went through lossy compression.'] : []),
  ];
  return {
    key: parts.key,
    computedAt: parts.computedAt.toISOString(),
    patient: { id: parts.patientId, age: ageInWholeYears(parts.record) as number, sex: parts.record.factors.sex.value as 'female' | 'male' },
    fhirServer: parts.fhirServer,
    model: modelUsed(parts.model),
    image: {
      imagingStudy: source.imagingStudyReference,
      studyInstanceUid: source.studyInstanceUid,
      seriesInstanceUid: source.seriesInstanceUid,
      sopInstanceUid: source.sopInstanceUid,
      date: source.studyStarted,
      modality: source.modality,
      view: source.view,
      lossy: preprocessing.source.lossyCompression,
      notes: source.selectionReasons,
    },
    riskFactors,
    frax: parts.record.frax,
    dxa: parts.record.dxa,
    logRisk,
    curves: survivalCurves(card.baseline, logRisk),
    horizons: horizonRisks(card.baseline, logRisk, card.horizons),
    band: { name: band.name, label: band.label, indicator: bandDefinition?.indicator ?? 'info', horizon: band.horizon, risk: band.risk },
    caveats,
  };
}
