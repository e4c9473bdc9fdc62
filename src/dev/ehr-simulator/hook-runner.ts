// Firing a hook as an EHR does: discovery names the services for the hook; for each, the request is
// built (a new hookInstance, the FHIR server, the context with the draft order for order-select) and
// either prefetch filled from the service's templates with the EHR's token, or — without prefetch,
// when a key could not be filled, or when the service asks for none — a read-only
// `fhirAuthorization` for the service to read the chart itself. The services are called in
// parallel; their cards are remembered for what the page does next.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { HookRequest, ServiceDefinition } from '../../cds/types.js';
import type { DraftOrderKind, HookRunResponse, ServiceCall, SimulatedHook } from './api-contract.js';
import type { CardRegistry } from './card-registry.js';
import { CdsClientError, type CdsClient } from './cds-client.js';
import type { EhrFhir } from './ehr-fhir.js';
import { fillPrefetch, type FilledPrefetch } from './prefetch.js';
import { draftOrder, type DraftOrder } from './sample-orders.js';

export interface HookRunnerDeps {
  cds: CdsClient;
  fhir: EhrFhir;
  cards: CardRegistry;
  /** The hook's `context.userId`, e.g. `Practitioner/dr-demo`. */
  userId: string;
  clock: () => Date;
  logger?: Logger;
}

export interface HookRun {
  hook: SimulatedHook;
  patientId: string;
  prefetch: boolean;
  /** order-select only. */
  order?: DraftOrderKind;
}

export const REDACTED = '[redacted]';

/** The request as the page may show it: the access token replaced. */
function redacted(request: HookRequest): unknown {
  if (request.fhirAuthorization === undefined) return request;
  return { ...request, fhirAuthorization: { ...request.fhirAuthorization, access_token: REDACTED } };
}

function contextFor(run: HookRun, userId: string, draft: DraftOrder | undefined): HookRequest['context'] {
  const base = { userId, patientId: run.patientId };
  return draft === undefined ? base : { ...base, selections: draft.selections, draftOrders: draft.draftOrders };
}

async function callService(deps: HookRunnerDeps, run: HookRun, service: ServiceDefinition, context: HookRequest['context']): Promise<ServiceCall> {
  const templates = service.prefetch ?? {};
  const filled: FilledPrefetch = run.prefetch
    ? await fillPrefetch(templates, { patientId: run.patientId, userId: deps.userId }, (url) => deps.fhir.getOrNull(run.patientId, url))
    : { prefetch: {}, unfilled: [] };
  // The service reads the chart itself when nothing (or not everything) it asked for is prefetched.
  const needsAuthorization = !run.prefetch || filled.unfilled.length > 0 || Object.keys(filled.prefetch).length === 0;
  const fhirAuthorization = needsAuthorization ? await deps.fhir.cdsAuthorization(run.patientId) : undefined;
  const request: HookRequest = {
    hook: run.hook,
    hookInstance: randomUUID(),
    fhirServer: deps.fhir.baseUrl,
    ...(fhirAuthorization === undefined ? {} : { fhirAuthorization }),
    context,
    ...(run.prefetch && Object.keys(filled.prefetch).length > 0 ? { prefetch: filled.prefetch } : {}),
  };
  const result = await deps.cds.call(service.id, request);
  deps.logger?.info({ hook: run.hook, serviceId: service.id, status: result.status, durationMs: result.durationMs, cards: result.cards.length }, 'EHR simulator: hook called');
  return {
    serviceId: service.id,
    ...(service.title === undefined ? {} : { title: service.title }),
    status: result.status,
    durationMs: result.durationMs,
    cards: result.cards.map((card) => deps.cards.register(service.id, run.patientId, card)),
    ...(result.error === undefined ? {} : { error: result.error }),
    exchange: {
      url: result.url,
      request: redacted(request),
      jwt: result.jwt,
      response: result.body,
      prefetch: { sent: Object.keys(filled.prefetch).sort(), unfilled: filled.unfilled },
    },
  };
}

export async function runHook(deps: HookRunnerDeps, run: HookRun): Promise<HookRunResponse> {
  const started = performance.now();
  const draft = run.order === undefined ? undefined : draftOrder(run.order, { patientId: run.patientId, userId: deps.userId, now: deps.clock() });
  const answer = (services: ServiceCall[], error?: string): HookRunResponse => ({
    hook: run.hook,
    patientId: run.patientId,
    ...(draft === undefined ? {} : { order: draft.description }),
    prefetchSent: run.prefetch,
    totalMs: Math.round(performance.now() - started),
    services,
    ...(error === undefined ? {} : { error }),
  });

  let services: ServiceDefinition[];
  try {
    services = (await deps.cds.discover()).filter((s) => s.hook === run.hook);
  } catch (error) {
    if (!(error instanceof CdsClientError)) throw error;
    return answer([], error.message);
  }
  if (services.length === 0) return answer([], `No CDS service offers the ${run.hook} hook.`);
  const context = contextFor(run, deps.userId, draft);
  return answer(await Promise.all(services.map((service) => callService(deps, run, service, context))));
}
