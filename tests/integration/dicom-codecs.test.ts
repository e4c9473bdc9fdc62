// Every transfer syntax the decoder reads, on files other software wrote: phantom radiographs
// compressed by the Debian DCMTK and GDCM tools, and the real sample radiographs. Decoded pixels
// are compared with the originals (lossless: bit-exact; lossy: within the codec's stated error)
// and, for the real samples, with an independent decoder (gdcmconv --raw).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeDicom, type DecodeLimits, type DecodedImage } from '../../src/imaging/dicom-decode.js';
import { ImagingError } from '../../src/imaging/errors.js';
import { COMPRESSED_SYNTAXES, COMPRESSION, compressPart10, lumbarFixtures, type DicomFixture } from '../helpers/dicom-fixtures.js';

const run = promisify(execFile);
const limits: DecodeLimits = { maxBytes: 64 * 1024 * 1024, maxPixels: 20_000_000, maxFrames: 1 };
const fixtures = lumbarFixtures();

function sourceFor(bitsStored: number | undefined): { name: string; fixture: DicomFixture }[] {
  if (bitsStored === 8) return [{ name: 'eightBit', fixture: fixtures.eightBit }];
  if (bitsStored === 12) return [{ name: 'lateral', fixture: fixtures.lateral }];
  return (['lateral', 'crMonochrome1Rescale', 'signed16'] as const).map((name) => ({ name, fixture: fixtures[name] }));
}

function values(image: DecodedImage): Int32Array {
  const { pixels } = image;
  return image.signed && image.bitsAllocated === 16 ? Int32Array.from(new Int16Array(pixels.buffer, pixels.byteOffset, pixels.length)) : Int32Array.from(pixels);
}

function largestDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function rmse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let squared = 0;
  for (let i = 0; i < a.length; i++) squared += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(squared / a.length);
}

describe('decoder: phantom files compressed by DCMTK and GDCM', () => {
  for (const syntax of COMPRESSED_SYNTAXES) {
    const recipe = COMPRESSION[syntax];
    for (const { name, fixture } of sourceFor(recipe.sourceBitsStored)) {
      if (syntax === 'jpegLsNearLossless' && name === 'signed16') continue; // dcmcjpls refuses near-lossless on signed data
      it(`${syntax} (${recipe.transferSyntaxUid}) of ${name}`, async () => {
        const variant = await compressPart10(fixture.part10, syntax);
        if (!recipe.serviceDecodes) {
          await assert.rejects(decodeDicom(variant.part10, limits), (error: unknown) => error instanceof ImagingError && error.code === 'unsupported-transfer-syntax');
          return;
        }
        const decoded = await decodeDicom(variant.part10, limits);
        assert.equal(decoded.transferSyntaxUid, recipe.transferSyntaxUid);
        assert.equal(decoded.transferSyntax.lossy, recipe.lossy);
        assert.equal(decoded.rows * decoded.columns, fixture.pixels.data.length);
        const worst = largestDifference(values(decoded), fixture.pixels.data);
        if (recipe.maxError !== undefined) {
          assert.ok(worst <= recipe.maxError, `largest difference ${worst} exceeds the codec's bound ${recipe.maxError}`);
        } else {
          // Lossy without a guaranteed bound (JPEG baseline at quality 90, JPEG 2000 at ~10:1): the
          // typical error (RMSE) under 1 % of the bit depth's range and the worst under 6 %.
          const range = 2 ** fixture.pixels.bitsStored;
          assert.ok(worst <= 0.06 * range, `largest difference ${worst} exceeds 6 % of ${range}`);
          assert.ok(rmse(values(decoded), fixture.pixels.data) <= 0.01 * range, 'RMSE above 1 % of the range');
        }
      });
    }
  }
});

describe('decoder: real radiographs against an independent decoder (gdcmconv --raw)', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'codec-reference-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function reference(file: string): Promise<DecodedImage> {
    const output = join(directory, `${file}.raw.dcm`);
    await run('gdcmconv', ['--quiet', '--raw', join('tests/fixtures/dicom', file), output]);
    return decodeDicom(new Uint8Array(await readFile(output)), limits);
  }

  for (const [file, exact] of [
    ['RG3_J2KR.dcm', true],
    ['CR-ModalitySequenceLUT.dcm', true],
    ['RG1_J2KI.dcm', false],
  ] as const) {
    it(`${file} decodes to the same pixels as GDCM ${exact ? 'bit-exactly' : 'within 1'}`, async () => {
      const ours = await decodeDicom(new Uint8Array(await readFile(join('tests/fixtures/dicom', file))), limits);
      const theirs = await reference(file);
      assert.equal(ours.rows, theirs.rows);
      assert.equal(ours.columns, theirs.columns);
      assert.ok(largestDifference(values(ours), values(theirs)) <= (exact ? 0 : 1));
    });
  }

  it('RG3_J2KI (lossy) stays close to its lossless twin RG3_J2KR', async () => {
    const lossless = await decodeDicom(new Uint8Array(await readFile('tests/fixtures/dicom/RG3_J2KR.dcm')), limits);
    const lossy = await decodeDicom(new Uint8Array(await readFile('tests/fixtures/dicom/RG3_J2KI.dcm')), limits);
    const error = rmse(values(lossless), values(lossy));
    // 10-bit data: an RMSE under 2 % of the range is what a moderate J2K compression gives.
    assert.ok(error < 0.02 * 1024, `RMSE ${error.toFixed(2)}`);
  });

  it('reads the Modality LUT Sequence and the CR MONOCHROME1 attributes of the real samples', async () => {
    const lutFile = await decodeDicom(new Uint8Array(await readFile('tests/fixtures/dicom/CR-ModalitySequenceLUT.dcm')), limits);
    assert.equal(lutFile.modalityLut.kind, 'sequence');
    assert.equal(lutFile.modalityLut.kind === 'sequence' && lutFile.modalityLut.data.length, 1024);
    assert.equal(lutFile.photometric, 'MONOCHROME1');
    const small = await decodeDicom(new Uint8Array(await readFile('tests/fixtures/dicom/pydicom_CR1_6154.dcm')), limits);
    assert.deepEqual(small.modalityLut, { kind: 'rescale', slope: 0.684, intercept: 200 });
    assert.equal(small.spacing?.source, 'ImagerPixelSpacing');
    const zeroSpacing = await decodeDicom(new Uint8Array(await readFile('tests/fixtures/dicom/RG1_J2KI.dcm')), limits);
    assert.equal(zeroSpacing.spacing, null);
    assert.ok(zeroSpacing.warnings.some((w) => /PixelSpacing ignored/.test(w)));
  });

  it('refuses the raw dataset without a Part 10 header with a clear reason', async () => {
    await assert.rejects(decodeDicom(new Uint8Array(await readFile('tests/fixtures/dicom/CR-MONO1-10-chest')), limits), (error: unknown) => error instanceof ImagingError && error.code === 'not-dicom');
  });
});
