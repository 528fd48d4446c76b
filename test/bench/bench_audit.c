/*
 * Audit write throughput with synchronous commit (issue #6).
 *
 *   bench_audit URL MODE CLIENTS SECONDS [WRITERS]
 *     group  CLIENTS threads call gw_audit_append() in a loop: each waits for
 *            its own row to be durably committed, WRITERS writer threads
 *            (default 8) group them;
 *     naive  the peer: CLIENTS threads, each with its own connection, one
 *            INSERT (autocommit = INSERT + COMMIT) per row — what code
 *            without group commit does; same row (canonical JSON,
 *            indexed columns, hash chained per thread);
 *     batch  the raw ceiling: one connection inserting 100-row multi-row
 *            INSERTs, one commit each, nobody waiting.
 * Prints "rows_per_s N", "rows N" and "client_cpu_s S" (this process's
 * user+system CPU) on stdout.  URL is the service login's.
 * BENCH_CHAIN=ID makes group mode write chain ID (to measure processes
 * sharing one chain); BENCH_DEBUG=1 logs each batch.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fhir/base/buf.h"
#include "fhir/base/log.h"
#include "fhir/base/str.h"
#include "fhir/json/fhir_json.h"
#include "gateway/audit/gw_audit.h"
#include "gateway/db/gw_db.h"
#include "test/support/audittest.h"

static const char *url;
static long long deadline_ms;
static atomic_long rows;
static atomic_int failures;

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- group -- */

static void *
group_main(void *arg)
{
    struct gw_audit *a = arg;
    static atomic_int next_id;
    int id = atomic_fetch_add(&next_id, 1);

    for (int i = 0; now_ms() < deadline_ms; i++) {
        struct at_rec x;
        struct base_err err = {0};

        at_rec_make(&x, id * 10000000 + i, NULL, NULL, NULL);
        if (gw_audit_append(a, &x.r, NULL, &err) == BASE_OK)
            atomic_fetch_add(&rows, 1);
        else
            atomic_fetch_add(&failures, 1);
    }
    return NULL;
}

/* ---------------------------------------------------------------- naive -- */

static struct gw_db_conn *
connect_sync(void)
{
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};

    gw_db_config_defaults(&cfg);
    cfg.url = url;
    if (gw_db_connect(&cfg, &c, &err) != BASE_OK ||
        gw_db_exec(c, "bench.sync", "SET synchronous_commit = on", 0, NULL, NULL, &err) !=
            BASE_OK) {
        fprintf(stderr, "bench_audit: %s\n", err.msg);
        exit(1);
    }
    return c;
}

/* The same client-side work as the gateway's: the AuditEvent becomes its
 * canonical text (parsed, keys sorted) before it is hashed and sent. */
static void
canonicalize(struct at_rec *x)
{
    json_t *ev = NULL;
    struct base_buf b;

    base_buf_init(&b, sizeof(x->json) - 1);
    if (fhir_json_parse(x->json, strlen(x->json), NULL, &ev, NULL) != BASE_OK ||
        fhir_json_dump(ev, FHIR_JSON_SORT_KEYS, &b, NULL) != BASE_OK)
        exit(1);
    memcpy(x->json, b.data, b.len + 1);
    json_decref(ev);
    base_buf_fini(&b);
}

/* The row a naive writer inserts: same columns as the gateway's, chained
 * per thread (no head lock) with a SHA-256 over its text. */
static void
naive_values(struct at_rec *x, int64_t seq, const char *prev, char hash[65], char seqs[24],
             char stamp[40], const char **v)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    struct timespec ts;
    struct tm tm;

    canonicalize(x);
    snprintf(seqs, 24, "%" PRId64, seq);
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
    EVP_Digest(x->json, strlen(x->json), md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) {
        hash[2 * i] = hex[md[i] >> 4];
        hash[2 * i + 1] = hex[md[i] & 15];
    }
    hash[64] = '\0';
    v[0] = seqs;
    v[1] = stamp;
    v[2] = x->json;
    v[3] = x->r.agent_user;
    v[4] = x->r.agent_org;
    v[5] = x->r.patient_ref;
    v[6] = x->r.request_id;
    v[7] = prev;
    v[8] = hash;
}

static void *
naive_main(void *arg)
{
    static atomic_int next_id;
    int id = atomic_fetch_add(&next_id, 1);
    struct gw_db_conn *c = connect_sync();
    char chain[32];
    char prev[65];
    char hash[65];
    int64_t seq = 0;

    (void)arg;
    snprintf(chain, sizeof(chain), "naive-%d-%d", (int)getpid(), id);
    memset(prev, '0', 64);
    prev[64] = '\0';
    while (now_ms() < deadline_ms) {
        struct at_rec x;
        struct base_err err = {0};
        char seqs[24];
        char stamp[40];
        const char *v[10];

        at_rec_make(&x, id * 10000000 + (int)seq, NULL, NULL, NULL);
        naive_values(&x, ++seq, prev, hash, seqs, stamp, v);
        v[9] = chain;
        if (gw_db_exec(c, "bench.naive",
                       "INSERT INTO audit.event (chain_id, seq, recorded_at, event_text, "
                       "action, subtype, outcome, http_status, agent_user, agent_role, agent_org, "
                       "patient_ref, entities, purpose, break_glass, request_id, node, "
                       "client_addr, prev_hash, hash) VALUES ($10, $1::bigint, $2::timestamptz, "
                       "$3, 'E', 'search-type', '0', 200, $4, 'clinician', "
                       "$5, $6, ARRAY[$6::text], 'TREAT', false, $7, 'bench', '10.0.0.7', $8, $9)",
                       10, v, NULL, &err) == BASE_OK) {
            atomic_fetch_add(&rows, 1);
            memcpy(prev, hash, 65);
        } else {
            atomic_fetch_add(&failures, 1);
        }
    }
    gw_db_conn_free(c);
    return NULL;
}

/* ---------------------------------------------------------------- batch -- */

#define BATCH 100

static void
run_batch(void)
{
    struct gw_db_conn *c = connect_sync();
    struct base_buf sql;
    static const char *v[BATCH * 9 + 1];
    static struct at_rec x[BATCH];
    static char seqs[BATCH][24];
    static char stamp[BATCH][40];
    static char hash[BATCH][65];
    char chain[32];
    char prev[65];
    int64_t seq = 0;

    snprintf(chain, sizeof(chain), "batch-%d", (int)getpid());
    memset(prev, '0', 64);
    prev[64] = '\0';
    base_buf_init(&sql, 0);
    if (base_buf_append_cstr(&sql, "INSERT INTO audit.event (chain_id, seq, recorded_at, "
                                   "event_text, action, subtype, outcome, http_status, agent_user, "
                                   "agent_role, agent_org, patient_ref, entities, purpose, "
                                   "break_glass, request_id, node, client_addr, prev_hash, hash) "
                                   "VALUES ") != BASE_OK)
        exit(1);
    for (int i = 0; i < BATCH; i++) {
        unsigned p = (unsigned)i * 9 + 2;

        if (base_buf_appendf(
                &sql,
                "%s($1, $%u::bigint, $%u::timestamptz, $%u, "
                "'E', 'search-type', '0', 200, $%u, 'clinician', $%u, $%u, "
                "ARRAY[$%u::text], 'TREAT', false, $%u, 'bench', '10.0.0.7', $%u, $%u)",
                i > 0 ? "," : "", p, p + 1, p + 2, p + 3, p + 4, p + 5, p + 5, p + 6, p + 7,
                p + 8) != BASE_OK)
            exit(1);
    }
    v[0] = chain;
    while (now_ms() < deadline_ms) {
        struct base_err err = {0};

        for (int i = 0; i < BATCH; i++) {
            at_rec_make(&x[i], (int)seq, NULL, NULL, NULL);
            naive_values(&x[i], ++seq, i == 0 ? prev : hash[i - 1], hash[i], seqs[i], stamp[i],
                         v + 1 + i * 9);
        }
        if (gw_db_exec(c, "bench.batch", sql.data, BATCH * 9 + 1, v, NULL, &err) == BASE_OK) {
            atomic_fetch_add(&rows, BATCH);
            memcpy(prev, hash[BATCH - 1], 65);
        } else {
            fprintf(stderr, "bench_audit: batch: %s %s\n", err.msg, err.log_detail);
            atomic_fetch_add(&failures, 1);
        }
    }
    base_buf_fini(&sql);
    gw_db_conn_free(c);
}

/* A small positive decimal, or -1. */
static int
int_arg(const char *s)
{
    int64_t v;

    return base_str_to_i64(base_str_from_cstr(s), &v) && v >= 0 && v <= 100000 ? (int)v : -1;
}

int
main(int argc, char **argv)
{
    const char *mode;
    int clients;
    int seconds;
    int writers;
    struct rusage ru;
    long long t0;
    double rate;

    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: bench_audit URL group|naive|batch CLIENTS SECONDS [WRITERS]\n");
        return 2;
    }
    writers = argc == 6 ? int_arg(argv[5]) : 8;
    if (getenv("BENCH_DEBUG") != NULL)
        base_log_set_level(BASE_LOG_DEBUG);
    url = argv[1];
    mode = argv[2];
    clients = int_arg(argv[3]);
    seconds = int_arg(argv[4]);
    if (clients < 1 || clients > 1024 || seconds < 1 || writers < 1 || writers > 16)
        return 2;
    t0 = now_ms();
    deadline_ms = t0 + seconds * 1000LL;
    if (strcmp(mode, "batch") == 0) {
        run_batch();
    } else {
        pthread_t *t = calloc((size_t)clients, sizeof(*t));
        struct gw_db_pool *p = NULL;
        struct gw_audit *a = NULL;
        char chain[32];
        bool group = strcmp(mode, "group") == 0;

        if (group) {
            /* BENCH_CHAIN: several processes on one chain (the shared-chain design) */
            snprintf(chain, sizeof(chain), "%s",
                     getenv("BENCH_CHAIN") != NULL ? getenv("BENCH_CHAIN") : "");
            if (chain[0] == '\0')
                snprintf(chain, sizeof(chain), "group-%d", (int)getpid());
            p = at_pool(url, (unsigned)writers);
            a = at_audit_w(p, chain, NULL, 0, NULL, (unsigned)writers);
            if (a == NULL)
                return 1;
        } else if (strcmp(mode, "naive") != 0) {
            return 2;
        }
        for (int i = 0; i < clients; i++)
            pthread_create(&t[i], NULL, group ? group_main : naive_main, a);
        for (int i = 0; i < clients; i++)
            pthread_join(t[i], NULL);
        if (group) {
            struct gw_audit_stats st;

            gw_audit_stats(a, &st);
            fprintf(stderr,
                    "bench_audit: %s x%d: %" PRIu64 " rows in %" PRIu64 " commits (largest %u)\n",
                    mode, clients, st.appended, st.batches, st.max_batch);
            gw_audit_free(a);
            gw_db_pool_free(p);
        }
        free(t);
    }
    rate = (double)atomic_load(&rows) * 1000.0 / (double)(now_ms() - t0);
    if (atomic_load(&failures) > 0)
        fprintf(stderr, "bench_audit: %s: %d failures\n", mode, atomic_load(&failures));
    getrusage(RUSAGE_SELF, &ru);
    printf("rows_per_s %.0f\nrows %ld\nclient_cpu_s %.3f\n", rate, atomic_load(&rows),
           (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6);
    return atomic_load(&failures) > 0 ? 1 : 0;
}
