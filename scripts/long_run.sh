#!/usr/bin/env bash
# The long run of the colour issue (docs/colour-long-run.md): the chroma head, supervised, from the
# round-3 combination (kept/t-chroma-nogan), on Imagenette + photos-mix + photos-more train at 112 px.
#   bash scripts/long_run.sh [STEP...]   steps: train choose compare curve gallery speed (default: all, in order)
# train    6 cosine epochs (~63,000 images each, ~21 min an epoch on the 2-core CPU), each epoch's weights kept
# choose   class_stride 2, decided before this run (the control's A/B on the hold-out: the same scores, a quarter
#          of the decoding; docs/colour-long-run.md) and checked here on this run's own hold-out; the
#          chroma head's mix stays 1, as in the tournament, and its hold-out scores at 0.5-1.5 are for `vivid`
# compare  `tinta compare` against the shipped default on the three validation sets (the tournament's options)
# curve    every kept epoch scored on the hold-out (scripts/epoch_curve.py), epoch 0 = the start
# gallery  docs/img/gallery-long.jpg: 24 photos-more val photos, grey | default | this run | truth
# speed    benchmarks/infer.py on this run (its class_stride as chosen) and on the shipped default
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-train choose compare curve gallery speed}")
steps=(${steps[@]})
source scripts/steps.sh
RUN=runs/long-chroma
START=kept/t-chroma-nogan
DATA3="--dataset folder --data-root $IMNT --data-root $MIX --data-root $MORE --batch-size 32 --val-fraction 0.03 \
  --max-val 1024 --threads 2 --seed 0"

has train && tr $RUN --model unet --size 112 --head chroma $DATA3 --init-from $START --epochs 6 --freeze-epochs 0 \
  --encoder-lr-mult 0.1 --lr 3e-4 --keep-epochs
if has choose; then
  $PY scripts/holdout_decodings.py $RUN --vary class_stride=1,2 --max-val 512 | tee reports/long-class-stride.txt
  $PY scripts/holdout_decodings.py $RUN --set class_stride=2
  $PY scripts/holdout_decodings.py $RUN --vary mix=0.5,1,1.5 --max-val 512 | tee reports/long-mix.txt
fi
if has compare; then
  for set in "imagenette $IMNT --max-images 1000" "photos-mix $MIX --size 112" "photos-more $MORE --size 112"; do
    read -r name root rest <<< "$set"
    seen=reports/r2-rows-$name/shipped/default  # the shipped default's scores from round 3, when still here
    [ -d $seen ] && [ ! -d reports/long-$name/shipped/default ] && mkdir -p reports/long-$name/shipped && cp -r $seen $_
    $T compare default $RUN --baseline default --out reports/long-$name --split val --data-root $root \
      $rest --grid-images 12 --no-ssim | tee reports/long-$name.txt
  done
  $PY scripts/tournament_table.py --prefix long --names long-chroma=long-run | tee reports/long-table.txt
  $PY scripts/tournament_table.py --prefix long --names long-chroma=long-run --compact | tee -a reports/long-table.txt
fi
has curve && $PY scripts/epoch_curve.py $RUN --start $START --max-val 512 | tee reports/long-curve.txt
has gallery && $PY scripts/gallery.py default $RUN --out docs/img/gallery-long.jpg --data-root $MORE
if has speed; then
  $PY benchmarks/infer.py --model $RUN --threads 2 | tee reports/long-speed.txt
  $PY benchmarks/infer.py --model default --threads 2 | tee reports/default-speed.txt
fi
