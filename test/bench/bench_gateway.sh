#!/bin/sh
# The whole gateway (issue #6 "Speed (benchmark)", issue #9 `make bench`):
# the real bin/fhirgate-gateway over HTTPS, a real token from POST
# /auth/token, a durable private PostgreSQL (fsync and synchronous_commit
# on), members = one nginx serving fixed searchsets over HTTPS with mTLS
# (as bench_federation), a clinician's federated search
# GET /fhir/Observation?patient=<regional id> from CONC concurrent
# keep-alive clients.  In the same run the same search against
# build/bench/bin/fhirgate-gateway, the `bench` build variant
# (-DFHIRGATE_BENCH_NOOP_AUDIT: gw_audit_append does nothing; never
# installed, no configuration reaches it), same config and database.
#   - requests/s and latency p50/p99, audited against no-op, at 30 and 73
#     members; runs interleaved (order alternating), after a warm-up;
#     goal: audited >= 0.90 x no-op;
#   - resident memory per idle keep-alive HTTPS connection of the whole
#     gateway process at 1,000 connections, against nginx (one worker) in
#     the same run (fresh processes per run).
# A patient "a" is held by members 0..29, "b" by all 73; the MPI links them
# by resident identity number through the gateway's own identity pull.
#   BENCH_GW_SECONDS (4) per run, BENCH_GW_REPS (5) runs per variant,
#   BENCH_GW_CONC (16) clients, BENCH_GW_SIZES ("30 73"),
#   BENCH_GW_WORKER_SET ("default": federation worker counts to run;
#   "default" = the gateway's own default, 8),
#   BENCH_GW_PARTS ("load mem"), BENCH_GW_PERF=1: perf profile of one
#   audited run into var/bench/gateway-perf-*.txt (PostgreSQL: -pg-).
# Output: BENCH lines (see test/bench/run.sh).
set -eu
cd "$(dirname "$0")/../.."
. test/bench/lib.sh
root=$(pwd)
B=$root/build/release/test/bench_gateway
FED=$root/build/release/test/bench_federation
HCM=$root/build/release/test/bench_http_conn_mem
GW=$root/bin/fhirgate-gateway
NOOP=$root/build/bench/bin/fhirgate-gateway
secs=${BENCH_GW_SECONDS:-4}
reps=${BENCH_GW_REPS:-5}
conc=${BENCH_GW_CONC:-16}
sizes=${BENCH_GW_SIZES:-30 73}
parts=${BENCH_GW_PARTS:-load mem}
N=73
PER=8
corpus=${FHIRGATE_CORPUS:-}
if [ -z "$corpus" ]; then
    corpus=../shared/corpus
    [ -d "$corpus" ] || corpus=/work/shared/corpus
fi
export FHIRGATE_CORPUS="$corpus"
command -v nginx >/dev/null || { echo "bench_gateway: needs nginx (deploy/install-deps.sh)" >&2; exit 1; }
[ -x "$B" ] && [ -x "$FED" ] && [ -x "$HCM" ] && [ -x "$GW" ] || make --no-print-directory -j2 all bench-programs >&2
# The no-op build: its own variant folder, never bin/.
make --no-print-directory -j2 VARIANT=bench build/bench/bin/fhirgate-gateway >&2

tmp=$(mktemp -d /tmp/fhirgate-gwbench.XXXXXX)
chmod 755 "$tmp"
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || :; done
    for p in $pids; do wait "$p" 2>/dev/null || :; done
    [ -s "$tmp/members.pid" ] && kill -QUIT "$(cat "$tmp/members.pid")" 2>/dev/null || :
    deploy/pgctl.sh stop "$tmp/pg" >/dev/null 2>&1 || :
    sleep 0.3
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
want() { case " $parts " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# 73 ports picked among ephemeral ones often meet another process's
# outgoing connection, and then nginx cannot bind: freeport.sh picks below
# the ephemeral range.
lowport() { test/support/freeport.sh; }

# ---- PKI and keys: the region CA, one server certificate (gateway and
# members), the gateway's client certificate; token and audit keys.
deploy/ca.sh init "$tmp/ca" >/dev/null
deploy/ca.sh server "$tmp/ca" localhost >/dev/null
deploy/ca.sh client "$tmp/ca" gateway >/dev/null
ca=$tmp/ca/ca.crt crt=$tmp/ca/server/localhost.crt key=$tmp/ca/server/localhost.key
ccrt=$tmp/ca/client/gateway.crt ckey=$tmp/ca/client/gateway.key
for k in auth audit; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$k.pem" 2>/dev/null
done

# ---- durable PostgreSQL
pgport=$(lowport)
deploy/pgctl.sh init "$tmp/pg" >&2
deploy/pgctl.sh start "$tmp/pg" "$pgport" >&2
admin=$(deploy/pgctl.sh url "$tmp/pg" "$pgport")
psql -qX "$admin" -c "CREATE DATABASE bench" >&2
db=$(deploy/pgctl.sh url "$tmp/pg" "$pgport" bench)
echo "postgres: fsync=$(psql -qXAt "$db" -c 'SHOW fsync')" \
    "synchronous_commit=$(psql -qXAt "$db" -c 'SHOW synchronous_commit')" >&2
bin/fhirgate migrate --database "$db" >&2
app=$(echo "$db" | sed 's/user=postgres/user=fhirgate_app/')
printf 'bench-password-1234\n' >"$tmp/pw"
bin/fhirgate user add dr --role clinician --organization m0 --password-file "$tmp/pw" \
    --database "$db" >&2

# ---- members: Patients (GB 11643 resident ids, ISO 7064 MOD 11-2 check
# character), Observation searchsets (bench_federation gen), metadata.
resid() { # 17 digits -> 18 characters
    echo "$1" | awk '{ split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " "); s = 0
        for (i = 1; i <= 17; i++) s += substr($1, i, 1) * w[i]
        printf "%s%s\n", $1, substr("10X98765432", s % 11 + 1, 1) }'
}
ra=$(resid 11010519800101011) rb=$(resid 11010519800101022)
mkdir -p "$tmp/data" "$tmp/temp"
"$FED" gen "$tmp/data" "$N" "$PER"
patient() { # member person resid
    printf '{"resourceType":"Patient","id":"%s-m%s","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00Z"},"identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"urn:fhirgate:bench:m%s:mrn","value":"MRN-%s-%s"},{"system":"urn:oid:2.16.156.10011.1.3","value":"%s"}],"name":[{"family":"Zhang","given":["San"]}],"gender":"male","birthDate":"1980-01-01"}' \
        "$2" "$1" "$1" "$2" "$1" "$3"
}
i=0
while [ $i -lt $N ]; do
    {
        printf '{"resourceType":"Bundle","type":"searchset","entry":['
        if [ $i -lt 30 ]; then
            printf '{"fullUrl":"urn:uuid:a%s","resource":' $i; patient $i a "$ra"
            printf ',"search":{"mode":"match"}},'
        fi
        printf '{"fullUrl":"urn:uuid:b%s","resource":' $i; patient $i b "$rb"
        printf ',"search":{"mode":"match"}}]}'
    } >"$tmp/data/p$i.json"
    i=$((i + 1))
done
printf '{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1","date":"2026-01-01","format":["json"]}' \
    >"$tmp/data/metadata.json"

start_members() {
    : >"$tmp/ports"
    i=0
    while [ $i -lt $N ]; do
        p=$(lowport)
        grep -qx "$p" "$tmp/ports" || { echo "$p" >>"$tmp/ports"; i=$((i + 1)); }
    done
    {
        echo "worker_processes 1; pid $tmp/members.pid; error_log $tmp/members.err warn;"
        echo "events { worker_connections 16384; }"
        echo "http { access_log off; default_type application/fhir+json; root $tmp/data;"
        echo "  client_body_temp_path $tmp/temp/cb; proxy_temp_path $tmp/temp/px;"
        echo "  fastcgi_temp_path $tmp/temp/fc; uwsgi_temp_path $tmp/temp/uw; scgi_temp_path $tmp/temp/sc;"
        echo "  ssl_certificate $crt; ssl_certificate_key $key;"
        echo "  ssl_client_certificate $ca; ssl_verify_client on;"
        echo "  ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:M:10m;"
        echo "  keepalive_requests 1000000; keepalive_timeout 120s;"
        i=0
        while read -r p; do
            echo "  server { listen 127.0.0.1:$p ssl http2;"
            echo "    location = /fhir/metadata { try_files /metadata.json =404; }"
            echo "    location = /fhir/Patient { try_files /p$i.json =404; }"
            echo "    location = /fhir/Observation { try_files /m$i.json =404; } }"
            i=$((i + 1))
        done <"$tmp/ports"
        echo "}"
    } >"$tmp/members.conf"
    nginx -e "$tmp/members.err" -p "$tmp/" -c "$tmp/members.conf" 2>>"$tmp/start.log"
}
tries=0
until start_members; do
    tries=$((tries + 1))
    [ $tries -lt 5 ] || { echo "bench_gateway: nginx cannot start" >&2; cat "$tmp/start.log" >&2; exit 1; }
done

# ---- the gateway: one config per node (id, pull on or off)
conf() { # file node pull
    cat >"$1" <<EOF
[node]
id = $2
public_url = https://127.0.0.1:1
state_dir = $tmp/state
log_level = warn
shutdown_grace = 5s
[http]
listen = 127.0.0.1:0
cert = $crt
key = $key
client_ca = $ca
client_auth = ${BENCH_GW_CLIENT_AUTH:-optional}
max_connections_per_ip = 0
idle_timeout = 120s
[database]
url = env:BENCH_GW_DB_URL
pool_size = 16
migrate = check
[audit]
signing_key = $tmp/audit.pem
writers = ${BENCH_GW_WRITERS:-4}
[auth]
signing_key = $tmp/auth.pem
password_grant = true
token_lifetime = 4h
[registry]
probe_interval = 0
[mpi]
pull = $3
pull_interval = 500ms
[federation]
ca = $ca
client_cert = $ccrt
client_key = $ckey
deadline = 10s
${BENCH_GW_WORKERS:+workers = $BENCH_GW_WORKERS}
EOF
    i=0
    while read -r p; do
        printf '[member "m%s"]\nname = "Member %s"\nbase = https://127.0.0.1:%s/fhir\nstatus = active\n' \
            $i $i "$p" >>"$1"
        i=$((i + 1))
    done <"$tmp/ports"
}
# start_gw BIN CONF NAME: starts it in the background, sets gw_pid and gw_port
start_gw() {
    : >"$tmp/$3.out"
    BENCH_GW_DB_URL=$app "$1" --config "$2" >"$tmp/$3.out" 2>>"$tmp/$3.err" &
    gw_pid=$!
    pids="$pids $gw_pid"
    gw_port=""
    i=0
    while [ $i -lt 600 ] && [ -z "$gw_port" ]; do
        gw_port=$(sed -n 's/^ready: port=\([0-9]*\).*/\1/p' "$tmp/$3.out")
        kill -0 "$gw_pid" 2>/dev/null || break
        [ -n "$gw_port" ] || sleep 0.1
        i=$((i + 1))
    done
    [ -n "$gw_port" ] || { echo "bench_gateway: $3 did not start" >&2; cat "$tmp/$3.err" >&2; exit 1; }
}
stop_gw() { # pid
    kill "$1" 2>/dev/null || :
    wait "$1" 2>/dev/null || :
    pids=$(echo "$pids" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}
sql() { psql -qXAt "$db" -c "$1"; }
person() { # resid links: the regional id once the pull linked it at `links` members
    sql "SELECT p.public_id FROM mpi.person p JOIN mpi.record r ON r.person_id = p.id
         WHERE r.resident_id = '$1' GROUP BY p.public_id HAVING count(*) >= $2"
}
token() { # port
    curl -s --cacert "$ca" -d "grant_type=password&username=dr&client_id=portal" \
        --data-urlencode "password=$(head -n 1 "$tmp/pw")" "https://127.0.0.1:$1/auth/token" |
        tee -a "$tmp/token.log" | jq -r .access_token
}

# Link the two persons through the identity pull, then run without it.
conf "$tmp/link.conf" gw-link true
start_gw "$GW" "$tmp/link.conf" link
i=0
pa="" pb=""
while [ $i -lt 300 ] && { [ -z "$pa" ] || [ -z "$pb" ]; }; do
    pa=$(person "$ra" 30) pb=$(person "$rb" 73)
    [ -n "$pa" ] && [ -n "$pb" ] || sleep 0.2
    i=$((i + 1))
done
stop_gw "$gw_pid"
[ -n "$pa" ] && [ -n "$pb" ] || { echo "bench_gateway: the pull did not link the persons" >&2
    cat "$tmp/link.err" >&2; exit 1; }
echo "persons linked: a at 30 members, b at 73" >&2

conf "$tmp/audited.conf" gw-audited false


# ---- throughput and latency, audited against no-op
hz=$(getconf CLK_TCK)
ticks() { # utime + stime (+ children's when $2 = all) of process $1
    awk -v all="${2:-}" '{ print $14 + $15 + (all ? $16 + $17 : 0) }' "/proc/$1/stat" 2>/dev/null ||
        echo 0
}
pg_ticks() { # the postmaster, its exited and its live children (backends)
    pm=$(head -n 1 "$tmp/pg/data/postmaster.pid")
    { ticks "$pm" all; for c in $(pgrep -P "$pm"); do ticks "$c"; done; } | awk '{ s += $1 } END { print s }'
}
audit_pg_ticks() { # the backends of the audit writers' pools (both nodes)
    for c in $(sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'fhirgate-gateway-audit'"); do
        ticks "$c"; done | awk '{ s += $1 } END { print s + 0 }'
}
members_ticks() {
    mp=$(cat "$tmp/members.pid")
    for c in $(pgrep -P "$mp"); do ticks "$c"; done | awk '{ s += $1 } END { print s }'
}
rows() { sql "SELECT count(*) FROM audit.event WHERE chain_id LIKE '$1%'"; }
# group commits of the audited node so far: the rows of one batch share
# their recorded_at on their chain
batches() { sql "SELECT count(DISTINCT (chain_id, recorded_at)) FROM audit.event
                 WHERE chain_id LIKE 'gw-audited%'"; }
med() { stats <"$tmp/$1" | cut -d' ' -f1; }

# run_load WORKERS: both nodes with that many federation workers, every size
run_load() {
    w=$1
    tag=""
    [ "$w" = default ] || { tag=", $w workers"; export BENCH_GW_WORKERS=$w; }
    conf "$tmp/audited.conf" gw-audited false
    conf "$tmp/noop.conf" gw-noop false
    unset BENCH_GW_WORKERS
    start_gw "$GW" "$tmp/audited.conf" audited
    aud_pid=$gw_pid aud_port=$gw_port
    start_gw "$NOOP" "$tmp/noop.conf" noop
    noop_pid=$gw_pid noop_port=$gw_port
    ta=$(token "$aud_port") tn=$(token "$noop_port")
    [ -n "$ta" ] && [ "$ta" != null ] && [ -n "$tn" ] && [ "$tn" != null ] ||
        { echo "bench_gateway: no token" >&2; cat "$tmp/token.log" "$tmp/audited.err" >&2; exit 1; }
    for n in $sizes; do
        if [ "$n" = 30 ]; then pid=$pa; else pid=$pb; fi
        path="/fhir/Observation?patient=$pid"
        # what one answer holds (the first page of the merged searchset)
        curl -s --cacert "$ca" -H "Authorization: Bearer $ta" "https://127.0.0.1:$aud_port$path" \
            >"$tmp/answer.json"
        expect=$(jq '[.entry[] | select(.search.mode == "match")] | length' "$tmp/answer.json")
        outcomes=$(jq '[.entry[] | select(.search.mode == "outcome")] | length' "$tmp/answer.json")
        echo "$n members$tag: one answer $(wc -c <"$tmp/answer.json") bytes, $expect entries" \
            "(page of $((n * PER))), $outcomes member failures" >&2
        [ "$outcomes" = 0 ] && [ "$expect" -gt 0 ] ||
            { echo "bench_gateway: the search does not reach every member" >&2; exit 1; }
        for v in audited noop; do # warm-up
            if [ $v = audited ]; then p=$aud_port t=$ta; else p=$noop_port t=$tn; fi
            "$B" load "https://127.0.0.1:$p$path" "$ca" "$t" "$conc" 2 "$expect" >/dev/null
        done
        for v in audited noop; do
            for k in rps p50 p99 gw pg mem apg; do : >"$tmp/$v.$k"; done
        done
        : >"$tmp/batch"
        r=1
        while [ $r -le "$reps" ]; do
            if [ $((r % 2)) = 1 ]; then order="audited noop"; else order="noop audited"; fi
            for v in $order; do
                if [ $v = audited ]; then p=$aud_port t=$ta gp=$aud_pid; else p=$noop_port t=$tn gp=$noop_pid; fi
                r0=$(rows gw-audited) b0=$(batches)
                c0=$(ticks "$gp") d0=$(pg_ticks) m0=$(members_ticks) x0=$(audit_pg_ticks)
                out=$("$B" load "https://127.0.0.1:$p$path" "$ca" "$t" "$conc" "$secs" "$expect")
                c1=$(ticks "$gp") d1=$(pg_ticks) m1=$(members_ticks) x1=$(audit_pg_ticks)
                r1=$(rows gw-audited) b1=$(batches)
                q=$(field requests "$out")
                cpu=$(awk -v q="$q" -v hz="$hz" -v g=$((c1 - c0)) -v d=$((d1 - d0)) -v m=$((m1 - m0)) \
                    -v x=$((x1 - x0)) \
                    'BEGIN { q = q > 0 ? q : 1; printf "%.2f %.2f %.2f %.2f", g*1000/hz/q, d*1000/hz/q, m*1000/hz/q, x*1000/hz/q }')
                set -- $cpu
                echo "$n members$tag, $v, run $r: $out audit_rows=$((r1 - r0))" \
                    "batches=$((b1 - b0)) cpu_ms_per_request: gateway=$1 postgres=$2 members=$3" \
                    "(postgres audit writers=$4)" >&2
                [ "$(field failed "$out")" = 0 ] || echo "bench_gateway: $v run had failed answers" >&2
                field req_per_s "$out" >>"$tmp/$v.rps"
                field p50_ms "$out" >>"$tmp/$v.p50"
                field p99_ms "$out" >>"$tmp/$v.p99"
                echo "$1" >>"$tmp/$v.gw"; echo "$2" >>"$tmp/$v.pg"; echo "$3" >>"$tmp/$v.mem"
                echo "$4" >>"$tmp/$v.apg"
                [ $v = noop ] || awk -v r=$((r1 - r0)) -v b=$((b1 - b0)) \
                    'BEGIN { printf "%.2f\n", (b > 0 ? r / b : 0) }' >>"$tmp/batch"
            done
            r=$((r + 1))
        done
        if [ "${BENCH_GW_PERF:-0}" = 1 ] && command -v perf >/dev/null; then
            # the PostgreSQL backends too: they come and go, so the whole box
            perf record -g -o "$tmp/perf-all.data" -a -- sleep "$secs" >/dev/null 2>&1 &
            perf_all=$!
            perf record -g -o "$tmp/perf.data" -p "$aud_pid" -- sleep "$secs" >/dev/null 2>&1 &
            perf_pid=$!
            apids=$(sql "SELECT string_agg(pid::text, ',') FROM pg_stat_activity
                         WHERE application_name = 'fhirgate-gateway-audit'")
            perf record -o var/bench/gateway-perf-pg-audit.data -p "$apids" -- sleep "$secs" \
                >/dev/null 2>&1 &
            echo "perf, audited node:" >&2
            "$B" load "https://127.0.0.1:$aud_port$path" "$ca" "$ta" "$conc" "$secs" "$expect" >&2
            wait $perf_pid || :
            wait $perf_all || :
            cp "$tmp/perf.data" var/bench/gateway-perf.data 2>/dev/null || :
            mkdir -p var/bench
            perf report -i "$tmp/perf-all.data" --comms postgres --no-children -g none \
                --sort dso,symbol --stdio --percent-limit 0.03 2>/dev/null | head -n 300 \
                >"var/bench/gateway-perf-pg-$n-$w.txt" || :
            perf report -i "$tmp/perf-all.data" --no-children -g none --sort comm --stdio \
                2>/dev/null | head -n 40 >>"var/bench/gateway-perf-pg-$n-$w.txt" || :
            perf report -i "$tmp/perf.data" --no-children -g none --sort dso,symbol --stdio \
                --percent-limit 0.2 2>/dev/null | head -n 200 >"var/bench/gateway-perf-$n-$w.txt" || :
            # the no-op node the same way, to compare samples per request
            perf record -g -o var/bench/gateway-perf-noop.data -p "$noop_pid" -- sleep "$secs" \
                >/dev/null 2>&1 &
            perf_pid=$!
            echo "perf, no-op node:" >&2
            "$B" load "https://127.0.0.1:$noop_port$path" "$ca" "$tn" "$conc" "$secs" "$expect" >&2
            wait $perf_pid || :
        fi
        set -- $(stats <"$tmp/audited.rps"); a=$1 sa=$2
        set -- $(stats <"$tmp/noop.rps"); b=$1
        bench_line "gateway: federated search, $n members$tag, audited req/s" "req/s" "$a" "$sa" \
            "same build, audit no-op" "$b" ">= 0.90x no-op" \
            "$(awk -v a="$a" -v b="$b" 'BEGIN {print (a>=0.9*b)?"true":"false"}')"
        set -- $(stats <"$tmp/audited.p50"); a=$1 sa=$2
        bench_line "  same, latency p50 ($conc clients)" ms "$a" "$sa" "audit no-op" "$(med noop.p50)" \
            "informational" true
        set -- $(stats <"$tmp/audited.p99"); a=$1 sa=$2
        bench_line "  same, latency p99 ($conc clients)" ms "$a" "$sa" "audit no-op" "$(med noop.p99)" \
            "informational" true
        ca_=$(awk -v g="$(med audited.gw)" -v d="$(med audited.pg)" -v m="$(med audited.mem)" 'BEGIN {print g+d+m}')
        cn_=$(awk -v g="$(med noop.gw)" -v d="$(med noop.pg)" -v m="$(med noop.mem)" 'BEGIN {print g+d+m}')
        bench_line "  same, CPU ms per request (gateway+PostgreSQL+members)" ms "$ca_" 0 "audit no-op" "$cn_" \
            "informational (gw $(med audited.gw)/$(med noop.gw), pg $(med audited.pg)/$(med noop.pg))" true
        bench_line "  same, audit rows per group commit" rows "$(med batch)" 0 "" "" "informational" true
        bench_line "  same, PostgreSQL CPU ms per audit row (audit writers' backends)" ms \
            "$(med audited.apg)" 0 "" "" "informational" true
        # the machine's speed drifts during a run: each audited run against the
        # no-op run next to it (interleaved) cancels the drift
        set -- $(paste "$tmp/audited.rps" "$tmp/noop.rps" | awk '$2 > 0 { print $1 / $2 }' | stats)
        bench_line "  same, audited/no-op req/s of adjacent runs (median of pairs)" ratio "$1" "$2" \
            "" "" "informational" true
    done
    echo "audit rows written: audited node $(rows gw-audited), no-op node $(rows gw-noop)" >&2
    [ "$(rows gw-noop)" = 0 ] || { echo "bench_gateway: the no-op build wrote audit rows" >&2; exit 1; }
    stop_gw "$aud_pid"
    stop_gw "$noop_pid"
}
want load && for w in ${BENCH_GW_WORKER_SET:-default}; do run_load "$w"; done

# ---- memory per idle keep-alive HTTPS connection at 1,000 connections:
# a fresh gateway and a fresh nginx per run (resident memory does not
# shrink after connections close).
conns=${BENCH_GW_CONNS:-1000}
want mem || exit 0
peer_nginx() {
    port=$(lowport)
    mkdir -p "$tmp/ng"
    cat >"$tmp/ng/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/ng/nginx.pid;
error_log $tmp/ng/error.log warn;
worker_rlimit_nofile 8192;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/ng/body; proxy_temp_path $tmp/ng/proxy;
    fastcgi_temp_path $tmp/ng/fcgi; uwsgi_temp_path $tmp/ng/uwsgi; scgi_temp_path $tmp/ng/scgi;
    keepalive_timeout 300s;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $crt;
        ssl_certificate_key $key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location /healthz { default_type application/json; return 200 '{"status":"pass"}'; }
    }
}
CONF
    nginx -p "$tmp/ng/" -c "$tmp/ng/nginx.conf" -e "$tmp/ng/error.log" &
    ng_pid=$!
    pids="$pids $ng_pid"
    i=0
    while [ $i -lt 50 ] && ! ss -Htln "sport = :$port" | grep -q .; do sleep 0.1; i=$((i + 1)); done
    ng_worker=$(pgrep -P "$ng_pid" | head -n 1)
}
ulimit -n 8192 2>/dev/null || :
: >"$tmp/mem.ours"; : >"$tmp/mem.peer"; : >"$tmp/mem.total"; : >"$tmp/mem.seq"
for r in 1 2 3; do
    start_gw "$GW" "$tmp/audited.conf" mem
    out=$("$B" conns "https://127.0.0.1:$gw_port/healthz" "$ca" "$conns" "$gw_pid") ||
        { echo "bench_gateway: connections to the gateway failed: $out" >&2; cat "$tmp/mem.err" >&2; exit 1; }
    echo "gateway, run $r: $out" >&2
    field bytes_per_conn "$out" | awk '{print $1/1024}' >>"$tmp/mem.ours"
    field rss_after_kb "$out" | awk '{print $1/1024}' >>"$tmp/mem.total"
    stop_gw "$gw_pid"
    # the same daemon, fresh, with the connections opened one after another
    # (bench_http_conn_mem's client, which measures the http layer alone):
    # no burst of 1,000 simultaneous handshakes whose transient buffers
    # stay in the heap
    start_gw "$GW" "$tmp/audited.conf" mem
    out=$("$HCM" --ca "$ca" --cert "$crt" --key "$key" --conns "$conns" \
        --peer-pid "$gw_pid" --peer-port "$gw_port") ||
        { echo "bench_gateway: one-by-one connections to the gateway failed: $out" >&2; exit 1; }
    echo "gateway, one by one, run $r: $out" >&2
    echo "$out" | jq -r '.peer / 1024' >>"$tmp/mem.seq"
    stop_gw "$gw_pid"
    peer_nginx
    out=$("$B" conns "https://127.0.0.1:$port/healthz" "$ca" "$conns" "$ng_worker") ||
        { echo "bench_gateway: connections to nginx failed: $out" >&2; exit 1; }
    echo "nginx, run $r: $out" >&2
    field bytes_per_conn "$out" | awk '{print $1/1024}' >>"$tmp/mem.peer"
    stop_gw "$ng_pid"
done
# The goal (issue #5: <= 18 KB, "nginx: about 15 KB") is judged on the
# connections opened one by one, the method its reference figure matches
# (nginx 14.2 KiB that way in bench_http_conn_mem, 37-41 KiB opened all at
# once): at once, both servers keep the heap of the simultaneous
# handshakes; shown next to nginx for scale.
set -- $(stats <"$tmp/mem.seq"); a=$1 sa=$2
bench_line "gateway: memory per idle HTTPS connection ($conns, opened one by one)" KiB "$a" "$sa" \
    "" "" "<= 18 KB" "$(awk -v a="$a" 'BEGIN {print (a*1024<=18000)?"true":"false"}')"
set -- $(stats <"$tmp/mem.ours"); a=$1 sa=$2
set -- $(stats <"$tmp/mem.peer"); b=$1
bench_line "  same, $conns opened at once" KiB "$a" "$sa" \
    "nginx $(nginx -v 2>&1 | sed 's|.*/||'), 1 worker" "$b" "informational" true
set -- $(stats <"$tmp/mem.total"); a=$1 sa=$2
bench_line "  same, gateway resident memory at $conns connections" MiB "$a" "$sa" "" "" \
    "informational" true
