// Worker-thread side: one onnxruntime InferenceSession per model file + sha256 + thread setting,
// created on first use and kept for the thread's life. The session is built from bytes whose hash
// was checked here, so a file replaced after start-up can never be run under the old card.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { checkSignature, type ModelSignature, type SessionMetadata, type SignatureCheck, type ValueInfo } from './signature.js';

type Ort = typeof OrtModule;

export interface CachedSession {
  session: InferenceSession;
  metadata: SessionMetadata;
  check: SignatureCheck;
}

/** A failure to create a session that callers report as this code. */
export class SessionLoadError extends Error {
  override name = 'SessionLoadError';
  constructor(
    readonly code: 'model-mismatch' | 'inference-failed',
    message: string,
  ) {
    super(message);
  }
}

// Imported on first use so that worker threads that only decode images never load the native binding.
let ort: Promise<Ort> | undefined;
const sessions = new Map<string, Promise<CachedSession>>();

export function loadOrt(): Promise<Ort> {
  ort ??= import('onnxruntime-node');
  return ort;
}

function toValueInfo(meta: InferenceSession.ValueMetadata): ValueInfo {
  return meta.isTensor ? { name: meta.name, isTensor: true, type: meta.type, shape: [...meta.shape] } : { name: meta.name, isTensor: false, type: null, shape: [] };
}

/** Session options the service runs every model with (and the inference benchmark measures). */
export function sessionOptions(intraOpThreads: number): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: intraOpThreads,
    // One graph runs at a time per thread; parallelism comes from intra-op threads and the pool.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

async function create(signature: ModelSignature, intraOpThreads: number): Promise<CachedSession> {
  const { InferenceSession } = await loadOrt();
  const bytes = await readFile(signature.onnxFile);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== signature.sha256) {
    throw new SessionLoadError('model-mismatch', `${signature.onnxFile} changed since its card was checked (sha256 ${actual}, card ${signature.sha256})`);
  }
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, sessionOptions(intraOpThreads));
  } catch (error) {
    throw new SessionLoadError('inference-failed', `onnxruntime cannot load ${signature.onnxFile}: ${(error as Error).message.slice(0, 300)}`);
  }
  const metadata = { inputs: session.inputMetadata.map(toValueInfo), outputs: session.outputMetadata.map(toValueInfo) };
  return { session, metadata, check: checkSignature(metadata, signature) };
}

/** The cached session for a model; a failed creation is forgotten so the next call retries. */
export function sessionFor(signature: ModelSignature, intraOpThreads: number): Promise<CachedSession> {
  const key = `${signature.onnxFile}\0${signature.sha256}\0${intraOpThreads}`;
  let entry = sessions.get(key);
  if (!entry) {
    entry = create(signature, intraOpThreads);
    sessions.set(key, entry);
    entry.catch(() => sessions.delete(key));
  }
  return entry;
}
