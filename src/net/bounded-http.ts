// One outbound HTTP exchange for the FHIR and DICOMweb clients: undici's `request` (it follows no
// redirect unless told to, so a 3xx comes back as a status for the caller to refuse), a timeout
// covering the body as well as the headers, and a byte cap counted while the body streams, so an
// oversized answer is stopped at the cap instead of being buffered. Failures are TransportErrors whose
// messages hold no URL (URLs carry patient ids and UIDs); each client maps them to its own error type.
import { request, type Dispatcher } from 'undici';

export type TransportFailure = 'timeout' | 'aborted' | 'unreachable' | 'certificate' | 'too-large';

export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    readonly kind: TransportFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface OutboundRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** The caller's deadline; its abort is reported as 'aborted'. */
  signal?: AbortSignal;
  /** undici dispatcher (connection pool); the global one by default. */
  dispatcher?: Dispatcher;
}

export interface BoundedResponse {
  readonly status: number;
  header(name: string): string | undefined;
  /** The body's chunks; fails 'too-large' as soon as more than `cap` bytes are declared or have arrived. Leaving early cancels the transfer. */
  chunks(cap: number): AsyncGenerator<Uint8Array>;
  /** The whole body (at most `cap` bytes) in a fresh buffer of its own. */
  bytes(cap: number): Promise<Uint8Array>;
  /** Stops the transfer (closing the connection if the body is not finished). */
  cancel(): void;
}

// Node's and OpenSSL's names for a certificate that does not verify (untrusted issuer, wrong host, expired).
const CERTIFICATE_CODE = /^ERR_TLS_CERT|CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

function isCertificateFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CERTIFICATE_CODE.test(code)) return true;
  }
  return false;
}

function classify(error: unknown, timeout: AbortSignal, timeoutMs: number, caller: AbortSignal | undefined): TransportError {
  if (error instanceof TransportError) return error;
  if (timeout.aborted) return new TransportError('timeout', `request did not complete within ${timeoutMs} ms`);
  if (caller?.aborted) return new TransportError('aborted', 'request was aborted by its caller');
  if (isCertificateFailure(error)) return new TransportError('certificate', "the server's TLS certificate was not accepted (untrusted issuer, or issued for another host name)");
  // Refused, reset and dropped connections and malformed HTTP all mean the server could not be talked to.
  return new TransportError('unreachable', 'server could not be reached or dropped the connection');
}

/** Sends the request; resolves once the status and headers are in. Rejects only with TransportError. */
export async function send(outbound: OutboundRequest): Promise<BoundedResponse> {
  const timeout = AbortSignal.timeout(outbound.timeoutMs);
  const signal = outbound.signal ? AbortSignal.any([timeout, outbound.signal]) : timeout;
  const failure = (error: unknown): TransportError => classify(error, timeout, outbound.timeoutMs, outbound.signal);
  let answer: Dispatcher.ResponseData;
  try {
    answer = await request(outbound.url, { method: outbound.method, headers: outbound.headers, body: outbound.body, signal, dispatcher: outbound.dispatcher });
  } catch (error) {
    throw failure(error);
  }
  const header = (name: string): string | undefined => {
    const value = answer.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const cancel = (): void => {
    // Destroying an unfinished body emits an abort error that nobody else is listening for.
    answer.body.on('error', () => undefined);
    answer.body.destroy();
  };
  async function* chunks(cap: number): AsyncGenerator<Uint8Array> {
    const declared = Number(header('content-length') ?? NaN);
    try {
      if (declared > cap) throw new TransportError('too-large', `answer declares ${declared} bytes, more than the limit of ${cap}`);
      let received = 0;
      for await (const chunk of answer.body as AsyncIterable<Uint8Array>) {
        received += chunk.byteLength;
        if (received > cap) throw new TransportError('too-large', `answer exceeds the limit of ${cap} bytes`);
        yield chunk;
      }
    } catch (error) {
      throw failure(error);
    } finally {
      // A no-op after the end; before it, closes the connection so nothing more is sent.
      cancel();
    }
  }
  return {
    status: answer.statusCode,
    header,
    chunks,
    async bytes(cap) {
      const parts: Uint8Array[] = [];
      let length = 0;
      for await (const chunk of chunks(cap)) {
        parts.push(chunk);
        length += chunk.byteLength;
      }
      // A fresh buffer of exactly this size (Buffer.concat may hand out a slice of a shared pool, unsafe to transfer).
      const all = new Uint8Array(length);
      let offset = 0;
      for (const part of parts) {
        all.set(part, offset);
        offset += part.byteLength;
      }
      return all;
    },
    cancel,
  };
}
