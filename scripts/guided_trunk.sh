#!/usr/bin/env bash
# `guided` rebuilt on the chroma trunk of today's `default` (docs/reports/guided.md, "On the new trunk"): the
# hint-taking U-Net with the chroma head (projection target), initialised from the run `default` was packaged
# from, fine-tuned with simulated hints on the three training sources (weighted as the default's runs).
#   bash scripts/guided_trunk.sh [STEP...]   steps: train curve compare (default: all, in order); ship
#   longer hint training from the first run: RUN=runs/guided-trunk-2 START=runs/guided-trunk EPOCHS=3 bash ...
# train    32,000 images (2 epochs of 16,000) at lr 3e-4, encoder 0.3x, 2 threads
# curve    the hints curve (benchmarks/hints_curve.py, 500 images a set) of the rebuild and of the shipped
#          `guided` (the shipped one's is deterministic: run once, kept in reports/guided-shipped.txt)
# compare  both with no hints, `tinta compare` on Imagenette val and photos-mix val (their model-card reports)
# ship     only when the rule in docs/reports/guided.md passed (PSNR at 10 and at 100 hints above the shipped
#          `guided`'s on both sets, 0 hints at most 0.3 dB under `default`): packaged as `guided`
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-train curve compare}")  # ship only when asked
steps=(${steps[@]})
source scripts/steps.sh
RUN=${RUN:-runs/guided-trunk}
START=${START:-runs/probe-projection}  # the run `default` was packaged from
EPOCHS=${EPOCHS:-2}
name=$(basename $RUN)
has train && tr $RUN --model guided-unet --head chroma --chroma-target projection $WEIGHTED3 --init-from $START \
  --epochs $EPOCHS --max-train 16000 --lr 3e-4 --freeze-epochs 0 --encoder-lr-mult 0.3
if has curve; then
  $PY benchmarks/hints_curve.py --model $RUN --max-images 500 --out reports/$name | tee reports/$name.txt
  [ -s reports/guided-shipped.txt ] || $PY benchmarks/hints_curve.py --model guided --max-images 500 \
    --out reports/guided-shipped | tee reports/guided-shipped.txt
fi
if has compare; then
  for set in "imagenette $IMNT --max-images 1000" "photos-mix $MIX --size 112"; do
    read -r set_name root rest <<< "$set"
    $T compare guided $RUN --baseline guided --out reports/$name-$set_name --split val --data-root $root $rest \
      --grid-images 8 --no-ssim | tee reports/$name-$set_name.txt
  done
fi
if has ship; then
  command="bash scripts/guided_trunk.sh train"
  history="initialised from runs/probe-projection, the run default was packaged from (5.6 h of training in its \
lineage: docs/colour-long-run.md); the hint inputs start at zero"
  if [ "$RUN" != runs/guided-trunk ]; then
    command="$command, continued run by run (kept/guided-trunk/README.md) to RUN=$RUN START=$START EPOCHS=$EPOCHS \
bash scripts/guided_trunk.sh train"
    history="$((EPOCHS * 16000)) more hint images from $START, a run of this script (kept/guided-trunk/README.md \
lists the chain); the chain's first run $history"
  fi
  $PY scripts/package_weights.py $RUN guided --report eval-val-photos-mix eval-val-imagenette2-224 \
    --description "Hint-taking U-Net (Zhang et al. 2017) on the default's chroma trunk: point hints and a \
reference photo or palette steer the colours" \
    --command "$command" --history "$history"
fi
