// The Assessment: one patient's fracture-risk estimate with everything needed to show, audit and
// reproduce it (DESIGN.md, "Assessment"). The same object feeds the cards, the SMART app's API, the
// RiskAssessment write-back and batch scoring. When no estimate can honestly be made, the pipeline
// returns reason codes instead (Reason).
import type { DxaResult, FindingStatus, FraxResult, PatientRecord, RecordFactors } from '../fhir/patient-record.js';
import type { ImagingErrorCode } from '../imaging/errors.js';
import type { DetectedView } from '../imaging/instance-selection.js';
import type { ModelInputErrorCode, ModelRunErrorCode } from '../model/errors.js';
import type { RiskBand } from '../model/model-card.js';
import type { HorizonRisk, SurvivalCurves } from '../model/survival.js';

export type FactorKey = keyof RecordFactors;

export interface RiskFactorEntry {
  name: FactorKey;
  label: string;
  value: number | boolean | string | null;
  status: FindingStatus;
  sources: string[];
  date?: string;
  note?: string;
  /** What the model received for this factor, when it uses it; `imputed` = the card's missing-value rule supplied it. */
  model?: { value: number; imputed: boolean };
  /** Set for this assessment rather than read from the chart (order-select: the glucocorticoid being ordered). */
  overridden?: boolean;
}

export interface ImageUsed {
  imagingStudy: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  /** When the study started (ISO 8601). */
  date: string;
  modality: string;
  view: DetectedView;
  /** The pixels went through lossy compression at some point. */
  lossy: boolean;
  /** Compromises made choosing it (view not recorded, For Processing...). */
  notes: string[];
}

export interface ModelUsed {
  id: string;
  version: string;
  sha256: string;
  name: string;
  status: 'demonstration' | 'research' | 'clinical';
  /** The card's intended-use statement, shown wherever the numbers are. */
  statement: string;
  outcome: string;
  timeUnit: 'year';
}

export interface Assessment {
  /** Hash of everything that determines it: the cache key, the `appContext`, the RiskAssessment identifier. */
  key: string;
  computedAt: string;
  /** `age` in completed years (the model's fractional age is among `riskFactors`). */
  patient: { id: string; age: number; sex: 'female' | 'male' };
  fhirServer: string | null;
  model: ModelUsed;
  image: ImageUsed;
  riskFactors: RiskFactorEntry[];
  frax: FraxResult | null;
  dxa: DxaResult[];
  /** g(x), the model's log hazard ratio. */
  logRisk: number;
  curves: SurvivalCurves;
  /** F at each of the card's horizons (null past the baseline grid: never extrapolated). */
  horizons: HorizonRisk[];
  /** The band of F(riskBands.horizon): the card's headline. */
  band: Required<Pick<RiskBand, 'name' | 'label'>> & { indicator: NonNullable<RiskBand['indicator']>; horizon: number; risk: number };
  /** What the reader should know about the image: its view not recorded, lossy compression. */
  caveats: string[];
}

/** Why no estimate was made. Each has a code a program can act on and a detail a person can read (no PHI). */
export type ReasonCode =
  // the chart
  | 'chart-unavailable'
  | 'patient-mismatch'
  // the model's population
  | 'age-unknown'
  | 'sex-unknown'
  | 'age-out-of-range'
  | 'sex-out-of-range'
  // suppression
  | 'known-osteoporosis'
  | 'osteoporosis-treatment'
  | 'recent-dxa'
  // the radiograph
  | 'no-radiograph'
  | 'radiograph-too-old'
  | 'wrong-view'
  | 'radiograph-unreachable'
  | 'radiograph-unavailable'
  | 'radiograph-unusable'
  // the model
  | 'model-refused'
  | 'model-failed'
  // a defect of ours, met while assessing (logged with its error name, never shown as a risk)
  | 'assessment-failed'
  // the hook's deadline passed with the work unfinished (it goes on in the background)
  | 'pending';

export interface Reason {
  code: ReasonCode;
  /** The underlying typed error code, e.g. `pacs-timeout` or `missing-factor`. */
  cause?: ImagingErrorCode | ModelInputErrorCode | ModelRunErrorCode;
  detail: string;
}

export type AssessOutcome =
  | {
      status: 'assessed';
      assessment: Assessment;
      cached: boolean;
      record: PatientRecord;
      /** The preprocessed radiograph it read (the model's input tensor): from memory, else prepared again from the PACS. */
      pixels: () => Promise<Float32Array>;
    }
  | { status: 'not-assessed'; reasons: Reason[]; record: PatientRecord | null };

const IMAGING_REASONS: Record<ImagingErrorCode, ReasonCode> = {
  'no-eligible-study': 'no-radiograph',
  'study-too-old': 'radiograph-too-old',
  'wrong-view': 'wrong-view',
  'patient-mismatch': 'patient-mismatch',
  'no-dicomweb-endpoint': 'radiograph-unreachable',
  'endpoint-not-allowed': 'radiograph-unreachable',
  'fhir-error': 'radiograph-unavailable',
  'pacs-timeout': 'radiograph-unavailable',
  'pacs-unreachable': 'radiograph-unavailable',
  'pacs-not-found': 'radiograph-unavailable',
  'pacs-auth-failed': 'radiograph-unavailable',
  'pacs-error': 'radiograph-unavailable',
  'pacs-invalid-response': 'radiograph-unavailable',
  busy: 'radiograph-unavailable',
  'worker-failed': 'radiograph-unavailable',
  'decode-timeout': 'radiograph-unavailable',
  'no-suitable-instance': 'radiograph-unusable',
  'too-large': 'radiograph-unusable',
  'too-many-pixels': 'radiograph-unusable',
  'not-dicom': 'radiograph-unusable',
  truncated: 'radiograph-unusable',
  malformed: 'radiograph-unusable',
  'missing-pixel-data': 'radiograph-unusable',
  'pixel-data-length-mismatch': 'radiograph-unusable',
  'unsupported-transfer-syntax': 'radiograph-unusable',
  'unsupported-photometric': 'radiograph-unusable',
  'unsupported-pixel-format': 'radiograph-unusable',
  'multi-frame': 'radiograph-unusable',
  'decode-failed': 'radiograph-unusable',
};

export function imagingReason(code: ImagingErrorCode, detail: string): Reason {
  return { code: IMAGING_REASONS[code], cause: code, detail };
}

/** Failures that say something about the image itself, not about this moment (worth remembering for a while). */
export function isLastingImagingFailure(code: ImagingErrorCode): boolean {
  return IMAGING_REASONS[code] === 'radiograph-unusable' || code === 'wrong-view';
}

/** Reason codes that mean "no radiograph to read", as opposed to a failure reading one. */
export const NO_IMAGE_REASONS: ReadonlySet<ReasonCode> = new Set(['no-radiograph', 'radiograph-too-old', 'wrong-view']);
