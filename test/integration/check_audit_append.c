/*
 * The audit writer against a real PostgreSQL: rows and receipts, the hash
 * matches the SQL reference of the canonical form, bad records are refused,
 * group commit under 64 threads, rows held behind the commit in flight,
 * signed checkpoints, monthly partitions
 * across a month boundary.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "gateway/audit/gw_audit.h"
#include "test/support/audittest.h"
#include "test/support/pgtest.h"

static struct at_env env;

static void
setup(void)
{
    ck_assert(at_env_init(&env, "audap"));
}

static void
teardown(void)
{
    at_env_fini(&env);
}

START_TEST(append_commits_and_hash_matches_reference)
{
    struct gw_db_pool *p = at_pool(env.url_app, 2);
    struct gw_audit *a = at_audit(p, "gw-a", env.key, 1000, NULL);
    struct gw_audit_receipt r1;
    struct gw_audit_receipt r2;
    struct base_err err = {0};
    struct at_rec x;
    json_t *ev;
    char *v = NULL;

    ck_assert_ptr_nonnull(a);
    at_rec_make(&x, 1, NULL, NULL, NULL);
    ck_assert_int_eq(gw_audit_append(a, &x.r, &r1, &err), BASE_OK);
    ck_assert_int_eq(r1.seq, 1);
    ck_assert_uint_eq(strlen(r1.hash), 64);
    ck_assert_uint_eq(strlen(r1.recorded), 27);
    /* the same event given as a tree, with entities and break-the-glass */
    at_rec_make(&x, 2, NULL, NULL, NULL);
    ck_assert_int_eq(fhir_json_parse(x.json, strlen(x.json), NULL, &ev, &err), BASE_OK);
    x.r.event = ev;
    x.r.event_json = NULL;
    x.r.break_glass = true;
    x.r.purpose = "ETREAT";
    x.r.reason = "unconscious patient, line 1\nline 2: \"quoted\"";
    ck_assert_int_eq(gw_audit_append(a, &x.r, &r2, &err), BASE_OK);
    json_decref(ev);
    ck_assert_int_eq(r2.seq, 2);
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.event"), 2);
    /* the hash computed in C equals the SQL reference of the canonical form */
    ck_assert_int_eq(pt_count(env.db,
                              "SELECT count(*) FROM audit.event e WHERE hash = "
                              "encode(sha256(convert_to(audit.canonical(e), 'UTF8')), 'hex')"),
                     2);
    ck_assert_int_ge(pt_sql(env.db, "SELECT prev_hash FROM audit.event WHERE seq = 2", &v), 0);
    ck_assert_str_eq(v, r1.hash);
    free(v);
    /* the stored text is canonical JSON (sorted keys), decimals kept */
    ck_assert_int_ge(pt_sql(env.db, "SELECT event_text FROM audit.event WHERE seq = 1", &v), 0);
    ck_assert_ptr_nonnull(strstr(v, "\"valueDecimal\":1.50"));
    ck_assert(strncmp(v, "{\"action\":\"E\",\"agent\":", 22) == 0);
    free(v);
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.event WHERE "
                                      "event_text::jsonb ? 'agent' AND break_glass = (seq = 2) AND "
                                      "entities = ARRAY['Patient/p1', 'Observation/o-' || seq]"),
                     2);
    ck_assert_int_eq(pt_count(env.db, "SELECT last_seq FROM audit.chain WHERE chain_id = 'gw-a'"),
                     2);
    gw_audit_free(a);
    /* a shutdown checkpoint covers the last rows */
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.checkpoint WHERE seq = 2 AND "
                                      "kind = 'shutdown'"),
                     1);
    gw_db_pool_free(p);
}
END_TEST

START_TEST(bad_records_are_refused)
{
    struct gw_db_pool *p = at_pool(env.url_app, 1);
    struct gw_audit *a = at_audit(p, "gw-a", NULL, 0, NULL);
    struct base_err err = {0};
    struct gw_audit_stats st;
    struct at_rec x;
    char longv[BASE_LIMIT_AUDIT_MAX_FIELD + 2];
    const char *bad_ents[] = {"Patient/1", NULL};

    at_rec_make(&x, 1, NULL, NULL, NULL);
    x.r.event_json = "{\"resourceType\":\"Patient\"}";
    x.r.event_len = strlen(x.r.event_json);
    ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "AuditEvent.resourceType");
    base_err_clear(&err);
    x.r.event_json = "{\"resourceType\":\"AuditEvent\",";
    x.r.event_len = strlen(x.r.event_json);
    ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_E_PARSE);
    base_err_clear(&err);
    x.r.event_json = NULL;
    ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_E_INVALID);
    base_err_clear(&err);
    at_rec_make(&x, 1, NULL, NULL, NULL);
    memset(longv, 'x', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    x.r.patient_ref = longv;
    ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "audit.patient_ref");
    base_err_clear(&err);
    at_rec_make(&x, 1, NULL, NULL, NULL);
    x.r.agent_user = "bad\xc3\x28utf8";
    ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "audit.agent_user");
    base_err_clear(&err);
    at_rec_make(&x, 1, NULL, NULL, NULL);
    x.r.entities = bad_ents;
    x.r.entity_count = 2;
    ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_E_INVALID);
    gw_audit_stats(a, &st);
    ck_assert_uint_eq(st.rejected, 6);
    ck_assert_uint_eq(st.appended, 0);
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.event"), 0);
    gw_audit_free(a);
    gw_db_pool_free(p);
}
END_TEST

#define THREADS    64
#define PER_THREAD 40

struct worker {
    struct gw_audit *a;
    int id;
    int ok;
    int64_t seqs[PER_THREAD];
};

static void *
worker_main(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < PER_THREAD; i++) {
        struct at_rec x;
        struct gw_audit_receipt r;
        struct base_err err = {0};
        char user[32];

        snprintf(user, sizeof(user), "dr-%d", w->id % 7);
        at_rec_make(&x, w->id * 1000 + i, user, NULL, NULL);
        if (gw_audit_append(w->a, &x.r, &r, &err) == BASE_OK)
            w->seqs[w->ok++] = r.seq;
        else
            fprintf(stderr, "append failed: %s\n", err.msg);
    }
    return NULL;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

START_TEST(group_commit_with_64_threads)
{
    unsigned writers = (unsigned)_i; /* 1, 2 and 3 writer threads */
    struct gw_db_pool *p = at_pool(env.url_app, writers);
    struct gw_audit *a = at_audit_w(p, "gw-a", env.key, 500, NULL, writers);
    static struct worker w[THREADS];
    pthread_t t[THREADS];
    static int64_t all[THREADS * PER_THREAD];
    struct gw_audit_stats st;
    struct gw_audit_verify_result vr;
    struct gw_audit_verify_opts vo = {0};
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    size_t n = 0;
    char *out = NULL;
    const char *key[] = {"--key", env.pub, NULL};

    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){a, i, 0, {0}};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(w[i].ok, PER_THREAD);
        for (int k = 0; k < w[i].ok; k++)
            all[n++] = w[i].seqs[k];
    }
    /* every success has its own sequence number on its chain, and all are in the table */
    qsort(all, n, sizeof(all[0]), cmp_i64);
    if (writers == 1) {
        for (size_t i = 0; i < n; i++)
            ck_assert_int_eq(all[i], (int64_t)i + 1);
    } else {
        ck_assert_int_eq(pt_count(env.db, "SELECT count(DISTINCT chain_id) FROM audit.event "
                                          "WHERE chain_id LIKE 'gw-a/_'"),
                         writers);
        ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM (SELECT chain_id, seq FROM "
                                          "audit.event GROUP BY 1, 2 HAVING count(*) > 1) d"),
                         0);
    }
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.event"), THREADS * PER_THREAD);
    gw_audit_stats(a, &st);
    ck_assert_uint_eq(st.appended, THREADS * PER_THREAD);
    ck_assert_uint_lt(st.batches, THREADS * PER_THREAD / 2); /* rows were grouped */
    ck_assert_uint_gt(st.max_batch, 4);
    ck_assert_uint_ge(st.checkpoints, 4 / writers);
    gw_audit_free(a);
    gw_db_pool_free(p);

    gw_db_config_defaults(&cfg);
    cfg.url = env.url_admin;
    ck_assert_int_eq(gw_db_connect(&cfg, &c, &err), BASE_OK);
    vo.fetch_rows = 100; /* several fetches */
    ck_assert_int_eq(gw_audit_verify(c, &vo, &vr, &err), BASE_OK);
    ck_assert(vr.intact);
    ck_assert_uint_eq(vr.rows, THREADS * PER_THREAD);
    ck_assert_uint_ge(vr.checkpoints, 5);
    gw_db_conn_free(c);
    ck_assert_int_eq(at_verify_cli(&env, key, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "audit verify: intact"));
    free(out);
}
END_TEST

/* Two processes given the same chain by mistake (or a node restarted while
 * the old one still drains): the head's compare-and-set keeps the chain
 * whole; both succeed. */
START_TEST(two_writers_on_one_chain_stay_consistent)
{
    struct gw_db_pool *p1 = at_pool(env.url_app, 1);
    struct gw_db_pool *p2 = at_pool(env.url_app, 1);
    struct gw_audit *a1 = at_audit(p1, "gw-same", env.key, 50, NULL);
    struct gw_audit *a2 = at_audit(p2, "gw-same", env.key, 50, NULL);
    static struct worker w[8];
    pthread_t t[8];
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    struct gw_audit_verify_opts vo = {0};
    struct gw_audit_verify_result vr;

    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){i % 2 ? a1 : a2, i, 0, {0}};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].ok, PER_THREAD);
    }
    gw_audit_free(a1);
    gw_audit_free(a2);
    gw_db_pool_free(p1);
    gw_db_pool_free(p2);
    ck_assert_int_eq(pt_count(env.db, "SELECT max(seq) FROM audit.event"), 8 * PER_THREAD);
    gw_db_config_defaults(&cfg);
    cfg.url = env.url_admin;
    ck_assert_int_eq(gw_db_connect(&cfg, &c, &err), BASE_OK);
    ck_assert_int_eq(gw_audit_verify(c, &vo, &vr, &err), BASE_OK);
    ck_assert(vr.intact);
    ck_assert_uint_eq(vr.rows, 8 * PER_THREAD);
    gw_db_conn_free(c);
}
END_TEST

/* With a batch being written, rows wait for it and go together in the next
 * one instead of opening the other slots (one WAL flush and one statement's
 * overhead per batch); slots open for a backlog of spill_rows. */
static void
append_from_threads(struct gw_audit *a, int nthreads)
{
    static struct worker w[THREADS];
    pthread_t t[THREADS];

    for (int i = 0; i < nthreads; i++) {
        w[i] = (struct worker){a, i, 0, {0}};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < nthreads; i++)
        ck_assert_int_eq(w[i].ok, PER_THREAD);
}

static struct gw_audit *
audit_with_spill(struct gw_db_pool *p, const char *chain, unsigned spill)
{
    struct gw_audit_config cfg;
    struct gw_audit *a = NULL;
    struct base_err err = {0};

    gw_audit_config_defaults(&cfg);
    cfg.chain_id = chain;
    cfg.writers = 4;
    cfg.signing_key = env.key;
    cfg.append_timeout_ms = 8000;
    cfg.spill_rows = spill;
    ck_assert_int_eq(gw_audit_new(p, &cfg, &a, &err), BASE_OK);
    return a;
}

START_TEST(rows_wait_for_the_commit_in_flight)
{
    struct gw_db_pool *p = at_pool(env.url_app, 4);
    struct gw_audit *a = audit_with_spill(p, "gw-hold", BASE_LIMIT_AUDIT_MAX_QUEUE);
    struct gw_audit_stats st;

    append_from_threads(a, 16);
    gw_audit_stats(a, &st);
    gw_audit_free(a);
    ck_assert_uint_eq(st.appended, 16 * PER_THREAD);
    ck_assert_uint_eq(st.peak_slots, 1);
    ck_assert_uint_lt(st.batches, 16 * PER_THREAD * 3 / 4); /* grouped behind the commits */
    ck_assert_int_eq(pt_count(env.db, "SELECT count(DISTINCT chain_id) FROM audit.event"), 1);

    /* spill_rows 1: every free slot opens at once, several write together */
    a = audit_with_spill(p, "gw-spill", 1);
    append_from_threads(a, THREADS);
    gw_audit_stats(a, &st);
    gw_audit_free(a);
    ck_assert_uint_gt(st.peak_slots, 1);
    gw_db_pool_free(p);
}
END_TEST

/* A federated search's AuditEvent names every returned resource and runs
 * to kilobytes: the text is compressed with LZ4 (0003_audit_lz4.sql), in
 * the partitions that exist and in those made later. */
START_TEST(large_events_are_stored_lz4)
{
    struct gw_db_pool *p = at_pool(env.url_app, 1);
    struct gw_audit *a = at_audit(p, "gw-big", env.key, 0, NULL);
    struct base_buf ev;
    struct at_rec x;
    struct base_err err = {0};

    base_buf_init(&ev, 0);
    ck_assert_int_eq(base_buf_append_cstr(&ev, "{\"resourceType\":\"AuditEvent\",\"entity\":["), 0);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(base_buf_appendf(&ev, "%s{\"what\":{\"reference\":\"Observation/o-%d\"}}",
                                          i > 0 ? "," : "", i),
                         0);
    ck_assert_int_eq(base_buf_append_cstr(&ev, "]}"), 0);
    at_rec_make(&x, 1, NULL, NULL, NULL);
    x.r.event_json = ev.data;
    x.r.event_len = ev.len;
    ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_OK);
    gw_audit_free(a);
    gw_db_pool_free(p);
    base_buf_fini(&ev);
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.event WHERE chain_id = "
                                      "'gw-big' AND pg_column_compression(event_text) = 'lz4'"),
                     1);
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM pg_inherits i JOIN pg_attribute t "
                                      "ON t.attrelid = i.inhrelid "
                                      "AND t.attname IN ('event_text', 'entities') "
                                      "WHERE i.inhparent = 'audit.event'::regclass "
                                      "AND t.attcompression <> 'l'"),
                     0);
    ck_assert_int_gt(pt_count(env.db, "SELECT count(*) FROM pg_inherits "
                                      "WHERE inhparent = 'audit.event'::regclass"),
                     1);
}
END_TEST

/* The indexed identifier columns compare in byte order (0004): on the
 * parent, on every partition, and on one made after the migration (a
 * partition takes the parent's collation). */
START_TEST(identifier_columns_are_byte_ordered)
{
    static const char *const BY_COLLATION =
        "SELECT count(*) FILTER (WHERE t.attcollation %s 'pg_catalog.\"C\"'::regcollation) "
        "FROM pg_attribute t WHERE t.attname IN ('chain_id', 'agent_user', 'agent_org', "
        "'patient_ref', 'entities', 'request_id') AND (t.attrelid = 'audit.event'::regclass OR "
        "t.attrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = "
        "'audit.event'::regclass))";
    char sql[600];

    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM (SELECT "
                                      "audit.ensure_partitions('2031-05-01', 1)) x"),
                     1);
    snprintf(sql, sizeof(sql), BY_COLLATION, "<>");
    ck_assert_int_eq(pt_count(env.db, sql), 0);
    snprintf(sql, sizeof(sql), BY_COLLATION, "=");
    ck_assert_int_ge(pt_count(env.db, sql), 6 * 3); /* the parent and two partitions at least */
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.event_json WHERE false"), 0);
}
END_TEST

START_TEST(idle_checkpoint_after_interval)
{
    struct gw_db_pool *p = at_pool(env.url_app, 1);
    struct gw_audit_config cfg;
    struct gw_audit *a = NULL;
    struct base_err err = {0};
    struct at_rec x;
    long long t0;

    gw_audit_config_defaults(&cfg);
    cfg.chain_id = "gw-idle";
    cfg.writers = 1;
    cfg.signing_key = env.key;
    cfg.checkpoint_ms = 300;
    ck_assert_int_eq(gw_audit_new(p, &cfg, &a, &err), BASE_OK);
    at_rec_make(&x, 1, NULL, NULL, NULL);
    ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_OK);
    t0 = pt_now_ms();
    while (pt_now_ms() - t0 < 10000 && /* 300 ms due; a loaded machine is slower */
           pt_count(env.db, "SELECT count(*) FROM audit.checkpoint WHERE chain_id = 'gw-idle'") < 1)
        usleep(50000);
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.checkpoint WHERE chain_id = "
                                      "'gw-idle' AND kind = 'interval' AND seq = 1"),
                     1);
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.signing_key"), 1);
    gw_audit_free(a);
    /* nothing new since: no shutdown checkpoint */
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.checkpoint"), 1);
    gw_db_pool_free(p);
}
END_TEST

/* A clock for crossing a month boundary: starts just before midnight of
 * 31 January 2026 (UTC) and advances 300 ms a call. */
static long long fake_us;

static long long
fake_clock(void)
{
    fake_us += 300000;
    return fake_us;
}

START_TEST(partitions_across_a_month_boundary)
{
    struct gw_db_pool *p = at_pool(env.url_app, 1);
    struct gw_audit *a;
    struct base_err err = {0};
    struct gw_audit_receipt r;
    struct gw_audit_verify_result vr;
    struct gw_audit_verify_opts vo = {0};
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct at_rec x;

    fake_us = 1769903999000000LL - 3000000; /* 2026-01-31T23:59:56Z */
    a = at_audit(p, "gw-m", env.key, 1000, fake_clock);
    ck_assert_ptr_nonnull(a);
    for (int i = 0; i < 20; i++) {
        at_rec_make(&x, i, NULL, NULL, NULL);
        ck_assert_int_eq(gw_audit_append(a, &x.r, &r, &err), BASE_OK);
    }
    ck_assert(strncmp(r.recorded, "2026-02-01T00:00:0", 18) == 0);
    ck_assert_int_gt(pt_count(env.db, "SELECT count(*) FROM audit.event_202601"), 0);
    ck_assert_int_gt(pt_count(env.db, "SELECT count(*) FROM audit.event_202602"), 0);
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.event_202601") +
                         pt_count(env.db, "SELECT count(*) FROM audit.event_202602"),
                     20);
    /* created ahead of the rows */
    ck_assert_int_eq(
        pt_count(env.db, "SELECT count(*) FROM pg_class WHERE relname = 'event_202603'"), 1);
    gw_audit_free(a);
    gw_db_pool_free(p);
    gw_db_config_defaults(&cfg);
    cfg.url = env.url_admin;
    ck_assert_int_eq(gw_db_connect(&cfg, &c, &err), BASE_OK);
    ck_assert_int_eq(gw_audit_verify(c, &vo, &vr, &err), BASE_OK);
    ck_assert(vr.intact);
    ck_assert_uint_eq(vr.rows, 20);
    gw_db_conn_free(c);
}
END_TEST

/* The commands of docs/design/storage.md: re-verify a row's hash and a
 * checkpoint's signature with psql, sha256sum and openssl only. */
START_TEST(standard_tools_verify_rows_and_checkpoints)
{
    struct gw_db_pool *p = at_pool(env.url_app, 1);
    struct gw_audit *a = at_audit(p, "gw-a", env.key, 5, NULL);
    struct base_err err = {0};
    struct gw_audit_receipt r;
    struct at_rec x;
    char *script = NULL;
    char *out = NULL;
    const char *argv[] = {"/bin/sh", "-c", NULL, NULL};

    for (int i = 0; i < 5; i++) {
        at_rec_make(&x, i, NULL, NULL, NULL);
        ck_assert_int_eq(gw_audit_append(a, &x.r, &r, &err), BASE_OK);
    }
    gw_audit_free(a);
    gw_db_pool_free(p);
    ck_assert_int_ge(
        asprintf(&script,
                 "set -e; cd '%s'; U='%s'\n"
                 "psql \"$U\" -AtX -c \"SELECT audit.canonical(e) FROM audit.event e "
                 "WHERE chain_id = 'gw-a' AND seq = 5\" | head -c -1 | sha256sum\n"
                 "id=$(psql \"$U\" -AtX -c \"SELECT id FROM audit.checkpoint WHERE seq = 5\")\n"
                 "psql \"$U\" -AtX -c \"SELECT audit.checkpoint_canonical(c) FROM "
                 "audit.checkpoint c WHERE id = $id\" | head -c -1 > cp.txt\n"
                 "psql \"$U\" -AtX -c \"SELECT encode(signature, 'base64') FROM "
                 "audit.checkpoint WHERE id = $id\" | openssl base64 -d > cp.sig\n"
                 "openssl dgst -sha256 -verify '%s' -signature cp.sig cp.txt\n",
                 pt_tmp(), env.url_admin, env.pub),
        0);
    argv[2] = script;
    ck_assert_int_eq(pt_run(argv, &out), 0);
    ck_assert_msg(strncmp(out, r.hash, 64) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "Verified OK"));
    free(out);
    free(script);
}
END_TEST

Suite *audit_append_suite(void)
{
    Suite *s = suite_create("audit_append");
    TCase *tc = tcase_create("append");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, append_commits_and_hash_matches_reference);
    tcase_add_test(tc, bad_records_are_refused);
    tcase_add_loop_test(tc, group_commit_with_64_threads, 1, 4);
    tcase_add_test(tc, two_writers_on_one_chain_stay_consistent);
    tcase_add_test(tc, rows_wait_for_the_commit_in_flight);
    tcase_add_test(tc, large_events_are_stored_lz4);
    tcase_add_test(tc, identifier_columns_are_byte_ordered);
    tcase_add_test(tc, idle_checkpoint_after_interval);
    tcase_add_test(tc, partitions_across_a_month_boundary);
    tcase_add_test(tc, standard_tools_verify_rows_and_checkpoints);
    suite_add_tcase(s, tc);
    return s;
}
