// patient-view: when a chart opens, the patient's predicted fracture risk from their lumbar spine
// radiograph, with a DXA suggestion when the risk band calls for one. No card when nothing can be
// said honestly (no radiograph, outside the model's population, a failure: the reason is logged), or
// when the work is not done by the deadline (it finishes in the background; the next opening shows it).
import type { CdsService } from '../../src/cds/service.js';
import { answer, cardsFor, type FractureServiceDeps } from '../shared/cards-for-outcome.js';
import { assessForHook, CHART_PREFETCH } from '../shared/hook-assessment.js';
import { modelDescription } from '../shared/model-description.js';

export const SERVICE_ID = 'spine-fracture-risk';

export function patientViewService(deps: FractureServiceDeps): CdsService<'patient-view'> {
  const { card } = deps.assessor.model;
  const lowest = card.riskBands.bands[0]?.name;
  return {
    definition: {
      id: SERVICE_ID,
      hook: 'patient-view',
      title: 'Fracture risk from the lumbar spine radiograph',
      description: `Predicts the risk of vertebral fracture from the patient's most recent lumbar spine radiograph and FRAX risk factors, and suggests a DXA scan when it is raised. ${modelDescription(card)}`,
      prefetch: CHART_PREFETCH,
    },
    requiredPrefetch: ['patient'],
    deadlineMs: deps.assessment.deadlineMs,
    async handle(context) {
      const outcome = await assessForHook(context, deps.assessor);
      const cards = cardsFor(
        outcome,
        {
          serviceId: SERVICE_ID,
          kind: 'patient-view',
          showRisk: (assessment) => assessment.band.name !== lowest || deps.assessment.lowRiskCard,
          offerDxa: (assessment) => assessment.band.name !== lowest,
        },
        context,
        deps,
      );
      return answer(cards, deps, context);
    },
  };
}
