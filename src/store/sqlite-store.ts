// Embedded SQLite store (better-sqlite3), WAL journals, two files:
// - `<path>` holds feedback, assessments and radiograph choices, written with synchronous=FULL so an
//   acknowledged feedback survives a crash or power loss. Assessments and radiograph choices carry a
//   sha256 of their JSON: a row that does not match it is deleted and recomputed, never served.
//   better-sqlite3 is synchronous, so each write's fsync runs on the event loop; it is paid once per
//   feedback post and once per freshly computed assessment, never on a cached hook (figures in
//   bench/hook-latency/README.md);
// - `<path minus .sqlite>-issued-cards.sqlite` indexes the cards we returned (uuid → service, topic).
//   It is written on the hook path at hook rates, so in batches and with synchronous=OFF: any fsync
//   there (per commit, or in the WAL checkpoints) stalled the event loop for up to ~100 ms in the hook
//   benchmark. A power loss may lose or corrupt this index only; a corrupt one is recreated at start,
//   and feedback on its cards then counts as "(unknown card)". The replay cache (token ids) lives
//   there too, for the same reason: it is written on every authenticated call.
// Several processes may share the files (WAL, busy_timeout, writes in short transactions); a lock held
// past busy_timeout, a full disk or a read-only file is a StoreUnavailableError, not a crash.
import { createHash } from 'node:crypto';
import { constants, mkdirSync, rmSync } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { storeError } from './sqlite-errors.js';
import { TOKEN_ID_SCHEMA, tokenIdClaimer } from './sqlite-token-ids.js';
import {
  StoreUnavailableError,
  type FeedbackRecord,
  type FeedbackSummaryRow,
  type IssuedCard,
  type Store,
  type StoredAssessment,
  type StoredSelection,
  type TokenIdClaim,
  type TokenIdOutcome,
} from './store.js';

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
CREATE TABLE IF NOT EXISTS assessment (
  key TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  fhir_server TEXT,
  model_id TEXT NOT NULL,
  model_version TEXT NOT NULL,
  computed_at TEXT NOT NULL,
  json TEXT NOT NULL,
  sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assessment_model ON assessment (model_id, computed_at);
CREATE TABLE IF NOT EXISTS radiograph_selection (
  fingerprint TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  json TEXT NOT NULL,
  sha256 TEXT NOT NULL
);
`;

const CARD_SCHEMA = `
CREATE TABLE IF NOT EXISTS issued_card (
  uuid TEXT PRIMARY KEY,
  service_id TEXT NOT NULL,
  topic_system TEXT,
  topic_code TEXT,
  topic_display TEXT,
  issued_at TEXT NOT NULL,
  assessment_key TEXT,
  band TEXT
);
`;

/** Columns added to issued_card after its first release, added to older files at start. */
const CARD_COLUMNS_ADDED = ['assessment_key TEXT', 'band TEXT'];

export interface SqliteStoreOptions {
  /** The feedback database file; the issued-card index lives beside it. */
  path: string;
  /** Issued cards are flushed when this many are buffered, or after flushIntervalMs. */
  flushBatchSize?: number;
  flushIntervalMs?: number;
  /**
   * How long a write waits for another connection's lock before failing with SQLITE_BUSY. better-sqlite3
   * is synchronous: the wait blocks the event loop, so keep it short.
   */
  busyTimeoutMs?: number;
  /** ping() fails (and /readyz says not ready) when the store's file system has less free space than this. */
  minFreeBytes?: number;
  /** Told about a failure no caller waits for (an issued-card batch that could not be written). */
  onBackgroundError?: (error: Error) => void;
}

const DEFAULT_BUSY_TIMEOUT_MS = 2000;
const DEFAULT_MIN_FREE_BYTES = 32 * 2 ** 20;

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly cardDb: Database.Database;
  private readonly insertFeedback: Database.Statement;
  private readonly insertCard: Database.Statement;
  private readonly checked: ReturnType<typeof prepareChecked>;
  private readonly saveAll: (records: readonly FeedbackRecord[]) => void;
  private readonly flushCards: (cards: readonly IssuedCard[]) => void;
  private pending: IssuedCard[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly claim: (claim: TokenIdClaim) => TokenIdOutcome;
  private readonly dir: string;
  private readonly minFreeBytes: number;
  private readonly onBackgroundError: (error: Error) => void;

  /** Throws StoreUnavailableError (naming the file) when the files cannot be opened for writing. */
  constructor(options: SqliteStoreOptions) {
    this.dir = dirname(options.path);
    this.minFreeBytes = options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES;
    this.onBackgroundError = options.onBackgroundError ?? (() => undefined);
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    const cardPath = issuedCardsPath(options.path);
    try {
      mkdirSync(this.dir, { recursive: true });
      this.cardDb = openIssuedCards(cardPath, busyTimeoutMs);
    } catch (error) {
      throw openError(options.path, error);
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(options.path);
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
      db.prepare('ATTACH DATABASE ? AS cards').run(cardPath);
    } catch (error) {
      db?.close();
      this.cardDb.close();
      throw openError(options.path, error);
    }
    this.db = db;
    this.claim = tokenIdClaimer(this.cardDb);
    this.batchSize = options.flushBatchSize ?? 500;
    this.intervalMs = options.flushIntervalMs ?? 200;
    this.insertFeedback = this.db.prepare(`INSERT INTO feedback
      (service_id, card_uuid, outcome, accepted_suggestions, reason_system, reason_code, reason_display, user_comment,
       outcome_timestamp, received_at, client_iss)
      VALUES (@serviceId, @card, @outcome, @acceptedSuggestions, @reasonSystem, @reasonCode, @reasonDisplay, @userComment,
       @outcomeTimestamp, @receivedAt, @clientIss)`);
    this.checked = prepareChecked(this.db);
    this.insertCard = this.cardDb.prepare(`INSERT OR IGNORE INTO issued_card
      (uuid, service_id, topic_system, topic_code, topic_display, issued_at, assessment_key, band)
      VALUES (@uuid, @serviceId, @topicSystem, @topicCode, @topicDisplay, @issuedAt, @assessmentKey, @band)`);
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
          assessmentKey: c.assessmentKey ?? null,
          band: c.band ?? null,
        });
      }
    });
  }

  saveFeedback(records: readonly FeedbackRecord[]): Promise<void> {
    return settle(() => this.saveAll(records));
  }

  recordIssuedCards(cards: readonly IssuedCard[]): void {
    if (cards.length === 0) return;
    this.pending.push(...cards);
    if (this.pending.length >= this.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.intervalMs).unref();
  }

  /** Writes the buffered issued cards; a batch that cannot be written is dropped (it is only an index) and reported. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      this.flushCards(batch);
    } catch (error) {
      this.onBackgroundError(storeError(error));
    }
  }

  feedbackSummary(): Promise<FeedbackSummaryRow[]> {
    return settle(() => this.summary());
  }

  private summary(): FeedbackSummaryRow[] {
    this.flush();
    return this.db
      .prepare(
        `SELECT f.service_id AS serviceId,
           CASE WHEN c.uuid IS NULL THEN '(unknown card)'
                ELSE COALESCE(c.topic_code, c.topic_display, '(no topic)') END AS cardTopic,
           COALESCE(c.band, '') AS band,
           f.outcome AS outcome,
           CASE WHEN f.outcome = 'accepted' THEN ''
                WHEN f.reason_code IS NULL THEN '(none given)'
                ELSE COALESCE(f.reason_system || '|', '') || f.reason_code END AS reason,
           COUNT(*) AS count
         FROM feedback f LEFT JOIN cards.issued_card c ON c.uuid = f.card_uuid AND c.service_id = f.service_id
         GROUP BY 1, 2, 3, 4, 5
         ORDER BY 1, 2, 3, 4 DESC, 6 DESC, 5`,
      )
      .all() as FeedbackSummaryRow[];
  }

  getAssessment(key: string): Promise<StoredAssessment | null> {
    return settle(() => {
      const row = verified<AssessmentRow>(this.checked.assessment, key);
      return row ? fromAssessmentRow(row) : null;
    });
  }

  putAssessment(a: StoredAssessment): Promise<void> {
    return settle(() => {
      this.checked.assessment.put.run(a.key, a.patientId, a.fhirServer, a.modelId, a.modelVersion, a.computedAt, a.json, sha256(a.json));
    });
  }

  listAssessments(filter: { modelId?: string } = {}): Promise<StoredAssessment[]> {
    return settle(() => {
      const rows = this.checked.listAssessments.all({ modelId: filter.modelId ?? null }) as AssessmentRow[];
      return rows.filter((row) => sha256(row.json) === row.sha256).map(fromAssessmentRow);
    });
  }

  getSelection(fingerprint: string): Promise<StoredSelection | null> {
    return settle(() => {
      const row = verified<{ fingerprint: string; created_at: string; json: string; sha256: string }>(this.checked.selection, fingerprint);
      return row ? { fingerprint: row.fingerprint, createdAt: row.created_at, json: row.json } : null;
    });
  }

  putSelection(selection: StoredSelection): Promise<void> {
    return settle(() => {
      this.checked.selection.put.run(selection.fingerprint, selection.createdAt, selection.json, sha256(selection.json));
    });
  }

  claimTokenId(claim: TokenIdClaim): Promise<TokenIdOutcome> {
    return settle(() => this.claim(claim));
  }

  /** Both files answer, and a write could succeed: the directory is writable and has store.minFreeBytes free. */
  async ping(): Promise<void> {
    await settle(() => {
      this.db.prepare('SELECT 1').get();
      this.cardDb.prepare('SELECT 1').get();
    });
    try {
      await access(this.dir, constants.W_OK);
    } catch (error) {
      throw new StoreUnavailableError('store is read-only', (error as { code?: string }).code ?? 'EACCES', { cause: error });
    }
    const { bavail, bsize } = await statfs(this.dir);
    const free = bavail * bsize;
    if (free < this.minFreeBytes) throw new StoreUnavailableError(`store disk nearly full (${free} bytes free, fewer than store.minFreeBytes)`, 'SQLITE_FULL');
  }

  close(): void {
    if (!this.db.open) return;
    this.flush();
    this.cardDb.close();
    this.db.close();
  }
}

/** Statements of a table whose rows carry a sha256 of their JSON. */
interface CheckedTable {
  get: Database.Statement;
  remove: Database.Statement;
  put: Database.Statement;
}

const ASSESSMENT_COLUMNS = 'key, patient_id, fhir_server, model_id, model_version, computed_at, json, sha256';

function prepareChecked(db: Database.Database): { assessment: CheckedTable; selection: CheckedTable; listAssessments: Database.Statement } {
  return {
    assessment: {
      get: db.prepare(`SELECT ${ASSESSMENT_COLUMNS} FROM assessment WHERE key = ?`),
      remove: db.prepare('DELETE FROM assessment WHERE key = ?'),
      put: db.prepare(`INSERT OR REPLACE INTO assessment (${ASSESSMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    },
    selection: {
      get: db.prepare('SELECT fingerprint, created_at, json, sha256 FROM radiograph_selection WHERE fingerprint = ?'),
      remove: db.prepare('DELETE FROM radiograph_selection WHERE fingerprint = ?'),
      put: db.prepare('INSERT OR REPLACE INTO radiograph_selection (fingerprint, created_at, json, sha256) VALUES (?, ?, ?, ?)'),
    },
    listAssessments: db.prepare(`SELECT ${ASSESSMENT_COLUMNS} FROM assessment WHERE (@modelId IS NULL OR model_id = @modelId) ORDER BY computed_at, key`),
  };
}

/** The row under `key` if its JSON still matches the sha256 written with it; a row that does not (torn, tampered) is deleted. */
function verified<R extends { json: string; sha256: string }>(table: CheckedTable, key: string): R | undefined {
  const row = table.get.get(key) as R | undefined;
  if (row === undefined || sha256(row.json) === row.sha256) return row;
  table.remove.run(key);
  return undefined;
}

interface AssessmentRow {
  key: string;
  patient_id: string;
  fhir_server: string | null;
  model_id: string;
  model_version: string;
  computed_at: string;
  json: string;
  sha256: string;
}

function fromAssessmentRow(row: AssessmentRow): StoredAssessment {
  return {
    key: row.key,
    patientId: row.patient_id,
    fhirServer: row.fhir_server,
    modelId: row.model_id,
    modelVersion: row.model_version,
    computedAt: row.computed_at,
    json: row.json,
  };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** better-sqlite3 answers synchronously; the Store contract is a promise (a Postgres store will need one). */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(storeError(error));
  }
}

/** A start-up failure that names the file (configuration, not PHI) and the condition. */
function openError(path: string, error: unknown): Error {
  const reported = storeError(error);
  const code = reported instanceof StoreUnavailableError ? reported.code : ((error as { code?: string }).code ?? 'unknown');
  return new StoreUnavailableError(`cannot open the store at ${path} for writing: ${reported.message} (${code})`, code, { cause: error });
}

/** `data/cds.sqlite` → `data/cds-issued-cards.sqlite`. */
export function issuedCardsPath(path: string): string {
  return path.replace(/(\.sqlite3?|\.db)?$/, (extension) => `-issued-cards${extension || '.sqlite'}`);
}

function openIssuedCards(path: string, busyTimeoutMs: number): Database.Database {
  const open = (): Database.Database => {
    const db = new Database(path);
    try {
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = OFF');
      db.exec(CARD_SCHEMA);
      db.exec(TOKEN_ID_SCHEMA);
      const columns = new Set((db.prepare('PRAGMA table_info(issued_card)').all() as { name: string }[]).map((c) => c.name));
      for (const column of CARD_COLUMNS_ADDED) {
        if (!columns.has(column.split(' ')[0] as string)) db.exec(`ALTER TABLE issued_card ADD COLUMN ${column}`);
      }
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
