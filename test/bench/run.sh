#!/bin/sh
# make bench: run every benchmark script and print one table.
#
# A benchmark is an executable test/bench/bench_<name>.sh.  It runs its own
# warm-up and repetitions, measures the peer in the same run, and prints one
# line per figure to stdout:
#   BENCH {"name":"…","unit":"MB/s","ours":123.4,"spread":2.1,
#          "peer":{"name":"ajv 8 (node)","value":10.2},"ratio":12.1,
#          "goal":">= 10x peer","goal_met":true}
# (peer may be null; spread is the relative spread in percent of the runs).
# Other output goes to stderr.  The table is also written as a JSON array
# to var/bench/latest.json.
#   BENCH_ONLY=name[,name]  run only those benchmarks
set -eu
cd "$(dirname "$0")/../.."
out=var/bench
mkdir -p "$out"
lines=$out/lines.txt
: >"$lines"
make --no-print-directory -j2 all bench-programs >&2
fail=0
for s in test/bench/bench_*.sh; do
    [ -x "$s" ] || continue
    n=$(basename "$s" .sh); n=${n#bench_}
    if [ -n "${BENCH_ONLY:-}" ] && ! echo ",$BENCH_ONLY," | grep -q ",$n,"; then continue; fi
    echo "== bench $n" >&2
    if ! "$s" | tee -a "$out/$n.log" | sed -n 's/^BENCH //p' >>"$lines"; then
        echo "bench $n: FAILED" >&2; fail=1
    fi
done
jq -s '.' "$lines" >"$out/latest.json"
printf '%-44s %14s %8s %24s %9s %7s\n' benchmark ours spread peer ratio goal
jq -r '.[] | [ .name, ((.ours|tostring) + " " + .unit), ((.spread // 0 | tostring) + "%"),
  (if .peer then (.peer.name + " " + (.peer.value|tostring)) else "-" end),
  (if .ratio then (.ratio|tostring) else "-" end),
  (if .goal_met then "met" else "MISSED" end) ] | @tsv' "$out/latest.json" |
  while IFS="$(printf '\t')" read -r a b c d e f; do
    printf '%-44s %14s %8s %24s %9s %7s\n' "$a" "$b" "$c" "$d" "$e" "$f"; done
echo "(var/bench/latest.json)"
exit $fail
