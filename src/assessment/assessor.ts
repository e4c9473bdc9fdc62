// The assessment pipeline's contract: one function for every entry point (the hooks, the SMART app's
// API, batch scoring). The implementation is pipeline-assessor.ts.
import type { FhirResource } from 'fhir/r4.js';
import type { FhirClient } from '../fhir/client.js';
import type { RecordKey } from '../fhir/record-queries.js';
import type { LoadedModel } from '../model/model-registry.js';
import type { RiskFactors } from '../model/risk-factors.js';
import type { AssessOutcome } from './assessment.js';

export interface AssessRequest {
  patientId: string;
  /** The FHIR server the chart comes from (part of the cache key and the provenance); null for prefetch-only calls. */
  fhirServer: string | null;
  /** Chart data already at hand, under the RECORD_QUERIES keys (fhir/record-queries.ts): a resource, or null for "no such data". */
  prefetch?: Readonly<Record<string, FhirResource | null | undefined>>;
  /** Reads what the prefetch lacks; null when there is no server to ask. */
  fhir: FhirClient | null;
  /** Which absent keys may be fetched (default all): a hook passes only those its deadline cut short, so nothing is fetched twice. */
  fetchKeys?: readonly RecordKey[];
  /**
   * Factors set for this assessment instead of read from the chart: the glucocorticoid being ordered
   * (order-select), or the SMART app's what-if toggles.
   */
  overrides?: Partial<RiskFactors>;
  /**
   * A what-if: not written to the store (so neither batch reports nor `evaluate --recorded` ever see
   * a risk computed from factors the chart does not hold); kept in memory only.
   */
  hypothetical?: boolean;
}

export interface Assessor {
  /** The model the assessments come from. */
  readonly model: LoadedModel;
  /** Never rejects for bad data, unreachable servers or model failures: those are reason codes. */
  assess(request: AssessRequest): Promise<AssessOutcome>;
  /** Resolves when work in progress (including work that outlived a hook's deadline) has ended. */
  drain(): Promise<void>;
}

export type DeadlineOutcome = AssessOutcome | { status: 'pending' };

/**
 * The outcome if it arrives before `signal` fires, else `pending`: the work goes on and fills the
 * cache for the next call. `onLate` hears how late work ended (it must not throw).
 */
export function withinDeadline(work: Promise<AssessOutcome>, signal: AbortSignal, onLate: (outcome: AssessOutcome | Error) => void): Promise<DeadlineOutcome> {
  if (signal.aborted) {
    void work.then(onLate, (error: unknown) => onLate(error instanceof Error ? error : new Error(String(error))));
    return Promise.resolve({ status: 'pending' });
  }
  return new Promise((resolve, reject) => {
    let late = false;
    const onAbort = (): void => {
      late = true;
      resolve({ status: 'pending' });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (outcome) => {
        signal.removeEventListener('abort', onAbort);
        if (late) onLate(outcome);
        else resolve(outcome);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        const failure = error instanceof Error ? error : new Error(String(error));
        if (late) onLate(failure);
        else reject(failure);
      },
    );
  });
}
