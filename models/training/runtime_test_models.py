#!/usr/bin/python3
"""TEST-ONLY fixture builder: model files some tests need that are not worth committing, built at test
time by tests/helpers/test-models.ts with the system PyTorch (as tiny_test_models.py builds the
committed fixtures, whose helpers this reuses). It lives here because Python lives only in models/training/.

  <out>/models/non-finite-output/   image-only 32 x 24 model whose log-risk is log(mean(image)): finite
                                    for a positive mean, -inf for a zero mean, NaN for a negative one;
                                    with a complete, valid card (no golden pairs)
  <out>/tiny-cnn-cov-reweighted.onnx   the tiny-cnn-cov graph (same inputs, outputs and shapes) with
                                    other seeded weights: a valid ONNX file to swap in on disk

Usage: /usr/bin/python3 models/training/runtime_test_models.py <out-dir>
"""
import json
import os
import sys

import torch
from torch import nn

import tiny_test_models as fixtures


class LogMean(nn.Module):
    """log of each image's mean value, [batch, 1]: non-finite exactly when the mean is not positive."""

    def forward(self, image):
        return torch.log(image.mean(dim=(2, 3)))


def main():
    out = sys.argv[1]
    folder = os.path.join(out, "models", "non-finite-output")
    os.makedirs(folder, exist_ok=True)
    onnx = fixtures.export(LogMean(), 32, 24, 0)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(onnx)
    card = fixtures.card("non-finite-output", "Test-only model whose log-risk is log(mean(image)), non-finite for a mean <= 0.",
                         32, 24, [], onnx, False)
    card["training"] = {"data": "None: no weights (models/training/runtime_test_models.py).", "recipe": {"script": "models/training/runtime_test_models.py"}}
    with open(os.path.join(folder, "model-card.json"), "w") as f:
        json.dump(card, f, indent=2)

    torch.manual_seed(20240699)
    reweighted = fixtures.ImageCovariateNet(fixtures.tiny_trunk(), 8, len(fixtures.TINY_FEATURES), 8)
    with open(os.path.join(out, "tiny-cnn-cov-reweighted.onnx"), "wb") as f:
        f.write(fixtures.export(reweighted, 32, 24, len(fixtures.TINY_FEATURES)))


if __name__ == "__main__":
    main()
