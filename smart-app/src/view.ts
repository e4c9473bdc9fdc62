// The ready page: summary and horizon table, the curves, the actions, the radiograph, FRAX/DXA, the
// risk factors with their what-if toggles, and the model card; and the what-if loop that ties the
// toggles to the backend (debounced, only the latest answer shown, Reset without a call).
import type { AssessedResponse, Assessment } from '../../src/api/smart-api-contract.js';
import { ApiFailure, type SmartApi } from './api.js';
import { Charts } from './charts.js';
import { fill, h } from './dom.js';
import { FactorsPanel } from './factors.js';
import { failureMessage, reasonMessage, SESSION_EXPIRED } from './messages.js';
import { ModelCardPanel } from './model-card-panel.js';
import { statusBanner } from './model-status.js';
import { actionsPanel, type OrderWriter } from './order.js';
import { dxaOrder } from './order-resource.js';
import { RadiographPanel } from './radiograph.js';
import { recordsPanel } from './records.js';
import { setState, showAlert } from './states.js';
import { shownWhatIf, Summary, type WhatIfView } from './summary.js';
import { changedCount, Latest, whatIfRequest, type Toggles } from './what-if.js';

export interface ReadyOptions {
  main: HTMLElement;
  response: AssessedResponse;
  api: SmartApi;
  patientId: string;
  canOrder: boolean;
  orders: OrderWriter;
  /** The signed-in user as a requester reference (`Practitioner/…`), when the launch says. */
  requester: string | null;
  modelCardHref: string;
}

const DEBOUNCE_MS = 300;

class WhatIfLoop {
  private readonly latest = new Latest();
  private timer = 0;
  private inFlight: AbortController | null = null;
  private view: WhatIfView = { state: 'off' };
  private drawn: Assessment | null = null;

  constructor(
    private readonly options: ReadyOptions,
    private readonly parts: { summary: Summary; charts: Charts; factors: () => FactorsPanel },
    private readonly sessionExpired: () => void,
  ) {}

  changed(toggles: Toggles): void {
    const chart = this.options.response.assessment;
    const request = whatIfRequest(chart.riskFactors, toggles);
    const changes = changedCount(request);
    window.clearTimeout(this.timer);
    this.inFlight?.abort();
    if (changes === 0) {
      this.latest.cancel();
      this.set({ state: 'off' });
      return;
    }
    const ticket = this.latest.next();
    this.set({ state: 'pending', changes, previous: shownWhatIf(this.view) });
    this.timer = window.setTimeout(() => void this.ask(request, changes, ticket), DEBOUNCE_MS);
  }

  reset(): void {
    window.clearTimeout(this.timer);
    this.inFlight?.abort();
    this.latest.cancel();
    this.parts.factors().reset();
    this.set({ state: 'off' });
  }

  private async ask(request: ReturnType<typeof whatIfRequest>, changes: number, ticket: number): Promise<void> {
    const controller = new AbortController();
    this.inFlight = controller;
    try {
      const response = await this.options.api.whatIf(this.options.patientId, request, controller.signal);
      if (!this.latest.isLatest(ticket)) return;
      if (response.status === 'not-assessed') {
        const reason = response.reasons[0];
        this.fail(reason ? `${reasonMessage(reason).title}. ${reason.detail}` : 'The service made no estimate.');
        return;
      }
      this.set({ state: 'on', assessment: response.assessment, changes });
    } catch (error) {
      if (!this.latest.isLatest(ticket)) return;
      if (error instanceof ApiFailure && (error.code === 'token-rejected' || error.code === 'token-missing')) {
        this.set({ state: 'off' });
        this.sessionExpired();
        return;
      }
      this.fail(error instanceof ApiFailure ? `${failureMessage(error.code).title}.` : 'An unexpected error.');
    }
  }

  /** A failed what-if: the page goes back to the chart's figures and says why. */
  private fail(why: string): void {
    this.parts.factors().reset();
    this.set({ state: 'off' });
    const text = `${why} The figures shown are the chart's.`;
    showAlert(this.options.main, 'what-if', 'The what-if could not be computed.', text);
    this.parts.factors().failed(text);
  }

  private set(view: WhatIfView): void {
    this.view = view;
    this.parts.summary.update(view);
    this.parts.factors().show(view);
    const shown = shownWhatIf(view);
    if (shown !== this.drawn) {
      this.drawn = shown;
      this.parts.charts.update(shown);
    }
  }
}

export function renderReady(options: ReadyOptions): { radiograph: RadiographPanel; modelCard: ModelCardPanel } {
  const { main, response } = options;
  const chart = response.assessment;
  const summary = new Summary(response);
  const charts = new Charts(chart);
  const alerts = h('div', { id: 'alerts', class: 'alerts' });
  const sessionExpired = (): void => {
    showAlert(main, 'session-expired', SESSION_EXPIRED.title, `${SESSION_EXPIRED.next} What-if, ordering and the explanation are switched off; the figures shown are from before it expired.`);
    // Nothing more can be asked with this token: the controls that would are switched off.
    for (const control of main.querySelectorAll<HTMLInputElement | HTMLButtonElement>('.factors input, #order-dxa, #overlay-toggle, #whatif-reset')) control.disabled = true;
    document.getElementById('alert')?.scrollIntoView({ block: 'start' });
  };
  let factors: FactorsPanel | null = null;
  const loop = new WhatIfLoop(options, { summary, charts, factors: () => factors as FactorsPanel }, sessionExpired);
  factors = new FactorsPanel(chart, { onToggle: (t) => loop.changed(t), onReset: () => loop.reset() });
  const radiograph = new RadiographPanel(chart, { load: (kind) => options.api.image(options.patientId, kind) });
  const modelCard = new ModelCardPanel(chart.model, options.modelCardHref);
  const actions = actionsPanel({
    canOrder: options.canOrder,
    order: response.orders ? dxaOrder(response.orders.dxa, options.requester) : null,
    writer: options.orders,
    onFailure: (outcome) => (outcome.sessionExpired ? sessionExpired() : showAlert(main, 'order', 'The DXA order was not created.', outcome.text)),
  });
  setState(main, 'ready');
  fill(
    main,
    statusBanner(chart.model.status, chart.model.statement),
    alerts,
    summary.element,
    h('div', { class: 'columns' }, h('div', { class: 'col-main' }, charts.element, recordsPanel(chart)), h('div', { class: 'col-side' }, actions, radiograph.element)),
    factors.element,
    modelCard.element,
    factors.bar,
  );
  charts.draw();
  return { radiograph, modelCard };
}
