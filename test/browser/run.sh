#!/bin/sh
# test/browser/run.sh — the browser tests (make check-browser): the portal,
# and a third-party SMART app built on SMART's client library (fhirclient).
#
# playwright-core comes from the npm registry through the committed lock file
# (npm ci into build/npm/browser, never into the source tree) and drives
# Debian's Chromium (/usr/bin/chromium; no browser is ever downloaded).  The
# tests start their own region (region.mjs): PostgreSQL, CA, member
# hospitals and the real gateway.  Screenshots of every page go to
# build/browser/screenshots/.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
npm_dir="$here/build/npm/browser"

command -v node >/dev/null 2>&1 || { echo "browser tests: node is missing (deploy/install-deps.sh)" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "browser tests: chromium is missing (deploy/install-deps.sh)" >&2; exit 1; }
command -v certutil >/dev/null 2>&1 || { echo "browser tests: certutil is missing (libnss3-tools, deploy/install-deps.sh)" >&2; exit 1; }

if ! cmp -s "$here/test/browser/package-lock.json" "$npm_dir/package-lock.json" ||
   [ ! -d "$npm_dir/node_modules/playwright-core" ]; then
    mkdir -p "$npm_dir"
    cp "$here/test/browser/package.json" "$here/test/browser/package-lock.json" "$npm_dir/"
    # --legacy-peer-deps: fhirclient's isomorphic-webcrypto names React
    # Native and Expo as peers; the browser build we serve needs neither.
    (cd "$npm_dir" && npm ci --no-audit --no-fund --ignore-scripts --legacy-peer-deps --loglevel=error >/dev/null)
fi

export FHIRGATE_BROWSER_NPM="$npm_dir"
export FHIRGATE_SCREENSHOTS="${FHIRGATE_SCREENSHOTS:-$here/build/browser/screenshots}"
export FHIRGATE_BIN="${FHIRGATE_BIN:-$here/bin}"
export FHIRGATE_PORTAL_ROOT="${FHIRGATE_PORTAL_ROOT:-$here/build/portal}"
rm -rf "$FHIRGATE_SCREENSHOTS"
mkdir -p "$FHIRGATE_SCREENSHOTS"
[ -f "$FHIRGATE_PORTAL_ROOT/index.html" ] || { echo "browser tests: the portal is not built (make portal)" >&2; exit 1; }
[ -x "$FHIRGATE_BIN/fhirgate-gateway" ] || { echo "browser tests: $FHIRGATE_BIN/fhirgate-gateway is not built" >&2; exit 1; }

# The pure readers first, then the browser tests in order (they share one
# region and build on each other).
# The SMART app test starts a region of its own.
node --test --test-concurrency=1 "$here/test/browser/portal_unit.test.mjs" "$here/test/browser/portal.test.mjs" \
    "$here/test/browser/smart_app.test.mjs"
