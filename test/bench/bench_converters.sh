#!/bin/sh
# Converter benchmarks (see test/bench/run.sh for the output protocol):
#   - CSV ingest (Synthea observations layout, observations.map) of a
#     generated 1,000,000-row export, rows/s and peak RSS, with the same
#     export at 100,000 rows to show that memory does not grow with the file;
#   - the raw RFC 4180 parse of that file against csv-parse (npm, Node) in
#     the same run;
#   - CDA documents/s over the corpus documents;
#   - DICOM JSON (a QIDO-RS answer of 1,000 studies) -> ImagingStudy studies/s.
# BENCH_CSV_ROWS overrides the row count (default 1000000).
set -eu
cd "$(dirname "$0")/../.."
. test/bench/lib.sh
VARIANT=${VARIANT:-release}
B=build/$VARIANT/test/bench_converters
out=var/bench/converters
rows=${BENCH_CSV_ROWS:-1000000}
small=$((rows / 10))
mkdir -p "$out"
corpus=${FHIRGATE_CORPUS:-}
if [ -z "$corpus" ]; then
    corpus=../shared/corpus
    [ -d "$corpus" ] || corpus=/work/shared/corpus
fi
map=adapters/csv/mappings/synthea/observations.map


[ -f "$out/obs_$rows.csv" ] || $B gen-csv "$rows" "$out/obs_$rows.csv"
[ -f "$out/obs_$small.csv" ] || $B gen-csv "$small" "$out/obs_$small.csv"
echo "csv files: $(du -h "$out/obs_$rows.csv" | cut -f1) ($rows rows), $(du -h "$out/obs_$small.csv" | cut -f1)" >&2

# -- CSV ingest: 3 runs of the big file, 1 of the small one (for memory)
: >"$out/ingest.txt"
rss_big=0
for i in 1 2 3; do
    r=$($B csv "$out/obs_$rows.csv" "$map")
    echo "csv ingest run $i: $r" >&2
    field per_s "$r" >>"$out/ingest.txt"
    rss=$(field max_rss_kb "$r")
    [ "$rss" -gt "$rss_big" ] && rss_big=$rss
done
r=$($B csv "$out/obs_$small.csv" "$map")
echo "csv ingest $small rows: $r" >&2
rss_small=$(field max_rss_kb "$r")
set -- $(stats 1 <"$out/ingest.txt")
mb_big=$(awk -v k="$rss_big" 'BEGIN {printf "%.1f", k/1024}')
mb_small=$(awk -v k="$rss_small" 'BEGIN {printf "%.1f", k/1024}')
flat=$(awk -v a="$rss_big" -v b="$rss_small" 'BEGIN {print (a <= b*1.25+2048) ? "true" : "false"}')
bench_line "csv ingest $rows rows -> FHIR (observations.map)" "rows/s" "$1" "$2" "" "" \
    "peak RSS flat with size" "$flat"
bench_line "csv ingest peak RSS, $rows rows" "MB" "$mb_big" 0 "same, $small rows" "$mb_small" \
    "<= 1.25x the small file" "$flat"

# -- raw parse against csv-parse (Node) in the same run
: >"$out/parse.txt"
for i in 1 2 3; do
    r=$($B csv-parse "$out/obs_$rows.csv")
    field per_s "$r" >>"$out/parse.txt"
done
set -- $(stats 1 <"$out/parse.txt")
ours=$1 spread=$2
peer_name="" peer=""
nodedir=var/bench/node
if command -v node >/dev/null 2>&1; then
    if [ ! -d "$nodedir/node_modules/csv-parse" ]; then
        mkdir -p "$nodedir"
        (cd "$nodedir" && npm install --no-audit --no-fund --silent csv-parse@5 >/dev/null 2>&1) || :
    fi
    if [ -d "$nodedir/node_modules/csv-parse" ]; then
        : >"$out/node.txt"
        for i in 1 2 3; do
            r=$(node test/bench/csv_parse_peer.js "$out/obs_$rows.csv" "$(pwd)/$nodedir") || break
            field per_s "$r" >>"$out/node.txt"
        done
        if [ -s "$out/node.txt" ]; then
            set -- $(stats 1 <"$out/node.txt")
            peer_name="csv-parse $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' \
                "$nodedir/node_modules/csv-parse/package.json") (node)"
            peer=$1
        fi
    fi
fi
if [ -n "$peer" ]; then
    met=$(awk -v a="$ours" -v b="$peer" 'BEGIN {print (a >= b) ? "true" : "false"}')
else
    met=true
    echo "csv-parse not available: raw parse has no peer in this run" >&2
fi
bench_line "csv raw RFC 4180 parse, $rows rows" "rows/s" "$ours" "$spread" "$peer_name" "$peer" \
    ">= 1x peer" "$met"

# -- CDA documents/s over the corpus
: >"$out/cda.txt"
for i in 1 2 3; do
    r=$($B cda 2 "$corpus"/cda/*.xml)
    field per_s "$r" >>"$out/cda.txt"
done
set -- $(stats 1 <"$out/cda.txt")
bench_line "cda documents -> transaction Bundle (corpus mix)" "docs/s" "$1" "$2" "" "" "-" true

# -- DICOM JSON -> ImagingStudy
: >"$out/dicom.txt"
for i in 1 2 3; do
    r=$($B dicom 2 1000)
    field per_s "$r" >>"$out/dicom.txt"
done
set -- $(stats 1 <"$out/dicom.txt")
bench_line "dicom json (QIDO answer) -> ImagingStudy" "studies/s" "$1" "$2" "" "" "-" true
