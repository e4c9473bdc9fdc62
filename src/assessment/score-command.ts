// `spine-cds score`: checks what it is asked (the FHIR server on the allow-list, the token's variable,
// the state file), reads the first search page before loading any model (an unreachable server fails
// in a second), then walks with the pipeline it is handed and reports. Exit codes: 0 done (or stopped
// at --limit), 1 the run failed (FHIR unreachable, state not writable; the state is kept for a
// resume), 2 a configuration or input problem, 130/143 interrupted by SIGINT/SIGTERM (state saved).
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { FhirClientFactory, FhirRequestError, normalizeBaseUrl } from '../fhir/client.js';
import type { Assessor } from './assessor.js';
import { batchScore, fetchStatePage, radiographSearch, type ScoreRun } from './batch-score.js';
import { createProgressReporter, formatSummary, scoreSummary, type ScoreSummary } from './score-report.js';
import { defaultStatePath, ScoreStateError, ScoreStateFile } from './score-state.js';

export interface ScoreCommandOptions {
  /** The FHIR server's base URL (must be on fhir.servers). */
  fhir: string;
  /** State file; default `<dir of store.sqlitePath>/score-<hash of the server>.json`. */
  state?: string;
  concurrency: number;
  pageSize: number;
  writeBack: boolean;
  /** Name of the environment variable holding a bearer token for the FHIR server. */
  tokenEnv?: string;
  /** Patients to score in this run at most. */
  limit?: number;
  restart: boolean;
  json: boolean;
}

export interface ScoreCommandDeps {
  config: Config;
  /** Builds the assessment pipeline (serve.ts `createPipeline`); called only when there is work to do. */
  createPipeline: () => Promise<{ assessor: Assessor; close(): Promise<void> }>;
  env: Readonly<Record<string, string | undefined>>;
  stdout: NodeJS.WritableStream;
  /** Progress and messages; a progress bar when it is a TTY. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborted to stop: no new assessment starts, the state is saved. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Exit code for an interrupted run (130 after SIGINT, 143 after SIGTERM). */
  interruptedExitCode?: () => number;
}

/** A problem the user can act on: the message is printed as it is (no stack, no URL with ids, no token). */
export class ScoreCommandError extends Error {
  override name = 'ScoreCommandError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'that URL';
  }
}

/** Runs the command and returns its exit code; throws ScoreCommandError for what the user must fix. */
export async function runScore(options: ScoreCommandOptions, deps: ScoreCommandDeps): Promise<number> {
  const { config, stderr } = deps;
  const server = normalizeBaseUrl(options.fhir);
  if (server === undefined) throw new ScoreCommandError(`--fhir must be an http(s) URL without credentials (got ${describeServer(options.fhir)})`, 2);
  const factory = new FhirClientFactory(config.fhir);
  if (!factory.allows(server)) {
    throw new ScoreCommandError(`FHIR server ${server} is not on the allow-list (fhir.servers in the configuration); add it there to score it`, 2);
  }
  let token: string | undefined;
  if (options.tokenEnv !== undefined) {
    if (!ENV_NAME.test(options.tokenEnv)) throw new ScoreCommandError('--token-env must name an environment variable (letters, digits, underscore)', 2);
    token = deps.env[options.tokenEnv];
    if (!token) throw new ScoreCommandError(`--token-env names ${options.tokenEnv}, which is not set`, 2);
  }
  const client = factory.forServer(server, token);
  if (options.state === undefined && config.store.sqlitePath === ':memory:') {
    throw new ScoreCommandError('store.sqlitePath is :memory:, which keeps nothing for the next hook; configure a file, or give --state', 2);
  }
  const statePath = options.state ?? defaultStatePath(config.store.sqlitePath, server);

  let state: ScoreStateFile;
  try {
    state = await ScoreStateFile.open({ path: statePath, server, query: radiographSearch(options.pageSize), writeBack: options.writeBack, restart: options.restart });
  } catch (error) {
    if (error instanceof ScoreStateError) throw new ScoreCommandError(error.message, error.kind === 'input' ? 2 : 1);
    throw error;
  }

  const report = (summary: ScoreSummary): void => {
    deps.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
  };
  try {
    if (state.complete) {
      stderr.write(`score: the walk of ${server} in ${statePath} is complete; nothing to do (--restart walks it again)\n`);
      report(scoreSummary({ status: 'nothing-to-do', server, stateFile: statePath, resumed: false, counts: state.counts() }));
      return 0;
    }
    if (state.resumed) {
      const c = state.counts();
      stderr.write(
        `score: resuming the walk of ${server} from ${statePath}: ${c.assessed.total + c.notAssessed.total} patients already scored (${c.assessed.total} assessed, ${c.notAssessed.total} not assessed), ${c.failed.total} to retry\n`,
      );
    } else {
      stderr.write(`score: walking ${server}; state in ${statePath}\n`);
    }

    let firstPage;
    try {
      firstPage = await fetchStatePage(client, state, deps.signal);
    } catch (error) {
      if (error instanceof FhirRequestError) throw new ScoreCommandError(`Cannot read the radiograph search from ${server}: ${error.message}`, 1);
      throw error;
    }

    const pipeline = await deps.createPipeline();
    let run: ScoreRun;
    const progress = createProgressReporter({ stream: stderr });
    try {
      const { card } = pipeline.assessor.model;
      stderr.write(`score: model ${card.id} ${card.version} (${card.intendedUse.status}); ${options.concurrency} at a time${options.writeBack ? '; writing RiskAssessments back' : ''}\n`);
      run = await batchScore({
        assessor: pipeline.assessor,
        fhir: client,
        state,
        concurrency: options.concurrency,
        writeBack: options.writeBack,
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
        ...(deps.signal ? { signal: deps.signal } : {}),
        firstPage,
        ...(deps.logger ? { logger: deps.logger } : {}),
        onProgress: (p) => progress.update(p),
      });
    } finally {
      progress.stop();
      await pipeline.close();
    }
    report(scoreSummary({ status: run.status, server, stateFile: statePath, resumed: state.resumed, counts: state.counts(), run }));
    switch (run.status) {
      case 'complete':
      case 'limit':
        return 0;
      case 'interrupted':
        return deps.interruptedExitCode?.() ?? 130;
      case 'failed':
        return 1;
    }
  } catch (error) {
    if (error instanceof ScoreStateError) throw new ScoreCommandError(error.message, error.kind === 'input' ? 2 : 1);
    throw error;
  } finally {
    await state.close().catch((error: unknown) => {
      stderr.write(`score: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  }
}
