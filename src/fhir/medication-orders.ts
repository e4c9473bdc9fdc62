// Reading one MedicationRequest: which drug it orders (from medicationCodeableConcept or a contained
// or included Medication), whether a glucocorticoid reaches the whole body, and its course: start,
// length, dose, the end it states. Shared by the chart reader (record-medications.ts) and the
// order-select helpers (draft-orders.ts), so a draft and the chart agree on what a glucocorticoid is.
import { SYSTEM, matchesCode } from './terminology.js';
import {
  DRUG_PRODUCTS,
  GLUCOCORTICOID_CLASS,
  LOCAL_ADMINISTRATION_TEXT,
  LOCAL_ROUTES,
  SYSTEMIC_FORM_TEXT,
  SYSTEMIC_GLUCOCORTICOIDS,
  SYSTEMIC_ROUTE_TEXT,
  SYSTEMIC_ROUTES,
  type DrugClass,
  type DrugIngredient,
  type GlucocorticoidIngredient,
} from './value-sets.js';
import { DAY_MS, codingsOf, get, hasAnyCode, isObject, numeric, object, objects, quotable, referencedId, str, textsOf, timeOf, type CodingText, type Json } from './untrusted-json.js';

// ---- what is ordered ----

/** The concepts that say what a request orders, and the dose forms beside them. */
export interface OrderedMedication {
  concepts: unknown[];
  forms: unknown[];
}

/**
 * medicationCodeableConcept, or the Medication that medicationReference points at (contained `#id`,
 * else by id among `medications`): its code, ingredients and form. An unresolved reference's display
 * is used as text. Undefined when nothing names the drug.
 */
export function orderedMedication(request: unknown, medications: readonly unknown[]): OrderedMedication | undefined {
  const concept = object(request, 'medicationCodeableConcept');
  if (concept !== undefined) return { concepts: [concept], forms: [] };
  const reference = object(request, 'medicationReference');
  const ref = str(get(reference, 'reference'));
  const local = ref?.startsWith('#') === true;
  const id = local ? ref?.slice(1) : referencedId(reference, 'Medication');
  const isIt = (m: unknown): m is Json => id !== undefined && isObject(m) && m.resourceType === 'Medication' && get(m, 'id') === id;
  const medication = (local ? objects(request, 'contained') : medications).find(isIt);
  if (medication !== undefined) {
    return { concepts: [get(medication, 'code'), ...objects(medication, 'ingredient').map((i) => get(i, 'itemCodeableConcept'))], forms: [get(medication, 'form')] };
  }
  const display = str(get(reference, 'display'));
  return display === undefined ? undefined : { concepts: [{ text: display }], forms: [] };
}

export interface DrugIdentity<D extends DrugIngredient = DrugIngredient> {
  /** The ingredient's name, or the class's when only an ATC class code matched. */
  drug: string;
  via: 'code' | 'text';
  ingredient?: D;
  /** mg per tablet or other unit, from a listed product or an "N MG" product name. */
  mgPerUnit?: number;
  note: string;
}

const nameMatchers = new Map<DrugIngredient, RegExp>();

/** A whole-word, case-blind matcher of the drug's name and aliases, built once per drug. */
function nameMatcher(drug: DrugIngredient): RegExp {
  let matcher = nameMatchers.get(drug);
  if (matcher === undefined) {
    const names = [drug.name, ...drug.aliases].map((n) => n.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'));
    matcher = new RegExp(String.raw`\b(?:${names.join('|')})\b`, 'i');
    nameMatchers.set(drug, matcher);
  }
  return matcher;
}

/** The strength of a single-ingredient product name such as "prednisone 5 MG Oral Tablet" (not a concentration). */
function strengthMg(texts: readonly string[]): number | undefined {
  for (const text of texts) {
    const strengths = [...text.matchAll(/(\d+(?:\.\d+)?)\s*MG\b(?!\s*\/)/gi)];
    if (strengths.length === 1 && !/\/\s*ML\b/i.test(text)) return Number(strengths[0]![1]);
  }
  return undefined;
}

const strength = (mg: number | undefined): { mgPerUnit?: number } => (mg === undefined ? {} : { mgPerUnit: mg });

const SYSTEM_NAMES: Readonly<Record<string, string>> = { [SYSTEM.rxnorm]: 'RxNorm', [SYSTEM.atc]: 'ATC' };

/** Which of `drugs` the concepts order: by RxNorm or ATC code, a listed product, an ATC class prefix, else by name in text. */
export function identifyDrug<D extends DrugIngredient>(concepts: readonly unknown[], drugs: readonly D[], drugClass: DrugClass): DrugIdentity<D> | undefined {
  const codings = concepts.flatMap(codingsOf);
  const texts = concepts.flatMap(textsOf);
  const note = (c: CodingText): string => `${SYSTEM_NAMES[c.system ?? ''] ?? 'code'} ${quotable(c.code)}`;
  for (const c of codings) {
    const ingredient = drugs.find((d) => (d.rxnorm !== undefined && matchesCode(c, d.rxnorm)) || matchesCode(c, d.atc));
    const product = DRUG_PRODUCTS.find((p) => matchesCode(c, p.code));
    const viaProduct = product === undefined ? undefined : drugs.find((d) => d.name === product.ingredient);
    const drug = ingredient ?? viaProduct;
    if (drug !== undefined) return { drug: drug.name, via: 'code', ingredient: drug, ...strength(product?.mgPerUnit ?? strengthMg(texts)), note: note(c) };
  }
  const classCoded = codings.find((c) => c.system === SYSTEM.atc && drugClass.atcPrefixes.some((p) => c.code?.startsWith(p.code)));
  if (classCoded !== undefined) return { drug: drugClass.name, via: 'code', note: note(classCoded) };
  const named = drugs.find((d) => texts.some((t) => nameMatcher(d).test(t)));
  return named === undefined ? undefined : { drug: named.name, via: 'text', ingredient: named, ...strength(strengthMg(texts)), note: 'matched by text' };
}

// ---- how it is given ----

type Administration = 'local' | 'systemic-route' | 'systemic-form' | 'unknown';

/** How the drug reaches the body, from the routes first, then the product, form and dosage text. */
function administrationOf(request: unknown, ordered: OrderedMedication): Administration {
  const dosages = objects(request, 'dosageInstruction');
  const routes = dosages.map((d) => get(d, 'route'));
  const routeCodings = routes.flatMap(codingsOf);
  const routeTexts = routes.flatMap(textsOf);
  if (hasAnyCode(routeCodings, LOCAL_ROUTES) || routeTexts.some((t) => LOCAL_ADMINISTRATION_TEXT.test(t))) return 'local';
  if (hasAnyCode(routeCodings, SYSTEMIC_ROUTES) || routeTexts.some((t) => SYSTEMIC_ROUTE_TEXT.test(t))) return 'systemic-route';
  const texts = [...ordered.concepts, ...ordered.forms].flatMap(textsOf).concat(dosages.flatMap((d) => str(get(d, 'text')) ?? []));
  if (texts.some((t) => LOCAL_ADMINISTRATION_TEXT.test(t))) return 'local';
  if (texts.some((t) => SYSTEMIC_ROUTE_TEXT.test(t))) return 'systemic-route';
  return texts.some((t) => SYSTEMIC_FORM_TEXT.test(t)) ? 'systemic-form' : 'unknown';
}

/**
 * The systemic glucocorticoid a request orders, or undefined: inhaled, topical, nasal, eye, ear and
 * rectal forms are not FRAX's glucocorticoids, and triamcinolone counts only when said to be systemic.
 */
export function systemicGlucocorticoid(request: unknown, ordered: OrderedMedication): DrugIdentity<GlucocorticoidIngredient> | undefined {
  const identity = identifyDrug(ordered.concepts, SYSTEMIC_GLUCOCORTICOIDS, GLUCOCORTICOID_CLASS);
  if (identity === undefined) return undefined;
  const administration = administrationOf(request, ordered);
  const strict = identity.ingredient?.systemicOnlyWhenStated === true;
  return administration === 'local' || (strict && administration !== 'systemic-route') ? undefined : identity;
}

// ---- for how long, how much ----

/** FRAX's "more than 3 months" of glucocorticoids, in days. */
export const LONG_TERM_GLUCOCORTICOID_DAYS = 90;

const DURATION_DAYS: Readonly<Record<string, number>> = { min: 1 / 1440, h: 1 / 24, d: 1, wk: 7, mo: 30.4375, a: 365.25 };
const DURATION_ALIASES: Readonly<Record<string, string>> = { day: 'd', days: 'd', week: 'wk', weeks: 'wk', month: 'mo', months: 'mo', year: 'a', years: 'a', hour: 'h', hours: 'h' };

function durationDays(duration: unknown): number | undefined {
  const value = numeric(get(duration, 'value'))?.value;
  const unit = [get(duration, 'code'), get(duration, 'unit')].map(str).map((u) => u?.toLowerCase()).find((u) => u !== undefined);
  const days = unit === undefined ? undefined : DURATION_DAYS[DURATION_ALIASES[unit] ?? unit];
  return value === undefined || days === undefined || value < 0 ? undefined : value * days;
}

function periodDays(period: unknown, start: number | undefined): number | undefined {
  const from = timeOf(get(period, 'start')) ?? start;
  const to = timeOf(get(period, 'end'));
  return from === undefined || to === undefined || to < from ? undefined : (to - from) / DAY_MS;
}

/** The boundsPeriod of each dosage instruction that has one. */
const boundsPeriods = (request: unknown): (Json | undefined)[] => objects(request, 'dosageInstruction').map((d) => object(object(object(d, 'timing'), 'repeat'), 'boundsPeriod'));

/** Days of the dosage bounds: instructions of one sequence run together (the longest), sequences one after another. */
function dosageBoundsDays(request: unknown, authored: number | undefined): number | undefined {
  const bySequence = new Map<number | undefined, number>();
  for (const dosage of objects(request, 'dosageInstruction')) {
    const repeat = object(object(dosage, 'timing'), 'repeat');
    const days = durationDays(get(repeat, 'boundsDuration')) ?? periodDays(get(repeat, 'boundsPeriod'), authored);
    const sequence = numeric(get(dosage, 'sequence'))?.value;
    if (days !== undefined) bySequence.set(sequence, Math.max(days, bySequence.get(sequence) ?? 0));
  }
  return bySequence.size === 0 ? undefined : [...bySequence.values()].reduce((a, b) => a + b, 0);
}

export interface OrderCourse {
  /** When the course starts: a bounds or validity start, else authoredOn. */
  start?: number;
  /** Its length, from dosage bounds, else expected supply × (1 + repeats), else the validity period; null without dates. */
  days: number | null;
}

export function orderCourse(request: unknown): OrderCourse {
  const authored = timeOf(get(request, 'authoredOn'));
  const dispense = object(request, 'dispenseRequest');
  const validity = object(dispense, 'validityPeriod');
  const start = [...boundsPeriods(request).map((b) => timeOf(get(b, 'start'))), timeOf(get(validity, 'start')), authored].find((t) => t !== undefined);
  const supply = durationDays(get(dispense, 'expectedSupplyDuration'));
  const repeats = Math.max(0, Math.floor(numeric(get(dispense, 'numberOfRepeatsAllowed'))?.value ?? 0));
  const days = dosageBoundsDays(request, authored) ?? (supply === undefined ? undefined : supply * (1 + repeats)) ?? periodDays(validity, authored);
  return { ...(start === undefined ? {} : { start }), days: days ?? null };
}

/**
 * The last day the order itself says it runs to: the latest boundsPeriod.end or
 * dispenseRequest.validityPeriod.end, in ms. Undefined when it states none, or when a boundsPeriod
 * is open-ended (no readable end): part of the order then runs on, so it has no end to go by. A
 * length computed from a duration or supply is not a stated end (refills and restarts are common).
 */
export function statedEnd(request: unknown): number | undefined {
  const bounds = boundsPeriods(request).filter((b) => b !== undefined);
  const boundEnds = bounds.map((b) => timeOf(get(b, 'end')));
  if (boundEnds.includes(undefined)) return undefined;
  const validityEnd = timeOf(get(object(object(request, 'dispenseRequest'), 'validityPeriod'), 'end'));
  const ends = [...boundEnds, validityEnd].filter((t) => t !== undefined);
  return ends.length === 0 ? undefined : Math.max(...ends);
}

const MASS_MG: Readonly<Record<string, number>> = { mg: 1, g: 1000, ug: 0.001, mcg: 0.001, µg: 0.001 };
const PER_UNIT = ['{tbl}', 'tbl', 'tab', 'tabs', 'tablet', 'tablets', '{tablet}', '{tablets}', 'capsule', '{capsule}', '{cap}', '1'];

/** Prednisolone-equivalent mg a day, the highest of the instructions (a taper's start); null when no dose can be read. */
export function dailyPrednisoloneMg(request: unknown, identity: DrugIdentity<GlucocorticoidIngredient>): number | null {
  const equivalent = identity.ingredient?.prednisoloneEquivalent;
  if (equivalent === undefined) return null;
  const perDay = objects(request, 'dosageInstruction').flatMap((dosage) => {
    const dose = objects(dosage, 'doseAndRate').map((d) => object(d, 'doseQuantity')).find((q) => q !== undefined);
    const value = numeric(get(dose, 'value'))?.value;
    const unit = [get(dose, 'code'), get(dose, 'unit')].map(str).find((u) => u !== undefined)?.toLowerCase();
    const mg = value === undefined || unit === undefined ? undefined : MASS_MG[unit] !== undefined ? value * MASS_MG[unit] : PER_UNIT.includes(unit) && identity.mgPerUnit !== undefined ? value * identity.mgPerUnit : undefined;
    const repeat = object(object(dosage, 'timing'), 'repeat');
    const period = numeric(get(repeat, 'period'))?.value;
    const periodUnit = str(get(repeat, 'periodUnit'));
    const periodDays = period === undefined || periodUnit === undefined ? undefined : period * (DURATION_DAYS[periodUnit] ?? NaN);
    const frequency = numeric(get(repeat, 'frequency'))?.value ?? 1;
    return mg === undefined || periodDays === undefined || !(periodDays > 0) ? [] : [(mg * frequency) / periodDays];
  });
  return perDay.length === 0 ? null : Math.max(...perDay) * equivalent;
}
