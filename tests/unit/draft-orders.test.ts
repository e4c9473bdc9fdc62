// The order-select helpers: which draft MedicationRequests are systemic glucocorticoids and for how
// long, and which draft ServiceRequests are DXA orders.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeableConcept, Medication, MedicationRequest, ServiceRequest } from 'fhir/r4.js';
import { glucocorticoidOrder, isDxaOrder } from '../../src/fhir/draft-orders.js';
import { DXA_PROCEDURE, SYSTEM } from '../../src/fhir/terminology.js';

const subject = { reference: 'Patient/p1' };
const rxnorm = (code: string, display?: string): CodeableConcept => ({ coding: [{ system: SYSTEM.rxnorm, code, ...(display === undefined ? {} : { display }) }] });

function draft(medication: CodeableConcept, extra: Partial<MedicationRequest> = {}): MedicationRequest {
  return { resourceType: 'MedicationRequest', status: 'draft', intent: 'proposal', subject, medicationCodeableConcept: medication, ...extra };
}

const PREDNISONE = rxnorm('312617', 'predniSONE 5 MG Oral Tablet');
const bounded = (value: number, code: string): MedicationRequest['dosageInstruction'] => [{ timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', boundsDuration: { value, code, system: SYSTEM.ucum } } } }];

describe('glucocorticoidOrder', () => {
  it('names the drug and times the course from boundsDuration, boundsPeriod, supply × (1 + repeats), or the validity period', () => {
    assert.deepEqual(glucocorticoidOrder(draft(PREDNISONE, { dosageInstruction: bounded(5, 'd') })), { drug: 'prednisone', courseDays: 5, longTerm: false, via: 'code' });
    assert.deepEqual(glucocorticoidOrder(draft(PREDNISONE, { dosageInstruction: bounded(3, 'mo') })), { drug: 'prednisone', courseDays: 91.3125, longTerm: true, via: 'code' });
    const period = draft(PREDNISONE, { dosageInstruction: [{ timing: { repeat: { boundsPeriod: { start: '2025-01-01', end: '2025-04-01' } } } }] });
    assert.deepEqual(glucocorticoidOrder(period), { drug: 'prednisone', courseDays: 90, longTerm: true, via: 'code' });
    const supply = draft(PREDNISONE, { dispenseRequest: { expectedSupplyDuration: { value: 30, code: 'd' }, numberOfRepeatsAllowed: 2 } });
    assert.deepEqual(glucocorticoidOrder(supply), { drug: 'prednisone', courseDays: 90, longTerm: true, via: 'code' });
    const validity = draft(PREDNISONE, { authoredOn: '2025-01-01', dispenseRequest: { validityPeriod: { end: '2025-02-01' } } });
    assert.deepEqual(glucocorticoidOrder(validity), { drug: 'prednisone', courseDays: 31, longTerm: false, via: 'code' });
  });

  it('sums a taper written as sequential dosage instructions', () => {
    const step = (sequence: number, days: number): NonNullable<MedicationRequest['dosageInstruction']>[number] => ({ sequence, timing: { repeat: { boundsDuration: { value: days, code: 'd' } } } });
    const taper = draft(rxnorm('8640', 'prednisone'), { dosageInstruction: [step(1, 14), step(2, 14), step(3, 14)] });
    assert.equal(glucocorticoidOrder(taper)?.courseDays, 42);
  });

  it('without a course: courseDays null and not long-term (short bursts are common and a card each would be noise)', () => {
    assert.deepEqual(glucocorticoidOrder(draft(PREDNISONE)), { drug: 'prednisone', courseDays: null, longTerm: false, via: 'code' });
  });

  it('recognises ingredients by RxNorm, ATC (also by class), and by name in text', () => {
    assert.equal(glucocorticoidOrder(draft(rxnorm('3264')))?.drug, 'dexamethasone');
    assert.equal(glucocorticoidOrder(draft({ coding: [{ system: SYSTEM.atc, code: 'H02AB04' }] }))?.drug, 'methylprednisolone');
    assert.equal(glucocorticoidOrder(draft({ coding: [{ system: SYSTEM.atc, code: 'H02AB15' }] }))?.drug, 'systemic glucocorticoid');
    assert.deepEqual(glucocorticoidOrder(draft({ text: 'Medrol Dosepak 4 mg tablets' })), { drug: 'methylprednisolone', courseDays: null, longTerm: false, via: 'text' });
  });

  it('reads a contained Medication or one given beside the Bundle', () => {
    const medication: Medication = { resourceType: 'Medication', id: 'm1', code: PREDNISONE };
    const contained = draft(PREDNISONE, { medicationCodeableConcept: undefined, contained: [medication], medicationReference: { reference: '#m1' } });
    assert.equal(glucocorticoidOrder(contained)?.drug, 'prednisone');
    const referenced = draft(PREDNISONE, { medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/m1' } });
    assert.equal(glucocorticoidOrder(referenced, [medication])?.drug, 'prednisone');
    assert.equal(glucocorticoidOrder(referenced), null, 'unresolved');
  });

  it('is null for other drugs and for inhaled, nasal, topical and joint-injected glucocorticoids', () => {
    const notSystemic = [
      draft(rxnorm('197361', 'amoxicillin 500 MG Oral Capsule')),
      draft({ text: 'budesonide 180 MCG/ACTUAT Dry Powder Inhaler' }),
      draft({ text: 'fluticasone propionate 50 MCG/ACTUAT Nasal Spray' }),
      draft({ text: 'hydrocortisone 2.5 % Topical Ointment' }),
      draft(rxnorm('10759', 'triamcinolone'), { dosageInstruction: [{ route: { text: 'intra-articular' } }] }),
      draft(rxnorm('5492', 'hydrocortisone'), { dosageInstruction: [{ route: { coding: [{ system: SYSTEM.snomed, code: '6064005', display: 'Topical route' }] } }] }),
    ];
    for (const request of notSystemic) assert.equal(glucocorticoidOrder(request), null, JSON.stringify(request.medicationCodeableConcept));
    const oralTriamcinolone = draft(rxnorm('10759', 'triamcinolone'), { dosageInstruction: [{ route: { coding: [{ system: SYSTEM.snomed, code: '26643006' }] } }] });
    assert.equal(glucocorticoidOrder(oralTriamcinolone)?.drug, 'triamcinolone');
  });

  it('never throws on a malformed draft', () => {
    const shapes = [{}, { medicationCodeableConcept: 'prednisone' }, { medicationCodeableConcept: { coding: [null] } }, { medicationReference: { reference: 7 } }, JSON.parse('{"__proto__":{"medicationCodeableConcept":{"text":"prednisone"}}}')];
    for (const shape of shapes) assert.equal(glucocorticoidOrder(shape as MedicationRequest), null);
    const badCourse = draft(PREDNISONE, { dosageInstruction: [{ timing: { repeat: { boundsDuration: { value: -3, code: 'd' } } } }], dispenseRequest: JSON.parse('{"expectedSupplyDuration":{"value":"x"}}') as MedicationRequest['dispenseRequest'] });
    assert.deepEqual(glucocorticoidOrder(badCourse), { drug: 'prednisone', courseDays: null, longTerm: false, via: 'code' });
  });
});

describe('isDxaOrder', () => {
  const service = (code: CodeableConcept): ServiceRequest => ({ resourceType: 'ServiceRequest', status: 'draft', intent: 'proposal', subject, code });

  it('recognises SNOMED, CPT and LOINC DXA codes, and DXA words in text', () => {
    for (const code of [
      { coding: [{ ...DXA_PROCEDURE }] },
      { coding: [{ system: SYSTEM.cpt, code: '77080' }] },
      { coding: [{ system: SYSTEM.cpt, code: '77081' }] },
      { coding: [{ system: SYSTEM.cpt, code: '77085' }] },
      { coding: [{ system: SYSTEM.cpt, code: '77086' }] },
      { coding: [{ system: SYSTEM.loinc, code: '38269-7' }] },
      { text: 'DEXA scan hip and spine' },
      { text: 'DXA' },
      { text: 'Bone mineral density study' },
      { coding: [{ system: 'http://example.org/orderables', code: 'BD1', display: 'Bone densitometry' }] },
    ]) {
      assert.equal(isDxaOrder(service(code)), true, JSON.stringify(code));
    }
  });

  it('is false for other orders and for malformed ones', () => {
    for (const code of [{ text: 'XR lumbar spine 2 views' }, { coding: [{ system: SYSTEM.cpt, code: '72100' }] }, {}]) assert.equal(isDxaOrder(service(code)), false);
    for (const shape of [{}, { code: 'DXA' }, { code: { coding: 'x' } }, null]) assert.equal(isDxaOrder(shape as unknown as ServiceRequest), false);
  });

  it('DXA_PROCEDURE is SNOMED CT "Bone density scan", for the ServiceRequest the service proposes', () => {
    assert.deepEqual(DXA_PROCEDURE, { system: SYSTEM.snomed, code: '312681000', display: 'Bone density scan' });
  });
});
