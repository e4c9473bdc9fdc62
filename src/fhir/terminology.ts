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
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  /** WHO ICD-10 */
  icd10: 'http://hl7.org/fhir/sid/icd-10',
  cpt: 'http://www.ama-assn.org/go/cpt',
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
  // More DXA T-scores, so the chart searches (record-queries.ts) fetch them too. Names as in LOINC,
  // confirmed from OHDSI's list of LOINC DXA concepts; US Core's DXA example uses 80948-3.
  dxaFemurRightTScore: { system: SYSTEM.loinc, code: '80947-5', display: 'DXA Femur - right [T-score] Bone density' },
  dxaFemurLeftTScore: { system: SYSTEM.loinc, code: '80948-3', display: 'DXA Femur - left [T-score] Bone density' },
  dxaHipTScore: { system: SYSTEM.loinc, code: '38264-8', display: 'DXA Hip [T-score] Bone density' },
  dxaHipRightTScore: { system: SYSTEM.loinc, code: '80945-9', display: 'DXA Hip - right [T-score] Bone density' },
  dxaHipLeftTScore: { system: SYSTEM.loinc, code: '80946-7', display: 'DXA Hip - left [T-score] Bone density' },
  /** LOINC names it the radius and ulna; Synthea writes it as a site-less "DXA [T-score] Bone density". */
  dxaForearmTScore: { system: SYSTEM.loinc, code: '38265-5', display: 'DXA Radius and Ulna [T-score] Bone density' },
} as const satisfies Record<string, Code>;

/** Where a DXA T-score was measured; FRAX takes the femoral neck. */
export type DxaSiteName = 'femoral-neck' | 'total-hip' | 'femur' | 'lumbar-spine' | 'other';

/** A T-score code and the site it names; a femur or hip code still needs bodySite to say "femoral neck". */
export interface DxaTScoreCode extends Code {
  readonly site: DxaSiteName;
}

/**
 * Every DXA T-score code read. No femoral-neck-only LOINC code exists (none in LOINC's DXA list), so
 * the neck comes from bodySite. "Hip" is taken as total hip: check.
 */
export const DXA_T_SCORE_CODES: readonly DxaTScoreCode[] = [
  { ...OBSERVATION_CODES.dxaFemurTScore, site: 'femur' },
  { ...OBSERVATION_CODES.dxaFemurRightTScore, site: 'femur' },
  { ...OBSERVATION_CODES.dxaFemurLeftTScore, site: 'femur' },
  { ...OBSERVATION_CODES.dxaHipTScore, site: 'total-hip' },
  { ...OBSERVATION_CODES.dxaHipRightTScore, site: 'total-hip' },
  { ...OBSERVATION_CODES.dxaHipLeftTScore, site: 'total-hip' },
  { ...OBSERVATION_CODES.dxaLumbarSpineTScore, site: 'lumbar-spine' },
  { ...OBSERVATION_CODES.dxaForearmTScore, site: 'other' },
];

/** bodySite text that names a DXA site, tried in this order (the neck before the hip it is part of). */
export const DXA_SITE_TEXT: readonly { readonly site: DxaSiteName; readonly text: RegExp }[] = [
  { site: 'femoral-neck', text: /\b(?:femoral neck|neck of (?:the )?femur|femur,? neck)\b/i },
  { site: 'total-hip', text: /\b(?:total hip|hip,? total|hip)\b/i },
  { site: 'lumbar-spine', text: /\b(?:lumbar|l1-l4|lumbar spine)\b/i },
];

/** A CDS order-select suggestion for a DXA: SNOMED "Bone density scan (procedure)", as Synthea writes it. confirmed */
export const DXA_PROCEDURE: Code = { system: SYSTEM.snomed, code: '312681000', display: 'Bone density scan' };

/**
 * Codes of an order that is a DXA (ServiceRequest.code). CPT descriptors confirmed on coding
 * references (77080 axial, 77081 peripheral, 77085 axial with vertebral fracture assessment, 77086
 * vertebral fracture assessment alone). LOINC 38269-7 is the DXA report code: check whether sites order with it.
 */
export const DXA_ORDER_CODES: readonly Code[] = [
  DXA_PROCEDURE,
  { system: SYSTEM.cpt, code: '77080', display: 'DXA bone density study, axial skeleton' },
  { system: SYSTEM.cpt, code: '77081', display: 'DXA bone density study, appendicular skeleton' },
  { system: SYSTEM.cpt, code: '77085', display: 'DXA bone density study, axial skeleton, with vertebral fracture assessment' },
  { system: SYSTEM.cpt, code: '77086', display: 'Vertebral fracture assessment via DXA' },
  { system: SYSTEM.loinc, code: '38269-7', display: 'DXA Bone density' },
];

/** Order text that means a DXA when no code does. */
export const DXA_ORDER_TEXT = /\b(?:dxa|dexa|bone (?:mineral )?density|densitometry|absorptiometry)\b/i;

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

/** How a smoking-status answer reads for FRAX's "current smoking"; unknown means not recorded. */
export type SmokingAnswer = 'current' | 'former' | 'never' | 'unknown';

/**
 * The answers to 72166-2 that are read: the US Core SNOMED codes above, and LOINC's answer list for
 * the same question (LA codes; confirmed, IPS ConceptMap to the SNOMED codes).
 */
export const SMOKING_ANSWERS: readonly { readonly code: Code; readonly answer: SmokingAnswer }[] = [
  { code: SMOKING_STATUS.dailySmoker, answer: 'current' },
  { code: SMOKING_STATUS.occasionalSmoker, answer: 'current' },
  { code: SMOKING_STATUS.heavySmoker, answer: 'current' },
  { code: SMOKING_STATUS.lightSmoker, answer: 'current' },
  { code: SMOKING_STATUS.smoker, answer: 'current' },
  { code: SMOKING_STATUS.exSmoker, answer: 'former' },
  { code: SMOKING_STATUS.neverSmoked, answer: 'never' },
  { code: SMOKING_STATUS.unknown, answer: 'unknown' },
  { code: { system: SYSTEM.loinc, code: 'LA18976-3', display: 'Current every day smoker' }, answer: 'current' },
  { code: { system: SYSTEM.loinc, code: 'LA18977-1', display: 'Current some day smoker' }, answer: 'current' },
  { code: { system: SYSTEM.loinc, code: 'LA18981-3', display: 'Heavy tobacco smoker' }, answer: 'current' },
  { code: { system: SYSTEM.loinc, code: 'LA18982-1', display: 'Light tobacco smoker' }, answer: 'current' },
  { code: { system: SYSTEM.loinc, code: 'LA18979-7', display: 'Smoker, current status unknown' }, answer: 'current' },
  { code: { system: SYSTEM.loinc, code: 'LA15920-4', display: 'Former smoker' }, answer: 'former' },
  { code: { system: SYSTEM.loinc, code: 'LA18978-9', display: 'Never smoker' }, answer: 'never' },
  { code: { system: SYSTEM.loinc, code: 'LA18980-5', display: 'Unknown if ever smoked' }, answer: 'unknown' },
];

/** Free-text smoking answers, tried in this order ("non-smoker" and "ex-smoker" before "smoker"). */
export const SMOKING_TEXT: readonly { readonly answer: SmokingAnswer; readonly text: RegExp }[] = [
  { answer: 'unknown', text: /\bunknown\b/i },
  { answer: 'never', text: /\b(?:never|non-?smoker|does not smoke|lifetime non)/i },
  { answer: 'former', text: /\b(?:ex-?smoker|former|quit|stopped|past smoker)/i },
  { answer: 'current', text: /\b(?:smok\w*|cigar\w*|tobacco)\b/i },
];

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

/**
 * "Pathological fracture due to osteoporosis" (older term "Osteoporotic fracture of bone"). check, though
 * several sources agree. A prior fragility fracture, not an osteoporosis diagnosis: see OSTEOPOROSIS_SET.
 */
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

// ---- units of recorded values ----

/** Units a value may be recorded in (UCUM code or unit text, compared in lower case), and the factor to the unit used here. */
export interface UnitConversion {
  readonly units: readonly string[];
  readonly factor: number;
  /** Named in notes when the value was converted. */
  readonly name: string;
}

export const WEIGHT_UNITS: readonly UnitConversion[] = [
  { units: ['kg', 'kgs', 'kilogram', 'kilograms'], factor: 1, name: 'kg' },
  { units: ['g', 'gram', 'grams'], factor: 0.001, name: 'g' },
  { units: ['[lb_av]', 'lb', 'lbs', 'pound', 'pounds'], factor: 0.45359237, name: 'lb' },
  { units: ['[oz_av]', 'oz'], factor: 0.028349523125, name: 'oz' },
];

export const HEIGHT_UNITS: readonly UnitConversion[] = [
  { units: ['cm', 'centimeter', 'centimeters', 'centimetre', 'centimetres'], factor: 1, name: 'cm' },
  { units: ['m', 'meter', 'meters', 'metre', 'metres'], factor: 100, name: 'm' },
  { units: ['mm'], factor: 0.1, name: 'mm' },
  { units: ['[in_i]', '[in_us]', 'in', 'inch', 'inches'], factor: 2.54, name: 'in' },
  { units: ['[ft_i]', 'ft', 'foot', 'feet'], factor: 30.48, name: 'ft' },
];

export const BMI_UNITS: readonly UnitConversion[] = [{ units: ['kg/m2', 'kg/m^2', 'kg/m²', 'kg/(m2)'], factor: 1, name: 'kg/m2' }];

/**
 * Alcohol intake per day. FRAX's unit is 8–10 g of alcohol and a US drink 14 g; a drink is taken as
 * a unit, as the synthetic cohort does, so a count of 3 is FRAX's threshold either way.
 */
export const DRINKS_PER_DAY_UNITS: readonly UnitConversion[] = [
  { units: ['{drinks}/d', '{drink}/d', '{drinks}/day', 'drinks/day', 'drinks/d', 'drink/day', '/d', '1/d', '{#}/d', '{standard drinks}/d'], factor: 1, name: 'drinks/day' },
  { units: ['{units}/d', '{unit}/d', 'units/day', 'units/d', 'unit/day'], factor: 1, name: 'units/day' },
  { units: ['{drinks}/wk', 'drinks/week', '/wk', '{units}/wk', 'units/week'], factor: 1 / 7, name: 'per week' },
];

/** A T-score has no unit; these are the ways charts write none (US Core's example used {T-Score}, later 1). */
export const T_SCORE_UNITS: readonly UnitConversion[] = [{ units: ['{t-score}', '{tscore}', 't-score', '1', '{sd}', 'sd', '{s.d.}'], factor: 1, name: 'T-score' }];

export const PERCENT_UNITS: readonly UnitConversion[] = [{ units: ['%', 'percent', '{percent}'], factor: 1, name: '%' }];

// ---- family history ----

/** Relationship text that names a biological parent; step-, foster, adoptive and grand-parents are not FRAX's parent. */
export const PARENT_TEXT = /^(?!.*\b(?:step|foster|adopt\w*|grand\w*|in-law)\b)(?=.*\b(?:mother|father|parent|mom|dad|mum)\b)/i;

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
