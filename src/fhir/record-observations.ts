// The chart's Observations read into FRAX factors and results: weight, height, BMI, smoking,
// alcohol, every DXA T-score and the latest recorded FRAX probabilities. Values come from a
// Quantity, an integer or "72.5 kg" in text, in any unit the tables in terminology.ts convert;
// implausible values and unknown units are left out with a problem, never guessed at.
import {
  BMI_UNITS,
  DRINKS_PER_DAY_UNITS,
  DXA_SITE_TEXT,
  DXA_T_SCORE_CODES,
  FEMORAL_NECK_BODY_SITE,
  HEIGHT_UNITS,
  OBSERVATION_CODES,
  PERCENT_UNITS,
  SMOKING_ANSWERS,
  SMOKING_TEXT,
  SYSTEM,
  T_SCORE_UNITS,
  WEIGHT_UNITS,
  matchesCode,
  type DxaSiteName,
  type SmokingAnswer,
  type UnitConversion,
} from './terminology.js';
import { admit, finding, missing, newest, type Finding, type ReadContext } from './record-findings.js';
import { codingsOf, get, hasAnyCode, numeric, object, objects, sourceOf, str, textsOf, timeOf, type Json } from './untrusted-json.js';

export type DxaSite = DxaSiteName;

export interface DxaResult {
  site: DxaSite;
  tScore: number | null;
  /** Date of the measurement. */
  date: string;
  source: string;
}

export interface FraxResult {
  /** 10-year probability of a major osteoporotic fracture, in percent; null when only the hip result is recorded. */
  majorOsteoporoticPercent: number | null;
  hipPercent: number | null;
  /** Date of the most recent of the two. */
  date: string;
  sources: string[];
}

export interface ObservationFindings {
  weightKg: Finding<number>;
  heightCm: Finding<number>;
  /** Recorded BMI, else computed from weight and height (status inferred). */
  bmi: Finding<number>;
  currentSmoking: Finding<boolean>;
  /** Three or more units a day. */
  alcohol: Finding<boolean>;
  femoralNeckTScore: Finding<number>;
  /** Every DXA result, newest first. */
  dxa: DxaResult[];
  frax: FraxResult | null;
}

/** Everything this module reads from the patient's Observations, as of `ctx.asOf`. */
export function readObservations(observations: unknown, ctx: ReadContext): ObservationFindings {
  const byCode = measurementsByCode(observations, ctx);
  const weightKg = quantityFinding(latestQuantity(byCode.get(OBSERVATION_CODES.bodyWeight.code), WEIGHT, ctx));
  const heightCm = quantityFinding(latestQuantity(byCode.get(OBSERVATION_CODES.bodyHeight.code), HEIGHT, ctx));
  const recordedBmi = quantityFinding(latestQuantity(byCode.get(OBSERVATION_CODES.bmi.code), BMI, ctx));
  const dxa = dxaReadings(byCode, ctx);
  return {
    weightKg,
    heightCm,
    bmi: bmiFinding(recordedBmi, weightKg, heightCm),
    currentSmoking: smokingFinding(byCode.get(OBSERVATION_CODES.smokingStatus.code), ctx),
    alcohol: alcoholFinding(byCode.get(OBSERVATION_CODES.alcoholDrinksPerDay.code), ctx),
    femoralNeckTScore: femoralNeckFinding(dxa),
    dxa: dxa.map((d) => d.result),
    frax: fraxResult(byCode, ctx),
  };
}

/** An Observation, or one of its components, with the value[x] it holds. */
interface Measurement {
  holder: Json;
  bodySite: unknown;
  source: string;
  date: string;
  time: number;
}

const EXCLUDED_OBSERVATION_STATUSES = ['entered-in-error', 'cancelled'];

const READ_CODES: ReadonlySet<string> = new Set([
  OBSERVATION_CODES.bodyWeight.code,
  OBSERVATION_CODES.bodyHeight.code,
  OBSERVATION_CODES.bmi.code,
  OBSERVATION_CODES.smokingStatus.code,
  OBSERVATION_CODES.alcoholDrinksPerDay.code,
  OBSERVATION_CODES.fraxMajorOsteoporoticFracture10y.code,
  OBSERVATION_CODES.fraxHipFracture10y.code,
  ...DXA_T_SCORE_CODES.map((c) => c.code),
]);

/** When an observation was made: effective[x], else issued. */
function effectiveDate(observation: Json): string | undefined {
  const period = object(observation, 'effectivePeriod');
  return [get(observation, 'effectiveDateTime'), get(observation, 'effectiveInstant'), get(period, 'end'), get(period, 'start'), get(observation, 'issued')]
    .map(str)
    .find((date) => timeOf(date) !== undefined);
}

/** The LOINC codes of interest a CodeableConcept carries. */
const readCodesOf = (concept: unknown): Set<string> =>
  new Set(codingsOf(concept).flatMap((c) => (c.code !== undefined && READ_CODES.has(c.code) && (c.system ?? SYSTEM.loinc) === SYSTEM.loinc ? [c.code] : [])));

/**
 * The patient's measurements (observations and components) by LOINC code, newest first. Only codes
 * this module reads; others are passed over without a problem, as they are not this module's business.
 */
function measurementsByCode(observations: unknown, ctx: ReadContext): Map<string, Measurement[]> {
  const byCode = new Map<string, Measurement[]>();
  for (const observation of admit(observations, 'Observation', ctx)) {
    const holders = [observation, ...objects(observation, 'component')].map((holder) => ({ holder, codes: readCodesOf(get(holder, 'code')) })).filter((h) => h.codes.size > 0);
    if (holders.length === 0) continue;
    const status = get(observation, 'status');
    if (typeof status === 'string' && EXCLUDED_OBSERVATION_STATUSES.includes(status)) {
      ctx.problems.add(`Observation with status ${status} ignored`);
      continue;
    }
    const date = effectiveDate(observation);
    const time = timeOf(date);
    if (date === undefined || time === undefined) {
      ctx.problems.add('Observation without an effective date ignored');
      continue;
    }
    if (time > ctx.asOf) {
      ctx.problems.add('Observation dated after the assessment date ignored');
      continue;
    }
    const common = { bodySite: get(observation, 'bodySite'), source: sourceOf(observation, 'Observation'), date, time };
    for (const { holder, codes } of holders) {
      for (const code of codes) {
        const list = byCode.get(code);
        if (list === undefined) byCode.set(code, [{ holder, ...common }]);
        else list.push({ holder, ...common });
      }
    }
  }
  for (const list of byCode.values()) list.sort((a, b) => b.time - a.time);
  return byCode;
}

/** How to read one kind of quantity: its units, plausible range, and what a value without a unit means. */
interface QuantityRule {
  label: string;
  units: readonly UnitConversion[];
  range: readonly [number, number];
  /** accept: unitless is normal (T-scores); infer: take the usual unit, as inferred; reject: ignore. */
  unitless: 'accept' | 'infer' | 'reject';
}

const WEIGHT: QuantityRule = { label: 'body weight', units: WEIGHT_UNITS, range: [0.1, 500], unitless: 'reject' };
const HEIGHT: QuantityRule = { label: 'body height', units: HEIGHT_UNITS, range: [50, 250], unitless: 'reject' };
const BMI: QuantityRule = { label: 'BMI', units: BMI_UNITS, range: [5, 150], unitless: 'infer' };
const DRINKS: QuantityRule = { label: 'alcohol intake', units: DRINKS_PER_DAY_UNITS, range: [0, 100], unitless: 'infer' };
const T_SCORE: QuantityRule = { label: 'DXA T-score', units: T_SCORE_UNITS, range: [-10, 10], unitless: 'accept' };
const PERCENT: QuantityRule = { label: 'FRAX probability', units: PERCENT_UNITS, range: [0, 100], unitless: 'accept' };

interface Reading {
  value: number;
  status: 'found' | 'inferred';
  note?: string;
}

/** The number and unit of value[x]: a Quantity, or "72.5 kg" in valueString, or valueInteger. */
function rawValue(holder: Json): { number?: { value: number; fromText: boolean }; units: string[]; fromString: boolean } | undefined {
  const quantity = object(holder, 'valueQuantity');
  if (quantity !== undefined) {
    const units = [get(quantity, 'code'), get(quantity, 'unit')].map(str).filter((u) => u !== undefined);
    return { number: numeric(get(quantity, 'value')), units, fromString: false };
  }
  const integer = numeric(get(holder, 'valueInteger'));
  if (integer !== undefined) return { number: integer, units: [], fromString: false };
  const match = /^\s*([-+]?\d+(?:\.\d+)?)\s*(\S.*)?$/.exec(str(get(holder, 'valueString')) ?? '');
  if (match === null) return undefined;
  return { number: { value: Number(match[1]), fromText: true }, units: match[2] === undefined ? [] : [match[2].trim()], fromString: true };
}

function conversionOf(units: readonly string[], rule: QuantityRule): UnitConversion | undefined {
  const lower = units.map((u) => u.toLowerCase());
  return rule.units.find((conversion) => lower.some((u) => conversion.units.includes(u)));
}

/** A measurement's value in the rule's unit, or undefined with a problem recorded. */
function readQuantity(m: Measurement, rule: QuantityRule, ctx: ReadContext): Reading | undefined {
  const raw = rawValue(m.holder);
  if (raw?.number === undefined) return ctx.problems.skip(`${rule.label}: no readable number; ignored`);
  let factor = 1;
  const notes: string[] = [];
  let inferred = raw.number.fromText;
  if (raw.fromString) notes.push('read from text');
  else if (raw.number.fromText) notes.push('number written as text');
  if (raw.units.length === 0) {
    if (rule.unitless === 'reject') return ctx.problems.skip(`${rule.label}: value without a unit ignored`);
    if (rule.unitless === 'infer') {
      inferred = true;
      notes.push(`no unit: taken as ${rule.units[0]!.name}`);
    }
  } else {
    const conversion = conversionOf(raw.units, rule);
    if (conversion === undefined) return ctx.problems.skip(`${rule.label}: unit not recognised; ignored`);
    factor = conversion.factor;
    if (factor !== 1) notes.push(`converted from ${conversion.name}`);
  }
  const value = factor === 1 ? raw.number.value : Number((raw.number.value * factor).toFixed(1));
  if (!(value >= rule.range[0] && value <= rule.range[1])) return ctx.problems.skip(`${rule.label}: implausible value ignored`);
  if (raw.number.fromText) ctx.problems.add(`${rule.label}: ${raw.fromString ? 'value read from text' : 'number written as text'}`);
  return { value, status: inferred ? 'inferred' : 'found', ...(notes.length === 0 ? {} : { note: notes.join('; ') }) };
}

/** The newest measurement with a readable value. */
function latestQuantity(measurements: readonly Measurement[] | undefined, rule: QuantityRule, ctx: ReadContext): { m: Measurement; reading: Reading } | undefined {
  for (const m of measurements ?? []) {
    const reading = readQuantity(m, rule, ctx);
    if (reading !== undefined) return { m, reading };
  }
  return undefined;
}

function quantityFinding(latest: { m: Measurement; reading: Reading } | undefined): Finding<number> {
  return latest === undefined ? missing() : finding(latest.reading.value, latest.reading.status, [latest.m.source], latest.m.date, latest.reading.note);
}

/** Recorded BMI, else computed from the weight and height found (inferred). */
function bmiFinding(recorded: Finding<number>, weight: Finding<number>, height: Finding<number>): Finding<number> {
  if (recorded.value !== null || weight.value === null || height.value === null) return recorded;
  const value = Number((weight.value / (height.value / 100) ** 2).toFixed(1));
  const date = [weight.date, height.date].filter((d) => d !== undefined).sort((a, b) => (timeOf(b) ?? 0) - (timeOf(a) ?? 0))[0];
  return finding(value, 'inferred', [...new Set([...weight.sources, ...height.sources])], date, 'from weight and height');
}

function smokingAnswerOf(m: Measurement): { answer: SmokingAnswer; status: 'found' | 'inferred' } | undefined {
  const concept = object(m.holder, 'valueCodeableConcept');
  const codings = codingsOf(concept);
  const coded = SMOKING_ANSWERS.find((a) => codings.some((c) => matchesCode(c, a.code)));
  if (coded !== undefined) return { answer: coded.answer, status: 'found' };
  const texts = [...textsOf(concept), str(get(m.holder, 'valueString'))].filter((t) => t !== undefined);
  const rule = SMOKING_TEXT.find((r) => texts.some((t) => r.text.test(t)));
  return rule === undefined ? undefined : { answer: rule.answer, status: 'inferred' };
}

/** The newest smoking status that says current, former or never; "unknown" answers are passed over. */
function smokingFinding(measurements: readonly Measurement[] | undefined, ctx: ReadContext): Finding<boolean> {
  let unknown = false;
  for (const m of measurements ?? []) {
    const read = smokingAnswerOf(m);
    if (read === undefined) ctx.problems.add('smoking status: answer not recognised; ignored');
    else if (read.answer === 'unknown') unknown = true;
    else return finding(read.answer === 'current', read.status, [m.source], m.date, read.status === 'inferred' ? 'matched by text' : undefined);
  }
  return unknown ? missing('smoking status recorded as unknown') : missing();
}

/** FRAX: three or more units of alcohol a day. */
const FRAX_ALCOHOL_UNITS_PER_DAY = 3;

function alcoholFinding(measurements: readonly Measurement[] | undefined, ctx: ReadContext): Finding<boolean> {
  const latest = latestQuantity(measurements, DRINKS, ctx);
  if (latest === undefined) return missing();
  return finding(latest.reading.value >= FRAX_ALCOHOL_UNITS_PER_DAY, latest.reading.status, [latest.m.source], latest.m.date, latest.reading.note);
}

interface DxaReading {
  result: DxaResult;
  time: number;
  status: 'found' | 'inferred';
}

/** The site a T-score names: the code's, made precise by bodySite (coded femoral neck, or site text). */
function dxaSiteOf(site: DxaSiteName, bodySite: unknown): { site: DxaSiteName; status: 'found' | 'inferred' } {
  if (site === 'lumbar-spine') return { site, status: 'found' };
  if (hasAnyCode(codingsOf(bodySite), [FEMORAL_NECK_BODY_SITE])) return { site: 'femoral-neck', status: 'found' };
  const texts = textsOf(bodySite);
  const named = DXA_SITE_TEXT.find((s) => texts.some((t) => s.text.test(t)));
  return named === undefined ? { site, status: 'found' } : { site: named.site, status: 'inferred' };
}

/** Every DXA T-score, newest first; one whose value cannot be read is kept (it dates a scan) with a null T-score. */
function dxaReadings(byCode: Map<string, Measurement[]>, ctx: ReadContext): DxaReading[] {
  const seen = new Set<Measurement>();
  const readings: DxaReading[] = [];
  for (const code of DXA_T_SCORE_CODES) {
    for (const m of byCode.get(code.code) ?? []) {
      if (seen.has(m)) continue;
      seen.add(m);
      const site = dxaSiteOf(code.site, m.bodySite);
      const reading = readQuantity(m, T_SCORE, ctx);
      const status = site.status === 'inferred' || reading?.status === 'inferred' ? 'inferred' : 'found';
      readings.push({ result: { site: site.site, tScore: reading?.value ?? null, date: m.date, source: m.source }, time: m.time, status });
    }
  }
  return readings.sort((a, b) => b.time - a.time);
}

function femoralNeckFinding(readings: readonly DxaReading[]): Finding<number> {
  const neck = readings.find((r) => r.result.site === 'femoral-neck' && r.result.tScore !== null);
  return neck?.result.tScore == null ? missing() : finding(neck.result.tScore, neck.status, [neck.result.source], neck.result.date);
}

/** The newest FRAX result; the other probability joins it only when recorded the same day. */
function fraxResult(byCode: Map<string, Measurement[]>, ctx: ReadContext): FraxResult | null {
  const mof = latestQuantity(byCode.get(OBSERVATION_CODES.fraxMajorOsteoporoticFracture10y.code), PERCENT, ctx);
  const hip = latestQuantity(byCode.get(OBSERVATION_CODES.fraxHipFracture10y.code), PERCENT, ctx);
  const latest = newest([mof, hip].flatMap((r) => (r === undefined ? [] : [{ ...r, time: r.m.time }])));
  if (latest === undefined) return null;
  const sameDay = (r: typeof mof): typeof mof => (r !== undefined && r.m.date.slice(0, 10) === latest.m.date.slice(0, 10) ? r : undefined);
  const [m, h] = [sameDay(mof), sameDay(hip)];
  return {
    majorOsteoporoticPercent: m?.reading.value ?? null,
    hipPercent: h?.reading.value ?? null,
    date: latest.m.date,
    sources: [...new Set([m, h].flatMap((r) => (r === undefined ? [] : [r.m.source])))],
  };
}
