// The model's intended-use status, said wherever its numbers are: a banner at the top of the page and
// a short tag beside the headline (the same words as the cards and the model-card page).
import type { ModelUsed } from '../../src/api/smart-api-contract.js';
import { h } from './dom.js';

type Status = ModelUsed['status'];

export function statusText(status: Status): string | null {
  switch (status) {
    case 'demonstration':
      return 'Demonstration model — trained on synthetic data, not for clinical use';
    case 'research':
      return 'Research model — not for clinical use';
    case 'clinical':
      return null;
  }
}

export function statusTag(status: Status): string | null {
  switch (status) {
    case 'demonstration':
      return 'Demo model: not for clinical use';
    case 'research':
      return 'Research model: not for clinical use';
    case 'clinical':
      return null;
  }
}

/** The banner, or nothing for a clinical model. */
export function statusBanner(status: Status, statement: string): HTMLElement | null {
  const text = statusText(status);
  if (text === null) return null;
  return h('div', { class: 'status-banner', id: 'model-status', role: 'note' }, h('strong', null, text), h('span', { class: 'statement' }, ` ${statement}`));
}
