// The clinical value sets behind the FRAX factors that charts record as diagnoses and orders:
// conditions (SNOMED CT, ICD-10-CM, WHO ICD-10, free text) and drugs (RxNorm, ATC, names). Data only,
// beside terminology.ts because the lists are long. Confidence as there: "confirmed" = seen in
// terminology material (a published value set, a code system listing, US Core/Synthea), "check" = a
// single informal source or a choice a site should review.
import {
  GLUCOCORTICOIDS,
  HIP_FRACTURE,
  MALABSORPTION_SYNDROME,
  OSTEOPOROSIS,
  OSTEOPOROTIC_FRACTURE,
  RHEUMATOID_ARTHRITIS,
  SECONDARY_OSTEOPOROSIS_CAUSES,
  SYSTEM,
  type Code,
  type Glucocorticoid,
} from './terminology.js';

// ---- conditions ----

/** Condition.clinicalStatus codes (R4). */
export type ClinicalStatusCode = 'active' | 'recurrence' | 'relapse' | 'inactive' | 'remission' | 'resolved';

/** An ICD-10 code prefix, written with its dot; a chart's code matches with or without the dot. */
export interface IcdPrefix {
  readonly prefix: string;
  readonly display: string;
}

export interface ConditionValueSet {
  /** In notes, e.g. "rheumatoid arthritis". */
  readonly name: string;
  readonly snomed: readonly Code[];
  readonly icd10cm: readonly IcdPrefix[];
  /** WHO ICD-10; mostly the same categories as ICD-10-CM. */
  readonly icd10: readonly IcdPrefix[];
  /** Condition.code.text, or a coding's display when no code matched; read as "inferred". */
  readonly text: RegExp;
  /** The clinical statuses under which the condition counts; each set says why. */
  readonly countsWhile: readonly ClinicalStatusCode[];
}

/** A fracture happened whatever its status now: healed (resolved) fractures count. */
const EVER: readonly ClinicalStatusCode[] = ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'];
/** A lifelong disease: in remission it is still there; "resolved" or "inactive" reads as a withdrawn diagnosis. */
const CHRONIC: readonly ClinicalStatusCode[] = ['active', 'recurrence', 'relapse', 'remission'];
/** Counts only while present. */
const CURRENT: readonly ClinicalStatusCode[] = ['active', 'recurrence', 'relapse'];

/** Text that does not assert a condition (negations, risks, screening): such text is not read at all. */
export const NOT_ASSERTED_TEXT = /\b(?:no|not|without|denies|denied|negative|ruled? out|risk|screening|suspected|possible|probable|query)\b/i;

/** Text about a relative: in the patient's own Condition it is family history, not the patient's disease. */
export const RELATIVE_TEXT = /\b(?:family history|fh|mother|father|parent|sister|brother|sibling|relative)\b/i;

const snomed = (code: string, display: string): Code => ({ system: SYSTEM.snomed, code, display });
const icd = (prefix: string, display: string): IcdPrefix => ({ prefix, display });

/** Osteoporotic hip fractures, in both the fracture and the hip fracture sets. */
const OSTEOPOROTIC_HIP_FRACTURES: readonly Code[] = [
  snomed('431031001', 'Osteoporotic fracture of neck of femur'),
  snomed('704334005', 'Osteoporotic fracture of proximal femur'),
];

/**
 * Osteoporotic fractures (VSAC 2.16.840.1.113883.3.464.1003.113.12.1038, "Osteoporosis Without Current
 * Fracture", NLM; confirmed): a prior fragility fracture only, not an osteoporosis diagnosis (see
 * OSTEOPOROSIS_SET for why).
 */
const OSTEOPOROTIC_FRACTURES: readonly Code[] = [
  OSTEOPOROTIC_FRACTURE,
  snomed('704330001', 'Osteoporotic fracture of femur'),
  ...OSTEOPOROTIC_HIP_FRACTURES,
  snomed('11311601000119109', 'Osteoporotic fracture of vertebra'),
  snomed('203450003', 'Osteoporotic fracture of lumbar vertebra'),
  snomed('203451004', 'Osteoporotic fracture of thoracic vertebra'),
  snomed('240198002', 'Osteoporotic vertebral collapse'),
  snomed('311890007', 'Osteoporotic collapse of lumbar vertebra'),
  snomed('311891006', 'Osteoporotic collapse of thoracic vertebra'),
  snomed('704335006', 'Osteoporotic fracture of humerus'),
  snomed('704336007', 'Osteoporotic fracture of radius'),
  snomed('704339000', 'Osteoporotic fracture of ulna'),
];

/** ICD-10 M80: osteoporosis with current pathological fracture (M80.08 = vertebra); a fracture here, not a diagnosis. confirmed */
const OSTEOPOROSIS_WITH_FRACTURE = icd('M80', 'Osteoporosis with current pathological fracture');

/** Hip fractures: the patient's own, and a parent's in FamilyMemberHistory. */
const HIP_FRACTURE_SNOMED: readonly Code[] = [
  HIP_FRACTURE,
  // Synthea's hip fracture; confirmed (Synthea, OMOP listings).
  snomed('359817006', 'Closed fracture of hip'),
];

/** ICD-10 S72.0 neck of femur, S72.1 pertrochanteric, S72.2 subtrochanteric. confirmed */
const HIP_FRACTURE_ICD: readonly IcdPrefix[] = [
  icd('S72.0', 'Fracture of head and neck of femur'),
  icd('S72.1', 'Pertrochanteric fracture'),
  icd('S72.2', 'Subtrochanteric fracture of femur'),
];

const PRIOR_FRACTURE_ICD: readonly IcdPrefix[] = [
  ...HIP_FRACTURE_ICD,
  icd('S22.0', 'Fracture of thoracic vertebra'),
  icd('S32.0', 'Fracture of lumbar vertebra'),
  icd('M48.5', 'Collapsed vertebra, not elsewhere classified'),
  icd('S52.5', 'Fracture of lower end of radius'),
  icd('S52.6', 'Fracture of lower end of ulna'),
  icd('S42.2', 'Fracture of upper end of humerus'),
  OSTEOPOROSIS_WITH_FRACTURE,
];

/**
 * FRAX's previous fracture (a radiographic vertebral fracture counts) at the sites that make up
 * "major osteoporotic fracture": spine, hip, wrist, proximal humerus. Codes cannot tell a fragility
 * fracture from a high-energy one, so every fracture code here counts; a clinician reviewing the
 * factors can discount a traumatic one. Any clinical status counts: a healed fracture still happened.
 */
export const PRIOR_FRAGILITY_FRACTURE_SET: ConditionValueSet = {
  name: 'prior fragility fracture',
  snomed: [
    ...OSTEOPOROTIC_FRACTURES,
    ...HIP_FRACTURE_SNOMED,
    // "Compression fracture of vertebral column": a single source. check
    snomed('42942008', 'Compression fracture of vertebral column'),
    // Synthea's spinal fractures; confirmed (two listings). With cord injury is surely traumatic, but see above.
    snomed('15724005', 'Fracture of vertebral column without spinal cord injury'),
    snomed('1734006', 'Fracture of vertebral column with spinal cord injury'),
    // confirmed (SNOMED value sets; Ontoserver-validated listing)
    snomed('263199001', 'Fracture of distal end of radius'),
    // Synthea's wrist and forearm fractures. check: the forearm includes shafts
    snomed('263102004', 'Fracture subluxation of wrist'),
    snomed('65966004', 'Fracture of forearm'),
  ],
  icd10cm: [
    ...PRIOR_FRACTURE_ICD,
    // ICD-10-CM only: "Personal history of (healed) osteoporosis fracture". confirmed (coding references)
    icd('Z87.310', 'Personal history of (healed) osteoporosis fracture'),
  ],
  icd10: PRIOR_FRACTURE_ICD,
  text: new RegExp(
    String.raw`\b(?:collapsed vertebra|vertebral collapse|compression fracture)\b|` +
      String.raw`^(?=.*\b(?:fractur\w*|fx)\b)(?=.*\b(?:vertebra\w*|spine|spinal|lumbar|thoracic|hip|femur|femoral|wrist|radius|radial|colles|humerus|humeral|osteoporotic|fragility)\b)`,
    'i',
  ),
  countsWhile: EVER,
};

/** A parent's hip fracture (FamilyMemberHistory.condition.code); a clinical status does not apply. */
export const HIP_FRACTURE_SET: ConditionValueSet = {
  name: 'hip fracture',
  snomed: [...HIP_FRACTURE_SNOMED, ...OSTEOPOROTIC_HIP_FRACTURES],
  icd10cm: HIP_FRACTURE_ICD,
  icd10: HIP_FRACTURE_ICD,
  text: /^(?=.*\b(?:fractur\w*|fx|broken)\b)(?=.*\b(?:hip|femoral neck|neck of (?:the )?femur|proximal femur)\b)/i,
  countsWhile: EVER,
};

/** ICD-10 M05 (seropositive) and M06 (other) without M06.1 adult-onset Still's and M06.4 inflammatory polyarthropathy. confirmed */
const RA_ICD: readonly IcdPrefix[] = [
  icd('M05', 'Rheumatoid arthritis with rheumatoid factor'),
  icd('M06.0', 'Rheumatoid arthritis without rheumatoid factor'),
  icd('M06.2', 'Rheumatoid bursitis'),
  icd('M06.3', 'Rheumatoid nodule'),
  icd('M06.8', 'Other specified rheumatoid arthritis'),
  icd('M06.9', 'Rheumatoid arthritis, unspecified'),
];

/**
 * FRAX asks for a confirmed diagnosis of rheumatoid arthritis. RA does not resolve: in remission it
 * counts; "resolved" or "inactive" reads as a diagnosis withdrawn.
 */
export const RHEUMATOID_ARTHRITIS_SET: ConditionValueSet = {
  name: 'rheumatoid arthritis',
  snomed: [
    RHEUMATOID_ARTHRITIS,
    // confirmed (two code lists)
    snomed('239791005', 'Seropositive rheumatoid arthritis'),
    // CVD-COVID-UK RA code list only. check
    snomed('239792003', 'Seronegative rheumatoid arthritis'),
    snomed('143441000119108', 'Rheumatoid arthritis in remission'),
    snomed('201791009', 'Flare of rheumatoid arthritis'),
    snomed('287006005', 'Rheumatoid arthritis of multiple joints'),
  ],
  icd10cm: RA_ICD,
  icd10: RA_ICD,
  text: /\brheumatoid arthritis\b/i,
  countsWhile: CHRONIC,
};

const causeSnomed = (code: string): Code => {
  const cause = SECONDARY_OSTEOPOROSIS_CAUSES.find((c) => c.code === code);
  if (cause === undefined) throw new RangeError(`${code} is not in SECONDARY_OSTEOPOROSIS_CAUSES`);
  return cause;
};

const CHRONIC_LIVER_ICD: readonly IcdPrefix[] = [
  icd('K70.0', 'Alcoholic fatty liver'),
  icd('K70.2', 'Alcoholic fibrosis and sclerosis of liver'),
  icd('K70.3', 'Alcoholic cirrhosis of liver'),
  icd('K70.4', 'Alcoholic hepatic failure'),
  icd('K70.9', 'Alcoholic liver disease, unspecified'),
  icd('K71.3', 'Toxic liver disease with chronic persistent hepatitis'),
  icd('K71.4', 'Toxic liver disease with chronic lobular hepatitis'),
  icd('K71.5', 'Toxic liver disease with chronic active hepatitis'),
  icd('K71.7', 'Toxic liver disease with fibrosis and cirrhosis of liver'),
  icd('K72.1', 'Chronic hepatic failure'),
  icd('K73', 'Chronic hepatitis, not elsewhere classified'),
  icd('K74', 'Fibrosis and cirrhosis of liver'),
  // Not in the NCQA set, but chronic by name. check
  icd('B18', 'Chronic viral hepatitis'),
  icd('K75.4', 'Autoimmune hepatitis'),
];

const HYPOGONADISM_ICD: readonly IcdPrefix[] = [
  // Hypopituitarism includes hypogonadotropic hypogonadism, but also other deficits. check
  icd('E23.0', 'Hypopituitarism'),
  icd('E29.1', 'Testicular hypofunction'),
];

/** Primary ovarian failure; E28.31 is premature menopause. confirmed */
const PREMATURE_MENOPAUSE_ICD: readonly IcdPrefix[] = [icd('E28.3', 'Primary ovarian failure')];

const MALNUTRITION_ICD: readonly IcdPrefix[] = [
  icd('E40', 'Kwashiorkor'),
  icd('E41', 'Nutritional marasmus'),
  icd('E42', 'Marasmic kwashiorkor'),
  icd('E43', 'Unspecified severe protein-calorie malnutrition'),
  icd('E44', 'Protein-calorie malnutrition of moderate and mild degree'),
  icd('E45', 'Retarded development following protein-calorie malnutrition'),
  icd('E46', 'Unspecified protein-calorie malnutrition'),
];

/**
 * FRAX's secondary osteoporosis, one set per cause (confirmed ICD-10 categories unless marked). The
 * clinical status that counts follows FRAX's wording: hyperthyroidism must be untreated and
 * long-standing, so one in remission or resolved does not count; malnutrition counts while current;
 * osteogenesis imperfecta and a premature menopause are lifelong facts whatever their status;
 * the other causes are chronic diseases (remission counts, resolved does not).
 */
export const SECONDARY_OSTEOPOROSIS_SETS: readonly ConditionValueSet[] = [
  {
    name: 'type 1 diabetes',
    snomed: [causeSnomed('46635009')],
    icd10cm: [icd('E10', 'Type 1 diabetes mellitus')],
    icd10: [icd('E10', 'Insulin-dependent diabetes mellitus')],
    text: /\b(?:type\s*(?:1|i)\b.*diabet|diabet\w*.*\btype\s*(?:1|i)\b|(?<!non[- ]?)insulin[- ]dependent diabet|juvenile diabet|iddm\b)/i,
    countsWhile: CHRONIC,
  },
  {
    name: 'osteogenesis imperfecta',
    snomed: [causeSnomed('78314001')],
    icd10cm: [icd('Q78.0', 'Osteogenesis imperfecta')],
    icd10: [icd('Q78.0', 'Osteogenesis imperfecta')],
    text: /\bosteogenesis imperfecta\b/i,
    countsWhile: EVER,
  },
  {
    name: 'hyperthyroidism',
    snomed: [causeSnomed('34486009')],
    icd10cm: [icd('E05', 'Thyrotoxicosis [hyperthyroidism]')],
    icd10: [icd('E05', 'Thyrotoxicosis [hyperthyroidism]')],
    text: /\b(?:hyperthyroid\w*|thyrotoxicosis|graves'? disease)\b/i,
    countsWhile: CURRENT,
  },
  {
    name: 'hypogonadism',
    snomed: [causeSnomed('48130008')],
    icd10cm: HYPOGONADISM_ICD,
    icd10: HYPOGONADISM_ICD,
    text: /\bhypogonadism\b/i,
    countsWhile: CHRONIC,
  },
  {
    name: 'premature menopause',
    snomed: [causeSnomed('373717006')],
    icd10cm: PREMATURE_MENOPAUSE_ICD,
    icd10: PREMATURE_MENOPAUSE_ICD,
    text: /\b(?:(?:premature|early) (?:menopause|ovarian (?:failure|insufficiency))|primary ovarian insufficiency)\b/i,
    countsWhile: EVER,
  },
  {
    name: 'malabsorption',
    snomed: [causeSnomed('396331005'), MALABSORPTION_SYNDROME],
    icd10cm: [icd('K90', 'Intestinal malabsorption')],
    icd10: [icd('K90', 'Intestinal malabsorption')],
    text: /\b(?:malabsorption|c(?:o)?eliac|sprue)\b/i,
    countsWhile: CHRONIC,
  },
  {
    name: 'chronic malnutrition',
    snomed: [],
    icd10cm: MALNUTRITION_ICD,
    icd10: MALNUTRITION_ICD,
    text: /\b(?:malnutrition|malnourish\w*|marasmus|kwashiorkor)\b/i,
    countsWhile: CURRENT,
  },
  {
    // ICD-10-CM from NCQA's "Chronic Liver Disease" (VSAC 2.16.840.1.113883.3.464.1003.199.12.1035),
    // without its acute toxic and vascular codes; SNOMED codes from the same set. confirmed
    name: 'chronic liver disease',
    snomed: [
      causeSnomed('328383001'),
      snomed('19943007', 'Cirrhosis of liver'),
      snomed('420054005', 'Alcoholic cirrhosis'),
      snomed('76783007', 'Chronic hepatitis'),
      snomed('10295004', 'Chronic viral hepatitis'),
      snomed('128302006', 'Chronic hepatitis C'),
      snomed('61977001', 'Chronic type B viral hepatitis'),
      snomed('31712002', 'Primary biliary cholangitis'),
      snomed('62484002', 'Hepatic fibrosis'),
      snomed('79720007', 'Chronic nonalcoholic liver disease'),
    ],
    icd10cm: [...CHRONIC_LIVER_ICD, icd('K75.81', 'Nonalcoholic steatohepatitis (NASH)')],
    icd10: CHRONIC_LIVER_ICD,
    text: /\b(?:cirrhosis|chronic liver disease|chronic hepatitis|(?:hepatic|liver) fibrosis)\b/i,
    countsWhile: CHRONIC,
  },
];

/** M81.0 age-related and M81.8 other osteoporosis (not M81.6 localized). confirmed (VSAC, as above) */
const OSTEOPOROSIS_ICD10CM: readonly IcdPrefix[] = [
  icd('M81.0', 'Age-related osteoporosis without current pathological fracture'),
  icd('M81.8', 'Other osteoporosis without current pathological fracture'),
];

/**
 * A known osteoporosis diagnosis (not a FRAX input): it suppresses the fracture-risk card. SNOMED
 * codes from the VSAC set above, without its localized, transient and disuse forms. Osteoporosis does
 * not resolve: "resolved" or "inactive" reads as a diagnosis withdrawn.
 *
 * Osteoporotic-fracture codes (SNOMED 443165006 and its osteoporotic-fracture descendants, ICD-10-CM
 * M80) are deliberately not here: they count as a prior fragility fracture only. A fracture on the
 * problem list without an osteoporosis diagnosis or treatment is the best-documented osteoporosis
 * treatment gap, so those patients must keep their fracture-risk card; "known osteoporosis" needs an
 * osteoporosis code (SNOMED 64859006 family, ICD-10-CM M81). For the same reason the text pattern
 * passes over any text that names a fracture or collapse, however it words the osteoporosis.
 */
export const OSTEOPOROSIS_SET: ConditionValueSet = {
  name: 'osteoporosis',
  snomed: [
    OSTEOPOROSIS,
    snomed('102447009', 'Postmenopausal osteoporosis'),
    snomed('32369003', 'Menopausal osteoporosis'),
    snomed('18040001', 'Senile osteoporosis'),
    snomed('276661002', 'Primary osteoporosis'),
    snomed('3345002', 'Idiopathic osteoporosis'),
    snomed('240155001', 'Adult idiopathic generalized osteoporosis'),
    snomed('703264005', 'Secondary osteoporosis'),
    snomed('240157009', 'Secondary generalized osteoporosis'),
    snomed('14651005', 'Drug-induced osteoporosis'),
    snomed('390833005', 'Osteoporosis caused by corticosteroid'),
    snomed('203438009', 'Vertebral osteoporosis'),
  ],
  icd10cm: OSTEOPOROSIS_ICD10CM,
  // WHO M81 covers the same forms at four characters; M81.2 disuse and M81.6 localized are left out.
  icd10: ['M81.0', 'M81.1', 'M81.3', 'M81.4', 'M81.5', 'M81.8', 'M81.9'].map((prefix) => icd(prefix, 'Osteoporosis without pathological fracture')),
  text: /^(?!.*\b(?:fractur\w*|fx|collapsed?)\b).*\bosteoporo(?:sis|tic)\b/i,
  countsWhile: CHRONIC,
};

// ---- drugs ----

/** A drug by ingredient: its RxNorm ingredient code, ATC code, and the names a text may use. */
export interface DrugIngredient {
  /** Shown as the drug, e.g. "alendronate". */
  readonly name: string;
  /** Absent where no source for the ingredient code was found; the ATC code and name still match. */
  readonly rxnorm?: Code;
  readonly atc: Code;
  /** Other names: the INN acid form, common brands. */
  readonly aliases: readonly string[];
}

export interface GlucocorticoidIngredient extends DrugIngredient, Glucocorticoid {
  readonly rxnorm: Code;
  /**
   * Counted only when the order says oral, intravenous or intramuscular: triamcinolone is mostly a
   * joint injection, a cream or a nasal spray.
   */
  readonly systemicOnlyWhenStated: boolean;
}

/** A clinical or branded drug product (RxNorm SCD/SBD) and its ingredient; strength in mg per unit when one. */
export interface DrugProduct {
  readonly code: Code;
  readonly ingredient: string;
  readonly mgPerUnit?: number;
}

const rxnorm = (code: string, display: string): Code => ({ system: SYSTEM.rxnorm, code, display });
const atc = (code: string, display: string): Code => ({ system: SYSTEM.atc, code, display });

/** ATC class prefixes; an ATC code under one of them matches even when its ingredient is not listed. */
export interface DrugClass {
  readonly name: string;
  readonly atcPrefixes: readonly Code[];
}

/**
 * Systemic glucocorticoids: ATC H02AB (confirmed, ATC index); RxNorm ingredient codes confirmed (NLM
 * RxClass members of H02AB). mg of prednisolone per mg, from the usual equivalence tables (5 mg
 * prednisolone = 5 prednisone = 4 methylprednisolone = 4 triamcinolone = 0.75 dexamethasone =
 * 0.6 betamethasone = 20 hydrocortisone = 25 cortisone = 6 deflazacort). Budesonide is not here:
 * ATC has it only as inhaled (R03BA) or gut-acting (A07EA), not H02AB.
 */
export const SYSTEMIC_GLUCOCORTICOIDS: readonly GlucocorticoidIngredient[] = [
  { ...GLUCOCORTICOIDS.prednisolone, name: 'prednisolone', aliases: ['orapred', 'millipred', 'pediapred'], systemicOnlyWhenStated: false },
  { ...GLUCOCORTICOIDS.prednisone, name: 'prednisone', aliases: ['deltasone', 'rayos'], systemicOnlyWhenStated: false },
  {
    name: 'methylprednisolone',
    rxnorm: rxnorm('6902', 'methylprednisolone'),
    atc: atc('H02AB04', 'methylprednisolone'),
    prednisoloneEquivalent: 1.25,
    aliases: ['medrol', 'solu-medrol', 'depo-medrol'],
    systemicOnlyWhenStated: false,
  },
  {
    name: 'dexamethasone',
    rxnorm: rxnorm('3264', 'dexamethasone'),
    atc: atc('H02AB02', 'dexamethasone'),
    prednisoloneEquivalent: 5 / 0.75,
    aliases: ['decadron'],
    systemicOnlyWhenStated: false,
  },
  {
    name: 'hydrocortisone',
    rxnorm: rxnorm('5492', 'hydrocortisone'),
    atc: atc('H02AB09', 'hydrocortisone'),
    prednisoloneEquivalent: 0.25,
    aliases: ['cortef', 'solu-cortef'],
    systemicOnlyWhenStated: false,
  },
  { name: 'cortisone', rxnorm: rxnorm('2878', 'cortisone'), atc: atc('H02AB10', 'cortisone'), prednisoloneEquivalent: 0.2, aliases: [], systemicOnlyWhenStated: false },
  {
    name: 'betamethasone',
    rxnorm: rxnorm('1514', 'betamethasone'),
    atc: atc('H02AB01', 'betamethasone'),
    prednisoloneEquivalent: 5 / 0.6,
    aliases: ['celestone'],
    systemicOnlyWhenStated: false,
  },
  {
    name: 'deflazacort',
    rxnorm: rxnorm('22396', 'deflazacort'),
    atc: atc('H02AB13', 'deflazacort'),
    prednisoloneEquivalent: 5 / 6,
    aliases: ['emflaza', 'calcort'],
    systemicOnlyWhenStated: false,
  },
  {
    name: 'triamcinolone',
    rxnorm: rxnorm('10759', 'triamcinolone'),
    atc: atc('H02AB08', 'triamcinolone'),
    prednisoloneEquivalent: 1.25,
    aliases: ['kenalog'],
    systemicOnlyWhenStated: true,
  },
];

export const GLUCOCORTICOID_CLASS: DrugClass = { name: 'systemic glucocorticoid', atcPrefixes: [atc('H02AB', 'Glucocorticoids')] };

/**
 * Osteoporosis treatment. ATC confirmed (ATC index) but H05AA04 (abaloparatide, ATC 2022) and M05BX06
 * (romosozumab) check; RxNorm ingredient codes: zoledronic acid confirmed (OHDSI concept set), the
 * others from a single RxNorm-to-SNOMED map (check). Abaloparatide 1921069: a single source, UNMC's
 * RxNorm ingredient-to-drug map (its example output pairs 1921069 with the abaloparatide 2 MG/ML Pen
 * Injector SCD and its [Tymlos] SBD); check. No source found for teriparatide's or romosozumab's
 * ingredient code, so they match by ATC code and name only. Denosumab 120 mg (Xgeva, for bone
 * metastases) is the same ingredient and counts.
 */
export const OSTEOPOROSIS_DRUGS: readonly DrugIngredient[] = [
  { name: 'alendronate', rxnorm: rxnorm('46041', 'alendronate'), atc: atc('M05BA04', 'alendronic acid'), aliases: ['alendronic acid', 'fosamax', 'binosto'] },
  { name: 'risedronate', rxnorm: rxnorm('73056', 'risedronate'), atc: atc('M05BA07', 'risedronic acid'), aliases: ['risedronic acid', 'actonel', 'atelvia'] },
  { name: 'ibandronate', rxnorm: rxnorm('115264', 'ibandronate'), atc: atc('M05BA06', 'ibandronic acid'), aliases: ['ibandronic acid', 'boniva', 'bonviva'] },
  { name: 'zoledronic acid', rxnorm: rxnorm('77655', 'zoledronic acid'), atc: atc('M05BA08', 'zoledronic acid'), aliases: ['zoledronate', 'reclast', 'aclasta', 'zometa'] },
  { name: 'denosumab', rxnorm: rxnorm('993449', 'denosumab'), atc: atc('M05BX04', 'denosumab'), aliases: ['prolia', 'xgeva'] },
  { name: 'teriparatide', atc: atc('H05AA02', 'teriparatide'), aliases: ['forteo', 'forsteo'] },
  { name: 'abaloparatide', rxnorm: rxnorm('1921069', 'abaloparatide'), atc: atc('H05AA04', 'abaloparatide'), aliases: ['tymlos'] },
  { name: 'romosozumab', atc: atc('M05BX06', 'romosozumab'), aliases: ['evenity'] },
  { name: 'raloxifene', rxnorm: rxnorm('72143', 'raloxifene'), atc: atc('G03XC01', 'raloxifene'), aliases: ['evista'] },
  { name: 'strontium ranelate', atc: atc('M05BX03', 'strontium ranelate'), aliases: [] },
];

/**
 * Bisphosphonates and their combinations (M05BA, M05BB) by class. M05BX05 (burosumab, for
 * X-linked hypophosphataemia) and H05AA03 (parathyroid hormone, for hypoparathyroidism) are not
 * osteoporosis treatment and are left out.
 */
export const OSTEOPOROSIS_DRUG_CLASS: DrugClass = {
  name: 'bisphosphonate',
  atcPrefixes: [atc('M05BA', 'Bisphosphonates'), atc('M05BB', 'Bisphosphonates, combinations')],
};

/** Products whose code names the ingredient (and strength) without an ingredient coding beside it. */
export const DRUG_PRODUCTS: readonly DrugProduct[] = [
  // confirmed (Synthea; EHR sandbox data)
  { code: rxnorm('312617', 'predniSONE 5 MG Oral Tablet'), ingredient: 'prednisone', mgPerUnit: 5 },
  // Synthea's osteoporosis module (SBD). confirmed
  { code: rxnorm('904420', 'Alendronic acid 10 MG [Fosamax]'), ingredient: 'alendronate', mgPerUnit: 10 },
];

// ---- how a drug is given ----

/** SNOMED CT routes of administration that are systemic. confirmed (FHIR examples and route maps) */
export const SYSTEMIC_ROUTES: readonly Code[] = [
  snomed('26643006', 'Oral route'),
  snomed('47625008', 'Intravenous route'),
  snomed('78421000', 'Intramuscular route'),
  snomed('34206005', 'Subcutaneous route'),
];

/** SNOMED CT local routes. check (single sources); displays are also read as text */
export const LOCAL_ROUTES: readonly Code[] = [snomed('6064005', 'Topical route'), snomed('46713006', 'Nasal route')];

/** Route, dose form or product text that means the drug acts locally: inhaled, on the skin, in the eye, ear, nose, rectum, joint. */
export const LOCAL_ADMINISTRATION_TEXT =
  /\b(?:inhal\w*|nebuli[sz]\w*|(?:intra)?nasal|topical|cutaneous|transdermal|dermal|cream|ointment|lotion|gel|foam|shampoo|ophthalmic|eye|otic|ear|rectal|enema|suppositor\w*|mouthwash|oromucosal|dental|intravitreal|intra-?articular|intralesional|vaginal|metered|spray|powder for inhalation)\b/i;

/** Route text that says systemic. */
export const SYSTEMIC_ROUTE_TEXT = /\b(?:oral|orally|by mouth|po|intravenous|iv|intramuscular|im|subcutaneous|sc|sub-?q)\b/i;

/** Dose forms that are taken or injected whole-body, when no route says otherwise. */
export const SYSTEMIC_FORM_TEXT = /\b(?:tablets?|tabs?|capsules?|elixir|syrup|oral solution|injection|injectable|infusion)\b/i;
