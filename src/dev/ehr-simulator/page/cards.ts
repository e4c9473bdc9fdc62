// The hook run's results: one block per card (indicator word and colour, summary, source, sanitised
// detail, suggestions as buttons, links, Dismiss with the card's override reasons), a line for each
// service that returned no cards or failed, and each call's request and response behind a disclosure.
// Element ids are stable for tests: card-<n>…, numbered in the order shown (most urgent first).
import type { Link } from '../../../cds/types.js';
import type { ActionResult, ApplyResponse, CardEntry, FeedbackResult, HookRunResponse, ServiceCall } from '../api-contract.js';
import { byUrgency, formatMs, indicatorOf, linksOf, plural, reasonLabel, sourceLink, suggestionKey } from './card-view.js';
import { sanitizedDetail } from './detail.js';
import { h } from './dom.js';

export interface CardHandlers {
  apply(entry: CardEntry, suggestionKey: string): Promise<ApplyResponse>;
  dismiss(entry: CardEntry, reasonCode: string | undefined, comment: string): Promise<FeedbackResult>;
  /** Opens the SMART app; resolves once the launch is under way. */
  launch(entry: CardEntry, link: Link): Promise<void>;
  /** After a suggestion wrote to the chart. */
  chartChanged(): void;
}

const sentence = (text: string): string => (/[.!?]$/.test(text) ? text : `${text}.`);
const errorText = (error: unknown): string => (error instanceof Error ? error.message : 'Something went wrong.');

function actionLine(result: ActionResult): string {
  if (result.status === 'done') {
    const verb = result.type === 'create' ? 'Created' : result.type === 'update' ? 'Updated' : 'Deleted';
    return result.reference ? `${verb} ${result.reference}` : `${verb} (${result.description})`;
  }
  if (result.status === 'skipped') return `Skipped: ${result.description}`;
  return `Failed: ${result.description} — ${result.message ?? 'the FHIR server refused it'}`;
}

function feedbackLine(feedback: FeedbackResult, outcome: 'accepted' | 'overridden'): string {
  if (feedback.sent) return `Feedback sent to the service (${outcome}).`;
  return feedback.message ?? 'Feedback was not sent.';
}

function setStatus(element: HTMLElement, text: string, tone: 'ok' | 'error' | 'busy'): void {
  element.textContent = text;
  element.className = `action-status ${tone}`;
  element.hidden = false;
}

function suggestionsBlock(entry: CardEntry, n: number, handlers: CardHandlers): HTMLElement | null {
  const suggestions = entry.card.suggestions ?? [];
  if (suggestions.length === 0) return null;
  const buttons: HTMLButtonElement[] = [];
  const rows = suggestions.map((suggestion, i) => {
    const id = `card-${n}-suggestion-${i}`;
    const key = suggestionKey(suggestion.uuid, i);
    const button = h(
      'button',
      { type: 'button', id, class: suggestion.isRecommended ? 'btn btn-primary' : 'btn btn-secondary', 'data-suggestion-uuid': key, 'aria-describedby': `${id}-result` },
      suggestion.label,
    );
    buttons.push(button);
    const result = h('p', { class: 'action-status', id: `${id}-result`, role: 'status', hidden: true });
    button.addEventListener('click', () => {
      button.disabled = true;
      setStatus(result, 'Working…', 'busy');
      handlers.apply(entry, key).then(
        ({ actions, feedback }) => {
          const done = actions.every((a) => a.status === 'done');
          const lines = [...actions.map(actionLine), ...(done ? [feedbackLine(feedback, 'accepted')] : [])];
          setStatus(result, lines.map(sentence).join(' '), done ? 'ok' : 'error');
          result.dataset.written = actions.flatMap((a) => (a.status === 'done' && a.reference ? [a.reference] : [])).join(' ');
          if (done) {
            button.textContent = `✓ ${suggestion.label}`;
            button.classList.add('done');
            if (entry.card.selectionBehavior === 'at-most-one') for (const other of buttons) other.disabled = true;
            if (actions.length > 0) handlers.chartChanged();
          } else button.disabled = false;
        },
        (error: unknown) => {
          setStatus(result, errorText(error), 'error');
          button.disabled = false;
        },
      );
    });
    return h('li', {}, button, suggestion.isRecommended ? h('span', { class: 'tag' }, 'Recommended') : null, result);
  });
  return h('section', { class: 'card-suggestions', 'aria-label': 'Suggestions' }, h('ul', { class: 'suggestion-list' }, ...rows));
}

function linksBlock(entry: CardEntry, n: number, handlers: CardHandlers): HTMLElement | null {
  const links = linksOf(entry.card);
  if (links.length === 0) return null;
  const items = links.map((view, i) => {
    const id = `card-${n}-link-${i}`;
    if (view.kind === 'absolute') {
      return h('li', {}, view.href === null ? h('span', { id }, `${view.label} (link not shown: not a web address)`) : h('a', { id, href: view.href, target: '_blank', rel: 'noopener noreferrer', 'data-link-type': 'absolute' }, view.label));
    }
    const status = h('span', { class: 'action-status', id: `${id}-status`, role: 'status', hidden: true });
    const button = h('button', { type: 'button', id, class: 'link-button', 'data-link-type': 'smart' }, view.label);
    button.addEventListener('click', () => {
      button.disabled = true;
      setStatus(status, 'Launching the app…', 'busy');
      handlers.launch(entry, view.link).then(
        () => {
          setStatus(status, 'Opened in a new window.', 'ok');
          button.disabled = false;
        },
        (error: unknown) => {
          setStatus(status, errorText(error), 'error');
          button.disabled = false;
        },
      );
    });
    return h('li', {}, button, h('span', { class: 'hint' }, ' SMART app, opens in a new window'), status);
  });
  return h('section', { class: 'card-links', 'aria-label': 'Links' }, h('ul', {}, ...items));
}

function dismissBlock(entry: CardEntry, n: number, article: HTMLElement, handlers: CardHandlers): HTMLElement {
  const reasons = entry.card.overrideReasons ?? [];
  const toggle = h('button', { type: 'button', class: 'btn btn-quiet', id: `card-${n}-dismiss`, 'aria-expanded': 'false', 'aria-controls': `card-${n}-dismiss-form` }, 'Dismiss…');
  const select = h(
    'select',
    { id: `card-${n}-reason`, 'aria-describedby': `card-${n}-dismiss-error` },
    h('option', { value: '' }, reasons.length > 0 ? 'Choose a reason…' : 'No reason'),
    ...reasons.map((r) => h('option', { value: r.code ?? '' }, reasonLabel(r))),
  );
  const comment = h('textarea', { id: `card-${n}-comment`, rows: 2, maxlength: 4000 });
  const error = h('p', { class: 'action-status error', id: `card-${n}-dismiss-error`, role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: `card-${n}-dismiss-submit` }, 'Dismiss card');
  const cancel = h('button', { type: 'button', class: 'btn btn-quiet' }, 'Cancel');
  const form = h(
    'form',
    { class: 'dismiss-form', id: `card-${n}-dismiss-form`, hidden: true, novalidate: true },
    h('div', { class: 'field' }, h('label', { for: `card-${n}-reason` }, 'Reason'), select),
    h('div', { class: 'field' }, h('label', { for: `card-${n}-comment` }, 'Comment (optional)'), comment),
    error,
    h('div', { class: 'form-buttons' }, submit, cancel),
  );
  const status = h('p', { class: 'action-status', id: `card-${n}-dismiss-status`, role: 'status', hidden: true });
  const open = (value: boolean): void => {
    form.hidden = !value;
    toggle.setAttribute('aria-expanded', String(value));
    if (value) select.focus();
  };
  toggle.addEventListener('click', () => open(form.hidden));
  select.addEventListener('change', () => {
    if (select.value !== '') error.hidden = true;
  });
  cancel.addEventListener('click', () => {
    open(false);
    toggle.focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (reasons.length > 0 && select.value === '') {
      error.textContent = 'Choose a reason for dismissing the card.';
      error.hidden = false;
      select.focus();
      return;
    }
    error.hidden = true;
    submit.disabled = true;
    handlers.dismiss(entry, select.value === '' ? undefined : select.value, comment.value).then(
      (feedback) => {
        const reason = reasons.find((r) => r.code === select.value);
        article.classList.add('dismissed');
        article.setAttribute('data-dismissed', 'true');
        form.hidden = true;
        toggle.hidden = true;
        setStatus(status, `Dismissed${reason ? `: ${reasonLabel(reason)}` : ''}. ${feedbackLine(feedback, 'overridden')}`, feedback.sent ? 'ok' : 'error');
        status.focus();
      },
      (failure: unknown) => {
        error.textContent = errorText(failure);
        error.hidden = false;
        submit.disabled = false;
      },
    );
  });
  status.tabIndex = -1;
  return h('div', { class: 'card-dismiss' }, toggle, form, status);
}

function cardElement(entry: CardEntry, n: number, handlers: CardHandlers): HTMLElement {
  const { card } = entry;
  const { indicator, word, symbol } = indicatorOf(card);
  const source = sourceLink(card);
  const article = h('article', {
    class: `cds-card indicator-${indicator}`,
    id: `card-${n}`,
    'data-card-uuid': entry.key,
    'data-service-id': entry.serviceId,
    'data-indicator': indicator,
    'aria-labelledby': `card-${n}-summary`,
  });
  article.append(
    h(
      'header',
      { class: 'card-head' },
      h('span', { class: `indicator-badge ${indicator}`, id: `card-${n}-indicator` }, h('span', { class: 'indicator-symbol', 'aria-hidden': 'true' }, symbol), word),
      h('h3', { class: 'card-summary', id: `card-${n}-summary` }, card.summary),
    ),
    h(
      'p',
      { class: 'card-source', id: `card-${n}-source` },
      'Source: ',
      source.url === null ? source.label : h('a', { href: source.url, target: '_blank', rel: 'noopener noreferrer' }, source.label),
    ),
  );
  if (card.detail) article.append(sanitizedDetail(card.detail, `card-${n}-detail`));
  const suggestions = suggestionsBlock(entry, n, handlers);
  const links = linksBlock(entry, n, handlers);
  if (suggestions) article.append(suggestions);
  if (links) article.append(links);
  article.append(dismissBlock(entry, n, article, handlers));
  return article;
}

function exchangeBlock(call: ServiceCall): HTMLElement {
  const { exchange } = call;
  const json = (value: unknown): string => JSON.stringify(value, null, 2);
  const prefetch = exchange.prefetch.sent.length > 0 ? `sent: ${exchange.prefetch.sent.join(', ')}` : 'none sent';
  const unfilled = exchange.prefetch.unfilled.length > 0 ? `; left out: ${exchange.prefetch.unfilled.join(', ')}` : '';
  return h(
    'details',
    { class: 'exchange', id: `exchange-${call.serviceId}` },
    h('summary', {}, `Request and response: ${call.serviceId} (${call.status === null ? 'no answer' : `HTTP ${call.status}`}, ${formatMs(call.durationMs)})`),
    h('p', { class: 'exchange-line' }, `POST ${exchange.url}`),
    h('p', { class: 'exchange-line' }, `Prefetch ${prefetch}${unfilled}. The access token is redacted; the JWT is shown without its signature.`),
    h('h4', {}, 'Client JWT (header and claims)'),
    h('pre', { tabindex: 0 }, json(exchange.jwt)),
    h('h4', {}, 'Request body'),
    h('pre', { tabindex: 0, id: `exchange-${call.serviceId}-request` }, json(exchange.request)),
    h('h4', {}, 'Response body'),
    h('pre', { tabindex: 0, id: `exchange-${call.serviceId}-response` }, json(exchange.response)),
  );
}

function callNotice(call: ServiceCall): HTMLElement | null {
  const name = call.title ?? call.serviceId;
  if (call.error !== undefined) return h('div', { class: 'notice error', role: 'alert', 'data-service-id': call.serviceId }, h('strong', {}, `${name}: `), call.error);
  if (call.cards.length === 0) {
    return h('p', { class: 'notice quiet', 'data-service-id': call.serviceId, 'data-no-cards': 'true' }, h('strong', {}, `${name}: `), `no cards returned (${formatMs(call.durationMs)}).`);
  }
  return null;
}

/** The run's header line, its cards, and a notice for each service without cards. */
export function renderRun(run: HookRunResponse, handlers: CardHandlers): HTMLElement[] {
  const entries = byUrgency(run.services.flatMap((s) => s.cards));
  const what = run.hook === 'patient-view' ? 'Chart opened (patient-view)' : `Order selected (order-select): ${run.order ?? ''}`;
  const facts =
    run.services.length === 0
      ? [formatMs(run.totalMs)]
      : [plural(run.services.length, 'service'), plural(entries.length, 'card'), formatMs(run.totalMs), run.prefetchSent ? 'prefetch sent' : 'no prefetch (the service read FHIR itself)'];
  const header = h('div', { class: 'run-header', id: 'run-header' }, h('p', { class: 'run-what' }, what), h('p', { class: 'run-facts', id: 'run-facts' }, facts.join(' · ')));
  const blocks: HTMLElement[] = [header];
  if (run.error !== undefined) blocks.push(h('div', { class: 'notice error', role: 'alert', id: 'run-error' }, run.error));
  blocks.push(...run.services.map(callNotice).filter((n): n is HTMLElement => n !== null));
  blocks.push(...entries.map((entry, n) => cardElement(entry, n, handlers)));
  if (run.services.length > 0) blocks.push(h('div', { class: 'exchanges' }, ...run.services.map(exchangeBlock)));
  return blocks;
}
