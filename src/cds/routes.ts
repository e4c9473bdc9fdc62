// The CDS Hooks HTTP surface. Thin: authenticate, parse, call invoke/feedback, send.
import express, { type Request, type RequestHandler, type Response, Router } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../ops/metrics.js';
import { AuthError, type ClientAuthenticator } from './auth.js';
import { recordFeedback } from './feedback.js';
import { invokeService, type EngineDeps } from './invoke.js';
import { unauthorized, unsupportedMediaType } from './outcomes.js';

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
  logger: Logger;
  metrics: Metrics;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

export function cdsRouter(options: CdsRouterOptions): Router {
  const router = Router();
  const { authenticator, logger } = options;

  const baseOf = (req: Request): string => options.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? ''}`;
  const audienceOf = (req: Request): string => `${baseOf(req)}${req.originalUrl.split('?')[0] ?? ''}`;

  /** Labels metrics and logs with the service only when it exists, so unknown ids cannot grow label sets. */
  const noteService = (res: Response, id: string): void => {
    if (options.registry.withId(id).length > 0) requestState(res).serviceId = id;
  };

  const auth: RequestHandler = async (req, res, next) => {
    if (typeof req.params.id === 'string') noteService(res, req.params.id);
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

  const jsonBody: RequestHandler[] = [
    express.json({ limit: options.bodyLimit, type: JSON_TYPES }),
    // The parser skips other media types, leaving no body; an empty JSON body is left to the schema check.
    (req, _res, next) =>
      next(req.body === undefined && !req.is(JSON_TYPES) ? unsupportedMediaType('Content-Type must be application/json') : undefined),
  ];

  router.get('/', auth, (_req, res) => {
    res.json(options.registry.discovery());
  });

  router.post('/:id', auth, ...jsonBody, async (req, res) => {
    const state = requestState(res);
    const id = req.params.id as string;
    const response = await invokeService(id, req.body, options, logger, baseOf(req), (request) => {
      state.reqId = request.hookInstance;
      state.hook = request.hook;
    });
    state.cards = response.cards.length;
    res.json(response);
  });

  router.post('/:id/feedback', auth, ...jsonBody, async (req, res) => {
    const id = req.params.id as string;
    const records = await recordFeedback(id, req.body, options, requestState(res).clientIss);
    for (const record of records) options.metrics.feedbackItems.inc({ service: id, outcome: record.outcome });
    logger.info({ reqId: requestState(res).reqId, serviceId: id, items: records.length }, 'feedback stored');
    res.status(200).json({});
  });

  return router;
}
