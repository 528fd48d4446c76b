#!/bin/sh
# Audit trail write throughput with synchronous commit on a durable private
# PostgreSQL (fsync on): group commit (gw_audit_append from N request
# threads, 8 writer slots) against the peer, one INSERT+COMMIT per row
# from N connections, at 1, 8 and 64 clients; the raw ceiling (100-row
# batches, one client); the chain design (two processes with a chain each
# against two processes sharing one chain).
#
# Two figures per client count: rows/s, and rows per CPU-second (server +
# client processes, from /proc and getrusage).  On a machine shared with
# other work, rows/s depends on how much CPU the scheduler grants each side
# (64 backends get more than 8); CPU efficiency does not.
# Output: BENCH lines (see test/bench/run.sh).
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
tck=$(getconf CLK_TCK)

# CPU seconds used by the server so far: the postmaster, its exited
# children (cutime/cstime) and its live children.
server_cpu() {
    pm=$(head -n 1 "$tmp/pg/data/postmaster.pid")
    { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
      for c in $(pgrep -P "$pm"); do awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || :; done
    } | awk -v t="$tck" '{ s += $1 } END { printf "%.3f\n", s / t }'
}

# One run of "$@": prints "ROWS_PER_S ROWS_PER_CPU_S".
run_one() {
    before=$(server_cpu)
    "$@" >"$tmp/run.out" 2>>"$tmp/bench.log"
    sleep 0.2 # let exited backends be reaped into the postmaster's child times
    after=$(server_cpu)
    awk -v b="$before" -v a="$after" '
        /^rows_per_s / { r = $2 } /^rows / { n += $2 } /^client_cpu_s / { c += $2 }
        END { printf "%.0f %.0f\n", r, (a - b + c > 0) ? n / (a - b + c) : 0 }' "$tmp/run.out"
}

# Medians and spread (% of median) of $reps runs: "RATE SPREAD EFF".
measure() {
    for _ in $(seq "$reps"); do run_one "$@"; done | awk '
        { r[NR] = $1; e[NR] = $2 }
        function med(v, n,  i, j, t) {
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
        END { m = med(r, NR); lo = r[1]; hi = r[NR];
              printf "%.0f %.1f %.0f\n", m, (m > 0 ? (hi - lo) * 100 / m : 0), med(e, NR) }'
}

# Two processes of 32 clients at once, on chains $1 and $2; their rows add up.
pair() {
    BENCH_CHAIN=$1 "$bin" "$app" group 32 "$secs" 1 >"$tmp/a.out" 2>>"$tmp/bench.log" &
    pa=$!
    BENCH_CHAIN=$2 "$bin" "$app" group 32 "$secs" 1 >"$tmp/b.out" 2>>"$tmp/bench.log" &
    pb=$!
    wait $pa $pb
    cat "$tmp/a.out" "$tmp/b.out" | awk '/^rows_per_s / { s += $2 } /^rows / { n += $2 }
        /^client_cpu_s / { c += $2 }
        END { printf "rows_per_s %.0f\nrows %d\nclient_cpu_s %.3f\n", s, n, c }'
}

line() { # name unit ours spread peer_name peer_value goal_ratio goal_text
    awk -v n="$1" -v u="$2" -v o="$3" -v s="$4" -v pn="$5" -v pv="$6" -v g="$7" -v gt="$8" 'BEGIN {
        r = (pv > 0) ? o / pv : 0;
        printf "BENCH {\"name\":\"%s\",\"unit\":\"%s\",\"ours\":%s,\"spread\":%s,", n, u, o, s;
        if (pn != "") printf "\"peer\":{\"name\":\"%s\",\"value\":%s},\"ratio\":%.2f,", pn, pv, r;
        else printf "\"peer\":null,\"ratio\":null,";
        printf "\"goal\":\"%s\",\"goal_met\":%s}\n", gt, (pn == "" || r >= g) ? "true" : "false" }'
}

"$bin" "$app" group 8 1 8 >/dev/null 2>&1 || : # warm-up
"$bin" "$app" naive 8 1 >/dev/null 2>&1 || :
for c in 1 8 64; do
    set -- $(measure "$bin" "$app" group "$c" "$secs" 8)
    ours=$1 spread=$2 ours_eff=$3
    set -- $(measure "$bin" "$app" naive "$c" "$secs")
    peer=$1 peer_eff=$3
    # What group commit is for: many concurrent requests on few
    # connections.  With as many clients as slots it should match the peer.
    case $c in
    1) goal=0.8 text=">= 0.8x peer (one client cannot be grouped)" ;;
    8) goal=0.8 text=">= 0.8x peer (8 slots, 8 connections)" ;;
    *) goal=1.0 text=">= 1.0x peer, with 8 connections instead of $c" ;;
    esac
    line "audit durable rows/s, $c client(s), group commit" "rows/s" "$ours" "$spread" \
        "INSERT+COMMIT per row, $c conn" "$peer" "$goal" "$text"
    [ "$c" = 1 ] && continue
    [ "$c" = 8 ] && continue
    line "audit rows per CPU-second, $c clients, group commit" "rows/cpu-s" "$ours_eff" 0 \
        "INSERT+COMMIT per row, $c conn" "$peer_eff" 1.0 ">= 1.0x peer"
done
set -- $(measure "$bin" "$app" batch 1 "$secs")
line "audit durable rows/s, raw ceiling (100-row batches)" "rows/s" "$1" "$2" "" 0 0 "reference"
set -- $(measure pair node-a node-b)
ours=$1 spread=$2
set -- $(measure pair shared shared)
line "audit rows/s, 2 processes x 32 clients, chain per process" "rows/s" "$ours" "$spread" \
    "one chain shared by both" "$1" 1.0 ">= 1.0x shared chain"
