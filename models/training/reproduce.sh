#!/usr/bin/env bash
# Reproduces the demonstration model and its evaluation report from nothing but this repository:
#   1. a synthetic training cohort (seed 1001, 10,000 patients) through the service's own DICOM decode
#      and preprocessing,
#   2. the DeepSurv CNN (image + clinical) → models/spine-deepsurv-demo/ (ONNX, card, golden pairs),
#      and an image-only DeepSurv for the comparison (kept in the work directory, not committed),
#   3. a held-out test cohort from a seed never used in training (2002, 5,000 patients), preprocessed
#      with the model card's own block,
#   4. `evaluate`: both networks through the real runtime, the oracle and the study's Cox comparators
#      → models/spine-deepsurv-demo/evaluation.{json,md}, and the figures into the card.
# About 1.5 hours on 2 cores. `--smoke` runs the same steps on tiny cohorts and one short epoch into
# the work directory only (the CI test does this); it proves the pipeline, not the model.
#
#   models/training/reproduce.sh [--smoke] [--work DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."

smoke=false
work=${TMPDIR:-/tmp}/spine-cds-reproduce
while (($# > 0)); do
  case "$1" in
    --smoke) smoke=true ;;
    --work) work=$2; shift ;;
    *) echo "usage: $0 [--smoke] [--work DIR]" >&2; exit 2 ;;
  esac
  shift
done

python=/usr/bin/python3
if ! "$python" -c 'import torch, numpy' 2>/dev/null; then
  echo "PyTorch is missing: apt-get install python3-torch python3-numpy (Debian's, run with /usr/bin/python3)" >&2
  exit 1
fi
cli=(node --import tsx src/main.ts)
id=spine-deepsurv-demo
if $smoke; then
  train_count=240 test_count=120 model_dir=$work/$id train_flags=(--smoke)
else
  train_count=10000 test_count=5000 model_dir=models/$id train_flags=(--epochs 20 --patience 5)
fi
mkdir -p "$work"

"${cli[@]}" synth --seed 1001 --count "$train_count" --out "$work/train"
"$python" models/training/train.py --train "$work/train" --out "$model_dir" --id "$id" "${train_flags[@]}"
"$python" models/training/train.py --train "$work/train" --out "$work/$id-image-only" --id "$id-image-only" --image-only "${train_flags[@]}"
"${cli[@]}" synth --seed 2002 --count "$test_count" --card "$model_dir/model-card.json" --out "$work/test"
"${cli[@]}" evaluate --cohort "$work/test" --train-cohort "$work/train" \
  --model "$model_dir" --model "$work/$id-image-only" \
  --json "$model_dir/evaluation.json" --markdown "$model_dir/evaluation.md" --update-card \
  --title "Evaluation of $id on a held-out synthetic cohort"
"${cli[@]}" model-check "$model_dir"
