#!/bin/sh
# HL7 v2 parse + map throughput (messages/s, one core) against the npm HL7
# v2 parsers simple-hl7 and hl7-standard, on the very same messages, in the
# same run.  Goal: parse + map >= 20x the npm parser's parse alone.
#   BENCH_SECONDS (default 1) CPU seconds per run, BENCH_RUNS (default 7)
#   runs; median.  BENCH_CPU (default 0): the core both sides are pinned to.
set -eu
cd "$(dirname "$0")/../.."
secs=${BENCH_SECONDS:-1}
runs=${BENCH_RUNS:-7}
cpu=${BENCH_CPU:-0}
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c $cpu"
corpus=${FHIRGATE_CORPUS:-$(cd ../shared/corpus 2>/dev/null && pwd || echo /work/shared/corpus)}
bin=build/${VARIANT:-release}/test/bench_hl7v2
peer=test/bench/peers/hl7v2
mkdir -p var/bench
dump=var/bench/hl7v2-messages.bin
[ -x "$bin" ] || make --no-print-directory -j2 "$bin" >&2
if [ ! -d "$peer/node_modules/simple-hl7" ]; then
    npm ci --no-audit --no-fund --prefix "$peer" >&2
fi
ours=$($pin "$bin" "$corpus" "$dump" "$secs" "$runs")
echo "ours: $ours" >&2
simple=$($pin node "$peer/peer.js" "$dump" simple-hl7 "$secs" "$runs")
echo "peer: $simple" >&2
standard=$($pin node "$peer/peer.js" "$dump" hl7-standard "$secs" "$runs")
echo "peer: $standard" >&2
jq -nc --argjson o "$ours" --argjson p "$simple" '
  {name: "hl7v2 parse+map (\($o.messages) corpus msgs)", unit: "msg/s", ours: $o.map.median,
   spread: $o.map.spread, peer: {name: $p.name, value: $p.median},
   ratio: (($o.map.median / $p.median * 10 | round) / 10),
   goal: ">= 20x peer parse", goal_met: ($o.map.median >= 20 * $p.median)} | "BENCH " + tojson' -r
jq -nc --argjson o "$ours" --argjson p "$simple" '
  {name: "hl7v2 parse only", unit: "msg/s", ours: $o.parse.median, spread: $o.parse.spread,
   peer: {name: $p.name, value: $p.median},
   ratio: (($o.parse.median / $p.median * 10 | round) / 10),
   goal: "-", goal_met: true} | "BENCH " + tojson' -r
jq -nc --argjson o "$ours" --argjson p "$standard" '
  {name: "hl7v2 parse+map vs hl7-standard", unit: "msg/s", ours: $o.map.median,
   spread: $o.map.spread, peer: {name: $p.name, value: $p.median},
   ratio: (($o.map.median / $p.median * 10 | round) / 10),
   goal: ">= 20x peer parse", goal_met: ($o.map.median >= 20 * $p.median)} | "BENCH " + tojson' -r
