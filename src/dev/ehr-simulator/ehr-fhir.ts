// The EHR's own access to the FHIR server it is the system of record for. The dev FHIR server takes
// nothing without a SMART access token, so the EHR asks its token service (the authorization server's
// issueAccessToken) for one per patient: `patient/*.crs` for its own chart reads and the writes of
// accepted suggestions, and a separate read-only token to hand a CDS service as `fhirAuthorization`.
// Tokens are kept in memory until a minute before they expire and never logged or put in an error.
import type { FhirResource, OperationOutcome } from 'fhir/r4.js';
import type { FhirAuthorization } from '../../cds/types.js';
import type { AccessTokenRequest, IssuedAccessToken } from '../smart-auth-server.js';

/** What the EHR needs of the authorization server. */
export interface EhrTokenService {
  issueAccessToken(request: AccessTokenRequest): Promise<IssuedAccessToken>;
}

export interface EhrFhirOptions {
  fhirBaseUrl: string;
  tokens: EhrTokenService;
  /** The EHR backend's client id at the authorization server. */
  clientId: string;
  /** The client id the CDS service's tokens are issued to (`fhirAuthorization.subject`); default clientId. */
  cdsClientId?: string;
  timeoutMs?: number;
}

/** The EHR's own scopes: read, search and create in the patient's chart (the dev FHIR server allows no more). */
export const EHR_SCOPES = ['patient/*.crs'] as const;
/** What a CDS service may do with the token it is given: read and search the patient's chart. */
export const CDS_SERVICE_SCOPES = ['patient/*.rs'] as const;
const REFRESH_MARGIN_MS = 60_000;

/** A FHIR call that did not succeed: the status (null when the server could not be reached) and the server's words. */
export class FhirCallError extends Error {
  override readonly name = 'FhirCallError';
  constructor(
    readonly status: number | null,
    message: string,
  ) {
    super(message);
  }
}

export interface FhirAnswer {
  status: number;
  resource: FhirResource | null;
}

export interface EhrFhir {
  readonly baseUrl: string;
  /** GET a path relative to the base (`Patient/1`, `Observation?patient=1`); throws FhirCallError unless 2xx. */
  get(patientId: string, relativeUrl: string): Promise<FhirResource>;
  /** GET, with 404 as null (for prefetch: "no such data"). */
  getOrNull(patientId: string, relativeUrl: string): Promise<FhirResource | null>;
  /** Every entry of a search (first page). */
  search<T extends FhirResource>(patientId: string, relativeUrl: string): Promise<T[]>;
  /** Any write (POST to a type, PUT to an instance, DELETE); the answer, or FhirCallError unless 2xx. */
  write(patientId: string, method: 'POST' | 'PUT' | 'DELETE', relativeUrl: string, resource?: FhirResource): Promise<FhirAnswer>;
  /** A fresh read-only token for the patient, as CDS Hooks `fhirAuthorization`. */
  cdsAuthorization(patientId: string): Promise<FhirAuthorization>;
}

function issueText(body: unknown): string | undefined {
  const outcome = body as Partial<OperationOutcome> | null;
  if (outcome?.resourceType !== 'OperationOutcome') return undefined;
  const issue = outcome.issue?.[0];
  return issue?.diagnostics ?? issue?.details?.text;
}

export function createEhrFhir(options: EhrFhirOptions): EhrFhir {
  const base = URL.parse(options.fhirBaseUrl);
  if (base === null || (base.protocol !== 'http:' && base.protocol !== 'https:')) throw new TypeError('fhirBaseUrl must be an http(s) URL');
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new TypeError('clientId must be a non-empty string');
  const baseUrl = options.fhirBaseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const cdsClientId = options.cdsClientId ?? options.clientId;
  const cache = new Map<string, Promise<{ token: string; expiresAt: number }>>();

  function ehrToken(patientId: string): Promise<{ token: string; expiresAt: number }> {
    const cached = cache.get(patientId);
    if (cached) {
      return cached.then((entry) => {
        if (entry.expiresAt - REFRESH_MARGIN_MS > Date.now()) return entry;
        cache.delete(patientId);
        return ehrToken(patientId);
      });
    }
    const issued = options.tokens
      .issueAccessToken({ clientId: options.clientId, patient: patientId, scopes: [...EHR_SCOPES] })
      .then((t) => ({ token: t.access_token, expiresAt: Date.now() + t.expires_in * 1000 }));
    cache.set(patientId, issued);
    void issued.catch(() => cache.delete(patientId));
    return issued;
  }

  async function request(patientId: string, method: string, relativeUrl: string, resource?: FhirResource): Promise<{ status: number; body: unknown }> {
    if (/^[a-z][a-z0-9+.-]*:|^\/|\.\./i.test(relativeUrl)) throw new TypeError('relativeUrl must be relative to the FHIR base');
    const { token } = await ehrToken(patientId);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/fhir+json' };
    if (resource !== undefined) headers['content-type'] = 'application/fhir+json';
    let response: Response;
    try {
      response = await fetch(`${baseUrl}/${relativeUrl}`, {
        method,
        headers,
        ...(resource === undefined ? {} : { body: JSON.stringify(resource) }),
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      throw new FhirCallError(null, `The FHIR server at ${baseUrl} could not be reached`);
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: response.status, body };
  }

  function fail(method: string, relativeUrl: string, status: number, body: unknown): FhirCallError {
    const what = relativeUrl.split('?')[0] ?? relativeUrl;
    return new FhirCallError(status, `${method} ${what}: HTTP ${status}${issueText(body) ? ` — ${issueText(body)}` : ''}`);
  }

  async function get(patientId: string, relativeUrl: string): Promise<FhirResource> {
    const { status, body } = await request(patientId, 'GET', relativeUrl);
    if (status < 200 || status > 299 || typeof body !== 'object' || body === null) throw fail('GET', relativeUrl, status, body);
    return body as FhirResource;
  }

  return {
    baseUrl,
    get,
    async getOrNull(patientId, relativeUrl) {
      try {
        return await get(patientId, relativeUrl);
      } catch (error) {
        if (error instanceof FhirCallError && error.status === 404) return null;
        throw error;
      }
    },
    async search<T extends FhirResource>(patientId: string, relativeUrl: string): Promise<T[]> {
      const bundle = await get(patientId, relativeUrl);
      if (bundle.resourceType !== 'Bundle') throw new FhirCallError(null, `GET ${relativeUrl.split('?')[0] ?? ''}: not a Bundle`);
      return (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource as T] : []));
    },
    async write(patientId, method, relativeUrl, resource) {
      const { status, body } = await request(patientId, method, relativeUrl, resource);
      if (status < 200 || status > 299) throw fail(method, relativeUrl, status, body);
      const written = typeof body === 'object' && body !== null && typeof (body as { resourceType?: unknown }).resourceType === 'string' ? (body as FhirResource) : null;
      return { status, resource: written };
    },
    async cdsAuthorization(patientId) {
      const issued = await options.tokens.issueAccessToken({ clientId: cdsClientId, patient: patientId, scopes: [...CDS_SERVICE_SCOPES] });
      return { access_token: issued.access_token, token_type: 'Bearer', expires_in: issued.expires_in, scope: issued.scope, subject: cdsClientId, patient: patientId };
    },
  };
}
