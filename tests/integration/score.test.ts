// `spine-cds score` as an operator runs it: a child process (`node --import tsx src/main.ts score`)
// against the dev FHIR server and Orthanc on loopback, with synthetic patients — six with a lumbar
// radiograph, one whose DX study is of the chest, one whose lumbar study is too old, one with no
// study and one with only a CT. The first run is killed (SIGKILL) once a few patients are scored
// (a delay proxy in front of Orthanc keeps it from finishing first); the second resumes and finishes;
// a third finds nothing to do. Bad input (a server off the allow-list or down, a garbled or foreign
// state file) gets a clear message and exit code 2 or 1. Then the write-back holds one RiskAssessment per assessed patient, and
// a patient-view hook served by createServing on the same store is answered from the cache.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Bundle, BundleEntry, FhirResource, ImagingStudy, Resource, RiskAssessment } from 'fhir/r4.js';
import supertest from 'supertest';
import { runScore, ScoreCommandError, type ScoreCommandDeps, type ScoreCommandOptions } from '../../src/assessment/score-command.js';
import type { ScoreSummary } from '../../src/assessment/score-report.js';
import { defaultStatePath, type ScoreStateJson } from '../../src/assessment/score-state.js';
import { ASSESSMENT_IDENTIFIER_SYSTEM } from '../../src/assessment/risk-assessment-resource.js';
import { ENV_OVERRIDES, loadConfig } from '../../src/config.js';
import { startDevFhirServer, type DevFhirServer } from '../../src/dev/fhir-server.js';
import { startOrthanc, type RunningOrthanc } from '../../src/dev/orthanc.js';
import { createLogger } from '../../src/ops/logger.js';
import { createServing } from '../../src/serve.js';
import { syntheticPatient, type SyntheticPatient } from '../../src/synthetic/cohort.js';
import { patientResources, recordResources } from '../../src/synthetic/fhir-resources.js';
import { acquisition, renderRadiograph } from '../../src/synthetic/radiograph.js';
import { tempDir } from '../helpers/cds-app.js';
import { startDelayProxy, type DelayProxy } from '../helpers/delay-proxy.js';

const SEED = 11;
/** The service runs on the real clock in the child, so the charts are made as of today. */
const TODAY = new Date();
const DEAD_FHIR = 'http://127.0.0.1:9/fhir/R4';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

let fhir: DevFhirServer;
let orthanc: RunningOrthanc;
let slowPacs: DelayProxy;
let configFile: string;
let sqlitePath: string;
/** Patients with a usable lumbar radiograph. */
const eligible: string[] = [];
/** Patient id → the reason code they are not assessed for. */
const notAssessable = new Map<string, string>();
/** Patients the walk must never meet (no study, or only a CT). */
const unseen: string[] = [];
/** The Authorization header of every request the FHIR server received. */
const authorizations: (string | undefined)[] = [];
const TOKEN = 'score-test-token-3f9c';

interface ScoreExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children = new Set<{ kill(signal: NodeJS.Signals): boolean }>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `score`; `whileRunning` may watch it and kill it. Environment overrides of the configuration are cleared. */
function score(
  args: readonly string[],
  whileRunning?: (child: { kill(signal: NodeJS.Signals): boolean; exited: boolean }) => Promise<void>,
  extraEnv: Record<string, string> = {},
): Promise<ScoreExit> {
  const env = { ...process.env, ...extraEnv };
  for (const name of [...Object.keys(ENV_OVERRIDES), 'CDS_CONFIG']) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'score', '-c', configFile, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const handle = { kill: (signal: NodeJS.Signals) => child.kill(signal), exited: false };
  const exited = new Promise<ScoreExit>((resolve) =>
    child.once('exit', (code, signal) => {
      handle.exited = true;
      children.delete(child);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    }),
  );
  return Promise.all([exited, whileRunning?.(handle)]).then(([result]) => result);
}

/** Options as the CLI's defaults give them, for runScore in process. */
const COMMAND: ScoreCommandOptions = { fhir: '', concurrency: 2, pageSize: 50, writeBack: false, restart: false, json: false };
const sink = (): NodeJS.WritableStream => new PassThrough().resume();
const deps = (): ScoreCommandDeps => ({
  config: loadConfig({}, configFile),
  createPipeline: () => assert.fail('no pipeline is built for a run that cannot start'),
  env: {},
  stdout: sink(),
  stderr: sink(),
});

const json = (result: ScoreExit): ScoreSummary => JSON.parse(result.stdout) as ScoreSummary;
const noStack = (text: string): void => assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');

async function transact(resources: readonly FhirResource[]): Promise<void> {
  const entry: BundleEntry[] = resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${(resource as Resource).id}` } }));
  const response = await fetch(fhir.baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
  assert.equal(response.status, 200, await response.clone().text());
}

/** Loads a chart (its ImagingStudy edited, or dropped when `study` returns null); uploads the radiograph when asked. */
async function load(patient: SyntheticPatient, options: { study?: (study: ImagingStudy) => ImagingStudy | null; upload?: boolean } = {}): Promise<void> {
  const record = patientResources(patient, { asOf: TODAY, dicomWebBaseUrl: `${slowPacs.origin}/dicom-web` });
  const study = options.study ? options.study(structuredClone(record.imagingStudy)) : record.imagingStudy;
  const resources: FhirResource[] = recordResources(record).filter((r) => r.resourceType !== 'ImagingStudy');
  await transact(study ? [...resources, study] : resources);
  if (options.upload) await orthanc.upload(await renderRadiograph(patient, acquisition(patient, TODAY)));
}

const withModality = (code: string) => (study: ImagingStudy): ImagingStudy => ({
  ...study,
  modality: [{ system: DCM, code }],
  series: study.series?.map((s) => ({ ...s, modality: { system: DCM, code } })),
});

before(async () => {
  [fhir, orthanc, slowPacs] = await Promise.all([startDevFhirServer({ onRequest: (r) => authorizations.push(r.authorization) }), startOrthanc(), startDelayProxy(0)]);
  slowPacs.target = orthanc.url;
  const dir = tempDir('score-test-');
  sqlitePath = join(dir, 'cds.sqlite');
  configFile = join(dir, 'config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      mode: 'development',
      auth: { disabled: true },
      log: { level: 'info' },
      store: { sqlitePath },
      fhir: { servers: [fhir.baseUrl, DEAD_FHIR].map((baseUrl) => ({ baseUrl, allowInsecureHttp: true })) },
      imaging: { lookbackDays: 1825, dicomweb: { endpoints: [{ baseUrl: `${slowPacs.origin}/dicom-web`, allowInsecureHttp: true }], timeoutMs: 15_000 } },
      workers: { threads: 1 },
      model: { dir: 'models', inferenceThreads: 1 },
      assessment: { deadlineMs: 20_000 },
    }),
  );
  // Patients without a DXA on record (a recent DXA would rightly end their assessment early).
  const pool: SyntheticPatient[] = [];
  for (let index = 0; pool.length < 10; index++) {
    const patient = syntheticPatient(SEED, index);
    if (patient.factors.femoralNeckTScore === null) pool.push(patient);
  }
  const take = (): SyntheticPatient => pool.shift() as SyntheticPatient;
  for (let i = 0; i < 3; i++) {
    const patient = take();
    await load(patient, { upload: true });
    eligible.push(patient.id);
  }
  const chest = take();
  await load(chest, { study: (s) => ({ ...s, series: s.series?.map((x) => ({ ...x, bodySite: { system: 'http://snomed.info/sct', code: '51185008', display: 'Thoracic structure' } })) }) });
  notAssessable.set(chest.id, 'no-radiograph');
  const old = take();
  await load(old, { study: (s) => ({ ...s, started: '2012-03-01' }) });
  notAssessable.set(old.id, 'radiograph-too-old');
  const noStudy = take();
  await load(noStudy, { study: () => null });
  const ctOnly = take();
  await load(ctOnly, { study: withModality('CT') });
  unseen.push(noStudy.id, ctOnly.id);
  for (let i = 0; i < 3; i++) {
    const patient = take();
    await load(patient, { upload: true });
    eligible.push(patient.id);
  }
});

after(async () => {
  await Promise.all([fhir?.close(), orthanc?.close(), slowPacs?.close()]);
});

describe('spine-cds score', () => {
  it('refuses a FHIR server that is not on the allow-list: exit 2, a clear message, no stack', async () => {
    const refused = await score(['--fhir', 'http://127.0.0.1:1/fhir/R4']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /^score: FHIR server http:\/\/127\.0\.0\.1:1\/fhir\/R4 is not on the allow-list \(fhir\.servers/);
    noStack(refused.stderr);
  });

  it('reports a FHIR server that is down (exit 1) before loading any model', async () => {
    await assert.rejects(
      runScore({ ...COMMAND, fhir: DEAD_FHIR, state: join(tempDir('score-state-'), 'state.json') }, deps()),
      (error: unknown) =>
        error instanceof ScoreCommandError && error.exitCode === 1 && /^Cannot read the radiograph search from http:\/\/127\.0\.0\.1:9\/fhir\/R4: FHIR server could not be reached or dropped the connection$/.test(error.message),
    );
  });

  it('refuses a state file it cannot read, or one made for another server (exit 2)', async () => {
    const dir = tempDir('score-state-');
    const garbled = join(dir, 'garbled.json');
    await writeFile(garbled, '{"format": "spine-cds-score-state", "version": 1, "server": ');
    await assert.rejects(runScore({ ...COMMAND, fhir: fhir.baseUrl, state: garbled }, deps()), (error: unknown) => error instanceof ScoreCommandError && error.exitCode === 2 && /is not a usable score state \(not JSON\)/.test(error.message));
    const foreign = join(dir, 'foreign.json');
    await writeFile(foreign, JSON.stringify({ format: 'spine-cds-score-state', version: 1, server: DEAD_FHIR, query: 'ImagingStudy', page: 'ImagingStudy', complete: false, writeBack: false, studiesWalked: 0, patients: {} }));
    await assert.rejects(runScore({ ...COMMAND, fhir: fhir.baseUrl, state: foreign }, deps()), (error: unknown) => error instanceof ScoreCommandError && error.exitCode === 2 && /belongs to a walk of another FHIR server/.test(error.message));
  });

  it('resumes after being killed halfway, writes each assessment back once, and leaves the cache warm for the hook', async () => {
    const statePath = defaultStatePath(sqlitePath, fhir.baseUrl);
    const args = ['--fhir', fhir.baseUrl, '--write-back', '--page-size', '4', '--concurrency', '2', '--json'];

    // Run 1: a slow PACS; killed once the state file records three patients.
    slowPacs.delayMs = 300;
    const first = await score(args, async (child) => {
      const deadline = Date.now() + 60_000;
      while (!child.exited && Date.now() < deadline) {
        const state = await readFile(statePath, 'utf8').then((t) => JSON.parse(t) as ScoreStateJson, () => undefined);
        if (state && Object.keys(state.patients).length >= 3) {
          child.kill('SIGKILL');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    assert.equal(first.signal, 'SIGKILL', `run 1 should have been killed; it exited ${first.code}: ${first.stderr}`);
    const killedAt = JSON.parse(await readFile(statePath, 'utf8')) as ScoreStateJson;
    assert.equal(killedAt.complete, false);
    assert.equal(killedAt.server, fhir.baseUrl);
    const doneEarlier = Object.values(killedAt.patients).filter((r) => !r.startsWith('failed:')).length;
    assert.ok(doneEarlier >= 3 && doneEarlier < 10, `${doneEarlier} patients done before the kill: ${JSON.stringify(killedAt.patients)} ${first.stderr}`);

    // Run 2: resumes from the state file (its lock, left by the killed run, is taken over) and finishes,
    // with a bearer token named by --token-env.
    slowPacs.delayMs = 0;
    authorizations.length = 0;
    const second = await score([...args, '--token-env', 'SCORE_TEST_TOKEN'], undefined, { SCORE_TEST_TOKEN: TOKEN });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /score: resuming the walk of .* from .*score-[0-9a-f]+\.json: \d+ patients already scored/);
    noStack(second.stderr);
    assert.ok(authorizations.length > 0 && authorizations.every((a) => a === `Bearer ${TOKEN}`), 'every FHIR request carried the token');
    assert.ok(!second.stdout.includes(TOKEN) && !second.stderr.includes(TOKEN), 'the token is never printed');
    const summary = json(second);
    assert.equal(summary.status, 'complete');
    assert.equal(summary.resumed, true);
    assert.equal(summary.seen, 8);
    assert.equal(summary.run.scored, 8 - doneEarlier, 'the second run scored only what the first had not');
    assert.equal(summary.assessed.total, 6);
    assert.deepEqual(summary.notAssessed, { total: 2, byReason: { 'no-radiograph': 1, 'radiograph-too-old': 1 } });
    assert.deepEqual(summary.failures, { total: 0, byReason: {} });
    assert.equal(Object.values(summary.assessed.byBand).reduce((a, b) => a + b, 0), 6);
    for (const id of [...eligible, ...notAssessable.keys(), ...unseen]) {
      assert.ok(!second.stdout.includes(id) && !second.stderr.includes(id), 'no patient id in the output');
    }
    const state = JSON.parse(await readFile(statePath, 'utf8')) as ScoreStateJson;
    assert.equal(state.complete, true);
    assert.deepEqual(Object.keys(state.patients).sort(), [...eligible, ...notAssessable.keys()].sort());
    for (const [id, reason] of notAssessable) assert.equal(state.patients[id], `not-assessed:${reason}`);

    // Run 3 (in process: nothing is loaded for it): nothing left to do.
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const code = await runScore({ ...COMMAND, fhir: fhir.baseUrl, writeBack: true, json: true }, { ...deps(), stdout, stderr });
    assert.equal(code, 0);
    assert.match(String(stderr.read()), /is complete; nothing to do \(--restart walks it again\)/);
    assert.equal((JSON.parse(String(stdout.read())) as ScoreSummary).status, 'nothing-to-do');

    // One RiskAssessment per assessed patient, whatever the kill interrupted.
    const search = (await (await fetch(`${fhir.baseUrl}/RiskAssessment?_count=100`)).json()) as Bundle;
    const written = (search.entry ?? []).map((e) => e.resource as RiskAssessment);
    const keys = written.map((r) => r.identifier?.find((i) => i.system === ASSESSMENT_IDENTIFIER_SYSTEM)?.value);
    assert.equal(new Set(keys).size, keys.length, 'no identifier written twice');
    assert.deepEqual(written.map((r) => r.subject.reference).sort(), eligible.map((id) => `Patient/${id}`).sort());

    // A hook afterwards, served by the composition root on the same store, is answered from the cache.
    const lines: string[] = [];
    const serving = await createServing(loadConfig({}, configFile), { logger: createLogger('info', { write: (line: string) => void lines.push(line) }) });
    try {
      const request = supertest(serving.app.express);
      for (const patientId of eligible) {
        const hookInstance = crypto.randomUUID();
        const res = await request
          .post('/cds-services/spine-fracture-risk')
          .send({ hook: 'patient-view', hookInstance, fhirServer: fhir.baseUrl, context: { userId: 'Practitioner/dr-test', patientId } });
        assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
        const log = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.reqId === hookInstance && l.msg === 'assessment');
        assert.equal(log?.outcome, 'assessed', JSON.stringify(log));
        assert.equal(log?.cached, true, JSON.stringify(log));
      }
    } finally {
      await serving.close();
    }
  });
});
