/*
 * Deciding what each entry of a transaction does once its targets are
 * known (FHIR R4 §3.1.0.4.3 conditional update, §3.1.0.5.4 conditional
 * create, §3.1.0.7.1 conditional delete, §3.1.0.11.2 transaction rules),
 * and finishing the resources that are written: ids, meta, content hash,
 * "identical content makes no new version".
 */
#include "adapters/store/store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

BASE_PRINTF(6, 7)
static int
refuse(struct base_err *err, int *status, int st, const struct st_entry *e, const char *issue,
       const char *fmt, ...)
{
    char where[96];
    char msg[160];
    va_list ap;

    snprintf(where, sizeof(where), "Bundle.entry[%zu].request", e->index);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    *status = st;
    return base_err_set(err, st == 400 ? BASE_E_INVALID : BASE_E_CONFLICT, issue, where, "%s", msg);
}

static int
new_pk(struct st_plan *p, struct st_entry *e, struct base_err *err)
{
    ENSURE(p->next_pk < p->n_new_pks, err, BASE_E_INTERNAL, "exception", NULL,
           "no key for a new resource");
    e->pk = p->new_pks[p->next_pk++];
    return BASE_OK;
}

static int
create(struct st_plan *p, struct st_entry *e, const char *id, struct base_err *err)
{
    /* A copy: `id` may be the resource's own "id" member, which
     * finish_entry() replaces (freeing the old string). */
    e->id = id != NULL ? base_arena_strdup(p->a, id) : st_new_id(p->a);
    if (e->id == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    e->op = 'c';
    e->new_version = 1;
    e->action = ADAPTER_STORE_CREATED;
    return new_pk(p, e, err);
}

/* An existing resource gets a new version (unless its content is the same:
 * see finish_entry). */
static void
update(struct st_entry *e)
{
    e->op = 'u';
    e->new_version = e->version + 1;
    e->action = e->found_deleted ? ADAPTER_STORE_CREATED : ADAPTER_STORE_UPDATED;
}

static int
decide_post(struct st_plan *p, struct st_entry *e, int *status, struct base_err *err)
{
    if (e->criteria != NULL && e->n_found > 1)
        return refuse(err, status, 412, e, "multiple-matches",
                      "ifNoneExist matched more than one resource");
    if (e->criteria != NULL && e->n_found == 1) {
        e->action = ADAPTER_STORE_MATCHED;
        return BASE_OK;
    }
    /* R4 §3.1.0.5: the server assigns the id of a created resource. */
    return create(p, e, NULL, err);
}

static int
decide_put(struct st_plan *p, struct st_entry *e, int *status, struct base_err *err)
{
    if (e->n_found > 1)
        return refuse(err, status, 412, e, "multiple-matches",
                      "conditional update matched more than one resource");
    if (e->if_match != 0 && (e->n_found == 0 || e->found_deleted || e->version != e->if_match))
        return refuse(err, status, 412, e, "conflict", "ifMatch is not the current version");
    if (e->n_found == 1 && e->criteria != NULL && e->res_id != NULL &&
        strcmp(e->res_id, e->id) != 0)
        return refuse(err, status, 400, e, "invalid",
                      "the resource id differs from the resource the criteria found");
    if (e->n_found == 1) {
        update(e);
        return BASE_OK;
    }
    if (e->url_id != NULL)
        return create(p, e, e->url_id, err); /* update as create (R4 §3.1.0.4.2) */
    if (e->res_id != NULL && e->res_id_taken)
        return refuse(err, status, 409, e, "conflict",
                      "no resource matched, but the resource id is taken");
    return create(p, e, e->res_id, err);
}

static int
decide_delete(struct st_entry *e, int *status, struct base_err *err)
{
    if (e->n_found > 1)
        return refuse(err, status, 412, e, "multiple-matches",
                      "conditional delete matched more than one resource");
    if (e->n_found == 1 && !e->found_deleted) {
        e->op = 'd';
        e->new_version = e->version + 1;
        e->action = ADAPTER_STORE_DELETED;
        return BASE_OK;
    }
    /* Nothing (live) to delete: R4 lets a server answer a success. */
    e->action = ADAPTER_STORE_MATCHED;
    if (e->id == NULL)
        e->id = e->url_id;
    return BASE_OK;
}

static int
cmp_target(const void *x, const void *y)
{
    const struct st_entry *const *a = x;
    const struct st_entry *const *b = y;
    int c = strcmp((*a)->type, (*b)->type);

    if (c == 0)
        c = strcmp((*a)->id, (*b)->id);
    return c != 0 ? c : (*a)->index < (*b)->index ? -1 : 1;
}

/* R4: "If any resource identities (including resolved identities from
 * conditional update/delete) overlap … then the transaction SHALL fail." */
static int
check_overlap(struct st_plan *p, int *status, struct base_err *err)
{
    struct st_entry **v = BASE_NEW_N(p->a, struct st_entry *, p->n + 1);
    size_t n = 0;

    if (v == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < p->n; i++) {
        if (p->e[i].id != NULL)
            v[n++] = &p->e[i];
    }
    qsort(v, n, sizeof(*v), cmp_target);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(v[i - 1]->type, v[i]->type) == 0 && strcmp(v[i - 1]->id, v[i]->id) == 0)
            return refuse(err, status, 400, v[i], "invalid",
                          "two entries resolve to the same resource");
    }
    return BASE_OK;
}

int
st_decide(struct st_plan *p, int *status, struct base_err *err)
{
    for (size_t i = 0; i < p->n; i++) {
        struct st_entry *e = &p->e[i];

        switch (e->method) {
        case ST_POST:
            TRY(decide_post(p, e, status, err));
            break;
        case ST_PUT:
            TRY(decide_put(p, e, status, err));
            break;
        case ST_DELETE:
            TRY(decide_delete(e, status, err));
            break;
        default:
            return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "bad method");
        }
    }
    return check_overlap(p, status, err);
}

/* ---- finishing the written resources ----------------------------------------------- */

static int
finish_entry(struct base_arena *a, struct st_entry *e, int64_t *ts, struct base_err *err)
{
    if (e->op == 'd') {
        e->write = true;
        e->ts = (*ts)++;
        memcpy(e->hash, e->found_hash[0] != '\0' ? e->found_hash : "", 65);
        if (e->hash[0] == '\0')
            memset(e->hash, '0', 64);
        return BASE_OK;
    }
    if (json_object_set_new(e->resource, "id", json_string(e->id)) != 0)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    /* One serialization gives the hash and the text; the time is only
     * taken if the version is really written. */
    TRY(st_content(a, e->resource, e->new_version, *ts, e->hash, &e->content, err));
    if (e->op == 'u' && !e->found_deleted && strcmp(e->hash, e->found_hash) == 0) {
        /* Identical content (meta aside): no new version. */
        e->action = ADAPTER_STORE_UNCHANGED;
        e->op = 0;
        e->content = NULL;
        return BASE_OK;
    }
    e->write = true;
    e->ts = (*ts)++;
    return BASE_OK;
}

int
st_finish(struct st_plan *p, int64_t *ts, struct base_err *err)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->e[i].op != 0)
            TRY(finish_entry(p->a, &p->e[i], ts, err));
    }
    return BASE_OK;
}

void
st_entry_result(const struct st_entry *e, struct adapter_store_entry *out)
{
    out->type = e->type;
    out->id = e->id;
    out->action = e->action;
    out->version = e->write ? e->new_version : e->version;
    out->last_updated_us = e->write ? e->ts : e->found_updated;
    switch (e->action) {
    case ADAPTER_STORE_CREATED:
        out->status = 201;
        break;
    case ADAPTER_STORE_DELETED:
        out->status = 204;
        break;
    case ADAPTER_STORE_MATCHED:
        out->status = e->method == ST_DELETE ? 204 : 200;
        break;
    default:
        out->status = 200;
        break;
    }
    if (e->action == ADAPTER_STORE_DELETED || (e->method == ST_DELETE && e->n_found == 0)) {
        out->last_updated_us = e->write ? e->ts : 0;
        out->version = e->write ? e->new_version : 0;
    }
}
