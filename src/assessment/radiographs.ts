// Which radiograph an assessment reads, remembered so a warm hook never touches the PACS: the choice
// made for a set of candidate series (keyed by a fingerprint of those series and the model's
// preprocessing) is kept in memory and in the store; the preprocessed tensor in memory only (a
// changed risk factor then costs one inference, not a download). Concurrent requests for the same
// candidates share one download and decode. An image that cannot be used (wrong view, corrupt file)
// is remembered for a while so it is not fetched again at every chart opening.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { ImagingError, type ImagingErrorCode } from '../imaging/errors.js';
import type { WantedView } from '../imaging/instance-selection.js';
import type { ExpectedPatient } from '../imaging/patient-identity.js';
import type { PreprocessingRecord, PreprocessingSpec } from '../imaging/preprocessing.js';
import type { RadiographProvenance, RadiographSource } from '../imaging/radiograph-source.js';
import type { CandidateSeries } from '../imaging/study-selection.js';
import type { Store } from '../store/store.js';
import { isLastingImagingFailure } from './assessment.js';
import { SingleFlight } from './single-flight.js';

export interface RadiographChoice {
  source: RadiographProvenance;
  preprocessing: PreprocessingRecord;
}

export interface ImageRequest {
  fhirServer: string | null;
  patientId: string;
  candidates: readonly CandidateSeries[];
  view: WantedView;
  spec: PreprocessingSpec;
  /** Who the image must be of (the chart's Patient under the configured rule). */
  expectedPatient: ExpectedPatient;
  signal?: AbortSignal;
}

export interface RadiographCacheOptions {
  source: RadiographSource;
  store: Store;
  /** Tensors kept in memory; 0 keeps none. */
  tensors: number;
  /** Choices kept in memory in front of the store. */
  choices: number;
  /** How long an unusable image is remembered as such. */
  failureMinutes: number;
  clock: () => Date;
  logger: Logger;
}

interface Prepared {
  choice: RadiographChoice;
  tensor: Float32Array;
}

const hash = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** Everything that decides which image is chosen and how it is prepared. */
export function candidateFingerprint(request: Pick<ImageRequest, 'fhirServer' | 'patientId' | 'candidates' | 'view' | 'spec' | 'expectedPatient'>): string {
  const candidates = request.candidates.map((c) => [c.imagingStudyReference, c.studyInstanceUid, c.seriesInstanceUid ?? null, c.wadoRsBaseUrl, c.started.toISOString(), c.bodySiteConfirmed]);
  // The identity is part of it: a corrected Patient (a merge, a new MRN) is checked against the image again.
  return hash([2, request.fhirServer, request.patientId, candidates, request.view, request.spec, request.expectedPatient]);
}

export class RadiographCache {
  private readonly choices: LRUCache<string, RadiographChoice>;
  private readonly tensors: LRUCache<string, Float32Array> | null;
  private readonly failures: LRUCache<string, { code: ImagingErrorCode; message: string }> | null;
  private readonly flights = new SingleFlight<Prepared>();

  constructor(private readonly options: RadiographCacheOptions) {
    this.choices = new LRUCache({ max: Math.max(1, options.choices) });
    this.tensors = options.tensors > 0 ? new LRUCache({ max: options.tensors }) : null;
    this.failures = options.failureMinutes > 0 ? new LRUCache({ max: 10_000, ttl: options.failureMinutes * 60_000 }) : null;
  }

  /** Preparations in flight (for tests and metrics). */
  get inFlight(): number {
    return this.flights.size;
  }

  /**
   * The radiograph chosen for these candidates: remembered, else found and prepared (then with its
   * tensor, so the caller need not ask again). Throws ImagingError.
   */
  async choose(request: ImageRequest): Promise<{ choice: RadiographChoice; tensor?: Float32Array }> {
    const fingerprint = candidateFingerprint(request);
    const failure = this.failures?.get(fingerprint);
    if (failure) throw new ImagingError(failure.code, failure.message);
    const known = this.choices.get(fingerprint) ?? (await this.stored(fingerprint));
    if (known) return { choice: known };
    return this.prepare(fingerprint, request);
  }

  /** The preprocessed image of a choice: from memory, else prepared again from the same candidates. */
  async tensor(request: ImageRequest, choice: RadiographChoice): Promise<Float32Array> {
    const cached = this.tensors?.get(tensorKey(choice.source.sopInstanceUid, request.spec));
    if (cached) return cached;
    const prepared = await this.prepare(candidateFingerprint(request), request);
    if (prepared.choice.source.sopInstanceUid !== choice.source.sopInstanceUid) {
      // The PACS now offers another image for the same series; the caller's choice is stale.
      throw new ImagingError('no-suitable-instance', 'the chosen image is no longer the one the PACS offers; try again');
    }
    return prepared.tensor;
  }

  /** Settles when every preparation in flight has (for shutdown). */
  settled(): Promise<void> {
    return this.flights.settled();
  }

  private async stored(fingerprint: string): Promise<RadiographChoice | undefined> {
    const row = await this.options.store.getSelection(fingerprint);
    if (!row) return undefined;
    const choice = JSON.parse(row.json) as RadiographChoice;
    this.choices.set(fingerprint, choice);
    return choice;
  }

  private prepare(fingerprint: string, request: ImageRequest): Promise<Prepared> {
    return this.flights.run(fingerprint, async () => {
      const started = performance.now();
      let prepared;
      try {
        prepared = await this.options.source.prepareFromCandidates(request.candidates, {
          view: request.view,
          spec: request.spec,
          signal: request.signal,
          requireView: true,
          expectedPatient: request.expectedPatient,
        });
      } catch (error) {
        if (error instanceof ImagingError) {
          this.options.logger.info({ code: error.code, ms: Math.round(performance.now() - started) }, 'radiograph not prepared');
          if (isLastingImagingFailure(error.code)) this.failures?.set(fingerprint, { code: error.code, message: error.message });
        }
        throw error;
      }
      const { modality, view, transferSyntaxUid, transcodedByPacs } = prepared.source;
      this.options.logger.info({ modality, view, transferSyntaxUid, transcodedByPacs, ms: Math.round(performance.now() - started) }, 'radiograph prepared');
      const choice: RadiographChoice = { source: prepared.source, preprocessing: prepared.preprocessing };
      this.tensors?.set(tensorKey(choice.source.sopInstanceUid, request.spec), prepared.tensor);
      this.choices.set(fingerprint, choice);
      await this.options.store.putSelection({ fingerprint, json: JSON.stringify(choice), createdAt: this.options.clock().toISOString() });
      return { choice, tensor: prepared.tensor };
    });
  }
}

function tensorKey(sopInstanceUid: string, spec: PreprocessingSpec): string {
  return `${sopInstanceUid}|${hash(spec)}`;
}
