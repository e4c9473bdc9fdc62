// The fracture-risk services on real parts, for integration tests: the dev FHIR server and Debian's
// Orthanc on loopback, synthetic patients loaded into both, and the service built by the real
// composition root (createServing) with the demo model, driven in process by supertest. Also the
// independent expectation: the same patient's tensor made by `synth` (synthesizePatient), scored by a
// model runtime of the test's own.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Bundle, BundleEntry, FhirResource, Resource } from 'fhir/r4.js';
import type { Logger } from 'pino';
import supertest from 'supertest';
import type { Config } from '../../src/config.js';
import { startDevFhirServer, type DevFhirServer, type RecordedRequest } from '../../src/dev/fhir-server.js';
import type { SmartAuthServer } from '../../src/dev/smart-auth-server.js';
import { listenLate } from '../../src/dev/late-bound-server.js';
import { startSmartFhir } from '../../src/dev/smart-fhir.js';
import { startOrthanc, type RunningOrthanc } from '../../src/dev/orthanc.js';
import { RECORD_KEYS, recordQuery, type RecordKey } from '../../src/fhir/record-queries.js';
import { createInferencePool } from '../../src/model/inference-pool.js';
import { loadModelRegistry, type LoadedModel } from '../../src/model/model-registry.js';
import type { Prediction } from '../../src/model/model-runtime.js';
import { OnnxModelRuntime } from '../../src/model/onnx-model-runtime.js';
import type { RiskFactors } from '../../src/model/risk-factors.js';
import { createLogger } from '../../src/ops/logger.js';
import { createServing, type Serving } from '../../src/serve.js';
import { syntheticPatient, type SyntheticPatient } from '../../src/synthetic/cohort.js';
import { patientResources, recordResources, type SyntheticFhirRecord } from '../../src/synthetic/fhir-resources.js';
import { acquisition, renderRadiograph } from '../../src/synthetic/radiograph.js';
import { synthesizePatient } from '../../src/synthetic/synth-task.js';
import type { WorkerPool } from '../../src/workers/pool.js';
import { configFrom, tempDir } from './cds-app.js';
import { smartLogin, type SmartTokenResponse } from './smart-login.js';

/** The assessment date: every synthetic radiograph is dated in the year before it. */
export const NOW = new Date('2026-06-01T12:00:00Z');
export const MODEL_ID = 'spine-deepsurv-demo';
export const SEED = 11;
/** Allow-listed, but nothing listens there: a PACS that is down. */
export const DEAD_PACS = 'http://127.0.0.1:9/dicom-web';
const DAYS_PER_YEAR = 365.25;

export interface StackOptions {
  /** Configuration on top of the stack's own (deep-merged one level: objects are spread). */
  config?: Record<string, unknown>;
  clock?: () => Date;
  /** More FHIR servers and PACS (DICOMweb roots) to allow-list, e.g. fault injectors in front of the real ones. */
  alsoAllow?: { fhir?: readonly string[]; dicomweb?: readonly string[] };
  /**
   * A SMART authorization server in front of the FHIR server (which then refuses calls without a
   * valid token) and the service listening on a real loopback port, serving the SMART app built in
   * `appDir` (browsers need a real origin).
   */
  smart?: { appDir?: string; accessTokenTtlSeconds?: number };
}

export const SMART_CLIENT_ID = 'spine-fracture-risk';
export const SMART_USER = { id: 'dr-demo', fhirUser: 'Practitioner/dr-demo', name: 'Dr. Dana Demo' };
const EHR_SCOPES = ['openid', 'fhirUser', 'launch', 'patient/*.rs', 'patient/ServiceRequest.c'];

export interface SmartStack {
  auth: SmartAuthServer;
  /** The service's own origin, e.g. http://127.0.0.1:PORT (the app is at /smart-app/). */
  appBaseUrl: string;
  launchUrl: string;
  redirectUri: string;
  /** A token for the patient from an EHR launch over HTTP (smartLogin), as the app would get one. */
  token(patientId: string, options?: { scopes?: string[]; appContext?: string }): Promise<SmartTokenResponse>;
}

export interface HookOptions {
  /** Which chart keys to prefetch (read from the FHIR server as an EHR would): all, none, or a list. */
  prefetch?: 'all' | 'none' | readonly RecordKey[];
  /** Prefetch values to send as given (after the ones read). */
  extraPrefetch?: Record<string, FhirResource | null>;
  fhirServer?: string | null;
  fhirAuthorization?: Record<string, unknown>;
}

export interface LoadedPatient {
  patient: SyntheticPatient;
  record: SyntheticFhirRecord;
  part10: Uint8Array;
}

export interface LoadOptions {
  edit?: (resources: FhirResource[], record: SyntheticFhirRecord) => FhirResource[];
  /** Changes the DICOM file before it is stored (e.g. a header edit). */
  dicom?: (part10: Uint8Array) => Promise<Uint8Array>;
}

export interface Stack {
  logger: Logger;
  fhir: DevFhirServer;
  orthanc: RunningOrthanc;
  serving: Serving;
  config: Config;
  request: ReturnType<typeof supertest>;
  /** Every request the FHIR server received. */
  fhirRequests: RecordedRequest[];
  /** Set when started with `smart`. */
  smart?: SmartStack;
  logLines(): Record<string, unknown>[];
  /** Writes resources (PUT each, as a transaction). */
  put(resources: readonly FhirResource[]): Promise<void>;
  /** Loads a synthetic patient's chart (optionally edited) into FHIR and its radiograph (optionally changed) into Orthanc. */
  load(patient: SyntheticPatient, options?: LoadOptions): Promise<LoadedPatient>;
  /** A patient-view request body for the patient. */
  patientView(patientId: string, options?: HookOptions): Promise<Record<string, unknown>>;
  /** Prefetch as a CDS client would send it (each chart query read from the FHIR server). */
  prefetchFor(patientId: string, keys?: readonly RecordKey[]): Promise<Record<string, FhirResource | null>>;
  close(): Promise<void>;
}

async function transact(baseUrl: string, resources: readonly FhirResource[]): Promise<void> {
  const entry: BundleEntry[] = resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${(resource as Resource).id}` } }));
  const response = await fetch(baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
  assert.equal(response.status, 200, await response.clone().text());
}

function displayName(patient: { name?: { given?: string[]; family?: string }[] }): string {
  const name = patient.name?.[0];
  return [...(name?.given ?? []), name?.family ?? ''].join(' ').trim();
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const fhirRequests: RecordedRequest[] = [];
  const onRequest = (r: RecordedRequest): void => void fhirRequests.push(r);
  const loaded: { id: string; name: string }[] = [];
  const listener = options.smart ? await listenLate('127.0.0.1', 0) : undefined;
  const appBaseUrl = listener?.url;
  const smartFhir = options.smart
    ? await startSmartFhir({
        fhir: { onRequest },
        auth: {
          clients: [{ clientId: SMART_CLIENT_ID, redirectUris: [`${appBaseUrl}/smart-app/index.html`] }],
          user: SMART_USER,
          patients: () => Promise.resolve([...loaded]),
          ...(options.smart.accessTokenTtlSeconds === undefined ? {} : { accessTokenTtlSeconds: options.smart.accessTokenTtlSeconds }),
        },
      })
    : undefined;
  const [fhir, orthanc] = await Promise.all([smartFhir?.fhir ?? startDevFhirServer({ onRequest }), startOrthanc()]);
  const extra = options.config ?? {};
  const section = (key: string): Record<string, unknown> => (extra[key] as Record<string, unknown> | undefined) ?? {};
  const smartAppConfig = options.smart ? { launchUrl: `${appBaseUrl}/smart-app/launch.html`, ...(options.smart.appDir ? { dir: options.smart.appDir } : {}) } : {};
  const config = configFrom({
    ...extra,
    mode: 'development',
    server: { publicBaseUrl: appBaseUrl ?? 'http://cds.test', ...section('server') },
    smartApp: { ...smartAppConfig, ...section('smartApp') },
    auth: { disabled: true, ...section('auth') },
    log: { level: 'debug' },
    store: { sqlitePath: join(tempDir('fracture-stack-'), 'cds.sqlite') },
    fhir: { servers: [fhir.baseUrl, ...(options.alsoAllow?.fhir ?? [])].map((baseUrl) => ({ baseUrl, allowInsecureHttp: true })), ...section('fhir') },
    imaging: {
      lookbackDays: 1825,
      ...section('imaging'),
      dicomweb: {
        endpoints: [orthanc.dicomWebUrl, DEAD_PACS, ...(options.alsoAllow?.dicomweb ?? [])].map((baseUrl) => ({ baseUrl, allowInsecureHttp: true })),
        timeoutMs: 15_000,
        ...((section('imaging').dicomweb as object | undefined) ?? {}),
      },
    },
    workers: { threads: 2 },
    model: { dir: 'models', inferenceThreads: 1 },
    assessment: { deadlineMs: 20_000, ...section('assessment') },
  });
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
  const serving = await createServing(config, { logger, clock: options.clock ?? (() => NOW) });
  listener?.bind(serving.app.express);

  const tokens = new Map<string, Promise<SmartTokenResponse>>();
  const smart: SmartStack | undefined =
    smartFhir && appBaseUrl
      ? {
          auth: smartFhir.auth,
          appBaseUrl,
          launchUrl: `${appBaseUrl}/smart-app/launch.html`,
          redirectUri: `${appBaseUrl}/smart-app/index.html`,
          async token(patientId, tokenOptions = {}) {
            const launch = smartFhir.auth.createLaunch({ patient: patientId, ...(tokenOptions.appContext ? { appContext: tokenOptions.appContext } : {}) });
            const login = await smartLogin({ fhirBaseUrl: fhir.baseUrl, clientId: SMART_CLIENT_ID, redirectUri: `${appBaseUrl}/smart-app/index.html`, scopes: tokenOptions.scopes ?? EHR_SCOPES, launch });
            return login.tokenResponse;
          },
        }
      : undefined;
  /** The chart reads of a CDS client: with SMART on, under a token for the patient (the EHR's own privileges are not modelled). */
  const readHeaders = async (patientId: string): Promise<Record<string, string>> => {
    if (!smart) return {};
    let token = tokens.get(patientId);
    if (!token) tokens.set(patientId, (token = smart.token(patientId)));
    return { authorization: `Bearer ${(await token).access_token}` };
  };
  // With SMART on, the FHIR server takes no writes without a token: seed its repository directly.
  const put = (resources: readonly FhirResource[]): Promise<void> => (smartFhir ? fhir.seed(resources) : transact(fhir.baseUrl, resources));
  const prefetchFor = async (patientId: string, keys: readonly RecordKey[] = RECORD_KEYS): Promise<Record<string, FhirResource | null>> => {
    const headers = await readHeaders(patientId);
    const entries = await Promise.all(
      keys.map(async (key) => {
        const response = await fetch(`${fhir.baseUrl}/${recordQuery(key, patientId)}`, { headers });
        return [key, response.status === 404 ? null : ((await response.json()) as FhirResource)] as const;
      }),
    );
    return Object.fromEntries(entries);
  };

  return {
    logger,
    fhir,
    orthanc,
    serving,
    config,
    request: supertest(serving.app.express),
    fhirRequests,
    ...(smart ? { smart } : {}),
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    put,
    prefetchFor,
    async load(patient, loadOptions = {}) {
      const record = patientResources(patient, { asOf: NOW, dicomWebBaseUrl: orthanc.dicomWebUrl });
      const resources = recordResources(record);
      await put(loadOptions.edit ? loadOptions.edit(resources, record) : resources);
      loaded.push({ id: patient.id, name: displayName(record.patient) });
      const rendered = await renderRadiograph(patient, acquisition(patient, NOW));
      const part10 = loadOptions.dicom ? await loadOptions.dicom(rendered) : rendered;
      await orthanc.upload(part10);
      return { patient, record, part10 };
    },
    async patientView(patientId, hookOptions = {}) {
      const keys = hookOptions.prefetch === 'none' ? [] : hookOptions.prefetch === undefined || hookOptions.prefetch === 'all' ? RECORD_KEYS : hookOptions.prefetch;
      const prefetch = { ...(await prefetchFor(patientId, keys)), ...hookOptions.extraPrefetch };
      const fhirServer = hookOptions.fhirServer === undefined ? fhir.baseUrl : hookOptions.fhirServer;
      return {
        hook: 'patient-view',
        hookInstance: crypto.randomUUID(),
        ...(fhirServer === null ? {} : { fhirServer }),
        ...(hookOptions.fhirAuthorization ? { fhirAuthorization: hookOptions.fhirAuthorization } : {}),
        context: { userId: 'Practitioner/dr-test', patientId },
        ...(Object.keys(prefetch).length > 0 ? { prefetch } : {}),
      };
    },
    async close() {
      await listener?.close();
      await serving.close();
      await Promise.all([smartFhir?.close() ?? fhir.close(), orthanc.close()]);
    },
  };
}

/** Age in years to one decimal at `at`, from an ISO birth date: the chart's reading of age. */
export function ageAt(birthDate: string, at: Date): number {
  const days = (at.getTime() - Date.parse(`${birthDate}T00:00:00Z`)) / 86_400_000;
  return Math.round((days / DAYS_PER_YEAR) * 10) / 10;
}

/** The test's own model runtime: the expectation never goes through the service's objects. */
export interface Expectation {
  model: LoadedModel;
  /** The patient's tensor as `synth` makes it, scored with the given factors. */
  predict(patient: SyntheticPatient, factors: RiskFactors): Promise<Prediction>;
  close(): Promise<void>;
}

export async function startExpectation(): Promise<Expectation> {
  const registry = await loadModelRegistry('models');
  const pool: WorkerPool = createInferencePool({ inferenceThreads: 1 });
  const runtime = await OnnxModelRuntime.create({ registry, pool, settings: { intraOpThreads: 1, maxBatch: 8, batchWindowMs: 0, maxQueue: 64, timeoutMs: 60_000 } });
  const model = runtime.model(MODEL_ID);
  const tensors = new Map<string, Float32Array>();
  return {
    model,
    async predict(patient, factors) {
      let tensor = tensors.get(patient.id);
      if (!tensor) {
        const synth = await synthesizePatient({
          seed: SEED,
          index: patient.index,
          indexDate: NOW.toISOString(),
          spec: model.card.inputs.image.preprocessing,
          limits: { maxBytes: 128 * 2 ** 20, maxPixels: 50_000_000, maxFrames: 1 },
          keepDicom: false,
        });
        tensor = synth.tensor;
        tensors.set(patient.id, tensor);
      }
      return runtime.predict(MODEL_ID, tensor, factors);
    },
    async close() {
      await runtime.close();
      await pool.close();
    },
  };
}

/** The factors the chart of a synthetic patient gives at NOW: the cohort's, with the age the birth date gives then. */
export function chartFactors(loaded: LoadedPatient, at: Date = NOW): RiskFactors {
  return { ...loaded.patient.factors, age: ageAt(loaded.record.patient.birthDate as string, at) };
}

export const patientAt = (index: number): SyntheticPatient => syntheticPatient(SEED, index);

/** Entries of a searchset Bundle. */
export function entries(bundle: Bundle): FhirResource[] {
  return (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}
