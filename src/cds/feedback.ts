// Feedback (CDS Hooks 2.0.1 §Feedback): validated, stored in one durable transaction, answered 200.
// Items are stored under the service they were sent to; the store joins an item only to a card that
// same service issued, so feedback naming another service's card counts as an unknown card.
import type { FeedbackRecord, Store } from '../store/store.js';
import type { ServiceRegistry } from './service.js';
import { servicesWithId } from './invoke.js';
import { parseFeedback } from './validation.js';

export interface FeedbackDeps {
  registry: ServiceRegistry;
  store: Store;
  clock: () => Date;
}

/** Stores every item of a feedback request; returns the stored records. */
export async function recordFeedback(id: string, body: unknown, deps: FeedbackDeps, clientIss?: string): Promise<FeedbackRecord[]> {
  servicesWithId(deps.registry, id);
  const { feedback } = parseFeedback(body);
  const receivedAt = deps.clock().toISOString();
  const records = feedback.map((item): FeedbackRecord => ({
    serviceId: id,
    card: item.card,
    outcome: item.outcome,
    acceptedSuggestions: (item.acceptedSuggestions ?? []).map((s) => s.id),
    ...(item.overrideReason?.reason ? { overrideReason: item.overrideReason.reason } : {}),
    ...(item.overrideReason?.userComment ? { userComment: item.overrideReason.userComment } : {}),
    outcomeTimestamp: item.outcomeTimestamp,
    receivedAt,
    ...(clientIss ? { clientIss } : {}),
  }));
  await deps.store.saveFeedback(records);
  return records;
}
