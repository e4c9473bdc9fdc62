// The EHR simulator of the local demo: a page (patient list, chart summary, hook buttons, the returned
// cards) and the small JSON API it calls, on its own loopback port. It plays a real CDS client and a
// real EHR: it signs its calls with its own key, fills prefetch or hands out `fhirAuthorization`, keeps
// the cards it is given and acts on them only as given (applies a suggestion's FHIR actions with its
// own token, sends feedback, launches a card's SMART link through the authorization server).
//
//   GET  /                                        the page (bundled in memory at start; CSP: own scripts only)
//   GET  /api/session, /api/patients              the user, the servers, the patient list
//   GET  /api/patients/:id/summary                the chart summary (ChartSummary)
//   POST /api/patients/:id/hooks/patient-view     {prefetch}            → HookRunResponse
//   POST /api/patients/:id/hooks/order-select     {order, prefetch}     → HookRunResponse
//   POST /api/suggestions/apply                   {serviceId, cardUuid, suggestionUuid} → ApplyResponse
//   POST /api/feedback                            FeedbackBody          → FeedbackResult
//   POST /api/launch                              {patientId, url, appContext?} → {launchUrl}
// Contract types: api-contract.ts. Errors: {"error":{"code","message"}}. Tokens are never logged.
import { createServer, type Server } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { FeedbackItem } from '../../cds/types.js';
import type { SmartAuthServer } from '../smart-auth-server.js';
import type { ApplyResponse, FeedbackResult, LaunchResponse, PatientListItem, SessionResponse } from './api-contract.js';
import { ApiError, parseApply, parseFeedback, parseLaunch, parseOrderSelect, parsePatientView, patientIdParam } from './api-input.js';
import { applyActions } from './apply-actions.js';
import { CardRegistry } from './card-registry.js';
import { createCdsClient, type CdsClient } from './cds-client.js';
import { readChartSummary } from './chart-summary.js';
import { createEhrFhir, FhirCallError, type EhrFhir } from './ehr-fhir.js';
import { runHook } from './hook-runner.js';
import { buildPageAssets } from './page-assets.js';
import type { SimulatorKey } from './simulator-key.js';

export interface EhrSimulatorDeps {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** The FHIR server the EHR is the system of record for (`fhirServer` of its hooks, `iss` of its launches). */
  fhirBaseUrl: string;
  /** Its token service (issueAccessToken) and launch-context store (createLaunch). */
  auth: Pick<SmartAuthServer, 'createLaunch' | 'issueAccessToken'>;
  /** Where the CDS services are: `{cdsBaseUrl}/cds-services`. */
  cdsBaseUrl: string;
  /** Signs the client JWTs; the service must trust its iss and public key. */
  key: SimulatorKey;
  /** The signed-in clinician; `fhirUser` is the hooks' `context.userId` (a Practitioner or PractitionerRole). */
  user: { fhirUser: string; name: string };
  patients: ReadonlyArray<PatientListItem>;
  /** The EHR backend's own client id at the authorization server (its tokens are issued to it). */
  clientId: string;
  /** The client id the CDS service's `fhirAuthorization` tokens are issued to; default clientId. */
  cdsClientId?: string;
  /** The EHR's date: chart ages, draft orders, JWT times, feedback timestamps. Default the system clock. */
  clock?: () => Date;
  logger?: Logger;
}

export interface EhrSimulator {
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const USER = /^(Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/;
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function checkDeps(deps: EhrSimulatorDeps): void {
  if (typeof deps !== 'object' || deps === null) throw new TypeError('deps must be an object');
  if (typeof deps.user?.fhirUser !== 'string' || !USER.test(deps.user.fhirUser)) throw new TypeError('deps.user.fhirUser must be Practitioner/<id> or PractitionerRole/<id>');
  if (typeof deps.user.name !== 'string' || deps.user.name === '') throw new TypeError('deps.user.name must be a non-empty string');
  const patients: unknown = deps.patients;
  if (!Array.isArray(patients)) throw new TypeError('deps.patients must be an array');
  const ids = new Set<string>();
  (patients as Partial<PatientListItem>[]).forEach((p, i) => {
    if (typeof p?.id !== 'string' || !FHIR_ID.test(p.id) || ids.has(p.id)) throw new TypeError(`deps.patients[${i}].id must be a FHIR id, each once`);
    if (typeof p.name !== 'string' || typeof p.scenario !== 'string') throw new TypeError(`deps.patients[${i}] needs a name and a scenario`);
    ids.add(p.id);
  });
  if (typeof deps.auth?.createLaunch !== 'function' || typeof deps.auth.issueAccessToken !== 'function') throw new TypeError('deps.auth must be the SMART authorization server');
  if (deps.port !== undefined && (!Number.isInteger(deps.port) || deps.port < 0 || deps.port > 65535)) throw new RangeError('deps.port must be a port number');
}

interface Services {
  deps: EhrSimulatorDeps;
  cds: CdsClient;
  fhir: EhrFhir;
  cards: CardRegistry;
  clock: () => Date;
}

/** The API routes, each a plain async handler over the services. */
function apiRouter(s: Services): express.Router {
  const { deps, cds, fhir, cards, clock } = s;
  const router = express.Router();
  const known = new Set(deps.patients.map((p) => p.id));
  const patientOf = (value: unknown): string => {
    const id = patientIdParam(value);
    if (!known.has(id)) throw new ApiError(404, 'patient-unknown', 'No such patient in this EHR.');
    return id;
  };
  const hookDeps = { cds, fhir, cards, userId: deps.user.fhirUser, clock, ...(deps.logger ? { logger: deps.logger } : {}) };

  router.get('/session', (_req, res) => {
    const body: SessionResponse = { user: { name: deps.user.name, fhirUser: deps.user.fhirUser }, fhirBaseUrl: fhir.baseUrl, cdsBaseUrl: deps.cdsBaseUrl, patients: [...deps.patients] };
    res.json(body);
  });
  router.get('/patients', (_req, res) => {
    res.json({ patients: [...deps.patients] });
  });
  router.get('/patients/:id/summary', async (req, res) => {
    res.json(await readChartSummary(fhir, patientOf(req.params.id), clock()));
  });
  router.post('/patients/:id/hooks/patient-view', async (req, res) => {
    const patientId = patientOf(req.params.id);
    const { prefetch } = parsePatientView(req.body);
    res.json(await runHook(hookDeps, { hook: 'patient-view', patientId, prefetch }));
  });
  router.post('/patients/:id/hooks/order-select', async (req, res) => {
    const patientId = patientOf(req.params.id);
    const { order, prefetch } = parseOrderSelect(req.body);
    res.json(await runHook(hookDeps, { hook: 'order-select', patientId, prefetch, order }));
  });

  router.post('/suggestions/apply', async (req, res) => {
    const body = parseApply(req.body);
    const entry = cards.get(body.serviceId, body.cardUuid);
    const { suggestion, uuid } = CardRegistry.suggestion(entry.card, body.suggestionUuid);
    const actions = await applyActions(fhir, entry.patientId, suggestion.actions ?? []);
    let feedback: FeedbackResult;
    if (actions.some((a) => a.status !== 'done')) feedback = { sent: false, status: null, message: 'Not sent: the suggestion was not carried out.' };
    else if (!entry.hasUuid || uuid === undefined) feedback = { sent: false, status: null, message: 'Not sent: the service gave the card or the suggestion no uuid.' };
    else {
      const item: FeedbackItem = { card: entry.key, outcome: 'accepted', acceptedSuggestions: [{ id: uuid }], outcomeTimestamp: clock().toISOString() };
      const result = await cds.feedback(entry.serviceId, [item]);
      feedback = { sent: result.status === 200, status: result.status, ...(result.error === undefined ? {} : { message: result.error }) };
    }
    const answer: ApplyResponse = { actions, feedback };
    res.json(answer);
  });

  router.post('/feedback', async (req, res) => {
    const body = parseFeedback(req.body);
    const entry = cards.get(body.serviceId, body.cardUuid);
    if (!entry.hasUuid) throw new ApiError(409, 'card-without-uuid', 'The service gave this card no uuid, so no feedback can name it.');
    let item: FeedbackItem;
    const outcomeTimestamp = clock().toISOString();
    if (body.outcome === 'accepted') {
      const offered = new Set((entry.card.suggestions ?? []).flatMap((sg) => (sg.uuid === undefined ? [] : [sg.uuid])));
      if (!body.acceptedSuggestions.every((id) => offered.has(id))) throw new ApiError(400, 'suggestion-unknown', 'acceptedSuggestions names a suggestion the card does not have.');
      item = { card: entry.key, outcome: 'accepted', acceptedSuggestions: body.acceptedSuggestions.map((id) => ({ id })), outcomeTimestamp };
    } else {
      const reason = body.reasonCode === undefined ? undefined : entry.card.overrideReasons?.find((r) => r.code === body.reasonCode);
      if (body.reasonCode !== undefined && reason === undefined) throw new ApiError(400, 'reason-unknown', 'reasonCode is not one of the card\u2019s override reasons.');
      const overrideReason = { ...(reason === undefined ? {} : { reason }), ...(body.comment === undefined ? {} : { userComment: body.comment }) };
      item = { card: entry.key, outcome: 'overridden', ...(Object.keys(overrideReason).length > 0 ? { overrideReason } : {}), outcomeTimestamp };
    }
    const result = await cds.feedback(entry.serviceId, [item]);
    const answer: FeedbackResult = { sent: result.status === 200, status: result.status, ...(result.error === undefined ? {} : { message: result.error }) };
    res.json(answer);
  });

  router.post('/launch', (req, res) => {
    const body = parseLaunch(req.body);
    const patientId = patientOf(body.patientId);
    if (cards.smartLink(patientId, body.url, body.appContext) === undefined) {
      throw new ApiError(403, 'link-unknown', 'The EHR launches only the SMART links of cards it was given for this patient.');
    }
    const launch = deps.auth.createLaunch({ patient: patientId, ...(body.appContext === undefined ? {} : { appContext: body.appContext }) });
    const url = new URL(body.url);
    url.searchParams.set('launch', launch);
    url.searchParams.set('iss', fhir.baseUrl);
    const answer: LaunchResponse = { launchUrl: url.toString() };
    res.json(answer);
  });

  router.use((req, _res, next) => next(new ApiError(404, 'not-found', `No API route for ${req.method} ${req.path}`)));
  return router;
}

/** Refuses writes from other origins (a page elsewhere must not fire hooks or write to the chart) and non-JSON bodies. */
function sameOriginJson(origin: () => string): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const from = req.headers.origin;
    if ((from !== undefined && from !== origin()) || req.headers['sec-fetch-site'] === 'cross-site') {
      return next(new ApiError(403, 'cross-origin', 'Requests from other origins are refused.'));
    }
    if (!req.is('application/json')) return next(new ApiError(415, 'unsupported-media-type', 'Send the body as application/json.'));
    next();
  };
}

function errorHandler(logger: Logger | undefined) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    let error: ApiError;
    if (err instanceof ApiError) error = err;
    else if (err instanceof FhirCallError) error = new ApiError(502, 'fhir-unavailable', `The FHIR server did not answer as expected (${err.message}).`);
    else if (typeof err === 'object' && err !== null && 'type' in err && err.type === 'entity.parse.failed') error = new ApiError(400, 'invalid-json', 'The body is not valid JSON.');
    else if (typeof err === 'object' && err !== null && 'type' in err && err.type === 'entity.too.large') error = new ApiError(413, 'too-large', 'The body is too large.');
    else {
      logger?.error({ err: { name: err instanceof Error ? err.name : typeof err, message: err instanceof Error ? err.message : '' } }, 'EHR simulator: request failed');
      error = new ApiError(500, 'internal', 'The EHR simulator failed to handle this request.');
    }
    res.status(error.status).json({ error: { code: error.code, message: error.message } });
  };
}

export async function startEhrSimulator(deps: EhrSimulatorDeps): Promise<EhrSimulator> {
  checkDeps(deps);
  const clock = deps.clock ?? (() => new Date());
  const assets = await buildPageAssets();
  const cds = createCdsClient({ cdsBaseUrl: deps.cdsBaseUrl, key: deps.key, clock });
  const fhir = createEhrFhir({ fhirBaseUrl: deps.fhirBaseUrl, tokens: deps.auth, clientId: deps.clientId, ...(deps.cdsClientId ? { cdsClientId: deps.cdsClientId } : {}) });
  const host = deps.host ?? '127.0.0.1';
  let url = '';

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' });
    next();
  });
  app.get(['/', '/index.html'], (_req, res) => void res.type('html').set('Content-Security-Policy', PAGE_CSP).send(assets.html));
  app.get('/assets/main.js', (_req, res) => void res.type('text/javascript').send(assets.js));
  app.get('/assets/styles.css', (_req, res) => void res.type('text/css').send(assets.css));
  app.get('/favicon.ico', (_req, res) => void res.status(204).end());
  app.use('/api', sameOriginJson(() => url), express.json({ limit: '16kb' }), apiRouter({ deps, cds, fhir, cards: new CardRegistry(), clock }));
  app.use((_req, res) => void res.status(404).type('text').send('Not found'));
  app.use(errorHandler(deps.logger));

  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('EHR simulator: not listening on TCP');
  url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      })),
  };
}
