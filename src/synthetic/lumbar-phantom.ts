// A phantom lumbar spine radiograph: geometric shapes with a radiograph's statistics (bone over soft
// tissue, cortical rims, disc gaps, exposure gradient, noise), made for tests and for training the
// demonstration model. It is not anatomy and nothing clinical may be learnt from it.
import type { RadiographPixels } from './dicom-file.js';
import { deriveSeed, mulberry32 } from './random.js';

export type PhantomView = 'lateral' | 'ap';
export const LUMBAR_LEVELS = ['L1', 'L2', 'L3', 'L4', 'L5'] as const;
export type LumbarLevel = (typeof LUMBAR_LEVELS)[number];

export interface LumbarPhantomOptions {
  /** Any 32-bit integer; the same options give the same pixels. */
  seed: number;
  view: PhantomView;
  rows: number;
  columns: number;
  /** 8 → Uint8Array; 9–16 → Uint16Array. */
  bitsStored: number;
  /** 0–1: density of the vertebral bodies' trabecular bone over soft tissue (low = osteoporotic-looking). */
  boneDensity: number;
  /** 0–1: density of cortical bone (vertebral rims, posterior elements); default boneDensity. */
  cortexDensity?: number;
  /** Multiplies every bone's attenuation, as beam quality does (default 1). */
  boneContrast?: number;
  /** Soft-tissue attenuation, 0.1–0.5 of full scale (thicker patients more); default drawn from the seed. */
  softTissue?: number;
  /** Detector signal as a share of full scale, 0.3–1 (default 1). */
  exposure?: number;
  /** 0–1: share of the trabecular texture that runs vertically, as when horizontal trabeculae resorb (default 0). */
  striation?: number;
  /**
   * Amplitude (0–0.4 of full scale) of a smooth attenuation field over the whole image: uneven soft
   * tissue, bowel contents, the heel effect (default 0). It moves every intensity by far more than
   * bone density does, so a global histogram cannot read density while local contrast still shows it.
   */
  field?: number;
  /** Fraction of anterior vertebral height lost, per level (0–0.8); the posterior wall loses a quarter as much (a wedge). */
  heightLoss?: Partial<Record<LumbarLevel, number>>;
  /** Height lost per level at the anterior wall, mid-body and posterior wall (each 0–0.8); overrides heightLoss for that level. */
  deformities?: Partial<Record<LumbarLevel, VertebralDeformity>>;
  /** MONOCHROME2 (default) shows bone bright; MONOCHROME1 stores the inverse. */
  photometric?: 'MONOCHROME1' | 'MONOCHROME2';
  /** Noise standard deviation as a fraction of full scale (default 0.006). */
  noise?: number;
}

/** Fractions of vertebral height lost: wedge (anterior), biconcave (middle), crush (all three). */
export interface VertebralDeformity {
  anterior: number;
  middle: number;
  posterior: number;
}

/** Where a vertebral body was drawn, in pixels (x = column, y = row), for tests and crop checks. */
export interface VertebraPlacement {
  level: LumbarLevel;
  x: number;
  y: number;
  halfWidth: number;
  /** Half height before height loss. */
  halfHeight: number;
  /** Rotation in radians (positive turns the x axis towards +y). */
  angle: number;
  deformity: VertebralDeformity;
}

export interface LumbarPhantom extends RadiographPixels {
  data: Uint8Array | Uint16Array;
  vertebrae: VertebraPlacement[];
}

/** A rotated rounded rectangle whose height can taper from its −u (anterior) end to its +u end. */
interface ShapeSpec {
  cx: number;
  cy: number;
  /** Rotation in radians (positive turns the x axis towards +y). */
  angle: number;
  halfWidth: number;
  halfHeight: number;
  /** Corner radius, capped at the half extents (equal to the smaller one gives a stadium). */
  radius?: number;
  /** Height multipliers at u = −halfWidth and u = +halfWidth: below 1 makes a wedge. */
  anteriorScale?: number;
  posteriorScale?: number;
  /** Height lost at u = 0 beyond the wedge, fading parabolically to the walls (biconcave endplates). */
  concavity?: number;
  /** Attenuation added inside (negative for gas), as a fraction of full scale. */
  fill: number;
  /** Extra attenuation of the cortex, fading to nothing rimWidth pixels inside the edge. */
  rim?: number;
  rimWidth?: number;
  /** Amplitude of the trabecular texture, relative to fill. */
  texture?: number;
  /** Edge blur in pixels. */
  edge?: number;
}

interface Shape extends Required<Omit<ShapeSpec, 'angle'>> {
  cos: number;
  sin: number;
  /** Half extents of the rectangle, grown by the edge blur, that holds every pixel the shape touches. */
  boundWidth: number;
  boundHeight: number;
  /** First and last rows the shape can touch. */
  top: number;
  bottom: number;
}

function shape(spec: ShapeSpec): Shape {
  const { angle, ...rest } = spec;
  const s = { anteriorScale: 1, posteriorScale: 1, concavity: 0, radius: 0, rim: 0, rimWidth: 1, texture: 0, edge: 1, ...rest };
  s.radius = Math.min(s.radius, s.halfWidth, s.halfHeight);
  s.rimWidth = Math.max(1, s.rimWidth);
  s.edge = Math.max(1, s.edge);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const boundWidth = s.halfWidth + s.edge + 1;
  const boundHeight = s.halfHeight + s.edge + 1;
  const extent = boundWidth * Math.abs(sin) + boundHeight * Math.abs(cos);
  return { ...s, cos, sin, boundWidth, boundHeight, top: Math.floor(s.cy - extent), bottom: Math.ceil(s.cy + extent) };
}

const TEXTURE_SHIFT = 7;
const TEXTURE_MASK = (1 << TEXTURE_SHIFT) - 1;
const GAUSS_MASK = 4095;

/** White noise box-blurred over (2·halfHeight + 1) rows × (2·halfWidth + 1) columns, wrapping around. */
function blurredNoise(white: Float32Array, halfHeight: number, halfWidth: number): Float32Array {
  const size = 1 << TEXTURE_SHIFT;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let dy = -halfHeight; dy <= halfHeight; dy++) {
        const row = ((y + dy) & TEXTURE_MASK) << TEXTURE_SHIFT;
        for (let dx = -halfWidth; dx <= halfWidth; dx++) sum += white[row | ((x + dx) & TEXTURE_MASK)]!;
      }
      out[(y << TEXTURE_SHIFT) | x] = sum;
    }
  }
  return standardised(out);
}

/**
 * Trabecular texture, zero mean and unit SD: blurred noise taller than wide (trabeculae run mostly
 * vertically), mixed with thin vertical streaks as `striation` rises.
 */
function trabecularTexture(random: () => number, striation: number): Float32Array {
  const size = 1 << TEXTURE_SHIFT;
  const white = new Float32Array(size * size).map(() => random() - 0.5);
  const mesh = blurredNoise(white, 3, 1);
  if (striation === 0) return mesh;
  const streaks = blurredNoise(white, 9, 0);
  return standardised(mesh.map((value, i) => (1 - striation) * value + striation * streaks[i]!));
}

function standardised(out: Float32Array): Float32Array {
  let mean = 0;
  for (const value of out) mean += value;
  mean /= out.length;
  let variance = 0;
  for (const value of out) variance += (value - mean) ** 2;
  const sd = Math.sqrt(variance / out.length);
  return out.map((value) => (value - mean) / sd);
}

function gaussianTable(random: () => number): Float32Array {
  const table = new Float32Array(GAUSS_MASK + 1);
  for (let i = 0; i < table.length; i++) {
    table[i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  }
  return table;
}

const FIELD_BLOBS = 5;

/**
 * A smooth field as a sum of separable Gaussian blobs a_k·gx_k(x)·gy_k(y): per pixel it costs
 * FIELD_BLOBS multiply-adds. Drawn from its own stream so the rest of the phantom is unchanged.
 */
function smoothField(seed: number, rows: number, columns: number, amplitude: number): { gx: Float32Array[]; gy: Float32Array[] } {
  const random = mulberry32(deriveSeed(seed, 0x6669656c));
  const gx: Float32Array[] = [];
  const gy: Float32Array[] = [];
  for (let k = 0; k < FIELD_BLOBS; k++) {
    const a = amplitude * (random() * 2 - 1);
    const cx = columns * (random() * 1.4 - 0.2);
    const cy = rows * (random() * 1.4 - 0.2);
    const sx = columns * (0.15 + 0.35 * random());
    const sy = rows * (0.15 + 0.35 * random());
    gx.push(Float32Array.from({ length: columns }, (_, x) => a * Math.exp(-(((x - cx) / sx) ** 2) / 2)));
    gy.push(Float32Array.from({ length: rows }, (_, y) => Math.exp(-(((y - cy) / sy) ** 2) / 2)));
  }
  return { gx, gy };
}

const smoothstep = (t: number): number => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));

interface Anatomy {
  shapes: Shape[];
  vertebrae: VertebraPlacement[];
  /** Soft tissue and air per column, before the exposure gradient. */
  tissue: Float32Array;
}

/** Level spacing (body + disc) in pixels, so that L1–L5 and their posterior elements fit the image. */
function levelPitch(rows: number, columns: number, widthInPitches: number): number {
  return Math.min((rows * 0.68) / 5, (columns * 0.85) / widthInPitches);
}

function drawAnatomy(options: LumbarPhantomOptions, random: () => number): Anatomy {
  const { rows, columns, view, boneDensity } = options;
  const cortexDensity = options.cortexDensity ?? boneDensity;
  const contrast = options.boneContrast ?? 1;
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * random();
  const lateral = view === 'lateral';
  const pitch = levelPitch(rows, columns, lateral ? 2.6 : 2.4) * uniform(0.92, 1.04);
  const bodyFill = contrast * (0.07 + 0.2 * boneDensity);
  // Posterior elements are mostly cortical bone: their fill follows the cortex, not the bodies.
  const archFill = contrast * (0.07 + 0.2 * cortexDensity);
  const cortex = contrast * (0.06 + 0.2 * cortexDensity);
  const texture = 0.04 + 0.16 * boneDensity;
  const shapes: Shape[] = [];
  const vertebrae: VertebraPlacement[] = [];

  const top = rows * uniform(0.12, 0.18);
  const spineX = columns * (lateral ? uniform(0.36, 0.44) : uniform(0.47, 0.53));
  // Lateral: lordosis bows the column anteriorly (−x); AP: a slight scoliosis either way.
  const bow = lateral ? -uniform(0.15, 0.45) : uniform(-0.12, 0.12);
  for (let k = 0; k < 5; k++) {
    const level = LUMBAR_LEVELS[k]!;
    const phase = (Math.PI * (k + 0.5)) / 5;
    const size = (0.92 + 0.04 * k) * uniform(0.97, 1.03);
    const x = spineX + bow * pitch * Math.sin(phase) + uniform(-0.02, 0.02) * pitch;
    const y = top + (k + 0.5) * pitch + uniform(-0.02, 0.02) * pitch;
    const slope = (bow * Math.PI * Math.cos(phase)) / 5;
    const angle = -Math.atan(slope) + uniform(-0.04, 0.04) + (lateral && k === 4 ? 0.08 : 0);
    const halfHeight = 0.36 * pitch * size;
    const halfWidth = (lateral ? 0.47 : 0.6) * pitch * size;
    const wedge = options.heightLoss?.[level] ?? 0;
    const deformity = options.deformities?.[level] ?? { anterior: wedge, middle: 0, posterior: 0.25 * wedge };
    vertebrae.push({ level, x, y, halfWidth, halfHeight, angle, deformity });
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    // Places a part given in the vertebra's own frame (u along its width, v along its height).
    const part = (u: number, v: number, spec: Omit<ShapeSpec, 'cx' | 'cy' | 'angle'>, turn = 0): void => {
      shapes.push(shape({ ...spec, cx: x + u * cos - v * sin, cy: y + u * sin + v * cos, angle: angle + turn }));
    };
    const a = halfWidth;
    const b = halfHeight;
    part(0, 0, {
      halfWidth: a,
      halfHeight: b,
      radius: 0.12 * b,
      // AP sees the anterior and posterior walls superimposed: an even loss of their mean.
      anteriorScale: 1 - (lateral ? deformity.anterior : (deformity.anterior + deformity.posterior) / 2),
      posteriorScale: 1 - (lateral ? deformity.posterior : (deformity.anterior + deformity.posterior) / 2),
      concavity: Math.max(0, deformity.middle - (deformity.anterior + deformity.posterior) / 2),
      fill: bodyFill,
      rim: cortex,
      rimWidth: 0.06 * b,
      texture,
    });
    // Posterior elements: thinner bone than the body, as shares of its fill and cortex.
    const bone = (fillShare: number, rimShare: number, rimWidth: number): Pick<ShapeSpec, 'fill' | 'rim' | 'rimWidth'> => ({
      fill: fillShare * archFill,
      rim: rimShare * cortex,
      rimWidth,
    });
    if (lateral) {
      // Neural arch, superior and inferior articular processes, spinous process.
      part(1.45 * a, -0.25 * b, { halfWidth: 0.5 * a, halfHeight: 0.32 * b, radius: 0.3 * b, ...bone(0.6, 0.7, 0.05 * b), texture });
      part(1.3 * a, -0.75 * b, { halfWidth: 0.17 * a, halfHeight: 0.28 * b, radius: 0.15 * b, ...bone(0.5, 0.6, 0.04 * b) });
      part(1.55 * a, 0.45 * b, { halfWidth: 0.17 * a, halfHeight: 0.3 * b, radius: 0.15 * b, ...bone(0.5, 0.6, 0.04 * b) });
      part(2.3 * a, 0.1 * b, { halfWidth: 0.65 * a, halfHeight: 0.22 * b, radius: 0.2 * b, ...bone(0.55, 0.6, 0.05 * b) }, 0.35);
    } else {
      for (const side of [-1, 1]) {
        // Pedicles seen end-on are cortical rings; transverse processes are longest at L3.
        part(side * 0.55 * a, -0.3 * b, { halfWidth: 0.17 * a, halfHeight: 0.34 * b, radius: 0.34 * b, ...bone(0.2, 1.2, 0.07 * b) });
        const reach = (k === 2 ? 0.55 : 0.42) * a;
        const tilt = side * uniform(-0.08, 0.08);
        part(side * (a + reach * 0.8), -0.2 * b, { halfWidth: reach, halfHeight: 0.15 * b, radius: 0.14 * b, ...bone(0.5, 0.5, 0.05 * b) }, tilt);
      }
      part(0, 0.4 * b, { halfWidth: 0.12 * a, halfHeight: 0.5 * b, radius: 0.12 * a, ...bone(0.35, 0.8, 0.05 * b) });
    }
  }

  // The sacrum's top below L5, steeply tilted on the lateral view.
  const l5 = vertebrae[4]!;
  const sacrumAngle = lateral ? l5.angle + uniform(0.35, 0.5) : l5.angle;
  shapes.push(
    shape({
      cx: l5.x + (lateral ? -0.1 : 0) * pitch,
      cy: l5.y + pitch * 1.05,
      angle: sacrumAngle,
      halfWidth: l5.halfWidth * (lateral ? 1.05 : 1.3),
      halfHeight: l5.halfHeight * 0.9,
      radius: 0.2 * l5.halfHeight,
      fill: 0.8 * bodyFill,
      rim: cortex,
      rimWidth: 0.06 * l5.halfHeight,
      texture,
    }),
  );

  const drawnSoft = uniform(0.26, 0.34);
  const soft = options.softTissue ?? drawnSoft;
  const air = 0.03;
  const tissue = new Float32Array(columns);
  if (lateral) {
    // Abdomen wall to the left, back skin to the right; either may fall outside the image.
    const anterior = columns * uniform(-0.15, 0.06);
    const posterior = columns * uniform(0.92, 1.15);
    const ramp = columns * 0.04;
    for (let x = 0; x < columns; x++) {
      const inside = smoothstep((x - anterior) / ramp) * smoothstep((posterior - x) / ramp);
      const hump = 1 + 0.08 * Math.sin((Math.PI * (x - anterior)) / (posterior - anterior));
      tissue[x] = air + (soft * hump - air) * inside;
    }
    // Iliac crests overlapping L4–L5.
    shapes.push(
      shape({
        cx: l5.x + l5.halfWidth,
        cy: l5.y + pitch * 1.1,
        angle: uniform(-0.2, 0.2),
        halfWidth: 1.6 * pitch,
        halfHeight: pitch,
        radius: pitch,
        fill: 0.035 * contrast,
        rim: 0.05 * contrast,
        rimWidth: 0.04 * pitch,
        edge: 0.02 * pitch,
      }),
    );
  } else {
    // Path length through an elliptical trunk.
    const centre = columns * uniform(0.47, 0.53);
    const halfTrunk = columns * uniform(0.55, 0.8);
    for (let x = 0; x < columns; x++) {
      const t = (x - centre) / halfTrunk;
      tissue[x] = air + (soft - air) * Math.sqrt(Math.max(0, 1 - t * t));
    }
    const l1 = vertebrae[0]!;
    for (const side of [-1, 1]) {
      // Psoas shadows widening downwards, then the iliac wings.
      shapes.push(
        shape({
          cx: (l1.x + l5.x) / 2 + side * 1.3 * l1.halfWidth,
          cy: (l1.y + l5.y) / 2,
          angle: -side * 0.2,
          halfWidth: 0.35 * pitch,
          halfHeight: 2.3 * pitch,
          radius: 0.35 * pitch,
          fill: 0.03,
          edge: 0.15 * pitch,
        }),
        shape({
          cx: l5.x + side * 2.6 * l5.halfWidth,
          cy: l5.y + 0.9 * pitch,
          angle: side * 0.3,
          halfWidth: 1.1 * pitch,
          halfHeight: 0.9 * pitch,
          radius: 0.9 * pitch,
          fill: 0.04 * contrast,
          rim: 0.06 * contrast,
          rimWidth: 0.04 * pitch,
          edge: 0.02 * pitch,
        }),
      );
    }
  }
  // Bowel gas over the abdomen.
  const gasCount = 2 + Math.floor(random() * 4);
  for (let i = 0; i < gasCount; i++) {
    const r = pitch * uniform(0.12, 0.35);
    shapes.push(
      shape({
        cx: lateral ? columns * uniform(0.02, 0.3) : columns * uniform(0.1, 0.9),
        cy: rows * uniform(0.15, 0.8),
        angle: uniform(0, Math.PI),
        halfWidth: r * uniform(1, 1.8),
        halfHeight: r,
        radius: r,
        fill: -uniform(0.03, 0.08),
        edge: 0.3 * r,
      }),
    );
  }
  return { shapes, vertebrae, tissue };
}

/** Columns [first, last] of row offset dy inside the shape's rotated bounding rectangle (empty if first > last). */
function rowSpan(s: Shape, dy: number, columns: number): [number, number] {
  let first = 0;
  let last = columns - 1;
  // The rectangle is the intersection of two slabs, |u| ≤ boundWidth and |v| ≤ boundHeight, each linear in x.
  const slabs: [number, number, number][] = [
    [s.cos, dy * s.sin, s.boundWidth],
    [-s.sin, dy * s.cos, s.boundHeight],
  ];
  for (const [slope, offset, bound] of slabs) {
    if (Math.abs(slope) < 1e-9) {
      if (Math.abs(offset) > bound) return [1, 0];
      continue;
    }
    const lo = (-bound - offset) / slope;
    const hi = (bound - offset) / slope;
    first = Math.max(first, Math.ceil(s.cx + Math.min(lo, hi)));
    last = Math.min(last, Math.floor(s.cx + Math.max(lo, hi)));
  }
  return [first, last];
}

/** Adds one shape's contribution to one image row. */
function addShapeRow(row: Float32Array, s: Shape, y: number, texture: Float32Array): void {
  const dy = y - s.cy;
  const [x0, x1] = rowSpan(s, dy, row.length);
  const { cos, sin, radius, edge, rim, rimWidth, fill, anteriorScale } = s;
  const a = s.halfWidth;
  const innerWidth = a - radius;
  const innerHeight = s.halfHeight - radius;
  const taper = (s.posteriorScale - anteriorScale) / (2 * a);
  const concavity = s.concavity;
  const textureAmplitude = s.texture * fill;
  const textureRow = (y & TEXTURE_MASK) << TEXTURE_SHIFT;
  let u = (x0 - s.cx) * cos + dy * sin;
  let v = dy * cos - (x0 - s.cx) * sin;
  for (let x = x0; x <= x1; x++, u += cos, v -= sin) {
    const clampedU = u < -a ? -a : u > a ? a : u;
    const relativeU = clampedU / a;
    const scaledV = v / (anteriorScale + (clampedU + a) * taper - concavity * (1 - relativeU * relativeU));
    // Signed distance to the rounded rectangle (negative inside).
    const qx = (u < 0 ? -u : u) - innerWidth;
    const qy = (scaledV < 0 ? -scaledV : scaledV) - innerHeight;
    const ox = qx > 0 ? qx : 0;
    const oy = qy > 0 ? qy : 0;
    const inner = qx > qy ? qx : qy;
    const d = Math.sqrt(ox * ox + oy * oy) + (inner < 0 ? inner : 0) - radius;
    const coverage = 0.5 - d / edge;
    if (coverage <= 0) continue;
    const depth = d < 0 ? -d : 0;
    const value = fill + textureAmplitude * texture[textureRow | (x & TEXTURE_MASK)]! + (depth < rimWidth ? rim * (1 - depth / rimWidth) : 0);
    row[x]! += (coverage < 1 ? coverage : 1) * value;
  }
}

function validate(options: LumbarPhantomOptions): void {
  const { rows, columns, bitsStored, boneDensity, noise, seed } = options;
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!Number.isInteger(rows) || rows < 16) throw new RangeError(`rows must be an integer ≥ 16, got ${rows}`);
  if (!Number.isInteger(columns) || columns < 16) throw new RangeError(`columns must be an integer ≥ 16, got ${columns}`);
  if (!Number.isInteger(bitsStored) || bitsStored < 8 || bitsStored > 16) {
    throw new RangeError(`bitsStored must be an integer from 8 to 16, got ${bitsStored}`);
  }
  if (!(boneDensity >= 0 && boneDensity <= 1)) throw new RangeError(`boneDensity must be in [0, 1], got ${boneDensity}`);
  if (noise !== undefined && !(noise >= 0 && noise <= 0.2)) throw new RangeError(`noise must be in [0, 0.2], got ${noise}`);
  const inRange = (name: string, value: number | undefined, lo: number, hi: number): void => {
    if (value !== undefined && !(value >= lo && value <= hi)) throw new RangeError(`${name} must be in [${lo}, ${hi}], got ${value}`);
  };
  inRange('cortexDensity', options.cortexDensity, 0, 1);
  inRange('boneContrast', options.boneContrast, 0.25, 4);
  inRange('softTissue', options.softTissue, 0.1, 0.5);
  inRange('exposure', options.exposure, 0.3, 1);
  inRange('striation', options.striation, 0, 1);
  inRange('field', options.field, 0, 0.4);
  const isLevel = (level: string): boolean => (LUMBAR_LEVELS as readonly string[]).includes(level);
  for (const [level, loss] of Object.entries(options.heightLoss ?? {})) {
    if (!isLevel(level)) throw new RangeError(`heightLoss has an unknown level ${level}`);
    inRange(`heightLoss.${level}`, loss, 0, 0.8);
  }
  for (const [level, deformity] of Object.entries(options.deformities ?? {})) {
    if (!isLevel(level)) throw new RangeError(`deformities has an unknown level ${level}`);
    for (const wall of ['anterior', 'middle', 'posterior'] as const) inRange(`deformities.${level}.${wall}`, deformity[wall], 0, 0.8);
  }
}

/**
 * Renders a phantom lumbar spine radiograph (lateral or AP) for tests and the demonstration model's
 * synthetic cohort; not anatomy. Deterministic: the same options give the same pixels.
 */
export function generateLumbarPhantom(options: LumbarPhantomOptions): LumbarPhantom {
  validate(options);
  const { rows, columns, bitsStored } = options;
  const photometric = options.photometric ?? 'MONOCHROME2';
  const random = mulberry32(options.seed);
  // Geometry is drawn first, from nothing but the seed, view and size, so density, height loss, bit depth
  // and photometric change the pixels of the same patient, not the patient.
  const { shapes, vertebrae, tissue } = drawAnatomy(options, random);
  const texture = trabecularTexture(random, options.striation ?? 0);
  const gauss = gaussianTable(random);
  const gradientX = (random() - 0.5) * 0.24;
  const gradientY = (random() - 0.5) * 0.24;
  let state = (Math.floor(random() * 0xffffffff) | 1) >>> 0;

  const maximum = 2 ** bitsStored - 1;
  const data = bitsStored === 8 ? new Uint8Array(rows * columns) : new Uint16Array(rows * columns);
  const gainX = new Float32Array(columns);
  const signal = (options.exposure ?? 1) * maximum;
  for (let x = 0; x < columns; x++) gainX[x] = (1 + gradientX * (x / columns - 0.5)) * signal;
  const noise = (options.noise ?? 0.006) * maximum;
  const invert = photometric === 'MONOCHROME1';
  const row = new Float32Array(columns);
  const field = options.field ? smoothField(options.seed, rows, columns, options.field) : null;
  for (let y = 0; y < rows; y++) {
    row.set(tissue);
    for (const s of shapes) if (y >= s.top && y <= s.bottom) addShapeRow(row, s, y, texture);
    if (field) {
      for (let k = 0; k < FIELD_BLOBS; k++) {
        const gx = field.gx[k]!;
        const weight = field.gy[k]![y]!;
        for (let x = 0; x < columns; x++) row[x]! += weight * gx[x]!;
      }
    }
    const gainY = 1 + gradientY * (y / rows - 0.5);
    const offset = y * columns;
    for (let x = 0; x < columns; x++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      // Rounds by truncation after +0.5: Math.round costs a third of the whole loop; negatives clamp to 0 anyway.
      const value = (row[x]! * gainX[x]! * gainY + noise * gauss[state & GAUSS_MASK]! + 0.5) | 0;
      const clamped = value < 0 ? 0 : value > maximum ? maximum : value;
      data[offset + x] = invert ? maximum - clamped : clamped;
    }
  }
  return { data, rows, columns, bitsStored, photometric, vertebrae };
}
