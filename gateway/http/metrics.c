/* Metrics registry and the Prometheus text format 0.0.4. */
#include "gateway/http/gw_http_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"

#define TABLE_SIZE 256u /* series hash buckets per family */

const double gw_http_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,   0.25,   0.5,   1.0,  2.5,   5.0, 10.0};
const size_t gw_http_latency_bucket_count = BASE_ARRAY_LEN(gw_http_latency_buckets);

struct series {
    struct series *next;     /* hash chain */
    struct series *order;    /* creation order, for stable output */
    uint64_t hash;
    char *values[GW_HTTP_METRICS_MAX_LABELS];
    double value;            /* counter, gauge; histogram: sum */
    uint64_t count;          /* histogram */
    uint64_t buckets[GW_HTTP_METRICS_MAX_BUCKETS];
};

struct gw_http_metric {
    struct gw_http_metric *next;
    struct gw_http_metrics *reg;
    enum gw_http_metric_type type;
    char *name;
    char *help;
    char *labels[GW_HTTP_METRICS_MAX_LABELS];
    size_t label_count;
    double bounds[GW_HTTP_METRICS_MAX_BUCKETS];
    size_t bound_count;
    double (*fn)(void *cls); /* computed gauge */
    void *fn_cls;
    pthread_mutex_t lock;    /* protects the series */
    struct series *table[TABLE_SIZE];
    struct series *first;
    struct series *last;
    size_t series_count;
};

struct gw_http_metrics {
    struct base_arena *arena;  /* families and their strings */
    pthread_mutex_t lock;      /* protects the family list and arena */
    struct gw_http_metric *first;
    struct gw_http_metric *last;
    struct gw_http_metric *dropped;
};

static bool
name_ok(const char *n, bool label)
{
    if (n == NULL || n[0] == '\0' || (n[0] >= '0' && n[0] <= '9'))
        return false;
    for (const char *p = n; *p != '\0'; p++) {
        char c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (!label && c == ':')))
            return false;
    }
    return true;
}

static struct gw_http_metric *
add_locked(struct gw_http_metrics *m, enum gw_http_metric_type type, const char *name,
           const char *help, const char *labels, const double *buckets, size_t nb);

struct gw_http_metrics *
gw_http_metrics_new(void)
{
    struct gw_http_metrics *m = base_calloc(1, sizeof(*m));

    if (m == NULL)
        return NULL;
    m->arena = base_arena_new(0);
    if (m->arena == NULL || pthread_mutex_init(&m->lock, NULL) != 0) {
        base_arena_free(m->arena);
        base_free(m);
        return NULL;
    }
    m->dropped = add_locked(m, GW_HTTP_METRIC_COUNTER, "fhirgate_metrics_dropped_series_total",
                            "Updates dropped because a family reached its series limit.", NULL,
                            NULL, 0);
    if (m->dropped == NULL) {
        gw_http_metrics_free(m);
        return NULL;
    }
    return m;
}

static void
free_series(struct gw_http_metric *f)
{
    struct series *s = f->first;

    while (s != NULL) {
        struct series *next = s->order;

        for (size_t i = 0; i < f->label_count; i++)
            base_free(s->values[i]);
        base_free(s);
        s = next;
    }
}

void
gw_http_metrics_free(struct gw_http_metrics *m)
{
    if (m == NULL)
        return;
    for (struct gw_http_metric *f = m->first; f != NULL; f = f->next) {
        free_series(f);
        pthread_mutex_destroy(&f->lock);
    }
    pthread_mutex_destroy(&m->lock);
    base_arena_free(m->arena);
    base_free(m);
}

static int
split_labels(struct gw_http_metrics *m, struct gw_http_metric *f, const char *labels)
{
    struct base_str rest = base_str_from_cstr(labels);

    while (labels != NULL && rest.len > 0) {
        struct base_str head;

        (void)base_str_cut(rest, ',', &head, &rest);
        head = base_str_trim(head);
        if (f->label_count == GW_HTTP_METRICS_MAX_LABELS)
            return BASE_E_INVALID;
        f->labels[f->label_count] = base_str_dup0(m->arena, head);
        if (f->labels[f->label_count] == NULL)
            return BASE_E_NOMEM;
        if (!name_ok(f->labels[f->label_count], true) ||
            strcmp(f->labels[f->label_count], "le") == 0)
            return BASE_E_INVALID;
        f->label_count++;
    }
    return BASE_OK;
}

/* Same type and the same label names, in order ("a,b" vs "a, b" alike). */
static bool
same_shape(const struct gw_http_metric *f, enum gw_http_metric_type type, const char *labels)
{
    struct base_str rest = base_str_from_cstr(labels);
    size_t i = 0;

    if (f->type != type || f->fn != NULL)
        return false;
    while (labels != NULL && rest.len > 0) {
        struct base_str head;

        (void)base_str_cut(rest, ',', &head, &rest);
        if (i >= f->label_count || !base_str_eq_cstr(base_str_trim(head), f->labels[i]))
            return false;
        i++;
    }
    return i == f->label_count;
}

static struct gw_http_metric *
add_locked(struct gw_http_metrics *m, enum gw_http_metric_type type, const char *name,
           const char *help, const char *labels, const double *buckets, size_t nb)
{
    struct gw_http_metric *f;

    if (!name_ok(name, false))
        return NULL;
    for (f = m->first; f != NULL; f = f->next) {
        if (strcmp(f->name, name) == 0)
            return same_shape(f, type, labels) ? f : NULL;
    }
    if (type == GW_HTTP_METRIC_HISTOGRAM && buckets == NULL) {
        buckets = gw_http_latency_buckets;
        nb = gw_http_latency_bucket_count;
    }
    if (nb > GW_HTTP_METRICS_MAX_BUCKETS)
        return NULL;
    for (size_t i = 1; i < nb; i++) {
        if (!(buckets[i] > buckets[i - 1]))
            return NULL;
    }
    f = BASE_NEW(m->arena, struct gw_http_metric);
    if (f == NULL || pthread_mutex_init(&f->lock, NULL) != 0)
        return NULL;
    f->reg = m;
    f->type = type;
    f->name = base_arena_strdup(m->arena, name);
    f->help = base_arena_strdup(m->arena, help != NULL ? help : "");
    if (f->name == NULL || f->help == NULL || split_labels(m, f, labels) != BASE_OK) {
        pthread_mutex_destroy(&f->lock);
        return NULL;
    }
    if (type == GW_HTTP_METRIC_HISTOGRAM)
        memcpy(f->bounds, buckets, nb * sizeof(double));
    f->bound_count = type == GW_HTTP_METRIC_HISTOGRAM ? nb : 0;
    if (m->last != NULL)
        m->last->next = f;
    else
        m->first = f;
    m->last = f;
    return f;
}

struct gw_http_metric *
gw_http_metrics_add(struct gw_http_metrics *m, enum gw_http_metric_type type, const char *name,
                    const char *help, const char *labels, const double *buckets,
                    size_t bucket_count)
{
    struct gw_http_metric *f;

    pthread_mutex_lock(&m->lock);
    f = add_locked(m, type, name, help, labels, buckets, bucket_count);
    pthread_mutex_unlock(&m->lock);
    return f;
}

int
gw_http_metrics_add_gauge_fn(struct gw_http_metrics *m, const char *name, const char *help,
                             double (*fn)(void *cls), void *cls)
{
    struct gw_http_metric *f;

    if (fn == NULL)
        return BASE_E_INVALID;
    pthread_mutex_lock(&m->lock);
    f = add_locked(m, GW_HTTP_METRIC_GAUGE, name, help, NULL, NULL, 0);
    if (f != NULL) {
        f->fn = fn;
        f->fn_cls = cls;
    }
    pthread_mutex_unlock(&m->lock);
    return f != NULL ? BASE_OK : BASE_E_INVALID;
}

/* FNV-1a over the label values, each followed by a 0xff separator. */
static uint64_t
hash_values(const struct gw_http_metric *f, const char *const *values)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < f->label_count; i++) {
        for (const char *p = values[i] != NULL ? values[i] : ""; *p != '\0'; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ 0xffu) * 1099511628211ull;
    }
    return h;
}

static bool
values_eq(const struct gw_http_metric *f, const struct series *s, const char *const *values)
{
    for (size_t i = 0; i < f->label_count; i++) {
        if (strcmp(s->values[i], values[i] != NULL ? values[i] : "") != 0)
            return false;
    }
    return true;
}

static struct series *
new_series(struct gw_http_metric *f, const char *const *values, uint64_t h)
{
    struct series *s = base_calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->hash = h;
    for (size_t i = 0; i < f->label_count; i++) {
        const char *v = values[i] != NULL ? values[i] : "";
        size_t n = strlen(v) + 1;

        s->values[i] = base_malloc(n);
        if (s->values[i] == NULL) {
            for (size_t k = 0; k < i; k++)
                base_free(s->values[k]);
            base_free(s);
            return NULL;
        }
        memcpy(s->values[i], v, n);
    }
    return s;
}

/* The series for `values`, created when new; NULL when the family is full
 * (or memory is).  Caller holds f->lock. */
static struct series *
find_series(struct gw_http_metric *f, const char *const *values)
{
    uint64_t h = hash_values(f, values);
    struct series **slot = &f->table[h % TABLE_SIZE];
    struct series *s;

    for (s = *slot; s != NULL; s = s->next) {
        if (s->hash == h && values_eq(f, s, values))
            return s;
    }
    if (f->series_count >= GW_HTTP_METRICS_MAX_SERIES || (s = new_series(f, values, h)) == NULL)
        return NULL;
    s->next = *slot;
    *slot = s;
    if (f->last != NULL)
        f->last->order = s;
    else
        f->first = s;
    f->last = s;
    f->series_count++;
    return s;
}

static void
note_dropped(struct gw_http_metric *f)
{
    struct gw_http_metric *d = f->reg->dropped;

    if (d != NULL && d != f)
        gw_http_metric_add(d, NULL, 1);
}

static void
update(struct gw_http_metric *f, const char *const *values, double v, int op)
{
    struct series *s;

    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    s = find_series(f, values);
    if (s != NULL) {
        if (op == 0) {
            s->value += v;
        } else if (op == 1) {
            s->value = v;
        } else {
            s->value += v;
            s->count++;
            for (size_t i = 0; i < f->bound_count; i++)
                s->buckets[i] += v <= f->bounds[i];
        }
    }
    pthread_mutex_unlock(&f->lock);
    if (s == NULL)
        note_dropped(f);
}

void
gw_http_metric_add(struct gw_http_metric *f, const char *const *values, double v)
{
    if (f != NULL && f->type != GW_HTTP_METRIC_HISTOGRAM &&
        (f->type == GW_HTTP_METRIC_GAUGE || v >= 0))
        update(f, values, v, 0);
}

void
gw_http_metric_set(struct gw_http_metric *f, const char *const *values, double v)
{
    if (f != NULL && f->type == GW_HTTP_METRIC_GAUGE)
        update(f, values, v, 1);
}

void
gw_http_metric_observe(struct gw_http_metric *f, const char *const *values, double v)
{
    if (f != NULL && f->type == GW_HTTP_METRIC_HISTOGRAM && !isnan(v))
        update(f, values, v, 2);
}

double
gw_http_metric_value(struct gw_http_metric *f, const char *const *values)
{
    uint64_t h;
    double v = 0;

    if (f == NULL)
        return 0;
    h = hash_values(f, values);
    pthread_mutex_lock(&f->lock);
    for (struct series *s = f->table[h % TABLE_SIZE]; s != NULL; s = s->next) {
        if (s->hash == h && values_eq(f, s, values)) {
            v = f->type == GW_HTTP_METRIC_HISTOGRAM ? (double)s->count : s->value;
            break;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return v;
}

/* ------------------------------------------------------------ render -- */

/* Label values: backslash, double quote and newline escaped (format 0.0.4). */
static int
put_label_value(struct base_buf *out, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            TRY(base_buf_putc(out, '\\'));
        if (*v == '\n') {
            TRY(base_buf_append_cstr(out, "\\n"));
            continue;
        }
        TRY(base_buf_putc(out, *v));
    }
    return BASE_OK;
}

/* HELP text: backslash and newline escaped. */
static int
put_help(struct base_buf *out, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\')
            TRY(base_buf_append_cstr(out, "\\\\"));
        else if (*v == '\n')
            TRY(base_buf_append_cstr(out, "\\n"));
        else
            TRY(base_buf_putc(out, *v));
    }
    return BASE_OK;
}

static int
put_number(struct base_buf *out, double v)
{
    if (isinf(v))
        return base_buf_append_cstr(out, v > 0 ? "+Inf" : "-Inf");
    if (isnan(v))
        return base_buf_append_cstr(out, "NaN");
    if (v == (double)(int64_t)v && fabs(v) < 9e15)
        return base_buf_appendf(out, "%lld", (long long)v);
    /* the shortest of %.15g / %.17g that reads back as the same double */
    {
        char b[40];

        snprintf(b, sizeof(b), "%.15g", v);
        if (strtod(b, NULL) == v)
            return base_buf_append_cstr(out, b);
    }
    return base_buf_appendf(out, "%.17g", v);
}

/* name{l1="v1",…[,le="x"]} */
static int
put_labels(struct base_buf *out, const struct gw_http_metric *f, const struct series *s,
           const char *le)
{
    if (f->label_count == 0 && le == NULL)
        return BASE_OK;
    TRY(base_buf_putc(out, '{'));
    for (size_t i = 0; i < f->label_count; i++) {
        TRY(base_buf_appendf(out, "%s%s=\"", i > 0 ? "," : "", f->labels[i]));
        TRY(put_label_value(out, s->values[i]));
        TRY(base_buf_putc(out, '"'));
    }
    if (le != NULL)
        TRY(base_buf_appendf(out, "%sle=\"%s\"", f->label_count > 0 ? "," : "", le));
    return base_buf_putc(out, '}');
}

static int
render_histogram(struct base_buf *out, const struct gw_http_metric *f, const struct series *s)
{
    char le[40];

    for (size_t i = 0; i < f->bound_count; i++) {
        snprintf(le, sizeof(le), "%g", f->bounds[i]);
        TRY(base_buf_appendf(out, "%s_bucket", f->name));
        TRY(put_labels(out, f, s, le));
        TRY(base_buf_appendf(out, " %llu\n", (unsigned long long)s->buckets[i]));
    }
    TRY(base_buf_appendf(out, "%s_bucket", f->name));
    TRY(put_labels(out, f, s, "+Inf"));
    TRY(base_buf_appendf(out, " %llu\n%s_sum", (unsigned long long)s->count, f->name));
    TRY(put_labels(out, f, s, NULL));
    TRY(base_buf_putc(out, ' '));
    TRY(put_number(out, s->value));
    TRY(base_buf_appendf(out, "\n%s_count", f->name));
    TRY(put_labels(out, f, s, NULL));
    return base_buf_appendf(out, " %llu\n", (unsigned long long)s->count);
}

static int
render_family(struct base_buf *out, struct gw_http_metric *f)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    int rc = BASE_OK;

    TRY(base_buf_appendf(out, "# HELP %s ", f->name));
    TRY(put_help(out, f->help));
    TRY(base_buf_appendf(out, "\n# TYPE %s %s\n", f->name, types[f->type]));
    if (f->fn != NULL) {
        TRY(base_buf_appendf(out, "%s ", f->name));
        TRY(put_number(out, f->fn(f->fn_cls)));
        return base_buf_putc(out, '\n');
    }
    pthread_mutex_lock(&f->lock);
    if (f->first == NULL && f->label_count == 0 && f->type != GW_HTTP_METRIC_HISTOGRAM)
        rc = base_buf_appendf(out, "%s 0\n", f->name); /* an unlabelled family always has a value */
    for (const struct series *s = f->first; s != NULL && rc == BASE_OK; s = s->order) {
        if (f->type == GW_HTTP_METRIC_HISTOGRAM) {
            rc = render_histogram(out, f, s);
            continue;
        }
        rc = base_buf_append_cstr(out, f->name);
        if (rc == BASE_OK)
            rc = put_labels(out, f, s, NULL);
        if (rc == BASE_OK)
            rc = base_buf_putc(out, ' ');
        if (rc == BASE_OK)
            rc = put_number(out, s->value);
        if (rc == BASE_OK)
            rc = base_buf_putc(out, '\n');
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

int
gw_http_metrics_render(struct gw_http_metrics *m, struct base_buf *out)
{
    int rc = BASE_OK;

    /* Lock order: registry, then one family at a time. */
    pthread_mutex_lock(&m->lock);
    for (struct gw_http_metric *f = m->first; f != NULL && rc == BASE_OK; f = f->next)
        rc = render_family(out, f);
    pthread_mutex_unlock(&m->lock);
    return rc;
}
