// The chart's MedicationRequests read into the glucocorticoid factor and the osteoporosis treatment
// finding. What each order orders, and for how long, is read by medication-orders.ts; this module
// decides which orders are current or past as of the assessment date, and what each means for FRAX.
import { OSTEOPOROSIS_DRUG_CLASS, OSTEOPOROSIS_DRUGS, type GlucocorticoidIngredient } from './value-sets.js';
import {
  LONG_TERM_GLUCOCORTICOID_DAYS,
  dailyPrednisoloneMg,
  identifyDrug,
  orderCourse,
  orderedMedication,
  statedEnd,
  systemicGlucocorticoid,
  type DrugIdentity,
  type OrderedMedication,
} from './medication-orders.js';
import { admit, finding, missing, newest, type Finding, type ReadContext } from './record-findings.js';
import { DAY_MS, get, sourceOf, str, timeOf, type Json } from './untrusted-json.js';

export interface TreatmentFinding {
  /** active: an active order; recent: one that ended (or was written) within the look-back; none: neither. */
  status: 'active' | 'recent' | 'none';
  /** Ingredient name, e.g. "alendronate". */
  drug?: string;
  date?: string;
  source?: string;
  note?: string;
}

export interface MedicationFindings {
  glucocorticoids: Finding<boolean>;
  osteoporosisTreatment: TreatmentFinding;
}

export const DEFAULT_TREATMENT_RECENT_MONTHS = 12;

/**
 * The glucocorticoid factor and osteoporosis treatment from the patient's orders as of `ctx.asOf`;
 * an ended osteoporosis treatment counts as recent for `treatmentRecentMonths`.
 */
export function readMedications(requests: unknown, medications: unknown, ctx: ReadContext, treatmentRecentMonths: number): MedicationFindings {
  const orders = ordersOf(requests, medications, ctx);
  return { glucocorticoids: glucocorticoidFinding(orders), osteoporosisTreatment: treatmentFinding(orders, ctx.asOf, treatmentRecentMonths) };
}

/** FRAX: past use counts at 5 mg/day prednisolone-equivalent or more. */
const FRAX_GLUCOCORTICOID_MG_PER_DAY = 5;

interface Order {
  request: Json;
  source: string;
  current: boolean;
  ordered: OrderedMedication;
  /** The stated end of an order left active or on hold after it: the order was read as past because of it. */
  endedAt?: number;
  authored?: string;
  time?: number;
}

const IGNORED_ORDER_STATUSES = ['cancelled', 'entered-in-error', 'draft'];
const CURRENT_ORDER_STATUSES = ['active', 'on-hold'];
/**
 * An active (or on-hold) order whose stated end is more than this long before asOf is read as past:
 * the course is over though nobody closed the order, a common state of EHR medication lists. Within
 * a month of its end it stays current, so that a late refill or a renewal not yet re-dated does not
 * turn a current treatment into a past one.
 */
const LAPSED_ORDER_GRACE_DAYS = 30;

/** The patient's orders that were made: current (active, on hold, not long past their end) or past (the rest). */
function ordersOf(requests: unknown, medications: unknown, ctx: ReadContext): Order[] {
  const included: unknown[] = Array.isArray(medications) ? medications : [];
  const orders: Order[] = [];
  for (const request of admit(requests, 'MedicationRequest', ctx)) {
    const status = get(request, 'status');
    if (typeof status === 'string' && IGNORED_ORDER_STATUSES.includes(status)) {
      if (status === 'entered-in-error') ctx.problems.add('MedicationRequest entered in error ignored');
      continue;
    }
    const authored = str(get(request, 'authoredOn'));
    const time = timeOf(authored);
    if (time !== undefined && time > ctx.asOf) {
      ctx.problems.add('MedicationRequest authored after the assessment date ignored');
      continue;
    }
    const ordered = orderedMedication(request, included);
    if (ordered === undefined) {
      ctx.problems.add('MedicationRequest whose medication cannot be read ignored');
      continue;
    }
    const open = typeof status === 'string' && CURRENT_ORDER_STATUSES.includes(status);
    const end = open ? statedEnd(request) : undefined;
    const lapsed = end !== undefined && end < ctx.asOf - LAPSED_ORDER_GRACE_DAYS * DAY_MS;
    if (lapsed) ctx.problems.add('MedicationRequest left open long after its stated end: read as past');
    orders.push({
      request,
      source: sourceOf(request, 'MedicationRequest'),
      current: open && !lapsed,
      ordered,
      ...(lapsed ? { endedAt: end } : {}),
      ...(time === undefined ? {} : { authored, time }),
    });
  }
  return orders;
}

/** Whether one glucocorticoid order is FRAX exposure: current, or past for ≥ 90 days at ≥ 5 mg/day when the dose can be read. */
function glucocorticoidVerdict(order: Order, identity: DrugIdentity<GlucocorticoidIngredient>): { counts: boolean; note: string } {
  if (order.current) return { counts: true, note: 'current order' };
  const verdict = pastGlucocorticoidVerdict(order, identity);
  return order.endedAt === undefined ? verdict : { ...verdict, note: `${verdict.note} (order left open past its end)` };
}

function pastGlucocorticoidVerdict(order: Order, identity: DrugIdentity<GlucocorticoidIngredient>): { counts: boolean; note: string } {
  const { days } = orderCourse(order.request);
  if (days === null) return { counts: false, note: 'past order without dates to time its course' };
  if (days < LONG_TERM_GLUCOCORTICOID_DAYS) return { counts: false, note: 'past course under 90 days' };
  const dose = dailyPrednisoloneMg(order.request, identity);
  if (dose !== null && dose < FRAX_GLUCOCORTICOID_MG_PER_DAY) return { counts: false, note: 'past dose under 5 mg/day prednisolone-equivalent' };
  return { counts: true, note: 'past course of 90 days or more' };
}

function glucocorticoidFinding(orders: readonly Order[]): Finding<boolean> {
  const verdicts = orders.flatMap((order) => {
    const identity = systemicGlucocorticoid(order.request, order.ordered);
    return identity === undefined ? [] : [{ order, identity, ...glucocorticoidVerdict(order, identity), time: order.time }];
  });
  const counting = verdicts.filter((v) => v.counts);
  const coded = counting.filter((v) => v.identity.via === 'code');
  const best = newest(coded.length > 0 ? coded : counting) ?? newest(verdicts);
  if (best === undefined) return missing();
  const sources = best.counts ? [...new Set((coded.length > 0 ? coded : counting).map((v) => v.order.source))] : [best.order.source];
  return finding(best.counts, best.identity.via === 'code' ? 'found' : 'inferred', sources, best.order.authored, `${best.identity.drug}, ${best.note}; ${best.identity.note}`);
}

/**
 * active: a current order; recent: one whose course ended within the look-back (its stated end when
 * it was left open past it, else start + course length, else when it was written); else none.
 */
function treatmentFinding(orders: readonly Order[], asOf: number, months: number): TreatmentFinding {
  const cutoff = new Date(asOf);
  cutoff.setUTCMonth(cutoff.getUTCMonth() - months);
  const treatments = orders.flatMap((order) => {
    const identity = identifyDrug(order.ordered.concepts, OSTEOPOROSIS_DRUGS, OSTEOPOROSIS_DRUG_CLASS);
    if (identity === undefined) return [];
    const course = orderCourse(order.request);
    const end = order.endedAt ?? (course.start !== undefined && course.days !== null ? course.start + course.days * DAY_MS : order.time);
    return [{ order, identity, end, time: order.current ? order.time : end }];
  });
  const active = newest(treatments.filter((t) => t.order.current));
  const recent = newest(treatments.filter((t) => !t.order.current && t.end !== undefined && t.end >= cutoff.getTime()));
  const chosen = active ?? recent;
  if (chosen === undefined) return { status: 'none' };
  const date = active !== undefined ? chosen.order.authored : new Date(chosen.end!).toISOString().slice(0, 10);
  return {
    status: active !== undefined ? 'active' : 'recent',
    drug: chosen.identity.drug,
    ...(date === undefined ? {} : { date }),
    source: chosen.order.source,
    note: chosen.identity.note,
  };
}
