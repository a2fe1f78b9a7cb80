#!/usr/bin/env bash
# The next step of the colour issue (docs/colour-long-run.md, "Reading, and next"): the projection target
# trained longer, from the shipped `default` (the 16,000-image probe), 4 cosine epochs of ~58,000 images (the
# sources weighted as in the long run's part 2), lr 1e-4, each epoch kept; ~19 minutes an epoch on the 2-core CPU.
#   bash scripts/projection_run.sh [STEP...]   steps: train curve compare (default: all, in order); ship
# train    the run (again after a stop: it resumes runs/proj-long)
# curve    every kept epoch on the 512 training hold-out photos (epoch 0: the run it started from)
# compare  `tinta compare` of the shipped default and every kept epoch on the three validation sets: the run's
#          curve in validation metrics (reported, not used to pick: the candidate is the run's best.safetensors,
#          its lowest hold-out loss)
# ship     only when the rule in docs/colour-long-run.md passed (agreement at least default's, lower CF gap and
#          FD, PSNR at least grey + 0.5 dB, on each of the three sets): packaged as `default`, references and
#          the README gallery redone
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-train curve compare}")  # ship only when asked
steps=(${steps[@]})
source scripts/steps.sh
RUN=runs/proj-long
START=${START:-runs/probe-projection}  # the run `default` was packaged from (or a folder holding its weights)
has train && tr $RUN --model unet --head chroma --chroma-target projection $WEIGHTED3 --init-from $START --epochs 4 \
  --freeze-epochs 0 --encoder-lr-mult 0.1 --lr 1e-4 --keep-epochs
has curve && $PY scripts/epoch_curve.py $RUN --start $START --max-val 512 | tee reports/proj-curve.txt
if has compare; then
  $PY scripts/epoch_curve.py $RUN --as-runs runs/proj-epochs
  epochs=$(ls -d runs/proj-epochs/epoch-* | sort -t- -k3 -n)
  val3 proj default $RUN $epochs --baseline default
fi
if has ship; then
  $PY scripts/package_weights.py $RUN default \
    --report eval-val-photos-mix eval-val-imagenette2-224 eval-val-photos-more \
    --description "U-Net on ImageNet EfficientNet-Lite0, chroma head (ab regression + 251 ab bins for the hue + a \
chroma channel trained along the predicted hue), Imagenette + photos-mix + photos-more 112px, 6.8 h; any photo" \
    --command "bash scripts/projection_run.sh train" \
    --history "from runs/probe-projection (bash scripts/projection_probe.sh, 16,000 images, 5.0 min), itself from the \
long run (scripts/long_run_2.sh 75.5 min, scripts/long_run.sh 127.2 min), the tournament's chroma then NoGAN rows \
(11.2 + 20.9 min) and the joint-head default (scripts/flagship.sh, 95.7 min): 5.6 h before this run, all on the \
2-core CPU (docs/colour-long-run.md)"
  PYTHONPATH=src TINTA_CACHE=/tmp/charcache $PY tests/reference/make_reference.py
  $PY scripts/gallery.py default --out docs/img/gallery-default.jpg --data-root $MORE
fi
