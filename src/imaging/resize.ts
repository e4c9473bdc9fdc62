// Aspect-preserving resize of a region of stored values, through a value LUT, into a padded
// target. Shrinking is exact area averaging (separable; a source pixel spreads over at most two
// output pixels per axis); enlarging is bilinear. One pass over the source, no per-pixel allocation.
import type { Region } from './value-lut.js';

export interface ResizeGeometry {
  method: 'area' | 'bilinear';
  /** Output pixels per source pixel, per axis (equal up to rounding of the output size). */
  scaleRows: number;
  scaleColumns: number;
  rows: number;
  columns: number;
  offsetTop: number;
  offsetLeft: number;
}

export interface ResizeInput {
  pixels: Uint8Array | Uint16Array;
  /** Row length of `pixels`. */
  stride: number;
  region: Region;
  lut: Float32Array;
  shift: number;
  mask: number;
}

export function planResize(region: Region, height: number, width: number): ResizeGeometry {
  const scale = Math.min(height / region.rows, width / region.columns);
  const rows = Math.min(height, Math.max(1, Math.round(region.rows * scale)));
  const columns = Math.min(width, Math.max(1, Math.round(region.columns * scale)));
  const scaleRows = rows / region.rows;
  const scaleColumns = columns / region.columns;
  return {
    method: scaleRows <= 1 && scaleColumns <= 1 ? 'area' : 'bilinear',
    scaleRows,
    scaleColumns,
    rows,
    columns,
    offsetTop: (height - rows) >> 1,
    offsetLeft: (width - columns) >> 1,
  };
}

/** For each output column: the source columns it fully covers, and its partial edge columns with their weights. */
function columnSpans(sourceLength: number, columns: number, scale: number): { full0: Int32Array; full1: Int32Array; edge0: Int32Array; w0: Float32Array; edge1: Int32Array; w1: Float32Array } {
  const spans = {
    full0: new Int32Array(columns),
    full1: new Int32Array(columns),
    edge0: new Int32Array(columns),
    w0: new Float32Array(columns),
    edge1: new Int32Array(columns),
    w1: new Float32Array(columns),
  };
  for (let o = 0; o < columns; o++) {
    const a = o / scale;
    const b = Math.min((o + 1) / scale, sourceLength);
    const first = Math.ceil(a);
    const last = Math.floor(b);
    spans.full0[o] = first;
    spans.full1[o] = Math.max(first, last);
    spans.edge0[o] = Math.max(0, first - 1);
    spans.w0[o] = first > a ? first - a : 0;
    spans.edge1[o] = Math.min(last, sourceLength - 1);
    spans.w1[o] = last < b ? b - last : 0;
  }
  return spans;
}

type ColumnSpans = ReturnType<typeof columnSpans>;

/** Sums one output row's column accumulator horizontally over each output column's span. */
function emitRow(sums: Float64Array, spans: ColumnSpans, norm: number, tensor: Float32Array, at: number): void {
  const { full0, full1, edge0, w0, edge1, w1 } = spans;
  for (let o = 0; o < full0.length; o++) {
    let sum = sums[edge0[o]!]! * w0[o]! + sums[edge1[o]!]! * w1[o]!;
    for (let x = full0[o]!, end = full1[o]!; x < end; x++) sum += sums[x]!;
    tensor[at + o] = sum * norm;
  }
}

function resizeArea(input: ResizeInput, geometry: ResizeGeometry, tensor: Float32Array, width: number): void {
  const { pixels, stride, region, lut, shift, mask } = input;
  const { rows, scaleRows } = geometry;
  const spans = columnSpans(region.columns, geometry.columns, geometry.scaleColumns);
  const norm = scaleRows * geometry.scaleColumns;
  const n = region.columns;
  // Vertical first: source rows are summed column-wise into their output row's accumulator (a row
  // straddling two output rows is split by weight), so almost every pixel costs one load and one
  // add. Each finished output row is then summed horizontally over its column spans.
  let current = new Float64Array(n);
  let next = new Float64Array(n);
  let outputRow = 0;
  for (let y = 0; y < region.rows; y++) {
    const rowStart = (region.top + y) * stride + region.left;
    const start = y * scaleRows;
    const end = (y + 1) * scaleRows;
    const boundary = outputRow + 1;
    const sums = current;
    if (end <= boundary || boundary >= rows) {
      // The last output row takes everything left, whatever rounding says.
      for (let x = 0; x < n; x++) sums[x] = sums[x]! + lut[(pixels[rowStart + x]! >> shift) & mask]!;
    } else {
      const spill = next;
      const weight = (boundary - start) / scaleRows;
      const rest = 1 - weight;
      for (let x = 0; x < n; x++) {
        const v = lut[(pixels[rowStart + x]! >> shift) & mask]!;
        sums[x] = sums[x]! + weight * v;
        spill[x] = spill[x]! + rest * v;
      }
    }
    if (end >= boundary && outputRow < rows) {
      emitRow(current, spans, norm, tensor, (geometry.offsetTop + outputRow) * width + geometry.offsetLeft);
      [current, next] = [next, current];
      next.fill(0);
      outputRow += 1;
    }
  }
  if (outputRow < rows) emitRow(current, spans, norm, tensor, (geometry.offsetTop + outputRow) * width + geometry.offsetLeft);
}

function resizeBilinear(input: ResizeInput, geometry: ResizeGeometry, tensor: Float32Array, width: number): void {
  const { pixels, stride, region, lut, shift, mask } = input;
  const sample = (y: number, x: number): number => lut[(pixels[(region.top + y) * stride + region.left + x]! >> shift) & mask]!;
  for (let oy = 0; oy < geometry.rows; oy++) {
    const sy = Math.min(Math.max((oy + 0.5) / geometry.scaleRows - 0.5, 0), region.rows - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, region.rows - 1);
    const fy = sy - y0;
    const rowOut = (geometry.offsetTop + oy) * width + geometry.offsetLeft;
    for (let ox = 0; ox < geometry.columns; ox++) {
      const sx = Math.min(Math.max((ox + 0.5) / geometry.scaleColumns - 0.5, 0), region.columns - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, region.columns - 1);
      const fx = sx - x0;
      const top = sample(y0, x0) * (1 - fx) + sample(y0, x1) * fx;
      const bottom = sample(y1, x0) * (1 - fx) + sample(y1, x1) * fx;
      tensor[rowOut + ox] = top * (1 - fy) + bottom * fy;
    }
  }
}

/** Fills `tensor` (height × width, row-major) with `pad`, then the resized region centred in it. */
export function resizeInto(input: ResizeInput, geometry: ResizeGeometry, tensor: Float32Array, width: number, pad: number): void {
  tensor.fill(pad);
  if (geometry.method === 'area') resizeArea(input, geometry, tensor, width);
  else resizeBilinear(input, geometry, tensor, width);
}
