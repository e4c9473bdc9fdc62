// Child-process entry for the hook-latency benchmark: serves either the real service or a bare express
// route, on 127.0.0.1 and an OS-chosen port, and prints {"port": n} on stdout once it accepts requests.
//   app  <config.json> <log file>   the composition root (createServing) with the configuration given:
//                                   production mode, SQLite store, demo model, JWT auth, info logs to a file
//   bare                            express.json() and one POST route answering {cards: []}
// Over the IPC channel it answers MemoryRequest messages with process.memoryUsage() (and again after a
// full GC when asked and when started with --expose-gc), the event-loop delay since the previous report
// and the active resources (handles and requests) by type. It runs in its own process so that the load
// generator (the parent) shares neither its event loop nor its heap.
import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import express from 'express';
import { loadConfig } from '../../src/config.js';
import { createLogDestination, createLogger } from '../../src/ops/logger.js';
import { createServing } from '../../src/serve.js';
import { BARE_PATH, type ActiveResources, type LoopDelay, type MemoryReport, type MemoryRequest } from './common.js';

// Event-loop delay between two reports, sampled every 10 ms from the start.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

const [mode, configFile, logFile] = process.argv.slice(2);

// Listen first: the app's publicBaseUrl (the JWT audience) must be the URL actually served.
const server = createServer();
server.requestTimeout = 60_000; // as `serve` sets it
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
let close = (): Promise<void> => Promise.resolve();

if (mode === 'app' && configFile && logFile) {
  // The real loader (schema, defaults), with publicBaseUrl given the way an operator would: by environment.
  const config = loadConfig({ CDS_PUBLIC_BASE_URL: `http://127.0.0.1:${port}` }, configFile);
  // The same buffered sink `serve` uses for stdout, here to a file.
  const destination = createLogDestination(logFile);
  const logger = createLogger(config.log.level, destination);
  const serving = await createServing(config, { logger });
  server.on('request', serving.app.express as RequestListener);
  close = async () => {
    await serving.close();
    destination.flushSync();
  };
} else if (mode === 'bare') {
  const app = express();
  app.use(express.json({ limit: '5mb' })); // the service's default server.bodyLimit
  app.post(BARE_PATH, (_req, res) => {
    res.json({ cards: [] });
  });
  server.on('request', app as RequestListener);
} else {
  process.stderr.write('usage: server.ts app <config.json> <log file> | bare\n');
  process.exit(2);
}

const isMemoryRequest = (message: unknown): message is MemoryRequest =>
  typeof message === 'object' && message !== null && (message as { bench?: unknown }).bench === 'memory';

const ms = (ns: number): number => ns / 1e6;

function loopDelaySinceLastReport(): LoopDelay {
  return { p50Ms: ms(loopDelay.percentile(50)), p99Ms: ms(loopDelay.percentile(99)), maxMs: ms(loopDelay.max), meanMs: ms(loopDelay.mean) };
}

function activeResources(): ActiveResources {
  const types = process.getActiveResourcesInfo();
  const byType: Record<string, number> = {};
  for (const type of types) byType[type] = (byType[type] ?? 0) + 1;
  return { total: types.length, byType };
}

process.on('message', (message: unknown) => {
  if (!isMemoryRequest(message) || !process.send) return;
  // Taken before the forced GC, so that neither figure includes it.
  const report: MemoryReport = { bench: 'memory', id: message.id, raw: process.memoryUsage(), loopDelay: loopDelaySinceLastReport(), resources: activeResources() };
  if (message.gc && typeof globalThis.gc === 'function') {
    globalThis.gc();
    report.afterGc = process.memoryUsage();
  }
  process.send(report);
  // Reset once the sampler's timer, held up by the GC above, has fired: the next window starts clean
  // (at the cost of its first 20 ms).
  setTimeout(() => loopDelay.reset(), 20).unref();
});

// Exit normally on SIGTERM so --cpu-prof (when the parent asks for it) gets written and the log is flushed.
process.once('SIGTERM', () => {
  server.close(() => {
    void close().finally(() => process.exit(0));
  });
  server.closeAllConnections();
});
process.stdout.write(`${JSON.stringify({ port })}\n`);
