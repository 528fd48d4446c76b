/*
 * Federation benchmark driver (test/bench/bench_federation.sh runs it
 * against nginx members and an nginx relay on loopback):
 *
 *   bench_federation gen DIR N PER
 *       member answers DIR/m0.json … m{N-1}.json: searchsets of PER
 *       Observations each, made from the R4 examples (ids, identifiers and
 *       dates rewritten per member)
 *   bench_federation latency CA CERT KEY PORTFILE N QUERIES
 *       one query at a time to N members: submit → callback → merged Bundle;
 *       prints the added latency over the slowest member (p50, p99)
 *   bench_federation throughput CA CERT KEY PORTFILE N SECONDS JOBS [merge]
 *       JOBS federated queries in flight for SECONDS; prints member
 *       requests/s (one loop thread)
 *   bench_federation mergefiles DIR N REPS
 *       the merge alone over DIR/m*.json (no network: for profiling)
 *   bench_federation mergecpu CA CERT KEY PORTFILE N REPS
 *       fetches the N answers once, then merges them REPS times; prints the
 *       CPU time per merge, and of a jansson tree of the same answers
 *
 * Every result is one JSON line on stdout.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/fed/gw_fed.h"
#include "test/support/testutil.h"

#define MAX_MEMBERS 128

static int64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static int64_t
pct(int64_t *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);

    qsort(v, n, sizeof(*v), cmp_i64);
    return v[i < n ? i : n - 1];
}

/* ---- gen ---------------------------------------------------------------------------- */

static int
gen(const char *dir, int n, int per)
{
    size_t nf = 0;
    char **all = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &nf);
    json_t *obs[64];
    size_t no = 0;

    for (size_t i = 0; all != NULL && i < nf && no < 64; i++) {
        if (strstr(all[i], "/Observation-") == NULL)
            continue;
        char *t = tu_read_file(all[i], NULL);
        if (t != NULL && fhir_json_parse(t, strlen(t), NULL, &obs[no], NULL) == BASE_OK)
            no++;
        free(t);
    }
    tu_free_list(all);
    if (no == 0)
        return 1;
    for (int m = 0; m < n; m++) {
        json_t *b = json_pack("{s:s, s:s, s:i}", "resourceType", "Bundle", "type", "searchset",
                              "total", per);
        json_t *entries = json_array();

        for (int k = 0; k < per; k++) {
            json_t *r = json_deep_copy(obs[(size_t)(m * per + k) % no]);
            char id[32];
            char date[40];
            size_t i;
            json_t *x;

            snprintf(id, sizeof(id), "m%do%d", m, k);
            snprintf(date, sizeof(date), "2024-%02d-%02dT%02d:00:00Z", 12 - k % 12, 1 + m % 28,
                     k % 24);
            json_object_set_new(r, "id", json_string(id));
            json_object_del(r, "effectivePeriod");
            json_object_del(r, "effectiveInstant");
            json_object_del(r, "effectiveTiming");
            json_object_set_new(r, "effectiveDateTime", json_string(date));
            json_object_set_new(r, "subject", json_pack("{s:s}", "reference", "Patient/p1"));
            json_array_foreach(json_object_get(r, "identifier"), i, x) {
                char v[128];

                snprintf(v, sizeof(v), "%s-m%d", json_string_value(json_object_get(x, "value")),
                         m);
                json_object_set_new(x, "value", json_string(v));
            }
            json_array_append_new(entries,
                                  json_pack("{s:s, s:o, s:{s:s}}", "fullUrl", "urn:uuid:x",
                                            "resource", r, "search", "mode", "match"));
        }
        json_object_set_new(b, "entry", entries);
        char path[600];
        snprintf(path, sizeof(path), "%s/m%d.json", dir, m);
        struct base_buf out;
        base_buf_init(&out, 0);
        FILE *f = fopen(path, "w");
        if (f == NULL || fhir_json_dump(b, FHIR_JSON_COMPACT, &out, NULL) != BASE_OK ||
            fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0)
            return 1;
        base_buf_fini(&out);
        json_decref(b);
    }
    for (size_t i = 0; i < no; i++)
        json_decref(obs[i]);
    return 0;
}

/* ---- the engine against the members -------------------------------------------------- */

struct setup {
    struct gw_fed_engine *e;
    struct gw_fed_request rq[MAX_MEMBERS];
    char urls[MAX_MEMBERS][128];
    char bases[MAX_MEMBERS][64];
    char ids[MAX_MEMBERS][16];
    int n;
};

static void
setup_members(struct setup *s, char **argv, int n)
{
    struct gw_fed_config c = gw_fed_config_default();
    FILE *f = fopen(argv[3], "r");
    struct base_err err = {0};

    c.ca_file = argv[0];
    c.cert_file = argv[1];
    c.key_file = argv[2];
    c.loops = 1;
    c.connect_ms = 5000;
    if (f == NULL || n < 1 || n > MAX_MEMBERS || gw_fed_engine_new(&c, &s->e, &err) != BASE_OK) {
        fprintf(stderr, "bench_federation: setup failed: %s\n", err.msg);
        exit(2);
    }
    s->n = n;
    for (int i = 0; i < n; i++) {
        unsigned port = 0;

        if (fscanf(f, "%u", &port) != 1)
            exit(2);
        snprintf(s->ids[i], sizeof(s->ids[i]), "m%d", i);
        snprintf(s->bases[i], sizeof(s->bases[i]), "https://127.0.0.1:%u/fhir", port);
        snprintf(s->urls[i], sizeof(s->urls[i]),
                 "https://127.0.0.1:%u/fhir/Observation?patient=Patient/p1", port);
        s->rq[i] = (struct gw_fed_request){s->ids[i], s->ids[i], s->bases[i], s->urls[i],
                                           NULL, 0, true};
    }
    fclose(f);
}

struct wait1 {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct gw_fed_answer *a;
};

static void
on_one(struct gw_fed_answer *a, void *ctx)
{
    struct wait1 *w = ctx;

    pthread_mutex_lock(&w->mu);
    w->a = a;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static struct gw_fed_answer *
query(struct setup *s)
{
    struct wait1 w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL};
    struct gw_fed_job job = {s->rq, (size_t)s->n, 3000, 0, 0, false};

    if (gw_fed_submit(s->e, &job, on_one, &w, NULL) != BASE_OK)
        exit(3);
    pthread_mutex_lock(&w.mu);
    while (w.a == NULL)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    return w.a;
}

static const char *const OBS[] = {"Observation"};

/* Merge an answer into `out`; returns the number of match entries. */
static size_t
merge(const struct gw_fed_answer *a, struct base_buf *out)
{
    struct base_arena *ar = base_arena_new(0);
    struct gw_fed_merge_opts o = {0};
    struct gw_fed_merge *m = NULL;
    struct gw_fed_merge_info info;

    o.base_url = "https://gw.example/fhir";
    o.path = "Observation";
    o.query = "patient=p1";
    o.types = OBS;
    o.n_types = 1;
    base_buf_reset(out);
    if (ar == NULL || gw_fed_merge_new(ar, a->results, a->n_results, &o, &m, NULL) != BASE_OK ||
        gw_fed_merge_write(m, out) != BASE_OK)
        exit(4);
    gw_fed_merge_info(m, &info);
    base_arena_free(ar);
    return info.n_entries;
}

static void
require_ok(const struct gw_fed_answer *a)
{
    for (size_t i = 0; i < a->n_results; i++) {
        if (a->results[i].error != GW_FED_OK) {
            fprintf(stderr, "bench_federation: member %zu: %s (%s)\n", i,
                    gw_fed_error_name(a->results[i].error), a->results[i].detail);
            exit(5);
        }
    }
}

static int
latency(struct setup *s, int queries)
{
    int64_t *added = calloc((size_t)queries, sizeof(int64_t));
    int64_t *slowest = calloc((size_t)queries, sizeof(int64_t));
    int64_t *total = calloc((size_t)queries, sizeof(int64_t));
    struct base_buf out;
    size_t entries = 0;

    base_buf_init(&out, 0);
    for (int q = -20; q < queries; q++) { /* 20 warm-up queries */
        int64_t t0 = now_us();
        struct gw_fed_answer *a = query(s);
        entries = merge(a, &out);
        int64_t t1 = now_us();
        uint64_t mx = 0;

        require_ok(a);
        for (size_t i = 0; i < a->n_results; i++)
            mx = a->results[i].latency_us > mx ? a->results[i].latency_us : mx;
        gw_fed_answer_free(a);
        if (q < 0)
            continue;
        total[q] = t1 - t0;
        slowest[q] = (int64_t)mx;
        added[q] = total[q] - slowest[q];
    }
    printf("{\"members\":%d,\"queries\":%d,\"entries\":%zu,\"bytes\":%zu,"
           "\"added_p50_us\":%lld,\"added_p99_us\":%lld,\"slowest_p50_us\":%lld,"
           "\"slowest_p99_us\":%lld,\"total_p50_us\":%lld,\"total_p99_us\":%lld}\n",
           s->n, queries, entries, out.len, (long long)pct(added, (size_t)queries, 0.5),
           (long long)pct(added, (size_t)queries, 0.99), (long long)pct(slowest, (size_t)queries, 0.5),
           (long long)pct(slowest, (size_t)queries, 0.99), (long long)pct(total, (size_t)queries, 0.5),
           (long long)pct(total, (size_t)queries, 0.99));
    base_buf_fini(&out);
    free(added);
    free(slowest);
    free(total);
    return 0;
}

/* ---- throughput ------------------------------------------------------------------------ */

struct tp {
    struct setup *s;
    atomic_bool stop;
    atomic_long requests;
    atomic_long failed;
    atomic_int inflight;
    bool merge;
};

static void
on_tp(struct gw_fed_answer *a, void *ctx)
{
    struct tp *t = ctx;

    for (size_t i = 0; i < a->n_results; i++)
        atomic_fetch_add(a->results[i].error == GW_FED_OK ? &t->requests : &t->failed, 1);
    if (t->merge) {
        struct base_buf out;

        base_buf_init(&out, 0);
        merge(a, &out);
        base_buf_fini(&out);
    }
    gw_fed_answer_free(a);
    if (!atomic_load(&t->stop)) {
        struct gw_fed_job job = {t->s->rq, (size_t)t->s->n, 3000, 0, 0, false};

        if (gw_fed_submit(t->s->e, &job, on_tp, t, NULL) == BASE_OK)
            return;
    }
    atomic_fetch_sub(&t->inflight, 1);
}

static int
throughput(struct setup *s, int seconds, int jobs, bool with_merge)
{
    struct tp t = {s, false, 0, 0, 0, with_merge};

    for (int j = 0; j < jobs; j++) {
        struct gw_fed_job job = {s->rq, (size_t)s->n, 3000, 0, 0, false};

        atomic_fetch_add(&t.inflight, 1);
        if (gw_fed_submit(s->e, &job, on_tp, &t, NULL) != BASE_OK)
            exit(3);
    }
    usleep(1000000); /* warm-up: connections, TLS sessions */
    long r0 = atomic_load(&t.requests);
    int64_t t0 = now_us();
    usleep((useconds_t)seconds * 1000000u);
    long r1 = atomic_load(&t.requests);
    int64_t t1 = now_us();
    atomic_store(&t.stop, true);
    while (atomic_load(&t.inflight) > 0)
        usleep(1000);
    printf("{\"members\":%d,\"jobs\":%d,\"merge\":%s,\"req_per_s\":%.0f,\"failed\":%ld}\n", s->n,
           jobs, with_merge ? "true" : "false", (double)(r1 - r0) * 1e6 / (double)(t1 - t0),
           atomic_load(&t.failed));
    return 0;
}

/* ---- merge CPU --------------------------------------------------------------------------- */

static int
mergecpu(struct setup *s, int reps)
{
    struct gw_fed_answer *a = query(s);
    int64_t *mc = calloc((size_t)reps, sizeof(int64_t));
    int64_t *tc = calloc((size_t)reps, sizeof(int64_t));
    struct base_buf out;
    size_t bytes = 0;
    size_t entries = 0;

    require_ok(a);
    base_buf_init(&out, 0);
    for (size_t i = 0; i < a->n_results; i++)
        bytes += a->results[i].body_len;
    for (int r = -5; r < reps; r++) {
        int64_t c0 = cpu_us();

        entries = merge(a, &out);
        int64_t c1 = cpu_us();
        for (size_t i = 0; i < a->n_results; i++) {
            json_t *v = NULL;

            if (fhir_json_parse(a->results[i].body, a->results[i].body_len, NULL, &v, NULL) !=
                BASE_OK)
                exit(6);
            json_decref(v);
        }
        int64_t c2 = cpu_us();
        if (r >= 0) {
            mc[r] = c1 - c0;
            tc[r] = c2 - c1;
        }
    }
    printf("{\"members\":%d,\"bytes_in\":%zu,\"bytes_out\":%zu,\"entries\":%zu,"
           "\"merge_us\":%lld,\"tree_us\":%lld}\n",
           s->n, bytes, out.len, entries, (long long)pct(mc, (size_t)reps, 0.5),
           (long long)pct(tc, (size_t)reps, 0.5));
    gw_fed_answer_free(a);
    base_buf_fini(&out);
    free(mc);
    free(tc);
    return 0;
}

/* The merge alone over answers read from disk (profiling without a network). */
static int
mergefiles(const char *dir, int n, int reps)
{
    struct gw_fed_answer a = {calloc((size_t)n, sizeof(struct gw_fed_result)), (size_t)n, 0, NULL};
    struct base_buf out;
    int64_t *mc = calloc((size_t)reps, sizeof(int64_t));
    size_t entries = 0;

    for (int i = 0; i < n; i++) {
        char path[600];
        struct gw_fed_result *r = &a.results[i];

        snprintf(path, sizeof(path), "%s/m%d.json", dir, i);
        r->body = tu_read_file(path, &r->body_len);
        if (r->body == NULL)
            return 1;
        r->member_id = r->member_name = "m";
        r->base = "https://127.0.0.1:1/fhir";
        r->url = "https://127.0.0.1:1/fhir/Observation";
        r->status = 200;
    }
    base_buf_init(&out, 0);
    for (int k = 0; k < reps; k++) {
        int64_t c0 = cpu_us();

        entries = merge(&a, &out);
        mc[k] = cpu_us() - c0;
    }
    printf("{\"members\":%d,\"entries\":%zu,\"bytes_out\":%zu,\"merge_min_us\":%lld,\"merge_us\":%lld}\n", n, entries,
           out.len, (long long)pct(mc, (size_t)reps, 0.0), (long long)pct(mc, (size_t)reps, 0.5));
    for (int i = 0; i < n; i++)
        free((void *)a.results[i].body);
    free(a.results);
    free(mc);
    base_buf_fini(&out);
    return 0;
}

int
main(int argc, char **argv)
{
    struct setup s;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "mergefiles") == 0)
        return mergefiles(argv[2], (int)strtol(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10));
    if (argc == 5 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], (int)strtol(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10));
    if (argc < 8) {
        fprintf(stderr, "usage: see the comment at the top of bench_federation.c\n");
        return 2;
    }
    memset(&s, 0, sizeof(s));
    setup_members(&s, argv + 2, (int)strtol(argv[6], NULL, 10));
    int rc;
    if (strcmp(argv[1], "latency") == 0)
        rc = latency(&s, (int)strtol(argv[7], NULL, 10));
    else if (strcmp(argv[1], "throughput") == 0 && argc >= 9)
        rc = throughput(&s, (int)strtol(argv[7], NULL, 10), (int)strtol(argv[8], NULL, 10),
                        argc > 9 && strcmp(argv[9], "merge") == 0);
    else if (strcmp(argv[1], "mergecpu") == 0)
        rc = mergecpu(&s, (int)strtol(argv[7], NULL, 10));
    else
        rc = 2;
    gw_fed_engine_free(s.e);
    return rc;
}
