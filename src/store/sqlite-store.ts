// Embedded SQLite store (better-sqlite3), WAL journals, two files:
// - `<path>` holds feedback, written with synchronous=FULL so an acknowledged feedback survives a crash
//   or power loss;
// - `<path minus .sqlite>-issued-cards.sqlite` indexes the cards we returned (uuid → service, topic).
//   It is written on the hook path at hook rates, so in batches and with synchronous=OFF: any fsync
//   there (per commit, or in the WAL checkpoints) stalled the event loop for up to ~100 ms in the hook
//   benchmark. A power loss may lose or corrupt this index only; a corrupt one is recreated at start,
//   and feedback on its cards then counts as "(unknown card)".
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { FeedbackRecord, FeedbackSummaryRow, IssuedCard, Store } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY,
  service_id TEXT NOT NULL,
  card_uuid TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
  accepted_suggestions TEXT NOT NULL,
  reason_system TEXT,
  reason_code TEXT,
  reason_display TEXT,
  user_comment TEXT,
  outcome_timestamp TEXT NOT NULL,
  received_at TEXT NOT NULL,
  client_iss TEXT
);
CREATE INDEX IF NOT EXISTS feedback_card ON feedback (card_uuid);
`;

const CARD_SCHEMA = `
CREATE TABLE IF NOT EXISTS issued_card (
  uuid TEXT PRIMARY KEY,
  service_id TEXT NOT NULL,
  topic_system TEXT,
  topic_code TEXT,
  topic_display TEXT,
  issued_at TEXT NOT NULL
);
`;

export interface SqliteStoreOptions {
  /** The feedback database file; the issued-card index lives beside it. */
  path: string;
  /** Issued cards are flushed when this many are buffered, or after flushIntervalMs. */
  flushBatchSize?: number;
  flushIntervalMs?: number;
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly cardDb: Database.Database;
  private readonly insertFeedback: Database.Statement;
  private readonly insertCard: Database.Statement;
  private readonly saveAll: (records: readonly FeedbackRecord[]) => void;
  private readonly flushCards: (cards: readonly IssuedCard[]) => void;
  private pending: IssuedCard[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly batchSize: number;
  private readonly intervalMs: number;

  constructor(options: SqliteStoreOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    const cardPath = issuedCardsPath(options.path);
    this.cardDb = openIssuedCards(cardPath);
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.db.prepare('ATTACH DATABASE ? AS cards').run(cardPath);
    this.batchSize = options.flushBatchSize ?? 500;
    this.intervalMs = options.flushIntervalMs ?? 200;
    this.insertFeedback = this.db.prepare(`INSERT INTO feedback
      (service_id, card_uuid, outcome, accepted_suggestions, reason_system, reason_code, reason_display, user_comment,
       outcome_timestamp, received_at, client_iss)
      VALUES (@serviceId, @card, @outcome, @acceptedSuggestions, @reasonSystem, @reasonCode, @reasonDisplay, @userComment,
       @outcomeTimestamp, @receivedAt, @clientIss)`);
    this.insertCard = this.cardDb.prepare(`INSERT OR IGNORE INTO issued_card
      (uuid, service_id, topic_system, topic_code, topic_display, issued_at)
      VALUES (@uuid, @serviceId, @topicSystem, @topicCode, @topicDisplay, @issuedAt)`);
    this.saveAll = this.db.transaction((records: readonly FeedbackRecord[]) => {
      for (const r of records) {
        this.insertFeedback.run({
          serviceId: r.serviceId,
          card: r.card,
          outcome: r.outcome,
          acceptedSuggestions: JSON.stringify(r.acceptedSuggestions),
          reasonSystem: r.overrideReason?.system ?? null,
          reasonCode: r.overrideReason?.code ?? null,
          reasonDisplay: r.overrideReason?.display ?? null,
          userComment: r.userComment ?? null,
          outcomeTimestamp: r.outcomeTimestamp,
          receivedAt: r.receivedAt,
          clientIss: r.clientIss ?? null,
        });
      }
    });
    this.flushCards = this.cardDb.transaction((cards: readonly IssuedCard[]) => {
      for (const c of cards) {
        this.insertCard.run({
          uuid: c.uuid,
          serviceId: c.serviceId,
          topicSystem: c.topic?.system ?? null,
          topicCode: c.topic?.code ?? null,
          topicDisplay: c.topic?.display ?? null,
          issuedAt: c.issuedAt,
        });
      }
    });
  }

  saveFeedback(records: readonly FeedbackRecord[]): void {
    this.saveAll(records);
  }

  recordIssuedCards(cards: readonly IssuedCard[]): void {
    if (cards.length === 0) return;
    this.pending.push(...cards);
    if (this.pending.length >= this.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.intervalMs).unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.flushCards(batch);
  }

  feedbackSummary(): FeedbackSummaryRow[] {
    this.flush();
    return this.db
      .prepare(
        `SELECT f.service_id AS serviceId,
           CASE WHEN c.uuid IS NULL THEN '(unknown card)'
                ELSE COALESCE(c.topic_code, c.topic_display, '(no topic)') END AS cardTopic,
           f.outcome AS outcome,
           CASE WHEN f.outcome = 'accepted' THEN ''
                WHEN f.reason_code IS NULL THEN '(none given)'
                ELSE COALESCE(f.reason_system || '|', '') || f.reason_code END AS reason,
           COUNT(*) AS count
         FROM feedback f LEFT JOIN cards.issued_card c ON c.uuid = f.card_uuid
         GROUP BY 1, 2, 3, 4
         ORDER BY 1, 2, 3 DESC, 5 DESC, 4`,
      )
      .all() as FeedbackSummaryRow[];
  }

  ping(): void {
    this.db.prepare('SELECT 1').get();
  }

  close(): void {
    if (!this.db.open) return;
    this.flush();
    this.cardDb.close();
    this.db.close();
  }
}

/** `data/cds.sqlite` → `data/cds-issued-cards.sqlite`. */
export function issuedCardsPath(path: string): string {
  return path.replace(/(\.sqlite3?|\.db)?$/, (extension) => `-issued-cards${extension || '.sqlite'}`);
}

function openIssuedCards(path: string): Database.Database {
  const open = (): Database.Database => {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = OFF');
      db.pragma('busy_timeout = 5000');
      db.exec(CARD_SCHEMA);
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  };
  try {
    return open();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'SQLITE_CORRUPT' && code !== 'SQLITE_NOTADB') throw error;
    // Only an index of past cards: start it afresh rather than refuse to serve.
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    return open();
  }
}
