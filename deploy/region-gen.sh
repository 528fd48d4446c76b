#!/bin/sh
# deploy/region-gen.sh — a region of N light member hospitals, for alliance-scale tests.
#
#   region-gen.sh gen   DIR --members N [--base-port P] [--local-patients K]
#                       [--observations M] [--ca CADIR] [--shared-cert] [--workers W]
#   region-gen.sh start DIR        start the members (one nginx), wait until all listen
#   region-gen.sh stop  DIR        stop them (by the pid nginx wrote)
#
# A light member is a real HTTPS server that behaves like an adapter's FHIR facade towards
# the gateway, serving fixed R4 answers: one nginx serves every member, each on its own port
# with its own server certificate, requiring a client certificate of the region CA whose
# subject is CN=gateway (docs/design/region.md "Trust") and checking the CA's CRL.  Answers:
#   GET /fhir/metadata                    CapabilityStatement
#   GET /fhir/Patient?…                   searchset of the member's Patients (the MPI pull)
#   GET /fhir/Patient/ID/$everything      the shared Patient and its Observations
#   GET /fhir/Observation?…               searchset of M Observations of the shared Patient
#   GET /fhir/TYPE?… (other types)        an empty searchset
# Every member holds the shared person (same name, birth date and a valid GB 11643 resident
# identity number, so the gateway's MPI links all N records deterministically) plus K persons
# of its own.  The shared person's resident id is written to DIR/shared-patient.
#
# gen writes into DIR (which it creates):
#   ca/                      the region CA (deploy/ca.sh), unless --ca names an existing one;
#                            members' server certificates and the gateway's client
#                            certificate (ca/client/gateway.{crt,key}) are issued there
#   members/ID/*.json        the fixed answers
#   nginx.conf               one server block per member
#   gateway-members.conf     [member "ID"] sections to append to gateway.conf
#   members.tsv              id, name, base URL, port (one member a line)
#   shared-patient           urn:oid:2.16.156.10011.1.3|<resident id>
# Ports P … P+N-1 (default: a random free range, deploy/free-port.sh).  --shared-cert
# issues one server
# certificate for all members (quicker for large N); by default each member has its own.
# --workers: nginx worker processes (default 1).
#
# Everything runs as the calling user; as root nginx's workers run as root too when the
# unprivileged "nobody" could not read DIR.  Light members are a test fixture, not a
# production component.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "region-gen: $*" >&2; exit 2; }
usage() { sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2

port_free() {
    ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}

# The fixed answers of every member: one awk run writes them all.
write_members() {
    awk -v n="$members" -v k="$local_patients" -v m="$observations" -v out="$dir/members" \
        -v base="$base_port" '
    function resid(j,    d, w, s, i, c) {
        # GB 11643: 6-digit region, birth date, 3-digit sequence (odd = male), check char
        # from ISO 7064 MOD 11-2 with the weights below.
        d = sprintf("110105%04d%02d%02d%03d", 1950 + j % 50, int(j / 50) % 12 + 1,
                    int(j / 600) % 28 + 1, int(j / 16800) % 999 + 1)
        split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " ")
        s = 0
        for (i = 1; i <= 17; i++) s += substr(d, i, 1) * w[i]
        c = substr("10X98765432", s % 11 + 1, 1)
        return d c
    }
    function birth(r) { return substr(r, 7, 4) "-" substr(r, 11, 2) "-" substr(r, 13, 2) }
    function gender(r) { return (substr(r, 17, 1) % 2) ? "male" : "female" }
    function patient(id, mid, j, r, fam, giv, mrn) {
        return "{\"resourceType\":\"Patient\",\"id\":\"" id "\",\"meta\":{\"versionId\":\"1\"," \
            "\"lastUpdated\":\"2026-01-01T00:00:00Z\"},\"identifier\":[{\"type\":{\"coding\":" \
            "[{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\",\"code\":\"MR\"}]}," \
            "\"system\":\"urn:fhirgate:region-gen:" mid ":mrn\",\"value\":\"" mrn "\"}," \
            "{\"system\":\"urn:oid:2.16.156.10011.1.3\",\"value\":\"" r "\"}],\"name\":[{" \
            "\"family\":\"" fam "\",\"given\":[\"" giv "\"],\"text\":\"" fam giv "\"}]," \
            "\"gender\":\"" gender(r) "\",\"birthDate\":\"" birth(r) "\"}"
    }
    function obs(mid, pid, i,    code, disp, v, unit) {
        code = codes[i % 4]; disp = names[i % 4]; unit = units[i % 4]
        v = vals[i % 4] + (i % 7) / 10
        return "{\"resourceType\":\"Observation\",\"id\":\"obs-" mid "-" i "\",\"meta\":{" \
            "\"versionId\":\"1\",\"lastUpdated\":\"2026-01-0" (i % 9 + 1) "T08:00:00Z\"}," \
            "\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":" \
            "\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":" \
            "\"laboratory\"}]}],\"code\":{\"coding\":[{\"system\":\"http://loinc.org\"," \
            "\"code\":\"" code "\",\"display\":\"" disp "\"}]},\"subject\":{\"reference\":" \
            "\"Patient/" pid "\"},\"effectiveDateTime\":\"2025-" sprintf("%02d", i % 12 + 1) \
            "-15T08:00:00+08:00\",\"valueQuantity\":{\"value\":" v ",\"unit\":\"" unit "\"," \
            "\"system\":\"http://unitsofmeasure.org\",\"code\":\"" unit "\"}}"
    }
    function entry(url, res) {
        return "{\"fullUrl\":\"" url "\",\"resource\":" res ",\"search\":{\"mode\":\"match\"}}"
    }
    function bundle(entries, total) {
        # FHIR arrays are never empty: no entries, no "entry".
        return "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":" total \
            (entries == "" ? "" : ",\"entry\":[" entries "]") "}"
    }
    BEGIN {
        split("2345-7 718-7 2160-0 6690-2", tmp, " ")
        for (i = 1; i <= 4; i++) codes[i % 4] = tmp[i]
        split("Glucose|Hemoglobin|Creatinine|Leukocytes", tmp, "|")
        for (i = 1; i <= 4; i++) names[i % 4] = tmp[i]
        split("mmol/L g/L umol/L 10*9/L", tmp, " ")
        for (i = 1; i <= 4; i++) units[i % 4] = tmp[i]
        split("5.4 135 80 6.1", tmp, " ")
        for (i = 1; i <= 4; i++) vals[i % 4] = tmp[i]
        split("王 李 张 刘 陈 杨 黄 赵 吴 周", fams, " ")
        split("伟 芳 娜 敏 静 丽 强 磊 军 洋", givs, " ")
        shared = resid(0)
        print "urn:oid:2.16.156.10011.1.3|" shared > (out "/../shared-patient")
        for (x = 1; x <= n; x++) {
            mid = sprintf("m%03d", x)
            d = out "/" mid
            system("mkdir -p \"" d "\"")
            b = "https://127.0.0.1:" (base + x - 1) "/fhir"
            print "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"date\":" \
                "\"2026-01-01\",\"kind\":\"instance\",\"fhirVersion\":\"4.0.1\",\"format\":" \
                "[\"json\"],\"rest\":[{\"mode\":\"server\"}]}" > (d "/metadata.json")
            print bundle("", 0) > (d "/empty.json")
            sp = "p0-" mid
            pats = entry(b "/Patient/" sp, patient(sp, mid, 0, shared, "张", "三", "MRN-" mid "-0"))
            for (j = 1; j <= k; j++) {
                r = resid(x * 1000 + j)
                pats = pats "," entry(b "/Patient/p" j "-" mid, patient("p" j "-" mid, mid, j, r,
                    fams[(x + j) % 10 + 1], givs[(x * 7 + j) % 10 + 1], "MRN-" mid "-" j))
            }
            print bundle(pats, k + 1) > (d "/patients.json")
            os = ""
            for (i = 1; i <= m; i++)
                os = os (i > 1 ? "," : "") entry(b "/Observation/obs-" mid "-" i, obs(mid, sp, i))
            print bundle(os, m) > (d "/observation.json")
            ev = entry(b "/Patient/" sp, patient(sp, mid, 0, shared, "张", "三", "MRN-" mid "-0"))
            if (m > 0) ev = ev "," os
            print "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[" ev "]}" \
                > (d "/everything.json")
            close(d "/metadata.json"); close(d "/empty.json"); close(d "/patients.json")
            close(d "/observation.json"); close(d "/everything.json")
        }
    }'
    chmod -R a+rX "$dir/members"
}

server_block() {
    # $1 id, $2 port, $3 cert, $4 key
    cat <<EOF
    server {
        listen 127.0.0.1:$2 ssl http2;
        ssl_certificate     $3;
        ssl_certificate_key $4;
        ssl_client_certificate $ca_dir/ca.crt;
        ssl_crl             $ca_dir/crl.pem;
        ssl_verify_client   on;
        root $dir/members/$1;
        # Only the gateway's client certificate (docs/design/region.md "Trust"); at server
        # level, so it runs before any location is chosen.
        if (\$ssl_client_s_dn !~ "(^|,)CN=gateway(,|\$)") { return 403; }
        location / {
            location = /fhir/metadata { try_files /metadata.json =404; }
            location = /fhir/Patient { try_files /patients.json =404; }
            location ~ "^/fhir/Patient/[A-Za-z0-9.-]+/[\$]everything\$" { try_files /everything.json =404; }
            location = /fhir/Observation { try_files /observation.json =404; }
            location ~ "^/fhir/[A-Z][A-Za-z]+\$" { try_files /empty.json =404; }
            return 404;
        }
    }
EOF
}

write_nginx() {
    user_line=""
    if [ "$(id -u)" -eq 0 ]; then
        if command -v runuser >/dev/null 2>&1 &&
            runuser -u nobody -- test -r "$dir/members/m001/metadata.json" 2>/dev/null; then
            user_line="user nobody nogroup;"
        else
            user_line="user root root;   # nobody cannot reach $dir"
        fi
    fi
    {
        cat <<EOF
# Generated by deploy/region-gen.sh: $members light members on ports $base_port-$((base_port + members - 1)).
$user_line
worker_processes $workers;
worker_rlimit_nofile 16384;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    types { application/fhir+json json; }
    default_type application/fhir+json;
    charset utf-8;
    charset_types application/fhir+json;
    add_header Cache-Control no-store always;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:members:10m;
    keepalive_requests 100000;
    keepalive_timeout 60s;
EOF
        i=1
        while [ $i -le "$members" ]; do
            id=$(printf 'm%03d' $i)
            if [ "$shared_cert" = yes ]; then
                crt=$ca_dir/server/members.crt key=$ca_dir/server/members.key
            else
                crt=$ca_dir/server/$id.crt key=$ca_dir/server/$id.key
            fi
            server_block "$id" $((base_port + i - 1)) "$crt" "$key"
            i=$((i + 1))
        done
        echo "}"
    } > "$dir/nginx.conf"
    mkdir -p "$dir/tmp"
}

write_lists() {
    : > "$dir/gateway-members.conf"
    : > "$dir/members.tsv"
    i=1
    while [ $i -le "$members" ]; do
        id=$(printf 'm%03d' $i)
        port=$((base_port + i - 1))
        printf '[member "%s"]\nname = "Light member %s"\nbase = https://127.0.0.1:%s/fhir\nstatus = active\n' \
            "$id" "$id" "$port" >> "$dir/gateway-members.conf"
        printf '%s\tLight member %s\thttps://127.0.0.1:%s/fhir\t%s\n' "$id" "$id" "$port" "$port" \
            >> "$dir/members.tsv"
        i=$((i + 1))
    done
}

issue_certs() {
    if [ -z "$ca_given" ]; then
        "$here/ca.sh" init "$ca_dir" --cn "region-gen CA" >/dev/null
    fi
    "$here/ca.sh" client "$ca_dir" gateway O=fhirgate >/dev/null
    if [ "$shared_cert" = yes ]; then
        "$here/ca.sh" server "$ca_dir" members >/dev/null
        return 0
    fi
    i=1
    while [ $i -le "$members" ]; do
        "$here/ca.sh" server "$ca_dir" "$(printf 'm%03d' $i)" >/dev/null
        i=$((i + 1))
    done
}

cmd_gen() {
    members="" base_port="" local_patients=1 observations=4 ca_given="" shared_cert=no workers=1
    while [ $# -gt 0 ]; do
        case "$1" in
        --members) members=${2:?}; shift 2 ;;
        --base-port) base_port=${2:?}; shift 2 ;;
        --local-patients) local_patients=${2:?}; shift 2 ;;
        --observations) observations=${2:?}; shift 2 ;;
        --ca) ca_given=${2:?}; shift 2 ;;
        --shared-cert) shared_cert=yes; shift ;;
        --workers) workers=${2:?}; shift 2 ;;
        *) die "gen: unknown argument $1" ;;
        esac
    done
    for v in "$members" "$local_patients" "$observations" "$workers" ${base_port:+"$base_port"}; do
        case "$v" in "" | *[!0-9]*) die "gen: numbers expected (see --help)" ;; esac
    done
    [ "$members" -ge 1 ] && [ "$members" -le 999 ] || die "gen: --members must be 1..999"
    [ "$workers" -ge 1 ] || die "gen: --workers must be at least 1"
    [ -n "$base_port" ] || base_port=$("$here/free-port.sh" "$members")
    [ $((base_port + members - 1)) -le 65535 ] || die "gen: ports past 65535"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -n "$ca_given" ]; then
        ca_dir=$(cd "$ca_given" && pwd)
        [ -f "$ca_dir/ca.crt" ] || die "gen: no CA in $ca_given"
    else
        ca_dir=$dir/ca
    fi
    rm -rf "$dir/members"
    mkdir -p "$dir/members"
    write_members
    issue_certs
    write_nginx
    write_lists
    echo "members: $members"
    echo "ports: $base_port-$((base_port + members - 1))"
    echo "ca: $ca_dir/ca.crt"
    echo "gateway-cert: $ca_dir/client/gateway.crt"
    echo "gateway-key: $ca_dir/client/gateway.key"
    echo "gateway-members: $dir/gateway-members.conf"
    echo "shared-patient: $(cat "$dir/shared-patient")"
}

cmd_start() {
    dir=$(cd "$dir" && pwd)
    [ -f "$dir/nginx.conf" ] || die "start: no region in $dir (run gen first)"
    nginx -t -q -e "$dir/nginx-error.log" -p "$dir/" -c "$dir/nginx.conf" ||
        die "start: nginx refuses the configuration (see $dir/nginx-error.log)"
    nginx -e "$dir/nginx-error.log" -p "$dir/" -c "$dir/nginx.conf" ||
        die "start: nginx did not start (see $dir/nginx-error.log)"
    # Wait (10 s) until every member's port listens.
    want=$(wc -l < "$dir/members.tsv")
    tries=0
    while [ $tries -lt 100 ]; do
        up=$(cut -f4 "$dir/members.tsv" | while read -r p; do
            port_free "$p" || echo x; done | wc -l)
        [ "$up" -eq "$want" ] && { echo "started: $want members (nginx pid $(cat "$dir/nginx.pid"))"; return 0; }
        tries=$((tries + 1))
        sleep 0.1
    done
    die "start: only $up of $want members listen (see $dir/nginx-error.log)"
}

cmd_stop() {
    dir=$(cd "$dir" && pwd)
    [ -f "$dir/nginx.pid" ] || exit 0
    pid=$(cat "$dir/nginx.pid")
    case "$pid" in "" | *[!0-9]*) die "stop: bad pid file" ;; esac
    kill -QUIT "$pid" 2>/dev/null || { rm -f "$dir/nginx.pid"; exit 0; }
    tries=0
    while kill -0 "$pid" 2>/dev/null && [ $tries -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    echo "stopped"
}

case "$cmd" in
gen) cmd_gen "$@" ;;
start) [ $# -eq 0 ] || usage; cmd_start ;;
stop) [ $# -eq 0 ] || usage; cmd_stop ;;
*) usage ;;
esac
