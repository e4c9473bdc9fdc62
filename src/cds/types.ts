// CDS Hooks 2.0.1 wire types (the JSON Schemas in ./schemas are the source of truth for validation).
import type { Bundle, Coding, FhirResource } from 'fhir/r4.js';

export const HOOKS = ['patient-view', 'order-select', 'order-sign'] as const;
export type HookName = (typeof HOOKS)[number];

export type Extension = Record<string, unknown>;

export interface FhirAuthorization {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  subject: string;
  patient?: string;
}

export interface PatientViewContext {
  userId: string;
  patientId: string;
  encounterId?: string;
}

export interface OrderSelectContext extends PatientViewContext {
  selections: string[];
  draftOrders: Bundle;
}

export interface OrderSignContext extends PatientViewContext {
  draftOrders: Bundle;
}

export interface HookContexts {
  'patient-view': PatientViewContext;
  'order-select': OrderSelectContext;
  'order-sign': OrderSignContext;
}

/** A prefetch value: a resource, or null when the client has no such data. */
export type PrefetchValue = FhirResource | null;

/** The request body as it arrives, after schema validation. */
export interface HookRequest<H extends HookName = HookName> {
  hook: H;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  context: HookContexts[H];
  prefetch?: Record<string, PrefetchValue>;
  extension?: Extension;
}

export interface Source {
  label: string;
  url?: string;
  icon?: string;
  topic?: Coding;
}

export interface Action {
  type: 'create' | 'update' | 'delete';
  description: string;
  resource?: FhirResource;
  resourceId?: string;
}

export interface Suggestion {
  label: string;
  uuid?: string;
  isRecommended?: boolean;
  actions?: Action[];
}

export interface Link {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
  appContext?: string;
  autolaunchable?: boolean;
}

export interface Card {
  uuid?: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: Source;
  suggestions?: Suggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: Coding[];
  links?: Link[];
  extension?: Extension;
}

export interface CdsResponse {
  cards: Card[];
  systemActions?: Action[];
}

export interface ServiceDefinition {
  id: string;
  hook: HookName;
  title?: string;
  description: string;
  prefetch?: Record<string, string>;
  usageRequirements?: string;
}

export interface DiscoveryDocument {
  services: ServiceDefinition[];
}

export interface FeedbackItem {
  card: string;
  outcome: 'accepted' | 'overridden';
  acceptedSuggestions?: { id: string }[];
  overrideReason?: { reason?: Coding; userComment?: string };
  outcomeTimestamp: string;
}

export interface FeedbackRequest {
  feedback: FeedbackItem[];
}
