// Every code list the service matches against, in one place (reference/terminology.md), so that a
// site can see and change what counts as a lumbar spine radiograph without reading the logic.
// Data only, plus matchers small enough to read at a glance.

export const SYSTEM = {
  snomed: 'http://snomed.info/sct',
  dicomDcm: 'http://dicom.nema.org/resources/ontology/DCM',
  endpointConnectionType: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
  /** ImagingStudy.identifier system for the Study Instance UID (value `urn:oid:<uid>`). */
  dicomUid: 'urn:dicom:uid',
} as const;

export interface Code {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
}

/** A code in a DICOM coded entry (Code Sequence item): CodingSchemeDesignator + CodeValue. */
export interface DicomCode {
  readonly scheme: string;
  readonly code: string;
}

// ---- imaging: which studies count ----

export const LUMBAR_SPINE_BODY_SITE: Code = { system: SYSTEM.snomed, code: '122496007', display: 'Lumbar spine structure' };

/**
 * DICOM BodyPartExamined (0018,0015) values, and the same words in FHIR bodySite text, that mean the
 * lumbar or lumbosacral spine. Compared after {@link normalizeBodyPart}, so `L-SPINE`, `LS_SPINE`
 * and `lumbar spine` all match.
 */
export const LUMBAR_BODY_PART_EXAMINED: readonly string[] = [
  'LSPINE',
  'LSSPINE',
  'LUMBAR SPINE',
  'LUMBOSACRAL SPINE',
  'LUMBOSACRAL',
  'LUMBAR',
];

export const IMAGING_MODALITIES: readonly Code[] = [
  { system: SYSTEM.dicomDcm, code: 'DX', display: 'Digital Radiography' },
  { system: SYSTEM.dicomDcm, code: 'CR', display: 'Computed Radiography' },
];

/** ImagingStudy.status values whose images must not be used. */
export const EXCLUDED_IMAGING_STUDY_STATUSES: readonly string[] = ['cancelled', 'entered-in-error'];

export const DICOM_WADO_RS_CONNECTION: Code = { system: SYSTEM.endpointConnectionType, code: 'dicom-wado-rs' };

// ---- imaging: which instance to fetch ----

export type ViewName = 'lateral' | 'ap' | 'pa';

/** ViewPosition (0018,5101) values; LATERAL is not a defined term but modalities write it. */
export const VIEW_POSITIONS: Readonly<Record<ViewName, readonly string[]>> = {
  lateral: ['LL', 'RL', 'LAT', 'LATERAL'],
  ap: ['AP'],
  pa: ['PA'],
};

/** ViewCodeSequence (0054,0220) codes: SNOMED CT and the older SNOMED-RT equivalents. */
export const VIEW_CODES: Readonly<Record<ViewName, readonly DicomCode[]>> = {
  lateral: [
    { scheme: 'SCT', code: '399067008' },
    { scheme: 'SRT', code: 'R-10236' },
  ],
  ap: [
    { scheme: 'SCT', code: '399348003' },
    { scheme: 'SRT', code: 'R-10206' },
  ],
  pa: [
    { scheme: 'SCT', code: '399300004' },
    { scheme: 'SRT', code: 'R-10214' },
  ],
};

/** Image storage SOP classes the pipeline can use; CR has no For Processing variant. */
export const RADIOGRAPH_SOP_CLASSES = {
  cr: '1.2.840.10008.5.1.4.1.1.1',
  dxForPresentation: '1.2.840.10008.5.1.4.1.1.1.1',
  dxForProcessing: '1.2.840.10008.5.1.4.1.1.1.1.1',
} as const;

/** PresentationIntentType (0008,0068) defined terms. */
export const PRESENTATION_INTENT = { presentation: 'FOR PRESENTATION', processing: 'FOR PROCESSING' } as const;

// ---- matchers ----

/** Upper case with spaces, underscores and hyphens removed: `l-spine` → `LSPINE`. */
export function normalizeBodyPart(text: string): string {
  return text.toUpperCase().replace(/[\s_-]+/g, '');
}

const LUMBAR_NORMALIZED: ReadonlySet<string> = new Set(LUMBAR_BODY_PART_EXAMINED.map(normalizeBodyPart));

export function isLumbarBodyPart(text: string | undefined): boolean {
  return text !== undefined && LUMBAR_NORMALIZED.has(normalizeBodyPart(text));
}

/** Same code, and same system unless the coding leaves the system out. */
export function matchesCode(coding: { system?: string; code?: string } | undefined, code: Code): boolean {
  return coding?.code === code.code && (coding.system === undefined || coding.system === code.system);
}
