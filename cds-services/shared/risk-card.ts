// The fracture-risk cards: the risk card (summary, horizon table, radiograph, factors, FRAX, guidance,
// model identity), its suggestions (order a DXA, record the assessment), override reasons and the
// link to the SMART app; and the short card for patients already known to have osteoporosis. Card and
// suggestion uuids are derived from the assessment, so every showing of one assessment's card has the
// same uuid and feedback joins to the assessment.
import type { Coding } from 'fhir/r4.js';
import type { Assessment } from '../../src/assessment/assessment.js';
import { dxaServiceRequest, practitionerReference } from '../../src/assessment/dxa-order.js';
import { riskAssessmentResource } from '../../src/assessment/risk-assessment-resource.js';
import type { Card, Link, Suggestion } from '../../src/cds/types.js';
import type { TreatmentFinding } from '../../src/fhir/patient-record.js';
import type { ModelCard } from '../../src/model/model-card.js';
import { nameBasedUuid } from './card-ids.js';
import {
  day,
  disclaimer,
  EVIDENCE_NOTE,
  factorsMarkdown,
  fraxMarkdown,
  guidanceLines,
  horizonsMarkdown,
  percent,
  radiographMarkdown,
  summaryPrefix,
  years,
} from './wording.js';

export const CARD_TOPIC_SYSTEM = 'https://spine-fracture-cds.example/fhir/card-topic';
export const OVERRIDE_REASON_SYSTEM = 'https://spine-fracture-cds.example/fhir/override-reason';

export const CARD_TOPICS = {
  fractureRisk: { system: CARD_TOPIC_SYSTEM, code: 'fracture-risk', display: 'Fracture risk from the lumbar spine radiograph' },
  glucocorticoid: { system: CARD_TOPIC_SYSTEM, code: 'glucocorticoid-bone-protection', display: 'Bone protection with long-term glucocorticoids' },
  dxaOrder: { system: CARD_TOPIC_SYSTEM, code: 'fracture-risk-dxa-order', display: 'Fracture risk for a DXA order' },
  knownOsteoporosis: { system: CARD_TOPIC_SYSTEM, code: 'known-osteoporosis', display: 'Osteoporosis already on record' },
} as const satisfies Record<string, Coding>;

export const OVERRIDE_REASONS: readonly Coding[] = [
  { system: OVERRIDE_REASON_SYSTEM, code: 'dxa-done-elsewhere', display: 'DXA already done elsewhere' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'already-treated', display: 'Already treated for osteoporosis' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'patient-declined', display: 'Patient declined' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'not-clinically-appropriate', display: 'Not clinically appropriate' },
];

export type RiskCardKind = 'patient-view' | 'glucocorticoid' | 'dxa-order';

export interface RiskCardInput {
  serviceId: string;
  kind: RiskCardKind;
  assessment: Assessment;
  card: ModelCard;
  /** Where this service is reached (for the model-card page link). */
  baseUrl: string;
  /** The hook's user (`Practitioner/x`), who would request the DXA. */
  userId: string;
  now: Date;
  /** The SMART app's launch URL; no link when absent. */
  smartLaunchUrl?: string;
  /** Offer to order a DXA (not when one is being ordered). */
  offerDxa: boolean;
}

function bandThresholds(card: ModelCard): string {
  const parts = card.riskBands.bands.map((band, i, bands) => {
    const low = bands[i - 1]?.below;
    if (band.below === undefined) return `${band.name} ≥ ${percent(low ?? 0)}`;
    return `${band.name} < ${percent(band.below)}`;
  });
  return parts.join(', ');
}

function summaryOf(input: RiskCardInput): string {
  const { assessment } = input;
  const { band } = assessment;
  const risk = `${years(band.horizon)} vertebral fracture risk ${percent(band.risk)} (${band.name})`;
  const action = input.offerDxa && band.name !== input.card.riskBands.bands[0]?.name ? ' — consider DXA' : '';
  switch (input.kind) {
    case 'patient-view':
      return `${summaryPrefix(assessment)}Spine X-ray: ${risk}${action}`;
    case 'glucocorticoid':
      return `${summaryPrefix(assessment)}Long-term glucocorticoid: ${risk} with it — plan bone protection`;
    case 'dxa-order':
      return `${summaryPrefix(assessment)}Spine X-ray for this DXA order: ${risk}`;
  }
}

const GLUCOCORTICOID_GUIDANCE =
  'ACR (2022) glucocorticoid-induced osteoporosis guideline: for anyone starting ≥ 2.5 mg/day prednisone for ≥ 3 months, assess fracture risk (with BMD where available) within 6 months, optimise calcium and vitamin D, and consider osteoporosis treatment at moderate or high risk.';

function detailOf(input: RiskCardInput): string {
  const { assessment, card } = input;
  const { band } = assessment;
  const lead =
    input.kind === 'glucocorticoid'
      ? `**Predicted risk if the glucocorticoid is started** (${assessment.model.id} ${assessment.model.version}, from the lumbar spine radiograph and clinical factors):`
      : `**Predicted risk** (${assessment.model.id} ${assessment.model.version}, from the lumbar spine radiograph and clinical factors):`;
  const guidance = input.kind === 'glucocorticoid' ? [GLUCOCORTICOID_GUIDANCE, ...guidanceLines(assessment)] : guidanceLines(assessment);
  const sections = [
    disclaimer(assessment),
    lead,
    horizonsMarkdown(assessment),
    `Risk band at ${band.horizon} years: **${band.label}** (model card thresholds: ${bandThresholds(card)}).`,
    radiographMarkdown(assessment),
    factorsMarkdown(assessment),
    fraxMarkdown(assessment.frax),
    ...(assessment.caveats.length > 0 ? [`**Caveats:** ${assessment.caveats.join(' ')}`] : []),
    `**Guidance:**\n${guidance.map((line) => `- ${line}`).join('\n')}`,
    EVIDENCE_NOTE,
  ];
  return sections.filter((s) => s !== '').join('\n\n');
}

function suggestionsOf(input: RiskCardInput, cardUuid: string): Suggestion[] {
  const { assessment } = input;
  const suggestions: Suggestion[] = [];
  if (input.offerDxa) {
    const who = practitionerReference(input.userId);
    suggestions.push({
      label: 'Order a DXA scan (bone densitometry)',
      uuid: nameBasedUuid(cardUuid, 'order-dxa'),
      isRecommended: true,
      actions: [{ type: 'create', description: 'Draft a DXA order for this patient', resource: dxaServiceRequest(input.assessment, { now: input.now, ...(who ? { requester: who } : {}) }) }],
    });
  }
  const who = practitionerReference(input.userId);
  suggestions.push({
    label: 'Record this risk assessment in the chart',
    uuid: nameBasedUuid(cardUuid, 'record-assessment'),
    isRecommended: false,
    actions: [{ type: 'create', description: 'Create a RiskAssessment with the predicted risks', resource: riskAssessmentResource(assessment, who ? { performer: who } : {}) }],
  });
  return suggestions;
}

function linksOf(input: RiskCardInput): Link[] {
  if (input.smartLaunchUrl === undefined) return [];
  // The app must work without appContext too (some clients drop it): it then finds the latest assessment.
  return [{ label: 'Open the fracture-risk curves', url: input.smartLaunchUrl, type: 'smart', appContext: JSON.stringify({ assessment: input.assessment.key }) }];
}

export function riskCard(input: RiskCardInput): Card {
  const { assessment } = input;
  const topic = input.kind === 'patient-view' ? CARD_TOPICS.fractureRisk : input.kind === 'glucocorticoid' ? CARD_TOPICS.glucocorticoid : CARD_TOPICS.dxaOrder;
  const uuid = nameBasedUuid(input.serviceId, `${input.kind}:${assessment.key}`);
  const links = linksOf(input);
  return {
    uuid,
    summary: summaryOf(input),
    detail: detailOf(input),
    indicator: input.kind === 'dxa-order' ? 'info' : assessment.band.indicator,
    source: {
      label: `Spine X-ray fracture risk (${assessment.model.id} ${assessment.model.version})`,
      url: `${input.baseUrl}/models/${encodeURIComponent(assessment.model.id)}`,
      topic,
    },
    suggestions: suggestionsOf(input, uuid),
    selectionBehavior: 'any',
    overrideReasons: [...OVERRIDE_REASONS],
    ...(links.length > 0 ? { links } : {}),
  };
}

export interface KnownOsteoporosisInput {
  serviceId: string;
  patientId: string;
  treatment: TreatmentFinding;
  diagnosed: boolean;
  baseUrl: string;
  modelId: string;
}

/** The short card for a patient already diagnosed or treated: no screening prompt, and why. */
export function knownOsteoporosisCard(input: KnownOsteoporosisInput): Card {
  const { treatment } = input;
  const treated = treatment.status !== 'none' && treatment.drug ? `${treatment.drug}${treatment.date ? ` (${treatment.status}, ${day(treatment.date)})` : ` (${treatment.status})`}` : undefined;
  const summary = treated
    ? `Osteoporosis treatment on record (${treatment.drug}): no screening prompt from the spine X-ray`
    : 'Osteoporosis on record: no screening prompt from the spine X-ray';
  const detail = [
    input.diagnosed ? 'An osteoporosis diagnosis is on the chart.' : '',
    treated ? `Osteoporosis treatment: ${treated}.` : '',
    'The spine radiograph model screens for undiagnosed fracture risk, so it is not applied here. Follow-up DXA and treatment review follow the usual guidance for treated osteoporosis.',
  ].filter((line) => line !== '');
  return {
    uuid: nameBasedUuid(input.serviceId, `known-osteoporosis:${input.patientId}:${treatment.status}:${treatment.drug ?? ''}`),
    summary: summary.slice(0, 139),
    detail: detail.join('\n\n'),
    indicator: 'info',
    source: { label: 'Spine X-ray fracture risk', url: `${input.baseUrl}/models/${encodeURIComponent(input.modelId)}`, topic: CARD_TOPICS.knownOsteoporosis },
  };
}
