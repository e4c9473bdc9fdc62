// Child process of bench/imaging/run.ts: the peak resident memory one image takes, above the
// process's settled level, with the file read here and decoded + preprocessed in a worker thread
// (as served) while this thread samples RSS every millisecond. Reported for the first large image
// (which also grows the codec's WebAssembly heap, a growth the worker keeps) and the largest of the
// next three (the steady state of a long-running worker). Run alone so nothing else moves RSS.
// Usage: node --expose-gc --import tsx bench/imaging/memory-probe.ts <file> <warm-up file>
import { readFileSync } from 'node:fs';
import { decodeInWorker } from '../../src/imaging/decode-in-worker.js';
import { createWorkerPool } from '../../src/workers/pool.js';
import { BENCH_LIMITS, BENCH_SPEC } from './common.js';

const [file, warmUp] = process.argv.slice(2);
if (!file || !warmUp) throw new Error('usage: memory-probe.ts <file> <warm-up file>');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const pool = createWorkerPool({ threads: 1, maxQueue: 1 });
const limits = { ...BENCH_LIMITS, decodeTimeoutMs: 120_000 };

async function settle(): Promise<number> {
  gc!();
  await new Promise((resolve) => setTimeout(resolve, 200));
  return process.memoryUsage.rss();
}

async function oneImage(path: string): Promise<number> {
  const before = await settle();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 1);
  // A Buffer of this size owns its memory, as a downloaded body does; it is transferred, not copied.
  const bytes = readFileSync(path);
  await decodeInWorker(pool, bytes, limits, BENCH_SPEC);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return peak - before;
}

try {
  await oneImage(warmUp);
  const first = await oneImage(file);
  const next = [await oneImage(file), await oneImage(file), await oneImage(file)];
  process.stdout.write(JSON.stringify({ first, steady: Math.max(...next) }) + '\n');
} finally {
  await pool.close();
}
