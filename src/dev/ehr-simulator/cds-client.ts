// A CDS Hooks 2.0.1 client, as an EHR is one: discovery, hook calls and feedback, each with a fresh
// client JWT (ES384, `kid` in the header, `aud` the exact URL called, a 5-minute `exp`, a new `jti`),
// and the service's answers checked against the project's own CDS Hooks schemas before anything is
// shown. The JWT and any fhirAuthorization token go on the wire only, never into logs or errors.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Card, CdsResponse, DiscoveryDocument, FeedbackItem, HookRequest, ServiceDefinition } from '../../cds/types.js';
import { discoveryProblems, responseProblems } from '../../cds/validation.js';
import type { SimulatorKey } from './simulator-key.js';

export interface CdsClientOptions {
  /** Where the services are: `{cdsBaseUrl}/cds-services`. */
  cdsBaseUrl: string;
  key: SimulatorKey;
  /** `sub` of the client JWTs; default the key's iss. */
  subject?: string;
  /** Per call; default 60 s (a cold assessment may be slow outside the hook deadline). */
  timeoutMs?: number;
  /** How long a discovery answer is reused; default 30 s. */
  discoveryTtlMs?: number;
  clock?: () => Date;
}

/** The client JWT, decoded, for the request/response view (its signature is never shown). */
export interface JwtView {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

export interface HookCallResult {
  /** HTTP status, or null when the service could not be reached. */
  status: number | null;
  durationMs: number;
  /** The cards of a conformant 200 answer; empty otherwise. */
  cards: Card[];
  error?: string;
  /** The answer as received: parsed JSON, or the start of the text. */
  body: unknown;
  jwt: JwtView;
  url: string;
}

export interface FeedbackCallResult {
  status: number | null;
  error?: string;
}

export interface CdsClient {
  /** The service endpoint URL, e.g. `…/cds-services/spine-fracture-risk` (the JWT's `aud`). */
  serviceUrl(serviceId: string): string;
  /** Discovery, cached for discoveryTtlMs; throws CdsClientError when it fails or is not conformant. */
  discover(options?: { refresh?: boolean }): Promise<ServiceDefinition[]>;
  call(serviceId: string, request: HookRequest): Promise<HookCallResult>;
  feedback(serviceId: string, items: FeedbackItem[]): Promise<FeedbackCallResult>;
}

/** An answer, or (status null) why there was none. */
type Exchange = { status: number; body: unknown; jwt: JwtView } | { status: null; body: null; jwt: JwtView; failure: string };

export class CdsClientError extends Error {
  override readonly name = 'CdsClientError';
}

const JWT_LIFETIME_SECONDS = 5 * 60;
const NOT_TRUSTED = "the service did not accept the EHR's client JWT: is this EHR's iss and public key in the service's auth.clients?";

/** `HTTP <status>`, with the OperationOutcome's words or, for 401, what to check. */
function httpProblem(status: number, body: unknown): string {
  const why = status === 401 ? NOT_TRUSTED : outcomeText(body);
  return `HTTP ${status}${why ? ` (${why})` : ''}`;
}
const MAX_TEXT = 2000;

function checkOptions(options: CdsClientOptions): void {
  const base = URL.parse(options.cdsBaseUrl);
  if (base === null || (base.protocol !== 'http:' && base.protocol !== 'https:')) throw new TypeError('cdsBaseUrl must be an http(s) URL');
  if (options.key?.alg !== 'ES384' || typeof options.key.kid !== 'string') throw new TypeError('key must be a SimulatorKey');
}

/** An OperationOutcome's first diagnostics or text, else nothing. */
function outcomeText(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== 'OperationOutcome') return undefined;
  const issue = (body as { issue?: unknown }).issue;
  const first: unknown = Array.isArray(issue) ? issue[0] : undefined;
  if (typeof first !== 'object' || first === null) return undefined;
  const { diagnostics, details } = first as { diagnostics?: unknown; details?: { text?: unknown } };
  if (typeof diagnostics === 'string') return diagnostics;
  return typeof details?.text === 'string' ? details.text : undefined;
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs / 1000} s`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? ` (${cause.code})` : '';
  return `could not be reached${code}`;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
  }
}

export function createCdsClient(options: CdsClientOptions): CdsClient {
  checkOptions(options);
  const { key } = options;
  const base = options.cdsBaseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const discoveryTtlMs = options.discoveryTtlMs ?? 30_000;
  const clock = options.clock ?? (() => new Date());
  const discoveryUrl = `${base}/cds-services`;
  const serviceUrl = (serviceId: string): string => `${discoveryUrl}/${encodeURIComponent(serviceId)}`;
  let discovered: { services: ServiceDefinition[]; at: number } | undefined;

  async function clientJwt(aud: string): Promise<{ token: string; view: JwtView }> {
    const iat = Math.floor(clock().getTime() / 1000);
    const header = { alg: key.alg, kid: key.kid, typ: 'JWT' };
    const claims = { iss: key.iss, sub: options.subject ?? key.iss, aud, iat, exp: iat + JWT_LIFETIME_SECONDS, jti: randomUUID() };
    const token = await new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
    return { token, view: { header, claims } };
  }

  /** One authenticated call: the answer's status and parsed body, or why there was none. Never throws for the network. */
  async function send(url: string, body?: unknown): Promise<Exchange> {
    const { token, view } = await clientJwt(url);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.status, body: await readBody(response), jwt: view };
    } catch (error) {
      return { status: null, body: null, jwt: view, failure: describeFailure(error, timeoutMs) };
    }
  }

  return {
    serviceUrl,

    async discover({ refresh = false } = {}) {
      const now = Date.now();
      if (!refresh && discovered && now - discovered.at < discoveryTtlMs) return discovered.services;
      const answer = await send(discoveryUrl);
      if (answer.status === null) throw new CdsClientError(`CDS discovery at ${discoveryUrl}: ${answer.failure}. Is the CDS service running?`);
      if (answer.status !== 200) throw new CdsClientError(`CDS discovery at ${discoveryUrl} answered ${httpProblem(answer.status, answer.body)}.`);
      const problems = discoveryProblems(answer.body);
      if (problems.length > 0) throw new CdsClientError(`CDS discovery at ${discoveryUrl} is not conformant: ${problems.join('; ')}`);
      const { services } = answer.body as DiscoveryDocument;
      discovered = { services, at: now };
      return services;
    },

    async call(serviceId, request) {
      const url = serviceUrl(serviceId);
      const started = performance.now();
      const answer = await send(url, request);
      const durationMs = Math.round(performance.now() - started);
      const result = { status: answer.status, durationMs, body: answer.body, jwt: answer.jwt, url };
      if (answer.status === null) return { ...result, cards: [], error: `The service ${answer.failure}.` };
      if (answer.status !== 200) return { ...result, cards: [], error: `The service answered ${httpProblem(answer.status, answer.body)}.` };
      const problems = responseProblems(answer.body);
      if (problems.length > 0) return { ...result, cards: [], error: `The answer is not a conformant CDS Hooks response: ${problems.join('; ')}.` };
      return { ...result, cards: (answer.body as CdsResponse).cards };
    },

    async feedback(serviceId, items) {
      const answer = await send(`${serviceUrl(serviceId)}/feedback`, { feedback: items });
      if (answer.status === null) return { status: null, error: `The service ${answer.failure}.` };
      if (answer.status === 200) return { status: 200 };
      return { status: answer.status, error: `The service answered ${httpProblem(answer.status, answer.body)}.` };
    },
  };
}
