// order-select: when the selected orders start a long-term systemic glucocorticoid, the patient's
// fracture risk *with* it (the glucocorticoid factor set, whatever the chart says) and a prompt to plan
// bone protection; when they include a DXA, the risk that informs it. No card for any other order.
import type { Bundle, FhirResource, Medication } from 'fhir/r4.js';
import type { CdsService } from '../../src/cds/service.js';
import { glucocorticoidOrder, isDxaOrder } from '../../src/fhir/draft-orders.js';
import { answer, cardsFor, type FractureServiceDeps } from '../shared/cards-for-outcome.js';
import { assessForHook, CHART_PREFETCH } from '../shared/hook-assessment.js';
import { modelDescription } from '../shared/model-description.js';
import type { RiskCardKind } from '../shared/risk-card.js';

export const SERVICE_ID = 'spine-fracture-risk-orders';

/** What the selection asks of this service: the glucocorticoid case wins over a DXA order. */
function caseOf(selections: readonly string[], draftOrders: Bundle): Extract<RiskCardKind, 'glucocorticoid' | 'dxa-order'> | null {
  const resources: FhirResource[] = (draftOrders.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  const selected = resources.filter((r) => selections.includes(`${r.resourceType}/${r.id ?? ''}`));
  const medications = resources.filter((r): r is Medication => r.resourceType === 'Medication');
  const longTermGlucocorticoid = selected.some((r) => r.resourceType === 'MedicationRequest' && glucocorticoidOrder(r, medications)?.longTerm === true);
  if (longTermGlucocorticoid) return 'glucocorticoid';
  return selected.some((r) => r.resourceType === 'ServiceRequest' && isDxaOrder(r)) ? 'dxa-order' : null;
}

export function orderSelectService(deps: FractureServiceDeps): CdsService<'order-select'> {
  const { card } = deps.assessor.model;
  return {
    definition: {
      id: SERVICE_ID,
      hook: 'order-select',
      title: 'Fracture risk for glucocorticoid and DXA orders',
      description: `When a long-term systemic glucocorticoid or a DXA scan is selected, gives the patient's predicted vertebral fracture risk from their lumbar spine radiograph (with the glucocorticoid) and the bone-protection guidance. ${modelDescription(card)}`,
      prefetch: CHART_PREFETCH,
    },
    requiredPrefetch: ['patient'],
    deadlineMs: deps.assessment.deadlineMs,
    async handle(context) {
      const { selections, draftOrders } = context.request.context;
      const kind = caseOf(selections, draftOrders);
      if (kind === null) return { cards: [] };
      const outcome = await assessForHook(context, deps.assessor, kind === 'glucocorticoid' ? { glucocorticoids: true } : undefined);
      // Every band gets the card here: the order is being placed now, and the risk informs it whatever its size.
      const cards = cardsFor(
        outcome,
        { serviceId: SERVICE_ID, kind, showRisk: () => true, offerDxa: () => kind === 'glucocorticoid' },
        context,
        deps,
      );
      return answer(cards, deps, context);
    },
  };
}
