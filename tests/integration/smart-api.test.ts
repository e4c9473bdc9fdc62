// The SMART app's backend (/api) on real parts: the dev FHIR server behind the SMART authorization
// server (oidc-provider; the FHIR server refuses calls without a valid token for the patient),
// Orthanc with the synthetic radiographs, and the service built by the real composition root,
// listening on loopback. Tokens come from real launches (tests/helpers/smart-login.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode } from 'fast-png';
import { generateKeyPair, SignJWT } from 'jose';
import type { AssessedResponse, AssessmentResponse } from '../../src/api/smart-api-contract.js';
import { horizonRisks } from '../../src/model/survival.js';
import { tempDir } from '../helpers/cds-app.js';
import { fhirProblems } from '../helpers/fhir-validation.js';
import { chartFactors, patientAt, startExpectation, startStack, type Expectation, type LoadedPatient, type SmartStack, type Stack } from '../helpers/fracture-risk-stack.js';

let stack: Stack;
let smart: SmartStack;
let expectation: Expectation;
let high: LoadedPatient;
let other: LoadedPatient;
let noImage: LoadedPatient;
const tokens = new Map<string, string>();

async function tokenFor(patientId: string): Promise<string> {
  let token = tokens.get(patientId);
  if (!token) tokens.set(patientId, (token = (await smart.token(patientId)).access_token));
  return token;
}

interface CallOptions {
  token?: string | null;
  fhirServer?: string | null;
  method?: 'GET' | 'POST';
  body?: unknown;
  origin?: string;
}

async function api(path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.token !== null && options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const fhirServer = options.fhirServer === undefined ? stack.fhir.baseUrl : options.fhirServer;
  if (fhirServer !== null) headers['x-fhir-server'] = fhirServer;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.origin) headers.origin = options.origin;
  return fetch(`${smart.appBaseUrl}/api/${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
}

async function assessmentOf(patientId: string, token?: string, query = ''): Promise<AssessmentResponse> {
  const response = await api(`patients/${patientId}/assessment${query}`, { token: token ?? (await tokenFor(patientId)) });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as AssessmentResponse;
}

async function assertApiError(response: Response, status: number, code: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  assert.equal(body.error.code, code, text);
  assert.ok(body.error.message.length > 10, 'a message a person can read');
  assert.doesNotMatch(text, /at .*\.(ts|js):\d+/, 'no stack trace');
}

const preparedCount = (): number => stack.logLines().filter((l) => l.msg === 'radiograph prepared').length;

before(async () => {
  // The app's files are not built here (the browser tests build them): the service must say so.
  [stack, expectation] = await Promise.all([startStack({ smart: { appDir: join(tempDir(), 'not-built') } }), startExpectation()]);
  smart = stack.smart!;
  // The first patients of the seed without a DXA result (a recent DXA suppresses the estimate); the highest-risk one is the subject.
  const candidates = [];
  for (let index = 0; candidates.length < 6; index++) {
    const patient = patientAt(index);
    if (patient.factors.femoralNeckTScore === null) candidates.push(patient);
  }
  const loaded = await Promise.all(candidates.map((patient) => stack.load(patient)));
  const risks = await Promise.all(loaded.map(async (l) => (await expectation.predict(l.patient, chartFactors(l))).logRisk));
  const order = risks.map((r, i) => [r, i] as const).sort((a, b) => b[0] - a[0]);
  high = loaded[order[0]![1]]!;
  other = loaded[order[1]![1]]!;
  let index = 100;
  let patient = patientAt(index);
  while (patient.factors.femoralNeckTScore !== null) patient = patientAt(++index);
  noImage = await stack.load(patient, { edit: (resources) => resources.filter((r) => r.resourceType !== 'ImagingStudy') });
});

after(async () => {
  await Promise.all([stack?.close(), expectation?.close()]);
});

describe('the patient assessment', () => {
  it('answers the pipeline assessment for the token patient, with the numbers the model gives', async () => {
    const body = await assessmentOf(high.patient.id);
    assert.equal(body.status, 'assessed');
    const { assessment, orders, contextMatches } = body;
    assert.equal(assessment.patient.id, high.patient.id);
    assert.equal(assessment.hypothetical, false);
    assert.equal(contextMatches, null);
    const expected = await expectation.predict(high.patient, chartFactors(high));
    assert.ok(Math.abs(assessment.logRisk - expected.logRisk) < 1e-4, `logRisk ${assessment.logRisk} vs the test's own ${expected.logRisk}`);
    const { card } = expectation.model;
    assert.deepEqual(
      assessment.horizons.map((h) => h.risk?.toFixed(4)),
      horizonRisks(card.baseline, expected.logRisk, card.horizons).map((h) => h.risk?.toFixed(4)),
    );
    assert.equal(assessment.curves.times.length, card.baseline.times.length + 1, 'the whole grid and no more');
    assert.equal(assessment.model.status, 'demonstration');
    // The order the app writes is a valid ServiceRequest for this patient.
    assert.ok(orders);
    assert.equal(orders.dxa.subject.reference, `Patient/${high.patient.id}`);
    assert.deepEqual(fhirProblems(orders.dxa), []);
  });

  it('matches the appContext key of the card when the chart is unchanged, and says so when it is not', async () => {
    const first = (await assessmentOf(high.patient.id)) as AssessedResponse;
    const same = (await assessmentOf(high.patient.id, undefined, `?context=${first.assessment.key}`)) as AssessedResponse;
    assert.equal(same.contextMatches, true);
    assert.equal(same.assessment.key, first.assessment.key);
    const stale = (await assessmentOf(high.patient.id, undefined, `?context=${'0'.repeat(40)}`)) as AssessedResponse;
    assert.equal(stale.contextMatches, false);
    await assertApiError(await api(`patients/${high.patient.id}/assessment?context=not-a-key`, { token: await tokenFor(high.patient.id) }), 400, 'bad-request');
  });

  it('answers not-assessed with the reason when there is no radiograph', async () => {
    const body = await assessmentOf(noImage.patient.id);
    assert.equal(body.status, 'not-assessed');
    assert.deepEqual(body.status === 'not-assessed' && body.reasons.map((r) => r.code), ['no-radiograph']);
    assert.equal(body.status === 'not-assessed' && body.model.status, 'demonstration');
  });
});

describe('who may read', () => {
  it('a token for patient A never gets patient B, even with B assessed and cached', async () => {
    await assessmentOf(other.patient.id); // B's assessment is now in the cache
    const tokenA = await tokenFor(high.patient.id);
    for (const path of ['assessment', 'radiograph.png', 'explanation.png']) {
      await assertApiError(await api(`patients/${other.patient.id}/${path}`, { token: tokenA }), 403, 'patient-not-accessible');
    }
    await assertApiError(await api(`patients/${other.patient.id}/what-if`, { token: tokenA, body: { factors: { currentSmoking: true } } }), 403, 'patient-not-accessible');
  });

  it('refuses a missing, forged or foreign token and a FHIR server off the allow-list', async () => {
    await assertApiError(await api(`patients/${high.patient.id}/assessment`, { token: null }), 401, 'token-missing');
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ patient: high.patient.id, scope: 'patient/*.rs' })
      .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
      .setIssuer(smart.auth.issuer)
      .setAudience(stack.fhir.baseUrl)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    await assertApiError(await api(`patients/${high.patient.id}/assessment`, { token: forged }), 401, 'token-rejected');
    const before = stack.fhirRequests.length;
    await assertApiError(await api(`patients/${high.patient.id}/assessment`, { token: await tokenFor(high.patient.id), fhirServer: 'http://127.0.0.1:1/fhir/R4' }), 403, 'fhir-not-allowed');
    assert.equal(stack.fhirRequests.length, before, 'nothing was sent anywhere');
    await assertApiError(await api(`patients/${high.patient.id}/assessment`, { token: await tokenFor(high.patient.id), fhirServer: null }), 400, 'bad-request');
    await assertApiError(await api(`patients/bad%20id/assessment`, { token: await tokenFor(high.patient.id) }), 400, 'bad-request');
  });

  it('refuses an expired token', async () => {
    const shortLived = await startStack({ smart: { accessTokenTtlSeconds: 1 } });
    try {
      await shortLived.load(high.patient);
      const token = (await shortLived.smart!.token(high.patient.id)).access_token;
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const response = await fetch(`${shortLived.smart!.appBaseUrl}/api/patients/${high.patient.id}/assessment`, {
        headers: { authorization: `Bearer ${token}`, 'x-fhir-server': shortLived.fhir.baseUrl },
      });
      await assertApiError(response, 401, 'token-rejected');
    } finally {
      await shortLived.close();
    }
  });

  it('never logs or stores the token, and logs no patient id in API paths', async () => {
    const token = await tokenFor(high.patient.id);
    await assessmentOf(high.patient.id);
    const log = stack.logLines().map((l) => JSON.stringify(l)).join('\n');
    assert.ok(!log.includes(token), 'the token is not in the log');
    assert.ok(!log.includes(token.split('.')[2]!), 'nor its signature');
    const apiLines = stack.logLines().filter((l) => typeof l.path === 'string' && (l.path).startsWith('/api/'));
    assert.ok(apiLines.length > 0);
    for (const line of apiLines) assert.equal(line.path, `/api/patients/:id/${(line.path as string).split('/').pop()}`);
    const stored = readFileSync(stack.config.store.sqlitePath);
    assert.equal(stored.indexOf(token.split('.')[2]!), -1, 'the token is not in the store');
  });

  it('answers CORS only for the configured origins', async () => {
    const preflight = await fetch(`${smart.appBaseUrl}/api/patients/${high.patient.id}/assessment`, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,x-fhir-server' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const response = await api(`patients/${high.patient.id}/assessment`, { token: await tokenFor(high.patient.id), origin: 'https://elsewhere.example' });
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });
});

describe('what-if', () => {
  it('recomputes with the changed factors from the cached image, and stores nothing', async () => {
    const token = await tokenFor(high.patient.id);
    const chart = (await assessmentOf(high.patient.id)) as AssessedResponse;
    const flipped = !chart.assessment.riskFactors.find((f) => f.name === 'priorFragilityFracture')!.value;
    const prepared = preparedCount();
    const response = await api(`patients/${high.patient.id}/what-if`, { token, body: { factors: { priorFragilityFracture: flipped } } });
    assert.equal(response.status, 200, await response.clone().text());
    const whatIf = (await response.json()) as AssessedResponse;
    assert.equal(whatIf.assessment.hypothetical, true);
    assert.equal(whatIf.orders, null);
    assert.equal(preparedCount(), prepared, 'no second radiograph download');
    const expected = await expectation.predict(high.patient, { ...chartFactors(high), priorFragilityFracture: flipped });
    assert.ok(Math.abs(whatIf.assessment.logRisk - expected.logRisk) < 1e-4);
    assert.notEqual(whatIf.assessment.logRisk, chart.assessment.logRisk);
    const entry = whatIf.assessment.riskFactors.find((f) => f.name === 'priorFragilityFracture')!;
    assert.equal(entry.value, flipped);
    assert.equal(entry.overridden, true);
    assert.equal(await stack.serving.store.getAssessment(whatIf.assessment.key), null, 'a what-if is never stored');
  });

  it('refuses a body that is not a what-if', async () => {
    const token = await tokenFor(high.patient.id);
    for (const body of [{}, { factors: { age: 40 } }, { factors: { currentSmoking: 'yes' } }, { factors: {}, extra: 1 }, '{"factors":']) {
      await assertApiError(await api(`patients/${high.patient.id}/what-if`, { token, body }), 400, 'bad-request');
    }
  });
});

describe('pictures', () => {
  it('serves the radiograph as the model read it and the explanation over it', async () => {
    const token = await tokenFor(high.patient.id);
    const { height, width } = expectation.model.card.inputs.image.preprocessing;
    const thumbnail = await api(`patients/${high.patient.id}/radiograph.png`, { token });
    assert.equal(thumbnail.status, 200);
    assert.equal(thumbnail.headers.get('content-type'), 'image/png');
    const grey = decode(new Uint8Array(await thumbnail.arrayBuffer()));
    assert.deepEqual([grey.width, grey.height, grey.channels], [width, height, 1]);
    const first = await api(`patients/${high.patient.id}/explanation.png`, { token });
    assert.equal(first.status, 200, await first.clone().text());
    const overlay = decode(new Uint8Array(await first.arrayBuffer()));
    assert.deepEqual([overlay.width, overlay.height, overlay.channels], [width, height, 4]);
    let coloured = 0;
    for (let i = 0; i < overlay.data.length; i += 4) if (overlay.data[i] !== overlay.data[i + 1] || overlay.data[i + 1] !== overlay.data[i + 2]) coloured++;
    assert.ok(coloured > 0, 'the map colours part of the image');
    const again = await api(`patients/${high.patient.id}/explanation.png`, { token });
    assert.deepEqual(new Uint8Array(await again.arrayBuffer()), new Uint8Array(await (await api(`patients/${high.patient.id}/explanation.png`, { token })).arrayBuffer()));
    await assertApiError(await api(`patients/${noImage.patient.id}/explanation.png`, { token: await tokenFor(noImage.patient.id) }), 404, 'not-found');
  });
});

describe('the app files', () => {
  it('serves config.json from the configuration, and says when the app is not built', async () => {
    const config = await fetch(`${smart.appBaseUrl}/smart-app/config.json`);
    assert.equal(config.status, 200);
    assert.deepEqual(await config.json(), { clientId: 'spine-fracture-risk', scopes: ['openid', 'fhirUser', 'patient/*.rs', 'patient/ServiceRequest.c'], apiBase: '../api' });
    const page = await fetch(`${smart.appBaseUrl}/smart-app/index.html`);
    assert.equal(page.status, 404);
    assert.match(((await page.json()) as { error: { message: string } }).error.message, /not built .*run npm run build/);
  });
});
