#!/bin/sh
# deploy/pgctl.sh — a private PostgreSQL cluster in a folder of ours.
#
#   pgctl.sh init  DIR            initdb into DIR/data (once; reused after)
#   pgctl.sh start DIR PORT [--volatile]
#                                 start on 127.0.0.1:PORT and a Unix socket in DIR;
#                                 --volatile turns fsync off (tests only)
#   pgctl.sh stop  DIR            fast shutdown
#   pgctl.sh url   DIR PORT [DB]  print the postgresql:// URL (Unix socket)
#   pgctl.sh status DIR
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# system user "fhirgate" (created when missing).  Used by the tests (a
# throwaway cluster per run), by `make demo` (var/pg) and by the daemons'
# embedded default.
set -eu

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PGBIN/initdb" ] || { echo "pgctl: PostgreSQL server binaries not found (run deploy/install-deps.sh)" >&2; exit 1; }
RUNAS=""
if [ "$(id -u)" -eq 0 ]; then
    id fhirgate >/dev/null 2>&1 ||
        useradd --system --no-create-home --shell /usr/sbin/nologin fhirgate
    RUNAS="runuser -u fhirgate --"
fi

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '3,12p' "$0" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

case "$cmd" in
init)
    if [ -f "$dir/data/PG_VERSION" ]; then exit 0; fi
    [ -n "$RUNAS" ] && chown fhirgate: "$dir"
    if [ -n "$RUNAS" ] && ! $RUNAS test -w "$dir"; then
        echo "pgctl: user fhirgate cannot reach $dir (a parent folder is private); choose another state folder" >&2
        exit 1
    fi
    $RUNAS "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$dir/initdb.log" 2>&1 ||
        { echo "pgctl: initdb failed, see $dir/initdb.log" >&2; exit 1; }
    ;;
start)
    port=${3:?port}
    extra=""
    [ "${4:-}" = "--volatile" ] && extra="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if $RUNAS "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then exit 0; fi
    $RUNAS "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 $extra" start \
        >/dev/null || { echo "pgctl: could not start PostgreSQL, see $dir/server.log" >&2; exit 1; }
    ;;
stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    $RUNAS "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    ;;
status)
    $RUNAS "$PGBIN/pg_ctl" -D "$dir/data" status
    ;;
url)
    port=${3:?port}
    echo "postgresql:///${4:-postgres}?host=$dir&port=$port&user=postgres"
    ;;
*)
    sed -n '3,12p' "$0" >&2; exit 2 ;;
esac
