// Hook-latency benchmark: patient-view end to end, the real service against the dev FHIR server and
// Orthanc on loopback, with 2,500 × 3,000 uncompressed radiographs.
//   cold        each patient once, one call at a time: nothing cached (chart → PACS → decode → model)
//   warm        the same patients again, one call at a time: the assessment comes from the cache
//   throughput  16 connections of warm calls for --duration s (autocannon), next to a bare express
//               route measured before and after the service in the same run
//   soak        --soak warm calls over 16 connections; the server's RSS and heap before and after
// Every call carries a fresh RS384 client JWT (unique jti), a fresh hookInstance, fhirServer and the
// complete prefetch read from the FHIR server beforehand, as an EHR sends it.
// Usage: tsx bench/hook-latency/run.ts [--patients 40] [--warmup-patients 2] [--warm-rounds 5]
//          [--duration 10] [--connections 16] [--warmup 2000] [--soak 10000] [--seed 11]
//          [--profile <dir>] [--keep]
// Exit code: 0 when the run was valid (even if targets are MISSED), 1 when any request failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { makeKey, signTokens, TokenSupply, type Key } from '../shared/tokens.js';
import { BARE_PATH, CLIENT_ISS, HOOK_PATH, type MemoryReport, type MemoryRequest } from './common.js';
import { choosePatients, hookBody, IMAGE, loadPatient, startBenchStack, type BenchPatient, type BenchStack } from './patients.js';

const { values: args } = parseArgs({
  options: {
    patients: { type: 'string', default: '40' }, // distinct patients measured cold, then warm
    'warmup-patients': { type: 'string', default: '2' }, // cold calls before the measured ones (process warm-up), not counted
    'warm-rounds': { type: 'string', default: '5' }, // sequential warm passes over the patients
    duration: { type: 'string', default: '10' }, // seconds of the throughput runs
    connections: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '2000' }, // requests sent (and discarded) before each throughput run
    soak: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '11' },
    profile: { type: 'string' }, // directory for a --cpu-prof of the service child
    keep: { type: 'boolean', default: false }, // keep the temp dir (config, log, SQLite files)
  },
});
const N = Number(args.patients);
const WARMUP_PATIENTS = Number(args['warmup-patients']);
const WARM_ROUNDS = Number(args['warm-rounds']);
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const WARMUP = Number(args.warmup);
const SOAK = Number(args.soak);
const SEED = Number(args.seed);
const SERVER = resolve(import.meta.dirname, 'server.ts');
const MODELS = resolve(import.meta.dirname, '../../models');
const TARGET = { coldP50Ms: 250, warmP50Ms: 10, rps: 1000 };

// ---------------------------------------------------------------------------------------------
// Keys and tokens (RS384, as the target names)


// ---------------------------------------------------------------------------------------------
// Server child process

interface Server {
  baseUrl: string;
  /** CPU seconds (user + system) the child has used so far, all threads and its main (event-loop) thread; Linux /proc. */
  cpuSeconds(): { all: number; main: number };
  memory(gc: boolean): Promise<MemoryReport>;
  stop(): Promise<void>;
}

async function startServer(name: string, argv: string[]): Promise<Server> {
  // One directory per server: the tsx loader thread writes a profile of its own next to the main thread's.
  const profile = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(args.profile, name)}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, '--expose-gc', '--import', 'tsx', SERVER, ...argv], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${name} server exited (${String(code)}) before listening`);
  });
  const [line] = (await Promise.race([once(createInterface({ input: child.stdout! }), 'line'), exited])) as [string];
  exited.catch(() => undefined);
  const { port } = JSON.parse(line) as { port: number };
  let nextId = 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    cpuSeconds: () => {
      // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 Hz on Linux).
      // The main thread's task id is the process id. On-CPU time, unlike a profile's wall-clock samples,
      // does not grow when other processes take the cores.
      const ticks = (file: string): number => {
        const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
        return (Number(fields[11]) + Number(fields[12])) / 100;
      };
      return { all: ticks(`/proc/${child.pid}/stat`), main: ticks(`/proc/${child.pid}/task/${child.pid}/stat`) };
    },
    memory: (gc) =>
      new Promise((resolveReport) => {
        const id = nextId++;
        const onMessage = (message: unknown): void => {
          const report = message as Partial<MemoryReport>;
          if (report.bench !== 'memory' || report.id !== id) return;
          child.off('message', onMessage);
          resolveReport(report as MemoryReport);
        };
        child.on('message', onMessage);
        child.send({ bench: 'memory', id, gc } satisfies MemoryRequest);
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exit = once(child, 'exit');
      child.kill('SIGTERM');
      await exit;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One call at a time

interface Call {
  patient: BenchPatient;
  hookInstance: string;
  status: number;
  ms: number;
  cards: number;
  responseBytes: number;
  /** What went wrong, when anything did. */
  problem?: string;
}

/** POSTs one body over a keep-alive connection; the time runs from the first byte sent to the last received. */
function post(agent: Agent, baseUrl: string, path: string, payload: string, token: string): Promise<{ status: number; ms: number; text: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolveCall, reject) => {
    const started = performance.now();
    const req = httpRequest(
      {
        agent,
        hostname,
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolveCall({ status: res.statusCode ?? 0, ms: performance.now() - started, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Each patient once, in order, one call at a time, each with its own token and hookInstance. */
async function sequential(server: Server, key: Key, patients: readonly BenchPatient[]): Promise<Call[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const tokens = new TokenSupply(await signTokens(key, CLIENT_ISS, server.baseUrl + HOOK_PATH, patients.length));
  const calls: Call[] = [];
  try {
    for (const patient of patients) {
      const hookInstance = randomUUID();
      const call: Call = { patient, hookInstance, status: 0, ms: NaN, cards: 0, responseBytes: 0 };
      try {
        const { status, ms, text } = await post(agent, server.baseUrl, HOOK_PATH, hookBody(patient, hookInstance), tokens.take());
        Object.assign(call, { status, ms, responseBytes: Buffer.byteLength(text) });
        if (status !== 200) call.problem = `HTTP ${status} ${text.slice(0, 200)}`;
        else {
          call.cards = (JSON.parse(text) as { cards?: unknown[] }).cards?.length ?? 0;
          // lowRiskCard is on, so every assessed patient gets a card: none means the pipeline stopped early.
          if (call.cards === 0) call.problem = 'no card (not assessed: see the assessment line in the server log)';
        }
      } catch (error) {
        call.problem = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      }
      calls.push(call);
    }
  } finally {
    agent.destroy();
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------
// Load (autocannon, closed loop: each connection sends its next request when the answer arrives)

interface Loaded {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Average cores used during the run: server child, this (load generator) process, everything else. */
  serverCores: number;
  /** Of serverCores, the server's main thread (the event loop). */
  serverMainCores: number;
  loadgenCores: number;
  otherCores: number;
  statuses: string;
  problems: string[];
}

function load(baseUrl: string, path: string, patients: readonly BenchPatient[], token: () => string, limit: { duration: number } | { amount: number }) {
  let next = 0;
  return autocannon({
    url: baseUrl,
    connections: CONNECTIONS,
    ...limit,
    requests: [
      {
        method: 'POST',
        path,
        // Called for every request: the next patient in turn, its own token and hookInstance.
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'content-type': 'application/json', authorization: `Bearer ${token()}` },
          body: hookBody(patients[next++ % patients.length]!, randomUUID()),
        }),
      },
    ],
  });
}

/** Anything but 200 makes a run invalid: its numbers would measure error paths. */
function failures(result: autocannon.Result): string[] {
  const other = Object.entries(result.statusCodeStats ?? {}).filter(([code]) => code !== '200');
  const problems = other.map(([code, { count }]) => `${count ?? 0} × HTTP ${code}`);
  if (result.errors > 0) problems.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
  return problems;
}

/** Busy CPU seconds of the whole machine so far: /proc/stat's first line minus idle and iowait, 100 Hz ticks. */
function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

async function measure(
  name: string,
  server: Server,
  path: string,
  patients: readonly BenchPatient[],
  token: () => string,
  limit: { duration: number } | { amount: number },
): Promise<Loaded> {
  const [server0, own0, machine0, wall0] = [server.cpuSeconds(), process.cpuUsage(), machineBusySeconds(), performance.now()];
  const result = await load(server.baseUrl, path, patients, token, limit);
  const seconds = (performance.now() - wall0) / 1000;
  const server1 = server.cpuSeconds();
  const serverCores = (server1.all - server0.all) / seconds;
  const serverMainCores = (server1.main - server0.main) / seconds;
  const own = process.cpuUsage(own0);
  const loadgenCores = (own.user + own.system) / 1e6 / seconds;
  return {
    name,
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    serverCores,
    serverMainCores,
    loadgenCores,
    otherCores: Math.max(0, (machineBusySeconds() - machine0) / seconds - serverCores - loadgenCores),
    statuses: Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => `${code}:${count ?? 0}`).join(' '),
    problems: failures(result),
  };
}

async function runBare(name: string, patients: readonly BenchPatient[], anyToken: string): Promise<Loaded> {
  const server = await startServer('bare', ['bare']);
  try {
    // Same headers and bodies as the hook runs (the bare route ignores the token).
    const warm = await load(server.baseUrl, BARE_PATH, patients, () => anyToken, { amount: WARMUP });
    if (failures(warm).length > 0) throw new Error(`bare warm-up failed: ${failures(warm).join(', ')}`);
    return await measure(name, server, BARE_PATH, patients, () => anyToken, { duration: DURATION });
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The service's own account of each call, from its log

interface LogLine {
  msg?: string;
  path?: string;
  ms?: number;
  status?: number;
  reqId?: string;
  outcome?: string;
  cached?: boolean;
  background?: boolean;
}

interface LoggedCall {
  /** Server-side duration (the request log line). */
  serverMs: number;
  /** `radiograph prepared` during the call (QIDO + metadata + WADO-RS retrieve + decode + preprocess); null when none was. */
  preparedMs: number | null;
  outcome: string;
}

interface ServerLog {
  /** Calls made one at a time, by hookInstance: their lines follow one another, so they can be joined. */
  calls: Map<string, LoggedCall>;
  /** `radiograph prepared` lines over the whole run. */
  prepared: number;
  /** Outcome counts over the whole run. */
  tally: Record<string, number>;
}

/**
 * Reads the service's log. A call's lines come in this order: `radiograph prepared` (cold only), then
 * `assessment` (with reqId = hookInstance), then `request` (with the server-side ms). For calls made
 * one at a time that joins them; under concurrency the join is meaningless and those calls, whose
 * hookInstances the parent does not look up, are only counted.
 */
function readServerLog(file: string): ServerLog {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as LogLine);
  const log: ServerLog = { calls: new Map(), prepared: 0, tally: {} };
  let prepared: number | null = null;
  let assessment: { reqId: string; outcome: string } | undefined;
  for (const line of lines) {
    if (line.msg === 'radiograph prepared') {
      log.prepared++;
      prepared = (prepared ?? 0) + (line.ms ?? NaN);
    } else if (line.msg === 'assessment' || line.msg === 'assessment finished after the deadline') {
      const outcome = line.outcome === 'assessed' ? (line.cached ? 'assessed (cached)' : 'assessed (computed)') : (line.outcome ?? '?');
      const label = line.background ? `${outcome}, in the background` : outcome;
      log.tally[label] = (log.tally[label] ?? 0) + 1;
      if (line.reqId !== undefined && !line.background) assessment = { reqId: line.reqId, outcome };
    } else if (line.msg === 'request' && line.path === HOOK_PATH) {
      if (assessment && !log.calls.has(assessment.reqId)) log.calls.set(assessment.reqId, { serverMs: line.ms ?? NaN, preparedMs: prepared, outcome: assessment.outcome });
      prepared = null;
      assessment = undefined;
    }
  }
  return log;
}

/**
 * What a freshly computed assessment costs the event loop in store writes: the service commits its
 * radiograph choice and the assessment (synchronous=FULL, so an fsync each) with better-sqlite3,
 * synchronously. Measured here by writing the rows the service wrote, again, through the same
 * SqliteStore into a new file on the same file system: ms per pair, one pair per cold call.
 */
async function storeWriteCost(servicePath: string, dir: string): Promise<number[]> {
  const source = new Database(servicePath, { readonly: true });
  const assessments = source.prepare('SELECT key, patient_id, fhir_server, model_id, model_version, computed_at, json FROM assessment').all() as {
    key: string;
    patient_id: string;
    fhir_server: string | null;
    model_id: string;
    model_version: string;
    computed_at: string;
    json: string;
  }[];
  const selections = source.prepare('SELECT fingerprint, created_at, json FROM radiograph_selection').all() as { fingerprint: string; created_at: string; json: string }[];
  source.close();
  const store = new SqliteStore({ path: join(dir, 'store-cost.sqlite') });
  const times: number[] = [];
  try {
    for (const [i, a] of assessments.entries()) {
      const selection = selections[i % selections.length]!;
      const started = performance.now();
      await store.putSelection({ fingerprint: selection.fingerprint, createdAt: selection.created_at, json: selection.json });
      await store.putAssessment({ key: a.key, patientId: a.patient_id, fhirServer: a.fhir_server, modelId: a.model_id, modelVersion: a.model_version, computedAt: a.computed_at, json: a.json });
      times.push(performance.now() - started);
    }
  } finally {
    store.close();
  }
  return times;
}

// ---------------------------------------------------------------------------------------------
// Report

const quantile = (values: readonly number[], q: number): number => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
};
const fixed = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const pad = (cells: string[], widths: number[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/**
 * How fast this machine's cores are right now: the median of 5 runs of a fixed integer loop, in ms
 * (60–75 ms on an unthrottled core here). On shared VMs the same loop has taken 13× longer from
 * one second to the next, so every figure of a run should be read beside this one.
 */
function speedCheck(): number {
  const loop = (): number => {
    let s = 0;
    for (let i = 0; i < 2e8; i++) s = (s + i) | 0;
    return s;
  };
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    loop();
    times.push(performance.now() - started);
  }
  return quantile(times, 0.5);
}

function latencyRow(name: string, values: readonly number[]): string[] {
  const finite = values.filter((v) => Number.isFinite(v));
  return [name, String(finite.length), fixed(quantile(finite, 0.5)), fixed(quantile(finite, 0.95)), fixed(finite.length > 0 ? Math.max(...finite) : NaN)];
}

function printLoaded(rows: Loaded[], bareRps: number): void {
  const widths = [16, 8, 7, 7, 7, 7, 7, 8, 22, 23];
  console.log(pad(['run', 'requests', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'vs bare', 'server CPU/req all/main', 'cores server/load/other'], widths));
  for (const r of rows) {
    const cores = [r.serverCores, r.loadgenCores, r.otherCores].map((c) => fixed(c, 2)).join(' / ');
    const cells = [r.name, String(r.requests), fixed(r.rps, 0), fixed(r.p50), fixed(r.p90), fixed(r.p99), fixed(r.max, 0), fixed(r.rps / bareRps, 2), `${fixed((r.serverCores / r.rps) * 1e6, 0)} / ${fixed((r.serverMainCores / r.rps) * 1e6, 0)} µs`, cores];
    console.log(pad(cells, widths));
  }
  for (const r of rows.filter((row) => row.otherCores > 0.15)) {
    console.log(`WARNING: other processes used ${fixed(r.otherCores, 2)} cores during "${r.name}": its figures are not reliable.`);
  }
}

interface Snapshot {
  at: string;
  report: MemoryReport;
}

function printMemory(snapshots: Snapshot[]): void {
  const widths = [34, 11, 11, 11, 13, 15, 15];
  console.log(pad(['server child', 'RSS', 'heap used', 'heap total', 'external', 'RSS after GC', 'heap after GC'], widths));
  for (const { at, report } of snapshots) {
    const { raw, afterGc } = report;
    console.log(pad([at, mib(raw.rss), mib(raw.heapUsed), mib(raw.heapTotal), mib(raw.external), afterGc ? mib(afterGc.rss) : '—', afterGc ? mib(afterGc.heapUsed) : '—'], widths));
  }
}

// ---------------------------------------------------------------------------------------------
// The service's run

interface PerCall {
  all: number;
  main: number;
}

interface ServiceRun {
  firstCalls: Call[];
  cold: Call[];
  warm: Call[];
  /** Server CPU per call (ms) in the sequential phases: all threads, and the event-loop thread. */
  coldCpu: PerCall;
  warmCpu: PerCall;
  throughput: Loaded;
  soak: Loaded;
  snapshots: Snapshot[];
  problems: string[];
}

function serviceConfig(stack: BenchStack, key: Key, dir: string): Record<string, unknown> {
  return {
    mode: 'production',
    log: { level: 'info' },
    store: { sqlitePath: join(dir, 'cds.sqlite') },
    auth: { clients: [{ iss: CLIENT_ISS, jwks: { keys: [key.publicJwk] } }] },
    fhir: { servers: [{ baseUrl: stack.fhir.baseUrl, allowInsecureHttp: true }] },
    imaging: { dicomweb: { endpoints: [{ baseUrl: stack.orthanc.dicomWebUrl, allowInsecureHttp: true }] } },
    model: { dir: MODELS },
    // A deadline no cold call reaches, so each one is answered with its own assessment; a card for
    // every band, so each answer shows that the patient was assessed.
    assessment: { deadlineMs: 20_000, lowRiskCard: true },
    smartApp: { launchUrl: 'https://smart.bench.test/launch.html' },
  };
}

/** Cold, warm, throughput and soak against one service child; its log is left in `logFile`. */
async function runService(stack: BenchStack, key: Key, all: { warmup: BenchPatient[]; measured: BenchPatient[] }, bareRps: number, dir: string, logFile: string): Promise<ServiceRun> {
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(serviceConfig(stack, key, dir)));
  const server = await startServer('app', ['app', configFile, logFile]);
  const patients = all.measured;
  const snapshots: Snapshot[] = [];
  const snapshot = async (at: string, gc = false): Promise<void> => void snapshots.push({ at, report: await server.memory(gc) });
  const perCall = async (run: () => Promise<Call[]>): Promise<{ calls: Call[]; cpu: PerCall }> => {
    const cpu0 = server.cpuSeconds();
    const calls = await run();
    const cpu1 = server.cpuSeconds();
    return { calls, cpu: { all: ((cpu1.all - cpu0.all) * 1000) / calls.length, main: ((cpu1.main - cpu0.main) * 1000) / calls.length } };
  };
  const problems: string[] = [];
  try {
    await snapshot('started');
    const firstCalls = await sequential(server, key, all.warmup);
    const cold = await perCall(() => sequential(server, key, patients));
    await snapshot('after cold');
    const warm = await perCall(async () => {
      const calls: Call[] = [];
      for (let round = 0; round < WARM_ROUNDS; round++) calls.push(...(await sequential(server, key, patients)));
      return calls;
    });
    await snapshot('after sequential warm');

    console.log(`running: throughput (load average ${loadAverage()}; speed check ${fixed(speedCheck(), 0)} ms)`);
    const audience = server.baseUrl + HOOK_PATH;
    const warmupTokens = new TokenSupply(await signTokens(key, CLIENT_ISS, audience, WARMUP + CONNECTIONS));
    const warmed = await load(server.baseUrl, HOOK_PATH, patients, warmupTokens.take, { amount: WARMUP });
    if (failures(warmed).length > 0) problems.push(`throughput warm-up: ${failures(warmed).join(', ')}`);
    // The hook path cannot beat the bare route with the same bodies: 10 % margin on that ceiling.
    const tokens = new TokenSupply(await signTokens(key, CLIENT_ISS, audience, Math.ceil(1.1 * bareRps * DURATION) + CONNECTIONS));
    const throughput = await measure('hook (warm)', server, HOOK_PATH, patients, tokens.take, { duration: DURATION });
    if (tokens.exhausted) throughput.problems.push('pre-signed tokens ran out (bench bug: raise the margin)');

    console.log(`running: soak (${SOAK} warm hooks)`);
    const soakTokens = new TokenSupply(await signTokens(key, CLIENT_ISS, audience, SOAK + CONNECTIONS));
    await snapshot('before soak', true);
    const soak = await measure('soak (warm)', server, HOOK_PATH, patients, soakTokens.take, { amount: SOAK });
    await snapshot('after soak', true);
    if (soakTokens.exhausted) soak.problems.push('pre-signed tokens ran out (bench bug)');
    return { firstCalls, cold: cold.calls, warm: warm.calls, coldCpu: cold.cpu, warmCpu: warm.cpu, throughput, soak, snapshots, problems };
  } finally {
    await server.stop();
  }
}

/** What makes the run invalid: failed requests, and calls the service did not answer the way the phase assumes. */
function validate(run: ServiceRun, log: ServerLog, bare: Loaded[]): string[] {
  const problems = [...run.problems];
  for (const call of [...run.firstCalls, ...run.cold, ...run.warm].filter((c) => c.problem)) problems.push(`${call.patient.id}: ${call.problem}`);
  const computed = run.cold.filter((c) => {
    const logged = log.calls.get(c.hookInstance);
    return logged?.outcome === 'assessed (computed)' && logged.preparedMs !== null;
  }).length;
  if (computed !== run.cold.length) problems.push(`${run.cold.length - computed} cold calls were not computed afresh with a radiograph prepared`);
  const cached = run.warm.filter((c) => {
    const logged = log.calls.get(c.hookInstance);
    return logged?.outcome === 'assessed (cached)' && logged.preparedMs === null;
  }).length;
  if (cached !== run.warm.length) problems.push(`${run.warm.length - cached} sequential warm calls were not served from the cache`);
  for (const r of [...bare, run.throughput, run.soak]) problems.push(...r.problems.map((p) => `${r.name}: ${p}`));
  const coldCount = run.firstCalls.length + run.cold.length;
  if (log.prepared !== coldCount) problems.push(`${log.prepared} radiographs prepared, expected ${coldCount} (one per cold call, none when warm)`);
  return problems;
}

function report(run: ServiceRun, log: ServerLog, storeWrites: number[], bareBefore: Loaded, bareAfter: Loaded, patients: number): void {
  const { firstCalls, cold, warm, coldCpu, warmCpu, throughput, soak, snapshots } = run;
  const bareRps = (bareBefore.rps + bareAfter.rps) / 2;
  // Cold breakdown: server-side time and radiograph preparation of each cold call.
  const coldLogged = cold.map((c) => log.calls.get(c.hookInstance));
  const coldServer = coldLogged.map((l) => l?.serverMs ?? NaN);
  const coldPrepared = coldLogged.map((l) => l?.preparedMs ?? NaN);
  const coldRest = coldLogged.map((l) => (l?.serverMs ?? NaN) - (l?.preparedMs ?? NaN));
  const warmServer = warm.map((c) => log.calls.get(c.hookInstance)?.serverMs ?? NaN);

  console.log('\nOne call at a time (ms)');
  const widths = [58, 6, 8, 8, 8];
  console.log(pad(['', 'calls', 'p50', 'p95', 'max'], widths));
  console.log(pad(latencyRow('first calls after start (warm-up, not counted)', firstCalls.map((c) => c.ms)), widths));
  console.log(pad(latencyRow('cold, end to end (client)', cold.map((c) => c.ms)), widths));
  console.log(pad(latencyRow('  cold, in the server (request log)', coldServer), widths));
  console.log(pad(latencyRow('    radiograph: PACS metadata + retrieve + decode', coldPrepared), widths));
  console.log(pad(latencyRow('    rest: JWT, chart, selection, inference, store, cards', coldRest), widths));
  console.log(pad(latencyRow('      of which store writes (2 fsynced commits)', storeWrites), widths));
  console.log(pad(latencyRow(`warm, end to end (client), ${WARM_ROUNDS} rounds`, warm.map((c) => c.ms)), widths));
  console.log(pad(latencyRow('  warm, in the server (request log)', warmServer), widths));
  console.log(
    `server CPU per call (10 ms ticks, averaged): cold ${fixed(coldCpu.all)} ms in all threads, ${fixed(coldCpu.main)} ms on the event loop; ` +
      `warm ${fixed(warmCpu.all, 2)} ms, ${fixed(warmCpu.main, 2)} ms`,
  );
  const responseBytes = warm.map((c) => c.responseBytes);
  console.log(`warm answers (one card each): ${Math.min(...responseBytes)}–${Math.max(...responseBytes)} bytes`);

  console.log(`\nThroughput: ${CONNECTIONS} connections, closed loop, warm hooks round-robin over ${patients} patients; bare express with the same bodies`);
  printLoaded([bareBefore, bareAfter, throughput, soak], bareRps);

  console.log('\nMemory (process.memoryUsage() of the service child; "after GC" after a forced full GC)');
  printMemory(snapshots);
  const before = snapshots.find((s) => s.at === 'before soak')!.report;
  const after = snapshots.find((s) => s.at === 'after soak')!.report;
  console.log(
    `  soak of ${soak.requests} hooks: RSS ${mib(before.raw.rss)} → ${mib(after.raw.rss)} (${after.raw.rss >= before.raw.rss ? '+' : ''}${mib(after.raw.rss - before.raw.rss)}); ` +
      `heap used after GC ${before.afterGc ? mib(before.afterGc.heapUsed) : '—'} → ${after.afterGc ? mib(after.afterGc.heapUsed) : '—'}; ` +
      `failed requests: ${soak.problems.length === 0 ? 'none' : soak.problems.join('; ')}`,
  );
  console.log(`\nAssessment outcomes in the service log: ${Object.entries(log.tally).map(([k, v]) => `${k} ${v}`).join(', ')}`);

  const coldP50 = quantile(cold.map((c) => c.ms), 0.5);
  const warmP50 = quantile(warm.map((c) => c.ms), 0.5);
  console.log('\nTargets');
  console.log(`  cold p50 ${fixed(coldP50)} ms ≤ ${TARGET.coldP50Ms} ms (uncompressed): ${verdict(coldP50 <= TARGET.coldP50Ms)}`);
  console.log(`  warm p50 ${fixed(warmP50)} ms ≤ ${TARGET.warmP50Ms} ms: ${verdict(warmP50 <= TARGET.warmP50Ms)}`);
  console.log(`  warm throughput ${fixed(throughput.rps, 0)}/s ≥ ${TARGET.rps}/s at ${CONNECTIONS} connections, RS384: ${verdict(throughput.rps >= TARGET.rps)}`);
  console.log(`  (ratio to the bare route, mean of before/after: ${fixed(throughput.rps / bareRps, 2)})`);
}

// ---------------------------------------------------------------------------------------------

async function loadAll(stack: BenchStack): Promise<{ warmup: BenchPatient[]; measured: BenchPatient[] }> {
  const asOf = new Date();
  const chosen = choosePatients(SEED, N + WARMUP_PATIENTS);
  const started = performance.now();
  const all: BenchPatient[] = [];
  for (const patient of chosen) {
    all.push(await loadPatient(stack, patient, asOf));
    if (all.length % 10 === 0) console.log(`  loaded ${all.length}/${chosen.length} patients`);
  }
  const measured = all.slice(WARMUP_PATIENTS);
  const bodyBytes = measured.map((p) => p.bodyBytes);
  console.log(
    `loaded ${all.length} patients into the FHIR server and Orthanc in ${fixed((performance.now() - started) / 1000)} s; ` +
      `DICOM ${mib(all[0]!.dicomBytes)} each; hook bodies ${Math.min(...bodyBytes)}–${Math.max(...bodyBytes)} bytes ` +
      `(median ${quantile(bodyBytes, 0.5)}); modalities ${measured.filter((p) => p.modality === 'DX').length} DX / ${measured.filter((p) => p.modality === 'CR').length} CR`,
  );
  return { warmup: all.slice(0, WARMUP_PATIENTS), measured };
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}; node ${process.version}`);
  console.log(`load average at start: ${loadAverage()}; speed check ${fixed(speedCheck(), 0)} ms`);
  console.log(
    `${N} patients (+${WARMUP_PATIENTS} warm-up), radiographs ${IMAGE.columns} columns × ${IMAGE.rows} rows, ${IMAGE.bitsStored} bits stored in 16, ` +
      `explicit VR little endian; ${CONNECTIONS} connections, ${DURATION} s throughput runs, soak ${SOAK}`,
  );
  const dir = mkdtempSync(join(os.tmpdir(), 'hook-latency-'));
  if (args.profile) mkdirSync(args.profile, { recursive: true });
  const stack = await startBenchStack();
  try {
    const patients = await loadAll(stack);
    const key = await makeKey('RS384');
    const [anyToken] = await signTokens(key, CLIENT_ISS, 'http://127.0.0.1/unused', 1);

    console.log('running: bare express (before)');
    const bareBefore = await runBare('bare before', patients.measured, anyToken!);
    console.log('running: service (createServing, production mode)');
    const logFile = join(dir, 'server.log');
    const run = await runService(stack, key, patients, bareBefore.rps, dir, logFile);
    console.log('running: bare express (after)');
    const bareAfter = await runBare('bare after', patients.measured, anyToken!);
    console.log(`load average at end: ${loadAverage()}; speed check ${fixed(speedCheck(), 0)} ms`);

    const log = readServerLog(logFile);
    const storeWrites = await storeWriteCost(join(dir, 'cds.sqlite'), dir);
    report(run, log, storeWrites, bareBefore, bareAfter, patients.measured.length);
    const problems = validate(run, log, [bareBefore, bareAfter]);
    if (problems.length > 0) {
      process.exitCode = 1;
      console.log(`\nINVALID RUN: ${problems.length} problem(s)`);
      for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
    }
  } finally {
    await stack.close();
    if (args.keep) console.log(`\nkept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
