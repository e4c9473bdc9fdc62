// The fixtures are only useful if they are what they claim: checked with dcmjs and, for transfer
// syntaxes, with DCMTK's dcmdump as a second, independent reader.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import dcmjs from 'dcmjs';
import { SOP_CLASS } from '../../src/synthetic/dicom-file.js';
import {
  COMPRESSED_SYNTAXES,
  COMPRESSION,
  FIXTURE_NAMES,
  compressPart10,
  lumbarFixtures,
  readTransferSyntax,
} from '../helpers/dicom-fixtures.js';
import type { CompressedSyntax, DicomFixture } from '../helpers/dicom-fixtures.js';

const run = promisify(execFile);

function parse(part10: Uint8Array): Record<string, unknown> {
  const buffer = part10.buffer.slice(part10.byteOffset, part10.byteOffset + part10.byteLength) as ArrayBuffer;
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(buffer).dict);
}

/** dcmjs reads PN as `[{ Alphabetic }]` and single values unwrapped; compare values, not spellings. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 1 ? normalise(value[0]) : value.map(normalise);
  if (value !== null && typeof value === 'object' && 'Alphabetic' in value) return value.Alphabetic;
  return value;
}

async function dcmdumpTransferSyntax(part10: Uint8Array): Promise<string> {
  const dump = run('dcmdump', ['-q', '-Un', '+P', '0002,0010', '-']);
  dump.child.stdin?.end(part10);
  const { stdout } = await dump;
  return /\[([\d.]+)\]/.exec(stdout)?.[1] ?? stdout;
}

const fixtures = lumbarFixtures();
const all: [string, DicomFixture][] = Object.entries(fixtures);

void describe('DICOM fixtures', () => {
  void it('builds every named fixture', () => {
    assert.deepEqual(Object.keys(fixtures).sort(), [...FIXTURE_NAMES].sort());
  });

  void it('parse with dcmjs and carry every attribute they claim', () => {
    for (const [name, { part10, attributes }] of all) {
      const dataset = parse(part10);
      for (const [keyword, value] of Object.entries(attributes)) {
        assert.deepEqual(normalise(dataset[keyword]), normalise(value), `${name} ${keyword}`);
      }
    }
  });

  void it('hold their stored pixel arrays bit for bit, with a matching pixel module', () => {
    for (const [name, { part10, pixels }] of all) {
      const dataset = parse(part10);
      assert.equal(dataset.Rows, pixels.rows, name);
      assert.equal(dataset.Columns, pixels.columns, name);
      assert.equal(dataset.BitsStored, pixels.bitsStored, name);
      assert.equal(dataset.BitsAllocated, pixels.data.BYTES_PER_ELEMENT * 8, name);
      assert.equal(dataset.PhotometricInterpretation, pixels.photometric, name);
      assert.equal(dataset.PixelRepresentation, pixels.data instanceof Int16Array ? 1 : 0, name);
      const [stored] = dataset.PixelData as ArrayBuffer[];
      const expected = new Uint8Array(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength);
      assert.deepEqual(new Uint8Array(stored!, 0, expected.length), expected, name);
    }
  });

  void it('cover the variety real PACS hold', () => {
    const values = (keyword: string): unknown[] => all.map(([, f]) => normalise(f.attributes[keyword]));
    const pixels = all.map(([, f]) => f.pixels);
    assert.deepEqual(new Set(pixels.map((p) => p.photometric)), new Set(['MONOCHROME1', 'MONOCHROME2']));
    assert.deepEqual(new Set(pixels.map((p) => p.bitsStored)), new Set([8, 12, 16]));
    assert.deepEqual(new Set(values('Modality')), new Set(['CR', 'DX']));
    assert.deepEqual(new Set(values('BodyPartExamined')), new Set(['LSPINE']));
    assert.ok(values('RescaleSlope').includes(0.75) && values('RescaleSlope').includes(undefined));
    assert.ok(values('WindowCenter').includes(undefined) && values('WindowCenter').some((v) => typeof v === 'number'));
    assert.ok(values('WindowCenter').some(Array.isArray), 'a fixture with two windows');

    const spacing = all.map(([, f]) => [normalise(f.attributes.PixelSpacing), normalise(f.attributes.ImagerPixelSpacing)]);
    assert.ok(spacing.some(([pixel, imager]) => pixel !== undefined && imager === undefined), 'PixelSpacing only');
    assert.ok(spacing.some(([pixel, imager]) => pixel === undefined && imager !== undefined), 'ImagerPixelSpacing only');
    assert.deepEqual(fixtures.crZeroSpacing.attributes.PixelSpacing, [0, 0]);

    const signed = fixtures.signed16.pixels.data;
    assert.ok(signed instanceof Int16Array && signed.some((v) => v < 0) && signed.some((v) => v > 0));
    assert.equal(fixtures.signed16.attributes.RescaleIntercept, 32768);
  });

  void it('put a lateral and an AP series in one study, with a For Processing twin', () => {
    const { lateral, ap, forProcessing } = fixtures;
    assert.equal(lateral.attributes.ViewPosition, 'LL');
    assert.equal(ap.attributes.ViewPosition, 'AP');
    assert.equal(ap.attributes.StudyInstanceUID, lateral.attributes.StudyInstanceUID);
    assert.equal(forProcessing.attributes.StudyInstanceUID, lateral.attributes.StudyInstanceUID);
    const series = new Set([lateral, ap, forProcessing].map((f) => f.attributes.SeriesInstanceUID));
    assert.equal(series.size, 3);
    assert.equal(forProcessing.attributes.SOPClassUID, SOP_CLASS.dxForProcessing);
    assert.equal(forProcessing.attributes.PresentationIntentType, 'FOR PROCESSING');
    assert.equal(lateral.attributes.PresentationIntentType, 'FOR PRESENTATION');
    assert.deepEqual(forProcessing.pixels.data, lateral.pixels.data);
    assert.notEqual(forProcessing.attributes.SOPInstanceUID, lateral.attributes.SOPInstanceUID);
  });

  void it('honour the requested size', () => {
    const small = lumbarFixtures({ rows: 64, columns: 48, seed: 9 });
    assert.equal(small.ap.pixels.data.length, 64 * 48);
    assert.equal(parse(small.ap.part10).Rows, 64);
  });
});

void describe('compressed fixture variants', () => {
  const source = (syntax: CompressedSyntax): DicomFixture =>
    COMPRESSION[syntax].sourceBitsStored === 8 ? fixtures.eightBit : fixtures.lateral;

  for (const syntax of COMPRESSED_SYNTAXES) {
    void it(`${syntax} has transfer syntax ${COMPRESSION[syntax].transferSyntaxUid}`, async () => {
      const { part10, attributes } = source(syntax);
      const variant = await compressPart10(part10, syntax);
      const recipe = COMPRESSION[syntax];
      assert.equal(variant.transferSyntaxUid, recipe.transferSyntaxUid);
      assert.equal(readTransferSyntax(variant.part10), recipe.transferSyntaxUid);
      assert.equal(await dcmdumpTransferSyntax(variant.part10), recipe.transferSyntaxUid);
      const dataset = parse(variant.part10);
      assert.equal(dataset.StudyInstanceUID, attributes.StudyInstanceUID);
      if (recipe.lossy) assert.equal(dataset.LossyImageCompression, '01');
      else assert.equal(dataset.SOPInstanceUID, attributes.SOPInstanceUID);
    });
  }

  void it('refuses a source of the wrong bit depth', async () => {
    await assert.rejects(compressPart10(fixtures.lateral.part10, 'jpegBaseline'), RangeError);
    await assert.rejects(compressPart10(fixtures.eightBit.part10, 'jpegExtended12'), RangeError);
  });

  void it('leaves nothing behind in the temporary directory, after success or a tool failure', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'fixture-tmp-'));
    const previous = process.env.TMPDIR;
    // os.tmpdir() reads TMPDIR on each call, and compressPart10 calls it before its first await.
    process.env.TMPDIR = scratch;
    const succeeded = compressPart10(fixtures.lateral.part10, 'rle');
    const failed = compressPart10(fixtures.signed16.part10, 'jpegLsNearLossless');
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    try {
      await Promise.all([succeeded, assert.rejects(failed, /dcmcjpls/)]);
      assert.deepEqual(await readdir(scratch), []);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
