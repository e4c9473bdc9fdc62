// The local demo's patients: synthetic cohort patients (seed 11, src/synthetic/) each given a name and
// a scenario that shows one behaviour of the services — a card in each risk band, and each reason for
// no card. Charts are the synthetic records with the scenario's edits; radiographs are the synthetic
// phantoms (an AP one for the AP-only patient). Everything is fixed by the seed and the as-of date, so
// two runs in the same month seed the same data; the DICOM files, the slow part, are cached on disk.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Condition, FhirResource, HumanName, MedicationRequest, Observation, Reference } from 'fhir/r4.js';
import { syntheticPatient, type SyntheticPatient } from '../synthetic/cohort.js';
import { patientResources, recordResources, type SyntheticFhirRecord } from '../synthetic/fhir-resources.js';
import { acquisition, renderRadiograph } from '../synthetic/radiograph.js';

export const DEMO_SEED = 11;

/** What the patient-view service is expected to do for the patient: a card in a band, or no card for a reason. */
export type ScenarioOutcome = { band: 'high' | 'moderate' | 'low' } | { reason: string };

interface ScenarioDefinition {
  index: number;
  name: [given: string, family: string];
  scenario: string;
  expect: ScenarioOutcome;
  edit?: (resources: FhirResource[], record: SyntheticFhirRecord, asOf: Date) => FhirResource[];
  /** The view the radiograph is rendered in (default lateral). */
  view?: 'ap';
}

const DAY_MS = 86_400_000;
const isoDay = (asOf: Date, daysBefore: number): string => new Date(asOf.getTime() - daysBefore * DAY_MS).toISOString().slice(0, 10);
const subject = (record: SyntheticFhirRecord): Reference => ({ reference: `Patient/${record.patient.id}` });
const without = (type: string) => (resources: FhirResource[]): FhirResource[] => resources.filter((r) => r.resourceType !== type);

function osteoporosis(record: SyntheticFhirRecord, asOf: Date): Condition {
  return {
    resourceType: 'Condition',
    id: `${record.patient.id}-osteoporosis`,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '64859006', display: 'Osteoporosis' }], text: 'Osteoporosis' },
    subject: subject(record),
    recordedDate: isoDay(asOf, 400),
  };
}

function alendronate(record: SyntheticFhirRecord, asOf: Date): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: `${record.patient.id}-alendronate`,
    status: 'active',
    intent: 'order',
    subject: subject(record),
    authoredOn: isoDay(asOf, 200),
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '46041', display: 'alendronate' }], text: 'Alendronate 70 mg weekly' },
  };
}

function recentDxa(record: SyntheticFhirRecord, asOf: Date): Observation {
  return {
    resourceType: 'Observation',
    id: `${record.patient.id}-recent-dxa`,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '38267-1', display: 'Femoral neck T-score' }] },
    subject: subject(record),
    effectiveDateTime: isoDay(asOf, 180),
    valueQuantity: { value: -1.9, unit: 'T-score', system: 'http://unitsofmeasure.org', code: '{T-score}' },
  };
}

function frax(record: SyntheticFhirRecord, asOf: Date, code: '90265-0' | '90266-8', value: number): Observation {
  return {
    resourceType: 'Observation',
    id: `${record.patient.id}-frax-${code}`,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code }] },
    subject: subject(record),
    effectiveDateTime: isoDay(asOf, 45),
    valueQuantity: { value, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
  };
}

const SCENARIOS: readonly ScenarioDefinition[] = [
  { index: 0, name: ['Margaret', 'Ellis'], scenario: 'High risk: a recent lateral spine X-ray, no DXA on record, several risk factors not charted', expect: { band: 'high' } },
  { index: 4, name: ['Robert', 'Okafor'], scenario: 'High risk: a man who smokes, with a prior fragility fracture', expect: { band: 'high' } },
  {
    index: 22,
    name: ['Dorothy', 'Haines'],
    scenario: 'High risk, with a FRAX result already on record (shown beside the model)',
    expect: { band: 'high' },
    edit: (resources, record, asOf) => [...resources, frax(record, asOf, '90265-0', 21.4), frax(record, asOf, '90266-8', 5.1)],
  },
  { index: 7, name: ['Linda', 'Marsh'], scenario: 'Moderate risk: a card suggesting DXA', expect: { band: 'moderate' } },
  {
    index: 19,
    name: ['Susan', 'Patel'],
    scenario: 'Moderate risk; try "Sign a glucocorticoid order": the card gives the risk with long-term prednisone',
    expect: { band: 'moderate' },
  },
  {
    index: 17,
    name: ['Karen', 'Lindqvist'],
    scenario: 'Weight, height and smoking not charted: scored with the model card defaults, and the card says so',
    expect: { band: 'moderate' },
    edit: (resources) => resources.filter((r) => !(r.resourceType === 'Observation' && /-(weight|height|bmi|smoking)$/.test(r.id ?? ''))),
  },
  { index: 8, name: ['James', 'Whitfield'], scenario: 'Low risk: the service stays quiet (no card)', expect: { band: 'low' } },
  { index: 1, name: ['Helen', 'Novak'], scenario: 'No lumbar spine radiograph on record: no card', expect: { reason: 'no-radiograph' }, edit: without('ImagingStudy') },
  { index: 10, name: ['Patricia', 'Moreau'], scenario: 'Only an AP lumbar radiograph: the model needs a lateral view, no card', expect: { reason: 'wrong-view' }, view: 'ap' },
  {
    index: 21,
    name: ['Barbara', 'Quinn'],
    scenario: 'The only lumbar radiograph is seven years old: no card',
    expect: { reason: 'radiograph-too-old' },
    edit: (resources, _record, asOf) => resources.map((r) => (r.resourceType === 'ImagingStudy' ? { ...r, started: `${isoDay(asOf, 7 * 365)}T09:00:00Z` } : r)),
  },
  {
    index: 3,
    name: ['Nancy', 'Adeyemi'],
    scenario: 'A DXA scan six months ago: no screening prompt',
    expect: { reason: 'recent-dxa' },
    edit: (resources, record, asOf) => [...resources, recentDxa(record, asOf)],
  },
  {
    index: 13,
    name: ['Elizabeth', 'Grant'],
    scenario: 'Already on alendronate: no screening prompt',
    expect: { reason: 'osteoporosis-treatment' },
    edit: (resources, record, asOf) => [...resources, alendronate(record, asOf)],
  },
  {
    index: 20,
    name: ['Joan', 'Fischer'],
    scenario: 'Osteoporosis already diagnosed: no screening prompt',
    expect: { reason: 'known-osteoporosis' },
    edit: (resources, record, asOf) => [...resources, osteoporosis(record, asOf)],
  },
  {
    index: 14,
    name: ['Sarah', 'Byrne'],
    scenario: 'Aged 45: outside the model’s population (50–75), no estimate',
    expect: { reason: 'age-out-of-range' },
    edit: (resources, _record, asOf) => resources.map((r) => (r.resourceType === 'Patient' ? { ...r, birthDate: `${asOf.getUTCFullYear() - 45}-02-14` } : r)),
  },
];

export interface DemoPatient {
  id: string;
  /** "Margaret Ellis". */
  name: string;
  /** One line: what the demo shows with this patient. */
  scenario: string;
  expect: ScenarioOutcome;
  resources: FhirResource[];
  /** The radiograph as DICOM Part 10 (from the cache when there). */
  radiograph(): Promise<Uint8Array>;
}

export interface DemoDataOptions {
  /** The date the charts are written as of: radiographs fall in the year before it. */
  asOf: Date;
  /** DICOMweb root the charts' Endpoints point at. */
  dicomWebBaseUrl: string;
  /** Where rendered radiographs are kept between runs. */
  cacheDir: string;
}

/** The first day of the current month (UTC): data stay the same all month and never age out of the services' windows. */
export function demoAsOf(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

function named(resources: FhirResource[], [given, family]: [string, string]): FhirResource[] {
  const name: HumanName[] = [{ use: 'official', given: [given], family }];
  return resources.map((r) => (r.resourceType === 'Patient' ? { ...r, name } : r));
}

/** Bumped whenever the rendered files change, so an older cache is not used. */
const CACHE_FORMAT = 2;

async function cachedRadiograph(patient: SyntheticPatient, definition: ScenarioDefinition, options: DemoDataOptions): Promise<Uint8Array> {
  const dir = join(options.cacheDir, `seed-${DEMO_SEED}-v${CACHE_FORMAT}-${options.asOf.toISOString().slice(0, 10)}`);
  const file = join(dir, `${patient.id}${definition.view ? `-${definition.view}` : ''}.dcm`);
  try {
    return new Uint8Array(await readFile(file));
  } catch {
    const base = acquisition(patient, options.asOf);
    // The file names the patient as the chart does, or the service's right-patient check refuses it.
    const [given, family] = definition.name;
    const part10 = await renderRadiograph(patient, { ...base, patientName: `${family}^${given}`, phantom: { ...base.phantom, view: definition.view ?? base.phantom.view } });
    await mkdir(dir, { recursive: true });
    // Written aside and renamed, so an interrupted run never leaves half a file in the cache.
    await writeFile(`${file}.partial`, part10);
    await rename(`${file}.partial`, file);
    return part10;
  }
}

export function demoPatients(options: DemoDataOptions): DemoPatient[] {
  return SCENARIOS.map((definition) => {
    const patient = syntheticPatient(DEMO_SEED, definition.index);
    const record = patientResources(patient, { asOf: options.asOf, dicomWebBaseUrl: options.dicomWebBaseUrl });
    const edited = definition.edit ? definition.edit(recordResources(record), record, options.asOf) : recordResources(record);
    return {
      id: patient.id,
      name: definition.name.join(' '),
      scenario: definition.scenario,
      expect: definition.expect,
      resources: named(edited, definition.name),
      radiograph: () => cachedRadiograph(patient, definition, options),
    };
  });
}
