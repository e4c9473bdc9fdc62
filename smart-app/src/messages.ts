// What the app says when it has no estimate to show or something failed: a heading and a plain next
// step for each reason code (src/assessment/assessment.ts) and each API error code (the contract),
// and for a failed SMART launch. Pure.
import type { ApiErrorCode, Reason } from '../../src/api/smart-api-contract.js';

export interface Message {
  title: string;
  /** What the clinician can do about it. */
  next: string;
  /** Whether trying again may help (offers a "Try again" button). */
  retry: boolean;
}

type ReasonCode = Reason['code'];

const RETRY_LATER = 'Try again in a few minutes.';
const REPORT = 'If it keeps happening, tell the team that runs the fracture-risk service.';

const REASONS: Readonly<Record<ReasonCode, Message>> = {
  'chart-unavailable': { title: 'The chart could not be read', next: `The service could not read this patient's record from the EHR. ${RETRY_LATER}`, retry: true },
  'patient-mismatch': {
    title: "The radiograph's patient details do not match this chart",
    next: 'No estimate is made from an image that may belong to someone else. Check the imaging record with radiology.',
    retry: false,
  },
  'age-unknown': { title: 'The chart has no birth date', next: "The model needs the patient's age. Record the birth date and reopen the app.", retry: false },
  'sex-unknown': { title: "The chart does not record the patient's sex", next: 'The model needs it. Record it and reopen the app.', retry: false },
  'age-out-of-range': {
    title: "The patient's age is outside the model's population",
    next: 'The model was built for a limited age range and makes no prediction outside it. Use FRAX or clinical judgement.',
    retry: false,
  },
  'sex-out-of-range': {
    title: "The patient's sex is outside the model's population",
    next: 'The model makes no prediction outside the population it was built for. Use FRAX or clinical judgement.',
    retry: false,
  },
  'known-osteoporosis': {
    title: 'Osteoporosis is already on record',
    next: 'A screening estimate adds nothing once the diagnosis is made: follow the osteoporosis care plan.',
    retry: false,
  },
  'osteoporosis-treatment': {
    title: 'The patient is on osteoporosis treatment',
    next: 'A screening estimate adds nothing during treatment: review the treatment plan instead.',
    retry: false,
  },
  'recent-dxa': { title: 'A recent DXA is on record', next: 'Use the bone density result; a radiograph estimate adds little after a recent DXA.', retry: false },
  'no-radiograph': {
    title: 'No lumbar spine radiograph on record',
    next: 'The estimate needs a lateral lumbar spine X-ray (DX or CR). There is nothing to read for this patient.',
    retry: false,
  },
  'radiograph-too-old': {
    title: 'The latest lumbar spine radiograph is too old',
    next: 'The model reads only recent radiographs. Consider FRAX, or a DXA if indicated.',
    retry: false,
  },
  'wrong-view': { title: 'The radiograph is not a lateral view', next: 'The model reads lateral lumbar spine radiographs only.', retry: false },
  'radiograph-unreachable': {
    title: 'The radiograph cannot be reached',
    next: "The image archive holding it is not connected to the service. Ask the imaging team to add the archive's DICOMweb endpoint.",
    retry: false,
  },
  'radiograph-unavailable': { title: 'The radiograph could not be retrieved just now', next: `The image archive did not answer in time. ${RETRY_LATER}`, retry: true },
  'radiograph-unusable': { title: 'The radiograph could not be read', next: 'The image is in a form the service cannot decode. Ask radiology whether another copy exists.', retry: false },
  'model-refused': { title: "The model could not use this patient's data", next: 'A value it requires is missing or out of range; the detail below says which.', retry: false },
  'model-failed': { title: 'The model failed to run', next: `${RETRY_LATER} ${REPORT}`, retry: true },
  'assessment-failed': { title: 'The service met an unexpected problem', next: `${RETRY_LATER} ${REPORT}`, retry: true },
  pending: { title: 'The estimate is still being prepared', next: 'The radiograph is being read. Try again in a few seconds.', retry: true },
};

/** Heading and next step for a reason; an unknown code (a newer service) falls back to its detail. */
export function reasonMessage(reason: { code: string; detail: string }): Message {
  const known = Object.prototype.hasOwnProperty.call(REASONS, reason.code) ? REASONS[reason.code as ReasonCode] : undefined;
  return known ?? { title: 'No estimate was made', next: reason.detail || 'The service gave no reason.', retry: false };
}

/** Reasons that mean a deliberate choice not to screen (as opposed to something missing or failing). */
export function isSuppression(code: string): boolean {
  return code === 'known-osteoporosis' || code === 'osteoporosis-treatment' || code === 'recent-dxa';
}

export type FailureCode = ApiErrorCode | 'network' | 'timeout' | 'bad-response' | 'no-patient' | 'config';

export const SESSION_EXPIRED: Message = {
  title: 'Your session has expired or was revoked — reopen the app from the chart',
  next: "Close the app and open it again from the patient's chart.",
  retry: false,
};

const FAILURES: Readonly<Record<FailureCode, Message>> = {
  'token-rejected': SESSION_EXPIRED,
  'token-missing': SESSION_EXPIRED,
  'fhir-not-allowed': {
    title: 'This FHIR server is not configured for the service',
    next: "The fracture-risk service only reads from EHRs it has been set up for. Ask the service's administrators to add this one.",
    retry: false,
  },
  'patient-not-accessible': {
    title: "Your sign-in does not give access to this patient's record",
    next: "Reopen the app from the patient's chart, or ask for access to the record.",
    retry: false,
  },
  'fhir-unavailable': { title: 'The FHIR server could not be reached', next: `The EHR's FHIR server did not answer the service. ${RETRY_LATER}`, retry: true },
  'image-unavailable': { title: 'The radiograph could not be read again', next: RETRY_LATER, retry: true },
  'not-found': { title: 'Nothing was found', next: 'The service has nothing to show for this request. Reopen the app from the chart.', retry: false },
  busy: { title: 'The service is busy', next: 'Too many requests at once. Try again in a minute.', retry: true },
  'bad-request': { title: 'The service did not understand the request', next: `Reopen the app from the chart. ${REPORT}`, retry: false },
  internal: { title: 'The service met an unexpected error', next: `${RETRY_LATER} ${REPORT}`, retry: true },
  network: { title: 'The fracture-risk service could not be reached', next: `Check the network connection. ${RETRY_LATER}`, retry: true },
  timeout: { title: 'The service took too long to answer', next: RETRY_LATER, retry: true },
  'bad-response': { title: 'The service answered with something the app cannot read', next: `${RETRY_LATER} ${REPORT}`, retry: true },
  'no-patient': { title: 'No patient was selected', next: "Open the app from a patient's chart, or choose a patient when it asks.", retry: false },
  config: { title: "The app's configuration could not be loaded", next: `${RETRY_LATER} ${REPORT}`, retry: true },
};

export function failureMessage(code: FailureCode): Message {
  return FAILURES[code];
}

/**
 * A failed SMART launch, from fhirclient's error: an authorization error sent back in the redirect
 * (`access_denied: …`) or a failed token exchange (an HttpError whose message is
 * "400 Bad Request\nURL: …\ninvalid_grant: …"). The URL line is dropped; the OAuth error is kept.
 */
export function launchFailure(message: string): Message {
  if (/No 'state' parameter found|No state found/i.test(message)) {
    return { title: 'The app was opened without a launch', next: "Open it from the patient's chart or from the EHR's app list.", retry: false };
  }
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^URL:/i.test(l));
  const status = lines.length > 1 && /^\d{3}\b/.test(lines[0] ?? '') ? (lines.shift() as string) : undefined;
  const reason = (lines.join(' ') || status || 'unknown error').slice(0, 300);
  return {
    title: `Sign-in failed: ${reason}${status ? ` (${status})` : ''}`,
    next: 'Reopen the app from the chart. If sign-in keeps failing, tell the team that runs the EHR integration.',
    retry: false,
  };
}
