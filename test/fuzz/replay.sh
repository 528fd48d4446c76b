#!/bin/sh
# Replay one fuzz target's inputs: its own corpus, every regression case, and
# the seed folders of the shared corpus named on the target's "seeds:" line.
# usage: test/fuzz/replay.sh BINARY TARGET
set -eu
bin=$1 t=$2
corpus=${FHIRGATE_CORPUS:-../shared/corpus}
seeds=$(sed -n 's/.*seeds: *\(.*\)\*\/.*/\1/p' "test/fuzz/fuzz_$t.c" | head -n 1)
set -- "test/fuzz/corpus/$t" "test/fuzz/regression/$t"
for s in $seeds; do set -- "$@" "$corpus/$s"; done
printf 'replay %-14s ' "$t"
"$bin" "$@"
