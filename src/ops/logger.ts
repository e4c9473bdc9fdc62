// Structured JSON logs. Callers log only what they choose (ids, statuses, timings); redaction is the
// second line of defence should a request, header or token object ever be passed to the logger.
import { pino, type DestinationStream, type Logger } from 'pino';

const REDACT = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'access_token',
  '*.access_token',
  'fhirAuthorization',
  '*.fhirAuthorization',
  'token',
  '*.token',
  'prefetch',
  '*.prefetch',
  'context',
  '*.context',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'spine-fracture-cds' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
