// The SMART app's backend: a thin HTTP layer over the assessment pipeline (the routes and shapes are
// in smart-api-contract.ts). Every route first proves the caller's access: it reads the Patient from
// the FHIR server with the caller's own token, so a cached assessment is never an authorisation
// (a token for patient A gets a 403 for patient B, whatever the cache holds). The token then serves
// only that patient's chart reads, lives as long as the request, and is never stored or logged.
import type { Patient } from 'fhir/r4.js';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { Ajv } from 'ajv';
import type { Logger } from 'pino';
import type { AssessOutcome } from '../assessment/assessment.js';
import type { Assessor } from '../assessment/assessor.js';
import { dxaServiceRequest } from '../assessment/dxa-order.js';
import type { RadiographPictures } from '../assessment/radiograph-pictures.js';
import { ImagingError } from '../imaging/errors.js';
import { ModelRunError } from '../model/errors.js';
import { WorkerPoolError } from '../workers/pool.js';
import { FhirRequestError, type FhirClientFactory, type FhirRestClient } from '../fhir/client.js';
import { YES_NO_FACTORS } from '../model/risk-factors.js';
import type { ApiError, ApiErrorCode, AssessmentResponse, WhatIfRequest } from './smart-api-contract.js';

export interface SmartApiDeps {
  assessor: Assessor;
  pictures: RadiographPictures;
  fhirClients: FhirClientFactory;
  logger: Logger;
  clock: () => Date;
}

/** A refusal with its status, code and a message the app can show (never data from the request). */
class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const ASSESSMENT_KEY = /^[0-9a-f]{40}$/;
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

const validateWhatIf = new Ajv({ strict: true, allErrors: false }).compile<WhatIfRequest>({
  type: 'object',
  additionalProperties: false,
  required: ['factors'],
  properties: {
    factors: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(YES_NO_FACTORS.map((name) => [name, { type: 'boolean' }])),
    },
  },
});

interface PatientAccess {
  patientId: string;
  fhirServer: string;
  fhir: FhirRestClient;
  patient: Patient;
}

/** The caller's FHIR server, token and patient, proven by reading the Patient with that token. */
async function provePatientAccess(req: Request, fhirClients: FhirClientFactory): Promise<PatientAccess> {
  const raw: unknown = req.params.patientId;
  const patientId = typeof raw === 'string' ? raw : '';
  if (!FHIR_ID.test(patientId)) throw new ApiFailure(400, 'bad-request', 'The patient id is not a FHIR id');
  const fhirServer = req.get('x-fhir-server');
  if (!fhirServer) throw new ApiFailure(400, 'bad-request', 'The X-FHIR-Server header (the FHIR base URL the token was issued for) is missing');
  const token = BEARER.exec(req.get('authorization') ?? '')?.[1];
  if (token === undefined) throw new ApiFailure(401, 'token-missing', 'An Authorization: Bearer access token is required');
  if (!fhirClients.allows(fhirServer)) throw new ApiFailure(403, 'fhir-not-allowed', 'This FHIR server is not on the service allow-list');
  const fhir = fhirClients.forServer(fhirServer, token);
  let patient;
  try {
    patient = await fhir.get(`Patient/${patientId}`);
  } catch (error) {
    throw accessFailure(error);
  }
  if (patient.resourceType !== 'Patient' || patient.id !== patientId) {
    throw new ApiFailure(502, 'fhir-unavailable', 'The FHIR server answered the patient read with another resource');
  }
  return { patientId, fhirServer: fhir.baseUrl, fhir, patient };
}

function accessFailure(error: unknown): ApiFailure {
  if (!(error instanceof FhirRequestError)) throw error;
  if (error.kind === 'http' && error.status === 401) {
    return new ApiFailure(401, 'token-rejected', 'The FHIR server did not accept the access token (expired, revoked or not valid there)');
  }
  if (error.kind === 'http' && (error.status === 403 || error.status === 404 || error.status === 410)) {
    return new ApiFailure(403, 'patient-not-accessible', 'The access token does not give access to this patient');
  }
  if (error.kind === 'not-allowed') return new ApiFailure(403, 'fhir-not-allowed', 'This FHIR server is not on the service allow-list');
  return new ApiFailure(502, 'fhir-unavailable', `The FHIR server could not be read (${error.kind}${error.status ? ` ${error.status}` : ''})`);
}

function assess(deps: SmartApiDeps, access: PatientAccess, whatIf?: WhatIfRequest): Promise<AssessOutcome> {
  return deps.assessor.assess({
    patientId: access.patientId,
    fhirServer: access.fhirServer,
    fhir: access.fhir,
    prefetch: { patient: access.patient },
    ...(whatIf ? { overrides: whatIf.factors, hypothetical: true } : {}),
  });
}

function assessmentResponse(deps: SmartApiDeps, outcome: AssessOutcome, context: string | undefined, hypothetical: boolean): AssessmentResponse {
  if (outcome.status === 'not-assessed') {
    const { card } = deps.assessor.model;
    return { status: 'not-assessed', reasons: outcome.reasons, model: { id: card.id, version: card.version, statement: card.intendedUse.statement, status: card.intendedUse.status } };
  }
  const { assessment } = outcome;
  return {
    status: 'assessed',
    assessment: { ...assessment, hypothetical },
    contextMatches: context === undefined ? null : context === assessment.key,
    orders: hypothetical ? null : { dxa: dxaServiceRequest(assessment, { now: deps.clock() }) },
  };
}

/** The assessment the pictures belong to; 404 when there is none (no radiograph read). */
async function assessedImage(deps: SmartApiDeps, req: Request): Promise<Extract<AssessOutcome, { status: 'assessed' }>> {
  const outcome = await assess(deps, await provePatientAccess(req, deps.fhirClients));
  if (outcome.status !== 'assessed') throw new ApiFailure(404, 'not-found', `No radiograph was read for this patient (${outcome.reasons.map((r) => r.code).join(', ')})`);
  return outcome;
}

/** The pictures need the radiograph again (when evicted from memory), many model runs and a worker to encode them. */
function pictureFailure(error: ModelRunError | ImagingError | WorkerPoolError): ApiFailure {
  const code = error instanceof WorkerPoolError ? error.kind : error.code;
  if (code === 'busy') return new ApiFailure(503, 'busy', 'The service is busy; try again shortly');
  if (error instanceof ImagingError) return new ApiFailure(502, 'image-unavailable', `The radiograph could not be read again (${error.code})`);
  return new ApiFailure(500, 'internal', `The picture could not be made (${code})`);
}

function sendPng(res: Response, png: Uint8Array): void {
  res.type('image/png').send(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
}

export function smartApiRouter(deps: SmartApiDeps): Router {
  const router = Router();
  // Patient data: no cache anywhere on the way.
  router.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });

  router.get('/patients/:patientId/assessment', async (req, res) => {
    const context = typeof req.query.context === 'string' ? req.query.context : undefined;
    if (context !== undefined && !ASSESSMENT_KEY.test(context)) throw new ApiFailure(400, 'bad-request', 'context is not an assessment key');
    const outcome = await assess(deps, await provePatientAccess(req, deps.fhirClients));
    res.json(assessmentResponse(deps, outcome, context, false));
  });

  router.post('/patients/:patientId/what-if', express.json({ limit: '4kb' }), async (req, res) => {
    if (!validateWhatIf(req.body)) throw new ApiFailure(400, 'bad-request', `The body must be {"factors": {<${YES_NO_FACTORS.join('|')}>: true|false}}`);
    const whatIf = req.body;
    const outcome = await assess(deps, await provePatientAccess(req, deps.fhirClients), whatIf);
    res.json(assessmentResponse(deps, outcome, undefined, true));
  });

  router.get('/patients/:patientId/radiograph.png', async (req, res) => {
    const outcome = await assessedImage(deps, req);
    sendPng(res, await deps.pictures.thumbnail(await outcome.pixels()));
  });

  router.get('/patients/:patientId/explanation.png', async (req, res) => {
    const outcome = await assessedImage(deps, req);
    sendPng(res, await deps.pictures.explanation(outcome.assessment, outcome.pixels));
  });

  router.use((_req, _res, next) => next(new ApiFailure(404, 'not-found', 'No such API route')));
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    let failure: ApiFailure;
    if (error instanceof ApiFailure) failure = error;
    else if (error instanceof ModelRunError || error instanceof ImagingError || error instanceof WorkerPoolError) failure = pictureFailure(error);
    else if ((error as { type?: string } | null)?.type === 'entity.parse.failed') failure = new ApiFailure(400, 'bad-request', 'The body is not valid JSON');
    else if ((error as { type?: string } | null)?.type === 'entity.too.large') failure = new ApiFailure(413, 'bad-request', 'The body is too large');
    else {
      deps.logger.error({ err: { name: (error as Error | null)?.name, message: (error as Error | null)?.message } }, 'SMART API: unexpected error');
      failure = new ApiFailure(500, 'internal', 'The service failed unexpectedly; see its log');
    }
    if (failure.status === 401 || failure.status === 403) deps.logger.info({ code: failure.code }, 'SMART API: access refused');
    const body: ApiError = { error: { code: failure.code, message: failure.message } };
    if (!res.headersSent) res.status(failure.status).json(body);
  });
  return router;
}
