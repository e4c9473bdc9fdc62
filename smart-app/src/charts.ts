// The three views of the curves — cumulative incidence, fracture-free survival, hazard — as ARIA tabs,
// each a uPlot step chart over the card's grid (never past its end) with a caption, an accessible
// name and a data table. A what-if is drawn beside the chart's curve, which turns dashed.
// No comparison curves (clinical factors only, same-age/same-sex reference): the model card schema
// has no field for them yet, so there is nothing to draw.
import uPlot from 'uplot';
import type { Assessment } from '../../src/api/smart-api-contract.js';
import { fill, h, table } from './dom.js';
import { binText, curveEnd, hazardText, percent, stepValueAt, survivalPercent, yearlySamples, yearlyHazard, yearsText } from './format.js';

type ViewId = 'risk' | 'survival' | 'hazard';

interface ViewSpec {
  id: ViewId;
  tab: string;
  title: string;
  axis: string;
  caption: string;
}

const VIEWS: readonly ViewSpec[] = [
  { id: 'risk', tab: 'Fracture risk', title: 'Fracture risk (cumulative incidence)', axis: 'Risk', caption: 'The chance of a first vertebral fracture by each time, from now.' },
  { id: 'survival', tab: 'Fracture-free', title: 'Fracture-free survival', axis: 'Fracture-free', caption: 'The chance of staying free of vertebral fracture up to each time.' },
  { id: 'hazard', tab: 'Hazard', title: 'Hazard', axis: 'Hazard', caption: 'The yearly rate of new vertebral fractures among those still fracture-free, averaged over each year.' },
];

const INK = '#1b1f24';
const GRID = '#d8dee4';
const CHART_COLOUR = '#1f5f99';
const WHAT_IF_COLOUR = '#b5400b';
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

interface Series {
  x: number[];
  y: number[];
}

function seriesOf(view: ViewId, a: Assessment): Series {
  if (view === 'hazard') {
    const bins = yearlyHazard(a.curves);
    const last = bins[bins.length - 1];
    // Stepped "after": each bin's rate holds from its start; the last point closes the final bin.
    return { x: [...bins.map((b) => b.start), last?.end ?? 0], y: [...bins.map((b) => b.rate * 100), (last?.rate ?? 0) * 100] };
  }
  const values = view === 'risk' ? a.curves.cumulativeIncidence : a.curves.survival;
  return { x: a.curves.times, y: values.map((v) => v * 100) };
}

/** The what-if's values on the chart's x grid (the same grid in practice; sampled to be safe). */
function aligned(x: readonly number[], s: Series): number[] {
  return x.map((t) => stepValueAt(s.x, s.y, t) ?? Number.NaN);
}

function yRange(view: ViewId, ys: readonly number[]): [number, number] {
  const finite = ys.filter((v) => Number.isFinite(v));
  if (view === 'survival') {
    const low = Math.min(...finite, 100);
    return [Math.max(0, Math.floor((low - 2) / 5) * 5), 100];
  }
  const high = Math.max(...finite, 0);
  const top = view === 'risk' ? Math.max(5, high * 1.15) : Math.max(1, high * 1.2);
  return [0, Math.ceil(top)];
}

/** A dot and its value at the band horizon, so the headline figure can be found on the curve. */
function markerHook(view: ViewId, horizon: number, labels: string[]): (u: uPlot) => void {
  return (u) => {
    if (view === 'hazard') return;
    const ctx = u.ctx;
    const px = window.devicePixelRatio || 1;
    u.series.forEach((_, i) => {
      if (i === 0) return;
      const data = u.data[i];
      const xs = u.data[0];
      if (!data) return;
      const y = stepValueAt(xs as number[], data as number[], horizon);
      if (y === null || !Number.isFinite(y)) return;
      const cx = u.valToPos(horizon, 'x', true);
      const cy = u.valToPos(y, 'y', true);
      const colour = i === 1 ? CHART_COLOUR : WHAT_IF_COLOUR;
      ctx.save();
      ctx.fillStyle = colour;
      ctx.beginPath();
      ctx.arc(cx, cy, 4 * px, 0, 2 * Math.PI);
      ctx.fill();
      ctx.font = `${600} ${12 * px}px system-ui, sans-serif`;
      ctx.textAlign = 'right';
      ctx.fillText(labels[i - 1] ?? '', cx - 8 * px, cy + (i === 1 ? -8 : 16) * px);
      ctx.restore();
    });
  };
}

/** The headline figure in this view: the band risk, or its fracture-free complement. */
function bandFigure(view: ViewId, a: Assessment): string {
  return view === 'survival' ? survivalPercent(a.band.risk) : percent(a.band.risk);
}

function valueText(view: ViewId, v: number | null | undefined): string {
  // Nothing until the pointer is over the chart.
  if (v === null || v === undefined || !Number.isFinite(v)) return '';
  if (view === 'hazard') return hazardText(v / 100);
  // The same rounding as the tables, so a figure read off the chart matches them.
  return view === 'risk' ? percent(v / 100) : survivalPercent(1 - v / 100);
}

interface ChartData {
  chart: Assessment;
  whatIf: Assessment | null;
}

function makePlot(view: ViewId, data: ChartData, width: number, height: number, host: HTMLElement): uPlot {
  const base = seriesOf(view, data.chart);
  const end = curveEnd(data.chart.curves);
  const other = data.whatIf ? aligned(base.x, seriesOf(view, data.whatIf)) : null;
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  const horizon = data.chart.band.horizon;
  const markerLabels = [data.chart, data.whatIf].filter((a): a is Assessment => a !== null).map((a) => bandFigure(view, a));
  const series: uPlot.Series[] = [
    { label: 'Years', value: (_u, v) => (v === null ? '–' : yearsText(Math.round(v * 10) / 10)) },
    {
      label: data.whatIf ? 'Chart (today)' : 'Chart',
      stroke: CHART_COLOUR,
      width: 2,
      dash: data.whatIf ? [6, 4] : undefined,
      paths: stepped,
      points: { show: false },
      value: (_u, v) => valueText(view, v),
    },
  ];
  if (other) series.push({ label: 'What if', stroke: WHAT_IF_COLOUR, width: 2.5, paths: stepped, points: { show: false }, value: (_u, v) => valueText(view, v) });
  const axisLabel = view === 'hazard' ? 'Hazard (% per year)' : `${VIEWS.find((v) => v.id === view)?.axis ?? ''} (%)`;
  const opts: uPlot.Options = {
    width,
    height,
    scales: { x: { time: false, range: [0, end] }, y: { range: yRange(view, [...base.y, ...(other ?? [])]) } },
    axes: [
      { label: 'Years from now', stroke: INK, font: FONT, labelFont: FONT, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID }, incrs: [1, 2, 5, 10], values: (_u, splits) => splits.map((v) => String(v)) },
      {
        label: axisLabel,
        stroke: INK,
        font: FONT,
        labelFont: FONT,
        size: 52,
        grid: { stroke: GRID, width: 1 },
        ticks: { stroke: GRID },
        values: (_u, splits) => splits.map((v) => `${v}%`),
      },
    ],
    series,
    cursor: { drag: { x: false, y: false, setScale: false }, points: { size: 6 } },
    legend: { show: true, live: true },
    hooks: { draw: [markerHook(view, horizon, markerLabels)] },
  };
  const aligned2: uPlot.AlignedData = other ? [base.x, base.y, other] : [base.x, base.y];
  return new uPlot(opts, aligned2, host);
}

function dataTable(view: ViewId, data: ChartData): HTMLTableElement {
  const headers = ['Time', data.whatIf ? 'Chart (today)' : 'Chart', ...(data.whatIf ? ['What if'] : [])];
  const id = `table-${view}`;
  if (view === 'hazard') {
    const bins = yearlyHazard(data.chart.curves);
    const other = data.whatIf ? yearlyHazard(data.whatIf.curves) : null;
    const rows = bins.map((b, i) => [binText(b), hazardText(b.rate), ...(other ? [hazardText(other[i]?.rate ?? Number.NaN)] : [])]);
    return table('Hazard, averaged over each year', headers, rows, { id, class: 'data-table' });
  }
  // Fracture-free as the complement of the risk as shown, as in the horizon table.
  const pick = (a: Assessment): string[] => yearlySamples(a.curves).map((s) => (view === 'risk' ? percent(s.risk) : survivalPercent(s.risk)));
  const samples = yearlySamples(data.chart.curves);
  const chartValues = pick(data.chart);
  const whatIfValues = data.whatIf ? pick(data.whatIf) : [];
  const rows = samples.map((s, i) => [`${yearsText(s.t)}`, chartValues[i] ?? '', ...(data.whatIf ? [whatIfValues[i] ?? '—'] : [])]);
  const caption = view === 'risk' ? 'Fracture risk at each whole year' : 'Fracture-free survival at each whole year';
  return table(caption, headers, rows, { id, class: 'data-table' });
}

function chartLabel(view: ViewId, data: ChartData): string {
  const end = curveEnd(data.chart.curves).toFixed(1);
  const spec = VIEWS.find((v) => v.id === view) as ViewSpec;
  const horizon = data.chart.band.horizon;
  const figures = view === 'hazard' ? '' : ` ${bandFigure(view, data.chart)} at ${horizon} years${data.whatIf ? `; what if: ${bandFigure(view, data.whatIf)}` : ''}.`;
  return `${spec.title} chart, 0 to ${end} years.${figures} The data table below gives the values.`;
}

export class Charts {
  readonly element: HTMLElement;
  private data: ChartData;
  private selected: ViewId = 'risk';
  private readonly plots = new Map<ViewId, uPlot>();
  private readonly hosts = new Map<ViewId, HTMLElement>();
  private readonly tables = new Map<ViewId, HTMLElement>();
  private readonly tabs = new Map<ViewId, HTMLButtonElement>();
  private readonly panels = new Map<ViewId, HTMLElement>();

  constructor(chart: Assessment) {
    this.data = { chart, whatIf: null };
    const tablist = h('div', { role: 'tablist', 'aria-label': 'Curve views', class: 'tabs' });
    const panels = VIEWS.map((view) => {
      const selected = view.id === this.selected;
      const tab = h(
        'button',
        { type: 'button', role: 'tab', id: `tab-${view.id}`, 'aria-controls': `panel-${view.id}`, 'aria-selected': String(selected), tabindex: selected ? 0 : -1, onclick: () => this.select(view.id) },
        view.tab,
      );
      tab.addEventListener('keydown', (event) => this.onKey(event));
      tablist.append(tab);
      this.tabs.set(view.id, tab);
      const host = h('div', { class: 'chart', id: `chart-${view.id}`, role: 'img', 'aria-label': chartLabel(view.id, this.data) });
      const tableHost = h('div', { class: 'table-wrap' }, dataTable(view.id, this.data));
      this.hosts.set(view.id, host);
      this.tables.set(view.id, tableHost);
      const panel = h(
        'div',
        { role: 'tabpanel', id: `panel-${view.id}`, 'aria-labelledby': `tab-${view.id}`, class: 'tabpanel', tabindex: 0, hidden: !selected },
        h('figure', null, h('figcaption', null, h('strong', null, view.title), ` — ${view.caption}`), host),
        h('details', { class: 'data', id: `data-${view.id}` }, h('summary', null, 'Data table'), tableHost),
      );
      this.panels.set(view.id, panel);
      return panel;
    });
    this.element = h('section', { class: 'panel charts', 'aria-labelledby': 'charts-title' }, h('div', { class: 'charts-head' }, h('h2', { id: 'charts-title' }, 'Risk over time'), tablist), ...panels);
    new ResizeObserver(() => this.resize()).observe(this.element);
    window.addEventListener('beforeprint', () => this.printSize(true));
    window.addEventListener('afterprint', () => this.printSize(false));
  }

  update(whatIf: Assessment | null): void {
    this.data = { chart: this.data.chart, whatIf };
    for (const view of VIEWS) {
      this.plots.get(view.id)?.destroy();
      this.plots.delete(view.id);
      this.hosts.get(view.id)?.setAttribute('aria-label', chartLabel(view.id, this.data));
      const tableHost = this.tables.get(view.id);
      if (tableHost) fill(tableHost, dataTable(view.id, this.data));
    }
    this.draw();
  }

  /** The selected view, and the risk view whichever is selected: the printout carries it. */
  draw(): void {
    this.render(this.selected);
    this.render('risk');
  }

  /** All views share one width: the visible panel's. */
  private size(): { width: number; height: number } {
    const visible = this.hosts.get(this.selected);
    const measured = Math.floor(visible?.clientWidth ?? 0) || Math.floor(this.element.clientWidth) - 2 * 12;
    const width = Math.max(280, measured || 600);
    return { width, height: Math.round(Math.min(300, Math.max(200, width * 0.42))) };
  }

  private render(view: ViewId): void {
    if (this.plots.has(view)) return;
    const host = this.hosts.get(view);
    // uPlot draws at the size it is given, so a view in a hidden panel can be drawn too.
    if (!host || !this.element.isConnected) return;
    const { width, height } = this.size();
    host.replaceChildren();
    this.plots.set(view, makePlot(view, this.data, width, height, host));
  }

  private resize(): void {
    const { width, height } = this.size();
    for (const plot of this.plots.values()) if (Math.abs(plot.width - width) > 4) plot.setSize({ width, height });
  }

  /** Printing: the risk chart at the page's width; then back. */
  private printSize(printing: boolean): void {
    if (printing) this.plots.get('risk')?.setSize({ width: 640, height: 210 });
    else this.resize();
  }

  private select(view: ViewId, focus = false): void {
    this.selected = view;
    for (const [id, tab] of this.tabs) {
      const on = id === view;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      const panel = this.panels.get(id);
      if (panel) panel.hidden = !on;
    }
    if (focus) this.tabs.get(view)?.focus();
    this.render(view);
    this.resize();
  }

  private onKey(event: KeyboardEvent): void {
    const order = VIEWS.map((v) => v.id);
    const i = order.indexOf(this.selected);
    const next =
      event.key === 'ArrowRight' ? order[(i + 1) % order.length] : event.key === 'ArrowLeft' ? order[(i + order.length - 1) % order.length] : event.key === 'Home' ? order[0] : event.key === 'End' ? order[order.length - 1] : undefined;
    if (next === undefined) return;
    event.preventDefault();
    this.select(next, true);
  }
}
