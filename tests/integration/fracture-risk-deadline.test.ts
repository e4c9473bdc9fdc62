// The hook deadline on real parts: a PACS or FHIR server slower than the deadline (FAULT INJECTOR
// delay proxies in front of the real Orthanc and dev FHIR server) makes patient-view answer on time
// with no card, never a guess; the work finishes in the background, and the next call is served from
// the cache. Timing assertions use wide margins (the slow server takes seconds; the answer must come
// in well under that), as this machine is shared and noisy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FhirResource } from 'fhir/r4.js';
import type { CdsResponse } from '../../src/cds/types.js';
import { responseProblems } from '../../src/cds/validation.js';
import type { SyntheticPatient } from '../../src/synthetic/cohort.js';
import { startDelayProxy, type DelayProxy } from '../helpers/delay-proxy.js';
import { patientAt, startStack, type Stack } from '../helpers/fracture-risk-stack.js';

const DEADLINE_MS = 300;
const SLOW_MS = 4_000;
/** Far below the slow server's delay, far above the deadline: an on-time answer on a busy machine. */
const ON_TIME_MS = 2_500;

let stack: Stack;
let slowPacs: DelayProxy;
let slowFhir: DelayProxy;
let index = 200;

/** A patient with no recent DXA (which would end the assessment before the slow parts). */
function nextPatient(): SyntheticPatient {
  let patient = patientAt(index++);
  while (patient.factors.femoralNeckTScore !== null) patient = patientAt(index++);
  return patient;
}

async function timedHook(body: Record<string, unknown>): Promise<{ response: CdsResponse; ms: number }> {
  const started = performance.now();
  const res = await stack.request.post('/cds-services/spine-fracture-risk').send(body).expect(200);
  const ms = performance.now() - started;
  assert.deepEqual(responseProblems(res.body), []);
  return { response: res.body as CdsResponse, ms };
}

async function backgroundDone(hookInstance: unknown): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const line = stack.logLines().find((l) => l.reqId === hookInstance && l.msg === 'assessment finished after the deadline');
    if (line) return line;
    assert.ok(Date.now() < deadline, 'the background assessment never finished');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const logOf = (hookInstance: unknown): Record<string, unknown> | undefined => stack.logLines().find((l) => l.reqId === hookInstance && l.msg === 'assessment');

/** The first call: on time, no card, `pending`; then the work ends in the background. Returns its late outcome. */
async function pendingThenAssessed(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { response, ms } = await timedHook(body);
  assert.deepEqual(response.cards, []);
  assert.equal(logOf(body.hookInstance)?.outcome, 'pending');
  assert.ok(ms < ON_TIME_MS, `answered in ${ms.toFixed(0)} ms`);
  const finished = await backgroundDone(body.hookInstance);
  assert.equal(finished.outcome, 'assessed');
  return finished;
}

before(async () => {
  [slowPacs, slowFhir] = await Promise.all([startDelayProxy(SLOW_MS), startDelayProxy(SLOW_MS)]);
  stack = await startStack({
    // Above the slow servers' delay, so they answer; the PACS that never answers is given up on after it.
    config: { assessment: { deadlineMs: DEADLINE_MS }, imaging: { dicomweb: { timeoutMs: 6_000 } } },
    alsoAllow: { fhir: [`${slowFhir.origin}/fhir/R4`], dicomweb: [`${slowPacs.origin}/dicom-web`] },
  });
  slowPacs.target = stack.orthanc.url;
  slowFhir.target = new URL(stack.fhir.baseUrl).origin;
});

after(async () => {
  await stack?.close();
  await Promise.all([slowPacs?.close(), slowFhir?.close()]);
});

describe('patient-view within its deadline', () => {
  it('a slow PACS: no card on time, the work finishes in the background, the next call shows the card from the cache', async () => {
    const patient = nextPatient();
    await stack.load(patient, { edit: (resources) => resources.map((r): FhirResource => (r.resourceType === 'Endpoint' ? { ...r, address: `${slowPacs.origin}/dicom-web` } : r)) });
    const finished = await pendingThenAssessed(await stack.patientView(patient.id));

    const asked = slowPacs.count;
    const second = await stack.patientView(patient.id);
    const again = await timedHook(second);
    assert.equal(again.response.cards.length === 1 || finished.band === 'low', true);
    assert.equal(logOf(second.hookInstance)?.cached, true);
    assert.equal(slowPacs.count, asked, 'the cached answer asked nothing of the PACS');
    assert.ok(again.ms < ON_TIME_MS);
  });

  it('a slow FHIR server: no card on time for a call without prefetch; once it has finished, a call with prefetch is served from the cache', async () => {
    const patient = nextPatient();
    await stack.load(patient);
    const fhirServer = `${slowFhir.origin}/fhir/R4`;
    await pendingThenAssessed(await stack.patientView(patient.id, { prefetch: 'none', fhirServer }));

    const asked = slowFhir.count;
    const second = await stack.patientView(patient.id, { prefetch: 'all', fhirServer });
    const again = await timedHook(second);
    assert.equal(logOf(second.hookInstance)?.cached, true);
    assert.equal(slowFhir.count, asked, 'everything came with the prefetch');
    assert.ok(again.ms < ON_TIME_MS);
  });

  it('a PACS that never answers within the job time cap: on time, no card, and the process keeps serving', async () => {
    const patient = nextPatient();
    slowPacs.delayMs = 120_000;
    try {
      await stack.load(patient, { edit: (resources) => resources.map((r): FhirResource => (r.resourceType === 'Endpoint' ? { ...r, address: `${slowPacs.origin}/dicom-web` } : r)) });
      const body = await stack.patientView(patient.id);
      const { response, ms } = await timedHook(body);
      assert.deepEqual(response.cards, []);
      assert.ok(ms < ON_TIME_MS);
      await stack.request.get('/healthz').expect(200);
    } finally {
      slowPacs.delayMs = SLOW_MS;
    }
  });
});
