import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LUMBAR_LEVELS, generateLumbarPhantom } from '../../src/synthetic/lumbar-phantom.js';
import type { LumbarPhantom, LumbarPhantomOptions, VertebraPlacement } from '../../src/synthetic/lumbar-phantom.js';

const base: LumbarPhantomOptions = { seed: 42, view: 'lateral', rows: 512, columns: 384, bitsStored: 12, boneDensity: 0.6 };

/** Pixels of an axis-aligned box about (x, y), half extents rounded outwards. */
function box(p: LumbarPhantom, x: number, y: number, halfWidth: number, halfHeight: number): number[] {
  const values: number[] = [];
  for (let row = Math.round(y - halfHeight); row <= Math.round(y + halfHeight); row++) {
    for (let column = Math.round(x - halfWidth); column <= Math.round(x + halfWidth); column++) values.push(p.data[row * p.columns + column]!);
  }
  return values;
}

const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

/** Mean of the vertebral body centres minus the mean of the disc gaps between them. */
function vertebralContrast(p: LumbarPhantom): number {
  const bodies = p.vertebrae.flatMap((v) => box(p, v.x, v.y, 0.4 * v.halfWidth, 0.4 * v.halfHeight));
  const discs = p.vertebrae.slice(1).flatMap((lower, k) => {
    const upper = p.vertebrae[k]!;
    return box(p, (upper.x + lower.x) / 2, (upper.y + lower.y) / 2, 0.3 * upper.halfWidth, 1);
  });
  return mean(bodies) - mean(discs);
}

void describe('lumbar phantom', () => {
  void it('is deterministic for a seed and differs between seeds', () => {
    const first = generateLumbarPhantom(base);
    assert.deepEqual(generateLumbarPhantom(base).data, first.data);
    assert.notDeepEqual(generateLumbarPhantom({ ...base, seed: 43 }).data, first.data);
  });

  void it('returns the pixel array type and value range of bitsStored', () => {
    for (const bitsStored of [8, 12, 16]) {
      const p = generateLumbarPhantom({ ...base, bitsStored });
      assert.ok(bitsStored === 8 ? p.data instanceof Uint8Array : p.data instanceof Uint16Array);
      assert.equal(p.data.length, base.rows * base.columns);
      assert.equal(p.bitsStored, bitsStored);
      const maximum = 2 ** bitsStored - 1;
      let min = Infinity;
      let max = -Infinity;
      for (const value of p.data) {
        min = Math.min(min, value);
        max = Math.max(max, value);
      }
      assert.ok(max <= maximum, `${bitsStored}-bit maximum ${max}`);
      // Uses the range: not a flat or clipped image.
      assert.ok(max - min > 0.3 * maximum, `${bitsStored}-bit range ${min}–${max}`);
    }
  });

  void it('stores MONOCHROME1 as the exact inverse of MONOCHROME2', () => {
    const mono2 = generateLumbarPhantom(base);
    const mono1 = generateLumbarPhantom({ ...base, photometric: 'MONOCHROME1' });
    assert.equal(mono2.photometric, 'MONOCHROME2');
    assert.equal(mono1.photometric, 'MONOCHROME1');
    const mismatches = mono1.data.filter((value, i) => value !== 4095 - mono2.data[i]!).length;
    assert.equal(mismatches, 0);
  });

  void it('places L1–L5 top to bottom inside the image', () => {
    for (const view of ['lateral', 'ap'] as const) {
      const { vertebrae, rows, columns } = generateLumbarPhantom({ ...base, view });
      assert.deepEqual(
        vertebrae.map((v) => v.level),
        [...LUMBAR_LEVELS],
      );
      for (const [k, v] of vertebrae.entries()) {
        if (k > 0) assert.ok(v.y > vertebrae[k - 1]!.y);
        assert.ok(v.x - v.halfWidth > 0 && v.x + v.halfWidth < columns && v.y - v.halfHeight > 0 && v.y + v.halfHeight < rows);
      }
    }
  });

  void it('shows bone brighter than soft tissue in MONOCHROME2, on both views', () => {
    for (const view of ['lateral', 'ap'] as const) {
      const contrast = vertebralContrast(generateLumbarPhantom({ ...base, view }));
      assert.ok(contrast > 0.05 * 4095, `${view} contrast ${contrast}`);
    }
  });

  void it('gives lower vertebral contrast for lower bone density, with the same anatomy', () => {
    const dense = generateLumbarPhantom({ ...base, boneDensity: 0.9 });
    const sparse = generateLumbarPhantom({ ...base, boneDensity: 0.2 });
    assert.deepEqual(sparse.vertebrae, dense.vertebrae);
    assert.ok(vertebralContrast(sparse) < 0.7 * vertebralContrast(dense));
    assert.ok(vertebralContrast(sparse) > 0, 'low density bone is still bone');
  });

  void it('wedges a vertebra with height loss, anterior more than posterior, leaving the others alone', () => {
    const intact = generateLumbarPhantom(base);
    const fractured = generateLumbarPhantom({ ...base, heightLoss: { L2: 0.4 } });
    const l2: VertebraPlacement = intact.vertebrae[1]!;
    assert.deepEqual(fractured.vertebrae[1]!.deformity, { anterior: 0.4, middle: 0, posterior: 0.1 });
    const threshold = mean(box(intact, l2.x, l2.y, 0.4 * l2.halfWidth, 0.4 * l2.halfHeight)) - vertebralContrast(intact) / 2;
    // Anterior is −x on the lateral view; the halves are taken across the body's (small) tilt.
    const bright = (p: LumbarPhantom, side: -1 | 1): number =>
      box(p, l2.x + (side * l2.halfWidth) / 2, l2.y, 0.4 * l2.halfWidth, 1.15 * l2.halfHeight).filter((value) => value > threshold).length;
    const anteriorLoss = 1 - bright(fractured, -1) / bright(intact, -1);
    const posteriorLoss = 1 - bright(fractured, 1) / bright(intact, 1);
    assert.ok(anteriorLoss > 0.2, `anterior loss ${anteriorLoss}`);
    assert.ok(anteriorLoss > posteriorLoss + 0.1, `anterior ${anteriorLoss} vs posterior ${posteriorLoss}`);
    const l4 = intact.vertebrae[3]!;
    assert.deepEqual(box(fractured, l4.x, l4.y, l4.halfWidth, l4.halfHeight), box(intact, l4.x, l4.y, l4.halfWidth, l4.halfHeight));
  });

  void it('thins the mid-body of a biconcave vertebra more than its walls', () => {
    const intact = generateLumbarPhantom(base);
    const biconcave = generateLumbarPhantom({ ...base, deformities: { L3: { anterior: 0.05, middle: 0.45, posterior: 0.05 } } });
    const l3 = intact.vertebrae[2]!;
    const threshold = mean(box(intact, l3.x, l3.y, 0.4 * l3.halfWidth, 0.4 * l3.halfHeight)) - vertebralContrast(intact) / 2;
    // Bright pixels in a thin vertical strip through the body at u (a fraction of the half width).
    const strip = (p: LumbarPhantom, u: number): number =>
      box(p, l3.x + u * l3.halfWidth * Math.cos(l3.angle), l3.y + u * l3.halfWidth * Math.sin(l3.angle), 0.1 * l3.halfWidth, 1.15 * l3.halfHeight).filter((value) => value > threshold).length;
    const middleLoss = 1 - strip(biconcave, 0) / strip(intact, 0);
    const wallLoss = 1 - strip(biconcave, -0.8) / strip(intact, -0.8);
    assert.ok(middleLoss > 0.3, `middle loss ${middleLoss}`);
    assert.ok(middleLoss > wallLoss + 0.2, `middle ${middleLoss} vs wall ${wallLoss}`);
  });

  void it('lets cortex, beam quality, soft tissue and exposure vary apart from trabecular density', () => {
    const reference = generateLumbarPhantom(base);
    const harder = generateLumbarPhantom({ ...base, boneContrast: 0.6 });
    assert.ok(vertebralContrast(harder) < 0.75 * vertebralContrast(reference));
    const dim = generateLumbarPhantom({ ...base, exposure: 0.5 });
    const ratio = mean([...dim.data]) / mean([...reference.data]);
    assert.ok(ratio > 0.45 && ratio < 0.55, `half the exposure, half the signal: ${ratio}`);
    const thick = generateLumbarPhantom({ ...base, softTissue: 0.42 });
    const l3 = reference.vertebrae[2]!;
    const tissue = (p: LumbarPhantom): number => mean(box(p, l3.x - 2.2 * l3.halfWidth, l3.y, 10, 10));
    assert.ok(tissue(thick) > tissue(reference) * 1.2, 'thicker soft tissue attenuates more');
    // Trabecular density moves the bodies, cortical density the posterior elements.
    const arch = (p: LumbarPhantom): number => mean(box(p, l3.x + 1.45 * l3.halfWidth, l3.y - 0.25 * l3.halfHeight, 0.2 * l3.halfWidth, 0.15 * l3.halfHeight));
    const weakBodies = generateLumbarPhantom({ ...base, boneDensity: 0.2, cortexDensity: base.boneDensity });
    assert.ok(vertebralContrast(weakBodies) < 0.7 * vertebralContrast(reference));
    assert.ok(Math.abs(arch(weakBodies) - arch(reference)) < 0.05 * arch(reference), 'posterior elements unchanged');
  });

  void it('adds a smooth field that shifts intensities widely but keeps the local contrast of the bodies', () => {
    const plain = generateLumbarPhantom({ ...base, noise: 0 });
    const fielded = generateLumbarPhantom({ ...base, noise: 0, field: 0.3 });
    assert.deepEqual(fielded.vertebrae, plain.vertebrae, 'same anatomy');
    let low = Infinity;
    let high = -Infinity;
    fielded.data.forEach((value, i) => {
      low = Math.min(low, value - plain.data[i]!);
      high = Math.max(high, value - plain.data[i]!);
    });
    const spread = high - low;
    assert.ok(spread > 0.1 * 4095, `the field moves intensities by ${spread}`);
    // Body centre against the disc just below it: a local difference the smooth field barely changes.
    const local = (p: LumbarPhantom): number => {
      const [upper, lower] = [p.vertebrae[2]!, p.vertebrae[3]!];
      return mean(box(p, upper.x, upper.y, 0.3 * upper.halfWidth, 0.3 * upper.halfHeight)) - mean(box(p, (upper.x + lower.x) / 2, (upper.y + lower.y) / 2, 0.3 * upper.halfWidth, 1));
    };
    assert.ok(Math.abs(local(fielded) - local(plain)) < 0.15 * local(plain), `local contrast ${local(fielded)} vs ${local(plain)}`);
  });

  void it('rejects out-of-range options with RangeErrors that name the option', () => {
    const cases: [Partial<LumbarPhantomOptions>, RegExp][] = [
      [{ bitsStored: 7 }, /bitsStored/],
      [{ bitsStored: 17 }, /bitsStored/],
      [{ boneDensity: 1.1 }, /boneDensity/],
      [{ boneDensity: Number.NaN }, /boneDensity/],
      [{ rows: 8 }, /rows/],
      [{ columns: 100.5 }, /columns/],
      [{ seed: 0.5 }, /seed/],
      [{ noise: -1 }, /noise/],
      [{ heightLoss: { L3: 0.9 } }, /heightLoss\.L3/],
      [{ deformities: { L1: { anterior: 0.2, middle: 0.9, posterior: 0 } } }, /deformities\.L1\.middle/],
      [{ boneContrast: 0 }, /boneContrast/],
      [{ softTissue: 0.9 }, /softTissue/],
      [{ exposure: 2 }, /exposure/],
      [{ striation: -0.1 }, /striation/],
      [{ cortexDensity: 1.5 }, /cortexDensity/],
      [{ field: 0.5 }, /field/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => generateLumbarPhantom({ ...base, ...options }),
        (error: unknown) => error instanceof RangeError && message.test(error.message),
      );
    }
  });
});
