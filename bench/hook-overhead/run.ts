// Hook-overhead benchmark: what does the engine cost per hook call, next to a bare express JSON route?
// Each server runs alone in a child process (server.ts); autocannon drives it from this process.
//   bare    express.json() + one POST route answering {cards: []}
//   RS384   the real app (production mode, SQLite store, info logs to a file) calling a trivial
//   ES384   service, every request carrying its own freshly signed client JWT (unique jti)
// Usage: node --import tsx bench/hook-overhead/run.ts [--duration 10] [--connections 50]
//          [--warmup 3000] [--profile <dir>] [--keep]
// Exit code: 0 when the runs were valid (even if targets are MISSED), 1 when any request failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { jwtVerify } from 'jose';
import { issuedCardsPath } from '../../src/store/sqlite-store.js';
import { makeKey, signTokens, TokenSupply, type Key } from '../shared/tokens.js';
import { BARE_PATH, CLIENT_ISS, HOOK_PATH } from './common.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '3000' }, // requests sent (and discarded) before each hook run
    profile: { type: 'string' }, // directory for a --cpu-prof of each server child
    keep: { type: 'boolean', default: false }, // keep the temp dir (logs, SQLite files)
  },
});
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const WARMUP = Number(args.warmup);
const SERVER = resolve(import.meta.dirname, 'server.ts');
const TARGET = { rps: 1000, p99Ms: 25, ratio: 0.5 };

// ---------------------------------------------------------------------------------------------
// Request body: a patient-view call with complete prefetch (the Patient) and no fhirServer, so the
// engine never fetches. Only hookInstance changes per request.

const PATIENT = {
  resourceType: 'Patient',
  id: 'bench-p1',
  meta: { versionId: '3', lastUpdated: '2024-11-02T09:14:00Z' },
  identifier: [{ system: 'urn:oid:2.16.840.1.113883.2.4.6.3', value: '999911120' }],
  active: true,
  name: [{ use: 'official', family: 'Jansen', given: ['Anna', 'Maria'] }],
  telecom: [{ system: 'phone', value: '+31 20 555 0134', use: 'home' }],
  gender: 'female',
  birthDate: '1951-06-23',
  address: [{ line: ['Keizersgracht 12'], city: 'Amsterdam', postalCode: '1015 CN', country: 'NL' }],
};
const [BODY_HEAD, BODY_TAIL] = JSON.stringify({
  hook: 'patient-view',
  hookInstance: '@',
  context: { userId: 'Practitioner/bench-dr1', patientId: 'bench-p1' },
  prefetch: { patient: PATIENT },
}).split('"@"') as [string, string];
const body = (): string => `${BODY_HEAD}"${randomUUID()}"${BODY_TAIL}`;

// ---------------------------------------------------------------------------------------------
// Keys and tokens


/** CPU time (all threads of this process) of one jose jwtVerify, measured before any load. */
async function verifyCpuMs(key: Key): Promise<number> {
  const audience = 'http://127.0.0.1/cds-services/x';
  const tokens = await signTokens(key, CLIENT_ISS, audience, 500);
  const verifyAll = (list: string[]) => Promise.all(list.map((t) => jwtVerify(t, key.publicKey, { audience, issuer: CLIENT_ISS })));
  await verifyAll(tokens.slice(0, 100)); // warm up
  const before = process.cpuUsage();
  await verifyAll(tokens.slice(100));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / 400;
}

// ---------------------------------------------------------------------------------------------
// Server child process

interface Server {
  baseUrl: string;
  /** CPU seconds (user + system, all threads) the child has used so far; Linux /proc. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function startServer(name: string, argv: string[]): Promise<Server> {
  // One directory per server: the tsx loader thread writes a profile of its own next to the main thread's.
  const profile = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(args.profile, name)}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', SERVER, ...argv], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${name} server exited (${String(code)}) before listening`);
  });
  const [line] = (await Promise.race([once(createInterface({ input: child.stdout! }), 'line'), exited])) as [string];
  exited.catch(() => undefined);
  const { port } = JSON.parse(line) as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    cpuSeconds: () => {
      // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 Hz on Linux).
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exit = once(child, 'exit');
      child.kill('SIGTERM');
      await exit;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load

interface Measured {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  statuses: string;
  /** Average cores used during the measured run: server child, this (load generator) process, everything else. */
  serverCores: number;
  loadgenCores: number;
  otherCores: number;
  problems: string[];
}

function load(url: string, path: string, token: () => string, limit: { duration: number } | { amount: number }) {
  return autocannon({
    url,
    connections: CONNECTIONS,
    ...limit,
    requests: [
      {
        method: 'POST',
        path,
        // Called for every request: its own token and hookInstance.
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'content-type': 'application/json', authorization: `Bearer ${token()}` },
          body: body(),
        }),
      },
    ],
  });
}

/** Rejects a run in which anything but 200 came back: its numbers would measure error paths. */
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

async function measure(name: string, server: Server, path: string, token: () => string): Promise<Measured> {
  const [server0, own0, machine0, wall0] = [server.cpuSeconds(), process.cpuUsage(), machineBusySeconds(), performance.now()];
  const result = await load(server.baseUrl, path, token, { duration: DURATION });
  const seconds = (performance.now() - wall0) / 1000;
  const serverCores = (server.cpuSeconds() - server0) / seconds;
  const own = process.cpuUsage(own0);
  const loadgenCores = (own.user + own.system) / 1e6 / seconds;
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    statuses: Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => `${code}:${count ?? 0}`).join(' '),
    serverCores,
    loadgenCores,
    // Other processes competing for the cores make the figures meaningless; reported so it is seen.
    otherCores: Math.max(0, (machineBusySeconds() - machine0) / seconds - serverCores - loadgenCores),
    problems: failures(result),
  };
}

async function preflight(url: string, authorization: string, check: (json: unknown) => boolean): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: body() });
  const text = await response.text();
  if (response.status !== 200 || !check(JSON.parse(text))) throw new Error(`preflight to ${url} failed: ${response.status} ${text}`);
}

interface Paced {
  offered: number;
  achieved: number;
  p50: number;
  p99: number;
  failed: number;
  /** Why requests failed: HTTP status or socket error code, with counts. */
  failures: Record<string, number>;
}

/**
 * Open-loop load at a fixed rate over at most CONNECTIONS keep-alive connections. autocannon's rate
 * limit sends each second's quota in a burst at the start of the second, so it cannot show latency at
 * a given load; here requests are spread evenly and latency counts from the scheduled send time, so
 * time spent queued behind a slow answer is included (no coordinated omission).
 */
async function paced(baseUrl: string, path: string, token: () => string, rate: number, seconds: number): Promise<Paced> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const { hostname, port } = new URL(baseUrl);
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const fail = (why: string): void => {
    failures[why] = (failures[why] ?? 0) + 1;
  };
  const send = (due: number): Promise<void> =>
    new Promise((resolve) => {
      const payload = body();
      const req = httpRequest(
        { agent, hostname, port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${token()}` } },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - due);
            else fail(`HTTP ${res.statusCode}`);
            resolve();
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        fail(error.code ?? error.message);
        resolve();
      });
      req.end(payload);
    });
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    pending.push(send(due));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  return { offered: rate, achieved: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), failed, failures };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function runBare(anyToken: string): Promise<Measured> {
  const server = await startServer('bare', ['bare']);
  try {
    const url = server.baseUrl + BARE_PATH;
    await preflight(url, `Bearer ${anyToken}`, (json) => JSON.stringify(json) === '{"cards":[]}');
    // Same headers and body as the hook runs (the bare route ignores the token).
    await load(server.baseUrl, BARE_PATH, () => anyToken, { duration: 2 });
    return await measure('bare', server, BARE_PATH, () => anyToken);
  } finally {
    await server.stop();
  }
}

async function runHook(key: Key, keys: Key[], verifyMs: number, dir: string, bareRps: number): Promise<Measured & { log: string; paced: Paced }> {
  const runDir = join(dir, key.alg);
  mkdirSync(runDir);
  const configFile = join(runDir, 'config.json');
  const logFile = join(runDir, 'server.log');
  const sqlitePath = join(runDir, 'cds.sqlite');
  writeFileSync(
    configFile,
    JSON.stringify({
      mode: 'production',
      log: { level: 'info' },
      store: { sqlitePath },
      auth: { clients: [{ iss: CLIENT_ISS, jwks: { keys: keys.map((k) => k.publicJwk) } }] },
    }),
  );
  const server = await startServer(key.alg, ['app', configFile, logFile]);
  let measured: Measured;
  let pacedRun: Paced;
  try {
    const audience = server.baseUrl + HOOK_PATH;
    const [first] = await signTokens(key, CLIENT_ISS, audience, 1);
    await preflight(audience, `Bearer ${first!}`, (json) => (json as { cards?: unknown[] }).cards?.length === 1);

    // Warm-up with a fixed request count, so it needs a known number of tokens.
    const warm = await load(server.baseUrl, HOOK_PATH, new TokenSupply(await signTokens(key, CLIENT_ISS, audience, WARMUP + CONNECTIONS)).take, {
      amount: WARMUP,
    });
    if (failures(warm).length > 0) throw new Error(`${key.alg} warm-up failed: ${failures(warm).join(', ')}`);

    // Tokens for the measured run, from two hard ceilings rather than a guess: the hook path cannot beat the
    // bare route, nor verify faster than every core doing nothing but verification. 10% margin on each.
    const ceiling = Math.min(bareRps, (os.cpus().length * 1000) / verifyMs);
    const needed = Math.ceil(1.1 * ceiling * DURATION) + CONNECTIONS;
    const started = performance.now();
    const tokens = new TokenSupply(await signTokens(key, CLIENT_ISS, audience, needed));
    console.log(`  pre-signed ${needed} ${key.alg} tokens in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    measured = await measure(`hook ${key.alg}`, server, HOOK_PATH, tokens.take);
    if (tokens.exhausted) measured.problems.push('pre-signed tokens ran out (bench bug: raise the margin)');

    const pacedTokens = new TokenSupply(await signTokens(key, CLIENT_ISS, audience, TARGET.rps * DURATION));
    pacedRun = await paced(server.baseUrl, HOOK_PATH, pacedTokens.take, TARGET.rps, DURATION);
    if (pacedTokens.exhausted) measured.problems.push('paced run: pre-signed tokens ran out');
    if (pacedRun.failed > 0) measured.problems.push(`paced run: ${pacedRun.failed} failed requests ${JSON.stringify(pacedRun.failures)}`);
  } finally {
    await server.stop();
  }
  // Evidence that the server did the production work: one request log line and one issued card per call.
  const logLines = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"msg":"request"')).length;
  const db = new Database(issuedCardsPath(sqlitePath), { readonly: true });
  const cards = (db.prepare('SELECT COUNT(*) AS n FROM issued_card').get() as { n: number }).n;
  db.close();
  return { ...measured, paced: pacedRun, log: `${logLines} request log lines, ${cards} issued_card rows` };
}

// ---------------------------------------------------------------------------------------------
// Report

const fixed = (n: number, digits = 1): string => n.toFixed(digits);
const pad = (cells: string[], widths: number[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');

function printTable(rows: Measured[], bareRps: number): void {
  const widths = [12, 7, 7, 7, 8, 7, 8, 14, 22];
  const head = ['run', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'vs bare', 'server CPU/req', 'cores server/load/other'];
  console.log(pad(head, widths));
  for (const r of rows) {
    const cores = [r.serverCores, r.loadgenCores, r.otherCores].map((c) => fixed(c, 2)).join(' / ');
    const cpuPerRequest = `${fixed((r.serverCores / r.rps) * 1e6, 0)} µs`;
    const cells = [r.name, fixed(r.rps, 0), fixed(r.p50), fixed(r.p99), String(r.non2xx), String(r.errors), fixed(r.rps / bareRps, 2), cpuPerRequest, cores];
    console.log(pad(cells, widths));
  }
  for (const r of rows.filter((row) => row.otherCores > 0.15)) {
    console.log(`WARNING: other processes used ${fixed(r.otherCores, 2)} cores during "${r.name}": its figures are not reliable.`);
  }
}

const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`);
  console.log(`node ${process.version}; ${CONNECTIONS} connections, ${DURATION} s per measured run, ${WARMUP}-request hook warm-up`);

  const keys = [await makeKey('RS384'), await makeKey('ES384')];
  const verifyMs = { RS384: await verifyCpuMs(keys[0]!), ES384: await verifyCpuMs(keys[1]!) };
  console.log(`jose jwtVerify CPU per token here (sizes the token supply only): RS384 ${fixed(verifyMs.RS384, 3)} ms, ES384 ${fixed(verifyMs.ES384, 3)} ms`);

  const dir = mkdtempSync(join(os.tmpdir(), 'hook-overhead-'));
  if (args.profile) mkdirSync(args.profile, { recursive: true });
  try {
    const [anyToken] = await signTokens(keys[0]!, CLIENT_ISS, 'http://127.0.0.1/unused', 1);
    // The bare route runs before and after the hooks; the ratio uses their mean, so a machine whose
    // speed drifts during the run (shared, noisy hosts) does not bias it either way.
    console.log('running: bare express');
    const bareBefore = await runBare(anyToken!);
    const hooks: (Measured & { log: string; paced: Paced })[] = [];
    for (const key of keys) {
      console.log(`running: hook ${key.alg}`);
      hooks.push(await runHook(key, keys, verifyMs[key.alg], dir, bareBefore.rps));
    }
    console.log('running: bare express again');
    const bareAfter = await runBare(anyToken!);
    const bare: Measured = {
      ...bareBefore,
      name: 'bare (mean)',
      rps: (bareBefore.rps + bareAfter.rps) / 2,
      p50: (bareBefore.p50 + bareAfter.p50) / 2,
      p99: (bareBefore.p99 + bareAfter.p99) / 2,
      serverCores: (bareBefore.serverCores + bareAfter.serverCores) / 2,
      loadgenCores: (bareBefore.loadgenCores + bareAfter.loadgenCores) / 2,
      otherCores: (bareBefore.otherCores + bareAfter.otherCores) / 2,
      problems: [...bareBefore.problems, ...bareAfter.problems],
    };
    bareBefore.name = 'bare before';
    bareAfter.name = 'bare after';

    console.log('');
    printTable([bareBefore, bareAfter, bare, ...hooks], bare.rps);
    for (const h of hooks) console.log(`  ${h.name}: ${h.log}`);
    console.log(`\nAt a steady ${TARGET.rps} hooks/s (open loop, up to ${CONNECTIONS} keep-alive connections, latency from scheduled send):`);
    for (const h of hooks) {
      const p = h.paced;
      console.log(`  ${h.name}: achieved ${fixed(p.achieved, 0)}/s, p50 ${fixed(p.p50)} ms, p99 ${fixed(p.p99)} ms, failed ${p.failed}`);
    }

    const invalid = [bareBefore, bareAfter, ...hooks].filter((r) => r.problems.length > 0);
    for (const r of invalid) console.log(`\nINVALID RUN ${r.name}: ${r.problems.join('; ')} (status codes ${r.statuses})`);

    const rs = hooks[0]!;
    const es = hooks[1]!;
    console.log(`\nRS384 targets at ${CONNECTIONS} connections:`);
    console.log(`  throughput ${fixed(rs.rps, 0)}/s ≥ ${TARGET.rps}/s: ${verdict(rs.rps >= TARGET.rps)}`);
    console.log(`  p99 ${fixed(rs.p99)} ms ≤ ${TARGET.p99Ms} ms at saturation: ${verdict(rs.p99 <= TARGET.p99Ms)}`);
    console.log(`  p99 ${fixed(rs.paced.p99)} ms ≤ ${TARGET.p99Ms} ms at a steady ${TARGET.rps}/s: ${verdict(rs.paced.p99 <= TARGET.p99Ms)}`);
    // Little's law: with every connection waiting on its answer, mean latency = connections / throughput.
    console.log(
      `  (at saturation ${CONNECTIONS} waiting connections make mean latency ${fixed((CONNECTIONS / rs.rps) * 1000)} ms by Little's law; ` +
        `the bare route itself shows p99 ${fixed(bare.p99)} ms)`,
    );
    console.log(`  ratio to bare ${fixed(rs.rps / bare.rps, 2)} ≥ ${TARGET.ratio}: ${verdict(rs.rps / bare.rps >= TARGET.ratio)}`);
    const fastest = Math.max(bareBefore.rps, bareAfter.rps);
    console.log(`  (conservative: against the faster bare run, ${fixed(rs.rps / fastest, 2)}: ${verdict(rs.rps / fastest >= TARGET.ratio)})`);
    // ES384 is bounded by CPU: P-384 verification (on libuv's pool, off the event loop) is most of what a
    // request costs, so the ceiling is the cores divided by the CPU of one request, load generator included.
    const cpuMs = (r: Measured): number => ((r.serverCores + r.loadgenCores) / r.rps) * 1000;
    console.log(
      `\nES384: ${fixed(es.rps, 0)}/s, p99 ${fixed(es.p99)} ms. A request cost ${fixed(cpuMs(es), 2)} ms of CPU ` +
        `(server + load generator) against ${fixed(cpuMs(rs), 2)} ms with RS384: the ${fixed(cpuMs(es) - cpuMs(rs), 2)} ms ` +
        `difference is the P-384 verification. ${cpus.length} cores allow at most ~${fixed((cpus.length * 1000) / cpuMs(es), 0)}/s ` +
        `at that cost (cores used: server ${fixed(es.serverCores, 2)}, load generator ${fixed(es.loadgenCores, 2)}).`,
    );
    if (invalid.length > 0) process.exitCode = 1;
  } finally {
    if (args.keep) console.log(`\nkept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
