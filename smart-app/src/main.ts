// index.html: completes the SMART launch, reads the patient's assessment (the card's, via appContext,
// else the latest) and shows it. The curves come first; the radiograph, the model card and the
// patient banner fill in after without holding them up, and the explanation map loads only on demand.
import type { ServiceRequest } from 'fhir/r4.js';
import type { AssessmentResponse, SmartAppConfig } from '../../src/api/smart-api-contract.js';
import { ApiFailure, SmartApi } from './api.js';
import { patientSummary, showBanner, type PatientSummary } from './banner.js';
import { h, fill } from './dom.js';
import { failureMessage, launchFailure } from './messages.js';
import { idFromLocation, requesterFrom } from './order-resource.js';
import { readSession, type Session } from './session.js';
import { smartApi, type Client, type fhirclient } from './smart.js';
import { applySmartStyle } from './smart-style.js';
import { showError, showLoading, showNotAssessed } from './states.js';
import { renderReady } from './view.js';

const main = document.getElementById('main') as HTMLElement;

async function loadConfig(): Promise<SmartAppConfig> {
  const response = await fetch('config.json', { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  const config = (await response.json()) as Partial<SmartAppConfig>;
  if (typeof config.apiBase !== 'string') throw new Error('config.json has no apiBase');
  return config as SmartAppConfig;
}

function printHeader(summary: PatientSummary | null, patientId: string): void {
  const host = document.getElementById('print-header');
  if (!host) return;
  const printed = new Date().toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
  fill(
    host,
    h('strong', null, 'Vertebral fracture risk — summary'),
    h('span', null, `Patient: ${summary ? [summary.name, ...summary.details].join(' · ') : `id ${patientId}`}`),
    h('span', null, `Printed ${printed}`),
  );
}

/** The banner and the printout's patient line; the curves never wait for it. */
async function patient(client: Client, session: Session, patientId: string): Promise<void> {
  const host = document.getElementById('patient-banner');
  printHeader(null, patientId);
  try {
    const summary = patientSummary(await client.patient.read());
    if (host) showBanner(host, summary, session.needPatientBanner);
    printHeader(summary, patientId);
  } catch {
    if (host && session.needPatientBanner) showBanner(host, { name: `Patient ${patientId}`, details: ['details could not be read'] }, true);
  }
}

/** Writes a resource with the user's token; the id comes from the body, else from the Location header. */
async function createResource(client: Client, resource: ServiceRequest): Promise<{ id?: string }> {
  const result = await client.create(resource as unknown as fhirclient.FHIR.Resource, { includeResponse: true });
  const body = result.body as { id?: unknown } | undefined;
  return { id: typeof body?.id === 'string' ? body.id : idFromLocation(result.response.headers.get('location')) };
}

async function start(): Promise<void> {
  const config = loadConfig();
  config.catch(() => undefined);
  let client: Client;
  try {
    client = await smartApi().ready();
  } catch (error) {
    showError(main, launchFailure(error instanceof Error ? error.message : String(error)));
    return;
  }
  const session = readSession(client);
  const patientId = session.patientId;
  if (patientId === null || session.token === '') {
    showError(main, failureMessage('no-patient'));
    return;
  }
  showLoading(main);
  void applySmartStyle(session.styleUrl);
  void patient(client, session, patientId);
  let api: SmartApi;
  try {
    api = new SmartApi({ apiBase: (await config).apiBase, serverUrl: session.serverUrl, token: session.token });
  } catch (error) {
    showError(main, failureMessage('config'), error instanceof Error ? error.message : undefined);
    return;
  }
  let response: AssessmentResponse;
  try {
    response = await api.assessment(patientId, session.appContext?.assessment ?? null);
  } catch (error) {
    if (error instanceof ApiFailure) showError(main, failureMessage(error.code), error.message);
    else showError(main, failureMessage('network'), error instanceof Error ? error.message : undefined);
    return;
  }
  if (response.status === 'not-assessed') {
    showNotAssessed(main, response);
    return;
  }
  const modelId = response.assessment.model.id;
  const modelCardHref = new URL(`../models/${encodeURIComponent(modelId)}`, new URL((await config).apiBase.replace(/\/?$/, '/'), document.baseURI)).href;
  const { radiograph, modelCard } = renderReady({
    main,
    response,
    api,
    patientId,
    canOrder: session.canOrder,
    orders: { create: (resource) => createResource(client, resource) },
    requester: requesterFrom(client.getFhirUser()),
    modelCardHref,
  });
  // For the browser tests and the benchmark: when the curves were on screen.
  performance.mark('curves-drawn');
  // After the curves: the radiograph and the model card (the explanation waits for its toggle).
  requestAnimationFrame(() => {
    void radiograph.load();
    api.modelCard(modelId).then(
      (card) => modelCard.show(card),
      (error: unknown) => modelCard.failed(error instanceof ApiFailure ? failureMessage(error.code).title.toLowerCase() : 'unexpected error'),
    );
  });
}

start().catch((error: unknown) => {
  showError(main, failureMessage('internal'), error instanceof Error ? error.message : undefined);
});
