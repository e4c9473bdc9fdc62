// Fuzzes the DICOM decode path as the service runs it: decodeInWorker on a pool of two worker threads,
// with the configured caps. Seeds are synthetic phantoms (native and every compressed syntax the
// service reads, plus 12-bit JPEG Extended, which it refuses) and the real samples in
// tests/fixtures/dicom. Each variant is one seed with 1–3 mutations (listed in
// tests/helpers/dicom-mutations.ts), drawn from a seeded PRNG so that a run is reproducible
// (DECODER_FUZZ_SEED picks another sequence). Every variant must end as a finite tensor with a
// preprocessing record whose every number is finite, or an ImagingError with a decoder reason code the
// decoder chose: never another exception (nor one the decoder only wrapped as 'decode-failed'), a
// timeout (a hang) or a crashed worker; and the process's memory must stay bounded. Inputs that break this are saved under
// $TMPDIR/decoder-fuzz/ and named in the failure message.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImagingLimits } from '../../src/config.js';
import { decodeDicom } from '../../src/imaging/dicom-decode.js';
import { decodeInWorker } from '../../src/imaging/decode-in-worker.js';
import { ImagingError, toFailure, type ImagingErrorCode } from '../../src/imaging/errors.js';
import type { PreprocessedImage, PreprocessingSpec } from '../../src/imaging/preprocessing.js';
import { createWorkerPool, type WorkerPool } from '../../src/workers/pool.js';
import { compressPart10, lumbarFixtures, type CompressedSyntax, type FixtureName } from '../helpers/dicom-fixtures.js';
import { Rng, UNDEFINED, concat, element, mapFile, mutate, text, type FileMap } from '../helpers/dicom-mutations.js';

const FUZZ_SEED = Number(process.env.DECODER_FUZZ_SEED ?? 0x5eed);
const MIN_VARIANTS = 2000;
const LIMITS: ImagingLimits = { maxBytes: 8 * 2 ** 20, maxPixels: 20e6, maxFrames: 1, decodeTimeoutMs: 2000 };
const SPEC: PreprocessingSpec = {
  height: 64,
  width: 48,
  voi: { mode: 'window-else-percentile', lowPercentile: 1, highPercentile: 99 },
  borderCrop: 0.02,
  padValue: 0,
  normalisation: { mean: 0.5, std: 0.25 },
};
const CONCURRENCY = 3;
const BATCH = 100;
// Memory, as the process's RSS (it covers the worker threads), sampled after every batch of 100. The
// warm-up decodes every seed twice (the 1760² and 1955 × 1841 frames included), so the codecs' heaps
// have grown to the big frames before the baseline. Bounds:
// - growth over the baseline under 600 MB: a codestream with mutated coding parameters can make
//   OpenJPEG's heap take ~350 MB more for one 1760² frame (seen with other PRNG seeds); it is freed
//   only when the instance is discarded after a failure (a dcmjs-codecs instance is capped at 2 GB).
//   600 MB allows one such spike plus GC slack, and fails on a runaway allocation or a steady leak.
// - no steady growth: the last quarter's median under 64 MB above the second quarter's. Medians, not
//   peaks, because such spikes are transient; a leak raises every later sample (64 MB over ~1,000
//   variants is ~64 kB per variant, or one decoded big frame per ten big decodes).
const RSS_GROWTH_LIMIT = 600 * 2 ** 20;
const RSS_DRIFT_LIMIT = 64 * 2 ** 20;

/** Every documented code, spelled out so that a new code is a compile error here until classified. */
const CODE_IS_DECODER_OUTCOME: Record<ImagingErrorCode, boolean> = {
  'fhir-error': false,
  'no-eligible-study': false,
  'study-too-old': false,
  'no-dicomweb-endpoint': false,
  'endpoint-not-allowed': false,
  'no-suitable-instance': false,
  'wrong-view': false,
  // The fuzz decodes without an expected patient, so the identity check never runs.
  'patient-mismatch': false,
  'pacs-timeout': false,
  'pacs-unreachable': false,
  'pacs-not-found': false,
  'pacs-auth-failed': false,
  'pacs-error': false,
  'pacs-invalid-response': false,
  'too-large': true,
  'too-many-pixels': true,
  // A hang to fix, a crashed worker, or a harness misconfiguration: never an acceptable outcome here.
  'decode-timeout': false,
  busy: false,
  'worker-failed': false,
  'not-dicom': true,
  truncated: true,
  malformed: true,
  'missing-pixel-data': true,
  'pixel-data-length-mismatch': true,
  'unsupported-transfer-syntax': true,
  'unsupported-photometric': true,
  'unsupported-pixel-format': true,
  'multi-frame': true,
  'decode-failed': true,
};

interface Seed {
  name: string;
  bytes: Uint8Array;
  map: FileMap;
  /** How many mutated variants to draw from it. */
  variants: number;
  /** What the unmutated seed must give: 'ok' or a reason code. */
  expect: 'ok' | ImagingErrorCode;
}

interface Variant {
  index: number;
  seed: Seed;
  mutations: string[];
  bytes: Uint8Array;
}

interface Failure {
  variant: Variant;
  problem: string;
  savedTo: string;
  /** For a timeout: what the input does when run alone. */
  alone?: string;
}

function* variants(seeds: readonly Seed[], rng: Rng): Generator<Variant> {
  // Seeds interleaved in a shuffled order, so every quarter of the run sees a similar mix.
  const schedule = seeds.flatMap((seed) => Array<Seed>(seed.variants).fill(seed));
  for (let i = schedule.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [schedule[i], schedule[j]] = [schedule[j]!, schedule[i]!];
  }
  for (const [index, seed] of schedule.entries()) yield { index, seed, ...mutate(seed.bytes, seed.map, rng) };
}

// ---- seeds ----

const FIXTURES = join(import.meta.dirname, '../fixtures/dicom');

/** A raw dataset (no preamble, implicit VR little endian) wrapped in a Part 10 preamble and file meta group. */
function wrapImplicitDataset(dataset: Uint8Array): Uint8Array {
  const meta = concat([
    element(0x0002, 0x0001, 'OB', new Uint8Array([0, 1])),
    element(0x0002, 0x0002, 'UI', text('1.2.840.10008.5.1.4.1.1.1')),
    element(0x0002, 0x0003, 'UI', text('1.2.392.200036.9125.0.19950720112207')),
    element(0x0002, 0x0010, 'UI', text('1.2.840.10008.1.2')),
  ]);
  const groupLength = element(0x0002, 0x0000, 'UL', new Uint8Array(new Uint32Array([meta.length]).buffer));
  return concat([new Uint8Array(128), text('DICM'), groupLength, meta, dataset]);
}

/** The file up to its first fragment, then that fragment cut to `keep` bytes (plus `tail`) and the sequence closed. */
function shortenEncapsulated(bytes: Uint8Array, keep: number, tail: readonly number[] = []): Uint8Array {
  const { items, codestream } = mapFile(bytes);
  assert.ok(codestream && items.length >= 2, 'not encapsulated');
  const item = new Uint8Array(8);
  new DataView(item.buffer).setUint32(0, 0xe000fffe, true);
  new DataView(item.buffer).setUint32(4, keep + tail.length, true);
  const delimiter = Uint8Array.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return concat([bytes.subarray(0, items[1]), item, bytes.subarray(codestream.offset, codestream.offset + keep), Uint8Array.from(tail), delimiter]);
}

async function buildSeeds(): Promise<Seed[]> {
  const fixtures = lumbarFixtures({ rows: 96, columns: 80, seed: 11 });
  const seed = (name: string, bytes: Uint8Array, count: number, expect: Seed['expect'] = 'ok'): Seed => ({ name, bytes, map: mapFile(bytes), variants: count, expect });
  const native: FixtureName[] = ['lateral', 'crMonochrome1Rescale', 'crZeroSpacing', 'signed16', 'eightBit'];
  const compressed: [FixtureName, CompressedSyntax][] = [
    ['lateral', 'rle'],
    ['signed16', 'rle'],
    ['eightBit', 'jpegBaseline'],
    ['lateral', 'jpegLosslessSv1'],
    ['lateral', 'jpegLsLossless'],
    ['lateral', 'jpegLsNearLossless'],
    ['lateral', 'jpeg2000Lossless'],
    ['lateral', 'jpeg2000'],
    ['lateral', 'jpegExtended12'],
  ];
  const synthetic = [
    ...native.map((name) => seed(`${name} native`, fixtures[name].part10, 250)),
    ...(await Promise.all(
      compressed.map(async ([name, syntax]) => seed(`${name} ${syntax}`, (await compressPart10(fixtures[name].part10, syntax)).part10, 250, syntax === 'jpegExtended12' ? 'unsupported-transfer-syntax' : 'ok')),
    )),
  ];
  const real = (file: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, file)));
  const chest = real('CR-MONO1-10-chest');
  // Full decodes of the big samples cost 50–300 ms each: a few mutations of the whole file, and
  // more of the header with the pixel data cut to one 4 kB fragment (a cut-short frame, which the
  // decoder must refuse: OpenJPEG reports it, and a JPEG frame lacks its EOI marker).
  const big = ['RG3_J2KR.dcm', 'RG3_J2KI.dcm', 'RG1_J2KI.dcm', 'CR-ModalitySequenceLUT.dcm'];
  return [
    ...synthetic,
    seed('pydicom_CR1_6154', real('pydicom_CR1_6154.dcm'), 300),
    seed('CR-MONO1-10-chest raw', chest, 20, 'not-dicom'),
    seed('CR-MONO1-10-chest in Part 10', wrapImplicitDataset(chest), 200),
    ...big.map((file) => seed(`${file} header, 4 kB fragment`, shortenEncapsulated(real(file), 4096), 60, 'decode-failed')),
    ...big.map((file) => seed(file, real(file), 8)),
  ];
}

// ---- running ----

type Outcome = ({ ok: true } & PreprocessedImage) | { ok: false; error: unknown };

async function attempt(pool: WorkerPool, bytes: Uint8Array, limits: ImagingLimits = LIMITS): Promise<Outcome> {
  try {
    // decodeInWorker transfers the buffer it is given: hand it a copy and keep the variant.
    return { ok: true, ...(await decodeInWorker(pool, bytes.slice(), limits, SPEC)) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Runs `task` over `items`, CONCURRENCY at a time (the pool's queue stays short: no 'busy'). */
async function eachConcurrently<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  let cursor = 0;
  const runner = async (): Promise<void> => {
    while (cursor < items.length) await task(items[cursor++]!);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, runner));
}

/** Paths of numbers (typed-array elements included) in a decode result that are not finite. */
function nonFinitePaths(value: unknown, path: string): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${path} = ${value}`];
  if (value instanceof Float32Array || value instanceof Float64Array) {
    const bad = value.findIndex((v) => !Number.isFinite(v));
    return bad >= 0 ? [`${path}[${bad}] = ${value[bad]}`] : [];
  }
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => nonFinitePaths(inner, `${path}.${key}`));
}

// What toFailure makes of an exception that is not an ImagingError: the decoder met a case it does not
// classify (a library's own error, a TypeError), which the contract counts as a defect, not a reason.
const UNTYPED_PREFIX = toFailure(new Error('')).message;

/** Why an outcome breaks the contract, or undefined when it keeps it. */
function violation(outcome: Outcome): string | undefined {
  if (outcome.ok) {
    if (outcome.tensor.length !== SPEC.height * SPEC.width) return `tensor of ${outcome.tensor.length} values`;
    const nonFinite = [...nonFinitePaths(outcome.tensor, 'tensor'), ...nonFinitePaths(outcome.record, 'record')];
    return nonFinite.length > 0 ? `non-finite: ${nonFinite.slice(0, 3).join(', ')}` : undefined;
  }
  const { error } = outcome;
  if (!(error instanceof ImagingError)) return `not an ImagingError: ${String(error)}`;
  if (!Object.hasOwn(CODE_IS_DECODER_OUTCOME, error.code)) return `undocumented code ${error.code}`;
  if (error.message.startsWith(UNTYPED_PREFIX)) return `untyped exception in the decoder: ${error.message}`;
  return CODE_IS_DECODER_OUTCOME[error.code] ? undefined : `${error.code}: ${error.message}`;
}

const label = (outcome: Outcome): string => (outcome.ok ? 'ok' : outcome.error instanceof ImagingError ? outcome.error.code : 'other');
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;

describe('decoder fuzz (integration)', () => {
  let pool: WorkerPool;
  let seeds: Seed[];

  before(async () => {
    pool = createWorkerPool({ threads: 2, maxQueue: 4 * CONCURRENCY });
    seeds = await buildSeeds();
  });

  after(async () => {
    await pool.close();
  });

  it(`${MIN_VARIANTS}+ mutated files: a finite tensor or a decoder reason code, within the time cap and bounded memory`, async (t) => {
    const started = performance.now();
    // Warm-up (generous cap: the threads start tsx and the codecs): every seed decodes as expected,
    // twice, so both threads have met the big frames before the memory baseline.
    for (let round = 0; round < 2; round++) {
      await eachConcurrently(seeds, async (seed) => {
        const outcome = await attempt(pool, seed.bytes, { ...LIMITS, decodeTimeoutMs: 60_000 });
        assert.equal(label(outcome), seed.expect, `${seed.name}: ${outcome.ok ? 'ok' : String(outcome.error)}`);
      });
    }
    const baseline = process.memoryUsage().rss;

    const counts = new Map<string, number>();
    const failures: Failure[] = [];
    const rss: number[] = [];
    let total = 0;
    let slowest = { ms: 0, name: '' };
    const failureDir = join(tmpdir(), 'decoder-fuzz');
    const source = variants(seeds, new Rng(FUZZ_SEED));
    for (;;) {
      const batch: Variant[] = [];
      for (let next = source.next(); !next.done; next = source.next()) {
        batch.push(next.value);
        if (batch.length === BATCH) break;
      }
      if (batch.length === 0) break;
      await eachConcurrently(batch, async (variant) => {
        const begun = performance.now();
        const outcome = await attempt(pool, variant.bytes);
        const ms = performance.now() - begun;
        if (ms > slowest.ms) slowest = { ms, name: `${variant.seed.name} [${variant.mutations.join(', ')}]` };
        counts.set(label(outcome), (counts.get(label(outcome)) ?? 0) + 1);
        const problem = violation(outcome);
        if (problem !== undefined) {
          mkdirSync(failureDir, { recursive: true });
          const savedTo = join(failureDir, `${FUZZ_SEED}-${variant.index}.dcm`);
          writeFileSync(savedTo, variant.bytes);
          failures.push({ variant, problem, savedTo });
        }
      });
      total += batch.length;
      rss.push(process.memoryUsage().rss);
    }
    const seconds = (performance.now() - started) / 1000;
    // A hang also times out the tasks queued behind it and the next one on the restarted thread: run
    // the first few timed-out inputs again alone (with a longer cap) to tell the hang from its neighbours.
    for (const failure of failures.filter((f) => f.problem.startsWith('decode-timeout')).slice(0, 3)) {
      const begun = performance.now();
      const again = await attempt(pool, failure.variant.bytes, { ...LIMITS, decodeTimeoutMs: 10_000 });
      failure.alone = `alone: ${label(again)} after ${(performance.now() - begun).toFixed(0)} ms`;
    }

    const quarter = Math.floor(rss.length / 4);
    const median = (samples: number[]): number => samples.sort((a, b) => a - b)[samples.length >> 1]!;
    const maxGrowth = Math.max(...rss) - baseline;
    const secondQuarter = median(rss.slice(quarter, 2 * quarter));
    const lastQuarter = median(rss.slice(rss.length - quarter));
    const outcomes = [...counts].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(', ');
    const summary =
      `decoder fuzz (seed ${FUZZ_SEED}): ${total} variants of ${seeds.length} seeds in ${seconds.toFixed(1)} s; ${outcomes}; ` +
      `broke the contract ${failures.length}; slowest ${slowest.ms.toFixed(0)} ms (${slowest.name}); ` +
      `rss baseline ${mib(baseline)}, max growth ${mib(maxGrowth)} (limit ${mib(RSS_GROWTH_LIMIT)}), median Q2 ${mib(secondQuarter)} / Q4 ${mib(lastQuarter)}`;
    t.diagnostic(summary);

    assert.ok(total >= MIN_VARIANTS, `only ${total} variants`);
    const described = failures.map(({ variant, problem, savedTo, alone }) => `#${variant.index} ${variant.seed.name} [${variant.mutations.join(', ')}] → ${problem}${alone ? ` (${alone})` : ''}; saved to ${savedTo}`);
    assert.equal(failures.length, 0, `${failures.length} variants broke the contract:\n${described.slice(0, 20).join('\n')}`);
    assert.ok(maxGrowth < RSS_GROWTH_LIMIT, `rss grew by ${mib(maxGrowth)}`);
    assert.ok(lastQuarter - secondQuarter < RSS_DRIFT_LIMIT, `rss keeps growing: median ${mib(secondQuarter)} in the second quarter, ${mib(lastQuarter)} in the last`);
  });
});

// ---- known hostile inputs ----

describe('decoder: known hostile inputs', () => {
  const fixtures = lumbarFixtures({ rows: 96, columns: 80, seed: 12 });
  const eightBit = fixtures.eightBit.part10;
  const map = mapFile(eightBit);
  const pixelData = map.pixelData!;
  const decodeLimits = { maxBytes: LIMITS.maxBytes, maxPixels: LIMITS.maxPixels, maxFrames: LIMITS.maxFrames };

  async function rejectsQuickly(bytes: Uint8Array, codes: readonly ImagingErrorCode[], withinMs: number): Promise<void> {
    const externalBefore = process.memoryUsage().arrayBuffers;
    const begun = performance.now();
    await assert.rejects(decodeDicom(bytes, decodeLimits), (error: unknown) => {
      assert.ok(error instanceof ImagingError, `expected ImagingError, got ${String(error)}`);
      assert.ok(codes.includes(error.code), `${error.code}: ${error.message}`);
      return true;
    });
    const ms = performance.now() - begun;
    assert.ok(ms < withinMs, `took ${ms.toFixed(0)} ms`);
    // Nothing near the declared sizes was allocated (ArrayBuffers held by the process, 64 MB slack).
    assert.ok(process.memoryUsage().arrayBuffers - externalBefore < 64 * 2 ** 20, 'allocated a large buffer');
  }

  it('PixelData declaring 0xFFFFFFF0 bytes: truncated, without allocating', async () => {
    const bytes = eightBit.slice();
    new DataView(bytes.buffer).setUint32(pixelData + 8, 0xfffffff0, true);
    await rejectsQuickly(bytes, ['truncated'], 1000);
  });

  it('an undefined-length sequence nested 100 levels deep: malformed', async () => {
    const open = concat([element(0x0008, 0x0006, 'SQ', new Uint8Array(0)), Uint8Array.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff])]);
    new DataView(open.buffer).setUint32(8, UNDEFINED, true);
    const close = Uint8Array.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const datasetStart = map.headers.find((h) => h.tag >>> 16 !== 0x0002)!.offset;
    const bytes = concat([eightBit.subarray(0, datasetStart), ...Array<Uint8Array>(100).fill(open), ...Array<Uint8Array>(100).fill(close), eightBit.subarray(datasetStart)]);
    await rejectsQuickly(bytes, ['malformed'], 1000);
  });

  it('encapsulated PixelData with 100,000 empty fragments: decode-failed, quickly', async () => {
    const rle = (await compressPart10(fixtures.lateral.part10, 'rle')).part10;
    const { items } = mapFile(rle);
    const empty = Uint8Array.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0]);
    const delimiter = Uint8Array.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const bytes = concat([rle.subarray(0, items[0]), empty, ...Array<Uint8Array>(100_000).fill(empty), delimiter]);
    // Joined, the fragments are an empty RLE frame: no header, so no segments.
    await rejectsQuickly(bytes, ['decode-failed'], 2000);
  });

  it('a JPEG-LS frame cut short, without an EOI marker: decode-failed at once (CharLS spun 5–13 s on it)', async () => {
    const jpegLs = (await compressPart10(fixtures.lateral.part10, 'jpegLsLossless')).part10;
    await rejectsQuickly(shortenEncapsulated(jpegLs, 512), ['decode-failed'], 1000);
  });

  it('Rows × Columns = 65535 × 65535 with 7,680 bytes of pixel data: too-many-pixels', async () => {
    const bytes = eightBit.slice();
    const view = new DataView(bytes.buffer);
    for (const tag of [0x00280010, 0x00280011]) view.setUint16(map.headers.find((h) => h.tag === tag)!.valueOffset, 65535, true);
    await rejectsQuickly(bytes, ['too-many-pixels'], 1000);
  });
});

// Found by this fuzzer: a failed decode used to leave the codec's WebAssembly instance broken, so
// after 12 rejected JPEG 2000 frames (or one trap) every RLE, JPEG and JPEG 2000 frame failed in that
// thread, and after 274 rejected JPEG-LS frames every JPEG-LS one did (src/imaging/codecs.ts).
describe('codecs after rejected frames', () => {
  it('stay usable after runs of rejected JPEG 2000 and JPEG-LS frames', async () => {
    const fixtures = lumbarFixtures({ rows: 96, columns: 80, seed: 13 });
    const compress = async (name: FixtureName, syntax: CompressedSyntax): Promise<Uint8Array> => (await compressPart10(fixtures[name].part10, syntax)).part10;
    const valid = {
      rle: await compress('lateral', 'rle'),
      jpegBaseline: await compress('eightBit', 'jpegBaseline'),
      jpeg2000Lossless: await compress('lateral', 'jpeg2000Lossless'),
      jpegLsLossless: await compress('lateral', 'jpegLsLossless'),
    };
    const decodeLimits = { maxBytes: LIMITS.maxBytes, maxPixels: LIMITS.maxPixels, maxFrames: LIMITS.maxFrames };
    for (const [bytes, times] of [
      [shortenEncapsulated(valid.jpeg2000Lossless, 512), 20],
      // With an EOI marker, so that CharLS itself rejects the frame.
      [shortenEncapsulated(valid.jpegLsLossless, 512, [0xff, 0xd9]), 300],
    ] as const) {
      for (let n = 0; n < times; n++) {
        await assert.rejects(decodeDicom(bytes.slice(), decodeLimits), (error: unknown) => error instanceof ImagingError && error.code === 'decode-failed');
      }
    }
    for (const [syntax, bytes] of Object.entries(valid)) {
      const image = await decodeDicom(bytes.slice(), decodeLimits).catch((error: unknown) => assert.fail(`${syntax}: ${String(error)}`));
      assert.equal(image.pixels.length, 96 * 80, syntax);
    }
  });
});
