/*
 * Code-mapping coverage report: per local code system, how many codes the
 * converters mapped and which codes they could not.  Shared by converter
 * threads: one mutex guards the whole report (notes are a few hash probes).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/codemap/codemap.h"
#include "fhir/base/arena.h"

struct sysrep {
    char *system;
    uint64_t mapped;
    uint64_t unmapped;
    char **codes;     /* distinct unmapped codes: open addressing set */
    uint64_t *counts; /* uses of codes[i] */
    size_t ncodes;
    size_t cap; /* slots in codes (power of two, 2 * max) */
    uint64_t dropped;
};

struct codemap_report {
    pthread_mutex_t mu; /* guards everything below */
    size_t max_unmapped;
    struct sysrep *sys;
    size_t nsys;
    size_t capsys;
};

struct codemap_report *
codemap_report_new(size_t max_unmapped)
{
    struct codemap_report *r = base_calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        base_free(r);
        return NULL;
    }
    r->max_unmapped = max_unmapped > 0 ? max_unmapped : BASE_LIMIT_CODEMAP_MAX_UNMAPPED;
    return r;
}

void
codemap_report_free(struct codemap_report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nsys; i++) {
        for (size_t k = 0; k < r->sys[i].cap; k++)
            base_free(r->sys[i].codes[k]);
        base_free(r->sys[i].codes);
        base_free(r->sys[i].counts);
        base_free(r->sys[i].system);
    }
    base_free(r->sys);
    pthread_mutex_destroy(&r->mu);
    base_free(r);
}

static char *
dup_str(struct base_str s)
{
    char *p = base_malloc(s.len + 1);

    if (p != NULL) {
        memcpy(p, s.ptr, s.len);
        p[s.len] = '\0';
    }
    return p;
}

static struct sysrep *
find_sys(struct codemap_report *r, struct base_str system)
{
    for (size_t i = 0; i < r->nsys; i++) {
        if (base_str_eq_cstr(system, r->sys[i].system))
            return &r->sys[i];
    }
    if (r->nsys == r->capsys) {
        size_t cap = r->capsys == 0 ? 8 : r->capsys * 2;
        struct sysrep *n = base_realloc(r->sys, cap * sizeof(*n));

        if (n == NULL)
            return NULL;
        r->sys = n;
        r->capsys = cap;
    }
    memset(&r->sys[r->nsys], 0, sizeof(r->sys[0]));
    r->sys[r->nsys].system = dup_str(system);
    if (r->sys[r->nsys].system == NULL)
        return NULL;
    return &r->sys[r->nsys++];
}

static uint64_t
code_hash(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */

    for (size_t k = 0; k < len; k++)
        h = (h ^ (unsigned char)p[k]) * 1099511628211u;
    return h;
}

/*
 * The code set starts small and doubles when half full, up to twice the
 * listing bound: a report per message (the adapter counts each message on
 * its own until it commits) costs a few hundred bytes, not the bound's
 * worth.  False when out of memory (the set is unchanged).
 */
static bool
grow_codes(struct sysrep *s)
{
    size_t cap = s->cap == 0 ? 16 : s->cap * 2;
    char **codes = base_calloc(cap, sizeof(*codes));
    uint64_t *counts = base_calloc(cap, sizeof(*counts));

    if (codes == NULL || counts == NULL) {
        base_free(codes);
        base_free(counts);
        return false;
    }
    for (size_t k = 0; k < s->cap; k++) {
        size_t i;

        if (s->codes[k] == NULL)
            continue;
        i = (size_t)code_hash(s->codes[k], strlen(s->codes[k])) & (cap - 1);
        while (codes[i] != NULL)
            i = (i + 1) & (cap - 1);
        codes[i] = s->codes[k];
        counts[i] = s->counts[k];
    }
    base_free(s->codes);
    base_free(s->counts);
    s->codes = codes;
    s->counts = counts;
    s->cap = cap;
    return true;
}

static void
add_code(struct codemap_report *r, struct sysrep *s, struct base_str code)
{
    size_t i;

    if ((s->ncodes + 1) * 2 > s->cap && s->ncodes < r->max_unmapped && !grow_codes(s) &&
        s->cap == 0) {
        s->dropped++;
        return;
    }
    for (i = (size_t)code_hash(code.ptr, code.len) & (s->cap - 1); s->codes[i] != NULL;
         i = (i + 1) & (s->cap - 1)) {
        if (base_str_eq_cstr(code, s->codes[i])) {
            s->counts[i]++;
            return;
        }
    }
    if (s->ncodes >= r->max_unmapped || (s->ncodes + 1) * 2 > s->cap) {
        s->dropped++;
        return;
    }
    s->codes[i] = dup_str(code);
    if (s->codes[i] == NULL) {
        s->dropped++;
        return;
    }
    s->counts[i] = 1;
    s->ncodes++;
}

void
codemap_report_note(struct codemap_report *r, struct base_str system, struct base_str code,
                    bool mapped)
{
    struct sysrep *s;

    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    s = find_sys(r, system);
    if (s != NULL && mapped) {
        s->mapped++;
    } else if (s != NULL) {
        s->unmapped++;
        add_code(r, s, code);
    }
    pthread_mutex_unlock(&r->mu);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static json_t *
sys_json(const struct sysrep *s)
{
    json_t *o = json_object();
    json_t *codes = json_array();
    char **sorted = s->ncodes > 0 ? base_malloc(s->ncodes * sizeof(*sorted)) : NULL;
    size_t n = 0;

    if (o == NULL || codes == NULL || (s->ncodes > 0 && sorted == NULL)) {
        json_decref(o);
        json_decref(codes);
        base_free(sorted);
        return NULL;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->codes[i] != NULL)
            sorted[n++] = s->codes[i];
    }
    if (n > 0)
        qsort(sorted, n, sizeof(*sorted), cmp_str);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(codes, json_string(sorted[i]));
    base_free(sorted);
    json_object_set_new(o, "system", json_string(s->system));
    json_object_set_new(o, "mapped", json_integer((json_int_t)s->mapped));
    json_object_set_new(o, "unmapped", json_integer((json_int_t)s->unmapped));
    json_object_set_new(o, "unmapped_codes", codes);
    json_object_set_new(o, "unmapped_codes_dropped", json_integer((json_int_t)s->dropped));
    return o;
}

static int
cmp_sys(const void *a, const void *b)
{
    return strcmp(((const struct sysrep *)a)->system, ((const struct sysrep *)b)->system);
}

json_t *
codemap_report_json(struct codemap_report *r)
{
    json_t *root = json_object();
    json_t *arr = json_array();

    if (root == NULL || arr == NULL || r == NULL) {
        json_decref(root);
        json_decref(arr);
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    if (r->nsys > 1)
        qsort(r->sys, r->nsys, sizeof(*r->sys), cmp_sys);
    for (size_t i = 0; i < r->nsys; i++) {
        json_t *s = sys_json(&r->sys[i]);

        if (s == NULL || json_array_append_new(arr, s) != 0) {
            pthread_mutex_unlock(&r->mu);
            json_decref(root);
            json_decref(arr);
            return NULL;
        }
    }
    pthread_mutex_unlock(&r->mu);
    json_object_set_new(root, "systems", arr);
    return root;
}

void
codemap_report_foreach(struct codemap_report *r, codemap_use_fn *fn, void *ctx)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->nsys; i++) {
        const struct sysrep *s = &r->sys[i];

        if (s->mapped > 0)
            fn(ctx, s->system, NULL, true, s->mapped);
        for (size_t k = 0; k < s->cap; k++) {
            if (s->codes[k] != NULL)
                fn(ctx, s->system, s->codes[k], false, s->counts[k]);
        }
        if (s->dropped > 0)
            fn(ctx, s->system, NULL, false, s->dropped);
    }
    pthread_mutex_unlock(&r->mu);
}
