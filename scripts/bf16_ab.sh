#!/usr/bin/env bash
# The colour issue's bf16 A/B (docs/colour-long-run.md): does bf16 autocast while the encoder is frozen lose
# quality? Two runs that differ only in --amp: a fresh joint-head U-Net on the ImageNet Lite0 encoder, frozen for
# its one epoch of 16,000 images (Imagenette + photos-mix train at 112), then both scored by `tinta compare` on
# Imagenette val (1,000) and photos-mix val with fp32 as the baseline.
#   bash scripts/bf16_ab.sh [STEP...]   steps: train compare (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-train compare}")
steps=(${steps[@]})
source scripts/steps.sh
AB="--model unet --head joint $MIX112 --max-train 16000 --max-val 512 --epochs 1 --freeze-epochs 1 --lr 1e-3"
if has train; then
  tr runs/ab-fp32 $AB --amp off
  tr runs/ab-bf16 $AB --amp bf16
fi
if has compare; then
  for set in "imagenette $IMNT --max-images 1000" "photos-mix $MIX --size 112"; do
    read -r name root rest <<< "$set"
    $T compare runs/ab-fp32 runs/ab-bf16 --baseline runs/ab-fp32 --out reports/ab-$name --split val --data-root $root \
      $rest --grid-images 4 --no-ssim | tee reports/ab-$name.txt
  done
fi
