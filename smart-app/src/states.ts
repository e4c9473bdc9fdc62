// The page's states, each a designed panel with a heading and a plain next step: loading,
// not-assessed (with its reasons), error; plus the dismissible alert shown over a ready page. The
// state is also set as `data-state` on <main> so tests (and styles) can key on it.
import type { NotAssessedResponse } from '../../src/api/smart-api-contract.js';
import { fill, h } from './dom.js';
import { isSuppression, reasonMessage, type Message } from './messages.js';
import { statusBanner } from './model-status.js';

export type PageState = 'loading' | 'ready' | 'not-assessed' | 'error';

export function setState(main: HTMLElement, state: PageState): void {
  main.dataset.state = state;
  main.setAttribute('aria-busy', state === 'loading' ? 'true' : 'false');
}

export function showLoading(main: HTMLElement, text = 'Reading the chart and the radiograph…'): void {
  setState(main, 'loading');
  fill(
    main,
    h(
      'section',
      { class: 'panel state-panel', id: 'state-loading', 'aria-labelledby': 'state-title' },
      h('h1', { id: 'state-title' }, 'Fracture risk'),
      h('p', { class: 'loading-text', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text),
      h('div', { class: 'skeleton', 'aria-hidden': 'true' }, h('div', { class: 'sk sk-line' }), h('div', { class: 'sk sk-chart' }), h('div', { class: 'sk sk-line short' })),
    ),
  );
}

function focusTitle(main: HTMLElement): void {
  const title = main.querySelector<HTMLElement>('#state-title');
  title?.setAttribute('tabindex', '-1');
  title?.focus();
}

function retryButton(message: Message): HTMLElement | null {
  return message.retry ? h('button', { type: 'button', class: 'btn', id: 'retry', onclick: () => location.reload() }, 'Try again') : null;
}

export function showError(main: HTMLElement, message: Message, detail?: string): void {
  setState(main, 'error');
  fill(
    main,
    h(
      'section',
      { class: 'panel state-panel state-error', id: 'state-error', 'aria-labelledby': 'state-title' },
      h('h1', { id: 'state-title' }, message.title),
      h('p', { id: 'error-message', class: 'next-step' }, message.next),
      detail ? h('p', { class: 'detail' }, `Details: ${detail}`) : null,
      retryButton(message),
    ),
  );
  focusTitle(main);
}

export function showNotAssessed(main: HTMLElement, response: NotAssessedResponse): void {
  setState(main, 'not-assessed');
  const [first, ...others] = response.reasons;
  const lead = first ? reasonMessage(first) : { title: 'No estimate was made', next: 'The service gave no reason.', retry: false };
  const suppressed = first !== undefined && isSuppression(first.code);
  fill(
    main,
    statusBanner(response.model.status, response.model.statement),
    h(
      'section',
      { class: 'panel state-panel state-not-assessed', id: 'state-not-assessed', 'aria-labelledby': 'state-title', 'data-reason': first?.code ?? '' },
      h('p', { class: 'eyebrow' }, suppressed ? 'No screening estimate for this patient' : 'No fracture-risk estimate for this patient'),
      h('h1', { id: 'state-title' }, lead.title),
      h('p', { class: 'next-step' }, lead.next),
      first?.detail ? h('p', { class: 'detail' }, `Details: ${first.detail}`) : null,
      others.length > 0
        ? h(
            'div',
            null,
            h('h2', null, 'Other reasons'),
            h('ul', { class: 'reasons' }, ...others.map((r) => h('li', { 'data-reason': r.code }, h('strong', null, reasonMessage(r).title), r.detail ? ` — ${r.detail}` : ''))),
          )
        : null,
      h('p', { class: 'model-line' }, `Model: ${response.model.id} ${response.model.version}.`),
      retryButton(lead),
    ),
  );
  focusTitle(main);
}

/** A dismissible alert at the top of a ready page (what-if or order failures, an expired session). */
export function showAlert(main: HTMLElement, kind: 'what-if' | 'order' | 'session-expired', title: string, text: string): void {
  const host = document.getElementById('alerts');
  if (!host) return;
  main.dataset.alert = kind;
  const dismiss = (): void => {
    host.replaceChildren();
    delete main.dataset.alert;
  };
  fill(
    host,
    h(
      'div',
      { class: `alert alert-${kind}`, role: 'alert', id: 'alert' },
      h('div', null, h('strong', { class: 'alert-title' }, title), ' ', h('span', { id: 'alert-text' }, text)),
      kind === 'session-expired' ? null : h('button', { type: 'button', class: 'btn btn-quiet', id: 'alert-dismiss', onclick: dismiss }, 'Dismiss'),
    ),
  );
}
