// An Assessment as a FHIR R4 RiskAssessment: what the card's "record the assessment" suggestion
// creates and what batch scoring writes back. Its identifier is the assessment key, so an order can
// point at it before it has a server id, and a second write of the same assessment is recognisable.
import type { Reference, RiskAssessment, RiskAssessmentPrediction } from 'fhir/r4.js';
import type { Assessment } from './assessment.js';

/** Identifier system of assessments (value = Assessment.key). */
export const ASSESSMENT_IDENTIFIER_SYSTEM = 'https://spine-fracture-cds.example/fhir/assessment';
/** Code system of the models' risk bands (code = band name, as in the model card). */
export const RISK_BAND_SYSTEM = 'https://spine-fracture-cds.example/fhir/risk-band';
/** Code system of the models (code = model id, version = model version). */
export const MODEL_SYSTEM = 'https://spine-fracture-cds.example/fhir/model';

/** A logical reference to the RiskAssessment of an assessment (by identifier: it may not be on the server yet). */
export function assessmentReference(assessment: Assessment): Reference {
  return {
    type: 'RiskAssessment',
    identifier: { system: ASSESSMENT_IDENTIFIER_SYSTEM, value: assessment.key },
    display: `Fracture-risk assessment from the lumbar spine radiograph (${assessment.model.id} ${assessment.model.version})`,
  };
}

/** The disclaimer every representation of a non-clinical model's numbers carries. */
export function intendedUseNote(assessment: Assessment): string | undefined {
  if (assessment.model.status === 'clinical') return undefined;
  const what = assessment.model.status === 'demonstration' ? 'a synthetic demonstration model' : 'a research model';
  return `From ${what}, not for clinical use. ${assessment.model.statement}`;
}

export function riskAssessmentResource(assessment: Assessment, options: { performer?: Reference } = {}): RiskAssessment {
  const sources = [...new Set(assessment.riskFactors.filter((f) => !f.overridden).flatMap((f) => f.sources))];
  const prediction: RiskAssessmentPrediction[] = assessment.horizons.flatMap((h) =>
    h.risk === null
      ? []
      : [
          {
            outcome: { text: assessment.model.outcome },
            probabilityDecimal: Number(h.risk.toFixed(4)),
            ...(h.horizon === assessment.band.horizon ? { qualitativeRisk: { coding: [{ system: RISK_BAND_SYSTEM, code: assessment.band.name }], text: assessment.band.label } } : {}),
            whenRange: { high: { value: h.horizon, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' } },
          },
        ],
  );
  const note = intendedUseNote(assessment);
  return {
    resourceType: 'RiskAssessment',
    identifier: [{ system: ASSESSMENT_IDENTIFIER_SYSTEM, value: assessment.key }],
    status: 'final',
    subject: { reference: `Patient/${assessment.patient.id}` },
    occurrenceDateTime: assessment.computedAt,
    method: {
      coding: [{ system: MODEL_SYSTEM, code: assessment.model.id, version: assessment.model.version, display: assessment.model.name }],
      text: `${assessment.model.name} ${assessment.model.version}`,
    },
    ...(options.performer ? { performer: options.performer } : {}),
    basis: [{ reference: assessment.image.imagingStudy }, ...sources.map((reference) => ({ reference }))],
    prediction,
    ...(note ? { note: [{ text: note }] } : {}),
  };
}
