// decodeDicom on files written with dcmjs and then damaged on purpose: every defect is a typed
// reason code, never an exception of another kind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDicom, type DecodeLimits } from '../../src/imaging/dicom-decode.js';
import { ImagingError, type ImagingErrorCode } from '../../src/imaging/errors.js';
import { writeRadiograph } from '../../src/synthetic/dicom-file.js';

const limits: DecodeLimits = { maxBytes: 10_000_000, maxPixels: 10_000_000, maxFrames: 1 };

function ramp(rows: number, columns: number, max: number): Uint16Array {
  return new Uint16Array(rows * columns).map((_, i) => (i * 7) % (max + 1));
}

function sample(attributes: Record<string, unknown> = {}): Uint8Array {
  return writeRadiograph({ rows: 40, columns: 30, data: ramp(40, 30, 4095), bitsStored: 12, photometric: 'MONOCHROME2' }, { Modality: 'DX', ...attributes });
}

/** Offset of an explicit-VR element header in a file (searching after the preamble). */
function findElement(bytes: Uint8Array, group: number, element: number): number {
  for (let i = 132; i < bytes.length - 4; i += 2) {
    if (bytes[i] === (group & 0xff) && bytes[i + 1] === group >> 8 && bytes[i + 2] === (element & 0xff) && bytes[i + 3] === element >> 8) return i;
  }
  throw new Error(`element ${group.toString(16)},${element.toString(16)} not found`);
}

function patchUs(bytes: Uint8Array, group: number, element: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint16(findElement(copy, group, element) + 8, value, true);
  return copy;
}

function patchText(bytes: Uint8Array, from: string, to: string): Uint8Array {
  assert.equal(from.length, to.length);
  const copy = bytes.slice();
  const at = Buffer.from(copy.buffer).indexOf(from, 132, 'latin1');
  assert.ok(at > 0, `${from} not in file`);
  copy.set(Buffer.from(to, 'latin1'), at);
  return copy;
}

async function rejectsWith(promise: Promise<unknown>, code: ImagingErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ImagingError, `expected ImagingError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

describe('decodeDicom: well-formed files', () => {
  it('returns stored values bit-exactly with their interpretation', async () => {
    const data = ramp(40, 30, 4095);
    const file = writeRadiograph({ rows: 40, columns: 30, data, bitsStored: 12, photometric: 'MONOCHROME1' }, {
      RescaleSlope: 0.5,
      RescaleIntercept: -100,
      WindowCenter: [1000, 2000],
      WindowWidth: [400, 800],
      VOILUTFunction: 'SIGMOID',
      PixelSpacing: [0, 0],
      ImagerPixelSpacing: [0.143, 0.15],
    });
    const image = await decodeDicom(file, limits);
    assert.deepEqual(Array.from(image.pixels), Array.from(data));
    assert.equal(image.photometric, 'MONOCHROME1');
    assert.deepEqual(image.modalityLut, { kind: 'rescale', slope: 0.5, intercept: -100 });
    assert.deepEqual(image.windows, [
      { center: 1000, width: 400, function: 'SIGMOID' },
      { center: 2000, width: 800, function: 'SIGMOID' },
    ]);
    assert.deepEqual(image.spacing, { rowMm: 0.143, columnMm: 0.15, source: 'ImagerPixelSpacing' });
    assert.ok(image.warnings.some((w) => /PixelSpacing ignored/.test(w)));
  });

  it('reads 8-bit and signed 16-bit data', async () => {
    const eight = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const decoded8 = await decodeDicom(writeRadiograph({ rows: 3, columns: 4, data: eight, bitsStored: 8, photometric: 'MONOCHROME2' }), limits);
    assert.equal(decoded8.bitsAllocated, 8);
    assert.deepEqual(Array.from(decoded8.pixels), Array.from(eight));
    const signed = Int16Array.from({ length: 12 }, (_, i) => (i - 6) * 1000);
    const decoded16 = await decodeDicom(writeRadiograph({ rows: 3, columns: 4, data: signed, bitsStored: 16, photometric: 'MONOCHROME2' }), limits);
    assert.equal(decoded16.signed, true);
    assert.deepEqual(Array.from(new Int16Array(decoded16.pixels.buffer, decoded16.pixels.byteOffset, 12)), Array.from(signed));
  });

  it('refuses multi-frame files past the cap; within it, uses the first frame and records that', async () => {
    const data = new Uint16Array(2400).map((_, i) => i % 4096);
    // 80 × 30 values declared as two frames of 40 × 30.
    const file = patchUs(writeRadiograph({ rows: 80, columns: 30, data, bitsStored: 12, photometric: 'MONOCHROME2' }, { NumberOfFrames: 2 }), 0x0028, 0x0010, 40);
    await rejectsWith(decodeDicom(file, limits), 'multi-frame');
    const first = await decodeDicom(file, { ...limits, maxFrames: 2 });
    assert.deepEqual(Array.from(first.pixels), Array.from(data.subarray(0, 1200)));
    assert.ok(first.warnings.some((w) => /first of 2 frames/.test(w)));
    await rejectsWith(decodeDicom(patchUs(file, 0x0028, 0x0010, 41), { ...limits, maxFrames: 2 }), 'pixel-data-length-mismatch');
  });
});

describe('decodeDicom: bad input gets a reason code', () => {
  it('not-dicom: no preamble, empty, or random bytes', async () => {
    await rejectsWith(decodeDicom(new Uint8Array(0), limits), 'not-dicom');
    await rejectsWith(decodeDicom(sample().subarray(132), limits), 'not-dicom');
    await rejectsWith(decodeDicom(Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff), limits), 'not-dicom');
  });

  it('truncated: cut inside the header, inside the pixel data, or one byte short', async () => {
    const file = sample();
    const pixelData = findElement(file, 0x7fe0, 0x0010);
    for (const cut of [140, 200, pixelData + 6, pixelData + 500, file.length - 1]) {
      await rejectsWith(decodeDicom(file.subarray(0, cut), limits), 'truncated');
    }
  });

  it('missing-pixel-data: the file ends cleanly before PixelData', async () => {
    const file = sample();
    await rejectsWith(decodeDicom(file.subarray(0, findElement(file, 0x7fe0, 0x0010)), limits), 'missing-pixel-data');
  });

  it('pixel-data-length-mismatch: Rows × Columns larger than the data', async () => {
    await rejectsWith(decodeDicom(patchUs(sample(), 0x0028, 0x0010, 41), limits), 'pixel-data-length-mismatch');
  });

  it('malformed: zero rows, or a rescale that overflows', async () => {
    await rejectsWith(decodeDicom(patchUs(sample(), 0x0028, 0x0010, 0), limits), 'malformed');
    await rejectsWith(decodeDicom(sample({ RescaleSlope: '1e308', RescaleIntercept: 0 }), limits), 'malformed');
  });

  it('records earlier lossy compression from LossyImageCompression', async () => {
    assert.equal((await decodeDicom(sample(), limits)).lossyCompression, false);
    assert.equal((await decodeDicom(sample({ LossyImageCompression: '01' }), limits)).lossyCompression, true);
  });

  it('unsupported-photometric, unsupported-pixel-format and unsupported-transfer-syntax', async () => {
    await rejectsWith(decodeDicom(patchText(sample(), 'MONOCHROME2 ', 'YBR_FULL_422'), limits), 'unsupported-photometric');
    await rejectsWith(decodeDicom(patchUs(sample(), 0x0028, 0x0100, 32), limits), 'unsupported-pixel-format');
    await rejectsWith(decodeDicom(patchUs(sample(), 0x0028, 0x0101, 17), limits), 'unsupported-pixel-format');
    await rejectsWith(decodeDicom(patchText(sample(), '1.2.840.10008.1.2.1\0', '1.2.840.10008.1.2.2\0'), limits), 'unsupported-transfer-syntax');
  });

  it('too-large and too-many-pixels: the configured caps', async () => {
    const file = sample();
    await rejectsWith(decodeDicom(file, { ...limits, maxBytes: file.length - 1 }), 'too-large');
    await rejectsWith(decodeDicom(file, { ...limits, maxPixels: 40 * 30 - 1 }), 'too-many-pixels');
    await decodeDicom(file, { ...limits, maxBytes: file.length, maxPixels: 40 * 30 });
  });
});
