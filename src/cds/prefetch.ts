// Prefetch: render a service's templates for one request and fill what the client did not send.
// A key the client sent as null means "no such data" and is never fetched; a missing key or an
// OperationOutcome in its place is fetched from fhirServer (in parallel).
import type { FhirClient } from '../fhir/client.js';
import type { HookRequest, PrefetchValue } from './types.js';

const TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;
const TODAY = /^today\(\)(?:\s*([+-])\s*(\d{1,5})\s*days?)?$/;
const USER_TOKENS: Readonly<Record<string, string>> = {
  userPractitionerId: 'Practitioner',
  userPractitionerRoleId: 'PractitionerRole',
  userPatientId: 'Patient',
  userRelatedPersonId: 'RelatedPerson',
};

/** Why a template token is not a 2.0 token we can fill; undefined when it is. */
function tokenProblem(token: string): string | undefined {
  if (TODAY.test(token) || token in USER_TOKENS) return undefined;
  if (/^context\.[A-Za-z][A-Za-z0-9]*$/.test(token)) return undefined;
  return `unsupported prefetch token {{${token}}} (2.0 allows root-level context fields, user*Id and today())`;
}

/** Checks a template at registration time so a bad one stops start-up instead of failing per request. */
export function templateProblems(template: string): string[] {
  return [...template.matchAll(TOKEN)].flatMap((m) => tokenProblem(m[1] ?? '') ?? []);
}

function isoDate(now: Date, offsetDays: number): string {
  return new Date(now.getTime() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** Values go into URLs: encode them, keeping `/` so `{{context.userId}}` stays a `Type/id` read. */
function encode(value: string): string {
  return encodeURIComponent(value).replaceAll('%2F', '/');
}

function tokenValue(token: string, request: HookRequest, now: Date): string | undefined {
  const today = TODAY.exec(token);
  if (today) return isoDate(now, today[1] ? Number(`${today[1]}${today[2]}`) : 0);
  const context = request.context as unknown as Record<string, unknown>;
  const userType = USER_TOKENS[token];
  if (userType !== undefined) {
    const [type, id] = typeof context.userId === 'string' ? context.userId.split('/') : [];
    return type === userType && id ? encode(id) : undefined;
  }
  const value = context[token.slice('context.'.length)];
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? encode(String(value)) : undefined;
}

/** The rendered query, or undefined when a token has no value in this request (dates are UTC). */
export function renderTemplate(template: string, request: HookRequest, now: Date): string | undefined {
  let missing = false;
  const rendered = template.replace(TOKEN, (_match, token: string) => {
    const value = tokenValue(token, request, now);
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : rendered;
}

export interface PrefetchInput {
  templates: Readonly<Record<string, string>>;
  request: HookRequest;
  /** Client for request.fhirServer with the request's token, or null when the service may not fetch. */
  fhir: FhirClient | null;
  now: Date;
  /** The call's deadline: fetches still running when it fires are abandoned and reported as pending. */
  signal?: AbortSignal;
}

export interface PrefetchResult {
  /** Every key that could be had: a resource, or null for "no such data". Keys that could not be had are absent. */
  values: Record<string, PrefetchValue>;
  /** Keys that were neither sent nor fetched, each with the reason. */
  unobtainable: Record<string, string>;
  /** Keys fetched from the FHIR server. */
  fetched: string[];
  /** Keys whose fetch the deadline cut short: neither had nor known to be unobtainable. */
  pending: string[];
}

export async function resolvePrefetch({ templates, request, fhir, now, signal }: PrefetchInput): Promise<PrefetchResult> {
  const values: Record<string, PrefetchValue> = {};
  const unobtainable: Record<string, string> = {};
  const pending: string[] = [];
  const toFetch: [string, string][] = [];
  for (const [key, template] of Object.entries(templates)) {
    const sent = request.prefetch?.[key];
    if (sent === null || (sent !== undefined && sent.resourceType !== 'OperationOutcome')) {
      values[key] = sent;
      continue;
    }
    const query = renderTemplate(template, request, now);
    if (query === undefined) unobtainable[key] = 'template has a token with no value in this request';
    else if (fhir === null) unobtainable[key] = 'not sent, and no usable fhirServer to fetch it from';
    else toFetch.push([key, query]);
  }
  const fetched: string[] = [];
  await Promise.all(
    toFetch.map(async ([key, query]) => {
      try {
        values[key] = await (fhir as FhirClient).get(query, { signal });
        fetched.push(key);
      } catch (error) {
        if (signal?.aborted) {
          pending.push(key);
          return;
        }
        const { kind, status } = error as { kind?: string; status?: number };
        // A read that the server answers 404 is known-absent data, like a null prefetch.
        if (status === 404 && !query.includes('?')) values[key] = null;
        else unobtainable[key] = `fetch failed (${kind ?? 'error'}${status ? ` ${status}` : ''})`;
      }
    }),
  );
  return { values, unobtainable, fetched, pending };
}
