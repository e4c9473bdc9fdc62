// Pure helpers for the draft orders of a CDS Hooks order-select request (a Bundle of draft
// MedicationRequest / ServiceRequest resources): is this a systemic glucocorticoid, and for how long;
// is this a DXA. Drafts are read as defensively as a chart, with the same drug reading
// (medication-orders.ts), so a draft and the chart agree on what a glucocorticoid is.
import type { Medication, MedicationRequest, ServiceRequest } from 'fhir/r4.js';
import { LONG_TERM_GLUCOCORTICOID_DAYS, orderCourse, orderedMedication, systemicGlucocorticoid } from './medication-orders.js';
import { DXA_ORDER_CODES, DXA_ORDER_TEXT, matchesCode } from './terminology.js';
import { codingsOf, get, textsOf } from './untrusted-json.js';

export interface GlucocorticoidOrder {
  /** Ingredient name ("prednisone"), or "systemic glucocorticoid" when only an ATC class code says so. */
  drug: string;
  /** From the dosage bounds, else expected supply × (1 + repeats), else the validity period; null without any. */
  courseDays: number | null;
  /**
   * The course reaches FRAX's 3 months (90 days). A draft without a course is not long-term: short
   * bursts are common and often written without one, and a card for each would be noise.
   */
  longTerm: boolean;
  /** How the drug was recognised: a code (RxNorm, ATC) or its name in text. */
  via: 'code' | 'text';
}

/** The systemic glucocorticoid a draft MedicationRequest orders, or null (not one, or inhaled, topical and the like). */
export function glucocorticoidOrder(request: MedicationRequest, medications: readonly Medication[] = []): GlucocorticoidOrder | null {
  const ordered = orderedMedication(request, medications);
  const identity = ordered === undefined ? undefined : systemicGlucocorticoid(request, ordered);
  if (identity === undefined) return null;
  const courseDays = orderCourse(request).days;
  return { drug: identity.drug, courseDays, longTerm: courseDays !== null && courseDays >= LONG_TERM_GLUCOCORTICOID_DAYS, via: identity.via };
}

/** A DXA / bone densitometry order: SNOMED, CPT or LOINC code, else "DXA", "DEXA", "bone density", "densitometry" in its text. */
export function isDxaOrder(request: ServiceRequest): boolean {
  // Own property only, as everywhere input is read; a draft is whatever the EHR sent.
  const code = get(request, 'code');
  return codingsOf(code).some((c) => DXA_ORDER_CODES.some((dxa) => matchesCode(c, dxa))) || textsOf(code).some((t) => DXA_ORDER_TEXT.test(t));
}
