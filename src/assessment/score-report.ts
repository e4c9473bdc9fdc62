// What batch scoring tells its user: a progress bar on a terminal (cli-progress) or a plain line every
// few seconds otherwise (a log file, CI), and a summary at the end, as text or JSON. Counts only:
// no patient id or other PHI reaches either.
import cliProgress from 'cli-progress';
import type { ScoreProgress, ScoreRun, WalkStatus } from './batch-score.js';
import type { OutcomeCounts } from './score-state.js';

export interface ScoreSummary {
  /** `nothing-to-do`: the state file records a complete walk. */
  status: WalkStatus | 'nothing-to-do';
  /** Why the walk stopped early (`failed`). */
  failure?: string;
  server: string;
  stateFile: string;
  /** This run went on from an earlier run's state. */
  resumed: boolean;
  /** The saved page was gone (an expired paging link): the walk began again at the first page, skipping patients already scored. */
  restartedFromFirstPage: boolean;
  /** Over every run of this walk: distinct patients scored (assessed, not assessed or failed). */
  seen: number;
  assessed: OutcomeCounts['assessed'];
  notAssessed: OutcomeCounts['notAssessed'];
  failures: OutcomeCounts['failed'];
  /** This run. */
  run: {
    scored: number;
    /** Patients met again that an earlier run had scored. */
    skipped: number;
    elapsedSeconds: number;
    perMinute: number | null;
  };
  /** RiskAssessments written in this run (null without --write-back). */
  writeBack: ScoreRun['writeBack'];
}

export function scoreSummary(input: { status: ScoreSummary['status']; server: string; stateFile: string; resumed: boolean; counts: OutcomeCounts; run?: ScoreRun }): ScoreSummary {
  const { counts, run } = input;
  const elapsedSeconds = Math.round((run?.elapsedMs ?? 0) / 100) / 10;
  return {
    status: input.status,
    ...(run?.failure !== undefined ? { failure: run.failure } : {}),
    server: input.server,
    stateFile: input.stateFile,
    resumed: input.resumed,
    restartedFromFirstPage: run?.restartedFromFirstPage ?? false,
    seen: counts.assessed.total + counts.notAssessed.total + counts.failed.total,
    assessed: counts.assessed,
    notAssessed: counts.notAssessed,
    failures: counts.failed,
    run: {
      scored: run?.scored ?? 0,
      skipped: run?.skipped ?? 0,
      elapsedSeconds,
      perMinute: run && run.elapsedMs > 0 && run.scored > 0 ? Math.round((run.scored / run.elapsedMs) * 600_000) / 10 : null,
    },
    writeBack: run?.writeBack ?? null,
  };
}

const STATUS_TEXT: Record<ScoreSummary['status'], string> = {
  complete: 'walk complete',
  limit: 'stopped at --limit; run again to go on',
  interrupted: 'interrupted; run again to resume',
  failed: 'stopped by a failure; run again to resume',
  'nothing-to-do': 'the walk is already complete: nothing to do (--restart walks it again)',
};

/** `a 3, b 1`, largest first. */
function breakdown(table: Record<string, number>): string {
  const parts = Object.entries(table)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([key, n]) => `${key} ${n}`);
  return parts.length > 0 ? `  (${parts.join(', ')})` : '';
}

export function formatSummary(summary: ScoreSummary): string {
  const row = (label: string, value: number | string, rest = ''): string => `  ${label.padEnd(14)}${String(value).padStart(7)}${rest}\n`;
  const resumed = summary.resumed ? ' (resumed from an earlier run)' : '';
  let text = `Batch scoring of ${summary.server}: ${STATUS_TEXT[summary.status]}${resumed}\n`;
  if (summary.failure) text += `  ${summary.failure}\n`;
  if (summary.restartedFromFirstPage) text += '  the saved search page had expired: walked again from the first page, skipping patients already scored\n';
  text += row('patients seen', summary.seen);
  text += row('assessed', summary.assessed.total, breakdown(summary.assessed.byBand));
  text += row('not assessed', summary.notAssessed.total, breakdown(summary.notAssessed.byReason));
  text += row('failures', summary.failures.total, breakdown(summary.failures.byReason));
  if (summary.status !== 'nothing-to-do') {
    const { run } = summary;
    text += row('skipped', run.skipped, '  already scored by an earlier run');
    const rate = run.perMinute === null ? '' : `, ${run.perMinute} per minute`;
    text += row('this run', run.scored, `  patients in ${run.elapsedSeconds} s${rate}`);
  }
  if (summary.writeBack) {
    const { created, existing, failed } = summary.writeBack;
    text += row('written back', created + existing, `  RiskAssessments (${created} created, ${existing} already there${failed ? `, ${failed} failed` : ''})`);
  }
  text += `  state file: ${summary.stateFile}\n`;
  return text;
}

export interface ProgressReporter {
  update(progress: ScoreProgress): void;
  /** Ends the bar, or prints the last plain line. */
  stop(): void;
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Plain lines: at most one this often (ms). */
  intervalMs?: number;
  now?: () => number;
}

function describeProgress(p: ScoreProgress, perMinute: string): string {
  const walked = p.studiesTotal === null ? `${p.studiesWalked}` : `${p.studiesWalked}/${p.studiesTotal}`;
  return `score: ${walked} studies walked; assessed ${p.counts.assessed.total}, not assessed ${p.counts.notAssessed.total}, failures ${p.counts.failed.total}; this run ${p.scored} scored, ${p.skipped} skipped, ${perMinute} per minute`;
}

export function createProgressReporter(options: ProgressOptions): ProgressReporter {
  const now = options.now ?? Date.now;
  const started = now();
  const rate = (p: ScoreProgress): string => {
    const minutes = (now() - started) / 60_000;
    return minutes > 0 ? (p.scored / minutes).toFixed(1) : '0.0';
  };
  let last: ScoreProgress | undefined;

  if (options.stream.isTTY) {
    let bar: cliProgress.SingleBar | undefined;
    const payload = (p: ScoreProgress): object => ({
      assessed: p.counts.assessed.total,
      notAssessed: p.counts.notAssessed.total,
      failures: p.counts.failed.total,
      scored: p.scored,
      rate: rate(p),
    });
    return {
      update(p) {
        last = p;
        if (!bar) {
          const counts = '{assessed} assessed, {notAssessed} not assessed, {failures} failures | {rate}/min';
          bar = new cliProgress.SingleBar(
            {
              stream: options.stream,
              format: p.studiesTotal === null ? `score | {value} studies walked | ${counts}` : `score |{bar}| {value}/{total} studies | ${counts} | ETA {eta_formatted}`,
              hideCursor: true,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(p.studiesTotal ?? 0, p.studiesWalked, payload(p));
        }
        if (p.studiesTotal !== null) bar.setTotal(Math.max(p.studiesTotal, p.studiesWalked));
        bar.update(p.studiesWalked, payload(p));
      },
      stop() {
        bar?.stop();
      },
    };
  }

  const interval = options.intervalMs ?? 5000;
  let printed = 0;
  let pending = false;
  const print = (): void => {
    if (!last) return;
    printed = now();
    pending = false;
    options.stream.write(`${describeProgress(last, rate(last))}\n`);
  };
  const timer = setInterval(() => {
    if (pending && now() - printed >= interval) print();
  }, Math.min(interval, 1000));
  timer.unref();
  return {
    update(p) {
      last = p;
      pending = true;
      if (now() - printed >= interval) print();
    },
    stop() {
      clearInterval(timer);
      if (pending) print();
    },
  };
}
