#!/usr/bin/env bash
# The recipe tournament behind docs/colour-tournament.md (issue: colour people keep).
#   bash scripts/tournament.sh [STEP...]    steps: start RECIPE... compare (default: every recipe, then compare)
# Every recipe starts from the shipped `default` weights, trains on the same data (Imagenette train +
# photos-mix train + photos-more train at 112 px, 3% of each held out), sees the same 16,000 images
# (one cosine epoch, evenly spaced over the three sources), with the same seed, at the fast settings.
# Resumable: a recipe whose run folder holds a checkpoint continues with --resume.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-control joint-0.1 joint-0.3 joint-1.0 chroma perceptual perceptual-lo context nogan prior res-128 lite1 control-s4 chroma-nogan compare}")
steps=(${steps[@]})
source scripts/steps.sh
START=runs/shipped-default
[ -f $START/best.safetensors ] || $PY -c "from tinta.pretrained import as_run; as_run('default', '$START')"
DATA3="--dataset folder --data-root $IMNT --data-root $MIX --data-root $MORE --batch-size 32 --val-fraction 0.03 \
  --max-val 1024 --threads 2 --seed 0"
# --bins-stride 2: the default when these rows were trained (now 4, after the control-s4 A/B below)
SAME="$DATA3 --init-from $START --epochs 1 --max-train 16000 --freeze-epochs 0 --encoder-lr-mult 0.1 --lr 3e-4 --bins-stride 2"

has control && tr runs/t-control --model unet --size 112 --head joint $SAME
for w in 0.1 0.3 1.0; do
  has joint-$w && tr runs/t-joint-$w --model unet --size 112 --head joint --bins-weight $w $SAME
done
# chroma: the joint head's hue at a regressed chroma (tinta.heads.chroma), grown from the joint start
has chroma && tr runs/t-chroma --model unet --size 112 --head chroma $SAME
has perceptual && tr runs/t-perceptual --model unet --size 112 --head perceptual --loss l1 $SAME
has perceptual-lo && tr runs/t-perceptual-lo --model unet --size 112 --head perceptual --loss l1 \
  --colourfulness-weight 0.05 $SAME  # round 1's weight 0.5 overshot (CF 63 against the truth's 40)
has context && tr runs/t-context --model unet-context --size 112 --head joint $SAME
# NoGAN: a critic learns the start's colours vs the photos' (4,000 images), then 16,000 adversarial images with a
# snapshot every 2,000; best.safetensors is the snapshot picked on the training hold-out (tinta.train.nogan.pick)
has nogan && tr runs/t-nogan --model unet --size 112 --head joint $SAME --lr 1e-4 --adversarial 0.02 \
  --critic-images 4000 --snapshot-every 2000
# retrieved prior: the shipped guided model with a colour index of 4,096 training photos (tinta prior), trained
# with the index filling the global hint of pictures given none
G=runs/shipped-guided
[ -f $G/best.safetensors ] || $PY -c "from tinta.pretrained import as_run; as_run('guided', '$G')"
has prior && { [ -f $G/prior.safetensors ] || $T prior $G --data-root $IMNT $MIX $MORE --size 112; } && \
  tr runs/t-prior --model guided-unet --size 112 --head joint $SAME --init-from $G --prior $G/prior.safetensors
has res-128 && tr runs/t-res-128 --model unet --size 128 --head joint $SAME --max-train 12250
has lite1 && tr runs/t-lite1 --model unet-lite1 --size 112 --head joint $SAME
# the speed A/B: the control recipe with the bins' loss from pooled features (tinta train --bins-stride 4)
has control-s4 && tr runs/t-control-s4 --model unet --size 112 --head joint $SAME --bins-stride 4
# a combination: NoGAN's adversarial phase on the chroma run (its weights kept in the repo as kept/t-chroma)
has chroma-nogan && tr runs/t-chroma-nogan --model unet --size 112 --head chroma $SAME --init-from kept/t-chroma \
  --lr 1e-4 --adversarial 0.02 --critic-images 4000 --snapshot-every 2000
if has compare; then
  RUNS=$(for r in runs/t-*; do [ -f "$r/best.safetensors" ] && printf '%s ' "$r"; done)  # finished runs
  for set in "imagenette $IMNT --max-images 1000" "photos-mix $MIX --size 112" "photos-more $MORE --size 112"; do
    read -r name root rest <<< "$set"
    $T compare default $RUNS --baseline default --out reports/tournament-$name --split val --data-root $root \
      $rest --grid-images 12 --no-ssim | tee runs/tournament-$name.txt
  done
fi
