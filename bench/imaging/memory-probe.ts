// Child process of bench/imaging/run.ts: decodes and preprocesses one file once and reports the
// peak resident memory it took above the process's settled baseline. Run alone so nothing else
// moves the peak. Usage: node --expose-gc --import tsx bench/imaging/memory-probe.ts <file> <warm-up file>
import { readFileSync } from 'node:fs';
import { decodeDicom } from '../../src/imaging/dicom-decode.js';
import { preprocess } from '../../src/imaging/preprocessing.js';
import { BENCH_LIMITS, BENCH_SPEC } from './common.js';

const [file, warmUp] = process.argv.slice(2);
if (!file || !warmUp) throw new Error('usage: memory-probe.ts <file> <warm-up file>');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

// Load the modules and the codecs on a small file of the same syntax, then settle.
preprocess(await decodeDicom(new Uint8Array(readFileSync(warmUp)), BENCH_LIMITS), BENCH_SPEC);
gc();
await new Promise((resolve) => setTimeout(resolve, 50));
const before = process.memoryUsage().rss;
const peakBefore = process.resourceUsage().maxRSS * 1024;
const bytes = new Uint8Array(readFileSync(file));
const { tensor } = preprocess(await decodeDicom(bytes, BENCH_LIMITS), BENCH_SPEC);
const peak = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ before, peakBefore, peak, tensorLength: tensor.length, fileBytes: bytes.byteLength }) + '\n');
