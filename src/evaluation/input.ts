// Boundary checks shared by the metrics: every public function validates its arrays here once, then
// works on typed copies in its loops. Errors name the argument (RangeError/TypeError), never a row.

/** Any indexable numeric sequence: `number[]`, `Float64Array`, `Uint8Array`, … */
export type NumericVector = ArrayLike<number>;

/** Observed times (years) and event indicators (1 = event, 0 = censored), validated. */
export interface SurvivalData {
  readonly time: Float64Array;
  readonly event: Uint8Array;
}

/** Copies `time` and `event` after checking: equal non-zero lengths, finite times ≥ 0, events 0 or 1. */
export function survivalData(time: NumericVector, event: NumericVector): SurvivalData {
  if (time.length === 0) throw new RangeError('time must not be empty');
  if (event.length !== time.length) throw new RangeError(`event has length ${event.length}, time has ${time.length}`);
  const t = Float64Array.from(time);
  for (let i = 0; i < t.length; i++) {
    const ti = t[i]!;
    if (!Number.isFinite(ti) || ti < 0) throw new RangeError(`time[${i}] is ${ti}; times must be finite and ≥ 0`);
  }
  return { time: t, event: eventVector(event) };
}

/** Event indicators checked to be 0 or 1. */
export function eventVector(event: NumericVector): Uint8Array {
  const e = new Uint8Array(event.length);
  for (let i = 0; i < e.length; i++) {
    const ei = event[i]!;
    if (ei !== 0 && ei !== 1) throw new RangeError(`event[${i}] is ${ei}; events must be 0 or 1`);
    e[i] = ei;
  }
  return e;
}

/** A finite per-subject vector of the expected length (risk scores, predicted survival, …). */
export function finiteVector(values: NumericVector, length: number, name: string): Float64Array {
  if (values.length !== length) throw new RangeError(`${name} has length ${values.length}, expected ${length}`);
  const copy = Float64Array.from(values);
  for (let i = 0; i < copy.length; i++) {
    if (!Number.isFinite(copy[i]!)) throw new RangeError(`${name}[${i}] is ${copy[i]}; values must be finite`);
  }
  return copy;
}

/** Predicted survival probabilities: finite and within [0, 1]. */
export function probabilityVector(values: NumericVector, length: number, name: string): Float64Array {
  const copy = finiteVector(values, length, name);
  for (let i = 0; i < copy.length; i++) {
    if (copy[i]! < 0 || copy[i]! > 1) throw new RangeError(`${name}[${i}] is ${copy[i]}; probabilities must lie in [0, 1]`);
  }
  return copy;
}

export function finiteNumber(value: number, name: string): number {
  if (!Number.isFinite(value)) throw new RangeError(`${name} is ${value}; it must be finite`);
  return value;
}

/**
 * Subject indices by increasing time; at equal times events come before censorings, the convention
 * of every estimator here (someone censored at t was still at risk of the event at t).
 */
export function orderByTime(data: SurvivalData): Uint32Array {
  const { time, event } = data;
  const order = new Uint32Array(time.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => time[a]! - time[b]! || event[b]! - event[a]!);
}
