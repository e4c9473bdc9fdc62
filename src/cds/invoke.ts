// One service call, from the validated body to a checked response. Plain async function: the HTTP
// layer (routes.ts) only authenticates, parses and sends.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { FhirClient, FhirClientFactory } from '../fhir/client.js';
import type { Store } from '../store/store.js';
import { badRequest, internalError, notFound, preconditionFailed } from './outcomes.js';
import { resolvePrefetch } from './prefetch.js';
import type { CardNote, CdsService, HandlerContext, ServiceRegistry } from './service.js';
import type { CdsResponse, HookRequest } from './types.js';
import { parseHookRequest, responseProblems } from './validation.js';

export interface EngineDeps {
  registry: ServiceRegistry;
  fhirClients: FhirClientFactory;
  store: Store;
  clock: () => Date;
  /** Check every response against the schema and invariants (development mode). */
  checkResponses: boolean;
}

/** Looks up the services registered under `id`; 404 when there are none. */
export function servicesWithId(registry: ServiceRegistry, id: string): readonly CdsService[] {
  const services = registry.withId(id);
  if (services.length === 0) throw notFound(`No CDS service with id "${id}"`);
  return services;
}

function fhirClientFor(request: HookRequest, factory: FhirClientFactory, log: Logger): FhirClient | null {
  if (!request.fhirServer) return null;
  if (!factory.allows(request.fhirServer)) {
    // Never fetched: refusing unknown servers is what keeps the service from being used for SSRF.
    log.warn({ fhirServerHost: new URL(request.fhirServer).host }, 'fhirServer is not allow-listed; no FHIR access for this call');
    return null;
  }
  return factory.forServer(request.fhirServer, request.fhirAuthorization?.access_token);
}

/** Gives every card and suggestion a uuid so feedback can refer to them. */
function withUuids(response: CdsResponse): CdsResponse {
  return {
    ...response,
    cards: response.cards.map((card) => ({
      ...card,
      uuid: card.uuid ?? randomUUID(),
      ...(card.suggestions ? { suggestions: card.suggestions.map((s) => ({ ...s, uuid: s.uuid ?? randomUUID() })) } : {}),
    })),
  };
}

/** A signal that never fires, for services without a deadline. */
const NO_DEADLINE = new AbortController().signal;

export async function invokeService(
  id: string,
  body: unknown,
  deps: EngineDeps,
  logger: Logger,
  baseUrl: string,
  onParsed: (request: HookRequest) => void = () => undefined,
): Promise<CdsResponse> {
  const candidates = servicesWithId(deps.registry, id);
  const request = parseHookRequest(body);
  onParsed(request);
  const log = logger.child({ reqId: request.hookInstance });
  const service = candidates.find((s) => s.definition.hook === request.hook);
  if (!service) throw badRequest(`CDS service "${id}" does not serve hook "${request.hook}"`, ['hook']);

  const signal = service.deadlineMs === undefined ? NO_DEADLINE : AbortSignal.timeout(service.deadlineMs);
  const now = deps.clock();
  const fhir = fhirClientFor(request, deps.fhirClients, log);
  const prefetch = await resolvePrefetch({ templates: service.definition.prefetch ?? {}, request, fhir, now, signal });
  const missing = (service.requiredPrefetch ?? []).filter((key) => key in prefetch.unobtainable);
  if (missing.length > 0) {
    log.info({ missing: Object.fromEntries(missing.map((k) => [k, prefetch.unobtainable[k]])) }, 'required prefetch unobtainable');
    throw preconditionFailed(`Required prefetch data could not be obtained: ${missing.join(', ')}`);
  }
  if (prefetch.fetched.length > 0) log.debug({ fetched: prefetch.fetched }, 'prefetch keys fetched from fhirServer');
  if (prefetch.pending.length > 0) log.info({ pending: prefetch.pending }, 'prefetch fetches still running at the deadline');

  const notes = new Map<string, CardNote>();
  const context: HandlerContext = {
    request,
    prefetch: prefetch.values,
    pendingPrefetch: prefetch.pending,
    fhir,
    signal,
    baseUrl,
    logger: log,
    now,
    noteCard: (uuid, note) => notes.set(uuid, note),
  };
  const response = withUuids(await service.handle(context));
  if (deps.checkResponses) {
    const problems = responseProblems(response);
    if (problems.length > 0) {
      log.error({ problems }, 'service returned a non-conformant response');
      throw internalError();
    }
  }
  const issuedAt = now.toISOString();
  deps.store.recordIssuedCards(
    response.cards.map((card) => ({ uuid: card.uuid as string, serviceId: id, topic: card.source.topic, issuedAt, ...notes.get(card.uuid as string) })),
  );
  return response;
}
