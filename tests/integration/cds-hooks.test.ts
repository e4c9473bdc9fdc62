// The CDS Hooks 2.0.1 checklist through the real app, with a real FHIR server on loopback for the
// prefetch fallback, in both modes: development (authentication disabled) and production (every call
// signed by a trusted client; authentication itself is exercised in jwt-auth.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import supertest from 'supertest';
import type { Bundle, Observation, Patient } from 'fhir/r4.js';
import { discoveryProblems, responseProblems } from '../../src/cds/validation.js';
import { startDevFhirServer, type DevFhirServer, type RecordedRequest } from '../../src/dev/fhir-server.js';
import { MODES, patientView, startEngineApp, type Mode, type TestApp } from '../helpers/cds-app.js';
import type { PrefetchSeen } from '../helpers/test-services.js';

const TOKEN = 'fhir-access-token-7Zq9';
const patient: Patient = { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1955-04-02' };
const observations: Observation[] = [1, 2, 3, 4, 5].map((n) => ({
  resourceType: 'Observation',
  id: `obs${n}`,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
  subject: { reference: 'Patient/p1' },
  valueQuantity: { value: 60 + n, unit: 'kg' },
}));
const otherPatientObservation: Observation = {
  resourceType: 'Observation',
  id: 'obs-other',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
  subject: { reference: 'Patient/p2' },
};

let fhir: DevFhirServer;
let stranger: DevFhirServer;
const seen: RecordedRequest[] = [];
const strangerSeen: RecordedRequest[] = [];

function seenBy(response: { body: { cards: { extension?: Record<string, unknown> }[] } }): PrefetchSeen {
  return response.body.cards[0]?.extension?.['org.example.test.prefetch'] as PrefetchSeen;
}

const withFhir = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
  patientView({
    fhirServer: fhir.baseUrl,
    fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service' },
    ...extra,
  });

/** An order-select request whose draft orders hold ServiceRequest/sr1. */
const orderSelect = (selection: string): Record<string, unknown> => ({
  hook: 'order-select',
  hookInstance: crypto.randomUUID(),
  context: {
    userId: 'Practitioner/dr1',
    patientId: 'p1',
    selections: [selection],
    draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'ServiceRequest', id: 'sr1' } }] },
  },
});

before(async () => {
  fhir = await startDevFhirServer({
    resources: [patient, { resourceType: 'Practitioner', id: 'dr1' }, ...observations, otherPatientObservation],
    onRequest: (r) => seen.push(r),
  });
  stranger = await startDevFhirServer({ resources: [patient], onRequest: (r) => strangerSeen.push(r) });
});

after(async () => {
  await fhir.close();
  await stranger.close();
});

for (const mode of MODES) describe(`${mode} mode`, () => engineSuite(mode));

function engineSuite(mode: Mode): void {
  let t: TestApp;
  before(async () => {
    t = await startEngineApp(mode, { config: { fhir: { servers: [{ baseUrl: fhir.baseUrl, allowInsecureHttp: true }], timeoutMs: 2000, maxPages: 5 } } });
  });
  after(() => t.close());

  it('runs in the mode it is named for', async () => {
    assert.equal(t.config.mode, mode);
    assert.equal(t.config.auth.disabled, mode === 'development');
    // Production mode serves nobody without a client JWT (this call goes around the signing wrapper).
    const unsigned = await supertest(t.app.express).get('/cds-services');
    assert.equal(unsigned.status, mode === 'production' ? 401 : 200);
  });

  describe('discovery', () => {
    it('lists every registered service in the 2.0.1 shape', async () => {
      const res = await t.request.get('/cds-services').expect(200);
      assert.deepEqual(discoveryProblems(res.body), []);
      const ids = (res.body as { services: { id: string; hook: string }[] }).services.map((s) => `${s.id}:${s.hook}`);
      assert.deepEqual(ids.sort(), ['test-bad-response:patient-view', 'test-echo:patient-view', 'test-orders:order-select', 'test-throws:patient-view']);
      const echo = (res.body as { services: Record<string, unknown>[] }).services.find((s) => s.id === 'test-echo');
      assert.deepEqual(echo?.prefetch, {
        patient: 'Patient/{{context.patientId}}',
        observations: 'Observation?patient={{context.patientId}}&_count=2',
        user: '{{context.userId}}',
      });
      assert.equal('requiredPrefetch' in (echo ?? {}), false, 'engine-only fields stay out of discovery');
    });
  });

  describe('invalid requests get 400 with an OperationOutcome', () => {
    const valid = (): Record<string, unknown> => patientView({ prefetch: { patient } });
    const cases: [string, () => unknown, string][] = [
      ['missing hook', () => ({ ...valid(), hook: undefined }), 'hook'],
      ['missing hookInstance', () => ({ ...valid(), hookInstance: undefined }), 'hookInstance'],
      ['hookInstance that is not a UUID', () => ({ ...valid(), hookInstance: 'abc' }), 'hookInstance'],
      ['missing context', () => ({ ...valid(), context: undefined }), 'context'],
      ['context without patientId', () => ({ ...valid(), context: { userId: 'Practitioner/dr1' } }), 'patientId'],
      ['context without userId', () => ({ ...valid(), context: { patientId: 'p1' } }), 'userId'],
      ['userId that is not Type/id', () => ({ ...valid(), context: { userId: 'dr1', patientId: 'p1' } }), 'userId'],
      ['patientId with characters outside a FHIR id', () => ({ ...valid(), context: { userId: 'Practitioner/dr1', patientId: 'p1?x=1' } }), 'patientId'],
      ['fhirAuthorization without fhirServer', () => ({ ...valid(), fhirAuthorization: { access_token: 'a', token_type: 'Bearer', expires_in: 1, scope: 's', subject: 'x' } }), 'fhirServer'],
      ['fhirAuthorization missing access_token', () => ({ ...valid(), fhirServer: 'https://f.test', fhirAuthorization: { token_type: 'Bearer', expires_in: 1, scope: 's', subject: 'x' } }), 'access_token'],
      ['token_type other than Bearer', () => ({ ...valid(), fhirServer: 'https://f.test', fhirAuthorization: { access_token: 'a', token_type: 'MAC', expires_in: 1, scope: 's', subject: 'x' } }), 'token_type'],
      ['fhirServer that is not a URL', () => ({ ...valid(), fhirServer: 'not a url' }), 'fhirServer'],
      ['prefetch value that is not a resource', () => ({ ...valid(), prefetch: { patient: 'Patient/p1' } }), 'prefetch'],
      ['a hook the service does not serve', () => ({ ...valid(), hook: 'order-sign', context: { userId: 'Practitioner/dr1', patientId: 'p1', draftOrders: { resourceType: 'Bundle' } } }), 'hook'],
      ['a body that is an array', () => [valid()], '(root)'],
    ];
    for (const [name, body, mentions] of cases) {
      it(name, async () => {
        const res = await t.request.post('/cds-services/test-echo').send(body() as object).expect(400);
        assert.equal(res.body.resourceType, 'OperationOutcome');
        assert.match(res.body.issue[0].diagnostics, new RegExp(mentions.replace(/[()]/g, '\\$&')));
      });
    }

    it('order-select: selections that are not in draftOrders', async () => {
      const body = orderSelect('ServiceRequest/missing');
      const res = await t.request.post('/cds-services/test-orders').send(body).expect(400);
      assert.match(res.body.issue[0].diagnostics, /selections/);
    });

    it('malformed JSON', async () => {
      const res = await t.request.post('/cds-services/test-echo').set('Content-Type', 'application/json').send('{"hook": "patient-view",').expect(400);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match(res.body.issue[0].diagnostics, /not valid JSON/);
    });

    it('a body that is not JSON gets 415', async () => {
      const res = await t.request.post('/cds-services/test-echo').set('Content-Type', 'text/plain').send('hello').expect(415);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    });

    it('an unknown service is 404 and an unknown path is 404, both as OperationOutcome', async () => {
      const unknown = await t.request.post('/cds-services/nope').send(valid()).expect(404);
      assert.equal(unknown.body.issue[0].code, 'not-found');
      const nowhere = await t.request.get('/nowhere').expect(404);
      assert.equal(nowhere.body.resourceType, 'OperationOutcome');
    });

    it('tolerates unknown extensions and extra context fields', async () => {
      const body = { ...valid(), extension: { 'com.example.x': 1 }, context: { userId: 'Practitioner/dr1', patientId: 'p1', other: 'x' } };
      await t.request.post('/cds-services/test-echo').send(body).expect(200);
    });
  });

  describe('prefetch', () => {
    it('complete: nothing is fetched', async () => {
      const before = seen.length;
      const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', entry: [] };
      const res = await t.request
        .post('/cds-services/test-echo')
        .send(withFhir({ prefetch: { patient, observations: bundle, user: { resourceType: 'Practitioner', id: 'dr1' } } }))
        .expect(200);
      assert.deepEqual(seenBy(res), { patient: 'Patient/p1', observations: 'Bundle:0', user: 'Practitioner/dr1' });
      assert.equal(seen.length, before, 'no request reached the FHIR server');
      assert.deepEqual(responseProblems(res.body), []);
    });

    it('partial: only the missing keys are fetched, with the bearer token on the wire, following next links', async () => {
      seen.length = 0;
      const res = await t.request.post('/cds-services/test-echo').send(withFhir({ prefetch: { patient } })).expect(200);
      // Five observations at _count=2: three pages, all merged.
      assert.deepEqual(seenBy(res), { patient: 'Patient/p1', observations: 'Bundle:5', user: 'Practitioner/dr1' });
      assert.ok(seen.every((r) => r.authorization === `Bearer ${TOKEN}`), 'every fetch carried the token');
      assert.deepEqual(
        seen.map((r) => r.url.replace(/^\/fhir\/R4\//, '')).sort(),
        ['Observation?patient=p1&_count=2', 'Observation?patient=p1&_count=2&_offset=2', 'Observation?patient=p1&_count=2&_offset=4', 'Practitioner/dr1'].sort(),
      );
    });

    it('missing: every key is fetched from the FHIR server', async () => {
      seen.length = 0;
      const res = await t.request.post('/cds-services/test-echo').send(withFhir()).expect(200);
      assert.deepEqual(seenBy(res), { patient: 'Patient/p1', observations: 'Bundle:5', user: 'Practitioner/dr1' });
      assert.ok(seen.some((r) => r.url === '/fhir/R4/Patient/p1'));
    });

    it('null: means no data and is not fetched again', async () => {
      seen.length = 0;
      const res = await t.request.post('/cds-services/test-echo').send(withFhir({ prefetch: { patient, observations: null, user: null } })).expect(200);
      assert.deepEqual(seenBy(res), { patient: 'Patient/p1', observations: 'null', user: 'null' });
      assert.equal(seen.length, 0);
    });

    it('an OperationOutcome in place of the data is treated as missing and fetched', async () => {
      seen.length = 0;
      const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
      const res = await t.request
        .post('/cds-services/test-echo')
        .send(withFhir({ prefetch: { patient: outcome, observations: null, user: null } }))
        .expect(200);
      assert.deepEqual(seenBy(res), { patient: 'Patient/p1', observations: 'null', user: 'null' });
      assert.deepEqual(seen.map((r) => r.url), ['/fhir/R4/Patient/p1']);
    });

    it('a read the server answers 404 becomes null (known absent)', async () => {
      const res = await t.request
        .post('/cds-services/test-echo')
        .send(withFhir({ prefetch: { patient, observations: null }, context: { userId: 'Practitioner/nobody', patientId: 'p1' } }))
        .expect(200);
      assert.equal(seenBy(res).user, 'null');
    });

    it('412 when required data is missing and there is no fhirServer', async () => {
      const res = await t.request.post('/cds-services/test-echo').send(patientView({ prefetch: { observations: null } })).expect(412);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match(res.body.issue[0].diagnostics, /patient/);
    });

    it('412 when the FHIR server cannot give required data (unreachable), optional keys absent', async () => {
      const closed = await startDevFhirServer();
      const url = closed.baseUrl;
      await closed.close();
      const t2 = await startEngineApp(mode, { config: { fhir: { servers: [{ baseUrl: url, allowInsecureHttp: true }], timeoutMs: 1000 } } });
      try {
        await t2.request.post('/cds-services/test-echo').send(patientView({ fhirServer: url })).expect(412);
        const ok = await t2.request.post('/cds-services/test-echo').send(patientView({ fhirServer: url, prefetch: { patient } })).expect(200);
        assert.deepEqual(seenBy(ok), { patient: 'Patient/p1', observations: 'absent', user: 'absent' });
      } finally {
        t2.close();
      }
    });

    it('a fhirServer outside the allow-list is never fetched: 412 when data is needed, and the server sees nothing', async () => {
      strangerSeen.length = 0;
      const body = patientView({
        fhirServer: stranger.baseUrl,
        fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'x' },
      });
      await t.request.post('/cds-services/test-echo').send(body).expect(412);
      const ok = await t.request.post('/cds-services/test-echo').send({ ...body, prefetch: { patient } }).expect(200);
      assert.deepEqual(seenBy(ok), { patient: 'Patient/p1', observations: 'absent', user: 'absent' });
      assert.equal(strangerSeen.length, 0, 'the non-allow-listed server received no request');
      assert.ok(t.logText().includes('fhirServer is not allow-listed'));
    });

    it('a plain-http FHIR server is refused unless allow-listed for development', async () => {
      const t2 = await startEngineApp(mode, { config: { fhir: { servers: [{ baseUrl: 'https://fhir.example.org/r4' }] } } });
      strangerSeen.length = 0;
      try {
        // Same host and path as an allow-listed https entry would not help: the scheme is part of the match.
        await t2.request.post('/cds-services/test-echo').send(patientView({ fhirServer: stranger.baseUrl })).expect(412);
        assert.equal(strangerSeen.length, 0);
      } finally {
        t2.close();
      }
    });
  });

  describe('responses', () => {
    it('cards get uuids (cards and suggestions) and conform to the response schema', async () => {
      const body = orderSelect('ServiceRequest/sr1');
      const res = await t.request.post('/cds-services/test-orders').send(body).expect(200);
      assert.deepEqual(responseProblems(res.body), []);
      const card = res.body.cards[0];
      assert.match(card.uuid, /^[0-9a-f-]{36}$/);
      assert.match(card.suggestions[0].uuid, /^[0-9a-f-]{36}$/);
    });

    it(`${mode} mode: a non-conformant service response ${mode === 'development' ? 'becomes a 500 and a log line' : 'is not checked at run time'}`, async () => {
      const res = await t.request.post('/cds-services/test-bad-response').send(patientView());
      if (mode === 'development') {
        assert.equal(res.status, 500);
        assert.equal(res.body.resourceType, 'OperationOutcome');
        assert.ok(t.logText().includes('service returned a non-conformant response'));
      } else {
        assert.equal(res.status, 200);
        assert.notDeepEqual(responseProblems(res.body), []);
      }
    });

    it('a service that throws gives a 500 OperationOutcome without its message or a stack', async () => {
      const res = await t.request.post('/cds-services/test-throws').send(patientView()).expect(500);
      assert.deepEqual(res.body.issue, [{ severity: 'error', code: 'exception', diagnostics: 'Internal server error' }]);
      assert.doesNotMatch(JSON.stringify(res.body), /secret internal detail|app\.ts/);
      // The service keeps serving.
      await t.request.post('/cds-services/test-echo').send(patientView({ prefetch: { patient } })).expect(200);
    });
  });
}
