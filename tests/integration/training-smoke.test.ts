// The whole model pipeline end to end, small: synth → PyTorch training (smoke mode) → ONNX + card +
// golden pairs → test cohort with the card's preprocessing → evaluate through the runtime →
// model-check. It proves the pipeline, not the model (one short epoch on a tiny cohort).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { loadModelFolder } from '../../src/model/model-registry.js';

const run = promisify(execFile);
const ID = 'spine-deepsurv-demo';

void describe('training pipeline (models/training/reproduce.sh --smoke)', () => {
  let work: string;
  let output: string;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'training-smoke-'));
    // Needs Debian's python3-torch (scripts/install-system-deps.sh installs it); a missing PyTorch fails here.
    const result = await run('models/training/reproduce.sh', ['--smoke', '--work', work], { maxBuffer: 16 << 20, timeout: 15 * 60_000 });
    output = result.stdout + result.stderr;
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  void it('writes a model folder the runtime accepts, with golden pairs that model-check reproduces', async () => {
    const model = await loadModelFolder(join(work, ID), { requireFolderName: true });
    assert.equal(model.card.intendedUse.status, 'demonstration');
    assert.match(model.card.intendedUse.statement, /synthetic/i);
    assert.match(model.card.intendedUse.statement, /must not be used for clinical decisions/);
    assert.ok(model.card.inputs.covariates && model.card.inputs.covariates.features.length > 0);
    assert.ok(existsSync(join(work, ID, 'golden.json')));
    // reproduce.sh ends with model-check, which runs the golden pairs through onnxruntime-node (1e-4).
    assert.match(output, /golden pairs/);
    assert.match(output, /PASSED/);
  });

  void it('trains an image-only comparison model without a covariates input', async () => {
    const model = await loadModelFolder(join(work, `${ID}-image-only`), { requireFolderName: true });
    assert.equal(model.card.inputs.covariates, null);
  });

  void it('evaluates both networks, the oracle and the comparators into a report and the card', () => {
    const report = readFileSync(join(work, ID, 'evaluation.md'), 'utf8');
    for (const row of ['DeepSurv image + clinical', 'DeepSurv image only', 'Oracle', 'Cox PH, M3 covariates', 'Shortcut']) assert.ok(report.includes(`| ${row}`), row);
    assert.match(report, /not patient data/);
    const card = JSON.parse(readFileSync(join(work, ID, 'model-card.json'), 'utf8')) as { evaluation: { heldOut?: { models: { name: string; harrellC: number }[] } } };
    const names = card.evaluation.heldOut?.models.map((m) => m.name) ?? [];
    assert.ok(names.includes(ID) && names.includes('oracle'), names.join());
    for (const m of card.evaluation.heldOut!.models) assert.ok(m.harrellC >= 0 && m.harrellC <= 1);
  });
});
