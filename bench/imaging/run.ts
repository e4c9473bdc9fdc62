// Imaging benchmark: a 2,500 × 3,000, 16-bit phantom lumbar DX through parse + decode + preprocess
// to a 512 × 384 tensor, per transfer syntax (in this thread, and through the worker pool), its
// peak memory (in a child process), and the full QIDO + WADO + decode + preprocess path against a
// local Orthanc. Prints medians and the targets from issue 3. Usage: npm run bench:imaging [-- --runs N]
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { decodeDicom } from '../../src/imaging/dicom-decode.js';
import { decodeInWorker } from '../../src/imaging/decode-in-worker.js';
import { preprocess } from '../../src/imaging/preprocessing.js';
import { writeRadiograph } from '../../src/synthetic/dicom-file.js';
import { generateLumbarPhantom } from '../../src/synthetic/lumbar-phantom.js';
import { createWorkerPool } from '../../src/workers/pool.js';
import { compressPart10, type CompressedSyntax } from '../../tests/helpers/dicom-fixtures.js';
import { BENCH_LIMITS, BENCH_SPEC, COLUMNS, ROWS } from './common.js';
import { fullPath } from './full-path.js';

const run = promisify(execFile);
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Math.max(3, Number(args.runs));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

async function timed(repeats: number, work: () => Promise<unknown>): Promise<number[]> {
  await work();
  await work();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return times;
}

function radiograph(rows: number, columns: number): Uint8Array {
  const phantom = generateLumbarPhantom({ seed: 7, view: 'lateral', rows, columns, bitsStored: 16, boneDensity: 0.6 });
  return writeRadiograph(phantom, { Modality: 'DX', BodyPartExamined: 'LSPINE', ViewPosition: 'LL', PatientID: 'BENCH-1', PixelSpacing: [0.139, 0.139], StudyDate: '20260101' });
}

const variants: { label: string; syntax: CompressedSyntax | null; target?: number }[] = [
  { label: 'uncompressed (explicit LE)', syntax: null, target: 60 },
  { label: 'JPEG-LS lossless', syntax: 'jpegLsLossless', target: 250 },
  { label: 'JPEG 2000 lossless', syntax: 'jpeg2000Lossless' },
  { label: 'JPEG 2000 lossy (10:1)', syntax: 'jpeg2000' },
];

console.log(`imaging benchmark: ${COLUMNS} × ${ROWS} 16-bit lateral lumbar phantom (DX) → ${BENCH_SPEC.height} × ${BENCH_SPEC.width} tensor`);
console.log(`machine: ${cpus().length} cores, Node ${process.versions.node}; ${runs} timed runs after 2 warm-ups; medians\n`);

const directory = await mkdtemp(join(tmpdir(), 'bench-imaging-'));
const pool = createWorkerPool({ threads: 2, maxQueue: 8 });
try {
  const original = radiograph(ROWS, COLUMNS);
  const small = radiograph(300, 250);
  const decodedBytes = ROWS * COLUMNS * 2;
  const rows: string[][] = [];
  for (const variant of variants) {
    const file = variant.syntax ? (await compressPart10(original, variant.syntax)).part10 : original;
    const warmUp = variant.syntax ? (await compressPart10(small, variant.syntax)).part10 : small;
    const inThread = await timed(variant.syntax?.startsWith('jpeg2000') ? Math.min(runs, 7) : runs, async () => preprocess(await decodeDicom(file, BENCH_LIMITS), BENCH_SPEC));
    const viaPool = await timed(variant.syntax?.startsWith('jpeg2000') ? Math.min(runs, 7) : runs, () => decodeInWorker(pool, file.slice(), { ...BENCH_LIMITS, decodeTimeoutMs: 60_000 }, BENCH_SPEC));
    const filePath = join(directory, `${variant.syntax ?? 'native'}.dcm`);
    const warmPath = join(directory, `${variant.syntax ?? 'native'}-small.dcm`);
    await writeFile(filePath, file);
    await writeFile(warmPath, warmUp);
    const probe = await run(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'memory-probe.ts'), filePath, warmPath]);
    const memory = JSON.parse(probe.stdout) as { first: number; steady: number };
    const peakRatio = memory.steady / decodedBytes;
    const target = variant.target;
    rows.push([
      variant.label,
      `${(file.byteLength / 1e6).toFixed(1)} MB`,
      ms(median(inThread)),
      ms(median(viaPool)),
      `${(memory.steady / 1e6).toFixed(0)} MB (${peakRatio.toFixed(2)}×); first image ${(memory.first / 1e6).toFixed(0)} MB (${(memory.first / decodedBytes).toFixed(2)}×)`,
      target === undefined ? '—' : `≤ ${target} ms: ${median(inThread) <= target ? 'met' : 'MISSED'}; memory ≤ 6×: ${peakRatio <= 6 ? 'met' : 'MISSED'}`,
    ]);
  }
  const header = ['transfer syntax', 'file', 'parse+decode+preprocess', 'via worker pool', 'peak memory per image (× decoded 15 MB)', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const line of [header, widths.map((w) => '-'.repeat(w)), ...rows]) console.log(line.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));

  // The HTTP thread's view: how long its event loop is blocked while images decode.
  const jpegLs = (await compressPart10(original, 'jpegLsLossless')).part10;
  const stall = async (work: () => Promise<unknown>): Promise<number> => {
    let last = performance.now();
    let longest = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 1);
    for (let i = 0; i < 5; i++) {
      await work();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    clearInterval(ticker);
    return longest;
  };
  const blockedInThread = await stall(async () => preprocess(await decodeDicom(jpegLs, BENCH_LIMITS), BENCH_SPEC));
  const blockedWithPool = await stall(() => decodeInWorker(pool, jpegLs.slice(), { ...BENCH_LIMITS, decodeTimeoutMs: 60_000 }, BENCH_SPEC));
  console.log(`\nevent-loop blocking while decoding the JPEG-LS file 5 times: longest gap between 1 ms timer ticks ${ms(blockedInThread)} decoding in this thread, ${ms(blockedWithPool)} with the worker pool`);

  const full = await fullPath(pool, original, runs);
  console.log(`\nfull path from a local Orthanc (QIDO + WADO-RS metadata + WADO-RS retrieve + decode + preprocess in a worker), uncompressed:`);
  console.log(`  median ${ms(median(full.total))} (QIDO ${ms(median(full.qido))}, metadata ${ms(median(full.metadata))}, retrieve ${ms(median(full.retrieve))}, decode+preprocess ${ms(median(full.decode))}); target ≤ 150 ms: ${median(full.total) <= 150 ? 'met' : 'MISSED'}`);
} finally {
  await pool.close();
  await rm(directory, { recursive: true, force: true });
}
