import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const FIXTURES = 'tests/fixtures/models';
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function modelsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'serve-models-'));
  dirs.push(dir);
  cpSync(join(FIXTURES, 'tiny-cnn-cov'), join(dir, 'models', 'tiny-cnn-cov'), { recursive: true });
  return dir;
}

/** Starts `serve` and stops it once it listens; returns the exit code and everything it printed. */
async function serve(dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    // Production mode (the default) serves only with a public base URL.
    env: { ...process.env, CDS_CONFIG: '', CDS_PUBLIC_BASE_URL: 'http://127.0.0.1', PORT: '0', HOST: '127.0.0.1', CDS_SQLITE_PATH: join(dir, 'db.sqlite'), CDS_MODEL_DIR: join(dir, 'models') },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const seenBefore = stdout.includes('"msg":"listening"');
    stdout += chunk.toString();
    if (!seenBefore && stdout.includes('"msg":"listening"')) child.kill('SIGTERM');
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

void describe('serve: models are checked before serving', () => {
  void it('loads every model card, says what each is for, and stops cleanly', async () => {
    const { code, stdout } = await serve(modelsDir());
    assert.equal(code, 0);
    const loaded = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; model?: string; status?: string })
      .find((line) => line.model === 'tiny-cnn-cov');
    assert.ok(loaded, stdout);
    assert.match(loaded.msg, /^model loaded: /);
  });

  void it('refuses to start when a model file does not match its card', async () => {
    const dir = modelsDir();
    const onnx = join(dir, 'models', 'tiny-cnn-cov', 'model.onnx');
    writeFileSync(onnx, Buffer.concat([readFileSync(onnx), Buffer.from([0])]));
    const { code, stdout, stderr } = await serve(dir);
    assert.equal(code, 2);
    assert.doesNotMatch(stdout, /listening/);
    assert.match(stderr, /model\.onnx: sha256 is [0-9a-f]{64} but artifact\.sha256 in the card says/);
    assert.doesNotMatch(stderr, /at .*\.ts:\d+/, 'no stack trace');
  });

  void it('refuses to start on an invalid card, naming the field', async () => {
    const dir = modelsDir();
    const cardFile = join(dir, 'models', 'tiny-cnn-cov', 'model-card.json');
    const card = JSON.parse(readFileSync(cardFile, 'utf8')) as { intendedUse: { status: string } };
    card.intendedUse.status = 'approved';
    writeFileSync(cardFile, JSON.stringify(card));
    const { code, stderr } = await serve(dir);
    assert.equal(code, 2);
    assert.match(stderr, /model-card\.json: .*intendedUse\.status/);
  });
});
