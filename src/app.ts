// createApp(config, deps) → express app. Nothing global: the store, logger, clock, registry and
// clients are passed in, which is what lets tests run the whole app against real servers.
import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Logger } from 'pino';
import { modelCardRouter } from './api/model-cards.js';
import { smartApiRouter } from './api/smart-api.js';
import { smartAppRouter } from './api/smart-app-files.js';
import type { Assessor } from './assessment/assessor.js';
import type { RadiographPictures } from './assessment/radiograph-pictures.js';
import { createClientAuthenticator, type ClientAuthenticator } from './cds/auth.js';
import {
  badRequest,
  internalError,
  notFound,
  OutcomeError,
  payloadTooLarge,
  serviceUnavailable,
  unsupportedMediaType,
} from './cds/outcomes.js';
import { cdsRouter, requestState, type RequestState } from './cds/routes.js';
import type { ServiceRegistry } from './cds/service.js';
import { assertServable, type Config } from './config.js';
import { FhirClientFactory } from './fhir/client.js';
import type { LoadedModel } from './model/model-registry.js';
import { createMetrics, outcomeForStatus, type Metrics } from './ops/metrics.js';
import { StoreUnavailableError, type Store } from './store/store.js';

export interface AppDeps {
  registry: ServiceRegistry;
  store: Store;
  logger: Logger;
  clock?: () => Date;
  metrics?: Metrics;
  authenticator?: ClientAuthenticator;
  fhirClients?: FhirClientFactory;
  /** Models whose cards are served at /models/<id> (the cards' source links point there). */
  models?: ReadonlyMap<string, LoadedModel>;
  /** The assessment pipeline behind the SMART app's API (/api) and the app itself (/smart-app/); neither is mounted without it. */
  smart?: { assessor: Assessor; pictures: RadiographPictures };
}

export interface CdsApp {
  express: Express;
  metrics: Metrics;
  /** Makes /readyz answer 503 (for draining before shutdown). */
  markNotReady(): void;
}

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Maps anything thrown to an OperationOutcome answer; unknown errors are 500 and logged, never echoed. */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    let outcomeError: OutcomeError;
    if (error instanceof OutcomeError) outcomeError = error;
    else if (error instanceof StoreUnavailableError) {
      // A host condition (lock, disk, permissions), not a bug: 503, and nothing was acknowledged.
      logger.warn({ reqId: requestState(res).reqId, code: error.code, reason: error.message }, 'store unavailable');
      outcomeError = serviceUnavailable('The store is unavailable; try again later');
    } else {
      const { type, status } = (error ?? {}) as BodyParserError;
      if (type === 'entity.too.large') outcomeError = payloadTooLarge('Request body is larger than the configured limit');
      else if (type === 'entity.parse.failed') outcomeError = badRequest('Request body is not valid JSON');
      // The router could not percent-decode a path parameter (`%E0%A4%A`); its message quotes the path, so it is not echoed.
      else if (error instanceof URIError) outcomeError = badRequest('The request path is not valid percent-encoding');
      else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
        outcomeError = unsupportedMediaType('Unsupported body encoding or charset');
      } else if (type !== undefined && status !== undefined && status >= 400 && status < 500) {
        outcomeError = badRequest('Request body could not be read');
      } else {
        const { name, message } = error instanceof Error ? error : { name: typeof error, message: '' };
        logger.error({ reqId: requestState(res).reqId, err: { name, message } }, 'unhandled error');
        outcomeError = internalError();
      }
    }
    if (res.headersSent) return;
    res.status(outcomeError.status).type('application/fhir+json').send(JSON.stringify(outcomeError.outcome));
  };
}

/** The request path as logged: patient ids in SMART API paths are PHI and are left out. */
function loggedPath(url: string): string {
  return (url.split('?')[0] ?? '').replace(/^\/api\/patients\/[^/]+/, '/api/patients/:id');
}

export function createApp(config: Config, deps: AppDeps): CdsApp {
  assertServable(config);
  const { logger, store, registry } = deps;
  const clock = deps.clock ?? (() => new Date());
  const metrics = deps.metrics ?? createMetrics({ defaultMetrics: config.metrics.enabled });
  const authenticator = config.auth.disabled ? null : (deps.authenticator ?? createClientAuthenticator(config.auth, { tokenIds: store, clock }));
  const fhirClients = deps.fhirClients ?? new FhirClientFactory(config.fhir);
  let ready = true;
  // The request line is built only from fields chosen below (ids, status, timing); redaction, which
  // cost ~10 µs a line in the hook benchmark, stays on for every other log call.
  const requestLog = logger.child({}, { redact: [] });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // answers to POSTs are never cached; hashing every body is wasted work
  app.set('trust proxy', config.server.trustProxy);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const state: RequestState = { reqId: randomUUID() };
    res.locals.state = state;
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const { statusCode } = res;
      if (state.serviceId !== undefined && req.method === 'POST' && !req.path.endsWith('/feedback')) {
        metrics.hookDuration.observe({ service: state.serviceId, hook: state.hook ?? 'unknown' }, seconds);
        metrics.hookRequests.inc({ service: state.serviceId, outcome: outcomeForStatus(statusCode, state.cards ?? 0) });
      }
      requestLog.info(
        {
          reqId: state.reqId,
          method: req.method,
          path: loggedPath(req.originalUrl),
          status: statusCode,
          ms: Math.round(seconds * 10_000) / 10,
          serviceId: state.serviceId,
          hook: state.hook,
          cards: state.cards,
          clientIss: state.clientIss,
          authFailure: state.authFailure,
          authDetail: state.authDetail,
        },
        'request',
      );
    });
    next();
  });

  // CDS clients may run in browsers anywhere (cors.origins); the SMART API answers only the app's own
  // origin unless smartApp.origins names others.
  app.use(
    ['/cds-services', '/models'],
    cors({
      origin: config.cors.origins,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      maxAge: 600,
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (!ready) throw serviceUnavailable('shutting down');
    try {
      await store.ping();
    } catch (error) {
      throw serviceUnavailable(error instanceof StoreUnavailableError ? error.message : 'store unavailable');
    }
    res.json({ status: 'ready' });
  });
  if (config.metrics.enabled) {
    app.get('/metrics', async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }

  if (deps.models) app.use('/models', modelCardRouter(deps.models));
  if (deps.smart) {
    app.use(
      '/api',
      cors({ origin: config.smartApp.origins, methods: ['GET', 'POST', 'OPTIONS'], allowedHeaders: ['Authorization', 'Content-Type', 'X-FHIR-Server'], maxAge: 600 }),
      smartApiRouter({ ...deps.smart, fhirClients, logger, clock }),
    );
    app.use('/smart-app', smartAppRouter(config.smartApp));
  }

  app.use(
    '/cds-services',
    cdsRouter({
      registry,
      store,
      clock,
      fhirClients,
      authenticator,
      logger,
      metrics,
      checkResponses: config.mode === 'development',
      bodyLimit: config.server.bodyLimit,
      maxJsonDepth: config.server.maxJsonDepth,
      ...(config.server.publicBaseUrl ? { publicBaseUrl: config.server.publicBaseUrl } : {}),
    }),
  );

  app.use((_req, _res, next) => next(notFound('No such endpoint')));
  app.use(errorHandler(logger));

  return {
    express: app,
    metrics,
    markNotReady: () => {
      ready = false;
    },
  };
}
