#!/usr/bin/env bash
# The long run of the colour issue, part 2 (docs/colour-long-run.md): a new cosine schedule from part 1's best
# epoch (kept/long-chroma), the sources reweighted so Imagenette is no longer the smallest share of an epoch.
#   bash scripts/long_run_2.sh [STEP...]   steps: train choose compare curve (default: all, in order)
# train    4 cosine epochs at lr 1.5e-4 (half of part 1's: the weights are already trained); each epoch takes
#          Imagenette train 2.5 times, photos-mix once and an evenly spread half of photos-more (~58,000
#          images, ~40% / 30% / 30%, where part 1 was 14% / 27% / 59%)
# choose   class_stride 2 as in part 1; the mix on the hold-out (the same 512 photos as the tournament's)
# compare  `tinta compare` against the shipped default on the three validation sets (the tournament's options)
# curve    every kept epoch scored on the hold-out, epoch 0 = part 1's best
# ship     only when the rule in docs/colour-long-run.md passed: the run packaged as `default` (its three
#          validation reports on the card), the characterisation references and the README gallery redone
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-train choose compare curve}")  # ship only when asked
steps=(${steps[@]})
source scripts/steps.sh
RUN=runs/long-chroma-2
START=kept/long-chroma

has train && tr $RUN --model unet --head chroma $WEIGHTED3 --init-from $START --epochs 4 --freeze-epochs 0 \
  --encoder-lr-mult 0.1 --lr 1.5e-4 --keep-epochs
if has choose; then
  $PY scripts/holdout_decodings.py $RUN --set class_stride=2
  $PY scripts/holdout_decodings.py $RUN --vary mix=0.75,1,1.25 --max-val 512 | tee reports/long2-mix.txt
fi
if has compare; then
  for set in "imagenette $IMNT --max-images 1000" "photos-mix $MIX --size 112" "photos-more $MORE --size 112"; do
    read -r name root rest <<< "$set"
    seen=reports/long-$name/shipped  # the default's scores from part 1, when still here (runs keep their own)
    [ -d $seen ] && [ ! -d reports/long2-$name/shipped ] && mkdir -p reports/long2-$name && cp -r $seen $_/
    $T compare default runs/long-chroma $RUN --baseline default --out reports/long2-$name --split val \
      --data-root $root $rest --grid-images 12 --no-ssim | tee reports/long2-$name.txt
  done
  $PY scripts/tournament_table.py --prefix long2 --names long-chroma=part-1 long-chroma-2=part-2 --compact \
    | tee reports/long2-table.txt
fi
has curve && $PY scripts/epoch_curve.py $RUN --start $START --max-val 512 | tee reports/long2-curve.txt
if has ship; then
  $PY scripts/package_weights.py $RUN default \
    --report eval-val-photos-mix eval-val-imagenette2-224 eval-val-photos-more \
    --description "U-Net on ImageNet EfficientNet-Lite0, chroma head (ab regression + its chroma + 251 ab bins), \
Imagenette + photos-mix + photos-more 112px, 5.3 h on a 2-core CPU; any photo" \
    --command "bash scripts/long_run_2.sh train (from kept/long-chroma: bash scripts/long_run.sh train, 6 epochs \
2.12 h from kept/t-chroma-nogan; then 4 epochs with --source-weight 2.5 1 0.5 --lr 1.5e-4)"
  PYTHONPATH=src TINTA_CACHE=/tmp/charcache $PY tests/reference/make_reference.py
  $PY scripts/gallery.py default --out docs/img/gallery-default.jpg --data-root $MORE
fi
