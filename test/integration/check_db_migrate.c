/*
 * Migrations against a real PostgreSQL: apply, re-apply is a no-op, a
 * changed applied file is refused, a failing file leaves nothing behind,
 * concurrent runs, the CLI; and the roles they create (the service role
 * cannot UPDATE, DELETE or TRUNCATE audit rows).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/db/gw_db.h"
#include "test/support/pgtest.h"
#include "test/support/testutil.h"

static struct gw_db_conn *
connect_as(const char *db, const char *user)
{
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    char *url = pt_url(db, user);

    gw_db_config_defaults(&cfg);
    cfg.url = url;
    ck_assert_msg(gw_db_connect(&cfg, &c, &err) == BASE_OK, "connect as %s: %s", user, err.msg);
    free(url);
    return c;
}

#define MIG(name, text)                                                                            \
    {                                                                                              \
        "gateway", name, (const unsigned char *)(text), sizeof(text) - 1                           \
    }

START_TEST(embedded_migrations_apply_once)
{
    char *db = pt_create_db("mig");
    struct gw_db_conn *c;
    struct base_err err = {0};
    const struct gw_db_migration *set;
    size_t n = 0;
    unsigned applied = 99;
    struct base_arena *a = base_arena_new(0);
    struct gw_db_migration_status *st = NULL;
    size_t nst = 0;

    ck_assert_ptr_nonnull(db);
    c = connect_as(db, "postgres");
    set = gw_db_migrations("gateway", &n);
    ck_assert_uint_ge(n, 2);
    ck_assert_str_eq(set[0].name, "0001_roles.sql");
    ck_assert_int_eq(gw_db_migrate_status(c, "gateway", set, n, a, &st, &nst, &err), BASE_OK);
    ck_assert_uint_eq(nst, n);
    ck_assert_int_eq(st[0].state, GW_DB_MIG_PENDING);
    ck_assert_int_eq(gw_db_migrate(c, "gateway", set, n, &applied, &err), BASE_OK);
    ck_assert_uint_eq(applied, n);
    ck_assert_int_eq(gw_db_migrate(c, "gateway", set, n, &applied, &err), BASE_OK);
    ck_assert_uint_eq(applied, 0);
    ck_assert_int_eq(gw_db_migrate_status(c, "gateway", set, n, a, &st, &nst, &err), BASE_OK);
    for (size_t i = 0; i < nst; i++)
        ck_assert_int_eq(st[i].state, GW_DB_MIG_APPLIED);
    ck_assert_int_eq(pt_count(db, "SELECT count(*) FROM fhirgate_meta.migration"), (long)n);
    /* partitions for this month and the next two */
    ck_assert_int_ge(pt_count(db, "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                                  "'audit.event'::regclass"),
                     3);
    /* the adapter set is separate */
    set = gw_db_migrations("adapter", &n);
    ck_assert_uint_ge(n, 1);
    ck_assert_int_eq(gw_db_migrate(c, "adapter", set, n, &applied, &err), BASE_OK);
    ck_assert_uint_eq(applied, n);
    ck_assert_ptr_null(gw_db_migrations("nonsense", &n));
    ck_assert_uint_eq(n, 0);
    gw_db_conn_free(c);
    base_arena_free(a);
    free(db);
}
END_TEST

START_TEST(changed_applied_file_is_refused)
{
    static const struct gw_db_migration v1[] = {MIG("0001_a.sql", "CREATE TABLE a (x int);")};
    static const struct gw_db_migration v2[] = {MIG("0001_a.sql", "CREATE TABLE a (x int, y int);"),
                                                MIG("0002_b.sql", "CREATE TABLE b (x int);")};
    char *db = pt_create_db("mig");
    struct gw_db_conn *c = connect_as(db, "postgres");
    struct base_err err = {0};
    struct base_arena *a = base_arena_new(0);
    struct gw_db_migration_status *st = NULL;
    size_t nst = 0;
    unsigned applied = 0;

    ck_assert_int_eq(gw_db_migrate(c, "gateway", v1, 1, &applied, &err), BASE_OK);
    ck_assert_int_eq(gw_db_migrate(c, "gateway", v2, 2, &applied, &err), BASE_E_CONFLICT);
    ck_assert_str_eq(err.where, "0001_a.sql");
    ck_assert_uint_eq(applied, 0);
    ck_assert_int_eq(pt_count(db, "SELECT count(*) FROM pg_tables WHERE tablename = 'b'"), 0);
    ck_assert_int_eq(gw_db_migrate_status(c, "gateway", v2, 2, a, &st, &nst, &err), BASE_OK);
    ck_assert_int_eq(st[0].state, GW_DB_MIG_CHANGED);
    ck_assert_int_eq(st[1].state, GW_DB_MIG_PENDING);
    /* a build that lacks an applied file sees it as unknown */
    ck_assert_int_eq(gw_db_migrate_status(c, "gateway", NULL, 0, a, &st, &nst, &err), BASE_OK);
    ck_assert_uint_eq(nst, 1);
    ck_assert_int_eq(st[0].state, GW_DB_MIG_UNKNOWN);
    gw_db_conn_free(c);
    base_arena_free(a);
    free(db);
}
END_TEST

START_TEST(failing_migration_leaves_nothing)
{
    static const struct gw_db_migration set[] = {
        MIG("0001_ok.sql", "CREATE TABLE ok (x int);"),
        MIG("0002_bad.sql", "-- comment; with a semicolon\n"
                            "CREATE TABLE half (x text DEFAULT 'a;b');\n"
                            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n"
                            "\n"
                            "SELECT 1/0;"),
        MIG("0003_after.sql", "CREATE TABLE after (x int);")};
    static const struct gw_db_migration tx[] = {
        MIG("0001_tx.sql", "CREATE TABLE y (x int);\nCOMMIT;")};
    static const struct gw_db_migration badname[] = {MIG("1_x.sql", "SELECT 1")};
    static const struct gw_db_migration order[] = {MIG("0002_a.sql", "SELECT 1"),
                                                   MIG("0002_b.sql", "SELECT 1")};
    char *db = pt_create_db("mig");
    struct gw_db_conn *c = connect_as(db, "postgres");
    struct base_err err = {0};
    unsigned applied = 0;

    ck_assert_int_eq(gw_db_migrate(c, "gateway", set, 3, &applied, &err), BASE_E_INVALID);
    ck_assert_uint_eq(applied, 1);
    ck_assert_str_eq(err.where, "0002_bad.sql: statement 3 (line 5)");
    ck_assert_ptr_nonnull(strstr(err.log_detail, "22012"));
    ck_assert_int_eq(
        pt_count(db, "SELECT count(*) FROM pg_tables WHERE tablename IN ('half', 'after')"), 0);
    ck_assert_int_eq(pt_count(db, "SELECT count(*) FROM pg_proc WHERE proname = 'f'"), 0);
    ck_assert_int_eq(pt_count(db, "SELECT count(*) FROM fhirgate_meta.migration"), 1);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_migrate(c, "gateway", tx, 1, &applied, &err), BASE_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err.where, "statement 2"));
    ck_assert_int_eq(pt_count(db, "SELECT count(*) FROM pg_tables WHERE tablename = 'y'"), 0);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_migrate(c, "gateway", badname, 1, &applied, &err), BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_migrate(c, "gateway", order, 2, &applied, &err), BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_migrate(c, "elsewhere", set, 1, &applied, &err), BASE_E_INVALID);
    /* the connection is usable afterwards */
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t", "SELECT 1", 0, NULL, NULL, &err), BASE_OK);
    gw_db_conn_free(c);
    free(db);
}
END_TEST

struct race {
    const char *db;
    unsigned applied;
    int rc;
};

static void *
race_main(void *arg)
{
    struct race *r = arg;
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    const struct gw_db_migration *set;
    size_t n = 0;
    char *url = pt_url(r->db, "postgres");

    gw_db_config_defaults(&cfg);
    cfg.url = url;
    set = gw_db_migrations("gateway", &n);
    r->rc = gw_db_connect(&cfg, &c, &err);
    if (r->rc == BASE_OK)
        r->rc = gw_db_migrate(c, "gateway", set, n, &r->applied, &err);
    if (r->rc != BASE_OK)
        fprintf(stderr, "race: %s %s %s\n", err.where, err.msg, err.log_detail);
    gw_db_conn_free(c);
    free(url);
    return NULL;
}

START_TEST(concurrent_runs_apply_each_file_once)
{
    char *db = pt_create_db("mig");
    struct race r[3] = {{db, 0, 0}, {db, 0, 0}, {db, 0, 0}};
    pthread_t t[3];
    size_t n = 0;

    (void)gw_db_migrations("gateway", &n);
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, race_main, &r[i]);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(r[i].rc, BASE_OK);
    ck_assert_uint_eq(r[0].applied + r[1].applied + r[2].applied, n);
    free(db);
}
END_TEST

START_TEST(service_role_cannot_change_audit_rows)
{
    char *db = pt_create_migrated_db("mig");
    struct gw_db_conn *c;
    struct base_err err = {0};
    char *part = NULL;
    char sql[256];

    ck_assert_ptr_nonnull(db);
    c = connect_as(db, "fhirgate_app");
    /* what the writer does is allowed */
    ck_assert_int_eq(gw_db_exec(c, "t.chain", "INSERT INTO audit.chain (chain_id) VALUES ('n1')", 0,
                                NULL, NULL, &err),
                     BASE_OK);
    ck_assert_int_eq(gw_db_exec(c, "t.ins",
                                "INSERT INTO audit.event (chain_id, seq, recorded_at, "
                                "event_text, break_glass, prev_hash, hash) VALUES ('n1', 1, now(), "
                                "'{}', false, repeat('0', 64), repeat('1', 64))",
                                0, NULL, NULL, &err),
                     BASE_OK);
    ck_assert_int_eq(
        gw_db_exec(c, "t.sel", "SELECT count(*) FROM audit.event", 0, NULL, NULL, &err), BASE_OK);
    ck_assert_int_eq(
        gw_db_exec(c, "t.part", "SELECT audit.ensure_partitions(now(), 4)", 0, NULL, NULL, &err),
        BASE_OK);
    /* changing or removing audit rows is not */
    ck_assert_int_eq(
        gw_db_exec(c, "t.upd", "UPDATE audit.event SET event_text = 'x'", 0, NULL, NULL, &err),
        BASE_E_AUTH);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t.del", "DELETE FROM audit.event", 0, NULL, NULL, &err),
                     BASE_E_AUTH);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t.trunc", "TRUNCATE audit.event", 0, NULL, NULL, &err),
                     BASE_E_AUTH);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t.cpdel", "DELETE FROM audit.checkpoint", 0, NULL, NULL, &err),
                     BASE_E_AUTH);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t.ddl", "DROP TABLE audit.event", 0, NULL, NULL, &err),
                     BASE_E_AUTH);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t.ddl", "CREATE TABLE audit.x (y int)", 0, NULL, NULL, &err),
                     BASE_E_AUTH);
    /* nor through a partition directly */
    ck_assert_int_ge(pt_sql(db,
                            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = "
                            "i.inhrelid WHERE i.inhparent = 'audit.event'::regclass LIMIT 1",
                            &part),
                     0);
    ck_assert_ptr_nonnull(part);
    snprintf(sql, sizeof(sql), "DELETE FROM audit.%s", part);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t.pdel", sql, 0, NULL, NULL, &err), BASE_E_AUTH);
    snprintf(sql, sizeof(sql), "UPDATE audit.%s SET seq = 2", part);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t.pupd", sql, 0, NULL, NULL, &err), BASE_E_AUTH);
    /* even the owner cannot update through SQL (trigger) */
    ck_assert_int_lt(pt_sql(db, "UPDATE audit.event SET event_text = 'x'", NULL), 0);
    ck_assert_int_lt(pt_sql(db, "DELETE FROM audit.event", NULL), 0);
    ck_assert_int_eq(pt_count(db, "SELECT count(*) FROM audit.event"), 1);
    free(part);
    gw_db_conn_free(c);
    free(db);
}
END_TEST

START_TEST(cli_migrate_and_status)
{
    char *db = pt_create_db("mig");
    char *url = pt_url(db, "postgres");
    char *out = NULL;
    const char *bin = tu_bin("fhirgate");
    const char *apply[] = {bin, "migrate", "--database", url, NULL};
    const char *status[] = {bin, "migrate", "--status", "--database", url, NULL};
    const char *adapter[] = {bin, "migrate", "--target=adapter", "--database", url, NULL};
    const char *bad[] = {bin, "migrate", "--target", "nope", "--database", url, NULL};
    const char *down[] = {bin, "migrate", "--database",
                          "postgresql://u:topsecret@127.0.0.1:1/x?connect_timeout=2", NULL};
    const char *none[] = {bin, "migrate", NULL};

    ck_assert_int_eq(pt_run(apply, &out), 0);
    {
        /* every migration embedded in this build is applied on a new database */
        size_t n_embedded = 0;
        char want[64];

        (void)gw_db_migrations("gateway", &n_embedded);
        ck_assert_uint_gt(n_embedded, 1);
        snprintf(want, sizeof(want), "%s%zu applied", "migrate gateway: ", n_embedded);
        ck_assert_msg(strstr(out, want) != NULL, "expected '%s' in: %s", want, out);
    }
    free(out);
    ck_assert_int_eq(pt_run(apply, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "0 applied"));
    free(out);
    ck_assert_int_eq(pt_run(status, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "0002_audit.sql"));
    ck_assert_ptr_nonnull(strstr(out, "applied"));
    ck_assert_ptr_null(strstr(out, "pending"));
    free(out);
    ck_assert_int_eq(pt_run(adapter, &out), 0);
    free(out);
    ck_assert_int_eq(pt_run(bad, &out), 2);
    free(out);
    ck_assert_int_eq(pt_run(down, &out), 1);
    ck_assert_ptr_null(strstr(out, "topsecret"));
    ck_assert_ptr_nonnull(strstr(out, "database unavailable"));
    free(out);
    unsetenv("FHIRGATE_DATABASE_URL");
    ck_assert_int_eq(pt_run(none, &out), 1);
    ck_assert_ptr_nonnull(strstr(out, "no database"));
    free(out);
    setenv("FHIRGATE_DATABASE_URL", url, 1);
    ck_assert_int_eq(pt_run(none, &out), 0);
    free(out);
    unsetenv("FHIRGATE_DATABASE_URL");
    free(url);
    free(db);
}
END_TEST

Suite *db_migrate_suite(void)
{
    Suite *s = suite_create("db_migrate");
    TCase *tc = tcase_create("migrate");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, embedded_migrations_apply_once);
    tcase_add_test(tc, changed_applied_file_is_refused);
    tcase_add_test(tc, failing_migration_leaves_nothing);
    tcase_add_test(tc, concurrent_runs_apply_each_file_once);
    tcase_add_test(tc, service_role_cannot_change_audit_rows);
    tcase_add_test(tc, cli_migrate_and_status);
    suite_add_tcase(s, tc);
    return s;
}
