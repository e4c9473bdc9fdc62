// JSON Schema checks (ajv) for everything that crosses the CDS Hooks wire, plus the invariants a
// schema cannot express. Schemas are compiled once at import.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import discoverySchema from './schemas/discovery.schema.json' with { type: 'json' };
import feedbackSchema from './schemas/feedback.schema.json' with { type: 'json' };
import requestSchema from './schemas/request.schema.json' with { type: 'json' };
import responseSchema from './schemas/response.schema.json' with { type: 'json' };
import { badRequest } from './outcomes.js';
import type { CdsResponse, DiscoveryDocument, FeedbackRequest, HookRequest } from './types.js';

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
formats.default(ajv, ['uri', 'uuid', 'date-time']);

const validators = {
  request: ajv.compile<HookRequest>(requestSchema),
  response: ajv.compile<CdsResponse>(responseSchema),
  discovery: ajv.compile<DiscoveryDocument>(discoverySchema),
  feedback: ajv.compile<FeedbackRequest>(feedbackSchema),
};

function describe(errors: ErrorObject[] | null | undefined): { message: string; expression: string[] } {
  const first = errors?.[0];
  if (!first) return { message: 'invalid', expression: [] };
  const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)';
  const detail = first.keyword === 'additionalProperties'
    ? `unexpected property "${String(first.params.additionalProperty)}"`
    : first.message ?? 'is invalid';
  return { message: `${path} ${detail}`, expression: [path] };
}

function assertValid<T>(validate: ValidateFunction<T>, body: unknown, what: string): T {
  if (validate(body)) return body;
  const { message, expression } = describe(validate.errors);
  throw badRequest(`Invalid ${what}: ${message}`, expression);
}

/** Schema check of a hook request plus the cross-field rules; throws a 400 OutcomeError. */
export function parseHookRequest(body: unknown): HookRequest {
  const request = assertValid(validators.request, body, 'CDS Hooks request');
  if (request.hook === 'order-select') {
    const { selections, draftOrders } = (request as HookRequest<'order-select'>).context;
    const drafted = new Set(
      (draftOrders.entry ?? []).flatMap((e) => (e.resource?.id ? [`${e.resource.resourceType}/${e.resource.id}`] : [])),
    );
    const stray = selections.find((s) => !drafted.has(s));
    if (stray !== undefined) {
      throw badRequest(`Invalid CDS Hooks request: context.selections names ${stray}, which is not in context.draftOrders`, [
        'context.selections',
      ]);
    }
  }
  return request;
}

export function parseFeedback(body: unknown): FeedbackRequest {
  return assertValid(validators.feedback, body, 'feedback request');
}

function schemaProblems(validate: ValidateFunction, value: unknown): string[] {
  return validate(value) ? [] : [describe(validate.errors).message];
}

/** Problems with a response: schema violations and the 2.0.1 invariants. Empty means conformant. */
export function responseProblems(response: unknown): string[] {
  const problems = schemaProblems(validators.response, response);
  if (problems.length > 0) return problems;
  (response as CdsResponse).cards.forEach((card, c) => {
    const at = `cards[${c}]`;
    const suggestions = card.suggestions ?? [];
    if (suggestions.length > 0 && !card.selectionBehavior) problems.push(`${at} has suggestions but no selectionBehavior`);
    if (card.selectionBehavior === 'at-most-one' && suggestions.filter((s) => s.isRecommended).length > 1) {
      problems.push(`${at} is at-most-one but recommends more than one suggestion`);
    }
    suggestions.forEach((s, i) =>
      (s.actions ?? []).forEach((a, j) => {
        const where = `${at}.suggestions[${i}].actions[${j}]`;
        if (a.type === 'delete' && (!a.resourceId || a.resource)) problems.push(`${where} delete needs resourceId and no resource`);
        if (a.type !== 'delete' && !a.resource) problems.push(`${where} ${a.type} needs a resource`);
      }),
    );
    (card.links ?? []).forEach((l, i) => {
      if (l.appContext !== undefined && l.type !== 'smart') problems.push(`${at}.links[${i}] has appContext on a non-smart link`);
    });
  });
  return problems;
}

export function discoveryProblems(document: unknown): string[] {
  return schemaProblems(validators.discovery, document);
}
