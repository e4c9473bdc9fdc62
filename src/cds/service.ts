// What a CDS service is to the engine, and the registry that serves discovery and dispatch.
// Services live in cds-services/<name>/; the engine knows only this contract.
import type { Logger } from 'pino';
import type { FhirClient } from '../fhir/client.js';
import { templateProblems } from './prefetch.js';
import type { CdsResponse, DiscoveryDocument, HookName, HookRequest, PrefetchValue, ServiceDefinition } from './types.js';
import { HOOKS } from './types.js';
import { discoveryProblems } from './validation.js';

/** What the issued-card index remembers about a card beyond its service and topic (for feedback reports). */
export interface CardNote {
  assessmentKey?: string;
  band?: string;
}

export interface HandlerContext<H extends HookName = HookName> {
  request: HookRequest<H>;
  /** Prefetch after filling: a resource, null (no such data), or absent (could not be had, or still pending at the deadline). */
  prefetch: Readonly<Record<string, PrefetchValue>>;
  /** Keys whose fetch from fhirServer the deadline cut short (absent from `prefetch`); the service may fetch them itself. */
  pendingPrefetch: readonly string[];
  /** Client for the request's fhirServer with its token; null when there is none or it is not allow-listed. */
  fhir: FhirClient | null;
  /** Fires at the service's deadline (never, for a service without one). */
  signal: AbortSignal;
  /** The base URL clients call this service at (configured, else derived from the request), for links in cards. */
  baseUrl: string;
  logger: Logger;
  now: Date;
  /** Records what a card (by uuid) is about in the issued-card index. */
  noteCard(uuid: string, note: CardNote): void;
}

export interface CdsService<H extends HookName = HookName> {
  definition: ServiceDefinition & { hook: H };
  /** Prefetch keys without which the service cannot answer: when one cannot be had the engine answers 412. */
  requiredPrefetch?: readonly string[];
  /**
   * Time from the start of the call within which the service answers. Prefetch fetches still running
   * then are abandoned (`pendingPrefetch`) and `signal` fires; the service answers with what it has.
   */
  deadlineMs?: number;
  handle(context: HandlerContext<H>): Promise<CdsResponse>;
}

/** What a service id may be: one plain path segment, so its URL needs no percent-encoding (routes.ts refuses any other). */
export const SERVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class ServiceRegistryError extends Error {
  override name = 'ServiceRegistryError';
}

export class ServiceRegistry {
  private readonly byId = new Map<string, CdsService[]>();
  private readonly document: DiscoveryDocument;

  /** Validates every service up front: a bad definition stops start-up with a message naming it. */
  constructor(services: readonly CdsService[]) {
    for (const service of services) {
      const { id, hook, prefetch = {} } = service.definition;
      const fail = (problem: string): never => {
        throw new ServiceRegistryError(`CDS service "${id}" (${hook}): ${problem}`);
      };
      if (!SERVICE_ID_PATTERN.test(id)) fail(`the id must match ${String(SERVICE_ID_PATTERN)}`);
      if (!(HOOKS as readonly string[]).includes(hook)) fail(`hook "${hook}" is not supported`);
      const sameId = this.byId.get(id) ?? [];
      if (sameId.some((s) => s.definition.hook === hook)) fail('is registered twice for the same hook');
      for (const [key, template] of Object.entries(prefetch)) {
        const problems = templateProblems(template);
        if (problems.length > 0) fail(`prefetch "${key}": ${problems.join('; ')}`);
      }
      for (const key of service.requiredPrefetch ?? []) {
        if (!(key in prefetch)) fail(`required prefetch key "${key}" has no template`);
      }
      this.byId.set(id, [...sameId, service]);
    }
    this.document = { services: services.map((s) => s.definition) };
    const problems = discoveryProblems(this.document);
    if (problems.length > 0) throw new ServiceRegistryError(`discovery document is invalid: ${problems.join('; ')}`);
  }

  discovery(): DiscoveryDocument {
    return this.document;
  }

  /** All services registered under an id (one per hook); empty when the id is unknown. */
  withId(id: string): readonly CdsService[] {
    return this.byId.get(id) ?? [];
  }
}
