// The risk-factor table: each factor's value, whether it was found, missing (highlighted, in words as
// well as colour) or inferred, its sources and date, what the model did with it, and — for the yes/no
// factors — a what-if toggle. Plus the what-if bar that stays in view while toggles are changed.
import type { Assessment, YesNoFactor } from '../../src/api/smart-api-contract.js';
import { fill, h, hidden } from './dom.js';
import { factorModelText, factorSourceText, factorStatusText, factorValueText, percent, years } from './format.js';
import type { WhatIfView } from './summary.js';
import { chartToggles, isWhatIfFactor, type Toggles } from './what-if.js';

export interface FactorsHandlers {
  onToggle(toggles: Toggles): void;
  onReset(): void;
}

export class FactorsPanel {
  readonly element: HTMLElement;
  /** The bar that follows the page while a what-if is on (placed by the view at the end of <main>). */
  readonly bar: HTMLElement;
  private readonly inputs = new Map<YesNoFactor, HTMLInputElement>();
  private readonly chart: Record<YesNoFactor, boolean>;
  private readonly barText: HTMLElement;

  constructor(
    private readonly assessment: Assessment,
    private readonly handlers: FactorsHandlers,
  ) {
    this.chart = chartToggles(assessment.riskFactors);
    const rows = assessment.riskFactors.map((entry) => {
      const missing = entry.status === 'missing';
      const status = h(
        'span',
        { class: `status status-${entry.overridden ? 'overridden' : entry.status}` },
        missing ? h('span', { 'aria-hidden': 'true' }, '⚠ ') : null,
        factorStatusText(entry),
      );
      const toggle = isWhatIfFactor(entry.name) ? this.toggle(entry.name, entry.label) : h('span', { class: 'muted' }, '—');
      return h(
        'tr',
        { class: missing ? 'missing' : '', 'data-factor': entry.name },
        h('th', { scope: 'row' }, entry.label),
        h('td', { class: 'value' }, factorValueText(entry)),
        h('td', { class: 'status-col' }, status),
        h('td', { class: 'source' }, factorSourceText(entry)),
        h('td', { class: 'model-col' }, factorModelText(entry)),
        h('td', { class: 'whatif-col' }, toggle),
      );
    });
    const missingCount = assessment.riskFactors.filter((f) => f.status === 'missing').length;
    this.element = h(
      'section',
      { class: 'panel factors', 'aria-labelledby': 'factors-title' },
      h('h2', { id: 'factors-title' }, 'Risk factors'),
      h(
        'p',
        { class: 'hint' },
        missingCount > 0 ? h('strong', null, `${missingCount} missing from the chart. `) : null,
        'Tick or untick a yes/no factor under “What if” to see how the estimate would change; the chart itself is not changed.',
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'factors-table', class: 'factors-table' },
          h('caption', { class: 'vh' }, 'Risk factors the model read, with their sources'),
          h('thead', null, h('tr', null, ...['Risk factor', 'Value', 'Status', 'Source and date', 'Model', 'What if'].map((t) => h('th', { scope: 'col', class: t === 'What if' ? 'whatif-col' : '' }, t)))),
          h('tbody', null, ...rows),
        ),
      ),
    );
    this.barText = h('span', { id: 'whatif-bar-text' });
    this.bar = h(
      'div',
      { class: 'whatif-bar', id: 'whatif-bar', hidden: true },
      this.barText,
      h('button', { type: 'button', class: 'btn', id: 'whatif-reset', onclick: () => this.handlers.onReset() }, "Reset to the chart's values"),
      h('button', { type: 'button', class: 'btn', id: 'whatif-dismiss', onclick: () => this.show({ state: 'off' }) }, 'Dismiss'),
    );
  }

  private toggle(name: YesNoFactor, label: string): HTMLElement {
    const input = h('input', { type: 'checkbox', id: `whatif-${name}`, 'data-factor': name });
    input.checked = this.chart[name];
    input.addEventListener('change', () => {
      this.markChanged();
      this.handlers.onToggle(this.toggles());
    });
    this.inputs.set(name, input);
    return h('label', { class: 'toggle', for: `whatif-${name}` }, input, hidden(`What if ${label}: `), 'Yes', h('span', { class: 'changed-tag' }, ''));
  }

  toggles(): Toggles {
    const toggles: Toggles = {};
    for (const [name, input] of this.inputs) toggles[name] = input.checked;
    return toggles;
  }

  /** Back to the chart's values. */
  reset(): void {
    for (const [name, input] of this.inputs) input.checked = this.chart[name];
    this.markChanged();
  }

  private markChanged(): void {
    for (const [name, input] of this.inputs) {
      const changed = input.checked !== this.chart[name];
      const row = input.closest('tr');
      row?.classList.toggle('changed', changed);
      const tag = input.parentElement?.querySelector('.changed-tag');
      if (tag) tag.textContent = changed ? ' (changed)' : '';
    }
  }

  /** A failed what-if, said where the toggles are (the page's alert may be scrolled away). */
  failed(text: string): void {
    this.bar.hidden = false;
    this.bar.classList.add('failed');
    fill(this.barText, h('strong', null, 'What if failed: '), text);
  }

  /** The bar's text for the what-if as it stands. */
  show(view: WhatIfView): void {
    this.bar.classList.remove('failed');
    this.bar.hidden = view.state === 'off';
    this.element.setAttribute('aria-busy', String(view.state === 'pending'));
    if (view.state === 'off') return fill(this.barText);
    const changes = `${view.changes} factor${view.changes === 1 ? '' : 's'} changed`;
    const chartRisk = `${years(this.assessment.band.horizon)} risk on the chart ${percent(this.assessment.band.risk)}`;
    if (view.state === 'pending') return fill(this.barText, h('strong', null, 'What if'), ` (${changes}): computing… · ${chartRisk}`);
    const band = view.assessment.band;
    fill(this.barText, h('strong', null, 'What if'), ` (${changes}): ${years(band.horizon)} risk `, h('strong', null, percent(band.risk)), ` (${band.label}) · ${chartRisk}`);
  }
}
