// TEST-ONLY model files built at test time (models/training/runtime_test_models.py, system PyTorch): a
// model whose output is non-finite for some inputs, and another valid ONNX file to swap in for
// tiny-cnn-cov. Built rather than committed: they matter only to the tests that build them.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './cds-app.js';

const run = promisify(execFile);
const BUILDER = join(import.meta.dirname, '..', '..', 'models', 'training', 'runtime_test_models.py');

export interface BuiltTestModels {
  /** A models directory holding `non-finite-output` (log-risk = log(mean(image)), 32 × 24, image only). */
  nonFiniteModelsDir: string;
  /** tiny-cnn-cov's graph with other weights. */
  reweightedTinyCnnCov: string;
}

export async function buildTestModels(): Promise<BuiltTestModels> {
  const out = tempDir('test-models-');
  await run('/usr/bin/python3', [BUILDER, out], { timeout: 120_000 });
  return { nonFiniteModelsDir: join(out, 'models'), reweightedTinyCnnCov: join(out, 'tiny-cnn-cov-reweighted.onnx') };
}
