// FHIR REST access for the service: only allow-listed servers, a timeout on every request, bounded
// paging that never leaves the server, and errors that carry a kind and status but never the URL
// (URLs hold patient ids) or the token.
import { Client } from 'fhir-kit-client';
import type { Bundle, FhirResource } from 'fhir/r4.js';
import type { FhirServerEntry } from '../config.js';

export type FhirErrorKind = 'not-allowed' | 'timeout' | 'network' | 'http' | 'invalid-response';

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

export interface FhirClientFactoryOptions {
  servers: readonly FhirServerEntry[];
  timeoutMs: number;
  maxPages: number;
}

/** Canonical form for comparing server URLs: no credentials, query, fragment or trailing slash. */
export function normalizeBaseUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.username || parsed.password) return undefined;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
}

export class FhirClientFactory {
  private readonly allowed: ReadonlySet<string>;

  constructor(private readonly options: FhirClientFactoryOptions) {
    this.allowed = new Set(options.servers.flatMap((s) => normalizeBaseUrl(s.baseUrl) ?? []));
  }

  /** True when configuration allows talking to this server (https, or http explicitly allowed). */
  allows(fhirServer: string): boolean {
    const normalized = normalizeBaseUrl(fhirServer);
    return normalized !== undefined && this.allowed.has(normalized);
  }

  /** A client for an allow-listed server; throws FhirRequestError('not-allowed') otherwise, before any I/O. */
  forServer(fhirServer: string, accessToken?: string): FhirRestClient {
    const baseUrl = normalizeBaseUrl(fhirServer);
    if (baseUrl === undefined || !this.allowed.has(baseUrl)) {
      throw new FhirRequestError('not-allowed', 'FHIR server is not on the allow-list');
    }
    return new AllowListedClient(baseUrl, accessToken, this.options);
  }
}

interface ResponseError {
  response?: { status?: number };
}

class AllowListedClient implements FhirRestClient {
  private readonly client: Client;

  constructor(
    readonly baseUrl: string,
    accessToken: string | undefined,
    private readonly options: FhirClientFactoryOptions,
  ) {
    this.client = new Client(accessToken ? { baseUrl, bearerToken: accessToken } : { baseUrl });
  }

  async get(relativeUrl: string, options: FhirRequestOptions = {}): Promise<FhirResource> {
    assertRelative(relativeUrl);
    const first = await this.fetch(relativeUrl, options.signal);
    if (first.resourceType !== 'Bundle' || first.type !== 'searchset') return first;
    return this.completePages(first, options.signal);
  }

  async searchPage(relativeUrl: string, options: FhirRequestOptions = {}): Promise<SearchPage> {
    assertRelative(relativeUrl);
    // A relative URL can still climb out of the base path (`../`): resolve it and check.
    if (!this.isOnServer(new URL(relativeUrl, `${this.baseUrl}/`).href)) {
      throw new FhirRequestError('not-allowed', 'only URLs relative to the FHIR server are fetched');
    }
    const bundle = await this.fetch(relativeUrl, options.signal);
    if (bundle.resourceType !== 'Bundle' || bundle.type !== 'searchset') throw new FhirRequestError('invalid-response', 'search answer is not a searchset Bundle');
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    return { bundle, next: next ? this.relativeToBase(next) : null };
  }

  async create(resource: FhirResource, options: CreateOptions = {}): Promise<CreateResult> {
    if (!/^[A-Z][A-Za-z]+$/.test(resource.resourceType)) throw new TypeError('resource.resourceType is not a FHIR resource type');
    const headers: Record<string, string> = { 'content-type': 'application/fhir+json', prefer: 'return=minimal', ...(options.ifNoneExist ? { 'if-none-exist': options.ifNoneExist } : {}) };
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    let result: Awaited<ReturnType<Client['request']>>;
    try {
      result = await this.client.request(resource.resourceType, {
        method: 'POST',
        body: resource,
        options: { headers, signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout },
      });
    } catch (error) {
      throw classify(error);
    }
    const status = Client.httpFor(result).response?.status;
    return { created: status === 201 };
  }

  /** A `next` link as a URL relative to the base; refuses links to any other server. */
  private relativeToBase(url: string): string {
    if (!this.isOnServer(url)) throw new FhirRequestError('invalid-response', 'next link points outside the FHIR server');
    const parsed = new URL(url);
    const basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    return `${parsed.pathname.slice(basePath.length).replace(/^\/+/, '')}${parsed.search}`;
  }

  /** Appends the entries of `next` pages, up to maxPages in all, refusing links to any other server. */
  private async completePages(first: Bundle, signal: AbortSignal | undefined): Promise<Bundle> {
    const entries = [...(first.entry ?? [])];
    let page: Bundle = first;
    for (let pages = 1; pages < this.options.maxPages; pages++) {
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next) break;
      if (!this.isOnServer(next)) throw new FhirRequestError('invalid-response', 'next link points outside the FHIR server');
      const fetched = await this.fetch(next, signal);
      if (fetched.resourceType !== 'Bundle') throw new FhirRequestError('invalid-response', 'next page is not a Bundle');
      entries.push(...(fetched.entry ?? []));
      page = fetched;
    }
    const { link: _link, ...rest } = first;
    const selfLink = first.link?.filter((l) => l.relation === 'self');
    return { ...rest, ...(selfLink?.length ? { link: selfLink } : {}), entry: entries };
  }

  private isOnServer(url: string): boolean {
    try {
      const parsed = new URL(url);
      const path = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
      return !parsed.username && !parsed.password && (path === this.baseUrl || path.startsWith(`${this.baseUrl}/`));
    } catch {
      return false;
    }
  }

  private async fetch(url: string, deadline: AbortSignal | undefined): Promise<FhirResource> {
    let result: unknown;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      result = await this.client.request(url, { options: { signal: deadline ? AbortSignal.any([timeout, deadline]) : timeout } });
    } catch (error) {
      throw classify(error);
    }
    if (result === null || typeof result !== 'object' || typeof (result as { resourceType?: unknown }).resourceType !== 'string') {
      throw new FhirRequestError('invalid-response', 'FHIR server answered with something that is not a resource');
    }
    return result as FhirResource;
  }
}

function assertRelative(url: string): void {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) {
    throw new FhirRequestError('not-allowed', 'only URLs relative to the FHIR server are fetched');
  }
}

function classify(error: unknown): FhirRequestError {
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return new FhirRequestError('timeout', 'FHIR request timed out');
  const status = (error as ResponseError | undefined)?.response?.status;
  if (typeof status === 'number') {
    return status >= 200 && status < 300
      ? new FhirRequestError('invalid-response', 'FHIR server answered with a body that is not JSON', status)
      : new FhirRequestError('http', `FHIR server answered ${status}`, status);
  }
  return new FhirRequestError('network', 'FHIR server could not be reached');
}
