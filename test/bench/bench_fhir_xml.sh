#!/bin/sh
# FHIR XML throughput (MB of XML per CPU second, one core) over the XML form
# of the R4 examples and the Synthea lines: XML -> JSON (fhir_xml_read),
# + validation, and JSON -> XML (fhir_xml_write).  The reference peer is
# libxml2 building its own DOM from the same text in the same run (no FHIR
# work at all): reading into FHIR JSON should cost less than twice that.
# Protocol: test/bench/run.sh.  BENCH_REPS (7), BENCH_MIN_SECONDS (0.5),
# BENCH_CPU (0).
set -eu
cd "$(dirname "$0")/../.."
corpus=${FHIRGATE_CORPUS:-$(cd ../shared/corpus 2>/dev/null && pwd || echo /work/shared/corpus)}
bin=${BENCH_BUILD:-build/release}/test/bench_fhir_xml
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c ${BENCH_CPU:-0}"
[ -x "$bin" ] || make --no-print-directory "$bin" >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
$pin "$bin" "$corpus/fhir-r4-examples/json" "$corpus/synthea/bulk-ndjson-10-patients" \
    "${BENCH_REPS:-7}" "${BENCH_MIN_SECONDS:-0.5}" >"$out"
cat "$out" >&2
fig() { awk -v w="$1" -v f="$2" '$1 == "ours" && $3 == w {print $f}' "$out"; }
dom=$(fig dom 4)
peer="{\"name\":\"libxml2 $(xml2-config --version 2>/dev/null || echo 2) DOM parse\",\"value\":$dom}"
emit() { # name work peer|MIN_MB_PER_S
    ours=$(fig "$2" 4); spread=$(fig "$2" 5)
    case $3 in
    peer) ratio=$(awk -v a="$ours" -v b="$dom" 'BEGIN {printf "%.2f", a / b}')
          met=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.5) ? "true" : "false"}')
          printf 'BENCH {"name":"%s","unit":"MB/s","ours":%s,"spread":%s,"peer":%s,"ratio":%s,"goal":">= 0.5x libxml2 DOM parse","goal_met":%s}\n' \
              "$1" "$ours" "$spread" "$peer" "$ratio" "$met" ;;
    *)    met=$(awk -v a="$ours" -v m="$3" 'BEGIN {print (a >= m) ? "true" : "false"}')
          printf 'BENCH {"name":"%s","unit":"MB/s","ours":%s,"spread":%s,"peer":null,"ratio":null,"goal":">= %s MB/s","goal_met":%s}\n' \
              "$1" "$ours" "$spread" "$3" "$met" ;;
    esac
}
emit "fhir xml: XML -> JSON (fhir_xml_read)" read peer
emit "fhir xml: XML validate (read + fhir_validate)" validate 50
emit "fhir xml: JSON -> XML (fhir_xml_write)" write 100
