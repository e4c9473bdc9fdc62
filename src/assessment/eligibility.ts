// Who gets an estimate: the model card's population, then the suppression rules that make a
// "consider DXA" card noise (known osteoporosis, osteoporosis treatment, a recent DXA). Pure; every
// rule returns a reason code, and nothing here needs the radiograph, so a suppressed patient costs
// no PACS traffic.
import { ageInWholeYears, type PatientRecord } from '../fhir/patient-record.js';
import type { ModelCard } from '../model/model-card.js';
import type { Reason } from './assessment.js';

export interface EligibilityPolicy {
  /** A DXA result within this many months suppresses; 0 turns the rule off. */
  recentDxaMonths: number;
}

const DAYS_PER_MONTH = 365.25 / 12;

function monthsBetween(earlier: string, later: Date): number | null {
  const time = Date.parse(earlier);
  return Number.isNaN(time) ? null : (later.getTime() - time) / 86_400_000 / DAYS_PER_MONTH;
}

/** Reasons the patient is outside the model card's population (age in whole years, sex). */
export function populationReasons(record: PatientRecord, population: ModelCard['intendedUse']['population']): Reason[] {
  const { sex } = record.factors;
  const years = ageInWholeYears(record);
  const reasons: Reason[] = [];
  if (years === null) reasons.push({ code: 'age-unknown', detail: 'the chart has no usable birth date' });
  else {
    if (years < population.minAge || years > population.maxAge) {
      reasons.push({ code: 'age-out-of-range', detail: `the model is for ages ${population.minAge}-${population.maxAge}` });
    }
  }
  if (sex.value === null) reasons.push({ code: 'sex-unknown', detail: 'the chart records no administrative sex of female or male' });
  else if (!population.sexes.includes(sex.value)) reasons.push({ code: 'sex-out-of-range', detail: `the model is for ${population.sexes.join(' and ')} patients` });
  return reasons;
}

/** Reasons a "consider DXA" recommendation would be noise for this patient. */
export function suppressionReasons(record: PatientRecord, policy: EligibilityPolicy, asOf: Date): Reason[] {
  const reasons: Reason[] = [];
  if (record.osteoporosis.value === true) reasons.push({ code: 'known-osteoporosis', detail: 'an osteoporosis diagnosis is on the chart' });
  const treatment = record.osteoporosisTreatment;
  if (treatment.status !== 'none') {
    reasons.push({ code: 'osteoporosis-treatment', detail: `osteoporosis treatment is ${treatment.status === 'active' ? 'active' : 'recent'}` });
  }
  if (policy.recentDxaMonths > 0) {
    const latest = record.dxa[0];
    const months = latest ? monthsBetween(latest.date, asOf) : null;
    if (months !== null && months <= policy.recentDxaMonths) {
      reasons.push({ code: 'recent-dxa', detail: `a DXA result within the last ${policy.recentDxaMonths} months` });
    }
  }
  return reasons;
}
