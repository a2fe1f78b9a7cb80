#!/usr/bin/env bash
# The next step of the colour issue (docs/colour-long-run.md, "Reading, and next"): the projection target
# trained longer, from the shipped `default` (the 16,000-image probe), 4 cosine epochs of ~58,000 images (the
# sources weighted as in the long run's part 2), lr 1e-4, each epoch kept; ~20 minutes an epoch on the 2-core CPU.
#   bash scripts/projection_run.sh        (again after a stop: it resumes)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=(train)
source scripts/steps.sh
MORE="${TINTA_CACHE:-$HOME/.cache/tinta}/photos-more/photos-more.tar.gz"
START=${START:-runs/probe-projection}  # the run `default` was packaged from (or a folder holding its weights)
tr runs/proj-long --model unet --head chroma --chroma-target projection --dataset folder --data-root $IMNT \
  --data-root $MIX --data-root $MORE --source-weight 2.5 1 0.5 --size 112 --batch-size 32 --val-fraction 0.03 \
  --max-val 1024 --threads 2 --seed 0 --init-from $START --epochs 4 --freeze-epochs 0 --encoder-lr-mult 0.1 \
  --lr 1e-4 --keep-epochs
