// Reading resources whose shapes were never validated. Charts and draft orders arrive from other
// systems and are read field by field: own properties only (so `__proto__` or `constructor` keys
// never reach anything), nothing spread or copied from input, and a shape that is not what FHIR says
// reads as absent instead of throwing. Every reader of FHIR input in this folder goes through here.
import { matchesCode, type Code } from './terminology.js';

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An own property; inherited ones (a polluted prototype's) are never seen. */
export function get(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

/** A non-blank string, else undefined. */
export const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/** The objects of a list element; one object written where a list belongs is read as a list of one. */
export function objects(value: unknown, key: string): Json[] {
  const field = get(value, key);
  return (Array.isArray(field) ? field : [field]).filter(isObject);
}

/** An object element; the first object of a list written where one object belongs. */
export function object(value: unknown, key: string): Json | undefined {
  const field = get(value, key);
  return isObject(field) ? field : Array.isArray(field) ? field.find(isObject) : undefined;
}

/** A finite number, or a decimal written as a string (`fromText`), as some systems send them. */
export function numeric(value: unknown): { value: number; fromText: boolean } | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? { value, fromText: false } : undefined;
  return typeof value === 'string' && /^\s*[-+]?\d+(?:\.\d+)?\s*$/.test(value) ? { value: Number(value), fromText: true } : undefined;
}

export interface CodingText {
  system?: string;
  code?: string;
  display?: string;
}

/** The codings of a CodeableConcept, string fields only. */
export function codingsOf(concept: unknown): CodingText[] {
  return objects(concept, 'coding').map((c) => ({ system: str(get(c, 'system')), code: str(get(c, 'code')), display: str(get(c, 'display')) }));
}

/** A CodeableConcept's text and its codings' displays. */
export function textsOf(concept: unknown): string[] {
  return [str(get(concept, 'text')), ...codingsOf(concept).map((c) => c.display)].filter((t) => t !== undefined);
}

export const hasAnyCode = (codings: readonly CodingText[], codes: readonly Code[]): boolean => codings.some((c) => codes.some((code) => matchesCode(c, code)));

/** A code fit to quote in a note; anything else in the code field is not echoed (notes go to logs). */
export const quotable = (code: string | undefined): string => (code !== undefined && /^[A-Za-z0-9.-]{1,24}$/.test(code) ? code : '(code)');

const FHIR_DATE = /^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?$/;
export const DAY_MS = 86_400_000;

/** A FHIR date or dateTime in ms (a partial date at the start of its period), or undefined. */
export function timeOf(value: unknown): number | undefined {
  const text = str(value);
  if (text === undefined || !FHIR_DATE.test(text)) return undefined;
  const time = Date.parse(text.length === 4 ? `${text}-01-01` : text.length === 7 ? `${text}-01` : text);
  return Number.isFinite(time) ? time : undefined;
}

const REFERENCE_PATTERNS = {
  Patient: /(?:^|\/)Patient\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/,
  Medication: /(?:^|\/)Medication\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/,
} as const;

/** The id a reference points at: `<type>/<id>` or an absolute URL ending so, `/_history/n` allowed. */
export function referencedId(reference: unknown, type: keyof typeof REFERENCE_PATTERNS): string | undefined {
  const ref = str(get(reference, 'reference'));
  return ref === undefined ? undefined : REFERENCE_PATTERNS[type].exec(ref)?.[1];
}

/** `<type>/<id>` for provenance; an id that is not a FHIR id is not echoed. */
export const sourceOf = (resource: Json, type: string): string => {
  const id = str(get(resource, 'id'));
  return id !== undefined && /^[A-Za-z0-9.-]{1,64}$/.test(id) ? `${type}/${id}` : `${type}/(no id)`;
};
