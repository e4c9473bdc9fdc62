// Store durability and concurrency with the service run as an operator runs it (`serve` as a child
// process, the demo model, a SQLite file, client authentication on):
// - kill -9 at 20 moments chosen at random (seeded; the seed is printed, STORE_DURABILITY_SEED=<n>
//   replays it) in bursts of authenticated feedback: every item answered 200 is stored exactly once,
//   both database files pass integrity_check, and tokens answered 200 before the kill are refused as
//   replays after the restart (the replay cache lives in the synchronous=OFF hook-rate file);
// - two `serve` processes on one SQLite file (the supported way: WAL + busy_timeout) taking feedback at
//   once: nothing lost, nothing doubled, and a token used at one is refused at the other;
// - 32 connections sending hooks and feedback at once to the real app on loopback: no 500, every 200
//   feedback stored exactly once, every card answered is in the issued-card index.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { CdsResponse } from '../../src/cds/types.js';
import { issuedCardsPath } from '../../src/store/sqlite-store.js';
import { mulberry32 } from '../../src/synthetic/random.js';
import { CLIENT_ISS, patientView, PUBLIC_BASE, startTestApp, tempDir, type TestApp } from '../helpers/cds-app.js';
import { jwksOf, makeKey, signJwt, type SigningKey } from '../helpers/jwt.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const SERVICE = 'spine-fracture-risk';
const FEEDBACK_PATH = `/cds-services/${SERVICE}/feedback`;
const FEEDBACK_URL = `${PUBLIC_BASE}${FEEDBACK_PATH}`;
const KILLS = 20;
/** The kill comes this long after the burst starts (a feedback post takes a few ms, so each window holds tens to hundreds). */
const KILL_WINDOW_MS: readonly [number, number] = [30, 1_500];
const LANES = 4;

const SEED = Number(process.env.STORE_DURABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`# store-durability seed ${SEED} (replay with STORE_DURABILITY_SEED=${SEED})`);
const random = mulberry32(SEED);

let key: SigningKey;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function writeServeConfig(dir: string, sqlitePath: string): string {
  const file = join(dir, `config-${randomUUID()}.json`);
  const config = {
    mode: 'development',
    server: { host: '127.0.0.1', port: 0, publicBaseUrl: PUBLIC_BASE },
    auth: { clients: [{ iss: CLIENT_ISS, jwks: jwksOf(key) }] },
    workers: { threads: 1 },
    model: { dir: 'models', inferenceThreads: 1, intraOpThreads: 1 },
    store: { sqlitePath },
    log: { level: 'info' },
    metrics: { enabled: false },
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** One feedback item, unique by its marker (the userComment of an override). */
const feedbackItem = (marker: string): Record<string, unknown> => ({
  card: randomUUID(),
  outcome: 'overridden',
  overrideReason: { userComment: marker },
  outcomeTimestamp: new Date().toISOString(),
});

interface Acknowledged {
  marker: string;
  token: string;
}

const feedbackToken = (): Promise<string> => signJwt(key, { iss: CLIENT_ISS, aud: FEEDBACK_URL });

/** Posts feedback items with a fresh token; the answer, or null when the process is gone. */
async function postFeedback(origin: string, token: string, markers: readonly string[]): Promise<Response | null> {
  try {
    return await fetch(`${origin}${FEEDBACK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ feedback: markers.map(feedbackItem) }),
    });
  } catch {
    return null;
  }
}

/** Lanes posting two items a request until `stopped()` or the process is gone; every 200 is recorded as acknowledged. */
async function feedbackLanes(origin: string, prefix: string, stopped: () => boolean, acknowledged: Acknowledged[]): Promise<void> {
  const lane = async (laneId: number): Promise<void> => {
    for (let n = 0; !stopped(); n++) {
      const markers = [0, 1].map((k) => `${prefix}-l${laneId}-n${n}-${k}`);
      const token = await feedbackToken();
      const res = await postFeedback(origin, token, markers);
      if (res === null) return;
      // Answered 200 = acknowledged, whether or not the rest of the answer arrives before a kill.
      assert.equal(res.status, 200, `feedback answered ${res.status}`);
      for (const marker of markers) acknowledged.push({ marker, token });
      await res.text().catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i)));
}

/** Every acknowledged marker is stored exactly once (the child may be running: a read in WAL mode sees committed rows). */
function assertStoredOnce(sqlitePath: string, acknowledged: readonly Acknowledged[]): number {
  const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  try {
    const counts = new Map<string, number>();
    for (const comment of db.prepare('SELECT user_comment FROM feedback').pluck().all() as string[]) counts.set(comment, (counts.get(comment) ?? 0) + 1);
    const wrong = acknowledged.filter((a) => counts.get(a.marker) !== 1);
    assert.deepEqual(wrong.map((w) => `${w.marker} ×${counts.get(w.marker) ?? 0}`), [], `${wrong.length} of ${acknowledged.length} acknowledged items not stored exactly once`);
    return counts.size;
  } finally {
    db.close();
  }
}

function integrityOf(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('PRAGMA integrity_check').pluck().get() as string;
  } finally {
    db.close();
  }
}

/** The token is refused as a replay, as the child's request log says. */
async function assertReplayRefused(child: ServeProcess, token: string): Promise<void> {
  const earlier = new Set(child.logLines());
  const res = await postFeedback(child.origin, token, [`replay-${randomUUID()}`]);
  assert.equal(res?.status, 401);
  await res?.text();
  await child.waitForLine((l) => !earlier.has(l) && l.msg === 'request' && l.status === 401 && l.authFailure === 'replayed-jti');
}

before(async () => {
  key = await makeKey('ES256');
});

describe('kill -9 during bursts of feedback, restarted on the same store', () => {
  let child: ServeProcess | undefined;
  after(async () => {
    await child?.stop('SIGKILL');
  });

  it(`keeps every feedback answered 200, and every token id, across ${KILLS} kills at random moments`, { timeout: 600_000 }, async () => {
    const dir = tempDir('store-durability-');
    const sqlitePath = join(dir, 'cds.sqlite');
    const config = writeServeConfig(dir, sqlitePath);
    const acknowledged: Acknowledged[] = [];
    let previous: Acknowledged[] = [];
    const report: string[] = [];
    for (let cycle = 0; cycle < KILLS; cycle++) {
      child = await startServe(config);
      // Tokens answered 200 before the last kill are replays now.
      for (const token of [...new Set(previous.map((p) => p.token))].slice(-3)) await assertReplayRefused(child, token);
      const killAfterMs = Math.round(KILL_WINDOW_MS[0] + random() * (KILL_WINDOW_MS[1] - KILL_WINDOW_MS[0]));
      const cycleAcknowledged: Acknowledged[] = [];
      const running = child;
      const lanes = feedbackLanes(running.origin, `k${cycle}`, () => !running.running(), cycleAcknowledged);
      await sleep(killAfterMs);
      const exit = await running.stop('SIGKILL');
      assert.equal(exit.signal, 'SIGKILL');
      await lanes;
      child = undefined;
      acknowledged.push(...cycleAcknowledged);
      previous = cycleAcknowledged;
      const stored = assertStoredOnce(sqlitePath, acknowledged);
      assert.equal(integrityOf(sqlitePath), 'ok');
      assert.equal(integrityOf(issuedCardsPath(sqlitePath)), 'ok');
      report.push(`kill ${cycle + 1} at ${killAfterMs} ms: ${cycleAcknowledged.length} acknowledged (${stored} stored in all)`);
    }
    console.log(`# seed ${SEED}\n# ${report.join('\n# ')}`);
    assert.ok(acknowledged.length >= KILLS, 'the bursts did acknowledge feedback');
    // A last start: the store opens, and the last burst's tokens are replays.
    child = await startServe(config);
    for (const token of [...new Set(previous.map((p) => p.token))].slice(-3)) await assertReplayRefused(child, token);
    assert.deepEqual(child.logLines().filter((l) => l.level === 'error' || l.level === 'fatal'), []);
    await child.stop('SIGTERM');
    child = undefined;
  });
});

describe('two serve processes sharing one SQLite file', () => {
  const children: ServeProcess[] = [];
  after(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
  });

  it('take feedback at the same time: nothing lost or doubled; a token used at one is a replay at the other', { timeout: 180_000 }, async () => {
    const dir = tempDir('store-shared-');
    const sqlitePath = join(dir, 'cds.sqlite');
    const config = writeServeConfig(dir, sqlitePath);
    const [first, second] = await Promise.all([startServe(config), startServe(config)]);
    children.push(first, second);
    const acknowledged: Acknowledged[] = [];
    let sent = 0;
    const target = 400;
    const stop = (): boolean => sent++ >= target;
    await Promise.all([feedbackLanes(first.origin, 'a', stop, acknowledged), feedbackLanes(second.origin, 'b', stop, acknowledged)]);
    assert.equal(acknowledged.length, 2 * target);
    assert.equal(assertStoredOnce(sqlitePath, acknowledged), acknowledged.length);

    const token = await feedbackToken();
    const res = await postFeedback(first.origin, token, ['shared-once']);
    assert.equal(res?.status, 200);
    await assertReplayRefused(second, token);
    for (const child of [first, second]) {
      assert.deepEqual(child.logLines().filter((l) => l.level === 'error' || l.level === 'fatal' || l.status === 503), []);
      await child.stop('SIGTERM');
    }
  });
});

describe('32 connections sending hooks and feedback at once (real app on loopback)', () => {
  let app: TestApp;
  let server: Server;
  let origin: string;
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });

  before(async () => {
    app = startTestApp({ config: { auth: { clients: [{ iss: CLIENT_ISS, jwks: jwksOf(key) }] } } });
    server = app.app.express.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
    app.close();
  });

  /** A POST over the shared keep-alive pool (fetch's own pool would not hold the connection count at 32). */
  const post = (path: string, aud: string, body: unknown): Promise<{ status: number; json: unknown }> =>
    signJwt(key, { iss: CLIENT_ISS, aud }).then(
      (token) =>
        new Promise((resolve, reject) => {
          const req = httpRequest(`${origin}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }));
          });
          req.on('error', reject);
          req.end(JSON.stringify(body));
        }),
    );

  it('3,000 requests: no 500, every feedback answered 200 stored exactly once, every card answered indexed', { timeout: 300_000 }, async () => {
    const statuses = new Map<number, number>();
    const acknowledged: Acknowledged[] = [];
    const cards: string[] = [];
    let next = 0;
    const connection = async (): Promise<void> => {
      for (let n = next++; n < 3_000; n = next++) {
        if (n % 2 === 0) {
          const res = await post('/cds-services/test-echo', `${PUBLIC_BASE}/cds-services/test-echo`, patientView({ prefetch: { patient: { resourceType: 'Patient', id: 'p1' } } }));
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) cards.push(...(res.json as CdsResponse).cards.map((c) => c.uuid as string));
        } else {
          const markers = [`c-${n}-0`, `c-${n}-1`];
          const res = await post('/cds-services/test-echo/feedback', `${PUBLIC_BASE}/cds-services/test-echo/feedback`, { feedback: markers.map(feedbackItem) });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) acknowledged.push(...markers.map((marker) => ({ marker, token: '' })));
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, connection));
    assert.deepEqual(Object.fromEntries(statuses), { 200: 3_000 }, 'every request answered 200');
    assert.equal(assertStoredOnce(app.sqlitePath, acknowledged), 3_000);
    app.store.flush();
    const index = new Database(issuedCardsPath(app.sqlitePath), { readonly: true });
    try {
      const indexed = new Set(index.prepare('SELECT uuid FROM issued_card').pluck().all() as string[]);
      assert.equal(cards.length, 1_500);
      assert.deepEqual(cards.filter((c) => !indexed.has(c)), []);
      assert.equal(index.prepare('SELECT COUNT(*) FROM token_id').pluck().get(), 3_000, 'one token id per request');
    } finally {
      index.close();
    }
    assert.deepEqual(app.logLines().filter((l) => l.level === 'error' || l.level === 'fatal' || l.level === 'warn'), []);
  });
});
