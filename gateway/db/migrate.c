/*
 * Forward-only schema migrations.
 *
 * Files schemas/sql/<target>/NNNN_name.sql are embedded into the binaries
 * at build time (schemas/sql/embed.sh), so the product never needs the
 * repository.  Each pending file runs in its own transaction, statement by
 * statement (gw_db_sql_split), and is recorded in fhirgate_meta.migration
 * in that same transaction: a file is applied entirely or not at all.
 * A recorded file whose SHA-256 differs from the build's is an error before
 * anything runs — history must not be rewritten.  A session advisory lock
 * serializes concurrent runs (two nodes starting at once).
 */
#include "gateway/db/gw_db.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "gateway/db/db_int.h"

/* pg_advisory_lock key: "fhirmigr" as a big-endian 64-bit integer. */
#define MIGRATE_LOCK_KEY "7379496513839163762"

void
gw_db__sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        memset(out, '0', 64);
        out[64] = '\0';
        return;
    }
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

const struct gw_db_migration *
gw_db_migrations(const char *target, size_t *count)
{
    const struct gw_db_migration *first = NULL;
    size_t n = 0;

    for (size_t i = 0; i < gw_db__embedded_migration_count; i++) {
        if (strcmp(gw_db__embedded_migrations[i].target, target) != 0)
            continue;
        if (first == NULL)
            first = &gw_db__embedded_migrations[i];
        n++;
    }
    *count = n;
    return first;
}

/* NNNN_name.sql: four digits, underscore, [a-z0-9_]+, ".sql". */
static bool
name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n < 10 || strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
        return false;
    for (size_t i = 0; i < 4; i++) {
        if (!isdigit((unsigned char)name[i]))
            return false;
    }
    for (size_t i = 5; i < n - 4; i++) {
        if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) && name[i] != '_')
            return false;
    }
    return true;
}

static int
check_set(const char *target, const struct gw_db_migration *set, size_t count, struct base_err *err)
{
    ENSURE(strcmp(target, "gateway") == 0 || strcmp(target, "adapter") == 0, err, BASE_E_INVALID,
           "value", "target", "unknown migration target");
    for (size_t i = 0; i < count; i++) {
        ENSURE(name_ok(set[i].name), err, BASE_E_INVALID, "value", set[i].name,
               "migration file name must look like NNNN_name.sql");
        ENSURE(i == 0 || memcmp(set[i - 1].name, set[i].name, 4) < 0, err, BASE_E_INVALID, "value",
               set[i].name, "migration numbers must be unique and in order");
    }
    return BASE_OK;
}

static int
meta_exists(struct gw_db_conn *c, bool *out, struct base_err *err)
{
    PGresult *res = NULL;

    TRY(gw_db_exec(c, "migrate.meta_exists",
                   "SELECT to_regclass('fhirgate_meta.migration') IS NOT NULL", 0, NULL, &res,
                   err));
    *out = gw_db_val_bool(res, 0, 0);
    PQclear(res);
    return BASE_OK;
}

static int
load_applied(struct gw_db_conn *c, const char *target, PGresult **out, struct base_err *err)
{
    const char *vals[1] = {target};

    return gw_db_exec(c, "migrate.applied",
                      "SELECT name, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
                      "'YYYY-MM-DD HH24:MI:SS\"Z\"') FROM fhirgate_meta.migration "
                      "WHERE target = $1 ORDER BY name",
                      1, vals, out, err);
}

/* Row of `applied` recording `name`, or -1. */
static int
find_applied(const PGresult *applied, const char *name)
{
    for (int r = 0; applied != NULL && r < PQntuples(applied); r++) {
        if (strcmp(PQgetvalue(applied, r, 0), name) == 0)
            return r;
    }
    return -1;
}

int
gw_db_migrate_status(struct gw_db_conn *c, const char *target, const struct gw_db_migration *set,
                     size_t count, struct base_arena *a, struct gw_db_migration_status **out,
                     size_t *out_count, struct base_err *err)
{
    struct gw_db_migration_status *st;
    PGresult *applied = NULL;
    bool exists = false;
    size_t n = 0;
    size_t cap;
    int rc;

    *out = NULL;
    *out_count = 0;
    TRY(check_set(target, set, count, err));
    TRY(meta_exists(c, &exists, err));
    if (exists)
        TRY(load_applied(c, target, &applied, err));
    cap = count + (applied != NULL ? (size_t)PQntuples(applied) : 0);
    st = BASE_NEW_N(a, struct gw_db_migration_status, cap + 1);
    if (st == NULL) {
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "migrate", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        int r = find_applied(applied, set[i].name);

        st[n].name = set[i].name;
        gw_db__sha256_hex(set[i].sql, set[i].len, st[n].checksum);
        st[n].state = GW_DB_MIG_PENDING;
        if (r >= 0) {
            st[n].state = strcmp(PQgetvalue(applied, r, 1), st[n].checksum) == 0
                              ? GW_DB_MIG_APPLIED
                              : GW_DB_MIG_CHANGED;
            snprintf(st[n].applied_at, sizeof(st[n].applied_at), "%s", PQgetvalue(applied, r, 2));
        }
        n++;
    }
    for (int r = 0; applied != NULL && r < PQntuples(applied); r++) {
        bool known = false;

        for (size_t i = 0; i < count && !known; i++)
            known = strcmp(set[i].name, PQgetvalue(applied, r, 0)) == 0;
        if (known)
            continue;
        st[n].name = base_arena_strdup(a, PQgetvalue(applied, r, 0));
        if (st[n].name == NULL) {
            rc = base_err_set(err, BASE_E_NOMEM, "exception", "migrate", "out of memory");
            goto out;
        }
        st[n].state = GW_DB_MIG_UNKNOWN;
        snprintf(st[n].checksum, sizeof(st[n].checksum), "%s", PQgetvalue(applied, r, 1));
        snprintf(st[n].applied_at, sizeof(st[n].applied_at), "%s", PQgetvalue(applied, r, 2));
        n++;
    }
    *out = st;
    *out_count = n;
    rc = BASE_OK;
out:
    PQclear(applied);
    return rc;
}

/* ---------------------------------------------------------------- apply -- */

struct apply_ctx {
    struct gw_db_conn *c;
    const char *file;
    unsigned index;
    struct base_err *err;
};

/* A migration must not end or start transactions itself: the runner owns
 * the transaction that makes the file atomic with its record. */
static bool
controls_transaction(const char *sql, size_t len)
{
    static const char *const words[] = {"begin", "commit", "rollback", "start", "end", "abort"};
    char w[10];
    size_t n = 0;

    while (n < len && n < sizeof(w) - 1 && isalpha((unsigned char)sql[n])) {
        w[n] = (char)tolower((unsigned char)sql[n]);
        n++;
    }
    w[n] = '\0';
    if (n < len && isalpha((unsigned char)sql[n]))
        return false;
    for (size_t i = 0; i < BASE_ARRAY_LEN(words); i++) {
        if (strcmp(w, words[i]) == 0)
            return true;
    }
    return false;
}

static int
apply_statement(void *vctx, const char *sql, size_t len, unsigned line)
{
    struct apply_ctx *ax = vctx;
    char where[128];
    char *text;
    int rc;

    ax->index++;
    snprintf(where, sizeof(where), "%s: statement %u (line %u)", ax->file, ax->index, line);
    ENSURE(!controls_transaction(sql, len), ax->err, BASE_E_INVALID, "business-rule", where,
           "a migration must not begin or end transactions");
    text = base_malloc(len + 1);
    ENSURE(text != NULL, ax->err, BASE_E_NOMEM, "exception", where, "out of memory");
    memcpy(text, sql, len);
    text[len] = '\0';
    rc = gw_db_exec(ax->c, "migration", text, 0, NULL, NULL, NULL);
    base_free(text);
    if (rc != BASE_OK) {
        base_err_set(ax->err, rc, "exception", where, "could not apply migration");
        base_err_log_detail(ax->err, "sqlstate=%s: %s", ax->c->sqlstate, ax->c->message);
    }
    return rc;
}

static int
apply_one(struct gw_db_conn *c, const char *target, const struct gw_db_migration *m,
          struct base_err *err)
{
    struct apply_ctx ax = {c, m->name, 0, err};
    char sum[65];
    const char *vals[3] = {target, m->name, sum};
    int rc;

    gw_db__sha256_hex(m->sql, m->len, sum);
    TRY(gw_db_begin(c, NULL, err));
    rc = gw_db_sql_split((const char *)m->sql, m->len, BASE_LIMIT_DB_MIGRATION_STMTS,
                         apply_statement, &ax, err);
    if (rc == BASE_OK)
        rc = gw_db_exec(c, "migrate.record",
                        "INSERT INTO fhirgate_meta.migration (target, name, checksum) "
                        "VALUES ($1, $2, $3)",
                        3, vals, NULL, err);
    if (rc == BASE_OK)
        rc = gw_db_commit(c, err);
    if (rc != BASE_OK) {
        gw_db_rollback(c);
        if (err != NULL && err->where[0] == '\0')
            snprintf(err->where, sizeof(err->where), "%s", m->name);
    }
    return rc;
}

static int
bootstrap(struct gw_db_conn *c, struct base_err *err)
{
    TRY(gw_db_exec(c, "migrate.schema", "CREATE SCHEMA IF NOT EXISTS fhirgate_meta", 0, NULL, NULL,
                   err));
    return gw_db_exec(c, "migrate.table",
                      "CREATE TABLE IF NOT EXISTS fhirgate_meta.migration ("
                      " target text NOT NULL,"
                      " name text NOT NULL,"
                      " checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),"
                      " applied_at timestamptz NOT NULL DEFAULT now(),"
                      " PRIMARY KEY (target, name))",
                      0, NULL, NULL, err);
}

static int
migrate_locked(struct gw_db_conn *c, const char *target, const struct gw_db_migration *set,
               size_t count, unsigned *applied_n, struct base_err *err)
{
    PGresult *applied = NULL;
    int rc;

    TRY(bootstrap(c, err));
    TRY(load_applied(c, target, &applied, err));
    for (size_t i = 0; i < count; i++) {
        int r = find_applied(applied, set[i].name);
        char sum[65];

        if (r < 0)
            continue;
        gw_db__sha256_hex(set[i].sql, set[i].len, sum);
        if (strcmp(PQgetvalue(applied, r, 1), sum) != 0) {
            PQclear(applied);
            return base_err_set(err, BASE_E_CONFLICT, "conflict", set[i].name,
                                "applied migration was changed afterwards (checksum differs)");
        }
    }
    rc = BASE_OK;
    for (size_t i = 0; i < count && rc == BASE_OK; i++) {
        if (find_applied(applied, set[i].name) >= 0)
            continue;
        rc = apply_one(c, target, &set[i], err);
        if (rc == BASE_OK)
            (*applied_n)++;
    }
    PQclear(applied);
    return rc;
}

int
gw_db_migrate(struct gw_db_conn *c, const char *target, const struct gw_db_migration *set,
              size_t count, unsigned *out_applied, struct base_err *err)
{
    struct base_err ignored = {0};
    unsigned applied_n = 0;
    unsigned saved_timeout;
    int rc;

    if (out_applied != NULL)
        *out_applied = 0;
    TRY(check_set(target, set, count, err));
    saved_timeout = c->timeout_ms;
    /* Migrations may rewrite big tables: no statement timeout for them. */
    TRY(gw_db_conn_set_timeout(c, 0, err));
    rc = gw_db_exec(c, "migrate.lock", "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL,
                    NULL, err);
    if (rc == BASE_OK) {
        rc = migrate_locked(c, target, set, count, &applied_n, err);
        if (gw_db_exec(c, "migrate.unlock", "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0,
                       NULL, NULL, &ignored) != BASE_OK)
            c->broken = true;
    }
    if (gw_db_conn_ok(c) && gw_db_conn_set_timeout(c, saved_timeout, &ignored) != BASE_OK)
        c->broken = true;
    if (out_applied != NULL)
        *out_applied = applied_n;
    return rc;
}
