#!/usr/bin/env node
// Command-line entry: serve the CDS service, score a FHIR server's patients in batch, report feedback,
// check and evaluate models, generate the synthetic cohort, run the local FHIR server.
import type { Server } from 'node:http';
import { Command, InvalidArgumentError } from 'commander';
import { assertServable, ConfigError, loadConfig, type Config } from './config.js';
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
  assertServable(config); // before the models load, so a refused configuration fails at once
  const logger = createLogger(config.log.level, createLogDestination());
  if (config.auth.disabled) {
    logger.warn('client authentication is DISABLED (auth.disabled): any caller can invoke the services; never do this outside development');
  } else if (config.auth.clients.length === 0) {
    logger.warn('no trusted clients are configured (auth.clients): every CDS call will be refused with 401');
  }
  const { createServing } = await import('./serve.js');
  const { startHttpServer } = await import('./http-server.js');
  const serving = await createServing(config, { logger });
  const server: Server = await startHttpServer(serving.app.express, config.server);
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

interface DemoCommandOptions {
  host: string;
  port: number;
  cache: string;
  app: string;
  models: string;
  orthanc: boolean;
  logLevel: string;
}

async function demo(options: DemoCommandOptions): Promise<void> {
  const { startDemo } = await import('./dev/demo.js');
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  // The service's own log goes to stderr at warn and above: the console is for the demo's progress.
  const logger = createLogger(options.logLevel, createLogDestination(2));
  out('Spine fracture-risk demo: synthetic patients, demonstration model (not for clinical use).');
  const started = performance.now();
  const ports = { cds: options.port, fhir: options.port + 1, ehr: options.port + 2, auth: options.port + 3 };
  const running = await startDemo({ host: options.host, ports, cacheDir: options.cache, appDir: options.app, modelDir: options.models, orthanc: options.orthanc ? undefined : false, logger, progress: (line) => out(`  ${line}`) });
  const { urls } = running;
  out(`\nReady in ${((performance.now() - started) / 1000).toFixed(1)} s. Open the EHR simulator:\n`);
  out(`  EHR simulator     ${urls.ehr}/`);
  out(`  CDS service       ${urls.cds}  (CDS Hooks at /cds-services: calls need a client JWT, which the simulator signs)`);
  out(`  SMART app         ${urls.app}  (opened from a card in the simulator)`);
  out(`  Model card        ${urls.cds}/models/${running.serving.assessor.model.card.id}`);
  out(`  FHIR server       ${urls.fhir}  (SMART tokens required)`);
  out(`  Authorization     ${urls.auth}/.well-known/openid-configuration`);
  out(`  PACS (DICOMweb)   ${urls.pacs ?? 'not running (Orthanc is not installed)'}`);
  out('\nPress Ctrl-C to stop.');
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    out('\nStopping…');
    void running.close().then(() => {
      out('Stopped.');
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
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
  cohort?: string;
  model?: string[];
  trainCohort?: string;
  json: string;
  markdown: string;
  title: string;
  updateCard?: boolean;
  config?: string;
  recorded?: boolean;
  store?: string;
  outcomes?: string;
}

/** A usage problem of `evaluate`: the message, exit code 2. */
function evaluateUsage(message: string): void {
  process.stderr.write(`${message}\n`);
  process.exitCode = 2;
}

async function evaluateRecorded(options: EvaluateCliOptions, title: string | undefined): Promise<void> {
  const conflicts = ([['cohort', '--cohort'], ['trainCohort', '--train-cohort'], ['updateCard', '--update-card']] as const).filter(([key]) => options[key] !== undefined);
  if (conflicts.length > 0) return evaluateUsage(`${conflicts.map(([, flag]) => flag).join(', ')} cannot be used with --recorded`);
  if (options.outcomes === undefined) return evaluateUsage('--recorded needs --outcomes <file.csv> (columns id, event, date)');
  if (options.store !== undefined && options.config !== undefined) return evaluateUsage('give -c <config> or --store <sqlite path>, not both');
  if ((options.model?.length ?? 0) > 1) return evaluateUsage('--recorded evaluates one model: give --model <id> once');
  const { EvaluationInputError, openRecordedStore, runEvaluateRecorded } = await import('./evaluation/recorded-command.js');
  try {
    const path = options.store ?? configFrom(options.config).store.sqlitePath;
    const store = openRecordedStore(path);
    try {
      const report = await runEvaluateRecorded({
        store,
        storeLabel: path,
        outcomes: options.outcomes,
        modelId: options.model?.[0],
        json: options.json,
        markdown: options.markdown,
        title,
      });
      const { harrellC } = report.metrics;
      const excluded = report.outcomes.excludedByReason.map((r) => `${r.count} ${r.reason}`).join(', ');
      process.stdout.write(
        `${report.model.id} ${report.model.versions.map((v) => v.version).join(', ')}: ${report.cohort.count} patients joined, ${report.cohort.events} events, ` +
          `${report.assessments.laterIgnored} later assessments ignored, ${report.outcomes.assessedWithoutOutcome.absent} assessed patients absent from the outcomes` +
          `${excluded ? `; outcome rows excluded: ${excluded}` : ''}\n` +
          `Harrell's C ${harrellC.estimable ? harrellC.value.toFixed(3) : `not estimable (${harrellC.reason})`}\n` +
          `report: ${options.markdown}, ${options.json}\n`,
      );
    } finally {
      store.close();
    }
  } catch (error) {
    if (error instanceof EvaluationInputError) return evaluateUsage(error.message);
    throw error;
  }
}

async function evaluate(options: EvaluateCliOptions, command: Command): Promise<void> {
  if (options.recorded) return evaluateRecorded(options, command.getOptionValueSource('title') === 'default' ? undefined : options.title);
  const recordedOnly = (['store', 'outcomes'] as const).filter((key) => options[key] !== undefined);
  if (recordedOnly.length > 0) return evaluateUsage(`${recordedOnly.map((key) => `--${key}`).join(', ')}: only with --recorded`);
  const { cohort, model: models } = options;
  if (cohort === undefined || models === undefined) return evaluateUsage('evaluate needs --cohort <dir> and --model <dir>, or --recorded with --outcomes <file.csv>');
  const config = configFrom(options.config);
  const { runEvaluate } = await import('./evaluation/evaluate-command.js');
  const report = await runEvaluate({
    cohort,
    models,
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

interface ScoreCliOptions {
  config?: string;
  fhir: string;
  state?: string;
  concurrency: number;
  pageSize: number;
  writeBack?: boolean;
  tokenEnv?: string;
  limit?: number;
  restart?: boolean;
  json?: boolean;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

async function score(options: ScoreCliOptions): Promise<void> {
  const config = configFrom(options.config);
  const { runScore, ScoreCommandError } = await import('./assessment/score-command.js');
  // The progress and the summary are the interface; the pipeline's log (stderr) keeps to warnings unless configured quieter.
  const level = LOG_LEVELS.indexOf(config.log.level) < LOG_LEVELS.indexOf('warn') ? 'warn' : config.log.level;
  const logger = createLogger(level, createLogDestination(2));
  const stop = new AbortController();
  let interruptedBy: NodeJS.Signals = 'SIGINT';
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) process.exit(signal === 'SIGTERM' ? 143 : 130);
    interruptedBy = signal;
    process.stderr.write(`\nscore: stopping after the assessments in flight; the state is saved (${signal} again to quit at once)\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    process.exitCode = await runScore(
      {
        fhir: options.fhir,
        ...(options.state !== undefined ? { state: options.state } : {}),
        concurrency: options.concurrency,
        pageSize: options.pageSize,
        writeBack: options.writeBack ?? false,
        ...(options.tokenEnv !== undefined ? { tokenEnv: options.tokenEnv } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
        restart: options.restart ?? false,
        json: options.json ?? false,
      },
      {
        config,
        createPipeline: async () => (await import('./serve.js')).createPipeline(config, { logger }),
        env: process.env,
        stdout: process.stdout,
        stderr: process.stderr,
        signal: stop.signal,
        logger,
        interruptedExitCode: () => (interruptedBy === 'SIGTERM' ? 143 : 130),
      },
    );
  } catch (error) {
    if (error instanceof ScoreCommandError) {
      process.stderr.write(`score: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else if (error instanceof ConfigError || (error instanceof Error && error.name === 'ModelCardError')) {
      throw error; // exit 2 below
    } else {
      // The operator gets the message, not a stack trace.
      process.stderr.write(`score: failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
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
  .description(
    "evaluate models on a cohort through the runtime, with the oracle and the study's Cox comparators; or, with --recorded, the predictions the service recorded against later outcomes; writes JSON and Markdown",
  )
  .option('--cohort <dir>', 'test cohort (synth format)')
  .option('--model <dir|id>', 'model folder (repeatable; the first is the one the checks are about); with --recorded, the model id of the recorded assessments (default: the only one in the store)', collect)
  .option('--train-cohort <dir>', 'cohort the Cox comparators are fitted on')
  .option('--recorded', "evaluate recorded predictions (silent mode or live): each patient's first assessment in the store joined with --outcomes")
  .option('--store <file>', 'with --recorded: the SQLite store to read (default: store.sqlitePath of the configuration)')
  .option('--outcomes <file>', 'with --recorded: outcomes CSV with a header and the columns id, event (1 fracture / 0 none), date (YYYY-MM-DD of the fracture or last follow-up)')
  .option('--json <file>', 'report JSON', 'evaluation.json')
  .option('--markdown <file>', 'report Markdown', 'evaluation.md')
  .option('--title <text>', 'report title (with --recorded, default: Prospective evaluation of <model id>)', 'Evaluation')
  .option('--update-card', "write the figures into the first model's card (evaluation.heldOut)")
  .option('-c, --config <file>', 'configuration JSON file (default: $CDS_CONFIG): the model.* inference settings, or with --recorded store.sqlitePath')
  .action(evaluate);

program
  .command('score')
  .description("assess every patient with a lumbar radiograph on a FHIR server (paged, resumable, concurrency-limited): fills the store's cache for the next hook and, with --write-back, records RiskAssessments")
  .requiredOption('--fhir <url>', 'FHIR server base URL (must be on fhir.servers in the configuration)')
  .option('-c, --config <file>', 'configuration JSON file (default: $CDS_CONFIG)')
  .option('--state <file>', 'state file for resuming (default: <store dir>/score-<hash of server>.json; holds patient ids)')
  .option('--concurrency <n>', 'assessments in flight at most', positiveInteger, 2)
  .option('--page-size <n>', 'ImagingStudy search page size (_count)', positiveInteger, 50)
  .option('--write-back', 'create a RiskAssessment per assessed patient (conditional create: a rerun adds none)')
  .option('--token-env <name>', 'environment variable holding a bearer token for the FHIR server')
  .option('--limit <n>', 'score at most this many patients in this run (the next run goes on)', positiveInteger)
  .option('--restart', 'start the walk over, whatever the state file holds')
  .option('--json', 'print the summary as JSON')
  .action(score);

program
  .command('demo')
  .description('run the whole product on loopback with synthetic patients: FHIR server, SMART authorization server, Orthanc, the CDS service and the SMART app, and an EHR simulator to drive them')
  .option('--host <host>', 'address to bind (every part stays on it)', '127.0.0.1')
  .option('--port <n>', 'first of four ports: the CDS service, then the FHIR server, the EHR simulator and the authorization server', port, 8080)
  .option('--cache <dir>', 'where rendered radiographs are kept between runs', 'data/demo-cache')
  .option('--app <dir>', 'the built SMART app (npm run build)', 'dist/smart-app')
  .option('--models <dir>', 'model folder', 'models')
  .option('--no-orthanc', 'run without Orthanc even when it is installed')
  .option('--log-level <level>', "the service's log level (to stderr)", 'warn')
  .action(demo);

program
  .command('dev-fhir-server')
  .description('run the in-memory development FHIR server (tests and local demos only)')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--port <port>', 'port to listen on', port, 8081)
  .action(devFhirServer);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof ConfigError || (error instanceof Error && ['ServiceRegistryError', 'ModelCardError', 'CohortFormatError', 'StoreUnavailableError'].includes(error.name))) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
