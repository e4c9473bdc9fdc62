// A patient's chart, as FHIR resources, turned into what the fracture-risk assessment reads: the FRAX
// risk factors (each with the resource it came from, its date, and whether it was found, missing or
// inferred), DXA results, recorded FRAX results, an osteoporosis diagnosis and osteoporosis treatment.
// Pure: no I/O, no clock (the caller gives `asOf`). Every code it matches on is in terminology.ts or
// value-sets.ts beside it. The order-select helpers (draft-orders.ts) share its drug reading.
import type { Condition, FamilyMemberHistory, Medication, MedicationRequest, Observation, Patient } from 'fhir/r4.js';
import type { RiskFactors } from '../model/risk-factors.js';
import {
  BMI_UNITS,
  DRINKS_PER_DAY_UNITS,
  DXA_SITE_TEXT,
  DXA_T_SCORE_CODES,
  EXCLUDED_CONDITION_VERIFICATION_STATUSES,
  FEMORAL_NECK_BODY_SITE,
  HEIGHT_UNITS,
  OBSERVATION_CODES,
  PARENT_RELATIONSHIPS,
  PARENT_TEXT,
  PERCENT_UNITS,
  SMOKING_ANSWERS,
  SMOKING_TEXT,
  SYSTEM,
  T_SCORE_UNITS,
  WEIGHT_UNITS,
  matchesCode,
  type Code,
  type DxaSiteName,
  type SmokingAnswer,
  type UnitConversion,
} from './terminology.js';
import {
  DRUG_PRODUCTS,
  GLUCOCORTICOID_CLASS,
  HIP_FRACTURE_SET,
  LOCAL_ADMINISTRATION_TEXT,
  LOCAL_ROUTES,
  NOT_ASSERTED_TEXT,
  OSTEOPOROSIS_DRUG_CLASS,
  OSTEOPOROSIS_DRUGS,
  OSTEOPOROSIS_SET,
  PRIOR_FRAGILITY_FRACTURE_SET,
  RELATIVE_TEXT,
  RHEUMATOID_ARTHRITIS_SET,
  SECONDARY_OSTEOPOROSIS_SETS,
  SYSTEMIC_FORM_TEXT,
  SYSTEMIC_GLUCOCORTICOIDS,
  SYSTEMIC_ROUTE_TEXT,
  SYSTEMIC_ROUTES,
  type ClinicalStatusCode,
  type ConditionValueSet,
  type DrugClass,
  type DrugIngredient,
  type GlucocorticoidIngredient,
} from './value-sets.js';

/**
 * found: read from a coded element as expected. inferred: read another way (free text, a display
 * string, a value computed from others such as BMI, an unknown unit converted). missing: not in the chart.
 */
export type FindingStatus = 'found' | 'missing' | 'inferred';

export interface Finding<T> {
  /** null when missing. */
  value: T | null;
  status: FindingStatus;
  /** Relative references (`Observation/123`) of the resources the value came from; empty when missing. */
  sources: string[];
  /** Date of the evidence (FHIR date or dateTime as written), when known. */
  date?: string;
  /** How the value was read, in a few words, with no patient data (e.g. "ICD-10-CM M05.79", "from weight and height"). */
  note?: string;
}

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

export type DxaSite = DxaSiteName;

export interface DxaResult {
  site: DxaSite;
  tScore: number | null;
  /** Date of the measurement. */
  date: string;
  source: string;
}

export interface FraxResult {
  /** 10-year probability of a major osteoporotic fracture, in percent; null when only the hip result is recorded. */
  majorOsteoporoticPercent: number | null;
  hipPercent: number | null;
  /** Date of the most recent of the two. */
  date: string;
  sources: string[];
}

export interface TreatmentFinding {
  /** active: an active order; recent: one that ended (or was written) within the look-back; none: neither. */
  status: 'active' | 'recent' | 'none';
  /** Ingredient name, e.g. "alendronate". */
  drug?: string;
  date?: string;
  source?: string;
  note?: string;
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

// ---- reading untrusted JSON ----
// Resources arrive from other systems and are read field by field: own properties only (so
// `__proto__` or `constructor` keys never reach anything), nothing spread or copied from input, and a
// shape that is not what FHIR says is skipped, not thrown at.

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function get(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/** The objects of a list element; one object written where a list belongs is read as a list of one. */
function objects(value: unknown, key: string): Json[] {
  const field = get(value, key);
  return (Array.isArray(field) ? field : [field]).filter(isObject);
}

/** An object element; the first object of a list written where one object belongs. */
function object(value: unknown, key: string): Json | undefined {
  const field = get(value, key);
  return isObject(field) ? field : Array.isArray(field) ? field.find(isObject) : undefined;
}

/** A finite number, or a decimal written as a string (`fromText`), as some systems send them. */
function numeric(value: unknown): { value: number; fromText: boolean } | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? { value, fromText: false } : undefined;
  return typeof value === 'string' && /^\s*[-+]?\d+(?:\.\d+)?\s*$/.test(value) ? { value: Number(value), fromText: true } : undefined;
}

export interface CodingText {
  system?: string;
  code?: string;
  display?: string;
}

/** The codings of a CodeableConcept, string fields only. */
export function codingsOf(concept: unknown): CodingText[] {
  return objects(concept, 'coding').map((c) => ({ system: str(get(c, 'system')), code: str(get(c, 'code')), display: str(get(c, 'display')) }));
}

/** A CodeableConcept's text and its codings' displays. */
export function textsOf(concept: unknown): string[] {
  return [str(get(concept, 'text')), ...codingsOf(concept).map((c) => c.display)].filter((t) => t !== undefined);
}

const hasAnyCode = (codings: readonly CodingText[], codes: readonly Code[]): boolean => codings.some((c) => codes.some((code) => matchesCode(c, code)));

/** A code fit to quote in a note; anything else in the code field is not echoed. */
const quotable = (code: string | undefined): string => (code !== undefined && /^[A-Za-z0-9.-]{1,24}$/.test(code) ? code : '(code)');

const FHIR_DATE = /^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?$/;
const DAY_MS = 86_400_000;

/** A FHIR date or dateTime in ms (a partial date at the start of its period), or undefined. */
function timeOf(value: unknown): number | undefined {
  const text = str(value);
  if (text === undefined || !FHIR_DATE.test(text)) return undefined;
  const time = Date.parse(text.length === 4 ? `${text}-01-01` : text.length === 7 ? `${text}-01` : text);
  return Number.isFinite(time) ? time : undefined;
}

const REFERENCE_PATTERNS = {
  Patient: /(?:^|\/)Patient\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/,
  Medication: /(?:^|\/)Medication\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/,
} as const;

/** The id a reference points at: `<type>/<id>` or an absolute URL ending so, `/_history/n` allowed. */
function referencedId(reference: unknown, type: keyof typeof REFERENCE_PATTERNS): string | undefined {
  const ref = str(get(reference, 'reference'));
  return ref === undefined ? undefined : REFERENCE_PATTERNS[type].exec(ref)?.[1];
}

const sourceOf = (resource: Json, type: string): string => {
  const id = str(get(resource, 'id'));
  return id !== undefined && /^[A-Za-z0-9.-]{1,64}$/.test(id) ? `${type}/${id}` : `${type}/(no id)`;
};

/** Problems by message, counted, so a chart of thousands of odd resources gives a short list. */
class ProblemLog {
  private readonly counts = new Map<string, number>();
  add(problem: string): void {
    this.counts.set(problem, (this.counts.get(problem) ?? 0) + 1);
  }
  /** Records the problem; for `return problems.skip(...)` where a value is given up. */
  skip(problem: string): undefined {
    this.add(problem);
    return undefined;
  }
  list(): string[] {
    return [...this.counts].map(([problem, n]) => (n === 1 ? problem : `${problem} (${n}×)`));
  }
}

interface Context {
  patientId: string;
  asOf: number;
  problems: ProblemLog;
}

type ResourceKind = 'Observation' | 'Condition' | 'MedicationRequest' | 'FamilyMemberHistory';

/** The resources of one kind that belong to the patient; the rest are dropped and counted. */
function admit(items: unknown, kind: ResourceKind, ctx: Context): Json[] {
  if (!Array.isArray(items)) {
    if (items !== undefined) ctx.problems.add(`${kind} list is not an array: ignored`);
    return [];
  }
  const subjectKey = kind === 'FamilyMemberHistory' ? 'patient' : 'subject';
  const problem = (item: unknown): string | undefined => {
    if (!isObject(item) || item.resourceType !== kind) return `${kind} list: an item of another type ignored`;
    const id = referencedId(get(item, subjectKey), 'Patient');
    if (id === undefined) return `${kind} without a Patient reference dropped`;
    return id === ctx.patientId ? undefined : `${kind} of another patient dropped`;
  };
  return items.filter((item): item is Json => {
    const why = problem(item);
    if (why !== undefined) ctx.problems.add(why);
    return why === undefined;
  });
}

// ---- findings ----

const missing = <T>(note?: string): Finding<T> => (note === undefined ? { value: null, status: 'missing', sources: [] } : { value: null, status: 'missing', sources: [], note });

function finding<T>(value: T, status: 'found' | 'inferred', sources: string[], date?: string, note?: string): Finding<T> {
  return { value, status, sources, ...(date === undefined ? {} : { date }), ...(note === undefined ? {} : { note }) };
}

const newest = <T extends { time?: number }>(items: readonly T[]): T | undefined =>
  items.reduce<T | undefined>((best, item) => (best === undefined || (item.time ?? -Infinity) > (best.time ?? -Infinity) ? item : best), undefined);

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

function ageOf(patient: Json, source: string, ctx: Context): Finding<number> {
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
function patientOf(patient: unknown, ctx: Context): Json | undefined {
  if (patient === null || patient === undefined) return undefined;
  if (!isObject(patient) || patient.resourceType !== 'Patient') return ctx.problems.skip('patient input is not a Patient resource: ignored');
  return get(patient, 'id') === ctx.patientId ? patient : ctx.problems.skip('Patient resource of another patient (or without an id) ignored');
}

// ---- Observations ----

/** An Observation, or one of its components, with the value[x] it holds. */
interface Measurement {
  holder: Json;
  bodySite: unknown;
  source: string;
  date: string;
  time: number;
}

const EXCLUDED_OBSERVATION_STATUSES = ['entered-in-error', 'cancelled'];

const READ_CODES: ReadonlySet<string> = new Set([
  OBSERVATION_CODES.bodyWeight.code,
  OBSERVATION_CODES.bodyHeight.code,
  OBSERVATION_CODES.bmi.code,
  OBSERVATION_CODES.smokingStatus.code,
  OBSERVATION_CODES.alcoholDrinksPerDay.code,
  OBSERVATION_CODES.fraxMajorOsteoporoticFracture10y.code,
  OBSERVATION_CODES.fraxHipFracture10y.code,
  ...DXA_T_SCORE_CODES.map((c) => c.code),
]);

/** When an observation was made: effective[x], else issued. */
function effectiveDate(observation: Json): string | undefined {
  const period = object(observation, 'effectivePeriod');
  return [get(observation, 'effectiveDateTime'), get(observation, 'effectiveInstant'), get(period, 'end'), get(period, 'start'), get(observation, 'issued')]
    .map(str)
    .find((date) => timeOf(date) !== undefined);
}

/** The LOINC codes of interest a CodeableConcept carries. */
const readCodesOf = (concept: unknown): Set<string> =>
  new Set(codingsOf(concept).flatMap((c) => (c.code !== undefined && READ_CODES.has(c.code) && (c.system ?? SYSTEM.loinc) === SYSTEM.loinc ? [c.code] : [])));

/**
 * The patient's measurements (observations and components) by LOINC code, newest first. Only codes
 * this module reads; others are passed over without a problem, as they are not this module's business.
 */
function measurementsByCode(observations: unknown, ctx: Context): Map<string, Measurement[]> {
  const byCode = new Map<string, Measurement[]>();
  for (const observation of admit(observations, 'Observation', ctx)) {
    const holders = [observation, ...objects(observation, 'component')].map((holder) => ({ holder, codes: readCodesOf(get(holder, 'code')) })).filter((h) => h.codes.size > 0);
    if (holders.length === 0) continue;
    const status = get(observation, 'status');
    if (typeof status === 'string' && EXCLUDED_OBSERVATION_STATUSES.includes(status)) {
      ctx.problems.add(`Observation with status ${status} ignored`);
      continue;
    }
    const date = effectiveDate(observation);
    const time = timeOf(date);
    if (date === undefined || time === undefined) {
      ctx.problems.add('Observation without an effective date ignored');
      continue;
    }
    if (time > ctx.asOf) {
      ctx.problems.add('Observation dated after the assessment date ignored');
      continue;
    }
    const common = { bodySite: get(observation, 'bodySite'), source: sourceOf(observation, 'Observation'), date, time };
    for (const { holder, codes } of holders) {
      for (const code of codes) {
        const list = byCode.get(code);
        if (list === undefined) byCode.set(code, [{ holder, ...common }]);
        else list.push({ holder, ...common });
      }
    }
  }
  for (const list of byCode.values()) list.sort((a, b) => b.time - a.time);
  return byCode;
}

/** How to read one kind of quantity: its units, plausible range, and what a value without a unit means. */
interface QuantityRule {
  label: string;
  units: readonly UnitConversion[];
  range: readonly [number, number];
  /** accept: unitless is normal (T-scores); infer: take the usual unit, as inferred; reject: ignore. */
  unitless: 'accept' | 'infer' | 'reject';
}

const WEIGHT: QuantityRule = { label: 'body weight', units: WEIGHT_UNITS, range: [0.1, 500], unitless: 'reject' };
const HEIGHT: QuantityRule = { label: 'body height', units: HEIGHT_UNITS, range: [50, 250], unitless: 'reject' };
const BMI: QuantityRule = { label: 'BMI', units: BMI_UNITS, range: [5, 150], unitless: 'infer' };
const DRINKS: QuantityRule = { label: 'alcohol intake', units: DRINKS_PER_DAY_UNITS, range: [0, 100], unitless: 'infer' };
const T_SCORE: QuantityRule = { label: 'DXA T-score', units: T_SCORE_UNITS, range: [-10, 10], unitless: 'accept' };
const PERCENT: QuantityRule = { label: 'FRAX probability', units: PERCENT_UNITS, range: [0, 100], unitless: 'accept' };

interface Reading {
  value: number;
  status: 'found' | 'inferred';
  note?: string;
}

/** The number and unit of value[x]: a Quantity, or "72.5 kg" in valueString, or valueInteger. */
function rawValue(holder: Json): { number?: { value: number; fromText: boolean }; units: string[]; fromString: boolean } | undefined {
  const quantity = object(holder, 'valueQuantity');
  if (quantity !== undefined) {
    const units = [get(quantity, 'code'), get(quantity, 'unit')].map(str).filter((u) => u !== undefined);
    return { number: numeric(get(quantity, 'value')), units, fromString: false };
  }
  const integer = numeric(get(holder, 'valueInteger'));
  if (integer !== undefined) return { number: integer, units: [], fromString: false };
  const match = /^\s*([-+]?\d+(?:\.\d+)?)\s*(\S.*)?$/.exec(str(get(holder, 'valueString')) ?? '');
  if (match === null) return undefined;
  return { number: { value: Number(match[1]), fromText: true }, units: match[2] === undefined ? [] : [match[2].trim()], fromString: true };
}

function conversionOf(units: readonly string[], rule: QuantityRule): UnitConversion | undefined {
  const lower = units.map((u) => u.toLowerCase());
  return rule.units.find((conversion) => lower.some((u) => conversion.units.includes(u)));
}

/** A measurement's value in the rule's unit, or undefined with a problem recorded. */
function readQuantity(m: Measurement, rule: QuantityRule, ctx: Context): Reading | undefined {
  const raw = rawValue(m.holder);
  if (raw?.number === undefined) return ctx.problems.skip(`${rule.label}: no readable number; ignored`);
  let factor = 1;
  const notes: string[] = [];
  let inferred = raw.number.fromText;
  if (raw.fromString) notes.push('read from text');
  else if (raw.number.fromText) notes.push('number written as text');
  if (raw.units.length === 0) {
    if (rule.unitless === 'reject') return ctx.problems.skip(`${rule.label}: value without a unit ignored`);
    if (rule.unitless === 'infer') {
      inferred = true;
      notes.push(`no unit: taken as ${rule.units[0]!.name}`);
    }
  } else {
    const conversion = conversionOf(raw.units, rule);
    if (conversion === undefined) return ctx.problems.skip(`${rule.label}: unit not recognised; ignored`);
    factor = conversion.factor;
    if (factor !== 1) notes.push(`converted from ${conversion.name}`);
  }
  const value = factor === 1 ? raw.number.value : Number((raw.number.value * factor).toFixed(1));
  if (!(value >= rule.range[0] && value <= rule.range[1])) return ctx.problems.skip(`${rule.label}: implausible value ignored`);
  if (raw.number.fromText) ctx.problems.add(`${rule.label}: ${raw.fromString ? 'value read from text' : 'number written as text'}`);
  return { value, status: inferred ? 'inferred' : 'found', ...(notes.length === 0 ? {} : { note: notes.join('; ') }) };
}

/** The newest measurement with a readable value. */
function latestQuantity(measurements: readonly Measurement[] | undefined, rule: QuantityRule, ctx: Context): { m: Measurement; reading: Reading } | undefined {
  for (const m of measurements ?? []) {
    const reading = readQuantity(m, rule, ctx);
    if (reading !== undefined) return { m, reading };
  }
  return undefined;
}

function quantityFinding(latest: { m: Measurement; reading: Reading } | undefined): Finding<number> {
  return latest === undefined ? missing() : finding(latest.reading.value, latest.reading.status, [latest.m.source], latest.m.date, latest.reading.note);
}

/** Recorded BMI, else computed from the weight and height found (inferred). */
function bmiFinding(recorded: Finding<number>, weight: Finding<number>, height: Finding<number>): Finding<number> {
  if (recorded.value !== null || weight.value === null || height.value === null) return recorded;
  const value = Number((weight.value / (height.value / 100) ** 2).toFixed(1));
  const date = [weight.date, height.date].filter((d) => d !== undefined).sort((a, b) => (timeOf(b) ?? 0) - (timeOf(a) ?? 0))[0];
  return finding(value, 'inferred', [...new Set([...weight.sources, ...height.sources])], date, 'from weight and height');
}

function smokingAnswerOf(m: Measurement): { answer: SmokingAnswer; status: 'found' | 'inferred' } | undefined {
  const concept = object(m.holder, 'valueCodeableConcept');
  const codings = codingsOf(concept);
  const coded = SMOKING_ANSWERS.find((a) => codings.some((c) => matchesCode(c, a.code)));
  if (coded !== undefined) return { answer: coded.answer, status: 'found' };
  const texts = [...textsOf(concept), str(get(m.holder, 'valueString'))].filter((t) => t !== undefined);
  const rule = SMOKING_TEXT.find((r) => texts.some((t) => r.text.test(t)));
  return rule === undefined ? undefined : { answer: rule.answer, status: 'inferred' };
}

/** The newest smoking status that says current, former or never; "unknown" answers are passed over. */
function smokingFinding(measurements: readonly Measurement[] | undefined, ctx: Context): Finding<boolean> {
  let unknown = false;
  for (const m of measurements ?? []) {
    const read = smokingAnswerOf(m);
    if (read === undefined) ctx.problems.add('smoking status: answer not recognised; ignored');
    else if (read.answer === 'unknown') unknown = true;
    else return finding(read.answer === 'current', read.status, [m.source], m.date, read.status === 'inferred' ? 'matched by text' : undefined);
  }
  return unknown ? missing('smoking status recorded as unknown') : missing();
}

/** FRAX: three or more units of alcohol a day. */
const FRAX_ALCOHOL_UNITS_PER_DAY = 3;

function alcoholFinding(measurements: readonly Measurement[] | undefined, ctx: Context): Finding<boolean> {
  const latest = latestQuantity(measurements, DRINKS, ctx);
  if (latest === undefined) return missing();
  return finding(latest.reading.value >= FRAX_ALCOHOL_UNITS_PER_DAY, latest.reading.status, [latest.m.source], latest.m.date, latest.reading.note);
}

interface DxaReading {
  result: DxaResult;
  time: number;
  status: 'found' | 'inferred';
}

/** The site a T-score names: the code's, made precise by bodySite (coded femoral neck, or site text). */
function dxaSiteOf(site: DxaSiteName, bodySite: unknown): { site: DxaSiteName; status: 'found' | 'inferred' } {
  if (site === 'lumbar-spine') return { site, status: 'found' };
  if (hasAnyCode(codingsOf(bodySite), [FEMORAL_NECK_BODY_SITE])) return { site: 'femoral-neck', status: 'found' };
  const texts = textsOf(bodySite);
  const named = DXA_SITE_TEXT.find((s) => texts.some((t) => s.text.test(t)));
  return named === undefined ? { site, status: 'found' } : { site: named.site, status: 'inferred' };
}

/** Every DXA T-score, newest first; one whose value cannot be read is kept (it dates a scan) with a null T-score. */
function dxaReadings(byCode: Map<string, Measurement[]>, ctx: Context): DxaReading[] {
  const seen = new Set<Measurement>();
  const readings: DxaReading[] = [];
  for (const code of DXA_T_SCORE_CODES) {
    for (const m of byCode.get(code.code) ?? []) {
      if (seen.has(m)) continue;
      seen.add(m);
      const site = dxaSiteOf(code.site, m.bodySite);
      const reading = readQuantity(m, T_SCORE, ctx);
      const status = site.status === 'inferred' || reading?.status === 'inferred' ? 'inferred' : 'found';
      readings.push({ result: { site: site.site, tScore: reading?.value ?? null, date: m.date, source: m.source }, time: m.time, status });
    }
  }
  return readings.sort((a, b) => b.time - a.time);
}

function femoralNeckFinding(readings: readonly DxaReading[]): Finding<number> {
  const neck = readings.find((r) => r.result.site === 'femoral-neck' && r.result.tScore !== null);
  return neck?.result.tScore == null ? missing() : finding(neck.result.tScore, neck.status, [neck.result.source], neck.result.date);
}

/** The newest FRAX result; the other probability joins it only when recorded the same day. */
function fraxResult(byCode: Map<string, Measurement[]>, ctx: Context): FraxResult | null {
  const mof = latestQuantity(byCode.get(OBSERVATION_CODES.fraxMajorOsteoporoticFracture10y.code), PERCENT, ctx);
  const hip = latestQuantity(byCode.get(OBSERVATION_CODES.fraxHipFracture10y.code), PERCENT, ctx);
  const latest = newest([mof, hip].flatMap((r) => (r === undefined ? [] : [{ ...r, time: r.m.time }])));
  if (latest === undefined) return null;
  const sameDay = (r: typeof mof): typeof mof => (r !== undefined && r.m.date.slice(0, 10) === latest.m.date.slice(0, 10) ? r : undefined);
  const [m, h] = [sameDay(mof), sameDay(hip)];
  return {
    majorOsteoporoticPercent: m?.reading.value ?? null,
    hipPercent: h?.reading.value ?? null,
    date: latest.m.date,
    sources: [...new Set([m, h].flatMap((r) => (r === undefined ? [] : [r.m.source])))],
  };
}

// ---- Conditions ----

interface ConditionMatch {
  via: 'code' | 'text';
  note: string;
}

const normalizeIcd = (code: string): string => code.toUpperCase().replace(/[.\s]/g, '');

/** How a CodeableConcept matches a value set: SNOMED code, ICD-10(-CM) prefix, else text (displays only when no code matched). */
function matchCondition(concept: unknown, set: ConditionValueSet, ownCondition: boolean): ConditionMatch | undefined {
  const codings = codingsOf(concept);
  for (const c of codings) {
    if (set.snomed.some((code) => matchesCode(c, code))) return { via: 'code', note: `SNOMED CT ${quotable(c.code)}` };
    const prefixes = c.system === SYSTEM.icd10cm ? set.icd10cm : c.system === SYSTEM.icd10 ? set.icd10 : [];
    const code = c.code === undefined ? '' : normalizeIcd(c.code);
    if (code !== '' && prefixes.some((p) => code.startsWith(normalizeIcd(p.prefix)))) {
      return { via: 'code', note: `${c.system === SYSTEM.icd10cm ? 'ICD-10-CM' : 'ICD-10'} ${quotable(c.code)}` };
    }
  }
  const asserted = (t: string): boolean => !NOT_ASSERTED_TEXT.test(t) && !(ownCondition && RELATIVE_TEXT.test(t));
  return textsOf(concept).some((t) => asserted(t) && set.text.test(t)) ? { via: 'text', note: 'matched by text' } : undefined;
}

interface ConditionEvidence extends ConditionMatch {
  set: ConditionValueSet;
  source: string;
  date?: string;
  time?: number;
  clinicalStatus: ClinicalStatusCode;
  confirmed: boolean;
}

const CLINICAL_STATUSES: readonly ClinicalStatusCode[] = ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'];
/** Verification statuses that are not (yet) a diagnosis: FRAX's RA must be confirmed, and so is everything else here. */
const UNCONFIRMED = ['unconfirmed', 'provisional', 'differential'];
const CONDITION_SETS: readonly ConditionValueSet[] = [PRIOR_FRAGILITY_FRACTURE_SET, RHEUMATOID_ARTHRITIS_SET, ...SECONDARY_OSTEOPOROSIS_SETS, OSTEOPOROSIS_SET];

const statusCode = (concept: unknown): string | undefined => codingsOf(concept).find((c) => c.code !== undefined)?.code;

/** Every match of the patient's conditions against the FRAX value sets. */
function conditionEvidence(conditions: unknown, ctx: Context): ConditionEvidence[] {
  const evidence: ConditionEvidence[] = [];
  for (const condition of admit(conditions, 'Condition', ctx)) {
    const verification = statusCode(get(condition, 'verificationStatus'));
    if (verification !== undefined && EXCLUDED_CONDITION_VERIFICATION_STATUSES.includes(verification)) {
      ctx.problems.add(`Condition with verification status ${verification} ignored`);
      continue;
    }
    const onset = str(get(condition, 'onsetDateTime')) ?? str(get(object(condition, 'onsetPeriod'), 'start'));
    const recorded = str(get(condition, 'recordedDate'));
    const times = [timeOf(onset), timeOf(recorded)].filter((t) => t !== undefined);
    if (times.length > 0 && Math.min(...times) > ctx.asOf) {
      ctx.problems.add('Condition dated after the assessment date ignored');
      continue;
    }
    // No clinicalStatus means the condition is there.
    const clinical = CLINICAL_STATUSES.find((s) => s === statusCode(get(condition, 'clinicalStatus'))) ?? 'active';
    const date = timeOf(onset) !== undefined ? onset : timeOf(recorded) !== undefined ? recorded : undefined;
    const common = { source: sourceOf(condition, 'Condition'), date, time: timeOf(date), clinicalStatus: clinical, confirmed: !UNCONFIRMED.includes(verification ?? '') };
    for (const set of CONDITION_SETS) {
      const match = matchCondition(get(condition, 'code'), set, true);
      if (match !== undefined) evidence.push({ ...match, set, ...common });
    }
  }
  return evidence;
}

/**
 * true when a confirmed condition of the sets counts under its clinical status (coded evidence
 * before text); false when the chart has it only in a status that does not count (e.g. resolved
 * hyperthyroidism); missing when absent, or only unconfirmed (with a note).
 */
function conditionFinding(evidence: readonly ConditionEvidence[], sets: readonly ConditionValueSet[]): Finding<boolean> {
  const mine = evidence.filter((e) => sets.includes(e.set));
  const confirmed = mine.filter((e) => e.confirmed);
  const counting = confirmed.filter((e) => e.set.countsWhile.includes(e.clinicalStatus));
  const named = (e: ConditionEvidence): string => (sets.length > 1 ? `${e.note} (${e.set.name})` : e.note);
  if (counting.length > 0) {
    const coded = counting.filter((e) => e.via === 'code');
    const best = coded.length > 0 ? coded : counting;
    const latest = newest(best)!;
    return finding(true, coded.length > 0 ? 'found' : 'inferred', [...new Set(best.map((e) => e.source))], latest.date, named(latest));
  }
  const lapsed = newest(confirmed);
  if (lapsed !== undefined) {
    return finding(false, lapsed.via === 'code' ? 'found' : 'inferred', [lapsed.source], lapsed.date, `${lapsed.set.name} ${lapsed.clinicalStatus}; ${lapsed.note}`);
  }
  return mine.length > 0 ? missing(`${mine[0]!.set.name} recorded but not confirmed`) : missing();
}

// ---- FamilyMemberHistory ----

const PARENT_CODES: readonly Code[] = Object.values(PARENT_RELATIONSHIPS);

/** A parent's hip fracture (any FamilyMemberHistory not entered in error); found when relationship and condition are both coded. */
function parentHipFractureFinding(histories: unknown, ctx: Context): Finding<boolean> {
  const evidence: { source: string; date?: string; time?: number; via: 'code' | 'text'; note: string }[] = [];
  for (const history of admit(histories, 'FamilyMemberHistory', ctx)) {
    if (get(history, 'status') === 'entered-in-error') {
      ctx.problems.add('FamilyMemberHistory entered in error ignored');
      continue;
    }
    const date = str(get(history, 'date'));
    const time = timeOf(date);
    if (time !== undefined && time > ctx.asOf) {
      ctx.problems.add('FamilyMemberHistory dated after the assessment date ignored');
      continue;
    }
    const relationship = get(history, 'relationship');
    const codedParent = hasAnyCode(codingsOf(relationship), PARENT_CODES);
    if (!codedParent && !textsOf(relationship).some((t) => PARENT_TEXT.test(t))) continue;
    for (const condition of objects(history, 'condition')) {
      const match = matchCondition(get(condition, 'code'), HIP_FRACTURE_SET, false);
      if (match === undefined) continue;
      const via = codedParent && match.via === 'code' ? 'code' : 'text';
      evidence.push({ source: sourceOf(history, 'FamilyMemberHistory'), date, time, via, note: via === 'code' ? match.note : 'matched by text' });
    }
  }
  const coded = evidence.filter((e) => e.via === 'code');
  const best = newest(coded.length > 0 ? coded : evidence);
  return best === undefined ? missing() : finding(true, best.via === 'code' ? 'found' : 'inferred', [best.source], best.date, best.note);
}

// ---- MedicationRequests: what is ordered, how, for how long ----

/** The concepts that say what a request orders, and the dose forms beside them. */
export interface OrderedMedication {
  concepts: unknown[];
  forms: unknown[];
}

/**
 * medicationCodeableConcept, or the Medication that medicationReference points at (contained `#id`,
 * else by id among `medications`): its code, ingredients and form. An unresolved reference's display
 * is used as text. Undefined when nothing names the drug.
 */
export function orderedMedication(request: unknown, medications: readonly unknown[]): OrderedMedication | undefined {
  const concept = object(request, 'medicationCodeableConcept');
  if (concept !== undefined) return { concepts: [concept], forms: [] };
  const reference = object(request, 'medicationReference');
  const ref = str(get(reference, 'reference'));
  const local = ref?.startsWith('#') === true;
  const id = local ? ref?.slice(1) : referencedId(reference, 'Medication');
  const isIt = (m: unknown): m is Json => id !== undefined && isObject(m) && m.resourceType === 'Medication' && get(m, 'id') === id;
  const medication = (local ? objects(request, 'contained') : medications).find(isIt);
  if (medication !== undefined) {
    return { concepts: [get(medication, 'code'), ...objects(medication, 'ingredient').map((i) => get(i, 'itemCodeableConcept'))], forms: [get(medication, 'form')] };
  }
  const display = str(get(reference, 'display'));
  return display === undefined ? undefined : { concepts: [{ text: display }], forms: [] };
}

export interface DrugIdentity<D extends DrugIngredient = DrugIngredient> {
  /** The ingredient's name, or the class's when only an ATC class code matched. */
  drug: string;
  via: 'code' | 'text';
  ingredient?: D;
  /** mg per tablet or other unit, from a listed product or an "N MG" product name. */
  mgPerUnit?: number;
  note: string;
}

const nameMatchers = new Map<DrugIngredient, RegExp>();

function nameMatcher(drug: DrugIngredient): RegExp {
  let matcher = nameMatchers.get(drug);
  if (matcher === undefined) {
    const names = [drug.name, ...drug.aliases].map((n) => n.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'));
    matcher = new RegExp(String.raw`\b(?:${names.join('|')})\b`, 'i');
    nameMatchers.set(drug, matcher);
  }
  return matcher;
}

/** The strength of a single-ingredient product name such as "prednisone 5 MG Oral Tablet" (not a concentration). */
function strengthMg(texts: readonly string[]): number | undefined {
  for (const text of texts) {
    const strengths = [...text.matchAll(/(\d+(?:\.\d+)?)\s*MG\b(?!\s*\/)/gi)];
    if (strengths.length === 1 && !/\/\s*ML\b/i.test(text)) return Number(strengths[0]![1]);
  }
  return undefined;
}

const SYSTEM_NAMES: Readonly<Record<string, string>> = { [SYSTEM.rxnorm]: 'RxNorm', [SYSTEM.atc]: 'ATC' };

/** Which of `drugs` the concepts order: by RxNorm or ATC code, a listed product, an ATC class prefix, else by name in text. */
export function identifyDrug<D extends DrugIngredient>(concepts: readonly unknown[], drugs: readonly D[], drugClass: DrugClass): DrugIdentity<D> | undefined {
  const codings = concepts.flatMap(codingsOf);
  const texts = concepts.flatMap(textsOf);
  const note = (c: CodingText): string => `${SYSTEM_NAMES[c.system ?? ''] ?? 'code'} ${quotable(c.code)}`;
  for (const c of codings) {
    const ingredient = drugs.find((d) => (d.rxnorm !== undefined && matchesCode(c, d.rxnorm)) || matchesCode(c, d.atc));
    const product = DRUG_PRODUCTS.find((p) => matchesCode(c, p.code));
    const viaProduct = product === undefined ? undefined : drugs.find((d) => d.name === product.ingredient);
    const drug = ingredient ?? viaProduct;
    if (drug !== undefined) return { drug: drug.name, via: 'code', ingredient: drug, ...strength(product?.mgPerUnit ?? strengthMg(texts)), note: note(c) };
  }
  const classCoded = codings.find((c) => c.system === SYSTEM.atc && drugClass.atcPrefixes.some((p) => c.code?.startsWith(p.code)));
  if (classCoded !== undefined) return { drug: drugClass.name, via: 'code', note: note(classCoded) };
  const named = drugs.find((d) => texts.some((t) => nameMatcher(d).test(t)));
  return named === undefined ? undefined : { drug: named.name, via: 'text', ingredient: named, ...strength(strengthMg(texts)), note: 'matched by text' };
}

const strength = (mg: number | undefined): { mgPerUnit?: number } => (mg === undefined ? {} : { mgPerUnit: mg });

type Administration = 'local' | 'systemic-route' | 'systemic-form' | 'unknown';

/** How the drug reaches the body, from the routes first, then the product, form and dosage text. */
function administrationOf(request: unknown, ordered: OrderedMedication): Administration {
  const dosages = objects(request, 'dosageInstruction');
  const routes = dosages.map((d) => get(d, 'route'));
  const routeCodings = routes.flatMap(codingsOf);
  const routeTexts = routes.flatMap(textsOf);
  if (hasAnyCode(routeCodings, LOCAL_ROUTES) || routeTexts.some((t) => LOCAL_ADMINISTRATION_TEXT.test(t))) return 'local';
  if (hasAnyCode(routeCodings, SYSTEMIC_ROUTES) || routeTexts.some((t) => SYSTEMIC_ROUTE_TEXT.test(t))) return 'systemic-route';
  const texts = [...ordered.concepts, ...ordered.forms].flatMap(textsOf).concat(dosages.flatMap((d) => str(get(d, 'text')) ?? []));
  if (texts.some((t) => LOCAL_ADMINISTRATION_TEXT.test(t))) return 'local';
  if (texts.some((t) => SYSTEMIC_ROUTE_TEXT.test(t))) return 'systemic-route';
  return texts.some((t) => SYSTEMIC_FORM_TEXT.test(t)) ? 'systemic-form' : 'unknown';
}

/**
 * The systemic glucocorticoid a request orders, or undefined: inhaled, topical, nasal, eye, ear and
 * rectal forms are not FRAX's glucocorticoids, and triamcinolone counts only when said to be systemic.
 */
export function systemicGlucocorticoid(request: unknown, ordered: OrderedMedication): DrugIdentity<GlucocorticoidIngredient> | undefined {
  const identity = identifyDrug(ordered.concepts, SYSTEMIC_GLUCOCORTICOIDS, GLUCOCORTICOID_CLASS);
  if (identity === undefined) return undefined;
  const administration = administrationOf(request, ordered);
  const strict = identity.ingredient?.systemicOnlyWhenStated === true;
  return administration === 'local' || (strict && administration !== 'systemic-route') ? undefined : identity;
}

/** FRAX's "more than 3 months" of glucocorticoids, in days. */
export const LONG_TERM_GLUCOCORTICOID_DAYS = 90;

const DURATION_DAYS: Readonly<Record<string, number>> = { min: 1 / 1440, h: 1 / 24, d: 1, wk: 7, mo: 30.4375, a: 365.25 };
const DURATION_ALIASES: Readonly<Record<string, string>> = { day: 'd', days: 'd', week: 'wk', weeks: 'wk', month: 'mo', months: 'mo', year: 'a', years: 'a', hour: 'h', hours: 'h' };

function durationDays(duration: unknown): number | undefined {
  const value = numeric(get(duration, 'value'))?.value;
  const unit = [get(duration, 'code'), get(duration, 'unit')].map(str).map((u) => u?.toLowerCase()).find((u) => u !== undefined);
  const days = unit === undefined ? undefined : DURATION_DAYS[DURATION_ALIASES[unit] ?? unit];
  return value === undefined || days === undefined || value < 0 ? undefined : value * days;
}

function periodDays(period: unknown, start: number | undefined): number | undefined {
  const from = timeOf(get(period, 'start')) ?? start;
  const to = timeOf(get(period, 'end'));
  return from === undefined || to === undefined || to < from ? undefined : (to - from) / DAY_MS;
}

/** Days of the dosage bounds: instructions of one sequence run together (the longest), sequences one after another. */
function dosageBoundsDays(request: unknown, authored: number | undefined): number | undefined {
  const bySequence = new Map<number | undefined, number>();
  for (const dosage of objects(request, 'dosageInstruction')) {
    const repeat = object(object(dosage, 'timing'), 'repeat');
    const days = durationDays(get(repeat, 'boundsDuration')) ?? periodDays(get(repeat, 'boundsPeriod'), authored);
    const sequence = numeric(get(dosage, 'sequence'))?.value;
    if (days !== undefined) bySequence.set(sequence, Math.max(days, bySequence.get(sequence) ?? 0));
  }
  return bySequence.size === 0 ? undefined : [...bySequence.values()].reduce((a, b) => a + b, 0);
}

export interface OrderCourse {
  /** When the course starts: a bounds or validity start, else authoredOn. */
  start?: number;
  /** Its length, from dosage bounds, else expected supply × (1 + repeats), else the validity period; null without dates. */
  days: number | null;
}

export function orderCourse(request: unknown): OrderCourse {
  const authored = timeOf(get(request, 'authoredOn'));
  const dispense = object(request, 'dispenseRequest');
  const validity = object(dispense, 'validityPeriod');
  const bounds = objects(request, 'dosageInstruction').map((d) => object(object(object(d, 'timing'), 'repeat'), 'boundsPeriod'));
  const start = [...bounds.map((b) => timeOf(get(b, 'start'))), timeOf(get(validity, 'start')), authored].find((t) => t !== undefined);
  const supply = durationDays(get(dispense, 'expectedSupplyDuration'));
  const repeats = Math.max(0, Math.floor(numeric(get(dispense, 'numberOfRepeatsAllowed'))?.value ?? 0));
  const days = dosageBoundsDays(request, authored) ?? (supply === undefined ? undefined : supply * (1 + repeats)) ?? periodDays(validity, authored);
  return { ...(start === undefined ? {} : { start }), days: days ?? null };
}

const MASS_MG: Readonly<Record<string, number>> = { mg: 1, g: 1000, ug: 0.001, mcg: 0.001, µg: 0.001 };
const PER_UNIT = ['{tbl}', 'tbl', 'tab', 'tabs', 'tablet', 'tablets', '{tablet}', '{tablets}', 'capsule', '{capsule}', '{cap}', '1'];

/** Prednisolone-equivalent mg a day, the highest of the instructions (a taper's start); null when no dose can be read. */
function dailyPrednisoloneMg(request: unknown, identity: DrugIdentity<GlucocorticoidIngredient>): number | null {
  const equivalent = identity.ingredient?.prednisoloneEquivalent;
  if (equivalent === undefined) return null;
  const perDay = objects(request, 'dosageInstruction').flatMap((dosage) => {
    const dose = objects(dosage, 'doseAndRate').map((d) => object(d, 'doseQuantity')).find((q) => q !== undefined);
    const value = numeric(get(dose, 'value'))?.value;
    const unit = [get(dose, 'code'), get(dose, 'unit')].map(str).find((u) => u !== undefined)?.toLowerCase();
    const mg = value === undefined || unit === undefined ? undefined : MASS_MG[unit] !== undefined ? value * MASS_MG[unit] : PER_UNIT.includes(unit) && identity.mgPerUnit !== undefined ? value * identity.mgPerUnit : undefined;
    const repeat = object(object(dosage, 'timing'), 'repeat');
    const period = numeric(get(repeat, 'period'))?.value;
    const periodUnit = str(get(repeat, 'periodUnit'));
    const periodDays = period === undefined || periodUnit === undefined ? undefined : period * (DURATION_DAYS[periodUnit] ?? NaN);
    const frequency = numeric(get(repeat, 'frequency'))?.value ?? 1;
    return mg === undefined || periodDays === undefined || !(periodDays > 0) ? [] : [(mg * frequency) / periodDays];
  });
  return perDay.length === 0 ? null : Math.max(...perDay) * equivalent;
}

/** FRAX: past use counts at 5 mg/day prednisolone-equivalent or more. */
const FRAX_GLUCOCORTICOID_MG_PER_DAY = 5;

interface Order {
  request: Json;
  source: string;
  current: boolean;
  ordered: OrderedMedication;
  authored?: string;
  time?: number;
}

const IGNORED_ORDER_STATUSES = ['cancelled', 'entered-in-error', 'draft'];
const CURRENT_ORDER_STATUSES = ['active', 'on-hold'];

/** The patient's orders that were made: current (active, on hold) or past (stopped, completed, unknown). */
function ordersOf(input: PatientRecordInput, ctx: Context): Order[] {
  const medications: unknown[] = Array.isArray(input.medications) ? input.medications : [];
  const orders: Order[] = [];
  for (const request of admit(input.medicationRequests, 'MedicationRequest', ctx)) {
    const status = get(request, 'status');
    if (typeof status === 'string' && IGNORED_ORDER_STATUSES.includes(status)) {
      if (status === 'entered-in-error') ctx.problems.add('MedicationRequest entered in error ignored');
      continue;
    }
    const authored = str(get(request, 'authoredOn'));
    const time = timeOf(authored);
    if (time !== undefined && time > ctx.asOf) {
      ctx.problems.add('MedicationRequest authored after the assessment date ignored');
      continue;
    }
    const ordered = orderedMedication(request, medications);
    if (ordered === undefined) {
      ctx.problems.add('MedicationRequest whose medication cannot be read ignored');
      continue;
    }
    const current = typeof status === 'string' && CURRENT_ORDER_STATUSES.includes(status);
    orders.push({ request, source: sourceOf(request, 'MedicationRequest'), current, ordered, ...(time === undefined ? {} : { authored, time }) });
  }
  return orders;
}

/** Whether one glucocorticoid order is FRAX exposure: current, or past for ≥ 90 days at ≥ 5 mg/day when the dose can be read. */
function glucocorticoidVerdict(order: Order, identity: DrugIdentity<GlucocorticoidIngredient>): { counts: boolean; note: string } {
  if (order.current) return { counts: true, note: 'current order' };
  const { days } = orderCourse(order.request);
  if (days === null) return { counts: false, note: 'past order without dates to time its course' };
  if (days < LONG_TERM_GLUCOCORTICOID_DAYS) return { counts: false, note: 'past course under 90 days' };
  const dose = dailyPrednisoloneMg(order.request, identity);
  if (dose !== null && dose < FRAX_GLUCOCORTICOID_MG_PER_DAY) return { counts: false, note: 'past dose under 5 mg/day prednisolone-equivalent' };
  return { counts: true, note: 'past course of 90 days or more' };
}

function glucocorticoidFinding(orders: readonly Order[]): Finding<boolean> {
  const verdicts = orders.flatMap((order) => {
    const identity = systemicGlucocorticoid(order.request, order.ordered);
    return identity === undefined ? [] : [{ order, identity, ...glucocorticoidVerdict(order, identity), time: order.time }];
  });
  const counting = verdicts.filter((v) => v.counts);
  const coded = counting.filter((v) => v.identity.via === 'code');
  const best = newest(coded.length > 0 ? coded : counting) ?? newest(verdicts);
  if (best === undefined) return missing();
  const sources = best.counts ? [...new Set((coded.length > 0 ? coded : counting).map((v) => v.order.source))] : [best.order.source];
  return finding(best.counts, best.identity.via === 'code' ? 'found' : 'inferred', sources, best.order.authored, `${best.identity.drug}, ${best.note}; ${best.identity.note}`);
}

const DEFAULT_TREATMENT_RECENT_MONTHS = 12;

/** active: a current order; recent: one whose course ended (without an end: was authored) within the look-back; else none. */
function treatmentFinding(orders: readonly Order[], asOf: Date, months: number): TreatmentFinding {
  const cutoff = new Date(asOf.getTime());
  cutoff.setUTCMonth(cutoff.getUTCMonth() - months);
  const treatments = orders.flatMap((order) => {
    const identity = identifyDrug(order.ordered.concepts, OSTEOPOROSIS_DRUGS, OSTEOPOROSIS_DRUG_CLASS);
    if (identity === undefined) return [];
    const course = orderCourse(order.request);
    const end = course.start !== undefined && course.days !== null ? course.start + course.days * DAY_MS : order.time;
    return [{ order, identity, end, time: order.current ? order.time : end }];
  });
  const active = newest(treatments.filter((t) => t.order.current));
  const recent = newest(treatments.filter((t) => !t.order.current && t.end !== undefined && t.end >= cutoff.getTime()));
  const chosen = active ?? recent;
  if (chosen === undefined) return { status: 'none' };
  const date = active !== undefined ? chosen.order.authored : new Date(chosen.end!).toISOString().slice(0, 10);
  return {
    status: active !== undefined ? 'active' : 'recent',
    drug: chosen.identity.drug,
    ...(date === undefined ? {} : { date }),
    source: chosen.order.source,
    note: chosen.identity.note,
  };
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
  const ctx: Context = { patientId: input.patientId, asOf: input.asOf.getTime(), problems: new ProblemLog() };
  const patient = patientOf(input.patient, ctx);
  const patientSource = `Patient/${input.patientId}`;
  const byCode = measurementsByCode(input.observations, ctx);
  const weightKg = quantityFinding(latestQuantity(byCode.get(OBSERVATION_CODES.bodyWeight.code), WEIGHT, ctx));
  const heightCm = quantityFinding(latestQuantity(byCode.get(OBSERVATION_CODES.bodyHeight.code), HEIGHT, ctx));
  const recordedBmi = quantityFinding(latestQuantity(byCode.get(OBSERVATION_CODES.bmi.code), BMI, ctx));
  const dxa = dxaReadings(byCode, ctx);
  const evidence = conditionEvidence(input.conditions, ctx);
  const orders = ordersOf(input, ctx);
  const factors: RecordFactors = {
    age: patient === undefined ? missing() : ageOf(patient, patientSource, ctx),
    sex: patient === undefined ? missing() : sexOf(patient, patientSource),
    weightKg,
    heightCm,
    bmi: bmiFinding(recordedBmi, weightKg, heightCm),
    priorFragilityFracture: conditionFinding(evidence, [PRIOR_FRAGILITY_FRACTURE_SET]),
    parentHipFracture: parentHipFractureFinding(input.familyMemberHistories, ctx),
    currentSmoking: smokingFinding(byCode.get(OBSERVATION_CODES.smokingStatus.code), ctx),
    glucocorticoids: glucocorticoidFinding(orders),
    rheumatoidArthritis: conditionFinding(evidence, [RHEUMATOID_ARTHRITIS_SET]),
    secondaryOsteoporosis: conditionFinding(evidence, SECONDARY_OSTEOPOROSIS_SETS),
    alcohol: alcoholFinding(byCode.get(OBSERVATION_CODES.alcoholDrinksPerDay.code), ctx),
    femoralNeckTScore: femoralNeckFinding(dxa),
  };
  return {
    patientId: input.patientId,
    asOf: input.asOf.toISOString(),
    factors,
    dxa: dxa.map((d) => d.result),
    frax: fraxResult(byCode, ctx),
    osteoporosis: conditionFinding(evidence, [OSTEOPOROSIS_SET]),
    osteoporosisTreatment: treatmentFinding(orders, input.asOf, input.treatmentRecentMonths ?? DEFAULT_TREATMENT_RECENT_MONTHS),
    problems: ctx.problems.list(),
  };
}
