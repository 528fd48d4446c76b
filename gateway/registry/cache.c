/*
 * gateway/registry/cache.c — the in-memory copy of the registry that
 * request threads read, with the health the probes report.
 *
 * One mutex guards `members`/`n` and every member's health; a refresh
 * builds the new array outside the lock and swaps it in, carrying the
 * health over by id.  Copies handed out live in the caller's arena, so no
 * reader ever holds the lock while it works.
 */
#include "gateway/registry/gw_registry.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/db/gw_db.h"

struct gw_registry {
    struct gw_db_pool *pool;
    pthread_mutex_t mu;                 /* guards everything below */
    struct base_arena *arena;           /* holds members' strings */
    struct gw_registry_member *members; /* ordered by id */
    size_t n;
};

int
gw_registry_new(struct gw_db_pool *pool, struct gw_registry **out, struct base_err *err)
{
    struct gw_registry *r = base_calloc(1, sizeof(*r));

    *out = NULL;
    if (r == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "registry", "out of memory");
    r->pool = pool;
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return BASE_OK;
}

void
gw_registry_free(struct gw_registry *r)
{
    if (r == NULL)
        return;
    base_arena_free(r->arena);
    pthread_mutex_destroy(&r->mu);
    base_free(r);
}

static const struct gw_registry_member *
find_locked(const struct gw_registry *r, const char *id)
{
    for (size_t i = 0; id != NULL && i < r->n; i++) {
        if (strcmp(r->members[i].id, id) == 0)
            return &r->members[i];
    }
    return NULL;
}

int
gw_registry_refresh(struct gw_registry *r, struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_registry_member *list = NULL;
    struct gw_db_conn *c = NULL;
    size_t n = 0;
    int rc;

    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "registry", "out of memory");
    rc = gw_db_borrow(r->pool, &c, err);
    if (rc == BASE_OK)
        rc = gw_registry_list(c, a, &list, &n, err);
    gw_db_release(c);
    if (rc != BASE_OK) {
        base_arena_free(a);
        return rc;
    }
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < n; i++) {
        const struct gw_registry_member *old = find_locked(r, list[i].id);

        if (old != NULL)
            list[i].health = old->health;
    }
    base_arena_free(r->arena);
    r->arena = a;
    r->members = list;
    r->n = n;
    pthread_mutex_unlock(&r->mu);
    return BASE_OK;
}

static bool
copy_member(struct base_arena *a, const struct gw_registry_member *m,
            struct gw_registry_member *out)
{
    *out = *m;
    out->id = base_arena_strdup(a, m->id);
    out->name = base_arena_strdup(a, m->name);
    out->base = base_arena_strdup(a, m->base);
    out->source = base_arena_strdup(a, m->source);
    out->cert_sha256 = m->cert_sha256 != NULL ? base_arena_strdup(a, m->cert_sha256) : NULL;
    out->cert_subject = m->cert_subject != NULL ? base_arena_strdup(a, m->cert_subject) : NULL;
    out->created = m->created != NULL ? base_arena_strdup(a, m->created) : NULL;
    out->updated = m->updated != NULL ? base_arena_strdup(a, m->updated) : NULL;
    return out->id != NULL && out->name != NULL && out->base != NULL && out->source != NULL;
}

int
gw_registry_snapshot(struct gw_registry *r, struct base_arena *a, bool active_only,
                     struct gw_registry_member **out, size_t *n, struct base_err *err)
{
    int rc = BASE_OK;
    size_t k = 0;

    pthread_mutex_lock(&r->mu);
    *out = BASE_NEW_N(a, struct gw_registry_member, r->n + 1);
    if (*out == NULL)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "registry", "out of memory");
    for (size_t i = 0; rc == BASE_OK && i < r->n; i++) {
        if (active_only && r->members[i].status != GW_REGISTRY_ACTIVE)
            continue;
        if (!copy_member(a, &r->members[i], &(*out)[k++]))
            rc = base_err_set(err, BASE_E_NOMEM, "exception", "registry", "out of memory");
    }
    pthread_mutex_unlock(&r->mu);
    *n = rc == BASE_OK ? k : 0;
    return rc;
}

bool
gw_registry_is_active(struct gw_registry *r, const char *id)
{
    const struct gw_registry_member *m;
    bool active;

    pthread_mutex_lock(&r->mu);
    m = find_locked(r, id);
    active = m != NULL && m->status == GW_REGISTRY_ACTIVE;
    pthread_mutex_unlock(&r->mu);
    return active;
}

bool
gw_registry_find(struct gw_registry *r, struct base_arena *a, const char *id,
                 struct gw_registry_member *out)
{
    const struct gw_registry_member *m;
    bool ok = false;

    pthread_mutex_lock(&r->mu);
    m = find_locked(r, id);
    if (m != NULL)
        ok = copy_member(a, m, out);
    pthread_mutex_unlock(&r->mu);
    return ok;
}

void
gw_registry_note_probe(struct gw_registry *r, const char *id, bool ok, uint64_t latency_us,
                       const char *error, int64_t now_ms)
{
    struct gw_registry_member *m;

    pthread_mutex_lock(&r->mu);
    m = (struct gw_registry_member *)find_locked(r, id);
    if (m != NULL) {
        struct gw_registry_health *h = &m->health;

        h->probed = true;
        h->up = ok;
        h->last_probe_ms = now_ms;
        h->latency_us = latency_us;
        h->probes++;
        if (ok) {
            h->last_up_ms = now_ms;
        } else {
            h->probe_failures++;
            snprintf(h->last_error, sizeof(h->last_error), "%s", error != NULL ? error : "error");
        }
    }
    pthread_mutex_unlock(&r->mu);
}

void
gw_registry_note_types(struct gw_registry *r, const char *id, bool known, uint64_t mask)
{
    struct gw_registry_member *m;

    pthread_mutex_lock(&r->mu);
    m = (struct gw_registry_member *)find_locked(r, id);
    if (m != NULL) {
        m->health.types_known = known;
        m->health.search_types = known ? mask : 0;
    }
    pthread_mutex_unlock(&r->mu);
}

bool
gw_registry_health_searches(const struct gw_registry_health *h, unsigned bit)
{
    return !h->types_known || bit >= 64 || (h->search_types & (UINT64_C(1) << bit)) != 0;
}

void
gw_registry_counts(struct gw_registry *r, size_t *active, size_t *up)
{
    *active = 0;
    *up = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++) {
        if (r->members[i].status != GW_REGISTRY_ACTIVE)
            continue;
        (*active)++;
        if (r->members[i].health.up)
            (*up)++;
    }
    pthread_mutex_unlock(&r->mu);
}
