// The DXA order an assessment proposes, as a FHIR R4 ServiceRequest: the card's suggestion carries it
// and the SMART app's "Order DXA" writes it. Its reason points at the assessment's RiskAssessment by
// identifier, and a non-clinical model's disclaimer travels with it as a note.
import type { Reference, ServiceRequest } from 'fhir/r4.js';
import { DXA_PROCEDURE } from '../fhir/terminology.js';
import type { Assessment } from './assessment.js';
import { assessmentReference, intendedUseNote } from './risk-assessment-resource.js';
import { percent, years } from './risk-wording.js';

export interface DxaOrderOptions {
  now: Date;
  /** Who orders it (a Practitioner or PractitionerRole reference), when known. */
  requester?: Reference;
}

export function dxaServiceRequest(assessment: Assessment, options: DxaOrderOptions): ServiceRequest {
  const note = intendedUseNote(assessment);
  return {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'order',
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '363679005', display: 'Imaging' }] }],
    code: { coding: [{ system: DXA_PROCEDURE.system, code: DXA_PROCEDURE.code, display: DXA_PROCEDURE.display }], text: 'DXA bone densitometry' },
    subject: { reference: `Patient/${assessment.patient.id}` },
    authoredOn: options.now.toISOString(),
    ...(options.requester ? { requester: options.requester } : {}),
    reasonCode: [{ text: `${years(assessment.band.horizon)} vertebral fracture risk ${percent(assessment.band.risk)} (${assessment.band.label}) predicted from the lumbar spine radiograph` }],
    reasonReference: [assessmentReference(assessment)],
    supportingInfo: [{ reference: assessment.image.imagingStudy }],
    ...(note ? { note: [{ text: note }] } : {}),
  };
}

/** A reference to the hook's or the app's user when it is a practitioner (the only kind that orders). */
export function practitionerReference(user: string | undefined): Reference | undefined {
  return user !== undefined && /^(Practitioner|PractitionerRole)\/[A-Za-z0-9.-]{1,64}$/.test(user) ? { reference: user } : undefined;
}
