// Diagnoses: the patient's Conditions and a parent's in FamilyMemberHistory, matched against the
// value sets in value-sets.ts (SNOMED CT, ICD-10-CM and WHO ICD-10 prefixes, text). Whether a
// condition still counts follows each set's clinical-status policy; an abatement date before the
// assessment date is read as the condition having gone away.
import { EXCLUDED_CONDITION_VERIFICATION_STATUSES, PARENT_RELATIONSHIPS, PARENT_TEXT, SYSTEM, matchesCode, type Code } from './terminology.js';
import {
  HIP_FRACTURE_SET,
  NOT_ASSERTED_TEXT,
  OSTEOPOROSIS_SET,
  PRIOR_FRAGILITY_FRACTURE_SET,
  RELATIVE_TEXT,
  RHEUMATOID_ARTHRITIS_SET,
  SECONDARY_OSTEOPOROSIS_SETS,
  type ClinicalStatusCode,
  type ConditionValueSet,
} from './value-sets.js';
import { admit, finding, missing, newest, type Finding, type ReadContext } from './record-findings.js';
import { codingsOf, get, hasAnyCode, object, objects, quotable, sourceOf, str, textsOf, timeOf, type Json } from './untrusted-json.js';

export interface ConditionFindings {
  priorFragilityFracture: Finding<boolean>;
  rheumatoidArthritis: Finding<boolean>;
  secondaryOsteoporosis: Finding<boolean>;
  /** A known osteoporosis diagnosis: not a FRAX input. */
  osteoporosis: Finding<boolean>;
}

/** The FRAX conditions and the osteoporosis diagnosis on the patient's problem list, as of `ctx.asOf`. */
export function readConditions(conditions: unknown, ctx: ReadContext): ConditionFindings {
  const evidence = conditionEvidence(conditions, ctx);
  return {
    priorFragilityFracture: conditionFinding(evidence, [PRIOR_FRAGILITY_FRACTURE_SET]),
    rheumatoidArthritis: conditionFinding(evidence, [RHEUMATOID_ARTHRITIS_SET]),
    secondaryOsteoporosis: conditionFinding(evidence, SECONDARY_OSTEOPOROSIS_SETS),
    osteoporosis: conditionFinding(evidence, [OSTEOPOROSIS_SET]),
  };
}

interface ConditionMatch {
  via: 'code' | 'text';
  note: string;
}

const normalizeIcd = (code: string): string => code.toUpperCase().replace(/[.\s]/g, '');

/** How a CodeableConcept matches a value set: SNOMED code, ICD-10(-CM) prefix, else text (displays only when no code matched). */
function matchCondition(concept: unknown, set: ConditionValueSet, ownCondition: boolean): ConditionMatch | undefined {
  const codings = codingsOf(concept);
  for (const c of codings) {
    if (set.snomed.some((code) => matchesCode(c, code))) return { via: 'code', note: `SNOMED CT ${quotable(c.code)}` };
    const prefixes = c.system === SYSTEM.icd10cm ? set.icd10cm : c.system === SYSTEM.icd10 ? set.icd10 : [];
    const code = c.code === undefined ? '' : normalizeIcd(c.code);
    if (code !== '' && prefixes.some((p) => code.startsWith(normalizeIcd(p.prefix)))) {
      return { via: 'code', note: `${c.system === SYSTEM.icd10cm ? 'ICD-10-CM' : 'ICD-10'} ${quotable(c.code)}` };
    }
  }
  const asserted = (t: string): boolean => !NOT_ASSERTED_TEXT.test(t) && !(ownCondition && RELATIVE_TEXT.test(t));
  return textsOf(concept).some((t) => asserted(t) && set.text.test(t)) ? { via: 'text', note: 'matched by text' } : undefined;
}

interface ConditionEvidence extends ConditionMatch {
  set: ConditionValueSet;
  source: string;
  date?: string;
  time?: number;
  /** The status the condition is judged under: the recorded one, or inactive when it abated (see {@link abated}). */
  clinicalStatus: ClinicalStatusCode;
  /** Judged inactive because of an abatement date, not a recorded status; said so in notes. */
  abated: boolean;
  confirmed: boolean;
}

const CLINICAL_STATUSES: readonly ClinicalStatusCode[] = ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'];
/** Verification statuses that are not (yet) a diagnosis: FRAX's RA must be confirmed, and so is everything else here. */
const UNCONFIRMED = ['unconfirmed', 'provisional', 'differential'];
const CONDITION_SETS: readonly ConditionValueSet[] = [PRIOR_FRAGILITY_FRACTURE_SET, RHEUMATOID_ARTHRITIS_SET, ...SECONDARY_OSTEOPOROSIS_SETS, OSTEOPOROSIS_SET];
/**
 * Recorded statuses an abatement date overrides. EHRs often leave the default "active" (or no
 * status) when a date of abatement is added, though FHIR allows only inactive, remission or resolved
 * beside one; the date is the more specific statement. A recorded remission, resolved or inactive
 * already says how the condition went away and is kept; recurrence and relapse say it came back
 * after abating, so an old abatement date does not undo them.
 */
const OVERRIDDEN_BY_ABATEMENT: readonly ClinicalStatusCode[] = ['active'];

const statusCode = (concept: unknown): string | undefined => codingsOf(concept).find((c) => c.code !== undefined)?.code;

/**
 * Whether the condition abated on or before asOf: abatementDateTime, or the end of abatementPeriod.
 * Other abatement[x] forms (an age, a range, a string) cannot be placed against asOf and are not read.
 */
function abated(condition: Json, asOf: number): boolean {
  const time = timeOf(get(condition, 'abatementDateTime')) ?? timeOf(get(object(condition, 'abatementPeriod'), 'end'));
  return time !== undefined && time <= asOf;
}

/** Every match of the patient's conditions against the FRAX value sets. */
function conditionEvidence(conditions: unknown, ctx: ReadContext): ConditionEvidence[] {
  const evidence: ConditionEvidence[] = [];
  for (const condition of admit(conditions, 'Condition', ctx)) {
    const verification = statusCode(get(condition, 'verificationStatus'));
    if (verification !== undefined && EXCLUDED_CONDITION_VERIFICATION_STATUSES.includes(verification)) {
      ctx.problems.add(`Condition with verification status ${verification} ignored`);
      continue;
    }
    const onset = str(get(condition, 'onsetDateTime')) ?? str(get(object(condition, 'onsetPeriod'), 'start'));
    const recorded = str(get(condition, 'recordedDate'));
    const times = [timeOf(onset), timeOf(recorded)].filter((t) => t !== undefined);
    if (times.length > 0 && Math.min(...times) > ctx.asOf) {
      ctx.problems.add('Condition dated after the assessment date ignored');
      continue;
    }
    // No clinicalStatus means the condition is there.
    const recordedStatus = CLINICAL_STATUSES.find((s) => s === statusCode(get(condition, 'clinicalStatus'))) ?? 'active';
    const lapsed = OVERRIDDEN_BY_ABATEMENT.includes(recordedStatus) && abated(condition, ctx.asOf);
    const date = timeOf(onset) !== undefined ? onset : timeOf(recorded) !== undefined ? recorded : undefined;
    const common = {
      source: sourceOf(condition, 'Condition'),
      date,
      time: timeOf(date),
      clinicalStatus: lapsed ? 'inactive' : recordedStatus,
      abated: lapsed,
      confirmed: !UNCONFIRMED.includes(verification ?? ''),
    } as const;
    for (const set of CONDITION_SETS) {
      const match = matchCondition(get(condition, 'code'), set, true);
      if (match !== undefined) evidence.push({ ...match, set, ...common });
    }
  }
  return evidence;
}

/**
 * true when a confirmed condition of the sets counts under its clinical status (coded evidence
 * before text); false when the chart has it only in a status that does not count (e.g. resolved
 * hyperthyroidism, or RA with an abatement date); missing when absent, or only unconfirmed (with a note).
 */
function conditionFinding(evidence: readonly ConditionEvidence[], sets: readonly ConditionValueSet[]): Finding<boolean> {
  const mine = evidence.filter((e) => sets.includes(e.set));
  const confirmed = mine.filter((e) => e.confirmed);
  const counting = confirmed.filter((e) => e.set.countsWhile.includes(e.clinicalStatus));
  const named = (e: ConditionEvidence): string => (sets.length > 1 ? `${e.note} (${e.set.name})` : e.note);
  if (counting.length > 0) {
    const coded = counting.filter((e) => e.via === 'code');
    const best = coded.length > 0 ? coded : counting;
    const latest = newest(best)!;
    return finding(true, coded.length > 0 ? 'found' : 'inferred', [...new Set(best.map((e) => e.source))], latest.date, named(latest));
  }
  const lapsed = newest(confirmed);
  if (lapsed !== undefined) {
    const status = lapsed.abated ? 'abated' : lapsed.clinicalStatus;
    return finding(false, lapsed.via === 'code' ? 'found' : 'inferred', [lapsed.source], lapsed.date, `${lapsed.set.name} ${status}; ${lapsed.note}`);
  }
  return mine.length > 0 ? missing(`${mine[0]!.set.name} recorded but not confirmed`) : missing();
}

const PARENT_CODES: readonly Code[] = Object.values(PARENT_RELATIONSHIPS);

/** A parent's hip fracture (any FamilyMemberHistory not entered in error); found when relationship and condition are both coded. */
export function parentHipFractureFinding(histories: unknown, ctx: ReadContext): Finding<boolean> {
  const evidence: { source: string; date?: string; time?: number; via: 'code' | 'text'; note: string }[] = [];
  for (const history of admit(histories, 'FamilyMemberHistory', ctx)) {
    if (get(history, 'status') === 'entered-in-error') {
      ctx.problems.add('FamilyMemberHistory entered in error ignored');
      continue;
    }
    const date = str(get(history, 'date'));
    const time = timeOf(date);
    if (time !== undefined && time > ctx.asOf) {
      ctx.problems.add('FamilyMemberHistory dated after the assessment date ignored');
      continue;
    }
    const relationship = get(history, 'relationship');
    const codedParent = hasAnyCode(codingsOf(relationship), PARENT_CODES);
    if (!codedParent && !textsOf(relationship).some((t) => PARENT_TEXT.test(t))) continue;
    for (const condition of objects(history, 'condition')) {
      const match = matchCondition(get(condition, 'code'), HIP_FRACTURE_SET, false);
      if (match === undefined) continue;
      const via = codedParent && match.via === 'code' ? 'code' : 'text';
      evidence.push({ source: sourceOf(history, 'FamilyMemberHistory'), date, time, via, note: via === 'code' ? match.note : 'matched by text' });
    }
  }
  const coded = evidence.filter((e) => e.via === 'code');
  const best = newest(coded.length > 0 ? coded : evidence);
  return best === undefined ? missing() : finding(true, best.via === 'code' ? 'found' : 'inferred', [best.source], best.date, best.note);
}
