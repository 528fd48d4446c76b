#!/bin/sh
# Run one libFuzzer target for a bounded time.  The working corpus starts
# from the target's own corpus plus the shared-corpus seeds and lives under
# build/fuzz/corpus/TARGET; a crash leaves its reproducer in
# build/fuzz/crashes/TARGET — commit it to test/fuzz/regression/TARGET with the fix.
# usage: test/fuzz/run.sh BINARY TARGET SECONDS
set -eu
bin=$1 t=$2 secs=$3
corpus=${FHIRGATE_CORPUS:-../shared/corpus}
work=build/fuzz/corpus/$t crashes=build/fuzz/crashes/$t
mkdir -p "$work" "$crashes"
seeds=$(sed -n 's/.*seeds: *\(.*\)\*\/.*/\1/p' "test/fuzz/fuzz_$t.c" | head -n 1)
for d in "test/fuzz/corpus/$t" "test/fuzz/regression/$t"; do
    [ -d "$d" ] && cp -f "$d"/* "$work"/ 2>/dev/null || :
done
for s in $seeds; do
    [ -e "$corpus/$s" ] && find "$corpus/$s" -maxdepth 1 -type f ! -name 'PROVENANCE.md' \
        -exec cp -f {} "$work"/ \; || :
done
dict=""
[ -f "test/fuzz/dict/$t.dict" ] && dict="-dict=test/fuzz/dict/$t.dict"
echo "== fuzz $t for ${secs}s"
"$bin" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$crashes/" $dict "$work"
