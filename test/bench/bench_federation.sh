#!/bin/sh
# Federation benchmarks (issue #5 "Speed and memory"; output protocol in
# test/bench/run.sh).  Everything on loopback, members answering over HTTPS
# (mTLS, HTTP/2 offered) from memory: one nginx serving a fixed searchset
# per member port.  The relay reference is a second nginx (HTTPS in front,
# proxy_pass over HTTPS to the same members with an upstream keep-alive
# pool) driven by wrk.  Ports are picked at random per run.
#   - added latency of a federated query over its slowest member, p50/p99,
#     at 30 and 73 members (engine driven directly: submit -> callback ->
#     merged Bundle; the slowest member is measured in the same query);
#   - member requests/s during fan-out (one loop thread) against the
#     requests/s the nginx relay (one worker) passes, interleaved runs;
#   - merge CPU per 73-member query against the nginx relay's CPU for the
#     same 73 bodies.
#   - merge CPU on the same answers with Chinese text against English
#     (offline, informational).
# BENCH_FED_SECONDS (default 5) sets each throughput run's length;
# BENCH_FED_PARTS (default "latency throughput cpu zh") picks parts.
set -eu
cd "$(dirname "$0")/../.."
. test/bench/lib.sh
VARIANT=${VARIANT:-release}
B=$(pwd)/build/$VARIANT/test/bench_federation
secs=${BENCH_FED_SECONDS:-5}
corpus=${FHIRGATE_CORPUS:-}
if [ -z "$corpus" ]; then
    corpus=../shared/corpus
    [ -d "$corpus" ] || corpus=/work/shared/corpus
fi
export FHIRGATE_CORPUS="$corpus"
command -v nginx >/dev/null && command -v wrk >/dev/null || {
    echo "bench_federation: needs nginx and wrk (deploy/install-deps.sh)" >&2; exit 1; }
NGINX=$(command -v nginx)

tmp=$(mktemp -d /tmp/fhirgate-fedbench.XXXXXX)
chmod 755 "$tmp"
cleanup() {
    for p in "$tmp"/members.pid "$tmp"/relay.pid; do
        [ -s "$p" ] && kill -QUIT "$(cat "$p")" 2>/dev/null || :
    done
    sleep 0.3
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# ---- certificates (region CA, member server certificate, gateway client)
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key"
ossl req -x509 -new -key "$tmp/ca.key" -days 2 -subj "/CN=Bench Region CA" -out "$tmp/ca.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
issue() { # name subject ext
    ossl ecparam -name prime256v1 -genkey -noout -out "$tmp/$1.key"
    ossl req -new -key "$tmp/$1.key" -subj "$2" -out "$tmp/$1.csr"
    printf '%s\n' "$3" >"$tmp/$1.ext"
    ossl x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
        -days 2 -extfile "$tmp/$1.ext" -out "$tmp/$1.crt"
}
issue server "/CN=127.0.0.1" "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
issue client "/CN=gateway" "extendedKeyUsage=clientAuth"
[ -s "$tmp/client.crt" ] && [ -s "$tmp/server.crt" ] || { echo "bench_federation: PKI failed" >&2; exit 1; }

# ---- member answers and ports
N=73
PER=${BENCH_FED_PER_MEMBER:-8}
mkdir -p "$tmp/data" "$tmp/temp"
"$B" gen "$tmp/data" "$N" "$PER"
# A port free when picked may be taken a moment later (another test's
# outgoing connection, say): start over with new ports when nginx cannot bind.
start_servers() {
    : >"$tmp/ports"
    i=0
    while [ $i -lt $N ]; do
        p=$(test/support/freeport.sh)
        grep -qx "$p" "$tmp/ports" || { echo "$p" >>"$tmp/ports"; i=$((i + 1)); }
    done
    head -n 30 "$tmp/ports" >"$tmp/ports30"
    relay_port=$(test/support/freeport.sh)
    echo "member answers: $(du -sk "$tmp/data" | cut -f1) KB for $N members ($PER entries each)" >&2

    temps="client_body_temp_path $tmp/temp/cb; proxy_temp_path $tmp/temp/px;
      fastcgi_temp_path $tmp/temp/fc; uwsgi_temp_path $tmp/temp/uw; scgi_temp_path $tmp/temp/sc;"
    {
        echo "worker_processes 1; pid $tmp/members.pid; error_log $tmp/members.err warn;"
        echo "events { worker_connections 8192; }"
        echo "http { access_log off; $temps default_type application/fhir+json;"
        echo "  ssl_certificate $tmp/server.crt; ssl_certificate_key $tmp/server.key;"
        echo "  ssl_client_certificate $tmp/ca.crt; ssl_verify_client on;"
        echo "  ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:M:10m;"
        echo "  keepalive_requests 1000000; keepalive_timeout 120s; root $tmp/data;"
        i=0
        while read -r p; do
            echo "  server { listen 127.0.0.1:$p ssl http2; location / { try_files /m$i.json =404; } }"
            i=$((i + 1))
        done <"$tmp/ports"
        echo "}"
    } >"$tmp/members.conf"
    {
        echo "worker_processes 1; pid $tmp/relay.pid; error_log $tmp/relay.err warn;"
        echo "events { worker_connections 8192; }"
        echo "http { access_log off; $temps"
        i=0
        while read -r p; do
            echo "  upstream m$i { server 127.0.0.1:$p; keepalive 64; }"
            i=$((i + 1))
        done <"$tmp/ports"
        echo "  server { listen 127.0.0.1:$relay_port ssl;"
        echo "    ssl_certificate $tmp/server.crt; ssl_certificate_key $tmp/server.key;"
        echo "    ssl_protocols TLSv1.2 TLSv1.3; keepalive_requests 1000000;"
        echo "    location ~ ^/m([0-9]+)/ { proxy_pass https://m\$1; proxy_http_version 1.1;"
        echo "      proxy_set_header Connection \"\"; proxy_ssl_certificate $tmp/client.crt;"
        echo "      proxy_ssl_certificate_key $tmp/client.key; proxy_ssl_trusted_certificate $tmp/ca.crt;"
        echo "      proxy_ssl_verify on; proxy_ssl_name 127.0.0.1; proxy_ssl_session_reuse on;"
        echo "      proxy_buffer_size 64k; proxy_buffers 16 64k; } } }"
    } >"$tmp/relay.conf"
    "$NGINX" -e "$tmp/members.err" -p "$tmp/" -c "$tmp/members.conf" 2>>"$tmp/start.log" || return 1
    if ! "$NGINX" -e "$tmp/relay.err" -p "$tmp/" -c "$tmp/relay.conf" 2>>"$tmp/start.log"; then
        kill -QUIT "$(cat "$tmp/members.pid")"; sleep 0.3; return 1
    fi
    sleep 0.5
}
tries=0
until start_servers; do
    tries=$((tries + 1))
    [ $tries -lt 5 ] || { echo "bench_federation: nginx cannot start" >&2; cat "$tmp/start.log" >&2; exit 1; }
done
relay_worker=$(ps -o pid= --ppid "$(cat "$tmp/relay.pid")" | head -n 1 | tr -d ' ')

# wrk script: each request to the next member through the relay
wrk_script() { # n
    cat >"$tmp/rot$1.lua" <<EOF
local i = 0
request = function()
  i = (i + 1) % $1
  return wrk.format("GET", "/m" .. i .. "/fhir/Observation?patient=Patient/p1")
end
EOF
}
wrk_script 30
wrk_script 73
# sanity: one body through the relay
curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$relay_port/m0/fhir/Observation" |
    grep -q 200 || { echo "bench_federation: relay does not answer" >&2; cat "$tmp/relay.err" >&2; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ENGINE="$tmp/ca.crt $tmp/client.crt $tmp/client.key"

# ---- added latency over the slowest member: 5 runs of 200 queries (each
# merged as its answers arrive, written whole) interleaved with 200 plain
# fan-outs.  Ours: per query, its end minus its slowest member's answer.
# Also the difference of the two runs' percentiles, and to the first byte.
parts=${BENCH_FED_PARTS:-latency throughput cpu zh}
want() { case " $parts " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
med() { awk '{print $1/1000}' "$tmp/$1" | stats 3; }
want latency && for n in 30 73; do
    for k in added_p50 added_p99 slowest_p50 slowest_p99 pairs_added_p50 pairs_added_p99 \
        first_byte_added_p50; do : >"$tmp/$k"; done
    for r in 1 2 3 4 5; do
        out=$("$B" latency $ENGINE "$tmp/ports" "$n" 200)
        echo "latency $n members, run $r: $out" >&2
        for k in added_p50 added_p99 slowest_p50 slowest_p99 pairs_added_p50 pairs_added_p99 \
            first_byte_added_p50; do field "${k}_us" "$out" >>"$tmp/$k"; done
    done
    set -- $(med added_p50); p50=$1 s50=$2
    set -- $(med added_p99); p99=$1 s99=$2
    set -- $(med slowest_p50); m50=$1
    set -- $(med slowest_p99); m99=$1
    set -- $(med pairs_added_p50); q50=$1 sq50=$2
    set -- $(med pairs_added_p99); q99=$1 sq99=$2
    set -- $(med first_byte_added_p50); f50=$1 sf=$2
    bench_line "federated query, $n members: added latency p50" ms "$p50" "$s50" \
        "slowest member p50" "$m50" "<= 1 ms" "$(awk -v x="$p50" 'BEGIN {print (x<=1)?"true":"false"}')"
    bench_line "federated query, $n members: added latency p99" ms "$p99" "$s99" \
        "slowest member p99" "$m99" "<= 5 ms" "$(awk -v x="$p99" 'BEGIN {print (x<=5)?"true":"false"}')"
    bench_line "  same, vs interleaved fan-out alone, p50" ms "$q50" "$sq50" "" "" "informational" true
    bench_line "  same, vs interleaved fan-out alone, p99" ms "$q99" "$sq99" "" "" "informational" true
    bench_line "  same, to the first byte of the Bundle, p50" ms "$f50" "$sf" "" "" "informational" true
done

# ---- throughput: engine fan-out vs nginx relay, interleaved (3 + 3 runs)
: >"$tmp/ours"; : >"$tmp/relay"; : >"$tmp/oursm"
want throughput && for r in 1 2 3; do
    out=$("$B" throughput $ENGINE "$tmp/ports30" 30 "$secs" 8)
    echo "fan-out run $r: $out" >&2
    field req_per_s "$out" >>"$tmp/ours"
    w=$(wrk -t1 -c64 -d"${secs}s" -s "$tmp/rot30.lua" "https://127.0.0.1:$relay_port" 2>&1)
    rps=$(printf '%s\n' "$w" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
    echo "nginx relay run $r: $rps req/s" >&2
    echo "$rps" >>"$tmp/relay"
    out=$("$B" throughput $ENGINE "$tmp/ports30" 30 "$secs" 8 merge)
    echo "fan-out + merge run $r: $out" >&2
    field req_per_s "$out" >>"$tmp/oursm"
done
want throughput && {
set -- $(stats 3 <"$tmp/ours"); ours=$1 sp=$2
set -- $(stats 3 <"$tmp/relay"); relay=$1
set -- $(stats 3 <"$tmp/oursm"); oursm=$1 spm=$2
bench_line "fan-out member requests/s (1 loop thread)" "req/s" "$ours" "$sp" \
    "nginx relay, 1 worker" "$relay" ">= 0.8x peer" \
    "$(awk -v a="$ours" -v b="$relay" 'BEGIN {print (a>=0.8*b)?"true":"false"}')"
bench_line "fan-out + merge member requests/s (1 loop)" "req/s" "$oursm" "$spm" \
    "nginx relay, 1 worker" "$relay" ">= 0.8x peer" \
    "$(awk -v a="$oursm" -v b="$relay" 'BEGIN {print (a>=0.8*b)?"true":"false"}')"
}

# ---- merge CPU per 73-member query vs nginx CPU to relay the same bodies
: >"$tmp/merge"; : >"$tmp/tree"; : >"$tmp/ncpu"
hz=$(getconf CLK_TCK)
# ---- merge CPU on Chinese text (offline: the same answers with narratives,
# displays and texts in ideographs, against the English ones; alternating,
# each the minimum of 300 merges pinned to one core): a Chinese hospital's
# answers are mostly 3-byte UTF-8 sequences.
want zh && {
    mkdir -p "$tmp/zh"
    "$B" gen-zh "$tmp/zh" "$N" "$PER"
    pin=""
    command -v taskset >/dev/null && pin="taskset -c 1"
    for r in 1 2 3; do
        en=$($pin "$B" mergefiles "$tmp/data" "$N" 300 2>/dev/null)
        zh=$($pin "$B" mergefiles "$tmp/zh" "$N" 300 2>/dev/null)
        echo "merge Chinese/English run $r: $zh / $en" >&2
        field merge_min_us "$zh" >>"$tmp/zh_us"
        field merge_min_us "$en" >>"$tmp/en_us"
    done
    set -- $(awk '{print $1/1000}' "$tmp/zh_us" | stats 3); zh=$1 zsp=$2
    set -- $(awk '{print $1/1000}' "$tmp/en_us" | stats 3); en=$1
    bench_line "merge CPU per 73-member query, Chinese text" ms "$zh" "$zsp" \
        "same answers in English" "$en" "informational" true
}
want cpu || exit 0
for r in 1 2 3; do
    out=$("$B" mergecpu $ENGINE "$tmp/ports" 73 200)
    echo "merge CPU run $r: $out" >&2
    field merge_us "$out" >>"$tmp/merge"
    field tree_us "$out" >>"$tmp/tree"
    c0=$(cpu_ticks "$relay_worker")
    w=$(wrk -t1 -c16 -d"${secs}s" -s "$tmp/rot73.lua" "https://127.0.0.1:$relay_port" 2>&1)
    c1=$(cpu_ticks "$relay_worker")
    n=$(printf '%s\n' "$w" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
    per73=$(awk -v c=$((c1 - c0)) -v n="$n" -v hz="$hz" 'BEGIN {printf "%.0f", c*1e6/hz/n*73}')
    echo "nginx relay: $n requests, $((c1 - c0)) ticks -> $per73 us CPU per 73 bodies" >&2
    echo "$per73" >>"$tmp/ncpu"
done
set -- $(awk '{print $1/1000}' "$tmp/merge" | stats 3); merge=$1 sp=$2
set -- $(awk '{print $1/1000}' "$tmp/tree" | stats 3); tree=$1
set -- $(awk '{print $1/1000}' "$tmp/ncpu" | stats 3); ncpu=$1
bench_line "merge CPU per 73-member query" ms "$merge" "$sp" "nginx relay CPU, same bodies" \
    "$ncpu" "<= 2x peer" "$(awk -v a="$merge" -v b="$ncpu" 'BEGIN {print (a<=2*b)?"true":"false"}')"
bench_line "jansson tree of the same 73 answers (for scale)" ms "$tree" 0 \
    "merge CPU" "$merge" "informational" true
