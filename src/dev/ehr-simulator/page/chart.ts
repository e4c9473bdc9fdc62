// The patient banner and the chart summary panels (problems, medications, bone health, imaging,
// observations, orders, family history), from the server's ChartSummary.
import type { ChartSummary, CodedEntry } from '../api-contract.js';
import { formatDate } from './card-view.js';
import { h } from './dom.js';

const SEX: Readonly<Record<string, string>> = { female: 'Female', male: 'Male', other: 'Other', unknown: 'Sex unknown' };

export function banner(summary: ChartSummary): HTMLElement {
  const { patient } = summary;
  const facts = [
    patient.sex === null ? 'Sex not recorded' : (SEX[patient.sex] ?? patient.sex),
    patient.age === null ? 'Age unknown' : `${patient.age} years`,
    patient.birthDate === null ? null : `Born ${formatDate(patient.birthDate)}`,
    `Patient ID ${patient.id}`,
  ].filter((f): f is string => f !== null);
  return h(
    'div',
    { class: 'banner', id: 'patient-banner', 'data-patient-id': patient.id },
    h('h2', { id: 'banner-name' }, patient.name),
    h('p', { class: 'banner-facts', id: 'banner-facts' }, facts.join(' · ')),
  );
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function entryItem(entry: CodedEntry): HTMLElement {
  const meta = [entry.detail, entry.date ? formatDate(entry.date) : undefined, entry.status].filter((m): m is string => Boolean(m));
  return h('li', { 'data-reference': entry.reference }, h('span', { class: 'entry-text' }, capitalised(entry.text)), meta.length > 0 ? h('span', { class: 'entry-meta' }, meta.join(' · ')) : null);
}

function panel(id: string, title: string, content: HTMLElement): HTMLElement {
  return h('section', { class: 'panel', id: `panel-${id}`, 'aria-labelledby': `panel-${id}-title` }, h('h3', { id: `panel-${id}-title` }, title), content);
}

function entryList(entries: readonly CodedEntry[], empty: string): HTMLElement {
  if (entries.length === 0) return h('p', { class: 'empty' }, empty);
  return h('ul', { class: 'entries' }, ...entries.map(entryItem));
}

const DXA_SITES: Readonly<Record<string, string>> = {
  'femoral-neck': 'Femoral neck',
  'total-hip': 'Total hip',
  femur: 'Femur',
  'lumbar-spine': 'Lumbar spine',
  other: 'Other site',
};

function boneHealth(summary: ChartSummary): HTMLElement {
  const { dxa, frax } = summary.boneHealth;
  const items: HTMLElement[] = dxa.map((d) =>
    h(
      'li',
      { 'data-reference': d.reference },
      h('span', { class: 'entry-text' }, `DXA T-score, ${DXA_SITES[d.site] ?? d.site}: ${d.tScore === null ? 'no value' : d.tScore.toFixed(1)}`),
      h('span', { class: 'entry-meta' }, formatDate(d.date)),
    ),
  );
  if (frax !== null) {
    const parts = [frax.majorOsteoporoticPercent === null ? null : `major osteoporotic ${frax.majorOsteoporoticPercent}%`, frax.hipPercent === null ? null : `hip ${frax.hipPercent}%`].filter(Boolean);
    items.push(h('li', {}, h('span', { class: 'entry-text' }, `FRAX 10-year: ${parts.join(', ')}`), h('span', { class: 'entry-meta' }, formatDate(frax.date))));
  }
  if (items.length === 0) return h('p', { class: 'empty' }, 'No DXA or FRAX result on record.');
  return h('ul', { class: 'entries' }, ...items);
}

export function chartPanels(summary: ChartSummary): HTMLElement[] {
  return [
    panel('problems', 'Problems', entryList(summary.problems, 'No problems recorded.')),
    panel('medications', 'Medications', entryList(summary.medications, 'No medications recorded.')),
    panel('bone-health', 'Bone health (DXA, FRAX)', boneHealth(summary)),
    panel('imaging', 'Imaging', entryList(summary.imaging, 'No imaging studies on record.')),
    panel('observations', 'Latest observations', entryList(summary.observations, 'No observations recorded.')),
    panel('orders', 'Orders', entryList(summary.orders, 'No orders.')),
    panel('family-history', 'Family history', entryList(summary.familyHistory, 'No family history recorded.')),
  ];
}
