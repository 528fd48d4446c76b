#!/bin/sh
# Memory per idle keep-alive HTTPS connection: gateway/http (libmicrohttpd +
# GnuTLS, default limits) against nginx (OpenSSL, one worker) in the same run.
# 1000 connections each; median of 3 runs.  Goal (issue #5): <= 18 KB.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BUILD_DIR:-$here/build/release}/test/bench_http_conn_mem
tmp=$(mktemp -d /tmp/fg-bench-mem.XXXXXX)
nginx_pid=""
cleanup() {
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || :
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
"$here/deploy/ca.sh" init "$tmp/ca" >/dev/null
"$here/deploy/ca.sh" server "$tmp/ca" localhost >/dev/null
crt=$tmp/ca/server/localhost.crt key=$tmp/ca/server/localhost.key ca=$tmp/ca/ca.crt
conns=${CONNS:-1000}

# nginx, fresh for every run (its resident memory does not shrink after
# connections close, so a second measurement in one process would be wrong)
start_nginx() {
    peer=""
    command -v nginx >/dev/null 2>&1 || return 0
    port=$("$here/test/support/freeport.sh")
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
        location /healthz { default_type application/json; return 200 '{"ok"}'; }
    }
}
CONF
    nginx -p "$tmp/ng/" -c "$tmp/ng/nginx.conf" -e "$tmp/ng/error.log" &
    nginx_pid=$!
    i=0
    while [ $i -lt 50 ] && ! ss -Htln "sport = :$port" | grep -q .; do sleep 0.1; i=$((i + 1)); done
    worker=$(pgrep -P "$nginx_pid" | head -n 1)
    [ -n "$worker" ] && peer="--peer-pid $worker --peer-port $port"
}
stop_nginx() {
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || :
    nginx_pid=""
}

: >"$tmp/runs"
for r in 1 2 3; do
    start_nginx
    # shellcheck disable=SC2086
    "$bin" --ca "$ca" --cert "$crt" --key "$key" --conns "$conns" $peer >>"$tmp/runs"
    stop_nginx
done
cat "$tmp/runs" >&2
jq -s --arg peer "nginx $(nginx -v 2>&1 | sed 's|.*/||')" '
  def median: sort | .[length / 2 | floor];
  def spread: (max - min) / median * 100 | . * 10 | round / 10;
  (map(.ours) | median) as $o |
  (map(.peer) | map(select(. != null))) as $p |
  { name: "http: memory per idle keep-alive HTTPS connection", unit: "KiB",
    ours: ($o / 1024 | . * 10 | round / 10),
    spread: (map(.ours) | spread),
    peer: (if ($p | length) > 0 then {name: $peer, value: ($p | median / 1024 | . * 10 | round / 10)}
           else null end),
    ratio: (if ($p | length) > 0 then ($o / ($p | median) | . * 100 | round / 100) else null end),
    goal: "<= 18 KB", goal_met: ($o <= 18000) }' "$tmp/runs" | jq -c '"BENCH " + tojson' -r
