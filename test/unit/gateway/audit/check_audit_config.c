/*
 * gw_audit without a database: every configuration check, and appends
 * that fail closed at once when the database cannot be reached.
 */
#include <check.h>
#include <string.h>
#include <time.h>

#include "fhir/base/limits.h"
#include "gateway/audit/gw_audit.h"
#include "gateway/db/gw_db.h"

#define NOWHERE "postgresql:///nodb?host=/nonexistent-fhirgate-socket-dir&port=1&connect_timeout=2"

static struct gw_db_pool *pool;

static void
setup(void)
{
    struct gw_db_config cfg;
    struct base_err err = {0};

    gw_db_config_defaults(&cfg);
    cfg.url = NOWHERE;
    cfg.pool_size = 8;
    ck_assert_int_eq(gw_db_pool_new(&cfg, &pool, &err), BASE_OK);
}

static void
teardown(void)
{
    gw_db_pool_free(pool);
}

static int
try_config(void (*change)(struct gw_audit_config *), struct base_err *err)
{
    struct gw_audit_config cfg;
    struct gw_audit *a = NULL;
    int rc;

    gw_audit_config_defaults(&cfg);
    cfg.chain_id = "gw-a";
    change(&cfg);
    rc = gw_audit_new(pool, &cfg, &a, err);
    gw_audit_free(a);
    return rc;
}

static void
no_chain(struct gw_audit_config *c)
{
    c->chain_id = NULL;
}
static void
empty_chain(struct gw_audit_config *c)
{
    c->chain_id = "";
}
static void
bad_chain(struct gw_audit_config *c)
{
    c->chain_id = "gw\xff";
}
static void
writers0(struct gw_audit_config *c)
{
    c->writers = 0;
}
static void
writers_too_many(struct gw_audit_config *c)
{
    c->writers = 17;
}
static void
writers_over_pool(struct gw_audit_config *c)
{
    c->writers = 9;
}
static void
batch0(struct gw_audit_config *c)
{
    c->batch_max = 0;
}
static void
batch_big(struct gw_audit_config *c)
{
    c->batch_max = BASE_LIMIT_AUDIT_MAX_BATCH + 1;
}
static void
queue0(struct gw_audit_config *c)
{
    c->queue_max = 0;
}
static void
ahead1(struct gw_audit_config *c)
{
    c->partitions_ahead = 1;
}
static void
cp0(struct gw_audit_config *c)
{
    c->checkpoint_rows = 0;
}
static void
no_key(struct gw_audit_config *c)
{
    c->signing_key = "/nonexistent/key.pem";
}

START_TEST(bad_configurations_are_refused)
{
    static const struct {
        void (*change)(struct gw_audit_config *);
        int rc;
        const char *where;
    } cases[] = {
        {no_chain, BASE_E_INVALID, "audit.chain_id"},
        {empty_chain, BASE_E_INVALID, "audit.chain_id"},
        {bad_chain, BASE_E_INVALID, "audit.chain_id"},
        {writers0, BASE_E_INVALID, "audit.writers"},
        {writers_too_many, BASE_E_INVALID, "audit.writers"},
        {writers_over_pool, BASE_E_INVALID, "audit.writers"},
        {batch0, BASE_E_INVALID, "audit.batch_max"},
        {batch_big, BASE_E_INVALID, "audit.batch_max"},
        {queue0, BASE_E_INVALID, "audit.queue_max"},
        {ahead1, BASE_E_INVALID, "audit.partitions_ahead"},
        {cp0, BASE_E_INVALID, "audit.checkpoint"},
        {no_key, BASE_E_IO, "audit.signing_key"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct base_err err = {0};

        ck_assert_int_eq(try_config(cases[i].change, &err), cases[i].rc);
        ck_assert_str_eq(err.where, cases[i].where);
    }
}
END_TEST

START_TEST(appends_fail_closed_without_a_database)
{
    static const char ev[] = "{\"resourceType\":\"AuditEvent\",\"action\":\"R\"}";
    struct gw_audit_config cfg;
    struct gw_audit *a = NULL;
    struct gw_audit_record r = {0};
    struct gw_audit_receipt rc_out;
    struct gw_audit_stats st;
    struct base_err err = {0};
    struct timespec t0;
    struct timespec t1;

    gw_audit_config_defaults(&cfg);
    cfg.chain_id = "gw-a";
    ck_assert_int_eq(gw_audit_new(pool, &cfg, &a, &err), BASE_OK); /* starts anyway */
    r.event_json = ev;
    r.event_len = sizeof(ev) - 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 3; i++) {
        base_err_clear(&err);
        ck_assert_int_eq(gw_audit_append(a, &r, &rc_out, &err), BASE_E_IO);
        ck_assert_int_eq(rc_out.seq, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5); /* no hang */
    ck_assert_int_eq(gw_audit_flush(a, 1000, &err), BASE_OK);
    gw_audit_stats(a, &st);
    ck_assert_uint_eq(st.failed, 3);
    ck_assert_uint_eq(st.appended, 0);
    ck_assert_uint_eq(st.queued, 0);
    gw_audit_free(a);
}
END_TEST

Suite *audit_config_suite(void)
{
    Suite *s = suite_create("audit_config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, bad_configurations_are_refused);
    tcase_add_test(tc, appends_fail_closed_without_a_database);
    suite_add_tcase(s, tc);
    return s;
}
