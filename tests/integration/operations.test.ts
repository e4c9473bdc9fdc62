// Operational behaviour: CORS, body limit, health, metrics, and what the logs may contain.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeKey, signJwt, type SigningKey } from '../helpers/jwt.js';
import { CLIENT_ISS, PUBLIC_BASE, patientView, startTestApp, type TestApp } from '../helpers/cds-app.js';

const patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Kowalczyk-Doe', given: ['Maren'] }], birthDate: '1952-01-31' };
let key: SigningKey;
let t: TestApp;

before(async () => {
  key = await makeKey('ES384');
  t = startTestApp({
    config: {
      server: { publicBaseUrl: PUBLIC_BASE, bodyLimit: '20kb' },
      cors: { origins: '*' },
      auth: { clients: [{ iss: CLIENT_ISS, jwks: { keys: [key.publicJwk] } }] },
    },
  });
});
after(() => t.close());

const tokenFor = (path: string): Promise<string> => signJwt(key, { iss: CLIENT_ISS, aud: `${PUBLIC_BASE}${path}` });

describe('CORS', () => {
  it('answers a browser preflight for a service call with Authorization and Content-Type', async () => {
    const res = await t.request
      .options('/cds-services/test-echo')
      .set('Origin', 'https://sandbox.cds-hooks.org')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type')
      .expect(204);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.match(res.headers['access-control-allow-headers'] as string, /Authorization/);
    assert.match(res.headers['access-control-allow-headers'] as string, /Content-Type/);
    assert.match(res.headers['access-control-allow-methods'] as string, /POST/);
    assert.equal(res.headers['access-control-allow-credentials'], undefined, 'never * with credentials');
  });

  it('adds the CORS header to actual responses, including errors', async () => {
    const res = await t.request.get('/cds-services').set('Origin', 'https://sandbox.cds-hooks.org').expect(401);
    assert.equal(res.headers['access-control-allow-origin'], '*');
  });

  it('with a configured origin list, only those origins are allowed', async () => {
    const t2 = startTestApp({ config: { auth: { disabled: true }, cors: { origins: ['https://ehr.example.org'] } } });
    try {
      const ok = await t2.request.options('/cds-services').set('Origin', 'https://ehr.example.org').set('Access-Control-Request-Method', 'GET');
      assert.equal(ok.headers['access-control-allow-origin'], 'https://ehr.example.org');
      const other = await t2.request.options('/cds-services').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'GET');
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      t2.close();
    }
  });
});

describe('body size limit', () => {
  it('answers 413 with an OperationOutcome over the configured limit, and keeps serving', async () => {
    const huge = patientView({ prefetch: { patient: { ...patient, text: { status: 'generated', div: 'x'.repeat(30_000) } } } });
    const res = await t.request
      .post('/cds-services/test-echo')
      .set('Authorization', `Bearer ${await tokenFor('/cds-services/test-echo')}`)
      .send(huge)
      .expect(413);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.equal(res.body.issue[0].code, 'too-long');
    await t.request
      .post('/cds-services/test-echo')
      .set('Authorization', `Bearer ${await tokenFor('/cds-services/test-echo')}`)
      .send(patientView({ prefetch: { patient } }))
      .expect(200);
  });
});

describe('health and metrics', () => {
  it('/healthz and /readyz answer without authentication; /readyz turns 503 when draining', async () => {
    await t.request.get('/healthz').expect(200, { status: 'ok' });
    await t.request.get('/readyz').expect(200);
    const t2 = startTestApp({ config: { auth: { disabled: true } } });
    t2.app.markNotReady();
    const res = await t2.request.get('/readyz').expect(503);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    t2.close();
  });

  it('/readyz is 503 when the store cannot answer', async () => {
    const t2 = startTestApp({ config: { auth: { disabled: true } } });
    t2.store.close();
    await t2.request.get('/readyz').expect(503);
  });

  it('exposes a latency histogram per service and counts per outcome', async () => {
    const path = '/cds-services/test-echo';
    await t.request.post(path).set('Authorization', `Bearer ${await tokenFor(path)}`).send(patientView({ prefetch: { patient } })).expect(200);
    await t.request.post(path).set('Authorization', `Bearer ${await tokenFor(path)}`).send(patientView()).expect(412);
    await t.request.post(path).send(patientView()).expect(401);
    const text = (await t.request.get('/metrics').expect(200)).text;
    const expected = [
      /cds_hook_duration_seconds_bucket\{le="0.005",service="test-echo",hook="patient-view"\}/,
      /cds_hook_requests_total\{service="test-echo",outcome="cards"\} [1-9]/,
      /cds_hook_requests_total\{service="test-echo",outcome="precondition_failed"\} 1/,
      /cds_hook_requests_total\{service="test-echo",outcome="unauthorized"\} 1/,
      /process_cpu_user_seconds_total/,
    ];
    for (const pattern of expected) assert.ok(pattern.test(text), `metrics lack ${pattern}`);
    await t.request.post('/cds-services/not-a-service').send(patientView());
    assert.ok(!(await t.request.get('/metrics')).text.includes('not-a-service'), 'unknown ids do not become labels');
  });
});

describe('logs', () => {
  it('carry the hookInstance as request id and never the access token, the JWT or patient data', async () => {
    const fhirToken = 'fhir-secret-token-Qx81Lm';
    const path = '/cds-services/test-echo';
    const jwt = await tokenFor(path);
    const body = patientView({
      fhirServer: 'https://fhir.not-allow-listed.example/r4',
      fhirAuthorization: { access_token: fhirToken, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'svc', patient: 'p1' },
      prefetch: { patient },
      context: { userId: 'Practitioner/dr-1', patientId: 'p1-sensitive-id' },
    });
    await t.request.post(path).set('Authorization', `Bearer ${jwt}`).send(body).expect(200);
    // A refused call with a token in the header is logged too.
    await t.request.post(path).set('Authorization', `Bearer ${jwt}`).send(body).expect(401);
    // Malformed JSON that contains the token must not be echoed either.
    await t.request.post(path).set('Authorization', `Bearer ${await tokenFor(path)}`).set('Content-Type', 'application/json').send(`{"x":"${fhirToken}"`).expect(400);

    const text = t.logText();
    for (const secret of [fhirToken, jwt, jwt.split('.')[2] as string, 'p1-sensitive-id', 'Kowalczyk', '1952-01-31']) {
      assert.equal(text.includes(secret), false, `log contains ${secret.slice(0, 12)}…`);
    }
    const line = t.logLines().find((l) => l.reqId === body.hookInstance && l.msg === 'request');
    assert.ok(line, 'request line keyed by hookInstance');
    assert.equal(line.status, 200);
    assert.equal(line.serviceId, 'test-echo');
    assert.equal(line.clientIss, CLIENT_ISS);
    const warning = t.logLines().find((l) => l.msg === 'fhirServer is not allow-listed; no FHIR access for this call');
    assert.equal(warning?.reqId, body.hookInstance, 'handler-level lines carry the same request id');
  });
});
