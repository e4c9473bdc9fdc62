// One typed configuration: a JSON file named by CDS_CONFIG, then environment overrides, then
// schema validation with defaults. Any problem stops start-up with a message naming the key.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import type { JSONWebKeySet } from 'jose';
import schema from './config.schema.json' with { type: 'json' };

export type JwsAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'EdDSA';

export interface TrustedClient {
  iss: string;
  jwks?: JSONWebKeySet;
  jwksUrl?: string;
  allowedJku: string[];
  tenant?: string;
  algorithms: JwsAlgorithm[];
}

export interface FhirServerEntry {
  baseUrl: string;
  allowInsecureHttp: boolean;
}

export type DicomwebAuth =
  | { type: 'none' }
  | { type: 'bearer'; tokenEnv: string }
  | { type: 'basic'; username: string; passwordEnv: string };

/** A PACS the service may fetch from; secrets are named by environment variable, never written in the file. */
export interface DicomwebEndpointEntry {
  baseUrl: string;
  allowInsecureHttp: boolean;
  auth: DicomwebAuth;
}

/** The right-patient rule for radiographs (imaging.patientIdentity; src/imaging/patient-identity.ts applies it). */
export interface PatientIdentityRule {
  /** Patient.identifier systems the DICOM PatientID is compared with; empty: any identifier, or the resource id. */
  identifierSystems: string[];
  /** Compare the birth date when both sides have one. */
  birthDate: boolean;
  /** Compare the family name when both sides have one. */
  familyName: boolean;
}

export interface ImagingLimits {
  maxBytes: number;
  /** Rows × columns. */
  maxPixels: number;
  maxFrames: number;
  decodeTimeoutMs: number;
}

/** Where models are and how inference runs (src/model/README.md). */
export interface ModelConfig {
  /** Folder of `<id>/model-card.json` + ONNX folders. */
  dir: string;
  /** Worker threads for inference (their own pool: session.run blocks its thread). */
  inferenceThreads: number;
  /** onnxruntime intra-op threads per inference thread; default cores ÷ inferenceThreads. */
  intraOpThreads?: number;
  maxBatch: number;
  batchWindowMs: number;
  /** Predictions that may wait for a batch; more are refused as busy. */
  maxQueue: number;
  /** Time cap of one ONNX run. */
  timeoutMs: number;
}

/** How assessments are made and cached, and when cards are suppressed (README, Eligibility). */
export interface AssessmentConfig {
  /** The model the services use; may be left out when exactly one is loaded. */
  modelId?: string;
  /** A hook answers within this; work not done by then finishes in the background. */
  deadlineMs: number;
  /** Longest one assessment may take in the background (FHIR, PACS, decode, inference). */
  jobTimeoutMs: number;
  /** A DXA result this recent suppresses the "consider DXA" card; 0 turns the rule off. */
  recentDxaMonths: number;
  /** An osteoporosis treatment that ended this recently counts as current. */
  treatmentRecentMonths: number;
  /** Known osteoporosis or treatment: a short card saying so, or no card. */
  knownOsteoporosis: 'short-card' | 'no-card';
  /** Whether a low-band result gets a card (off: only moderate and high do). */
  lowRiskCard: boolean;
  cache: {
    /** Assessments kept in memory in front of the store. */
    assessments: number;
    /** Preprocessed radiographs kept in memory (a changed factor then needs no new download). */
    tensors: number;
    /** How long a radiograph that could not be used (wrong view, corrupt file) is not fetched again. */
    imageFailureMinutes: number;
  };
}

export const SERVICE_IDS = ['spine-fracture-risk', 'spine-fracture-risk-orders'] as const;
export type ServiceId = (typeof SERVICE_IDS)[number];

export interface ServiceSwitches {
  enabled: boolean;
  /** Compute and record assessments but return no cards (prospective validation). */
  silent: boolean;
}

/** The SMART app: where the cards link, what it asks for at launch, and who may call its API. */
export interface SmartAppSettings {
  /** The app's launch URL the cards link to (with appContext); no link when unset. */
  launchUrl?: string;
  /** The OAuth client id the app is registered with at the EHR's authorization server. */
  clientId: string;
  /** Scopes the app asks for (`launch` or `launch/patient` is added per launch). */
  scopes: string[];
  /** The built app (`npm run build` writes dist/smart-app), served at /smart-app/. */
  dir: string;
  /** Origins other than the service's own allowed to call /api (CORS); none by default. */
  origins: string[];
  /** Explanation pictures kept in memory. */
  explanationCache: number;
}

/** The HTTP listener (src/http-server.ts) and how requests are read. */
export interface ServerSettings {
  host: string;
  port: number;
  publicBaseUrl?: string;
  bodyLimit: string;
  trustProxy: boolean | string;
  headersTimeoutMs: number;
  /** Headers and body; at least headersTimeoutMs. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxJsonDepth: number;
}

export interface Config {
  mode: 'production' | 'development';
  server: ServerSettings;
  cors: { origins: '*' | string[] };
  auth: {
    disabled: boolean;
    clockToleranceSeconds: number;
    maxTokenAgeSeconds: number;
    replayCacheSize: number;
    jwksTimeoutMs: number;
    jwksCooldownMs: number;
    jwksCacheMaxAgeMs: number;
    clients: TrustedClient[];
  };
  fhir: { servers: FhirServerEntry[]; timeoutMs: number; maxPages: number; maxResponseBytes: number };
  imaging: {
    lookbackDays: number;
    patientIdentity: PatientIdentityRule;
    dicomweb: { endpoints: DicomwebEndpointEntry[]; timeoutMs: number };
    limits: ImagingLimits;
  };
  /** Threads for CPU-bound work (decode, preprocessing, inference); default min(cores, 4). */
  workers: { threads?: number; maxQueue: number };
  model: ModelConfig;
  assessment: AssessmentConfig;
  services: Record<ServiceId, ServiceSwitches>;
  smartApp: SmartAppSettings;
  store: { sqlitePath: string; busyTimeoutMs: number; minFreeBytes: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  metrics: { enabled: boolean };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables that override a key; JSON-valued for arrays and objects. */
export const ENV_OVERRIDES: Readonly<Record<string, string>> = {
  PORT: 'server.port',
  HOST: 'server.host',
  CDS_MODE: 'mode',
  CDS_PUBLIC_BASE_URL: 'server.publicBaseUrl',
  CDS_BODY_LIMIT: 'server.bodyLimit',
  CDS_TRUST_PROXY: 'server.trustProxy',
  CDS_CORS_ORIGINS: 'cors.origins',
  CDS_AUTH_DISABLED: 'auth.disabled',
  CDS_AUTH_CLIENTS: 'auth.clients',
  CDS_FHIR_SERVERS: 'fhir.servers',
  CDS_FHIR_TIMEOUT_MS: 'fhir.timeoutMs',
  CDS_IMAGING_LOOKBACK_DAYS: 'imaging.lookbackDays',
  CDS_DICOMWEB_ENDPOINTS: 'imaging.dicomweb.endpoints',
  CDS_DICOMWEB_TIMEOUT_MS: 'imaging.dicomweb.timeoutMs',
  CDS_WORKER_THREADS: 'workers.threads',
  CDS_MODEL_DIR: 'model.dir',
  CDS_INFERENCE_THREADS: 'model.inferenceThreads',
  CDS_INTRA_OP_THREADS: 'model.intraOpThreads',
  CDS_MODEL_ID: 'assessment.modelId',
  CDS_DEADLINE_MS: 'assessment.deadlineMs',
  CDS_SERVICES: 'services',
  CDS_SMART_LAUNCH_URL: 'smartApp.launchUrl',
  CDS_SMART_CLIENT_ID: 'smartApp.clientId',
  CDS_SQLITE_PATH: 'store.sqlitePath',
  CDS_LOG_LEVEL: 'log.level',
  CDS_METRICS_ENABLED: 'metrics.enabled',
};

const ajv = new Ajv({ useDefaults: true, coerceTypes: true, allErrors: false, strict: true, allowUnionTypes: true });
formats.default(ajv, ['uri']);
const validate = ajv.compile<Config>(schema);

type Json = Record<string, unknown>;

function setPath(target: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let node = target;
  for (const key of keys) {
    const child = node[key];
    node = (child !== null && typeof child === 'object' ? child : (node[key] = {})) as Json;
  }
  node[last] = value;
}

function parseEnvValue(name: string, raw: string): unknown {
  const trimmed = raw.trim();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return raw;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    throw new ConfigError(`Invalid configuration: environment variable ${name} is not valid JSON`);
  }
}

function readFile(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read configuration file ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Json;
  } catch (error) {
    throw new ConfigError(`Configuration file ${path} is not a JSON object: ${(error as Error).message}`);
  }
}

/** Checks a schema cannot express; each names its key. */
function checkSemantics(config: Config, env: NodeJS.ProcessEnv): void {
  if (config.server.headersTimeoutMs > config.server.requestTimeoutMs) {
    throw new ConfigError('Invalid configuration: server.headersTimeoutMs must not exceed server.requestTimeoutMs');
  }
  config.auth.clients.forEach((client, i) => {
    const key = `auth.clients[${i}]`;
    if (client.jwks && client.jwksUrl) throw new ConfigError(`Invalid configuration: ${key} has both jwks and jwksUrl; give one`);
    if (!client.jwks && !client.jwksUrl && client.allowedJku.length === 0) {
      throw new ConfigError(`Invalid configuration: ${key} needs jwks, jwksUrl or allowedJku to verify signatures`);
    }
    if (config.auth.clients.findIndex((c) => c.iss === client.iss) !== i) {
      throw new ConfigError(`Invalid configuration: ${key}.iss "${client.iss}" is listed twice`);
    }
  });
  config.fhir.servers.forEach((server, i) => {
    if (server.baseUrl.startsWith('http:') && !server.allowInsecureHttp) {
      throw new ConfigError(
        `Invalid configuration: fhir.servers[${i}].baseUrl must be https (set allowInsecureHttp: true only for development)`,
      );
    }
  });
  config.imaging.dicomweb.endpoints.forEach((endpoint, i) => {
    const key = `imaging.dicomweb.endpoints[${i}]`;
    if (endpoint.baseUrl.startsWith('http:') && !endpoint.allowInsecureHttp) {
      throw new ConfigError(`Invalid configuration: ${key}.baseUrl must be https (set allowInsecureHttp: true only for development)`);
    }
    const secretEnv = endpoint.auth.type === 'bearer' ? endpoint.auth.tokenEnv : endpoint.auth.type === 'basic' ? endpoint.auth.passwordEnv : undefined;
    if (secretEnv !== undefined && !env[secretEnv]) {
      throw new ConfigError(`Invalid configuration: ${key}.auth names environment variable ${secretEnv}, which is not set`);
    }
  });
}

/**
 * What production mode refuses to serve HTTP with (other commands, such as `score`, do not serve and
 * are not held to it). Without publicBaseUrl the JWT `aud` and card links would come from the
 * client's own Host header.
 */
export function assertServable(config: Config): void {
  if (config.mode !== 'production') return;
  if (config.auth.disabled) {
    throw new ConfigError('Invalid configuration: auth.disabled is refused in production mode (set mode "development" for local use)');
  }
  if (config.server.publicBaseUrl === undefined) {
    throw new ConfigError('Invalid configuration: server.publicBaseUrl is required in production mode (JWT aud and card links are built from it)');
  }
}

/**
 * Builds the configuration from an optional file (CDS_CONFIG, or `file`) and environment overrides.
 * Throws ConfigError with a message that names the offending key.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, file: string | undefined = env.CDS_CONFIG): Config {
  const raw: Json = file ? readFile(file) : {};
  const sources = new Map<string, string>();
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(raw, path, parseEnvValue(name, value));
    sources.set(path, name);
  }
  if (!validate(raw)) {
    const error = validate.errors?.[0];
    const path = (error?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
    const detail = error?.keyword === 'additionalProperties'
      ? `has unknown key "${String(error.params.additionalProperty)}"`
      : (error?.message ?? 'is invalid');
    const topPath = path.replace(/\[\d+\].*$/, '');
    const origin = sources.get(topPath) ?? (file ? `file ${file}` : 'defaults');
    throw new ConfigError(`Invalid configuration: ${path || '(root)'} ${detail} (from ${origin})`);
  }
  checkSemantics(raw, env);
  // Env values arrive as strings; "true"/"false" mean the booleans, anything else is an express trust-proxy spec.
  if (raw.server.trustProxy === 'true' || raw.server.trustProxy === 'false') raw.server.trustProxy = raw.server.trustProxy === 'true';
  return raw;
}
