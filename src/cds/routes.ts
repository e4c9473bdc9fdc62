// The CDS Hooks HTTP surface. Thin: authenticate, parse, call invoke/feedback, send.
import express, { type Request, type RequestHandler, type Response, Router } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../ops/metrics.js';
import { AuthError, type ClientAuthenticator } from './auth.js';
import { recordFeedback } from './feedback.js';
import { invokeService, type EngineDeps } from './invoke.js';
import { jsonStructureProblem } from './json-structure.js';
import { badRequest, methodNotAllowed, notFound, unauthorized, unsupportedMediaType } from './outcomes.js';
import { SERVICE_ID_PATTERN } from './service.js';

/** What the request log and metrics learn about a call as it goes through the pipeline. */
export interface RequestState {
  reqId: string;
  serviceId?: string;
  hook?: string;
  cards?: number;
  clientIss?: string;
  authFailure?: string;
  authDetail?: string;
}

export function requestState(res: Response): RequestState {
  return res.locals.state as RequestState;
}

export interface CdsRouterOptions extends EngineDeps {
  /** null only when authentication was explicitly disabled. */
  authenticator: ClientAuthenticator | null;
  /** Base of the URLs clients call (for `aud`); derived from the request when not configured. */
  publicBaseUrl?: string;
  bodyLimit: string;
  /** Deepest nesting accepted in a body (json-structure.ts). */
  maxJsonDepth: number;
  logger: Logger;
  metrics: Metrics;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

export function cdsRouter(options: CdsRouterOptions): Router {
  const router = Router();
  const { authenticator, logger } = options;

  // req.protocol and req.host read X-Forwarded-Proto/-Host only when `trust proxy` trusts the peer;
  // a configured base is never overridden by any header.
  const baseOf = (req: Request): string => options.publicBaseUrl ?? `${req.protocol}://${req.host ?? ''}`;
  const audienceOf = (req: Request): string => `${baseOf(req)}${req.originalUrl.split('?')[0] ?? ''}`;
  /** The service id exactly as sent (req.params is percent-decoded). */
  const rawId = (req: Request): string => req.path.split('/')[1] ?? '';

  /** Labels metrics and logs with the service only when it exists, so unknown ids cannot grow label sets. */
  const noteService = (res: Response, id: string): void => {
    if (options.registry.withId(id).length > 0) requestState(res).serviceId = id;
  };

  const auth: RequestHandler = async (req, res, next) => {
    noteService(res, rawId(req));
    if (authenticator) {
      try {
        requestState(res).clientIss = (await authenticator.authenticate(req.headers.authorization, audienceOf(req))).iss;
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        Object.assign(requestState(res), { authFailure: error.reason, authDetail: error.detail });
        throw unauthorized();
      }
    }
    next();
  };

  // After auth, so that only authenticated callers learn which ids exist. An id that is percent-encoded
  // (`spine%2Dfracture%2Drisk`) or holds other characters is not a service's URL, which the JWT `aud`
  // names exactly: 404 without echoing it.
  const serviceId: RequestHandler = (req, _res, next) => {
    next(SERVICE_ID_PATTERN.test(rawId(req)) ? undefined : notFound('No such CDS service'));
  };

  const jsonBody: RequestHandler[] = [
    express.json({
      limit: options.bodyLimit,
      type: JSON_TYPES,
      // Runs on the raw bytes before JSON.parse; what it throws is answered as is.
      verify: (_req, _res, body, charset) => {
        if (charset !== 'utf-8' && charset !== 'utf8') throw unsupportedMediaType('JSON request bodies must be UTF-8 (RFC 8259)');
        const problem = jsonStructureProblem(body, options.maxJsonDepth);
        if (problem !== undefined) throw badRequest(`Request body refused: ${problem}`);
      },
    }),
    // The parser skips other media types, leaving no body; an empty JSON body is left to the schema check.
    (req, _res, next) =>
      next(req.body === undefined && !req.is(JSON_TYPES) ? unsupportedMediaType('Content-Type must be application/json') : undefined),
  ];

  router.get('/', auth, (_req, res) => {
    res.json(options.registry.discovery());
  });

  router.post('/:id', auth, serviceId, ...jsonBody, async (req, res) => {
    const state = requestState(res);
    const id = req.params.id as string;
    const response = await invokeService(id, req.body, options, logger, baseOf(req), (request) => {
      state.reqId = request.hookInstance;
      state.hook = request.hook;
    });
    state.cards = response.cards.length;
    res.json(response);
  });

  router.post('/:id/feedback', auth, serviceId, ...jsonBody, async (req, res) => {
    const id = req.params.id as string;
    const records = await recordFeedback(id, req.body, options, requestState(res).clientIss);
    for (const record of records) options.metrics.feedbackItems.inc({ service: id, outcome: record.outcome });
    logger.info({ reqId: requestState(res).reqId, serviceId: id, items: records.length }, 'feedback stored');
    res.status(200).json({});
  });

  // Any other method on these paths: 405 naming the allowed ones, the same for every id, so it tells
  // an unauthenticated caller nothing. (OPTIONS is the CORS preflight, answered before the router.)
  const only = (...allowed: string[]): RequestHandler => (_req, res, next) => {
    res.set('Allow', allowed.join(', '));
    next(methodNotAllowed(allowed));
  };
  router.all('/', only('GET', 'HEAD'));
  router.all('/:id', only('POST'));
  router.all('/:id/feedback', only('POST'));

  return router;
}
