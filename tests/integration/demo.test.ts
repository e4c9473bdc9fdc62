// The local demo (`spine-cds demo`) on real parts: every scenario patient gets the outcome its scenario
// names through the service's own API (a real SMART launch for each), seeding is deterministic and
// cached, and stopping leaves no server, process or temporary directory behind — in process and as the
// CLI stopped with Ctrl-C (SIGINT).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AssessmentResponse } from '../../src/api/smart-api-contract.js';
import { startDemo, type Demo } from '../../src/dev/demo.js';
import { demoAsOf, demoPatients } from '../../src/dev/demo-scenarios.js';
import { createLogger } from '../../src/ops/logger.js';
import { tempDir } from '../helpers/cds-app.js';
import { smartLogin } from '../helpers/smart-login.js';

const demoDirs = (): string[] => readdirSync(tmpdir()).filter((name) => name.startsWith('spine-cds-demo-'));
const refused = async (url: string): Promise<boolean> => fetch(url).then(() => false, () => true);

let demo: Demo;
let cacheDir: string;
const lines: string[] = [];

before(async () => {
  cacheDir = tempDir('demo-cache-');
  demo = await startDemo({
    ports: { cds: 0, fhir: 0, ehr: 0, auth: 0 },
    cacheDir,
    appDir: join(tempDir(), 'not-built'),
    modelDir: 'models',
    logger: createLogger('silent'),
    progress: (line) => void lines.push(line),
  });
});

after(async () => {
  await demo?.close();
});

async function outcome(patientId: string, of: Demo = demo): Promise<AssessmentResponse> {
  const { tokenResponse } = await smartLogin({
    fhirBaseUrl: of.urls.fhir,
    clientId: 'spine-fracture-risk',
    redirectUri: `${of.urls.cds}/smart-app/index.html`,
    scopes: ['openid', 'fhirUser', 'launch', 'patient/*.rs'],
    launch: of.auth.createLaunch({ patient: patientId }),
  });
  const response = await fetch(`${of.urls.cds}/api/patients/${patientId}/assessment`, {
    headers: { authorization: `Bearer ${tokenResponse.access_token}`, 'x-fhir-server': of.urls.fhir },
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as AssessmentResponse;
}

describe('the demo', () => {
  it('seeds at least a dozen named scenario patients, each with the outcome its scenario names', async () => {
    assert.ok(demo.patients.length >= 12);
    assert.ok(demo.urls.pacs, 'Orthanc is installed here, so the demo runs it');
    for (const patient of demo.patients) {
      assert.match(patient.name, /^[A-Z][a-z]+ [A-Z][a-z]+$/);
      assert.ok(patient.scenario.length > 10);
      const result = await outcome(patient.id);
      if ('band' in patient.expect) {
        assert.equal(result.status, 'assessed', `${patient.name}: ${patient.scenario} → ${JSON.stringify(result.status === 'not-assessed' ? result.reasons : null)}`);
        assert.equal(result.status === 'assessed' && result.assessment.band.name, patient.expect.band, `${patient.name}: ${patient.scenario}`);
      } else {
        assert.equal(result.status, 'not-assessed', `${patient.name}: ${patient.scenario}`);
        assert.deepEqual(result.status === 'not-assessed' && result.reasons.map((r) => r.code), [patient.expect.reason], `${patient.name}: ${patient.scenario}`);
      }
    }
    const bands = new Set(demo.patients.flatMap((p) => ('band' in p.expect ? [p.expect.band] : [])));
    assert.deepEqual([...bands].sort(), ['high', 'low', 'moderate']);
  });

  it('serves the EHR simulator and says the SMART app is not built when it is not', async () => {
    const page = await fetch(`${demo.urls.ehr}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    assert.ok(lines.some((line) => /SMART app is not built/.test(line)), lines.join('\n'));
  });

  it('is deterministic: the same month gives the same charts, and the radiographs come from the cache', async () => {
    const asOf = demoAsOf(new Date());
    const again = demoPatients({ asOf, dicomWebBaseUrl: demo.urls.pacs!, cacheDir });
    assert.deepEqual(again.map((p) => p.resources), demo.patients.map((p) => p.resources));
    const cached = readdirSync(join(cacheDir, readdirSync(cacheDir)[0]!));
    assert.ok(cached.length >= 12 && cached.every((name) => name.endsWith('.dcm')), cached.join(', '));
    const started = performance.now();
    await Promise.all(again.map((p) => p.radiograph()));
    assert.ok(performance.now() - started < 5_000, 'read from the cache, not rendered again');
  });
});

describe('without Orthanc (--no-orthanc, or not installed)', () => {
  it('says so, and runs on: patients the model would score get "radiograph unavailable", the others keep their outcome', async () => {
    const progress: string[] = [];
    const bare = await startDemo({ ports: { cds: 0, fhir: 0, ehr: 0, auth: 0 }, cacheDir, appDir: 'dist/smart-app', modelDir: 'models', orthanc: false, logger: createLogger('silent'), progress: (line) => void progress.push(line) });
    try {
      assert.equal(bare.urls.pacs, undefined);
      assert.ok(progress.some((line) => /without Orthanc.*radiograph unavailable/.test(line)), progress.join('\n'));
      assert.ok(!progress.some((line) => /Starting Orthanc/.test(line)), progress.join('\n'));
      for (const patient of bare.patients) {
        const result = await outcome(patient.id, bare);
        assert.equal(result.status, 'not-assessed', `${patient.name}: no PACS, so no risk`);
        const codes = result.status === 'not-assessed' ? result.reasons.map((r) => r.code) : [];
        // Reasons found in the chart or the ImagingStudy come before the PACS is asked, so they are
        // unchanged; the view is read from the PACS's DICOM metadata, so 'wrong-view' needs it too.
        const named = 'reason' in patient.expect ? patient.expect.reason : null;
        const expected = named === null || named === 'wrong-view' ? 'radiograph-unavailable' : named;
        assert.deepEqual(codes, [expected], `${patient.name}: ${patient.scenario}`);
      }
      assert.equal((await fetch(`${bare.urls.ehr}/`)).status, 200, 'the EHR simulator runs');
    } finally {
      await bare.close();
    }
  });
});

describe('stopping', () => {
  it('in process: every server closed, the work directory removed', async () => {
    const before = demoDirs();
    const other = await startDemo({ ports: { cds: 0, fhir: 0, ehr: 0, auth: 0 }, cacheDir, appDir: 'dist/smart-app', modelDir: 'models', logger: createLogger('silent') });
    const created = demoDirs().filter((d) => !before.includes(d));
    assert.equal(created.length, 1);
    await other.close();
    for (const url of [`${other.urls.cds}/healthz`, `${other.urls.fhir}/metadata`, `${other.urls.ehr}/`, `${other.urls.auth}/.well-known/openid-configuration`, `${other.urls.pacs}/studies`]) {
      assert.ok(await refused(url), `${url} is closed`);
    }
    assert.ok(!existsSync(join(tmpdir(), created[0]!)), 'the work directory is gone');
  });

  it('the CLI stops on Ctrl-C (SIGINT) with exit code 0 and leaves nothing behind', async () => {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const before = demoDirs();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'demo', '--port', String(base), '--cache', cacheDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Killed whatever happens, so a failed assertion never leaves a demo running.
    const killed = (): void => void child.kill('SIGKILL');
    process.once('exit', killed);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${output}`)), 120_000);
      child.stdout.on('data', () => {
        if (output.includes('Press Ctrl-C to stop.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${output}`)));
    });
    assert.match(output, new RegExp(`EHR simulator\\s+http://127\\.0\\.0\\.1:${base + 2}/`));
    assert.equal((await fetch(`http://127.0.0.1:${base}/healthz`)).status, 200);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, output);
    assert.match(output, /Stopped\./);
    for (let port = base; port < base + 4; port++) assert.ok(await refused(`http://127.0.0.1:${port}/`), `port ${port} is closed`);
    const pacs = /PACS \(DICOMweb\)\s+(http:\S+)/.exec(output)?.[1];
    assert.ok(pacs, output);
    assert.ok(await refused(`${pacs}/studies`), 'Orthanc has stopped');
    assert.deepEqual(demoDirs().filter((d) => !before.includes(d)), [], 'no temporary directory left');
  });
});
