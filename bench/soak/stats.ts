// Figures of the soak: per-minute tallies of each request type, quantiles, and the least-squares trend.

export const REQUEST_TYPES = ['warm', 'cold', 'feedback', 'api'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/** The calls of one type completed in one minute (and those the in-flight cap kept from starting). */
export class MinuteTally {
  readonly latencies: number[] = [];
  errors = 0;
  /** Not started: the in-flight cap was reached. Counted in `errors` too. */
  skipped = 0;
  readonly errorKinds: Record<string, number> = {};

  record(ms: number, problem: string | undefined): void {
    this.latencies.push(ms);
    if (problem !== undefined) this.fail(problem);
  }

  fail(problem: string): void {
    this.errors++;
    this.errorKinds[problem] = (this.errorKinds[problem] ?? 0) + 1;
  }

  summary(): TypeMinute {
    return { count: this.latencies.length, errors: this.errors, skipped: this.skipped, p50Ms: quantile(this.latencies, 0.5), p99Ms: quantile(this.latencies, 0.99), maxMs: this.latencies.length > 0 ? Math.max(...this.latencies) : NaN, errorKinds: { ...this.errorKinds } };
  }
}

/** One request type in one minute, as written to the JSON file. Latencies include failed calls. */
export interface TypeMinute {
  count: number;
  errors: number;
  skipped: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errorKinds: Record<string, number>;
}

/** Nearest-rank quantile; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface Trend {
  /** Least-squares slope, in units per hour. */
  perHour: number;
  /** Its standard error (NaN with fewer than 3 points). */
  standardError: number;
  points: number;
}

/** Least-squares line through (minute, value): slope per hour and its standard error. */
export function trend(points: readonly { minute: number; value: number }[]): Trend {
  const valid = points.filter((p) => Number.isFinite(p.value));
  const n = valid.length;
  if (n < 2) return { perHour: NaN, standardError: NaN, points: n };
  const mx = valid.reduce((s, p) => s + p.minute, 0) / n;
  const my = valid.reduce((s, p) => s + p.value, 0) / n;
  const sxx = valid.reduce((s, p) => s + (p.minute - mx) ** 2, 0);
  const sxy = valid.reduce((s, p) => s + (p.minute - mx) * (p.value - my), 0);
  const slope = sxy / sxx; // per minute
  const residual = valid.reduce((s, p) => s + (p.value - my - slope * (p.minute - mx)) ** 2, 0);
  const standardError = n > 2 ? Math.sqrt(residual / (n - 2) / sxx) : NaN;
  return { perHour: slope * 60, standardError: standardError * 60, points: n };
}

export const fixed = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');
export const mib = (bytes: number): number => bytes / 2 ** 20;
export const pad = (cells: readonly string[], widths: readonly number[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
