#!/bin/sh
# Install whatever fhirgate needs from the Debian archive and is missing.
# Idempotent and quick when nothing is missing; runs as root or through sudo.
# Usage: deploy/install-deps.sh [--all]   (--all: also the optional tools for
# the demo, browser tests, fuzzing and benchmarks; the default installs them too
# because `make check` and `make demo` use them).  fonts-noto-cjk and
# chromium-l10n let the portal's browser tests show Chinese as a clinician's
# browser does (Han glyphs; zh-CN date fields).  libnss3-tools (certutil) lets
# the SMART app test make Chromium trust the test CA.  python3-hl7 brings
# mllp_send, a third-party MLLP sender the adapter's MLLP test talks to.
set -eu

PKGS_CORE="build-essential pkg-config libmicrohttpd-dev libgnutls28-dev \
libcurl4-openssl-dev libssl-dev libjansson-dev libxml2-dev libpq-dev check \
libsubunit-dev postgresql postgresql-client openssl ca-certificates curl jq libicu-dev zlib1g-dev"
PKGS_TOOLS="clang libclang-rt-14-dev afl++ orthanc orthanc-dicomweb dcmtk nginx \
haproxy wrk chromium chromium-l10n fonts-noto-cjk libnss3-tools nodejs npm valgrind iproute2 procps psmisc python3-hl7"

missing=""
for p in $PKGS_CORE $PKGS_TOOLS; do
    case "$p" in
    # node/npm may come from elsewhere than Debian (the image ships its own):
    # a working command is enough.
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    "install ok installed") ;;
    *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: not root and no sudo; install these packages:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
echo "install-deps: done"
