// The model card, collapsible: identity, intended use and population, what it reads, training data and
// evaluation figures (internal test split, and held-out figures when the card has them). The
// assessment's own model summary shows at once; the full card fills in when it arrives.
import type { ModelUsed } from '../../src/api/smart-api-contract.js';
import type { ModelCard } from '../../src/model/model-card.js';
import { fill, h, table } from './dom.js';
import { statusBanner } from './model-status.js';

interface Split {
  patients?: number;
  events?: number;
  harrellC?: number;
}

interface HeldOutModel {
  label?: string;
  harrellC?: number;
  harrellC95?: [number, number];
  unoC?: { value?: number };
  calibration?: { slope?: number; horizon?: number };
}

interface HeldOut {
  cohort?: { count?: number; events?: number; statement?: string };
  models?: HeldOutModel[];
}

const num = (v: unknown, digits: number): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');

function evaluationPart(card: ModelCard): HTMLElement[] {
  const evaluation = card.evaluation;
  const split = (evaluation.internalSplit as { test?: Split } | undefined)?.test;
  const heldOut = evaluation.heldOut as HeldOut | undefined;
  const parts: HTMLElement[] = [h('h3', null, 'Evaluation')];
  if (split) {
    parts.push(h('p', { id: 'eval-internal' }, `Internal test split: Harrell's C ${num(split.harrellC, 3)}`, split.patients ? ` (${split.patients} patients, ${split.events ?? '?'} fractures).` : '.'));
  }
  const models = Array.isArray(heldOut?.models) ? heldOut.models : [];
  if (models.length > 0) {
    const cohort = heldOut?.cohort;
    parts.push(
      h('p', null, 'Held-out cohort: ', cohort?.statement ?? '', cohort?.count ? ` ${cohort.count} patients, ${cohort.events ?? '?'} fractures.` : ''),
      h(
        'div',
        { class: 'table-wrap' },
        table(
          'Held-out evaluation',
          ['Model', "Harrell's C (95% CI)", "Uno's C", 'Calibration slope'],
          models.map((m) => [m.label ?? '', `${num(m.harrellC, 3)}${m.harrellC95 ? ` (${num(m.harrellC95[0], 3)}–${num(m.harrellC95[1], 3)})` : ''}`, num(m.unoC?.value, 3), num(m.calibration?.slope, 2)]),
          { id: 'eval-held-out', class: 'compact' },
        ),
      ),
    );
  }
  if (parts.length === 1) parts.push(h('p', null, 'The card gives no evaluation figures.'));
  return parts;
}

function cardBody(card: ModelCard, href: string): HTMLElement[] {
  const use = card.intendedUse;
  const end = card.baseline.times[card.baseline.times.length - 1];
  const covariates = card.inputs.covariates?.features.filter((f) => f.transform.kind !== 'is-missing').map((f) => f.name) ?? [];
  return [
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Intended use'),
      h('dd', { id: 'model-intended-use' }, use.statement),
      h('dt', null, 'Predicts'),
      h('dd', null, `${use.outcome}, within ${card.horizons.join(', ')} ${use.timeUnit}s (never past its follow-up of ${end?.toFixed(1) ?? '?'} ${use.timeUnit}s)`),
      h('dt', null, 'Population'),
      h('dd', { id: 'model-population' }, `Ages ${use.population.minAge}–${use.population.maxAge}, ${use.population.sexes.join(' and ')}; no prediction outside it`),
      h('dt', null, 'Reads'),
      h('dd', null, `A ${card.inputs.image.view} ${card.inputs.image.bodyPart} radiograph${covariates.length > 0 ? ` and ${covariates.length} clinical factors` : ''}`),
      h('dt', null, 'Training data'),
      h('dd', { id: 'model-training' }, card.training.data),
    ),
    ...evaluationPart(card),
    h('p', null, h('a', { href, target: '_blank', rel: 'noopener' }, 'The full model card (opens in a new tab)')),
  ];
}

export class ModelCardPanel {
  readonly element: HTMLDetailsElement;
  private readonly body: HTMLElement;

  constructor(
    private readonly model: ModelUsed,
    private readonly href: string,
  ) {
    this.body = h('div', { class: 'card-body' }, h('p', { class: 'muted', role: 'status' }, 'Loading the model card…'));
    this.element = h(
      'details',
      { class: 'panel model-card', id: 'model-card' },
      h('summary', null, h('h2', { class: 'inline' }, `Model card: ${model.name}`), ` — version ${model.version}`),
      statusBanner(model.status, model.statement),
      h('p', { class: 'identity' }, 'Identity: ', h('code', null, model.id), ` version ${model.version}, ONNX sha256 `, h('code', { class: 'sha' }, model.sha256)),
      this.body,
    );
  }

  show(card: ModelCard): void {
    fill(this.body, ...cardBody(card, this.href));
  }

  failed(reason: string): void {
    fill(this.body, h('p', { class: 'error-text' }, `The model card could not be loaded (${reason}). `, h('a', { href: this.href, target: '_blank', rel: 'noopener' }, 'Open it in a new tab'), '.'));
  }
}
