/*
 * gateway/db against a real PostgreSQL: statements and errors, timeouts,
 * a frozen server, the pool (exhaustion, broken connections, recovery
 * after the server restarts).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "gateway/db/gw_db.h"
#include "test/support/pgtest.h"

static char *db;

static void
setup(void)
{
    db = pt_create_db("dbpool");
    ck_assert_ptr_nonnull(db);
    ck_assert_int_ge(pt_sql(db, "CREATE TABLE t (id int PRIMARY KEY, v text)", NULL), 0);
}

static void
teardown(void)
{
    free(db);
    db = NULL;
}

static void
config(struct gw_db_config *cfg, char **url)
{
    gw_db_config_defaults(cfg);
    *url = pt_url(db, "postgres");
    cfg->url = *url;
}

static struct gw_db_conn *
connect_db(struct gw_db_config *cfg)
{
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};

    ck_assert_msg(gw_db_connect(cfg, &c, &err) == BASE_OK, "connect: %s", err.msg);
    return c;
}

static int64_t
backend_pid(struct gw_db_conn *c)
{
    PGresult *res = NULL;
    struct base_err err = {0};
    int64_t pid = 0;

    ck_assert_int_eq(gw_db_exec(c, "test.pid", "SELECT pg_backend_pid()", 0, NULL, &res, &err),
                     BASE_OK);
    ck_assert(gw_db_val_i64(res, 0, 0, &pid));
    PQclear(res);
    return pid;
}

START_TEST(exec_with_parameters_and_results)
{
    struct gw_db_config cfg;
    char *url;
    struct gw_db_conn *c;
    struct base_err err = {0};
    PGresult *res = NULL;
    const char *ins[2] = {"1", "it's; DROP TABLE t; --"};
    const char *sel[1] = {"1"};
    const char *nul[2] = {"2", NULL};
    int64_t n = 0;

    config(&cfg, &url);
    c = connect_db(&cfg);
    ck_assert_int_eq(
        gw_db_exec(c, "t.ins", "INSERT INTO t VALUES ($1::int, $2)", 2, ins, NULL, &err), BASE_OK);
    ck_assert_int_eq(
        gw_db_exec(c, "t.ins", "INSERT INTO t VALUES ($1::int, $2)", 2, nul, NULL, &err), BASE_OK);
    ck_assert_int_eq(gw_db_exec(c, "t.sel", "SELECT v, id, id = 1 FROM t WHERE id = $1::int", 1,
                                sel, &res, &err),
                     BASE_OK);
    ck_assert_str_eq(gw_db_val(res, 0, 0), "it's; DROP TABLE t; --");
    ck_assert(gw_db_val_i64(res, 0, 1, &n) && n == 1);
    ck_assert(gw_db_val_bool(res, 0, 2));
    ck_assert_ptr_null(gw_db_val(res, 5, 0)); /* out of range */
    PQclear(res);
    ck_assert_int_eq(gw_db_exec(c, "t.null", "SELECT v FROM t WHERE id = 2", 0, NULL, &res, &err),
                     BASE_OK);
    ck_assert_ptr_null(gw_db_val(res, 0, 0));
    ck_assert(!gw_db_val_i64(res, 0, 0, &n));
    PQclear(res);
    gw_db_conn_free(c);
    free(url);
}
END_TEST

START_TEST(errors_name_the_statement_never_the_values)
{
    struct gw_db_config cfg;
    char *url;
    struct gw_db_conn *c;
    struct base_err err = {0};
    const char *phi[1] = {"PATIENT-ZHANG-SAN-110101"};
    const char *dup[2] = {"7", "x"};

    config(&cfg, &url);
    c = connect_db(&cfg);
    ck_assert_int_eq(gw_db_exec(c, "t.cast", "SELECT $1::int", 1, phi, NULL, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "t.cast");
    ck_assert_ptr_null(strstr(err.msg, "ZHANG"));
    ck_assert_ptr_null(strstr(err.log_detail, "ZHANG"));
    ck_assert_ptr_null(strstr(err.msg, "SELECT"));
    ck_assert_str_eq(gw_db_conn_sqlstate(c), "22P02");
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t.syntax", "SELEC 1", 0, NULL, NULL, &err), BASE_E_IO);
    ck_assert_ptr_null(strstr(err.msg, "SELEC"));
    ck_assert_ptr_nonnull(strstr(err.log_detail, "42601"));
    base_err_clear(&err);
    ck_assert_int_eq(
        gw_db_exec(c, "t.ins", "INSERT INTO t VALUES ($1::int, $2)", 2, dup, NULL, &err), BASE_OK);
    ck_assert_int_eq(
        gw_db_exec(c, "t.ins", "INSERT INTO t VALUES ($1::int, $2)", 2, dup, NULL, &err),
        BASE_E_CONFLICT);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t.many", "SELECT 1", 70000, NULL, NULL, &err), BASE_E_LIMIT);
    /* the connection is still usable after statement errors */
    ck_assert(gw_db_conn_ok(c));
    ck_assert_int_eq(gw_db_exec(c, "t.ok", "SELECT 1", 0, NULL, NULL, &err), BASE_OK);
    gw_db_conn_free(c);
    free(url);
}
END_TEST

START_TEST(prepared_statements_and_transactions)
{
    static const struct gw_db_stmt ins = {"t.ins_prep", "INSERT INTO t VALUES ($1::int, $2)", 2};
    static const struct gw_db_stmt cnt = {"t.count", "SELECT count(*) FROM t", 0};
    struct gw_db_config cfg;
    char *url;
    struct gw_db_conn *c;
    struct base_err err = {0};
    const char *a[2] = {"10", "a"};
    const char *b[2] = {"11", "b"};
    PGresult *res = NULL;
    int64_t n = -1;

    config(&cfg, &url);
    c = connect_db(&cfg);
    ck_assert_int_eq(gw_db_begin(c, NULL, &err), BASE_OK);
    ck_assert_int_eq(gw_db_exec_stmt(c, &ins, a, NULL, &err), BASE_OK);
    gw_db_rollback(c);
    ck_assert_int_eq(gw_db_exec_stmt(c, &cnt, NULL, &res, &err), BASE_OK);
    ck_assert(gw_db_val_i64(res, 0, 0, &n) && n == 0);
    PQclear(res);
    ck_assert_int_eq(gw_db_begin(c, "REPEATABLE READ", &err), BASE_OK);
    ck_assert_int_eq(gw_db_exec_stmt(c, &ins, b, NULL, &err), BASE_OK);
    ck_assert_int_eq(gw_db_set_local(c, "synchronous_commit", "on", &err), BASE_OK);
    ck_assert_int_eq(gw_db_commit(c, &err), BASE_OK);
    ck_assert_int_eq(gw_db_exec_stmt(c, &cnt, NULL, &res, &err), BASE_OK);
    ck_assert(gw_db_val_i64(res, 0, 0, &n) && n == 1);
    PQclear(res);
    /* COMMIT of a failed transaction is an error, not a silent rollback */
    ck_assert_int_eq(gw_db_begin(c, NULL, &err), BASE_OK);
    ck_assert_int_ne(gw_db_exec_stmt(c, &ins, b, NULL, &err), BASE_OK);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_commit(c, &err), BASE_E_IO);
    ck_assert_int_eq(gw_db_begin(c, "NOT A MODE", &err), BASE_E_INTERNAL);
    gw_db_conn_free(c);
    free(url);
}
END_TEST

/* A statement's struct may be freed with its owner and the next owner's
 * land at the same address with another name and SQL (an audit writer
 * restarted on the same pool): it must be prepared again, not taken for the
 * old one. */
START_TEST(statement_at_a_reused_address_is_prepared_again)
{
    struct gw_db_stmt st = {"t.first", "SELECT 1", 0};
    struct gw_db_config cfg;
    char *url;
    struct gw_db_conn *c;
    struct base_err err = {0};
    PGresult *res = NULL;
    int64_t n = -1;

    config(&cfg, &url);
    c = connect_db(&cfg);
    ck_assert_int_eq(gw_db_exec_stmt(c, &st, NULL, &res, &err), BASE_OK);
    ck_assert(gw_db_val_i64(res, 0, 0, &n) && n == 1);
    PQclear(res);
    st = (struct gw_db_stmt){"t.second", "SELECT 2", 0};
    ck_assert_int_eq(gw_db_exec_stmt(c, &st, NULL, &res, &err), BASE_OK);
    ck_assert(gw_db_val_i64(res, 0, 0, &n) && n == 2);
    PQclear(res);
    gw_db_conn_free(c);
    free(url);
}
END_TEST

START_TEST(statement_timeout_ends_long_queries)
{
    struct gw_db_config cfg;
    char *url;
    struct gw_db_conn *c;
    struct base_err err = {0};
    long long t0;

    config(&cfg, &url);
    cfg.statement_timeout_ms = 200;
    c = connect_db(&cfg);
    t0 = pt_now_ms();
    ck_assert_int_eq(gw_db_exec(c, "t.sleep", "SELECT pg_sleep(5)", 0, NULL, NULL, &err),
                     BASE_E_IO);
    ck_assert_int_lt(pt_now_ms() - t0, 2000);
    ck_assert_ptr_nonnull(strstr(err.msg, "timed out"));
    ck_assert_str_eq(gw_db_conn_sqlstate(c), "57014");
    gw_db_conn_free(c);
    free(url);
}
END_TEST

START_TEST(frozen_server_costs_at_most_the_deadline)
{
    struct gw_db_config cfg;
    char *url;
    struct gw_db_conn *c;
    struct base_err err = {0};
    long long t0;
    int64_t pid;

    config(&cfg, &url);
    cfg.statement_timeout_ms = 300;
    cfg.deadline_grace_ms = 300;
    c = connect_db(&cfg);
    pid = backend_pid(c);
    /* freeze the backend: it can neither answer nor time out by itself */
    ck_assert_int_eq(kill((pid_t)pid, SIGSTOP), 0);
    t0 = pt_now_ms();
    ck_assert_int_eq(gw_db_exec(c, "t.frozen", "SELECT 1", 0, NULL, NULL, &err), BASE_E_IO);
    ck_assert_int_lt(pt_now_ms() - t0, 1500);
    ck_assert_int_ge(pt_now_ms() - t0, 500);
    ck_assert_ptr_nonnull(strstr(err.msg, "did not answer in time"));
    ck_assert(!gw_db_conn_ok(c));
    kill((pid_t)pid, SIGCONT);
    gw_db_conn_free(c);
    free(url);
}
END_TEST

START_TEST(lock_timeout_bounds_waiting_for_a_lock)
{
    struct gw_db_config cfg;
    char *url;
    struct gw_db_conn *holder;
    struct gw_db_conn *c;
    struct base_err err = {0};
    const char *v[2] = {"20", "x"};
    long long t0;

    config(&cfg, &url);
    cfg.lock_timeout_ms = 300;
    holder = connect_db(&cfg);
    c = connect_db(&cfg);
    ck_assert_int_eq(gw_db_begin(holder, NULL, &err), BASE_OK);
    ck_assert_int_eq(
        gw_db_exec(holder, "t.lock", "LOCK TABLE t IN ACCESS EXCLUSIVE MODE", 0, NULL, NULL, &err),
        BASE_OK);
    t0 = pt_now_ms();
    ck_assert_int_eq(gw_db_exec(c, "t.ins", "INSERT INTO t VALUES ($1::int, $2)", 2, v, NULL, &err),
                     BASE_E_IO);
    ck_assert_int_lt(pt_now_ms() - t0, 2000);
    ck_assert_ptr_nonnull(strstr(err.msg, "lock"));
    ck_assert_str_eq(gw_db_conn_sqlstate(c), "55P03");
    gw_db_rollback(holder);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_exec(c, "t.ins", "INSERT INTO t VALUES ($1::int, $2)", 2, v, NULL, &err),
                     BASE_OK);
    gw_db_conn_free(holder);
    gw_db_conn_free(c);
    free(url);
}
END_TEST

START_TEST(pool_exhaustion_is_a_clear_error)
{
    struct gw_db_config cfg;
    char *url;
    struct gw_db_pool *p = NULL;
    struct gw_db_conn *a = NULL;
    struct gw_db_conn *b = NULL;
    struct gw_db_conn *x = NULL;
    struct base_err err = {0};
    struct gw_db_pool_stats st;
    long long t0;

    config(&cfg, &url);
    cfg.pool_size = 2;
    cfg.borrow_timeout_ms = 200;
    ck_assert_int_eq(gw_db_pool_new(&cfg, &p, &err), BASE_OK);
    ck_assert_int_eq(gw_db_borrow(p, &a, &err), BASE_OK);
    ck_assert_int_eq(gw_db_borrow(p, &b, &err), BASE_OK);
    t0 = pt_now_ms();
    ck_assert_int_eq(gw_db_borrow(p, &x, &err), BASE_E_IO);
    ck_assert_int_ge(pt_now_ms() - t0, 150);
    ck_assert_int_lt(pt_now_ms() - t0, 1000);
    ck_assert_str_eq(err.msg, "database connection pool exhausted");
    ck_assert_ptr_null(x);
    gw_db_pool_stats(p, &st);
    ck_assert_uint_eq(st.exhausted, 1);
    ck_assert_uint_eq(st.borrowed, 2);
    /* a transaction left open is rolled back on release */
    ck_assert_int_eq(gw_db_begin(a, NULL, &err), BASE_OK);
    gw_db_release(a);
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_borrow(p, &x, &err), BASE_OK);
    ck_assert_int_eq(PQtransactionStatus(gw_db_conn_pg(x)), PQTRANS_IDLE);
    gw_db_release(x);
    gw_db_release(b);
    ck_assert_int_eq(gw_db_pool_ping(p, &err), BASE_OK);
    gw_db_pool_free(p);
    free(url);
}
END_TEST

START_TEST(broken_connection_is_replaced)
{
    struct gw_db_config cfg;
    char *url;
    struct gw_db_pool *p = NULL;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    struct gw_db_pool_stats st;
    char sql[128];
    int64_t pid1;
    int64_t pid2;

    config(&cfg, &url);
    cfg.pool_size = 1;
    ck_assert_int_eq(gw_db_pool_new(&cfg, &p, &err), BASE_OK);
    ck_assert_int_eq(gw_db_borrow(p, &c, &err), BASE_OK);
    pid1 = backend_pid(c);
    gw_db_release(c);
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)", (long long)pid1);
    ck_assert_int_ge(pt_sql(db, sql, NULL), 0);
    usleep(100000);
    ck_assert_int_eq(gw_db_borrow(p, &c, &err), BASE_OK);
    pid2 = backend_pid(c);
    ck_assert_int_ne(pid1, pid2);
    gw_db_release(c);
    gw_db_pool_stats(p, &st);
    ck_assert_uint_ge(st.broken, 1);
    ck_assert_uint_eq(st.reconnects, 2);
    gw_db_pool_free(p);
    free(url);
}
END_TEST

START_TEST(pool_recovers_after_server_restart)
{
    struct gw_db_config cfg;
    char *url;
    struct gw_db_pool *p = NULL;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    long long t0;
    bool ok = false;

    config(&cfg, &url);
    cfg.pool_size = 2;
    cfg.reconnect_min_ms = 50;
    cfg.reconnect_max_ms = 200;
    ck_assert_int_eq(gw_db_pool_new(&cfg, &p, &err), BASE_OK);
    ck_assert_int_eq(gw_db_pool_ping(p, &err), BASE_OK);
    ck_assert_int_eq(pt_pg_stop(), 0);
    /* down: every borrow fails, fast */
    for (int i = 0; i < 5; i++) {
        base_err_clear(&err);
        t0 = pt_now_ms();
        ck_assert_int_eq(gw_db_pool_ping(p, &err), BASE_E_IO);
        ck_assert_int_lt(pt_now_ms() - t0, 1000);
        usleep(50000);
    }
    ck_assert_int_eq(pt_pg_start(), 0);
    /* back: the same pool recovers by itself within the back-off */
    t0 = pt_now_ms();
    while (pt_now_ms() - t0 < 5000 && !ok) {
        base_err_clear(&err);
        ok = gw_db_pool_ping(p, &err) == BASE_OK;
        if (!ok)
            usleep(50000);
    }
    ck_assert_msg(ok, "pool did not recover: %s", err.msg);
    ck_assert_int_eq(gw_db_borrow(p, &c, &err), BASE_OK);
    ck_assert_int_eq(gw_db_exec(c, "t.after", "SELECT count(*) FROM t", 0, NULL, NULL, &err),
                     BASE_OK);
    gw_db_release(c);
    gw_db_pool_free(p);
    free(url);
}
END_TEST

START_TEST(urls_are_checked_and_described_without_secrets)
{
    struct base_err err = {0};
    char desc[256];

    ck_assert_int_eq(gw_db_url_check("postgresql:///db?host=/var/pg&port=5432", &err), BASE_OK);
    ck_assert_int_eq(gw_db_url_check("host=localhost dbname=x", &err), BASE_OK);
    ck_assert_int_eq(gw_db_url_check("postgresql://u:s3cr3t@[bad", &err), BASE_E_INVALID);
    ck_assert_ptr_null(strstr(err.msg, "s3cr3t"));
    base_err_clear(&err);
    ck_assert_int_eq(gw_db_url_check(NULL, &err), BASE_E_INVALID);
    gw_db_url_describe("postgresql://gw:s3cr3t@db.example:6543/fhirgate?sslmode=require", desc,
                       sizeof(desc));
    ck_assert_ptr_null(strstr(desc, "s3cr3t"));
    ck_assert_str_eq(desc, "host=db.example port=6543 dbname=fhirgate user=gw sslmode=require");
    gw_db_url_describe("postgresql:///fhirgate?host=%2Fvar%2Fpg", desc, sizeof(desc));
    ck_assert_str_eq(desc, "host=/var/pg dbname=fhirgate");
    gw_db_url_describe("not a url = =", desc, sizeof(desc));
    ck_assert_str_eq(desc, "(invalid connection string)");
}
END_TEST

START_TEST(connect_failure_is_io_without_the_url)
{
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};

    gw_db_config_defaults(&cfg);
    cfg.url = "postgresql://nobody:pw-x9@127.0.0.1:1/none?connect_timeout=2";
    ck_assert_int_eq(gw_db_connect(&cfg, &c, &err), BASE_E_IO);
    ck_assert_ptr_null(c);
    ck_assert_ptr_null(strstr(err.msg, "pw-x9"));
    ck_assert_ptr_null(strstr(err.msg, "127.0.0.1"));
}
END_TEST

Suite *db_pool_suite(void)
{
    Suite *s = suite_create("db_pool");
    TCase *tc = tcase_create("pool");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, exec_with_parameters_and_results);
    tcase_add_test(tc, errors_name_the_statement_never_the_values);
    tcase_add_test(tc, prepared_statements_and_transactions);
    tcase_add_test(tc, statement_at_a_reused_address_is_prepared_again);
    tcase_add_test(tc, statement_timeout_ends_long_queries);
    tcase_add_test(tc, frozen_server_costs_at_most_the_deadline);
    tcase_add_test(tc, lock_timeout_bounds_waiting_for_a_lock);
    tcase_add_test(tc, pool_exhaustion_is_a_clear_error);
    tcase_add_test(tc, broken_connection_is_replaced);
    tcase_add_test(tc, pool_recovers_after_server_restart);
    tcase_add_test(tc, urls_are_checked_and_described_without_secrets);
    tcase_add_test(tc, connect_failure_is_io_without_the_url);
    suite_add_tcase(s, tc);
    return s;
}
