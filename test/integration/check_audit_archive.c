/*
 * Retention: rows in January, February and March 2026 (a test clock), then
 * `fhirgate audit archive --before 2026-03` exports and drops January and
 * February, checkpoints the chains at the boundary, and what remains still
 * verifies — and still catches tampering.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fhir/base/str.h"
#include "gateway/audit/gw_audit.h"
#include "test/support/audittest.h"
#include "test/support/pgtest.h"
#include "test/support/testutil.h"

static struct at_env env;
static long long clock_us;

static long long
test_clock(void)
{
    return clock_us;
}

/* 2026-01-10, 2026-02-10, 2026-03-10 (UTC), 10 rows each, two chains. */
static void
setup(void)
{
    static const long long months[] = {1768003200000000LL, 1770681600000000LL, 1773100800000000LL};
    struct gw_db_pool *p;
    struct gw_audit *a;
    struct gw_audit *b;
    struct base_err err = {0};

    ck_assert(at_env_init(&env, "audarch"));
    p = at_pool(env.url_app, 2);
    clock_us = months[0];
    a = at_audit(p, "gw-a", env.key, 7, test_clock);
    b = at_audit(p, "gw-b", env.key, 7, test_clock);
    ck_assert(a != NULL && b != NULL);
    for (int m = 0; m < 3; m++) {
        for (int i = 0; i < 10; i++) {
            struct at_rec x;

            clock_us = months[m] + i * 1000000LL;
            at_rec_make(&x, m * 100 + i, NULL, NULL, NULL);
            ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_OK);
            if (m != 1) /* gw-b was idle in February */
                ck_assert_int_eq(gw_audit_append(b, &x.r, NULL, &err), BASE_OK);
        }
    }
    gw_audit_free(a);
    gw_audit_free(b);
    gw_db_pool_free(p);
}

static void
teardown(void)
{
    at_env_fini(&env);
}

static int
archive(const char *before, const char *dir, char **out)
{
    const char *argv[] = {tu_bin("fhirgate"),
                          "audit",
                          "archive",
                          "--database",
                          env.url_admin,
                          "--before",
                          before,
                          "--to",
                          dir,
                          "--signing-key",
                          env.key,
                          NULL};

    return pt_run(argv, out);
}

START_TEST(archive_drop_and_verify_the_rest)
{
    char dir[512];
    char file[600];
    char *out = NULL;
    char *sha = NULL;
    char *file_sha = NULL;
    char *t = NULL;
    const char *key[] = {"--key", env.pub, NULL};
    const char *sha_argv[] = {"/usr/bin/sha256sum", file, NULL};
    struct stat st;
    size_t len = 0;
    char *csv;

    snprintf(dir, sizeof(dir), "%s/%s-archive", pt_tmp(), env.db);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(at_verify_cli(&env, key, &out), 0);
    free(out);
    ck_assert_int_eq(archive("2026-03", dir, &out), 0);
    ck_assert_msg(strstr(out, "audit archive: 2 month(s) archived") != NULL, "%s", out);
    free(out);

    /* the partitions are gone, the files and records are there */
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM pg_class WHERE relname IN "
                                      "('event_202601', 'event_202602')"),
                     0);
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.event"), 20);
    ck_assert_int_eq(pt_count(env.db, "SELECT sum(row_count) FROM audit.archive"), 30);
    ck_assert_int_eq(
        pt_count(env.db, "SELECT count(*) FROM audit.checkpoint WHERE kind = 'archive'"),
        3); /* gw-a twice, gw-b once */
    snprintf(file, sizeof(file), "%s/audit-event_202601.csv", dir);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_int_eq(st.st_mode & 077, 0);
    csv = tu_read_file(file, &len);
    ck_assert_ptr_nonnull(csv);
    ck_assert(strncmp(csv, "chain_id,seq,recorded_at,prev_hash,hash,", 40) == 0);
    ck_assert_ptr_nonnull(strstr(csv, "gw-a,10,2026-01-10T00:00:09.000000Z,"));
    free(csv);
    /* the recorded SHA-256 is the file's, as sha256sum computes it */
    ck_assert_int_ge(
        pt_sql(env.db, "SELECT file_sha256 FROM audit.archive WHERE month = '2026-01-01'", &sha),
        0);
    ck_assert_int_eq(pt_run(sha_argv, &file_sha), 0);
    ck_assert(strncmp(file_sha, sha, 64) == 0);
    free(sha);
    free(file_sha);

    /* what remains verifies from the archive checkpoints */
    ck_assert_int_eq(at_verify_cli(&env, key, &out), 0);
    ck_assert_msg(strstr(out, "chain gw-a: intact: rows 21..30 (10 rows)") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "chain gw-b: intact: rows 11..20 (10 rows)") != NULL, "%s", out);
    free(out);
    /* and still catches a change */
    ck_assert_int_ge(pt_sql(env.db,
                            "SELECT audit.canon_time(recorded_at) FROM audit.event WHERE "
                            "chain_id = 'gw-b' AND seq = 11",
                            &t),
                     0);
    ck_assert_int_ge(pt_sql(env.db,
                            "DO $$ BEGIN PERFORM set_config('session_replication_role', "
                            "'replica', true); DELETE FROM audit.event WHERE chain_id = "
                            "'gw-b' AND seq = 11; END $$",
                            NULL),
                     0);
    ck_assert_int_eq(at_verify_cli(&env, key, &out), 1);
    ck_assert_msg(strstr(out, "chain gw-b: row seq 11") != NULL && strstr(out, "was removed"), "%s",
                  out);
    free(out);
    free(t);
    /* archiving again: nothing left before March; the current month is refused */
    ck_assert_int_eq(archive("2026-03", dir, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "0 month(s) archived"));
    free(out);
}
END_TEST

START_TEST(archive_refuses_bad_input_and_broken_chains)
{
    char dir[512];
    char *out = NULL;
    const char *nokey[] = {tu_bin("fhirgate"), "audit",    "archive", "--database",
                           env.url_admin,      "--before", "2026-02", NULL};

    snprintf(dir, sizeof(dir), "%s/%s-archive2", pt_tmp(), env.db);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(archive("2026-13", dir, &out), 2);
    ck_assert_ptr_nonnull(strstr(out, "YYYY-MM"));
    free(out);
    ck_assert_int_eq(archive("2999-01", dir, &out), 2);
    ck_assert_ptr_nonnull(strstr(out, "current month"));
    free(out);
    ck_assert_int_eq(pt_run(nokey, &out), 2);
    free(out);
    /* a change before the boundary: refused, nothing dropped */
    ck_assert_int_ge(pt_sql(env.db,
                            "DO $$ BEGIN PERFORM set_config('session_replication_role', "
                            "'replica', true); UPDATE audit.event SET reason = 'x' WHERE "
                            "chain_id = 'gw-a' AND seq = 3; END $$",
                            NULL),
                     0);
    ck_assert_int_eq(archive("2026-02", dir, &out), 1);
    ck_assert_msg(strstr(out, "not intact") != NULL, "%s", out);
    free(out);
    ck_assert_int_eq(
        pt_count(env.db, "SELECT count(*) FROM pg_class WHERE relname = 'event_202601'"), 1);
}
END_TEST

Suite *audit_archive_suite(void)
{
    Suite *s = suite_create("audit_archive");
    TCase *tc = tcase_create("archive");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, archive_drop_and_verify_the_rest);
    tcase_add_test(tc, archive_refuses_bad_input_and_broken_chains);
    suite_add_tcase(s, tc);
    return s;
}
