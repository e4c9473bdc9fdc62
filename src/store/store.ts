// What the service persists. The default implementation is embedded SQLite (sqlite-store.ts); the
// interface is asynchronous and small so that a Postgres implementation can serve several replicas.
// The store knows nothing clinical: assessments and radiograph choices arrive as JSON text with the
// few columns it indexes.
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

/** A card the service returned, remembered so feedback can be grouped by card topic and risk band. */
export interface IssuedCard {
  uuid: string;
  serviceId: string;
  topic?: Coding;
  issuedAt: string;
  /** The assessment the card reports, when it reports one. */
  assessmentKey?: string;
  /** Its risk band name (e.g. `high`). */
  band?: string;
}

export interface FeedbackSummaryRow {
  serviceId: string;
  /** The card's source.topic code (or display), or "(no topic)", or "(unknown card)" when the card was not issued here. */
  cardTopic: string;
  /** The risk band of the card's assessment, or "" when the card reports none (or is unknown). */
  band: string;
  outcome: 'accepted' | 'overridden';
  /** Override reason code (system|code), "(none given)", or "" for accepted cards. */
  reason: string;
  count: number;
}

/** An assessment as stored: the indexed columns and the whole object as JSON. */
export interface StoredAssessment {
  /** The cache key: a hash of everything that determines the assessment. */
  key: string;
  patientId: string;
  fhirServer: string | null;
  modelId: string;
  modelVersion: string;
  /** ISO 8601. */
  computedAt: string;
  json: string;
}

/** A cached choice of radiograph for a set of candidate series (JSON the assessment layer defines). */
export interface StoredSelection {
  fingerprint: string;
  json: string;
  createdAt: string;
}

/** A token id to remember until its token can no longer be accepted (times in whole seconds since the epoch). */
export interface TokenIdClaim {
  /** The client that signed the token. */
  issuer: string;
  /** Its `jti`. */
  id: string;
  /** The first second at which the token is refused anyway (expired or too old): the id may be forgotten then. */
  expiresAt: number;
  now: number;
  /** Most unexpired ids remembered for one issuer. */
  limit: number;
}

/** `claimed`: first use, now remembered; `replayed`: already remembered; `full`: the issuer is at its limit, nothing remembered. */
export type TokenIdOutcome = 'claimed' | 'replayed' | 'full';

/**
 * The store cannot answer now (locked by another writer past the busy timeout, disk full, read-only,
 * I/O error): a condition of the host, not of the request, answered 503 and shown by /readyz.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  /** The storage engine's error code (e.g. `SQLITE_FULL`), for logs. */
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface Store {
  /** Stores all records durably, or none (one transaction). */
  saveFeedback(records: readonly FeedbackRecord[]): Promise<void>;
  /** Remembers issued cards; may buffer briefly (losing at most the buffer on a crash). */
  recordIssuedCards(cards: readonly IssuedCard[]): void;
  feedbackSummary(): Promise<FeedbackSummaryRow[]>;
  /**
   * The assessment stored under `key`, or null. An entry whose checksum does not match what was
   * written (a torn or tampered row) is deleted and reported as absent, never returned.
   */
  getAssessment(key: string): Promise<StoredAssessment | null>;
  /** Stores durably; a second put under the same key replaces the first. */
  putAssessment(assessment: StoredAssessment): Promise<void>;
  /** Every stored assessment, oldest first (for evaluation against later outcomes). */
  listAssessments(filter?: { modelId?: string }): Promise<StoredAssessment[]>;
  /** Like getAssessment, for radiograph choices. */
  getSelection(fingerprint: string): Promise<StoredSelection | null>;
  putSelection(selection: StoredSelection): Promise<void>;
  /**
   * Remembers a token id (replay protection) unless it is already remembered or its issuer is at its
   * limit. Ids are never forgotten before `expiresAt`, whatever the load; they survive a restart.
   */
  claimTokenId(claim: TokenIdClaim): Promise<TokenIdOutcome>;
  /** Rejects (StoreUnavailableError) when the store cannot answer or cannot take writes (read-only, nearly full). */
  ping(): Promise<void>;
  close(): void;
}
