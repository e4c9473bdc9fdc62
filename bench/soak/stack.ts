// The soak's real parts on loopback: Orthanc, and the dev FHIR server behind the SMART authorization
// server (src/dev/smart-fhir.ts), as the test stack's `smart` mode wires them. Patients are chosen,
// rendered and turned into hook bodies with bench/hook-latency/patients.ts; only the loading differs:
// the guarded FHIR server takes no writes over HTTP and no reads without a token, so charts are seeded
// straight into its repository (DevFhirServer.seed, as the test stack does) and the prefetch is read
// with an access token for the patient. Each patient keeps its prefetch, so a cold hook can send it
// with the body weight changed.
import type { Bundle, FhirResource, Observation } from 'fhir/r4.js';
import { join } from 'node:path';
import { startOrthanc, type RunningOrthanc } from '../../src/dev/orthanc.js';
import { startSmartFhir, type SmartFhir } from '../../src/dev/smart-fhir.js';
import { OBSERVATION_CODES } from '../../src/fhir/terminology.js';
import { RECORD_KEYS, recordQuery } from '../../src/fhir/record-queries.js';
import type { SyntheticPatient } from '../../src/synthetic/cohort.js';
import { patientResources, recordResources } from '../../src/synthetic/fhir-resources.js';
import { renderRadiograph } from '../../src/synthetic/radiograph.js';
import { CLIENT_ISS } from '../hook-latency/common.js';
import { benchAcquisition, type BenchPatient } from '../hook-latency/patients.js';
import type { Key } from '../shared/tokens.js';

/** The SMART app's client id (the service's smartApp.clientId default), registered with the authorization server. */
export const SMART_CLIENT_ID = 'spine-fracture-risk';
/** What an EHR's token service grants the app: read and search in the patient's compartment. */
export const SMART_SCOPES = ['patient/*.rs'] as const;

export interface SoakStack {
  smart: SmartFhir;
  orthanc: RunningOrthanc;
  /** A fresh access token for one patient, minted in process by the authorization server (the EHR's token service). */
  accessToken(patientId: string): Promise<string>;
  close(): Promise<void>;
}

export async function startSoakStack(): Promise<SoakStack> {
  const [smart, orthanc] = await Promise.all([
    startSmartFhir({
      auth: {
        // Nobody launches the app here; the client must still be registered for the tokens' client_id.
        clients: [{ clientId: SMART_CLIENT_ID, redirectUris: ['http://127.0.0.1/smart-app/index.html'] }],
        user: { id: 'bench-dr1', fhirUser: 'Practitioner/bench-dr1', name: 'Dr. Bench' },
        patients: () => Promise.resolve([]),
      },
    }),
    startOrthanc(),
  ]);
  return {
    smart,
    orthanc,
    accessToken: async (patient) => (await smart.auth.issueAccessToken({ clientId: SMART_CLIENT_ID, patient, scopes: SMART_SCOPES })).access_token,
    close: async () => void (await Promise.all([smart.close(), orthanc.close()])),
  };
}

/** A bench patient whose body can change: `bodyHead`/`bodyTail` are the body last answered, which warm calls repeat. */
export interface SoakPatient extends BenchPatient {
  /** The prefetch as read from the FHIR server. */
  prefetch: Record<string, FhirResource | null>;
  /** Cold calls made for the patient so far: the weight is nudged by 0.1 kg × this. */
  nudges: number;
}

/** The body of a patient-view hook with `"@"` where the hookInstance goes, split there (as patients.ts builds it). */
export function bodyParts(fhirBaseUrl: string, patientId: string, prefetch: Record<string, FhirResource | null>): { bodyHead: string; bodyTail: string; bodyBytes: number } {
  const parts = JSON.stringify({
    hook: 'patient-view',
    hookInstance: '@',
    fhirServer: fhirBaseUrl,
    context: { userId: 'Practitioner/bench-dr1', patientId },
    prefetch,
  }).split('"@"');
  if (parts.length !== 2) throw new Error(`the hook body of ${patientId} holds "@" elsewhere; choose another placeholder`);
  const [bodyHead, bodyTail] = parts as [string, string];
  return { bodyHead, bodyTail, bodyBytes: Buffer.byteLength(bodyHead) + Buffer.byteLength(bodyTail) + 38 };
}

const isWeight = (o: Observation): boolean => o.code.coding?.some((c) => c.system === OBSERVATION_CODES.bodyWeight.system && c.code === OBSERVATION_CODES.bodyWeight.code) ?? false;

/**
 * The patient's prefetch with every body-weight Observation's value raised by 0.1 kg × `nudge`: a
 * changed risk factor, so the assessment key is new (build-assessment.ts assessmentKey), while the
 * radiograph stays the same one. Throws when the chart has no weight to change.
 */
export function nudgedPrefetch(prefetch: Record<string, FhirResource | null>, nudge: number): Record<string, FhirResource | null> {
  const observations = structuredClone(prefetch.observations) as Bundle | null | undefined;
  let changed = 0;
  for (const entry of observations?.entry ?? []) {
    const o = entry.resource as Observation | undefined;
    if (o?.resourceType !== 'Observation' || !isWeight(o) || o.valueQuantity?.value === undefined) continue;
    o.valueQuantity.value = Math.round((o.valueQuantity.value + 0.1 * nudge) * 10) / 10;
    changed++;
  }
  if (changed === 0) throw new Error('the prefetch holds no body weight to change');
  return { ...prefetch, observations: observations ?? null };
}

/** Prefetch as a CDS client sends it: each of the service's prefetch queries, read with a token for the patient. */
async function prefetchFor(fhirBaseUrl: string, patientId: string, token: string): Promise<Record<string, FhirResource | null>> {
  const entries = await Promise.all(
    RECORD_KEYS.map(async (key) => {
      const response = await fetch(`${fhirBaseUrl}/${recordQuery(key, patientId)}`, { headers: { authorization: `Bearer ${token}` } });
      if (response.status === 404) return [key, null] as const;
      if (!response.ok) throw new Error(`prefetch ${key} for ${patientId}: HTTP ${response.status}`);
      return [key, (await response.json()) as FhirResource] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Seeds one patient's chart into the FHIR server, its radiograph (the bench's 2,500 × 3,000 matrix) into Orthanc, and builds its body. */
export async function loadSoakPatient(stack: SoakStack, patient: SyntheticPatient, asOf: Date): Promise<SoakPatient> {
  const fhirBaseUrl = stack.smart.fhir.baseUrl;
  const record = patientResources(patient, { asOf, dicomWebBaseUrl: stack.orthanc.dicomWebUrl });
  await stack.smart.fhir.seed(recordResources(record));
  const a = benchAcquisition(patient, asOf);
  const part10 = await renderRadiograph(patient, a);
  await stack.orthanc.upload(part10);
  const prefetch = await prefetchFor(fhirBaseUrl, patient.id, await stack.accessToken(patient.id));
  nudgedPrefetch(prefetch, 0); // fails early for a chart without a weight
  return { id: patient.id, index: patient.index, ...bodyParts(fhirBaseUrl, patient.id, prefetch), dicomBytes: part10.byteLength, modality: a.modality, prefetch, nudges: 0 };
}

/**
 * The service's configuration: hook-latency's (production mode, SQLite in the temp dir, the demo model,
 * one trusted RS384 client, both local servers allow-listed, deadline 20 s, a card for every band) plus
 * the SMART app's API and a tensor cache of `tensors` radiographs, so that cold calls go to the PACS.
 * (Written here rather than shared with hook-latency's run.ts, which this change may not touch.)
 */
export function soakServiceConfig(options: { stack: SoakStack; key: Key; dir: string; models: string; tensors: number; assessments?: number }): Record<string, unknown> {
  const { stack, key, dir, models, tensors, assessments } = options;
  return {
    mode: 'production',
    log: { level: 'info' },
    store: { sqlitePath: join(dir, 'cds.sqlite') },
    auth: { clients: [{ iss: CLIENT_ISS, jwks: { keys: [key.publicJwk] } }] },
    fhir: { servers: [{ baseUrl: stack.smart.fhir.baseUrl, allowInsecureHttp: true }] },
    imaging: { dicomweb: { endpoints: [{ baseUrl: stack.orthanc.dicomWebUrl, allowInsecureHttp: true }] } },
    model: { dir: models },
    assessment: { deadlineMs: 20_000, lowRiskCard: true, cache: { tensors, ...(assessments === undefined ? {} : { assessments }) } },
    // The API needs no settings of its own (it answers any allow-listed FHIR server's tokens); the launch URL gives the cards their link.
    smartApp: { launchUrl: 'https://smart.bench.test/launch.html' },
  };
}
