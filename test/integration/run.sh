#!/bin/sh
# Run the integration suites against a throwaway PostgreSQL cluster.
# usage: test/integration/run.sh RUNNER
# The runner sees FHIRGATE_TEST_DATABASE_URL (a superuser URL of the private
# cluster), FHIRGATE_TEST_PGHOST/PGPORT, FHIRGATE_BIN and FHIRGATE_CORPUS.
set -eu
runner=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/fhirgate-it.XXXXXX)
chmod 755 "$tmp"
port=$("$here/test/support/freeport.sh")
cleanup() {
    "$here/deploy/pgctl.sh" stop "$tmp/pg" >/dev/null 2>&1 || :
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
"$here/deploy/pgctl.sh" init "$tmp/pg"
"$here/deploy/pgctl.sh" start "$tmp/pg" "$port" --volatile
export FHIRGATE_TEST_DATABASE_URL="$("$here/deploy/pgctl.sh" url "$tmp/pg" "$port")"
export FHIRGATE_TEST_PGHOST="$tmp/pg" FHIRGATE_TEST_PGPORT="$port"
export FHIRGATE_TEST_TMP="$tmp"
export FHIRGATE_SRC="$here"
"$runner"
