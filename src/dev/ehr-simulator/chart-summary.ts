// The chart summary the simulator shows beside the CDS cards: what an EHR's patient summary would list,
// read from the FHIR server with the EHR's own token. The lists are the chart as recorded (any code,
// any status); DXA and FRAX results are picked out by the project's own chart reader
// (src/fhir/patient-record.ts), so the summary and the service agree on what counts as one.
import type { Condition, FamilyMemberHistory, FhirResource, ImagingStudy, Medication, MedicationRequest, Observation, Patient, ServiceRequest } from 'fhir/r4.js';
import { readPatientRecord } from '../../fhir/patient-record.js';
import { recordQuery } from '../../fhir/record-queries.js';
import { codingsOf, get, isObject, numeric, object, objects, str, textsOf } from '../../fhir/untrusted-json.js';
import type { ChartSummary, CodedEntry } from './api-contract.js';
import type { EhrFhir } from './ehr-fhir.js';

export interface ChartResources {
  patient: Patient | null;
  conditions: Condition[];
  medicationRequests: MedicationRequest[];
  medications: Medication[];
  observations: Observation[];
  imagingStudies: ImagingStudy[];
  serviceRequests: ServiceRequest[];
  familyMemberHistories: FamilyMemberHistory[];
}

const DAY_MS = 86_400_000;
const MAX_ORDERS = 20;

/** A CodeableConcept in words: its text, else a coding's display, else a code. */
function conceptText(concept: unknown): string | undefined {
  return textsOf(concept)[0] ?? codingsOf(concept).find((c) => c.code !== undefined)?.code;
}

function statusText(concept: unknown): string | undefined {
  return str(get(concept, 'text')) ?? codingsOf(concept)[0]?.code;
}

function entry(resource: FhirResource, text: string, fields: { date?: unknown; status?: unknown; detail?: string }): CodedEntry {
  const date = str(fields.date);
  const status = str(fields.status);
  return {
    text,
    reference: `${resource.resourceType}/${resource.id ?? ''}`,
    ...(date === undefined ? {} : { date }),
    ...(status === undefined ? {} : { status }),
    ...(fields.detail === undefined || fields.detail === '' ? {} : { detail: fields.detail }),
  };
}

const newestFirst = (a: CodedEntry, b: CodedEntry): number => (b.date ?? '').localeCompare(a.date ?? '');

function quantityText(quantity: unknown): string | undefined {
  const value = numeric(get(quantity, 'value'))?.value;
  if (value === undefined) return undefined;
  const unit = str(get(quantity, 'unit')) ?? str(get(quantity, 'code'));
  return unit === undefined ? String(value) : `${value} ${unit}`;
}

function valueText(observation: unknown): string | undefined {
  return (
    quantityText(object(observation, 'valueQuantity')) ??
    conceptText(object(observation, 'valueCodeableConcept')) ??
    str(get(observation, 'valueString')) ??
    (typeof get(observation, 'valueBoolean') === 'boolean' ? (get(observation, 'valueBoolean') ? 'yes' : 'no') : undefined)
  );
}

function patientName(patient: Patient | null): string {
  const name = objects(patient, 'name')[0];
  const text = str(get(name, 'text'));
  if (text !== undefined) return text;
  const given = get(name, 'given');
  const parts = [...(Array.isArray(given) ? (given as unknown[]) : []), get(name, 'family')].map(str).filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join(' ') : 'Unnamed patient';
}

/** Whole years at `asOf`, or null without a usable birth date. */
export function ageInYears(birthDate: string | undefined, asOf: Date): number | null {
  if (birthDate === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) return null;
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let age = asOf.getUTCFullYear() - y;
  if (asOf.getUTCMonth() + 1 < m || (asOf.getUTCMonth() + 1 === m && asOf.getUTCDate() < d)) age -= 1;
  return age >= 0 && age < 150 ? age : null;
}

function medicationText(request: MedicationRequest, medications: readonly Medication[]): string {
  const inline = conceptText(object(request, 'medicationCodeableConcept'));
  if (inline !== undefined) return inline;
  const reference = str(get(object(request, 'medicationReference'), 'reference'));
  const medication = medications.find((m) => reference !== undefined && (reference === `Medication/${m.id ?? ''}` || reference.endsWith(`/Medication/${m.id ?? ''}`)));
  return conceptText(medication?.code) ?? str(get(object(request, 'medicationReference'), 'display')) ?? 'Medication';
}

function dosageText(request: MedicationRequest): string | undefined {
  const dosage = objects(request, 'dosageInstruction')[0];
  const text = str(get(dosage, 'text'));
  if (text !== undefined) return text;
  const dose = quantityText(object(objects(dosage, 'doseAndRate')[0], 'doseQuantity'));
  const repeat = object(object(dosage, 'timing'), 'repeat');
  const frequency = numeric(get(repeat, 'frequency'))?.value;
  const period = numeric(get(repeat, 'period'))?.value;
  const unit = str(get(repeat, 'periodUnit'));
  const timing = frequency === 1 && period === 1 && unit === 'd' ? 'once a day' : frequency !== undefined && period !== undefined && unit !== undefined ? `${frequency} × every ${period} ${unit}` : undefined;
  return [dose, timing].filter(Boolean).join(' ') || undefined;
}

const MODALITY_WORDS: Readonly<Record<string, string>> = { DX: 'X-ray', CR: 'X-ray', CT: 'CT', MR: 'MRI', US: 'ultrasound', NM: 'nuclear medicine', PT: 'PET' };

function imagingEntry(study: ImagingStudy): CodedEntry {
  const series = objects(study, 'series');
  // SNOMED body structures read "Lumbar spine structure": the structure is understood.
  const bodySite = series.map((s) => str(get(object(s, 'bodySite'), 'display'))?.replace(/ structure$/i, '')).find(Boolean);
  const modalities = [...new Set([...objects(study, 'modality'), ...series.map((s) => object(s, 'modality'))].map((m) => str(get(m, 'code'))).filter((m) => m !== undefined))];
  const kind = modalities.map((m) => MODALITY_WORDS[m]).find(Boolean) ?? 'imaging';
  const view = series.map((s) => str(get(s, 'description'))).find(Boolean);
  const text = str(get(study, 'description')) ?? (bodySite ? `${bodySite} ${kind}` : `Imaging study (${kind})`);
  const instances = numeric(get(study, 'numberOfInstances'))?.value;
  const detail = [modalities.join('/'), view, instances === undefined ? undefined : `${instances} image${instances === 1 ? '' : 's'}`].filter(Boolean).join(' · ');
  return entry(study, text, { date: get(study, 'started'), status: get(study, 'status'), detail });
}

/** The chart as the EHR shows it. Pure: `asOf` is the simulator's date. */
export function summarizeChart(patientId: string, resources: ChartResources, asOf: Date): ChartSummary {
  const { patient } = resources;
  const birthDate = str(get(patient, 'birthDate'));
  const record = readPatientRecord({
    patientId,
    patient,
    observations: resources.observations,
    conditions: resources.conditions,
    medicationRequests: resources.medicationRequests,
    medications: resources.medications,
    familyMemberHistories: resources.familyMemberHistories,
    asOf: new Date(asOf.getTime() + DAY_MS), // a result dated today counts
  });
  const boneSources = new Set([...record.dxa.map((d) => d.source), ...(record.frax?.sources ?? [])]);

  // The latest observation of each kind (by its first code, else its text).
  const latest = new Map<string, CodedEntry>();
  for (const observation of resources.observations) {
    if (boneSources.has(`Observation/${observation.id ?? ''}`) || str(get(observation, 'status')) === 'entered-in-error') continue;
    const code = codingsOf(observation.code)[0];
    const kind = code?.code !== undefined ? `${code.system ?? ''}|${code.code}` : (conceptText(observation.code) ?? observation.id ?? '');
    const shown = entry(observation, conceptText(observation.code) ?? 'Observation', { date: get(observation, 'effectiveDateTime') ?? get(observation, 'issued'), detail: valueText(observation) ?? 'no value' });
    const previous = latest.get(kind);
    if (previous === undefined || newestFirst(shown, previous) < 0) latest.set(kind, shown);
  }

  return {
    patient: { id: patientId, name: patientName(patient), sex: str(get(patient, 'gender')) ?? null, birthDate: birthDate ?? null, age: ageInYears(birthDate, asOf) },
    asOf: asOf.toISOString(),
    problems: resources.conditions
      .filter((c) => !['entered-in-error', 'refuted'].includes(codingsOf(c.verificationStatus)[0]?.code ?? ''))
      .map((c) => entry(c, conceptText(c.code) ?? 'Condition', { date: get(c, 'onsetDateTime') ?? get(c, 'recordedDate'), status: statusText(c.clinicalStatus) }))
      .sort(newestFirst),
    medications: resources.medicationRequests
      .filter((m) => m.status !== 'entered-in-error')
      .map((m) => entry(m, medicationText(m, resources.medications), { date: get(m, 'authoredOn'), status: get(m, 'status'), detail: dosageText(m) }))
      .sort(newestFirst),
    observations: [...latest.values()].sort(newestFirst),
    imaging: resources.imagingStudies.map(imagingEntry).sort(newestFirst),
    orders: resources.serviceRequests
      .map((s) => entry(s, conceptText(s.code) ?? 'Order', { date: get(s, 'authoredOn'), status: get(s, 'status') }))
      .sort(newestFirst)
      .slice(0, MAX_ORDERS),
    familyHistory: resources.familyMemberHistories.map((h) =>
      entry(h, conceptText(h.relationship) ?? 'Relative', { date: get(h, 'date'), detail: objects(h, 'condition').map((c) => conceptText(get(c, 'code'))).filter(Boolean).join(', ') }),
    ),
    boneHealth: {
      dxa: record.dxa.map((d) => ({ site: d.site, tScore: d.tScore, date: d.date, reference: d.source })),
      frax: record.frax === null ? null : { majorOsteoporoticPercent: record.frax.majorOsteoporoticPercent, hipPercent: record.frax.hipPercent, date: record.frax.date },
    },
  };
}

const isType =
  <T extends FhirResource['resourceType']>(type: T) =>
  (r: FhirResource): r is Extract<FhirResource, { resourceType: T }> =>
    isObject(r) && r.resourceType === type;

/** Reads the chart with the EHR's token (the service's own chart queries, plus the orders) and summarises it. */
export async function readChartSummary(fhir: EhrFhir, patientId: string, asOf: Date): Promise<ChartSummary> {
  const id = encodeURIComponent(patientId);
  const [patient, conditions, medicationEntries, observations, imaging, serviceRequests, histories] = await Promise.all([
    fhir.getOrNull(patientId, `Patient/${id}`),
    fhir.search(patientId, recordQuery('conditions', patientId)),
    fhir.search(patientId, recordQuery('medicationRequests', patientId)),
    fhir.search(patientId, recordQuery('observations', patientId).replace(/&code=[^&]*/, '')),
    fhir.search(patientId, `ImagingStudy?patient=${id}&_count=50`),
    fhir.search(patientId, `ServiceRequest?patient=${id}&_sort=-authored&_count=${MAX_ORDERS}`),
    fhir.search(patientId, recordQuery('familyMemberHistories', patientId)),
  ]);
  return summarizeChart(
    patientId,
    {
      patient: patient?.resourceType === 'Patient' ? patient : null,
      conditions: conditions.filter(isType('Condition')),
      medicationRequests: medicationEntries.filter(isType('MedicationRequest')),
      medications: medicationEntries.filter(isType('Medication')),
      observations: observations.filter(isType('Observation')),
      imagingStudies: imaging.filter(isType('ImagingStudy')),
      serviceRequests: serviceRequests.filter(isType('ServiceRequest')),
      familyMemberHistories: histories.filter(isType('FamilyMemberHistory')),
    },
    asOf,
  );
}
