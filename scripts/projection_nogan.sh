#!/usr/bin/env bash
# The next lever of the colour issue (docs/colour-long-run.md, "Reading, and next", 1): NoGAN's adversarial phase
# on the projection `default` (it lowered the CF gap most in the tournament), with the shipping rule of the long run.
#   bash scripts/projection_nogan.sh [STEP...]   steps: train compare (default: both); again after a stop: it resumes
# train    a critic learns the start's colours against the photos' (4,000 images), then 16,000 adversarial images
#          (head loss + 0.02 x GAN loss, lr 1e-4), a snapshot every 2,000; best.safetensors is the snapshot picked
#          on the training hold-out (tinta.train.nogan.pick)
# compare  `tinta compare` against the shipped default on the three validation sets
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-train compare}")
steps=(${steps[@]})
source scripts/steps.sh
RUN=runs/proj-nogan
START=${START:-runs/probe-projection}  # the run `default` was packaged from
has train && tr $RUN --model unet --head chroma --chroma-target projection $WEIGHTED3 --init-from $START --epochs 1 \
  --max-train 16000 --freeze-epochs 0 --encoder-lr-mult 0.1 --lr 1e-4 --adversarial 0.02 --critic-images 4000 --snapshot-every 2000
if has compare; then
  for set in "imagenette $IMNT --max-images 1000" "photos-mix $MIX --size 112" "photos-more $MORE --size 112"; do
    read -r name root rest <<< "$set"
    $T compare default $RUN --baseline default --out reports/pnogan-$name --split val --data-root $root $rest \
      --grid-images 12 --no-ssim | tee reports/pnogan-$name.txt
  done
  $PY scripts/tournament_table.py --prefix pnogan --compact | tee reports/pnogan-table.txt
fi
