// The SMART app end to end in Debian's Chromium: the app built by its own build script and served by
// the service, launched through the real SMART authorization server (oidc-provider) in front of the
// dev FHIR server (which refuses calls without a valid token for the patient), reading real
// assessments (Orthanc, the demo model). Screenshots of each state go to test-results/smart-app/.
//
// Fault injection (named as such): a few tests rewrite one request in the browser (page.route) to
// produce what a real part cannot be made to do on cue — a tampered PKCE verifier, a call for another
// patient, a FHIR server off the allow-list or down. The refusals themselves come from the real parts.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ServiceRequest } from 'fhir/r4.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AssessedResponse } from '../../src/api/smart-api-contract.js';
import { percent } from '../../src/assessment/risk-wording.js';
import type { Card } from '../../src/cds/types.js';
import { buildSmartApp } from '../../smart-app/build.js';
import { axeViolations, launchChromium, screenshot } from '../helpers/browser.js';
import { tempDir } from '../helpers/cds-app.js';
import { fhirProblems } from '../helpers/fhir-validation.js';
import { chartFactors, NOW, patientAt, startExpectation, startStack, type LoadedPatient, type SmartStack, type Stack } from '../helpers/fracture-risk-stack.js';

const DEAD_FHIR = 'http://127.0.0.1:9/fhir/R4';
const STYLE = { color_background: '#f4f7fb', color_text: '#14213d', color_highlight: '#1d4ed8', font_family_body: 'DejaVu Sans, sans-serif' };

let appDir: string;
let stack: Stack;
let smart: SmartStack;
let browser: Browser;
let styleServer: Server;
let styleUrl: string;
let high: LoadedPatient;
let noImage: LoadedPatient;
let tooYoung: LoadedPatient;

const ready = (page: Page): Promise<unknown> => page.waitForSelector('main[data-state="ready"] #chart-risk canvas', { timeout: 30_000 });
const state = (page: Page, name: string): Promise<unknown> => page.waitForSelector(`main[data-state="${name}"]`, { timeout: 30_000 });

async function newPage(viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  // The app's CSP forbids inline and eval'd script; the test's own probes (axe-core, waitForFunction) need both.
  const context = await browser.newContext({ viewport, bypassCSP: true });
  const page = await context.newPage();
  return { context, page };
}

async function ehrLaunch(page: Page, patientId: string, extra: { appContext?: string; needPatientBanner?: boolean; smartStyleUrl?: string } = {}): Promise<void> {
  const launch = smart.auth.createLaunch({ patient: patientId, ...extra });
  await page.goto(`${smart.launchUrl}?launch=${encodeURIComponent(launch)}&iss=${encodeURIComponent(stack.fhir.baseUrl)}`);
}

async function apiAssessment(patientId: string, whatIf?: Record<string, boolean>): Promise<AssessedResponse> {
  const token = (await smart.token(patientId)).access_token;
  const headers = { authorization: `Bearer ${token}`, 'x-fhir-server': stack.fhir.baseUrl, 'content-type': 'application/json' };
  const response = whatIf
    ? await fetch(`${smart.appBaseUrl}/api/patients/${patientId}/what-if`, { method: 'POST', headers, body: JSON.stringify({ factors: whatIf }) })
    : await fetch(`${smart.appBaseUrl}/api/patients/${patientId}/assessment`, { headers });
  assert.equal(response.status, 200);
  const body = (await response.json()) as AssessedResponse;
  assert.equal(body.status, 'assessed');
  return body;
}

/** The horizon table as shown: [within, risk, fracture-free, what-if risk?, what-if fracture-free?] per row. */
function horizonTable(page: Page): Promise<string[][]> {
  return page.evaluate<string[][]>(`[...document.querySelectorAll('#horizon-table tbody tr')].map((row) => [...row.querySelectorAll('th, td')].map((cell) => cell.textContent.trim()))`);
}

async function assertAccessible(page: Page, name: string): Promise<void> {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${name}: axe-core found serious violations: ${JSON.stringify(violations, null, 1)}`);
}

async function expectError(page: Page, name: string, text: RegExp): Promise<void> {
  await state(page, 'error');
  const message = await page.textContent('main');
  assert.match(message ?? '', text);
  await screenshot(page, name);
  await assertAccessible(page, name);
}

before(async () => {
  appDir = tempDir('smart-app-build-');
  await buildSmartApp({ outDir: appDir });
  const expectation = await startExpectation();
  try {
    [stack, browser] = await Promise.all([startStack({ smart: { appDir }, alsoAllow: { fhir: [DEAD_FHIR] } }), launchChromium()]);
    smart = stack.smart!;
    // The highest-risk of the first patients without a DXA on record (a recent DXA suppresses the estimate).
    const pool = [];
    for (let index = 0; pool.length < 6; index++) if (patientAt(index).factors.femoralNeckTScore === null) pool.push(patientAt(index));
    const loaded = await Promise.all(pool.map((patient) => stack.load(patient)));
    const risks = await Promise.all(loaded.map(async (l) => (await expectation.predict(l.patient, chartFactors(l))).logRisk));
    high = loaded[risks.indexOf(Math.max(...risks))]!;
  } finally {
    await expectation.close();
  }
  noImage = await stack.load(patientAt(101), { edit: (resources) => resources.filter((r) => r.resourceType !== 'ImagingStudy') });
  const youngBirth = `${NOW.getUTCFullYear() - 40}-03-01`;
  tooYoung = await stack.load(patientAt(102), { edit: (resources) => resources.map((r) => (r.resourceType === 'Patient' ? ({ ...r, birthDate: youngBirth }) : r)) });
  styleServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(JSON.stringify(STYLE)));
  await new Promise<void>((resolve) => styleServer.listen(0, '127.0.0.1', resolve));
  styleUrl = `http://127.0.0.1:${(styleServer.address() as AddressInfo).port}/smart-style.json`;
});

after(async () => {
  await browser?.close();
  styleServer?.close();
  await stack?.close();
});

describe('EHR launch from the card', () => {
  let page: Page;
  let context: BrowserContext;

  before(async () => {
    ({ page, context } = await newPage());
  });
  after(async () => {
    await context?.close();
  });

  it('opens from the card link with its appContext and shows the API numbers', async () => {
    const hook = await stack.request.post('/cds-services/spine-fracture-risk').send(await stack.patientView(high.patient.id)).expect(200);
    const card = (hook.body.cards as Card[])[0];
    const link = card?.links?.find((l) => l.type === 'smart');
    assert.ok(link?.appContext, 'the card carries a SMART link with appContext');
    assert.equal(link.url, smart.launchUrl);
    await ehrLaunch(page, high.patient.id, { appContext: link.appContext });
    await ready(page);
    const api = await apiAssessment(high.patient.id);
    assert.equal(JSON.parse(link.appContext) .assessment, api.assessment.key, 'the card and the app show one assessment');
    assert.equal(await page.$('#context-notice'), null, 'the chart has not changed since the card');
    assert.equal((await page.textContent('#headline-risk'))?.trim(), percent(api.assessment.band.risk));
    assert.equal((await page.textContent('#headline-band'))?.trim(), api.assessment.band.label);
    const rows = await horizonTable(page);
    const expected = api.assessment.horizons.map((h) => (h.risk === null ? null : percent(h.risk)));
    assert.deepEqual(
      rows.map((r) => r[1]),
      expected.map((e) => e ?? "not estimated (beyond the model's follow-up)"),
    );
    assert.match((await page.textContent('#model-status')) ?? '', /not for clinical use/i);
    assert.match((await page.textContent('#patient-banner')) ?? '', new RegExp(high.record.patient.name?.[0]?.family ?? 'no-name'));
    const served = await fetch(`${smart.appBaseUrl}/smart-app/index.html`);
    assert.match(served.headers.get('content-security-policy') ?? '', /script-src 'self'/, 'the app runs only its own scripts');
    await screenshot(page, 'ready-ehr-launch');
    await assertAccessible(page, 'ready');
  });

  it('what-if toggles redraw the curve and the table with the API what-if numbers', async () => {
    const chartCanvas = await page.locator('#chart-risk').screenshot();
    const prior = high.patient.factors.priorFragilityFracture === true;
    await page.click('#whatif-priorFragilityFracture');
    await page.waitForSelector('#whatif-risk', { timeout: 20_000 });
    const api = await apiAssessment(high.patient.id, { priorFragilityFracture: !prior });
    assert.equal((await page.textContent('#whatif-risk'))?.trim(), percent(api.assessment.band.risk));
    const rows = await horizonTable(page);
    const estimated = api.assessment.horizons.filter((h) => h.risk !== null);
    assert.deepEqual(
      rows.filter((r) => r.length === 5).map((r) => r[3]),
      estimated.map((h) => percent(h.risk)),
    );
    assert.notDeepEqual(await page.locator('#chart-risk').screenshot(), chartCanvas, 'the curve was redrawn');
    await screenshot(page, 'what-if');
    await assertAccessible(page, 'what-if');
    await page.click('#whatif-reset');
    await page.waitForSelector('#whatif-risk', { state: 'detached' });
  });

  it('shows the explanation overlay on demand', async () => {
    await page.waitForSelector('#overlay-toggle:not([disabled])', { timeout: 20_000 });
    const before = await page.getAttribute('#radiograph-img', 'src');
    await page.check('#overlay-toggle');
    await page.waitForFunction(`(() => { const img = document.getElementById('radiograph-img'); return img.src !== ${JSON.stringify(before)} && img.complete; })()`, null, { timeout: 30_000 });
    await page.waitForSelector('#overlay-legend:not([hidden])');
    await screenshot(page, 'explanation-overlay');
  });

  it('orders a DXA: a valid ServiceRequest for the patient appears in the FHIR server', async () => {
    await page.click('#order-dxa');
    await page.waitForSelector('#order-result:has-text("ServiceRequest/")', { timeout: 20_000 });
    const id = /ServiceRequest\/([A-Za-z0-9.-]+)/.exec((await page.textContent('#order-result')) ?? '')![1]!;
    const token = (await smart.token(high.patient.id)).access_token;
    const response = await fetch(`${stack.fhir.baseUrl}/ServiceRequest/${id}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
    const order = (await response.json()) as ServiceRequest;
    assert.equal(order.subject.reference, `Patient/${high.patient.id}`);
    assert.match(order.requester?.reference ?? '', /Practitioner\/dr-demo$/);
    assert.deepEqual(fhirProblems(order), []);
    await screenshot(page, 'order-created');
  });

  it('prints a one-page summary', async () => {
    await page.emulateMedia({ media: 'print' });
    await screenshot(page, 'print');
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? [];
    assert.equal(pages.length, 1, 'one page');
    await page.emulateMedia({ media: 'screen' });
  });

  it('is readable in an 800 × 600 EHR frame, with the banner hidden when the EHR shows its own, and EHR styling', async () => {
    const small = await newPage({ width: 800, height: 600 });
    try {
      await ehrLaunch(small.page, high.patient.id, { needPatientBanner: false, smartStyleUrl: styleUrl });
      await ready(small.page);
      assert.equal(await small.page.isVisible('#patient-banner'), false);
      const width = await small.page.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(width <= 800, `no horizontal scrolling (content ${width} px wide)`);
      await small.page.waitForFunction(`getComputedStyle(document.body).backgroundColor === 'rgb(244, 247, 251)'`, null, { timeout: 10_000 });
      await screenshot(small.page, 'ready-800x600-styled');
      await assertAccessible(small.page, 'ready 800x600 styled');
    } finally {
      await small.context.close();
    }
  });
});

describe('standalone launch', () => {
  it('the user picks the patient and reaches the curves', async () => {
    const { page, context } = await newPage();
    try {
      await page.goto(`${smart.launchUrl}?iss=${encodeURIComponent(stack.fhir.baseUrl)}`);
      await page.check(`input[name="patient"][value="${high.patient.id}"]`);
      await screenshot(page, 'standalone-consent');
      await page.click('#allow');
      await ready(page);
      const api = await apiAssessment(high.patient.id);
      assert.equal((await page.textContent('#headline-risk'))?.trim(), percent(api.assessment.band.risk));
      assert.equal(await page.isDisabled('#order-dxa'), false);
    } finally {
      await context.close();
    }
  });

  it('without the order scope, Order DXA is disabled and says why', async () => {
    const { page, context } = await newPage();
    try {
      await page.goto(`${smart.launchUrl}?iss=${encodeURIComponent(stack.fhir.baseUrl)}`);
      await page.check(`input[name="patient"][value="${high.patient.id}"]`);
      await page.uncheck('input[name="scope"][value="patient/ServiceRequest.c"]');
      await page.click('#allow');
      await ready(page);
      assert.equal(await page.isDisabled('#order-dxa'), true);
      assert.match((await page.textContent('#order-permission')) ?? '', /permission|not granted|not allowed/i);
      await screenshot(page, 'order-not-permitted');
    } finally {
      await context.close();
    }
  });
});

describe('empty and error states', () => {
  let page: Page;
  let context: BrowserContext;

  before(async () => {
    ({ page, context } = await newPage());
  });
  after(async () => {
    await context?.close();
  });

  it('no eligible radiograph', async () => {
    await ehrLaunch(page, noImage.patient.id);
    await page.waitForSelector('main[data-state="not-assessed"] [data-reason="no-radiograph"]', { timeout: 30_000 });
    await screenshot(page, 'not-assessed-no-radiograph');
    await assertAccessible(page, 'not-assessed');
  });

  it('out of the model population', async () => {
    await ehrLaunch(page, tooYoung.patient.id);
    await page.waitForSelector('main[data-state="not-assessed"] [data-reason="age-out-of-range"]', { timeout: 30_000 });
    await screenshot(page, 'not-assessed-age');
  });

  it('loading', async () => {
    await page.route('**/api/patients/*/assessment*', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await route.continue();
    });
    try {
      await ehrLaunch(page, high.patient.id);
      await page.waitForSelector('main[data-state="loading"] #state-title', { timeout: 20_000 });
      await screenshot(page, 'loading');
      await ready(page);
    } finally {
      await page.unrouteAll();
    }
  });

  it('a wrong PKCE verifier: sign-in fails visibly (fault injection: the verifier is altered on its way)', async () => {
    await page.route(`${smart.auth.issuer}/**`, async (route) => {
      const request = route.request();
      if (request.method() !== 'POST' || !/code_verifier=/.test(request.postData() ?? '')) return route.continue();
      const body = new URLSearchParams(request.postData() ?? '');
      const verifier = body.get('code_verifier') ?? '';
      body.set('code_verifier', `${verifier.slice(0, -1)}${verifier.endsWith('A') ? 'B' : 'A'}`); // same length, one character off
      await route.continue({ postData: body.toString() });
    });
    try {
      await ehrLaunch(page, high.patient.id);
      await expectError(page, 'error-pkce', /sign-in failed.*invalid_grant/i);
    } finally {
      await page.unrouteAll();
    }
  });

  it('a token for another patient gets nothing (fault injection: the call is redirected to patient B)', async () => {
    await page.route('**/api/patients/*/assessment*', (route) => route.continue({ url: route.request().url().replace(`/patients/${high.patient.id}/`, `/patients/${noImage.patient.id}/`) }));
    try {
      await ehrLaunch(page, high.patient.id);
      await expectError(page, 'error-other-patient', /access|permission|patient/i);
    } finally {
      await page.unrouteAll();
    }
  });

  it('a FHIR server off the allow-list, and one that is down (fault injection: the X-FHIR-Server header is rewritten)', async () => {
    for (const [fhirServer, name, text] of [
      ['http://127.0.0.1:1/fhir/R4', 'error-not-allow-listed', /not configured|allow/i],
      [DEAD_FHIR, 'error-fhir-down', /could not be reached|unavailable/i],
    ] as const) {
      await page.route('**/api/patients/**', (route) => route.continue({ headers: { ...route.request().headers(), 'x-fhir-server': fhirServer } }));
      try {
        await ehrLaunch(page, high.patient.id);
        await expectError(page, name, text);
      } finally {
        await page.unrouteAll();
      }
    }
  });

  it('an expired token: the page says the session has expired', async () => {
    const short = await startStack({ smart: { appDir, accessTokenTtlSeconds: 6 } });
    const { page: shortPage, context: shortContext } = await newPage();
    try {
      await short.load(high.patient);
      const launch = short.smart!.auth.createLaunch({ patient: high.patient.id });
      const started = Date.now();
      await shortPage.goto(`${short.smart!.launchUrl}?launch=${encodeURIComponent(launch)}&iss=${encodeURIComponent(short.fhir.baseUrl)}`);
      await ready(shortPage);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 7_000 - Date.now())));
      await shortPage.click('#whatif-currentSmoking');
      await shortPage.waitForSelector('#alert.alert-session-expired', { timeout: 20_000 });
      assert.match((await shortPage.textContent('#alert')) ?? '', /session/i);
      await screenshot(shortPage, 'error-token-expired');
      await assertAccessible(shortPage, 'token expired');
    } finally {
      await shortContext.close();
      await short.close();
    }
  });
});
