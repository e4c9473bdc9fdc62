// The headline (risk at the model's band horizon and its band), the demo disclaimer beside it, the
// what-if line, the "chart has changed" notice and the table of horizon risks. A what-if adds its
// values beside the chart's, labelled; nothing is shown past the model's follow-up.
import type { AssessedResponse, Assessment } from '../../src/api/smart-api-contract.js';
import { fill, h } from './dom.js';
import { day, horizonRows, percent, riskAt, survivalPercent, years } from './format.js';
import { statusTag } from './model-status.js';

/** The what-if as shown: none, being computed (the previous answer stays up meanwhile), or answered. */
export type WhatIfView = { state: 'off' } | { state: 'pending'; changes: number; previous: Assessment | null } | { state: 'on'; assessment: Assessment; changes: number };

export function shownWhatIf(view: WhatIfView): Assessment | null {
  return view.state === 'on' ? view.assessment : view.state === 'pending' ? view.previous : null;
}

function bandChip(band: Assessment['band'], id?: string): HTMLElement {
  return h('span', { class: `band band-${band.indicator}`, ...(id ? { id } : {}) }, band.label);
}

function horizonTable(chart: Assessment, whatIf: Assessment | null): HTMLTableElement {
  const rows = horizonRows(chart.horizons);
  const headers = ['Within', 'Fracture risk', 'Fracture-free', ...(whatIf ? ['What if: risk', 'What if: fracture-free'] : [])];
  const body = rows.map((row) => {
    const cells: (string | HTMLElement)[] = row.risk === null ? [h('td', { colspan: whatIf ? 4 : 2, class: 'not-estimated' }, row.note ?? '')] : [h('td', null, row.risk), h('td', null, row.survival ?? '')];
    if (whatIf && row.risk !== null) {
      const risk = riskAt(whatIf.horizons, row.horizon);
      cells.push(h('td', { class: 'whatif-cell' }, risk === null ? '—' : percent(risk)), h('td', { class: 'whatif-cell' }, risk === null ? '—' : survivalPercent(risk)));
    }
    return h('tr', { 'data-horizon': row.horizon }, h('th', { scope: 'row' }, row.label), ...cells);
  });
  return h(
    'table',
    { id: 'horizon-table', class: 'horizon-table' },
    h('caption', null, `Predicted ${chart.model.outcome} by time from now`),
    h('thead', null, h('tr', null, ...headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', null, ...body),
  );
}

function whatIfLine(view: WhatIfView, chart: Assessment): (HTMLElement | string)[] {
  if (view.state === 'off') return [];
  const factors = `${view.changes} factor${view.changes === 1 ? '' : 's'} changed`;
  if (view.state === 'pending') return [h('span', { class: 'whatif-label' }, 'What if'), ` (${factors}): computing…`];
  const band = view.assessment.band;
  return [
    h('span', { class: 'whatif-label' }, 'What if'),
    ` (${factors}): ${years(band.horizon)} risk `,
    h('strong', { id: 'whatif-risk' }, percent(band.risk)),
    ' ',
    bandChip(band, 'whatif-band'),
    h('span', { class: 'whatif-versus' }, ` — chart: ${percent(chart.band.risk)}`),
  ];
}

export class Summary {
  readonly element: HTMLElement;
  private readonly live: HTMLElement;
  private readonly tableHost: HTMLElement;

  constructor(private readonly response: AssessedResponse) {
    const chart = response.assessment;
    const tag = statusTag(chart.model.status);
    this.live = h('p', { id: 'whatif-headline', class: 'whatif-line', 'aria-live': 'polite' });
    this.tableHost = h('div', { class: 'table-wrap' }, horizonTable(chart, null));
    const factorCount = chart.riskFactors.filter((f) => f.model !== undefined).length;
    this.element = h(
      'section',
      { class: 'panel summary', 'aria-labelledby': 'headline' },
      h(
        'div',
        { class: 'headline-block' },
        h(
          'h1',
          { id: 'headline', class: 'headline' },
          h('span', { class: 'headline-text' }, `${years(chart.band.horizon)} vertebral fracture risk `),
          h('span', { class: 'headline-risk', id: 'headline-risk' }, percent(chart.band.risk)),
          ' ',
          bandChip(chart.band, 'headline-band'),
        ),
        tag ? h('p', { class: 'demo-tag', id: 'headline-disclaimer' }, tag) : null,
        response.contextMatches === false ? h('p', { class: 'notice', id: 'context-notice', role: 'note' }, "The chart has changed since the card was shown; these are today's figures.") : null,
        this.live,
        h(
          'p',
          { class: 'basis' },
          `From the ${chart.image.view === 'unknown' ? '' : `${chart.image.view === 'lateral' ? 'lateral' : chart.image.view.toUpperCase()} `}lumbar spine radiograph of ${day(chart.image.date)}`,
          factorCount > 0 ? ` and ${factorCount} clinical factors` : '',
          ` · computed ${day(chart.computedAt)} · model ${chart.model.id} ${chart.model.version}`,
        ),
      ),
      this.tableHost,
    );
  }

  update(view: WhatIfView): void {
    const chart = this.response.assessment;
    fill(this.live, ...whatIfLine(view, chart));
    const whatIf = shownWhatIf(view);
    fill(this.tableHost, horizonTable(chart, whatIf));
    this.tableHost.classList.toggle('with-whatif', whatIf !== null);
    this.element.classList.toggle('whatif-on', whatIf !== null);
    this.tableHost.classList.toggle('updating', view.state === 'pending');
  }
}
