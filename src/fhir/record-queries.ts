// The one owner of "prefetch, else search" for a patient's chart: the FHIR queries that read what the
// assessment needs, written once as CDS Hooks prefetch templates (the services publish them as their
// prefetch) and run here against the FHIR server for whatever the caller did not already have.
import type { Bundle, Condition, FamilyMemberHistory, FhirResource, Medication, MedicationRequest, Observation, Patient } from 'fhir/r4.js';
import { FhirRequestError, type FhirClient } from './client.js';
import { OBSERVATION_CODES } from './terminology.js';

const observationCodes = [...new Set(Object.values(OBSERVATION_CODES).map((c) => `${c.system}|${c.code}`))].join(',');

/**
 * Templates in CDS Hooks 2.0 prefetch syntax (`{{context.patientId}}` is the only token), so the
 * services can publish them unchanged. Searches ask for more than a page will usually hold; the FHIR
 * client follows `next` links up to `fhir.maxPages`.
 */
export const RECORD_QUERIES = {
  patient: 'Patient/{{context.patientId}}',
  // Newest first, so that when a long history is cut at fhir.maxPages the latest values are the ones kept.
  observations: `Observation?patient={{context.patientId}}&code=${observationCodes}&_sort=-date&_count=200`,
  conditions: 'Condition?patient={{context.patientId}}&_count=200',
  medicationRequests: 'MedicationRequest?patient={{context.patientId}}&_include=MedicationRequest:medication&_count=200',
  familyMemberHistories: 'FamilyMemberHistory?patient={{context.patientId}}&_count=50',
  /** With their Endpoints, for DICOMweb (imaging/study-selection.ts). */
  imagingStudies: 'ImagingStudy?patient={{context.patientId}}&_include=ImagingStudy:endpoint',
} as const;

export type RecordKey = keyof typeof RECORD_QUERIES;
export const RECORD_KEYS = Object.keys(RECORD_QUERIES) as RecordKey[];

/** A template with the patient's id filled in. */
export function recordQuery(key: RecordKey, patientId: string): string {
  return RECORD_QUERIES[key].replaceAll('{{context.patientId}}', encodeURIComponent(patientId));
}

export interface ChartResources {
  patient: Patient | null;
  observations: Observation[];
  conditions: Condition[];
  medicationRequests: MedicationRequest[];
  medications: Medication[];
  familyMemberHistories: FamilyMemberHistory[];
  /** The ImagingStudy search answer(s), Endpoints included, for study selection. */
  imaging: Bundle[];
}

export interface GatherInput {
  patientId: string;
  /** Prefetch under the RECORD_QUERIES keys: a resource, null (the client has no such data), or absent. */
  prefetch?: Readonly<Record<string, FhirResource | null | undefined>>;
  fhir: FhirClient | null;
  /** The absent keys that may be fetched; default all of them. A key left out and absent counts as unavailable. */
  fetchKeys?: readonly RecordKey[];
  signal?: AbortSignal;
}

export interface GatheredChart {
  resources: ChartResources;
  /** Keys neither given nor fetched (no server, the fetch failed, or an unusable value was given). */
  unavailable: RecordKey[];
  /** Keys read from the FHIR server here. */
  fetched: RecordKey[];
}

function entriesOf(bundle: Bundle): FhirResource[] {
  return (bundle.entry ?? []).flatMap((entry) => (entry?.resource && typeof entry.resource === 'object' ? [entry.resource] : []));
}

function ofType<T extends FhirResource['resourceType']>(resources: readonly FhirResource[], type: T): Extract<FhirResource, { resourceType: T }>[] {
  return resources.filter((r): r is Extract<FhirResource, { resourceType: T }> => r.resourceType === type);
}

/** Null when the value is not what the key needs: an OperationOutcome in place of the data is the client reporting an error. */
function usable(key: RecordKey, value: FhirResource): FhirResource | null {
  if (key === 'patient') return value.resourceType === 'Patient' ? value : null;
  return value.resourceType === 'Bundle' && Array.isArray(value.entry ?? []) ? value : null;
}

/**
 * Every chart key from the prefetch when given there (null = no such data), else from the FHIR
 * server; fetches run in parallel. A fetch that fails leaves its key unavailable; a read answered 404
 * is "no such data", like a null prefetch.
 */
export async function gatherChart(input: GatherInput): Promise<GatheredChart> {
  const values = new Map<RecordKey, FhirResource | null>();
  const unavailable: RecordKey[] = [];
  const fetched: RecordKey[] = [];
  const mayFetch = new Set(input.fetchKeys ?? RECORD_KEYS);
  await Promise.all(
    RECORD_KEYS.map(async (key) => {
      const given = input.prefetch?.[key];
      if (given === null) return void values.set(key, null);
      if (given !== undefined) {
        const value = usable(key, given);
        if (value !== null) return void values.set(key, value);
      }
      if (input.fhir === null || !mayFetch.has(key)) return void unavailable.push(key);
      try {
        const value = usable(key, await input.fhir.get(recordQuery(key, input.patientId), { signal: input.signal }));
        if (value === null) unavailable.push(key);
        else {
          values.set(key, value);
          fetched.push(key);
        }
      } catch (error) {
        if (key === 'patient' && error instanceof FhirRequestError && error.status === 404) values.set(key, null);
        else unavailable.push(key);
      }
    }),
  );
  const bundle = (key: RecordKey): FhirResource[] => {
    const value = values.get(key);
    return value?.resourceType === 'Bundle' ? entriesOf(value) : [];
  };
  const medicationEntries = bundle('medicationRequests');
  const imaging = values.get('imagingStudies');
  const patient = values.get('patient');
  return {
    resources: {
      patient: patient?.resourceType === 'Patient' ? patient : null,
      observations: ofType(bundle('observations'), 'Observation'),
      conditions: ofType(bundle('conditions'), 'Condition'),
      medicationRequests: ofType(medicationEntries, 'MedicationRequest'),
      medications: ofType(medicationEntries, 'Medication'),
      familyMemberHistories: ofType(bundle('familyMemberHistories'), 'FamilyMemberHistory'),
      imaging: imaging?.resourceType === 'Bundle' ? [imaging] : [],
    },
    unavailable,
    fetched,
  };
}
