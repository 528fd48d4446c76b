/*
 * Per-member circuit breaker and statistics (issue #5 "a circuit breaker so
 * that a dead member costs nothing until it is back"; docs/design/region.md
 * "Health").
 *
 *   closed ──K consecutive failures──▶ open ──open_ms elapsed──▶ half-open
 *     ▲                                  ▲                          │
 *     └────────── trial succeeds ────────┼────── trial fails ───────┘
 *
 * While open, requests get "circuit open" at once (no connection, no
 * wait).  After open_ms one request — the next real one, or a health probe
 * at any time — goes through as the trial; any success closes the circuit.
 * Failures are what says the member is unwell: refused, timeout, TLS,
 * reset, an unparsable reply, HTTP 5xx/429, and invalid answers reported
 * by the merge.  A 4xx, an over-large answer or a shutdown do not count.
 *
 * All state lives in one table guarded by one mutex (engine->members_mu):
 * the critical sections are a few assignments, far cheaper than the
 * transfers they describe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "gateway/fed/engine_int.h"

const unsigned gw_fed_latency_bounds_ms[GW_FED_LATENCY_BUCKETS - 1] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

const char *
gw_fed_breaker_state_name(enum gw_fed_breaker_state s)
{
    switch (s) {
    case GW_FED_CLOSED:
        return "closed";
    case GW_FED_OPEN:
        return "open";
    case GW_FED_HALF_OPEN:
        return "half-open";
    default:
        return "unknown";
    }
}

static size_t
bucket_of(const char *id)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (const char *p = id; *p != '\0'; p++) {
        h ^= (unsigned char)*p;
        h *= 0x100000001b3ULL;
    }
    return (size_t)(h % FED_MEMBER_BUCKETS);
}

/* Find or create (members_mu held).  Past the member cap every new id
 * shares one overflow entry rather than failing the request. */
static struct fed_member *
member_get(struct gw_fed_engine *e, const char *id, bool create)
{
    size_t b = bucket_of(id);

    for (struct fed_member *m = e->members[b]; m != NULL; m = m->next) {
        if (strcmp(m->id, id) == 0)
            return m;
    }
    if (!create)
        return NULL;
    if (e->n_members >= BASE_LIMIT_FED_MAX_MEMBERS)
        return &e->overflow;
    struct fed_member *m = base_calloc(1, sizeof(*m));
    size_t n = strlen(id);
    if (m == NULL || (m->id = base_malloc(n + 1)) == NULL) {
        base_free(m);
        return &e->overflow;
    }
    memcpy(m->id, id, n + 1);
    m->next = e->members[b];
    e->members[b] = m;
    e->n_members++;
    return m;
}

enum fed_admit
fed_breaker_admit(struct gw_fed_engine *e, const char *id, bool probe, int64_t now_us,
                  struct fed_member **out, unsigned *failures)
{
    enum fed_admit r = FED_ADMIT;
    struct fed_member *m;

    pthread_mutex_lock(&e->members_mu);
    m = member_get(e, id, true);
    *out = m;
    *failures = m->consecutive_failures;
    if (m->state == GW_FED_OPEN &&
        (probe || now_us - m->opened_us >= (int64_t)e->cfg.breaker.open_ms * 1000)) {
        m->state = GW_FED_HALF_OPEN;
        m->trial_inflight = false;
    }
    if (m->state == GW_FED_OPEN) {
        r = FED_REJECT;
    } else if (m->state == GW_FED_HALF_OPEN) {
        if (m->trial_inflight && !probe) {
            r = FED_REJECT;
        } else {
            m->trial_inflight = true;
            r = FED_ADMIT_TRIAL;
        }
    }
    pthread_mutex_unlock(&e->members_mu);
    return r;
}

bool
fed_member_slot(struct gw_fed_engine *e, struct fed_member *m)
{
    bool ok;

    pthread_mutex_lock(&e->members_mu);
    ok = m->inflight < e->cfg.max_per_member;
    if (ok)
        m->inflight++;
    pthread_mutex_unlock(&e->members_mu);
    return ok;
}

void
fed_member_release(struct gw_fed_engine *e, struct fed_member *m)
{
    pthread_mutex_lock(&e->members_mu);
    if (m->inflight > 0)
        m->inflight--;
    pthread_mutex_unlock(&e->members_mu);
}

/* Does this outcome say the member is unwell? (-1 neutral, 0 healthy, 1 failure) */
static int
health_of(enum gw_fed_error err, long status)
{
    switch (err) {
    case GW_FED_OK:
        return 0;
    case GW_FED_E_HTTP_STATUS:
        return status >= 500 || status == 429 ? 1 : 0;
    case GW_FED_E_REFUSED:
    case GW_FED_E_TIMEOUT:
    case GW_FED_E_TLS:
    case GW_FED_E_RESET:
    case GW_FED_E_INVALID:
        return 1;
    case GW_FED_E_TOO_LARGE:
        return 0;
    default:
        return -1; /* circuit open, shutdown, internal: says nothing */
    }
}

static void
transition(struct gw_fed_engine *e, struct fed_member *m, int health, bool trial, int64_t now_us)
{
    if (trial)
        m->trial_inflight = false;
    if (health == 0) {
        m->consecutive_failures = 0;
        m->state = GW_FED_CLOSED;
        return;
    }
    if (health < 0) {
        if (trial && m->state == GW_FED_HALF_OPEN)
            m->state = GW_FED_OPEN; /* the trial never said anything: try again soon */
        return;
    }
    m->consecutive_failures++;
    if ((trial && m->state == GW_FED_HALF_OPEN) ||
        (m->state == GW_FED_CLOSED && m->consecutive_failures >= e->cfg.breaker.failures)) {
        m->state = GW_FED_OPEN;
        m->opened_us = now_us;
    }
}

void
fed_breaker_done(struct gw_fed_engine *e, struct fed_member *m, enum gw_fed_error err, long status,
                 uint64_t latency_us, bool sent, bool trial)
{
    int64_t now = fed_now_us();
    int64_t wall = fed_wall_ms();
    size_t b = 0;

    pthread_mutex_lock(&e->members_mu);
    m->st.requests++;
    m->st.by_error[err]++;
    if (err != GW_FED_OK) {
        m->st.errors++;
        m->st.last_error = err;
        m->st.last_failure_ms = wall;
    } else {
        m->st.last_success_ms = wall;
    }
    if (status != 0)
        m->st.last_contact_ms = wall;
    if (sent) {
        while (b < GW_FED_LATENCY_BUCKETS - 1 && latency_us > gw_fed_latency_bounds_ms[b] * 1000ull)
            b++;
        m->st.latency[b]++;
        m->st.latency_sum_us += latency_us;
    }
    transition(e, m, health_of(err, status), trial, now);
    pthread_mutex_unlock(&e->members_mu);
}

void
gw_fed_note_invalid(struct gw_fed_engine *e, const char *member_id)
{
    pthread_mutex_lock(&e->members_mu);
    struct fed_member *m = member_get(e, member_id, true);
    m->st.by_error[GW_FED_E_INVALID]++;
    m->st.last_error = GW_FED_E_INVALID;
    transition(e, m, 1, false, fed_now_us());
    pthread_mutex_unlock(&e->members_mu);
}

void
gw_fed_breaker_reset(struct gw_fed_engine *e, const char *member_id)
{
    pthread_mutex_lock(&e->members_mu);
    struct fed_member *m = member_get(e, member_id, false);
    if (m != NULL) {
        m->state = GW_FED_CLOSED;
        m->consecutive_failures = 0;
        m->trial_inflight = false;
    }
    pthread_mutex_unlock(&e->members_mu);
}

void
fed_members_free(struct gw_fed_engine *e)
{
    for (size_t b = 0; b < FED_MEMBER_BUCKETS; b++) {
        struct fed_member *m = e->members[b];

        while (m != NULL) {
            struct fed_member *next = m->next;

            base_free(m->id);
            base_free(m);
            m = next;
        }
        e->members[b] = NULL;
    }
    e->n_members = 0;
}

/* ---- snapshots ------------------------------------------------------------------------ */

static int
cmp_stats(const void *x, const void *y)
{
    return strcmp(((const struct gw_fed_member_stats *)x)->member_id,
                  ((const struct gw_fed_member_stats *)y)->member_id);
}

int
gw_fed_stats(struct gw_fed_engine *e, struct base_arena *a, struct gw_fed_member_stats **out,
             size_t *n_out)
{
    struct gw_fed_member_stats *v;
    size_t n = 0;
    int rc = BASE_OK;

    pthread_mutex_lock(&e->members_mu);
    v = BASE_NEW_N(a, struct gw_fed_member_stats, e->n_members + 1);
    for (size_t b = 0; v != NULL && b < FED_MEMBER_BUCKETS; b++) {
        for (struct fed_member *m = e->members[b]; m != NULL; m = m->next) {
            v[n] = m->st;
            v[n].member_id = base_arena_strdup(a, m->id);
            v[n].state = m->state;
            v[n].consecutive_failures = m->consecutive_failures;
            v[n].inflight = m->inflight;
            if (v[n].member_id == NULL)
                rc = BASE_E_NOMEM;
            n++;
        }
    }
    pthread_mutex_unlock(&e->members_mu);
    if (v == NULL || rc != BASE_OK)
        return BASE_E_NOMEM;
    qsort(v, n, sizeof(*v), cmp_stats);
    *out = v;
    *n_out = n;
    return BASE_OK;
}

/* Prometheus label value escaping (text format 0.0.4). */
static int
put_label(struct base_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"')
            TRY(base_buf_putc(b, '\\'));
        if (*s == '\n')
            TRY(base_buf_append_cstr(b, "\\n"));
        else
            TRY(base_buf_putc(b, *s));
    }
    return BASE_OK;
}

static int
metric(struct base_buf *b, const char *name, const char *member, const char *extra, double v)
{
    TRY(base_buf_appendf(b, "%s{member=\"", name));
    TRY(put_label(b, member));
    return base_buf_appendf(b, "\"%s} %.17g\n", extra != NULL ? extra : "", v);
}

/* Text format 0.0.4 wants each family's lines together: families outside,
 * members inside. */
static int
requests_family(struct base_buf *b, const struct gw_fed_member_stats *v, size_t n)
{
    char extra[64];

    TRY(base_buf_append_cstr(
        b, "# HELP fhirgate_fed_member_requests_total Member requests finished, by result.\n"
           "# TYPE fhirgate_fed_member_requests_total counter\n"));
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < GW_FED_ERROR_COUNT; k++) {
            if (v[i].by_error[k] == 0 && k != GW_FED_OK)
                continue;
            snprintf(extra, sizeof(extra), ",result=\"%s\"",
                     gw_fed_error_name((enum gw_fed_error)k));
            TRY(metric(b, "fhirgate_fed_member_requests_total", v[i].member_id, extra,
                       (double)v[i].by_error[k]));
        }
    }
    return BASE_OK;
}

static int
latency_family(struct base_buf *b, const struct gw_fed_member_stats *v, size_t n)
{
    char extra[64];

    TRY(base_buf_append_cstr(b,
                             "# HELP fhirgate_fed_member_latency_seconds Member request latency.\n"
                             "# TYPE fhirgate_fed_member_latency_seconds histogram\n"));
    for (size_t i = 0; i < n; i++) {
        uint64_t cum = 0;

        for (int k = 0; k < GW_FED_LATENCY_BUCKETS; k++) {
            cum += v[i].latency[k];
            if (k < GW_FED_LATENCY_BUCKETS - 1)
                snprintf(extra, sizeof(extra), ",le=\"%g\"", gw_fed_latency_bounds_ms[k] / 1000.0);
            else
                snprintf(extra, sizeof(extra), ",le=\"+Inf\"");
            TRY(metric(b, "fhirgate_fed_member_latency_seconds_bucket", v[i].member_id, extra,
                       (double)cum));
        }
        TRY(metric(b, "fhirgate_fed_member_latency_seconds_sum", v[i].member_id, NULL,
                   (double)v[i].latency_sum_us / 1e6));
        TRY(metric(b, "fhirgate_fed_member_latency_seconds_count", v[i].member_id, NULL,
                   (double)cum));
    }
    return BASE_OK;
}

static int
gauge_family(struct base_buf *b, const struct gw_fed_member_stats *v, size_t n, int which)
{
    static const char *const names[] = {"fhirgate_fed_member_circuit_state",
                                        "fhirgate_fed_member_inflight",
                                        "fhirgate_fed_member_last_contact_timestamp_seconds"};
    static const char *const help[] = {"Circuit breaker: 0 closed, 1 open, 2 half-open.",
                                       "Member requests in flight.",
                                       "Last answer of any status from the member."};

    TRY(base_buf_appendf(b, "# HELP %s %s\n# TYPE %s gauge\n", names[which], help[which],
                         names[which]));
    for (size_t i = 0; i < n; i++) {
        double x = which == 0   ? (double)v[i].state
                   : which == 1 ? (double)v[i].inflight
                                : (double)v[i].last_contact_ms / 1000.0;

        TRY(metric(b, names[which], v[i].member_id, NULL, x));
    }
    return BASE_OK;
}

int
gw_fed_metrics_text(struct gw_fed_engine *e, struct base_buf *out)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_fed_member_stats *v = NULL;
    size_t n = 0;
    int rc;

    if (a == NULL)
        return BASE_E_NOMEM;
    rc = gw_fed_stats(e, a, &v, &n);
    if (rc == BASE_OK)
        rc = requests_family(out, v, n);
    if (rc == BASE_OK)
        rc = latency_family(out, v, n);
    for (int g = 0; rc == BASE_OK && g < 3; g++)
        rc = gauge_family(out, v, n, g);
    base_arena_free(a);
    return rc;
}
