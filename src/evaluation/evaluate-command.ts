// `evaluate`: scores model folders on a cohort through the real runtime and writes the report as
// JSON and Markdown. Model folders need not sit under models/ (a site's candidate model, or the
// image-only comparison model of the training run).
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ModelConfig } from '../config.js';
import { createInferencePool, inferenceSettings } from '../model/inference-pool.js';
import { loadModelFolder, type LoadedModel } from '../model/model-registry.js';
import { OnnxModelRuntime } from '../model/onnx-model-runtime.js';
import { CohortFormatError, readCohort, type Cohort } from './cohort-file.js';
import { evaluateCohort, type EvaluationReport } from './evaluate-cohort.js';
import { renderMarkdown } from './report.js';

export interface EvaluateCommandOptions {
  cohort: string;
  /** Model folders; the first is the one the acceptance checks are about. */
  models: string[];
  trainCohort?: string;
  json: string;
  markdown: string;
  title: string;
  /** Also write the figures into the first model's card (`evaluation.heldOut`); the ONNX hash is unaffected. */
  updateCard?: boolean;
  model: ModelConfig;
  onProgress?: (message: string) => void;
}

/** The report's figures, small enough for the card; the full report stays beside it. */
export function cardSummary(report: EvaluationReport, markdownFile: string): Record<string, unknown> {
  const round = (x: number): number => Number(x.toFixed(4));
  return {
    report: basename(markdownFile),
    cohort: { seed: report.test.seed, count: report.test.count, events: report.test.events, statement: report.test.statement },
    models: report.models.map((m) => ({
      name: m.name,
      label: m.label,
      harrellC: round(m.harrellC.value),
      harrellC95: m.harrellC.ci95.map(round),
      unoC: { value: round(m.unoC.value), tau: m.unoC.tau },
      auc: m.auc.map((a) => ({ time: a.time, value: round(a.value) })),
      brier: { time: m.brier.time, value: round(m.brier.value) },
      integratedBrier: { ...m.integratedBrier, value: round(m.integratedBrier.value) },
      calibration: { horizon: m.calibration.horizon, slope: round(m.calibration.slope), observedToPredicted: round(m.calibration.observedToPredicted) },
      dCalibrationP: round(m.dCalibration.pValue),
    })),
    checks: report.checks.map((c) => ({ ...c, value: round(c.value), threshold: round(c.threshold) })),
  };
}

async function updateCard(model: LoadedModel, summary: Record<string, unknown>): Promise<void> {
  const card = JSON.parse(await readFile(model.cardFile, 'utf8')) as { evaluation?: Record<string, unknown> };
  card.evaluation = { ...card.evaluation, heldOut: summary };
  await writeFile(model.cardFile, `${JSON.stringify(card, null, 2)}\n`);
}

function describe(model: LoadedModel): { name: string; label: string } {
  const imageOnly = model.card.inputs.covariates === null;
  return { name: model.card.id, label: `DeepSurv ${imageOnly ? 'image only' : 'image + clinical'} (${model.card.id} ${model.card.version})` };
}

export async function runEvaluate(options: EvaluateCommandOptions): Promise<EvaluationReport> {
  const loaded = await Promise.all(options.models.map((folder) => loadModelFolder(folder, { requireFolderName: false })));
  const ids = new Set(loaded.map((m) => m.card.id));
  if (ids.size !== loaded.length) throw new CohortFormatError('two of the model folders have the same card id; give each model its own id');
  const test = await readCohort(options.cohort);
  let train: Cohort | null = null;
  const pool = createInferencePool(options.model);
  try {
    for (const model of loaded) {
      const expected = JSON.stringify(model.card.inputs.image.preprocessing);
      if (JSON.stringify(test.metadata.preprocessing) !== expected) {
        throw new CohortFormatError(`the cohort's images were preprocessed differently from what ${model.card.id} expects; regenerate it with synth --card ${model.cardFile}`);
      }
    }
    train = options.trainCohort ? await readCohort(options.trainCohort) : null;
    const runtime = await OnnxModelRuntime.create({
      registry: { models: new Map(loaded.map((m) => [m.card.id, m])) },
      pool,
      settings: inferenceSettings(options.model),
    });
    const report = await evaluateCohort({
      runtime,
      models: loaded.map((m) => ({ id: m.card.id, ...describe(m) })),
      test,
      train,
      onProgress: options.onProgress,
    });
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(options.markdown, renderMarkdown(report, options.title));
    if (options.updateCard) await updateCard(loaded[0]!, cardSummary(report, options.markdown));
    await runtime.close();
    return report;
  } finally {
    await test.close();
    await train?.close();
    await pool.close();
  }
}
