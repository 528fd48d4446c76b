#!/bin/sh
# deploy/backup.sh — back up and restore the gateway's (or an adapter's) PostgreSQL database.
# The recovery drill that uses it, step by step, is in docs/operations.md.
#
#   backup.sh base  --database URL --out DIR     physical copy of the whole cluster
#                                                (pg_basebackup, WAL included, manifest
#                                                checked with pg_verifybackup)
#   backup.sh dump  --database URL --out DIR     logical copy of one database (pg_dump -Fc)
#                                                plus the cluster's roles (pg_dumpall -g)
#   backup.sh checkpoints --database URL --out FILE
#                                                append the audit trail's signed checkpoints
#                                                to FILE (CSV), kept apart from the database
#   backup.sh escrow-check FILE --database URL   after a restore: which escrowed checkpoints
#                                                the database no longer holds (lost rows)
#   backup.sh verify DIR                         check a backup's checksums / manifest
#   backup.sh restore-base DIR --data DATADIR    put a base backup into an empty data folder
#                                                (then start PostgreSQL on it)
#   backup.sh restore-dump DIR --database URL    restore a dump into an empty database
#                                                (roles first, then the database)
#
# base/dump write DIR/<kind>-<UTC time>/ and print its path.  Files are private (umask 077):
# a dump holds patient data, the roles file password hashes.  URL is a superuser (or, for
# base, a REPLICATION login) URL; `base` may run against a replica, which takes the load off
# the primary.  Restoring a base backup gives the cluster as it was at the end of the copy;
# anything committed later is lost unless WAL was archived (docs: "Continuous archiving").
# Exit status: 0 done, 1 failed, 2 usage.
set -eu

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
die() { echo "backup: $*" >&2; exit 1; }
usage() { sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
umask 077
[ -x "$PGBIN/pg_basebackup" ] || die "PostgreSQL client programs not found (PGBIN)"

[ $# -ge 1 ] || usage
cmd=$1
shift
url="" out="" data="" src=""
case "$cmd" in verify | restore-base | restore-dump | escrow-check) [ $# -ge 1 ] || usage; src=$1; shift ;; esac
while [ $# -gt 0 ]; do
    case "$1" in
    --database) url=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --data) data=${2:?}; shift 2 ;;
    *) echo "backup: unknown argument $1" >&2; usage ;;
    esac
done

stamp() { date -u +%Y%m%dT%H%M%SZ; }

# As root, PostgreSQL's files must belong to the user that runs the server: the owner
# of the folder they go into.
owner_of() { stat -c %U "$1"; }
as_owner() { # folder command...
    o=$(owner_of "$1")
    shift
    if [ "$(id -u)" -eq 0 ] && [ "$o" != root ]; then runuser -u "$o" -- "$@"; else "$@"; fi
}

cmd_base() {
    [ -n "$url" ] && [ -n "$out" ] || usage
    mkdir -p "$out"
    dest=$out/base-$(stamp)
    mkdir "$dest"
    # Plain format (pg_verifybackup 15 reads only that), WAL streamed alongside so the
    # copy is consistent on its own, a fast checkpoint so it starts at once.
    "$PGBIN/pg_basebackup" -d "$url" -D "$dest/data" -X stream --checkpoint=fast \
        --manifest-checksums=SHA256 --label="fhirgate $(stamp)" ||
        { rm -rf "$dest"; die "pg_basebackup failed"; }
    "$PGBIN/pg_verifybackup" -q "$dest/data" || die "the new base backup does not verify"
    echo "base: $dest"
}

cmd_dump() {
    [ -n "$url" ] && [ -n "$out" ] || usage
    mkdir -p "$out"
    dest=$out/dump-$(stamp)
    mkdir "$dest"
    db=$("$PGBIN/psql" -qAtX -d "$url" -c "SELECT current_database()") ||
        die "cannot connect to the database"
    # Roles are cluster-wide (fhirgate_owner, fhirgate_service, fhirgate_app): pg_dump does
    # not carry them, and the grants in the dump need them.
    "$PGBIN/pg_dumpall" -d "$url" --globals-only --file "$dest/roles.sql" ||
        die "pg_dumpall --globals-only failed"
    # One consistent snapshot of the database; custom format, compressed, restorable in
    # parallel and selectively.
    "$PGBIN/pg_dump" -d "$url" -Fc -Z 6 --file "$dest/$db.dump" || die "pg_dump failed"
    echo "$db" > "$dest/DATABASE"
    (cd "$dest" && sha256sum roles.sql "$db.dump" DATABASE > SHA256SUMS)
    echo "dump: $dest"
}

cmd_checkpoints() {
    [ -n "$url" ] && [ -n "$out" ] || usage
    # Append what is not in FILE yet (by id).  Kept outside the database (another machine,
    # write-once storage), these let a restored or tampered trail be checked against the
    # checkpoints it once had: a restore from an older backup silently loses the newest
    # rows together with their chain heads; only an escrowed checkpoint shows the gap.
    last=0
    [ -s "$out" ] && last=$(tail -n 1 "$out" | cut -d, -f1)
    case "$last" in "" | *[!0-9]*) last=0 ;; esac
    "$PGBIN/psql" -qAtX -v ON_ERROR_STOP=1 -d "$url" -c "COPY (SELECT id, chain_id, seq,
        hash, row_time, signed_at, kind, key_id,
        translate(encode(signature, 'base64'), E'\\n', '')
        FROM audit.checkpoint WHERE id > $last ORDER BY id) TO STDOUT (FORMAT csv)" \
        >> "$out" || die "could not read audit.checkpoint"
    echo "checkpoints: $out ($(wc -l < "$out") in all)"
}

cmd_escrow_check() {
    [ -n "$url" ] && [ -s "$src" ] || usage
    # Each escrowed checkpoint names (chain, seq, hash): the row must still be there with
    # that hash.  `fhirgate audit verify` checks the chains the database holds; this
    # checks them against what they once were.  Only each chain's latest checkpoint is
    # compared: the chain itself vouches for everything before it.
    report=$("$PGBIN/psql" -qAtX -v ON_ERROR_STOP=1 -d "$url" <<SQL
CREATE TEMP TABLE escrow (id bigint, chain_id text, seq bigint, hash text, row_time timestamptz,
    signed_at timestamptz, kind text, key_id text, signature text);
\\copy escrow FROM '$src' WITH (FORMAT csv)
SELECT e.chain_id || ': row ' || e.seq || ' (' || e.row_time || ') '
       || CASE WHEN r.hash IS NULL THEN 'is missing' ELSE 'differs' END
FROM (SELECT chain_id, max(seq) AS seq FROM escrow GROUP BY chain_id) m
JOIN escrow e USING (chain_id, seq)
LEFT JOIN audit.event r ON r.chain_id = e.chain_id AND r.seq = e.seq
WHERE r.hash IS DISTINCT FROM e.hash ORDER BY 1;
SQL
) || die "could not compare the escrow with the database"
    if [ -n "$report" ]; then
        echo "$report" | sed 's/^/escrow: /'
        echo "escrow-check: rows the escrowed checkpoints cover are missing or changed" >&2
        exit 1
    fi
    echo "escrow-check: every chain holds its latest escrowed checkpoint"
}

cmd_verify() {
    if [ -f "$src/SHA256SUMS" ]; then
        (cd "$src" && sha256sum --quiet -c SHA256SUMS) || die "checksums do not match"
        f=$src/$(cat "$src/DATABASE").dump
        "$PGBIN/pg_restore" --list "$f" > /dev/null || die "the dump is not readable"
        echo "verified: $src (dump)"
    elif [ -f "$src/data/backup_manifest" ]; then
        "$PGBIN/pg_verifybackup" -q "$src/data" || die "the base backup does not verify"
        echo "verified: $src (base)"
    else
        die "$src is not a backup made by backup.sh"
    fi
}

cmd_restore_base() {
    [ -n "$data" ] || usage
    [ -f "$src/data/backup_manifest" ] || die "$src is not a base backup"
    mkdir -p "$data"
    [ -z "$(ls -A "$data")" ] || die "$data is not empty (refusing to overwrite a cluster)"
    "$PGBIN/pg_verifybackup" -q "$src/data" || die "the base backup does not verify"
    cp -a "$src/data/." "$data/"
    # Not part of a running cluster's data: drop them from the copy.
    rm -f "$data/backup_manifest" "$data/postmaster.pid"
    chmod 700 "$data"
    if [ "$(id -u)" -eq 0 ]; then
        parent=$(dirname "$data")
        chown -R "$(owner_of "$parent"):" "$data"
    fi
    echo "restored: $data (start PostgreSQL on it; it replays the WAL in the copy first)"
}

cmd_restore_dump() {
    [ -n "$url" ] || usage
    (cd "$src" && sha256sum --quiet -c SHA256SUMS) || die "checksums do not match"
    db=$(cat "$src/DATABASE")
    # Roles: those that exist already (postgres itself, or a shared cluster's) are
    # reported and skipped; everything else must apply.
    "$PGBIN/psql" -qX -d "$url" -f "$src/roles.sql" 2>&1 | grep -v "already exists" >&2 || :
    # Into the (empty) target database given by URL, in one transaction: all or nothing.
    "$PGBIN/pg_restore" -d "$url" --single-transaction --exit-on-error "$src/$db.dump" ||
        die "pg_restore failed (nothing was restored)"
    echo "restored: $db from $src"
}

case "$cmd" in
base) cmd_base ;;
dump) cmd_dump ;;
checkpoints) cmd_checkpoints ;;
escrow-check) cmd_escrow_check ;;
verify) cmd_verify ;;
restore-base) cmd_restore_base ;;
restore-dump) cmd_restore_dump ;;
*) usage ;;
esac
