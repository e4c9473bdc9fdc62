// What every reader of a chart shares: the Finding a factor becomes (value, provenance, how it was
// read), the log of what was left out and why, and the gate that admits only this patient's
// resources. Kept apart so the observation, condition and order readers depend on it and not on
// each other or on the record that assembles them.
import { get, isObject, referencedId, type Json } from './untrusted-json.js';

/**
 * found: read from a coded element as expected. inferred: read another way (free text, a display
 * string, a value computed from others such as BMI, an unknown unit converted). missing: not in the chart.
 */
export type FindingStatus = 'found' | 'missing' | 'inferred';

export interface Finding<T> {
  /** null when missing. */
  value: T | null;
  status: FindingStatus;
  /** Relative references (`Observation/123`) of the resources the value came from; empty when missing. */
  sources: string[];
  /** Date of the evidence (FHIR date or dateTime as written), when known. */
  date?: string;
  /** How the value was read, in a few words, with no patient data (e.g. "ICD-10-CM M05.79", "from weight and height"). */
  note?: string;
}

export const missing = <T>(note?: string): Finding<T> =>
  note === undefined ? { value: null, status: 'missing', sources: [] } : { value: null, status: 'missing', sources: [], note };

export function finding<T>(value: T, status: 'found' | 'inferred', sources: string[], date?: string, note?: string): Finding<T> {
  return { value, status, sources, ...(date === undefined ? {} : { date }), ...(note === undefined ? {} : { note }) };
}

/** The item with the latest time; undated items lose to dated ones. */
export const newest = <T extends { time?: number }>(items: readonly T[]): T | undefined =>
  items.reduce<T | undefined>((best, item) => (best === undefined || (item.time ?? -Infinity) > (best.time ?? -Infinity) ? item : best), undefined);

/** Problems by message, counted, so a chart of thousands of odd resources gives a short list. */
export class ProblemLog {
  private readonly counts = new Map<string, number>();
  add(problem: string): void {
    this.counts.set(problem, (this.counts.get(problem) ?? 0) + 1);
  }
  /** Records the problem; for `return problems.skip(...)` where a value is given up. */
  skip(problem: string): undefined {
    this.add(problem);
    return undefined;
  }
  list(): string[] {
    return [...this.counts].map(([problem, n]) => (n === 1 ? problem : `${problem} (${n}×)`));
  }
}

/** One reading of one chart: whose it is, the instant it is judged at (ms), and where problems go. */
export interface ReadContext {
  patientId: string;
  asOf: number;
  problems: ProblemLog;
}

type ResourceKind = 'Observation' | 'Condition' | 'MedicationRequest' | 'FamilyMemberHistory';

/** The resources of one kind that belong to the patient; the rest are dropped and counted. */
export function admit(items: unknown, kind: ResourceKind, ctx: ReadContext): Json[] {
  if (!Array.isArray(items)) {
    if (items !== undefined) ctx.problems.add(`${kind} list is not an array: ignored`);
    return [];
  }
  const subjectKey = kind === 'FamilyMemberHistory' ? 'patient' : 'subject';
  const problem = (item: unknown): string | undefined => {
    if (!isObject(item) || item.resourceType !== kind) return `${kind} list: an item of another type ignored`;
    const id = referencedId(get(item, subjectKey), 'Patient');
    if (id === undefined) return `${kind} without a Patient reference dropped`;
    return id === ctx.patientId ? undefined : `${kind} of another patient dropped`;
  };
  return items.filter((item): item is Json => {
    const why = problem(item);
    if (why !== undefined) ctx.problems.add(why);
    return why === undefined;
  });
}
