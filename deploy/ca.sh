#!/bin/sh
# deploy/ca.sh — the region's certificate authority (OpenSSL, EC P-256).
#
#   deploy/ca.sh init   DIR [--cn "Region CA"] [--org ORG]
#   deploy/ca.sh server DIR NAME [SAN...] [--days N] [--force]
#   deploy/ca.sh client DIR NAME [O=ORG] [--days N] [--force]
#                       [--not-before YYYYMMDDHHMMSSZ] [--not-after YYYYMMDDHHMMSSZ]
#   deploy/ca.sh revoke DIR NAME          (client or server NAME; refreshes the CRL)
#   deploy/ca.sh crl    DIR               (re-issue DIR/crl.pem)
#   deploy/ca.sh paths  DIR [NAME]        (print the files without changing anything)
#
# init makes DIR/ca.key (0600) and the self-signed DIR/ca.crt (10 years,
# basicConstraints CA:TRUE pathlen:0, keyUsage keyCertSign+cRLSign) and an
# empty CRL.  server issues DIR/server/NAME.{key,crt}: CN=NAME, SANs
# DNS:localhost, IP:127.0.0.1 and, when NAME looks like a host name, DNS:NAME,
# plus the extra SANs given (DNS:x, IP:x or a bare host name / address),
# extendedKeyUsage serverAuth.  client issues DIR/client/NAME.{key,crt}: CN=NAME
# (and O= when given), extendedKeyUsage clientAuth — what the gateway and the
# adapters require of a member system.  Leaf certificates last 397 days unless
# --days (or --not-before/--not-after, which tests use for expired and
# not-yet-valid certificates) say otherwise.
#
# Every command is idempotent: an existing, unexpired certificate is kept
# (use --force to re-issue), an existing CA is never replaced.  Private keys
# are created 0600.  Each command prints what it made or found, one
# "kind: path" line each (ca:, crl:, cert:, key:), so scripts can read them.
set -eu

die() { echo "ca.sh: $*" >&2; exit 2; }
usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2
command -v openssl >/dev/null 2>&1 || die "openssl is not installed (deploy/install-deps.sh)"

abs_dir() {
    mkdir -p "$1"
    (cd "$1" && pwd)
}

write_config() {
    # Only what `openssl ca` needs; SANs come from the environment so that
    # one file serves every certificate.
    cat > "$dir/openssl.cnf" <<EOF
[ ca ]
default_ca = region_ca

[ region_ca ]
dir               = $dir
database          = \$dir/index.txt
new_certs_dir     = \$dir/newcerts
certificate       = \$dir/ca.crt
private_key       = \$dir/ca.key
serial            = \$dir/serial
crlnumber         = \$dir/crlnumber
default_md        = sha256
default_days      = 397
default_crl_days  = 30
policy            = policy_any
unique_subject    = no
copy_extensions   = none
email_in_dn       = no
preserve          = yes

[ policy_any ]
commonName             = supplied
organizationName       = optional
organizationalUnitName = optional
countryName            = optional

[ server_ext ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = \$ENV::FG_CA_SAN

[ client_ext ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
}

new_key() {
    # umask in a subshell: the key is never readable by others, not even briefly.
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$1" 2>/dev/null)
    chmod 600 "$1"
}

gen_crl() {
    FG_CA_SAN=DNS:unused openssl ca -batch -config "$dir/openssl.cnf" -gencrl \
        -out "$dir/crl.pem" 2>/dev/null || die "could not issue the CRL"
}

need_ca() {
    [ -f "$dir/ca.key" ] && [ -f "$dir/ca.crt" ] && [ -f "$dir/openssl.cnf" ] ||
        die "no CA in $dir (run: ca.sh init $dir)"
}

# Is the certificate present, issued by this CA and valid for another day?
cert_current() {
    [ -f "$1" ] && [ -f "$2" ] &&
        openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1 &&
        openssl verify -CAfile "$dir/ca.crt" "$1" >/dev/null 2>&1
}

cmd_init() {
    cn="fhirgate region CA" org=""
    while [ $# -gt 0 ]; do
        case "$1" in
        --cn) [ $# -ge 2 ] || usage; cn=$2; shift 2 ;;
        --org) [ $# -ge 2 ] || usage; org=$2; shift 2 ;;
        *) die "init: unknown argument $1" ;;
        esac
    done
    dir=$(abs_dir "$dir")
    mkdir -p "$dir/newcerts" "$dir/server" "$dir/client"
    if [ ! -f "$dir/ca.key" ] || [ ! -f "$dir/ca.crt" ]; then
        [ -f "$dir/ca.key" ] || new_key "$dir/ca.key"
        subj="/CN=$cn"
        [ -n "$org" ] && subj="$subj/O=$org"
        openssl req -new -x509 -key "$dir/ca.key" -sha256 -days 3650 -subj "$subj" \
            -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -addext "subjectKeyIdentifier=hash" \
            -out "$dir/ca.crt" 2>/dev/null || die "could not create the CA certificate"
    fi
    [ -f "$dir/index.txt" ] || : > "$dir/index.txt"
    [ -f "$dir/serial" ] || openssl rand -hex 16 > "$dir/serial"
    [ -f "$dir/crlnumber" ] || echo 1000 > "$dir/crlnumber"
    write_config
    [ -f "$dir/crl.pem" ] || gen_crl
    echo "ca: $dir/ca.crt"
    echo "key: $dir/ca.key"
    echo "crl: $dir/crl.pem"
}

# Normalise one SAN argument: DNS:x / IP:x kept, bare IPv4/IPv6 -> IP:, else DNS:.
san_item() {
    case "$1" in
    DNS:* | IP:* | URI:* | email:*) echo "$1" ;;
    *[!0-9.]*) case "$1" in *:*) echo "IP:$1" ;; *) echo "DNS:$1" ;; esac ;;
    *) echo "IP:$1" ;;
    esac
}

issue() {
    kind=$1 name=$2 subj=$3 ext=$4 days=$5 start=$6 end=$7 force=$8
    case "$name" in
    "" | *[!A-Za-z0-9._-]*) die "$kind: NAME must be [A-Za-z0-9._-]+" ;;
    esac
    key="$dir/$kind/$name.key" crt="$dir/$kind/$name.crt"
    if [ "$force" = no ] && [ -z "$start$end" ] && cert_current "$crt" "$key"; then
        echo "cert: $crt"
        echo "key: $key"
        echo "ca: $dir/ca.crt"
        return 0
    fi
    [ -f "$key" ] && [ "$force" = no ] || new_key "$key"
    csr="$dir/$kind/$name.csr"
    openssl req -new -key "$key" -subj "$subj" -out "$csr" 2>/dev/null ||
        die "$kind: could not make the request"
    set -- -batch -config "$dir/openssl.cnf" -extensions "$ext" -notext -in "$csr" \
        -out "$crt.tmp"
    if [ -n "$start" ]; then set -- "$@" -startdate "$start"; fi
    if [ -n "$end" ]; then set -- "$@" -enddate "$end"; else set -- "$@" -days "$days"; fi
    openssl ca "$@" 2>"$dir/$kind/$name.err" || {
        cat "$dir/$kind/$name.err" >&2
        die "$kind: could not issue the certificate"
    }
    mv "$crt.tmp" "$crt"
    rm -f "$csr" "$dir/$kind/$name.err"
    echo "cert: $crt"
    echo "key: $key"
    echo "ca: $dir/ca.crt"
}

parse_leaf_args() {
    days=397 start="" end="" force=no extra=""
    while [ $# -gt 0 ]; do
        case "$1" in
        --days) [ $# -ge 2 ] || usage; days=$2; shift 2 ;;
        --not-before) [ $# -ge 2 ] || usage; start=$2; shift 2 ;;
        --not-after) [ $# -ge 2 ] || usage; end=$2; shift 2 ;;
        --force) force=yes; shift ;;
        --*) die "unknown option $1" ;;
        *) extra="$extra
$1"; shift ;;
        esac
    done
    case "$days" in "" | *[!0-9]*) die "--days needs a number" ;; esac
}

cmd_server() {
    [ $# -ge 1 ] || usage
    name=$1
    shift
    parse_leaf_args "$@"
    dir=$(abs_dir "$dir")
    need_ca
    san="DNS:localhost,IP:127.0.0.1"
    case "$name" in *[!0-9.]*) [ "$name" = localhost ] || san="$san,DNS:$name" ;; esac
    old_ifs=$IFS
    IFS='
'
    for s in $extra; do
        [ -n "$s" ] && san="$san,$(san_item "$s")"
    done
    IFS=$old_ifs
    export FG_CA_SAN="$san"
    issue server "$name" "/CN=$name" server_ext "$days" "$start" "$end" "$force"
}

cmd_client() {
    [ $# -ge 1 ] || usage
    name=$1
    shift
    parse_leaf_args "$@"
    dir=$(abs_dir "$dir")
    need_ca
    subj="/CN=$name"
    old_ifs=$IFS
    IFS='
'
    for a in $extra; do
        case "$a" in
        "") ;;
        O=*) subj="$subj/O=${a#O=}" ;;
        OU=*) subj="$subj/OU=${a#OU=}" ;;
        *) die "client: unknown argument (expected O=ORG or OU=UNIT)" ;;
        esac
    done
    IFS=$old_ifs
    export FG_CA_SAN=DNS:unused
    issue client "$name" "$subj" client_ext "$days" "$start" "$end" "$force"
}

cmd_revoke() {
    [ $# -eq 1 ] || usage
    dir=$(abs_dir "$dir")
    need_ca
    crt=""
    for k in client server; do
        [ -f "$dir/$k/$1.crt" ] && crt="$dir/$k/$1.crt" && break
    done
    [ -n "$crt" ] || die "revoke: no certificate named $1"
    serial=$(openssl x509 -in "$crt" -noout -serial | sed 's/^serial=//')
    if ! awk -F'\t' -v s="$serial" '$1 == "R" && toupper($4) == toupper(s) { f = 1 } END { exit !f }' \
        "$dir/index.txt"; then
        FG_CA_SAN=DNS:unused openssl ca -batch -config "$dir/openssl.cnf" -revoke "$crt" \
            2>/dev/null || die "revoke: could not revoke $1"
    fi
    gen_crl
    echo "revoked: $crt"
    echo "crl: $dir/crl.pem"
}

cmd_crl() {
    dir=$(abs_dir "$dir")
    need_ca
    gen_crl
    echo "crl: $dir/crl.pem"
}

cmd_paths() {
    dir=$(abs_dir "$dir")
    need_ca
    echo "ca: $dir/ca.crt"
    echo "crl: $dir/crl.pem"
    if [ $# -ge 1 ]; then
        for k in server client; do
            if [ -f "$dir/$k/$1.crt" ]; then
                echo "cert: $dir/$k/$1.crt"
                echo "key: $dir/$k/$1.key"
            fi
        done
    fi
}

case "$cmd" in
init) cmd_init "$@" ;;
server) cmd_server "$@" ;;
client) cmd_client "$@" ;;
revoke) cmd_revoke "$@" ;;
crl) cmd_crl "$@" ;;
paths) cmd_paths "$@" ;;
*) usage ;;
esac
