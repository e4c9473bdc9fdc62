// The EHR simulator of the local demo, end to end in Debian's Chromium: the whole demo (startDemo: the
// dev FHIR server behind the SMART authorization server, Orthanc, the CDS service with the demo model,
// the built SMART app, the simulator) on loopback ports. A clinician's path through it — open the
// high-risk patient, see the card, accept the DXA suggestion (the ServiceRequest is in FHIR, the
// feedback in the service's store), launch the app from the card's SMART link (curves drawn), sign a
// glucocorticoid order without prefetch and dismiss its card with a reason (the feedback stored) —
// then the CDS client's wire format, the EHR token service, the API's input checks, and the
// sanitising of card markup. axe-core checks the page; screenshots go to test-results/ehr-simulator/.
//
// Fault injection (named as such): one test rewrites the simulator's answer to the page (page.route)
// to put hostile markup in a card, which the real service never sends.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ServiceRequest } from 'fhir/r4.js';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AssessmentResponse } from '../../src/api/smart-api-contract.js';
import { percent } from '../../src/assessment/risk-wording.js';
import { startDemo, type Demo } from '../../src/dev/demo.js';
import type { DemoPatient } from '../../src/dev/demo-scenarios.js';
import type { ApiErrorBody, HookRunResponse } from '../../src/dev/ehr-simulator/api-contract.js';
import { startEhrSimulator } from '../../src/dev/ehr-simulator/ehr-simulator.js';
import { createSimulatorKey } from '../../src/dev/ehr-simulator/simulator-key.js';
import { createLogger } from '../../src/ops/logger.js';
import { buildSmartApp } from '../../smart-app/build.js';
import { axeViolations, launchChromium, screenshot } from '../helpers/browser.js';
import { tempDir } from '../helpers/cds-app.js';
import { fhirProblems } from '../helpers/fhir-validation.js';

const SHOTS = join('test-results', 'ehr-simulator');
const APP_CLIENT_ID = 'spine-fracture-risk';
const EHR_CLIENT_ID = 'ehr-simulator';

let demo: Demo;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let high: DemoPatient;
let low: DemoPatient;

const shot = (p: Page, name: string): Promise<string> => screenshot(p, name, SHOTS);

/** A token from the EHR's token service, for reading what the simulator wrote. */
async function token(patientId: string, clientId = EHR_CLIENT_ID, scopes = ['patient/*.rs']): Promise<string> {
  return (await demo.auth.issueAccessToken({ clientId, patient: patientId, scopes })).access_token;
}

async function assessment(patientId: string): Promise<AssessmentResponse> {
  const response = await fetch(`${demo.urls.cds}/api/patients/${patientId}/assessment`, {
    headers: { authorization: `Bearer ${await token(patientId, APP_CLIENT_ID)}`, 'x-fhir-server': demo.urls.fhir },
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as AssessmentResponse;
}

async function assertAccessible(p: Page, name: string): Promise<void> {
  const violations = await axeViolations(p);
  assert.deepEqual(violations, [], `${name}: axe-core found serious violations: ${JSON.stringify(violations, null, 1)}`);
}

async function api(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${demo.urls.ehr}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const parsed: unknown = await response.json();
  return { status: response.status, body: parsed };
}

async function openPatient(p: Page, patientId: string): Promise<void> {
  await p.click(`#patient-${patientId}`);
  await p.waitForSelector(`#main[data-patient-id="${patientId}"] #chart[data-state="ready"]`, { timeout: 30_000 });
}

async function fire(p: Page, button: string): Promise<void> {
  await p.click(button);
  await p.waitForSelector('#cds-results[data-state="done"], #cds-results[data-state="error"]', { timeout: 60_000 });
}

before(async () => {
  const appDir = tempDir('ehr-sim-app-');
  await buildSmartApp({ outDir: appDir });
  [demo, browser] = await Promise.all([
    startDemo({ ports: { cds: 0, fhir: 0, ehr: 0, auth: 0 }, cacheDir: tempDir('ehr-sim-cache-'), appDir, modelDir: 'models', logger: createLogger('silent') }),
    launchChromium(),
  ]);
  high = demo.patients.find((p) => 'band' in p.expect && p.expect.band === 'high')!;
  low = demo.patients.find((p) => 'band' in p.expect && p.expect.band === 'low')!;
  assert.ok(high && low, 'the demo has a high-risk and a low-risk patient');
  // The page's CSP allows its own scripts only; axe-core is injected by the test.
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
  page = await context.newPage();
});

after(async () => {
  await context?.close();
  await browser?.close();
  await demo?.close();
});

describe('a clinician in the EHR simulator', () => {
  let risk: string;

  it('lists the patients with their scenarios and opens the high-risk patient’s chart', async () => {
    await page.goto(demo.urls.ehr);
    await page.waitForSelector('#main[data-state="ready"]');
    const names = await page.locator('#patient-list .patient-name').allTextContents();
    assert.deepEqual(names, demo.patients.map((p) => p.name));
    assert.equal((await page.textContent(`#patient-${high.id} .patient-scenario`))?.trim(), high.scenario);
    await shot(page, 'patient-list');
    await assertAccessible(page, 'patient list');
    await openPatient(page, high.id);
    assert.equal((await page.textContent('#banner-name'))?.trim(), high.name);
    assert.match((await page.textContent('#banner-facts')) ?? '', /(Female|Male) · \d+ years · Born/);
    assert.match((await page.textContent('#panel-imaging')) ?? '', /Lumbar spine X-ray/);
    assert.equal(await page.getAttribute(`#patient-${high.id}`, 'aria-current'), 'true');
  });

  it('fires patient-view and shows the risk card: summary with the risk, indicator in words, sanitised detail, source link', async () => {
    const assessed = await assessment(high.id);
    assert.equal(assessed.status, 'assessed');
    risk = percent(assessed.status === 'assessed' ? assessed.assessment.band.risk : 0);
    await fire(page, '#fire-patient-view');
    assert.equal(await page.getAttribute('#cds-results', 'data-state'), 'done');
    const summary = (await page.textContent('#card-0-summary')) ?? '';
    assert.match(summary, new RegExp(`vertebral fracture risk ${risk.replace('.', '\\.')} \\(high\\)`));
    assert.equal(await page.getAttribute('#card-0', 'data-indicator'), 'critical');
    assert.match((await page.textContent('#card-0-indicator')) ?? '', /Critical/, 'the indicator is said in words, not colour alone');
    assert.ok((await page.locator('#card-0-detail table').count()) >= 2, 'the markdown tables are rendered');
    assert.equal(await page.locator('#cds-results script, #cds-results [onerror], #cds-results [onclick]').count(), 0);
    assert.match((await page.getAttribute('#card-0-source a', 'href')) ?? '', /\/models\/spine-deepsurv-demo$/);
    assert.match((await page.textContent('#run-facts')) ?? '', /1 service · 1 card · [\d.]+ m?s · prefetch sent/);
    await shot(page, 'risk-card');
    await assertAccessible(page, 'risk card');
  });

  it('accepts the DXA suggestion: the ServiceRequest is in the FHIR server and the feedback in the service’s store', async () => {
    const dxa = page.locator('#card-0 [data-suggestion-uuid]', { hasText: 'DXA' });
    await dxa.click();
    const result = page.locator('#card-0 .card-suggestions .action-status.ok');
    await result.waitFor({ timeout: 30_000 });
    const text = (await result.textContent()) ?? '';
    assert.match(text, /Created ServiceRequest\/[A-Za-z0-9.-]+\. Feedback sent to the service \(accepted\)\./);
    const written = ((await result.getAttribute('data-written')) ?? '').split(' ');
    const id = written.find((r) => r.startsWith('ServiceRequest/'))!.slice('ServiceRequest/'.length);
    assert.ok(text.includes(`Created ServiceRequest/${id}.`), text);
    const response = await fetch(`${demo.urls.fhir}/ServiceRequest/${id}`, { headers: { authorization: `Bearer ${await token(high.id)}` } });
    assert.equal(response.status, 200);
    const order = (await response.json()) as ServiceRequest;
    assert.equal(order.subject.reference, `Patient/${high.id}`);
    assert.equal(order.code?.coding?.[0]?.code, '312681000');
    assert.equal(order.status, 'draft');
    assert.deepEqual(fhirProblems(order), []);
    await page.waitForSelector(`#panel-orders li[data-reference="ServiceRequest/${id}"]`, { timeout: 10_000 });
    const accepted = (await demo.serving.store.feedbackSummary()).find((r) => r.serviceId === 'spine-fracture-risk' && r.outcome === 'accepted');
    assert.equal(accepted?.cardTopic, 'fracture-risk');
    assert.equal(accepted?.band, 'high');
    assert.equal(accepted?.count, 1);
    await shot(page, 'dxa-accepted');
  });

  it('launches the SMART app from the card link (appContext through the authorization server): the curves are drawn', async () => {
    const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#card-0 [data-link-type="smart"]')]);
    await popup.waitForSelector('main[data-state="ready"] #chart-risk canvas', { timeout: 30_000 });
    assert.equal((await popup.textContent('#headline-risk'))?.trim(), risk);
    assert.equal(await popup.$('#context-notice'), null, 'the app shows the assessment the card showed (appContext)');
    assert.match((await popup.textContent('#patient-banner')) ?? '', new RegExp(high.name.split(' ')[1]!));
    await shot(popup, 'smart-app-from-card');
    await popup.close();
  });

  it('signs a glucocorticoid order without prefetch and dismisses its card with a reason: the feedback is stored', async () => {
    await page.uncheck('#send-prefetch');
    await fire(page, '#fire-order-glucocorticoid');
    assert.match((await page.textContent('#run-header')) ?? '', /order-select.*Prednisone/);
    assert.match((await page.textContent('#run-facts')) ?? '', /no prefetch/);
    assert.match((await page.textContent('#card-0-summary')) ?? '', /Long-term glucocorticoid/);
    const request = JSON.parse((await page.textContent('#exchange-spine-fracture-risk-orders-request')) ?? '{}') as Record<string, Record<string, unknown>>;
    assert.equal(request.fhirAuthorization?.access_token, '[redacted]', 'the page never sees the access token');
    assert.equal(request.prefetch, undefined);
    await page.click('#card-0-dismiss');
    await page.click('#card-0-dismiss-submit');
    assert.match((await page.textContent('#card-0-dismiss-error')) ?? '', /Choose a reason/);
    await page.selectOption('#card-0-reason', 'patient-declined');
    await page.fill('#card-0-comment', 'Prefers to discuss it at the next visit');
    await shot(page, 'dismiss-form');
    await page.click('#card-0-dismiss-submit');
    await page.waitForSelector('#card-0[data-dismissed="true"]');
    assert.match((await page.textContent('#card-0-dismiss-status')) ?? '', /Dismissed: Patient declined\. Feedback sent to the service \(overridden\)\./);
    const overridden = (await demo.serving.store.feedbackSummary()).find((r) => r.serviceId === 'spine-fracture-risk-orders' && r.outcome === 'overridden');
    assert.equal(overridden?.reason, 'https://spine-fracture-cds.example/fhir/override-reason|patient-declined');
    assert.equal(overridden?.cardTopic, 'glucocorticoid-bone-protection');
    await page.check('#send-prefetch');
    await page.click('#exchange-spine-fracture-risk-orders summary');
    await shot(page, 'dismissed-with-exchange');
    await assertAccessible(page, 'dismissed card with the request/response open');
  });

  it('a DXA order gets the card that informs it; a low-risk patient gets none, said plainly', async () => {
    await fire(page, '#fire-order-dxa');
    assert.equal(await page.getAttribute('#card-0', 'data-indicator'), 'info');
    assert.match((await page.textContent('#card-0-summary')) ?? '', /for this DXA order/);
    await openPatient(page, low.id);
    await fire(page, '#fire-patient-view');
    assert.equal(await page.locator('.cds-card').count(), 0);
    assert.match((await page.textContent('[data-no-cards="true"]')) ?? '', /no cards returned/);
    await shot(page, 'no-cards');
  });

  it('moves through the patient list by keyboard', async () => {
    await page.focus(`#patient-${demo.patients[0]!.id}`);
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate<string>('document.activeElement.id'), `patient-${demo.patients[1]!.id}`);
    await page.keyboard.press('End');
    assert.equal(await page.evaluate<string>('document.activeElement.id'), `patient-${demo.patients.at(-1)!.id}`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`#main[data-patient-id="${demo.patients.at(-1)!.id}"] #chart[data-state="ready"]`);
  });
});

describe('when the CDS service cannot be used, the page says so', () => {
  it('a service that is down, and one that does not trust the EHR’s key: a clear error, no cards', async () => {
    const common = { fhirBaseUrl: demo.urls.fhir, auth: demo.auth, user: { fhirUser: 'Practitioner/dr-demo', name: 'Dr. Dana Demo' }, patients: [{ id: high.id, name: high.name, scenario: high.scenario }], clientId: EHR_CLIENT_ID };
    const down = await startEhrSimulator({ ...common, cdsBaseUrl: 'http://127.0.0.1:9', key: await createSimulatorKey('urn:test:ehr') });
    const untrusted = await startEhrSimulator({ ...common, cdsBaseUrl: demo.urls.cds, key: await createSimulatorKey('urn:spine-cds:demo-ehr-simulator') });
    const p = await context.newPage();
    try {
      for (const [simulator, name, text] of [
        [down, 'cds-unreachable', /CDS discovery at http:\/\/127\.0\.0\.1:9\/cds-services: could not be reached/],
        [untrusted, 'cds-untrusted-key', /CDS discovery at .* answered HTTP 401/],
      ] as const) {
        await p.goto(simulator.url);
        await p.waitForSelector('#patient-list button');
        await openPatient(p, high.id);
        await fire(p, '#fire-patient-view');
        assert.equal(await p.getAttribute('#cds-results', 'data-state'), 'error');
        assert.match((await p.textContent('#run-error')) ?? '', text);
        assert.equal(await p.getAttribute('#run-error', 'role'), 'alert');
        assert.equal(await p.locator('.cds-card').count(), 0);
        await shot(p, name);
        await assertAccessible(p, name);
      }
    } finally {
      await p.close();
      await Promise.all([down.close(), untrusted.close()]);
    }
  });
});

describe('card markup from a service is sanitised', () => {
  it('hostile markdown, raw HTML and script URLs never become live markup (fault injection: the answer to the page is rewritten)', async () => {
    const p = await context.newPage();
    try {
      await p.route('**/api/patients/*/hooks/patient-view', async (route) => {
        const response = await route.fetch();
        const run = (await response.json()) as HookRunResponse;
        const card = run.services[0]!.cards[0]!.card;
        card.detail = [
          '<script>window.__pwned = "script"</script>',
          '<img src="x" onerror="window.__pwned = \'img\'">',
          '[click me](javascript:window.__pwned=1) and [fine](https://example.org/guide)',
          '<a href="javascript:window.__pwned=2">raw link</a> <iframe src="https://example.org"></iframe>',
          '![tracker](https://tracker.example/pixel.png)',
          '| a | b |\n|---|---|\n| <b onmouseover="x()">1</b> | 2 |',
        ].join('\n\n');
        card.source = { ...card.source, url: 'javascript:window.__pwned=3' };
        card.links = [{ label: 'Bad link', url: 'javascript:window.__pwned=4', type: 'absolute' }];
        await route.fulfill({ response, json: run });
      });
      await p.goto(demo.urls.ehr);
      await p.waitForSelector('#patient-list button');
      await openPatient(p, high.id);
      await fire(p, '#fire-patient-view');
      const detail = p.locator('#card-0-detail');
      assert.equal(await p.locator('#cds-results script, #cds-results iframe, #cds-results img').count(), 0);
      assert.equal(await p.locator('#cds-results [onerror], #cds-results [onmouseover]').count(), 0);
      assert.equal(await p.locator('#cds-results a[href^="javascript"]').count(), 0);
      assert.equal(await detail.locator('a[href="https://example.org/guide"][rel~="noopener"][target="_blank"]').count(), 1);
      assert.match((await detail.textContent()) ?? '', /<script>window\.__pwned/, 'raw HTML is shown as text');
      assert.match((await detail.textContent()) ?? '', /\[image: tracker\]/);
      assert.equal(await p.locator('#card-0-source a').count(), 0, 'a source URL that is not http(s) is not a link');
      await p.click('#card-0-detail >> text=click me').catch(() => undefined);
      assert.equal(await p.evaluate<unknown>('window.__pwned'), undefined);
      await shot(p, 'hostile-card-sanitised');
    } finally {
      await p.close();
    }
  });
});

describe('the CDS client and the EHR token service on the wire', () => {
  it('patient-view with prefetch: a signed client JWT for the exact endpoint, prefetch filled from discovery, no token handed out', async () => {
    const { status, body } = await api(`/api/patients/${high.id}/hooks/patient-view`, { prefetch: true });
    assert.equal(status, 200);
    const run = body as HookRunResponse;
    const call = run.services[0]!;
    assert.equal(call.serviceId, 'spine-fracture-risk');
    assert.equal(call.status, 200);
    const { header, claims } = call.exchange.jwt;
    assert.deepEqual(header, { alg: 'ES384', kid: header.kid, typ: 'JWT' });
    assert.equal(claims.aud, `${demo.urls.cds}/cds-services/spine-fracture-risk`);
    assert.equal(claims.iss, 'urn:spine-cds:demo-ehr-simulator');
    assert.ok((claims.exp as number) - (claims.iat as number) <= 300);
    assert.match(claims.jti as string, /^[0-9a-f-]{36}$/);
    const refused = await fetch(`${demo.urls.cds}/cds-services`, { headers: { authorization: 'Bearer x' } });
    assert.equal(refused.status, 401, 'the service refuses a client without a valid JWT');
    const request = call.exchange.request as Record<string, unknown>;
    assert.equal(request.fhirAuthorization, undefined, 'complete prefetch: no token for the service');
    assert.equal(request.fhirServer, demo.urls.fhir);
    assert.deepEqual(call.exchange.prefetch.sent, ['familyMemberHistories', 'imagingStudies', 'medicationRequests', 'observations', 'conditions', 'patient'].sort());
    assert.deepEqual(call.exchange.prefetch.unfilled, []);
    assert.match((request.hookInstance as string) ?? '', /^[0-9a-f-]{36}$/);
  });

  it('issueAccessToken mints a real SMART token: the authorization server verifies it and the FHIR server keeps it to its patient', async () => {
    const issued = await demo.auth.issueAccessToken({ clientId: EHR_CLIENT_ID, patient: high.id, scopes: ['patient/*.rs', 'patient/ServiceRequest.c'] });
    assert.equal(issued.token_type, 'Bearer');
    assert.equal(issued.scope, 'patient/*.rs patient/ServiceRequest.c');
    assert.ok(issued.expires_in > 0 && issued.expires_in <= 3600);
    assert.equal(decodeProtectedHeader(issued.access_token).typ, 'at+jwt');
    const claims = decodeJwt(issued.access_token);
    assert.equal(claims.aud, demo.urls.fhir);
    assert.equal(claims.patient, high.id);
    assert.equal(claims.client_id, EHR_CLIENT_ID);
    const grant = await demo.auth.verifyAccessToken(issued.access_token);
    assert.deepEqual(grant && { patient: grant.patient, scopes: grant.scopes, clientId: grant.clientId }, { patient: high.id, scopes: ['patient/*.rs', 'patient/ServiceRequest.c'], clientId: EHR_CLIENT_ID });
    const headers = { authorization: `Bearer ${issued.access_token}` };
    assert.equal((await fetch(`${demo.urls.fhir}/Patient/${high.id}`, { headers })).status, 200);
    assert.equal((await fetch(`${demo.urls.fhir}/Patient/${low.id}`, { headers })).status, 403, 'another patient is refused');
    assert.equal((await fetch(`${demo.urls.fhir}/Patient/${high.id}`, { headers: { authorization: `Bearer ${issued.access_token}x` } })).status, 401);
    await assert.rejects(demo.auth.issueAccessToken({ clientId: 'nobody', patient: high.id, scopes: ['patient/*.rs'] }), RangeError);
    await assert.rejects(demo.auth.issueAccessToken({ clientId: EHR_CLIENT_ID, patient: high.id, scopes: ['user/*.rs'] }), RangeError);
    await assert.rejects(demo.auth.issueAccessToken({ clientId: EHR_CLIENT_ID, patient: '../x', scopes: ['patient/*.rs'] }), TypeError);
  });

  it('the simulator API checks its input and answers JSON errors', async () => {
    const expectError = async (result: Promise<{ status: number; body: unknown }>, status: number, code: string): Promise<void> => {
      const { status: got, body } = await result;
      assert.equal(got, status, JSON.stringify(body));
      assert.equal((body as ApiErrorBody).error.code, code);
    };
    await expectError(api(`/api/patients/${high.id}/hooks/patient-view`, { prefetch: 'yes' }), 400, 'invalid-request');
    await expectError(api(`/api/patients/${high.id}/hooks/patient-view`, { prefetch: true, extra: 1 }), 400, 'invalid-request');
    await expectError(api(`/api/patients/${high.id}/hooks/order-select`, { order: 'opioid', prefetch: true }), 400, 'invalid-request');
    await expectError(api('/api/patients/not-here/hooks/patient-view', { prefetch: true }), 404, 'patient-unknown');
    await expectError(api(`/api/patients/${high.id}/hooks/patient-view`, '{"prefetch":'), 400, 'invalid-json');
    await expectError(api(`/api/patients/${high.id}/hooks/patient-view`, { prefetch: true }, { origin: 'http://evil.example' }), 403, 'cross-origin');
    await expectError(api(`/api/patients/${high.id}/hooks/patient-view`, 'prefetch=true', { 'content-type': 'text/plain' }), 415, 'unsupported-media-type');
    await expectError(api('/api/suggestions/apply', { serviceId: 'spine-fracture-risk', cardUuid: '00000000-0000-4000-8000-000000000000', suggestionUuid: '#0' }), 404, 'card-unknown');
    await expectError(api('/api/launch', { patientId: high.id, url: 'http://127.0.0.1:1/not-a-card-link.html' }), 403, 'link-unknown');
    await expectError(api('/api/launch', { patientId: high.id, url: 'javascript:alert(1)' }), 400, 'invalid-request');
    await expectError(api('/api/nothing'), 404, 'not-found');
  });
});
