#!/bin/sh
# The adapter store (adapters/store) on a durable private PostgreSQL
# (fsync and synchronous_commit on):
#   - apply throughput of converter-shaped transaction Bundles (HL7 ADT:
#     4 resources; ORU: 11), each a message with a ledger row: batched
#     (BATCH messages per transaction, one commit) against the peer, one
#     transaction and commit per message; Bundles/s and Bundles per
#     CPU-second (client + server backend), since wall time on a shared
#     machine depends on what the scheduler grants;
#   - latency of the hot query (Observation?patient=…&_sort=-date&_count=50
#     as a searchset Bundle) on a store of 1,000,000+ resources, generated
#     through the store's own write path.  The generated cluster is kept in
#     var/bench/store-pg and reused while the migrations and the generator
#     are unchanged (generating it takes several minutes).
# Output: BENCH lines (see test/bench/run.sh).
#   BENCH_STORE_REPS (3), BENCH_STORE_BATCH (100), BENCH_STORE_PATIENTS
#   (1000) × BENCH_STORE_PER_PATIENT (1000), BENCH_STORE_QUERIES (500).
set -eu
cd "$(dirname "$0")/../.."
bin=${BENCH_STORE_BIN:-build/release/test/bench_store}
reps=${BENCH_STORE_REPS:-3}
batch=${BENCH_STORE_BATCH:-100}
patients=${BENCH_STORE_PATIENTS:-1000}
per=${BENCH_STORE_PER_PATIENT:-1000}
queries=${BENCH_STORE_QUERIES:-500}
[ -x "$bin" ] || make --no-print-directory -j2 bench-programs >&2
tmp=$(mktemp -d /tmp/fhirgate-bench-store.XXXXXX)
chmod 755 "$tmp"
cache=$(pwd)/var/bench/store-pg
started_cache=no
cleanup() {
    deploy/pgctl.sh stop "$tmp/pg" >/dev/null 2>&1 || :
    [ "$started_cache" = yes ] && deploy/pgctl.sh stop "$cache" >/dev/null 2>&1 || :
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

migrate() { # URL: the real runner (it keeps its ledger in fhirgate_meta)
    bin/fhirgate migrate --target adapter --database "$1" >&2
}

# Run "$@" $reps times; the outputs go to $tmp/run.N.
runs() {
    rm -f "$tmp"/run.*
    for i in $(seq "$reps"); do "$@" >"$tmp/run.$i" 2>>"$tmp/bench.log"; done
}

# Median and spread (% of the median) of figure $1 over the last runs.
median() {
    cat "$tmp"/run.* | awk -v k="$1" '$1 == k { print $2 }' | sort -n |
        awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                  printf "%.1f %.1f\n", m, (m > 0 ? (v[NR] - v[1]) * 100 / m : 0) }'
}

ratio_of() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

bench_line() { # name unit ours spread peer_name peer ratio goal goal_met
    printf 'BENCH {"name":"%s","unit":"%s","ours":%s,"spread":%s,' "$1" "$2" "$3" "$4"
    if [ -n "$5" ]; then printf '"peer":{"name":"%s","value":%s},"ratio":%s,' "$5" "$6" "$7"
    else printf '"peer":null,"ratio":null,'; fi
    printf '"goal":"%s","goal_met":%s}\n' "$8" "$9"
}

# ---- apply throughput, on a fresh durable cluster ---------------------------------
port=$(test/support/freeport.sh)
deploy/pgctl.sh init "$tmp/pg" >&2
deploy/pgctl.sh start "$tmp/pg" "$port" >&2 # durable: fsync and synchronous_commit on
admin=$(deploy/pgctl.sh url "$tmp/pg" "$port")
psql -qX "$admin" -c "CREATE DATABASE bench" >&2
db=$(deploy/pgctl.sh url "$tmp/pg" "$port" bench)
migrate "$db"
"$bin" apply "$db" adt batched 500 "$batch" >/dev/null 2>>"$tmp/bench.log" # warm up
for kind in adt oru; do
    if [ "$kind" = adt ]; then n=3000 nn=600; else n=1500 nn=300; fi
    runs "$bin" apply "$db" "$kind" batched "$n" "$batch"
    set -- $(median bundles_per_s) $(median bundles_per_cpu_s) $(median resources_per_s)
    ours=$1 spread=$2 ours_cpu=$3 spread_cpu=$4 written=$5
    runs "$bin" apply "$db" "$kind" naive "$nn" 1
    set -- $(median bundles_per_s) $(median bundles_per_cpu_s)
    peer=$1 peer_cpu=$3
    ratio=$(ratio_of "$ours" "$peer")
    met=$(awk -v r="$ratio" 'BEGIN { print (r >= 2 ? "true" : "false") }')
    bench_line "store apply $kind batched ($batch/commit)" "Bundles/s" "$ours" "$spread" \
        "one commit per Bundle" "$peer" "$ratio" ">= 2x peer" "$met"
    ratio=$(ratio_of "$ours_cpu" "$peer_cpu")
    met=$(awk -v r="$ratio" 'BEGIN { print (r >= 1 ? "true" : "false") }')
    bench_line "store apply $kind batched, CPU" "Bundles/CPU-s" "$ours_cpu" "$spread_cpu" \
        "one commit per Bundle" "$peer_cpu" "$ratio" ">= 1x peer" "$met"
done
# A reindex pass (after an upgrade) over what was written, against the
# batched write path's own rate: rebuilding the index must not be slower
# than writing it was.
runs "$bin" reindex "$db"
set -- $(median resources_per_s) $(median resources_per_cpu_s)
ratio=$(ratio_of "$1" "$written")
met=$(awk -v r="$ratio" 'BEGIN { print (r >= 1 ? "true" : "false") }')
bench_line "store reindex pass, $(cat "$tmp/run.1" | awk '$1 == "resources" { print $2 }') resources" \
    "resources/s" "$1" "$2" "store apply oru batched, resources written/s" "$written" "$ratio" \
    ">= 1x peer" "$met"
deploy/pgctl.sh stop "$tmp/pg" >&2
# What one commit per message costs on this disk: the peer's ceiling.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fsyncs=$("$pgbin/pg_test_fsync" -s 1 -f "$tmp/fsync.tmp" 2>/dev/null |
    awk '$1 == "fdatasync" && $3 == "ops/sec" { print $2; exit }')
[ -n "$fsyncs" ] && bench_line "fdatasync on this disk (context)" "ops/s" "$fsyncs" 0 "" "" "" \
    "context: one commit per message is bounded by this" true

# ---- search latency on 1,000,000+ resources ------------------------------------------
# Bump when the generator in bench_store.c (run_load) changes what it writes.
generator=1
want="$(cat schemas/sql/adapter/*.sql | sha256sum | cut -c1-16) gen$generator $patients $per"
if [ "$(cat "$cache/dataset" 2>/dev/null || :)" != "$want" ]; then
    echo "bench_store: generating $patients x $per resources (minutes; cached in $cache)" >&2
    deploy/pgctl.sh stop "$cache" >/dev/null 2>&1 || :
    rm -rf "$cache"
    deploy/pgctl.sh init "$cache" >&2
    sport=$(test/support/freeport.sh)
    deploy/pgctl.sh start "$cache" "$sport" >&2
    started_cache=yes
    sadmin=$(deploy/pgctl.sh url "$cache" "$sport")
    psql -qX "$sadmin" -c "ALTER SYSTEM SET max_wal_size = '8GB'" \
        -c "ALTER SYSTEM SET shared_buffers = '1GB'" >&2
    deploy/pgctl.sh stop "$cache" >&2
    deploy/pgctl.sh start "$cache" "$sport" >&2
    psql -qX "$sadmin" -c "CREATE DATABASE bench" >&2
    sdb=$(deploy/pgctl.sh url "$cache" "$sport" bench)
    migrate "$sdb"
    "$bin" load "$sdb" "$patients" "$per" >&2
    psql -qX "$sdb" -c "VACUUM ANALYZE" >&2
    echo "$want" >"$cache/dataset"
else
    sport=$(test/support/freeport.sh)
    deploy/pgctl.sh start "$cache" "$sport" >&2
    started_cache=yes
    sdb=$(deploy/pgctl.sh url "$cache" "$sport" bench)
fi
resources=$(psql -qXAt "$sdb" -c "SELECT count(*) FROM store.resource")
"$bin" search "$sdb" "$patients" 100 >/dev/null 2>>"$tmp/bench.log" # warm the cache
"$bin" search "$sdb" "$patients" "$queries" >"$tmp/search.out" 2>>"$tmp/bench.log"
p50=$(awk '$1 == "p50_ms" { print $2 }' "$tmp/search.out")
p99=$(awk '$1 == "p99_ms" { print $2 }' "$tmp/search.out")
met=$(awk -v p="$p99" 'BEGIN { print (p <= 50 ? "true" : "false") }')
bench_line "store search p50 (patient+type+date, ${resources} res)" "ms" "$p50" 0 "" "" "" \
    "p99 <= 50 ms" "$met"
bench_line "store search p99 (patient+type+date, ${resources} res)" "ms" "$p99" 0 "" "" "" \
    "p99 <= 50 ms" "$met"
