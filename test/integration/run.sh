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
cleanup() {
    "$here/deploy/pgctl.sh" stop "$tmp/pg" >/dev/null 2>&1 || :
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
"$here/deploy/pgctl.sh" init "$tmp/pg"
# Another process may grab the port between the check and the bind; try a
# few ports, and show the server log when PostgreSQL will not start.
started=no
for attempt in 1 2 3 4 5; do
    port=$("$here/test/support/freeport.sh")
    if "$here/deploy/pgctl.sh" start "$tmp/pg" "$port" --volatile; then started=yes; break; fi
    echo "run.sh: PostgreSQL did not start on port $port (attempt $attempt); server log:" >&2
    tail -n 20 "$tmp/pg/server.log" >&2 || :
done
[ "$started" = yes ] || { echo "run.sh: could not start PostgreSQL" >&2; exit 1; }
export FHIRGATE_TEST_DATABASE_URL="$("$here/deploy/pgctl.sh" url "$tmp/pg" "$port")"
export FHIRGATE_TEST_PGHOST="$tmp/pg" FHIRGATE_TEST_PGPORT="$port"
export FHIRGATE_TEST_TMP="$tmp"
export FHIRGATE_SRC="$here"
"$runner"
