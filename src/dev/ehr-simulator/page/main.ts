// The EHR simulator page: the patient list (keyboard navigable), the chosen patient's chart summary,
// the hook toolbar, and the cards each hook returns. State lives here; rendering is in chart.ts and
// cards.ts; every call goes to the simulator's own server (api.ts), which does the CDS and FHIR work.
import type { DraftOrderKind, HookRunResponse, PatientListItem, SessionResponse } from '../api-contract.js';
import { api } from './api.js';
import { renderRun, type CardHandlers } from './cards.js';
import { plural } from './card-view.js';
import { banner, chartPanels } from './chart.js';
import { byId, h } from './dom.js';

let session: SessionResponse | undefined;
let current: string | undefined;
/** Counts summary loads and hook runs, so that a late answer for an earlier patient is dropped. */
let generation = 0;

const errorText = (error: unknown): string => (error instanceof Error ? error.message : 'Something went wrong.');
const toolbarButtons = (): HTMLButtonElement[] => ['fire-patient-view', 'fire-order-glucocorticoid', 'fire-order-dxa'].map((id) => byId(id, HTMLButtonElement));

function setBusy(busy: boolean): void {
  for (const button of toolbarButtons()) button.disabled = busy;
  byId('cds-results').setAttribute('aria-busy', String(busy));
}

function idleResults(): void {
  const results = byId('cds-results');
  results.dataset.state = 'idle';
  results.replaceChildren(h('p', { class: 'empty' }, 'No hook fired yet. Use the buttons above: the cards the CDS services return appear here.'));
  byId('cds-status').textContent = '';
}

async function loadSummary(patientId: string): Promise<void> {
  const mine = generation;
  const chart = byId('chart');
  chart.dataset.state = 'loading';
  chart.setAttribute('aria-busy', 'true');
  try {
    const summary = await api.summary(patientId);
    if (mine !== generation || current !== patientId) return;
    byId('banner-slot').replaceChildren(banner(summary));
    byId('chart-panels').replaceChildren(...chartPanels(summary));
    chart.dataset.state = 'ready';
  } catch (error) {
    if (mine !== generation) return;
    byId('chart-panels').replaceChildren(h('div', { class: 'notice error', role: 'alert' }, `The chart could not be read: ${errorText(error)}`));
    chart.dataset.state = 'error';
  } finally {
    chart.setAttribute('aria-busy', 'false');
  }
}

function selectPatient(patient: PatientListItem): void {
  if (current === patient.id) return;
  current = patient.id;
  generation += 1;
  for (const button of Array.from(byId('patient-list').querySelectorAll<HTMLButtonElement>('button[data-patient-id]'))) {
    if (button.dataset.patientId === patient.id) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  }
  byId('empty-state').hidden = true;
  byId('chart-area').hidden = false;
  byId('main').dataset.patientId = patient.id;
  byId('banner-slot').replaceChildren(h('div', { class: 'banner' }, h('h2', {}, patient.name), h('p', { class: 'banner-facts' }, 'Loading the chart…')));
  byId('chart-panels').replaceChildren();
  document.title = `${patient.name} — EHR simulator`;
  idleResults();
  setBusy(false);
  void loadSummary(patient.id);
}

function handlersFor(patientId: string): CardHandlers {
  return {
    apply: (entry, suggestionUuid) => api.apply({ serviceId: entry.serviceId, cardUuid: entry.key, suggestionUuid }),
    dismiss: (entry, reasonCode, comment) =>
      api.feedback({ serviceId: entry.serviceId, cardUuid: entry.key, outcome: 'overridden', ...(reasonCode === undefined ? {} : { reasonCode }), ...(comment.trim() === '' ? {} : { comment }) }),
    async launch(_entry, link) {
      // Opened now, while the click still counts as a user gesture, and pointed at the app once the launch exists.
      const popup = window.open('about:blank', '_blank');
      if (popup !== null) popup.opener = null;
      try {
        const { launchUrl } = await api.launch({ patientId, url: link.url, ...(link.appContext === undefined ? {} : { appContext: link.appContext }) });
        if (popup === null) throw new Error('The browser blocked the new window: allow pop-ups for this page and try again.');
        popup.location.href = launchUrl;
      } catch (error) {
        popup?.close();
        throw error;
      }
    },
    chartChanged: () => {
      if (current === patientId) void loadSummary(patientId);
    },
  };
}

function showRun(run: HookRunResponse): void {
  const results = byId('cds-results');
  results.replaceChildren(...renderRun(run, handlersFor(run.patientId)));
  const cards = run.services.reduce((n, s) => n + s.cards.length, 0);
  const failed = run.error !== undefined || run.services.some((s) => s.error !== undefined);
  results.dataset.state = failed && cards === 0 ? 'error' : 'done';
  results.dataset.cards = String(cards);
  byId('cds-status').textContent = failed ? 'The hook call did not fully succeed: see below.' : `${plural(cards, 'card')} returned.`;
}

async function fire(hook: 'patient-view' | 'order-select', order?: DraftOrderKind): Promise<void> {
  const patientId = current;
  if (patientId === undefined) return;
  const mine = generation;
  const prefetch = byId('send-prefetch', HTMLInputElement).checked;
  const results = byId('cds-results');
  setBusy(true);
  results.dataset.state = 'loading';
  results.replaceChildren(h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Calling the CDS services…'));
  byId('cds-status').textContent = 'Calling the CDS services…';
  try {
    const run = hook === 'patient-view' ? await api.patientView(patientId, prefetch) : await api.orderSelect(patientId, order ?? 'dxa', prefetch);
    if (mine === generation) showRun(run);
  } catch (error) {
    if (mine !== generation) return;
    results.dataset.state = 'error';
    results.replaceChildren(h('div', { class: 'notice error', role: 'alert' }, `The hook could not be fired: ${errorText(error)}`));
    byId('cds-status').textContent = 'The hook could not be fired.';
  } finally {
    if (mine === generation) setBusy(false);
  }
}

/** Up/Down (and Home/End) move through the patient list; Enter or Space opens the patient. */
function listKeys(event: KeyboardEvent): void {
  const buttons = Array.from(byId('patient-list').querySelectorAll<HTMLButtonElement>('button[data-patient-id]'));
  const at = buttons.findIndex((button) => button === event.target);
  if (at < 0) return;
  const next = ({ ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 } as Record<string, number | undefined>)[event.key];
  if (next === undefined) return;
  event.preventDefault();
  buttons[Math.max(0, Math.min(buttons.length - 1, next))]?.focus();
}

function renderPatients(patients: readonly PatientListItem[]): void {
  const list = byId('patient-list');
  list.replaceChildren(
    ...patients.map((patient) => {
      const button = h(
        'button',
        { type: 'button', class: 'patient', id: `patient-${patient.id}`, 'data-patient-id': patient.id },
        h('span', { class: 'patient-name' }, patient.name),
        h('span', { class: 'patient-scenario' }, patient.scenario),
      );
      button.addEventListener('click', () => selectPatient(patient));
      return h('li', {}, button);
    }),
  );
  list.addEventListener('keydown', listKeys);
  if (patients.length === 0) list.replaceChildren(h('li', { class: 'empty' }, 'No patients in this EHR.'));
}

async function start(): Promise<void> {
  const main = byId('main');
  try {
    session = await api.session();
  } catch (error) {
    main.dataset.state = 'error';
    byId('empty-state').replaceChildren(h('div', { class: 'notice error', role: 'alert' }, `The EHR simulator could not start: ${errorText(error)}`));
    return;
  }
  byId('user-name').textContent = session.user.name;
  renderPatients(session.patients);
  byId('fire-patient-view').addEventListener('click', () => void fire('patient-view'));
  byId('fire-order-glucocorticoid').addEventListener('click', () => void fire('order-select', 'glucocorticoid'));
  byId('fire-order-dxa').addEventListener('click', () => void fire('order-select', 'dxa'));
  main.dataset.state = 'ready';
}

void start();
