// Model cards: schema errors name the field, every semantic rule refuses with a clear message, and
// the registry refuses a tampered ONNX file, a misnamed folder, and skips folders without a card.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ModelCardError } from '../../src/model/errors.js';
import { parseModelCard, type ModelCard } from '../../src/model/model-card.js';
import { loadModelFolder, loadModelRegistry } from '../../src/model/model-registry.js';
import { tempDir } from '../helpers/cds-app.js';

const FIXTURES = 'tests/fixtures/models';
const validCard = (): ModelCard => JSON.parse(readFileSync(join(FIXTURES, 'tiny-cnn-cov', 'model-card.json'), 'utf8')) as ModelCard;

function refuses(mutate: (card: ModelCard) => void, message: RegExp): void {
  const card = validCard();
  mutate(card);
  assert.throws(
    () => parseModelCard(card, 'models/x/model-card.json'),
    (error: unknown) => error instanceof ModelCardError && error.file === 'models/x/model-card.json' && message.test(error.message),
  );
}

describe('model card validation', () => {
  it('accepts every fixture card', () => {
    for (const id of ['tiny-cnn-cov', 'tiny-image-only', 'heavy-test']) {
      const json: unknown = JSON.parse(readFileSync(join(FIXTURES, id, 'model-card.json'), 'utf8'));
      assert.equal(parseModelCard(json, id).id, id);
    }
  });

  it('names the field a schema error is in', () => {
    refuses((c) => (c.inputs.image.preprocessing.height = 3), /inputs\.image\.preprocessing\.height must be >= 8/);
    refuses((c) => ((c as unknown as Record<string, unknown>).extra = 1), /\(root\) has unknown field "extra"/);
    refuses((c) => ((c.intendedUse as { status: string }).status = 'approved'), /intendedUse\.status must be one of "demonstration", "research", "clinical"/);
    refuses((c) => ((c.artifact as { sha256: string }).sha256 = 'ABC'), /artifact\.sha256 must match pattern/);
  });

  it('explains a bad transform or missing rule by the branch that was meant', () => {
    refuses((c) => (c.inputs.covariates!.features[0]!.transform = { kind: 'standardize', mean: 60, sd: 0 }), /features\[0\]\.transform\.sd must be > 0/);
    refuses((c) => ((c.inputs.covariates!.features[0]!.transform as { kind: string }).kind = 'log'), /features\[0\]\.transform\.kind must be one of "identity", "standardize", "is-missing"/);
    refuses((c) => (c.inputs.covariates!.features[2]!.missing = { rule: 'impute' } as never), /features\[2\]\.missing must have required property 'value'/);
    refuses((c) => ((c.inputs.covariates as unknown) = 5), /inputs\.covariates must be null or object/);
    refuses((c) => ((c.inputs.covariates!.features[0]! as { factor: string }).factor = 'shoeSize'), /features\[0\]\.factor must be one of "age"/);
  });

  it('refuses baseline times that do not strictly increase', () => {
    refuses((c) => (c.baseline.times[3] = c.baseline.times[2]!), /baseline\.times\[3\] is not greater than baseline\.times\[2\]/);
  });

  it('refuses a decreasing cumulative hazard', () => {
    refuses((c) => (c.baseline.cumulativeHazard[5] = 0), /baseline\.cumulativeHazard\[5\] is below baseline\.cumulativeHazard\[4\]/);
  });

  it('refuses times and hazards of different lengths', () => {
    refuses((c) => c.baseline.cumulativeHazard.pop(), /baseline\.times has 40 entries but baseline\.cumulativeHazard has 39/);
  });

  it('refuses horizons and the band horizon outside the baseline grid', () => {
    refuses((c) => c.horizons.push(15), /horizons\[4\] = 15 is outside the baseline grid \[0\.25, 10\]; curves are never extrapolated/);
    refuses((c) => (c.horizons[0] = 0.1), /horizons\[0\] = 0\.1 is outside the baseline grid/);
    refuses((c) => (c.riskBands.horizon = 12), /riskBands\.horizon = 12 is outside the baseline grid/);
  });

  it('refuses bands whose thresholds do not increase, or with "below" in the wrong place', () => {
    refuses((c) => (c.riskBands.bands[1]!.below = 0.01), /riskBands\.bands\[1\]\.below must be greater than riskBands\.bands\[0\]\.below/);
    refuses((c) => (c.riskBands.bands[2]!.below = 0.5), /riskBands\.bands\[2\] is the last band and must not have "below"/);
    refuses((c) => delete c.riskBands.bands[0]!.below, /riskBands\.bands\[0\] needs "below"/);
    refuses((c) => (c.riskBands.bands[1]!.name = 'low'), /riskBands\.bands\[1\]\.name "low" is used twice/);
  });

  it('refuses duplicate feature names and contradictory features', () => {
    refuses((c) => (c.inputs.covariates!.features[1]!.name = 'age'), /features\[1\]\.name "age" is used twice/);
    refuses((c) => (c.inputs.covariates!.features[0]!.transform = { kind: 'standardize', mean: 60, sd: 7, clip: [90, 40] }), /features\[0\]\.transform\.clip must be \[low, high\]/);
    refuses((c) => (c.inputs.covariates!.features[6]!.missing = { rule: 'refuse' }), /features\[6\] is an is-missing indicator and cannot refuse/);
    refuses((c) => (c.inputs.covariates!.name = c.inputs.image.name), /inputs\.image\.name and inputs\.covariates\.name must differ/);
  });

  it('applies the preprocessing rules of the imaging module', () => {
    refuses((c) => (c.inputs.image.preprocessing.voi = { mode: 'percentile', lowPercentile: 50, highPercentile: 50 }), /inputs\.image\.preprocessing\.voi lowPercentile must be below highPercentile/);
  });

  it('lists every semantic problem at once', () => {
    refuses((c) => {
      c.horizons.push(20);
      c.inputs.covariates!.features[1]!.name = 'age';
    }, /horizons\[4\].*; inputs\.covariates\.features\[1\]\.name/);
  });
});

function copyFixture(id: string, into: string, as = id): string {
  const folder = join(into, as);
  cpSync(join(FIXTURES, id), folder, { recursive: true });
  return folder;
}

describe('model registry', () => {
  it('loads every model folder and skips folders without a card', async () => {
    const dir = tempDir('models-');
    copyFixture('tiny-cnn-cov', dir);
    copyFixture('tiny-image-only', dir);
    mkdirSync(join(dir, 'training'));
    writeFileSync(join(dir, 'training', 'train.py'), '# not a model\n');
    writeFileSync(join(dir, 'README.md'), 'models\n');
    const registry = await loadModelRegistry(dir);
    assert.deepEqual([...registry.models.keys()], ['tiny-cnn-cov', 'tiny-image-only']);
    const model = registry.models.get('tiny-cnn-cov')!;
    assert.equal(model.onnxFile, join(dir, 'tiny-cnn-cov', 'model.onnx'));
  });

  it('refuses a tampered ONNX file, naming it and both hashes', async () => {
    const dir = tempDir('models-');
    const folder = copyFixture('tiny-cnn-cov', dir);
    const onnx = readFileSync(join(folder, 'model.onnx'));
    onnx[onnx.length - 5] = (onnx[onnx.length - 5]! + 1) % 256;
    writeFileSync(join(folder, 'model.onnx'), onnx);
    await assert.rejects(loadModelRegistry(dir), (error: unknown) => {
      assert.ok(error instanceof ModelCardError);
      assert.equal(error.file, join(folder, 'model.onnx'));
      assert.match(error.message, /sha256 is [0-9a-f]{64} but artifact\.sha256 in the card says [0-9a-f]{64}/);
      return true;
    });
  });

  it('refuses a card whose id is not its folder name (in a models directory only)', async () => {
    const dir = tempDir('models-');
    const folder = copyFixture('tiny-cnn-cov', dir, 'renamed');
    await assert.rejects(loadModelRegistry(dir), /id "tiny-cnn-cov" must equal its folder's name "renamed"/);
    assert.equal((await loadModelFolder(folder, { requireFolderName: false })).card.id, 'tiny-cnn-cov');
  });

  it('refuses a missing ONNX file, an unreadable card and a missing directory', async () => {
    const dir = tempDir('models-');
    const folder = copyFixture('tiny-image-only', dir);
    const card = JSON.parse(readFileSync(join(folder, 'model-card.json'), 'utf8')) as ModelCard;
    card.artifact.file = 'absent.onnx';
    writeFileSync(join(folder, 'model-card.json'), JSON.stringify(card));
    await assert.rejects(loadModelRegistry(dir), /absent\.onnx: cannot be read \(ENOENT\); artifact\.file names it/);
    writeFileSync(join(folder, 'model-card.json'), '{ not json');
    await assert.rejects(loadModelRegistry(dir), /model-card\.json: cannot be read as JSON/);
    await assert.rejects(loadModelRegistry(join(dir, 'nope')), /models directory cannot be read \(ENOENT\)/);
  });
});
