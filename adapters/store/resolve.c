/*
 * Finding what a Bundle's entries point at, before anything is decided:
 * one call of store.match() for the ledger, every identifier query and
 * every Type/id lookup (and fresh keys for creates), then one compiled
 * search per entry whose criteria are more than one identifier.
 */
#include "adapters/store/store_int.h"

#include <string.h>

#define MATCH_SQL "SELECT * FROM store.match($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"

enum { M_KIND, M_ORD, M_PK, M_ID, M_VERSION, M_HASH, M_DELETED, M_UPDATED, M_INFO };

struct match_arrays {
    struct st_arr iq[5]; /* ord, type, system, value, form */
    struct st_arr id[3]; /* ord, type, id */
};

static void
arrays_init(struct match_arrays *m)
{
    for (size_t i = 0; i < 5; i++)
        st_arr_init(&m->iq[i]);
    for (size_t i = 0; i < 3; i++)
        st_arr_init(&m->id[i]);
}

static void
arrays_fini(struct match_arrays *m)
{
    for (size_t i = 0; i < 5; i++)
        st_arr_fini(&m->iq[i]);
    for (size_t i = 0; i < 3; i++)
        st_arr_fini(&m->id[i]);
}

static void
add_id_lookup(struct match_arrays *m, int64_t ord, const char *type, const char *id)
{
    st_arr_i64(&m->id[0], ord);
    st_arr_text(&m->id[1], type);
    st_arr_text(&m->id[2], id);
}

/* Entry i is ord i + 1; the "is the id this conditional update carries
 * already taken" lookups use -(i + 1). */
static void
fill_arrays(struct match_arrays *m, const struct st_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct st_entry *e = &p->e[i];
        int64_t ord = (int64_t)i + 1;
        char form[2] = {e->iq_form, '\0'};

        if (e->find == ST_FIND_ID)
            add_id_lookup(m, ord, e->type, e->url_id);
        if (e->find == ST_FIND_IDENTIFIER) {
            st_arr_i64(&m->iq[0], ord);
            st_arr_text(&m->iq[1], e->type);
            st_arr_text(&m->iq[2], e->iq_system);
            st_arr_text(&m->iq[3], e->iq_value);
            st_arr_text(&m->iq[4], form);
        }
        if (e->method == ST_PUT && e->criteria != NULL && e->res_id != NULL)
            add_id_lookup(m, -ord, e->type, e->res_id);
    }
}

/* bytea text output is "\x" + hex. */
static void
copy_hash(char out[65], const char *v)
{
    out[0] = '\0';
    if (v != NULL && strncmp(v, "\\x", 2) == 0 && strlen(v + 2) == 64)
        memcpy(out, v + 2, 65);
}

static int
take_found(struct st_plan *p, const PGresult *r, int row, struct st_entry *e)
{
    int64_t v = 0;

    if (e->n_found++ > 0)
        return BASE_OK; /* the count is what matters from the second on */
    if (!st_col_i64(r, row, M_PK, &e->pk) || !st_col_i64(r, row, M_VERSION, &v) || v <= 0 ||
        v > UINT32_MAX || !st_col_i64(r, row, M_UPDATED, &e->found_updated))
        return BASE_E_INTERNAL;
    e->version = (uint32_t)v;
    e->id = st_col(p->a, r, row, M_ID);
    e->found_deleted = PQgetvalue(r, row, M_DELETED)[0] == 't';
    copy_hash(e->found_hash, PQgetvalue(r, row, M_HASH));
    return e->id != NULL ? BASE_OK : BASE_E_NOMEM;
}

static int
take_row(struct st_plan *p, const PGresult *r, int row, struct st_replay *rp)
{
    const char *kind = PQgetvalue(r, row, M_KIND);
    int64_t ord = 0;
    size_t i;

    if (!st_col_i64(r, row, M_ORD, &ord))
        return BASE_E_INTERNAL;
    if (kind[0] == 'l') {
        rp->hit = true;
        rp->status = (int)ord;
        rp->info = st_col(p->a, r, row, M_INFO);
        return rp->info != NULL ? BASE_OK : BASE_E_NOMEM;
    }
    if (kind[0] == 'p') {
        if (p->n_new_pks < p->n && st_col_i64(r, row, M_PK, &p->new_pks[p->n_new_pks]))
            p->n_new_pks++;
        return BASE_OK;
    }
    i = (size_t)(ord < 0 ? -ord : ord) - 1;
    if (ord == 0 || i >= p->n)
        return BASE_E_INTERNAL;
    if (kind[0] == 'r' && ord < 0) {
        p->e[i].res_id_taken = true;
        return BASE_OK;
    }
    return take_found(p, r, row, &p->e[i]);
}

static int
run_match(PGconn *c, struct st_txn *t, struct st_plan *p, const struct st_ledger *lg,
          struct match_arrays *m, struct st_replay *rp, struct base_err *err)
{
    char npk[24];
    const char *params[11];
    PGresult *r = NULL;
    int rc = BASE_OK;

    params[0] = lg != NULL ? lg->source : NULL;
    params[1] = lg != NULL && lg->source != NULL ? lg->message_id : NULL;
    for (size_t i = 0; i < 5; i++)
        params[2 + i] = st_arr_get(&m->iq[i]);
    for (size_t i = 0; i < 3; i++)
        params[7 + i] = st_arr_get(&m->id[i]);
    params[10] = st_i64(npk, sizeof(npk), (int64_t)p->n);
    for (size_t i = 2; i < 10; i++)
        ENSURE(params[i] != NULL, err, BASE_E_LIMIT, "too-costly", NULL, "Bundle too large");
    TRY(st_exec_txn(c, t, false, MATCH_SQL, 11, params, PGRES_TUPLES_OK,
                    "look up the Bundle's targets", &r, err));
    for (int row = 0; rc == BASE_OK && row < PQntuples(r); row++)
        rc = take_row(p, r, row, rp);
    PQclear(r);
    if (rc != BASE_OK)
        return base_err_set(err, rc, "exception", NULL, "unexpected lookup result");
    return BASE_OK;
}

int
st_match(PGconn *c, struct st_txn *t, struct st_plan *p, const struct st_ledger *lg,
         struct st_replay *rp, struct base_err *err)
{
    struct match_arrays m;
    int rc;

    memset(rp, 0, sizeof(*rp));
    p->new_pks = BASE_NEW_N(p->a, int64_t, p->n + 1);
    if (p->new_pks == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    arrays_init(&m);
    fill_arrays(&m, p);
    rc = run_match(c, t, p, lg, &m, rp, err);
    arrays_fini(&m);
    if (rc != BASE_OK || rp->hit)
        return rc;
    for (size_t i = 0; i < p->n; i++) {
        struct st_entry *e = &p->e[i];

        if (e->find == ST_FIND_SEARCH)
            TRY(st_find_search(c, p->a, e->search, p->o, &e->n_found, &e->pk, &e->id, &e->version,
                               &e->found_deleted, &e->found_updated, e->found_hash, err));
    }
    return BASE_OK;
}

int
st_find_search(PGconn *c, struct base_arena *a, const struct fhir_search *s,
               const struct adapter_store_opts *o, size_t *n_found, int64_t *pk, const char **id,
               uint32_t *version, bool *deleted, int64_t *updated, char hash[65],
               struct base_err *err)
{
    struct adapter_store_search_opts so = {o != NULL ? o->base_url : NULL,
                                           o != NULL ? o->now_us : 0};
    struct st_compile cc;
    struct st_sql q;
    PGresult *r = NULL;
    int64_t v = 0;

    st_compile_init(&cc, a, &so);
    st_sql_init(&q, a);
    st_sql_add(&q, "SELECT r.pk, r.id, r.version, r.deleted, r.content_hash, r.last_updated"
                   " FROM store.resource r WHERE r.res_type = ");
    st_sql_param(&q, s->resource_type, NULL);
    st_sql_add(&q, " AND NOT r.deleted");
    TRY(st_compile_where(&q, &cc, s, err));
    st_sql_add(&q, " ORDER BY r.pk LIMIT 2");
    TRY(st_exec_sql(c, &q, PGRES_TUPLES_OK, "evaluate conditional criteria", &r, err));
    *n_found = (size_t)PQntuples(r);
    if (*n_found > 0) {
        bool ok = st_col_i64(r, 0, 0, pk) && st_col_i64(r, 0, 2, &v) && v > 0 && v <= UINT32_MAX &&
                  st_col_i64(r, 0, 5, updated);

        *id = st_col(a, r, 0, 1);
        *version = (uint32_t)v;
        *deleted = PQgetvalue(r, 0, 3)[0] == 't';
        copy_hash(hash, PQgetvalue(r, 0, 4));
        if (!ok || *id == NULL) {
            PQclear(r);
            return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "unexpected row");
        }
    }
    PQclear(r);
    return BASE_OK;
}
