// The page's requests, checked field by field before anything acts on them: objects with exactly the
// documented fields, strings of bounded length and shape. A bad request is an ApiError (400) whose
// message names the field.
import type { ApplyBody, DraftOrderKind, FeedbackBody, LaunchBody, OrderSelectBody, PatientViewBody } from './api-contract.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string): ApiError => new ApiError(400, 'invalid-request', message);

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const SERVICE_ID = /^[A-Za-z0-9\-._~]{1,128}$/;
const CARD_KEY = /^[A-Za-z0-9-]{1,128}$/;
const SUGGESTION_KEY = /^(?:[A-Za-z0-9-]{1,128}|#\d{1,3})$/;
const MAX_COMMENT = 4000;
const MAX_APP_CONTEXT = 8192;

type Fields = Record<string, unknown>;

function objectWith(body: unknown, allowed: readonly string[]): Fields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be a JSON object');
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw invalid(`unknown fields: ${unknown.join(', ')}`);
  return body as Fields;
}

function matching(fields: Fields, name: string, pattern: RegExp): string {
  const value = fields[name];
  if (typeof value !== 'string' || !pattern.test(value)) throw invalid(`${name} is missing or malformed`);
  return value;
}

function bool(fields: Fields, name: string): boolean {
  const value = fields[name];
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false`);
  return value;
}

export function patientIdParam(value: unknown): string {
  if (typeof value !== 'string' || !FHIR_ID.test(value)) throw invalid('the patient id is malformed');
  return value;
}

export function parsePatientView(body: unknown): PatientViewBody {
  return { prefetch: bool(objectWith(body, ['prefetch']), 'prefetch') };
}

export function parseOrderSelect(body: unknown): OrderSelectBody {
  const fields = objectWith(body, ['order', 'prefetch']);
  const order = fields.order;
  if (order !== 'glucocorticoid' && order !== 'dxa') throw invalid('order must be "glucocorticoid" or "dxa"');
  return { order: order satisfies DraftOrderKind, prefetch: bool(fields, 'prefetch') };
}

export function parseApply(body: unknown): ApplyBody {
  const fields = objectWith(body, ['serviceId', 'cardUuid', 'suggestionUuid']);
  return {
    serviceId: matching(fields, 'serviceId', SERVICE_ID),
    cardUuid: matching(fields, 'cardUuid', CARD_KEY),
    suggestionUuid: matching(fields, 'suggestionUuid', SUGGESTION_KEY),
  };
}

export function parseFeedback(body: unknown): FeedbackBody {
  const fields = objectWith(body, ['serviceId', 'cardUuid', 'outcome', 'acceptedSuggestions', 'reasonCode', 'comment']);
  const serviceId = matching(fields, 'serviceId', SERVICE_ID);
  const cardUuid = matching(fields, 'cardUuid', CARD_KEY);
  if (fields.outcome === 'accepted') {
    const accepted = fields.acceptedSuggestions;
    if (!Array.isArray(accepted) || accepted.length === 0 || accepted.length > 100 || !accepted.every((s) => typeof s === 'string' && CARD_KEY.test(s))) {
      throw invalid('acceptedSuggestions must list suggestion uuids');
    }
    if (fields.reasonCode !== undefined || fields.comment !== undefined) throw invalid('an accepted card has no override reason');
    return { serviceId, cardUuid, outcome: 'accepted', acceptedSuggestions: accepted as string[] };
  }
  if (fields.outcome !== 'overridden') throw invalid('outcome must be "accepted" or "overridden"');
  if (fields.acceptedSuggestions !== undefined) throw invalid('an overridden card has no accepted suggestions');
  const { reasonCode, comment } = fields;
  if (reasonCode !== undefined && (typeof reasonCode !== 'string' || reasonCode.length === 0 || reasonCode.length > 256)) throw invalid('reasonCode is malformed');
  if (comment !== undefined && (typeof comment !== 'string' || comment.length > MAX_COMMENT)) throw invalid(`comment must be a string of at most ${MAX_COMMENT} characters`);
  const trimmed = typeof comment === 'string' ? comment.trim() : '';
  return {
    serviceId,
    cardUuid,
    outcome: 'overridden',
    ...(typeof reasonCode === 'string' ? { reasonCode } : {}),
    ...(trimmed === '' ? {} : { comment: trimmed }),
  };
}

export function parseLaunch(body: unknown): LaunchBody {
  const fields = objectWith(body, ['patientId', 'url', 'appContext']);
  const patientId = patientIdParam(fields.patientId);
  const url = fields.url;
  const parsed = typeof url === 'string' ? URL.parse(url) : null;
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || (url as string).length > 2048) throw invalid('url must be an http(s) URL');
  const { appContext } = fields;
  if (appContext !== undefined && (typeof appContext !== 'string' || appContext.length === 0 || appContext.length > MAX_APP_CONTEXT)) {
    throw invalid(`appContext must be a non-empty string of at most ${MAX_APP_CONTEXT} characters`);
  }
  return { patientId, url: url as string, ...(typeof appContext === 'string' ? { appContext } : {}) };
}
