// The prospective cohort of recorded predictions: each patient's first recorded assessment of one
// model (the index prediction; later ones are counted and ignored), joined with the outcomes file.
// Time runs in years (365.25 days) from the UTC day of the assessment to the outcome's date.
import type { StoredAssessment } from '../store/store.js';
import type { SurvivalStep } from './kaplan-meier.js';
import { EvaluationInputError, type Exclusion, type OutcomesFile } from './outcomes-file.js';

export const DAYS_PER_YEAR = 365.25;
const DAY_MS = 86_400_000;

/** What the evaluation reads from a recorded Assessment (src/assessment/assessment.ts). */
export interface RecordedPrediction {
  patientId: string;
  computedAt: string;
  fhirServer: string | null;
  model: { id: string; version: string; name: string; status: string; statement: string };
  /** g(x), the log hazard ratio. */
  logRisk: number;
  /** S(t) as recorded: a step function from t = 0, held at its last value beyond the grid. */
  curve: SurvivalStep;
  /** The card's horizons, years. */
  horizons: number[];
  band: { name: string; label: string; horizon: number; risk: number };
}

export interface FirstAssessments {
  modelId: string;
  /** One per patient, in order of assessment. */
  predictions: RecordedPrediction[];
  /** Rows of the model read from the store. */
  rows: number;
  /** Assessments after a patient's first, not used. */
  laterIgnored: number;
  /** Rows whose JSON lacks what the evaluation needs (not used, counted). */
  unreadable: number;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isNumberArray = (value: unknown): value is number[] => Array.isArray(value) && value.every((x) => typeof x === 'number' && Number.isFinite(x));
const isString = (value: unknown): value is string => typeof value === 'string';

/** The fields of a stored Assessment the evaluation uses, or null when they are not all there. */
export function recordedPrediction(row: StoredAssessment): RecordedPrediction | null {
  let json: unknown;
  try {
    json = JSON.parse(row.json);
  } catch {
    return null;
  }
  if (!isObject(json) || !isObject(json.curves) || !isObject(json.band) || !isObject(json.model) || !Array.isArray(json.horizons)) return null;
  const { logRisk, curves, band, model, horizons } = json;
  if (typeof logRisk !== 'number' || !Number.isFinite(logRisk)) return null;
  if (!isNumberArray(curves.times) || !isNumberArray(curves.survival) || curves.times.length === 0 || curves.times.length !== curves.survival.length) return null;
  if (!isString(band.name) || !isString(band.label) || typeof band.horizon !== 'number' || typeof band.risk !== 'number') return null;
  const horizonTimes = horizons.map((h: unknown) => (isObject(h) ? h.horizon : undefined));
  if (!isNumberArray(horizonTimes)) return null;
  if (!isString(model.name) || !isString(model.status) || !isString(model.statement)) return null;
  if (Number.isNaN(Date.parse(row.computedAt))) return null;
  return {
    patientId: row.patientId,
    computedAt: row.computedAt,
    fhirServer: row.fhirServer,
    model: { id: row.modelId, version: row.modelVersion, name: model.name, status: model.status, statement: model.statement },
    logRisk,
    curve: { times: Float64Array.from(curves.times), survival: Float64Array.from(curves.survival) },
    horizons: horizonTimes,
    band: { name: band.name, label: band.label, horizon: band.horizon, risk: band.risk },
  };
}

/** The model to evaluate: the one asked for, or the only one in the store. */
export function chooseModel(rows: readonly StoredAssessment[], requested: string | undefined): string {
  const ids = [...new Set(rows.map((r) => r.modelId))].sort();
  if (requested !== undefined) {
    if (ids.includes(requested)) return requested;
    throw new EvaluationInputError(
      ids.length === 0 ? 'the store holds no recorded assessments' : `the store holds no assessment of ${requested}; it has assessments of ${ids.join(', ')}`,
    );
  }
  if (ids.length === 0) throw new EvaluationInputError('the store holds no recorded assessments');
  if (ids.length > 1) throw new EvaluationInputError(`the store holds assessments of several models (${ids.join(', ')}); choose one with --model <id>`);
  return ids[0]!;
}

/**
 * Each patient's first readable assessment of the model, by computedAt (then key, as the store
 * orders them). A patient's later assessments are counted in `laterIgnored`: the prospective index
 * is the prediction made before anything was known of the outcome.
 */
export function firstAssessments(rows: readonly StoredAssessment[], modelId: string): FirstAssessments {
  const ofModel = rows
    .filter((r) => r.modelId === modelId)
    .map((row) => ({ row, at: Date.parse(row.computedAt) }))
    .map(({ row, at }) => ({ row, at: Number.isNaN(at) ? Number.POSITIVE_INFINITY : at }))
    .sort((a, b) => a.at - b.at || (a.row.key < b.row.key ? -1 : a.row.key > b.row.key ? 1 : 0));
  const first = new Map<string, RecordedPrediction>();
  let laterIgnored = 0;
  let unreadable = 0;
  for (const { row } of ofModel) {
    if (first.has(row.patientId)) {
      laterIgnored++;
      continue;
    }
    const prediction = recordedPrediction(row);
    if (prediction) first.set(row.patientId, prediction);
    else unreadable++;
  }
  return { modelId, predictions: [...first.values()], rows: ofModel.length, laterIgnored, unreadable };
}

/** The UTC calendar day of an instant, as ms since the epoch. */
function utcDay(iso: string): number {
  const at = new Date(iso);
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
}

/** Years from the UTC day of `computedAt` to `date` (YYYY-MM-DD): whole days / 365.25; negative when the date is earlier. */
export function yearsFromAssessment(computedAt: string, date: string): number {
  return Math.round((Date.parse(`${date}T00:00:00Z`) - utcDay(computedAt)) / DAY_MS) / DAYS_PER_YEAR;
}

export interface JoinedPatient {
  prediction: RecordedPrediction;
  /** Years from the assessment to the fracture or the last follow-up. */
  time: number;
  event: 0 | 1;
}

export interface JoinResult {
  patients: JoinedPatient[];
  /** Every outcome row not used, by line: the file's own problems and those of the join. */
  excluded: Exclusion[];
  /** Patients with a first assessment and no usable outcome: no row names them, or their rows were excluded. */
  withoutOutcome: { absent: number; excluded: number };
}

/** Joins outcomes to first assessments by patient id; patients come out in order of assessment. */
export function joinOutcomes(first: FirstAssessments, outcomes: OutcomesFile): JoinResult {
  const byId = new Map(first.predictions.map((p) => [p.patientId, p]));
  const excluded = [...outcomes.excluded];
  const outcomeOf = new Map<string, { time: number; event: 0 | 1 }>();
  for (const row of outcomes.rows) {
    const prediction = byId.get(row.id);
    if (!prediction) {
      excluded.push({ line: row.line, reason: 'unknown-id', detail: `no recorded assessment of ${first.modelId} for this id` });
      continue;
    }
    const time = yearsFromAssessment(prediction.computedAt, row.date);
    if (time < 0) {
      excluded.push({ line: row.line, reason: 'before-assessment', detail: `the date is ${Math.round(-time * DAYS_PER_YEAR)} days before the first assessment` });
      continue;
    }
    outcomeOf.set(row.id, { time, event: row.event });
  }
  excluded.sort((a, b) => a.line - b.line);
  const patients = first.predictions.flatMap((prediction) => {
    const outcome = outcomeOf.get(prediction.patientId);
    return outcome ? [{ prediction, ...outcome }] : [];
  });
  const absent = first.predictions.filter((p) => !outcomes.idsSeen.has(p.patientId)).length;
  return { patients, excluded, withoutOutcome: { absent, excluded: first.predictions.length - patients.length - absent } };
}
