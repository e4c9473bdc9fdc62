// A synthetic patient's chart as FHIR R4 resources: demographics, the FRAX risk factors as an EHR
// records them (Observations, Conditions, a MedicationRequest, a FamilyMemberHistory), and the
// lumbar spine radiograph's ImagingStudy with the DICOMweb Endpoint to fetch it from. Tests and the
// demo load this one record, so what the service reads back can be checked against the factors the
// generator drew (cohort.ts). Codes come from fhir/terminology.ts; whatever the factors leave open
// (which cause, which drug, which date) is drawn from the patient's own seed, so the same patient
// always gives the same JSON.
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  Coding,
  Condition,
  Endpoint,
  FamilyMemberHistory,
  FhirResource,
  ImagingStudy,
  MedicationRequest,
  Meta,
  Observation,
  Patient,
  Quantity,
  Reference,
} from 'fhir/r4.js';
import {
  CONDITION_CATEGORIES,
  CONDITION_CLINICAL_STATUS,
  CONDITION_VERIFICATION_STATUS,
  DICOM_WADO_RS_CONNECTION,
  DICOMWEB_PAYLOAD,
  FEMORAL_NECK_BODY_SITE,
  GLUCOCORTICOIDS,
  HIP_FRACTURE,
  IMAGING_MODALITIES,
  LUMBAR_SPINE_BODY_SITE,
  OBSERVATION_CATEGORIES,
  OBSERVATION_CODES,
  OSTEOPOROTIC_FRACTURE,
  PARENT_RELATIONSHIPS,
  RADIOGRAPH_SOP_CLASSES,
  RHEUMATOID_ARTHRITIS,
  SECONDARY_OSTEOPOROSIS_CAUSES,
  SMOKING_STATUS,
  SYNTHETIC_DATA_TAG,
  SYNTHETIC_PATIENT_IDENTIFIER_SYSTEM,
  SYSTEM,
  UNITS,
  type Code,
  type Unit,
} from '../fhir/terminology.js';
import type { SyntheticPatient } from './cohort.js';
import { SYNTHETIC_FAMILY_NAME, acquisition, acquisitionDate, birthDateOf, radiographUids, type Acquisition } from './radiograph.js';
import { deriveSeed, draws, mulberry32, type Draws } from './random.js';

export interface PatientRecordOptions {
  /** The index date the radiograph is dated up to a year before: the date given to acquisition(). */
  asOf: Date;
  /** Endpoint.address: the DICOMweb (WADO-RS) root of the PACS that holds the radiograph. */
  dicomWebBaseUrl: string;
}

/** A resource whose id is set, as every resource of a synthetic record is. */
export type WithId<T extends FhirResource> = T & { id: string };

export interface SyntheticFhirRecord {
  patient: WithId<Patient>;
  /** Weight, height, BMI, smoking status; alcohol intake for some; the femoral-neck T-score when recorded. */
  observations: WithId<Observation>[];
  /** Rheumatoid arthritis, a secondary-osteoporosis cause, a prior fragility fracture: each when present. */
  conditions: WithId<Condition>[];
  /** A glucocorticoid when the patient takes one. */
  medicationRequests: WithId<MedicationRequest>[];
  /** A parent's hip fracture when there was one. */
  familyMemberHistories: WithId<FamilyMemberHistory>[];
  imagingStudy: WithId<ImagingStudy>;
  endpoint: WithId<Endpoint>;
}

/** How the chart records what cohort.ts leaves open; invented for the demo, like the cohort itself. */
const CHART = {
  /** Current smokers recorded as daily smokers (the rest occasional). */
  dailySmoker: 0.85,
  /** Non-smokers recorded as never smoked (the rest ex-smokers). */
  neverSmoked: 0.6,
  /** Drinks a day of those who drink 3 or more, inclusive. */
  heavyDrinksPerDay: [3, 6],
  /** Others with an intake on record (0–2 drinks a day); the rest have none, which FRAX reads as "no". */
  lightDrinkingRecorded: 0.5,
  lightDrinksPerDay: [0, 2],
  /** Days before the radiograph, inclusive ranges. */
  dxaDaysBefore: [0, 730],
  fractureDaysBefore: [90, 3650],
  conditionRecordedDaysBefore: [30, 3650],
  /** Longer than FRAX's 3 months. */
  glucocorticoidStartDaysBefore: [120, 1095],
  /** At or above FRAX's 5 mg/day prednisolone-equivalent. */
  prednisoloneMgPerDay: [5, 7.5, 10],
  prednisoneShare: 0.3,
  /** Clinical fragility fractures that were hip fractures (the rest coded as osteoporotic fractures). */
  hipFractureShare: 0.25,
  /** Parental hip fractures that were the mother's. */
  motherShare: 0.7,
} as const;

const DAY_MS = 86_400_000;
/** birthDate is the radiograph date less age × this many days, so (date − birthDate) / this rounds back to the age. */
const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;

/**
 * One seeded stream per resource kind, apart from radiograph.ts's streams 1 and 2, so a resource's
 * draws never depend on which other resources the patient has.
 */
const STREAMS = ['smoking', 'alcohol', 'dxa', 'ra', 'secondary', 'fracture', 'glucocorticoid', 'family'] as const;
type StreamName = (typeof STREAMS)[number];
const RECORD_STREAM = 3;

interface Context {
  patient: SyntheticPatient;
  /** A fresh `Patient/<id>` reference, so no two resources share one object. */
  subject(): Reference;
  radiographDate: Date;
  stream(name: StreamName): Draws;
  id(suffix: string): string;
}

const isoDate = (date: Date): string => date.toISOString().slice(0, 10);
const daysBefore = (date: Date, days: number): Date => new Date(date.getTime() - days * DAY_MS);
const integerIn = (d: Draws, [lo, hi]: readonly [number, number]): number => lo + Math.floor(d.uniform(0, hi - lo + 1));
const uniformPick = <T>(d: Draws, options: readonly T[]): T => d.pick(options.map((option) => [option, 1] as const));

function coding(code: Code): Coding {
  return { system: code.system, code: code.code, ...(code.display === undefined ? {} : { display: code.display }) };
}

const concept = (...codes: Code[]): CodeableConcept => ({ coding: codes.map(coding) });
const quantity = (value: number, unit: Unit): Quantity => ({ value, unit: unit.unit, system: unit.system, code: unit.code });
const tagged = (): Meta => ({ tag: [coding(SYNTHETIC_DATA_TAG)] });

function validate(options: PatientRecordOptions): void {
  if (!(options.asOf instanceof Date) || Number.isNaN(options.asOf.getTime())) throw new RangeError('options.asOf must be a valid Date');
  const protocol = URL.canParse(options.dicomWebBaseUrl) ? new URL(options.dicomWebBaseUrl).protocol : undefined;
  if (protocol !== 'http:' && protocol !== 'https:') throw new TypeError('options.dicomWebBaseUrl must be an http(s) URL');
}

function context(patient: SyntheticPatient, radiographDate: Date): Context {
  return {
    patient,
    subject: () => ({ reference: `Patient/${patient.id}` }),
    radiographDate,
    stream: (name) => draws(mulberry32(deriveSeed(patient.seed, RECORD_STREAM, STREAMS.indexOf(name)))),
    id: (suffix) => {
      const id = `${patient.id}-${suffix}`;
      if (!FHIR_ID.test(id)) throw new RangeError(`patient id ${patient.id} makes an invalid FHIR id`);
      return id;
    },
  };
}

// ---- Patient ----

function patientResource(ctx: Context): WithId<Patient> {
  const { id, factors } = ctx.patient;
  const birthDate = birthDateOf(ctx.patient, ctx.radiographDate) ?? undefined;
  return {
    resourceType: 'Patient',
    id,
    meta: tagged(),
    identifier: [{ system: SYNTHETIC_PATIENT_IDENTIFIER_SYSTEM, value: id }],
    active: true,
    // The DICOM file says the same (PatientName Synthetic^<id>, PatientID, PatientBirthDate): the right-patient check passes.
    name: [{ family: SYNTHETIC_FAMILY_NAME, given: [id] }],
    ...(factors.sex === null ? {} : { gender: factors.sex }),
    ...(birthDate === undefined ? {} : { birthDate: isoDate(birthDate) }),
  };
}

// ---- Observations ----

interface ObservationFields extends Pick<Observation, 'valueQuantity' | 'valueCodeableConcept' | 'bodySite'> {
  suffix: string;
  category: Code;
  code: Code;
  effective: Date;
}

function observation(ctx: Context, { suffix, category, code, effective, ...value }: ObservationFields): WithId<Observation> {
  return {
    resourceType: 'Observation',
    id: ctx.id(suffix),
    meta: tagged(),
    status: 'final',
    category: [concept(category)],
    code: concept(code),
    subject: ctx.subject(),
    effectiveDateTime: isoDate(effective),
    ...value,
  };
}

/** Weight, height and the BMI they give, measured on the day of the radiograph. */
function bodySize(ctx: Context): WithId<Observation>[] {
  const { weightKg, heightCm } = ctx.patient.factors;
  const vital = (suffix: string, code: Code, value: number, unit: Unit): WithId<Observation> =>
    observation(ctx, { suffix, category: OBSERVATION_CATEGORIES.vitalSigns, code, effective: ctx.radiographDate, valueQuantity: quantity(value, unit) });
  const observations: WithId<Observation>[] = [];
  if (weightKg !== null) observations.push(vital('weight', OBSERVATION_CODES.bodyWeight, weightKg, UNITS.kg));
  if (heightCm !== null) observations.push(vital('height', OBSERVATION_CODES.bodyHeight, heightCm, UNITS.cm));
  if (weightKg !== null && heightCm !== null) {
    const bmi = Number((weightKg / (heightCm / 100) ** 2).toFixed(1));
    observations.push(vital('bmi', OBSERVATION_CODES.bmi, bmi, UNITS.kgPerM2));
  }
  return observations;
}

function smokingStatus(ctx: Context): WithId<Observation>[] {
  const { currentSmoking } = ctx.patient.factors;
  if (currentSmoking === null) return [];
  const d = ctx.stream('smoking');
  const answer = currentSmoking
    ? d.bernoulli(CHART.dailySmoker) ? SMOKING_STATUS.dailySmoker : SMOKING_STATUS.occasionalSmoker
    : d.bernoulli(CHART.neverSmoked) ? SMOKING_STATUS.neverSmoked : SMOKING_STATUS.exSmoker;
  return [
    observation(ctx, {
      suffix: 'smoking',
      category: OBSERVATION_CATEGORIES.socialHistory,
      code: OBSERVATION_CODES.smokingStatus,
      effective: ctx.radiographDate,
      valueCodeableConcept: concept(answer),
    }),
  ];
}

/** Heavy drinkers always have an intake on record; of the others only some, below 3 a day. */
function alcoholIntake(ctx: Context): WithId<Observation>[] {
  const { alcohol } = ctx.patient.factors;
  if (alcohol === null) return [];
  const d = ctx.stream('alcohol');
  let drinks: number;
  if (alcohol) drinks = integerIn(d, CHART.heavyDrinksPerDay);
  else if (d.bernoulli(CHART.lightDrinkingRecorded)) drinks = integerIn(d, CHART.lightDrinksPerDay);
  else return [];
  return [
    observation(ctx, {
      suffix: 'alcohol',
      category: OBSERVATION_CATEGORIES.socialHistory,
      code: OBSERVATION_CODES.alcoholDrinksPerDay,
      effective: ctx.radiographDate,
      valueQuantity: quantity(drinks, UNITS.drinksPerDay),
    }),
  ];
}

/** The femoral-neck T-score, from a DXA scan in the two years before the radiograph. */
function femoralNeckTScore(ctx: Context): WithId<Observation>[] {
  const { femoralNeckTScore: tScore } = ctx.patient.factors;
  if (tScore === null) return [];
  return [
    observation(ctx, {
      suffix: 'fn-tscore',
      category: OBSERVATION_CATEGORIES.imaging,
      code: OBSERVATION_CODES.dxaFemurTScore,
      effective: daysBefore(ctx.radiographDate, integerIn(ctx.stream('dxa'), CHART.dxaDaysBefore)),
      bodySite: concept(FEMORAL_NECK_BODY_SITE),
      valueQuantity: quantity(tScore, UNITS.tScore),
    }),
  ];
}

// ---- Conditions ----

interface ConditionFields extends Pick<Condition, 'bodySite' | 'onsetDateTime'> {
  suffix: string;
  code: Code;
  clinicalStatus: Code;
  recorded: Date;
}

function condition(ctx: Context, { suffix, code, clinicalStatus, recorded, ...rest }: ConditionFields): WithId<Condition> {
  return {
    resourceType: 'Condition',
    id: ctx.id(suffix),
    meta: tagged(),
    clinicalStatus: concept(clinicalStatus),
    // FRAX asks for confirmed rheumatoid arthritis; every condition here is confirmed.
    verificationStatus: concept(CONDITION_VERIFICATION_STATUS.confirmed),
    category: [concept(CONDITION_CATEGORIES.problemListItem)],
    code: concept(code),
    subject: ctx.subject(),
    ...rest,
    recordedDate: isoDate(recorded),
  };
}

function rheumatoidArthritis(ctx: Context): WithId<Condition>[] {
  if (ctx.patient.factors.rheumatoidArthritis !== true) return [];
  const recorded = daysBefore(ctx.radiographDate, integerIn(ctx.stream('ra'), CHART.conditionRecordedDaysBefore));
  return [condition(ctx, { suffix: 'ra', code: RHEUMATOID_ARTHRITIS, clinicalStatus: CONDITION_CLINICAL_STATUS.active, recorded })];
}

/** One concrete cause, among those the patient's sex allows. */
function secondaryOsteoporosis(ctx: Context): WithId<Condition>[] {
  const { secondaryOsteoporosis: present, sex } = ctx.patient.factors;
  if (present !== true) return [];
  const d = ctx.stream('secondary');
  const cause = uniformPick(d, SECONDARY_OSTEOPOROSIS_CAUSES.filter((c) => c.sex === undefined || c.sex === sex));
  const recorded = daysBefore(ctx.radiographDate, integerIn(d, CHART.conditionRecordedDaysBefore));
  return [condition(ctx, { suffix: 'secondary-op', code: cause, clinicalStatus: CONDITION_CLINICAL_STATUS.active, recorded })];
}

/**
 * The prior fragility fracture: a clinical one (healed, so resolved), else the radiographic vertebral
 * fracture that made priorFragilityFracture true (the deformity stays, so active, at the lumbar spine).
 */
function priorFragilityFracture(ctx: Context): WithId<Condition>[] {
  const { factors, latent } = ctx.patient;
  if (factors.priorFragilityFracture !== true) return [];
  const d = ctx.stream('fracture');
  const onset = daysBefore(ctx.radiographDate, integerIn(d, CHART.fractureDaysBefore));
  const common = { suffix: 'fracture', recorded: onset, onsetDateTime: isoDate(onset) };
  if (latent.clinicalFracture) {
    const code = d.bernoulli(CHART.hipFractureShare) ? HIP_FRACTURE : OSTEOPOROTIC_FRACTURE;
    return [condition(ctx, { ...common, code, clinicalStatus: CONDITION_CLINICAL_STATUS.resolved })];
  }
  return [
    condition(ctx, {
      ...common,
      code: OSTEOPOROTIC_FRACTURE,
      clinicalStatus: CONDITION_CLINICAL_STATUS.active,
      bodySite: [concept(LUMBAR_SPINE_BODY_SITE)],
    }),
  ];
}

// ---- MedicationRequest, FamilyMemberHistory ----

/** An active oral glucocorticoid at ≥ 5 mg/day, started more than 3 months before the radiograph. */
function glucocorticoid(ctx: Context): WithId<MedicationRequest>[] {
  if (ctx.patient.factors.glucocorticoids !== true) return [];
  const d = ctx.stream('glucocorticoid');
  const drug = d.bernoulli(CHART.prednisoneShare) ? GLUCOCORTICOIDS.prednisone : GLUCOCORTICOIDS.prednisolone;
  const mgPerDay = uniformPick(d, CHART.prednisoloneMgPerDay);
  const started = daysBefore(ctx.radiographDate, integerIn(d, CHART.glucocorticoidStartDaysBefore));
  return [
    {
      resourceType: 'MedicationRequest',
      id: ctx.id('glucocorticoid'),
      meta: tagged(),
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: concept(drug.rxnorm, drug.atc),
      subject: ctx.subject(),
      authoredOn: isoDate(started),
      dosageInstruction: [
        {
          timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } },
          doseAndRate: [{ doseQuantity: quantity(mgPerDay, UNITS.mg) }],
        },
      ],
    },
  ];
}

function parentHipFracture(ctx: Context): WithId<FamilyMemberHistory>[] {
  if (ctx.patient.factors.parentHipFracture !== true) return [];
  const parent = ctx.stream('family').bernoulli(CHART.motherShare) ? PARENT_RELATIONSHIPS.mother : PARENT_RELATIONSHIPS.father;
  return [
    {
      resourceType: 'FamilyMemberHistory',
      id: ctx.id('parent-hip-fracture'),
      meta: tagged(),
      status: 'completed',
      patient: ctx.subject(),
      date: isoDate(ctx.radiographDate),
      relationship: concept(parent),
      condition: [{ code: concept(HIP_FRACTURE) }],
    },
  ];
}

// ---- ImagingStudy, Endpoint ----

function imagingModality(a: Acquisition): Code {
  const modality = IMAGING_MODALITIES.find((m) => m.code === a.modality);
  if (modality === undefined) throw new RangeError(`modality ${a.modality} is not in IMAGING_MODALITIES`);
  return modality;
}

/** The SOP class radiograph.ts writes: DX For Presentation, or CR. */
const sopClassOf = (a: Acquisition): string => (a.modality === 'DX' ? RADIOGRAPH_SOP_CLASSES.dxForPresentation : RADIOGRAPH_SOP_CLASSES.cr);

/** Exactly what study-selection.ts looks for: DX/CR, lumbar body site, the Study Instance UID, a WADO-RS Endpoint. */
function imagingStudy(ctx: Context, a: Acquisition, endpoint: WithId<Endpoint>): WithId<ImagingStudy> {
  const uids = radiographUids(ctx.patient);
  const modality = imagingModality(a);
  return {
    resourceType: 'ImagingStudy',
    id: ctx.id('lspine-xr'),
    meta: tagged(),
    status: 'available',
    subject: ctx.subject(),
    identifier: [{ system: SYSTEM.dicomUid, value: `urn:oid:${uids.study}` }],
    started: isoDate(ctx.radiographDate),
    modality: [coding(modality)],
    numberOfSeries: 1,
    numberOfInstances: 1,
    endpoint: [{ reference: `Endpoint/${endpoint.id}` }],
    series: [
      {
        uid: uids.series,
        number: 1,
        modality: coding(modality),
        bodySite: coding(LUMBAR_SPINE_BODY_SITE),
        numberOfInstances: 1,
        instance: [{ uid: uids.instance, number: 1, sopClass: { system: SYSTEM.uri, code: `urn:oid:${sopClassOf(a)}` } }],
      },
    ],
  };
}

function dicomWebEndpoint(ctx: Context, address: string): WithId<Endpoint> {
  return {
    resourceType: 'Endpoint',
    id: ctx.id('dicomweb'),
    meta: tagged(),
    status: 'active',
    connectionType: coding(DICOM_WADO_RS_CONNECTION),
    payloadType: [{ ...concept(DICOMWEB_PAYLOAD.type), text: DICOMWEB_PAYLOAD.text }],
    payloadMimeType: [DICOMWEB_PAYLOAD.mimeType],
    address,
  };
}

// ---- the record and its Bundle ----

/**
 * The patient's chart. Resource ids are `<patient id>-<kind>` (the Patient's is the patient id), each
 * patient has its own Endpoint, and every resource carries the synthetic-data tag.
 */
export function patientResources(patient: SyntheticPatient, options: PatientRecordOptions): SyntheticFhirRecord {
  validate(options);
  const a = acquisition(patient, options.asOf);
  const ctx = context(patient, acquisitionDate(a));
  const endpoint = dicomWebEndpoint(ctx, options.dicomWebBaseUrl);
  return {
    patient: patientResource(ctx),
    observations: [...bodySize(ctx), ...smokingStatus(ctx), ...alcoholIntake(ctx), ...femoralNeckTScore(ctx)],
    conditions: [...rheumatoidArthritis(ctx), ...secondaryOsteoporosis(ctx), ...priorFragilityFracture(ctx)],
    medicationRequests: glucocorticoid(ctx),
    familyMemberHistories: parentHipFracture(ctx),
    imagingStudy: imagingStudy(ctx, a, endpoint),
    endpoint,
  };
}

/** Every resource of a record, the ones others reference first. */
export function recordResources(record: SyntheticFhirRecord): WithId<FhirResource>[] {
  return [
    record.patient,
    record.endpoint,
    ...record.observations,
    ...record.conditions,
    ...record.medicationRequests,
    ...record.familyMemberHistories,
    record.imagingStudy,
  ];
}

/**
 * The patient's chart as one transaction Bundle (at most 14 entries). Every entry is a PUT to
 * `<type>/<id>`, so loading it again leaves the server as it was: a new version of each resource,
 * nothing added. One patient per transaction keeps each chart whole, and keeps under the update
 * limit servers put on a transaction (Medplum's is 50).
 */
export function patientBundle(patient: SyntheticPatient, options: PatientRecordOptions): Bundle {
  const entry: BundleEntry[] = recordResources(patientResources(patient, options)).map((resource) => ({
    resource,
    request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
  }));
  return { resourceType: 'Bundle', type: 'transaction', entry };
}
