#!/bin/sh
# deploy/postgres/drill-adapter.sh — the recovery drill of docs/operations.md §5 for a member
# site: fhirgate-adapter on its own PostgreSQL, HL7 v2 ingested, a dump with backup.sh, the
# database server and its data lost, the dump restored into a new cluster, the adapter
# started again on it — and checked that it holds and serves exactly what it held, and
# ingests again.
#
#   deploy/postgres/drill-adapter.sh [DIR]   (default: a new folder under /tmp; kept)
#
# Needs the built programs in bin/ (make).  Prints each step and its result; exit 0 when
# every check came out as the guide says.  Everything it starts is stopped at the end.
set -eu

here=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${FHIRGATE_BIN:-$here/bin}
D=${1:-$(mktemp -d /tmp/fhirgate-drill-adapter.XXXXXX)}
mkdir -p "$D"
D=$(cd "$D" && pwd)
chmod 755 "$D"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PSQL="$PGBIN/psql -qAtX"
AD=""
PGDIR=""
RESID=110105195001010012 # patient 0 of deploy/hl7-gen.sh
step() { printf '\n== %s\n' "$*"; }
check() { # description command...
    d=$1
    shift
    if "$@"; then echo "ok: $d"; else echo "FAILED: $d"; exit 1; fi
}
cleanup() {
    [ -n "$AD" ] && kill "$AD" 2>/dev/null && wait "$AD" 2>/dev/null || :
    [ -n "$PGDIR" ] && "$here/deploy/pgctl.sh" stop "$PGDIR" >/dev/null 2>&1 || :
    AD="" PGDIR=""
}
trap cleanup EXIT INT TERM

# A new cluster in $1 with an empty database "adapter"; sets URL (superuser) and PGDIR.
cluster() { # folder
    PGDIR=$1
    "$here/deploy/pgctl.sh" init "$1" >/dev/null
    for _ in 1 2 3 4 5; do
        pport=$("$here/deploy/free-port.sh")
        "$here/deploy/pgctl.sh" start "$1" "$pport" >/dev/null 2>&1 && break
    done
    $PSQL -d "$("$here/deploy/pgctl.sh" url "$1" "$pport")" -c "CREATE DATABASE adapter"
    URL=$("$here/deploy/pgctl.sh" url "$1" "$pport" adapter)
}

adapter_start() {
    FHIRGATE_ADAPTER_DATABASE_URL=$URL "$BIN/fhirgate-adapter" --config "$D/adapter.conf" \
        > "$D/adapter.out" 2>> "$D/adapter.log" &
    AD=$!
    t=0
    until grep -q '^ready:' "$D/adapter.out" 2>/dev/null; do
        t=$((t + 1))
        [ $t -lt 600 ] || { echo "the adapter did not start (see $D/adapter.log)" >&2; exit 1; }
        sleep 0.1
    done
}

ingest() { # first end -> number of AA acknowledgements
    "$here/deploy/hl7-gen.sh" "$1" "$2" |
        curl -s --cacert "$CA/ca.crt" --cert "$CA/client/his-a.crt" --key "$CA/client/his-a.key" \
            -H 'Content-Type: x-application/hl7-v2+er7' --data-binary @- \
            "https://127.0.0.1:$APORT/ingest/hl7v2" | tr '\r' '\n' | grep -c '^MSA|AA|' || :
}

# What the facade serves to the gateway: the shared patient's Observations.
facade() { # -> "PATIENT-ID OBSERVATIONS"
    g="--cacert $CA/ca.crt --cert $CA/client/gateway.crt --key $CA/client/gateway.key"
    # shellcheck disable=SC2086
    pid=$(curl -s $g "https://127.0.0.1:$APORT/fhir/Patient?identifier=urn:oid:2.16.156.10011.1.3%7C$RESID" |
        jq -r '.entry[0].resource.id')
    # shellcheck disable=SC2086
    n=$(curl -s $g "https://127.0.0.1:$APORT/fhir/Observation?patient=$pid&_count=100" |
        jq '[.entry[]? | select(.search.mode == "match")] | length')
    echo "$pid $n"
}
rows() { $PSQL -d "$URL" -c "SELECT count(*) FROM store.resource"; }

# ------------------------------------------------------------------ setup --
step "a member site: its CA certificates, its PostgreSQL, fhirgate-adapter"
CA=$D/ca
"$here/deploy/ca.sh" init "$CA" >/dev/null
"$here/deploy/ca.sh" server "$CA" hosp-a >/dev/null
"$here/deploy/ca.sh" client "$CA" his-a >/dev/null
"$here/deploy/ca.sh" client "$CA" gateway >/dev/null
cluster "$D/pg"
APORT=$("$here/deploy/free-port.sh")
cat > "$D/adapter.conf" <<EOF
[adapter]
member_id = hosp-a
name = "Hospital A"
public_url = https://127.0.0.1:$APORT/fhir
state_dir = $D/adapter-state
log_level = warn
[http]
listen = 127.0.0.1:$APORT
cert = $CA/server/hosp-a.crt
key = $CA/server/hosp-a.key
client_ca = $CA/ca.crt
gateway_cn = gateway
[database]
url = env:FHIRGATE_ADAPTER_DATABASE_URL
[mllp]
enabled = false
[ingest]
clients = his-a
[hl7v2]
system_base = https://hosp-a.example/sid
authority = HIS=https://hosp-a.example/sid/mrn
authority = RESID=urn:oid:2.16.156.10011.1.3
EOF
adapter_start

step "ingest: 20 patients, 40 HL7 v2 messages"
check "40 messages acknowledged AA" test "$(ingest 0 20)" -eq 40
before_rows=$(rows)
before=$(facade)
echo "store.resource rows: $before_rows; facade: patient ${before% *} with ${before#* } Observations"
check "the facade serves the patient's 4 Observations" test "${before#* }" -eq 4

step "backup: a dump (and the cluster's roles), verified"
t0=$(date +%s.%N)
dump=$("$here/deploy/backup.sh" dump --database "$URL" --out "$D/backups" | sed -n "s/^dump: //p")
t1=$(date +%s.%N)
echo "$dump ($(du -sk "$dump" | cut -f1) KB, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s)"
check "the dump verifies" "$here/deploy/backup.sh" verify "$dump"

step "disaster: the adapter stopped, the database server and its data gone"
kill "$AD"
wait "$AD" 2>/dev/null || :
AD=""
"$here/deploy/pgctl.sh" stop "$D/pg" >/dev/null
PGDIR=""
rm -rf "$D/pg"

step "restore: the dump into a new cluster, the adapter started on it"
cluster "$D/pg-restored"
t0=$(date +%s.%N)
"$here/deploy/backup.sh" restore-dump "$dump" --database "$URL" >/dev/null
t1=$(date +%s.%N)
echo "restored in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
adapter_start
after_rows=$(rows)
after=$(facade)
echo "store.resource rows: $after_rows; facade: patient ${after% *} with ${after#* } Observations"
check "every stored resource is back ($before_rows rows)" test "$after_rows" -eq "$before_rows"
check "the facade serves the same patient (same id) and Observations" test "$after" = "$before"
check "ingest works again: 10 more patients, 20 messages acknowledged AA" test "$(ingest 20 30)" -eq 20
echo
echo "drill-adapter: all checks passed ($D)"
