#!/bin/sh
# deploy/scale-measure.sh — measure what a gateway node, its PostgreSQL and its members
# cost, per member and per 1,000 federated queries, on this machine.  docs/SCALE.md holds
# the figures measured here and the province-scale calculation made from them.
#
#   deploy/scale-measure.sh [--members "1 10 73 200"] [--queries 2000] [--connections 8]
#                           [--idle 30] [DIR]
#   deploy/scale-measure.sh --adapter [--patients 200] [--queries …] [--idle …] [DIR]
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
# stdout ("SCALE {…}") and a table on stderr.
#
# --adapter measures one real member instead: bin/fhirgate-adapter on a cluster of its own,
# --patients patients ingested over HL7 v2 (POST /ingest/hl7v2: an ADT^A01 and an ORU^R01
# with four results each), then the same idle and load runs through one gateway (its own
# cluster), so that CPU is told apart: gateway, gateway's PostgreSQL, adapter, adapter's
# PostgreSQL.  Also the ingest: messages/s, CPU and database bytes per message.  One JSON
# line "SCALE_ADAPTER {…}".  Nothing either mode starts outlives it.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
BIN=${FHIRGATE_BIN:-$here/bin}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
members_list="1 10 73 200" queries=2000 conns=8 idle=30 D="" adapter=no patients=200
while [ $# -gt 0 ]; do
    case "$1" in
    --members) members_list=${2:?}; shift 2 ;;
    --queries) queries=${2:?}; shift 2 ;;
    --adapter) adapter=yes; shift ;;
    --patients) patients=${2:?}; shift 2 ;;
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
AD=""
PGA=""
cleanup() {
    [ -n "$GW" ] && kill "$GW" 2>/dev/null && wait "$GW" 2>/dev/null || :
    [ -n "$AD" ] && kill "$AD" 2>/dev/null && wait "$AD" 2>/dev/null || :
    [ -n "$REG" ] && "$here/deploy/region-gen.sh" stop "$REG" >/dev/null 2>&1 || :
    [ -n "$PG" ] && "$here/deploy/pgctl.sh" stop "$PG" >/dev/null 2>&1 || :
    [ -n "$PGA" ] && "$here/deploy/pgctl.sh" stop "$PGA" >/dev/null 2>&1 || :
    GW="" AD="" REG="" PG="" PGA=""
}
trap cleanup EXIT INT TERM

# CPU seconds (user + system, children waited for included) of a list of pids.
cpu_of() {
    for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done |
        awk -v t="$TCK" '{ sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15 } END { printf "%.3f", s / t }'
}
pg_pids() { # [cluster folder]: its postmaster and children
    pm=$(head -n 1 "${1:-$PG}/data/postmaster.pid")
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
    eval "$1_ng=$([ -n "$REG" ] && cpu_of $(nginx_pids) || echo 0)"
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
    curl -s --no-progress-meter -k -Z --parallel-max "$conns" -H "Authorization: Bearer $tok" \
        -w '%{http_code} %{time_total}\n' -K "$W/urls.cfg" > "$2"
}

# A private durable cluster in $1 with database "fhirgate" on a free port; its URL.
cluster() { # folder
    "$here/deploy/pgctl.sh" init "$1"
    for _ in 1 2 3 4 5; do
        pport=$("$here/deploy/free-port.sh")
        "$here/deploy/pgctl.sh" start "$1" "$pport" 2>/dev/null && break
    done
    "$PGBIN/psql" -qAtX -d "$("$here/deploy/pgctl.sh" url "$1" "$pport")" \
        -c "CREATE DATABASE fhirgate"
    "$here/deploy/pgctl.sh" url "$1" "$pport" fhirgate
}

# Start one gateway node on $URL with the members of file $1 and CA $CA, sign a clinician
# of member $2 in; sets GW, B, tok.
gateway_up() { # members.conf member
    "$here/deploy/ca.sh" server "$CA" gateway >/dev/null
    "$here/deploy/ca.sh" client "$CA" gateway >/dev/null
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
    cat "$1" >> "$W/gateway.conf"
    SCALE_DB_URL=$URL "$BIN/fhirgate-gateway" --config "$W/gateway.conf" > "$W/gw.out" 2> "$W/gw.log" &
    GW=$!
    t=0
    until grep -q '^ready:' "$W/gw.out" 2>/dev/null; do
        t=$((t + 1)); [ $t -lt 600 ] || { echo "gateway did not start" >&2; exit 1; }; sleep 0.1
    done
    printf '%s\n' "scale-measure-pw-1" > "$W/pw"
    "$BIN/fhirgate" user add dr.scale --role clinician --organization "$2" --password-file "$W/pw" \
        --database "$URL" >/dev/null
    B=https://127.0.0.1:$port
    tok=$(curl -s -k -d 'grant_type=password&username=dr.scale&password=scale-measure-pw-1' \
        -d 'client_id=portal' "$B/auth/token" | jq -r .access_token)
}

# The regional id of the person with resident id $1 once $2 member records link to it.
person_of() { # resid count
    person="" t=0
    while [ -z "$person" ] && [ $t -lt 600 ]; do
        person=$(q "SELECT p.public_id FROM mpi.person p JOIN mpi.record r ON r.person_id = p.id
            WHERE r.resident_id = '$1' GROUP BY 1 HAVING count(*) = $2")
        t=$((t + 1)); sleep 0.2
    done
    [ -n "$person" ] || { echo "scale-measure: the MPI did not link $2 record(s)" >&2; exit 1; }
    echo "$person"
}

measure() { # N
    n=$1
    W=$D/n$n
    rm -rf "$W"
    mkdir -p "$W"
    PG=$W/pg
    URL=$(cluster "$PG")
    REG=$W/region
    for _ in 1 2 3; do
        "$here/deploy/region-gen.sh" gen "$REG" --members "$n" --shared-cert >/dev/null
        "$here/deploy/region-gen.sh" start "$REG" >/dev/null 2>&1 && break
    done
    CA=$REG/ca
    gateway_up "$REG/gateway-members.conf" m001
    person=$(person_of "$(cut -d'|' -f2 "$REG/shared-patient")" "$n")
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

snapshot_adapter() { # label
    eval "$1_ad=$(cpu_of "$AD")"
    # shellcheck disable=SC2046
    eval "$1_pga=$(cpu_of $(pg_pids "$PGA"))"
    eval "$1_adb=$("$PGBIN/psql" -qAtX -d "$AURL" -c "SELECT pg_database_size(current_database())")"
    # Rows of every table, counted (the statistics' n_tup_ins lag up to 10 s behind).
    eval "$1_arows=$("$PGBIN/psql" -qAtX -d "$AURL" -c "SELECT coalesce(sum((xpath('/row/c/text()',
        query_to_xml(format('SELECT count(*) AS c FROM %I.%I', schemaname, relname), false, true,
        '')))[1]::text::bigint), 0) FROM pg_stat_user_tables")"
}

measure_adapter() {
    W=$D/adapter
    rm -rf "$W"
    mkdir -p "$W"
    chmod 755 "$W"
    PG=$W/pg-gateway
    URL=$(cluster "$PG")
    PGA=$W/pg-adapter
    AURL=$(cluster "$PGA")
    CA=$W/ca
    "$here/deploy/ca.sh" init "$CA" >/dev/null
    "$here/deploy/ca.sh" server "$CA" hosp-a >/dev/null
    "$here/deploy/ca.sh" client "$CA" his-a >/dev/null
    aport=$("$here/deploy/free-port.sh")
    cat > "$W/adapter.conf" <<EOF
[adapter]
member_id = hosp-a
name = "Hospital A"
public_url = https://127.0.0.1:$aport/fhir
state_dir = $W/adapter-state
log_level = warn
[http]
listen = 127.0.0.1:$aport
cert = $CA/server/hosp-a.crt
key = $CA/server/hosp-a.key
client_ca = $CA/ca.crt
gateway_cn = gateway
[database]
url = env:SCALE_ADAPTER_DB_URL
[mllp]
enabled = false
[ingest]
clients = his-a
[hl7v2]
system_base = https://hosp-a.example/sid
authority = HIS=https://hosp-a.example/sid/mrn
authority = RESID=urn:oid:2.16.156.10011.1.3
EOF
    SCALE_ADAPTER_DB_URL=$AURL "$BIN/fhirgate-adapter" --config "$W/adapter.conf" \
        > "$W/adapter.out" 2> "$W/adapter.log" &
    AD=$!
    t=0
    until grep -q '^ready:' "$W/adapter.out" 2>/dev/null; do
        t=$((t + 1)); [ $t -lt 600 ] || { echo "adapter did not start" >&2; exit 1; }; sleep 0.1
    done
    # Ingest, 50 patients (100 messages) a request.
    snapshot_adapter g0
    t0=$(date +%s.%N)
    p=0
    : > "$W/acks.txt"
    while [ $p -lt "$patients" ]; do
        e=$((p + 50)); [ $e -le "$patients" ] || e=$patients
        "$here/deploy/hl7-gen.sh" "$p" "$e" > "$W/batch.hl7"
        curl -s --cacert "$CA/ca.crt" --cert "$CA/client/his-a.crt" --key "$CA/client/his-a.key" \
            -H 'Content-Type: x-application/hl7-v2+er7' --data-binary "@$W/batch.hl7" \
            "https://127.0.0.1:$aport/ingest/hl7v2" | tr '\r' '\n' | grep '^MSA' >> "$W/acks.txt"
        p=$e
    done
    t1=$(date +%s.%N)
    snapshot_adapter g1
    msgs=$(grep -c '^MSA|AA|' "$W/acks.txt" || :)
    [ "$msgs" -eq $((2 * patients)) ] ||
        { echo "scale-measure: only $msgs of $((2 * patients)) messages accepted" >&2; exit 1; }
    printf '[member "hosp-a"]\nname = "Hospital A"\nbase = https://127.0.0.1:%s/fhir\nstatus = active\n' \
        "$aport" > "$W/members.conf"
    gateway_up "$W/members.conf" hosp-a
    person=$(person_of 110105195001010012 1)
    path="/fhir/Observation?patient=$person&_count=1000"
    load 50 "$W/warm.txt"
    snapshot i0
    snapshot_adapter i0
    sleep "$idle"
    snapshot i1
    snapshot_adapter i1
    ad_rss_idle=$(rss_kb "$AD" VmRSS)
    snapshot l0
    snapshot_adapter l0
    t2=$(date +%s.%N)
    load "$queries" "$W/load.txt"
    t3=$(date +%s.%N)
    snapshot l1
    snapshot_adapter l1
    reqs=$(wc -l < "$W/load.txt")
    non2xx=$(awk '$1 != 200' "$W/load.txt" | wc -l)
    entries=$(curl -s -k -H "Authorization: Bearer $tok" "$B$path" | jq '[.entry[] | select(.search.mode == "match")] | length')
    p50=$(awk '{ print $2 * 1000 }' "$W/load.txt" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1fms", v[int(NR * 0.50 + 0.5)] }')
    p99=$(awk '{ print $2 * 1000 }' "$W/load.txt" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1fms", v[int(NR * 0.99 + 0.5)] }')
    awk -v pat="$patients" -v msgs="$msgs" -v ti0="$t0" -v ti1="$t1" -v tl0="$t2" -v tl1="$t3" \
        -v reqs="$reqs" -v non2xx="$non2xx" -v entries="$entries" -v p50="$p50" -v p99="$p99" \
        -v idle="$idle" -v rss_i="$ad_rss_idle" -v rss="$(rss_kb "$AD" VmRSS)" \
        -v gad0="$g0_ad" -v gad1="$g1_ad" -v gpa0="$g0_pga" -v gpa1="$g1_pga" \
        -v gdb0="$g0_adb" -v gdb1="$g1_adb" -v grw0="$g0_arows" -v grw1="$g1_arows" \
        -v iad0="$i0_ad" -v iad1="$i1_ad" -v ipa0="$i0_pga" -v ipa1="$i1_pga" \
        -v igw0="$i0_gw" -v igw1="$i1_gw" \
        -v lad0="$l0_ad" -v lad1="$l1_ad" -v lpa0="$l0_pga" -v lpa1="$l1_pga" \
        -v lgw0="$l0_gw" -v lgw1="$l1_gw" -v lpg0="$l0_pg" -v lpg1="$l1_pg" 'BEGIN {
        k = reqs / 1000
        printf "SCALE_ADAPTER {\"patients\":%d,\"messages\":%d,", pat, msgs
        printf "\"ingest\":{\"messages_per_s\":%.0f,\"adapter_cpu_ms_per_message\":%.2f,", msgs / (ti1 - ti0), (gad1 - gad0) * 1000 / msgs
        printf "\"postgres_cpu_ms_per_message\":%.2f,\"db_bytes_per_message\":%.0f,\"rows_per_message\":%.1f},", (gpa1 - gpa0) * 1000 / msgs, (gdb1 - gdb0) / msgs, (grw1 - grw0) / msgs
        printf "\"queries\":%d,\"non_2xx\":%d,\"entries\":%d,\"qps\":%.1f,\"p50\":\"%s\",\"p99\":\"%s\",", reqs, non2xx, entries, reqs / (tl1 - tl0), p50, p99
        printf "\"cpu_s_per_1000\":{\"gateway\":%.2f,\"gateway_postgres\":%.2f,\"adapter\":%.2f,\"adapter_postgres\":%.2f},", (lgw1 - lgw0) / k, (lpg1 - lpg0) / k, (lad1 - lad0) / k, (lpa1 - lpa0) / k
        printf "\"idle_cpu_s_per_hour\":{\"gateway\":%.1f,\"adapter\":%.1f,\"adapter_postgres\":%.1f},", (igw1 - igw0) * 3600 / idle, (iad1 - iad0) * 3600 / idle, (ipa1 - ipa0) * 3600 / idle
        printf "\"adapter_rss_kb\":{\"idle\":%d,\"after_load\":%d}}\n", rss_i, rss
    }'
    cleanup
}

if [ "$adapter" = yes ]; then
    measure_adapter >> "$D/scale.jsonl"
    tail -n 1 "$D/scale.jsonl"
    exit 0
fi

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
