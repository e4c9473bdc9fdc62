#!/usr/bin/python3
"""Exports an UNTRAINED ResNet-18 (nets.ResNet18: BasicBlock [2, 2, 2, 2], 1 input channel, 1 output)
to ONNX, for the inference benchmark only (bench/ compares onnxruntime-node with PyTorch eager,
torch_bench.py, on the same architecture). Weights are seeded random; BatchNorm in eval mode.

  /usr/bin/python3 models/training/export_backbone.py --out /tmp/resnet18-512x384.onnx

Input `image` [B, 1, H, W] float32 (dynamic batch), output `log_hazard_ratio` [B, 1].
Prints one JSON line describing the file.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nets import ResNet18, parameter_count  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, type=Path, help="ONNX file to write")
    p.add_argument("--height", type=int, default=512)
    p.add_argument("--width", type=int, default=384)
    p.add_argument("--opset", type=int, default=13)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    model = ResNet18(1, 1).eval()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    axes = {"image": {0: "batch"}, "log_hazard_ratio": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(model, (torch.zeros(1, 1, args.height, args.width),), str(args.out),
                          input_names=["image"], output_names=["log_hazard_ratio"], dynamic_axes=axes,
                          opset_version=args.opset, do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL)
    data = args.out.read_bytes()
    print(json.dumps({
        "file": str(args.out), "arch": "resnet18", "height": args.height, "width": args.width, "opset": args.opset,
        "parameters": parameter_count(model), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "seed": args.seed, "trained": False, "torch": torch.__version__,
    }), flush=True)


if __name__ == "__main__":
    main()
