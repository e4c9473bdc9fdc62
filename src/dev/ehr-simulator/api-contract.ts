// The JSON the simulator's page and its server exchange (types only: the page bundle imports them too).
// Errors are `{ "error": { "code", "message" } }` with a 4xx/5xx status.
import type { Card } from '../../cds/types.js';

export type SimulatedHook = 'patient-view' | 'order-select';
export type DraftOrderKind = 'glucocorticoid' | 'dxa';

export interface PatientListItem {
  id: string;
  name: string;
  /** One line: what the patient shows. */
  scenario: string;
}

/** GET /api/session */
export interface SessionResponse {
  user: { name: string; fhirUser: string };
  fhirBaseUrl: string;
  cdsBaseUrl: string;
  patients: PatientListItem[];
}

export interface CodedEntry {
  text: string;
  /** FHIR date or dateTime, as recorded. */
  date?: string;
  status?: string;
  /** Dose, value or other detail, in words. */
  detail?: string;
  /** `Type/id` of the resource it came from. */
  reference: string;
}

/** GET /api/patients/:id/summary — the chart as the EHR shows it. */
export interface ChartSummary {
  patient: {
    id: string;
    name: string;
    sex: string | null;
    birthDate: string | null;
    /** Whole years at the simulator's date. */
    age: number | null;
  };
  /** The date the summary is as of (ISO). */
  asOf: string;
  problems: CodedEntry[];
  medications: CodedEntry[];
  /** The latest of each kind, newest first; DXA and FRAX results are under boneHealth. */
  observations: CodedEntry[];
  imaging: CodedEntry[];
  orders: CodedEntry[];
  familyHistory: CodedEntry[];
  boneHealth: {
    dxa: { site: string; tScore: number | null; date: string; reference: string }[];
    frax: { majorOsteoporoticPercent: number | null; hipPercent: number | null; date: string } | null;
  };
}

/** POST /api/patients/:id/hooks/patient-view */
export interface PatientViewBody {
  prefetch: boolean;
}

/** POST /api/patients/:id/hooks/order-select */
export interface OrderSelectBody {
  order: DraftOrderKind;
  prefetch: boolean;
}

/** A card as returned, with what the page needs to act on it. */
export interface CardEntry {
  /** The card's uuid, or a local id (`local-…`) when the service gave none (no feedback is possible then). */
  key: string;
  serviceId: string;
  hasUuid: boolean;
  card: Card;
}

export interface ServiceCall {
  serviceId: string;
  title?: string;
  /** HTTP status, or null when the service could not be reached. */
  status: number | null;
  durationMs: number;
  cards: CardEntry[];
  /** What went wrong, in words (unreachable, an HTTP error with its OperationOutcome text, a non-conformant answer). */
  error?: string;
  /** For the request/response view: the hook request with the access token redacted, the JWT without its signature, the answer. */
  exchange: {
    url: string;
    request: unknown;
    jwt: { header: Record<string, unknown>; claims: Record<string, unknown> };
    response: unknown;
    /** Prefetch keys sent, and keys left out (not fillable by this client, or the read failed). */
    prefetch: { sent: string[]; unfilled: string[] };
  };
}

export interface HookRunResponse {
  hook: SimulatedHook;
  patientId: string;
  /** The draft order of an order-select, in words. */
  order?: string;
  prefetchSent: boolean;
  /** The whole run: discovery (when not cached), prefetch reads, the calls. */
  totalMs: number;
  services: ServiceCall[];
  /** Discovery failed, or no service offers the hook. */
  error?: string;
}

/** POST /api/suggestions/apply — the server applies the suggestion's actions as the service returned them. */
export interface ApplyBody {
  serviceId: string;
  cardUuid: string;
  /** The suggestion's uuid, or `#<index>` when the service gave it none. */
  suggestionUuid: string;
}

export interface ActionResult {
  type: 'create' | 'update' | 'delete';
  description: string;
  status: 'done' | 'failed' | 'skipped';
  /** `Type/id` of the resource written. */
  reference?: string;
  httpStatus?: number;
  message?: string;
}

export interface FeedbackResult {
  sent: boolean;
  /** HTTP status of the service's answer, or null when it could not be reached or nothing was sent. */
  status: number | null;
  message?: string;
}

export interface ApplyResponse {
  actions: ActionResult[];
  /** `accepted` feedback, sent when every action was done. */
  feedback: FeedbackResult;
}

/** POST /api/feedback */
export type FeedbackBody =
  | { serviceId: string; cardUuid: string; outcome: 'accepted'; acceptedSuggestions: string[] }
  | { serviceId: string; cardUuid: string; outcome: 'overridden'; reasonCode?: string; comment?: string };

/** POST /api/launch */
export interface LaunchBody {
  patientId: string;
  url: string;
  appContext?: string;
}

export interface LaunchResponse {
  launchUrl: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string };
}
