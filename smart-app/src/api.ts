// The backend calls (src/api/smart-api-contract.ts): the assessment, the what-if, the two images and
// the model card. Every call but the card's carries the SMART token and the FHIR server it was issued
// for; the token goes in a header only, never in a URL, and is never logged. Failures become an
// ApiFailure with the contract's error code (or network / timeout / bad-response).
import type { ApiError, AssessmentResponse, WhatIfRequest } from '../../src/api/smart-api-contract.js';
import type { ModelCard } from '../../src/model/model-card.js';
import type { FailureCode } from './messages.js';

export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly status = 0,
  ) {
    super(message);
  }
}

export interface ApiOptions {
  /** Where the routes live (SmartAppConfig.apiBase), absolute or relative to the page. */
  apiBase: string;
  serverUrl: string;
  token: string;
}

const ERROR_CODES = new Set<string>(['bad-request', 'token-missing', 'token-rejected', 'fhir-not-allowed', 'patient-not-accessible', 'fhir-unavailable', 'not-found', 'image-unavailable', 'busy', 'internal']);

/** The code for an error answer: the body's, else one from the status. */
async function failureOf(response: Response): Promise<ApiFailure> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = (body as Partial<ApiError> | undefined)?.error;
  if (error && typeof error.code === 'string' && ERROR_CODES.has(error.code)) {
    return new ApiFailure(error.code, typeof error.message === 'string' ? error.message : response.statusText, response.status);
  }
  const code: FailureCode = response.status === 401 ? 'token-rejected' : response.status === 403 ? 'patient-not-accessible' : response.status === 404 ? 'not-found' : response.status === 503 ? 'busy' : response.status >= 500 ? 'internal' : 'bad-request';
  return new ApiFailure(code, `${response.status} ${response.statusText}`.trim(), response.status);
}

function isAssessmentResponse(body: unknown): body is AssessmentResponse {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Record<string, unknown>;
  if (b.status === 'not-assessed') return Array.isArray(b.reasons) && typeof b.model === 'object' && b.model !== null;
  if (b.status !== 'assessed' || typeof b.assessment !== 'object' || b.assessment === null) return false;
  const a = b.assessment as Record<string, unknown>;
  const curves = a.curves as Record<string, unknown> | undefined;
  return Array.isArray(a.horizons) && Array.isArray(a.riskFactors) && typeof a.band === 'object' && Array.isArray(curves?.times) && Array.isArray(curves.cumulativeIncidence);
}

export class SmartApi {
  private readonly base: URL;

  constructor(private readonly options: ApiOptions) {
    // A trailing slash so relative paths resolve under apiBase, not beside it.
    this.base = new URL(options.apiBase.replace(/\/?$/, '/'), document.baseURI);
  }

  private headers(accept: string): Headers {
    return new Headers({ Accept: accept, Authorization: `Bearer ${this.options.token}`, 'X-FHIR-Server': this.options.serverUrl });
  }

  private async send(url: URL, init: RequestInit, timeoutMs: number): Promise<Response> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? anySignal([init.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal, credentials: 'omit', cache: 'no-store' });
    } catch (error) {
      if (timeout.aborted) throw new ApiFailure('timeout', `no answer within ${timeoutMs / 1000} s`);
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiFailure('network', error instanceof Error ? error.message : 'network error');
    }
    if (!response.ok) throw await failureOf(response);
    return response;
  }

  private async json(url: URL, init: RequestInit, timeoutMs: number): Promise<AssessmentResponse> {
    const response = await this.send(url, init, timeoutMs);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new ApiFailure('bad-response', 'the answer is not JSON', response.status);
    }
    if (!isAssessmentResponse(body)) throw new ApiFailure('bad-response', 'the answer is not an assessment', response.status);
    return body;
  }

  private patientUrl(patientId: string, path: string): URL {
    return new URL(`patients/${encodeURIComponent(patientId)}/${path}`, this.base);
  }

  /** The chart's assessment: the one the card showed when `context` is given, else the latest. */
  assessment(patientId: string, context: string | null, signal?: AbortSignal): Promise<AssessmentResponse> {
    const url = this.patientUrl(patientId, 'assessment');
    if (context !== null) url.searchParams.set('context', context);
    return this.json(url, { headers: this.headers('application/json'), signal }, 90_000);
  }

  whatIf(patientId: string, request: WhatIfRequest, signal?: AbortSignal): Promise<AssessmentResponse> {
    const headers = this.headers('application/json');
    headers.set('Content-Type', 'application/json');
    return this.json(this.patientUrl(patientId, 'what-if'), { method: 'POST', headers, body: JSON.stringify(request), signal }, 60_000);
  }

  /** radiograph.png or explanation.png, as an object URL the caller revokes. */
  async image(patientId: string, kind: 'radiograph' | 'explanation', signal?: AbortSignal): Promise<string> {
    const response = await this.send(this.patientUrl(patientId, `${kind}.png`), { headers: this.headers('image/png'), signal }, 120_000);
    return URL.createObjectURL(await response.blob());
  }

  /** The model card (public): GET /models/{id} beside the API's base (…/api → …/models). */
  async modelCard(modelId: string, signal?: AbortSignal): Promise<ModelCard> {
    const url = new URL(`../models/${encodeURIComponent(modelId)}`, this.base);
    const response = await fetch(url, { headers: { Accept: 'application/json' }, signal: signal ?? AbortSignal.timeout(30_000), credentials: 'omit' }).catch((error: unknown) => {
      throw new ApiFailure('network', error instanceof Error ? error.message : 'network error');
    });
    if (!response.ok) throw await failureOf(response);
    const card = (await response.json().catch(() => null)) as ModelCard | null;
    if (typeof card !== 'object' || card === null || typeof card.intendedUse !== 'object') throw new ApiFailure('bad-response', 'not a model card');
    return card;
  }
}

/** AbortSignal.any where the browser has it, else a small equivalent. */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const native = (AbortSignal as unknown as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (native) return native(signals);
  const controller = new AbortController();
  for (const s of signals) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}
