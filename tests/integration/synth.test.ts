import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeDicom } from '../../src/imaging/dicom-decode.js';
import { parsePreprocessingSpec } from '../../src/imaging/preprocessing.js';
import { FACTOR_NAMES } from '../../src/model/risk-factors.js';
import { synthesizeCohort } from '../../src/synthetic/synth.js';
import { synthesizePatient } from '../../src/synthetic/synth-task.js';
import demoSpec from '../../models/training/demo-preprocessing.json' with { type: 'json' };

// Small tensors keep the test quick; the geometry of the source radiographs is the real one.
const spec = parsePreprocessingSpec({ ...demoSpec, height: 64, width: 48 });
const indexDate = new Date('2026-01-01T00:00:00Z');
const limits = { maxBytes: 2 ** 30, maxPixels: 10 ** 8, maxFrames: 1 };
const COUNT = 5;

void describe('synth: cohort files for training', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synth-'));
    await synthesizeCohort({ seed: 21, count: COUNT, out: join(dir, 'two'), spec, indexDate, keepDicom: true, threads: 2 });
    await synthesizeCohort({ seed: 21, count: COUNT, out: join(dir, 'one'), spec, indexDate, keepDicom: false, threads: 1 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('writes the documented files, the same whatever the thread count', async () => {
    const metadata = JSON.parse(await readFile(join(dir, 'two', 'cohort.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(metadata.format, 'spine-cds-cohort');
    assert.equal(metadata.formatVersion, 1);
    assert.equal(metadata.count, COUNT);
    assert.deepEqual(metadata.preprocessing, spec);
    assert.deepEqual((metadata.images as { shape: number[] }).shape, [COUNT, 1, 64, 48]);
    assert.match(String(metadata.statement), /synthetic/i);
    for (const file of ['images.f32', 'patients.csv', 'cohort.json']) {
      assert.deepEqual(await readFile(join(dir, 'one', file)), await readFile(join(dir, 'two', file)), file);
    }
    const images = await readFile(join(dir, 'two', 'images.f32'));
    assert.equal(images.byteLength, COUNT * 64 * 48 * 4);
  });

  void it('has one CSV row per patient with the risk factors, outcome and truth', async () => {
    const [header, ...rows] = (await readFile(join(dir, 'two', 'patients.csv'), 'utf8')).trimEnd().split('\n');
    const columns = header!.split(',');
    for (const name of [...FACTOR_NAMES, 'id', 'time', 'event', 'trueLogHazard', 'boneStrength']) assert.ok(columns.includes(name), name);
    assert.equal(rows.length, COUNT);
    rows.forEach((row, k) => {
      const record = Object.fromEntries(row.split(',').map((value, i) => [columns[i]!, value]));
      assert.equal(record.id, `syn-21-${k}`);
      assert.ok(Number(record.time) > 0);
      assert.ok(record.event === '0' || record.event === '1');
      assert.ok(Number(record.age) >= 50);
    });
  });

  void it("stores each tensor exactly as the service's decode and preprocessing make it from the DICOM file", async () => {
    const images = await readFile(join(dir, 'two', 'images.f32'));
    const stored = new Float32Array(images.buffer, images.byteOffset, images.byteLength / 4);
    const k = 3;
    const direct = await synthesizePatient({ seed: 21, index: k, indexDate: indexDate.toISOString(), spec, limits, keepDicom: false });
    assert.deepEqual(stored.subarray(k * 64 * 48, (k + 1) * 64 * 48), direct.tensor);
    const files = await readdir(join(dir, 'two', 'dicom'));
    assert.equal(files.length, COUNT);
    const decoded = await decodeDicom(new Uint8Array(await readFile(join(dir, 'two', 'dicom', `syn-21-${k}.dcm`))), limits);
    assert.equal(decoded.rows, direct.acquisition.rows);
    assert.equal(decoded.columns, direct.acquisition.columns);
  });

  void it('refuses a count that is not a positive integer', async () => {
    await assert.rejects(synthesizeCohort({ seed: 1, count: 0, out: join(dir, 'zero'), spec, indexDate, keepDicom: false }), /count must be a positive integer/);
  });
});
