// Card wording without servers: every card kind, model status and risk stays within the CDS Hooks
// rules (summary < 140 characters, a conformant card), non-clinical models say so, and the numbers
// are formatted as a clinician reads them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { nameBasedUuid } from '../../cds-services/shared/card-ids.js';
import { knownOsteoporosisCard, riskCard, type RiskCardKind } from '../../cds-services/shared/risk-card.js';
import { guidanceLines, percent } from '../../cds-services/shared/wording.js';
import type { Assessment } from '../../src/assessment/assessment.js';
import { responseProblems } from '../../src/cds/validation.js';
import type { ModelCard } from '../../src/model/model-card.js';

const card = JSON.parse(readFileSync('models/spine-deepsurv-demo/model-card.json', 'utf8')) as ModelCard;

function assessment(risk: number, status: Assessment['model']['status'], patient: Assessment['patient'] = { id: 'p1', age: 71.2, sex: 'female' }): Assessment {
  return {
    key: 'k'.repeat(40),
    computedAt: '2026-06-01T12:00:00.000Z',
    patient,
    fhirServer: 'https://fhir.test',
    model: { id: 'a-model-with-a-rather-long-identifier', version: '10.20.30', sha256: 'a'.repeat(64), name: 'Model', status, statement: 'Not for clinical use.', outcome: 'incident vertebral fracture', timeUnit: 'year' },
    image: { imagingStudy: 'ImagingStudy/s1', studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4', date: '2026-02-03T00:00:00.000Z', modality: 'DX', view: 'lateral', lossy: false, notes: [] },
    riskFactors: [
      { name: 'age', label: 'Age', value: 71.2, status: 'found', sources: ['Patient/p1'] },
      { name: 'weightKg', label: 'Weight', value: null, status: 'missing', sources: [], model: { value: 0, imputed: true } },
      { name: 'rheumatoidArthritis', label: 'Rheumatoid | arthritis', value: true, status: 'inferred', sources: ['Condition/9'], note: 'matched by text' },
    ],
    frax: { majorOsteoporoticPercent: 18.5, hipPercent: null, date: '2026-01-05', sources: ['Observation/4'] },
    dxa: [],
    logRisk: 0.4,
    curves: { times: [0, 1], survival: [1, 1 - risk], cumulativeIncidence: [0, risk], hazard: [] },
    horizons: [
      { horizon: 1, survival: 1 - risk / 5, risk: risk / 5 },
      { horizon: 5, survival: 1 - risk, risk },
    ],
    band: { name: 'high', label: 'High risk', indicator: 'critical', horizon: 5, risk },
    caveats: [],
  };
}

describe('fracture-risk cards', () => {
  it('every kind and status: summary under 140 characters, a conformant card, the status said plainly', () => {
    for (const kind of ['patient-view', 'glucocorticoid', 'dxa-order'] as RiskCardKind[]) {
      for (const status of ['demonstration', 'research', 'clinical'] as const) {
        for (const risk of [0.0004, 0.034, 0.999]) {
          const shown = riskCard({ serviceId: 'a-service', kind, assessment: assessment(risk, status), card, baseUrl: 'https://cds.test', userId: 'Practitioner/1', now: new Date(), offerDxa: kind !== 'dxa-order', smartLaunchUrl: 'https://app.test/launch' });
          assert.ok(shown.summary.length < 140, `${kind}/${status}: ${shown.summary.length} characters`);
          assert.deepEqual(responseProblems({ cards: [shown] }), []);
          if (status === 'clinical') assert.doesNotMatch(`${shown.summary}${shown.detail ?? ''}`, /not for clinical use/);
          else {
            assert.match(shown.summary, /^\[(Demo|Research) model\] /);
            assert.match(shown.detail ?? '', /model: not for clinical use\.\*\*/);
          }
        }
      }
    }
  });

  it('markdown stays a table when a value holds a pipe, and FRAX shows with its date', () => {
    const detail = riskCard({ serviceId: 's', kind: 'patient-view', assessment: assessment(0.2, 'demonstration'), card, baseUrl: 'https://cds.test', userId: 'Patient/x', now: new Date(), offerDxa: true }).detail ?? '';
    assert.match(detail, /\| Rheumatoid \\\| arthritis \| yes \| matched by text \|/);
    assert.match(detail, /\*\*FRAX on record \(5 Jan 2026\):\*\* 10-year major osteoporotic fracture 18\.5%\./);
    assert.match(detail, /\*\*Not on the chart \(the model used its default\):\*\* Weight\./);
  });

  it('a DXA order is requested by a practitioner only, and never offered for a DXA order', () => {
    const byPatient = riskCard({ serviceId: 's', kind: 'patient-view', assessment: assessment(0.2, 'clinical'), card, baseUrl: 'https://cds.test', userId: 'Patient/x', now: new Date(), offerDxa: true });
    const order = byPatient.suggestions?.[0]?.actions?.[0]?.resource as { requester?: unknown };
    assert.equal(order.requester, undefined);
    const dxa = riskCard({ serviceId: 's', kind: 'dxa-order', assessment: assessment(0.2, 'clinical'), card, baseUrl: 'https://cds.test', userId: 'Practitioner/1', now: new Date(), offerDxa: false });
    assert.deepEqual(dxa.suggestions?.map((s) => s.label), ['Record this risk assessment in the chart']);
  });

  it('guidance follows sex, age and a prior fracture', () => {
    assert.match(guidanceLines(assessment(0.1, 'clinical')).join(' '), /women 65 and older/);
    assert.match(guidanceLines(assessment(0.1, 'clinical', { id: 'p', age: 58, sex: 'female' })).join(' '), /under 65 at increased risk/);
    assert.match(guidanceLines(assessment(0.1, 'clinical', { id: 'p', age: 72, sex: 'male' })).join(' '), /men 70 and older/);
  });

  it('the short known-osteoporosis card is conformant', () => {
    const shown = knownOsteoporosisCard({ serviceId: 's', patientId: 'p', treatment: { status: 'active', drug: 'denosumab', date: '2026-01-01' }, diagnosed: true, baseUrl: 'https://cds.test', modelId: 'm' });
    assert.deepEqual(responseProblems({ cards: [shown] }), []);
    assert.match(shown.summary, /denosumab/);
  });

  it('percentages and stable uuids', () => {
    assert.deepEqual([0, 0.0004, 0.00099, 0.001, 0.034, 0.0299, 0.0996, 0.1, 0.29, 0.456].map(percent), ['0.0%', '<0.1%', '<0.1%', '0.1%', '3.4%', '2.9%', '9.9%', '10%', '29%', '45%']);
    const a = nameBasedUuid('svc', 'x');
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(nameBasedUuid('svc', 'x'), a);
    assert.notEqual(nameBasedUuid('svc', 'y'), a);
  });
});
