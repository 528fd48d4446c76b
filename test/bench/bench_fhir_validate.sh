#!/bin/sh
# FHIR validation throughput (MB/s, one core): ours (bench_fhir_validate) and
# the ecosystem peer — Node + ajv 8 with the official R4 JSON schema, read in
# place from the shared corpus — over the same documents in the same run.
# Protocol: test/bench/run.sh (BENCH lines on stdout, the rest on stderr).
#   BENCH_REPS (default 7), BENCH_MIN_SECONDS per repetition (default 0.5),
#   BENCH_CPU (default 0): the core both sides are pinned to.
set -eu
cd "$(dirname "$0")/../.."
corpus=${FHIRGATE_CORPUS:-$(cd ../shared/corpus 2>/dev/null && pwd || echo /work/shared/corpus)}
ex=$corpus/fhir-r4-examples/json
sy=$corpus/synthea/bulk-ndjson-10-patients
schema=$corpus/fhir-r4-schema/fhir.schema.json
reps=${BENCH_REPS:-7}
mins=${BENCH_MIN_SECONDS:-0.5}
cpu=${BENCH_CPU:-0}
bin=${BENCH_BUILD:-build/release}/test/bench_fhir_validate
peer=test/bench/peers/fhir-validate
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c $cpu"

[ -x "$bin" ] || make --no-print-directory "$bin" >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "ours: $bin" >&2
$pin "$bin" "$ex" "$sy" "$reps" "$mins" >>"$out"
if command -v node >/dev/null 2>&1; then
    if [ ! -d "$peer/node_modules/ajv" ]; then
        (cd "$peer" && npm ci --no-audit --no-fund >&2)
    fi
    echo "peer: node $(node --version), $(cd "$peer" && node -p 'require("ajv/package.json").version' | sed 's/^/ajv /')" >&2
    $pin node "$peer/bench.js" "$schema" "$ex" "$sy" "$reps" "$mins" >>"$out"
else
    echo "peer: node not found; figures without a ratio" >&2
fi
cat "$out" >&2

ajv="ajv $(cd "$peer" 2>/dev/null && node -p 'require("ajv/package.json").version' 2>/dev/null || echo '?') + R4 JSON schema (node)"
# field: 1 side, 2 corpus, 3 work, 4 MB/s, 5 spread %, 6 valid/total
fig() { awk -v s="$1" -v c="$2" -v w="$3" -v f="$4" '$1==s && $2==c && $3==w {print $f}' "$out"; }

emit() { # name corpus our-work peer-work goal-kind
    ours=$(fig ours "$2" "$3" 4); spread=$(fig ours "$2" "$3" 5)
    peerv=$(fig peer "$2" "$4" 4)
    if [ -n "$peerv" ]; then
        ratio=$(awk -v a="$ours" -v b="$peerv" 'BEGIN {printf "%.1f", a / b}')
        peerj="{\"name\":\"$ajv\",\"value\":$peerv}"
    else
        ratio=null; peerj=null
    fi
    case $5 in
    both) goal=">= 10x peer and >= 100 MB/s"
          met=$(awk -v a="$ours" -v r="$ratio" 'BEGIN {print (r != "null" && r >= 10 && a >= 100) ? "true" : "false"}') ;;
    ratio) goal=">= 10x peer"
          met=$(awk -v r="$ratio" 'BEGIN {print (r != "null" && r >= 10) ? "true" : "false"}') ;;
    *)    goal=">= 100 MB/s"
          met=$(awk -v a="$ours" 'BEGIN {print (a >= 100) ? "true" : "false"}') ;;
    esac
    printf 'BENCH {"name":"%s","unit":"MB/s","ours":%s,"spread":%s,"peer":%s,"ratio":%s,"goal":"%s","goal_met":%s}\n' \
        "$1" "$ours" "$spread" "$peerj" "$ratio" "$goal" "$met"
}

emit "fhir validate: parse+validate, R4 examples" examples validate validate both
emit "fhir validate: parse+validate, Synthea NDJSON" synthea validate validate both
emit "fhir validate: +serialize, R4 examples" examples validate+serialize validate+serialize ratio
emit "fhir validate: +serialize, Synthea NDJSON" synthea validate+serialize validate+serialize ratio
emit "fhir validate: tree walk (parse tree+validate), R4 examples" examples validate-tree validate speed
emit "fhir validate: tree walk (parse tree+validate), Synthea" synthea validate-tree validate speed
