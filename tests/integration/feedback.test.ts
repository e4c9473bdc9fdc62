// Feedback: validated, stored in SQLite, still there after a restart, and reported by the CLI; in both
// modes (production signs every call as a trusted client would).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import supertest from 'supertest';
import { MODES, patientView, startEngineApp, tempDir, type Mode, type TestApp } from '../helpers/cds-app.js';
import { issuedCardsPath } from '../../src/store/sqlite-store.js';
import { TOPIC_SYSTEM } from '../helpers/test-services.js';

const run = promisify(execFile);
const patient = { resourceType: 'Patient', id: 'p1' };

async function issueCard(t: TestApp): Promise<string> {
  const res = await t.request.post('/cds-services/test-echo').send(patientView({ prefetch: { patient } })).expect(200);
  return res.body.cards[0].uuid as string;
}

const item = (card: string, extra: Record<string, unknown>): Record<string, unknown> => ({
  card,
  outcomeTimestamp: '2026-11-26T10:00:00Z',
  ...extra,
});

for (const mode of MODES) describe(`feedback (${mode} mode)`, () => feedbackSuite(mode));

function feedbackSuite(mode: Mode): void {
  it('runs in the mode it is named for', async () => {
    const t = await startEngineApp(mode);
    try {
      assert.equal(t.config.mode, mode);
      assert.equal(t.config.auth.disabled, mode === 'development');
      // Without the signing wrapper production mode refuses the call; development takes it.
      const unsigned = await supertest(t.app.express).post('/cds-services/test-echo/feedback').send({ feedback: [item(crypto.randomUUID(), { outcome: 'accepted' })] });
      assert.equal(unsigned.status, mode === 'production' ? 401 : 200);
    } finally {
      t.close();
    }
  });

  it('is stored durably and still there after a restart; the CLI reports counts per card topic and reason', async () => {
    const sqlitePath = join(tempDir(), 'feedback.sqlite');
    const first = await startEngineApp(mode, { sqlitePath });
    const cardA = await issueCard(first);
    const cardB = await issueCard(first);
    await first.request
      .post('/cds-services/test-echo/feedback')
      .send({
        feedback: [
          item(cardA, { outcome: 'accepted', acceptedSuggestions: [{ id: crypto.randomUUID() }] }),
          item(cardB, { outcome: 'overridden', overrideReason: { reason: { system: TOPIC_SYSTEM, code: 'already-done', display: 'Already done' }, userComment: 'DXA last year' } }),
        ],
      })
      .expect(200, {});
    // Clients may omit display, send no reason at all, report the same card twice, or report a card we never issued.
    await first.request
      .post('/cds-services/test-echo/feedback')
      .send({
        feedback: [
          item(cardB, { outcome: 'overridden', overrideReason: { reason: { code: 'already-done', system: TOPIC_SYSTEM } } }),
          item(cardA, { outcome: 'overridden' }),
          item('not-a-card-we-issued', { outcome: 'accepted' }),
        ],
      })
      .expect(200);
    first.close();
    assert.ok(existsSync(sqlitePath));
    assert.ok(existsSync(issuedCardsPath(sqlitePath)), 'the issued-card index lives beside the feedback database');

    const second = await startEngineApp(mode, { sqlitePath });
    const rows = await second.store.feedbackSummary();
    second.close();
    assert.deepEqual(rows, [
      { serviceId: 'test-echo', cardTopic: '(unknown card)', band: '', outcome: 'accepted', reason: '', count: 1 },
      { serviceId: 'test-echo', cardTopic: 'echo', band: '', outcome: 'overridden', reason: `${TOPIC_SYSTEM}|already-done`, count: 2 },
      { serviceId: 'test-echo', cardTopic: 'echo', band: '', outcome: 'overridden', reason: '(none given)', count: 1 },
      { serviceId: 'test-echo', cardTopic: 'echo', band: '', outcome: 'accepted', reason: '', count: 1 },
    ]);

    const env = { ...process.env, CDS_SQLITE_PATH: sqlitePath, CDS_CONFIG: '' };
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'feedback-report'], { env });
    assert.match(stdout, /test-echo\s+echo\s+overridden\s+urn:test:card-topic\|already-done\s+2/);
    assert.match(stdout, /test-echo {2}echo: 1 accepted, 3 overridden/);
    const json = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'feedback-report', '--json'], { env });
    assert.deepEqual(JSON.parse(json.stdout), rows);
  });

  it('recreates a corrupt issued-card index at start and keeps the feedback', async () => {
    const sqlitePath = join(tempDir(), 'cds.sqlite');
    const first = await startEngineApp(mode, { sqlitePath });
    const card = await issueCard(first);
    await first.request.post('/cds-services/test-echo/feedback').send({ feedback: [item(card, { outcome: 'accepted' })] }).expect(200);
    first.close();
    writeFileSync(issuedCardsPath(sqlitePath), 'this is not a database, as a power loss might leave it'.repeat(100));
    for (const suffix of ['-wal', '-shm']) rmSync(`${issuedCardsPath(sqlitePath)}${suffix}`, { force: true });

    const second = await startEngineApp(mode, { sqlitePath });
    try {
      assert.deepEqual(await second.store.feedbackSummary(), [
        { serviceId: 'test-echo', cardTopic: '(unknown card)', band: '', outcome: 'accepted', reason: '', count: 1 },
      ]);
      const next = await issueCard(second);
      await second.request.post('/cds-services/test-echo/feedback').send({ feedback: [item(next, { outcome: 'accepted' })] }).expect(200);
      assert.equal((await second.store.feedbackSummary()).find((r) => r.cardTopic === 'echo')?.count, 1);
    } finally {
      second.close();
    }
  });

  const invalid: [string, unknown][] = [
    ['no feedback array', {}],
    ['an empty feedback array', { feedback: [] }],
    ['an unknown outcome', { feedback: [item('c', { outcome: 'ignored' })] }],
    ['a timestamp that is not RFC 3339', { feedback: [item('c', { outcome: 'accepted', outcomeTimestamp: 'yesterday' })] }],
    ['a missing card', { feedback: [{ outcome: 'accepted', outcomeTimestamp: '2026-11-26T10:00:00Z' }] }],
    ['an override reason without code', { feedback: [item('c', { outcome: 'overridden', overrideReason: { reason: { display: 'x' } } })] }],
  ];
  for (const [name, body] of invalid) {
    it(`refuses ${name} with 400 and stores nothing`, async () => {
      const t = await startEngineApp(mode);
      try {
        const res = await t.request.post('/cds-services/test-echo/feedback').send(body as object).expect(400);
        assert.equal(res.body.resourceType, 'OperationOutcome');
        assert.deepEqual(await t.store.feedbackSummary(), []);
      } finally {
        t.close();
      }
    });
  }

  // The spec defines no error for feedback about a card (answer 200); the item is kept under the service
  // it was sent to, but joined only to a card that service issued, so it cannot count as feedback on
  // the other service's card kind or risk band.
  it('about a card another service issued: 200, stored as an unknown card, never joined to that card', async () => {
    const t = await startEngineApp(mode);
    try {
      const card = await issueCard(t);
      await t.request.post('/cds-services/test-orders/feedback').send({ feedback: [item(card, { outcome: 'accepted' })] }).expect(200, {});
      await t.request.post('/cds-services/test-echo/feedback').send({ feedback: [item(card, { outcome: 'accepted' })] }).expect(200, {});
      assert.deepEqual(await t.store.feedbackSummary(), [
        { serviceId: 'test-echo', cardTopic: 'echo', band: '', outcome: 'accepted', reason: '', count: 1 },
        { serviceId: 'test-orders', cardTopic: '(unknown card)', band: '', outcome: 'accepted', reason: '', count: 1 },
      ]);
    } finally {
      t.close();
    }
  });

  it('is 404 for an unknown service', async () => {
    const t = await startEngineApp(mode);
    try {
      await t.request.post('/cds-services/nope/feedback').send({ feedback: [item('c', { outcome: 'accepted' })] }).expect(404);
    } finally {
      t.close();
    }
  });
}
