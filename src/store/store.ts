// What the service persists. The default implementation is embedded SQLite (sqlite-store.ts); the
// interface is small so that a Postgres implementation can serve several replicas.
import type { Coding } from 'fhir/r4.js';

export interface FeedbackRecord {
  serviceId: string;
  card: string;
  outcome: 'accepted' | 'overridden';
  acceptedSuggestions: string[];
  overrideReason?: Coding;
  userComment?: string;
  outcomeTimestamp: string;
  receivedAt: string;
  /** The authenticated client that sent it (iss), when authentication is on. */
  clientIss?: string;
}

/** A card the service returned, remembered so feedback can be grouped by card topic. */
export interface IssuedCard {
  uuid: string;
  serviceId: string;
  topic?: Coding;
  issuedAt: string;
}

export interface FeedbackSummaryRow {
  serviceId: string;
  /** The card's source.topic code (or display), or "(no topic)", or "(unknown card)" when the card was not issued here. */
  cardTopic: string;
  outcome: 'accepted' | 'overridden';
  /** Override reason code (system|code), "(none given)", or "" for accepted cards. */
  reason: string;
  count: number;
}

export interface Store {
  /** Stores all records durably, or none (one transaction). */
  saveFeedback(records: readonly FeedbackRecord[]): void;
  /** Remembers issued cards; may buffer briefly (losing at most the buffer on a crash). */
  recordIssuedCards(cards: readonly IssuedCard[]): void;
  feedbackSummary(): FeedbackSummaryRow[];
  /** Throws when the store cannot answer. */
  ping(): void;
  close(): void;
}
