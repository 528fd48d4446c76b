#!/bin/sh
# deploy/postgres/replica-pair.sh — a private PostgreSQL primary with a streaming replica,
# for trying out replication, failover and backups on one machine (tests, drills).
# Production settings and which queries may read from a replica: docs/operations.md.
#
#   replica-pair.sh up      DIR [--primary-port P] [--replica-port Q] [--sync]
#   replica-pair.sh status  DIR          replication state, lag in bytes
#   replica-pair.sh promote DIR          failover: the replica becomes a primary
#   replica-pair.sh down    DIR          stop both (the data stays in DIR)
#   replica-pair.sh url     DIR primary|replica [DB]
#
# up creates DIR/primary (deploy/pgctl.sh init), starts it with replication settings,
# creates the login "replicator" (REPLICATION, no superuser) and a physical replication
# slot "replica1" (the primary keeps WAL while the replica is away), clones it with
# pg_basebackup -R into DIR/replica and starts that as a hot standby streaming from the
# primary.  --sync makes replica1 synchronous (synchronous_standby_names), so a commit
# that asks for synchronous_commit = on — every audit batch does — returns only once the
# replica has the WAL on disk.  Ports default to free ones; up prints the two URLs.
# fsync stays on: this pair is for drills, not for speed.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
PGCTL=$here/pgctl.sh
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
die() { echo "replica-pair: $*" >&2; exit 2; }
usage() { sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
RUNAS=""
[ "$(id -u)" -eq 0 ] && RUNAS="runuser -u fhirgate --"

[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

port_of() { cat "$dir/$1.port" 2>/dev/null || die "no $1 in $dir (run up first)"; }
url() { "$PGCTL" url "$dir/$1" "$(port_of "$1")" "${2:-postgres}"; }
sql() { # role db statement
    "$PGBIN/psql" -qAtX -v ON_ERROR_STOP=1 -d "$(url "$1" "$2")" -c "$3"
}

# Start DIR/NAME on its port, or on fresh ones while the port turns out taken.
start_on_free_port() { # name
    for _ in 1 2 3 4 5; do
        "$PGCTL" start "$dir/$1" "$(cat "$dir/$1.port")" 2>/dev/null && return 0
        "$here/free-port.sh" > "$dir/$1.port"
    done
    die "could not start the $1 (see $dir/$1/server.log)"
}

cmd_up() {
    pport="" rport="" sync=no
    while [ $# -gt 0 ]; do
        case "$1" in
        --primary-port) pport=${2:?}; shift 2 ;;
        --replica-port) rport=${2:?}; shift 2 ;;
        --sync) sync=yes; shift ;;
        *) die "up: unknown argument $1" ;;
        esac
    done
    [ -n "$pport" ] || pport=$("$here/free-port.sh")
    [ -n "$rport" ] || rport=$("$here/free-port.sh")
    [ -n "$RUNAS" ] && chown fhirgate: "$dir"
    "$PGCTL" init "$dir/primary"
    echo "$pport" > "$dir/primary.port"
    echo "$rport" > "$dir/replica.port"
    # Replication settings (PostgreSQL 15 defaults already: wal_level replica,
    # max_wal_senders 10, hot_standby on); written to postgresql.auto.conf so both
    # servers carry them.
    start_on_free_port primary
    pport=$(port_of primary)
    sql primary postgres "ALTER SYSTEM SET wal_level = 'replica'"
    sql primary postgres "ALTER SYSTEM SET max_wal_senders = 10"
    sql primary postgres "ALTER SYSTEM SET max_replication_slots = 10"
    sql primary postgres "ALTER SYSTEM SET hot_standby = on"
    sql primary postgres "ALTER SYSTEM SET wal_compression = on"
    # Queries on the standby are cancelled when they hold back replay for this long; a
    # report or `fhirgate audit verify` on the replica may need longer (docs).
    sql primary postgres "ALTER SYSTEM SET max_standby_streaming_delay = '30s'"
    sql primary postgres "ALTER SYSTEM SET hot_standby_feedback = on"
    "$PGCTL" stop "$dir/primary"
    "$PGCTL" start "$dir/primary" "$pport"   # the port it just had: still ours
    sql primary postgres "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator') THEN CREATE ROLE replicator LOGIN REPLICATION; END IF; END \$\$"
    # The replica's clone: WAL streamed during the copy (-X stream), a slot created
    # (-C -S), standby.signal and primary_conninfo written (-R).
    rm -rf "$dir/replica"
    mkdir -p "$dir/replica"
    [ -n "$RUNAS" ] && chown fhirgate: "$dir/replica"
    $RUNAS "$PGBIN/pg_basebackup" -D "$dir/replica/data" -X stream -C -S replica1 -R \
        --checkpoint=fast \
        -d "host=$dir/primary port=$pport user=replicator application_name=replica1" ||
        die "pg_basebackup failed"
    start_on_free_port replica
    # Wait (30 s) until the primary sees the replica streaming.
    tries=0
    while [ $tries -lt 300 ]; do
        st=$(sql primary postgres \
            "SELECT state FROM pg_stat_replication WHERE application_name = 'replica1'" || :)
        [ "$st" = streaming ] && break
        tries=$((tries + 1))
        sleep 0.1
    done
    [ "$st" = streaming ] || die "the replica is not streaming (see $dir/replica/server.log)"
    # Synchronous only now: before the replica streams, every commit would wait for it.
    if [ "$sync" = yes ]; then
        sql primary postgres "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (replica1)'"
        sql primary postgres "SELECT pg_reload_conf()" >/dev/null
    fi
    echo "primary: $(url primary)"
    echo "replica: $(url replica)"
}

cmd_status() {
    sql primary postgres "SELECT application_name, state, sync_state,
        pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS replay_lag_bytes
        FROM pg_stat_replication" | sed 's/^/primary sees: /'
    sql replica postgres "SELECT 'in recovery: ' || pg_is_in_recovery() ||
        ', last replayed ' || coalesce(pg_last_wal_replay_lsn()::text, '-')"
}

cmd_promote() {
    $RUNAS "$PGBIN/pg_ctl" -D "$dir/replica/data" -w promote >/dev/null ||
        die "promote failed (see $dir/replica/server.log)"
    echo "promoted: $(url replica)"
}

cmd_down() {
    "$PGCTL" stop "$dir/replica" 2>/dev/null || :
    "$PGCTL" stop "$dir/primary" 2>/dev/null || :
    echo "stopped"
}

case "$cmd" in
up) cmd_up "$@" ;;
status) cmd_status ;;
promote) cmd_promote ;;
down) cmd_down ;;
url) [ $# -ge 1 ] || usage; url "$1" "${2:-postgres}" ;;
*) usage ;;
esac
