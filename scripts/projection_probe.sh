#!/usr/bin/env bash
# A short probe of the chroma head's "projection" target (docs/colour-long-run.md): from the long run's part 2,
# 16,000 images (the three sources weighted as in part 2) at lr 5e-5, once with the chroma channel learning the
# truth's |ab| (the control) and once its projection on the predicted hue; both scored on the 512 hold-out photos
# and on Imagenette val (1,000).
#   bash scripts/projection_probe.sh [STEP...]   steps: train score (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-train score}")
steps=(${steps[@]})
source scripts/steps.sh
P="--model unet --head chroma $WEIGHTED3 \
  --init-from runs/long-chroma-2 --epochs 1 --freeze-epochs 0 --encoder-lr-mult 0.1 --lr 5e-5 --max-train 16000"
if has train; then
  tr runs/probe-length $P --chroma-target length
  tr runs/probe-projection $P --chroma-target projection
fi
if has score; then
  for run in runs/probe-length runs/probe-projection; do
    $PY scripts/holdout_decodings.py $run --set class_stride=2
    $PY scripts/holdout_decodings.py $run --vary mix=1 --max-val 512
  done | tee reports/probe-holdout.txt
  $T compare default runs/probe-length runs/probe-projection --baseline default --out reports/probe-imagenette \
    --split val --data-root $IMNT --max-images 1000 --grid-images 4 --no-ssim | tee reports/probe-imagenette.txt
fi
