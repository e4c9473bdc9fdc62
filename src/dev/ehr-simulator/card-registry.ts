// The cards the simulator has been given, kept so that what the page asks for later — apply a
// suggestion, send feedback, launch an app — is done with the card as the service returned it, for
// the patient it was returned for, never with actions, reasons or URLs the page supplies.
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Card, Link, Suggestion } from '../../cds/types.js';
import type { CardEntry } from './api-contract.js';
import { ApiError } from './api-input.js';

export interface RegisteredCard extends CardEntry {
  patientId: string;
}

const MAX_CARDS = 2000;

export class CardRegistry {
  private readonly cards = new LRUCache<string, RegisteredCard>({ max: MAX_CARDS });

  private static keyOf(serviceId: string, cardKey: string): string {
    return `${serviceId}\u0000${cardKey}`;
  }

  /** Remembers a card; a card without a uuid gets a local key (it can be acted on, but no feedback can name it). */
  register(serviceId: string, patientId: string, card: Card): CardEntry {
    const hasUuid = typeof card.uuid === 'string' && /^[A-Za-z0-9-]{1,128}$/.test(card.uuid);
    const key = hasUuid ? (card.uuid as string) : `local-${randomUUID()}`;
    this.cards.set(CardRegistry.keyOf(serviceId, key), { key, serviceId, hasUuid, card, patientId });
    return { key, serviceId, hasUuid, card };
  }

  /** The card, or a 404 ApiError (never returned here, or forgotten since). */
  get(serviceId: string, cardKey: string): RegisteredCard {
    const found = this.cards.get(CardRegistry.keyOf(serviceId, cardKey));
    if (found === undefined) throw new ApiError(404, 'card-unknown', 'This card is not one the EHR was given (or it was given long ago): fire the hook again.');
    return found;
  }

  /** A suggestion of the card by uuid, or by `#<index>` for one without a uuid. */
  static suggestion(card: Card, suggestionKey: string): { suggestion: Suggestion; uuid?: string } {
    const suggestions = card.suggestions ?? [];
    const index = /^#(\d+)$/.exec(suggestionKey)?.[1];
    const suggestion = index === undefined ? suggestions.find((s) => s.uuid === suggestionKey) : suggestions[Number(index)];
    if (suggestion === undefined || (index !== undefined && suggestion.uuid !== undefined)) {
      throw new ApiError(404, 'suggestion-unknown', 'The card has no such suggestion.');
    }
    return suggestion.uuid === undefined ? { suggestion } : { suggestion, uuid: suggestion.uuid };
  }

  /** The SMART link with this URL and appContext on a card given for the patient, if any. */
  smartLink(patientId: string, url: string, appContext: string | undefined): Link | undefined {
    for (const entry of this.cards.values()) {
      if (entry.patientId !== patientId) continue;
      const link = entry.card.links?.find((l) => l.type === 'smart' && l.url === url && l.appContext === appContext);
      if (link) return link;
    }
    return undefined;
  }
}
