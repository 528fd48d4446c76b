#!/bin/sh
# deploy/postgres/drill.sh — the recovery drill of docs/operations.md, end to end, on one
# machine: a primary with a synchronous streaming replica (replica-pair.sh), a gateway node
# with its own service login, three light members (region-gen.sh), signed-in traffic; then
# backups (escrowed checkpoints, a base backup taken from the replica, a dump), more
# traffic, the loss of both database servers, and two restores — each checked with
# `fhirgate audit verify` and `backup.sh escrow-check`, and the gateway started again on
# the restored database.
#
#   deploy/postgres/drill.sh [DIR]        (default: a new folder under /tmp; kept)
#
# Needs the built programs in bin/ (make).  Prints each step and its result; exit 0 when
# every check came out as the guide says.  Everything it starts is stopped at the end.
set -eu

here=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${FHIRGATE_BIN:-$here/bin}
D=${1:-$(mktemp -d /tmp/fhirgate-drill.XXXXXX)}
mkdir -p "$D"
D=$(cd "$D" && pwd)
chmod 755 "$D"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PSQL="$PGBIN/psql -qAtX"
GW_PID=""
step() { printf '\n== %s\n' "$*"; }
check() { # description command...
    d=$1
    shift
    if "$@"; then echo "ok: $d"; else echo "FAILED: $d"; exit 1; fi
}
cleanup() {
    [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && sleep 1
    "$here/deploy/region-gen.sh" stop "$D/region" >/dev/null 2>&1 || :
    "$here/deploy/postgres/replica-pair.sh" down "$D/pair" >/dev/null 2>&1 || :
    for c in restored-base restored-dump; do
        [ -d "$D/$c" ] && "$here/deploy/pgctl.sh" stop "$D/$c" >/dev/null 2>&1 || :
    done
}
trap cleanup EXIT INT TERM

# ------------------------------------------------------------------ setup --
step "primary + synchronous replica"
"$here/deploy/postgres/replica-pair.sh" up "$D/pair" --sync
PRIMARY=$("$here/deploy/postgres/replica-pair.sh" url "$D/pair" primary)
REPLICA=$("$here/deploy/postgres/replica-pair.sh" url "$D/pair" replica)
$PSQL -d "$PRIMARY" -c "CREATE DATABASE fhirgate"
ADMIN=$("$here/deploy/postgres/replica-pair.sh" url "$D/pair" primary fhirgate)
R_ADMIN=$("$here/deploy/postgres/replica-pair.sh" url "$D/pair" replica fhirgate)
"$BIN/fhirgate" migrate --database "$ADMIN"
# The daemon's own login (created by the roles migration): no superuser rights.
SERVICE=$(echo "$ADMIN" | sed 's/user=postgres/user=fhirgate_app/')

step "three light members, region CA, gateway keys"
"$here/deploy/region-gen.sh" gen "$D/region" --members 3 | sed -n '1,2p'
"$here/deploy/region-gen.sh" start "$D/region"
CA=$D/region/ca
"$here/deploy/ca.sh" server "$CA" gateway > /dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/token.pem" 2>/dev/null
"$BIN/fhirgate" audit keygen --out "$D/audit.pem" --public "$D/audit.pub" > /dev/null
PORT=$("$here/deploy/free-port.sh")
write_conf() { # database URL for requests
    cat > "$D/gateway.conf" <<EOF
[node]
id = gw-1
public_url = https://127.0.0.1:$PORT
state_dir = $D/state
log_level = warn
[http]
listen = 127.0.0.1:$PORT
cert = $CA/server/gateway.crt
key = $CA/server/gateway.key
client_ca = $CA/ca.crt
client_auth = optional
[database]
url = env:DRILL_DB_URL
admin_url = env:DRILL_ADMIN_URL
migrate = check
[audit]
signing_key = $D/audit.pem
writers = 2
checkpoint_rows = 10
[auth]
signing_key = $D/token.pem
password_grant = true
[mpi]
pull_interval = 300ms
[federation]
ca = $CA/ca.crt
client_cert = $CA/client/gateway.crt
client_key = $CA/client/gateway.key
EOF
    cat "$D/region/gateway-members.conf" >> "$D/gateway.conf"
}
gw_start() { # service URL, admin URL
    DRILL_DB_URL=$1 DRILL_ADMIN_URL=$2 "$BIN/fhirgate-gateway" --config "$D/gateway.conf" \
        > "$D/gateway.out" 2>> "$D/gateway.log" &
    GW_PID=$!
    tries=0
    until grep -q '^ready:' "$D/gateway.out" 2>/dev/null; do
        tries=$((tries + 1))
        [ $tries -lt 300 ] && kill -0 $GW_PID 2>/dev/null ||
            { echo "the gateway did not start:"; tail -5 "$D/gateway.log"; exit 1; }
        sleep 0.1
    done
}
gw_stop() { kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || :; GW_PID=""; }
write_conf
gw_start "$SERVICE" "$ADMIN"
B=https://127.0.0.1:$PORT
printf '%s\n' "drill-password-1234" > "$D/pw"
"$BIN/fhirgate" user add dr.drill --role clinician --organization m001 --password-file "$D/pw" \
    --database "$ADMIN"
TOKEN=$(curl -s --cacert "$CA/ca.crt" -d 'grant_type=password&username=dr.drill' \
    -d 'password=drill-password-1234&client_id=portal' "$B/auth/token" | jq -r .access_token)
RESID=$(cut -d'|' -f2 "$D/region/shared-patient")
PERSON=""
tries=0
while [ -z "$PERSON" ] && [ $tries -lt 100 ]; do
    PERSON=$($PSQL -d "$ADMIN" -c "SELECT p.public_id FROM mpi.person p JOIN mpi.record r
        ON r.person_id = p.id WHERE r.resident_id = '$RESID' GROUP BY 1 HAVING count(*) = 3")
    tries=$((tries + 1))
    sleep 0.2
done
[ -n "$PERSON" ] || { echo "the MPI did not link the shared patient"; exit 1; }
queries() { # count
    ok=0
    i=0
    while [ $i -lt "$1" ]; do
        s=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA/ca.crt" \
            -H "Authorization: Bearer $TOKEN" "$B/fhir/Observation?patient=$PERSON")
        [ "$s" = 200 ] && ok=$((ok + 1))
        i=$((i + 1))
    done
    echo "$ok of $1 federated searches answered 200"
}
rows() { $PSQL -d "$1" -c "SELECT count(*) FROM audit.event"; }
# Start a cluster on a free port (another process may take the port first: retry); the port.
pg_start_any() {
    for _ in 1 2 3 4 5; do
        p=$("$here/deploy/free-port.sh")
        "$here/deploy/pgctl.sh" start "$1" "$p" 2>/dev/null && { echo "$p"; return 0; }
    done
    echo "could not start PostgreSQL in $1" >&2
    return 1
}

step "traffic before the backups"
queries 40
echo "audit rows on the primary: $(rows "$ADMIN"), on the replica: $(rows "$R_ADMIN")"

# ---------------------------------------------------------------- backups --
step "backups: escrowed checkpoints, base backup from the replica, dump from the primary"
"$here/deploy/backup.sh" checkpoints --database "$ADMIN" --out "$D/escrow.csv"
t0=$(date +%s.%N)
"$here/deploy/backup.sh" base --database "$("$here/deploy/postgres/replica-pair.sh" url \
    "$D/pair" replica postgres | sed 's/user=postgres/user=replicator/')" --out "$D/backups" \
    | tee "$D/base.path"
t1=$(date +%s.%N)
"$here/deploy/backup.sh" dump --database "$ADMIN" --out "$D/backups" | tee "$D/dump.path"
t2=$(date +%s.%N)
ROWS_AT_BACKUP=$(rows "$ADMIN")
BASE=$(sed 's/^base: //' "$D/base.path")
DUMP=$(sed 's/^dump: //' "$D/dump.path")
echo "base backup $(du -sh "$BASE" | cut -f1) in $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s; dump $(du -sh "$DUMP" | cut -f1) in $(awk "BEGIN { printf \"%.2f\", $t2 - $t1 }") s; audit rows at backup time: $ROWS_AT_BACKUP"
check "the base backup verifies" "$here/deploy/backup.sh" verify "$BASE"
check "the dump verifies" "$here/deploy/backup.sh" verify "$DUMP"

step "the replica serves the regulators' reads: audit verify on the hot standby"
check "audit verify on the replica" "$BIN/fhirgate" audit verify --database "$R_ADMIN" \
    --key "$D/audit.pub"

step "traffic after the backups (will be lost with a restore of the base backup)"
queries 20
"$here/deploy/backup.sh" checkpoints --database "$ADMIN" --out "$D/escrow.csv"
ROWS_BEFORE_LOSS=$(rows "$ADMIN")
echo "audit rows before the loss: $ROWS_BEFORE_LOSS"

# ------------------------------------------------------------------- loss --
step "disaster: both database servers and their data are gone"
gw_stop
"$here/deploy/postgres/replica-pair.sh" down "$D/pair" > /dev/null
rm -rf "$D/pair/primary/data" "$D/pair/replica/data"
echo "removed $D/pair/primary/data and $D/pair/replica/data"

# -------------------------------------------------------- restore: base --
step "restore 1: the base backup into a new cluster"
mkdir -p "$D/restored-base"
[ "$(id -u)" -eq 0 ] && chown fhirgate: "$D/restored-base"
t0=$(date +%s.%N)
"$here/deploy/backup.sh" restore-base "$BASE" --data "$D/restored-base/data"
# The copy came from the standby: it starts as a standby unless told otherwise.
rm -f "$D/restored-base/data/standby.signal"
RPORT=$(pg_start_any "$D/restored-base")
t1=$(date +%s.%N)
RB=$("$here/deploy/pgctl.sh" url "$D/restored-base" "$RPORT" fhirgate)
# The standby's slot and synchronous setting came along: drop them on the new primary.
$PSQL -d "$RB" -c "ALTER SYSTEM RESET synchronous_standby_names" -c "SELECT pg_reload_conf()" \
    > /dev/null
echo "restored and started in $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s; audit rows: $(rows "$RB") (at backup: $ROWS_AT_BACKUP)"
check "audit verify: intact" "$BIN/fhirgate" audit verify --database "$RB" --key "$D/audit.pub"
if "$here/deploy/backup.sh" escrow-check "$D/escrow.csv" --database "$RB"; then
    echo "FAILED: the escrow should show the rows written after the backup as missing"
    exit 1
else
    echo "ok: escrow-check names the rows lost since the backup (as expected)"
fi

# -------------------------------------------------------- restore: dump --
step "restore 2: the dump into another new cluster"
"$here/deploy/pgctl.sh" init "$D/restored-dump"
DPORT=$(pg_start_any "$D/restored-dump")
$PSQL -d "$("$here/deploy/pgctl.sh" url "$D/restored-dump" "$DPORT")" -c "CREATE DATABASE fhirgate"
RD=$("$here/deploy/pgctl.sh" url "$D/restored-dump" "$DPORT" fhirgate)
t0=$(date +%s.%N)
"$here/deploy/backup.sh" restore-dump "$DUMP" --database "$RD"
t1=$(date +%s.%N)
echo "restored in $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s; audit rows: $(rows "$RD")"
check "audit verify: intact" "$BIN/fhirgate" audit verify --database "$RD" --key "$D/audit.pub"
check "migrations recorded as applied" "$BIN/fhirgate" migrate --status --database "$RD"

# ---------------------------------------------------- back in service --
step "the gateway on the restored cluster (restore 1), on new audit chains"
# The restored chains end where the backup ended; rows 42.. of gw-1/1 were written once
# and lost.  Continuing the same chain would write other rows under those numbers; new
# chain ids keep the restored chains closed and the loss visible (docs/operations.md).
sed -i 's/^\[audit\]$/[audit]\nchain_id = gw-1-restore1/' "$D/gateway.conf"
gw_start "$(echo "$RB" | sed 's/user=postgres/user=fhirgate_app/')" "$RB"
queries 10
check "audit verify after new traffic: old chains intact, new chains intact" \
    "$BIN/fhirgate" audit verify --database "$RB" --key "$D/audit.pub"
if "$here/deploy/backup.sh" escrow-check "$D/escrow.csv" --database "$RB" > /dev/null 2>&1; then
    echo "FAILED: the loss should stay visible"; exit 1
fi
echo "ok: the escrow still shows the loss (no row was written under a lost number)"
gw_stop
echo
echo "drill: all steps done ($D)"
