#!/usr/bin/env node
// Command-line entry: serve the CDS service, report feedback, run the local FHIR server.
import type { Server } from 'node:http';
import { Command, InvalidArgumentError } from 'commander';
import { createServices } from '../cds-services/index.js';
import { createApp } from './app.js';
import { ServiceRegistry } from './cds/service.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogDestination, createLogger } from './ops/logger.js';
import { SqliteStore } from './store/sqlite-store.js';
import { formatFeedbackSummary } from './store/feedback-report.js';

function configFrom(file: string | undefined): Config {
  return loadConfig(process.env, file ?? process.env.CDS_CONFIG);
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

async function serve(options: { config?: string }): Promise<void> {
  const config = configFrom(options.config);
  const logger = createLogger(config.log.level, createLogDestination());
  if (config.auth.disabled) {
    logger.warn('client authentication is DISABLED (auth.disabled): any caller can invoke the services; never do this outside development');
  } else if (config.auth.clients.length === 0) {
    logger.warn('no trusted clients are configured (auth.clients): every CDS call will be refused with 401');
  }
  const store = new SqliteStore({ path: config.store.sqlitePath });
  const registry = new ServiceRegistry(createServices({}));
  const app = createApp(config, { registry, store, logger });
  const server: Server = app.express.listen(config.server.port, config.server.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.requestTimeout = 60_000;
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : config.server.port;
  logger.info({ host: config.server.host, port: boundPort, services: registry.discovery().services.length, mode: config.mode }, 'listening');

  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    app.markNotReady();
    server.close(() => {
      store.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 10_000).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

function feedbackReport(options: { config?: string; json?: boolean }): void {
  const config = configFrom(options.config);
  const store = new SqliteStore({ path: config.store.sqlitePath });
  try {
    const rows = store.feedbackSummary();
    process.stdout.write(options.json ? `${JSON.stringify(rows, null, 2)}\n` : formatFeedbackSummary(rows));
  } finally {
    store.close();
  }
}

async function devFhirServer(options: { host: string; port: number }): Promise<void> {
  const { startDevFhirServer } = await import('./dev/fhir-server.js');
  const server = await startDevFhirServer({ host: options.host, port: options.port });
  process.stdout.write(`Development FHIR server (in memory, no authentication) at ${server.baseUrl}\n`);
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

const program = new Command()
  .name('spine-cds')
  .description('CDS Hooks service for fracture risk from lumbar spine radiographs');

program
  .command('serve')
  .description('serve the CDS Hooks endpoints (configuration: CDS_CONFIG file and environment, see README)')
  .option('-c, --config <file>', 'configuration JSON file (default: $CDS_CONFIG)')
  .action(serve);

program
  .command('feedback-report')
  .description('print acceptance and override counts per service, card topic and override reason')
  .option('-c, --config <file>', 'configuration JSON file (default: $CDS_CONFIG)')
  .option('--json', 'print JSON instead of a table')
  .action(feedbackReport);

program
  .command('dev-fhir-server')
  .description('run the in-memory development FHIR server (tests and local demos only)')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--port <port>', 'port to listen on', port, 8081)
  .action(devFhirServer);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof ConfigError || (error instanceof Error && error.name === 'ServiceRegistryError')) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
