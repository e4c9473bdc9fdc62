// Every code list the service matches against, in one place (reference/terminology.md), so that a
// site can see and change what counts as a lumbar spine radiograph without reading the logic.
// Data only, plus matchers small enough to read at a glance.

export const SYSTEM = {
  snomed: 'http://snomed.info/sct',
  dicomDcm: 'http://dicom.nema.org/resources/ontology/DCM',
  endpointConnectionType: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
  /** ImagingStudy.identifier system for the Study Instance UID (value `urn:oid:<uid>`). */
  dicomUid: 'urn:dicom:uid',
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
  atc: 'http://www.whocc.no/atc',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  /** Coding system for a code that is itself a URI, e.g. a SOP Class `urn:oid:<uid>`. */
  uri: 'urn:ietf:rfc:3986',
  v3RoleCode: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
  v3ActReason: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  endpointPayloadType: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type',
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

// ---- FRAX risk factors: what the chart records them as ----
// Confidence, as in reference/terminology.md: "confirmed" = seen in US Core or LOINC/SNOMED
// material; "check" = conflicting or single sources, so a site should verify before relying on it.

/** A UCUM unit of a Quantity: the code to match on and the text to show. */
export interface Unit {
  readonly system: string;
  readonly code: string;
  readonly unit: string;
}

/** UCUM units of the values below; the `{…}` annotations are UCUM's way to name a count. */
export const UNITS = {
  kg: { system: SYSTEM.ucum, code: 'kg', unit: 'kg' },
  cm: { system: SYSTEM.ucum, code: 'cm', unit: 'cm' },
  kgPerM2: { system: SYSTEM.ucum, code: 'kg/m2', unit: 'kg/m2' },
  drinksPerDay: { system: SYSTEM.ucum, code: '{drinks}/d', unit: 'drinks/day' },
  tScore: { system: SYSTEM.ucum, code: '{T-score}', unit: 'T-score' },
  mg: { system: SYSTEM.ucum, code: 'mg', unit: 'mg' },
} as const satisfies Record<string, Unit>;

export const OBSERVATION_CATEGORIES = {
  vitalSigns: { system: SYSTEM.observationCategory, code: 'vital-signs', display: 'Vital Signs' },
  socialHistory: { system: SYSTEM.observationCategory, code: 'social-history', display: 'Social History' },
  imaging: { system: SYSTEM.observationCategory, code: 'imaging', display: 'Imaging' },
} as const satisfies Record<string, Code>;

export const OBSERVATION_CODES = {
  /** confirmed */
  bodyWeight: { system: SYSTEM.loinc, code: '29463-7', display: 'Body weight' },
  /** check (terminology.md); the US Core vital-signs code, used widely */
  bodyHeight: { system: SYSTEM.loinc, code: '8302-2', display: 'Body height' },
  /** confirmed; FRAX itself uses weight and height, BMI is derived from them */
  bmi: { system: SYSTEM.loinc, code: '39156-5', display: 'Body mass index (BMI) [Ratio]' },
  /** confirmed; category social-history, value one of {@link SMOKING_STATUS} */
  smokingStatus: { system: SYSTEM.loinc, code: '72166-2', display: 'Tobacco smoking status' },
  /** confirmed; a Quantity in drinks/day (AUDIT-C total 75626-2 is a score, not a quantity) */
  alcoholDrinksPerDay: { system: SYSTEM.loinc, code: '74013-4', display: 'Alcoholic drinks per day' },
  /**
   * confirmed; "DXA Femur [T-score]". No femoral-neck-only LOINC code was found, so the femoral neck
   * is told apart by bodySite {@link FEMORAL_NECK_BODY_SITE} (as Taiwan's TW Core examples do).
   */
  dxaFemurTScore: { system: SYSTEM.loinc, code: '38263-0', display: 'DXA Femur [T-score] Bone density' },
  /** confirmed; not a FRAX input (FRAX takes the femoral neck), listed so it is never mistaken for one */
  dxaLumbarSpineTScore: { system: SYSTEM.loinc, code: '38267-1', display: 'DXA Lumbar spine [T-score] Bone density' },
  /** confirmed; FRAX's 10-year major osteoporotic fracture probability, read from the chart, never computed */
  fraxMajorOsteoporoticFracture10y: { system: SYSTEM.loinc, code: '90265-0' },
  /** confirmed; FRAX's 10-year hip fracture probability */
  fraxHipFracture10y: { system: SYSTEM.loinc, code: '90266-8' },
} as const satisfies Record<string, Code>;

/** confirmed (DICOM CID body-part mappings; TW Core DXA examples) */
export const FEMORAL_NECK_BODY_SITE: Code = { system: SYSTEM.snomed, code: '29627003', display: 'Structure of neck of femur' };

/** Answers to 72166-2: the US Core smoking-status value set (SNOMED CT, some US extension codes). confirmed */
export const SMOKING_STATUS = {
  dailySmoker: { system: SYSTEM.snomed, code: '449868002', display: 'Smokes tobacco daily' },
  occasionalSmoker: { system: SYSTEM.snomed, code: '428041000124106', display: 'Occasional tobacco smoker' },
  heavySmoker: { system: SYSTEM.snomed, code: '428071000124103', display: 'Heavy tobacco smoker' },
  lightSmoker: { system: SYSTEM.snomed, code: '428061000124105', display: 'Light tobacco smoker' },
  /** US Core labels it "Smoker, current status unknown"; counted as current, as most EHRs use it. check */
  smoker: { system: SYSTEM.snomed, code: '77176002', display: 'Smoker' },
  exSmoker: { system: SYSTEM.snomed, code: '8517006', display: 'Ex-smoker' },
  neverSmoked: { system: SYSTEM.snomed, code: '266919005', display: 'Never smoked tobacco' },
  unknown: { system: SYSTEM.snomed, code: '266927001', display: 'Tobacco smoking consumption unknown' },
} as const satisfies Record<string, Code>;

/** The answers that mean FRAX's "current smoking". */
export const CURRENT_SMOKER_STATUSES: readonly Code[] = [
  SMOKING_STATUS.dailySmoker,
  SMOKING_STATUS.occasionalSmoker,
  SMOKING_STATUS.heavySmoker,
  SMOKING_STATUS.lightSmoker,
  SMOKING_STATUS.smoker,
];

export const CONDITION_CATEGORIES = {
  problemListItem: { system: SYSTEM.conditionCategory, code: 'problem-list-item', display: 'Problem List Item' },
} as const satisfies Record<string, Code>;

export const CONDITION_CLINICAL_STATUS = {
  active: { system: SYSTEM.conditionClinical, code: 'active' },
  resolved: { system: SYSTEM.conditionClinical, code: 'resolved' },
} as const satisfies Record<string, Code>;

export const CONDITION_VERIFICATION_STATUS = {
  confirmed: { system: SYSTEM.conditionVerification, code: 'confirmed' },
} as const satisfies Record<string, Code>;

/** Condition.verificationStatus codes that mean the condition is not there. */
export const EXCLUDED_CONDITION_VERIFICATION_STATUSES: readonly string[] = ['refuted', 'entered-in-error'];

/** confirmed. FRAX asks for *confirmed* RA: see Condition.verificationStatus. */
export const RHEUMATOID_ARTHRITIS: Code = { system: SYSTEM.snomed, code: '69896004', display: 'Rheumatoid arthritis' };

/** confirmed. Not a FRAX input; marks patients already known to have osteoporosis. */
export const OSTEOPOROSIS: Code = { system: SYSTEM.snomed, code: '64859006', display: 'Osteoporosis' };

/** "Fracture of neck of femur": the patient's own prior fracture, and the parent's in FamilyMemberHistory. check */
export const HIP_FRACTURE: Code = { system: SYSTEM.snomed, code: '5913000', display: 'Fracture of neck of femur' };

/** "Pathological fracture due to osteoporosis" (older term "Osteoporotic fracture of bone"). check, though several sources agree */
export const OSTEOPOROTIC_FRACTURE: Code = { system: SYSTEM.snomed, code: '443165006', display: 'Pathological fracture due to osteoporosis' };

/**
 * Prior fragility fracture (FRAX counts a radiographic vertebral fracture too). All "check": the
 * hierarchy is wide and sites code fractures by site rather than by cause.
 */
export const FRAGILITY_FRACTURES: readonly Code[] = [
  OSTEOPOROTIC_FRACTURE,
  // "Osteoporotic fracture of femur": a single source. check
  { system: SYSTEM.snomed, code: '704330001', display: 'Osteoporotic fracture of femur' },
  HIP_FRACTURE,
  // "Compression fracture of vertebral column": a single source. check
  { system: SYSTEM.snomed, code: '42942008', display: 'Compression fracture of vertebral column' },
];

/** A cause of secondary osteoporosis in FRAX's sense; `sex` limits it to one sex where the other cannot have it. */
export interface SecondaryOsteoporosisCause extends Code {
  readonly sex?: 'female' | 'male';
}

/**
 * FRAX's secondary osteoporosis: type 1 diabetes, osteogenesis imperfecta, untreated long-standing
 * hyperthyroidism, hypogonadism or premature menopause, chronic malnutrition or malabsorption,
 * chronic liver disease. confirmed unless marked. (53619000, once suggested for malabsorption, is
 * "Disorder of digestive system", far too wide, so it is not here.)
 */
export const SECONDARY_OSTEOPOROSIS_CAUSES: readonly SecondaryOsteoporosisCause[] = [
  { system: SYSTEM.snomed, code: '46635009', display: 'Diabetes mellitus type 1' },
  { system: SYSTEM.snomed, code: '78314001', display: 'Osteogenesis imperfecta' },
  { system: SYSTEM.snomed, code: '34486009', display: 'Hyperthyroidism' },
  { system: SYSTEM.snomed, code: '48130008', display: 'Hypogonadism' },
  { system: SYSTEM.snomed, code: '373717006', display: 'Premature menopause', sex: 'female' },
  // Malabsorption: coeliac disease is the common cause FRAX means.
  { system: SYSTEM.snomed, code: '396331005', display: 'Celiac disease' },
  { system: SYSTEM.snomed, code: '328383001', display: 'Chronic liver disease' },
];

/**
 * "Malabsorption syndrome": a secondary cause too, but from a single source. check. Kept apart so
 * the synthetic generator writes only confirmed codes; matchers may add it.
 */
export const MALABSORPTION_SYNDROME: Code = { system: SYSTEM.snomed, code: '32230006', display: 'Malabsorption syndrome' };

// ---- medications ----

/** confirmed (ATC structure). FRAX: current, or > 3 months at ≥ 5 mg/day prednisolone-equivalent. */
export const GLUCOCORTICOID_ATC_CLASS: Code = { system: SYSTEM.atc, code: 'H02AB', display: 'Glucocorticoids' };

export interface Glucocorticoid {
  readonly atc: Code;
  readonly rxnorm: Code;
  /** mg of prednisolone that 1 mg of this drug is equivalent to. */
  readonly prednisoloneEquivalent: number;
}

/** Systemic glucocorticoids with a known prednisolone equivalence; ATC and RxNorm ingredient codes confirmed. */
export const GLUCOCORTICOIDS = {
  prednisolone: {
    atc: { system: SYSTEM.atc, code: 'H02AB06', display: 'prednisolone' },
    rxnorm: { system: SYSTEM.rxnorm, code: '8638', display: 'prednisolone' },
    prednisoloneEquivalent: 1,
  },
  prednisone: {
    atc: { system: SYSTEM.atc, code: 'H02AB07', display: 'prednisone' },
    rxnorm: { system: SYSTEM.rxnorm, code: '8640', display: 'prednisone' },
    prednisoloneEquivalent: 1,
  },
} as const satisfies Record<string, Glucocorticoid>;

/** Osteoporosis treatment, by ATC code or class prefix (ATC structure; no RxNorm list yet). */
export const OSTEOPOROSIS_TREATMENT_ATC: readonly Code[] = [
  { system: SYSTEM.atc, code: 'M05BA', display: 'Bisphosphonates' },
  { system: SYSTEM.atc, code: 'M05BB', display: 'Bisphosphonates, combinations' },
  { system: SYSTEM.atc, code: 'M05BX04', display: 'denosumab' },
  { system: SYSTEM.atc, code: 'M05BX06', display: 'romosozumab' },
  { system: SYSTEM.atc, code: 'H05AA02', display: 'teriparatide' },
  { system: SYSTEM.atc, code: 'G03XC01', display: 'raloxifene' },
];

// ---- family history ----

/** FamilyMemberHistory.relationship (v3 RoleCode) codes for a parent; a US Core profile exists only from US Core 9. confirmed */
export const PARENT_RELATIONSHIPS = {
  mother: { system: SYSTEM.v3RoleCode, code: 'MTH', display: 'mother' },
  father: { system: SYSTEM.v3RoleCode, code: 'FTH', display: 'father' },
  naturalMother: { system: SYSTEM.v3RoleCode, code: 'NMTH', display: 'natural mother' },
  naturalFather: { system: SYSTEM.v3RoleCode, code: 'NFTH', display: 'natural father' },
  parent: { system: SYSTEM.v3RoleCode, code: 'PRN', display: 'parent' },
  naturalParent: { system: SYSTEM.v3RoleCode, code: 'NPRN', display: 'natural parent' },
} as const satisfies Record<string, Code>;

// ---- synthetic data ----

/** meta.tag on every synthetic resource: HL7's "test health data", so no one takes it for a patient's. */
export const SYNTHETIC_DATA_TAG: Code = { system: SYSTEM.v3ActReason, code: 'HTEST', display: 'test health data' };

/** Patient.identifier system of synthetic patients (value = the cohort's patient id). */
export const SYNTHETIC_PATIENT_IDENTIFIER_SYSTEM = 'https://spine-fracture-cds.example/fhir/synthetic-patient-id';

/**
 * Endpoint.payloadType and payloadMimeType of a DICOMweb endpoint. R4's payload-type code system
 * has only `any` and `none`; the text says what the payload is, as IHE MADO's examples do.
 */
export const DICOMWEB_PAYLOAD = {
  type: { system: SYSTEM.endpointPayloadType, code: 'any', display: 'Any' },
  text: 'DICOM WADO-RS',
  mimeType: 'application/dicom',
} as const;

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
