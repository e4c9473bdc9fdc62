// The what-if toggles' logic, apart from the DOM: which yes/no factors can be toggled, what the chart
// says for each, which toggles differ from it (what the backend is asked about), and a counter that
// lets only the latest answer through when toggles race. Pure.
import type { RiskFactorEntry, WhatIfRequest, YesNoFactor } from '../../src/api/smart-api-contract.js';

// A Record so the compiler insists on every yes/no factor the contract names.
const WHAT_IF: Readonly<Record<YesNoFactor, true>> = {
  priorFragilityFracture: true,
  parentHipFracture: true,
  currentSmoking: true,
  glucocorticoids: true,
  rheumatoidArthritis: true,
  secondaryOsteoporosis: true,
  alcohol: true,
};

export const WHAT_IF_FACTORS = Object.keys(WHAT_IF) as YesNoFactor[];

export function isWhatIfFactor(name: string): name is YesNoFactor {
  return Object.prototype.hasOwnProperty.call(WHAT_IF, name);
}

export type Toggles = Partial<Record<YesNoFactor, boolean>>;

/** The chart's yes/no values; a factor not on the chart counts as no (as FRAX and the model count it). */
export function chartToggles(entries: readonly Pick<RiskFactorEntry, 'name' | 'value'>[]): Record<YesNoFactor, boolean> {
  const toggles = {} as Record<YesNoFactor, boolean>;
  for (const name of WHAT_IF_FACTORS) toggles[name] = entries.find((e) => e.name === name)?.value === true;
  return toggles;
}

/** Every toggle that differs from the chart: the whole hypothetical, sent in one request. */
export function whatIfRequest(entries: readonly Pick<RiskFactorEntry, 'name' | 'value'>[], toggles: Toggles): WhatIfRequest {
  const chart = chartToggles(entries);
  const factors: Toggles = {};
  for (const name of WHAT_IF_FACTORS) {
    const wanted = toggles[name];
    if (wanted !== undefined && wanted !== chart[name]) factors[name] = wanted;
  }
  return { factors };
}

export function changedCount(request: WhatIfRequest): number {
  return Object.keys(request.factors).length;
}

/** Hands out request numbers; an answer is used only if no later request was made (or reset) since. */
export class Latest {
  private current = 0;
  next(): number {
    this.current += 1;
    return this.current;
  }
  /** Forget every request in flight (e.g. Reset). */
  cancel(): void {
    this.current += 1;
  }
  isLatest(ticket: number): boolean {
    return ticket === this.current;
  }
}
