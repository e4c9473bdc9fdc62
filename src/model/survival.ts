// Survival curves from the card's Breslow baseline and the model's log hazard ratio g:
//   S(t) = exp(−H0(t)·exp(g)),  F(t) = 1 − S(t),
// H0 a step function on the grid (the value at the last grid time ≤ t, 0 before the first). Nothing
// is extrapolated past the last grid time: the data say nothing there. Pure functions.
import type { RiskBands } from './model-card.js';

export interface Baseline {
  readonly times: readonly number[];
  readonly cumulativeHazard: readonly number[];
}

/** Index of the last grid time ≤ t, or −1 before the first (binary search: grids can be long). Pure; the SMART app bundles it. */
export function stepIndex(times: readonly number[], t: number): number {
  let low = 0;
  let high = times.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if ((times[mid] as number) <= t) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}

export function lastGridTime(baseline: Baseline): number {
  return baseline.times[baseline.times.length - 1] ?? 0;
}

/** H0(t); null past the last grid time or for a negative or non-finite t. */
export function baselineCumulativeHazard(baseline: Baseline, t: number): number | null {
  if (!Number.isFinite(t) || t < 0 || t > lastGridTime(baseline)) return null;
  const i = stepIndex(baseline.times, t);
  return i < 0 ? 0 : (baseline.cumulativeHazard[i] as number);
}

/** exp(−H0·exp(g)), with H0 = 0 giving exactly 1 even when exp(g) overflows. */
function survivalFrom(h0: number, logRisk: number): number {
  return h0 === 0 ? 1 : Math.exp(-h0 * Math.exp(logRisk));
}

/** S(t | g); null past the last grid time. */
export function survivalAt(baseline: Baseline, logRisk: number, t: number): number | null {
  const h0 = baselineCumulativeHazard(baseline, t);
  return h0 === null ? null : survivalFrom(h0, logRisk);
}

export interface HazardInterval {
  /** The interval (start, end] between consecutive grid times (the first starts at 0). */
  start: number;
  end: number;
  /** Cumulative hazard gained over the interval: ΔH0 · exp(g). */
  increment: number;
  /** The same as an average rate per time unit: increment / (end − start). */
  rate: number;
}

export interface SurvivalCurves {
  /** 0 then every grid time; the curves are step functions, constant until the next time. */
  times: number[];
  survival: number[];
  cumulativeIncidence: number[];
  hazard: HazardInterval[];
}

export function survivalCurves(baseline: Baseline, logRisk: number): SurvivalCurves {
  const relative = Math.exp(logRisk);
  const times = [0, ...baseline.times];
  const h0 = [0, ...baseline.cumulativeHazard];
  const survival = h0.map((h) => survivalFrom(h, logRisk));
  const hazard = baseline.times.map((end, i) => {
    const start = times[i] as number;
    const delta = (h0[i + 1] as number) - (h0[i] as number);
    const increment = delta === 0 ? 0 : delta * relative;
    return { start, end, increment, rate: increment / (end - start) };
  });
  return { times, survival, cumulativeIncidence: survival.map((s) => 1 - s), hazard };
}

export type HorizonRisk =
  | { horizon: number; survival: number; risk: number }
  | { horizon: number; survival: null; risk: null; reason: string };

function beyondGrid(baseline: Baseline, horizon: number): string {
  return `horizon ${horizon} is beyond the baseline's last time ${lastGridTime(baseline)}; the curve is not extrapolated`;
}

/** F(h) = 1 − S(h) at each horizon, or null with the reason. */
export function horizonRisks(baseline: Baseline, logRisk: number, horizons: readonly number[]): HorizonRisk[] {
  return horizons.map((horizon) => {
    const survival = survivalAt(baseline, logRisk, horizon);
    return survival === null ? { horizon, survival: null, risk: null, reason: beyondGrid(baseline, horizon) } : { horizon, survival, risk: 1 - survival };
  });
}

export type BandAssignment =
  | { name: string; label: string; horizon: number; risk: number }
  | { name: null; label: null; horizon: number; risk: null; reason: string };

/** The band of F(riskBands.horizon): the first whose `below` exceeds it, else the last band. */
export function riskBand(riskBands: RiskBands, baseline: Baseline, logRisk: number): BandAssignment {
  const { horizon, bands } = riskBands;
  const survival = survivalAt(baseline, logRisk, horizon);
  if (survival === null) return { name: null, label: null, horizon, risk: null, reason: beyondGrid(baseline, horizon) };
  const risk = 1 - survival;
  const band = bands.find((b) => b.below !== undefined && risk < b.below) ?? bands[bands.length - 1];
  if (!band) return { name: null, label: null, horizon, risk: null, reason: 'the card defines no risk bands' };
  return { name: band.name, label: band.label, horizon, risk };
}
