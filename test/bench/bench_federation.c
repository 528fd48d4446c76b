/*
 * Federation benchmark driver (test/bench/bench_federation.sh runs it
 * against nginx members and an nginx relay on loopback):
 *
 *   bench_federation gen DIR N PER
 *       member answers DIR/m0.json … m{N-1}.json: searchsets of PER
 *       Observations each, made from the R4 examples (ids, identifiers and
 *       dates rewritten per member)
 *   bench_federation gen-zh DIR N PER
 *       the same with narratives, displays and texts in Chinese (a fixed
 *       pseudo-random choice of ideographs)
 *   bench_federation latency CA CERT KEY PORTFILE N QUERIES
 *       one query at a time to N members, in pairs: the fan-out alone (the
 *       reference: it ends with the slowest member) and the fan-out with
 *       the merged Bundle written; prints the added latency (p50, p99), and
 *       on stderr where it went (breakdown_p50_us, see breakdown_add())
 *   bench_federation throughput CA CERT KEY PORTFILE N SECONDS JOBS [merge]
 *       JOBS federated queries in flight for SECONDS; prints member
 *       requests/s (one loop thread) and the process's CPU per request
 *   bench_federation mergefiles DIR N REPS
 *       the merge alone over DIR/m*.json (no network: for profiling, and
 *       the Chinese-text row of bench_federation.sh); BENCH_FED_DUMP=FILE
 *       writes the last merged text there (to compare two builds)
 *   bench_federation mergecpu CA CERT KEY PORTFILE N REPS
 *       fetches the N answers once, then merges them REPS times; prints the
 *       CPU time per merge, and of a jansson tree of the same answers
 *
 * Every result is one JSON line on stdout.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/str.h"
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

/* CPU time of the whole process (every thread), user + system. */
static int64_t
process_cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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

/* Chinese text for a Chinese hospital's answers: every letter outside
 * markup becomes a CJK ideograph (U+4E00..U+5DFF, 3 bytes in UTF-8),
 * chosen by a fixed LCG so that every run writes the same bytes. */
static json_t *
to_chinese(const char *s, uint32_t *lcg)
{
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1);
    size_t k = 0;
    bool tag = false;
    json_t *v;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        tag = c == '<' ? true : c == '>' ? false : tag;
        if (tag || !((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
            out[k++] = (char)c;
            continue;
        }
        *lcg = *lcg * 1664525u + 1013904223u;
        k += base_utf8_encode(0x4E00 + (*lcg >> 8) % 0x1000, out + k);
    }
    out[k] = '\0';
    v = json_string(out);
    free(out);
    return v;
}

/* Narratives, displays and texts in Chinese, throughout the tree. */
static void
chinese_texts(json_t *v, uint32_t *lcg)
{
    const char *key;
    json_t *x;
    size_t i;

    if (json_is_array(v)) {
        json_array_foreach(v, i, x) chinese_texts(x, lcg);
        return;
    }
    json_object_foreach(v, key, x)
    {
        if (json_is_string(x) && (strcmp(key, "div") == 0 || strcmp(key, "display") == 0 ||
                                  strcmp(key, "text") == 0))
            json_object_set_new(v, key, to_chinese(json_string_value(x), lcg));
        else
            chinese_texts(x, lcg);
    }
}

static int
gen(const char *dir, int n, int per, bool chinese)
{
    uint32_t lcg = 20261128u;

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
            json_array_foreach(json_object_get(r, "identifier"), i, x)
            {
                char v[128];

                snprintf(v, sizeof(v), "%s-m%d", json_string_value(json_object_get(x, "value")), m);
                json_object_set_new(x, "value", json_string(v));
            }
            json_array_append_new(entries, json_pack("{s:s, s:o, s:{s:s}}", "fullUrl", "urn:uuid:x",
                                                     "resource", r, "search", "mode", "match"));
        }
        json_object_set_new(b, "entry", entries);
        if (chinese)
            chinese_texts(entries, &lcg);
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
        s->rq[i] =
            (struct gw_fed_request){s->ids[i], s->ids[i], s->bases[i], s->urls[i], NULL, 0, true};
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

static void on_result(const struct gw_fed_result *r, size_t idx, void *ctx);

/* Results handed from the loop thread to the thread that merges them, so
 * that scanning one answer overlaps receiving the next (the HTTP layer can
 * do the same from its worker). */
struct handoff {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t idx[MAX_MEMBERS];
    const struct gw_fed_result *r[MAX_MEMBERS];
    int64_t t_in[MAX_MEMBERS]; /* when the loop thread handed each over */
    size_t n_in, n_out;
    struct gw_fed_answer *done;
    int64_t t_done;   /* when the job's callback ran */
    int64_t t_merged; /* when this thread had added the last answer */
    size_t backlog;   /* answers not yet added when the last one arrived */
};

static void
on_handoff(const struct gw_fed_result *r, size_t idx, void *ctx)
{
    struct handoff *h = ctx;

    int64_t t = now_us();

    pthread_mutex_lock(&h->mu);
    h->idx[h->n_in] = idx;
    h->t_in[h->n_in] = t;
    h->r[h->n_in++] = r;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static void
on_handoff_done(struct gw_fed_answer *a, void *ctx)
{
    struct handoff *h = ctx;

    int64_t t = now_us();

    pthread_mutex_lock(&h->mu);
    h->done = a;
    h->t_done = t;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* One query; this thread adds each answer to `m` as it arrives.  `h` (its
 * timestamps) is the caller's, for the latency breakdown. */
static struct gw_fed_answer *
query_pipelined(struct setup *s, struct gw_fed_merge *m, struct handoff *hp)
{
    struct handoff h0 = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct handoff *h = hp != NULL ? hp : &h0;
    struct gw_fed_job job = {.requests = s->rq,
                             .n_requests = (size_t)s->n,
                             .deadline_ms = 3000,
                             .on_result = on_handoff,
                             .on_result_ctx = h};

    if (gw_fed_submit(s->e, &job, on_handoff_done, h, NULL) != BASE_OK)
        exit(3);
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->n_out < h->n_in) {
            size_t k = h->n_out++;

            if (h->n_in == (size_t)s->n && h->backlog == 0)
                h->backlog = h->n_in - k;
            pthread_mutex_unlock(&h->mu);
            if (gw_fed_merge_add(m, h->idx[k], h->r[k], NULL) != BASE_OK)
                exit(4);
            pthread_mutex_lock(&h->mu);
        }
        h->t_merged = now_us();
        if (h->done != NULL && h->n_out == h->n_in)
            break;
        pthread_cond_wait(&h->cv, &h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return h->done;
}

/* One federated query; with `m`, each answer is added to the merge as it
 * arrives (on the loop thread), as the gateway does. */
static struct gw_fed_answer *
query_merging(struct setup *s, struct gw_fed_merge *m)
{
    struct wait1 w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL};
    struct gw_fed_job job = {.requests = s->rq,
                             .n_requests = (size_t)s->n,
                             .deadline_ms = 3000,
                             .on_result = m != NULL ? on_result : NULL,
                             .on_result_ctx = m};

    if (gw_fed_submit(s->e, &job, on_one, &w, NULL) != BASE_OK)
        exit(3);
    pthread_mutex_lock(&w.mu);
    while (w.a == NULL)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    return w.a;
}

static struct gw_fed_answer *
query(struct setup *s)
{
    return query_merging(s, NULL);
}

static const char *const OBS[] = {"Observation"};

static struct gw_fed_merge_opts
merge_opts(void)
{
    struct gw_fed_merge_opts o = {0};

    o.base_url = "https://gw.example/fhir";
    o.path = "Observation";
    o.query = "patient=p1";
    o.types = OBS;
    o.n_types = 1;
    return o;
}

static void
on_result(const struct gw_fed_result *r, size_t idx, void *ctx)
{
    if (gw_fed_merge_add(ctx, idx, r, NULL) != BASE_OK)
        exit(4);
}

/* Merge an answer into `out`; returns the number of match entries. */
static size_t
merge(const struct gw_fed_answer *a, struct base_buf *out)
{
    struct base_arena *ar = base_arena_new(0);
    struct gw_fed_merge_opts o = merge_opts();
    struct gw_fed_merge *m = NULL;
    struct gw_fed_merge_info info;

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

/* Where a query's added latency goes (informational, to stderr): added =
 * (the slowest member's start - submission) + (query end - its end), the
 * second part split at the last answer's handoff to this thread, the end of
 * the merge of the answers still queued then, the end of finish() (select
 * and sort, after the job's callback) and the end of the write. */
enum { BD_START, BD_FIRST, BD_SLOW_TO_LAST, BD_TAIL_ADD, BD_FINISH, BD_WRITE, BD_BACKLOG, BD_N };
static const char *const BD_NAMES[BD_N] = {"submit_to_start", "start_to_first_handoff",
                                           "slowest_to_last_handoff",
                                           "tail_merge_add",  "done_and_finish",
                                           "write",           "answers_queued_at_last"};

struct breakdown {
    int64_t *v[BD_N];
};

static void
breakdown_init(struct breakdown *bd, int queries)
{
    for (int k = 0; k < BD_N; k++)
        bd->v[k] = calloc((size_t)queries, sizeof(int64_t));
}

static void
breakdown_add(struct breakdown *bd, int q, const struct handoff *h, size_t slow, uint64_t lat,
              int64_t t_submit, int64_t t_finished, int64_t t_written)
{
    int64_t t_slow = 0;
    int64_t t_last = 0;
    int64_t t_first = INT64_MAX;

    for (size_t k = 0; k < h->n_in; k++) {
        t_first = h->t_in[k] < t_first ? h->t_in[k] : t_first;
        if (h->idx[k] == slow)
            t_slow = h->t_in[k];
        t_last = h->t_in[k] > t_last ? h->t_in[k] : t_last;
    }
    bd->v[BD_START][q] = t_slow - (int64_t)lat - t_submit;
    bd->v[BD_FIRST][q] = t_first - (t_slow - (int64_t)lat);
    bd->v[BD_SLOW_TO_LAST][q] = t_last - t_slow;
    bd->v[BD_TAIL_ADD][q] = h->t_merged - t_last;
    bd->v[BD_FINISH][q] = t_finished - h->t_merged;
    bd->v[BD_WRITE][q] = t_written - t_finished;
    bd->v[BD_BACKLOG][q] = (int64_t)h->backlog;
}

static void
breakdown_print(struct breakdown *bd, int queries)
{
    fprintf(stderr, "{\"breakdown_p50_us\":{");
    for (int k = 0; k < BD_N; k++) {
        int64_t sum = 0;

        for (int q = 0; q < queries; q++)
            sum += bd->v[k][q];
        fprintf(stderr, "%s\"%s\":[%lld,%lld]", k > 0 ? "," : "", BD_NAMES[k],
                (long long)pct(bd->v[k], (size_t)queries, 0.5), (long long)(sum / queries));
        free(bd->v[k]);
    }
    fprintf(stderr, "}} (p50, mean)\n");
}

/* Queries with the merge — each answer added as it arrives (on this
 * thread, while the loop receives the next), then the page selected and
 * written whole.  Added latency per query = its end minus its slowest
 * member's answer (measured by the engine, which excludes the merge work).
 * Interleaved with each, the fan-out alone, as a second reference: the
 * difference of the two distributions' p50 and p99 ("pairs_added").
 * "first byte" is when the merged text could start to leave. */
static int
latency(struct setup *s, int queries)
{
    int64_t *ref = calloc((size_t)queries, sizeof(int64_t));
    int64_t *full = calloc((size_t)queries, sizeof(int64_t));
    int64_t *first = calloc((size_t)queries, sizeof(int64_t));
    int64_t *paired = calloc((size_t)queries, sizeof(int64_t));
    int64_t *slowest = calloc((size_t)queries, sizeof(int64_t));
    struct base_buf out;
    size_t entries = 0;
    struct gw_fed_merge_opts o = merge_opts();

    struct breakdown bd;

    breakdown_init(&bd, queries);
    base_buf_init(&out, 0);
    for (int q = -20; q < queries; q++) { /* 20 warm-up pairs */
        int64_t t0 = now_us();
        struct gw_fed_answer *a = query(s);
        int64_t t1 = now_us();

        require_ok(a);
        gw_fed_answer_free(a);
        struct base_arena *ar = base_arena_new(0);
        struct gw_fed_merge *m = NULL;
        struct gw_fed_merge_info info;
        if (ar == NULL || gw_fed_merge_start(ar, (size_t)s->n, &o, &m, NULL) != BASE_OK)
            exit(4);
        base_buf_reset(&out);
        struct handoff h = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
        int64_t t2 = now_us();
        a = query_pipelined(s, m, &h);
        if (gw_fed_merge_finish(m, NULL) != BASE_OK)
            exit(4);
        int64_t t3 = now_us();
        if (gw_fed_merge_write(m, &out) != BASE_OK)
            exit(4);
        int64_t t4 = now_us();
        require_ok(a);
        gw_fed_merge_info(m, &info);
        entries = info.n_entries;
        uint64_t mx = 0;
        size_t slow = 0;
        for (size_t i = 0; i < a->n_results; i++) {
            if (a->results[i].latency_us > mx) {
                mx = a->results[i].latency_us;
                slow = i;
            }
        }
        if (q >= 0)
            breakdown_add(&bd, q, &h, slow, mx, t2, t3, t4);
        gw_fed_answer_free(a);
        base_arena_free(ar);
        if (q < 0)
            continue;
        ref[q] = t1 - t0;
        first[q] = t3 - t2;
        full[q] = t4 - t2;
        slowest[q] = (int64_t)mx;
        paired[q] = full[q] - slowest[q];
    }
    int64_t r50 = pct(ref, (size_t)queries, 0.5);
    int64_t r99 = pct(ref, (size_t)queries, 0.99);
    int64_t f50 = pct(full, (size_t)queries, 0.5);
    int64_t f99 = pct(full, (size_t)queries, 0.99);
    printf("{\"members\":%d,\"queries\":%d,\"entries\":%zu,\"bytes\":%zu,"
           "\"added_p50_us\":%lld,\"added_p99_us\":%lld,"
           "\"slowest_p50_us\":%lld,\"slowest_p99_us\":%lld,"
           "\"pairs_added_p50_us\":%lld,\"pairs_added_p99_us\":%lld,"
           "\"first_byte_added_p50_us\":%lld,\"fanout_p50_us\":%lld,\"fanout_p99_us\":%lld,"
           "\"total_p50_us\":%lld,\"total_p99_us\":%lld}\n",
           s->n, queries, entries, out.len, (long long)pct(paired, (size_t)queries, 0.5),
           (long long)pct(paired, (size_t)queries, 0.99),
           (long long)pct(slowest, (size_t)queries, 0.5),
           (long long)pct(slowest, (size_t)queries, 0.99), (long long)(f50 - r50),
           (long long)(f99 - r99), (long long)(pct(first, (size_t)queries, 0.5) - r50),
           (long long)r50, (long long)r99, (long long)f50, (long long)f99);
    breakdown_print(&bd, queries);
    free(paired);
    free(slowest);
    base_buf_fini(&out);
    free(ref);
    free(full);
    free(first);
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
        struct gw_fed_job job = {
            .requests = t->s->rq, .n_requests = (size_t)t->s->n, .deadline_ms = 3000};

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
        struct gw_fed_job job = {
            .requests = s->rq, .n_requests = (size_t)s->n, .deadline_ms = 3000};

        atomic_fetch_add(&t.inflight, 1);
        if (gw_fed_submit(s->e, &job, on_tp, &t, NULL) != BASE_OK)
            exit(3);
    }
    usleep(1000000); /* warm-up: connections, TLS sessions */
    long r0 = atomic_load(&t.requests);
    int64_t t0 = now_us();
    int64_t c0 = process_cpu_us();
    usleep((useconds_t)seconds * 1000000u);
    long r1 = atomic_load(&t.requests);
    int64_t t1 = now_us();
    int64_t c1 = process_cpu_us();
    atomic_store(&t.stop, true);
    while (atomic_load(&t.inflight) > 0)
        usleep(1000);
    printf("{\"members\":%d,\"jobs\":%d,\"merge\":%s,\"req_per_s\":%.0f,\"failed\":%ld,"
           "\"cpu_us_per_req\":%.1f}\n",
           s->n, jobs, with_merge ? "true" : "false", (double)(r1 - r0) * 1e6 / (double)(t1 - t0),
           atomic_load(&t.failed), (double)(c1 - c0) / (double)(r1 - r0 > 0 ? r1 - r0 : 1));
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
    int64_t *add = calloc((size_t)reps, sizeof(int64_t));
    int64_t *fin = calloc((size_t)reps, sizeof(int64_t));
    struct gw_fed_merge_opts o = merge_opts();
    for (int k = 0; k < reps; k++) {
        struct base_arena *ar = base_arena_new(0);
        struct gw_fed_merge *m = NULL;
        struct gw_fed_merge_info info;
        int64_t c0 = cpu_us();

        base_buf_reset(&out);
        if (gw_fed_merge_start(ar, (size_t)n, &o, &m, NULL) != BASE_OK)
            return 4;
        for (int i = 0; i < n; i++) {
            if (gw_fed_merge_add(m, (size_t)i, &a.results[i], NULL) != BASE_OK)
                return 4;
        }
        int64_t c1 = cpu_us();
        if (gw_fed_merge_finish(m, NULL) != BASE_OK)
            return 4;
        int64_t c2 = cpu_us();
        if (gw_fed_merge_write(m, &out) != BASE_OK)
            return 4;
        mc[k] = cpu_us() - c0;
        add[k] = c1 - c0;
        fin[k] = c2 - c1;
        gw_fed_merge_info(m, &info);
        entries = info.n_entries;
        base_arena_free(ar);
    }
    const char *dump = getenv("BENCH_FED_DUMP"); /* the last merged text, to compare builds */
    FILE *df = dump != NULL ? fopen(dump, "w") : NULL;
    if (df != NULL) {
        fwrite(out.data, 1, out.len, df);
        fclose(df);
    }
    fprintf(stderr, "add %lld us, finish %lld us (medians)\n",
            (long long)pct(add, (size_t)reps, 0.5), (long long)pct(fin, (size_t)reps, 0.5));
    free(add);
    free(fin);
    printf("{\"members\":%d,\"entries\":%zu,\"bytes_out\":%zu,\"merge_min_us\":%lld,\"merge_us\":%"
           "lld}\n",
           n, entries, out.len, (long long)pct(mc, (size_t)reps, 0.0),
           (long long)pct(mc, (size_t)reps, 0.5));
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
    if (argc == 5 && (strcmp(argv[1], "gen") == 0 || strcmp(argv[1], "gen-zh") == 0))
        return gen(argv[2], (int)strtol(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10),
                   strcmp(argv[1], "gen-zh") == 0);
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
