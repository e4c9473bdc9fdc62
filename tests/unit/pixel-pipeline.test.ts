// The pixel pipeline against straightforward reference implementations: area averaging computed
// pixel by pixel from its definition, DICOM window formulas, masking, sign, LUTs and polarity.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecodedImage } from '../../src/imaging/dicom-decode.js';
import { parsePreprocessingSpec, preprocess, type PreprocessingSpec } from '../../src/imaging/preprocessing.js';
import { planResize, resizeInto } from '../../src/imaging/resize.js';
import { buildValueLut } from '../../src/imaging/value-lut.js';
import { transferSyntaxInfo } from '../../src/imaging/transfer-syntax.js';
import { mulberry32 } from '../../src/synthetic/random.js';

function image(overrides: Partial<DecodedImage> & Pick<DecodedImage, 'rows' | 'columns' | 'pixels'>): DecodedImage {
  return {
    bitsAllocated: 16,
    bitsStored: 16,
    highBit: 15,
    signed: false,
    photometric: 'MONOCHROME2',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    transferSyntax: transferSyntaxInfo('1.2.840.10008.1.2.1')!,
    lossyCompression: false,
    modalityLut: { kind: 'identity' },
    windows: [],
    spacing: null,
    warnings: [],
    patient: { patientId: 'p-1', patientName: undefined, birthDate: undefined },
    ...overrides,
  };
}

const identitySpec = (height: number, width: number): PreprocessingSpec => ({
  height,
  width,
  voi: { mode: 'percentile', lowPercentile: 0, highPercentile: 100 },
  borderCrop: 0,
  padValue: 0,
  normalisation: { mean: 0, std: 1 },
});

/** Area average by definition: integrate the source over each output pixel's footprint. */
function referenceArea(src: Float64Array, rows: number, columns: number, outRows: number, outColumns: number): Float64Array {
  const out = new Float64Array(outRows * outColumns);
  const sy = rows / outRows;
  const sx = columns / outColumns;
  for (let oy = 0; oy < outRows; oy++) {
    for (let ox = 0; ox < outColumns; ox++) {
      let sum = 0;
      for (let y = Math.floor(oy * sy); y < Math.min(rows, Math.ceil((oy + 1) * sy)); y++) {
        const wy = Math.min(y + 1, (oy + 1) * sy) - Math.max(y, oy * sy);
        for (let x = Math.floor(ox * sx); x < Math.min(columns, Math.ceil((ox + 1) * sx)); x++) {
          const wx = Math.min(x + 1, (ox + 1) * sx) - Math.max(x, ox * sx);
          if (wy > 0 && wx > 0) sum += src[y * columns + x]! * wy * wx;
        }
      }
      out[oy * outColumns + ox] = sum / (sy * sx);
    }
  }
  return out;
}

describe('area resize', () => {
  for (const [rows, columns, height, width] of [
    [97, 61, 32, 24],
    [300, 250, 51, 38],
    [64, 64, 16, 16],
    [1000, 37, 40, 12],
    [120, 90, 119, 89],
  ] as const) {
    it(`${rows}×${columns} → ${height}×${width} matches integration over each output pixel`, () => {
      const random = mulberry32(rows * 31 + columns);
      const pixels = new Uint16Array(rows * columns).map(() => Math.floor(random() * 4096));
      const lut = new Float32Array(4096).map((_, i) => i / 4095);
      const region = { top: 0, left: 0, rows, columns };
      const geometry = planResize(region, height, width);
      assert.equal(geometry.method, 'area');
      const tensor = new Float32Array(height * width);
      resizeInto({ pixels, stride: columns, region, lut, shift: 0, mask: 4095 }, geometry, tensor, width, -1);
      const reference = referenceArea(Float64Array.from(pixels, (v) => v / 4095), rows, columns, geometry.rows, geometry.columns);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const inside = y >= geometry.offsetTop && y < geometry.offsetTop + geometry.rows && x >= geometry.offsetLeft && x < geometry.offsetLeft + geometry.columns;
          const actual = tensor[y * width + x]!;
          if (!inside) assert.equal(actual, -1, `padding at ${y},${x}`);
          else {
            const expected = reference[(y - geometry.offsetTop) * geometry.columns + (x - geometry.offsetLeft)]!;
            assert.ok(Math.abs(actual - expected) < 1e-4, `pixel ${y},${x}: ${actual} vs ${expected}`);
          }
        }
      }
    });
  }

  it('keeps the aspect ratio and centres the image in the padding', () => {
    const geometry = planResize({ top: 0, left: 0, rows: 3000, columns: 2500 }, 512, 384);
    assert.equal(geometry.columns, 384);
    assert.equal(geometry.rows, 461);
    assert.equal(geometry.offsetLeft, 0);
    assert.equal(geometry.offsetTop, 25);
    assert.ok(Math.abs(geometry.scaleRows - geometry.scaleColumns) < 0.001);
  });

  it('enlarges bilinearly, reproducing a linear ramp', () => {
    const rows = 10;
    const columns = 8;
    const pixels = new Uint16Array(rows * columns).map((_, i) => (i % columns) * 100);
    const lut = new Float32Array(1024).map((_, i) => i);
    const region = { top: 0, left: 0, rows, columns };
    const geometry = planResize(region, 40, 32);
    assert.equal(geometry.method, 'bilinear');
    const tensor = new Float32Array(40 * 32);
    resizeInto({ pixels, stride: columns, region, lut, shift: 0, mask: 1023 }, geometry, tensor, 32, 0);
    // Interior output column centres map linearly back onto the ramp.
    for (let ox = 4; ox < 28; ox++) {
      const sx = (ox + 0.5) / geometry.scaleColumns - 0.5;
      assert.ok(Math.abs(tensor[20 * 32 + ox]! - sx * 100) < 1e-3, `column ${ox}`);
    }
  });
});

describe('value LUT', () => {
  const region = (rows: number, columns: number) => ({ top: 0, left: 0, rows, columns });
  const plain = { mean: 0, std: 1 };

  it('masks bits above BitsStored and honours HighBit', () => {
    const clean = image({ rows: 1, columns: 3, bitsStored: 12, highBit: 11, pixels: Uint16Array.of(0, 2048, 4095), windows: [{ center: 2048, width: 4096, function: 'LINEAR_EXACT' }] });
    const dirty = { ...clean, pixels: Uint16Array.of(0xf000, 0xa800, 0x5fff) };
    const spec = { mode: 'window-else-percentile', lowPercentile: 0, highPercentile: 100 } as const;
    const a = buildValueLut(clean, region(1, 3), spec, plain);
    const b = buildValueLut(dirty, region(1, 3), spec, plain);
    for (let i = 0; i < 3; i++) assert.equal(a.lut[(clean.pixels[i]! >> a.shift) & a.mask], b.lut[(dirty.pixels[i]! >> b.shift) & b.mask]);
    const shifted = image({ rows: 1, columns: 1, bitsStored: 12, highBit: 13, pixels: Uint16Array.of(4095 << 2) });
    const c = buildValueLut(shifted, region(1, 1), spec, plain);
    assert.equal(c.shift, 2);
    assert.equal((shifted.pixels[0]! >> c.shift) & c.mask, 4095);
  });

  it('reads two’s-complement stored values as signed before the rescale', () => {
    const signed = image({ rows: 1, columns: 2, bitsStored: 12, highBit: 11, signed: true, pixels: Uint16Array.of(0xfff, 0x7ff), modalityLut: { kind: 'rescale', slope: 2, intercept: 10 } });
    const voi = buildValueLut(signed, region(1, 2), { mode: 'percentile', lowPercentile: 0, highPercentile: 100 }, plain).voi;
    assert.equal(voi.method, 'percentile');
    if (voi.method === 'percentile') {
      assert.equal(voi.low, -1 * 2 + 10);
      assert.equal(voi.high, 2047 * 2 + 10);
    }
  });

  it('applies LINEAR windows as DICOM PS3.3 C.11.2.1.2 defines them', () => {
    const img = image({ rows: 1, columns: 1, bitsStored: 12, highBit: 11, pixels: Uint16Array.of(0), windows: [{ center: 1000, width: 500, function: 'LINEAR' }] });
    const { lut } = buildValueLut(img, region(1, 1), { mode: 'window-else-percentile', lowPercentile: 1, highPercentile: 99 }, plain);
    for (const x of [0, 749, 750, 800, 1000, 1249, 1250, 4095]) {
      const expected = x <= 1000 - 0.5 - 249.5 ? 0 : x > 1000 - 0.5 + 249.5 ? 1 : (x - 999.5) / 499 + 0.5;
      assert.ok(Math.abs(lut[x]! - expected) < 1e-6, `x=${x}`);
    }
  });

  it('falls back to the percentile clip when the file has no window, and says so', () => {
    const img = image({ rows: 1, columns: 100, bitsStored: 8, highBit: 7, bitsAllocated: 8, pixels: Uint8Array.from({ length: 100 }, (_, i) => i) });
    const { voi, lut } = buildValueLut(img, region(1, 100), { mode: 'window-else-percentile', lowPercentile: 10, highPercentile: 90 }, plain);
    assert.equal(voi.method, 'percentile');
    if (voi.method !== 'percentile') return;
    assert.match(voi.reason, /no usable window/);
    assert.equal(voi.low, 10);
    assert.equal(voi.high, 89);
    assert.equal(lut[5], 0);
    assert.equal(lut[95], 1);
  });

  it('maps through a Modality LUT Sequence, ranking percentiles by output value', () => {
    const data = new Uint16Array(256).map((_, i) => 255 - i);
    const img = image({ rows: 1, columns: 256, bitsStored: 8, highBit: 7, bitsAllocated: 8, pixels: Uint8Array.from({ length: 256 }, (_, i) => i), modalityLut: { kind: 'sequence', firstMapped: 0, data } });
    const { lut, voi } = buildValueLut(img, region(1, 256), { mode: 'percentile', lowPercentile: 0, highPercentile: 100 }, plain);
    assert.equal(voi.method === 'percentile' && voi.low, 0);
    assert.equal(voi.method === 'percentile' && voi.high, 255);
    assert.equal(lut[0], 1);
    assert.equal(lut[255], 0);
  });

  it('inverts MONOCHROME1 so dense bone is bright, then normalises', () => {
    const pixels = Uint16Array.of(100, 200, 300);
    const mono2 = buildValueLut(image({ rows: 1, columns: 3, bitsStored: 10, highBit: 9, pixels }), region(1, 3), { mode: 'percentile', lowPercentile: 0, highPercentile: 100 }, { mean: 0.5, std: 0.25 });
    const mono1 = buildValueLut(image({ rows: 1, columns: 3, bitsStored: 10, highBit: 9, pixels, photometric: 'MONOCHROME1' }), region(1, 3), { mode: 'percentile', lowPercentile: 0, highPercentile: 100 }, { mean: 0.5, std: 0.25 });
    assert.equal(mono1.inverted, true);
    assert.deepEqual([100, 200, 300].map((v) => mono2.lut[v]), [-2, 0, 2]);
    assert.deepEqual([100, 200, 300].map((v) => mono1.lut[v]), [2, 0, -2]);
  });
});

describe('preprocess', () => {
  it('crops the border, records every step and carries the pixel spacing into tensor units', () => {
    const rows = 200;
    const columns = 100;
    const pixels = new Uint16Array(rows * columns).fill(500);
    // A bright frame in the outer 10 % that the crop must remove entirely.
    for (let y = 0; y < rows; y++) for (let x = 0; x < columns; x++) if (y < 20 || y >= 180 || x < 10 || x >= 90) pixels[y * columns + x] = 4000;
    pixels[100 * columns + 50] = 0;
    const img = image({ rows, columns, bitsStored: 12, highBit: 11, pixels, spacing: { rowMm: 0.2, columnMm: 0.1, source: 'ImagerPixelSpacing' } });
    const { tensor, record } = preprocess(img, { ...identitySpec(64, 64), borderCrop: 0.1 });
    assert.deepEqual(record.crop, { top: 20, left: 10, rows: 160, columns: 80 });
    assert.equal(record.resize.rows, 64);
    assert.equal(record.resize.columns, 32);
    assert.equal(record.resize.offsetLeft, 16);
    assert.ok(Math.max(...tensor) <= 1, 'no frame pixels survive the crop');
    assert.equal(tensor[0], 0, 'padding');
    assert.equal(record.tensorPixelSpacingMm?.rowMm, 0.2 / (64 / 160));
    assert.equal(record.tensorPixelSpacingMm?.columnMm, 0.1 / (32 / 80));
    assert.equal(record.voi.method, 'percentile');
  });

  it('refuses a malformed preprocessing block with the field named', () => {
    assert.throws(() => parsePreprocessingSpec({ ...identitySpec(64, 64), height: 2 }), /preprocessing\.height/);
    assert.throws(() => parsePreprocessingSpec({ ...identitySpec(64, 64), normalisation: { mean: 0, std: 0 } }), /std/);
    assert.throws(() => parsePreprocessingSpec({ ...identitySpec(64, 64), voi: { mode: 'percentile', lowPercentile: 50, highPercentile: 50 } }), /lowPercentile/);
    assert.deepEqual(parsePreprocessingSpec(identitySpec(64, 64)), identitySpec(64, 64));
  });
});
