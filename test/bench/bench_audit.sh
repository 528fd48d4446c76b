#!/bin/sh
# Audit trail write throughput with synchronous commit on a durable private
# PostgreSQL (fsync on): group commit (gw_audit_append from N request
# threads) against the peer, one INSERT+COMMIT per row from N connections,
# at 1, 8 and 64 clients; the raw ceiling (100-row batches, one client);
# and the chain design: two gateway processes with a chain each against
# two processes sharing one chain.  Output: BENCH lines (test/bench/run.sh).
#   BENCH_AUDIT_SECONDS (3) per run, BENCH_AUDIT_REPS (3) runs per figure.
set -eu
cd "$(dirname "$0")/../.."
bin=${BENCH_AUDIT_BIN:-build/release/test/bench_audit}
secs=${BENCH_AUDIT_SECONDS:-3}
reps=${BENCH_AUDIT_REPS:-3}
[ -x "$bin" ] || make --no-print-directory -j2 bench-programs all >&2
tmp=$(mktemp -d /tmp/fhirgate-bench-audit.XXXXXX)
chmod 755 "$tmp"
port=$(test/support/freeport.sh)
cleanup() {
    deploy/pgctl.sh stop "$tmp/pg" >/dev/null 2>&1 || :
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
deploy/pgctl.sh init "$tmp/pg" >&2
deploy/pgctl.sh start "$tmp/pg" "$port" >&2 # durable: fsync and synchronous_commit on
admin=$(deploy/pgctl.sh url "$tmp/pg" "$port")
psql -qX "$admin" -c "CREATE DATABASE bench" >&2
db=$(deploy/pgctl.sh url "$tmp/pg" "$port" bench)
bin/fhirgate migrate --database "$db" >&2
app=$(echo "$db" | sed 's/user=postgres/user=fhirgate_app/')

# one figure: median and spread (% of median) of $reps runs of "$@"
measure() {
    for _ in $(seq "$reps"); do
        "$@" 2>>"$tmp/bench.log" | sed -n 's/^rows_per_s //p'
    done | sort -n | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
        printf "%.0f %.1f\n", m, (m > 0 ? (v[NR] - v[1]) * 100 / m : 0) }'
}

# two processes at once; prints the sum of their rates
pair() {
    chain_a=$1 chain_b=$2
    BENCH_CHAIN=$chain_a "$bin" "$app" group 32 "$secs" 1 >"$tmp/a.out" 2>>"$tmp/bench.log" &
    pa=$!
    BENCH_CHAIN=$chain_b "$bin" "$app" group 32 "$secs" 1 >"$tmp/b.out" 2>>"$tmp/bench.log" &
    pb=$!
    wait $pa $pb
    cat "$tmp/a.out" "$tmp/b.out" | awk '{ s += $2 } END { printf "rows_per_s %.0f\n", s }'
}

line() { # name ours spread peer_name peer_value goal_ratio goal_text
    awk -v n="$1" -v o="$2" -v s="$3" -v pn="$4" -v pv="$5" -v g="$6" -v gt="$7" 'BEGIN {
        r = (pv > 0) ? o / pv : 0;
        printf "BENCH {\"name\":\"%s\",\"unit\":\"rows/s\",\"ours\":%s,\"spread\":%s,", n, o, s;
        if (pn != "") printf "\"peer\":{\"name\":\"%s\",\"value\":%s},\"ratio\":%.2f,", pn, pv, r;
        else printf "\"peer\":null,\"ratio\":null,";
        printf "\"goal\":\"%s\",\"goal_met\":%s}\n", gt, (pn == "" || r >= g) ? "true" : "false" }'
}

"$bin" "$app" group 8 1 2 >/dev/null 2>&1 || : # warm-up
"$bin" "$app" naive 8 1 >/dev/null 2>&1 || :
for c in 1 8 64; do
    set -- $(measure "$bin" "$app" group "$c" "$secs" 4)
    ours=$1 spread=$2
    set -- $(measure "$bin" "$app" naive "$c" "$secs")
    peer=$1
    case $c in
    1) goal=0.5 text=">= 0.5x peer (one client cannot be grouped)" ;;
    *) goal=1.0 text=">= 1.0x peer with 4 connections instead of $c" ;;
    esac
    line "audit durable rows/s, $c client(s), group commit" "$ours" "$spread" \
        "INSERT+COMMIT per row, $c conn" "$peer" "$goal" "$text"
done
set -- $(measure "$bin" "$app" batch 1 "$secs")
line "audit durable rows/s, raw ceiling (100-row batches)" "$1" "$2" "" 0 0 "reference"
set -- $(measure pair node-a node-b)
ours=$1 spread=$2
set -- $(measure pair shared shared)
line "audit rows/s, 2 processes x 32 clients, chain per process" "$ours" "$spread" \
    "one chain shared by both" "$1" 1.0 ">= 1.0x shared chain"
