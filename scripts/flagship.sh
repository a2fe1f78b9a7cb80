#!/usr/bin/env bash
# The runs and comparisons behind docs/reports/models.md, "The default model" (and the README's Results table).
#   bash scripts/flagship.sh [STEP...]   steps: train joint compare (default: all)
# train: the regression U-Net on Imagenette train + photos-mix train (3 epochs at 112 px);
# joint: the same trunk grown to a joint regression + ab-bins head, fine-tuned on 16,000 images;
# compare: both against grey, `default` and `vivid` on Imagenette val (1,000 evenly spaced)
# and photos-mix val (all 932, centre-cropped to 112), with the Lite2 judge. Resumable.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-train joint compare}")
steps=(${steps[@]})
source scripts/steps.sh

if has train; then
  tr runs/mix-reg --model unet $MIX112 --epochs 3 --lr 1e-3 --freeze-epochs 1 --encoder-lr-mult 0.1
fi
if has joint; then
  tr runs/mix-joint --model unet $MIX112 --head joint --bins-stride 2 --init-from runs/mix-reg --epochs 1 --max-train 16000 --lr 3e-4 \
     --freeze-epochs 0 --encoder-lr-mult 0.1
fi
if has compare; then
  RUNS="vivid runs/mix-reg runs/mix-joint"
  $T compare $RUNS --baseline default --out reports/flagship-imagenette --split val --data-root $IMNT \
     --max-images 1000 --grid-images 12 | tee runs/flagship-imagenette.txt
  $T compare $RUNS --baseline default --out reports/flagship-photos --split val --data-root $MIX \
     --size 112 --grid-images 12 | tee runs/flagship-photos.txt
fi
