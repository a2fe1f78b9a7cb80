# Shared by the scripts that rerun the figures in README.md and docs/reports/ (source it after setting steps, from the repo root):
#   T, PY              the tinta command and Python of the project's .venv
#   IMNT, MIX, CIFAR   the data archives in ../shared/data; MORE the photos-more archive built into the cache
#   WEIGHTED3          training data of the colour issue's later runs: Imagenette + photos-mix + photos-more train
#                      at 112 px, taken 2.5 / 1 / 0.5 times (--source-weight), a 3% hold-out of at most 1,024
#   MIX112             training data of the photo models: Imagenette train + photos-mix train at 112 px
#   has STEP           true when STEP was asked for on the command line
#   tr OUT ARGS...     `tinta train ARGS --out OUT`, resumed when OUT already holds a run
#   val3 PREFIX ARGS...  `tinta compare ARGS` on the three validation sets of the colour issue (Imagenette val, 1,000;
#                      photos-mix and photos-more val at 112 px) into reports/PREFIX-SET, then their table
#                      (scripts/tournament_table.py) into reports/PREFIX-table.txt
has() { for s in "${steps[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
val3() {
  local prefix=$1 set name root rest; shift
  for set in "imagenette $IMNT --max-images 1000" "photos-mix $MIX --size 112" "photos-more $MORE --size 112"; do
    read -r name root rest <<< "$set"
    $T compare "$@" --out reports/$prefix-$name --split val --data-root $root $rest --grid-images 12 --no-ssim \
      | tee reports/$prefix-$name.txt
  done
  $PY scripts/tournament_table.py --prefix $prefix --compact | tee reports/$prefix-table.txt
}
tr() { local out=$1; shift; if [ -e "$out/checkpoint" ] || [ -f "$out/state.json" ]; then $T train "$@" --out "$out" --resume; else $T train "$@" --out "$out"; fi; }

T=.venv/bin/tinta
PY=.venv/bin/python
IMNT=../shared/data/imagenette2-224.tar.gz
MIX=../shared/data/photos-mix.tar.gz
CIFAR=../shared/data/cifar10-jpeg.tar.gz
MORE="${TINTA_CACHE:-$HOME/.cache/tinta}/photos-more/photos-more.tar.gz"
MIX112="--dataset folder --data-root $IMNT --data-root $MIX --size 112 --batch-size 32 --val-fraction 0.03 --threads 2 --seed 0"
WEIGHTED3="--dataset folder --data-root $IMNT --data-root $MIX --data-root $MORE --source-weight 2.5 1 0.5 --size 112 \
  --batch-size 32 --val-fraction 0.03 --max-val 1024 --threads 2 --seed 0"
mkdir -p runs reports
