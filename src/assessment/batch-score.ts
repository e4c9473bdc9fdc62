// Batch scoring: walk a FHIR server's lumbar radiograph candidates (ImagingStudy, DX or CR) page by
// page, assess each distinct patient through the same pipeline the hooks use — so the store is warm
// for the next chart opening — and optionally write each assessment back as a RiskAssessment. At
// most `concurrency` assessments run at once; the walk's state (score-state.ts) is saved after every
// page and every second or so in between, so a run that is killed resumes where it was; a patient
// in flight at the kill is simply scored again (the cache makes that cheap, and the conditional
// create makes the write-back idempotent). Eligibility is the assessor's business: the search only
// finds candidates.
import type { Bundle, ImagingStudy } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { FhirRequestError, type FhirRestClient, type SearchPage } from '../fhir/client.js';
import { IMAGING_MODALITIES } from '../fhir/terminology.js';
import type { ReasonCode } from './assessment.js';
import type { Assessor } from './assessor.js';
import { ASSESSMENT_IDENTIFIER_SYSTEM, riskAssessmentResource } from './risk-assessment-resource.js';
import { countOutcomes, type OutcomeCounts, type PatientOutcome, type ScoreStateFile } from './score-state.js';

/** Reasons that say "not now" rather than "not this patient": the patient is retried by a later walk. */
export const TRANSIENT_REASONS: ReadonlySet<ReasonCode | 'write-back'> = new Set(['chart-unavailable', 'radiograph-unavailable', 'model-failed', 'pending', 'write-back']);

/** The search the walk pages through: every DX or CR study (the assessor checks body site, date and view). */
export function radiographSearch(pageSize: number): string {
  const modalities = IMAGING_MODALITIES.map((m) => `${m.system}|${m.code}`).join(',');
  return `ImagingStudy?modality=${encodeURIComponent(modalities)}&_count=${pageSize}&_elements=subject`;
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The distinct patients a page's studies are about (`Patient/<id>`, relative or on this server), each with how many of the page's studies are theirs. */
export function patientsOnPage(bundle: Bundle, baseUrl: string): Map<string, number> {
  const patients = new Map<string, number>();
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource as ImagingStudy | undefined;
    if (resource?.resourceType !== 'ImagingStudy') continue;
    const id = patientIdOf(resource.subject?.reference, baseUrl);
    if (id !== undefined) patients.set(id, (patients.get(id) ?? 0) + 1);
  }
  return patients;
}

function patientIdOf(reference: string | undefined, baseUrl: string): string | undefined {
  const match = /^(?:(.*)\/)?Patient\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(reference ?? '');
  if (!match) return undefined;
  const [, prefix, id] = match;
  if (prefix !== undefined && prefix !== baseUrl) return undefined; // another server's patient
  return FHIR_ID.test(id as string) ? id : undefined;
}

export interface ScoreProgress {
  /** Studies (search entries) walked so far, over all runs of this walk. */
  studiesWalked: number;
  /** Bundle.total when the server gives it. */
  studiesTotal: number | null;
  /** Patients scored in this run. */
  scored: number;
  /** Patients met in this run that an earlier run had already scored. */
  skipped: number;
  /** Over all runs. */
  counts: OutcomeCounts;
}

export type WalkStatus = 'complete' | 'limit' | 'interrupted' | 'failed';

export interface ScoreRun {
  status: WalkStatus;
  /** Why the walk stopped early (`failed`); no URL, no PHI. */
  failure?: string;
  /** Patients scored in this run. */
  scored: number;
  skipped: number;
  /** This run's outcomes. */
  run: OutcomeCounts;
  /** RiskAssessments written in this run, or null without --write-back. */
  writeBack: { created: number; existing: number; failed: number } | null;
  /** The saved page could not be fetched again and the walk began again at the first page. */
  restartedFromFirstPage: boolean;
  elapsedMs: number;
}

export interface BatchScoreOptions {
  assessor: Assessor;
  fhir: FhirRestClient;
  state: ScoreStateFile;
  /** Assessments in flight at most. */
  concurrency: number;
  writeBack: boolean;
  /** Patients to score in this run at most (skipped ones do not count). */
  limit?: number;
  /** Stop asking: the walk starts no new assessment, lets those in flight end, and saves. */
  signal?: AbortSignal;
  onProgress?: (progress: ScoreProgress) => void;
  /** The page at `state.page`, already fetched (the command fetches it before loading the models). */
  firstPage?: FetchedPage;
  /** Transient failures in a row that stop the walk (the server or PACS has gone away). */
  maxConsecutiveFailures?: number;
  /** Hears write-back failures (kind and status only). */
  logger?: Logger;
  now?: () => number;
}

export interface FetchedPage extends SearchPage {
  /** The saved page was gone and the walk began again at the first page. */
  restarted: boolean;
}

/** Fetches the state's page; a saved page that is gone (an expired paging link) restarts from the first page. */
export async function fetchStatePage(fhir: FhirRestClient, state: ScoreStateFile, signal?: AbortSignal): Promise<FetchedPage> {
  const { page } = state;
  if (page === null) throw new RangeError('the walk is already complete: there is no page to fetch');
  try {
    return { ...(await fhir.searchPage(page, { signal })), restarted: false };
  } catch (error) {
    const expired = error instanceof FhirRequestError && error.kind === 'http' && [400, 404, 410].includes(error.status ?? 0);
    if (!expired || page === state.query) throw error;
    state.restartFromFirstPage();
    return { ...(await fhir.searchPage(state.query, { signal })), restarted: true };
  }
}

export async function batchScore(options: BatchScoreOptions): Promise<ScoreRun> {
  const { assessor, fhir, state } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const outcomes: PatientOutcome[] = [];
  const writeBack = options.writeBack ? { created: 0, existing: 0, failed: 0 } : null;
  const maxConsecutive = options.maxConsecutiveFailures ?? 10;
  let scored = 0;
  let skipped = 0;
  let consecutiveFailures = 0;
  let failure: string | undefined;
  let restartedFromFirstPage = false;
  let studiesTotal: number | null = null;
  let studiesOnPage = 0;
  const doneBefore = new Set([...state.patients.keys()].filter((id) => state.isDone(id)));
  const limitReached = (): boolean => options.limit !== undefined && scored >= options.limit;
  const stopping = (): boolean => options.signal?.aborted === true || limitReached() || failure !== undefined;
  const progress = (): void =>
    options.onProgress?.({ studiesWalked: state.studiesWalked + studiesOnPage, studiesTotal, scored, skipped, counts: state.counts() });

  const scoreOne = async (patientId: string): Promise<PatientOutcome> => {
    const outcome = await assessor.assess({ patientId, fhirServer: fhir.baseUrl, fhir });
    if (outcome.status === 'not-assessed') {
      const reasons = outcome.reasons.map((r) => r.code);
      return { status: reasons.some((r) => TRANSIENT_REASONS.has(r)) ? 'failed' : 'not-assessed', reasons };
    }
    const { assessment } = outcome;
    if (writeBack) {
      try {
        const { created } = await fhir.create(riskAssessmentResource(assessment), { ifNoneExist: `identifier=${ASSESSMENT_IDENTIFIER_SYSTEM}|${assessment.key}` });
        writeBack[created ? 'created' : 'existing']++;
      } catch (error) {
        if (!(error instanceof FhirRequestError)) throw error;
        options.logger?.warn({ kind: error.kind, status: error.status }, 'RiskAssessment write-back failed');
        writeBack.failed++;
        return { status: 'failed', reasons: ['write-back'] };
      }
    }
    return { status: 'assessed', band: assessment.band.name };
  };

  try {
    if (state.page === null) throw new RangeError('the walk is already complete');
    const first = options.firstPage ?? (await fetchStatePage(fhir, state, options.signal));
    restartedFromFirstPage = first.restarted;
    let page: SearchPage = first;
    for (;;) {
      studiesTotal = page.bundle.total ?? studiesTotal;
      const patients = patientsOnPage(page.bundle, fhir.baseUrl);
      const studiesOf = (id: string): number => patients.get(id) ?? 0;
      // Entries that name no usable patient still count as walked.
      studiesOnPage = (page.bundle.entry ?? []).length - [...patients.values()].reduce((a, b) => a + b, 0);
      const queue: string[] = [];
      for (const id of patients.keys()) {
        if (state.isDone(id)) {
          if (doneBefore.has(id)) skipped++;
          studiesOnPage += studiesOf(id);
        } else queue.push(id);
      }
      progress();
      const worker = async (): Promise<void> => {
        while (queue.length > 0 && !stopping()) {
          const id = queue.shift() as string;
          scored++;
          const outcome = await scoreOne(id);
          outcomes.push(outcome);
          state.record(id, outcome);
          studiesOnPage += studiesOf(id);
          consecutiveFailures = outcome.status === 'failed' ? consecutiveFailures + 1 : 0;
          if (consecutiveFailures >= maxConsecutive && failure === undefined) {
            const reasons = outcome.status === 'failed' ? outcome.reasons.join(', ') : '';
            failure = `${consecutiveFailures} patients in a row could not be scored (${reasons}); stopped so as not to mark the whole server failed`;
          }
          state.saveSoon();
          progress();
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, worker));
      // A page left unfinished (stopped, limit, failure) stays the page to resume from.
      if (queue.length > 0 || failure !== undefined) break;
      state.finishPage(page.next, (page.bundle.entry ?? []).length);
      studiesOnPage = 0;
      await state.save();
      progress();
      if (page.next === null || stopping()) break;
      page = await fhir.searchPage(page.next, { signal: options.signal });
    }
  } catch (error) {
    if (!(error instanceof FhirRequestError)) throw error;
    // A page fetch abandoned because the run was asked to stop is no failure.
    if (!options.signal?.aborted) failure = `reading the radiograph search failed: ${error.message}`;
  }
  await state.save();
  const status: WalkStatus = failure !== undefined ? 'failed' : state.complete ? 'complete' : options.signal?.aborted ? 'interrupted' : 'limit';
  return {
    status,
    ...(failure !== undefined ? { failure } : {}),
    scored,
    skipped,
    run: countOutcomes(outcomes),
    writeBack,
    restartedFromFirstPage,
    elapsedMs: now() - started,
  };
}
