// The ONNX graph against the card: names, float32, shapes (symbolic dimensions accepted), batch axis.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSignature, type ModelSignature, type SessionMetadata, type ValueInfo } from '../../src/model/signature.js';

const signature: ModelSignature = {
  onnxFile: '/m/model.onnx',
  sha256: 'a'.repeat(64),
  image: { name: 'image', height: 32, width: 24 },
  covariates: { name: 'covariates', length: 3 },
  output: 'log_risk',
};
const tensor = (name: string, shape: (number | string)[], type = 'float32'): ValueInfo => ({ name, isTensor: true, type, shape });
const graph = (overrides: Partial<SessionMetadata> = {}): SessionMetadata => ({
  inputs: [tensor('image', ['batch', 1, 32, 24]), tensor('covariates', ['batch', 3])],
  outputs: [tensor('log_risk', ['batch', 1])],
  ...overrides,
});

describe('ONNX signature check', () => {
  it('accepts a matching graph with a dynamic batch axis, and [batch] outputs', () => {
    assert.deepEqual(checkSignature(graph(), signature), { problems: [], fixedBatch: null });
    assert.deepEqual(checkSignature(graph({ outputs: [tensor('log_risk', ['n'])] }), signature).problems, []);
  });

  it('accepts unknown shapes (nothing to compare) and a fixed batch of 1', () => {
    assert.deepEqual(checkSignature(graph({ inputs: [tensor('image', []), tensor('covariates', [])] }), signature).problems, []);
    const fixed = checkSignature(graph({ inputs: [tensor('image', [1, 1, 32, 24]), tensor('covariates', [1, 3])], outputs: [tensor('log_risk', [1, 1])] }), signature);
    assert.deepEqual(fixed, { problems: [], fixedBatch: 1 });
  });

  it('names missing and unexpected inputs and a missing output', () => {
    const { problems } = checkSignature(graph({ inputs: [tensor('pixels', ['b', 1, 32, 24]), tensor('covariates', ['b', 3])], outputs: [tensor('risk', ['b', 1])] }), signature);
    assert.deepEqual(problems, [
      'the card names input "image" but the graph\'s inputs are ["pixels","covariates"]',
      'the graph has input "pixels", which the card does not describe',
      'the card names output "log_risk" but the graph\'s outputs are ["risk"]',
    ]);
  });

  it('names wrong shapes and types', () => {
    const { problems } = checkSignature(
      graph({ inputs: [tensor('image', ['b', 1, 64, 24]), tensor('covariates', ['b', 4], 'float64')], outputs: [tensor('log_risk', ['b', 2])] }),
      signature,
    );
    assert.deepEqual(problems, [
      'input "image" has shape [b, 1, 64, 24], the card needs [batch, 1, 32, 24]',
      'input "covariates" is float64, the card needs float32',
      'input "covariates" has shape [b, 4], the card needs [batch, 3]',
      'output "log_risk" has shape [b, 2], the card needs [batch, 1]',
    ]);
  });

  it('refuses a fixed batch larger than one, and image-only graphs given covariates', () => {
    const fixed = checkSignature(graph({ inputs: [tensor('image', [4, 1, 32, 24]), tensor('covariates', [4, 3])] }), signature);
    assert.deepEqual(fixed.problems, ["the graph's batch dimension is fixed at 4; export it dynamic (or 1)"]);
    const imageOnly = checkSignature(graph(), { ...signature, covariates: null });
    assert.deepEqual(imageOnly.problems, ['the graph has input "covariates", which the card does not describe']);
  });
});
