// Evaluates the predictions a service recorded (silent mode or live) against the outcomes a site
// reported later: the metrics of model-metrics.ts on the joined cohort, limited to the horizons its
// follow-up reaches, and the risk-band table. Returns the report data; recorded-report.ts renders it.
import { survivalAt } from './kaplan-meier.js';
import type { CalibrationResult } from './calibration.js';
import {
  DEFAULT_METRIC_OPTIONS,
  IBS_FROM,
  IBS_STEP,
  aucAt,
  brierAt,
  calibrationAt,
  dCalibrationOf,
  harrellWithInterval,
  integratedBrierTo,
  metricInputs,
  unoAt,
  type MetricInputs,
  type MetricOptions,
  type ScoredModel,
} from './model-metrics.js';
import { EXCLUSION_REASONS, type Exclusion, type ExclusionReason, type OutcomesFile } from './outcomes-file.js';
import type { FirstAssessments, JoinResult, RecordedPrediction } from './recorded-cohort.js';

/** A figure, or why it could not be estimated on this cohort. */
export type Estimate<T> = ({ estimable: true } & T) | { estimable: false; reason: string };

export interface FollowUpAtHorizon {
  time: number;
  /** Patients still observed (event-free) after this time. */
  observedBeyond: number;
  eventsBy: number;
  /** At least one patient observed beyond it: the censoring weights, hence the IPCW metrics, are defined. */
  evaluable: boolean;
}

export interface BandRow {
  name: string;
  label: string;
  n: number;
  eventsInFollowUp: number;
  /** At the band table's horizon; null when no horizon is within follow-up. */
  atHorizon: { events: number; meanPredictedRisk: number; observedRisk: number; observedRiskStdErr: number } | null;
}

export interface RecordedEvaluationReport {
  kind: 'recorded-predictions';
  model: { id: string; name: string; status: string; statement: string; versions: { version: string; patients: number }[] };
  sources: { store: string; outcomes: string };
  assessments: {
    /** Rows of the model in the store. */
    rows: number;
    /** Patients with a readable first assessment. */
    patients: number;
    laterIgnored: number;
    unreadable: number;
    firstAt: string | null;
    lastAt: string | null;
    fhirServers: number;
  };
  outcomes: {
    dataRows: number;
    joined: number;
    excludedByReason: { reason: ExclusionReason; label: string; count: number }[];
    excluded: Exclusion[];
    assessedWithoutOutcome: { absent: number; excluded: number };
  };
  cohort: { count: number; events: number; meanFollowUpMonths: number; maxFollowUpYears: number };
  followUp: FollowUpAtHorizon[];
  /** The card's riskBands horizon, at which the recorded band was assigned. */
  bandHorizon: number;
  /** Calibration and the band table: the band horizon when follow-up reaches it, else the largest horizon it reaches. */
  calibrationHorizon: number | null;
  metrics: {
    harrellC: Estimate<{ value: number; ci95: [number, number]; comparablePairs: number; bootstrapReplicates: number }>;
    unoC: Estimate<{ value: number; tau: number }>;
    auc: ({ time: number } & Estimate<{ value: number; cases: number; controls: number }>)[];
    brier: { time: number; value: number }[];
    integratedBrier: Estimate<{ value: number; from: number; to: number }>;
    calibration: Estimate<CalibrationResult>;
    dCalibration: { statistic: number; pValue: number };
  };
  bands: { horizon: number | null; rows: BandRow[] };
  notes: string[];
}

export interface EvaluateRecordedInput {
  first: FirstAssessments;
  outcomes: OutcomesFile;
  join: JoinResult;
  sources: { store: string; outcomes: string };
  bootstrap?: MetricOptions['bootstrap'];
}

/** Runs `compute`, turning a RangeError of the metric functions (no pairs, no cases, G = 0) into the reason. */
function estimate<T extends object>(compute: () => T): Estimate<T> {
  try {
    return { estimable: true, ...compute() };
  } catch (error) {
    if (error instanceof RangeError) return { estimable: false, reason: error.message };
    throw error;
  }
}

const notEstimable = (reason: string): { estimable: false; reason: string } => ({ estimable: false, reason });

/** The model as the scored-model interface of the metrics: g and the recorded curves. */
function scoredModel(predictions: readonly RecordedPrediction[]): ScoredModel {
  return {
    name: predictions[0]!.model.id,
    label: predictions[0]!.model.name,
    logRisk: Float64Array.from(predictions, (p) => p.logRisk),
    survival: (i, t) => survivalAt(predictions[i]!.curve, t),
  };
}

function followUpAt(inputs: MetricInputs, t: number): FollowUpAtHorizon {
  let observedBeyond = 0;
  let eventsBy = 0;
  inputs.time.forEach((ti, i) => {
    if (ti > t) observedBeyond++;
    else if (inputs.event[i] === 1) eventsBy++;
  });
  return { time: t, observedBeyond, eventsBy, evaluable: observedBeyond > 0 };
}

/** Bands ordered by the lowest risk recorded in each (bands are increasing intervals of risk). */
function bandOrder(predictions: readonly RecordedPrediction[]): { name: string; label: string }[] {
  const lowest = new Map<string, { name: string; label: string; risk: number }>();
  for (const { band } of predictions) {
    const seen = lowest.get(band.name);
    if (!seen || band.risk < seen.risk) lowest.set(band.name, { name: band.name, label: band.label, risk: band.risk });
  }
  return [...lowest.values()].sort((a, b) => a.risk - b.risk).map(({ name, label }) => ({ name, label }));
}

function bandTable(inputs: MetricInputs, predictions: readonly RecordedPrediction[], horizon: number | null): BandRow[] {
  const bands = bandOrder(predictions);
  const groupOf = predictions.map((p) => bands.findIndex((b) => b.name === p.band.name));
  const groups = horizon === null ? null : calibrationAt(inputs, horizon, { groupOf }).groups;
  return bands.map((band, g) => {
    const members = groupOf.flatMap((k, i) => (k === g ? [i] : []));
    const group = groups?.[g];
    return {
      ...band,
      n: members.length,
      eventsInFollowUp: members.filter((i) => inputs.event[i] === 1).length,
      atHorizon: group
        ? { events: group.events, meanPredictedRisk: group.meanPredictedRisk, observedRisk: group.observedRisk, observedRiskStdErr: group.observedRiskStdErr }
        : null,
    };
  });
}

function versions(predictions: readonly RecordedPrediction[]): { version: string; patients: number }[] {
  const count = new Map<string, number>();
  for (const p of predictions) count.set(p.model.version, (count.get(p.model.version) ?? 0) + 1);
  return [...count].map(([version, patients]) => ({ version, patients }));
}

export function evaluateRecorded(input: EvaluateRecordedInput): RecordedEvaluationReport {
  const { first, outcomes, join } = input;
  const joined = join.patients;
  if (joined.length === 0) throw new RangeError('no patient to evaluate: the join is empty');
  const predictions = joined.map((p) => p.prediction);
  const time = Float64Array.from(joined, (p) => p.time);
  const event = Uint8Array.from(joined, (p) => p.event);
  const inputs = metricInputs(time, event, scoredModel(predictions));
  const notes: string[] = [];

  const bandHorizon = predictions[0]!.band.horizon;
  const horizons = [...new Set(predictions.flatMap((p) => p.horizons))].sort((a, b) => a - b);
  const followUp = horizons.map((t) => followUpAt(inputs, t));
  const within = followUp.filter((f) => f.evaluable).map((f) => f.time);
  const tau = within.includes(bandHorizon) ? bandHorizon : (within[within.length - 1] ?? null);
  const calibrationHorizon = tau;
  if (tau === null) notes.push(`No horizon of the card (${horizons.join(', ')} years) is within follow-up yet: only Harrell's C, D-calibration and the band counts are reported.`);
  else if (tau !== bandHorizon) {
    notes.push(`The band horizon (${bandHorizon} years) is beyond follow-up: Uno's C, calibration and the band table are at ${tau} years, the largest horizon within it.`);
  }
  const modelVersions = versions(predictions);
  if (modelVersions.length > 1) notes.push(`The first assessments come from ${modelVersions.length} versions of ${first.modelId} (${modelVersions.map((v) => `${v.version}: ${v.patients}`).join(', ')}); they are evaluated together.`);
  if (new Set(predictions.map((p) => p.band.horizon)).size > 1) notes.push('The recorded bands were assigned at different horizons (the card changed between versions).');
  const fhirServers = new Set(first.predictions.map((p) => p.fhirServer ?? '')).size;
  if (fhirServers > 1) notes.push(`The assessments come from ${fhirServers} FHIR servers; outcomes are joined by patient id alone, so ids must be unique across them.`);
  if (first.unreadable > 0) notes.push(`${first.unreadable} recorded assessment(s) lack the fields the evaluation needs (an older format?) and were not used.`);

  const harrell = estimate(() => {
    const h = harrellWithInterval(inputs, input.bootstrap ?? DEFAULT_METRIC_OPTIONS.bootstrap);
    return { value: h.value, ci95: h.ci95, comparablePairs: h.comparable, bootstrapReplicates: h.replicates };
  });
  const beyondFollowUp = 'no horizon of the card is within follow-up';
  const metrics: RecordedEvaluationReport['metrics'] = {
    harrellC: harrell,
    unoC: tau === null ? notEstimable(beyondFollowUp) : estimate(() => unoAt(inputs, tau)),
    auc: within.map((t) => {
      const auc = estimate(() => aucAt(inputs, t));
      return { time: t, ...(auc.estimable ? { estimable: true as const, value: auc.auc, cases: auc.cases, controls: auc.controls } : auc) };
    }),
    brier: within.map((t) => brierAt(inputs, t)),
    integratedBrier:
      tau === null || tau < IBS_FROM + IBS_STEP ? notEstimable(`the grid runs from ${IBS_FROM} years to τ in steps of ${IBS_STEP}; τ is ${tau ?? 'undefined'}`) : estimate(() => integratedBrierTo(inputs, tau)),
    calibration: calibrationHorizon === null ? notEstimable(beyondFollowUp) : estimate(() => calibrationAt(inputs, calibrationHorizon, { groups: Math.min(10, joined.length) })),
    dCalibration: dCalibrationOf(inputs),
  };

  const computedAt = first.predictions.map((p) => p.computedAt).sort((a, b) => Date.parse(a) - Date.parse(b));
  const excludedByReason = (Object.keys(EXCLUSION_REASONS) as ExclusionReason[])
    .map((reason) => ({ reason, label: EXCLUSION_REASONS[reason], count: join.excluded.filter((e) => e.reason === reason).length }))
    .filter((r) => r.count > 0);
  const { model } = predictions[0]!;
  return {
    kind: 'recorded-predictions',
    model: { id: first.modelId, name: model.name, status: model.status, statement: model.statement, versions: modelVersions },
    sources: input.sources,
    assessments: {
      rows: first.rows,
      patients: first.predictions.length,
      laterIgnored: first.laterIgnored,
      unreadable: first.unreadable,
      firstAt: computedAt[0] ?? null,
      lastAt: computedAt[computedAt.length - 1] ?? null,
      fhirServers,
    },
    outcomes: { dataRows: outcomes.dataRows, joined: joined.length, excludedByReason, excluded: join.excluded, assessedWithoutOutcome: join.withoutOutcome },
    cohort: {
      count: joined.length,
      events: joined.filter((p) => p.event === 1).length,
      meanFollowUpMonths: (time.reduce((sum, t) => sum + t, 0) / time.length) * 12,
      maxFollowUpYears: time.reduce((max, t) => Math.max(max, t), 0),
    },
    followUp,
    bandHorizon,
    calibrationHorizon,
    metrics,
    bands: { horizon: calibrationHorizon, rows: bandTable(inputs, predictions, calibrationHorizon) },
    notes,
  };
}
