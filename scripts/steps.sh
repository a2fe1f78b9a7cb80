# Shared by the scripts that rerun the README's figures (source it after setting T and steps):
#   has STEP           true when STEP was asked for on the command line
#   tr OUT ARGS...     `tinta train ARGS --out OUT`, resumed when OUT already holds a run
has() { for s in "${steps[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
tr() { local out=$1; shift; if [ -e "$out/checkpoint" ] || [ -f "$out/state.json" ]; then $T train "$@" --out "$out" --resume; else $T train "$@" --out "$out"; fi; }
