// `evaluate --recorded`: reads the assessments a service recorded from its store, takes each patient's
// first assessment of one model, joins the site's outcomes file, and writes the report as JSON and
// Markdown. Input it cannot use (no store, an unreadable file, no assessments, nothing joined) is an
// EvaluationInputError: the command prints its message and exits with code 2.
import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { evaluateRecorded, type RecordedEvaluationReport } from './evaluate-recorded.js';
import { EvaluationInputError, EXCLUSION_REASONS, readOutcomesFile } from './outcomes-file.js';
import { chooseModel, firstAssessments, joinOutcomes } from './recorded-cohort.js';
import { renderRecordedMarkdown } from './recorded-report.js';

export { EvaluationInputError } from './outcomes-file.js';

export interface EvaluateRecordedCommandOptions {
  store: Pick<Store, 'listAssessments'>;
  /** How the report names the store (its path). */
  storeLabel: string;
  outcomes: string;
  /** The model id of the recorded assessments; default: the only one in the store. */
  modelId?: string;
  json: string;
  markdown: string;
  /** Default: "Prospective evaluation of <model id>". */
  title?: string;
}

/**
 * Opens the service's store. Checks first, read-only, that the path is an existing SQLite file with
 * the assessment table: SqliteStore would otherwise create a missing file, or add its tables (and an
 * issued-card index beside it) to some other database.
 */
export function openRecordedStore(path: string): SqliteStore {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    throw new EvaluationInputError(`cannot read the store ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (!isFile) throw new EvaluationInputError(`the store ${path} is not a file`);
  let hasAssessments: boolean;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    hasAssessments = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'assessment'").get() !== undefined;
  } catch (error) {
    throw new EvaluationInputError(`cannot read the store ${path} as a SQLite database: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    db?.close();
  }
  if (!hasAssessments) throw new EvaluationInputError(`the store ${path} has no assessment table: is it the service's store (store.sqlitePath)?`);
  try {
    return new SqliteStore({ path });
  } catch (error) {
    throw new EvaluationInputError(`cannot open the store ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function nothingJoined(patients: number, join: ReturnType<typeof joinOutcomes>): EvaluationInputError {
  const reasons = Object.entries(EXCLUSION_REASONS)
    .map(([reason, label]) => [label, join.excluded.filter((e) => e.reason === reason).length] as const)
    .filter(([, count]) => count > 0)
    .map(([label, count]) => `${count} × ${label}`);
  return new EvaluationInputError(
    `no outcome could be joined to the ${patients} assessed patients: ${join.withoutOutcome.absent} absent from the outcomes file` +
      (reasons.length > 0 ? `; rows excluded: ${reasons.join(', ')}` : ''),
  );
}

export async function runEvaluateRecorded(options: EvaluateRecordedCommandOptions): Promise<RecordedEvaluationReport> {
  const outcomes = await readOutcomesFile(options.outcomes);
  let rows = await options.store.listAssessments(options.modelId === undefined ? {} : { modelId: options.modelId });
  // Nothing of the model asked for: list what the store does hold.
  if (rows.length === 0 && options.modelId !== undefined) rows = await options.store.listAssessments();
  const modelId = chooseModel(rows, options.modelId);
  const first = firstAssessments(rows, modelId);
  if (first.predictions.length === 0) throw new EvaluationInputError(`none of the ${first.rows} recorded assessments of ${modelId} could be read`);
  const join = joinOutcomes(first, outcomes);
  if (join.patients.length === 0) throw nothingJoined(first.predictions.length, join);
  const report = evaluateRecorded({ first, outcomes, join, sources: { store: options.storeLabel, outcomes: options.outcomes } });
  const markdown = renderRecordedMarkdown(report, options.title ?? `Prospective evaluation of ${modelId}`);
  try {
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(options.markdown, markdown);
  } catch (error) {
    throw new EvaluationInputError(`cannot write the report: ${error instanceof Error ? error.message : String(error)}`);
  }
  return report;
}
