// One sentence naming the model behind a service and what it may be used for (discovery descriptions).
import type { ModelCard } from '../../src/model/model-card.js';

export function modelDescription(card: ModelCard): string {
  const status = card.intendedUse.status === 'clinical' ? '' : `, ${card.intendedUse.status} model: not for clinical use`;
  return `Model: ${card.id} ${card.version}${status}; ages ${card.intendedUse.population.minAge}-${card.intendedUse.population.maxAge}.`;
}
