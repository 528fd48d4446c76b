#!/bin/bash
# deploy/demo/run.sh — the demo region on loopback, in the foreground (`make demo`).
#
# Starts a private PostgreSQL cluster, Orthanc (the imaging centre's PACS),
# three member adapters (hosp-a: HL7 v2 over MLLP; hosp-b: CDA + CSV drop
# folders; img-c: DICOMweb sync from Orthanc), the gateway with the portal,
# and the HL7 v2 feed (replay, then live results).  Everything lives in the
# state folder and is made once: a second run reuses it and is ready in
# seconds.  Ctrl-C or SIGTERM stops every process this script started.
#
# Once the gateway has linked the shared patient at all three members it
# prints, one per line: `service NAME: ADDRESS` for each service,
# `user ROLE: NAME PASSWORD` for each demo sign-in, `patient shared:
# SYSTEM|VALUE`, and last `ready: https://127.0.0.1:PORT/`.  Progress lines
# start with "demo:"; process logs are in STATE/logs/.
#
# Environment (docs/design/demo.md):
#   FHIRGATE_DEMO_STATE      state folder (default: <repo>/var)
#   FHIRGATE_DEMO_PORT       gateway HTTPS port (default 8443)
#   FHIRGATE_DEMO_PORT_BASE  first of 8 consecutive ports for the other services
#                            (default 18400): +0 PostgreSQL, +1 Orthanc HTTP,
#                            +2/+3 hosp-a FHIR/MLLP, +4/+5 hosp-b, +6/+7 img-c
#   FHIRGATE_DEMO_TIMEOUT    seconds to wait for the region to be ready (default 600)
#   FHIRGATE_DEMO_INTERVAL   live HL7 v2 result interval (default 5s)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${FHIRGATE_DEMO_BIN:-$REPO/bin}
PORTAL=${FHIRGATE_DEMO_PORTAL:-$REPO/build/portal}
S=${FHIRGATE_DEMO_STATE:-$REPO/var}
GW_PORT=${FHIRGATE_DEMO_PORT:-8443}
BASE=${FHIRGATE_DEMO_PORT_BASE:-18400}
TIMEOUT=${FHIRGATE_DEMO_TIMEOUT:-600}
INTERVAL=${FHIRGATE_DEMO_INTERVAL:-5s}
MEMBERS="hosp-a hosp-b img-c"
RESID_SYSTEM=urn:oid:2.16.156.10011.1.3

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
T0=$(now)
elapsed() { awk -v a="$T0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

for n in GW_PORT BASE TIMEOUT; do
    case ${!n} in "" | *[!0-9]*) die "$n must be a number" ;; esac
done
for tool in jq curl openssl psql ss; do
    command -v $tool >/dev/null 2>&1 || die "$tool is missing (run deploy/install-deps.sh)"
done
for p in fhirgate fhirgate-gateway fhirgate-adapter; do
    [ -x "$BIN/$p" ] || die "$BIN/$p is not built (run make)"
done
[ -f "$PORTAL/index.html" ] || die "the portal is not built in $PORTAL (run make)"
[ -x /usr/sbin/Orthanc ] || die "Orthanc is missing (run deploy/install-deps.sh)"
ORTHANC_PLUGIN=/usr/share/orthanc/plugins/libOrthancDicomWeb.so
[ -r $ORTHANC_PLUGIN ] || die "the Orthanc DICOMweb plugin is missing (run deploy/install-deps.sh)"

PG_PORT=$BASE
PACS_PORT=$((BASE + 1))
declare -A FHIR_PORT=([hosp-a]=$((BASE + 2)) [hosp-b]=$((BASE + 4)) [img-c]=$((BASE + 6)))
declare -A MLLP_PORT=([hosp-a]=$((BASE + 3)) [hosp-b]=$((BASE + 5)) [img-c]=$((BASE + 7)))

mkdir -p "$S"
S=$(cd "$S" && pwd)
chmod 755 "$S" # PostgreSQL runs as another user when we are root
mkdir -p "$S/logs" "$S/run" "$S/conf" "$S/keys" "$S/done"
DATA=$S/data
CA=$S/ca
PG=$S/pg

# ------------------------------------------------------------- processes --
# Every background process gets its own process group (set -m), so that
# Ctrl-C reaches this script only and the stop below is in one place, in order.
set -m
declare -A PID=()
STOPPING=0

# A process of an earlier run that was killed without its stop (kill -9):
# only ours, recognised by the state folder on its command line.
# Is some process of group PGID ours (its command line names the state folder)?
# The feed's group leader is a subshell of this script, its child demo-feed.
group_is_ours() {
    local p
    for p in $(pgrep -g "$1" 2>/dev/null); do
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$S/" && return 0
    done
    return 1
}

reap_leftovers() {
    local f pid
    for f in "$S"/run/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        if [ -n "$pid" ] && group_is_ours "$pid"; then
            say "stopping $(basename "$f" .pid) left over from an earlier run (pid $pid)"
            kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || :
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL -- "-$pid" 2>/dev/null || :
        fi
        rm -f "$f"
    done
    # PostgreSQL is started by pg_ctl, not by us: a cluster left running.
    if [ -f "$PG/data/postmaster.pid" ]; then
        say "stopping the PostgreSQL cluster left running by an earlier run"
        "$REPO/deploy/pgctl.sh" stop "$PG" >/dev/null 2>&1 || :
    fi
}

# start NAME CMD...: in the background, output to logs/NAME.log.
start() {
    local name=$1
    shift
    "$@" >>"$S/logs/$name.log" 2>&1 </dev/null &
    PID[$name]=$!
    echo "$!" >"$S/run/$name.pid"
}

stop_all() {
    local rc=$?
    [ "$STOPPING" = 1 ] && return
    STOPPING=1
    trap '' INT TERM
    say "stopping"
    local name
    # The feed first (it would only reconnect), then everything else at once;
    # each ends its own work (adapters drain, the gateway flushes its audit).
    for name in feed "${!PID[@]}"; do
        [ -n "${PID[$name]:-}" ] || continue
        kill -TERM -- "-${PID[$name]}" 2>/dev/null || kill -TERM "${PID[$name]}" 2>/dev/null || :
        [ "$name" = feed ] && { wait "${PID[feed]}" 2>/dev/null || :; unset 'PID[feed]'; rm -f "$S/run/feed.pid"; }
    done
    for name in "${!PID[@]}"; do
        local pid=${PID[$name]} i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name did not stop within 30 s; killing it"
            kill -KILL -- "-$pid" 2>/dev/null || :
        fi
        local st=0
        wait "$pid" 2>/dev/null || st=$?
        # The daemons end with 0 on SIGTERM (drained, flushed); anything else
        # is worth a look (the feed's subshell dies of the signal itself).
        if [ "$st" != 0 ] && [ "$name" != feed ]; then
            say "$name ended with status $st; see $S/logs/$name.log"
        fi
        rm -f "$S/run/$name.pid"
    done
    "$REPO/deploy/pgctl.sh" stop "$PG" >/dev/null 2>&1 || :
    say "stopped"
    exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Fail at once, naming the log, when a process we wait for has exited.
alive() {
    kill -0 "${PID[$1]}" 2>/dev/null ||
        die "$1 exited; see $S/logs/$1.log: $(tail -n 3 "$S/logs/$1.log" | tr '\n' ' ')"
}

# wait_for NAME SECONDS CMD...: poll CMD while NAME runs.
wait_for() {
    local name=$1 limit=$2 i=0
    shift 2
    while ! "$@" >/dev/null 2>&1; do
        [ -z "$name" ] || alive "$name"
        i=$((i + 1))
        [ $i -le $((limit * 5)) ] || die "$name was not ready within $limit s (see $S/logs/)"
        sleep 0.2
    done
}

port_free() {
    [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

check_ports() {
    local spec var port
    for spec in "FHIRGATE_DEMO_PORT:gateway:$GW_PORT" \
        "FHIRGATE_DEMO_PORT_BASE+0:PostgreSQL:$PG_PORT" \
        "FHIRGATE_DEMO_PORT_BASE+1:Orthanc:$PACS_PORT" \
        "FHIRGATE_DEMO_PORT_BASE+2:hosp-a FHIR:${FHIR_PORT[hosp-a]}" \
        "FHIRGATE_DEMO_PORT_BASE+3:hosp-a MLLP:${MLLP_PORT[hosp-a]}" \
        "FHIRGATE_DEMO_PORT_BASE+4:hosp-b FHIR:${FHIR_PORT[hosp-b]}" \
        "FHIRGATE_DEMO_PORT_BASE+5:hosp-b MLLP:${MLLP_PORT[hosp-b]}" \
        "FHIRGATE_DEMO_PORT_BASE+6:img-c FHIR:${FHIR_PORT[img-c]}" \
        "FHIRGATE_DEMO_PORT_BASE+7:img-c MLLP:${MLLP_PORT[img-c]}"; do
        var=${spec%%:*}
        port=${spec##*:}
        spec=${spec#*:}
        port_free "$port" ||
            die "port $port (${spec%:*}, set by $var) is already in use; choose other ports with FHIRGATE_DEMO_PORT / FHIRGATE_DEMO_PORT_BASE"
    done
}

# ------------------------------------------------------------ made once --

make_data() {
    [ -f "$DATA/manifest.json" ] && return
    say "generating the demo data (fixed seed)"
    "$BIN/fhirgate" demo-data --out "$DATA" >"$S/logs/demo-data.log" 2>&1 ||
        die "demo-data failed; see $S/logs/demo-data.log"
}

make_pki() {
    local m
    "$REPO/deploy/ca.sh" init "$CA" --cn "fhirgate demo region CA" >/dev/null
    "$REPO/deploy/ca.sh" server "$CA" gateway >/dev/null
    "$REPO/deploy/ca.sh" client "$CA" gateway "O=fhirgate demo region" >/dev/null
    "$REPO/deploy/ca.sh" client "$CA" demo-client "O=fhirgate demo scripts" >/dev/null
    for m in $MEMBERS; do
        "$REPO/deploy/ca.sh" server "$CA" "$m" >/dev/null
        "$REPO/deploy/ca.sh" client "$CA" "$m" "O=$m" >/dev/null
    done
    # The documented names (docs/design/demo.md).
    cp "$CA/ca.crt" "$S/region-ca.crt"
    install -m 0644 "$CA/client/demo-client.crt" "$S/demo-client.crt"
    install -m 0600 "$CA/client/demo-client.key" "$S/demo-client.key"
    if [ ! -f "$S/keys/token.pem" ]; then
        # RSA, so tokens and id_tokens are RS256: OpenID Connect Discovery
        # 1.0 §3 makes RS256 the one algorithm every app may rely on.
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$S/keys/token.pem" 2>/dev/null
        chmod 600 "$S/keys/token.pem"
    fi
    [ -f "$S/keys/audit.pem" ] ||
        "$BIN/fhirgate" audit keygen --out "$S/keys/audit.pem" --public "$S/keys/audit.pub" >/dev/null
    if [ ! -f "$S/keys/pacs-password" ]; then
        (umask 077; openssl rand -hex 16 >"$S/keys/pacs-password")
    fi
}

# ------------------------------------------------------------ PostgreSQL --

DB_SOCKET_URL() { echo "postgresql:///$1?host=$PG&port=$PG_PORT&user=postgres"; }

start_pg() {
    "$REPO/deploy/pgctl.sh" init "$PG"
    "$REPO/deploy/pgctl.sh" start "$PG" "$PG_PORT" || die "PostgreSQL did not start; see $PG/server.log"
    local db
    for db in fhirgate demo_hosp_a demo_hosp_b demo_img_c; do
        if [ -z "$(psql "$(DB_SOCKET_URL postgres)" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
            psql "$(DB_SOCKET_URL postgres)" -qc "CREATE DATABASE $db" >/dev/null
        fi
    done
}

sql() { psql "$(DB_SOCKET_URL fhirgate)" -Atq -v ON_ERROR_STOP=1 -c "$1"; }

# -------------------------------------------------------------- Orthanc --

start_orthanc() {
    local dir=$S/orthanc pw
    mkdir -p "$dir/storage"
    pw=$(cat "$S/keys/pacs-password")
    (umask 077; cat >"$S/conf/orthanc.json" <<EOF
{
  "Name": "fhirgate demo PACS (img-c)",
  "DefaultEncoding": "Utf8",
  "StorageDirectory": "$dir/storage",
  "IndexDirectory": "$dir/storage",
  "HttpPort": $PACS_PORT,
  "DicomServerEnabled": false,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": true,
  "RegisteredUsers": { "fhirgate": "$pw" },
  "Plugins": [ "$ORTHANC_PLUGIN" ],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/", "EnableWado": true,
                "WadoRoot": "/wado", "Host": "127.0.0.1:$PACS_PORT", "Ssl": false }
}
EOF
    )
    start orthanc /usr/sbin/Orthanc --logdir="$S/logs" "$S/conf/orthanc.json"
    wait_for orthanc 60 curl -sf -u "fhirgate:$pw" "http://127.0.0.1:$PACS_PORT/system"
}

# Upload img-c's DICOM files once (one curl, one connection).
load_orthanc() {
    [ -f "$S/done/orthanc-loaded" ] && return
    local pw n cfg=$S/run/orthanc-upload.curl
    pw=$(cat "$S/keys/pacs-password")
    : >"$cfg"
    n=0
    while IFS= read -r -d '' f; do
        [ $n -gt 0 ] && echo next >>"$cfg"
        printf 'url = "http://127.0.0.1:%s/instances"\nuser = "fhirgate:%s"\ndata-binary = "@%s"\nsilent\nfail\noutput = /dev/null\n' \
            "$PACS_PORT" "$pw" "$f" >>"$cfg"
        n=$((n + 1))
    done < <(find "$DATA/img-c/dicom" -name '*.dcm' -print0 | sort -z)
    say "loading $n DICOM files into Orthanc"
    curl -K "$cfg" || die "uploading the DICOM files to Orthanc failed"
    rm -f "$cfg"
    touch "$S/done/orthanc-loaded"
}

# -------------------------------------------------------------- adapters --

adapter_conf() {
    local m=$1 dir=$S/$m
    mkdir -p "$dir"
    {
        cat <<EOF
# Generated by deploy/demo/run.sh (every key: deploy/adapter.conf.example).
[adapter]
member_id = $m
name = "$(jq -r --arg m "$m" '.members[] | select(.id == $m) | .name' "$DATA/manifest.json")"
public_url = https://127.0.0.1:${FHIR_PORT[$m]}/fhir
state_dir = $dir
log_level = info
shutdown_grace = 3s

[http]
listen = 127.0.0.1:${FHIR_PORT[$m]}
cert = $CA/server/$m.crt
key = $CA/server/$m.key
client_ca = $CA/ca.crt
gateway_cn = gateway
admin_clients = demo-client
threads = 4

[database]
url = env:FHIRGATE_DEMO_DB_URL
migrate = auto

[mllp]
listen = 127.0.0.1:${MLLP_PORT[$m]}

[ingest]
clients = demo-client
poll_interval = 500ms
settle_time = 500ms

[hl7v2]
system_base = https://$m.demo.fhirgate/sid

[gateway]
url = https://127.0.0.1:$GW_PORT
ca = $CA/ca.crt
client_cert = $CA/client/$m.crt
client_key = $CA/client/$m.key
retry_max = 10s
EOF
        case $m in
        hosp-b)
            mkdir -p "$dir/drop/cda"
            printf '\n[cda]\ndrop_dir = %s/drop/cda\n' "$dir"
            for t in $CSV_FIRST $CSV_REST; do
                mkdir -p "$dir/drop/csv-$t"
                printf '\n[csv "%s"]\nmapping = %s/adapters/csv/mappings/synthea/%s.map\ndrop_dir = %s/drop/csv-%s\n' \
                    "$t" "$REPO" "$t" "$dir" "$t"
            done
            ;;
        img-c)
            cat <<EOF

[pacs]
name = "Orthanc (img-c)"
qido_url = http://127.0.0.1:$PACS_PORT/dicom-web
allow_http = true
auth = basic
user = fhirgate
password = file:$S/keys/pacs-password
mode = sync
discover = true
level = series
sync_interval = 30s
EOF
            ;;
        esac
    } >"$S/conf/$m.conf"
}

CSV_FIRST="patients organizations providers"
CSV_REST="encounters conditions observations medications allergies procedures immunizations"

start_adapter() {
    local m=$1 db
    db=demo_${m//-/_}
    adapter_conf "$m"
    : >"$S/logs/$m.log"
    FHIRGATE_DEMO_DB_URL=$(DB_SOCKET_URL "$db") start "$m" "$BIN/fhirgate-adapter" --config "$S/conf/$m.conf"
}

# hosp-b's exports, into its drop folders once: CDA documents, then the CSV
# files that others refer to, then the rest (written as dot files, then renamed:
# the adapter takes only complete files).
drop_file() {
    local src=$1 dir=$2 base
    base=$(basename "$src")
    cp "$src" "$dir/.$base.part"
    mv "$dir/.$base.part" "$dir/$base"
}

wait_dropped() {
    local dir=$1
    [ -z "$(find "$dir" -maxdepth 1 -type f ! -name '.*' -print -quit)" ]
}

drop_hosp_b() {
    [ -f "$S/done/hosp-b-dropped" ] && return
    local d=$S/hosp-b/drop t f
    say "dropping hosp-b's CDA documents and CSV exports into its drop folders"
    for f in "$DATA"/hosp-b/cda/*.xml; do drop_file "$f" "$d/cda"; done
    for t in $CSV_FIRST; do drop_file "$DATA/hosp-b/csv/$t.csv" "$d/csv-$t"; done
    for t in $CSV_FIRST; do wait_for hosp-b 300 wait_dropped "$d/csv-$t"; done
    for t in $CSV_REST; do drop_file "$DATA/hosp-b/csv/$t.csv" "$d/csv-$t"; done
    touch "$S/done/hosp-b-dropped"
}

# ---------------------------------------------------------------- gateway --

gateway_conf() {
    cat >"$S/conf/gateway.conf" <<EOF
# Generated by deploy/demo/run.sh (every key: deploy/gateway.conf.example).
[node]
id = demo-gw
public_url = https://127.0.0.1:$GW_PORT
state_dir = $S/gateway
log_level = info
shutdown_grace = 3s

[http]
listen = 127.0.0.1:$GW_PORT
cert = $CA/server/gateway.crt
key = $CA/server/gateway.key
client_ca = $CA/ca.crt
client_auth = optional
threads = 4

[database]
url = env:FHIRGATE_DEMO_DB_URL
pool_size = 8
migrate = auto

[audit]
signing_key = $S/keys/audit.pem
writers = 2

[auth]
signing_key = $S/keys/token.pem
password_grant = true
portal_client_id = portal
token_lifetime = 60m

[federation]
ca = $CA/ca.crt
client_cert = $CA/client/gateway.crt
client_key = $CA/client/gateway.key
deadline = 8s
workers = 2

[registry]
auto_approve = false
probe_interval = 10s
probe_timeout = 3s

[mpi]
pull = true
pull_interval = 1s
pull_count = 200

[portal]
root = $PORTAL
EOF
}

# Members as an administrator registers them (`fhirgate member add`), active,
# bound to their client certificates; the adapters' own registration then
# only confirms them.
register_members() {
    local m fp existing
    existing=$("$BIN/fhirgate" member list --database "$(DB_SOCKET_URL fhirgate)" 2>/dev/null || :)
    for m in $MEMBERS; do
        grep -qE "^$m([[:space:]]|$)" <<<"$existing" && continue
        fp=$(openssl x509 -in "$CA/client/$m.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
        "$BIN/fhirgate" member add "$m" \
            --name "$(jq -r --arg m "$m" '.members[] | select(.id == $m) | .name' "$DATA/manifest.json")" \
            --base "https://127.0.0.1:${FHIR_PORT[$m]}/fhir" --cert-sha256 "$fp" --status active \
            --database "$(DB_SOCKET_URL fhirgate)" >>"$S/logs/setup.log" 2>&1 ||
            die "registering member $m failed; see $S/logs/setup.log"
    done
}

password_of() { jq -r --arg u "$1" '.users[] | select(.name == $u) | .password' "$DATA/secrets.json"; }

add_user() { # NAME: from manifest.json, password from secrets.json
    local u=$1 role org disp patient=${2:-} pw=$S/run/pw
    [ -f "$S/done/user-$u" ] && return
    role=$(jq -r --arg u "$u" '.users[] | select(.name == $u) | .role' "$DATA/manifest.json")
    org=$(jq -r --arg u "$u" '.users[] | select(.name == $u) | .organization // empty' "$DATA/manifest.json")
    disp=$(jq -r --arg u "$u" '.users[] | select(.name == $u) | .display_name // empty' "$DATA/manifest.json")
    (umask 077; password_of "$u" >"$pw")
    local args=(user add "$u" --role "$role" --password-file "$pw" --database "$(DB_SOCKET_URL fhirgate)")
    [ -n "$disp" ] && args+=(--display-name "$disp")
    [ -n "$org" ] && args+=(--organization "$org")
    [ -n "$patient" ] && args+=(--patient "$patient")
    if ! "$BIN/fhirgate" "${args[@]}" >>"$S/logs/setup.log" 2>&1 &&
        ! tail -n 1 "$S/logs/setup.log" | grep -q "already exists"; then
        rm -f "$pw"
        die "adding user $u failed; see $S/logs/setup.log"
    fi
    rm -f "$pw"
    touch "$S/done/user-$u"
}

# The regional person ids (one per line) holding a record with this resident id.
persons_of() {
    sql "SELECT DISTINCT p.public_id FROM mpi.person p JOIN mpi.record r ON r.person_id = p.id
         WHERE p.status = 'active' AND r.resident_id = '$1'"
}

# The shared patient's regional id once the MPI links records of all three
# members to one person (the identity pull runs every second).
shared_person() {
    sql "SELECT p.public_id FROM mpi.person p JOIN mpi.record r ON r.person_id = p.id
         WHERE p.status = 'active' AND p.id IN (SELECT person_id FROM mpi.record WHERE resident_id = '$SHARED_RESID')
         GROUP BY p.public_id HAVING count(DISTINCT r.member_id) >= 3" | head -n 1
}

TOKEN=""
admin_token() {
    [ -n "$TOKEN" ] && return
    TOKEN=$(curl -sf --cacert "$CA/ca.crt" "https://127.0.0.1:$GW_PORT/auth/token" \
        --data-urlencode grant_type=password --data-urlencode username=admin \
        --data-urlencode "password=$(password_of admin)" --data-urlencode client_id=portal |
        jq -r .access_token) || die "the admin could not sign in"
}

# The consents of demo-data (named by resident id: they are regional) for the
# regional person(s) of that id, posted as the administrator would.  Returns 1
# while a consent's person is not in the index yet.
load_consents() {
    local n i file resid persons person pending=0 body code
    n=$(jq '.consents | length' "$DATA/manifest.json")
    for ((i = 0; i < n; i++)); do
        [ -f "$S/done/consent-$i" ] && continue
        file=$(jq -r ".consents[$i].file" "$DATA/manifest.json")
        resid=$(jq -r ".consents[$i].resident_id" "$DATA/manifest.json")
        persons=$(persons_of "$resid")
        if [ -z "$persons" ]; then pending=1; continue; fi
        admin_token
        for person in $persons; do
            body=$(jq -c --arg p "Patient/$person" 'del(.id) | .patient = {reference: $p}' "$DATA/$file")
            code=$(curl -s -o "$S/logs/consent-$i.json" -w '%{http_code}' --cacert "$CA/ca.crt" \
                -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/fhir+json' \
                --data-binary "$body" "https://127.0.0.1:$GW_PORT/fhir/Consent")
            [ "$code" = 201 ] || die "consent $file was refused ($code); see $S/logs/consent-$i.json"
        done
        touch "$S/done/consent-$i"
    done
    return $pending
}

# ------------------------------------------------------------------ feed --

feed() {
    local n
    n=$(find "$DATA/hosp-a/hl7" -name '*.hl7' | wc -l)
    if [ ! -f "$S/done/feed-replayed" ]; then
        # demo-feed also ends with 0 when it is stopped by a signal: count.
        "$BIN/fhirgate" demo-feed --mllp "127.0.0.1:${MLLP_PORT[hosp-a]}" --from "$DATA/hosp-a/hl7" \
            >"$S/run/feed-replay.out" || return 1
        cat "$S/run/feed-replay.out"
        grep -q "^demo-feed: $n messages acknowledged" "$S/run/feed-replay.out" || return 1
        touch "$S/done/feed-replayed"
    fi
    exec "$BIN/fhirgate" demo-feed --mllp "127.0.0.1:${MLLP_PORT[hosp-a]}" --from "$DATA/hosp-a/hl7" \
        --skip "$n" --live --interval "$INTERVAL"
}

# ------------------------------------------------------------------ main --

reap_leftovers
check_ports
make_data
make_pki
SHARED=$(jq -r .shared_patient.identifier "$DATA/manifest.json")
SHARED_RESID=${SHARED#*|}
[ "${SHARED%%|*}" = "$RESID_SYSTEM" ] || die "manifest.json names no shared patient"

say "starting PostgreSQL"
start_pg
say "starting Orthanc"
start_orthanc
load_orthanc
for m in $MEMBERS; do start_adapter "$m"; done
for m in $MEMBERS; do wait_for "$m" 120 grep -q '^ready:' "$S/logs/$m.log"; done
say "adapters up ($(elapsed) s)"

"$BIN/fhirgate" migrate --database "$(DB_SOCKET_URL fhirgate)" >>"$S/logs/setup.log" 2>&1 ||
    die "gateway migrations failed; see $S/logs/setup.log"
register_members
for u in doctor-a doctor-b doctor-c regulator admin; do add_user "$u"; done
gateway_conf
: >"$S/logs/gateway.log"
FHIRGATE_DEMO_DB_URL=$(DB_SOCKET_URL fhirgate) start gateway "$BIN/fhirgate-gateway" --config "$S/conf/gateway.conf"
wait_for gateway 120 grep -q '^ready:' "$S/logs/gateway.log"
say "gateway up ($(elapsed) s)"

start feed feed
drop_hosp_b

say "waiting for the gateway to link the shared patient at all three members"
deadline=$(($(date +%s) + TIMEOUT))
PERSON=""
while :; do
    for name in "${!PID[@]}"; do alive "$name"; done
    [ -n "$PERSON" ] || PERSON=$(shared_person || :)
    if [ -n "$PERSON" ] && load_consents; then break; fi
    [ "$(date +%s)" -lt $deadline ] ||
        die "the region was not ready within $TIMEOUT s (shared patient ${PERSON:-not linked}; see $S/logs/)"
    sleep 0.5
done
add_user patient "$PERSON"
say "ready after $(elapsed) s"

echo "service gateway: https://127.0.0.1:$GW_PORT/fhir"
for m in $MEMBERS; do
    echo "service $m-fhir: https://127.0.0.1:${FHIR_PORT[$m]}/fhir"
    echo "service $m-mllp: mllp://127.0.0.1:${MLLP_PORT[$m]}"
done
echo "service pacs: http://127.0.0.1:$PACS_PORT/dicom-web"
echo "service database: postgresql://postgres@127.0.0.1:$PG_PORT/fhirgate"
for u in doctor-a doctor-b doctor-c regulator admin patient; do
    echo "user $(jq -r --arg u "$u" '.users[] | select(.name == $u) | .role' "$DATA/manifest.json"): $u $(password_of "$u")"
done
echo "patient shared: $SHARED"
echo "ready: https://127.0.0.1:$GW_PORT/"

# In the foreground until Ctrl-C / SIGTERM, or until a process dies.  Job
# control off again: every process is started, and its notices ("Interrupt")
# would only clutter the terminal.
set +m
while :; do
    for name in "${!PID[@]}"; do
        kill -0 "${PID[$name]}" 2>/dev/null || die "$name exited; see $S/logs/$name.log"
    done
    sleep 1 &
    wait $! || :
done
