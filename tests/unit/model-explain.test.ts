// Occlusion maps on a model whose answer is known (log-risk = sum of one region's pixels), and the
// PNG overlay decoded back.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decode } from 'fast-png';
import { occlusionMap, patchOrigins } from '../../src/model/explain.js';
import { loadModelRegistry, type LoadedModel } from '../../src/model/model-registry.js';
import type { ModelRuntime, Prediction } from '../../src/model/model-runtime.js';
import { overlayPng } from '../../src/model/overlay-png.js';

const HEIGHT = 32;
const WIDTH = 24;
const inRegion = (r: number, c: number): boolean => r >= 8 && r < 16 && c >= 4 && c < 12;

/** A stand-in runtime: g = sum of the pixels inside rows 8–15, columns 4–11. */
function regionRuntime(model: LoadedModel): Pick<ModelRuntime, 'model' | 'predictBatch'> & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    model: () => model,
    predictBatch: (_id, images) => {
      calls.push(images.length);
      return Promise.resolve(
        images.map((image): Prediction => {
          let g = 0;
          for (let r = 0; r < HEIGHT; r++) for (let c = 0; c < WIDTH; c++) if (inRegion(r, c)) g += image[r * WIDTH + c]!;
          return { logRisk: g, covariateVector: new Float32Array(0), featureValues: [] };
        }),
      );
    },
  };
}

function regionImage(): Float32Array {
  const image = new Float32Array(HEIGHT * WIDTH);
  for (let r = 0; r < HEIGHT; r++) for (let c = 0; c < WIDTH; c++) if (inRegion(r, c)) image[r * WIDTH + c] = 2;
  return image;
}

describe('occlusion sensitivity', () => {
  let model: LoadedModel;
  before(async () => {
    model = (await loadModelRegistry('tests/fixtures/models')).models.get('tiny-image-only')!;
  });

  it('places patches every stride and flush with the far edge', () => {
    assert.deepEqual(patchOrigins(32, 4, 2), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28]);
    assert.deepEqual(patchOrigins(24, 3, 2), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 21]);
    assert.deepEqual(patchOrigins(10, 10, 5), [0]);
  });

  it('is positive exactly where the region that raises the risk is, zero elsewhere', async () => {
    const runtime = regionRuntime(model);
    const map = await occlusionMap(runtime, 'tiny-image-only', regionImage(), null, { chunkSize: 50 });
    // Defaults: patch 1/8 of each side (4 × 3), stride half of it (2 × 2), grid cells one stride.
    assert.deepEqual(map.geometry, { height: 32, width: 24, patchHeight: 4, patchWidth: 3, strideRows: 2, strideCols: 2, cellHeight: 2, cellWidth: 2 });
    assert.equal(map.rows, 16);
    assert.equal(map.cols, 12);
    assert.equal(map.values.length, 16 * 12);
    assert.equal(map.evaluations, 15 * 12);
    assert.deepEqual(runtime.calls, [1, 50, 50, 50, 30]);
    assert.equal(map.fill.kind, 'image-mean');
    assert.ok(Math.abs(map.fill.value - (64 * 2) / (32 * 24)) < 1e-6);
    assert.equal(map.logRisk, 128);
    for (let row = 0; row < map.rows; row++) {
      for (let col = 0; col < map.cols; col++) {
        const value: number = map.values[row * map.cols + col]!;
        const inside = inRegion(row * 2, col * 2);
        assert.ok(inside ? value > 1 : value >= 0, `cell ${row},${col} = ${value}`);
        // Cells no patch over the region reaches read exactly zero.
        if (row * 2 + 1 < 8 - 3 || row * 2 >= 16 + 3 || col * 2 + 1 < 4 - 2 || col * 2 >= 12 + 2) assert.equal(value, 0);
      }
    }
  });

  it('fills with mid-grey when asked, normalised as the card says', async () => {
    const map = await occlusionMap(regionRuntime(model), 'tiny-image-only', regionImage(), null, { fill: 'mid-grey', patch: { height: 8, width: 8 }, stride: { rows: 8, cols: 8 } });
    assert.deepEqual(map.fill, { kind: 'mid-grey', value: 0 }); // (0.5 − 0.5) / 0.25
    assert.equal(map.rows, 4);
    assert.equal(map.cols, 3);
    // Non-overlapping 8 × 8 patches: the region (rows 8–15, columns 4–11) is half in each of two.
    assert.deepEqual(Array.from(map.values), [0, 0, 0, 64, 64, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses a stride longer than the patch or a patch larger than the image', async () => {
    await assert.rejects(occlusionMap(regionRuntime(model), 'tiny-image-only', regionImage(), null, { patch: { height: 4, width: 4 }, stride: { rows: 5, cols: 2 } }), { name: 'RangeError', message: 'stride.rows must be an integer from 1 to 4, got 5' });
    await assert.rejects(occlusionMap(regionRuntime(model), 'tiny-image-only', regionImage(), null, { patch: { height: 40, width: 4 } }), /patch\.height must be an integer from 1 to 32/);
  });

  it('draws the map over the radiograph as an RGBA PNG: red raises, grey elsewhere', async () => {
    const image = regionImage();
    const map = await occlusionMap(regionRuntime(model), 'tiny-image-only', image, null);
    const png = decode(overlayPng({ image, normalisation: { mean: 0.5, std: 0.25 }, map }));
    assert.equal(png.width, WIDTH);
    assert.equal(png.height, HEIGHT);
    assert.equal(png.channels, 4);
    const pixel = (r: number, c: number): number[] => Array.from(png.data.subarray((r * WIDTH + c) * 4, (r * WIDTH + c) * 4 + 4));
    // Far from the region: display value 0 · 0.25 + 0.5 = 0.5 → 128, untinted.
    assert.deepEqual(pixel(30, 22), [128, 128, 128, 255]);
    const [red, green, blue] = pixel(12, 8);
    assert.ok(red! > green! && red! > blue!, `region pixel is red-tinted: ${pixel(12, 8).join(',')}`);
  });
});
