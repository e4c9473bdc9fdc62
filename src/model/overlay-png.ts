// The explanation as a picture: the preprocessed radiograph in grey with the occlusion map blended
// over it (red where the region raises the risk, blue where it lowers it), encoded as an RGBA PNG;
// and the radiograph alone. Encoding takes tens of milliseconds, so serving runs these in a worker
// thread (the `radiograph-png` task).
import { encode } from 'fast-png';
import type { OcclusionMap } from './explain.js';

export interface OverlayInput {
  /** The model's image tensor (height × width, normalised). */
  image: Float32Array;
  /** The card's normalisation, to turn tensor values back into display values in [0, 1]. */
  normalisation: { mean: number; std: number };
  map: Pick<OcclusionMap, 'rows' | 'cols' | 'values' | 'geometry'>;
  /** Opacity of the strongest cell (0–1); default 0.6. */
  maxAlpha?: number;
  /** |value| shown at full strength; default the map's largest |value|, so the scale is per image. */
  scale?: number;
}

const RAISES: readonly [number, number, number] = [220, 30, 30];
const LOWERS: readonly [number, number, number] = [30, 90, 230];

export function overlayPng(input: OverlayInput): Uint8Array {
  const { height, width, cellHeight, cellWidth } = input.map.geometry;
  if (input.image.length !== height * width) throw new RangeError(`image has ${input.image.length} values; the map is for ${height} × ${width}`);
  const maxAlpha = input.maxAlpha ?? 0.6;
  if (!(maxAlpha >= 0 && maxAlpha <= 1)) throw new RangeError(`maxAlpha must be within [0, 1], got ${maxAlpha}`);
  const scale = input.scale ?? input.map.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const { mean, std } = input.normalisation;
  const rgba = new Uint8Array(height * width * 4);
  for (let r = 0; r < height; r++) {
    // Nearest cell: the map's resolution is the stride, and the picture should not pretend otherwise.
    const row = Math.min(input.map.rows - 1, Math.floor(r / cellHeight));
    for (let c = 0; c < width; c++) {
      const col = Math.min(input.map.cols - 1, Math.floor(c / cellWidth));
      const value = input.map.values[row * input.map.cols + col] as number;
      const grey = Math.min(1, Math.max(0, (input.image[r * width + c] as number) * std + mean)) * 255;
      const alpha = scale > 0 ? Math.min(1, Math.abs(value) / scale) * maxAlpha : 0;
      const colour = value >= 0 ? RAISES : LOWERS;
      const o = (r * width + c) * 4;
      rgba[o] = Math.round(grey * (1 - alpha) + colour[0] * alpha);
      rgba[o + 1] = Math.round(grey * (1 - alpha) + colour[1] * alpha);
      rgba[o + 2] = Math.round(grey * (1 - alpha) + colour[2] * alpha);
      rgba[o + 3] = 255;
    }
  }
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}

/** The model's input image alone as an 8-bit grey PNG (the normalisation undone): what the model read. */
export function greyPng(image: Float32Array, size: { height: number; width: number }, normalisation: { mean: number; std: number }): Uint8Array {
  const { height, width } = size;
  if (image.length !== height * width) throw new RangeError(`image has ${image.length} values; expected ${height} × ${width}`);
  const grey = new Uint8Array(height * width);
  const { mean, std } = normalisation;
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round(Math.min(1, Math.max(0, (image[i] as number) * std + mean)) * 255);
  return encode({ width, height, data: grey, channels: 1, depth: 8 });
}
