// Golden pairs: read little-endian whatever the machine, and refuse files that disagree with the card.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ModelCardError } from '../../src/model/errors.js';
import { loadGolden } from '../../src/model/golden.js';
import { loadModelFolder, type LoadedModel } from '../../src/model/model-registry.js';
import { tempDir } from '../helpers/cds-app.js';

async function copy(id = 'tiny-cnn-cov'): Promise<LoadedModel> {
  const folder = join(tempDir('golden-'), id);
  cpSync(join('tests/fixtures/models', id), folder, { recursive: true });
  return loadModelFolder(folder, { requireFolderName: true });
}

function editGolden(model: LoadedModel, edit: (golden: Record<string, unknown> & { images: { shape: number[] }; cases: unknown[] }) => void): void {
  const file = join(model.folder, 'golden.json');
  const golden = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { images: { shape: number[] }; cases: unknown[] };
  edit(golden);
  writeFileSync(file, JSON.stringify(golden));
}

describe('golden pairs', () => {
  it('reads the images as little-endian float32, one per case', async () => {
    const model = await copy();
    const golden = (await loadGolden(model))!;
    assert.equal(golden.images.length, 4);
    assert.equal(golden.images[0]!.length, 32 * 24);
    const bytes = readFileSync(join(model.folder, 'golden-images.f32'));
    assert.equal(golden.images[1]![5], bytes.readFloatLE((32 * 24 + 5) * 4));
    assert.equal(golden.cases[0]!.factors.sex, 'female');
  });

  it('is null when the card names none', async () => {
    assert.equal(await loadGolden(await loadModelFolder('tests/fixtures/models/heavy-test', { requireFolderName: true })), null);
  });

  it('accepts the optional descriptive fields', async () => {
    const model = await copy();
    editGolden(model, (g) => {
      Object.assign(g.images, { dtype: 'float32', byteOrder: 'little' });
      g.producer = 'PyTorch 1.13 eager CPU';
      Object.assign(g.cases[0] as object, { patientId: 'p-1' });
    });
    assert.equal((await loadGolden(model))!.cases.length, 4);
  });

  it('refuses files that disagree with the card or with themselves', async () => {
    const cases: [string, (g: Record<string, unknown> & { images: { shape: number[] }; cases: unknown[] }) => void, RegExp][] = [
      ['size', (g) => (g.images.shape = [4, 1, 16, 24]), /images are 16 × 24 but the card's preprocessing makes 32 × 24/],
      ['count', (g) => g.cases.pop(), /images\.shape says 4 images but there are 3 cases/],
      ['vector', (g) => ((g.cases[2] as { covariateVector: number[] }).covariateVector = [1]), /cases\[2\]\.covariateVector has 1 values; the card has 7 features/],
      ['schema', (g) => ((g.cases[0] as { factors: Record<string, unknown> }).factors.age = 'old'), /cases\.0\.factors\.age must be number,null/],
      ['endianness', (g) => (g.images as Record<string, unknown>).byteOrder = 'big', /images\.byteOrder must be equal to constant/],
    ];
    for (const [, edit, message] of cases) {
      const model = await copy();
      editGolden(model, edit);
      await assert.rejects(loadGolden(model), (e: unknown) => e instanceof ModelCardError && message.test(e.message), message.source);
    }
    const model = await copy();
    writeFileSync(join(model.folder, 'golden-images.f32'), new Uint8Array(100));
    await assert.rejects(loadGolden(model), /has 100 bytes; 4 × 32 × 24 float32 need 12288/);
  });
});
