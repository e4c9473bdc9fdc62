// Child-process entry for the hook-overhead benchmark: serves either the real app or a bare express
// route, on 127.0.0.1 and an OS-chosen port, and prints {"port": n} on stdout once it accepts requests.
//   app  <config.json> <log file>   createApp in production mode, real SqliteStore, info logs to a file
//   bare                            express.json() and one POST route answering {cards: []}
// Runs in its own process so the load generator (the parent) does not share its event loop.
import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createApp } from '../../src/app.js';
import { ServiceRegistry, type CdsService } from '../../src/cds/service.js';
import { loadConfig } from '../../src/config.js';
import { createLogDestination, createLogger } from '../../src/ops/logger.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { BARE_PATH, SERVICE_ID } from './common.js';

/** The cheapest service that still exercises required prefetch and card issuing. */
const trivialService: CdsService<'patient-view'> = {
  definition: {
    id: SERVICE_ID,
    hook: 'patient-view',
    title: 'Benchmark',
    description: 'Returns one small card (hook-overhead benchmark only)',
    prefetch: { patient: 'Patient/{{context.patientId}}' },
  },
  requiredPrefetch: ['patient'],
  handle({ prefetch }) {
    const patient = prefetch.patient;
    return Promise.resolve({
      cards: [
        {
          summary: `Seen ${patient?.resourceType ?? 'nothing'}`,
          indicator: 'info',
          source: { label: 'Bench', topic: { system: 'urn:bench:topic', code: 'trivial' } },
        },
      ],
    });
  },
};

const [mode, configFile, logFile] = process.argv.slice(2);

// Listen first: the app's publicBaseUrl (the JWT audience) must be the URL actually served.
const server = createServer();
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
let close = (): void => undefined;

if (mode === 'app' && configFile && logFile) {
  // The real loader (schema, defaults), with publicBaseUrl given the way an operator would: by environment.
  const config = loadConfig({ CDS_PUBLIC_BASE_URL: `http://127.0.0.1:${port}` }, configFile);
  // The same buffered sink main.ts uses for stdout, here to a file.
  const destination = createLogDestination(logFile);
  const logger = createLogger(config.log.level, destination);
  const store = new SqliteStore({ path: config.store.sqlitePath });
  const app = createApp(config, { registry: new ServiceRegistry([trivialService]), store, logger });
  server.on('request', app.express as RequestListener);
  close = () => {
    store.close();
    destination.flushSync();
  };
} else if (mode === 'bare') {
  const app = express();
  app.use(express.json());
  app.post(BARE_PATH, (_req, res) => {
    res.json({ cards: [] });
  });
  server.on('request', app as RequestListener);
} else {
  process.stderr.write('usage: server.ts app <config.json> <log file> | bare\n');
  process.exit(2);
}

// Exit normally on SIGTERM so --cpu-prof (when the parent asks for it) gets written.
process.once('SIGTERM', () => {
  close();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
process.stdout.write(`${JSON.stringify({ port })}\n`);
