#!/bin/sh
# deploy/scale-measure.sh — measure what a gateway node, its PostgreSQL and its members
# cost, per member and per 1,000 federated queries, on this machine.  docs/SCALE.md holds
# the figures measured here and the province-scale calculation made from them.
#
#   deploy/scale-measure.sh [--members "1 10 73 200"] [--queries 2000] [--connections 8]
#                           [--idle 30] [DIR]
#
# For each region size N: a fresh durable PostgreSQL cluster (fsync on: audit commits cost
# what they cost), N light members (deploy/region-gen.sh, one nginx, one shared server
# certificate), one gateway node (bin/fhirgate-gateway, release build) with production
# intervals (identity pull 5 s, probes 10 s).  Once the MPI has linked the shared person
# at all N members:
#   idle   — gateway CPU over --idle seconds with no queries (probes and pulls only);
#   load   — --queries requests over --connections keep-alive connections (curl
#            --parallel), each a federated search GET /fhir/Observation?patient=P that fans
#            out to all N members (every member holds the person: the worst case) and
#            writes one AuditEvent naming every returned entity.  (Not wrk: wrk closes its
#            connections with requests still in flight when its time is up, and a client
#            leaving during a federated query crashes the gateway today — see
#            docs/SCALE.md; curl ends only after every answer.)
# Measured from /proc and PostgreSQL before and after: CPU seconds (user + system) of the
# gateway, of all PostgreSQL processes of the cluster and of the members' nginx; the
# gateway's resident memory (now and peak); audit rows, audit bytes (heap + TOAST +
# indexes of every partition), WAL bytes, database size.  Prints one JSON line per N on
# stdout ("SCALE {…}") and a table on stderr.  Nothing it starts outlives it.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
BIN=${FHIRGATE_BIN:-$here/bin}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
members_list="1 10 73 200" queries=2000 conns=8 idle=30 D=""
while [ $# -gt 0 ]; do
    case "$1" in
    --members) members_list=${2:?}; shift 2 ;;
    --queries) queries=${2:?}; shift 2 ;;
    --connections) conns=${2:?}; shift 2 ;;
    --idle) idle=${2:?}; shift 2 ;;
    -*) echo "scale-measure: unknown option $1" >&2; exit 2 ;;
    *) D=$1; shift ;;
    esac
done
command -v curl >/dev/null && command -v jq >/dev/null ||
    { echo "scale-measure: needs curl and jq (deploy/install-deps.sh)" >&2; exit 1; }
[ -n "$D" ] || D=$(mktemp -d /tmp/fhirgate-scale.XXXXXX)
mkdir -p "$D"
D=$(cd "$D" && pwd)
chmod 755 "$D"
TCK=$(getconf CLK_TCK)
GW=""
PG=""
REG=""
cleanup() {
    [ -n "$GW" ] && kill "$GW" 2>/dev/null && wait "$GW" 2>/dev/null || :
    [ -n "$REG" ] && "$here/deploy/region-gen.sh" stop "$REG" >/dev/null 2>&1 || :
    [ -n "$PG" ] && "$here/deploy/pgctl.sh" stop "$PG" >/dev/null 2>&1 || :
    GW="" REG="" PG=""
}
trap cleanup EXIT INT TERM

# CPU seconds (user + system, children waited for included) of a list of pids.
cpu_of() {
    for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done |
        awk -v t="$TCK" '{ sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15 } END { printf "%.3f", s / t }'
}
pg_pids() { # postmaster and its children
    pm=$(head -n 1 "$PG/data/postmaster.pid")
    echo "$pm"
    ps -o pid= --ppid "$pm"
}
nginx_pids() {
    m=$(cat "$REG/nginx.pid")
    echo "$m"
    ps -o pid= --ppid "$m"
}
rss_kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
q() { "$PGBIN/psql" -qAtX -d "$URL" -c "$1"; }
snapshot() { # label -> shell variables <label>_*
    eval "$1_gw=$(cpu_of "$GW")"
    # shellcheck disable=SC2046
    eval "$1_pg=$(cpu_of $(pg_pids))"
    # shellcheck disable=SC2046
    eval "$1_ng=$(cpu_of $(nginx_pids))"
    eval "$1_rows=$(q "SELECT count(*) FROM audit.event")"
    eval "$1_abytes=$(q "SELECT coalesce(sum(pg_total_relation_size(relid)), 0)
        FROM pg_partition_tree('audit.event') WHERE isleaf")"
    eval "$1_wal=$(q "SELECT pg_current_wal_lsn() - '0/0'")"
    eval "$1_db=$(q "SELECT pg_database_size(current_database())")"
}

# COUNT federated searches over $conns keep-alive connections; "status seconds" per line.
load() { # count file
    awk -v n="$1" -v u="$B$path" 'BEGIN { for (i = 0; i < n; i++)
        printf "url = \"%s\"\noutput = \"/dev/null\"\n", u }' > "$W/urls.cfg"
    curl -s -k -Z --parallel-max "$conns" -H "Authorization: Bearer $tok" \
        -w '%{http_code} %{time_total}\n' -K "$W/urls.cfg" > "$2"
}

measure() { # N
    n=$1
    W=$D/n$n
    rm -rf "$W"
    mkdir -p "$W"
    PG=$W/pg
    "$here/deploy/pgctl.sh" init "$PG"
    for _ in 1 2 3 4 5; do
        pport=$("$here/deploy/free-port.sh")
        "$here/deploy/pgctl.sh" start "$PG" "$pport" 2>/dev/null && break
    done
    "$PGBIN/psql" -qAtX -d "$("$here/deploy/pgctl.sh" url "$PG" "$pport")" \
        -c "CREATE DATABASE fhirgate"
    URL=$("$here/deploy/pgctl.sh" url "$PG" "$pport" fhirgate)
    REG=$W/region
    for _ in 1 2 3; do
        "$here/deploy/region-gen.sh" gen "$REG" --members "$n" --shared-cert >/dev/null
        "$here/deploy/region-gen.sh" start "$REG" >/dev/null 2>&1 && break
    done
    CA=$REG/ca
    "$here/deploy/ca.sh" server "$CA" gateway >/dev/null
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/token.pem" 2>/dev/null
    "$BIN/fhirgate" audit keygen --out "$W/audit.pem" --public "$W/audit.pub" >/dev/null
    port=$("$here/deploy/free-port.sh")
    cat > "$W/gateway.conf" <<EOF
[node]
id = gw-1
public_url = https://127.0.0.1:$port
state_dir = $W/state
log_level = warn
[http]
listen = 127.0.0.1:$port
cert = $CA/server/gateway.crt
key = $CA/server/gateway.key
client_ca = $CA/ca.crt
client_auth = optional
max_connections_per_ip = 0
[database]
url = env:SCALE_DB_URL
pool_size = 16
[audit]
signing_key = $W/audit.pem
writers = 4
[auth]
signing_key = $W/token.pem
password_grant = true
[registry]
probe_interval = 10s
[mpi]
pull_interval = 5s
[federation]
ca = $CA/ca.crt
client_cert = $CA/client/gateway.crt
client_key = $CA/client/gateway.key
page_max = 1000
EOF
    cat "$REG/gateway-members.conf" >> "$W/gateway.conf"
    SCALE_DB_URL=$URL "$BIN/fhirgate-gateway" --config "$W/gateway.conf" > "$W/gw.out" 2> "$W/gw.log" &
    GW=$!
    t=0
    until grep -q '^ready:' "$W/gw.out" 2>/dev/null; do
        t=$((t + 1)); [ $t -lt 600 ] || { echo "gateway did not start" >&2; exit 1; }; sleep 0.1
    done
    printf '%s\n' "scale-measure-pw-1" > "$W/pw"
    "$BIN/fhirgate" user add dr.scale --role clinician --organization m001 --password-file "$W/pw" \
        --database "$URL" >/dev/null
    B=https://127.0.0.1:$port
    tok=$(curl -s -k -d 'grant_type=password&username=dr.scale&password=scale-measure-pw-1' \
        -d 'client_id=portal' "$B/auth/token" | jq -r .access_token)
    resid=$(cut -d'|' -f2 "$REG/shared-patient")
    person="" t=0
    while [ -z "$person" ] && [ $t -lt 600 ]; do
        person=$(q "SELECT p.public_id FROM mpi.person p JOIN mpi.record r ON r.person_id = p.id
            WHERE r.resident_id = '$resid' GROUP BY 1 HAVING count(*) = $n")
        t=$((t + 1)); sleep 0.2
    done
    [ -n "$person" ] || { echo "scale-measure: N=$n: MPI did not link all members" >&2; exit 1; }
    path="/fhir/Observation?patient=$person&_count=1000"
    # Warm-up: connections to every member, prepared statements.
    load 50 "$W/warm.txt"
    size=$(curl -s -k -H "Authorization: Bearer $tok" "$B$path" | wc -c)
    snapshot i0
    sleep "$idle"
    snapshot i1
    rss_idle=$(rss_kb "$GW" VmRSS)
    # One identity-pull round visits every member in turn: its length bounds how many
    # members one node can pull within pull_interval.
    pull_round=$(q "SELECT round(extract(epoch FROM max(pulled_at) - min(pulled_at))::numeric, 3)
        FROM registry.pull_cursor")
    snapshot l0
    t0=$(date +%s.%N)
    load "$queries" "$W/load.txt"
    t1=$(date +%s.%N)
    kill -0 "$GW" 2>/dev/null ||
        { echo "scale-measure: N=$n: the gateway died under load (see $W/gw.log)" >&2; exit 1; }
    snapshot l1
    rss=$(rss_kb "$GW" VmRSS)
    hwm=$(rss_kb "$GW" VmHWM)
    fds=$(ls "/proc/$GW/fd" | wc -l)
    reqs=$(wc -l < "$W/load.txt")
    non2xx=$(awk '$1 != 200' "$W/load.txt" | wc -l)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    p50=$(awk '{ print $2 * 1000 }' "$W/load.txt" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1fms", v[int(NR * 0.50 + 0.5)] }')
    p99=$(awk '{ print $2 * 1000 }' "$W/load.txt" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1fms", v[int(NR * 0.99 + 0.5)] }')
    rows=$((l1_rows - l0_rows))
    awk -v n="$n" -v secs="$secs" -v conns="$conns" -v idle="$idle" -v reqs="$reqs" \
        -v non2xx="${non2xx:-0}" -v rows="$rows" -v size="$size" \
        -v igw0="$i0_gw" -v igw1="$i1_gw" -v ipg0="$i0_pg" -v ipg1="$i1_pg" \
        -v ing0="$i0_ng" -v ing1="$i1_ng" \
        -v gw0="$l0_gw" -v gw1="$l1_gw" -v pg0="$l0_pg" -v pg1="$l1_pg" -v ng0="$l0_ng" \
        -v ng1="$l1_ng" -v ab0="$l0_abytes" -v ab1="$l1_abytes" -v w0="$l0_wal" -v w1="$l1_wal" \
        -v db0="$l0_db" -v db1="$l1_db" -v rssi="$rss_idle" -v rss="$rss" -v hwm="$hwm" \
        -v p50="$p50" -v p99="$p99" -v fds="$fds" -v pull="$pull_round" 'BEGIN {
        k = reqs / 1000
        printf "SCALE {\"members\":%d,\"seconds\":%.1f,\"connections\":%d,\"queries\":%d,", n, secs, conns, reqs
        printf "\"non_2xx\":%d,\"qps\":%.1f,\"p50\":\"%s\",\"p99\":\"%s\",\"answer_bytes\":%d,", non2xx, reqs / secs, p50, p99, size
        printf "\"cpu_s_per_1000\":{\"gateway\":%.2f,\"postgres\":%.2f,\"members\":%.2f},", (gw1 - gw0) / k, (pg1 - pg0) / k, (ng1 - ng0) / k
        printf "\"audit_rows_per_query\":%.3f,\"audit_bytes_per_query\":%.0f,", rows / reqs, (ab1 - ab0) / reqs
        printf "\"wal_bytes_per_query\":%.0f,\"db_bytes_per_query\":%.0f,", (w1 - w0) / reqs, (db1 - db0) / reqs
        printf "\"idle_cpu_s_per_hour\":{\"gateway\":%.1f,\"postgres\":%.1f,\"members\":%.1f},", (igw1 - igw0) * 3600 / idle, (ipg1 - ipg0) * 3600 / idle, (ing1 - ing0) * 3600 / idle
        printf "\"pull_round_s\":%s,\"gateway_fds\":%d,", pull, fds
        printf "\"gateway_rss_kb\":{\"idle\":%d,\"after_load\":%d,\"peak\":%d}}\n", rssi, rss, hwm
    }'
    cleanup
}

for n in $members_list; do
    echo "== N=$n members" >&2
    # Not in a pipeline: a pipeline's subshell would keep the pids cleanup() needs.
    measure "$n" >> "$D/scale.jsonl"
    tail -n 1 "$D/scale.jsonl"
done
{
    printf '%8s %8s %7s %8s %8s | %8s %8s %8s | %9s %9s %9s | %8s %8s %8s | %8s %8s\n' members queries qps p50 p99 \
        gw_s/1k pg_s/1k mem_s/1k audit_B/q wal_B/q db_B/q idle_gw idle_pg idle_mem rss_kB peak_kB
    sed -n 's/^SCALE //p' "$D/scale.jsonl" | jq -r '[.members, .queries, .qps, .p50, .p99,
        .cpu_s_per_1000.gateway, .cpu_s_per_1000.postgres, .cpu_s_per_1000.members,
        .audit_bytes_per_query, .wal_bytes_per_query, .db_bytes_per_query,
        .idle_cpu_s_per_hour.gateway, .idle_cpu_s_per_hour.postgres,
        .idle_cpu_s_per_hour.members, .gateway_rss_kb.after_load, .gateway_rss_kb.peak] | @tsv' |
        while IFS="$(printf '\t')" read -r a b c d e f g h i j k l m o p r; do
            printf '%8s %8s %7s %8s %8s | %8s %8s %8s | %9s %9s %9s | %8s %8s %8s | %8s %8s\n' \
                "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h" "$i" "$j" "$k" "$l" "$m" "$o" "$p" "$r"
        done
    echo "(CPU seconds per 1,000 queries; idle CPU seconds per hour; $D/scale.jsonl)"
} >&2
