/*
 * The embedded default cluster: created under a state folder on first use,
 * reused afterwards, restarted when stopped, reachable only by its socket.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fhir/base/arena.h"
#include "gateway/db/gw_db.h"
#include "test/support/pgtest.h"
#include "test/support/testutil.h"

static char state[512];

/* Never leave a server running when a test fails half-way. */
static void
stop_cluster(void)
{
    struct base_err err = {0};

    if (state[0] != '\0' && gw_db_embedded_stop(state, NULL, &err) != BASE_OK)
        fprintf(stderr, "embedded: could not stop the test cluster: %s\n", err.msg);
}

static struct gw_db_conn *
connect_url(const char *url)
{
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};

    gw_db_config_defaults(&cfg);
    cfg.url = url;
    ck_assert_msg(gw_db_connect(&cfg, &c, &err) == BASE_OK, "connect: %s", err.msg);
    return c;
}

START_TEST(created_reused_restarted)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_db_embedded_urls urls;
    struct gw_db_embedded_urls again;
    struct base_err err = {0};
    struct gw_db_conn *c;
    PGresult *res = NULL;
    char path[600];
    struct stat st;
    long long t0;
    char *out = NULL;
    const char *migrate[] = {tu_bin("fhirgate"), "migrate", "--state-dir", state, NULL};

    snprintf(state, sizeof(state), "%s/state with space", pt_tmp());
    ck_assert_int_eq(gw_db_embedded_ensure(state, NULL, a, &urls, &err), BASE_OK);
    ck_assert_ptr_nonnull(strstr(urls.admin, "user=postgres"));
    ck_assert_ptr_nonnull(strstr(urls.service, "user=fhirgate_app"));
    ck_assert_ptr_nonnull(strstr(urls.admin, "state%20with%20space"));
    snprintf(path, sizeof(path), "%s/pg/data/PG_VERSION", state);
    ck_assert_int_eq(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/pg", state);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 077, 0); /* private folder */

    c = connect_url(urls.admin);
    ck_assert_int_eq(gw_db_exec(c, "t",
                                "SELECT current_setting('listen_addresses'), "
                                "current_database(), current_setting('server_encoding')",
                                0, NULL, &res, &err),
                     BASE_OK);
    ck_assert_str_eq(gw_db_val(res, 0, 0), "");
    ck_assert_str_eq(gw_db_val(res, 0, 1), "fhirgate");
    ck_assert_str_eq(gw_db_val(res, 0, 2), "UTF8");
    PQclear(res);
    gw_db_conn_free(c);

    /* the CLI finds the same cluster by its state folder */
    ck_assert_int_eq(pt_run(migrate, &out), 0);
    {
        /* every migration embedded in this build is applied on a new database */
        size_t n_embedded = 0;
        char want[64];

        (void)gw_db_migrations("gateway", &n_embedded);
        ck_assert_uint_gt(n_embedded, 1);
        snprintf(want, sizeof(want), "%s%zu applied", "", n_embedded);
        ck_assert_msg(strstr(out, want) != NULL, "expected '%s' in: %s", want, out);
    }
    free(out);
    c = connect_url(urls.service);
    ck_assert_int_eq(gw_db_exec(c, "t", "SELECT count(*) FROM audit.event", 0, NULL, NULL, &err),
                     BASE_OK);
    gw_db_conn_free(c);

    /* reused: quick, same answer */
    t0 = pt_now_ms();
    ck_assert_int_eq(gw_db_embedded_ensure(state, NULL, a, &again, &err), BASE_OK);
    ck_assert_int_lt(pt_now_ms() - t0, 1000);
    ck_assert_str_eq(again.admin, urls.admin);

    /* stopped, then started again on demand; the data survives */
    ck_assert_int_eq(gw_db_embedded_stop(state, NULL, &err), BASE_OK);
    ck_assert_int_eq(PQping(urls.admin), PQPING_NO_RESPONSE);
    ck_assert_int_eq(gw_db_embedded_ensure(state, NULL, a, &again, &err), BASE_OK);
    c = connect_url(urls.service);
    ck_assert_int_eq(gw_db_exec(c, "t", "SELECT count(*) FROM audit.chain", 0, NULL, NULL, &err),
                     BASE_OK);
    gw_db_conn_free(c);
    ck_assert_int_eq(gw_db_embedded_stop(state, NULL, &err), BASE_OK);
    ck_assert_int_eq(gw_db_embedded_stop(state, NULL, &err), BASE_OK); /* already stopped */
    base_arena_free(a);
}
END_TEST

START_TEST(bad_state_folders_are_refused)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_db_embedded_urls urls;
    struct base_err err = {0};
    struct gw_db_embedded_opts o = {0};
    char bad[512];

    snprintf(bad, sizeof(bad), "%s/quote\"d", pt_tmp());
    ck_assert_int_eq(gw_db_embedded_ensure(bad, NULL, a, &urls, &err), BASE_E_INVALID);
    base_err_clear(&err);
    snprintf(bad, sizeof(bad), "%s/%0150d", pt_tmp(), 7);
    ck_assert_int_eq(gw_db_embedded_ensure(bad, NULL, a, &urls, &err), BASE_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "too long"));
    base_err_clear(&err);
    o.dbname = "Robert'); DROP";
    ck_assert_int_eq(gw_db_embedded_ensure(pt_tmp(), &o, a, &urls, &err), BASE_E_INVALID);
    base_err_clear(&err);
    o.dbname = NULL;
    o.pg_bindir = "/nonexistent/bin";
    ck_assert_int_eq(gw_db_embedded_ensure(pt_tmp(), &o, a, &urls, &err), BASE_E_IO);
    base_arena_free(a);
}
END_TEST

Suite *db_embedded_suite(void)
{
    Suite *s = suite_create("db_embedded");
    TCase *tc = tcase_create("embedded");

    tcase_set_timeout(tc, 180);
    tcase_add_checked_fixture(tc, NULL, stop_cluster);
    tcase_add_test(tc, created_reused_restarted);
    tcase_add_test(tc, bad_state_folders_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
