import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'evaluate-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { ...process.env, CDS_CONFIG: '' } }).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => error,
  );
}

void describe('evaluate: bad input gets a clear message and exit code 2', () => {
  void it('refuses a folder that is not a cohort', async () => {
    const { code, stderr } = await cli('evaluate', '--cohort', join(dir, 'missing'), '--model', 'tests/fixtures/models/tiny-image-only');
    assert.equal(code, 2);
    assert.match(stderr, /cannot read .*cohort\.json/);
    assert.doesNotMatch(stderr, /at .*\.ts:\d+/, 'no stack trace');
  });

  void it("refuses a cohort preprocessed differently from the model's card", async () => {
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ height: 40, width: 30, voi: { mode: 'percentile', lowPercentile: 1, highPercentile: 99 }, borderCrop: 0, padValue: 0, normalisation: { mean: 0.5, std: 0.25 } }));
    assert.equal((await cli('synth', '--seed', '3', '--count', '2', '--spec', spec, '--out', join(dir, 'cohort'), '--threads', '1')).code, 0);
    const { code, stderr } = await cli('evaluate', '--cohort', join(dir, 'cohort'), '--model', 'tests/fixtures/models/tiny-image-only');
    assert.equal(code, 2);
    assert.match(stderr, /preprocessed differently from what tiny-image-only expects; regenerate it with synth --card/);
  });
});
