#!/usr/bin/env bash
# The run and measurements behind docs/reports/guided.md (and the no-hint figures in the README's models table).
#   bash scripts/guided.sh [STEP...]   steps: train curve reference (default: all)
# train: the hint-taking U-Net (guided-unet), initialised from the joint default (runs/mix-joint, see
#        scripts/flagship.sh), fine-tuned with simulated hints on Imagenette train + photos-mix train at 112 px;
# curve: PSNR / CF gap against the number of hints (0..100) on Imagenette val and photos-mix val;
# reference: learned global hint vs statistics transfer on pairs of similar validation photos. Resumable.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-train curve reference}")
steps=(${steps[@]})
source scripts/steps.sh

if has train; then
  tr runs/guided --model guided-unet $MIX112 --head joint --bins-stride 2 --init-from runs/mix-joint --epochs 2 --max-train 16000 \
     --lr 3e-4 --freeze-epochs 0 --encoder-lr-mult 0.3 --channels-last --threads 1  # 1 thread: steady beside other work
fi
if has curve; then
  $PY benchmarks/hints_curve.py --model runs/guided --max-images 500 --out reports/guided
fi
if has reference; then
  $PY benchmarks/reference_colours.py --model runs/guided --pairs 300 --out reports/guided
fi
