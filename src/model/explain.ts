// Occlusion sensitivity: which regions of the preprocessed image move the model's log-risk. A patch
// is slid over the image and filled with a neutral value; every occluded copy is scored (in batches,
// in the workers) and the drop g(original) − g(occluded) is averaged, per pixel, over every patch that
// covered it, then summarised on a coarse grid whose cells are one stride in size.
// Positive = the region raises the predicted risk. Model-agnostic, it needs only predictBatch.
import type { ModelRuntime } from './model-runtime.js';
import type { RiskFactors } from './risk-factors.js';

export type OcclusionFill = 'image-mean' | 'mid-grey';

export interface OcclusionOptions {
  /** Patch size in tensor pixels; default 1/8 of each side (at least 1). */
  patch?: { height: number; width: number };
  /** Step between patches; default half the patch (overlapping patches smooth the map). At most the patch. */
  stride?: { rows: number; cols: number };
  /**
   * What the patch holds: `image-mean` (default; the mean of this image's tensor, so occlusion removes
   * structure without shifting overall brightness) or `mid-grey` (display value 0.5, normalised as the card says).
   */
  fill?: OcclusionFill;
  /** Occluded copies generated and scored per predictBatch call (bounds memory). Default 32. */
  chunkSize?: number;
}

export interface OcclusionGeometry {
  height: number;
  width: number;
  patchHeight: number;
  patchWidth: number;
  strideRows: number;
  strideCols: number;
  /** Grid cells are one stride in size; the last row/column of cells may be cut short by the image edge. */
  cellHeight: number;
  cellWidth: number;
}

export interface OcclusionMap {
  rows: number;
  cols: number;
  /** rows × cols, row-major: mean log-risk drop when the cell's pixels are hidden. */
  values: Float32Array;
  geometry: OcclusionGeometry;
  fill: { kind: OcclusionFill; value: number };
  /** g of the unoccluded image. */
  logRisk: number;
  /** Occluded copies scored. */
  evaluations: number;
}

/** Patch origins along one side: every stride, plus one flush with the far edge so it is covered. */
export function patchOrigins(extent: number, patch: number, stride: number): number[] {
  const origins: number[] = [];
  for (let origin = 0; origin < extent - patch; origin += stride) origins.push(origin);
  origins.push(extent - patch);
  return origins;
}

function positiveInteger(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw new RangeError(`${name} must be an integer from 1 to ${max}, got ${value}`);
  return value;
}

function planGeometry(height: number, width: number, options: OcclusionOptions): OcclusionGeometry {
  const patchHeight = positiveInteger('patch.height', options.patch?.height ?? Math.max(1, Math.round(height / 8)), height);
  const patchWidth = positiveInteger('patch.width', options.patch?.width ?? Math.max(1, Math.round(width / 8)), width);
  const strideRows = positiveInteger('stride.rows', options.stride?.rows ?? Math.max(1, Math.ceil(patchHeight / 2)), patchHeight);
  const strideCols = positiveInteger('stride.cols', options.stride?.cols ?? Math.max(1, Math.ceil(patchWidth / 2)), patchWidth);
  return { height, width, patchHeight, patchWidth, strideRows, strideCols, cellHeight: strideRows, cellWidth: strideCols };
}

function mean(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export async function occlusionMap(
  runtime: Pick<ModelRuntime, 'model' | 'predictBatch'>,
  modelId: string,
  image: Float32Array,
  covariates: RiskFactors | null,
  options: OcclusionOptions = {},
): Promise<OcclusionMap> {
  const { preprocessing } = runtime.model(modelId).card.inputs.image;
  const { height, width } = preprocessing;
  const geometry = planGeometry(height, width, options);
  const fillKind = options.fill ?? 'image-mean';
  const fill = fillKind === 'mid-grey' ? (0.5 - preprocessing.normalisation.mean) / preprocessing.normalisation.std : mean(image);
  const chunkSize = positiveInteger('chunkSize', options.chunkSize ?? 32, 4096);

  const patches = patchOrigins(height, geometry.patchHeight, geometry.strideRows).flatMap((top) =>
    patchOrigins(width, geometry.patchWidth, geometry.strideCols).map((left) => ({ top, left })),
  );
  const [original] = await runtime.predictBatch(modelId, [image], [covariates]);
  const logRisk = (original as { logRisk: number }).logRisk;

  const sum = new Float64Array(height * width);
  const count = new Uint32Array(height * width);
  for (let start = 0; start < patches.length; start += chunkSize) {
    const chunk = patches.slice(start, start + chunkSize);
    const occluded = chunk.map(({ top, left }) => {
      const copy = image.slice();
      for (let r = top; r < top + geometry.patchHeight; r++) copy.fill(fill, r * width + left, r * width + left + geometry.patchWidth);
      return copy;
    });
    const predictions = await runtime.predictBatch(modelId, occluded, occluded.map(() => covariates));
    chunk.forEach(({ top, left }, k) => {
      const drop = logRisk - (predictions[k] as { logRisk: number }).logRisk;
      for (let r = top; r < top + geometry.patchHeight; r++) {
        for (let c = left; c < left + geometry.patchWidth; c++) {
          sum[r * width + c] = (sum[r * width + c] as number) + drop;
          count[r * width + c] = (count[r * width + c] as number) + 1;
        }
      }
    });
  }

  const rows = Math.ceil(height / geometry.cellHeight);
  const cols = Math.ceil(width / geometry.cellWidth);
  const values = new Float32Array(rows * cols);
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      let total = 0;
      let pixels = 0;
      for (let r = row * geometry.cellHeight; r < Math.min(height, (row + 1) * geometry.cellHeight); r++) {
        for (let c = col * geometry.cellWidth; c < Math.min(width, (col + 1) * geometry.cellWidth); c++) {
          // Every pixel is covered: origins include both edges and the stride never exceeds the patch.
          total += (sum[r * width + c] as number) / (count[r * width + c] as number);
          pixels++;
        }
      }
      values[row * cols + col] = total / pixels;
    }
  }
  return { rows, cols, values, geometry, fill: { kind: fillKind, value: fill }, logRisk, evaluations: patches.length };
}
