// Errors are data: every refusal the engine gives is an OperationOutcome with an HTTP status.
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';

export type IssueCode = OperationOutcomeIssue['code'];

export function operationOutcome(code: IssueCode, diagnostics: string, expression?: string[]): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity: 'error', code, diagnostics };
  if (expression && expression.length > 0) issue.expression = expression;
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

/** An error that carries the HTTP status and the OperationOutcome to answer with. */
export class OutcomeError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
  ) {
    super(outcome.issue[0]?.diagnostics ?? `HTTP ${status}`);
    this.name = 'OutcomeError';
  }
}

export const badRequest = (message: string, expression?: string[]): OutcomeError =>
  new OutcomeError(400, operationOutcome('invalid', message, expression));

/** Deliberately detail-free: a client that fails authentication learns nothing about why. */
export const unauthorized = (): OutcomeError => new OutcomeError(401, operationOutcome('login', 'Unauthorized'));

export const notFound = (message: string): OutcomeError => new OutcomeError(404, operationOutcome('not-found', message));

export const preconditionFailed = (message: string): OutcomeError =>
  new OutcomeError(412, operationOutcome('processing', message));

/** The caller sets the `Allow` header; the outcome says the same. */
export const methodNotAllowed = (allowed: readonly string[]): OutcomeError =>
  new OutcomeError(405, operationOutcome('not-supported', `Method not allowed here; allowed: ${allowed.join(', ')}`));

export const payloadTooLarge = (message: string): OutcomeError => new OutcomeError(413, operationOutcome('too-long', message));

export const unsupportedMediaType = (message: string): OutcomeError =>
  new OutcomeError(415, operationOutcome('not-supported', message));

/** Unknown failures are ours, not the client's: 500, and never a stack trace in the body. */
export const internalError = (): OutcomeError => new OutcomeError(500, operationOutcome('exception', 'Internal server error'));

export const serviceUnavailable = (message: string): OutcomeError =>
  new OutcomeError(503, operationOutcome('transient', message));
