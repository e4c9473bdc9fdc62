// How the app writes numbers, dates and risk factors, and how it samples the step curves for the data
// tables and the hazard view. Pure: no DOM, no I/O (the unit tests run it under Node). Percentages
// use the cards' own rule (src/assessment/risk-wording.ts), so the app and the card never disagree.
import type { HorizonRisk, RiskFactorEntry, SurvivalCurves } from '../../src/api/smart-api-contract.js';
import { percent, years } from '../../src/assessment/risk-wording.js';
import { stepIndex } from '../../src/model/survival.js';

export { percent, years };

export const NOT_ESTIMATED = "not estimated (beyond the model's follow-up)";

/**
 * Fracture-free survival as the complement of the risk as shown (risk 2.14 % → "2.1%", survival
 * "97.9%"), so the two figures on a row always add up to 100 %. The risk is rounded down (never
 * across a band threshold); its complement is therefore rounded up, which is harmless.
 */
export function survivalPercent(risk: number): string {
  const shown = percent(risk);
  if (shown === '<0.1%') return '>99.9%';
  const value = Number.parseFloat(shown);
  if (value === 0) return '100%';
  return `${(100 - value).toFixed(shown.includes('.') ? 1 : 0)}%`;
}

/** "1 year", "2 years", "2.5 years". */
export function yearsText(t: number): string {
  return `${Number.isInteger(t) ? t : t.toFixed(1)} year${t === 1 ? '' : 's'}`;
}

export interface HorizonRow {
  horizon: number;
  /** "5 years" (the table's column says "Within"). */
  label: string;
  /** null when the horizon lies past the model's follow-up (never extrapolated). */
  risk: string | null;
  survival: string | null;
  note: string | null;
}

export function horizonRows(horizons: readonly HorizonRisk[]): HorizonRow[] {
  return horizons.map((h) => {
    const label = yearsText(h.horizon);
    return h.risk === null
      ? { horizon: h.horizon, label, risk: null, survival: null, note: NOT_ESTIMATED }
      : { horizon: h.horizon, label, risk: percent(h.risk), survival: survivalPercent(h.risk), note: null };
  });
}

/** The risk at one horizon, or null when the assessment does not reach it. */
export function riskAt(horizons: readonly HorizonRisk[], horizon: number): number | null {
  return horizons.find((h) => h.horizon === horizon)?.risk ?? null;
}

/**
 * A step function's value at t: the value at the last grid time ≤ t. null before the first time and
 * past the last one (the curve is not extrapolated), and for a non-finite t.
 */
export function stepValueAt(times: readonly number[], values: readonly number[], t: number): number | null {
  const last = times[times.length - 1];
  if (!Number.isFinite(t) || last === undefined || t > last) return null;
  const i = stepIndex(times, t);
  return i < 0 ? null : (values[i] ?? null);
}

/** Whole years 1, 2, … up to the grid's end (inclusive when it ends on a whole year); none past it. */
export function yearlyTimes(end: number): number[] {
  const count = Math.floor(end + 1e-9);
  return Array.from({ length: Math.max(0, count) }, (_, i) => i + 1);
}

export function curveEnd(curves: Pick<SurvivalCurves, 'times'>): number {
  return curves.times[curves.times.length - 1] ?? 0;
}

export interface CurveSample {
  t: number;
  risk: number;
  survival: number;
}

/** The curves at each whole year within the grid: the data-table equivalent of the charts. */
export function yearlySamples(curves: SurvivalCurves): CurveSample[] {
  return yearlyTimes(curveEnd(curves)).flatMap((t) => {
    const risk = stepValueAt(curves.times, curves.cumulativeIncidence, t);
    const survival = stepValueAt(curves.times, curves.survival, t);
    return risk === null || survival === null ? [] : [{ t, risk, survival }];
  });
}

export interface HazardBin {
  start: number;
  end: number;
  /** Average hazard over the bin: cumulative hazard gained / its length, per year. */
  rate: number;
}

/**
 * The hazard averaged over each year, (k, k+1], up to the grid's end. The Breslow increments sit at
 * the grid times, so each counts in the bin holding its interval's end. Raw per-interval rates on a
 * fine grid are spikes no one can read; yearly averages are the same information, honestly binned.
 * A last partial year shorter than half a year is merged into the one before it.
 */
export function yearlyHazard(curves: Pick<SurvivalCurves, 'hazard'>): HazardBin[] {
  const intervals = curves.hazard;
  const end = intervals[intervals.length - 1]?.end ?? 0;
  if (end <= 0) return [];
  const edges = [0, ...yearlyTimes(end)];
  if (end - (edges[edges.length - 1] as number) > 1e-9) edges.push(end);
  const lastSpan = (edges[edges.length - 1] as number) - (edges[edges.length - 2] as number);
  if (edges.length > 2 && lastSpan < 0.5) edges.splice(edges.length - 2, 1);
  const sums = new Array<number>(edges.length - 1).fill(0);
  for (const interval of intervals) {
    // The bin (edges[k], edges[k+1]] holding the interval's end.
    const k = Math.max(0, stepIndex(edges, interval.end - 1e-12));
    sums[Math.min(k, sums.length - 1)] = (sums[Math.min(k, sums.length - 1)] as number) + interval.increment;
  }
  return sums.map((sum, k) => {
    const start = edges[k] as number;
    const stop = edges[k + 1] as number;
    return { start, end: stop, rate: sum / (stop - start) };
  });
}

/** A yearly hazard as a percentage per year, to two significant-ish figures: 0.0042 → "0.42% per year". */
export function hazardText(rate: number): string {
  const value = rate * 100;
  if (!Number.isFinite(value)) return '–';
  if (value === 0) return '0% per year';
  const digits = value < 1 ? 2 : value < 10 ? 1 : 0;
  return `${value.toFixed(digits)}% per year`;
}

export function binText(bin: Pick<HazardBin, 'start' | 'end'>): string {
  const fmt = (t: number): string => (Number.isInteger(t) ? String(t) : t.toFixed(1));
  return `Year ${fmt(bin.start)}–${fmt(bin.end)}`;
}

// One formatter, made once (Intl formatters are costly to build).
const DAY_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** `2026-03-02T00:00:00.000Z` or `2026-03-02` → `2 Mar 2026`; anything unreadable is returned as is. */
export function day(iso: string): string {
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(iso) ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(date.getTime())) return iso;
  return DAY_FORMAT.format(date);
}

const YES_NO = new Set(['priorFragilityFracture', 'parentHipFracture', 'currentSmoking', 'glucocorticoids', 'rheumatoidArthritis', 'secondaryOsteoporosis', 'alcohol']);

/** A factor's value as a clinician reads it: "Yes", "64 years", "22.3 kg/m²", "Not recorded". */
export function factorValueText(entry: Pick<RiskFactorEntry, 'name' | 'value'>): string {
  const { name, value } = entry;
  if (value === null) return 'Not recorded';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'string') return value.charAt(0).toUpperCase() + value.slice(1);
  if (YES_NO.has(name)) return value === 0 ? 'No' : 'Yes';
  const unit = NUMBER_FORMATS[name];
  return unit ? unit(value) : String(value);
}

const NUMBER_FORMATS: Partial<Record<RiskFactorEntry['name'], (value: number) => string>> = {
  age: (v) => `${Math.floor(v)} years`,
  weightKg: (v) => `${v.toFixed(1)} kg`,
  heightCm: (v) => `${v.toFixed(0)} cm`,
  bmi: (v) => `${v.toFixed(1)} kg/m²`,
  femoralNeckTScore: (v) => v.toFixed(1),
};

export function factorStatusText(entry: Pick<RiskFactorEntry, 'status' | 'overridden'>): string {
  if (entry.overridden) return 'Set for this assessment';
  switch (entry.status) {
    case 'found':
      return 'Found';
    case 'inferred':
      return 'Inferred';
    case 'missing':
      return 'Missing';
  }
}

/** Where a factor came from: its resources, its date and, when inferred, how. */
export function factorSourceText(entry: Pick<RiskFactorEntry, 'sources' | 'date' | 'note' | 'status'>): string {
  const parts = [entry.sources.join(', '), entry.date ? day(entry.date) : '', entry.status === 'inferred' ? (entry.note ?? '') : ''];
  const text = parts.filter((p) => p !== '').join(' · ');
  return text === '' ? '—' : text;
}

/** What the model did with the factor: read it, or put its missing-value default in its place. */
export function factorModelText(entry: Pick<RiskFactorEntry, 'name' | 'model'>): string {
  if (!entry.model) return 'Not used';
  if (!entry.model.imputed) return 'Used';
  return YES_NO.has(entry.name) ? 'Counted as no' : "Model's default used";
}
