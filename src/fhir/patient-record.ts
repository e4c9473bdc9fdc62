// A patient's chart, as FHIR resources, turned into what the fracture-risk assessment reads: the FRAX
// risk factors (each with the resource it came from, its date, and whether it was found, missing or
// inferred), DXA results, recorded FRAX results, an osteoporosis diagnosis and osteoporosis treatment.
// Pure: no I/O, no clock (the caller gives `asOf`). This file is the record's shape and its assembly,
// and reads the Patient resource itself; each other kind of resource has its reader beside it:
//   untrusted-json.ts       safe accessors for resources whose shapes were never validated
//   record-findings.ts      the Finding type, the problem log, this-patient-only admission
//   record-observations.ts  weight, height, BMI, smoking, alcohol, DXA, FRAX results
//   record-conditions.ts    FRAX conditions, osteoporosis diagnosis, a parent's hip fracture
//   record-medications.ts   glucocorticoids and osteoporosis treatment from the orders
//   medication-orders.ts    what one MedicationRequest orders and for how long (shared with draft-orders.ts)
// Every code matched on is in terminology.ts or value-sets.ts.
import type { Condition, FamilyMemberHistory, Medication, MedicationRequest, Observation, Patient } from 'fhir/r4.js';
import type { RiskFactors } from '../model/risk-factors.js';
import { readConditions, parentHipFractureFinding } from './record-conditions.js';
import { ProblemLog, finding, missing, type Finding, type ReadContext } from './record-findings.js';
import { DEFAULT_TREATMENT_RECENT_MONTHS, readMedications, type TreatmentFinding } from './record-medications.js';
import { readObservations, type DxaResult, type FraxResult } from './record-observations.js';
import { DAY_MS, get, isObject, str, type Json } from './untrusted-json.js';

// Re-exported because the assessment and the CDS services import the record's parts from here.
export type { Finding, FindingStatus } from './record-findings.js';
export type { TreatmentFinding } from './record-medications.js';
export type { DxaResult, FraxResult } from './record-observations.js';

export interface RecordFactors {
  /**
   * Years at `asOf` from Patient.birthDate, fractional to one decimal (days / 365.25): the encoding the
   * model was trained on (the synthetic cohort's age). Cards show whole years.
   */
  age: Finding<number>;
  sex: Finding<'female' | 'male'>;
  weightKg: Finding<number>;
  heightCm: Finding<number>;
  /** Recorded BMI, else computed from weight and height (status inferred). */
  bmi: Finding<number>;
  priorFragilityFracture: Finding<boolean>;
  parentHipFracture: Finding<boolean>;
  currentSmoking: Finding<boolean>;
  glucocorticoids: Finding<boolean>;
  rheumatoidArthritis: Finding<boolean>;
  secondaryOsteoporosis: Finding<boolean>;
  /** Three or more units a day. */
  alcohol: Finding<boolean>;
  femoralNeckTScore: Finding<number>;
}

export interface PatientRecordInput {
  patientId: string;
  /** null when the chart has no Patient resource (or it could not be read). */
  patient: Patient | null;
  observations: readonly Observation[];
  conditions: readonly Condition[];
  medicationRequests: readonly MedicationRequest[];
  /** Medications that MedicationRequest.medicationReference points at (search `_include`s); contained ones are read from each request. */
  medications: readonly Medication[];
  familyMemberHistories: readonly FamilyMemberHistory[];
  /** The assessment date: age, "active", "recent" and "within N months" are judged at this instant. */
  asOf: Date;
  /** How far back an ended osteoporosis treatment still counts as recent. Default 12. */
  treatmentRecentMonths?: number;
}

export interface PatientRecord {
  patientId: string;
  asOf: string;
  factors: RecordFactors;
  /** Every DXA result found (T-score observations), newest first. */
  dxa: DxaResult[];
  /** The most recent recorded FRAX result (LOINC 90265-0 / 90266-8); never computed here. */
  frax: FraxResult | null;
  /** An osteoporosis diagnosis on the chart (not refuted, not entered in error). */
  osteoporosis: Finding<boolean>;
  osteoporosisTreatment: TreatmentFinding;
  /**
   * What was ignored and why, without patient data: resources of another patient, entered in error,
   * refuted, unreadable values, unknown units. For logs and the audit trail.
   */
  problems: string[];
}

/**
 * Age in completed years at `asOf`, for the population rule and the guidance: a full birth date counts
 * birthdays (the day before turning 65 is 64, which the model's one-decimal age, 65.0, would not say);
 * a partial one takes the whole years of the model's age.
 */
export function ageInWholeYears(record: PatientRecord): number | null {
  const { value, date } = record.factors.age;
  if (value === null) return null;
  if (date === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return Math.floor(value);
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const at = new Date(record.asOf);
  const beforeBirthday = at.getUTCMonth() + 1 < month || (at.getUTCMonth() + 1 === month && at.getUTCDate() < day);
  return at.getUTCFullYear() - year - (beforeBirthday ? 1 : 0);
}

/** The model's input: each factor's value (null when missing). */
export function riskFactorsOf(record: PatientRecord): RiskFactors {
  const f = record.factors;
  return {
    age: f.age.value,
    sex: f.sex.value,
    weightKg: f.weightKg.value,
    heightCm: f.heightCm.value,
    priorFragilityFracture: f.priorFragilityFracture.value,
    parentHipFracture: f.parentHipFracture.value,
    currentSmoking: f.currentSmoking.value,
    glucocorticoids: f.glucocorticoids.value,
    rheumatoidArthritis: f.rheumatoidArthritis.value,
    secondaryOsteoporosis: f.secondaryOsteoporosis.value,
    alcohol: f.alcohol.value,
    femoralNeckTScore: f.femoralNeckTScore.value,
  };
}

// ---- Patient: age and sex ----

/** The model's age encoding: days / 365.25, to one decimal (synthetic/fhir-resources.ts writes birthDate so). */
const DAYS_PER_YEAR = 365.25;
const MAX_AGE = 130;

/** Days from birth to the asOf day; a partial birthDate (YYYY, YYYY-MM) is taken at the middle of its period. */
function daysSinceBirth(birthDate: string, asOf: number): number | undefined {
  const [year, month, day] = birthDate.split('-').map(Number) as [number, number?, number?];
  const start = Date.UTC(year, (month ?? 1) - 1, day ?? 1);
  const end = day !== undefined ? start : month !== undefined ? Date.UTC(year, month, 1) : Date.UTC(year + 1, 0, 1);
  const check = new Date(start);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== (month ?? 1) - 1 || check.getUTCDate() !== (day ?? 1)) return undefined;
  const at = new Date(asOf);
  return (Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()) - (start + end) / 2) / DAY_MS;
}

function ageOf(patient: Json, source: string, ctx: ReadContext): Finding<number> {
  const birthDate = str(get(patient, 'birthDate'));
  if (birthDate === undefined) return missing();
  const days = /^\d{4}(?:-\d{2}(?:-\d{2})?)?$/.test(birthDate) ? daysSinceBirth(birthDate, ctx.asOf) : undefined;
  const years = days === undefined ? undefined : Number((days / DAYS_PER_YEAR).toFixed(1));
  if (years === undefined || years < 0 || years > MAX_AGE) {
    ctx.problems.add('Patient.birthDate unreadable or implausible: age not read');
    return missing();
  }
  return birthDate.length === 10 ? finding(years, 'found', [source], birthDate) : finding(years, 'inferred', [source], birthDate, 'partial birth date: middle of the period');
}

function sexOf(patient: Json, source: string): Finding<'female' | 'male'> {
  const gender = get(patient, 'gender');
  if (gender === 'female' || gender === 'male') return finding(gender, 'found', [source]);
  return gender === 'other' || gender === 'unknown' ? missing('administrative gender other or unknown; FRAX takes female or male') : missing();
}

/** The Patient resource when it is this patient's; another patient's is treated as absent. */
function patientOf(patient: unknown, ctx: ReadContext): Json | undefined {
  if (patient === null || patient === undefined) return undefined;
  if (!isObject(patient) || patient.resourceType !== 'Patient') return ctx.problems.skip('patient input is not a Patient resource: ignored');
  return get(patient, 'id') === ctx.patientId ? patient : ctx.problems.skip('Patient resource of another patient (or without an id) ignored');
}

// ---- the record ----

function validate(input: PatientRecordInput): void {
  if (typeof input.patientId !== 'string' || input.patientId === '') throw new TypeError('input.patientId must be a non-empty string');
  if (!(input.asOf instanceof Date) || Number.isNaN(input.asOf.getTime())) throw new RangeError('input.asOf must be a valid Date');
  const months = input.treatmentRecentMonths;
  if (months !== undefined && !(Number.isFinite(months) && months >= 0)) throw new RangeError('input.treatmentRecentMonths must be a number ≥ 0');
}

/**
 * Reads a patient's chart as of `input.asOf`. Resources of another patient, entered in error, dated
 * after `asOf` or unreadable are left out and counted in `problems`; malformed resources never throw.
 * Throws only for a bad `patientId`, `asOf` or `treatmentRecentMonths`.
 */
export function readPatientRecord(input: PatientRecordInput): PatientRecord {
  validate(input);
  const ctx: ReadContext = { patientId: input.patientId, asOf: input.asOf.getTime(), problems: new ProblemLog() };
  const patient = patientOf(input.patient, ctx);
  const patientSource = `Patient/${input.patientId}`;
  const observed = readObservations(input.observations, ctx);
  const conditions = readConditions(input.conditions, ctx);
  const medications = readMedications(input.medicationRequests, input.medications, ctx, input.treatmentRecentMonths ?? DEFAULT_TREATMENT_RECENT_MONTHS);
  const factors: RecordFactors = {
    age: patient === undefined ? missing() : ageOf(patient, patientSource, ctx),
    sex: patient === undefined ? missing() : sexOf(patient, patientSource),
    weightKg: observed.weightKg,
    heightCm: observed.heightCm,
    bmi: observed.bmi,
    priorFragilityFracture: conditions.priorFragilityFracture,
    parentHipFracture: parentHipFractureFinding(input.familyMemberHistories, ctx),
    currentSmoking: observed.currentSmoking,
    glucocorticoids: medications.glucocorticoids,
    rheumatoidArthritis: conditions.rheumatoidArthritis,
    secondaryOsteoporosis: conditions.secondaryOsteoporosis,
    alcohol: observed.alcohol,
    femoralNeckTScore: observed.femoralNeckTScore,
  };
  return {
    patientId: input.patientId,
    asOf: input.asOf.toISOString(),
    factors,
    dxa: observed.dxa,
    frax: observed.frax,
    osteoporosis: conditions.osteoporosis,
    osteoporosisTreatment: medications.osteoporosisTreatment,
    problems: ctx.problems.list(),
  };
}
