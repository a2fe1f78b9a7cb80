#!/usr/bin/env bash
# Every run behind docs/reports/seeds.md (Seed 1 palette, Seed 2), docs/reports/models.md (Vivid colour,
# Speed) and docs/training-at-scale.md (throughput), in order.
# About 1 hour on a 2-core CPU. Runs and printed tables go to runs/, reports to reports/ (both ignored by git).
#   bash scripts/readme_runs.sh [STEP...]     steps: palette seed2 vivid speed trainbench (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-palette seed2 vivid speed trainbench}")
steps=(${steps[@]})
source scripts/steps.sh

if has palette; then
  $PY benchmarks/palette.py --data-root "$CIFAR" | tee runs/palette-bench.txt
  $PY benchmarks/palette_profile.py --data-root "$CIFAR" | tee runs/palette-profile.txt
  [ -f runs/palette-horse-k24.json ] || $T palette --dataset cifar10 --data-root "$CIFAR" --classes horse --k 24 --out runs/palette-horse-k24.json
fi

C="--dataset folder --data-root $IMNT --size 112 --batch-size 32 --val-fraction 0.05 --threads 2 --seed 0"
if has seed2; then
  tr runs/seed2-vanilla-cnn --model vanilla-cnn $C --epochs 2 --lr 2e-3
  tr runs/seed2-resnet --model resnet $C --epochs 2 --lr 1e-3
  tr runs/seed2-unet --model unet $C --epochs 2 --lr 1e-3 --freeze-epochs 1 --encoder-lr-mult 0.1
  $T compare runs/seed2-vanilla-cnn runs/seed2-resnet runs/seed2-unet --baseline runs/seed2-vanilla-cnn \
      --out reports/seed2 --split val --max-images 1000 | tee runs/seed2.txt
fi

if has vivid; then
  tr runs/unet-4ep --model unet $C --epochs 4 --lr 1e-3 --freeze-epochs 1 --encoder-lr-mult 0.1   # shipped as `default`
  tr runs/vivid-unet-bins --model unet $C --epochs 2 --head bins --bins-stride 2 --lr 1e-3 --freeze-epochs 1 --encoder-lr-mult 0.1
  tr runs/vivid-bins-4ep --model unet $C --epochs 4 --head bins --bins-stride 2 --lr 1e-3 --freeze-epochs 1 --encoder-lr-mult 0.1   # shipped as `vivid`
  tr runs/vivid-unet-palette --model unet $C --epochs 1 --max-train 4400 --head bins --bins-stride 2 --bins runs/palette-horse-k24.json --lr 1e-3 --freeze-epochs 1
  $T compare runs/seed2-unet runs/unet-4ep runs/vivid-unet-bins runs/vivid-bins-4ep runs/vivid-unet-palette --baseline runs/seed2-unet \
      --out reports/vivid --split val --max-images 1000 --temperatures 1 0.38 0.1 | tee runs/vivid.txt
fi

if has speed; then
  $PY benchmarks/infer.py --model default --threads 2 | tee runs/infer-bench.txt
fi

if has trainbench; then
  $PY benchmarks/train.py --data-root "$CIFAR" --nproc 2 | tee runs/train-bench.txt
fi
