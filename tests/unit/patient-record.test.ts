// readPatientRecord: the synthetic cohort's FRAX factors come back from its FHIR records exactly, and
// the many ways real charts code the same fact (SNOMED CT, ICD-10-CM, ICD-10, text; units; statuses)
// are read, while refuted, entered-in-error, future-dated and other patients' resources are left out
// and malformed input never throws.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeableConcept, Condition, FamilyMemberHistory, Medication, MedicationRequest, Observation, Patient } from 'fhir/r4.js';
import { ageInWholeYears, readPatientRecord, riskFactorsOf, type PatientRecord, type PatientRecordInput } from '../../src/fhir/patient-record.js';
import { FEMORAL_NECK_BODY_SITE, OBSERVATION_CODES, SMOKING_STATUS, SYSTEM, type Code } from '../../src/fhir/terminology.js';
import type { RiskFactors } from '../../src/model/risk-factors.js';
import { OSTEOPOROSIS_SET, PRIOR_FRAGILITY_FRACTURE_SET, RHEUMATOID_ARTHRITIS_SET, SECONDARY_OSTEOPOROSIS_SETS, HIP_FRACTURE_SET } from '../../src/fhir/value-sets.js';
import { syntheticPatient } from '../../src/synthetic/cohort.js';
import { patientResources } from '../../src/synthetic/fhir-resources.js';

const PID = 'pat-1';
const ASOF = new Date('2025-06-30T00:00:00Z');
const subject = { reference: `Patient/${PID}` };
let serial = 0;
const nextId = (): string => `r${++serial}`;

function read(partial: Partial<PatientRecordInput>): PatientRecord {
  return readPatientRecord({ patientId: PID, patient: null, observations: [], conditions: [], medicationRequests: [], medications: [], familyMemberHistories: [], asOf: ASOF, ...partial });
}

const concept = (system: string, code: string, display?: string): CodeableConcept => ({ coding: [{ system, code, ...(display === undefined ? {} : { display }) }] });
const sct = (code: string): CodeableConcept => concept(SYSTEM.snomed, code);
const icd10cm = (code: string): CodeableConcept => concept(SYSTEM.icd10cm, code);
const icd10 = (code: string): CodeableConcept => concept(SYSTEM.icd10, code);
const rxnorm = (code: string, display?: string): CodeableConcept => concept(SYSTEM.rxnorm, code, display);
const text = (value: string): CodeableConcept => ({ text: value });
const status = (system: string, code: string): CodeableConcept => ({ coding: [{ system, code }] });

function condition(code: CodeableConcept, extra: Partial<Condition> = {}): Condition {
  return { resourceType: 'Condition', id: nextId(), subject, code, ...extra };
}

function observation(code: Code, value: Partial<Observation>, date = '2025-06-01', extra: Partial<Observation> = {}): Observation {
  return { resourceType: 'Observation', id: nextId(), status: 'final', code: { coding: [{ system: code.system, code: code.code }] }, subject, effectiveDateTime: date, ...value, ...extra };
}

const quantity = (value: number, code: string): Partial<Observation> => ({ valueQuantity: { value, unit: code, system: SYSTEM.ucum, code } });

function order(medication: CodeableConcept, extra: Partial<MedicationRequest> = {}): MedicationRequest {
  return { resourceType: 'MedicationRequest', id: nextId(), status: 'active', intent: 'order', subject, authoredOn: '2025-01-10', medicationCodeableConcept: medication, ...extra };
}

const PREDNISONE_5MG_TABLET = rxnorm('312617', 'predniSONE 5 MG Oral Tablet');

describe('patient record: the synthetic cohort round trip', () => {
  // The generator writes a Condition, MedicationRequest or FamilyMemberHistory only when the factor is
  // true, and an alcohol intake for only some non-drinkers: for these a cohort `false` is "not recorded".
  const absenceNotWritten: ReadonlySet<keyof RiskFactors> = new Set([
    'priorFragilityFracture',
    'parentHipFracture',
    'glucocorticoids',
    'rheumatoidArthritis',
    'secondaryOsteoporosis',
    'alcohol',
  ]);

  it('gives back the factors of 400 patients of two seeds: numbers exactly, booleans or "not recorded"', () => {
    let checked = 0;
    for (const seed of [11, 2024]) {
      for (let index = 0; index < 200; index++) {
        const patient = syntheticPatient(seed, index);
        const record = patientResources(patient, { asOf: ASOF, dicomWebBaseUrl: 'http://127.0.0.1:8042/dicom-web' });
        const result = readPatientRecord({
          patientId: patient.id,
          patient: record.patient,
          observations: record.observations,
          conditions: record.conditions,
          medicationRequests: record.medicationRequests,
          medications: [],
          familyMemberHistories: record.familyMemberHistories,
          asOf: new Date(record.imagingStudy.started!),
        });
        const got = riskFactorsOf(result);
        for (const name of Object.keys(patient.factors) as (keyof RiskFactors)[]) {
          const expected = patient.factors[name];
          const ok = got[name] === expected || (expected === false && got[name] === null && absenceNotWritten.has(name));
          assert.ok(ok, `${patient.id} ${name}: expected ${String(expected)}, got ${String(got[name])}`);
        }
        for (const [name, f] of Object.entries(result.factors)) if (f.value !== null) assert.equal(f.status, 'found', `${patient.id} ${name}`);
        assert.deepEqual(result.problems, [], patient.id);
        checked++;
      }
    }
    assert.equal(checked, 400);
  });
});

describe('patient record: age', () => {
  const aged = (birthDate: string): PatientRecord => read({ patient: { resourceType: 'Patient', id: PID, birthDate } });

  it('gives the model one-decimal years, and completed years for rules and wording (the day before a birthday is not the birthday)', () => {
    // asOf 2025-06-30: born 1960-07-01 is 23,740 days, 64.997 years: the model reads 65.0, the patient is 64.
    const eve = aged('1960-07-01');
    assert.equal(eve.factors.age.value, 65);
    assert.equal(ageInWholeYears(eve), 64);
    assert.equal(ageInWholeYears(aged('1960-06-30')), 65, 'the 65th birthday');
    assert.equal(ageInWholeYears(aged('1960-02-29')), 65, 'a leap-day birth date');
  });

  it('with a partial birth date, the whole years of the model age; none without one', () => {
    assert.equal(ageInWholeYears(aged('1960')), Math.floor(aged('1960').factors.age.value!));
    assert.equal(ageInWholeYears(read({})), null);
  });
});

describe('patient record: conditions coded many ways', () => {
  const cases: { name: string; factor: 'rheumatoidArthritis' | 'priorFragilityFracture' | 'secondaryOsteoporosis'; codes: CodeableConcept[] }[] = [
    { name: 'rheumatoid arthritis', factor: 'rheumatoidArthritis', codes: [sct('69896004'), sct('239791005'), icd10cm('M05.79'), icd10cm('M0579'), icd10cm('M06.9'), icd10('M06.0')] },
    {
      name: 'prior fracture',
      factor: 'priorFragilityFracture',
      codes: [sct('5913000'), sct('443165006'), sct('263199001'), icd10cm('S32.010A'), icd10cm('S22.000A'), icd10cm('M80.08XA'), icd10cm('M48.50XA'), icd10cm('S72.001A'), icd10cm('S52.501A'), icd10cm('S42.201A'), icd10cm('Z87.310'), icd10('S72.0')],
    },
    {
      name: 'secondary osteoporosis',
      factor: 'secondaryOsteoporosis',
      codes: [sct('46635009'), sct('19943007'), icd10cm('E10.9'), icd10cm('Q78.0'), icd10cm('E05.00'), icd10cm('E28.310'), icd10cm('E29.1'), icd10cm('K90.0'), icd10cm('E43'), icd10cm('K74.60'), icd10cm('K70.30'), icd10('E10')],
    },
  ];
  for (const { name, factor, codes } of cases) {
    it(`${name}: SNOMED CT, ICD-10-CM with or without the dot, and ICD-10 are "found", with the code in the note`, () => {
      for (const code of codes) {
        const f = read({ conditions: [condition(code)] }).factors[factor];
        assert.equal(f.value, true, JSON.stringify(code));
        assert.equal(f.status, 'found');
        assert.ok(f.note?.includes(code.coding![0]!.code!), f.note);
      }
    });
  }

  it('text only (code.text, or a display when no code matched) is "inferred", matched by text', () => {
    const texts: [string, 'rheumatoidArthritis' | 'priorFragilityFracture' | 'secondaryOsteoporosis'][] = [
      ['Rheumatoid arthritis, seropositive', 'rheumatoidArthritis'],
      ['Compression fracture of L2 vertebra', 'priorFragilityFracture'],
      ['Old fracture of left wrist', 'priorFragilityFracture'],
      ['Type 1 diabetes mellitus', 'secondaryOsteoporosis'],
      ['Coeliac disease', 'secondaryOsteoporosis'],
      ['Alcoholic cirrhosis', 'secondaryOsteoporosis'],
    ];
    for (const [value, factor] of texts) {
      const f = read({ conditions: [condition(text(value))] }).factors[factor];
      assert.deepEqual([f.value, f.status], [true, 'inferred'], value);
      assert.match(f.note!, /^matched by text/);
    }
    const display = condition({ coding: [{ system: 'http://example.org/local', code: 'X1', display: 'Rheumatoid arthritis' }] });
    assert.equal(read({ conditions: [display] }).factors.rheumatoidArthritis.status, 'inferred');
  });

  it('does not read negations, family history, or codes outside the sets', () => {
    const notThere = ['No rheumatoid arthritis', 'Family history of hip fracture', 'Risk of fracture', 'Non-insulin-dependent diabetes mellitus', 'Screening for osteoporosis'];
    for (const value of notThere) {
      const f = read({ conditions: [condition(text(value))] }).factors;
      assert.deepEqual([f.rheumatoidArthritis.value, f.priorFragilityFracture.value, f.secondaryOsteoporosis.value], [null, null, null], value);
    }
    // Adult-onset Still's disease, type 2 diabetes, alcoholic hepatitis (acute), localized osteoporosis.
    for (const code of ['M06.1', 'E11.9', 'K70.1', 'M81.6']) {
      const record = read({ conditions: [condition(icd10cm(code))] });
      assert.equal(record.factors.rheumatoidArthritis.value ?? record.factors.secondaryOsteoporosis.value ?? record.osteoporosis.value, null, code);
    }
  });

  it('osteoporosis diagnosis: SNOMED (and descendants), ICD-10-CM M81, WHO ICD-10 M81, text', () => {
    for (const code of [sct('64859006'), sct('102447009'), icd10cm('M81.0'), icd10('M81.0')]) {
      const f = read({ conditions: [condition(code)] }).osteoporosis;
      assert.deepEqual([f.value, f.status], [true, 'found'], JSON.stringify(code));
    }
    assert.equal(read({ conditions: [condition(text('Postmenopausal osteoporosis'))] }).osteoporosis.status, 'inferred');
    assert.equal(read({ conditions: [condition(icd10cm('M85.80'))] }).osteoporosis.value, null, 'osteopenia is not osteoporosis');
  });

  it('an osteoporotic fracture is a prior fragility fracture only, not known osteoporosis (the card must not be suppressed)', () => {
    const fractures: CodeableConcept[] = [
      sct('443165006'),
      concept(SYSTEM.snomed, '443165006', 'Pathological fracture due to osteoporosis'),
      sct('240198002'),
      icd10cm('M80.08XA'),
      concept(SYSTEM.icd10cm, 'M80.08XA', 'Age-related osteoporosis with current pathological fracture, vertebra(e), initial encounter for fracture'),
      icd10('M80.0'),
      text('Osteoporotic fracture of L1 vertebra'),
      text('Osteoporosis with vertebral collapse'),
    ];
    for (const code of fractures) {
      const record = read({ conditions: [condition(code)] });
      assert.equal(record.factors.priorFragilityFracture.value, true, JSON.stringify(code));
      assert.deepEqual([record.osteoporosis.value, record.osteoporosis.status], [null, 'missing'], JSON.stringify(code));
    }
    const both = read({ conditions: [condition(icd10cm('M80.08XA')), condition(icd10cm('M81.0'))] });
    assert.deepEqual([both.factors.priorFragilityFracture.value, both.osteoporosis.value, both.osteoporosis.note], [true, true, 'ICD-10-CM M81.0']);
  });

  it('ignores refuted and entered-in-error conditions, recording a problem; unconfirmed ones are "missing" with a note', () => {
    const verification = (code: string): Partial<Condition> => ({ verificationStatus: status(SYSTEM.conditionVerification, code) });
    const record = read({ conditions: [condition(sct('69896004'), verification('refuted')), condition(icd10cm('S32.010A'), verification('entered-in-error'))] });
    assert.equal(record.factors.rheumatoidArthritis.value, null);
    assert.equal(record.factors.priorFragilityFracture.value, null);
    assert.deepEqual(record.problems, ['Condition with verification status refuted ignored', 'Condition with verification status entered-in-error ignored']);
    const provisional = read({ conditions: [condition(sct('69896004'), verification('provisional'))] }).factors.rheumatoidArthritis;
    assert.deepEqual([provisional.value, provisional.status, provisional.note], [null, 'missing', 'rheumatoid arthritis recorded but not confirmed']);
  });

  it('clinical status: a resolved fracture counts; resolved RA and hyperthyroidism in remission are false; none means present', () => {
    const clinical = (code: string): Partial<Condition> => ({ clinicalStatus: status(SYSTEM.conditionClinical, code) });
    assert.equal(read({ conditions: [condition(sct('5913000'), clinical('resolved'))] }).factors.priorFragilityFracture.value, true);
    assert.equal(read({ conditions: [condition(sct('69896004'), clinical('remission'))] }).factors.rheumatoidArthritis.value, true);
    const resolvedRa = read({ conditions: [condition(sct('69896004'), clinical('resolved'))] }).factors.rheumatoidArthritis;
    assert.deepEqual([resolvedRa.value, resolvedRa.status], [false, 'found']);
    assert.match(resolvedRa.note!, /^rheumatoid arthritis resolved/);
    assert.equal(read({ conditions: [condition(icd10cm('E05.90'), clinical('remission'))] }).factors.secondaryOsteoporosis.value, false);
    assert.equal(read({ conditions: [condition(icd10cm('E05.90'), clinical('active'))] }).factors.secondaryOsteoporosis.value, true);
    assert.equal(read({ conditions: [condition(icd10cm('Q78.0'), clinical('inactive'))] }).factors.secondaryOsteoporosis.value, true, 'osteogenesis imperfecta is lifelong');
    assert.equal(read({ conditions: [condition(sct('69896004'))] }).factors.rheumatoidArthritis.value, true);
  });

  it('an abatement date on or before asOf ends a condition that counts only while present; after asOf it does not', () => {
    const abated = (code: CodeableConcept, extra: Partial<Condition> = {}): PatientRecord => read({ conditions: [condition(code, { abatementDateTime: '2024-01-01', ...extra })] });
    const clinical = (code: string): Partial<Condition> => ({ clinicalStatus: status(SYSTEM.conditionClinical, code) });
    const ra = abated(sct('69896004')).factors.rheumatoidArthritis;
    assert.deepEqual([ra.value, ra.status, ra.note], [false, 'found', 'rheumatoid arthritis abated; SNOMED CT 69896004']);
    assert.equal(abated(sct('69896004'), clinical('active')).factors.rheumatoidArthritis.value, false, 'an "active" left beside the date');
    assert.equal(read({ conditions: [condition(sct('69896004'), { abatementPeriod: { start: '2023-06-01', end: '2024-01-01' } })] }).factors.rheumatoidArthritis.value, false);
    assert.equal(abated(sct('69896004'), { abatementDateTime: '2025-08-01' }).factors.rheumatoidArthritis.value, true, 'abates after asOf: present at asOf');
    assert.equal(abated(sct('69896004'), { abatementDateTime: undefined, abatementString: 'in 2019' }).factors.rheumatoidArthritis.value, true, 'an abatement that cannot be dated is not read');
    // The per-set policy decides, as for a recorded status: RA in remission counts, and a relapse came back after abating.
    assert.equal(abated(sct('69896004'), clinical('remission')).factors.rheumatoidArthritis.value, true);
    assert.equal(abated(sct('69896004'), clinical('relapse')).factors.rheumatoidArthritis.value, true);
    assert.equal(abated(icd10cm('E05.90')).factors.secondaryOsteoporosis.value, false, 'hyperthyroidism counts only while present');
    assert.equal(abated(icd10cm('E10.9')).factors.secondaryOsteoporosis.value, false);
    assert.equal(abated(icd10cm('M81.0')).osteoporosis.value, false);
    // Facts that stay true once they happened.
    assert.equal(abated(sct('5913000')).factors.priorFragilityFracture.value, true, 'a healed fracture still happened');
    assert.equal(abated(icd10cm('Q78.0')).factors.secondaryOsteoporosis.value, true, 'osteogenesis imperfecta is lifelong');
    assert.equal(abated(icd10cm('E28.310')).factors.secondaryOsteoporosis.value, true, 'a premature menopause happened');
  });

  it('a condition dated after asOf is left out', () => {
    const record = read({ conditions: [condition(sct('69896004'), { recordedDate: '2025-08-01' })] });
    assert.equal(record.factors.rheumatoidArthritis.value, null);
    assert.deepEqual(record.problems, ['Condition dated after the assessment date ignored']);
  });
});

describe('patient record: glucocorticoids', () => {
  it('reads the RxNorm SCD "prednisone 5 MG Oral Tablet", ingredient codes, ATC codes and names', () => {
    const cases: [CodeableConcept, 'found' | 'inferred', string][] = [
      [PREDNISONE_5MG_TABLET, 'found', 'prednisone'],
      [rxnorm('8640'), 'found', 'prednisone'],
      [rxnorm('6902'), 'found', 'methylprednisolone'],
      [concept(SYSTEM.atc, 'H02AB02'), 'found', 'dexamethasone'],
      [concept(SYSTEM.atc, 'H02AB03'), 'found', 'systemic glucocorticoid'],
      [text('Medrol 4 mg tablet'), 'inferred', 'methylprednisolone'],
      [rxnorm('999999', 'prednisoLONE 5 MG Oral Tablet'), 'inferred', 'prednisolone'],
    ];
    for (const [medication, expected, drug] of cases) {
      const f = read({ medicationRequests: [order(medication)] }).factors.glucocorticoids;
      assert.deepEqual([f.value, f.status], [true, expected], JSON.stringify(medication));
      assert.ok(f.note?.startsWith(`${drug}, current order`), f.note);
    }
  });

  it('does not count inhaled budesonide, topical or rectal hydrocortisone, or triamcinolone not said to be systemic', () => {
    const notSystemic: MedicationRequest[] = [
      order(rxnorm('19831', 'budesonide 0.5 MG/ML Inhalation Suspension')),
      order(text('hydrocortisone 1 % Topical Cream')),
      order(rxnorm('5492', 'hydrocortisone'), { dosageInstruction: [{ route: { coding: [{ system: SYSTEM.snomed, code: '6064005', display: 'Topical route' }] } }] }),
      order(text('Hydrocortisone 100 MG Rectal Enema')),
      order(text('fluticasone 50 MCG/ACTU Nasal Spray')),
      order(text('triamcinolone 40 MG/ML Injectable Suspension')),
    ];
    for (const request of notSystemic) assert.equal(read({ medicationRequests: [request] }).factors.glucocorticoids.value, null, JSON.stringify(request.medicationCodeableConcept));
    const intramuscular = order(rxnorm('10759', 'triamcinolone'), { dosageInstruction: [{ route: { coding: [{ system: SYSTEM.snomed, code: '78421000', display: 'Intramuscular route' }] } }] });
    assert.equal(read({ medicationRequests: [intramuscular] }).factors.glucocorticoids.value, true);
  });

  it('a past course counts when it lasted 90 days or more; shorter, without dates, or under 5 mg/day it does not', () => {
    const past = (extra: Partial<MedicationRequest>): MedicationRequest => order(PREDNISONE_5MG_TABLET, { status: 'stopped', authoredOn: '2023-01-01', ...extra });
    const bounds = (end: string): Partial<MedicationRequest> => ({ dosageInstruction: [{ timing: { repeat: { boundsPeriod: { start: '2023-01-01', end } } } }] });
    const daily = (value: number, code: string): MedicationRequest['dosageInstruction'] => [
      { timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', boundsDuration: { value: 120, unit: 'days', system: SYSTEM.ucum, code: 'd' } } }, doseAndRate: [{ doseQuantity: { value, unit: code, system: SYSTEM.ucum, code } }] },
    ];
    const cases: [MedicationRequest, boolean, string][] = [
      [past(bounds('2023-05-01')), true, 'past course of 90 days or more'],
      [past(bounds('2023-02-01')), false, 'past course under 90 days'],
      [past({ status: 'completed', dispenseRequest: { expectedSupplyDuration: { value: 30, code: 'd' }, numberOfRepeatsAllowed: 3 } }), true, 'past course of 90 days or more'],
      [past({ dispenseRequest: { validityPeriod: { end: '2023-06-01' } } }), true, 'past course of 90 days or more'],
      [past({}), false, 'past order without dates to time its course'],
      [past({ dosageInstruction: daily(2.5, 'mg') }), false, 'past dose under 5 mg/day prednisolone-equivalent'],
      [past({ dosageInstruction: daily(2, '{tbl}') }), true, 'past course of 90 days or more'],
      [past({ dosageInstruction: daily(1, 'puff') }), true, 'past course of 90 days or more'],
    ];
    for (const [request, value, note] of cases) {
      const f = read({ medicationRequests: [request] }).factors.glucocorticoids;
      assert.equal(f.value, value, note);
      assert.equal(f.note, `prednisone, ${note}; RxNorm 312617`);
    }
    const methylprednisolone = order(rxnorm('6902'), { status: 'completed', authoredOn: '2023-01-01', dosageInstruction: [{ timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', boundsDuration: { value: 4, code: 'mo' } } }, doseAndRate: [{ doseQuantity: { value: 4, code: 'mg' } }] }] });
    assert.equal(read({ medicationRequests: [methylprednisolone] }).factors.glucocorticoids.value, true, '4 mg methylprednisolone = 5 mg prednisolone');
  });

  it('active and on-hold are current; cancelled, draft and entered-in-error are ignored; an order authored after asOf is left out', () => {
    assert.equal(read({ medicationRequests: [order(PREDNISONE_5MG_TABLET, { status: 'on-hold' })] }).factors.glucocorticoids.value, true);
    for (const ignored of ['cancelled', 'draft', 'entered-in-error'] as const) {
      assert.equal(read({ medicationRequests: [order(PREDNISONE_5MG_TABLET, { status: ignored })] }).factors.glucocorticoids.value, null, ignored);
    }
    assert.equal(read({ medicationRequests: [order(PREDNISONE_5MG_TABLET, { authoredOn: '2025-07-01' })] }).factors.glucocorticoids.value, null);
  });

  it('an active or on-hold order whose stated end is over 30 days before asOf is a past course, judged as one', () => {
    const lapsed = (end: string, extra: Partial<MedicationRequest> = {}): MedicationRequest =>
      order(PREDNISONE_5MG_TABLET, { authoredOn: '2023-01-01', dosageInstruction: [{ timing: { repeat: { boundsPeriod: { start: '2023-01-01', end } } } }], ...extra });
    const long = read({ medicationRequests: [lapsed('2023-05-01')] });
    assert.deepEqual([long.factors.glucocorticoids.value, long.factors.glucocorticoids.note], [true, 'prednisone, past course of 90 days or more (order left open past its end); RxNorm 312617']);
    assert.deepEqual(long.problems, ['MedicationRequest left open long after its stated end: read as past']);
    const short = read({ medicationRequests: [lapsed('2023-02-01', { status: 'on-hold' })] }).factors.glucocorticoids;
    assert.deepEqual([short.value, short.note], [false, 'prednisone, past course under 90 days (order left open past its end); RxNorm 312617']);
    const validity = order(PREDNISONE_5MG_TABLET, { authoredOn: '2024-01-01', dispenseRequest: { validityPeriod: { start: '2024-01-01', end: '2024-02-01' } } });
    assert.equal(read({ medicationRequests: [validity] }).factors.glucocorticoids.value, false, 'validityPeriod.end counts too');
    // Still current: an end within 30 days, an open-ended instruction beside an ended one, no stated end at all.
    const recentEnd = read({ medicationRequests: [lapsed('2025-06-10')] });
    assert.deepEqual([recentEnd.factors.glucocorticoids.note, recentEnd.problems], ['prednisone, current order; RxNorm 312617', []]);
    const openStep = lapsed('2023-02-01', { dosageInstruction: [{ timing: { repeat: { boundsPeriod: { start: '2023-01-01', end: '2023-02-01' } } } }, { timing: { repeat: { boundsPeriod: { start: '2023-02-01' } } } }] });
    assert.equal(read({ medicationRequests: [openStep] }).factors.glucocorticoids.note, 'prednisone, current order; RxNorm 312617');
    const duration = order(PREDNISONE_5MG_TABLET, { authoredOn: '2023-01-01', dosageInstruction: [{ timing: { repeat: { boundsDuration: { value: 10, code: 'd' } } } }] });
    assert.equal(read({ medicationRequests: [duration] }).factors.glucocorticoids.note, 'prednisone, current order; RxNorm 312617', 'a computed length is not a stated end');
  });

  it('reads medicationReference to a contained Medication and to one among `medications`', () => {
    const contained: Medication = { resourceType: 'Medication', id: 'med1', code: PREDNISONE_5MG_TABLET };
    const viaContained: MedicationRequest = { resourceType: 'MedicationRequest', id: 'mr1', status: 'active', intent: 'order', subject, contained: [contained], medicationReference: { reference: '#med1' } };
    assert.equal(read({ medicationRequests: [viaContained] }).factors.glucocorticoids.value, true);
    const included: Medication = { resourceType: 'Medication', id: 'med2', code: text('Dexamethasone 4 MG Oral Tablet') };
    const viaSearch: MedicationRequest = { resourceType: 'MedicationRequest', id: 'mr2', status: 'active', intent: 'order', subject, medicationReference: { reference: 'https://ehr.example/fhir/Medication/med2' } };
    const f = read({ medicationRequests: [viaSearch], medications: [included] }).factors.glucocorticoids;
    assert.deepEqual([f.value, f.status], [true, 'inferred']);
    const dangling = read({ medicationRequests: [{ ...viaSearch, id: 'mr3', medicationReference: { reference: 'Medication/gone' } }] });
    assert.deepEqual(dangling.problems, ['MedicationRequest whose medication cannot be read ignored']);
  });
});

describe('patient record: osteoporosis treatment', () => {
  const alendronate = rxnorm('46041', 'alendronate');
  it('active when an order is active; recent when one ended (or, without an end, was written) within the look-back; else none', () => {
    const active = read({ medicationRequests: [order(alendronate)] }).osteoporosisTreatment;
    assert.deepEqual(active, { status: 'active', drug: 'alendronate', date: '2025-01-10', source: active.source, note: 'RxNorm 46041' });
    const completed = order(rxnorm('77655', 'zoledronic acid'), { status: 'completed', authoredOn: '2025-01-01' });
    assert.equal(read({ medicationRequests: [completed] }).osteoporosisTreatment.status, 'recent');
    const ended = order(concept(SYSTEM.atc, 'M05BX04'), { status: 'stopped', authoredOn: '2022-01-01', dispenseRequest: { validityPeriod: { start: '2022-01-01', end: '2023-01-01' } } });
    assert.deepEqual(read({ medicationRequests: [ended] }).osteoporosisTreatment, { status: 'none' });
    const longLookBack = read({ medicationRequests: [ended], treatmentRecentMonths: 36 }).osteoporosisTreatment;
    assert.deepEqual([longLookBack.status, longLookBack.drug, longLookBack.date], ['recent', 'denosumab', '2023-01-01']);
  });

  it('an active order whose stated end is over 30 days before asOf is recent or none by that end date', () => {
    const until = (end: string): MedicationRequest => order(alendronate, { authoredOn: '2022-01-01', dispenseRequest: { validityPeriod: { start: '2022-01-01', end } } });
    const recent = read({ medicationRequests: [until('2025-01-01')] });
    assert.deepEqual(recent.osteoporosisTreatment, { status: 'recent', drug: 'alendronate', date: '2025-01-01', source: recent.osteoporosisTreatment.source, note: 'RxNorm 46041' });
    assert.deepEqual(read({ medicationRequests: [until('2024-01-01')] }).osteoporosisTreatment, { status: 'none' });
    assert.equal(read({ medicationRequests: [until('2024-01-01')], treatmentRecentMonths: 24 }).osteoporosisTreatment.status, 'recent');
    assert.equal(read({ medicationRequests: [until('2025-06-15')] }).osteoporosisTreatment.status, 'active', 'ended within 30 days: still current');
    const bounded = order(alendronate, { authoredOn: '2022-01-01', dosageInstruction: [{ timing: { repeat: { boundsPeriod: { start: '2022-01-01', end: '2023-01-01' } } } }] });
    assert.deepEqual(read({ medicationRequests: [bounded] }).osteoporosisTreatment, { status: 'none' });
  });

  it('reads brand names in text, bisphosphonate class codes and the other drugs', () => {
    const fosamax = read({ medicationRequests: [order(text('Fosamax 70 mg tablet weekly'))] }).osteoporosisTreatment;
    assert.deepEqual([fosamax.status, fosamax.drug, fosamax.note], ['active', 'alendronate', 'matched by text']);
    assert.equal(read({ medicationRequests: [order(concept(SYSTEM.atc, 'M05BA02'))] }).osteoporosisTreatment.drug, 'bisphosphonate');
    for (const [medication, drug] of [
      [concept(SYSTEM.atc, 'H05AA02'), 'teriparatide'],
      [text('Evenity 105 MG/1.17 ML'), 'romosozumab'],
      [rxnorm('72143'), 'raloxifene'],
      [rxnorm('1921069'), 'abaloparatide'],
      [rxnorm('904420', 'Alendronic acid 10 MG [Fosamax]'), 'alendronate'],
    ] as const) {
      assert.equal(read({ medicationRequests: [order(medication)] }).osteoporosisTreatment.drug, drug);
    }
    assert.equal(read({ medicationRequests: [order(concept(SYSTEM.atc, 'M05BX05'))] }).osteoporosisTreatment.status, 'none', 'burosumab is not an osteoporosis treatment');
  });
});

describe('patient record: observations', () => {
  const smoking = (answer: CodeableConcept | string, date = '2025-06-01'): Observation =>
    observation(OBSERVATION_CODES.smokingStatus, typeof answer === 'string' ? { valueString: answer } : { valueCodeableConcept: answer }, date);

  it('reads each US Core smoking status code, the LOINC answers, and text; unknown is missing', () => {
    const expected: Record<keyof typeof SMOKING_STATUS, boolean | null> = {
      dailySmoker: true,
      occasionalSmoker: true,
      heavySmoker: true,
      lightSmoker: true,
      smoker: true,
      exSmoker: false,
      neverSmoked: false,
      unknown: null,
    };
    for (const [key, value] of Object.entries(expected) as [keyof typeof SMOKING_STATUS, boolean | null][]) {
      const f = read({ observations: [smoking(sct(SMOKING_STATUS[key].code))] }).factors.currentSmoking;
      assert.deepEqual([f.value, f.status], [value, value === null ? 'missing' : 'found'], key);
    }
    assert.equal(read({ observations: [smoking(concept(SYSTEM.loinc, 'LA18977-1'))] }).factors.currentSmoking.value, true);
    assert.equal(read({ observations: [smoking(concept(SYSTEM.loinc, 'LA15920-4'))] }).factors.currentSmoking.value, false);
    for (const [answer, value] of [
      ['Current every day smoker', true],
      ['Former smoker', false],
      ['Non-smoker', false],
    ] as const) {
      const f = read({ observations: [smoking(answer)] }).factors.currentSmoking;
      assert.deepEqual([f.value, f.status], [value, 'inferred'], answer);
    }
    const unknownThenNever = read({ observations: [smoking(sct(SMOKING_STATUS.unknown.code), '2025-06-01'), smoking(sct(SMOKING_STATUS.neverSmoked.code), '2024-01-01')] });
    assert.equal(unknownThenNever.factors.currentSmoking.value, false, 'an unknown answer does not hide an older definite one');
    assert.equal(read({ observations: [smoking(sct(SMOKING_STATUS.unknown.code))] }).factors.currentSmoking.note, 'smoking status recorded as unknown');
  });

  it('converts weight in lb and g, height in in and m; a value in an unknown unit is ignored with a problem', () => {
    const weight = (value: number, code: string): number | null => read({ observations: [observation(OBSERVATION_CODES.bodyWeight, quantity(value, code))] }).factors.weightKg.value;
    const height = (value: number, code: string): number | null => read({ observations: [observation(OBSERVATION_CODES.bodyHeight, quantity(value, code))] }).factors.heightCm.value;
    assert.equal(weight(154, '[lb_av]'), 69.9);
    assert.equal(weight(154, 'lb'), 69.9);
    assert.equal(weight(72500, 'g'), 72.5);
    assert.equal(weight(72.3, 'kg'), 72.3);
    assert.equal(height(65, '[in_i]'), 165.1);
    assert.equal(height(1.655, 'm'), 165.5);
    assert.equal(height(165.2, 'cm'), 165.2);
    const stones = read({ observations: [observation(OBSERVATION_CODES.bodyWeight, quantity(11, '[stone_av]'))] });
    assert.equal(stones.factors.weightKg.value, null);
    assert.deepEqual(stones.problems, ['body weight: unit not recognised; ignored']);
    const converted = read({ observations: [observation(OBSERVATION_CODES.bodyWeight, quantity(154, '[lb_av]'))] }).factors.weightKg;
    assert.deepEqual([converted.status, converted.note], ['found', 'converted from lb']);
  });

  it('ignores absurd values with a problem', () => {
    const record = read({
      observations: [
        observation(OBSERVATION_CODES.bodyWeight, quantity(0, 'kg')),
        observation(OBSERVATION_CODES.bodyHeight, quantity(300, 'cm')),
        observation(OBSERVATION_CODES.dxaFemurTScore, quantity(-12, '{T-score}'), '2025-01-01', { bodySite: { coding: [{ ...FEMORAL_NECK_BODY_SITE }] } }),
        observation(OBSERVATION_CODES.fraxHipFracture10y, quantity(140, '%')),
      ],
    });
    assert.deepEqual([record.factors.weightKg.value, record.factors.heightCm.value, record.factors.femoralNeckTScore.value, record.frax], [null, null, null, null]);
    assert.equal(record.problems.length, 4);
  });

  it('uses a recorded BMI, else computes one from weight and height (inferred)', () => {
    const weight = observation(OBSERVATION_CODES.bodyWeight, quantity(70, 'kg'));
    const height = observation(OBSERVATION_CODES.bodyHeight, quantity(170, 'cm'), '2025-05-01');
    const computed = read({ observations: [weight, height] }).factors.bmi;
    assert.deepEqual(computed, { value: 24.2, status: 'inferred', sources: [`Observation/${weight.id}`, `Observation/${height.id}`], date: '2025-06-01', note: 'from weight and height' });
    const recorded = read({ observations: [weight, height, observation(OBSERVATION_CODES.bmi, quantity(25.1, 'kg/m2'))] }).factors.bmi;
    assert.deepEqual([recorded.value, recorded.status], [25.1, 'found']);
  });

  it('takes the latest observation on or before asOf; later ones and entered-in-error ones are ignored; preliminary is read', () => {
    const record = read({
      observations: [
        observation(OBSERVATION_CODES.bodyWeight, quantity(70, 'kg'), '2024-01-01'),
        observation(OBSERVATION_CODES.bodyWeight, quantity(72, 'kg'), '2025-06-30', { status: 'preliminary' }),
        observation(OBSERVATION_CODES.bodyWeight, quantity(90, 'kg'), '2025-07-15'),
        observation(OBSERVATION_CODES.bodyWeight, quantity(95, 'kg'), '2025-06-20', { status: 'entered-in-error' }),
      ],
    });
    assert.equal(record.factors.weightKg.value, 72);
    assert.deepEqual(record.problems, ['Observation dated after the assessment date ignored', 'Observation with status entered-in-error ignored']);
  });

  it('alcohol: 3 or more drinks (or units) a day is true, fewer false; per week is converted', () => {
    const alcohol = (value: number, code: string): boolean | null => read({ observations: [observation(OBSERVATION_CODES.alcoholDrinksPerDay, quantity(value, code))] }).factors.alcohol.value;
    assert.equal(alcohol(3, '{drinks}/d'), true);
    assert.equal(alcohol(2, '{drinks}/d'), false);
    assert.equal(alcohol(4, '{units}/d'), true);
    assert.equal(alcohol(21, '{drinks}/wk'), true);
    assert.equal(alcohol(14, '{drinks}/wk'), false);
  });

  it('FRAX: both probabilities of one day, or the newest alone when the other is older', () => {
    const mof = (value: number, date: string): Observation => observation(OBSERVATION_CODES.fraxMajorOsteoporoticFracture10y, quantity(value, '%'), date);
    const hip = (value: number, date: string): Observation => observation(OBSERVATION_CODES.fraxHipFracture10y, quantity(value, '%'), date);
    const both = [mof(18.5, '2025-03-01'), hip(3.2, '2025-03-01')];
    assert.deepEqual(read({ observations: both }).frax, { majorOsteoporoticPercent: 18.5, hipPercent: 3.2, date: '2025-03-01', sources: both.map((o) => `Observation/${o.id}`) });
    const onlyHip = read({ observations: [hip(2.1, '2025-02-01')] }).frax;
    assert.deepEqual([onlyHip?.majorOsteoporoticPercent, onlyHip?.hipPercent], [null, 2.1]);
    const apart = read({ observations: [mof(12, '2023-01-01'), hip(4, '2025-01-01')] }).frax;
    assert.deepEqual([apart?.majorOsteoporoticPercent, apart?.hipPercent, apart?.date], [null, 4, '2025-01-01']);
    assert.equal(read({}).frax, null);
  });

  it('lists every DXA newest first, with its site; the femoral-neck T-score is the newest at the neck', () => {
    const neck = { coding: [{ ...FEMORAL_NECK_BODY_SITE }] };
    const observations = [
      observation(OBSERVATION_CODES.dxaLumbarSpineTScore, quantity(-2.6, '{T-score}'), '2024-03-01'),
      observation(OBSERVATION_CODES.dxaFemurTScore, quantity(-1.9, '{T-score}'), '2024-03-01', { bodySite: neck }),
      observation(OBSERVATION_CODES.dxaFemurLeftTScore, quantity(-1.5, '1'), '2025-02-01', { bodySite: text('Left femoral neck') }),
      observation(OBSERVATION_CODES.dxaHipTScore, { valueQuantity: { value: -1.1 } }, '2023-05-01'),
      observation(OBSERVATION_CODES.dxaForearmTScore, { valueString: 'see report' }, '2022-05-01'),
    ];
    const record = read({ observations });
    assert.deepEqual(
      record.dxa.map((d) => [d.site, d.tScore, d.date]),
      [
        ['femoral-neck', -1.5, '2025-02-01'],
        ['femoral-neck', -1.9, '2024-03-01'],
        ['lumbar-spine', -2.6, '2024-03-01'],
        ['total-hip', -1.1, '2023-05-01'],
        ['other', null, '2022-05-01'],
      ],
    );
    const f = record.factors.femoralNeckTScore;
    assert.deepEqual([f.value, f.status, f.date], [-1.5, 'inferred', '2025-02-01']);
  });

  it('reads a value inside an Observation.component', () => {
    const panel: Observation = {
      resourceType: 'Observation',
      id: 'frax-panel',
      status: 'final',
      code: text('FRAX'),
      subject,
      effectiveDateTime: '2025-04-01',
      component: [
        { code: concept(SYSTEM.loinc, '90265-0'), valueQuantity: { value: 21, code: '%' } },
        { code: concept(SYSTEM.loinc, '90266-8'), valueQuantity: { value: 3.5, code: '%' } },
      ],
    };
    assert.deepEqual(read({ observations: [panel] }).frax, { majorOsteoporoticPercent: 21, hipPercent: 3.5, date: '2025-04-01', sources: ['Observation/frax-panel'] });
  });
});

describe('patient record: family history, demographics, the right patient', () => {
  const history = (relationship: CodeableConcept, code: CodeableConcept, extra: Partial<FamilyMemberHistory> = {}): FamilyMemberHistory => ({
    resourceType: 'FamilyMemberHistory',
    id: nextId(),
    status: 'completed',
    patient: subject,
    relationship,
    condition: [{ code }],
    ...extra,
  });
  const mother = concept(SYSTEM.v3RoleCode, 'MTH');

  it("parent's hip fracture: coded relationship and condition found; text inferred; other relatives and entered-in-error not", () => {
    for (const code of [sct('5913000'), icd10cm('S72.001A'), icd10cm('S72.142A')]) {
      const f = read({ familyMemberHistories: [history(mother, code)] }).factors.parentHipFracture;
      assert.deepEqual([f.value, f.status], [true, 'found']);
    }
    assert.equal(read({ familyMemberHistories: [history(concept(SYSTEM.v3RoleCode, 'NFTH'), sct('5913000'))] }).factors.parentHipFracture.value, true);
    const textual = read({ familyMemberHistories: [history(text('Mother'), text('Broken hip at 78'))] }).factors.parentHipFracture;
    assert.deepEqual([textual.value, textual.status], [true, 'inferred']);
    assert.equal(read({ familyMemberHistories: [history(text('Grandmother'), sct('5913000'))] }).factors.parentHipFracture.value, null);
    assert.equal(read({ familyMemberHistories: [history(concept(SYSTEM.v3RoleCode, 'SIS'), sct('5913000'))] }).factors.parentHipFracture.value, null);
    assert.equal(read({ familyMemberHistories: [history(mother, icd10cm('S52.501A'))] }).factors.parentHipFracture.value, null, 'a wrist fracture is not a hip fracture');
    const erroneous = read({ familyMemberHistories: [history(mother, sct('5913000'), { status: 'entered-in-error' })] });
    assert.equal(erroneous.factors.parentHipFracture.value, null);
    assert.deepEqual(erroneous.problems, ['FamilyMemberHistory entered in error ignored']);
  });

  it('age in years to one decimal from birthDate; a partial birthDate is read at the middle of its period (inferred)', () => {
    const patient = (birthDate: string, gender?: Patient['gender']): Patient => ({ resourceType: 'Patient', id: PID, birthDate, ...(gender === undefined ? {} : { gender }) });
    const full = read({ patient: patient('1960-06-30', 'female') }).factors;
    assert.deepEqual([full.age.value, full.age.status, full.sex.value], [65, 'found', 'female']);
    // The middle of 1960 is 2 July, two days short of 65 years before asOf.
    const year = read({ patient: patient('1960') }).factors.age;
    assert.deepEqual([year.value, year.status], [65, 'inferred']);
    assert.equal(read({ patient: patient('1960-01') }).factors.age.value, 65.5);
    const other = read({ patient: patient('1960-06-30', 'other') }).factors.sex;
    assert.deepEqual([other.value, other.status, other.note], [null, 'missing', 'administrative gender other or unknown; FRAX takes female or male']);
    const unborn = read({ patient: patient('2030-01-01') });
    assert.equal(unborn.factors.age.value, null);
    assert.equal(unborn.problems.length, 1);
  });

  it("drops another patient's resources and counts them without ids; accepts an absolute reference to this one", () => {
    const other = { reference: 'Patient/someone-else' };
    const record = read({
      patient: { resourceType: 'Patient', id: 'someone-else', gender: 'male', birthDate: '1950-01-01' },
      observations: [observation(OBSERVATION_CODES.bodyWeight, quantity(80, 'kg'), '2025-06-01', { subject: other }), observation(OBSERVATION_CODES.bodyHeight, quantity(170, 'cm'), '2025-06-01', { subject: { reference: `https://ehr.example/fhir/Patient/${PID}/_history/2` } })],
      conditions: [condition(sct('69896004'), { subject: other }), condition(sct('69896004'), { subject: { display: 'no reference' } })],
      medicationRequests: [order(PREDNISONE_5MG_TABLET, { subject: other })],
      familyMemberHistories: [{ resourceType: 'FamilyMemberHistory', status: 'completed', patient: other, relationship: concept(SYSTEM.v3RoleCode, 'MTH'), condition: [{ code: sct('5913000') }] }],
    });
    const f = record.factors;
    assert.deepEqual([f.age.value, f.sex.value, f.weightKg.value, f.heightCm.value, f.rheumatoidArthritis.value, f.glucocorticoids.value, f.parentHipFracture.value], [null, null, null, 170, null, null, null]);
    assert.deepEqual(record.problems, [
      'Patient resource of another patient (or without an id) ignored',
      'Observation of another patient dropped',
      'Condition of another patient dropped',
      'Condition without a Patient reference dropped',
      'MedicationRequest of another patient dropped',
      'FamilyMemberHistory of another patient dropped',
    ]);
    for (const problem of record.problems) assert.ok(!problem.includes('someone-else') && !problem.includes(PID), problem);
  });
});

describe('patient record: robustness', () => {
  /** Hundreds of resources with the wrong shapes that real interfaces send, some with hostile keys. */
  function malformed(count: number): unknown[] {
    const shapes: unknown[] = [
      { resourceType: 'Observation', subject, status: 'final', effectiveDateTime: '2025-01-01', code: {} },
      { resourceType: 'Observation', subject, status: 'final', effectiveDateTime: '2025-01-01', code: { coding: 'not-an-array' } },
      { resourceType: 'Observation', subject, status: 'final', effectiveDateTime: '2025-01-01', code: { coding: [null, 7, { system: SYSTEM.loinc, code: '29463-7' }] }, valueString: 'heavy' },
      { resourceType: 'Observation', subject, status: 'final', effectiveDateTime: '2025-01-01', code: { coding: { system: SYSTEM.loinc, code: '29463-7' } }, valueQuantity: { value: '81.5', code: 'kg' } },
      { resourceType: 'Observation', subject, status: 'final', effectiveDateTime: '2025-01-01', code: { coding: [{ system: SYSTEM.loinc, code: '8302-2' }] }, valueQuantity: { unit: 'cm' } },
      { resourceType: 'Observation', subject, status: 'final', effectiveDateTime: '2025-01-01', code: { coding: [{ system: SYSTEM.loinc, code: '8302-2' }] }, valueQuantity: [{ value: 172, code: 'cm' }] },
      { resourceType: 'Observation', subject, status: 'final', effectiveDateTime: 'yesterday', code: { coding: [{ system: SYSTEM.loinc, code: '39156-5' }] }, valueQuantity: { value: 22 } },
      { resourceType: 'Observation', subject, status: 'final', effectiveDateTime: '2025-01-01', code: { coding: [{ system: SYSTEM.loinc, code: '72166-2' }] }, valueCodeableConcept: { coding: [{ code: 12 }] } },
      { resourceType: 'Observation', subject, status: 'final', effectiveDateTime: '2025-01-01', code: { coding: [{ system: SYSTEM.loinc, code: '38263-0' }] }, valueQuantity: { value: Number.NaN } },
      { resourceType: 'Observation', subject: 'Patient/pat-1', code: null },
      { resourceType: 'Condition', subject, code: { coding: [{ system: SYSTEM.icd10cm, code: null }] }, clinicalStatus: 'active', verificationStatus: [] },
      { resourceType: 'Condition', subject, code: { text: 42 }, onsetDateTime: 20200101 },
      { resourceType: 'MedicationRequest', subject, status: 'active', medicationCodeableConcept: 'prednisone' },
      { resourceType: 'MedicationRequest', subject, status: 'stopped', medicationReference: { reference: '#' }, contained: 'x' },
      { resourceType: 'MedicationRequest', subject, status: 'stopped', medicationCodeableConcept: { text: 'prednisone' }, dosageInstruction: { timing: { repeat: { boundsDuration: { value: 'a lot', code: 'd' } } } }, dispenseRequest: [] },
      { resourceType: 'FamilyMemberHistory', patient: subject, status: 'completed', relationship: 'mother', condition: { code: { text: 'hip fracture' } } },
      null,
      'Observation',
      [],
      { resourceType: 'Patient', id: PID },
    ];
    const hostile = JSON.parse(
      `{"resourceType":"Observation","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"subject":{"reference":"Patient/${PID}","__proto__":{"x":1}},"status":"final","effectiveDateTime":"2025-02-01","code":{"coding":[{"system":"${SYSTEM.loinc}","code":"29463-7","__proto__":{"code":"8302-2"}}]},"valueQuantity":{"value":70,"code":"kg","__proto__":{"value":999}}}`,
    ) as unknown;
    return Array.from({ length: count }, (_, i) => (i % (shapes.length + 1) === shapes.length ? hostile : shapes[i % (shapes.length + 1)]));
  }

  it('never throws on a few hundred malformed resources, returns a well-formed record and records problems', () => {
    const items = malformed(420);
    const record = readPatientRecord({
      patientId: PID,
      patient: JSON.parse(`{"resourceType":"Patient","id":"${PID}","gender":"female","birthDate":"1950-13-45","__proto__":{"gender":"male"}}`) as Patient,
      observations: items as Observation[],
      conditions: items as Condition[],
      medicationRequests: items as MedicationRequest[],
      medications: items as Medication[],
      familyMemberHistories: items as FamilyMemberHistory[],
      asOf: ASOF,
    });
    assert.deepEqual(JSON.parse(JSON.stringify(record)), record, 'plain JSON data');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    assert.deepEqual(Object.keys(record.factors).sort(), ['age', 'alcohol', 'bmi', 'currentSmoking', 'femoralNeckTScore', 'glucocorticoids', 'heightCm', 'parentHipFracture', 'priorFragilityFracture', 'rheumatoidArthritis', 'secondaryOsteoporosis', 'sex', 'weightKg']);
    for (const f of Object.values(record.factors)) {
      assert.deepEqual(Object.getPrototypeOf(f), Object.prototype);
      assert.ok(f.value === null || ['number', 'string', 'boolean'].includes(typeof f.value));
    }
    // The hostile observation's own value is read (70 kg), never its __proto__ (999), and a weight in text is not a weight.
    assert.equal(record.factors.weightKg.value, 70);
    assert.equal(record.factors.heightCm.value, 172, 'a one-item array where an object belongs is read');
    assert.equal(record.factors.sex.value, 'female');
    assert.equal(record.factors.age.value, null);
    // Each malformed shape above is named for what it is, and counted.
    assert.deepEqual([...record.problems].sort(), [
      'Condition list: an item of another type ignored (380×)',
      'DXA T-score: no readable number; ignored (20×)',
      'FamilyMemberHistory list: an item of another type ignored (400×)',
      'MedicationRequest list: an item of another type ignored (360×)',
      'MedicationRequest whose medication cannot be read ignored (40×)',
      'Observation list: an item of another type ignored (200×)',
      'Observation without a Patient reference dropped (20×)',
      'Observation without an effective date ignored (20×)',
      'Patient.birthDate unreadable or implausible: age not read',
      'body height: no readable number; ignored',
      'smoking status: answer not recognised; ignored (20×)',
    ]);
    for (const problem of record.problems) assert.ok(!problem.includes(PID), problem);
  });

  it('reads a chart of 5,000 observations quickly (time printed, not asserted)', () => {
    const observations = Array.from({ length: 5000 }, (_, i) => {
      const date = new Date(ASOF.getTime() - i * 3_600_000).toISOString();
      const code = [OBSERVATION_CODES.bodyWeight, OBSERVATION_CODES.bodyHeight, OBSERVATION_CODES.smokingStatus, { system: SYSTEM.loinc, code: '8867-4' }][i % 4]!;
      return observation(code, i % 4 === 1 ? quantity(170, 'cm') : i % 4 === 2 ? { valueCodeableConcept: sct(SMOKING_STATUS.neverSmoked.code) } : quantity(70 + (i % 7), 'kg'), date);
    });
    const started = performance.now();
    const record = read({ observations });
    const ms = performance.now() - started;
    console.log(`5,000 observations read in ${ms.toFixed(1)} ms`);
    assert.equal(record.factors.weightKg.value, 70);
    assert.equal(record.factors.currentSmoking.value, false);
  });

  it('refuses a bad patientId, asOf or look-back: programming errors, not chart data', () => {
    assert.throws(() => read({ patientId: '' }), { name: 'TypeError', message: 'input.patientId must be a non-empty string' });
    assert.throws(() => read({ asOf: new Date('nope') }), { name: 'RangeError', message: 'input.asOf must be a valid Date' });
    assert.throws(() => read({ treatmentRecentMonths: -1 }), { name: 'RangeError', message: 'input.treatmentRecentMonths must be a number ≥ 0' });
  });
});

describe('value sets', () => {
  it('keep osteoporotic fractures out of the osteoporosis diagnosis: no code or ICD-10 category in both', () => {
    const fracture = new Set([...PRIOR_FRAGILITY_FRACTURE_SET.snomed.map((c) => c.code), ...PRIOR_FRAGILITY_FRACTURE_SET.icd10cm.map((p) => p.prefix), ...PRIOR_FRAGILITY_FRACTURE_SET.icd10.map((p) => p.prefix)]);
    const osteoporosis = [...OSTEOPOROSIS_SET.snomed.map((c) => c.code), ...OSTEOPOROSIS_SET.icd10cm.map((p) => p.prefix), ...OSTEOPOROSIS_SET.icd10.map((p) => p.prefix)];
    assert.deepEqual(osteoporosis.filter((code) => fracture.has(code) || code.startsWith('M80')), []);
  });

  it('hold well-formed SNOMED codes and ICD-10 prefixes, each once per set', () => {
    for (const set of [PRIOR_FRAGILITY_FRACTURE_SET, HIP_FRACTURE_SET, RHEUMATOID_ARTHRITIS_SET, ...SECONDARY_OSTEOPOROSIS_SETS, OSTEOPOROSIS_SET]) {
      const snomed = set.snomed.map((c) => c.code);
      assert.ok(snomed.every((code) => /^\d{6,18}$/.test(code)), set.name);
      assert.equal(new Set(snomed).size, snomed.length, `${set.name}: a SNOMED code twice`);
      for (const prefixes of [set.icd10cm, set.icd10]) {
        const codes = prefixes.map((p) => p.prefix);
        assert.ok(codes.every((code) => /^[A-Z]\d{2}(?:\.\d{1,3})?$/.test(code)), `${set.name}: ${codes.join(' ')}`);
        assert.equal(new Set(codes).size, codes.length, `${set.name}: a prefix twice`);
      }
    }
  });
});
