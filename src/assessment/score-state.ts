// The state of a batch-scoring walk (`spine-cds score`), kept in a JSON file so that a run that was
// interrupted — killed, stopped, cut short by --limit — resumes where it was: the server, the search
// page being walked, and each patient already scored with its result. The file holds patient ids
// (treated as PHI): it lives beside the store unless --state says otherwise, and is written with
// mode 0600. Every save is atomic (a temporary file, fsync, rename), so a kill at any moment leaves
// either the previous state or the new one, never half of one. A lock file beside it keeps two runs
// from walking with the same state at once; a lock left by a killed run is taken over.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const SCORE_STATE_FORMAT = 'spine-cds-score-state';
export const SCORE_STATE_VERSION = 1;

/** One patient's result. `failed` (a transient failure: chart or image unreadable now, write-back refused) is retried when the walk meets the patient again. */
export type PatientOutcome =
  | { status: 'assessed'; band: string }
  | { status: 'not-assessed'; reasons: string[] }
  | { status: 'failed'; reasons: string[] };

export interface OutcomeCounts {
  assessed: { total: number; byBand: Record<string, number> };
  notAssessed: { total: number; byReason: Record<string, number> };
  failed: { total: number; byReason: Record<string, number> };
}

/** The file's JSON. */
export interface ScoreStateJson {
  format: typeof SCORE_STATE_FORMAT;
  version: typeof SCORE_STATE_VERSION;
  /** The FHIR server's base URL (normalised). */
  server: string;
  /** The first page of the search (relative to the server). */
  query: string;
  /** The page being walked (relative to the server), or null once the walk is complete. */
  page: string | null;
  complete: boolean;
  /** Whether this walk writes RiskAssessments back: a resumed run must do the same. */
  writeBack: boolean;
  /** Search entries (ImagingStudy) on the pages finished so far. */
  studiesWalked: number;
  startedAt: string;
  updatedAt: string;
  completedAt?: string;
  /** Derived from `patients`; for people reading the file. */
  counts: OutcomeCounts;
  /** Patient id → `assessed:<band>`, `not-assessed:<reason>,…` or `failed:<reason>,…`. */
  patients: Record<string, string>;
}

/** `kind` says whose problem it is: `input` (a bad or foreign state file, a run holding it: exit 2) or `write` (exit 1). */
export class ScoreStateError extends Error {
  override name = 'ScoreStateError';
  constructor(
    readonly kind: 'input' | 'write',
    message: string,
  ) {
    super(message);
  }
}

/** `<dir of the SQLite store>/score-<hash of the server>.json`. */
export function defaultStatePath(sqlitePath: string, server: string): string {
  const hash = createHash('sha256').update(server).digest('hex').slice(0, 16);
  return join(dirname(sqlitePath), `score-${hash}.json`);
}

export function encodeOutcome(outcome: PatientOutcome): string {
  return outcome.status === 'assessed' ? `assessed:${outcome.band}` : `${outcome.status}:${outcome.reasons.join(',')}`;
}

export function decodeOutcome(text: unknown): PatientOutcome | undefined {
  if (typeof text !== 'string') return undefined;
  const colon = text.indexOf(':');
  const [status, rest] = colon < 0 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 1)];
  if (status === 'assessed' && rest) return { status, band: rest };
  if ((status === 'not-assessed' || status === 'failed') && rest) return { status, reasons: rest.split(',') };
  return undefined;
}

/** Adds (`sign` 1) or removes (−1) an outcome from counts; a patient with several reasons counts once under each. */
export function tally(counts: OutcomeCounts, outcome: PatientOutcome, sign: 1 | -1 = 1): void {
  const bump = (table: Record<string, number>, key: string): void => {
    const value = (table[key] ?? 0) + sign;
    if (value === 0) delete table[key];
    else table[key] = value;
  };
  if (outcome.status === 'assessed') {
    counts.assessed.total += sign;
    bump(counts.assessed.byBand, outcome.band);
  } else {
    const group = outcome.status === 'failed' ? counts.failed : counts.notAssessed;
    group.total += sign;
    for (const reason of new Set(outcome.reasons)) bump(group.byReason, reason);
  }
}

export function countOutcomes(outcomes: Iterable<PatientOutcome>): OutcomeCounts {
  const counts: OutcomeCounts = { assessed: { total: 0, byBand: {} }, notAssessed: { total: 0, byReason: {} }, failed: { total: 0, byReason: {} } };
  for (const outcome of outcomes) tally(counts, outcome);
  return counts;
}

const copyCounts = (counts: OutcomeCounts): OutcomeCounts => ({
  assessed: { total: counts.assessed.total, byBand: { ...counts.assessed.byBand } },
  notAssessed: { total: counts.notAssessed.total, byReason: { ...counts.notAssessed.byReason } },
  failed: { total: counts.failed.total, byReason: { ...counts.failed.byReason } },
});

export interface OpenStateOptions {
  path: string;
  server: string;
  /** The first page's query, for a new walk. */
  query: string;
  writeBack: boolean;
  /** Start over whatever the file holds. */
  restart: boolean;
  clock?: () => Date;
  /** Least time between two saves asked for with saveSoon(). */
  minSaveIntervalMs?: number;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function parseState(text: string, path: string): ScoreStateJson {
  const bad = (what: string): ScoreStateError =>
    new ScoreStateError('input', `State file ${path} is not a usable score state (${what}); remove it or run with --restart to start the walk over`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (!isObject(json) || json.format !== SCORE_STATE_FORMAT) throw bad('not a score state file');
  if (json.version !== SCORE_STATE_VERSION) throw bad(`version ${String(json.version)}, expected ${SCORE_STATE_VERSION}`);
  const { server, query, page, complete, writeBack, studiesWalked, patients } = json;
  if (typeof server !== 'string' || typeof query !== 'string' || !(page === null || typeof page === 'string') || typeof complete !== 'boolean' || typeof writeBack !== 'boolean') {
    throw bad('missing fields');
  }
  if (typeof studiesWalked !== 'number' || !Number.isInteger(studiesWalked) || studiesWalked < 0 || !isObject(patients)) throw bad('missing fields');
  for (const value of Object.values(patients)) if (decodeOutcome(value) === undefined) throw bad('a patient result it cannot read');
  return json as unknown as ScoreStateJson;
}

/** The state of one walk, and its file. */
export class ScoreStateFile {
  /** Patient id → result, for every patient scored (or failed) so far in this walk. */
  readonly patients: Map<string, PatientOutcome>;
  private readonly tallied: OutcomeCounts;
  private json: ScoreStateJson;
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;
  private lastSave = 0;
  private saveCost = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => Date;
  private readonly minSaveIntervalMs: number;

  private constructor(
    readonly path: string,
    json: ScoreStateJson,
    /** The walk goes on from an earlier run's state. */
    readonly resumed: boolean,
    options: OpenStateOptions,
  ) {
    this.json = json;
    this.patients = new Map(Object.entries(json.patients).map(([id, text]) => [id, decodeOutcome(text) as PatientOutcome]));
    this.tallied = countOutcomes(this.patients.values());
    this.clock = options.clock ?? (() => new Date());
    this.minSaveIntervalMs = options.minSaveIntervalMs ?? 1000;
  }

  /**
   * Takes the lock, then reads the state (resuming) or starts a new one. Throws ScoreStateError
   * (`input`) for a file that cannot be read or used, one made for another server or without the same
   * write-back choice, or one another live run holds.
   */
  static async open(options: OpenStateOptions): Promise<ScoreStateFile> {
    const { path } = options;
    await lock(path);
    try {
      const now = (options.clock ?? (() => new Date()))().toISOString();
      const fresh: ScoreStateJson = {
        format: SCORE_STATE_FORMAT,
        version: SCORE_STATE_VERSION,
        server: options.server,
        query: options.query,
        page: options.query,
        complete: false,
        writeBack: options.writeBack,
        studiesWalked: 0,
        startedAt: now,
        updatedAt: now,
        counts: countOutcomes([]),
        patients: {},
      };
      if (options.restart) return new ScoreStateFile(path, fresh, false, options);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new ScoreStateFile(path, fresh, false, options);
        throw new ScoreStateError('input', `Cannot read state file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); fix it, or give another --state`);
      }
      const json = parseState(text, path);
      if (json.server !== options.server) {
        throw new ScoreStateError('input', `State file ${path} belongs to a walk of another FHIR server (${json.server}); give another --state, or --restart to replace it`);
      }
      if (json.writeBack !== options.writeBack) {
        const was = json.writeBack ? 'with' : 'without';
        throw new ScoreStateError('input', `State file ${path} belongs to a walk ${was} --write-back; run it the same way to resume, or --restart to start over`);
      }
      return new ScoreStateFile(path, json, true, options);
    } catch (error) {
      await unlock(path);
      throw error;
    }
  }

  get server(): string {
    return this.json.server;
  }
  get query(): string {
    return this.json.query;
  }
  get page(): string | null {
    return this.json.page;
  }
  get complete(): boolean {
    return this.json.complete;
  }
  get studiesWalked(): number {
    return this.json.studiesWalked;
  }

  /** Whether the patient needs no scoring: already assessed or found not assessable (failures are retried). */
  isDone(patientId: string): boolean {
    const outcome = this.patients.get(patientId);
    return outcome !== undefined && outcome.status !== 'failed';
  }

  record(patientId: string, outcome: PatientOutcome): void {
    const previous = this.patients.get(patientId);
    if (previous) tally(this.tallied, previous, -1);
    tally(this.tallied, outcome);
    this.patients.set(patientId, outcome);
    this.dirty = true;
  }

  /** The current page is finished: go on to `next` (relative), or mark the walk complete when there is none. */
  finishPage(next: string | null, studies: number): void {
    this.json = { ...this.json, page: next, complete: next === null, studiesWalked: this.json.studiesWalked + studies };
    if (next === null) this.json.completedAt = this.clock().toISOString();
    this.dirty = true;
  }

  /** The saved page could not be fetched again (an expired paging link): walk from the first page, keeping the results. */
  restartFromFirstPage(): void {
    this.json = { ...this.json, page: this.json.query, studiesWalked: 0 };
    this.dirty = true;
  }

  /** Over every run of this walk. */
  counts(): OutcomeCounts {
    return copyCounts(this.tallied);
  }

  /** Saves now (after any save in progress). */
  save(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = false;
    const began = Date.now();
    const json: ScoreStateJson = {
      ...this.json,
      updatedAt: this.clock().toISOString(),
      counts: this.tallied,
      patients: Object.fromEntries([...this.patients].map(([id, outcome]) => [id, encodeOutcome(outcome)])),
    };
    const text = `${JSON.stringify(json, null, 1)}\n`;
    this.saving = this.saving
      .catch(() => undefined)
      .then(() => writeAtomically(this.path, text))
      .finally(() => {
        // A large state (a big server) is saved less often: at most a tenth of the time goes to saving.
        this.lastSave = Date.now();
        this.saveCost = this.lastSave - began;
      });
    return this.saving;
  }

  /** Saves soon: at once if the last save is older than the interval, else when it is. Errors surface at the next save(). */
  saveSoon(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastSave + Math.max(this.minSaveIntervalMs, 10 * this.saveCost) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.dirty) void this.save().catch(() => undefined);
    }, wait);
  }

  /** Saves what is unsaved and releases the lock. */
  async close(): Promise<void> {
    try {
      if (this.dirty || this.timer !== undefined) await this.save();
      else await this.saving;
    } finally {
      clearTimeout(this.timer);
      await unlock(this.path);
    }
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new ScoreStateError('write', `Cannot write state file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

const lockPath = (path: string): string => `${path}.lock`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates `<path>.lock` holding our pid; a lock whose process is gone is taken over. */
async function lock(path: string): Promise<void> {
  const file = lockPath(path);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await mkdir(dirname(file), { recursive: true });
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new ScoreStateError('input', `Cannot create the lock file ${file} (${code ?? 'error'})`);
    }
    const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new ScoreStateError('input', `Another score run (process ${pid}) is using state file ${path}; wait for it, or stop it`);
    }
    await rm(file, { force: true });
  }
  throw new ScoreStateError('input', `Cannot take the lock file ${file}`);
}

async function unlock(path: string): Promise<void> {
  await rm(lockPath(path), { force: true }).catch(() => undefined);
}
