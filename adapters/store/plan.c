/*
 * Reading a transaction Bundle into a plan, before any database work
 * (FHIR R4 §3.1.0.11.2 "Transaction Processing Rules", §3.1.0.4.3
 * conditional update, §3.1.0.5.4 conditional create).  Every refusal names
 * the entry and element; nothing is quoted from the Bundle.
 */
#include "adapters/store/store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"

struct pctx {
    struct base_arena *a;
    const struct adapter_store_opts *o;
    struct base_err *err;
    int *status;
    size_t index;
};

BASE_PRINTF(5, 6)
static int
refuse(struct pctx *c, int status, const char *issue, const char *elem, const char *fmt, ...)
{
    char where[128];
    char msg[160];
    va_list ap;

    snprintf(where, sizeof(where), "Bundle.entry[%zu]%s%s", c->index, elem[0] != '\0' ? "." : "",
             elem);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    *c->status = status;
    return base_err_set(c->err, BASE_E_INVALID, issue, where, "%s", msg);
}

static const char *
get_str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return fhir_json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- conditional criteria --------------------------------------------------------- */

/* A one-value identifier query: served by the identifier table. */
static bool
identifier_query(const struct fhir_search *s, struct st_entry *e)
{
    const struct fhir_search_clause *cl = &s->clauses[0];
    const struct fhir_search_value *v;

    if (s->n_clauses != 1 || strcmp(cl->def->name, "identifier") != 0 ||
        cl->def->type != FHIR_SEARCH_TOKEN || cl->modifier != FHIR_SEARCH_MOD_NONE ||
        cl->n_values != 1)
        return false;
    v = &cl->values[0];
    switch (v->u.token.form) {
    case FHIR_SEARCH_TOKEN_CODE:
        e->iq_form = 'c';
        break;
    case FHIR_SEARCH_TOKEN_SYSTEM_CODE:
        e->iq_form = 's';
        break;
    case FHIR_SEARCH_TOKEN_NO_SYSTEM:
        e->iq_form = 'n';
        break;
    default:
        return false;
    }
    e->iq_system = v->u.token.system;
    e->iq_value = v->u.token.code;
    return e->iq_value != NULL;
}

int
st_parse_criteria(struct base_arena *a, const char *type, const char *criteria, const char *where,
                  struct st_entry *e, struct base_err *err)
{
    bool known = fhir_search_resource_known(type);
    struct base_err perr = {0};
    struct fhir_search *s = NULL;
    int rc;

    /* Types outside the parameter table have no search parameters, but
     * every resource's identifier is in store.identifier: parse such
     * criteria with a type whose `identifier` is a plain token. */
    rc =
        fhir_search_parse(a, known ? type : "Patient", criteria, strlen(criteria), NULL, &s, &perr);
    if (rc != BASE_OK)
        return base_err_set(err, rc, perr.issue_code, where, "conditional criteria: %s (%s)",
                            perr.msg, perr.where);
    ENSURE(s->n_clauses > 0, err, BASE_E_INVALID, "invalid", where,
           "conditional criteria select no parameter");
    ENSURE(s->n_includes == 0, err, BASE_E_INVALID, "not-supported", where,
           "conditional criteria cannot include resources");
    e->criteria = criteria;
    e->search = s;
    if (identifier_query(s, e)) {
        e->find = ST_FIND_IDENTIFIER;
        return BASE_OK;
    }
    ENSURE(known, err, BASE_E_INVALID, "not-supported", where,
           "conditional criteria on this resource type support one identifier only");
    e->find = ST_FIND_SEARCH;
    return BASE_OK;
}

/* ---- one entry -------------------------------------------------------------------- */

/* ifMatch: W/"3" or "3" (R4 §3.1.0.4.4 version aware updates). */
static bool
parse_if_match(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    size_t n;
    char digits[16];

    if (strncmp(s, "W/", 2) == 0)
        s += 2;
    n = strlen(s);
    if (n < 3 || n > 12 || s[0] != '"' || s[n - 1] != '"')
        return false;
    memcpy(digits, s + 1, n - 2);
    digits[n - 2] = '\0';
    if (!st_parse_u64(digits, &v) || v == 0 || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

static int
parse_method(struct pctx *c, const char *m, struct st_entry *e)
{
    if (m == NULL)
        return refuse(c, 400, "required", "request.method", "request.method is required");
    if (strcmp(m, "POST") == 0)
        e->method = ST_POST;
    else if (strcmp(m, "PUT") == 0)
        e->method = ST_PUT;
    else if (strcmp(m, "DELETE") == 0)
        e->method = ST_DELETE;
    else
        return refuse(c, 400, "not-supported", "request.method",
                      "only POST, PUT and DELETE entries are supported");
    return BASE_OK;
}

/* request.url: "Type", "Type/id" or "Type?criteria", relative or under
 * this server's base. */
static int
parse_url(struct pctx *c, const char *url, struct st_entry *e)
{
    const char *base = c->o != NULL ? c->o->base_url : NULL;
    size_t blen = base != NULL ? strlen(base) : 0;
    size_t tlen;
    const char *rest;

    if (url == NULL)
        return refuse(c, 400, "required", "request.url", "request.url is required");
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    if (blen > 0 && strncmp(url, base, blen) == 0 && url[blen] == '/')
        url += blen + 1;
    tlen = strcspn(url, "/?");
    if (!st_type_ok(url, tlen))
        return refuse(c, 400, "invalid", "request.url", "request.url must start with a type");
    e->type = base_arena_strndup(c->a, url, tlen);
    rest = url + tlen;
    if (rest[0] == '/') {
        if (!adapter_store_id_ok(rest + 1, strlen(rest + 1)))
            return refuse(c, 400, "invalid", "request.url", "request.url has a malformed id");
        e->url_id = base_arena_strdup(c->a, rest + 1);
        e->find = ST_FIND_ID;
    } else if (rest[0] == '?') {
        e->criteria = base_arena_strdup(c->a, rest + 1);
        if (e->criteria == NULL)
            return BASE_E_NOMEM;
    }
    return e->type != NULL && (rest[0] != '/' || e->url_id != NULL) ? BASE_OK : BASE_E_NOMEM;
}

static int
take_resource(struct pctx *c, const json_t *entry, struct st_entry *e)
{
    const json_t *res = json_object_get(entry, "resource");
    const char *rt = get_str(res, "resourceType");
    const json_t *id = json_object_get(res, "id");

    if (e->method == ST_DELETE)
        return BASE_OK;
    if (!json_is_object(res))
        return refuse(c, 400, "required", "resource", "a resource is required for POST and PUT");
    if (rt == NULL || strcmp(rt, e->type) != 0)
        return refuse(c, 400, "invalid", "resource.resourceType",
                      "resourceType does not match request.url");
    if (id != NULL) {
        struct base_str s = fhir_json_str(id);

        if (!fhir_json_is_string(id) || !adapter_store_id_ok(s.ptr, s.len))
            return refuse(c, 400, "invalid", "resource.id", "malformed resource id");
        e->res_id = json_string_value(id);
    }
    e->resource = json_deep_copy(res);
    if (e->resource == NULL || fhir_json_tie(c->a, e->resource) != BASE_OK)
        return BASE_E_NOMEM;
    /* keep res_id pointing into our own copy */
    e->res_id = e->res_id != NULL ? get_str(e->resource, "id") : NULL;
    return BASE_OK;
}

/* Which methods may carry which URL shapes. */
static int
check_shape(struct pctx *c, const json_t *request, struct st_entry *e)
{
    const char *ine = get_str(request, "ifNoneExist");
    const char *im = get_str(request, "ifMatch");

    if (e->method == ST_POST && (e->url_id != NULL || e->criteria != NULL))
        return refuse(c, 400, "invalid", "request.url", "a POST names only the type");
    if (e->method != ST_POST && e->url_id == NULL && e->criteria == NULL)
        return refuse(c, 400, "invalid", "request.url", "PUT and DELETE need an id or criteria");
    if (e->method == ST_PUT && e->url_id != NULL && e->res_id != NULL &&
        strcmp(e->url_id, e->res_id) != 0)
        return refuse(c, 400, "invalid", "resource.id", "resource id does not match request.url");
    if (ine != NULL && e->method != ST_POST)
        return refuse(c, 400, "invalid", "request.ifNoneExist", "ifNoneExist applies to POST");
    if (ine != NULL) {
        size_t tlen = strlen(e->type);

        /* R4 says ifNoneExist is the query alone; some senders (the R4
         * example Bundle-xds too) prefix it with "Type?". */
        if (strncmp(ine, e->type, tlen) == 0 && ine[tlen] == '?')
            ine += tlen + 1;
        if ((e->criteria = base_arena_strdup(c->a, ine)) == NULL)
            return BASE_E_NOMEM;
    }
    if (im != NULL && (e->method != ST_PUT || !parse_if_match(im, &e->if_match)))
        return refuse(c, 400, "invalid", "request.ifMatch", "malformed or misplaced ifMatch");
    return BASE_OK;
}

static int
plan_entry(struct pctx *c, const json_t *entry, struct st_entry *e)
{
    const json_t *request = json_object_get(entry, "request");
    char where[128];
    int rc;

    e->index = c->index;
    if (!json_is_object(entry) || !json_is_object(request))
        return refuse(c, 400, "required", "request", "every entry needs a request");
    e->full_url = get_str(entry, "fullUrl");
    TRY(parse_method(c, get_str(request, "method"), e));
    TRY(parse_url(c, get_str(request, "url"), e));
    TRY(take_resource(c, entry, e));
    TRY(check_shape(c, request, e));
    if (e->criteria == NULL)
        return BASE_OK;
    snprintf(where, sizeof(where), "Bundle.entry[%zu].request.%s", c->index,
             e->method == ST_POST ? "ifNoneExist" : "url");
    rc = st_parse_criteria(c->a, e->type, e->criteria, where, e, c->err);
    if (rc != BASE_OK)
        *c->status = 400;
    return rc;
}

/* ---- the Bundle -------------------------------------------------------------------- */

static int
cmp_full_url(const void *x, const void *y)
{
    const struct st_entry *const *a = x;
    const struct st_entry *const *b = y;

    return strcmp((*a)->full_url, (*b)->full_url);
}

/* R4: fullUrl identifies an entry; two entries with one fullUrl are an error. */
static int
check_full_urls(struct pctx *c, struct st_plan *p)
{
    struct st_entry **v = BASE_NEW_N(c->a, struct st_entry *, p->n + 1);
    size_t n = 0;

    if (v == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < p->n; i++) {
        if (p->e[i].full_url != NULL)
            v[n++] = &p->e[i];
    }
    qsort(v, n, sizeof(*v), cmp_full_url);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(v[i - 1]->full_url, v[i]->full_url) == 0) {
            c->index = v[i]->index > v[i - 1]->index ? v[i]->index : v[i - 1]->index;
            return refuse(c, 400, "invalid", "fullUrl", "two entries have the same fullUrl");
        }
    }
    return BASE_OK;
}

int
st_plan_bundle(struct base_arena *a, const struct adapter_store_opts *o, const json_t *bundle,
               struct st_plan *p, int *status, struct base_err *err)
{
    const json_t *entries = json_object_get(bundle, "entry");
    const char *rt = get_str(bundle, "resourceType");
    const char *type = get_str(bundle, "type");
    struct pctx c = {a, o, err, status, 0};
    size_t n = json_array_size(entries);

    memset(p, 0, sizeof(*p));
    p->a = a;
    p->o = o;
    *status = 400;
    ENSURE(rt != NULL && strcmp(rt, "Bundle") == 0, err, BASE_E_INVALID, "invalid",
           "Bundle.resourceType", "not a Bundle");
    ENSURE(type != NULL && strcmp(type, "transaction") == 0, err, BASE_E_INVALID, "not-supported",
           "Bundle.type", "only transaction Bundles are applied");
    ENSURE(entries == NULL || json_is_array(entries), err, BASE_E_INVALID, "structure",
           "Bundle.entry", "entry must be an array");
    ENSURE(n <= BASE_LIMIT_STORE_MAX_ENTRIES, err, BASE_E_LIMIT, "too-costly", "Bundle.entry",
           "too many entries");
    p->e = BASE_NEW_N(a, struct st_entry, n + 1);
    if (p->e == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int rc;

        c.index = i;
        rc = plan_entry(&c, json_array_get(entries, i), &p->e[i]);
        if (rc == BASE_E_NOMEM)
            return base_err_set(err, rc, "exception", NULL, "out of memory");
        if (rc != BASE_OK)
            return rc;
        p->n++;
    }
    *status = 200;
    return check_full_urls(&c, p);
}
