import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTemplate, templateProblems } from '../../src/cds/prefetch.js';
import type { HookRequest } from '../../src/cds/types.js';

const request = (context: Record<string, unknown>): HookRequest =>
  ({ hook: 'patient-view', hookInstance: crypto.randomUUID(), context }) as unknown as HookRequest;
const now = new Date('2026-03-01T10:00:00Z');

describe('prefetch template rendering', () => {
  it('fills root-level context fields', () => {
    const r = request({ userId: 'Practitioner/dr1', patientId: 'p-1.2', encounterId: 'e9' });
    assert.equal(renderTemplate('Patient/{{context.patientId}}', r, now), 'Patient/p-1.2');
    assert.equal(renderTemplate('Encounter/{{ context.encounterId }}', r, now), 'Encounter/e9');
    assert.equal(renderTemplate('{{context.userId}}', r, now), 'Practitioner/dr1');
  });

  it('derives user*Id tokens from userId, and leaves the key unrenderable for another user type', () => {
    const practitioner = request({ userId: 'Practitioner/dr1', patientId: 'p1' });
    assert.equal(renderTemplate('Practitioner/{{userPractitionerId}}', practitioner, now), 'Practitioner/dr1');
    assert.equal(renderTemplate('PractitionerRole/{{userPractitionerRoleId}}', practitioner, now), undefined);
    const role = request({ userId: 'PractitionerRole/r7', patientId: 'p1' });
    assert.equal(renderTemplate('PractitionerRole/{{userPractitionerRoleId}}', role, now), 'PractitionerRole/r7');
    const patient = request({ userId: 'Patient/p1', patientId: 'p1' });
    assert.equal(renderTemplate('Patient/{{userPatientId}}', patient, now), 'Patient/p1');
    const related = request({ userId: 'RelatedPerson/rp2', patientId: 'p1' });
    assert.equal(renderTemplate('RelatedPerson/{{userRelatedPersonId}}', related, now), 'RelatedPerson/rp2');
  });

  it('renders today() and today() ± N days in UTC', () => {
    const r = request({ userId: 'Practitioner/dr1', patientId: 'p1' });
    assert.equal(renderTemplate('Observation?date=ge{{today()}}', r, now), 'Observation?date=ge2026-03-01');
    assert.equal(renderTemplate('Observation?date=ge{{today() - 90 days}}', r, now), 'Observation?date=ge2025-12-01');
    assert.equal(renderTemplate('Observation?date=le{{today() + 1 day}}', r, now), 'Observation?date=le2026-03-02');
    assert.equal(renderTemplate('X?date=ge{{today()-3650days}}', r, now), 'X?date=ge2016-03-03');
  });

  it('encodes values so that a context field cannot add query parameters', () => {
    const r = request({ userId: 'Practitioner/dr1', patientId: 'p1&_include=*', encounterId: 'a b' });
    assert.equal(renderTemplate('Observation?patient={{context.patientId}}', r, now), 'Observation?patient=p1%26_include%3D*');
    assert.equal(renderTemplate('Encounter/{{context.encounterId}}', r, now), 'Encounter/a%20b');
  });

  it('gives undefined when a token has no value (optional context field absent, non-primitive field)', () => {
    const r = request({ userId: 'Practitioner/dr1', patientId: 'p1', selections: ['MedicationRequest/1'] });
    assert.equal(renderTemplate('Encounter/{{context.encounterId}}', r, now), undefined);
    assert.equal(renderTemplate('X?y={{context.selections}}', r, now), undefined);
  });

  it('accepts only 2.0 tokens at registration time', () => {
    assert.deepEqual(templateProblems('Patient/{{context.patientId}}'), []);
    assert.deepEqual(templateProblems('Observation?date=ge{{today() - 90 days}}&subject={{userPatientId}}'), []);
    assert.equal(templateProblems('X?{{context.draftOrders.entry}}').length, 1);
    assert.equal(templateProblems('X?{{patientId}}').length, 1);
    assert.equal(templateProblems('X?{{today() - 3 months}}').length, 1);
    assert.equal(templateProblems('X?{{context.patientId}}&{{%7Bevil}}').length, 1);
  });
});
