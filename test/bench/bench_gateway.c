/*
 * Whole-gateway benchmark client (test/bench/bench_gateway.sh starts the
 * real bin/fhirgate-gateway, its no-op-audit build, PostgreSQL and nginx
 * members, and runs this against them):
 *
 *   bench_gateway load URL CA TOKEN CONC SECONDS EXPECT
 *       CONC clients, each on its own keep-alive HTTPS connection, send
 *       GET URL (Bearer TOKEN) one after another for SECONDS; prints
 *       requests/s and the latency p50/p99 of the answers.  An answer
 *       counts only when it is 200, a searchset with EXPECT match entries
 *       (0: any) and no OperationOutcome entry (a partial answer means a
 *       member failed, and would make the figure meaningless); the others
 *       are counted as failed.
 *   bench_gateway conns URL CA N PID
 *       opens N keep-alive HTTPS connections to URL (one GET each, then
 *       idle), and prints the growth of process PID's resident memory
 *       divided by N (after 64 warm-up connections were opened and
 *       closed).
 *
 * libcurl multi on one thread, so that the client's own CPU stays small
 * and is the same for every server measured.  Every result is one JSON
 * line on stdout.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define MAX_SAMPLES 2000000u
#define BODY_CAP    (64u * 1024 * 1024)

struct client {
    CURL *easy;
    char *body;
    size_t len;
    size_t cap;
    int64_t started_us;
};

struct load {
    const char *url;
    const char *ca;
    struct curl_slist *headers;
    long expect; /* match entries per answer; 0: any; < 0: any 200 */
    uint64_t ok;
    uint64_t failed;
    uint64_t bytes;
    int64_t *lat_us;
    size_t nlat;
};

static int64_t
mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t
on_body(char *p, size_t size, size_t n, void *cls)
{
    struct client *c = cls;
    size_t len = size * n;

    if (c->len + len + 1 > c->cap) {
        size_t cap = c->cap > 0 ? c->cap : 65536;
        char *nb;

        while (cap < c->len + len + 1)
            cap *= 2;
        if (cap > BODY_CAP || (nb = realloc(c->body, cap)) == NULL)
            return 0;
        c->body = nb;
        c->cap = cap;
    }
    memcpy(c->body + c->len, p, len);
    c->len += len;
    c->body[c->len] = '\0';
    return len;
}

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;
    size_t step = strlen(needle);

    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + step, needle))
        n++;
    return n;
}

/* A complete answer: 200, a searchset, the expected entries, no member
 * reported as failed (expect < 0: any 200).  The gateway writes compact
 * JSON. */
static bool
answer_ok(const struct load *l, struct client *c)
{
    long status = 0;

    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200 && l->expect < 0)
        return true;
    if (status != 200 || c->body == NULL || strstr(c->body, "\"searchset\"") == NULL)
        return false;
    if (strstr(c->body, "\"mode\":\"outcome\"") != NULL)
        return false;
    return l->expect <= 0 || count(c->body, "\"mode\":\"match\"") == (size_t)l->expect;
}

static bool
client_start(CURLM *m, struct client *c, const struct load *l, bool fresh)
{
    if (c->easy == NULL && (c->easy = curl_easy_init()) == NULL)
        return false;
    curl_easy_setopt(c->easy, CURLOPT_URL, l->url);
    curl_easy_setopt(c->easy, CURLOPT_CAINFO, l->ca);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, l->headers);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c->easy, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
    c->len = 0;
    if (c->body != NULL)
        c->body[0] = '\0';
    c->started_us = mono_us();
    return curl_multi_add_handle(m, c->easy) == CURLM_OK;
}

static int
cmp_lat(const void *a, const void *b)
{
    int64_t d = *(const int64_t *)a - *(const int64_t *)b;

    return d < 0 ? -1 : d > 0;
}

static double
percentile_ms(int64_t *v, size_t n, double p)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)v[i < n ? i : n - 1] / 1000.0;
}

/* Record what finished and start the client's next request (while the
 * run lasts). */
static void
reap(CURLM *m, struct load *l, int64_t until_us, int *running)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
        struct client *c = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        curl_multi_remove_handle(m, c->easy);
        if (msg->data.result == CURLE_OK && answer_ok(l, c)) {
            l->ok++;
            l->bytes += c->len;
            if (l->nlat < MAX_SAMPLES)
                l->lat_us[l->nlat++] = mono_us() - c->started_us;
        } else {
            l->failed++;
        }
        if (mono_us() < until_us && client_start(m, c, l, false))
            (*running)++;
    }
}

static int
cmd_load(const char *url, const char *ca, const char *token, int conc, int secs, long expect)
{
    struct load l = {.url = url, .ca = ca, .expect = expect};
    struct client *cs = calloc((size_t)conc, sizeof(*cs));
    CURLM *m = curl_multi_init();
    char auth[8192];
    int64_t t0, t1, until;
    int running = 0;

    l.lat_us = calloc(MAX_SAMPLES, sizeof(*l.lat_us));
    if (cs == NULL || m == NULL || l.lat_us == NULL)
        return 1;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    l.headers = curl_slist_append(NULL, auth);
    l.headers = curl_slist_append(l.headers, "Accept: application/fhir+json");
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)conc * 2);
    t0 = mono_us();
    until = t0 + (int64_t)secs * 1000000;
    for (int i = 0; i < conc; i++)
        if (client_start(m, &cs[i], &l, false))
            running++;
    while (running > 0) {
        int still = 0;

        curl_multi_perform(m, &still);
        running = still;
        reap(m, &l, until, &running);
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    t1 = mono_us();
    qsort(l.lat_us, l.nlat, sizeof(*l.lat_us), cmp_lat);
    printf("{\"requests\":%llu,\"failed\":%llu,\"req_per_s\":%.1f,\"p50_ms\":%.2f,"
           "\"p99_ms\":%.2f,\"bytes_per_answer\":%llu}\n",
           (unsigned long long)l.ok, (unsigned long long)l.failed,
           (double)l.ok * 1e6 / (double)(t1 - t0), percentile_ms(l.lat_us, l.nlat, 0.50),
           percentile_ms(l.lat_us, l.nlat, 0.99),
           (unsigned long long)(l.ok > 0 ? l.bytes / l.ok : 0));
    for (int i = 0; i < conc; i++) {
        curl_easy_cleanup(cs[i].easy);
        free(cs[i].body);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(l.headers);
    free(l.lat_us);
    free(cs);
    return l.failed > 0 && l.ok == 0 ? 1 : 0;
}

/* ---- conns ------------------------------------------------------------------------- */

static long
vm_rss_kb(long pid)
{
    char path[64];
    char line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (kb < 0 && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* Open n connections at once on multi handle `m` (each a fresh connection
 * doing one GET) and wait until all have answered; they then stay in the
 * multi's connection cache, idle.  Returns how many answered 200. */
static int
open_idle(CURLM *m, struct client *cs, int n, struct load *l)
{
    int running = 0;

    for (int i = 0; i < n; i++)
        if (client_start(m, &cs[i], l, true))
            running++;
    while (running > 0) {
        int still = 0;

        curl_multi_perform(m, &still);
        running = still;
        reap(m, l, 0, &running);
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    return (int)l->ok;
}

static void
close_all(CURLM *m, struct client *cs, int n)
{
    for (int i = 0; i < n; i++) {
        curl_easy_cleanup(cs[i].easy);
        cs[i].easy = NULL;
    }
    curl_multi_cleanup(m);
}

static int
cmd_conns(const char *url, const char *ca, int n, long pid)
{
    struct client *cs = calloc((size_t)n, sizeof(*cs));
    struct load l = {.url = url, .ca = ca, .expect = -1};
    struct rlimit rl;
    CURLM *m;
    long before, after;
    int warm, got;

    if (cs == NULL)
        return 1;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    l.lat_us = calloc((size_t)n, sizeof(*l.lat_us));
    /* threads, TLS state and caches of the server first */
    m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n * 2);
    warm = open_idle(m, cs, n < 64 ? n : 64, &l);
    close_all(m, cs, n < 64 ? n : 64);
    usleep(300000);
    before = vm_rss_kb(pid);
    l.ok = 0;
    l.nlat = 0;
    m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n * 2);
    got = open_idle(m, cs, n, &l);
    usleep(500000);
    after = vm_rss_kb(pid);
    printf("{\"conns\":%d,\"answered\":%d,\"warm\":%d,\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,"
           "\"bytes_per_conn\":%.0f}\n",
           n, got, warm, before, after, (double)(after - before) * 1024.0 / (double)n);
    close_all(m, cs, n);
    for (int i = 0; i < n; i++)
        free(cs[i].body);
    free(cs);
    free(l.lat_us);
    return got == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
    int rc = 2;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc == 8 && strcmp(argv[1], "load") == 0)
        rc = cmd_load(argv[2], argv[3], argv[4], atoi(argv[5]), atoi(argv[6]),
                      strtol(argv[7], NULL, 10));
    else if (argc == 6 && strcmp(argv[1], "conns") == 0)
        rc = cmd_conns(argv[2], argv[3], atoi(argv[4]), strtol(argv[5], NULL, 10));
    else
        fprintf(stderr, "usage: see the comment at the top of test/bench/bench_gateway.c\n");
    curl_global_cleanup();
    return rc;
}
