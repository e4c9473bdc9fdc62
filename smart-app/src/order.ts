// The actions: "Order DXA" writes the assessment's DXA ServiceRequest to the FHIR server with the
// clinician's token, when the granted scopes allow it (and says so when they do not); "Print / save
// as PDF" prints the one-page summary.
import type { ServiceRequest } from 'fhir/r4.js';
import { h, fill } from './dom.js';

export interface OrderWriter {
  /** Creates the resource; resolves with the id the server gave it, when it says. */
  create(resource: ServiceRequest): Promise<{ id?: string }>;
}

export interface OrderOutcome {
  ok: boolean;
  /** Set when the FHIR server rejected the token: the session is over. */
  sessionExpired?: boolean;
  text: string;
}

function failureText(error: unknown): OrderOutcome {
  const status = (error as { status?: unknown } | null)?.status;
  if (status === 401) return { ok: false, sessionExpired: true, text: 'The FHIR server rejected the session (401).' };
  if (status === 403) return { ok: false, text: 'The FHIR server refused to create the order (403 Forbidden): your account may not be allowed to order.' };
  if (typeof status === 'number') return { ok: false, text: `The FHIR server refused the order (HTTP ${status}).` };
  return { ok: false, text: `The FHIR server could not be reached (${error instanceof Error ? error.message.split('\n')[0] : 'network error'}).` };
}

export async function placeOrder(writer: OrderWriter, order: ServiceRequest): Promise<OrderOutcome> {
  try {
    const created = await writer.create(order);
    const id = created.id;
    return { ok: true, text: id ? `DXA order created (ServiceRequest/${id}).` : 'DXA order created.' };
  } catch (error) {
    return failureText(error);
  }
}

export interface ActionsOptions {
  canOrder: boolean;
  /** The order to write (already a draft with its requester); null when the service offers none. */
  order: ServiceRequest | null;
  writer: OrderWriter;
  onFailure(outcome: OrderOutcome): void;
}

export function actionsPanel(options: ActionsOptions): HTMLElement {
  const result = h('p', { id: 'order-result', class: 'order-result', role: 'status' });
  const { order } = options;
  const allowed = options.canOrder && order !== null;
  const button = h('button', { type: 'button', class: 'btn btn-primary', id: 'order-dxa', disabled: !allowed, 'aria-describedby': allowed ? 'order-result' : 'order-permission' }, 'Order DXA');
  button.addEventListener('click', () => {
    if (order === null) return;
    button.disabled = true;
    fill(result, 'Creating the DXA order…');
    void placeOrder(options.writer, order).then((outcome) => {
      result.classList.toggle('error-text', !outcome.ok);
      result.classList.toggle('ok-text', outcome.ok);
      fill(result, outcome.ok ? `${outcome.text} It is a draft for you to sign in the EHR.` : `The DXA order was not created: ${outcome.text}`);
      // After a success, a second click would order a second scan.
      button.disabled = outcome.ok;
      if (!outcome.ok) options.onFailure(outcome);
    });
  });
  return h(
    'section',
    { class: 'panel actions', 'aria-labelledby': 'actions-title' },
    h('h2', { id: 'actions-title' }, 'Actions'),
    h(
      'div',
      { class: 'buttons' },
      button,
      h('button', { type: 'button', class: 'btn', id: 'print', onclick: () => window.print() }, 'Print / save as PDF'),
    ),
    allowed
      ? null
      : h(
          'p',
          { id: 'order-permission', class: 'muted' },
          order === null ? 'The service offers no DXA order for this assessment.' : 'This app was not granted permission to create orders (ServiceRequest). Order the DXA in the EHR.',
        ),
    result,
  );
}
