// The right-patient rule: which FHIR identity a radiograph must carry, and which DICOM patients fail it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Patient } from 'fhir/r4.js';
import type { PatientIdentityRule } from '../../src/config.js';
import { dicomPatientOfJson, expectedPatient, normalizedName, patientMismatch, type DicomPatient } from '../../src/imaging/patient-identity.js';

const MRN = 'urn:oid:1.2.3.4.5';
const patient: Patient = {
  resourceType: 'Patient',
  id: 'fhir-17',
  identifier: [
    { system: MRN, value: 'MRN-0042' },
    { system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-00-1234' },
  ],
  name: [{ family: 'Ní Bhriain', given: ['Aoife'] }, { use: 'maiden', family: "O'Brien" }],
  birthDate: '1955-03-09',
};
const strict: PatientIdentityRule = { identifierSystems: [MRN], birthDate: true, familyName: true };
const loose: PatientIdentityRule = { identifierSystems: [], birthDate: true, familyName: true };
const dicom = (overrides: Partial<DicomPatient>): DicomPatient => ({ patientId: 'MRN-0042', patientName: 'NI BHRIAIN^AOIFE', birthDate: '19550309', ...overrides });

describe('expectedPatient', () => {
  it('takes the identifiers of the configured systems only', () => {
    assert.deepEqual(expectedPatient(patient, 'fhir-17', strict), { ids: ['MRN-0042'], birthDate: '19550309', familyNames: ['nibhriain', 'obrien'] });
  });

  it('with no systems configured: any identifier, or the resource id', () => {
    assert.deepEqual(expectedPatient(patient, 'fhir-17', loose).ids, ['MRN-0042', '999-00-1234', 'fhir-17']);
  });

  it('a partial FHIR birth date compares what it has; a malformed one is not compared', () => {
    assert.equal(expectedPatient({ ...patient, birthDate: '1955-03' }, 'fhir-17', strict).birthDate, '195503');
    assert.equal(expectedPatient({ ...patient, birthDate: '1955' }, 'fhir-17', strict).birthDate, '1955');
    assert.equal(expectedPatient({ ...patient, birthDate: '09/03/1955' }, 'fhir-17', strict).birthDate, null);
  });

  it('any shape of Patient gives an answer (a prefetched Patient is not validated)', () => {
    const hostile = { resourceType: 'Patient', id: 'fhir-17', identifier: { system: MRN, value: 'MRN-0042' }, name: 'Ní Bhriain', birthDate: 19550309 } as unknown as Patient;
    assert.deepEqual(expectedPatient(hostile, 'fhir-17', loose), { ids: ['fhir-17'], birthDate: null, familyNames: [] });
    const holes = { ...patient, identifier: [null, 7, { system: MRN, value: 42 }, { system: 5, value: 'x' }], name: [null, { family: ['x'] }] } as unknown as Patient;
    assert.deepEqual(expectedPatient(holes, 'fhir-17', strict), { ids: [], birthDate: '19550309', familyNames: [] });
  });

  it('switched-off comparisons are empty; no Patient resource leaves only the id (loose) or nothing (strict)', () => {
    const off = expectedPatient(patient, 'fhir-17', { identifierSystems: [MRN], birthDate: false, familyName: false });
    assert.deepEqual(off, { ids: ['MRN-0042'], birthDate: null, familyNames: [] });
    assert.deepEqual(expectedPatient(null, 'fhir-17', loose), { ids: ['fhir-17'], birthDate: null, familyNames: [] });
    assert.deepEqual(expectedPatient(null, 'fhir-17', strict).ids, []);
  });
});

describe('patientMismatch', () => {
  const expected = expectedPatient(patient, 'fhir-17', strict);

  it('accepts the patient as a PACS spells them: case, accents, spaces and punctuation', () => {
    assert.equal(patientMismatch(dicom({}), expected), null);
    assert.equal(patientMismatch(dicom({ patientName: 'Ní Bhriain^Aoife' }), expected), null);
    assert.equal(patientMismatch(dicom({ patientName: 'OBRIEN^AOIFE' }), expected), null, 'any of the names on the chart');
    assert.equal(patientMismatch(dicom({ patientName: 'NI BHRIAIN^AOIFE=ニ^アオイフェ' }), expected), null, 'the ideographic group is not compared');
  });

  it('compares only what both sides record', () => {
    assert.equal(patientMismatch(dicom({ patientName: undefined, birthDate: undefined }), expected), null);
    assert.equal(patientMismatch(dicom({ patientName: '', birthDate: '' }), expected), null);
    assert.equal(patientMismatch(dicom({ birthDate: '19550309' }), expectedPatient({ ...patient, birthDate: '1955' }, 'fhir-17', strict)), null);
  });

  it('refuses another PatientID, a missing one, or a chart with nothing to match it with', () => {
    assert.match(patientMismatch(dicom({ patientId: 'MRN-0043' }), expected) ?? '', /PatientID is not one of/);
    assert.match(patientMismatch(dicom({ patientId: '999-00-1234' }), expected) ?? '', /PatientID is not one of/, 'an identifier of another system');
    assert.match(patientMismatch(dicom({ patientId: 'mrn-0042' }), expected) ?? '', /PatientID is not one of/, 'PatientID is case-sensitive');
    assert.match(patientMismatch(dicom({ patientId: undefined }), expected) ?? '', /no PatientID/);
    assert.match(patientMismatch(dicom({ patientId: '  ' }), expected) ?? '', /no PatientID/);
    assert.match(patientMismatch(dicom({}), expectedPatient(null, 'fhir-17', strict)) ?? '', /no identifier the configured rule/);
  });

  it('refuses another birth date or family name', () => {
    assert.match(patientMismatch(dicom({ birthDate: '19550310' }), expected) ?? '', /PatientBirthDate differs/);
    assert.match(patientMismatch(dicom({ birthDate: '19560309' }), expectedPatient({ ...patient, birthDate: '1955' }, 'fhir-17', strict)) ?? '', /PatientBirthDate differs/);
    assert.match(patientMismatch(dicom({ patientName: 'BRYANT^AOIFE' }), expected) ?? '', /family name/);
  });

  it('never quotes the values it compared (details reach logs)', () => {
    for (const found of [dicom({ patientId: 'MRN-0043' }), dicom({ birthDate: '19550310' }), dicom({ patientName: 'BRYANT^AOIFE' })]) {
      const detail = patientMismatch(found, expected)!;
      for (const value of ['MRN-004', '1955', 'BRYANT', 'Bhriain', 'AOIFE']) assert.ok(!detail.includes(value), `${detail} quotes ${value}`);
    }
  });
});

describe('the DICOM side', () => {
  it('reads PatientID, PN and DA from DICOM JSON', () => {
    const found = dicomPatientOfJson({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'NI BHRIAIN^AOIFE' }] },
      '00100020': { vr: 'LO', Value: ['MRN-0042'] },
      '00100030': { vr: 'DA', Value: ['19550309'] },
    });
    assert.deepEqual(found, { patientId: 'MRN-0042', patientName: 'NI BHRIAIN^AOIFE', birthDate: '19550309' });
    assert.deepEqual(dicomPatientOfJson(undefined), { patientId: undefined, patientName: undefined, birthDate: undefined });
    assert.deepEqual(dicomPatientOfJson({ '00100020': { vr: 'LO', Value: [42] } }).patientId, undefined, 'a non-string is not an id');
  });

  it('normalises names to letters and digits, without case or accents', () => {
    assert.equal(normalizedName("  Ó'Súilleabháin-Smith "), 'osuilleabhainsmith');
    assert.equal(normalizedName('Müller'), normalizedName('MULLER'));
    assert.equal(normalizedName('^^'), '');
  });
});
