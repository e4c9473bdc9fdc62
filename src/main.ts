#!/usr/bin/env node
// Command-line entry: serve the CDS service, report feedback, check and evaluate models, generate the
// synthetic cohort, run the local FHIR server.
import type { Server } from 'node:http';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogDestination, createLogger } from './ops/logger.js';
import { SqliteStore } from './store/sqlite-store.js';
import { formatFeedbackSummary } from './store/feedback-report.js';

function configFrom(file: string | undefined): Config {
  return loadConfig(process.env, file ?? process.env.CDS_CONFIG);
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

function isoDate(value: string): Date {
  const date = new Date(`${value}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(date.getTime())) throw new InvalidArgumentError('must be a date, YYYY-MM-DD');
  return date;
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
  const { createServing } = await import('./serve.js');
  const serving = await createServing(config, { logger });
  const server: Server = serving.app.express.listen(config.server.port, config.server.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.requestTimeout = 60_000;
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : config.server.port;
  const services = serving.registry.discovery().services.map((s) => `${s.id}${config.services[s.id as keyof Config['services']]?.silent ? ' (silent)' : ''}`);
  logger.info({ host: config.server.host, port: boundPort, services, model: serving.assessor.model.card.id, mode: config.mode }, 'listening');

  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    serving.app.markNotReady();
    server.close(() => {
      void serving.close().finally(() => {
        logger.info('stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 10_000).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

async function feedbackReport(options: { config?: string; json?: boolean }): Promise<void> {
  const config = configFrom(options.config);
  const store = new SqliteStore({ path: config.store.sqlitePath });
  try {
    const rows = await store.feedbackSummary();
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

async function modelCheck(dir: string, options: { config?: string }): Promise<void> {
  const config = configFrom(options.config);
  const { checkModel, formatModelCheckReport } = await import('./model/model-check.js');
  const { createInferencePool, inferenceSettings } = await import('./model/inference-pool.js');
  const report = await checkModel(dir, { createPool: () => createInferencePool({ inferenceThreads: 1 }), settings: inferenceSettings(config.model) });
  process.stdout.write(formatModelCheckReport(report));
  process.exitCode = report.ok ? 0 : 1;
}

interface SynthCommandOptions {
  seed: number;
  count: number;
  start: number;
  out: string;
  spec?: string;
  card?: string;
  indexDate: Date;
  keepDicom?: boolean;
  threads?: number;
}

async function synth(options: SynthCommandOptions): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const { parsePreprocessingSpec } = await import('./imaging/preprocessing.js');
  const { synthesizeCohort } = await import('./synthetic/synth.js');
  const { DEMO_PREPROCESSING } = await import('./synthetic/demo-preprocessing.js');
  if (options.spec && options.card) throw new InvalidArgumentError('give --spec or --card, not both');
  // A test cohort for a model must go through that model's preprocessing: --card takes it from the card.
  const file = options.card ?? options.spec;
  const json = file ? (JSON.parse(await readFile(file, 'utf8')) as { inputs?: { image?: { preprocessing?: unknown } } }) : null;
  const spec = json === null ? DEMO_PREPROCESSING : parsePreprocessingSpec(options.card ? json.inputs?.image?.preprocessing : json);
  const started = Date.now();
  let reported = 0;
  const { events } = await synthesizeCohort({
    seed: options.seed,
    count: options.count,
    start: options.start,
    out: options.out,
    spec,
    indexDate: options.indexDate,
    keepDicom: options.keepDicom ?? false,
    threads: options.threads,
    onProgress: (done, total) => {
      if (done === total || Date.now() - reported > 10_000) {
        reported = Date.now();
        process.stderr.write(`synth: ${done}/${total} patients\n`);
      }
    },
  });
  process.stdout.write(`synth: ${options.count} patients, ${events} events, written to ${options.out} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

interface EvaluateCliOptions {
  cohort: string;
  model: string[];
  trainCohort?: string;
  json: string;
  markdown: string;
  title: string;
  updateCard?: boolean;
  config?: string;
}

async function evaluate(options: EvaluateCliOptions): Promise<void> {
  const config = configFrom(options.config);
  const { runEvaluate } = await import('./evaluation/evaluate-command.js');
  const report = await runEvaluate({
    cohort: options.cohort,
    models: options.model,
    trainCohort: options.trainCohort,
    json: options.json,
    markdown: options.markdown,
    title: options.title,
    updateCard: options.updateCard ?? false,
    model: config.model,
    onProgress: (message) => process.stderr.write(`evaluate: ${message}\n`),
  });
  for (const m of report.models) process.stdout.write(`${m.label}: Harrell's C ${m.harrellC.value.toFixed(3)}\n`);
  for (const c of report.checks) process.stdout.write(`${c.pass ? 'pass' : 'FAIL'} ${c.name}: ${c.rule} (${c.value.toFixed(3)} vs ${c.threshold.toFixed(3)})\n`);
  process.stdout.write(`report: ${options.markdown}, ${options.json}\n`);
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

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
  .command('model-check <dir>')
  .description('check a model folder (model-card.json + ONNX): card, sha256, graph, a neutral inference, golden pairs, curves; exit 1 on failure')
  .option('-c, --config <file>', 'configuration JSON file (default: $CDS_CONFIG), for the model.* inference settings')
  .action(modelCheck);

program
  .command('synth')
  .description('write a synthetic cohort (phantom DICOM radiographs through the service decode + preprocessing, risk factors, outcomes, truth) for training and evaluation')
  .requiredOption('--seed <n>', 'cohort seed', integer)
  .requiredOption('--count <n>', 'number of patients', positiveInteger)
  .requiredOption('--out <dir>', 'output directory')
  .option('--start <n>', 'index of the first patient', integer, 0)
  .option('--spec <file>', 'preprocessing block (JSON); default models/training/demo-preprocessing.json')
  .option('--card <file>', "take the preprocessing from a model card (for a model's test cohort)")
  .option('--index-date <YYYY-MM-DD>', 'radiographs are dated up to a year before this day', isoDate, isoDate('2026-01-01'))
  .option('--keep-dicom', 'also write each DICOM file under <out>/dicom')
  .option('--threads <n>', 'worker threads (default: cores, at most 4)', positiveInteger)
  .action(synth);

program
  .command('evaluate')
  .description("evaluate models on a cohort through the runtime, with the oracle and the study's Cox comparators; writes JSON and Markdown")
  .requiredOption('--cohort <dir>', 'test cohort (synth format)')
  .requiredOption('--model <dir>', 'model folder (repeatable; the first is the one the checks are about)', collect)
  .option('--train-cohort <dir>', 'cohort the Cox comparators are fitted on')
  .option('--json <file>', 'report JSON', 'evaluation.json')
  .option('--markdown <file>', 'report Markdown', 'evaluation.md')
  .option('--title <text>', 'report title', 'Evaluation')
  .option('--update-card', "write the figures into the first model's card (evaluation.heldOut)")
  .option('-c, --config <file>', 'configuration JSON file (default: $CDS_CONFIG), for the model.* inference settings')
  .action(evaluate);

program
  .command('dev-fhir-server')
  .description('run the in-memory development FHIR server (tests and local demos only)')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--port <port>', 'port to listen on', port, 8081)
  .action(devFhirServer);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof ConfigError || (error instanceof Error && ['ServiceRegistryError', 'ModelCardError', 'CohortFormatError'].includes(error.name))) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
