// FHIR REST access for the service: only allow-listed servers, a timeout on every request, a byte
// cap on every answer, no redirects, bounded paging that never leaves the server, and errors that
// carry a kind and status but never the URL (URLs hold patient ids) or the token.
// Requests go through net/bounded-http.ts (undici) rather than fhir-kit-client, whose fetch follows
// redirects (with the bearer token) and buffers whole answers with no size limit.
import type { Bundle, FhirResource } from 'fhir/r4.js';
import type { Dispatcher } from 'undici';
import type { FhirServerEntry } from '../config.js';
import { BaseUrlAllowList, isUnderBase, normalizeBaseUrl } from '../net/allow-list.js';
import { send, TransportError } from '../net/bounded-http.js';

export { normalizeBaseUrl };

/**
 * `unavailable`: the server answered 429 or 503 (busy, or down for maintenance). It is not retried
 * here: a hook has about half a second, Retry-After is given in seconds, and retrying at once adds
 * load to a server that asked for less; the assessment reports the chart as unavailable and the
 * next hook call (or the batch's next run) asks again.
 */
export type FhirErrorKind = 'not-allowed' | 'timeout' | 'network' | 'tls' | 'http' | 'unavailable' | 'too-large' | 'invalid-response';

export class FhirRequestError extends Error {
  override name = 'FhirRequestError';
  constructor(
    readonly kind: FhirErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface FhirRequestOptions {
  /** The caller's deadline: aborting it abandons the request (reported as `timeout`), on top of the per-request timeout. */
  signal?: AbortSignal;
}

export interface FhirClient {
  readonly baseUrl: string;
  /** GET a relative URL (`Patient/1`, `Observation?patient=1`); searchset Bundles are completed by following `next` links up to the page cap. */
  get(relativeUrl: string, options?: FhirRequestOptions): Promise<FhirResource>;
}

/** One page of a search, for walks that page at their own pace (batch scoring). */
export interface SearchPage {
  bundle: Bundle;
  /** The page's `next` link made relative to the server's base (checked to stay on the server), or null on the last page. */
  next: string | null;
}

export interface CreateOptions extends FhirRequestOptions {
  /** Conditional create: a search (`identifier=<system>|<value>`) that finds an existing copy, in which case nothing is created. */
  ifNoneExist?: string;
}

export interface CreateResult {
  /** False when a conditional create found the resource already there (the server answered 200, not 201). */
  created: boolean;
}

/** A client that also pages searches one at a time and creates resources (batch scoring's write-back). */
export interface FhirRestClient extends FhirClient {
  /** GET one searchset page at a relative URL (a query, or a `next` from an earlier page); no further pages are followed. */
  searchPage(relativeUrl: string, options?: FhirRequestOptions): Promise<SearchPage>;
  /** POST the resource to its type's endpoint; with `ifNoneExist`, a conditional create. */
  create(resource: FhirResource, options?: CreateOptions): Promise<CreateResult>;
}

/** The default of `fhir.maxResponseBytes`: a page of 200 Observations is about 200 kB, a whole unpaged 5,000-Observation chart under 4 MB. */
export const DEFAULT_FHIR_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface FhirClientFactoryOptions {
  servers: readonly FhirServerEntry[];
  timeoutMs: number;
  maxPages: number;
  /** Largest answer accepted, counted while it streams (one page of a search); DEFAULT_FHIR_MAX_RESPONSE_BYTES if left out. */
  maxResponseBytes?: number;
  /** undici dispatcher (connection pool); the global one by default. */
  dispatcher?: Dispatcher;
}

export class FhirClientFactory {
  private readonly allowed: BaseUrlAllowList<FhirServerEntry>;

  constructor(private readonly options: FhirClientFactoryOptions) {
    this.allowed = new BaseUrlAllowList(options.servers);
  }

  /** True when configuration allows talking to this server (https, or http explicitly allowed; exact match after normalising, see net/allow-list.ts). */
  allows(fhirServer: string): boolean {
    return this.allowed.match(fhirServer) !== undefined;
  }

  /** A client for an allow-listed server; throws FhirRequestError('not-allowed') otherwise, before any I/O. */
  forServer(fhirServer: string, accessToken?: string): FhirRestClient {
    const match = this.allowed.match(fhirServer);
    if (match === undefined) throw new FhirRequestError('not-allowed', 'FHIR server is not on the allow-list');
    return new AllowListedClient(match.baseUrl, accessToken, this.options);
  }
}

class AllowListedClient implements FhirRestClient {
  private readonly maxBytes: number;

  constructor(
    readonly baseUrl: string,
    private readonly accessToken: string | undefined,
    private readonly options: FhirClientFactoryOptions,
  ) {
    this.maxBytes = options.maxResponseBytes ?? DEFAULT_FHIR_MAX_RESPONSE_BYTES;
  }

  async get(relativeUrl: string, options: FhirRequestOptions = {}): Promise<FhirResource> {
    const first = await this.read(this.resolve(relativeUrl), options.signal);
    if (first.resourceType !== 'Bundle' || first.type !== 'searchset') return first;
    return this.completePages(first, options.signal);
  }

  async searchPage(relativeUrl: string, options: FhirRequestOptions = {}): Promise<SearchPage> {
    const bundle = await this.read(this.resolve(relativeUrl), options.signal);
    if (bundle.resourceType !== 'Bundle' || bundle.type !== 'searchset') throw new FhirRequestError('invalid-response', 'search answer is not a searchset Bundle');
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    return { bundle, next: next ? this.relativeToBase(next) : null };
  }

  async create(resource: FhirResource, options: CreateOptions = {}): Promise<CreateResult> {
    if (!/^[A-Z][A-Za-z]+$/.test(resource.resourceType)) throw new TypeError('resource.resourceType is not a FHIR resource type');
    const headers: Record<string, string> = { 'content-type': 'application/fhir+json', prefer: 'return=minimal', ...(options.ifNoneExist ? { 'if-none-exist': options.ifNoneExist } : {}) };
    const { status } = await this.exchange('POST', this.resolve(resource.resourceType), options.signal, { headers, body: JSON.stringify(resource) });
    return { created: status === 201 };
  }

  /** A URL relative to the base, resolved and checked to stay below it (`../` could climb out). */
  private resolve(relativeUrl: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(relativeUrl) || relativeUrl.startsWith('//')) {
      throw new FhirRequestError('not-allowed', 'only URLs relative to the FHIR server are fetched');
    }
    const url = new URL(`${this.baseUrl}/${relativeUrl.replace(/^\/+/, '')}`);
    if (!isUnderBase(url, this.baseUrl)) throw new FhirRequestError('not-allowed', 'only URLs relative to the FHIR server are fetched');
    return url.href;
  }

  /** A `next` link as a URL relative to the base; refuses links to any other server. */
  private relativeToBase(url: string): string {
    if (!isUnderBase(url, this.baseUrl)) throw new FhirRequestError('invalid-response', 'next link points outside the FHIR server');
    const parsed = new URL(url);
    const basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    return `${parsed.pathname.slice(basePath.length).replace(/^\/+/, '')}${parsed.search}`;
  }

  /**
   * Appends the entries of `next` pages, up to maxPages in all, refusing links to any other server.
   * A page that fails fails the whole search: a chart silently cut short would look complete.
   */
  private async completePages(first: Bundle, signal: AbortSignal | undefined): Promise<Bundle> {
    const entries = [...(first.entry ?? [])];
    let page: Bundle = first;
    for (let pages = 1; pages < this.options.maxPages; pages++) {
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next) break;
      if (!isUnderBase(next, this.baseUrl)) throw new FhirRequestError('invalid-response', 'next link points outside the FHIR server');
      const fetched = await this.read(new URL(next).href, signal);
      if (fetched.resourceType !== 'Bundle') throw new FhirRequestError('invalid-response', 'next page is not a Bundle');
      entries.push(...(fetched.entry ?? []));
      page = fetched;
    }
    const { link: _link, ...rest } = first;
    const selfLink = first.link?.filter((l) => l.relation === 'self');
    return { ...rest, ...(selfLink?.length ? { link: selfLink } : {}), entry: entries };
  }

  private async read(url: string, signal: AbortSignal | undefined): Promise<FhirResource> {
    const { body } = await this.exchange('GET', url, signal);
    if (body === null || typeof body !== 'object' || typeof (body as { resourceType?: unknown }).resourceType !== 'string') {
      throw new FhirRequestError('invalid-response', 'FHIR server answered with something that is not a resource');
    }
    return body as FhirResource;
  }

  /** One request to an already checked URL: the status and the parsed JSON body (undefined when empty) of a 2xx answer. */
  private async exchange(
    method: 'GET' | 'POST',
    url: string,
    signal: AbortSignal | undefined,
    payload: { headers: Record<string, string>; body: string } | undefined = undefined,
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/fhir+json', ...payload?.headers };
    if (this.accessToken) headers.authorization = `Bearer ${this.accessToken}`;
    try {
      const response = await send({ method, url, headers, body: payload?.body, timeoutMs: this.options.timeoutMs, signal, dispatcher: this.options.dispatcher });
      if (response.status < 200 || response.status > 299) {
        response.cancel();
        throw statusError(response.status);
      }
      const bytes = await response.bytes(this.maxBytes);
      if (bytes.byteLength === 0) return { status: response.status, body: undefined };
      try {
        return { status: response.status, body: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown };
      } catch {
        throw new FhirRequestError('invalid-response', 'FHIR server answered with a body that is not JSON', response.status);
      }
    } catch (error) {
      throw error instanceof TransportError ? transportFailure(error) : error;
    }
  }
}

function statusError(status: number): FhirRequestError {
  if (status === 429 || status === 503) return new FhirRequestError('unavailable', `FHIR server is busy or unavailable (HTTP ${status})`, status);
  if (status >= 300 && status < 400) return new FhirRequestError('http', `FHIR server answered with a redirect (HTTP ${status}), which is not followed`, status);
  return new FhirRequestError('http', `FHIR server answered ${status}`, status);
}

function transportFailure(error: TransportError): FhirRequestError {
  switch (error.kind) {
    case 'timeout':
    case 'aborted':
      return new FhirRequestError('timeout', `FHIR ${error.message}`);
    case 'too-large':
      return new FhirRequestError('too-large', `FHIR ${error.message}`);
    case 'certificate':
      return new FhirRequestError('tls', `FHIR: ${error.message}`);
    case 'unreachable':
      return new FhirRequestError('network', `FHIR ${error.message}`);
  }
}
