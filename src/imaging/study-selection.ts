// Finds the patient's lumbar spine radiographs in FHIR: ImagingStudy resources (DX/CR, lumbar body
// site, recent, not cancelled) and the DICOMweb Endpoint each series can be fetched from. A study
// that qualifies but cannot be fetched is reported, not dropped, so the caller can tell "no image"
// from "an image we cannot reach".
import type { Bundle, Coding, Endpoint, FhirResource, ImagingStudy, ImagingStudySeries, Reference } from 'fhir/r4.js';
import { FhirRequestError, type FhirClient } from '../fhir/client.js';
import { recordQuery } from '../fhir/record-queries.js';
import {
  DICOM_WADO_RS_CONNECTION,
  EXCLUDED_IMAGING_STUDY_STATUSES,
  IMAGING_MODALITIES,
  LUMBAR_SPINE_BODY_SITE,
  SYSTEM,
  isLumbarBodyPart,
  matchesCode,
} from '../fhir/terminology.js';
import { isDicomUid } from './dicomweb-client.js';
import type { ImagingErrorCode } from './errors.js';

export interface ImagingResources {
  studies: ImagingStudy[];
  /** Endpoints found beside the studies (`_include`, Bundle entries); contained ones are read from each study. */
  endpoints: Endpoint[];
}

export interface StudySelectionInput extends ImagingResources {
  now: Date;
  lookbackDays: number;
  /** The DICOMweb allow-list; endpoints it refuses are passed over for the next one. */
  allowsEndpoint?: (address: string) => boolean;
}

export interface CandidateSeries {
  /** `ImagingStudy/<id>`, for provenance in the assessment. */
  imagingStudyReference: string;
  studyInstanceUid: string;
  /** Absent when the ImagingStudy lists no series: then the whole study is searched. */
  seriesInstanceUid?: string;
  started: Date;
  modality: string;
  wadoRsBaseUrl: string;
  /** True when FHIR codes the body site as lumbar spine; otherwise the DICOM BodyPartExamined must confirm it. */
  bodySiteConfirmed: boolean;
}

export type RejectionCode = Extract<ImagingErrorCode, 'no-eligible-study' | 'study-too-old' | 'no-dicomweb-endpoint' | 'endpoint-not-allowed'>;

export interface RejectedStudy {
  reference: string;
  code: RejectionCode;
  /** Why, without dates, UIDs or addresses. */
  detail: string;
}

export interface StudySelection {
  /** Most recent first. */
  candidates: CandidateSeries[];
  rejected: RejectedStudy[];
}

const DAY_MS = 86_400_000;
const TOO_OLD = 'older than the look-back window';

/** The Study Instance UID from `identifier` (system `urn:dicom:uid`, value `urn:oid:<uid>`). */
export function studyInstanceUid(study: ImagingStudy): string | undefined {
  const value = study.identifier?.find((identifier) => identifier.system === SYSTEM.dicomUid)?.value?.replace(/^urn:oid:/, '');
  return isDicomUid(value) ? value : undefined;
}

function modalityCode(coding: Coding | undefined): string | undefined {
  return IMAGING_MODALITIES.find((modality) => matchesCode(coding, modality))?.code;
}

type BodySite = 'lumbar' | 'other' | 'absent';

function bodySiteOf(coding: Coding | undefined): BodySite {
  if (coding === undefined) return 'absent';
  const lumbar = matchesCode(coding, LUMBAR_SPINE_BODY_SITE) || isLumbarBodyPart(coding.code) || isLumbarBodyPart(coding.display);
  return lumbar ? 'lumbar' : 'other';
}

function parseDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The id an Endpoint reference points at: `Endpoint/x`, `<base>/Endpoint/x[/_history/n]`, or `#x` for contained. */
function endpointKey(reference: Reference): string | undefined {
  const ref = reference.reference;
  if (ref === undefined) return undefined;
  if (ref.startsWith('#')) return ref;
  return /(?:^|\/)Endpoint\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref)?.[1];
}

function isUsableEndpoint(endpoint: Endpoint | undefined): endpoint is Endpoint & { address: string } {
  return endpoint?.status === 'active' && matchesCode(endpoint.connectionType, DICOM_WADO_RS_CONNECTION) && !!endpoint.address;
}

interface SeriesCheck {
  series?: ImagingStudySeries;
  eligible: boolean;
  why?: string;
  modality?: string;
  started?: Date;
  bodySiteConfirmed: boolean;
}

function checkSeries(study: ImagingStudy, series: ImagingStudySeries | undefined, oldest: Date): SeriesCheck {
  const studyModality = study.modality?.map(modalityCode).find((code) => code !== undefined);
  // A series names its own modality (required in R4); a study without series lists has only the study's.
  const modality = series?.modality ? modalityCode(series.modality) : studyModality;
  const started = parseDate(series?.started) ?? parseDate(study.started);
  const bodySite = bodySiteOf(series?.bodySite);
  const result = { series, modality, started, bodySiteConfirmed: bodySite === 'lumbar' };
  if (modality === undefined) return { ...result, eligible: false, why: 'not DX or CR' };
  if (series !== undefined && !isDicomUid(series.uid)) return { ...result, eligible: false, why: 'series UID missing or malformed' };
  if (bodySite === 'other') return { ...result, eligible: false, why: 'body site is not the lumbar spine' };
  if (started === undefined) return { ...result, eligible: false, why: 'no start date' };
  if (started < oldest) return { ...result, eligible: false, why: TOO_OLD };
  return { ...result, eligible: true };
}

/**
 * The series that may hold a lumbar spine radiograph, most recent first, each with the WADO-RS base
 * URL to fetch it from (a series' own endpoints first, then the study's; active `dicom-wado-rs` only).
 */
export function selectCandidateSeries(input: StudySelectionInput): StudySelection {
  const oldest = new Date(input.now.getTime() - input.lookbackDays * DAY_MS);
  const endpointsById = new Map(input.endpoints.flatMap((endpoint) => (endpoint.id ? [[endpoint.id, endpoint] as const] : [])));
  const candidates: CandidateSeries[] = [];
  const rejected: RejectedStudy[] = [];

  for (const study of input.studies) {
    const reference = `ImagingStudy/${study.id ?? '(no id)'}`;
    const reject = (code: RejectionCode, detail: string): void => {
      rejected.push({ reference, code, detail });
    };
    if (EXCLUDED_IMAGING_STUDY_STATUSES.includes(study.status)) {
      reject('no-eligible-study', `status ${study.status}`);
      continue;
    }
    const uid = studyInstanceUid(study);
    if (uid === undefined) {
      reject('no-eligible-study', 'no Study Instance UID identifier');
      continue;
    }
    const checks = study.series?.length ? study.series.map((series) => checkSeries(study, series, oldest)) : [checkSeries(study, undefined, oldest)];
    const eligible = checks.filter((check) => check.eligible);
    if (eligible.length === 0) {
      const whys = [...new Set(checks.map((check) => check.why))];
      // Only a lumbar DX/CR study gets as far as the date check, so "too old" alone means the right kind of image, but old.
      reject(whys.length === 1 && whys[0] === TOO_OLD ? 'study-too-old' : 'no-eligible-study', whys.join('; '));
      continue;
    }

    const resolve = (ref: Reference): Endpoint | undefined => {
      const key = endpointKey(ref);
      if (key === undefined) return undefined;
      if (key.startsWith('#')) return study.contained?.find((r): r is Endpoint => r.resourceType === 'Endpoint' && `#${r.id}` === key);
      return endpointsById.get(key);
    };
    for (const check of eligible) {
      const usable = [...(check.series?.endpoint ?? []), ...(study.endpoint ?? [])].map(resolve).filter(isUsableEndpoint);
      const label = check.series ? `series ${(study.series ?? []).indexOf(check.series) + 1}` : 'study';
      if (usable.length === 0) {
        reject('no-dicomweb-endpoint', `${label}: no active dicom-wado-rs Endpoint`);
        continue;
      }
      const endpoint = usable.find((e) => input.allowsEndpoint?.(e.address) ?? true);
      if (endpoint === undefined) {
        reject('endpoint-not-allowed', `${label}: its DICOMweb endpoints are not on the allow-list`);
        continue;
      }
      candidates.push({
        imagingStudyReference: reference,
        studyInstanceUid: uid,
        ...(check.series ? { seriesInstanceUid: check.series.uid } : {}),
        started: check.started as Date,
        modality: check.modality as string,
        wadoRsBaseUrl: endpoint.address,
        bodySiteConfirmed: check.bodySiteConfirmed,
      });
    }
  }
  // Array.prototype.sort is stable: equal dates keep the order the server gave.
  candidates.sort((a, b) => b.started.getTime() - a.started.getTime());
  return { candidates, rejected };
}

/**
 * The reason to report when there is no candidate: an eligible study that cannot be fetched says
 * more than "nothing found", so those codes win.
 */
export function noCandidateCode(selection: StudySelection): RejectionCode {
  const codes = new Set(selection.rejected.map((r) => r.code));
  if (codes.has('no-dicomweb-endpoint')) return 'no-dicomweb-endpoint';
  if (codes.has('endpoint-not-allowed')) return 'endpoint-not-allowed';
  if (codes.has('study-too-old')) return 'study-too-old';
  return 'no-eligible-study';
}

/** ImagingStudy and Endpoint resources from Bundles (search results with `_include`, prefetch, transaction answers). */
export function imagingResourcesFromBundles(bundles: readonly Bundle[]): ImagingResources {
  const resources: FhirResource[] = bundles.flatMap((bundle) => (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : [])));
  return {
    studies: resources.filter((r): r is ImagingStudy => r.resourceType === 'ImagingStudy'),
    endpoints: resources.filter((r): r is Endpoint => r.resourceType === 'Endpoint'),
  };
}

export interface LoadImagingOptions {
  patientId: string;
  /** Prefetched search results; when given, no search is made (an empty Bundle means "no studies"). */
  prefetch?: readonly Bundle[];
  /** Needed for the search, and to read Endpoints the Bundles reference but do not include. */
  client?: FhirClient;
  /** Bound on individual Endpoint reads; default 10. */
  maxEndpointReads?: number;
  signal?: AbortSignal;
}

/** The relative `Endpoint/<id>` to read for a reference, if it is on the client's server. */
function readableEndpointUrl(reference: Reference, baseUrl: string): string | undefined {
  const ref = reference.reference;
  const id = ref === undefined ? undefined : endpointKey(reference);
  if (ref === undefined || id === undefined || id.startsWith('#')) return undefined;
  const local = /^Endpoint\//.test(ref) || ref.startsWith(`${baseUrl}/Endpoint/`);
  return local ? `Endpoint/${id}` : undefined;
}

/**
 * The patient's ImagingStudy resources and their Endpoints: from the prefetch when given, else
 * the `imagingStudies` chart query (fhir/record-queries.ts). Endpoints referenced but not included
 * are read one by one (up to `maxEndpointReads`); one that is gone (404/410) is left out, so its
 * study is later reported as 'no-dicomweb-endpoint'. Other FHIR failures propagate as FhirRequestError.
 */
export async function loadImagingResources(options: LoadImagingOptions): Promise<ImagingResources> {
  const { client } = options;
  let bundles = options.prefetch;
  if (bundles === undefined) {
    if (client === undefined) throw new TypeError('loadImagingResources needs a FHIR client when nothing is prefetched');
    const found = await client.get(recordQuery('imagingStudies', options.patientId), { signal: options.signal });
    if (found.resourceType !== 'Bundle') throw new FhirRequestError('invalid-response', 'ImagingStudy search did not answer with a Bundle');
    bundles = [found];
  }
  const resources = imagingResourcesFromBundles(bundles);
  if (client === undefined) return resources;

  const known = new Set(resources.endpoints.map((endpoint) => `Endpoint/${endpoint.id}`));
  const missing = new Set<string>();
  for (const study of resources.studies) {
    for (const ref of [...(study.endpoint ?? []), ...(study.series ?? []).flatMap((series) => series.endpoint ?? [])]) {
      const url = readableEndpointUrl(ref, client.baseUrl);
      if (url !== undefined && !known.has(url)) missing.add(url);
    }
  }
  const reads = [...missing].slice(0, options.maxEndpointReads ?? 10).map((url) =>
    client.get(url, { signal: options.signal }).then(
      (resource) => (resource.resourceType === 'Endpoint' ? [resource] : []),
      (error: unknown) => {
        if (error instanceof FhirRequestError && (error.status === 404 || error.status === 410)) return [];
        throw error;
      },
    ),
  );
  resources.endpoints.push(...(await Promise.all(reads)).flat());
  return resources;
}
