// The demonstration model's preprocessing block: the default for `synth`, which makes the cohort the
// demo model is trained on (the training script copies it from cohort.json into the model card).
import spec from '../../models/training/demo-preprocessing.json' with { type: 'json' };
import { parsePreprocessingSpec, type PreprocessingSpec } from '../imaging/preprocessing.js';

export const DEMO_PREPROCESSING: PreprocessingSpec = parsePreprocessingSpec(spec);
