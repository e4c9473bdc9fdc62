// What the chart already says about bone health: a recorded FRAX result (never computed here) and
// any DXA T-scores.
import type { Assessment } from '../../src/api/smart-api-contract.js';
import { h, table } from './dom.js';
import { day } from './format.js';

const SITES: Readonly<Record<string, string>> = {
  'femoral-neck': 'Femoral neck',
  'total-hip': 'Total hip',
  femur: 'Femur',
  'lumbar-spine': 'Lumbar spine',
  other: 'Other site',
};

function fraxLine(frax: NonNullable<Assessment['frax']>): HTMLElement {
  const parts = [
    frax.majorOsteoporoticPercent === null ? null : `major osteoporotic fracture ${frax.majorOsteoporoticPercent}%`,
    frax.hipPercent === null ? null : `hip fracture ${frax.hipPercent}%`,
  ].filter((p): p is string => p !== null);
  return h('p', { id: 'frax' }, h('strong', null, `FRAX on record (${day(frax.date)}): `), `10-year ${parts.join(', ')}.`);
}

export function recordsPanel(assessment: Assessment): HTMLElement {
  const { frax, dxa } = assessment;
  return h(
    'section',
    { class: 'panel records', 'aria-labelledby': 'records-title' },
    h('h2', { id: 'records-title' }, 'FRAX and DXA on record'),
    frax ? fraxLine(frax) : h('p', { id: 'frax', class: 'muted' }, 'No FRAX result on record.'),
    dxa.length > 0
      ? table(
          'DXA T-scores, newest first',
          ['Date', 'Site', 'T-score'],
          dxa.map((d) => [day(d.date), SITES[d.site] ?? d.site, d.tScore === null ? '—' : d.tScore.toFixed(1)]),
          { id: 'dxa-table', class: 'compact' },
        )
      : h('p', { id: 'dxa', class: 'muted' }, 'No DXA result on record.'),
  );
}
