// What both fracture-risk services do before choosing cards: check the request is about one patient,
// then ask the assessment pipeline, within the service's deadline. Work the deadline cuts short goes on
// in the background and fills the cache for the next call; nothing here guesses a risk to be on time.
import type { AssessOutcome } from '../../src/assessment/assessment.js';
import { withinDeadline, type Assessor, type DeadlineOutcome } from '../../src/assessment/assessor.js';
import type { HandlerContext } from '../../src/cds/service.js';
import { normalizeBaseUrl } from '../../src/fhir/client.js';
import { RECORD_KEYS, RECORD_QUERIES, type RecordKey } from '../../src/fhir/record-queries.js';
import type { RiskFactors } from '../../src/model/risk-factors.js';

/** The services' prefetch: the chart queries the pipeline reads, published unchanged. */
export const CHART_PREFETCH: Readonly<Record<string, string>> = { ...RECORD_QUERIES };

const isRecordKey = (key: string): key is RecordKey => (RECORD_KEYS as readonly string[]).includes(key);

/** A short, PHI-free account of an outcome for the log. */
function describe(outcome: AssessOutcome): Record<string, unknown> {
  return outcome.status === 'assessed'
    ? { outcome: 'assessed', cached: outcome.cached, band: outcome.assessment.band.name, model: outcome.assessment.model.id }
    : { outcome: 'not-assessed', reasons: outcome.reasons.map((r) => (r.cause ? `${r.code}:${r.cause}` : r.code)) };
}

export async function assessForHook(
  context: HandlerContext,
  assessor: Assessor,
  overrides?: Partial<Pick<RiskFactors, 'glucocorticoids'>>,
): Promise<DeadlineOutcome> {
  const { request, logger } = context;
  const authorizedPatient = request.fhirAuthorization?.patient;
  const outcome =
    authorizedPatient !== undefined && authorizedPatient !== request.context.patientId
      ? mismatch
      : await assess(context, assessor, overrides);
  logger.info(outcome.status === 'pending' ? { outcome: 'pending' } : describe(outcome), 'assessment');
  return outcome;
}

const mismatch: DeadlineOutcome = {
  status: 'not-assessed',
  reasons: [{ code: 'patient-mismatch', detail: 'fhirAuthorization.patient is another patient than context.patientId' }],
  record: null,
};

function assess(context: HandlerContext, assessor: Assessor, overrides: Partial<Pick<RiskFactors, 'glucocorticoids'>> | undefined): Promise<DeadlineOutcome> {
  const { request, logger } = context;
  const work = assessor.assess({
    patientId: request.context.patientId,
    // Normalised, so that `…/R4` and `…/R4/` (and batch scoring) share one cache key.
    fhirServer: request.fhirServer === undefined ? null : (normalizeBaseUrl(request.fhirServer) ?? request.fhirServer),
    prefetch: context.prefetch,
    fhir: context.fhir,
    fetchKeys: context.pendingPrefetch.filter(isRecordKey),
    ...(overrides ? { overrides } : {}),
  });
  return withinDeadline(work, context.signal, (late) => {
    if (late instanceof Error) logger.error({ err: { name: late.name, message: late.message } }, 'background assessment failed');
    else logger.info({ ...describe(late), background: true }, 'assessment finished after the deadline');
  });
}
