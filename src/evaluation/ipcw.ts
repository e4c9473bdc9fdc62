// Inverse probability of censoring weights, shared by Uno's C, the time-dependent AUC and the Brier
// score, so that all three read G the same way (see censoringDistribution for the tie convention).
import type { SurvivalData } from './input.js';
import { censoringDistribution, survivalAt, survivalBefore } from './kaplan-meier.js';
import type { SurvivalStep } from './kaplan-meier.js';

export interface IpcwOptions {
  /**
   * The censoring survival G to weight by, e.g. `censoringDistribution` of the training data
   * (scikit-survival's choice). Default: estimated from the data being evaluated.
   */
  censoring?: SurvivalStep;
}

export function censoringFor(data: SurvivalData, options: IpcwOptions): SurvivalStep {
  return options.censoring ?? censoringDistribution(data.time, data.event);
}

function inverse(g: number, what: string): number {
  if (!(g > 0)) throw new RangeError(`the censoring survival ${what} is 0; choose an earlier time (or τ) where G > 0`);
  return 1 / g;
}

/** 1/G(T−) for a subject with an event at T: it must have remained uncensored strictly before T. */
export function eventWeight(censoring: SurvivalStep, eventTime: number): number {
  return inverse(survivalBefore(censoring, eventTime), `just before t = ${eventTime}`);
}

/** 1/G(t) for a subject still under observation and event-free after t. */
export function survivorWeight(censoring: SurvivalStep, t: number): number {
  return inverse(survivalAt(censoring, t), `at t = ${t}`);
}
