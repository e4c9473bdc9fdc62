// The imaging pipeline of one assessment: the patient's ImagingStudy resources → candidate lumbar
// DX/CR series → DICOMweb metadata → the instance to use → WADO-RS retrieve (asking the PACS to
// transcode what we cannot decode) → decode and preprocess in a worker → model tensor with its
// provenance. Every failure is an ImagingError with a reason code.
import type { Bundle } from 'fhir/r4.js';
import type { Config } from '../config.js';
import { FhirRequestError, type FhirClient } from '../fhir/client.js';
import type { WorkerPool } from '../workers/pool.js';
import { decodeInWorker } from './decode-in-worker.js';
import type { DicomJsonDataset, DicomwebClient, DicomwebClientFactory } from './dicomweb-client.js';
import { ImagingError } from './errors.js';
import { SELECTION_FIELDS, selectInstance, type InstanceSource, type SelectedInstance, type WantedView } from './instance-selection.js';
import { readFileMeta } from './part10-structure.js';
import { PATIENT_FIELDS, dicomPatientOfJson, patientMismatch, type ExpectedPatient } from './patient-identity.js';
import type { PreprocessingRecord, PreprocessingSpec } from './preprocessing.js';
import { loadImagingResources, noCandidateCode, selectCandidateSeries, type CandidateSeries } from './study-selection.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, isSupportedTransferSyntax } from './transfer-syntax.js';

export interface RadiographProvenance {
  imagingStudyReference: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  /** When the study started (ISO 8601). */
  studyStarted: string;
  modality: string;
  view: SelectedInstance['view'];
  /** The transfer syntax the file arrived in; when the PACS transcoded it, the one it was stored in is unknown. */
  transferSyntaxUid: string;
  transcodedByPacs: boolean;
  /** Compromises made choosing the image (another view, For Processing...). */
  selectionReasons: string[];
}

export interface PreparedRadiograph {
  tensor: Float32Array;
  preprocessing: PreprocessingRecord;
  source: RadiographProvenance;
}

export interface RadiographRequest {
  patientId: string;
  /** Prefetched ImagingStudy search Bundles (with their Endpoints); otherwise `fhir` is searched. */
  prefetch?: readonly Bundle[];
  fhir?: FhirClient;
  view: WantedView;
  spec: PreprocessingSpec;
  /** The caller's deadline; aborting it stops any DICOMweb request in flight. */
  signal?: AbortSignal;
  /** Refuse an image of another projection instead of taking it as a compromise. */
  requireView?: boolean;
  /**
   * Refuse an image of anyone else ('patient-mismatch'), checked on the metadata and on the file. The
   * assessment always passes it; only imaging tools and tests that read sample files leave it out.
   */
  expectedPatient?: ExpectedPatient;
}

export interface RadiographSourceDeps {
  /** The expected patient comes with each request, so the identity rule is not needed here. */
  imaging: Omit<Config['imaging'], 'patientIdentity'>;
  dicomweb: DicomwebClientFactory;
  pool: WorkerPool;
  now: () => Date;
}

/** Most candidate series whose metadata is read before choosing. */
const MAX_CANDIDATES = 4;

export class RadiographSource {
  constructor(private readonly deps: RadiographSourceDeps) {}

  /** Finds, fetches and prepares the patient's most suitable lumbar spine radiograph. */
  async prepare(request: RadiographRequest): Promise<PreparedRadiograph> {
    let resources;
    try {
      resources = await loadImagingResources({ patientId: request.patientId, prefetch: request.prefetch, client: request.fhir, signal: request.signal });
    } catch (error) {
      if (error instanceof FhirRequestError) throw new ImagingError('fhir-error', `ImagingStudy search failed (${error.kind})`);
      throw error;
    }
    const selection = selectCandidateSeries({
      ...resources,
      now: this.deps.now(),
      lookbackDays: this.deps.imaging.lookbackDays,
      allowsEndpoint: (address) => this.deps.dicomweb.allows(address),
    });
    if (selection.candidates.length === 0) {
      throw new ImagingError(noCandidateCode(selection), selection.rejected[0]?.detail ?? 'no lumbar spine DX/CR study in the look-back window');
    }
    return this.prepareFromCandidates(selection.candidates, request);
  }

  /**
   * The DICOMweb half: metadata of the candidates (most recent first), choice, retrieve, decode. With
   * `requireView`, an image known to be another projection is refused ('wrong-view') before it is
   * downloaded; one whose view is not recorded is taken, with the compromise in its selection reasons.
   */
  async prepareFromCandidates(
    candidates: readonly CandidateSeries[],
    { view, spec, signal, requireView = false, expectedPatient }: Pick<RadiographRequest, 'view' | 'spec' | 'signal' | 'requireView' | 'expectedPatient'>,
  ): Promise<PreparedRadiograph> {
    const considered = candidates.slice(0, MAX_CANDIDATES);
    const sources = await this.readMetadata(considered, signal);
    const choice = selectInstance(sources.map((s) => s.source), view);
    if (!choice.ok) throw new ImagingError('no-suitable-instance', choice.reason);
    const { instance } = choice;
    if (requireView && instance.view !== view && instance.view !== 'unknown') {
      throw new ImagingError('wrong-view', `the model reads a ${view} view; the only usable image is ${instance.view === 'pa' ? 'PA' : instance.view}`);
    }
    const isChosen = (dataset: DicomJsonDataset): boolean => dataset['00080018']?.Value?.[0] === instance.sopInstanceUid;
    const origin = sources.find((s) => s.source.instances.some(isChosen))!;
    const metadata = origin.source.instances.find(isChosen);
    if (expectedPatient) {
      const mismatch = patientMismatch(dicomPatientOfJson(metadata), expectedPatient);
      if (mismatch !== null) throw new ImagingError('patient-mismatch', mismatch);
    }
    const advertised = metadata?.['00083002']?.Value?.[0];
    const { part10, transcodedByPacs, transferSyntaxUid } = await this.retrieve(origin.client, instance, typeof advertised === 'string' ? advertised : undefined, signal);
    const prepared = await decodeInWorker(this.deps.pool, part10, this.deps.imaging.limits, spec, expectedPatient);
    return {
      tensor: prepared.tensor,
      preprocessing: prepared.record,
      source: {
        imagingStudyReference: origin.candidate.imagingStudyReference,
        studyInstanceUid: instance.studyUid,
        seriesInstanceUid: instance.seriesUid,
        sopInstanceUid: instance.sopInstanceUid,
        studyStarted: origin.candidate.started.toISOString(),
        modality: origin.candidate.modality,
        view: instance.view,
        transferSyntaxUid,
        transcodedByPacs,
        selectionReasons: instance.reasons,
      },
    };
  }

  /**
   * Series-level candidates: WADO-RS series metadata (it has ViewCodeSequence, which QIDO leaves
   * out). Study-level ones: QIDO-RS instances of the study. A PACS that fails is passed over while
   * another candidate answers; when none does, the first failure is reported.
   */
  private async readMetadata(candidates: readonly CandidateSeries[], signal?: AbortSignal): Promise<{ candidate: CandidateSeries; client: DicomwebClient; source: InstanceSource }[]> {
    const results = await Promise.allSettled(
      candidates.map(async (candidate) => {
        const client = this.deps.dicomweb.forEndpoint(candidate.wadoRsBaseUrl);
        const instances: DicomJsonDataset[] = candidate.seriesInstanceUid
          ? await client.seriesMetadata(candidate.studyInstanceUid, candidate.seriesInstanceUid, { signal })
          : await client.searchInstances(candidate.studyInstanceUid, undefined, { includeFields: [...SELECTION_FIELDS, ...PATIENT_FIELDS], signal });
        return { candidate, client, source: { instances, bodySiteConfirmed: candidate.bodySiteConfirmed } };
      }),
    );
    const answered = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = results.find((r) => r.status === 'rejected');
    if (answered.length === 0 && failure) throw failure.reason;
    return answered;
  }

  /**
   * The file as stored when we can decode it; otherwise the PACS is asked for explicit little endian.
   * When the metadata advertises the stored syntax (AvailableTransferSyntaxUID), an undecodable file is not downloaded twice.
   */
  private async retrieve(
    client: DicomwebClient,
    instance: SelectedInstance,
    advertised: string | undefined,
    signal?: AbortSignal,
  ): Promise<{ part10: Uint8Array; transcodedByPacs: boolean; transferSyntaxUid: string }> {
    const maxBytes = this.deps.imaging.limits.maxBytes;
    const { studyUid, seriesUid, sopInstanceUid } = instance;
    let stored = advertised;
    if (stored === undefined || isSupportedTransferSyntax(stored)) {
      const asStored = await client.retrieveInstance(studyUid, seriesUid, sopInstanceUid, { transferSyntax: '*', maxBytes, signal });
      stored = readFileMeta(asStored.part10).transferSyntaxUid;
      if (isSupportedTransferSyntax(stored)) return { part10: asStored.part10, transcodedByPacs: false, transferSyntaxUid: stored };
    }
    try {
      const transcoded = await client.retrieveInstance(studyUid, seriesUid, sopInstanceUid, { transferSyntax: EXPLICIT_VR_LITTLE_ENDIAN, maxBytes, signal });
      return { part10: transcoded.part10, transcodedByPacs: true, transferSyntaxUid: readFileMeta(transcoded.part10).transferSyntaxUid };
    } catch (error) {
      if (error instanceof ImagingError && (error.code === 'pacs-error' || error.code === 'pacs-invalid-response')) {
        throw new ImagingError('unsupported-transfer-syntax', `stored as ${stored}, which this service cannot decode, and the PACS would not transcode it`);
      }
      throw error;
    }
  }
}
