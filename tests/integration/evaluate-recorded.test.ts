// Silent mode end to end, then `evaluate --recorded`: the real services in silent mode assess 20
// synthetic patients (every response has no card), an outcomes CSV is written from the generator's
// truth, and the command, run as a child process on the stack's store, joins every patient and
// reports the Harrell's C the test computes itself from the stored log hazards and the truth.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { harrellC } from '../../src/evaluation/index.js';
import type { RecordedEvaluationReport } from '../../src/evaluation/evaluate-recorded.js';
import type { SyntheticPatient } from '../../src/synthetic/cohort.js';
import { tempDir } from '../helpers/cds-app.js';
import { MODEL_ID, NOW, patientAt, startStack, type Stack } from '../helpers/fracture-risk-stack.js';

const run = promisify(execFile);
const PATIENT_VIEW = '/cds-services/spine-fracture-risk';
const DAY = 86_400_000;
const EVENTS = 5;
const NON_EVENTS = 15;

let stack: Stack | undefined;
const patients: SyntheticPatient[] = [];
const responses: unknown[] = [];
/** logRisk of each patient's stored assessment. */
const logRiskOf = new Map<string, number>();
let storePath: string;

/** The date `years` after the assessment day, to the day: how a site would record it. */
const dateAfter = (years: number): string => new Date(Date.parse(NOW.toISOString().slice(0, 10)) + Math.round(years * 365.25) * DAY).toISOString().slice(0, 10);

/** Two at a time: the machine has two cores. */
async function twoAtATime<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  for (let k = 0; k < items.length; k += 2) await Promise.all(items.slice(k, k + 2).map(work));
}

before(async () => {
  // Patients without a femoral-neck T-score (no recent DXA to suppress the assessment), 5 with an event.
  let events = 0;
  for (let index = 0; patients.length < EVENTS + NON_EVENTS; index++) {
    const patient = patientAt(index);
    if (patient.factors.femoralNeckTScore !== null) continue;
    if (patient.outcome.event ? events < EVENTS : patients.length - events < NON_EVENTS) {
      patients.push(patient);
      if (patient.outcome.event) events++;
    }
  }
  // A generous deadline: on a busy machine an assessment past it would be answered 'pending'.
  stack = await startStack({ config: { services: { 'spine-fracture-risk': { silent: true } }, assessment: { deadlineMs: 60_000 } } });
  storePath = stack.config.store.sqlitePath;
  const live = stack;
  await twoAtATime(patients, (patient) => live.load(patient));
  await twoAtATime(patients, async (patient) => {
    const body = await live.patientView(patient.id);
    const res = await live.request.post(PATIENT_VIEW).send(body);
    assert.equal(res.status, 200);
    responses.push(res.body);
    const log = live.logLines().find((l) => l.reqId === body.hookInstance && l.msg === 'assessment');
    assert.equal(log?.outcome, 'assessed', `${patient.id}: ${JSON.stringify(log)}`);
  });
  for (const row of await stack.serving.store.listAssessments()) logRiskOf.set(row.patientId, (JSON.parse(row.json) as { logRisk: number }).logRisk);
  await stack.close();
  stack = undefined;
});

after(async () => {
  await stack?.close();
});

describe('evaluate --recorded on what silent mode recorded', () => {
  it('silent mode answers every hook with no card and records every assessment', () => {
    assert.equal(responses.length, patients.length);
    for (const body of responses) assert.deepEqual(body, { cards: [] });
    assert.deepEqual([...logRiskOf.keys()].sort(), patients.map((p) => p.id).sort());
  });

  it("joins every patient and reports the Harrell's C of the stored log hazards against the truth", async () => {
    const dir = tempDir('evaluate-recorded-');
    const outcomes = join(dir, 'outcomes.csv');
    const dates = patients.map((p) => dateAfter(p.outcome.time));
    await writeFile(outcomes, `id,event,date\n${patients.map((p, k) => `${p.id},${p.outcome.event ? 1 : 0},${dates[k]}`).join('\n')}\n`);
    const json = join(dir, 'report.json');
    const markdown = join(dir, 'report.md');
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', 'evaluate', '--recorded', '--store', storePath, '--outcomes', outcomes, '--model', MODEL_ID, '--json', json, '--markdown', markdown],
      { env: { ...process.env, CDS_CONFIG: '' } },
    );
    assert.equal(stderr, '');
    assert.match(stdout, new RegExp(`${MODEL_ID} .*: 20 patients joined, 5 events`));

    const report = JSON.parse(await readFile(json, 'utf8')) as RecordedEvaluationReport;
    assert.equal(report.model.id, MODEL_ID);
    assert.deepEqual(report.assessments.patients, patients.length);
    assert.equal(report.assessments.laterIgnored, 0);
    assert.equal(report.outcomes.joined, patients.length);
    assert.deepEqual(report.outcomes.excluded, []);
    assert.deepEqual(report.outcomes.assessedWithoutOutcome, { absent: 0, excluded: 0 });
    assert.equal(report.cohort.events, EVENTS);

    // The test's own C-index: the days it wrote, the log hazards in the store.
    const time = dates.map((date) => (Date.parse(date) - Date.parse(NOW.toISOString().slice(0, 10))) / DAY / 365.25);
    const event = patients.map((p) => (p.outcome.event ? 1 : 0));
    const expected = harrellC(time, event, patients.map((p) => logRiskOf.get(p.id)!)).cIndex;
    assert.ok(report.metrics.harrellC.estimable);
    assert.ok(Math.abs(report.metrics.harrellC.value - expected) < 1e-12, `${report.metrics.harrellC.value} ≠ ${expected}`);
    assert.ok(report.metrics.unoC.estimable);
    assert.equal(report.metrics.unoC.tau, 5, 'τ is the band horizon, which follow-up reaches');

    const text = await readFile(markdown, 'utf8');
    assert.match(text, /prospective recorded predictions\*\* of spine-deepsurv-demo/);
    assert.match(text, /Its numbers describe synthetic data, not patients/);
  });

  it('refuses with exit code 2 and a message when the store is missing', async () => {
    const failure = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'evaluate', '--recorded', '--store', join(tempDir(), 'none.sqlite'), '--outcomes', 'x.csv'], {
      env: { ...process.env, CDS_CONFIG: '' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failure.code, 2);
    assert.match(failure.stderr, /cannot read the store .*none\.sqlite: ENOENT/);
    assert.doesNotMatch(failure.stderr, /at .*\.ts:\d+/, 'no stack trace');
  });
});
