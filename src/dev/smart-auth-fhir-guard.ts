// The dev FHIR server's token check: who the bearer is (401 when no valid token) and whether its grant covers the
// call (403): a patient-context token reaches only its patient's compartment, within its SMART scopes. Only read,
// search and create are open to tokens; everything else (update, delete, history, operations, batches) is refused.
import type { Bundle, Resource } from 'fhir/r4.js';
import { operationOutcome, OutcomeError, unauthorized } from '../cds/outcomes.js';
import { PATIENT_REFERENCE_ELEMENT, scopesAllow, SHARED_RESOURCE_TYPES } from './smart-auth-scopes.js';
import type { FhirInteraction } from './smart-auth-scopes.js';
import type { AccessGrant } from './smart-auth-server.js';

/** A refusal with the RFC 6750 challenge to send beside its OperationOutcome. */
export class FhirAccessError extends OutcomeError {
  constructor(
    status: 401 | 403,
    message: string,
    readonly wwwAuthenticate?: string,
  ) {
    super(status, status === 401 ? unauthorized().outcome : operationOutcome('forbidden', message));
    this.name = 'FhirAccessError';
  }
}

export interface FhirCall {
  method: string;
  /** Path below the FHIR base as requested, e.g. `/Observation/o1` or `/Observation/_search`. */
  path: string;
  /** Search parameters (query string, plus the form of a POST `_search`). */
  search: URLSearchParams;
  body: unknown;
}

/** A call let through, and what must still be checked in the answer. */
export interface FhirAccess {
  grant: AccessGrant;
  /** read: the resource must belong to the patient; search: entries outside the patient's compartment are dropped. */
  answerCheck: 'none' | 'read' | 'search';
}

const BEARER = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)$/i;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]+$/;
const PATIENT_SEARCH_PARAMS: ReadonlySet<string> = new Set(['patient', 'subject']);

const invalidToken = (): FhirAccessError => new FhirAccessError(401, 'Unauthorized', 'Bearer error="invalid_token"');
const forbidden = (message: string): FhirAccessError => new FhirAccessError(403, message);
const insufficientScope = (type: string, interaction: FhirInteraction): FhirAccessError =>
  new FhirAccessError(403, `The token's scopes do not allow ${interaction === 'c' ? 'create' : interaction === 'r' ? 'read' : 'search'} on ${type}`, 'Bearer error="insufficient_scope"');

/** `Patient/<id>`, or an absolute URL ending in it (and, for search values, the bare id). */
function namesPatient(reference: unknown, patient: string, bareIdAllowed = false): boolean {
  if (typeof reference !== 'string') return false;
  return reference === `Patient/${patient}` || reference.endsWith(`/Patient/${patient}`) || (bareIdAllowed && reference === patient);
}

/** Whether a patient-context token may see this resource: its patient, its compartment, or a shared type. */
export function belongsToPatient(resource: Resource, patient: string | undefined): boolean {
  if (SHARED_RESOURCE_TYPES.has(resource.resourceType)) return true;
  if (patient === undefined) return false;
  if (resource.resourceType === 'Patient') return resource.id === patient;
  const element = PATIENT_REFERENCE_ELEMENT[resource.resourceType];
  if (element === undefined) return false;
  const value = (resource as unknown as Record<string, unknown>)[element];
  return typeof value === 'object' && value !== null && namesPatient((value as { reference?: unknown }).reference, patient);
}

/** Checks the bearer token; throws 401 unless it is valid (well-formed, signed, unexpired, for this server, not revoked). */
export async function authenticate(verify: (token: string) => Promise<AccessGrant | null>, authorization: string | undefined): Promise<AccessGrant> {
  const token = BEARER.exec(authorization ?? '')?.[1];
  const grant = token === undefined ? null : await verify(token);
  if (grant === null) throw invalidToken();
  return grant;
}

function requireScope(grant: AccessGrant, type: string, interaction: FhirInteraction): void {
  if (!scopesAllow(grant.scopes, type, interaction)) throw insufficientScope(type, interaction);
}

function requirePatient(grant: AccessGrant, type: string): string {
  if (grant.patient === undefined) throw forbidden(`${type} needs a token with a patient in context`);
  return grant.patient;
}

function checkRead(grant: AccessGrant, type: string, id: string): FhirAccess['answerCheck'] {
  requireScope(grant, type, 'r');
  if (SHARED_RESOURCE_TYPES.has(type)) return 'none';
  const patient = requirePatient(grant, type);
  if (type === 'Patient') {
    if (id !== patient) throw forbidden('The token does not give access to this patient');
    return 'none';
  }
  return 'read'; // whose it is shows only once it is read
}

function checkSearch(grant: AccessGrant, type: string, search: URLSearchParams): FhirAccess['answerCheck'] {
  requireScope(grant, type, 's');
  if (SHARED_RESOURCE_TYPES.has(type)) return 'search';
  const patient = requirePatient(grant, type);
  // Every parameter that names a patient must name this one (`patient.name=…` chains count as naming another).
  const naming = [...search].filter(([name]) =>
    type === 'Patient' ? name === '_id' : PATIENT_SEARCH_PARAMS.has(name.split(/[:.]/)[0] ?? ''),
  );
  const limited = naming.length > 0 && naming.every(([, value]) => (type === 'Patient' ? value === patient : namesPatient(value, patient, true)));
  if (!limited) throw forbidden(`Search ${type} with ${type === 'Patient' ? `_id=${patient}` : `patient=${patient}`}: the token is for that patient only`);
  return 'search';
}

function checkCreate(grant: AccessGrant, type: string, body: unknown): FhirAccess['answerCheck'] {
  requireScope(grant, type, 'c');
  const patient = requirePatient(grant, type);
  const resource = typeof body === 'object' && body !== null ? (body as Resource) : undefined;
  if (PATIENT_REFERENCE_ELEMENT[type] === undefined || resource?.resourceType !== type || !belongsToPatient(resource, patient)) {
    throw forbidden(`A ${type} created with this token must be in the patient's compartment (Patient/${patient})`);
  }
  return 'none';
}

/** Decides a call from an authenticated grant; throws 403 for anything outside it. */
export function authorizeCall(grant: AccessGrant, call: FhirCall): FhirAccess {
  const [type = '', second, ...rest] = call.path.split('/').filter(Boolean);
  if (!RESOURCE_TYPE.test(type) || rest.length > 0) throw forbidden('Only read, search and create are allowed with a SMART token');
  if (type !== 'Patient' && PATIENT_REFERENCE_ELEMENT[type] === undefined && !SHARED_RESOURCE_TYPES.has(type)) {
    throw forbidden(`${type} is not available to SMART apps on this server`);
  }
  let answerCheck: FhirAccess['answerCheck'];
  if (call.method === 'GET' && second === undefined) answerCheck = checkSearch(grant, type, call.search);
  else if (call.method === 'POST' && second === '_search') answerCheck = checkSearch(grant, type, call.search);
  else if (call.method === 'GET' && second !== undefined && !/^[$_]/.test(second)) answerCheck = checkRead(grant, type, second);
  else if (call.method === 'POST' && second === undefined) answerCheck = checkCreate(grant, type, call.body);
  else throw forbidden('Only read, search and create are allowed with a SMART token');
  return { grant, answerCheck };
}

/**
 * Checks the router's answer in place: a read of another patient's resource is refused; a search bundle keeps only
 * the entries the token may see (`_include`/`_revinclude` can reach other patients' resources).
 */
export function screenAnswer(access: FhirAccess, resource: Resource): void {
  const { patient } = access.grant;
  switch (access.answerCheck) {
    case 'none':
      return;
    case 'read':
      if (!belongsToPatient(resource, patient)) throw forbidden('The token does not give access to this resource');
      return;
    case 'search': {
      const bundle = resource as Bundle;
      if (bundle.resourceType !== 'Bundle' || bundle.entry === undefined) return;
      bundle.entry = bundle.entry.filter(
        (e) => e.resource === undefined || e.resource.resourceType === 'OperationOutcome' || belongsToPatient(e.resource, patient),
      );
    }
  }
}
