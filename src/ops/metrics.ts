// Prometheus metrics. A registry per app (not prom-client's global) so tests and several apps in one
// process do not collide.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type HookOutcome =
  | 'cards'
  | 'no_cards'
  | 'invalid_request'
  | 'unauthorized'
  | 'not_found'
  | 'precondition_failed'
  | 'too_large'
  | 'unsupported_media_type'
  | 'error';

export interface Metrics {
  readonly registry: Registry;
  readonly hookDuration: Histogram<'service' | 'hook'>;
  readonly hookRequests: Counter<'service' | 'outcome'>;
  readonly feedbackItems: Counter<'service' | 'outcome'>;
}

export function createMetrics(options: { defaultMetrics: boolean }): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    hookDuration: new Histogram({
      name: 'cds_hook_duration_seconds',
      help: 'Time from request arrival to response for CDS service calls',
      labelNames: ['service', 'hook'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    hookRequests: new Counter({
      name: 'cds_hook_requests_total',
      help: 'CDS service calls by outcome',
      labelNames: ['service', 'outcome'],
      registers: [registry],
    }),
    feedbackItems: new Counter({
      name: 'cds_feedback_items_total',
      help: 'Feedback items stored, by card outcome',
      labelNames: ['service', 'outcome'],
      registers: [registry],
    }),
  };
}

export function outcomeForStatus(status: number, cardCount: number): HookOutcome {
  switch (status) {
    case 200:
      return cardCount > 0 ? 'cards' : 'no_cards';
    case 400:
      return 'invalid_request';
    case 401:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 412:
      return 'precondition_failed';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    default:
      return 'error';
  }
}
