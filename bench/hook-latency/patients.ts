// The benchmark's data: the dev FHIR server and Orthanc on loopback, synthetic patients loaded into both
// with full-size uncompressed radiographs, and each patient's hook body built the way an EHR builds it
// (every prefetch query read from the FHIR server beforehand).
import type { BundleEntry, FhirResource, Resource } from 'fhir/r4.js';
import { startDevFhirServer, type DevFhirServer } from '../../src/dev/fhir-server.js';
import { startOrthanc, type RunningOrthanc } from '../../src/dev/orthanc.js';
import { RECORD_KEYS, recordQuery } from '../../src/fhir/record-queries.js';
import { syntheticPatient, type SyntheticPatient } from '../../src/synthetic/cohort.js';
import { patientResources, recordResources } from '../../src/synthetic/fhir-resources.js';
import { acquisition, renderRadiograph, TRANSFER_SYNTAX, type Acquisition } from '../../src/synthetic/radiograph.js';

/** The radiograph every patient gets: 2,500 columns × 3,000 rows, 12 bits stored in 16, explicit VR little endian. */
export const IMAGE = { rows: 3000, columns: 2500, bitsStored: 12, spacingMm: 0.1, transferSyntaxUid: TRANSFER_SYNTAX.explicitLittleEndian } as const;

export interface BenchPatient {
  id: string;
  index: number;
  /** The hook body with `"@"` where the hookInstance goes, split there: head + JSON string + tail. */
  bodyHead: string;
  bodyTail: string;
  /** Size of a complete body in bytes. */
  bodyBytes: number;
  dicomBytes: number;
  modality: Acquisition['modality'];
}

export interface BenchStack {
  fhir: DevFhirServer;
  orthanc: RunningOrthanc;
  close(): Promise<void>;
}

export async function startBenchStack(): Promise<BenchStack> {
  const [fhir, orthanc] = await Promise.all([startDevFhirServer(), startOrthanc()]);
  return { fhir, orthanc, close: async () => void (await Promise.all([fhir.close(), orthanc.close()])) };
}

/**
 * Patients the pipeline assesses all the way: no femoral-neck T-score on record (a recent DXA ends
 * the assessment early), and young enough to be inside the model's 50–75 range on the day of the
 * hook (the chart's age is counted from the radiograph, which is up to a year older). run.ts checks
 * in the service's log that every one of them was assessed.
 */
export function choosePatients(seed: number, count: number, skip = 0): SyntheticPatient[] {
  const chosen: SyntheticPatient[] = [];
  for (let index = 0; chosen.length < skip + count; index++) {
    const patient = syntheticPatient(seed, index);
    const { femoralNeckTScore, age } = patient.factors;
    if (femoralNeckTScore === null && (age ?? 99) < 75) chosen.push(patient);
  }
  return chosen.slice(skip);
}

/** The patient's acquisition with the benchmark's fixed matrix, depth and transfer syntax; the rest (modality, date, photometric, exposure) is the patient's. */
export function benchAcquisition(patient: SyntheticPatient, asOf: Date): Acquisition {
  const a = acquisition(patient, asOf);
  const { rows, columns, bitsStored, spacingMm, transferSyntaxUid } = IMAGE;
  return { ...a, rows, columns, bitsStored, spacingMm, transferSyntaxUid, phantom: { ...a.phantom, rows, columns, bitsStored } };
}

async function transact(baseUrl: string, resources: readonly FhirResource[]): Promise<void> {
  const entry: BundleEntry[] = resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${(resource as Resource).id}` } }));
  const response = await fetch(baseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }),
  });
  if (response.status !== 200) throw new Error(`FHIR transaction failed: HTTP ${response.status} ${await response.text()}`);
}

/** Prefetch as a CDS client sends it: each of the service's prefetch queries read from the FHIR server. */
async function prefetchFor(fhirBaseUrl: string, patientId: string): Promise<Record<string, FhirResource | null>> {
  const entries = await Promise.all(
    RECORD_KEYS.map(async (key) => {
      const response = await fetch(`${fhirBaseUrl}/${recordQuery(key, patientId)}`);
      if (response.status === 404) return [key, null] as const;
      if (!response.ok) throw new Error(`prefetch ${key} for ${patientId}: HTTP ${response.status}`);
      return [key, (await response.json()) as FhirResource] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Loads one patient's chart into the FHIR server and radiograph into Orthanc, then builds its hook body. */
export async function loadPatient(stack: BenchStack, patient: SyntheticPatient, asOf: Date): Promise<BenchPatient> {
  const record = patientResources(patient, { asOf, dicomWebBaseUrl: stack.orthanc.dicomWebUrl });
  await transact(stack.fhir.baseUrl, recordResources(record));
  const a = benchAcquisition(patient, asOf);
  const part10 = await renderRadiograph(patient, a);
  await stack.orthanc.upload(part10);
  const prefetch = await prefetchFor(stack.fhir.baseUrl, patient.id);
  const parts = JSON.stringify({
    hook: 'patient-view',
    hookInstance: '@',
    fhirServer: stack.fhir.baseUrl,
    context: { userId: 'Practitioner/bench-dr1', patientId: patient.id },
    prefetch,
  }).split('"@"');
  if (parts.length !== 2) throw new Error(`the hook body of ${patient.id} holds "@" elsewhere; choose another placeholder`);
  const [bodyHead, bodyTail] = parts as [string, string];
  return {
    id: patient.id,
    index: patient.index,
    bodyHead,
    bodyTail,
    bodyBytes: Buffer.byteLength(bodyHead) + Buffer.byteLength(bodyTail) + 38,
    dicomBytes: part10.byteLength,
    modality: a.modality,
  };
}

/** A complete body for one call: the patient's, with a fresh hookInstance. */
export function hookBody(patient: BenchPatient, hookInstance: string): string {
  return `${patient.bodyHead}"${hookInstance}"${patient.bodyTail}`;
}
