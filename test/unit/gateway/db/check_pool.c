/*
 * gateway/db without a server: settings checks, and a pool whose server is
 * missing fails fast, backs off, and never blocks (the rest is tested
 * against a real PostgreSQL in test/integration/check_db_pool.c).
 */
#include <check.h>
#include <string.h>
#include <time.h>

#include "gateway/db/gw_db.h"

#define NOWHERE "postgresql:///nodb?host=/nonexistent-fhirgate-socket-dir&port=1&connect_timeout=2"

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(settings_are_checked)
{
    struct gw_db_config cfg;
    struct gw_db_pool *p = NULL;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};

    gw_db_config_defaults(&cfg);
    ck_assert_uint_eq(cfg.pool_size, 8);
    ck_assert_int_eq(gw_db_pool_new(&cfg, &p, &err), BASE_E_INVALID); /* no URL */
    ck_assert_str_eq(err.msg, "no database URL configured");
    base_err_clear(&err);
    cfg.url = NOWHERE;
    cfg.pool_size = 0;
    ck_assert_int_eq(gw_db_pool_new(&cfg, &p, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "database.pool_size");
    base_err_clear(&err);
    cfg.pool_size = 10000;
    ck_assert_int_eq(gw_db_pool_new(&cfg, &p, &err), BASE_E_INVALID);
    base_err_clear(&err);
    cfg.pool_size = 2;
    cfg.url = "postgresql://[";
    ck_assert_int_eq(gw_db_pool_new(&cfg, &p, &err), BASE_E_INVALID);
    ck_assert_ptr_null(p);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_connect(&cfg, &c, &err), BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_connect(NULL, &c, &err), BASE_E_INVALID);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(missing_server_fails_fast_and_backs_off)
{
    struct gw_db_config cfg;
    struct gw_db_pool *p = NULL;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    struct gw_db_pool_stats st;
    long long t0;

    gw_db_config_defaults(&cfg);
    cfg.url = NOWHERE;
    cfg.pool_size = 2;
    cfg.reconnect_min_ms = 5000;
    ck_assert_int_eq(gw_db_pool_new(&cfg, &p, &err), BASE_OK); /* no connection yet */
    t0 = now_ms();
    ck_assert_int_eq(gw_db_borrow(p, &c, &err), BASE_E_IO);
    ck_assert_str_eq(err.msg, "could not connect to the database: database unavailable");
    base_err_clear(&err);
    /* within the back-off: refused without trying */
    ck_assert_int_eq(gw_db_borrow(p, &c, &err), BASE_E_IO);
    ck_assert_str_eq(err.msg, "database unavailable (reconnecting)");
    ck_assert_int_lt(now_ms() - t0, 1000);
    ck_assert_ptr_null(c);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_pool_ping(p, &err), BASE_E_IO);
    gw_db_pool_stats(p, &st);
    ck_assert_uint_eq(st.unavailable, 3);
    ck_assert_uint_eq(st.borrowed, 0); /* slots were given back */
    ck_assert_uint_eq(st.open, 0);
    gw_db_release(NULL);
    gw_db_pool_free(p);
    gw_db_pool_free(NULL);
    gw_db_conn_free(NULL);
}
END_TEST

Suite *db_pool_unit_suite(void)
{
    Suite *s = suite_create("db_pool_unit");
    TCase *tc = tcase_create("pool");

    tcase_add_test(tc, settings_are_checked);
    tcase_add_test(tc, missing_server_fails_fast_and_backs_off);
    suite_add_tcase(s, tc);
    return s;
}
