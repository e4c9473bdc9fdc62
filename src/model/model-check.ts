// `spine-cds model-check <dir>`: everything the service would refuse a model for, checked on one
// card + ONNX folder before it is dropped into models/, with a readable report. Steps: the card
// (schema, rules, sha256), the ONNX graph against the card, one inference on a neutral input, the
// golden pairs the card names, and the survival curves the outputs give.
import { basename, resolve } from 'node:path';
import type { WorkerPool } from '../workers/pool.js';
import { assembleCovariates } from './covariates.js';
import { loadGolden } from './golden.js';
import { loadModelFolder, type LoadedModel } from './model-registry.js';
import type { InferenceSettings } from './model-runtime.js';
import { inspectModel, OnnxModelRuntime } from './onnx-model-runtime.js';
import { horizonRisks, riskBand, survivalCurves } from './survival.js';
import type { ValueInfo } from './signature.js';

export const LOG_RISK_TOLERANCE = 1e-4;
/** Covariates are float32 in both frameworks; this allows rounding only. */
export const COVARIATE_TOLERANCE = 1e-5;

export interface CheckStep {
  name: string;
  ok: boolean;
  details: string[];
}

export interface ModelCheckReport {
  folder: string;
  modelId: string | null;
  ok: boolean;
  steps: CheckStep[];
  warnings: string[];
}

export interface ModelCheckDeps {
  /** A pool for this check only; it is closed when the check ends. */
  createPool(): WorkerPool;
  settings: InferenceSettings;
}

class StepFailure extends Error {}

const formatInfo = (v: ValueInfo): string => `"${v.name}" ${v.type ?? 'non-tensor'} [${v.shape.length > 0 ? v.shape.join(', ') : 'shape unknown'}]`;
const percent = (p: number): string => `${(p * 100).toFixed(2)} %`;

/** Checks S non-increasing in t, within [0, 1], F = 1 − S, every horizon and the band computable. */
function curveProblems(model: LoadedModel, logRisk: number): string[] {
  const { card } = model;
  const curves = survivalCurves(card.baseline, logRisk);
  const problems: string[] = [];
  curves.survival.forEach((s, i) => {
    if (!(s >= 0 && s <= 1)) problems.push(`S(${curves.times[i]}) = ${s} is outside [0, 1]`);
    if (i > 0 && s > (curves.survival[i - 1] as number)) problems.push(`S increases at t = ${curves.times[i]}`);
    if (Math.abs((curves.cumulativeIncidence[i] as number) - (1 - s)) > 1e-12) problems.push(`F(${curves.times[i]}) ≠ 1 − S`);
  });
  for (const h of horizonRisks(card.baseline, logRisk, card.horizons)) if (h.risk === null) problems.push(h.reason);
  const band = riskBand(card.riskBands, card.baseline, logRisk);
  if (band.name === null) problems.push(band.reason);
  return problems;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

export async function checkModel(folder: string, deps: ModelCheckDeps): Promise<ModelCheckReport> {
  const report: ModelCheckReport = { folder: resolve(folder), modelId: null, ok: true, steps: [], warnings: [] };
  const step = async <T>(name: string, run: (details: string[]) => T | Promise<T>): Promise<T | undefined> => {
    const details: string[] = [];
    try {
      const value = await run(details);
      report.steps.push({ name, ok: true, details });
      return value;
    } catch (error) {
      details.push(error instanceof Error ? error.message : String(error));
      report.steps.push({ name, ok: false, details });
      report.ok = false;
      return undefined;
    }
  };

  const model = await step('model card and artifact', async (details) => {
    const loaded = await loadModelFolder(folder, { requireFolderName: false });
    const { card } = loaded;
    report.modelId = card.id;
    const { height, width } = card.inputs.image.preprocessing;
    details.push(`${card.id} ${card.version} — ${card.name} (status: ${card.intendedUse.status})`);
    details.push(`image ${height} × ${width}; ${card.inputs.covariates ? `covariates: ${card.inputs.covariates.features.map((f) => f.name).join(', ')}` : 'image only'}`);
    details.push(`baseline: ${card.baseline.times.length} times up to ${card.baseline.times.at(-1)} ${card.intendedUse.timeUnit}s; horizons ${card.horizons.join(', ')}`);
    details.push(`sha256 of ${card.artifact.file} matches the card`);
    if (basename(loaded.folder) !== card.id) report.warnings.push(`the folder is named "${basename(loaded.folder)}"; in models/ it must be named "${card.id}"`);
    if (card.intendedUse.status !== 'clinical') report.warnings.push(`status is "${card.intendedUse.status}": cards will say it is not for clinical use`);
    return loaded;
  });
  if (!model) return report;

  const pool = deps.createPool();
  try {
    const runtime = await step('ONNX graph against the card', async (details) => {
      const inspection = await inspectModel(pool, model, deps.settings);
      details.push(`inputs: ${inspection.metadata.inputs.map(formatInfo).join(', ')}`);
      details.push(`outputs: ${inspection.metadata.outputs.map(formatInfo).join(', ')}`);
      if (inspection.fixedBatch !== null) report.warnings.push('the graph has a fixed batch of 1: every image runs alone (export with a dynamic batch axis to batch)');
      return OnnxModelRuntime.create({ registry: { models: new Map([[model.card.id, model]]) }, pool, settings: deps.settings });
    });
    if (!runtime) return report;
    const id = model.card.id;
    const { height, width } = model.card.inputs.image.preprocessing;
    const covariateCount = model.card.inputs.covariates?.features.length ?? 0;

    const logRisks: number[] = [];
    await step('inference on a neutral input', async (details) => {
      // Zero is the normalised mean grey and, for standardised covariates, the training mean.
      const [g] = await runtime.runVectors(id, [new Float32Array(height * width)], covariateCount > 0 ? [new Float32Array(covariateCount)] : null);
      details.push(`all-zero image${covariateCount > 0 ? ' and covariate vector' : ''}: g = ${(g as number).toFixed(6)}`);
      logRisks.push(g as number);
    });

    await step('golden pairs', async (details) => {
      const golden = await loadGolden(model);
      if (!golden) {
        details.push('the card names no golden file: the export is not compared with the training framework');
        report.warnings.push('no golden pairs (card field golden.file); parity with training cannot be checked');
        return;
      }
      const features = model.card.inputs.covariates?.features ?? [];
      const vectorDiffs = golden.cases.map((c) => (features.length > 0 ? maxAbsDifference(assembleCovariates(features, c.factors).vector, c.covariateVector) : 0));
      const predictions = await runtime.predictBatch(id, golden.images, golden.cases.map((c) => c.factors));
      const diffs = predictions.map((p, i) => Math.abs(p.logRisk - (golden.cases[i] as { logRisk: number }).logRisk));
      logRisks.push(...predictions.map((p) => p.logRisk));
      details.push(`${golden.cases.length} cases from ${basename(golden.file)}`);
      details.push(`covariate vectors from the factors: max |Δ| ${Math.max(...vectorDiffs).toExponential(2)} (tolerance ${COVARIATE_TOLERANCE})`);
      details.push(`log-risk: max |Δ| ${Math.max(...diffs).toExponential(2)} (tolerance ${LOG_RISK_TOLERANCE})`);
      const badVectors = vectorDiffs.flatMap((d, i) => (d > COVARIATE_TOLERANCE ? [i] : []));
      const badOutputs = diffs.flatMap((d, i) => (d > LOG_RISK_TOLERANCE ? [i] : []));
      if (badVectors.length > 0) throw new StepFailure(`case(s) ${badVectors.join(', ')}: the card's transforms do not reproduce the training covariate vectors`);
      if (badOutputs.length > 0) throw new StepFailure(`case(s) ${badOutputs.join(', ')}: onnxruntime's log-risk differs from the training framework's`);
    });

    await step('survival curves', (details) => {
      if (logRisks.length === 0) throw new StepFailure('no model output to draw curves from');
      const problems = [...new Set(logRisks.flatMap((g) => curveProblems(model, g)))];
      const neutral = logRisks[0] as number;
      const risks = horizonRisks(model.card.baseline, neutral, model.card.horizons).map((h) => `F(${h.horizon}) = ${h.risk === null ? 'n/a' : percent(h.risk)}`);
      details.push(`neutral input: ${risks.join(', ')}; band ${riskBand(model.card.riskBands, model.card.baseline, neutral).name ?? 'none'}`);
      details.push(`${logRisks.length} output(s): S non-increasing within [0, 1], F = 1 − S, every horizon on the grid`);
      if (problems.length > 0) throw new StepFailure(problems.join('; '));
    });
    await runtime.close();
  } finally {
    await pool.close();
  }
  return report;
}

export function formatModelCheckReport(report: ModelCheckReport): string {
  const lines = [`Model check: ${report.folder}${report.modelId ? ` (${report.modelId})` : ''}`];
  for (const s of report.steps) {
    lines.push(`  ${s.ok ? 'ok  ' : 'FAIL'} ${s.name}`);
    for (const d of s.details) lines.push(`         ${d}`);
  }
  for (const w of report.warnings) lines.push(`  warning: ${w}`);
  lines.push(report.ok ? 'PASSED' : 'FAILED');
  return `${lines.join('\n')}\n`;
}
