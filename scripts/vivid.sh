#!/usr/bin/env bash
# `vivid` as the `default` network decoded with more colour (docs/colour-long-run.md, "vivid"): the chroma
# head's mix (how far the colour moves from the joint head's length to the chroma channel's; 0: the joint
# head's own length).
#   bash scripts/vivid.sh [STEP...]   steps: choose compare (default: both); ship
# choose   the mix on the 512 training hold-out photos: the one with the lowest CF gap (the most colour towards
#          the photos') whose judge agreement is at least mix 1's (the default's) and whose PSNR stays 0.5 dB over
#          grey's. (First written as "the largest mix above 1": past 1 the colour turned out shorter, since
#          `default`'s chroma channel is mostly shorter than the joint head's length, so the values below 1
#          were scored too; on the hold-out only.)
# compare  `tinta compare` of default, the old vivid and the chosen mix on the three validation sets (the
#          shipped models' scores from `projection_run.sh compare` reused when there)
# ship     only when, on each set, the chosen mix has a lower CF gap than `default` and at least the old
#          `vivid`'s judge agreement: registered as `vivid` (no weights of its own: the default's, decoded so).
#          Written before the validation scores were seen: should the mix also pass `default`'s own shipping rule
#          (docs/colour-long-run.md: agreement at least default's, lower CF gap and FD, PSNR 0.5 dB over grey,
#          on every set), it becomes `default`'s decoding instead and `vivid` retires.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-choose compare}")  # ship only when asked
steps=(${steps[@]})
source scripts/steps.sh
NET=${NET:-runs/probe-projection}  # the run `default` was packaged from
OUT=runs/vivid-mix
if has choose; then
  mkdir -p $OUT && cp $NET/config.json $NET/best.safetensors $OUT/
  $PY scripts/holdout_decodings.py $OUT --vary mix=1,0,0.5,1.5,2,3 --max-val 512 --json reports/vivid-mix.json \
    | tee reports/vivid-mix.txt
  $PY -c "import json; d = json.load(open('reports/vivid-mix.json')); one = d['rows'][0]
ok = [r for r in d['rows'] if r['agree'] >= one['agree'] and r['psnr'] >= d['grey']['psnr'] + 0.5]
print(f\"{min(ok, key=lambda r: r['cf_gap'])['mix']:g}\")" | tee reports/vivid-choice.txt
  $PY scripts/holdout_decodings.py $OUT --set mix=$(cat reports/vivid-choice.txt)
fi
if has compare; then
  for name in imagenette photos-mix photos-more; do  # the shipped default's evaluations, when already made
    [ -d reports/proj-$name/shipped ] && [ ! -d reports/vivid-$name/shipped ] && mkdir -p reports/vivid-$name \
      && cp -r reports/proj-$name/shipped reports/vivid-$name/
  done
  val3 vivid default vivid $OUT --baseline default
fi
if has ship; then
  $PY scripts/register_vivid.py --mix "$(cat reports/vivid-choice.txt)" --reports $OUT
fi
