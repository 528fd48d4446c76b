/*
 * Queries for regulators and patients: AuditEvent search with filters and
 * paging, "who looked at my record", and the period report — on a known
 * set of events written through the real writer with a test clock.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "gateway/audit/gw_audit.h"
#include "test/support/audittest.h"
#include "test/support/pgtest.h"
#include "test/support/testutil.h"

static struct at_env env;
static long long clock_us;
static struct gw_db_conn *conn;

#define DAY1 1773136800000000LL /* 2026-03-10T10:00:00Z */
#define MIN  60000000LL

static long long
test_clock(void)
{
    return clock_us;
}

static void
put(struct gw_audit *a, long long at, const char *user, const char *member, const char *patient,
    int status, bool bg, const char *reason)
{
    static int n;
    struct at_rec x;
    struct base_err err = {0};

    clock_us = at;
    at_rec_make(&x, n++, user, patient != NULL ? patient : "Patient/none", member);
    if (patient == NULL) {
        x.r.patient_ref = NULL;
        x.r.entities = NULL;
        x.r.entity_count = 0;
        x.r.subtype = "login";
    }
    x.r.http_status = status;
    x.r.outcome = status >= 400 ? "4" : "0";
    x.r.break_glass = bg;
    x.r.purpose = bg ? "ETREAT" : "TREAT";
    x.r.reason = reason;
    ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_OK);
}

static void
setup(void)
{
    struct gw_db_pool *p;
    struct gw_audit *a;
    struct gw_db_config cfg;
    struct base_err err = {0};
    char patient[32];

    ck_assert(at_env_init(&env, "audq"));
    p = at_pool(env.url_app, 1);
    a = at_audit(p, "gw-a", NULL, 0, test_clock);
    ck_assert_ptr_nonnull(a);
    for (int i = 0; i < 30; i++) {
        snprintf(patient, sizeof(patient), "Patient/p%d", i % 3 + 1);
        put(a, DAY1 + i * MIN, "dr-wang", "hospital-a", patient, 200, false, NULL);
    }
    /* 02:00 and 03:00 UTC the next day: unusual hours */
    put(a, DAY1 + 16 * 60 * MIN, "dr-li", "hospital-a", "Patient/p1", 200, false, NULL);
    put(a, DAY1 + 17 * 60 * MIN, "dr-li", "hospital-a", "Patient/p2", 200, false, NULL);
    for (int i = 0; i < 3; i++)
        put(a, DAY1 + 26 * 60 * MIN + i * MIN, "dr-zhao", "hospital-b", "Patient/p4", 200, false,
            NULL);
    put(a, DAY1 + 26 * 60 * MIN + 5 * MIN, "dr-zhao", "hospital-b", "Patient/p5", 403, false,
        "consent: opted out");
    put(a, DAY1 + 26 * 60 * MIN + 6 * MIN, "dr-zhao", "hospital-b", "Patient/p5", 403, false,
        "consent: opted out");
    put(a, DAY1 + 26 * 60 * MIN + 7 * MIN, "dr-er", "hospital-b", "Patient/p5", 200, true,
        "unconscious on arrival");
    for (int i = 0; i < 200; i++)
        put(a, DAY1 + 27 * 60 * MIN + i * 1000000LL, "dr-mass", "hospital-c", "Patient/p6", 200,
            false, NULL);
    put(a, DAY1 + 28 * 60 * MIN, "mallory", "hospital-c", NULL, 401, false, "bad password");
    gw_audit_free(a);
    gw_db_pool_free(p);
    gw_db_config_defaults(&cfg);
    cfg.url = env.url_app; /* queries run as the service role */
    ck_assert_int_eq(gw_db_connect(&cfg, &conn, &err), BASE_OK);
}

static void
teardown(void)
{
    gw_db_conn_free(conn);
    conn = NULL;
    at_env_fini(&env);
}

static size_t
count_events(const json_t *page, const char *key)
{
    return json_array_size(json_object_get(page, key));
}

START_TEST(search_filters)
{
    struct gw_audit_search q = {0};
    struct base_err err = {0};
    json_t *page = NULL;
    json_t *first;

    q.patient = "Patient/p5";
    ck_assert_int_eq(gw_audit_search(conn, &q, &page, &err), BASE_OK);
    ck_assert_uint_eq(count_events(page, "events"), 3);
    first = json_array_get(json_object_get(page, "events"), 0);
    /* newest first, with the resource as written */
    ck_assert_str_eq(json_string_value(json_object_get(first, "recorded")),
                     "2026-03-11T12:07:00.000000Z");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(first, "resource"), "resourceType")),
        "AuditEvent");
    ck_assert(json_is_null(json_object_get(page, "next")));
    json_decref(page);

    memset(&q, 0, sizeof(q));
    q.member = "hospital-b";
    q.outcome = "4";
    ck_assert_int_eq(gw_audit_search(conn, &q, &page, &err), BASE_OK);
    ck_assert_uint_eq(count_events(page, "events"), 2);
    json_decref(page);

    memset(&q, 0, sizeof(q));
    q.purpose = "ETREAT";
    ck_assert_int_eq(gw_audit_search(conn, &q, &page, &err), BASE_OK);
    ck_assert_uint_eq(count_events(page, "events"), 1);
    json_decref(page);

    memset(&q, 0, sizeof(q));
    q.entity = "Observation/o-3";
    ck_assert_int_eq(gw_audit_search(conn, &q, &page, &err), BASE_OK);
    ck_assert_uint_eq(count_events(page, "events"), 1);
    json_decref(page);

    memset(&q, 0, sizeof(q));
    q.agent = "dr-wang";
    q.from = "2026-03-10T10:10:00Z";
    q.to = "2026-03-10T10:20:00Z";
    ck_assert_int_eq(gw_audit_search(conn, &q, &page, &err), BASE_OK);
    ck_assert_uint_eq(count_events(page, "events"), 10);
    json_decref(page);

    memset(&q, 0, sizeof(q));
    q.subtype = "login";
    q.action = "E";
    ck_assert_int_eq(gw_audit_search(conn, &q, &page, &err), BASE_OK);
    ck_assert_uint_eq(count_events(page, "events"), 1);
    json_decref(page);

    /* hostile values are data, never SQL */
    memset(&q, 0, sizeof(q));
    q.agent = "x' OR '1'='1";
    q.member = "'; DROP TABLE audit.event; --";
    ck_assert_int_eq(gw_audit_search(conn, &q, &page, &err), BASE_OK);
    ck_assert_uint_eq(count_events(page, "events"), 0);
    json_decref(page);
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.event"), 239);
}
END_TEST

START_TEST(search_pages_without_gaps_or_repeats)
{
    struct gw_audit_search q = {0};
    struct base_err err = {0};
    json_t *page = NULL;
    char *next = NULL;
    int seen[300] = {0};
    int total = 0;
    int pages = 0;

    q.agent = "dr-wang";
    q.count = 7;
    do {
        json_t *ev;
        size_t i;

        q.page = next;
        ck_assert_int_eq(gw_audit_search(conn, &q, &page, &err), BASE_OK);
        json_array_foreach(json_object_get(page, "events"), i, ev)
        {
            int seq = (int)json_integer_value(json_object_get(ev, "seq"));

            ck_assert_int_eq(seen[seq], 0);
            seen[seq] = 1;
            total++;
        }
        free(next);
        next = json_is_string(json_object_get(page, "next"))
                   ? strdup(json_string_value(json_object_get(page, "next")))
                   : NULL;
        json_decref(page);
        pages++;
    } while (next != NULL);
    ck_assert_int_eq(total, 30);
    ck_assert_int_eq(pages, 5);
}
END_TEST

START_TEST(search_rejects_bad_parameters)
{
    static const char *const bad_pages[] = {"garbage",
                                            "v1~2026-03-10T10:00:00.000000Z~5",
                                            "v2~2026-03-10T10:00:00.000000Z~5~6777",
                                            "v1~2026-03-10 10:00:00~5~6777",
                                            "v1~2026-03-10T10:00:00.000000Z~-5~6777",
                                            "v1~2026-03-10T10:00:00.000000Z~5~zz",
                                            "v1~2026-03-10T10:00:00.000000Z~5~00"};
    struct gw_audit_search q = {0};
    struct base_err err = {0};
    json_t *page = NULL;

    for (size_t i = 0; i < sizeof(bad_pages) / sizeof(bad_pages[0]); i++) {
        q.page = bad_pages[i];
        base_err_clear(&err);
        ck_assert_msg(gw_audit_search(conn, &q, &page, &err) == BASE_E_INVALID, "%s", bad_pages[i]);
        ck_assert_str_eq(err.where, "page");
        ck_assert_ptr_null(page);
    }
    memset(&q, 0, sizeof(q));
    q.count = BASE_LIMIT_AUDIT_MAX_PAGE + 1;
    ck_assert_int_eq(gw_audit_search(conn, &q, &page, &err), BASE_E_LIMIT);
    memset(&q, 0, sizeof(q));
    q.from = "not a time";
    base_err_clear(&err);
    ck_assert_int_eq(gw_audit_search(conn, &q, &page, &err), BASE_E_INVALID);
    ck_assert_ptr_null(strstr(err.msg, "not a time"));
}
END_TEST

START_TEST(who_looked_at_my_record)
{
    struct base_err err = {0};
    json_t *out = NULL;
    json_t *acc;
    json_t *bg;

    ck_assert_int_eq(gw_audit_patient_accesses(conn, "Patient/p5", NULL, NULL, 0, NULL, &out, &err),
                     BASE_OK);
    acc = json_object_get(out, "accesses");
    ck_assert_uint_eq(json_array_size(acc), 3);
    bg = json_array_get(acc, 0);
    ck_assert_str_eq(json_string_value(json_object_get(bg, "user")), "dr-er");
    ck_assert_str_eq(json_string_value(json_object_get(bg, "member")), "hospital-b");
    ck_assert_str_eq(json_string_value(json_object_get(bg, "purpose")), "ETREAT");
    ck_assert(json_is_true(json_object_get(bg, "break_glass")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(acc, 1), "status")), 403);
    ck_assert_str_eq(json_string_value(json_object_get(out, "patient")), "Patient/p5");
    json_decref(out);
    ck_assert_int_eq(gw_audit_patient_accesses(conn, "", NULL, NULL, 0, NULL, &out, &err),
                     BASE_E_INVALID);
}
END_TEST

static json_t *
find(json_t *arr, const char *key, const char *value)
{
    json_t *it;
    size_t i;

    json_array_foreach(arr, i, it)
    {
        if (json_is_string(json_object_get(it, key)) &&
            strcmp(json_string_value(json_object_get(it, key)), value) == 0)
            return it;
    }
    return NULL;
}

static json_int_t
num(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

START_TEST(report_for_a_period)
{
    struct gw_audit_report_opts o = {0};
    struct base_err err = {0};
    json_t *r = NULL;
    json_t *m;
    json_t *vol;
    json_t *hours;

    o.from = "2026-03-10T00:00:00Z";
    o.to = "2026-03-13T00:00:00Z";
    ck_assert_int_eq(gw_audit_report(conn, &o, &r, &err), BASE_OK);
    ck_assert_int_eq(num(json_object_get(r, "totals"), "events"), 239);
    ck_assert_int_eq(num(json_object_get(r, "totals"), "accesses"), 238);
    ck_assert_int_eq(num(json_object_get(r, "totals"), "denials"), 3);
    ck_assert_int_eq(num(json_object_get(r, "totals"), "break_glass"), 1);
    m = find(json_object_get(r, "per_member"), "member", "hospital-b");
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(num(m, "accesses"), 6);
    ck_assert_int_eq(num(m, "denials"), 2);
    ck_assert_int_eq(num(m, "break_glass"), 1);
    ck_assert_int_eq(num(m, "patients"), 2);
    m = find(json_object_get(r, "per_clinician"), "user", "dr-wang");
    ck_assert_int_eq(num(m, "accesses"), 30);
    ck_assert_int_eq(num(m, "patients"), 3);
    m = find(json_object_get(r, "per_day"), "day", "2026-03-10");
    ck_assert_int_eq(num(m, "accesses"), 30);
    m = find(json_object_get(r, "per_day"), "day", "2026-03-11");
    ck_assert_int_eq(num(m, "accesses"), 208);
    ck_assert_int_eq(num(m, "denials"), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(r, "denials")), 3);
    ck_assert_str_eq(json_string_value(json_object_get(
                         find(json_object_get(r, "denials"), "user", "dr-zhao"), "reason")),
                     "consent: opted out");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r, "break_glass"), 0), "reason")),
                     "unconscious on arrival");
    hours = json_object_get(json_object_get(r, "unusual_hours"), "users");
    ck_assert_uint_eq(json_array_size(hours), 1);
    ck_assert_int_eq(num(find(hours, "user", "dr-li"), "accesses"), 2);
    vol = json_object_get(r, "unusual_volume");
    ck_assert(json_real_value(json_object_get(vol, "median")) == 5.0); /* 1 2 5 30 200 */
    ck_assert_ptr_nonnull(find(json_object_get(vol, "users"), "user", "dr-mass"));
    ck_assert_ptr_nonnull(find(json_object_get(vol, "users"), "user", "dr-wang"));
    ck_assert_uint_eq(json_array_size(json_object_get(vol, "users")), 2);
    json_decref(r);

    /* in Beijing time the night window moves: 02:00/03:00 UTC is 10:00/11:00 */
    o.tz = "Asia/Shanghai";
    ck_assert_int_eq(gw_audit_report(conn, &o, &r, &err), BASE_OK);
    hours = json_object_get(json_object_get(r, "unusual_hours"), "users");
    ck_assert_ptr_null(find(hours, "user", "dr-li"));
    json_decref(r);

    o.tz = "Mars/Olympus_Mons";
    ck_assert_int_eq(gw_audit_report(conn, &o, &r, &err), BASE_E_INVALID);
    base_err_clear(&err);
    o.tz = NULL;
    o.to = NULL;
    ck_assert_int_eq(gw_audit_report(conn, &o, &r, &err), BASE_E_INVALID);
}
END_TEST

/* Unusual volume is measured against clinicians only: patients reading
 * their own record (one access each) must not pull the median down. */
START_TEST(unusual_volume_is_among_clinicians)
{
    static const struct {
        const char *user;
        const char *role;
        int n;
    } who[] = {{"c-1", "clinician", 1}, {"c-2", "clinician", 2}, {"c-3", "clinician", 5},
               {"c-4", "clinician", 40}, {"pt-1", "patient", 1},  {"pt-2", "patient", 1},
               {"pt-3", "patient", 1},   {"pt-4", "patient", 1},  {"pt-5", "patient", 1},
               {"pt-6", "patient", 1}};
    const long long day = DAY1 + 10LL * 24 * 60 * MIN; /* 2026-03-20, a period of its own */
    struct gw_audit_report_opts o = {0};
    struct base_err err = {0};
    struct gw_db_pool *p = at_pool(env.url_app, 1);
    struct gw_audit *a = at_audit(p, "gw-v", NULL, 0, test_clock);
    json_t *r = NULL;
    json_t *vol;
    int k = 0;

    ck_assert_ptr_nonnull(a);
    for (size_t u = 0; u < sizeof(who) / sizeof(who[0]); u++) {
        for (int i = 0; i < who[u].n; i++) {
            struct at_rec x;

            clock_us = day + (k++) * 1000000LL;
            at_rec_make(&x, 100000 + k, who[u].user, "Patient/p9", "hospital-a");
            x.r.agent_role = who[u].role;
            ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_OK);
        }
    }
    gw_audit_free(a);
    gw_db_pool_free(p);
    o.from = "2026-03-20T00:00:00Z";
    o.to = "2026-03-21T00:00:00Z";
    o.volume_min = 1;
    ck_assert_int_eq(gw_audit_report(conn, &o, &r, &err), BASE_OK);
    vol = json_object_get(r, "unusual_volume");
    ck_assert(json_real_value(json_object_get(vol, "median")) == 3.5); /* 1 2 5 40 */
    ck_assert_uint_eq(json_array_size(json_object_get(vol, "users")), 1);
    ck_assert_ptr_nonnull(find(json_object_get(vol, "users"), "user", "c-4"));
    json_decref(r);
}
END_TEST

START_TEST(report_from_the_cli)
{
    const char *ok[] = {tu_bin("fhirgate"),
                        "audit",
                        "report",
                        "--database",
                        env.url_admin,
                        "--from",
                        "2026-03-10",
                        "--to",
                        "2026-03-13",
                        "--hours",
                        "1-4",
                        "--factor",
                        "2.5",
                        "--min",
                        "10",
                        NULL};
    const char *bad[] = {tu_bin("fhirgate"), "audit",   "report",     "--database",
                         env.url_admin,      "--from",  "2026-03-10", "--to",
                         "2026-03-13",       "--hours", "25-4",       NULL};
    char *out = NULL;
    json_t *r = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(pt_run(ok, &out), 0);
    ck_assert_int_eq(fhir_json_parse(out, strlen(out), NULL, &r, &err), BASE_OK);
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(r, "unusual_hours"), "from_hour")), 1);
    json_decref(r);
    free(out);
    ck_assert_int_eq(pt_run(bad, &out), 2);
    free(out);
}
END_TEST

Suite *audit_query_suite(void)
{
    Suite *s = suite_create("audit_query");
    TCase *tc = tcase_create("query");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, search_filters);
    tcase_add_test(tc, search_pages_without_gaps_or_repeats);
    tcase_add_test(tc, search_rejects_bad_parameters);
    tcase_add_test(tc, who_looked_at_my_record);
    tcase_add_test(tc, report_for_a_period);
    tcase_add_test(tc, unusual_volume_is_among_clinicians);
    tcase_add_test(tc, report_from_the_cli);
    suite_add_tcase(s, tc);
    return s;
}
