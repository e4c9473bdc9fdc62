#!/usr/bin/python3
"""Times PyTorch eager CPU inference (torch.no_grad, eval mode) for the benchmark harness, which
compares it with onnxruntime-node on the same networks. Prints one JSON line per batch size.

  /usr/bin/python3 models/training/torch_bench.py --arch resnet18 --height 512 --width 384 --batch 1 --reps 30
  /usr/bin/python3 models/training/torch_bench.py --arch demo --weights <weights.pt> --card models/<id>/model-card.json

--arch demo rebuilds nets.DemoNet from the card (training.recipe.architecture, the covariate
feature count, the preprocessing height and width) and loads a state_dict written by
train.py --weights-out; without --weights it times the same architecture with random weights
(reported as "weights": "random"). --arch resnet18 is nets.ResNet18, the network
export_backbone.py exports. Inputs are seeded random tensors; timings exclude nothing but the
warm-up runs. --profile adds self CPU time per operator type (torch.profiler, a separate pass after
the timed runs). Each line also gives the convolution and linear multiply-accumulates of one forward
pass. Exit code 2 on bad arguments.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nets import DEFAULT_ARCHITECTURE, DemoNet, ResNet18, demo_from_card, multiply_accumulates, parameter_count  # noqa: E402


def build(args: argparse.Namespace):
    """Returns (model, n_covariates, height, width, weights label)."""
    if args.arch == "resnet18":
        torch.manual_seed(args.seed)
        return ResNet18(1, 1), 0, args.height or 512, args.width or 384, "random"
    card = json.loads(args.card.read_text()) if args.card else None
    if card:
        model = demo_from_card(card)
        spec = card["inputs"]["image"]["preprocessing"]
        height, width = args.height or spec["height"], args.width or spec["width"]
    else:
        torch.manual_seed(args.seed)
        model = DemoNet(args.covariates, DEFAULT_ARCHITECTURE)
        height, width = args.height or 256, args.width or 192
    label = "random"
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu"))
        label = "trained"
    return model, model.n_covariates, height, width, label


def operator_profile(model, inputs: tuple, reps: int) -> dict[str, float]:
    """Self CPU milliseconds per forward pass for each operator type, largest first."""
    from torch.profiler import ProfilerActivity, profile

    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(reps):
            model(*inputs)
    totals = {e.key: e.self_cpu_time_total / 1000 / reps for e in prof.key_averages()}
    return {k: round(v, 3) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def main() -> None:
    p = argparse.ArgumentParser(description="PyTorch eager CPU inference timing (JSON lines).")
    p.add_argument("--arch", required=True, choices=["demo", "resnet18"])
    p.add_argument("--card", type=Path, help="demo: model-card.json whose recipe describes the network")
    p.add_argument("--weights", type=Path, help="demo: state_dict from train.py --weights-out")
    p.add_argument("--covariates", type=int, default=12, help="demo without --card: covariate feature count")
    p.add_argument("--height", type=int, default=None, help="default: card preprocessing (demo) or 512 (resnet18)")
    p.add_argument("--width", type=int, default=None, help="default: card preprocessing (demo) or 384 (resnet18)")
    p.add_argument("--batch", default="1,8", help="batch size or comma-separated list (default 1,8)")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", action="store_true", help="also report self CPU time per operator type (torch.profiler)")
    args = p.parse_args()
    if args.arch == "resnet18" and (args.card or args.weights):
        p.error("--card and --weights apply to --arch demo only")
    try:
        batches = [int(b) for b in str(args.batch).split(",") if b.strip()]
    except ValueError:
        p.error(f"--batch must be integers, got {args.batch!r}")
    if not batches or min(batches) < 1 or args.reps < 1 or args.warmup < 0:
        p.error("--batch must be >= 1, --reps >= 1, --warmup >= 0")

    torch.set_num_threads(args.threads)
    model, n_cov, height, width, weights = build(args)
    model.eval()
    gen = torch.Generator().manual_seed(args.seed)
    for batch in batches:
        image = torch.randn(batch, 1, height, width, generator=gen)
        inputs = (image,) if args.arch == "resnet18" else (image, torch.randn(batch, n_cov, generator=gen) if n_cov else None)
        times = []
        with torch.no_grad():
            for i in range(args.warmup + args.reps):
                t0 = time.perf_counter()
                out = model(*inputs)
                elapsed = (time.perf_counter() - t0) * 1000
                if i >= args.warmup:
                    times.append(elapsed)
        assert tuple(out.shape) == (batch, 1)
        ms = np.array(times)
        extra = {"profileMs": operator_profile(model, inputs, args.reps)} if args.profile else {}
        print(json.dumps({
            "runtime": "pytorch-eager-cpu", "arch": args.arch, "weights": weights, "batch": batch,
            "height": height, "width": width, "covariates": n_cov, "parameters": parameter_count(model),
            "threads": torch.get_num_threads(), "warmup": args.warmup, "reps": args.reps,
            "medianMs": round(float(np.median(ms)), 3), "p90Ms": round(float(np.percentile(ms, 90)), 3),
            "meanMs": round(float(ms.mean()), 3), "minMs": round(float(ms.min()), 3),
            "perImageMedianMs": round(float(np.median(ms)) / batch, 3), "torch": torch.__version__,
            "multiplyAccumulates": multiply_accumulates(model, *inputs), **extra,
        }), flush=True)


if __name__ == "__main__":
    main()
