// Every way getting a model-ready image can fail, as a reason code the assessment reports and
// records. Messages never hold URLs, tokens or patient data: they go to logs and audit records.

export type ImagingErrorCode =
  // finding the image
  | 'fhir-error'
  | 'no-eligible-study'
  | 'study-too-old'
  | 'no-dicomweb-endpoint'
  | 'endpoint-not-allowed'
  | 'no-suitable-instance'
  | 'wrong-view'
  | 'patient-mismatch'
  // talking to the PACS
  | 'pacs-timeout'
  | 'pacs-unreachable'
  | 'pacs-not-found'
  | 'pacs-auth-failed'
  | 'pacs-error'
  | 'pacs-invalid-response'
  // configured caps
  | 'too-large'
  | 'too-many-pixels'
  | 'decode-timeout'
  // the file itself
  | 'not-dicom'
  | 'truncated'
  | 'malformed'
  | 'missing-pixel-data'
  | 'pixel-data-length-mismatch'
  | 'unsupported-transfer-syntax'
  | 'unsupported-photometric'
  | 'unsupported-pixel-format'
  | 'multi-frame'
  | 'decode-failed'
  // the compute pool
  | 'busy'
  | 'worker-failed';

export class ImagingError extends Error {
  override name = 'ImagingError';
  constructor(
    readonly code: ImagingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The plain-data form that crosses worker boundaries (structured clone drops Error subclasses' fields). */
export interface ImagingFailure {
  ok: false;
  code: ImagingErrorCode;
  message: string;
}

export function toFailure(error: unknown): ImagingFailure {
  if (error instanceof ImagingError) return { ok: false, code: error.code, message: error.message };
  // Anything else thrown while parsing or decoding is a defect of the input as far as callers care;
  // the message is kept (library messages carry no patient data) to make it diagnosable.
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, code: 'decode-failed', message: `decoder failed: ${message.slice(0, 200)}` };
}

export function fromFailure(failure: ImagingFailure): ImagingError {
  return new ImagingError(failure.code, failure.message);
}
