// Soak (issue 13): the real service under a steady mixed load for --minutes, sampled every minute.
//   warm      patient-view hooks, a patient's body as last answered (assessment from the cache)
//   cold      patient-view hooks, the next patient in turn with its weight nudged: a new assessment,
//             and with a tensor cache of 4 the radiograph is downloaded from Orthanc and decoded again
//   feedback  CDS Hooks feedback on recent cards, alternately accepted and overridden
//   api       the SMART app's GET /api/patients/<id>/assessment, with an access token for the patient
// Each minute: the service child's RSS, heap (raw and after a forced full GC), event-loop delay and
// active handles, and per request type the calls completed, errors and latency p50/p99.
// Usage: tsx bench/soak/run.ts [--minutes 30] [--warmup-minutes 3] [--warm-rps 10] [--cold-every-s 5]
//          [--feedback-rps 2] [--api-rps 2] [--patients 40] [--tensor-cache 4] [--max-in-flight 64]
//          [--seed 11] [--out <file.json>] [--keep]
// Exit code: 0 when the run was valid (even if a target is MISSED), 1 when the generator itself failed
// (the service died, priming failed, tokens ran out), 130 when interrupted.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { MemoryReport } from '../hook-latency/common.js';
import { CLIENT_ISS, HOOK_PATH } from '../hook-latency/common.js';
import { choosePatients, IMAGE } from '../hook-latency/patients.js';
import { makeKey } from '../shared/tokens.js';
import { FEEDBACK_PATH, MixedLoad, mulberry32, type Rates } from './load.js';
import { machineBusySeconds, startService, type ServiceChild } from './service.js';
import { loadSoakPatient, soakServiceConfig, startSoakStack, type SoakPatient, type SoakStack } from './stack.js';
import { fixed, mib, pad, quantile, REQUEST_TYPES, trend, type RequestType, type Trend, type TypeMinute } from './stats.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    'warmup-minutes': { type: 'string', default: '3' },
    'warm-rps': { type: 'string', default: '10' },
    'cold-every-s': { type: 'string', default: '5' },
    'feedback-rps': { type: 'string', default: '2' },
    'api-rps': { type: 'string', default: '2' },
    patients: { type: 'string', default: '40' },
    'tensor-cache': { type: 'string', default: '4' },
    'assessment-cache': { type: 'string' }, // assessment.cache.assessments; default the service's (500)
    'max-in-flight': { type: 'string', default: '64' },
    seed: { type: 'string', default: '11' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false }, // keep the temp dir (config, service log, SQLite files)
  },
});
const positive = (name: string, value: string | undefined, integer = true): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new RangeError(`--${name} must be a non-negative ${integer ? 'integer' : 'number'}, not ${String(value)}`);
  return n;
};
const MINUTES = positive('minutes', args.minutes);
const WARMUP_MINUTES = positive('warmup-minutes', args['warmup-minutes']);
const COLD_EVERY_S = positive('cold-every-s', args['cold-every-s'], false);
const RATES: Rates = {
  warmPerSecond: positive('warm-rps', args['warm-rps'], false),
  coldPerSecond: COLD_EVERY_S > 0 ? 1 / COLD_EVERY_S : 0,
  feedbackPerSecond: positive('feedback-rps', args['feedback-rps'], false),
  apiPerSecond: positive('api-rps', args['api-rps'], false),
};
const PATIENTS = positive('patients', args.patients);
const TENSOR_CACHE = positive('tensor-cache', args['tensor-cache']);
const ASSESSMENT_CACHE = args['assessment-cache'] === undefined ? undefined : positive('assessment-cache', args['assessment-cache']);
const MAX_IN_FLIGHT = positive('max-in-flight', args['max-in-flight']);
const SEED = positive('seed', args.seed);
const OUT = resolve(args.out ?? join(os.tmpdir(), `soak-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`));
const MODELS = resolve(import.meta.dirname, '../../models');
if (MINUTES <= WARMUP_MINUTES) throw new RangeError('--minutes must be more than --warmup-minutes');

/**
 * "No upward trend after warm-up", made concrete (README: why these numbers). The slopes are the
 * least-squares lines through the samples from the end of the warm-up to the end of the run.
 */
const TARGET = { heapAfterGcMiBPerHour: 8, rssMiBPerHour: 64, handlesPerHour: 30, p99Ratio: 2 };
/** Fewer samples after warm-up than this, and the trend verdict is "n/a": two or three points make no trend. */
const MIN_TREND_POINTS = 5;

/** One minute of the run, as printed and written to --out. */
interface MinuteSample {
  minute: number;
  at: string;
  rssMiB: number;
  heapUsedMiB: number;
  heapAfterGcMiB: number;
  rssAfterGcMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
  loopDelay: MemoryReport['loopDelay'];
  handles: number;
  handlesByType: Record<string, number>;
  /** SQLite files of the store (assessments, feedback, issued cards, replay cache), WAL included. */
  storeMiB: number;
  /** Cores used in the minute: the service (all threads), this generator (with the FHIR and auth servers), everything else. */
  cores: { service: number; generator: number; other: number };
  /** Latest start of a call after its scheduled time in the minute: the generator's own lag. */
  generatorLateMs: number;
  /** Event-loop delay of this process (load generator, FHIR and authorization servers) in the minute, ms. Client-side latencies include it. */
  generatorLoop: { p99Ms: number; maxMs: number };
  requests: Record<RequestType, TypeMinute>;
}

class Interrupted extends Error {}
let interrupted = false;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `deadline` (performance.now() ms), checking each second that the service lives and no Ctrl-C came. */
async function waitUntil(deadline: number, service: ServiceChild): Promise<void> {
  for (let left = deadline - performance.now(); left > 0; left = deadline - performance.now()) {
    if (interrupted) throw new Interrupted('interrupted');
    if (service.exited) throw new Error(`the service ${service.exited} during the run`);
    await sleep(Math.min(1000, left));
  }
}

function storeBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.startsWith('cds'))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

// This process's own event-loop delay: the FHIR server, the authorization server and the generator share it.
const generatorLoop = monitorEventLoopDelay({ resolution: 10 });

function minuteSample(minute: number, report: MemoryReport, tally: ReturnType<MixedLoad['rotate']>, cores: MinuteSample['cores'], dir: string): MinuteSample {
  return {
    minute,
    at: new Date().toISOString(),
    rssMiB: mib(report.raw.rss),
    heapUsedMiB: mib(report.raw.heapUsed),
    heapAfterGcMiB: mib(report.afterGc?.heapUsed ?? NaN),
    rssAfterGcMiB: mib(report.afterGc?.rss ?? NaN),
    externalMiB: mib(report.raw.external),
    arrayBuffersMiB: mib(report.raw.arrayBuffers),
    loopDelay: report.loopDelay,
    handles: report.resources?.total ?? NaN,
    handlesByType: report.resources?.byType ?? {},
    storeMiB: mib(storeBytes(dir)),
    cores,
    generatorLateMs: tally.lateMs,
    generatorLoop: { p99Ms: generatorLoop.percentile(99) / 1e6, maxMs: generatorLoop.max / 1e6 },
    requests: Object.fromEntries(REQUEST_TYPES.map((t) => [t, tally.tally[t].summary()])) as Record<RequestType, TypeMinute>,
  };
}

const PROCESS_WIDTHS = [4, 7, 7, 8, 8, 9, 9, 8, 8, 16, 9, 13];
const PROCESS_HEADER = ['min', 'RSS', 'heap', 'heap GC', 'extern', 'loop p99', 'loop max', 'handles', 'store', 'cores svc/gen/oth', 'gen late', 'gen loop p99/max'];
function processRow(s: MinuteSample): string[] {
  const c = s.cores;
  return [String(s.minute), fixed(s.rssMiB, 0), fixed(s.heapUsedMiB, 0), fixed(s.heapAfterGcMiB), fixed(s.externalMiB, 0), fixed(s.loopDelay?.p99Ms ?? NaN), fixed(s.loopDelay?.maxMs ?? NaN), String(s.handles), fixed(s.storeMiB), `${fixed(c.service, 2)}/${fixed(c.generator, 2)}/${fixed(c.other, 2)}`, fixed(s.generatorLateMs, 0), `${fixed(s.generatorLoop.p99Ms, 0)}/${fixed(s.generatorLoop.maxMs, 0)}`];
}
const typeCell = (m: TypeMinute): string => `${m.count}/${m.errors} ${fixed(m.p50Ms)}/${fixed(m.p99Ms)}`;

/** The line printed as each minute ends. */
function progressLine(s: MinuteSample): string {
  const ld = s.loopDelay;
  const requests = REQUEST_TYPES.map((t) => `${t} ${typeCell(s.requests[t])}`).join(' | ');
  return (
    `min ${String(s.minute).padStart(2)}  RSS ${fixed(s.rssMiB, 0)} heap ${fixed(s.heapUsedMiB, 0)} → GC ${fixed(s.heapAfterGcMiB)} MiB  loop p99 ${fixed(ld?.p99Ms ?? NaN)} max ${fixed(ld?.maxMs ?? NaN)} ms  ` +
    `handles ${s.handles}  store ${fixed(s.storeMiB)} MiB  cores ${fixed(s.cores.service, 2)}/${fixed(s.cores.other, 2)}  gen loop max ${fixed(s.generatorLoop.maxMs, 0)} ms  |  ${requests}`
  );
}

interface LogTally {
  prepared: number;
  notPrepared: number;
  /** Warnings and errors by message. */
  problems: Record<string, number>;
  /** Request lines by status class and path kind. */
  statuses: Record<string, number>;
  /** The service's own time for each call (request log `ms`), by type and by minute of the run. */
  serverMs: Record<RequestType, number[][]>;
}

/** The request type of a request log line (cold hooks by their hookInstance). */
function typeOf(path: string | undefined, reqId: string | undefined, coldInstances: ReadonlySet<string>): RequestType | undefined {
  if (path === HOOK_PATH) return reqId !== undefined && coldInstances.has(reqId) ? 'cold' : 'warm';
  if (path === FEEDBACK_PATH) return 'feedback';
  if (path === '/api/patients/:id/assessment') return 'api';
  return undefined;
}

/** `startedAt` (epoch ms) is the start of minute 1: request lines from then on are put in their minute. */
function readServiceLog(file: string, startedAt: number, coldInstances: ReadonlySet<string>): LogTally {
  const serverMs = Object.fromEntries(REQUEST_TYPES.map((t) => [t, Array.from({ length: MINUTES }, (): number[] => [])])) as Record<RequestType, number[][]>;
  const tally: LogTally = { prepared: 0, notPrepared: 0, problems: {}, statuses: {}, serverMs };
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (!text) continue;
    const line = JSON.parse(text) as { level?: number; time?: string | number; msg?: string; status?: number; path?: string; ms?: number; reqId?: string };
    if (line.msg === 'radiograph prepared') tally.prepared++;
    else if (line.msg === 'radiograph not prepared') tally.notPrepared++;
    else if (line.msg === 'request') {
      const key = `${line.status ?? '?'} ${line.path ?? '?'}`;
      tally.statuses[key] = (tally.statuses[key] ?? 0) + 1;
      const type = typeOf(line.path, line.reqId, coldInstances);
      const minute = Math.floor((new Date(line.time ?? 0).getTime() - startedAt) / 60_000); // ISO time (src/ops/logger.ts)
      if (type && Number.isFinite(minute) && minute >= 0 && line.ms !== undefined) serverMs[type][Math.min(minute, MINUTES - 1)]!.push(line.ms);
    }
    if ((line.level ?? 0) >= 40) tally.problems[line.msg ?? '?'] = (tally.problems[line.msg ?? '?'] ?? 0) + 1;
  }
  return tally;
}

const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISSED');
const signed = (n: number, digits = 1): string => `${n >= 0 ? '+' : ''}${fixed(n, digits)}`;

function summary(samples: MinuteSample[], log: LogTally, load: MixedLoad): void {
  console.log('\nPer minute: the service child (MiB; "heap GC" = heap used after a forced full GC; loop = event-loop delay in the minute, ms; gen late = ms)');
  console.log(pad(PROCESS_HEADER, PROCESS_WIDTHS));
  for (const s of samples) console.log(pad(processRow(s), PROCESS_WIDTHS));

  const widths = [4, ...REQUEST_TYPES.map(() => 24)];
  console.log('\nPer minute: calls completed / errors, latency p50 / p99 (ms)');
  console.log(pad(['min', ...REQUEST_TYPES], widths));
  for (const s of samples) console.log(pad([String(s.minute), ...REQUEST_TYPES.map((t) => typeCell(s.requests[t]))], widths));

  console.log('\nPer minute: in the service (its request log `ms`: no generator stall in it), p50 / p99 (ms)');
  console.log(pad(['min', ...REQUEST_TYPES], widths));
  for (const s of samples) console.log(pad([String(s.minute), ...REQUEST_TYPES.map((t) => { const v = log.serverMs[t][s.minute - 1] ?? []; return `${fixed(quantile(v, 0.5))}/${fixed(quantile(v, 0.99))}`; })], widths));

  console.log('\nTotals');
  for (const t of REQUEST_TYPES) {
    const ms = samples.map((s) => s.requests[t]);
    const count = ms.reduce((a, m) => a + m.count, 0);
    const errors = ms.reduce((a, m) => a + m.errors, 0);
    const kinds: Record<string, number> = {};
    for (const m of ms) for (const [k, v] of Object.entries(m.errorKinds)) kinds[k] = (kinds[k] ?? 0) + v;
    const kindText = Object.entries(kinds).map(([k, v]) => `${v} × ${k}`).join(', ');
    console.log(`  ${t.padEnd(9)} ${count} completed, ${errors} errors${kindText ? ` (${kindText})` : ''}`);
  }
  console.log(`  cold calls answered with a card: ${load.coldOk}; "radiograph prepared" in the service log: ${log.prepared} (of which ${PATIENTS} at priming), "not prepared": ${log.notPrepared}`);
  const statuses = Object.entries(log.statuses).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`).join('; ');
  console.log(`  service request log: ${statuses}`);
  const problems = Object.entries(log.problems).map(([k, v]) => `${v} × "${k}"`).join(', ');
  console.log(`  service warnings/errors: ${problems || 'none'}`);
  const late = Math.max(...samples.map((s) => s.generatorLateMs));
  const loopMax = Math.max(...samples.map((s) => s.generatorLoop.maxMs));
  console.log(
    `  generator lag (latest start after schedule): ${fixed(late, 0)} ms at worst; this process's event-loop delay at most ${fixed(loopMax, 0)} ms` +
      (late > 100 ? ' — WARNING: the generator (which also hosts the FHIR and authorization servers) stalled: client-side latencies include its stalls' : ''),
  );
  const busyOthers = samples.filter((s) => s.cores.other > 0.15).length;
  if (busyOthers > 0) console.log(`  WARNING: other processes used more than 0.15 core in ${busyOthers} of ${samples.length} minutes: latency figures of those minutes are not the service's alone`);

  // After warm-up: the sample at the end of the warm-up starts the window, so a short run still has two points.
  const after = samples.filter((s) => s.minute >= WARMUP_MINUTES);
  const series = (f: (s: MinuteSample) => number): { minute: number; value: number }[] => after.map((s) => ({ minute: s.minute, value: f(s) }));
  const trends: [string, Trend, number, string][] = [
    ['heap used after full GC', trend(series((s) => s.heapAfterGcMiB)), TARGET.heapAfterGcMiBPerHour, 'MiB/h'],
    ['RSS', trend(series((s) => s.rssMiB)), TARGET.rssMiBPerHour, 'MiB/h'],
    ['active handles', trend(series((s) => s.handles)), TARGET.handlesPerHour, '/h'],
  ];
  const first = after[0]!;
  const last = after[after.length - 1]!;
  console.log(`\nTrend after warm-up (least squares over the samples of minutes ${first.minute}–${last.minute}; ± standard error)`);
  const firstLast: Record<string, [number, number]> = {
    'heap used after full GC': [first.heapAfterGcMiB, last.heapAfterGcMiB],
    RSS: [first.rssMiB, last.rssMiB],
    'active handles': [first.handles, last.handles],
  };
  const trendOk: boolean[] = [];
  for (const [name, t, limit, unit] of trends) {
    const ok = t.points >= MIN_TREND_POINTS ? t.perHour <= limit : undefined;
    if (ok !== undefined) trendOk.push(ok);
    const [a, b] = firstLast[name]!;
    console.log(`  ${name.padEnd(24)} ${signed(t.perHour)} ± ${fixed(t.standardError)} ${unit} (${t.points} points; ${fixed(a)} → ${fixed(b)})   limit ≤ ${limit} ${unit}: ${verdict(ok)}`);
  }
  if (after.length < MIN_TREND_POINTS) console.log(`  (only ${after.length} samples after warm-up, fewer than ${MIN_TREND_POINTS}: no verdict; the target is for the 30-minute run)`);
  // Each cold call leaves a new assessment in the service's memory cache (assessment.cache.assessments).
  const newAssessments = RATES.coldPerSecond * 3600;
  const heapTrend = trends[0]![1];
  console.log(
    `  new assessments: ${fixed(newAssessments, 0)}/h (one per cold call), kept in memory up to assessment.cache.assessments (${ASSESSMENT_CACHE ?? 'default 5000'}); ` +
      `heap-after-GC slope per new assessment: ${fixed((heapTrend.perHour * 1024) / newAssessments, 0)} KiB`,
  );

  // p99 of each later minute against the first minute after warm-up.
  const reference = samples.find((s) => s.minute === WARMUP_MINUTES + 1)!;
  const measured = samples.filter((s) => s.minute > WARMUP_MINUTES);
  console.log(`\np99 of each minute ÷ p99 of the first minute after warm-up (minute ${reference.minute}, the reference)`);
  console.log(pad(['min', ...REQUEST_TYPES], [4, ...REQUEST_TYPES.map(() => 10)]));
  for (const s of measured) console.log(pad([String(s.minute), ...REQUEST_TYPES.map((t) => fixed(s.requests[t].p99Ms / reference.requests[t].p99Ms, 2))], [4, ...REQUEST_TYPES.map(() => 10)]));
  const p99Ok: boolean[] = [];
  for (const t of REQUEST_TYPES) {
    const ref = reference.requests[t].p99Ms;
    const worst = Math.max(...measured.map((s) => s.requests[t].p99Ms).filter(Number.isFinite));
    const ok = Number.isFinite(ref) && Number.isFinite(worst) ? worst <= TARGET.p99Ratio * ref : undefined;
    if (ok !== undefined) p99Ok.push(ok);
    const calls = quantile(measured.map((s) => s.requests[t].count), 0.5);
    console.log(`  ${t.padEnd(9)} max p99 ${fixed(worst)} ms vs reference ${fixed(ref)} ms: ×${fixed(worst / ref, 2)} (≤ ×${TARGET.p99Ratio}): ${verdict(ok)}   (median ${calls} calls a minute)`);
  }

  console.log('\nTargets (issue 13)');
  console.log(`  no upward trend after warm-up (heap after GC ≤ ${TARGET.heapAfterGcMiBPerHour} MiB/h, RSS ≤ ${TARGET.rssMiBPerHour} MiB/h, handles ≤ ${TARGET.handlesPerHour}/h): ${verdict(trendOk.length === 0 ? undefined : trendOk.every(Boolean))}`);
  console.log(`  p99 within ${TARGET.p99Ratio}× the first minute after warm-up, every request type: ${verdict(p99Ok.length === 0 ? undefined : p99Ok.every(Boolean))}`);
}

async function loadPatients(stack: SoakStack): Promise<SoakPatient[]> {
  const asOf = new Date();
  const started = performance.now();
  const patients: SoakPatient[] = [];
  for (const patient of choosePatients(SEED, PATIENTS)) {
    patients.push(await loadSoakPatient(stack, patient, asOf));
    if (patients.length % 10 === 0) console.log(`  loaded ${patients.length}/${PATIENTS} patients`);
  }
  const bytes = patients.map((p) => p.bodyBytes);
  console.log(`loaded ${patients.length} patients in ${fixed((performance.now() - started) / 1000)} s; DICOM ${fixed(mib(patients[0]!.dicomBytes))} MiB each; hook bodies ${Math.min(...bytes)}–${Math.max(...bytes)} bytes`);
  return patients;
}

async function run(dir: string, stack: SoakStack): Promise<void> {
  const patients = await loadPatients(stack);
  const key = await makeKey('RS384');
  const configFile = join(dir, 'config.json');
  const logFile = join(dir, 'service.log');
  writeFileSync(configFile, JSON.stringify(soakServiceConfig({ stack, key, dir, models: MODELS, tensors: TENSOR_CACHE, ...(ASSESSMENT_CACHE === undefined ? {} : { assessments: ASSESSMENT_CACHE }) })));
  const service = await startService(configFile, logFile);
  const load = new MixedLoad({ baseUrl: service.baseUrl, stack, patients, key, issuer: CLIENT_ISS, rates: RATES, maxInFlight: MAX_IN_FLIGHT, random: mulberry32(SEED) });
  const samples: MinuteSample[] = [];
  let stopped = false;
  let startedAt = Date.now();
  try {
    await load.prepare();
    console.log(`priming: one cold hook per patient (not counted)`);
    const primeProblems = await load.prime();
    if (primeProblems.length > 0) throw new Error(`priming failed for ${primeProblems.length} patients: ${primeProblems.slice(0, 3).join('; ')}`);
    const start = await service.sample();
    console.log(`after priming: RSS ${fixed(mib(start.raw.rss), 0)} MiB, heap after GC ${fixed(mib(start.afterGc?.heapUsed ?? NaN))} MiB, handles ${start.resources?.total ?? '?'}`);
    console.log(
      `running ${MINUTES} min: ${RATES.warmPerSecond} warm/s, 1 cold every ${COLD_EVERY_S} s, ${RATES.feedbackPerSecond} feedback/s, ${RATES.apiPerSecond} API/s; ` +
        `at most ${MAX_IN_FLIGHT} in flight; warm-up ${WARMUP_MINUTES} min`,
    );
    console.log('each line: calls completed/errors p50/p99 ms per type');
    let cpu = { service: service.cpuSeconds(), own: process.cpuUsage(), machine: machineBusySeconds(), wall: performance.now() };
    const t0 = performance.now();
    startedAt = Date.now();
    generatorLoop.enable();
    load.start();
    for (let minute = 1; minute <= MINUTES; minute++) {
      await waitUntil(t0 + minute * 60_000, service);
      if (minute === MINUTES) {
        await load.stop(); // the calls still in flight end in the last minute
        stopped = true;
      }
      const tally = load.rotate();
      const now = { service: service.cpuSeconds(), own: process.cpuUsage(), machine: machineBusySeconds(), wall: performance.now() };
      const seconds = (now.wall - cpu.wall) / 1000;
      const svc = (now.service - cpu.service) / seconds;
      const own = process.cpuUsage(cpu.own);
      const generator = (own.user + own.system) / 1e6 / seconds;
      const cores = { service: svc, generator, other: Math.max(0, (now.machine - cpu.machine) / seconds - svc - generator) };
      cpu = now;
      const sample = minuteSample(minute, await service.sample(), tally, cores, dir);
      generatorLoop.reset();
      samples.push(sample);
      console.log(progressLine(sample));
      const problem = load.tokenProblem ?? load.benchProblem;
      if (problem) throw new Error(problem);
    }
  } finally {
    if (!stopped) await load.stop().catch(() => undefined);
    await service.stop();
  }
  const log = readServiceLog(logFile, startedAt, load.coldInstances);
  summary(samples, log, load);
  // The service's own times, per minute and type, as count/p50/p99 rather than every value.
  const serverMs = Object.fromEntries(REQUEST_TYPES.map((t) => [t, log.serverMs[t].map((v) => ({ count: v.length, p50Ms: quantile(v, 0.5), p99Ms: quantile(v, 0.99) }))]));
  const note = { args, rates: RATES, image: IMAGE, patients: PATIENTS, tensorCache: TENSOR_CACHE, assessmentCache: ASSESSMENT_CACHE ?? null, warmupMinutes: WARMUP_MINUTES, target: TARGET, machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, log: { ...log, serverMs }, samples };
  writeFileSync(OUT, `${JSON.stringify(note, null, 1)}\n`);
  console.log(`\nper-minute samples: ${OUT}`);
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown cpu'}; node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`${PATIENTS} patients, radiographs ${IMAGE.columns} × ${IMAGE.rows}, ${IMAGE.bitsStored} bits in 16, uncompressed; tensor cache ${TENSOR_CACHE}`);
  const dir = mkdtempSync(join(os.tmpdir(), 'soak-'));
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: give up cleaning
    interrupted = true;
    console.log('\ninterrupted: stopping the service and Orthanc (Ctrl-C again to leave at once)');
  });
  let stack: SoakStack | undefined;
  try {
    stack = await startSoakStack();
    await run(dir, stack);
  } catch (error) {
    if (error instanceof Interrupted) process.exitCode = 130;
    else {
      process.exitCode = 1;
      console.log(`\nGENERATOR FAILED: ${(error as Error).message}`);
    }
  } finally {
    await stack?.close().catch((error: unknown) => console.log(`closing the stack: ${(error as Error).message}`));
    if (args.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
