// What crosses the wire between the SMART app and its backend (src/api/smart-api.ts). Types only:
// the app (smart-app/) imports them too, so the two sides cannot drift.
//
// Every route takes the app's SMART access token (`Authorization: Bearer …`) and the FHIR base URL
// the token was issued for (`X-FHIR-Server: <iss>`). The backend reads the patient with that token
// before it answers anything, uses the token only for that patient's reads, and never stores it.
//
//   GET  /api/patients/:id/assessment[?context=<key>]  → AssessmentResponse
//   POST /api/patients/:id/what-if   body WhatIfRequest → AssessmentResponse (hypothetical, not stored)
//   GET  /api/patients/:id/radiograph.png               → the preprocessed radiograph (grey PNG)
//   GET  /api/patients/:id/explanation.png              → the same with the occlusion map over it
//   GET  /models/:id (Accept: application/json)         → the model card (public, no token)
import type { ServiceRequest } from 'fhir/r4.js';
import type { Assessment, Reason } from '../assessment/assessment.js';
import type { YesNoFactor } from '../model/risk-factors.js';

export type { Assessment, Reason, RiskFactorEntry, ImageUsed, ModelUsed } from '../assessment/assessment.js';
export type { HazardInterval, HorizonRisk, SurvivalCurves } from '../model/survival.js';
export type { YesNoFactor } from '../model/risk-factors.js';

/** The factors a what-if may change: the yes/no ones (FRAX's clinical risk factors). */
export interface WhatIfRequest {
  factors: Partial<Record<YesNoFactor, boolean>>;
}

export interface AssessedResponse {
  status: 'assessed';
  /** `hypothetical` is true for a what-if: factors changed by the user, never stored or written back. */
  assessment: Assessment & { hypothetical: boolean };
  /**
   * When the app was launched with an appContext key: whether the chart still gives that assessment.
   * False means the chart changed since the card was shown (the app says so); null when no key was given.
   */
  contextMatches: boolean | null;
  /**
   * Draft orders the app can write with the user's token (the same resource the card's suggestion
   * carries; the app adds the requester). Null for a what-if: an order's reason is the chart's risk.
   */
  orders: { dxa: ServiceRequest } | null;
}

export interface NotAssessedResponse {
  status: 'not-assessed';
  /** Why no estimate was made; `code` is stable, `detail` is for people (no PHI). */
  reasons: Reason[];
  /** The model that would have been used (for the intended-use statement). */
  model: { id: string; version: string; statement: string; status: Assessment['model']['status'] };
}

export type AssessmentResponse = AssessedResponse | NotAssessedResponse;

/**
 * Errors are JSON `{ error: { code, message } }`, never a stack:
 *   400 bad-request          malformed id, header or body
 *   401 token-missing        no bearer token
 *   401 token-rejected       the FHIR server refused the token (expired, revoked, forged)
 *   403 fhir-not-allowed     the FHIR server is not on the service's allow-list
 *   403 patient-not-accessible  the token does not give access to this patient
 *   502 fhir-unavailable     the FHIR server could not be reached or answered badly
 *   404 not-found            nothing there (e.g. no radiograph for the explanation)
 *   502 image-unavailable    the radiograph could not be read again for a picture
 *   503 busy                 the service is overloaded; try again
 */
export type ApiErrorCode =
  | 'bad-request'
  | 'token-missing'
  | 'token-rejected'
  | 'fhir-not-allowed'
  | 'patient-not-accessible'
  | 'fhir-unavailable'
  | 'not-found'
  | 'image-unavailable'
  | 'busy'
  | 'internal';

export interface ApiError {
  error: { code: ApiErrorCode; message: string };
}

/** Served at /smart-app/config.json from the service's configuration: what the app needs before it launches. */
export interface SmartAppConfig {
  clientId: string;
  /** Scopes the app asks for; `launch` or `launch/patient` is added by the kind of launch. */
  scopes: string[];
  /** Where the backend routes above live (absolute, or relative to the app's page). */
  apiBase: string;
}
