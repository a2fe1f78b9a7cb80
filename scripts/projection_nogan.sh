#!/usr/bin/env bash
# The next lever of the colour issue (docs/colour-long-run.md, "Reading, and next", 1): NoGAN's adversarial phase
# on the projection `default` (it lowered the CF gap most in the tournament), with the shipping rule of the long run.
#   bash scripts/projection_nogan.sh [STEP...]   steps: train compare (default: both); again after a stop: it resumes
#   a stronger adversarial phase (round 6): RUN=runs/proj-nogan-0.1 ADV=0.1 bash scripts/projection_nogan.sh
#   then its PSNR won back: RUN=runs/proj-nogan-0.1 bash scripts/projection_nogan.sh polish, and the compare step
#   with RUN=runs/proj-nogan-0.1-polish
# train    a critic learns the start's colours against the photos' (4,000 images), then 16,000 adversarial images
#          (head loss + ADV x GAN loss, ADV 0.02 unless set; lr 1e-4), a snapshot every 2,000; best.safetensors
#          is the snapshot picked on the training hold-out (tinta.train.nogan.pick)
# polish   RUN-polish: 16,000 supervised images from RUN's picked snapshot at lr 5e-5 (the projection probe's phase)
# compare  `tinta compare` against the shipped default on the three validation sets
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-train compare}")
steps=(${steps[@]})
source scripts/steps.sh
RUN=${RUN:-runs/proj-nogan}
ADV=${ADV:-0.02}
START=${START:-runs/probe-projection}  # the run `default` was packaged from
has train && tr $RUN --model unet --head chroma --chroma-target projection $WEIGHTED3 --init-from $START --epochs 1 \
  --max-train 16000 --freeze-epochs 0 --encoder-lr-mult 0.1 --lr 1e-4 --adversarial $ADV --critic-images 4000 --snapshot-every 2000
has polish && tr $RUN-polish --model unet --head chroma --chroma-target projection $WEIGHTED3 --init-from $RUN \
  --epochs 1 --max-train 16000 --freeze-epochs 0 --encoder-lr-mult 0.1 --lr 5e-5
has compare && val3 $(basename $RUN) default $RUN --baseline default
