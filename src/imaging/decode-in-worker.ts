// Runs decode + preprocessing on the worker pool and turns every way that can fail into an
// ImagingError: the decoder's own reason codes, the time cap, a full queue, a crashed worker.
import type { ImagingLimits } from '../config.js';
import { WorkerPoolError, type WorkerPool } from '../workers/pool.js';
import { ImagingError, fromFailure, type ImagingErrorCode } from './errors.js';
import type { ExpectedPatient } from './patient-identity.js';
import type { PreprocessedImage, PreprocessingSpec } from './preprocessing.js';

const POOL_ERRORS: Record<WorkerPoolError['kind'], ImagingErrorCode> = {
  timeout: 'decode-timeout',
  busy: 'busy',
  failed: 'worker-failed',
  closed: 'worker-failed',
};

/**
 * Decodes and preprocesses one Part 10 file in a worker thread. The file's bytes are transferred,
 * not copied, when `part10` owns its whole buffer (it is unusable afterwards); otherwise they are copied.
 * With `expectedPatient`, a file of anyone else fails with 'patient-mismatch' before it is preprocessed.
 */
export async function decodeInWorker(pool: WorkerPool, part10: Uint8Array, limits: ImagingLimits, spec: PreprocessingSpec, expectedPatient?: ExpectedPatient): Promise<PreprocessedImage> {
  const owned = part10.byteOffset === 0 && part10.byteLength === part10.buffer.byteLength && part10.buffer instanceof ArrayBuffer ? part10 : part10.slice();
  let result;
  try {
    result = await pool.run('decode-preprocess', { part10: owned, limits, spec, expectedPatient }, { timeoutMs: limits.decodeTimeoutMs, transfer: [owned.buffer as ArrayBuffer] });
  } catch (error) {
    if (error instanceof WorkerPoolError) throw new ImagingError(POOL_ERRORS[error.kind], error.message);
    throw error;
  }
  if (!result.ok) throw fromFailure(result);
  return { tensor: result.tensor, record: result.record };
}
