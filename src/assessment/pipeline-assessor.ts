// The assessment pipeline: chart → eligibility and suppression → radiograph → model → curves →
// Assessment, with the caches that make a repeated call cheap. Every way it can fail ends as reason
// codes, never as a rejection.
//
// Caching, warmest first: the assessment by key (memory, then the store); the radiograph chosen for
// the patient's candidate series (memory, then the store) and its tensor (memory); only then the
// PACS. The key is computed from the chart as read now, so nothing stale is served, and the same
// work is never in flight twice (one flight per candidate set for the image, per key for inference).
import type { Bundle } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { LRUCache } from 'lru-cache';
import type { AssessmentConfig, PatientIdentityRule } from '../config.js';
import { FhirRequestError } from '../fhir/client.js';
import { readPatientRecord, type PatientRecord } from '../fhir/patient-record.js';
import { gatherChart } from '../fhir/record-queries.js';
import { referencedId } from '../fhir/untrusted-json.js';
import { ImagingError } from '../imaging/errors.js';
import { expectedPatient } from '../imaging/patient-identity.js';
import { loadImagingResources, noCandidateCode, selectCandidateSeries, type CandidateSeries } from '../imaging/study-selection.js';
import { ModelInputError, ModelRunError } from '../model/errors.js';
import type { ModelRuntime } from '../model/model-runtime.js';
import type { LoadedModel } from '../model/model-registry.js';
import type { Store } from '../store/store.js';
import { imagingReason, type AssessOutcome, type Assessment, type Reason } from './assessment.js';
import type { AssessRequest, Assessor } from './assessor.js';
import { assessmentKey, buildAssessment, factorEntries, modelFactors } from './build-assessment.js';
import { populationReasons, suppressionReasons } from './eligibility.js';
import type { ImageRequest, RadiographCache } from './radiographs.js';
import { SingleFlight } from './single-flight.js';

export interface PipelineAssessorDeps {
  runtime: ModelRuntime;
  /** The model to use; must be loaded in `runtime`. */
  modelId: string;
  radiographs: RadiographCache;
  store: Store;
  config: AssessmentConfig;
  /** imaging.lookbackDays: how far back a radiograph is looked for. */
  lookbackDays: number;
  /** imaging.patientIdentity: how the radiograph is matched to the chart's patient. */
  patientIdentity: PatientIdentityRule;
  /** The DICOMweb allow-list (study selection passes over endpoints it refuses). */
  allowsEndpoint: (address: string) => boolean;
  clock: () => Date;
  logger: Logger;
}

type Step<T> = { ok: true; value: T } | { ok: false; reasons: Reason[] };

export class PipelineAssessor implements Assessor {
  readonly model: LoadedModel;
  private readonly memory: LRUCache<string, Assessment>;
  private readonly flights = new SingleFlight<Assessment>();
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly deps: PipelineAssessorDeps) {
    this.model = deps.runtime.model(deps.modelId);
    this.memory = new LRUCache({ max: Math.max(1, deps.config.cache.assessments) });
  }

  assess(request: AssessRequest): Promise<AssessOutcome> {
    const work = this.run(request).catch((error: unknown): AssessOutcome => {
      // Every expected failure is a reason already; this is a defect, reported without its data.
      this.deps.logger.error({ err: { name: (error as Error)?.name, message: (error as Error)?.message } }, 'assessment failed unexpectedly');
      return { status: 'not-assessed', reasons: [{ code: 'assessment-failed', detail: 'the assessment failed unexpectedly; see the service log' }], record: null };
    });
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
    return work;
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    await this.deps.radiographs.settled();
  }

  private async run(request: AssessRequest): Promise<AssessOutcome> {
    const { card } = this.model;
    const now = this.deps.clock();
    const signal = AbortSignal.timeout(this.deps.config.jobTimeoutMs);

    const chart = await gatherChart({ patientId: request.patientId, prefetch: request.prefetch, fhir: request.fhir, fetchKeys: request.fetchKeys, signal });
    if (chart.unavailable.length > 0) {
      // Part of the chart could not be read: any estimate would silently miss what it holds.
      return notAssessed([{ code: 'chart-unavailable', detail: `could not read: ${chart.unavailable.join(', ')}` }], null);
    }
    const record = readPatientRecord({ patientId: request.patientId, ...chart.resources, asOf: now, treatmentRecentMonths: this.deps.config.treatmentRecentMonths });
    if (record.problems.length > 0) this.deps.logger.debug({ problems: record.problems }, 'chart entries ignored');
    const ineligible = [...populationReasons(record, card.intendedUse.population), ...suppressionReasons(record, this.deps.config, now)];
    if (ineligible.length > 0) return notAssessed(ineligible, record);

    const candidates = await this.candidates(request, chart.resources.imaging, now, signal);
    if (!candidates.ok) return notAssessed(candidates.reasons, record);
    const image: ImageRequest = {
      fhirServer: request.fhirServer,
      patientId: request.patientId,
      candidates: candidates.value,
      view: card.inputs.image.view,
      spec: card.inputs.image.preprocessing,
      expectedPatient: expectedPatient(chart.resources.patient, request.patientId, this.deps.patientIdentity),
      signal,
    };
    let chosen;
    try {
      chosen = await this.deps.radiographs.choose(image);
    } catch (error) {
      if (error instanceof ImagingError) return notAssessed([imagingReason(error.code, error.message)], record);
      throw error;
    }

    const entries = factorEntries(record, request.overrides ?? {});
    const keyParts = { patientId: request.patientId, fhirServer: request.fhirServer, sopInstanceUid: chosen.choice.source.sopInstanceUid, model: this.model, entries, record };
    const key = assessmentKey(keyParts);
    // The tensor as the model read it, for explanations; a call after its eviction from memory prepares it again.
    const pixels = (): Promise<Float32Array> => (chosen.tensor ? Promise.resolve(chosen.tensor) : this.deps.radiographs.tensor({ ...image, signal: AbortSignal.timeout(this.deps.config.jobTimeoutMs) }, chosen.choice));
    const cached = this.memory.get(key) ?? (request.hypothetical ? undefined : await this.stored(key));
    if (cached) return { status: 'assessed', assessment: cached, cached: true, record, pixels };

    try {
      const assessment = await this.flights.run(key, async () => {
        const tensor = chosen.tensor ?? (await this.deps.radiographs.tensor(image, chosen.choice));
        const prediction = await this.deps.runtime.predict(card.id, tensor, modelFactors(entries));
        const built = buildAssessment({ ...keyParts, key, computedAt: now, choice: chosen.choice, prediction });
        if (!request.hypothetical) {
          await this.deps.store.putAssessment({
            key,
            patientId: request.patientId,
            fhirServer: request.fhirServer,
            modelId: card.id,
            modelVersion: card.version,
            computedAt: built.computedAt,
            json: JSON.stringify(built),
          });
        }
        this.memory.set(key, built);
        return built;
      });
      return { status: 'assessed', assessment, cached: false, record, pixels };
    } catch (error) {
      if (error instanceof ImagingError) return notAssessed([imagingReason(error.code, error.message)], record);
      if (error instanceof ModelInputError) return notAssessed([{ code: 'model-refused', cause: error.code, detail: error.message }], record);
      if (error instanceof ModelRunError) return notAssessed([{ code: 'model-failed', cause: error.code, detail: error.message }], record);
      throw error;
    }
  }

  /** The patient's lumbar radiograph series in the look-back window, most recent first, or why there are none. */
  private async candidates(request: AssessRequest, imaging: readonly Bundle[], now: Date, signal: AbortSignal): Promise<Step<CandidateSeries[]>> {
    let resources;
    try {
      resources = await loadImagingResources({ patientId: request.patientId, prefetch: imaging, client: request.fhir ?? undefined, signal });
    } catch (error) {
      if (error instanceof FhirRequestError) return { ok: false, reasons: [imagingReason('fhir-error', `Endpoint read failed (${error.kind})`)] };
      throw error;
    }
    const studies = resources.studies.filter((study) => referencedId(study.subject, 'Patient') === request.patientId);
    const selection = selectCandidateSeries({ studies, endpoints: resources.endpoints, now, lookbackDays: this.deps.lookbackDays, allowsEndpoint: this.deps.allowsEndpoint });
    if (selection.candidates.length > 0) return { ok: true, value: selection.candidates };
    const code = noCandidateCode(selection);
    const detail = selection.rejected.find((r) => r.code === code)?.detail ?? 'no lumbar spine DX/CR study on record';
    return { ok: false, reasons: [imagingReason(code, detail)] };
  }

  private async stored(key: string): Promise<Assessment | undefined> {
    const row = await this.deps.store.getAssessment(key);
    if (!row) return undefined;
    const assessment = JSON.parse(row.json) as Assessment;
    this.memory.set(key, assessment);
    return assessment;
  }
}

function notAssessed(reasons: Reason[], record: PatientRecord | null): AssessOutcome {
  return { status: 'not-assessed', reasons, record };
}
