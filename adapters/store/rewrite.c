/*
 * References inside a transaction's resources (FHIR R4 §3.1.0.11.2):
 * every link to an entry's fullUrl (urn:uuid:…, urn:oid:… or an absolute
 * URL) becomes the entry's "Type/id", and conditional references
 * ("Type?criteria") become the one resource they match, in the store or in
 * the Bundle itself.
 *
 * The spec asks for the replacement in Reference.reference, in elements of
 * type uri/url/oid/uuid and in narrative links.  Without type information
 * we rewrite `reference` and `url` members (Reference, Attachment.url) and
 * quoted links in the narrative — not every string: converters put the
 * entry's own urn:uuid into Identifier.value as a business identifier, and
 * that must stay as it is.
 */
#include "adapters/store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"

struct link {
    const char *from; /* fullUrl or conditional reference */
    const char *to;   /* "Type/id" */
};

struct rctx {
    PGconn *c;
    struct st_plan *p;
    struct link *map; /* fullUrls, sorted */
    size_t n_map;
    struct link *cond; /* conditional references resolved so far */
    size_t n_cond;
    size_t cap_cond;
    const struct st_entry *cur;
    int *status;
    struct base_err *err;
};

static int
cmp_link(const void *x, const void *y)
{
    return strcmp(((const struct link *)x)->from, ((const struct link *)y)->from);
}

/* The replacement of s[0..len) (no NUL needed), or NULL. */
static const char *
mapped_n(const struct rctx *r, const char *s, size_t len)
{
    size_t lo = 0;
    size_t hi = r->n_map;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *from = r->map[mid].from;
        int c = strncmp(from, s, len);

        if (c == 0 && from[len] != '\0')
            c = 1;
        if (c == 0)
            return r->map[mid].to;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const char *
mapped(const struct rctx *r, const char *s)
{
    return mapped_n(r, s, strlen(s));
}

static int
build_map(struct rctx *r)
{
    struct st_plan *p = r->p;

    r->map = BASE_NEW_N(p->a, struct link, p->n + 1);
    if (r->map == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < p->n; i++) {
        const struct st_entry *e = &p->e[i];

        if (e->full_url == NULL || e->id == NULL)
            continue;
        r->map[r->n_map].from = e->full_url;
        r->map[r->n_map].to = base_arena_sprintf(p->a, "%s/%s", e->type, e->id);
        if (r->map[r->n_map++].to == NULL)
            return BASE_E_NOMEM;
    }
    qsort(r->map, r->n_map, sizeof(*r->map), cmp_link);
    return BASE_OK;
}

/* ---- conditional references ---------------------------------------------------------- */

static int
refuse(struct rctx *r, int status, const char *issue, const char *msg)
{
    char where[96];

    snprintf(where, sizeof(where), "Bundle.entry[%zu].resource", r->cur->index);
    *r->status = status;
    return base_err_set(r->err, status == 400 ? BASE_E_INVALID : BASE_E_CONFLICT, issue, where,
                        "%s", msg);
}

/* Ids (distinct) of a conditional reference's matches; at most 2 kept. */
struct hits {
    const char *id[2];
    size_t n;
};

static void
hit(struct hits *h, const char *id)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->id[i], id) == 0)
            return;
    }
    if (h->n < 2)
        h->id[h->n] = id;
    h->n++;
}

static bool
ident_holds(const struct st_entry *q, const char *system, const char *value)
{
    if (strcmp(value, q->iq_value) != 0)
        return false;
    if (q->iq_form == 's')
        return system != NULL && strcmp(system, q->iq_system) == 0;
    return q->iq_form == 'c' || system == NULL;
}

/* Entries of the Bundle that the criteria select (they are being written
 * now, so the store cannot know them yet). */
static int
bundle_hits(struct rctx *r, const char *type, const struct st_entry *q, struct hits *h)
{
    for (size_t i = 0; i < r->p->n; i++) {
        const struct st_entry *e = &r->p->e[i];
        bool yes = false;

        if (e->resource == NULL || e->id == NULL || strcmp(e->type, type) != 0)
            continue;
        if (q->find == ST_FIND_IDENTIFIER) {
            const char **sys = NULL;
            const char **val = NULL;
            size_t n = 0;

            TRY(st_identifiers(r->p->a, e->resource, type, &sys, &val, &n, r->err));
            for (size_t k = 0; k < n && !yes; k++)
                yes = ident_holds(q, sys[k], val[k]);
        } else {
            TRY(fhir_search_match(q->search, e->resource, NULL, r->p->a, &yes, r->err));
        }
        if (yes)
            hit(h, e->id);
    }
    return BASE_OK;
}

static int
store_hits_identifier(struct rctx *r, const char *type, const struct st_entry *q, struct hits *h)
{
    char form[2] = {q->iq_form, '\0'};
    struct st_arr a[5];
    const char *params[5];
    PGresult *res = NULL;
    int rc;

    for (size_t i = 0; i < 5; i++)
        st_arr_init(&a[i]);
    st_arr_i64(&a[0], 1);
    st_arr_text(&a[1], type);
    st_arr_text(&a[2], q->iq_system);
    st_arr_text(&a[3], q->iq_value);
    st_arr_text(&a[4], form);
    for (size_t i = 0; i < 5; i++)
        params[i] = st_arr_get(&a[i]);
    rc = st_exec(r->c,
                 "SELECT m.id FROM store.match(NULL, NULL, $1, $2, $3, $4, $5, NULL, NULL, NULL, 0)"
                 " AS m LIMIT 3",
                 5, params, PGRES_TUPLES_OK, "resolve a conditional reference", &res, r->err);
    for (size_t i = 0; i < 5; i++)
        st_arr_fini(&a[i]);
    for (int row = 0; rc == BASE_OK && row < PQntuples(res); row++) {
        const char *id = st_col(r->p->a, res, row, 0);

        if (id == NULL)
            rc = BASE_E_NOMEM;
        else
            hit(h, id);
    }
    PQclear(res);
    return rc;
}

static int
store_hits(struct rctx *r, const char *type, struct st_entry *q, struct hits *h)
{
    size_t n = 0;
    int64_t pk;
    const char *id = NULL;
    uint32_t v;
    bool del;
    int64_t upd;
    char hash[65];

    if (q->find == ST_FIND_IDENTIFIER)
        return store_hits_identifier(r, type, q, h);
    TRY(st_find_search(r->c, r->p->a, q->search, r->p->o, &n, &pk, &id, &v, &del, &upd, hash,
                       r->err));
    if (n > 0)
        hit(h, id);
    if (n > 1)
        h->n++; /* a second one exists: ambiguous whatever the Bundle adds */
    return BASE_OK;
}

static const char *
resolve_conditional(struct rctx *r, const char *ref, int *rc)
{
    size_t tlen = strcspn(ref, "?");
    struct st_entry q;
    struct hits h = {{NULL, NULL}, 0};
    char *type = base_arena_strndup(r->p->a, ref, tlen);
    char where[96];

    memset(&q, 0, sizeof(q));
    snprintf(where, sizeof(where), "Bundle.entry[%zu].resource", r->cur->index);
    if (type == NULL) {
        *rc = BASE_E_NOMEM;
        return NULL;
    }
    *rc = st_parse_criteria(r->p->a, type, ref + tlen + 1, where, &q, r->err);
    if (*rc == BASE_OK)
        *rc = bundle_hits(r, type, &q, &h);
    if (*rc == BASE_OK)
        *rc = store_hits(r, type, &q, &h);
    if (*rc != BASE_OK) {
        *r->status = 400;
        return NULL;
    }
    if (h.n != 1) {
        *rc = refuse(r, 412, h.n == 0 ? "not-found" : "multiple-matches",
                     h.n == 0 ? "a conditional reference matches no resource"
                              : "a conditional reference matches more than one resource");
        return NULL;
    }
    return base_arena_sprintf(r->p->a, "%s/%s", type, h.id[0]);
}

static bool
is_conditional(const char *s)
{
    size_t t = strcspn(s, "?/");

    return s[t] == '?' && st_type_ok(s, t);
}

static const char *
conditional(struct rctx *r, const char *ref, int *rc)
{
    const char *to;

    for (size_t i = 0; i < r->n_cond; i++) {
        if (strcmp(r->cond[i].from, ref) == 0)
            return r->cond[i].to;
    }
    to = resolve_conditional(r, ref, rc);
    if (to == NULL)
        return NULL;
    if (r->n_cond == r->cap_cond) {
        size_t ncap = r->cap_cond == 0 ? 8 : r->cap_cond * 2;
        struct link *nl = base_arena_grow(r->p->a, r->cond, r->n_cond, ncap, sizeof(*nl));

        if (nl == NULL) {
            *rc = BASE_E_NOMEM;
            return NULL;
        }
        r->cond = nl;
        r->cap_cond = ncap;
    }
    r->cond[r->n_cond].from = base_arena_strdup(r->p->a, ref);
    r->cond[r->n_cond++].to = to;
    return to;
}

/* ---- the walk ----------------------------------------------------------------------- */

/* Quoted links to fullUrls in XHTML narrative (href="urn:uuid:…"). */
static int
rewrite_div(struct rctx *r, json_t *div)
{
    const char *text = json_string_value(div);
    struct base_buf b;
    char *out;
    int rc = BASE_OK;

    if (text == NULL || strstr(text, "\"") == NULL)
        return BASE_OK;
    base_buf_init(&b, BASE_LIMIT_FHIR_MAX_STRING);
    for (const char *s = text; rc == BASE_OK && *s != '\0';) {
        const char *q = strchr(s, '"');
        const char *end = q != NULL ? strchr(q + 1, '"') : NULL;
        const char *to = NULL;

        if (end != NULL)
            to = mapped_n(r, q + 1, (size_t)(end - q - 1));
        if (to == NULL) {
            size_t n = end != NULL ? (size_t)(end - s) : strlen(s);

            rc = base_buf_append(&b, s, n);
            s += n;
            continue;
        }
        rc = base_buf_append(&b, s, (size_t)(q - s) + 1);
        if (rc == BASE_OK)
            rc = base_buf_append_cstr(&b, to);
        s = end;
    }
    out = rc == BASE_OK ? base_buf_dup0(&b, r->p->a) : NULL;
    base_buf_fini(&b);
    if (out == NULL)
        return base_err_set(r->err, rc == BASE_OK ? BASE_E_NOMEM : rc, "exception", "text.div",
                            "narrative too large");
    return json_string_set(div, out) == 0 ? BASE_OK : BASE_E_NOMEM;
}

static int walk(struct rctx *r, json_t *v, size_t depth);

static int
rewrite_member(struct rctx *r, const char *key, json_t *v, size_t depth)
{
    const char *s = fhir_json_is_string(v) ? json_string_value(v) : NULL;
    const char *to = NULL;
    int rc = BASE_OK;

    if (s == NULL)
        return walk(r, v, depth + 1);
    if (strcmp(key, "reference") == 0 || strcmp(key, "url") == 0) {
        to = mapped(r, s);
        if (to == NULL && strcmp(key, "reference") == 0 && is_conditional(s))
            to = conditional(r, s, &rc);
    } else if (strcmp(key, "div") == 0) {
        return rewrite_div(r, v);
    }
    if (rc != BASE_OK)
        return rc;
    return to == NULL || json_string_set(v, to) == 0 ? BASE_OK : BASE_E_NOMEM;
}

static int
walk(struct rctx *r, json_t *v, size_t depth)
{
    ENSURE(depth <= BASE_LIMIT_FHIR_MAX_DEPTH, r->err, BASE_E_LIMIT, "too-costly", NULL,
           "resource nested too deeply");
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            TRY(walk(r, json_array_get(v, i), depth + 1));
    } else if (json_is_object(v)) {
        const char *key;
        json_t *child;

        json_object_foreach(v, key, child) TRY(rewrite_member(r, key, child, depth));
    }
    return BASE_OK;
}

int
st_rewrite_references(PGconn *c, struct st_plan *p, int *status, struct base_err *err)
{
    struct rctx r = {c, p, NULL, 0, NULL, 0, 0, NULL, status, err};

    if (build_map(&r) != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < p->n; i++) {
        int rc;

        if (p->e[i].resource == NULL || p->e[i].op == 0)
            continue;
        r.cur = &p->e[i];
        rc = walk(&r, p->e[i].resource, 0);
        if (rc != BASE_OK) {
            if (err == NULL || err->rc == BASE_OK)
                rc = base_err_set(err, rc, "exception", NULL, "out of memory");
            if (*status < 400)
                *status = st_status_of(rc, err);
            return rc;
        }
    }
    return BASE_OK;
}
