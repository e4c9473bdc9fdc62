// The SQLite store when the host fails it, with the real app (in process) and real file systems:
// - busy: a second connection holds the write lock past store.busyTimeoutMs → feedback is 503 with an
//   OperationOutcome (never a 500, never a 200 for something not stored), and 200 once it lets go;
// - full: a 2 MiB tmpfs filled up → /readyz 503 saying so, feedback 503, hooks still answered, and all
//   well again once space returns;
// - read-only: a store on a read-only mount → `serve` refuses to start with a clear message (exit 2).
// The mounts need root (as in CI); each is unmounted in `after`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { patientView, startTestApp, tempDir, type TestApp } from '../helpers/cds-app.js';
import { startServe } from '../helpers/serve-process.js';

const FEEDBACK_PATH = '/cds-services/test-echo/feedback';
const feedback = (marker: string): Record<string, unknown> => ({
  feedback: [{ card: randomUUID(), outcome: 'overridden', overrideReason: { userComment: marker }, outcomeTimestamp: new Date().toISOString() }],
});
const echo = (): Record<string, unknown> => patientView({ prefetch: { patient: { resourceType: 'Patient', id: 'p1' } } });

function storedComments(sqlitePath: string): string[] {
  const db = new Database(sqlitePath, { readonly: true });
  try {
    return db.prepare('SELECT user_comment FROM feedback ORDER BY id').pluck().all() as string[];
  } finally {
    db.close();
  }
}

function assertUnavailable(res: { status: number; body: unknown }): void {
  assert.equal(res.status, 503, JSON.stringify(res.body));
  assert.deepEqual(res.body, {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'transient', diagnostics: 'The store is unavailable; try again later' }],
  });
}

/** A tmpfs of `size` mounted on a fresh directory; unmount() when done. */
function mountTmpfs(size: string): { dir: string; unmount(): void; remount(options: string): void } {
  assert.equal(process.getuid?.(), 0, 'these tests mount file systems: run them as root (as CI does)');
  const dir = tempDir('store-fs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  let mounted = true;
  return {
    dir,
    remount: (options) => execFileSync('mount', ['-o', `remount,${options}`, dir]),
    unmount: () => {
      if (mounted) execFileSync('umount', [dir]);
      mounted = false;
    },
  };
}

describe('another connection holds the write lock past store.busyTimeoutMs', () => {
  let app: TestApp;
  before(() => {
    app = startTestApp({ config: { auth: { disabled: true }, store: { busyTimeoutMs: 200 } } });
  });
  after(() => app.close());

  it('feedback is 503 with an OperationOutcome and is not stored; 200 once the lock is released', async () => {
    const locker = new Database(app.sqlitePath);
    try {
      locker.exec('BEGIN IMMEDIATE');
      assertUnavailable(await app.request.post(FEEDBACK_PATH).send(feedback('while-locked')));
      const warning = app.logLines().find((l) => l.msg === 'store unavailable');
      assert.equal(warning?.code, 'SQLITE_BUSY');
      locker.exec('ROLLBACK');
    } finally {
      locker.close();
    }
    assert.equal((await app.request.post(FEEDBACK_PATH).send(feedback('after-lock'))).status, 200);
    assert.deepEqual(storedComments(app.sqlitePath), ['after-lock']);
    assert.deepEqual(app.logLines().filter((l) => l.level === 'error'), []);
  });
});

describe('the disk fills up (a 2 MiB tmpfs)', () => {
  let fs: ReturnType<typeof mountTmpfs>;
  let app: TestApp;
  before(() => {
    fs = mountTmpfs('2m');
    const sqlitePath = join(fs.dir, 'cds.sqlite');
    app = startTestApp({ sqlitePath, config: { auth: { disabled: true }, store: { sqlitePath, minFreeBytes: 256 * 1024 } } });
  });
  after(() => {
    app.close();
    fs.unmount();
  });

  it('/readyz says so, feedback is 503 (never a 500 or a lost 200), hooks are still answered, and all recovers when space returns', async () => {
    assert.equal((await app.request.get('/readyz')).status, 200);
    const acknowledged: string[] = [];
    const post = async (marker: string): Promise<{ status: number; body: unknown }> => {
      const res = await app.request.post(FEEDBACK_PATH).send(feedback(marker));
      if (res.status === 200) acknowledged.push(marker);
      return res;
    };
    assert.equal((await post('before')).status, 200);

    const filler = join(fs.dir, 'filler');
    const fd = openSync(filler, 'w');
    try {
      for (;;) writeSync(fd, Buffer.alloc(64 * 1024));
    } catch (error) {
      assert.equal((error as { code?: string }).code, 'ENOSPC');
    } finally {
      closeSync(fd);
    }
    const ready = await app.request.get('/readyz');
    assert.equal(ready.status, 503);
    assert.match((ready.body as { issue: { diagnostics: string }[] }).issue[0]?.diagnostics ?? '', /^store disk nearly full/);

    // SQLite may still fit a few rows in pages it already has; it refuses once it needs more.
    let refused: { status: number; body: unknown } | undefined;
    for (let i = 0; i < 500 && refused === undefined; i++) {
      const res = await post(`full-${i}`);
      if (res.status !== 200) refused = res;
    }
    assert.ok(refused, 'a write on a full disk was refused');
    assertUnavailable(refused);
    assert.equal(app.logLines().find((l) => l.msg === 'store unavailable')?.code, 'SQLITE_FULL');
    // A hook still gets its answer; the issued-card batch that cannot be written is dropped, not thrown.
    const hook = await app.request.post('/cds-services/test-echo').send(echo());
    assert.equal(hook.status, 200);
    assert.doesNotThrow(() => app.store.flush());
    assert.equal((await app.request.get('/healthz')).status, 200);

    rmSync(filler);
    assert.equal((await app.request.get('/readyz')).status, 200);
    assert.equal((await post('after')).status, 200);
    assert.deepEqual(storedComments(app.sqlitePath), acknowledged, 'every item answered 200 is stored, once, and nothing else');
    assert.deepEqual(app.logLines().filter((l) => l.level === 'error'), []);
  });
});

describe('a store on a read-only file system', () => {
  let fs: ReturnType<typeof mountTmpfs>;
  before(() => {
    fs = mountTmpfs('8m');
    // A store that was in use, then the volume came back read-only.
    new SqliteStore({ path: join(fs.dir, 'cds.sqlite') }).close();
    fs.remount('ro');
  });
  after(() => fs.unmount());

  it('is refused at start-up with a message naming the file: the store (StoreUnavailableError) and `serve` (exit 2)', async () => {
    const sqlitePath = join(fs.dir, 'cds.sqlite');
    assert.throws(() => new SqliteStore({ path: sqlitePath }), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError);
      assert.match(error.message, new RegExp(`^cannot open the store at ${sqlitePath} for writing`));
      return true;
    });
    const config = join(tempDir(), 'config.json');
    writeFileSync(config, JSON.stringify({ mode: 'development', server: { host: '127.0.0.1', port: 0 }, auth: { disabled: true }, model: { dir: 'models', inferenceThreads: 1, intraOpThreads: 1 }, workers: { threads: 1 }, store: { sqlitePath } }));
    await assert.rejects(startServe(config), (error: Error) => {
      assert.match(error.message, /serve exited \(code 2, signal null\) before listening/);
      assert.match(error.message, new RegExp(`cannot open the store at ${sqlitePath} for writing: store (files cannot be opened|is read-only)`));
      assert.doesNotMatch(error.message, /\n\s+at /, 'a message, not a stack trace');
      return true;
    });
  });
});
