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
  forServer(fhirServer: string, accessToken?: string): FhirClient {
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

class AllowListedClient implements FhirClient {
  private readonly client: Client;

  constructor(
    readonly baseUrl: string,
    accessToken: string | undefined,
    private readonly options: FhirClientFactoryOptions,
  ) {
    this.client = new Client(accessToken ? { baseUrl, bearerToken: accessToken } : { baseUrl });
  }

  async get(relativeUrl: string, options: FhirRequestOptions = {}): Promise<FhirResource> {
    if (/^[a-z][a-z0-9+.-]*:/i.test(relativeUrl) || relativeUrl.startsWith('//')) {
      throw new FhirRequestError('not-allowed', 'only URLs relative to the FHIR server are fetched');
    }
    const first = await this.fetch(relativeUrl, options.signal);
    if (first.resourceType !== 'Bundle' || first.type !== 'searchset') return first;
    return this.completePages(first, options.signal);
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
