/*
 * Evaluating a parsed search against one resource.  Each clause extracts
 * the parameter's index values (extract.c, the same values the store
 * indexes) and compares them with the clause's values: a clause holds when
 * any value (OR) matches any index value; the search holds when every
 * clause (AND) does.  :missing and :not look at the whole set instead.
 */
#include "fhir/search/search_int.h"

#include <string.h>
#include <time.h>

struct mctx {
    const struct fhir_search_clause *c;
    const struct fhir_search_match_opts *opt;
    struct base_arena *a;
    int64_t now;
};

static bool
str_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static bool
starts_with(const char *s, const char *prefix)
{
    return s != NULL && prefix != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- date (R4 §3.1.1.4.1 prefix table, on [low, high) ranges) ------------- */

static bool
date_holds(const struct mctx *m, enum fhir_search_prefix p, int64_t sl, int64_t sh, int64_t tl,
           int64_t th)
{
    bool contains = sl <= tl && th <= sh;

    switch (p) {
    case FHIR_SEARCH_EQ:
        return contains;
    case FHIR_SEARCH_NE:
        return !contains;
    case FHIR_SEARCH_GT:
        return th > sh;
    case FHIR_SEARCH_LT:
        return tl < sl;
    case FHIR_SEARCH_GE:
        return th > sh || contains;
    case FHIR_SEARCH_LE:
        return tl < sl || contains;
    case FHIR_SEARCH_SA:
        return tl >= sh;
    case FHIR_SEARCH_EB:
        return th <= sl;
    case FHIR_SEARCH_AP: {
        /* "Approximately": the search range widened by 10% of the distance
         * between now and the value (the R4 recommendation), overlapping. */
        int64_t dist = m->now > sl ? m->now - sl : sl - m->now;
        int64_t gap = dist / 10;

        return tl < sh + gap && th > sl - gap;
    }
    default:
        return false;
    }
}

/* ---- number and quantity ---------------------------------------------------- */

static int
dcmp(struct fhir_search_dec a, struct fhir_search_dec b)
{
    return fhir_search_dec_cmp(a, b);
}

/* eq/ne use the implicit precision range of the search value; the order
 * prefixes compare with the exact value ("lt100: less than exactly 100"). */
static bool
number_holds(const struct fhir_search_value *v, const struct fhir_search_index *t)
{
    struct fhir_search_dec val = v->u.quantity.value;
    struct fhir_search_dec tl = t->u.quantity.low;
    struct fhir_search_dec th = t->u.quantity.high;
    bool lo_open = t->u.quantity.low_open;
    bool hi_open = t->u.quantity.high_open;
    bool contains = !lo_open && !hi_open && dcmp(v->u.quantity.low, tl) <= 0 &&
                    dcmp(th, v->u.quantity.high) < 0;

    switch (v->prefix) {
    case FHIR_SEARCH_EQ:
        return contains;
    case FHIR_SEARCH_NE:
        return !contains;
    case FHIR_SEARCH_GT:
        return hi_open || dcmp(th, val) > 0;
    case FHIR_SEARCH_LT:
        return lo_open || dcmp(tl, val) < 0;
    case FHIR_SEARCH_GE:
        return hi_open || dcmp(th, val) >= 0;
    case FHIR_SEARCH_LE:
        return lo_open || dcmp(tl, val) <= 0;
    case FHIR_SEARCH_SA:
        return !lo_open && dcmp(tl, val) > 0;
    case FHIR_SEARCH_EB:
        return !hi_open && dcmp(th, val) < 0;
    case FHIR_SEARCH_AP: {
        struct fhir_search_dec al;
        struct fhir_search_dec ah;

        sp_dec_approx_range(val, &al, &ah);
        return (lo_open || dcmp(tl, ah) <= 0) && (hi_open || dcmp(th, al) >= 0);
    }
    default:
        return false;
    }
}

/* R4 §3.1.1.4.8: with system and code both must match; a code alone
 * matches the unit code or the human unit. */
static bool
units_hold(const struct fhir_search_value *v, const struct fhir_search_index *t)
{
    if (v->u.quantity.code == NULL)
        return true;
    if (v->u.quantity.system != NULL)
        return str_eq(t->u.quantity.system, v->u.quantity.system) &&
               str_eq(t->u.quantity.code, v->u.quantity.code);
    return str_eq(t->u.quantity.code, v->u.quantity.code) ||
           str_eq(t->u.quantity.unit, v->u.quantity.code);
}

/* ---- token ------------------------------------------------------------------ */

static bool
token_parts_hold(enum fhir_search_token_form form, const char *vsys, const char *vcode,
                 const char *tsys, const char *tcode)
{
    switch (form) {
    case FHIR_SEARCH_TOKEN_CODE:
        return str_eq(tcode, vcode);
    case FHIR_SEARCH_TOKEN_SYSTEM_CODE:
        return str_eq(tsys, vsys) && str_eq(tcode, vcode);
    case FHIR_SEARCH_TOKEN_NO_SYSTEM:
        return tsys == NULL && str_eq(tcode, vcode);
    case FHIR_SEARCH_TOKEN_SYSTEM_ANY:
        return str_eq(tsys, vsys);
    default:
        return false;
    }
}

static bool
of_type_holds(const struct fhir_search_value *v, const struct fhir_search_index *t)
{
    const json_t *codings = json_object_get(json_object_get(t->node, "type"), "coding");

    if (!str_eq(t->u.token.code, v->u.token.code) || json_object_get(t->node, "value") == NULL)
        return false;
    for (size_t i = 0; i < json_array_size(codings); i++) {
        const json_t *c = json_array_get(codings, i);

        if (str_eq(sp_get_str(c, "system"), v->u.token.type_system) &&
            str_eq(sp_get_str(c, "code"), v->u.token.type_code))
            return true;
    }
    return false;
}

static int
token_holds(const struct mctx *m, const struct fhir_search_value *v,
            const struct fhir_search_index *t, bool *out)
{
    switch (m->c->modifier) {
    case FHIR_SEARCH_MOD_TEXT: {
        /* R4: :text matches the display / CodeableConcept.text / type.text
         * the way a string parameter does. */
        const char *norm = t->u.token.text == NULL ? NULL
                                                   : fhir_search_normalize(m->a, t->u.token.text,
                                                                           strlen(t->u.token.text));

        if (t->u.token.text != NULL && norm == NULL)
            return BASE_E_NOMEM;
        *out = starts_with(norm, v->u.string.norm);
        return BASE_OK;
    }
    case FHIR_SEARCH_MOD_OF_TYPE:
        *out = of_type_holds(v, t);
        return BASE_OK;
    default:
        *out = token_parts_hold(v->u.token.form, v->u.token.system, v->u.token.code,
                                t->u.token.system, t->u.token.code);
        return BASE_OK;
    }
}

/* ---- reference ------------------------------------------------------------ */

/* The part of an absolute URL under this server's base ("Patient/1"), or
 * NULL when it points elsewhere. */
static const char *
under_base(const struct mctx *m, const char *url)
{
    size_t n;

    if (url == NULL || m->opt == NULL || m->opt->base_url == NULL)
        return NULL;
    n = strlen(m->opt->base_url);
    while (n > 0 && m->opt->base_url[n - 1] == '/')
        n--;
    if (n == 0 || strncmp(url, m->opt->base_url, n) != 0 || url[n] != '/')
        return NULL;
    return url + n + 1;
}

static bool
local_ref_holds(const struct mctx *m, const char *type, const char *id, const char *version,
                const struct fhir_search_index *t)
{
    /* A target that is an absolute URL off this server is another resource. */
    if (t->u.reference.url != NULL && under_base(m, t->u.reference.url) == NULL)
        return false;
    return str_eq(t->u.reference.id, id) && (type == NULL || str_eq(t->u.reference.type, type)) &&
           (version == NULL || str_eq(t->u.reference.version, version));
}

static bool
reference_holds(const struct mctx *m, const struct fhir_search_value *v,
                const struct fhir_search_index *t)
{
    const char *local;

    if (m->c->modifier == FHIR_SEARCH_MOD_IDENTIFIER)
        return token_parts_hold(v->u.token.form, v->u.token.system, v->u.token.code,
                                t->u.reference.id_system, t->u.reference.id_value);
    if (v->u.reference.url == NULL)
        return local_ref_holds(m, v->u.reference.type, v->u.reference.id, v->u.reference.version,
                               t);
    local = under_base(m, v->u.reference.url);
    if (local != NULL) {
        const char *slash = strchr(local, '/');

        if (slash != NULL && strchr(slash + 1, '/') == NULL && t->u.reference.type != NULL &&
            strncmp(local, t->u.reference.type, (size_t)(slash - local)) == 0 &&
            t->u.reference.type[slash - local] == '\0' &&
            local_ref_holds(m, NULL, slash + 1, NULL, t))
            return true;
    }
    return str_eq(t->u.reference.url, v->u.reference.url) &&
           (v->u.reference.version == NULL ||
            str_eq(t->u.reference.version, v->u.reference.version));
}

/* ---- one value against one index value ------------------------------------ */

static int
value_holds(const struct mctx *m, const struct fhir_search_value *v,
            const struct fhir_search_index *t, bool *out)
{
    switch (m->c->def->type) {
    case FHIR_SEARCH_TOKEN:
        return token_holds(m, v, t, out);
    case FHIR_SEARCH_STRING:
        if (m->c->modifier == FHIR_SEARCH_MOD_EXACT)
            *out = str_eq(t->u.string.value, v->text);
        else if (m->c->modifier == FHIR_SEARCH_MOD_CONTAINS)
            *out = strstr(t->u.string.norm, v->u.string.norm) != NULL;
        else
            *out = starts_with(t->u.string.norm, v->u.string.norm);
        return BASE_OK;
    case FHIR_SEARCH_DATE:
        *out =
            date_holds(m, v->prefix, v->u.date.low, v->u.date.high, t->u.date.low, t->u.date.high);
        return BASE_OK;
    case FHIR_SEARCH_NUMBER:
        *out = number_holds(v, t);
        return BASE_OK;
    case FHIR_SEARCH_QUANTITY:
        *out = units_hold(v, t) && number_holds(v, t);
        return BASE_OK;
    case FHIR_SEARCH_REFERENCE:
        *out = reference_holds(m, v, t);
        return BASE_OK;
    case FHIR_SEARCH_URI:
        if (m->c->modifier == FHIR_SEARCH_MOD_ABOVE)
            *out = starts_with(v->text, t->u.uri.value);
        else if (m->c->modifier == FHIR_SEARCH_MOD_BELOW)
            *out = starts_with(t->u.uri.value, v->text);
        else
            *out = str_eq(t->u.uri.value, v->text);
        return BASE_OK;
    default:
        return BASE_E_INTERNAL;
    }
}

static int
any_holds(const struct mctx *m, const struct fhir_search_index *t, size_t nt, bool *out)
{
    *out = false;
    for (size_t i = 0; i < m->c->n_values; i++) {
        for (size_t k = 0; k < nt; k++) {
            TRY(value_holds(m, &m->c->values[i], &t[k], out));
            if (*out)
                return BASE_OK;
        }
    }
    return BASE_OK;
}

static int64_t
now_us(const struct fhir_search_match_opts *opt)
{
    struct timespec ts;

    if (opt != NULL && opt->now_us != 0)
        return opt->now_us;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
fhir_search_match_clause(const struct fhir_search_clause *c, const json_t *resource,
                         const struct fhir_search_match_opts *opt, struct base_arena *scratch,
                         bool *out, struct base_err *err)
{
    struct base_arena *a = base_arena_child(scratch, 0);
    struct mctx m = {c, opt, a, now_us(opt)};
    struct fhir_search_index *t = NULL;
    size_t nt = 0;
    int rc;

    *out = false;
    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rc = fhir_search_extract(a, resource, c->def, &t, &nt, err);
    if (rc == BASE_OK && c->modifier == FHIR_SEARCH_MOD_MISSING) {
        for (size_t i = 0; i < c->n_values; i++)
            *out = *out || (nt == 0) == c->values[i].u.missing;
    } else if (rc == BASE_OK) {
        rc = any_holds(&m, t, nt, out);
        /* R4 :not: resources with no matching value, including none at all. */
        if (rc == BASE_OK && c->modifier == FHIR_SEARCH_MOD_NOT)
            *out = !*out;
        if (rc != BASE_OK)
            rc = base_err_set(err, rc, "exception", c->name, "matching failed");
    }
    base_arena_free(a);
    return rc;
}

int
fhir_search_match(const struct fhir_search *s, const json_t *resource,
                  const struct fhir_search_match_opts *opt, struct base_arena *scratch, bool *out,
                  struct base_err *err)
{
    const char *rt = sp_get_str(resource, "resourceType");

    *out = false;
    ENSURE(s != NULL && rt != NULL, err, BASE_E_INVALID, "invalid", "resourceType",
           "not a resource");
    if (strcmp(rt, s->resource_type) != 0)
        return BASE_OK;
    for (size_t i = 0; i < s->n_clauses; i++) {
        bool ok;

        TRY(fhir_search_match_clause(&s->clauses[i], resource, opt, scratch, &ok, err));
        if (!ok)
            return BASE_OK;
    }
    *out = true;
    return BASE_OK;
}
