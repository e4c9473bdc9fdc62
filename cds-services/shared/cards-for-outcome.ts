// From an assessment outcome to the cards a service returns: the risk card when there is a risk to
// show, the short known-osteoporosis card when the site wants it, nothing otherwise; and in silent
// mode nothing at all (the assessment is still made and recorded).
import type { Assessment } from '../../src/assessment/assessment.js';
import type { Assessor, DeadlineOutcome } from '../../src/assessment/assessor.js';
import type { HandlerContext } from '../../src/cds/service.js';
import type { Card, CdsResponse } from '../../src/cds/types.js';
import type { AssessmentConfig, ServiceSwitches } from '../../src/config.js';
import { knownOsteoporosisCard, riskCard, type RiskCardKind } from './risk-card.js';

/** What a fracture-risk service is built from. */
export interface FractureServiceDeps {
  assessor: Assessor;
  assessment: AssessmentConfig;
  switches: ServiceSwitches;
  /** The SMART app's launch URL for the cards' link; no link when absent. */
  smartLaunchUrl?: string;
}

export interface CardChoice {
  serviceId: string;
  kind: RiskCardKind;
  /** Whether this assessment gets a risk card (e.g. not the lowest band in patient-view). */
  showRisk(assessment: Assessment): boolean;
  /** Whether the card offers to order a DXA. */
  offerDxa(assessment: Assessment): boolean;
}

export function cardsFor(outcome: DeadlineOutcome, choice: CardChoice, context: HandlerContext, deps: FractureServiceDeps): Card[] {
  const { card } = deps.assessor.model;
  if (outcome.status === 'assessed') {
    const { assessment } = outcome;
    if (!choice.showRisk(assessment)) return [];
    const shown = riskCard({
      serviceId: choice.serviceId,
      kind: choice.kind,
      assessment,
      card,
      baseUrl: context.baseUrl,
      userId: context.request.context.userId,
      now: context.now,
      offerDxa: choice.offerDxa(assessment),
      ...(deps.smartLaunchUrl ? { smartLaunchUrl: deps.smartLaunchUrl } : {}),
    });
    context.noteCard(shown.uuid as string, { assessmentKey: assessment.key, band: assessment.band.name });
    return [shown];
  }
  if (outcome.status === 'pending' || outcome.record === null || deps.assessment.knownOsteoporosis !== 'short-card') return [];
  if (!outcome.reasons.some((r) => r.code === 'known-osteoporosis' || r.code === 'osteoporosis-treatment')) return [];
  return [
    knownOsteoporosisCard({
      serviceId: choice.serviceId,
      patientId: context.request.context.patientId,
      treatment: outcome.record.osteoporosisTreatment,
      diagnosed: outcome.record.osteoporosis.value === true,
      baseUrl: context.baseUrl,
      modelId: card.id,
    }),
  ];
}

/** The response: the cards, or none in silent mode (saying in the log how many were withheld). */
export function answer(cards: Card[], deps: FractureServiceDeps, context: HandlerContext): CdsResponse {
  if (!deps.switches.silent) return { cards };
  context.logger.info({ withheld: cards.length }, 'silent mode: cards withheld');
  return { cards: [] };
}
