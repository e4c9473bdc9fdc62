// The model-card pages the cards' `source.url` points at: GET /models/<id> answers the card as JSON
// (Accept: application/json) or as a page a clinician can read in a minute (HTML): what the model is
// for, whom it may be used for, what it reads, its risk bands and how it performed, with the
// intended-use status in a banner. Public information, so no authentication; nothing patient-level.
import { Router, type Request } from 'express';
import { notFound } from '../cds/outcomes.js';
import type { CovariateFeature, ModelCard } from '../model/model-card.js';
import type { LoadedModel } from '../model/model-registry.js';
import { isYesNoFactor } from '../model/risk-factors.js';

const escapeHtml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

const pct = (fraction: number): string => `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)}%`;

const STATUS_TEXT: Record<ModelCard['intendedUse']['status'], string> = {
  demonstration: 'Demonstration model: not for clinical use',
  research: 'Research model: not for clinical use',
  clinical: 'Clinical model',
};

interface HeldOutModel {
  label?: string;
  harrellC?: number;
  harrellC95?: [number, number];
  unoC?: { value: number };
  calibration?: { slope: number; horizon: number };
}

function heldOutRows(card: ModelCard): string {
  const heldOut = card.evaluation.heldOut as { models?: HeldOutModel[]; cohort?: { count?: number; events?: number; statement?: string } } | undefined;
  if (!Array.isArray(heldOut?.models)) return '';
  const row = (m: HeldOutModel): string =>
    `<tr><td>${escapeHtml(m.label ?? '')}</td><td>${m.harrellC?.toFixed(3) ?? ''}${m.harrellC95 ? ` (${m.harrellC95[0].toFixed(3)}–${m.harrellC95[1].toFixed(3)})` : ''}</td><td>${m.unoC?.value.toFixed(3) ?? ''}</td><td>${m.calibration?.slope.toFixed(2) ?? ''}</td></tr>`;
  const cohort = heldOut.cohort;
  return `<h2>Evaluation on held-out data</h2>
<p>${escapeHtml(cohort?.statement ?? '')} ${cohort?.count ? `${cohort.count} patients, ${cohort.events ?? '?'} events.` : ''}</p>
<table><thead><tr><th>Model</th><th>Harrell's C (95% CI)</th><th>Uno's C</th><th>Calibration slope</th></tr></thead><tbody>${heldOut.models.map(row).join('')}</tbody></table>`;
}

function bandRows(card: ModelCard): string {
  return card.riskBands.bands
    .map((band, i, bands) => {
      const low = bands[i - 1]?.below;
      const range = band.below === undefined ? `${pct(low ?? 0)} or more` : low === undefined ? `below ${pct(band.below)}` : `${pct(low)} to below ${pct(band.below)}`;
      return `<tr><td>${escapeHtml(band.label)}</td><td>${range}</td><td>${band.indicator ?? 'info'}</td></tr>`;
    })
    .join('');
}

/** What an imputed value means to a reader: 0 is the average of a standardised feature, "no" for a yes/no one. */
function defaultText(feature: CovariateFeature): string {
  if (feature.missing.rule !== 'impute') return '';
  const { value } = feature.missing;
  if (feature.transform.kind === 'standardize') return value === 0 ? 'training average' : `${value} SD from the training average`;
  if (isYesNoFactor(feature.factor)) return value === 0 ? 'counted as no' : value === 1 ? 'counted as yes' : `value ${value}`;
  return `value ${value}`;
}

function covariateRows(card: ModelCard): string {
  return (card.inputs.covariates?.features ?? [])
    .map((f) => {
      const missing = f.missing.rule === 'refuse' ? 'required: no prediction without it' : defaultText(f);
      return `<tr><td>${escapeHtml(f.name)}</td><td>${f.transform.kind}</td><td>${f.transform.kind === 'is-missing' ? '' : missing}</td></tr>`;
    })
    .join('');
}

export function modelCardHtml(card: ModelCard): string {
  const { intendedUse: use, inputs } = card;
  const statusClass = use.status === 'clinical' ? 'ok' : 'warn';
  const grid = card.baseline.times;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(card.name)} ${escapeHtml(card.version)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;color:#1b1f24;max-width:860px;margin:0 auto;padding:1.5rem}
h1{font-size:1.45rem;margin:.2rem 0}h2{font-size:1.1rem;margin-top:1.8rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
.banner{padding:.7rem 1rem;border-radius:6px;font-weight:600;margin:1rem 0}.warn{background:#fff4d6;border:1px solid #b7791f;color:#5c3c00}.ok{background:#e6f4ea;border:1px solid #2f855a}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e1e4e8;vertical-align:top}th{background:#f6f8fa}
code{font-size:.85em;word-break:break-all}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}
</style></head><body>
<p>Model card</p>
<h1>${escapeHtml(card.name)}</h1>
<div class="banner ${statusClass}">${escapeHtml(STATUS_TEXT[use.status])}. ${escapeHtml(use.statement)}</div>
<p>${escapeHtml(card.description ?? '')}</p>
<h2>Intended use</h2>
<dl>
<dt>Predicts</dt><dd>${escapeHtml(use.outcome)}, as a risk within ${card.horizons.map((h) => `${h}`).join(', ')} ${use.timeUnit}s (never past the last follow-up time, ${grid[grid.length - 1]?.toFixed(1) ?? '?'} ${use.timeUnit}s)</dd>
<dt>Population</dt><dd>ages ${use.population.minAge}–${use.population.maxAge}, ${use.population.sexes.join(' and ')}; no prediction is made outside it</dd>
<dt>Reads</dt><dd>a ${inputs.image.view} ${escapeHtml(inputs.image.bodyPart)} radiograph (DX or CR)${inputs.covariates ? ' and the clinical risk factors below' : ''}</dd>
<dt>Identity</dt><dd><code>${escapeHtml(card.id)}</code> version ${escapeHtml(card.version)}, ONNX sha256 <code>${card.artifact.sha256}</code></dd>
</dl>
<h2>Risk bands (at ${card.riskBands.horizon} ${use.timeUnit}s)</h2>
<table><thead><tr><th>Band</th><th>Predicted risk</th><th>Card indicator</th></tr></thead><tbody>${bandRows(card)}</tbody></table>
${inputs.covariates ? `<h2>Clinical factors</h2><table><thead><tr><th>Feature</th><th>Transform</th><th>When not recorded</th></tr></thead><tbody>${covariateRows(card)}</tbody></table>` : ''}
<h2>Training data</h2><p>${escapeHtml(card.training.data)}</p>
${heldOutRows(card)}
<p><a href="?format=json">This card as JSON</a></p>
</body></html>`;
}

function wantsJson(req: Request): boolean {
  if (req.query.format === 'json') return true;
  return req.accepts(['text/html', 'application/json']) === 'application/json';
}

export function modelCardRouter(models: ReadonlyMap<string, LoadedModel>): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.json({ models: [...models.values()].map(({ card }) => ({ id: card.id, version: card.version, name: card.name, status: card.intendedUse.status })) });
  });
  router.get('/:id', (req, res) => {
    const model = models.get(req.params.id);
    if (!model) throw notFound('No such model');
    if (wantsJson(req)) res.json(model.card);
    else res.type('html').send(modelCardHtml(model.card));
  });
  return router;
}
