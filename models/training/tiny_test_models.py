#!/usr/bin/python3
"""Exports the tiny deterministic test models the model runtime's tests run.

Each model gets a folder under tests/fixtures/models/<id>/ holding model.onnx, a complete valid
model-card.json and (for the small ones) golden input/output pairs in the format documented in
src/model/README.md. The weights are seeded random numbers: these models predict nothing; they exist
so the runtime, the card loader and the parity test are exercised end to end with a real ONNX file.

  tiny-cnn-cov     32 x 24 image + 7 covariates (every transform and missing rule), golden pairs
  tiny-image-only  32 x 24 image only (inputs.covariates = null), golden pairs
  heavy-test       512 x 384 image + 2 covariates, a few full-resolution convolutions so that one
                   inference takes well over 100 ms: the event-loop test needs inference that would
                   visibly block a thread. ~330 KB on disk, no golden pairs (they would weigh MBs).

Run from the repository root with the system Python that has PyTorch (not a pyenv shim):
  /usr/bin/python3 models/training/tiny_test_models.py [output-dir]
"""
import hashlib
import io
import json
import math
import os
import sys

import numpy as np
import torch
from torch import nn

torch.set_num_threads(2)

OPSET = 13
PREPROCESSING_BASE = {
    "voi": {"mode": "window-else-percentile", "lowPercentile": 1, "highPercentile": 99},
    "borderCrop": 0.02,
    "padValue": 0,
    "normalisation": {"mean": 0.5, "std": 0.25},
}

# The card's covariate contract for tiny-cnn-cov: one feature per transform and missing rule.
TINY_FEATURES = [
    {"name": "age", "factor": "age", "transform": {"kind": "standardize", "mean": 62, "sd": 7, "clip": [40, 90]}, "missing": {"rule": "refuse"}},
    {"name": "female", "factor": "female", "transform": {"kind": "identity"}, "missing": {"rule": "refuse"}},
    {"name": "bmi", "factor": "bmi", "transform": {"kind": "standardize", "mean": 25, "sd": 4, "clip": [12, 50]}, "missing": {"rule": "impute", "value": 0}},
    {"name": "priorFragilityFracture", "factor": "priorFragilityFracture", "transform": {"kind": "identity"}, "missing": {"rule": "impute", "value": 0}},
    {"name": "glucocorticoids", "factor": "glucocorticoids", "transform": {"kind": "identity"}, "missing": {"rule": "impute", "value": 0}},
    {"name": "femoralNeckTScore", "factor": "femoralNeckTScore", "transform": {"kind": "standardize", "mean": -1.2, "sd": 1.0}, "missing": {"rule": "impute", "value": 0}},
    {"name": "femoralNeckTScoreMissing", "factor": "femoralNeckTScore", "transform": {"kind": "is-missing"}, "missing": {"rule": "impute", "value": 1}},
]

HEAVY_FEATURES = [
    {"name": "age", "factor": "age", "transform": {"kind": "standardize", "mean": 62, "sd": 7}, "missing": {"rule": "refuse"}},
    {"name": "female", "factor": "female", "transform": {"kind": "identity"}, "missing": {"rule": "impute", "value": 0.74}},
]

# Golden cases: complete records, and records with each imputable factor missing.
GOLDEN_FACTORS = [
    {"age": 58, "sex": "female", "weightKg": 61, "heightCm": 158, "priorFragilityFracture": False, "parentHipFracture": False,
     "currentSmoking": False, "glucocorticoids": False, "rheumatoidArthritis": False, "secondaryOsteoporosis": False, "alcohol": False,
     "femoralNeckTScore": -1.8},
    {"age": 93, "sex": "male", "weightKg": 80, "heightCm": None, "priorFragilityFracture": True, "parentHipFracture": None,
     "currentSmoking": True, "glucocorticoids": None, "rheumatoidArthritis": None, "secondaryOsteoporosis": None, "alcohol": None,
     "femoralNeckTScore": None},
    {"age": 66.5, "sex": "female", "weightKg": 45, "heightCm": 170, "priorFragilityFracture": None, "parentHipFracture": True,
     "currentSmoking": None, "glucocorticoids": True, "rheumatoidArthritis": False, "secondaryOsteoporosis": True, "alcohol": False,
     "femoralNeckTScore": -3.1},
    {"age": 51, "sex": "male", "weightKg": None, "heightCm": 181, "priorFragilityFracture": False, "parentHipFracture": None,
     "currentSmoking": False, "glucocorticoids": False, "rheumatoidArthritis": None, "secondaryOsteoporosis": None, "alcohol": True,
     "femoralNeckTScore": 0.4},
]


def factor_value(factors, name):
    """Same numeric encoding as src/model/risk-factors.ts factorValue."""
    if name == "female":
        return None if factors["sex"] is None else (1.0 if factors["sex"] == "female" else 0.0)
    if name == "bmi":
        w, h = factors["weightKg"], factors["heightCm"]
        return None if w is None or h is None or h <= 0 else w / (h / 100) ** 2
    value = factors[name]
    if value is None:
        return None
    return float(value) if not isinstance(value, bool) else (1.0 if value else 0.0)


def feature_value(feature, factors):
    """Same semantics as src/model/covariates.ts: transform, else the missing rule."""
    raw = factor_value(factors, feature["factor"])
    transform = feature["transform"]
    if transform["kind"] == "is-missing":
        return 1.0 if raw is None else 0.0
    if raw is None:
        if feature["missing"]["rule"] == "refuse":
            raise ValueError(f"golden case lacks {feature['factor']}, which the card refuses to impute")
        return float(feature["missing"]["value"])
    if transform["kind"] == "identity":
        return raw
    lo, hi = transform.get("clip", [-math.inf, math.inf])
    return (min(max(raw, lo), hi) - transform["mean"]) / transform["sd"]


class ImageCovariateNet(nn.Module):
    def __init__(self, trunk, trunk_features, n_covariates, hidden):
        super().__init__()
        self.trunk = trunk
        self.head = nn.Sequential(nn.Linear(trunk_features + n_covariates, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.n_covariates = n_covariates

    def forward(self, image, covariates=None):
        x = self.trunk(image).flatten(1)
        if self.n_covariates:
            x = torch.cat([x, covariates], dim=1)
        return self.head(x)


def tiny_trunk():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
    )


def heavy_trunk():
    # Full-resolution convolutions dominate the cost (~12 GMAC per image) with few weights (~80 k).
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.AvgPool2d(4),
        nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
    )


def export(model, height, width, n_covariates):
    model.eval()
    image = torch.zeros(2, 1, height, width)
    names = ["image"] + (["covariates"] if n_covariates else [])
    args = (image, torch.zeros(2, n_covariates)) if n_covariates else (image,)
    axes = {name: {0: "batch"} for name in names + ["log_risk"]}
    buffer = io.BytesIO()
    torch.onnx.export(model, args, buffer, opset_version=OPSET, input_names=names, output_names=["log_risk"],
                      dynamic_axes=axes, do_constant_folding=True)
    return buffer.getvalue()


def baseline():
    # A plausible Breslow step function: quarterly grid over 10 years, H0(10) ~ 0.08.
    times = [round(0.25 * k, 2) for k in range(1, 41)]
    hazard = [round(0.004 * t ** 1.3, 6) for t in times]
    return {"method": "breslow", "times": times, "cumulativeHazard": hazard}


def card(model_id, description, height, width, features, onnx, golden):
    result = {
        "schemaVersion": 1,
        "id": model_id,
        "version": "0.0.1-test",
        "name": f"Test fixture {model_id}",
        "description": description,
        "artifact": {"file": "model.onnx", "sha256": hashlib.sha256(onnx).hexdigest(), "opset": OPSET,
                     "producer": f"pytorch {torch.__version__}"},
        "intendedUse": {
            "status": "demonstration",
            "statement": "Test fixture with seeded random weights. It predicts nothing; never use it for patients.",
            "population": {"minAge": 50, "maxAge": 90, "sexes": ["female", "male"]},
            "outcome": "incident vertebral fracture",
            "timeUnit": "year",
        },
        "inputs": {
            "image": {"name": "image", "view": "lateral", "bodyPart": "lumbar spine",
                      "preprocessing": {"height": height, "width": width, **PREPROCESSING_BASE}},
            "covariates": {"name": "covariates", "features": features} if features else None,
        },
        "output": {"name": "log_risk", "meaning": "log-hazard-ratio"},
        "baseline": baseline(),
        "horizons": [1, 2, 5, 10],
        "riskBands": {"horizon": 5, "bands": [
            {"name": "low", "label": "Low", "below": 0.03},
            {"name": "moderate", "label": "Moderate", "below": 0.1},
            {"name": "high", "label": "High"},
        ]},
        "training": {"data": "None: seeded random weights (models/training/tiny_test_models.py).",
                     "recipe": {"script": "models/training/tiny_test_models.py", "seed": 20240601}},
        "evaluation": {},
    }
    if golden:
        result["golden"] = {"file": "golden.json"}
    return result


def golden_images(n, height, width, generator):
    """Smooth structured images plus noise, in display units [0, 1], then normalised as the card says."""
    rows = torch.linspace(0, 1, height).view(height, 1)
    cols = torch.linspace(0, 1, width).view(1, width)
    images = []
    for k in range(n):
        display = 0.5 + 0.3 * torch.sin((k + 1) * 3.1 * rows + (k + 2) * 1.7 * cols) + 0.05 * torch.randn(height, width, generator=generator)
        images.append(display.clamp(0, 1))
    norm = PREPROCESSING_BASE["normalisation"]
    return ((torch.stack(images) - norm["mean"]) / norm["std"]).unsqueeze(1)


def write_model(out_dir, model_id, description, model, height, width, features, with_golden):
    folder = os.path.join(out_dir, model_id)
    os.makedirs(folder, exist_ok=True)
    onnx = export(model, height, width, len(features))
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(onnx)
    with open(os.path.join(folder, "model-card.json"), "w") as f:
        json.dump(card(model_id, description, height, width, features, onnx, with_golden), f, indent=2)
        f.write("\n")
    if not with_golden:
        return
    generator = torch.Generator().manual_seed(7)
    images = golden_images(len(GOLDEN_FACTORS), height, width, generator)
    vectors = torch.tensor([[feature_value(feat, factors) for feat in features] for factors in GOLDEN_FACTORS], dtype=torch.float32)
    with torch.no_grad():
        log_risk = model(images, vectors) if features else model(images)
    images.numpy().astype("<f4").tofile(os.path.join(folder, "golden-images.f32"))
    golden = {
        "images": {"file": "golden-images.f32", "shape": list(images.shape)},
        "cases": [
            {"factors": factors, "covariateVector": [float(v) for v in vectors[i]] if features else [], "logRisk": float(log_risk[i, 0])}
            for i, factors in enumerate(GOLDEN_FACTORS)
        ],
    }
    with open(os.path.join(folder, "golden.json"), "w") as f:
        json.dump(golden, f, indent=2)
        f.write("\n")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/models"
    torch.manual_seed(20240601)
    tiny = ImageCovariateNet(tiny_trunk(), 8, len(TINY_FEATURES), 8)
    write_model(out_dir, "tiny-cnn-cov", "Tiny CNN + covariates test fixture (32 x 24).", tiny, 32, 24, TINY_FEATURES, True)
    torch.manual_seed(20240602)
    image_only = ImageCovariateNet(tiny_trunk(), 8, 0, 8)
    write_model(out_dir, "tiny-image-only", "Tiny image-only test fixture (32 x 24).", image_only, 32, 24, [], True)
    torch.manual_seed(20240603)
    heavy = ImageCovariateNet(heavy_trunk(), 32, len(HEAVY_FEATURES), 16)
    write_model(out_dir, "heavy-test", "Compute-heavy test fixture (512 x 384) for event-loop tests.", heavy, 512, 384, HEAVY_FEATURES, False)
    print(f"wrote tiny-cnn-cov, tiny-image-only, heavy-test under {out_dir}")


if __name__ == "__main__":
    main()
