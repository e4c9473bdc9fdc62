// The page's calls to its own server (same origin, JSON). A failure is an ApiCallError with the
// server's message, or a network error said in words.
import type {
  ApiErrorBody,
  ApplyBody,
  ApplyResponse,
  ChartSummary,
  DraftOrderKind,
  FeedbackBody,
  FeedbackResult,
  HookRunResponse,
  LaunchBody,
  LaunchResponse,
  SessionResponse,
} from '../api-contract.js';

export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(
    readonly status: number | null,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiCallError(null, 'network', 'The EHR simulator could not be reached. Is the demo still running?');
  }
  const parsed: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (parsed as Partial<ApiErrorBody> | null)?.error;
    throw new ApiCallError(response.status, error?.code ?? 'http', error?.message ?? `The EHR simulator answered HTTP ${response.status}.`);
  }
  return parsed as T;
}

const patientPath = (id: string): string => `/api/patients/${encodeURIComponent(id)}`;

export const api = {
  session: (): Promise<SessionResponse> => call('GET', '/api/session'),
  summary: (patientId: string): Promise<ChartSummary> => call('GET', `${patientPath(patientId)}/summary`),
  patientView: (patientId: string, prefetch: boolean): Promise<HookRunResponse> => call('POST', `${patientPath(patientId)}/hooks/patient-view`, { prefetch }),
  orderSelect: (patientId: string, order: DraftOrderKind, prefetch: boolean): Promise<HookRunResponse> =>
    call('POST', `${patientPath(patientId)}/hooks/order-select`, { order, prefetch }),
  apply: (body: ApplyBody): Promise<ApplyResponse> => call('POST', '/api/suggestions/apply', body),
  feedback: (body: FeedbackBody): Promise<FeedbackResult> => call('POST', '/api/feedback', body),
  launch: (body: LaunchBody): Promise<LaunchResponse> => call('POST', '/api/launch', body),
};
