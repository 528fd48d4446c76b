/*
 * Parsing a search query string into struct fhir_search (FHIR R4 §3.1.1).
 *
 * The query arrives as sent: name=value pairs joined by '&', percent-
 * encoded, '+' for space (application/x-www-form-urlencoded, as HTML forms
 * and most clients send it).  A repeated parameter ANDs, a comma inside a
 * value ORs (§3.1.1.3).  Result parameters (§3.1.1.5.x: _count, _sort,
 * _elements, _summary, _total, _include, _revinclude, _format, _pretty)
 * go to their own fields.
 */
#include "fhir/search/search_int.h"
#include "fhir/search/value_int.h"

#include <string.h>

#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"

struct fhir_search_options
fhir_search_options_default(void)
{
    struct fhir_search_options o = {
        .handling = FHIR_SEARCH_STRICT,
        .max_query = BASE_LIMIT_SEARCH_MAX_QUERY,
        .max_params = BASE_LIMIT_SEARCH_MAX_PARAMS,
        .max_param_len = BASE_LIMIT_SEARCH_MAX_PARAM_LEN,
        .max_or_values = BASE_LIMIT_SEARCH_MAX_OR_VALUES,
        .default_count = BASE_LIMIT_SEARCH_DEFAULT_COUNT,
        .max_count = BASE_LIMIT_SEARCH_MAX_COUNT,
    };

    return o;
}

enum fhir_search_handling
fhir_search_handling_from_prefer(const char *prefer, enum fhir_search_handling dflt)
{
    const char *h = prefer != NULL ? strstr(prefer, "handling=") : NULL;

    if (h == NULL)
        return dflt;
    h += strlen("handling=");
    if (strncmp(h, "strict", 6) == 0)
        return FHIR_SEARCH_STRICT;
    if (strncmp(h, "lenient", 7) == 0)
        return FHIR_SEARCH_LENIENT;
    return dflt;
}

/* ---- decoding ------------------------------------------------------------ */

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode; the result must be UTF-8 without NUL. */
static char *
pct_decode(struct base_arena *a, struct base_str in, size_t *out_len)
{
    char *out = base_arena_alloc(a, in.len + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi;
            int lo;

            if (in.len - i < 3)
                return NULL;
            hi = hexval(in.ptr[i + 1]);
            lo = hexval(in.ptr[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return NULL;
        out[o++] = c;
    }
    out[o] = '\0';
    if (!base_utf8_valid(out, o, NULL))
        return NULL;
    *out_len = o;
    return out;
}

/* ---- parser state ----------------------------------------------------------- */

struct qp {
    struct base_arena *a;
    struct base_err *err;
    const struct fhir_search_options *opt;
    struct fhir_search *s;
    size_t cap_clauses;
    size_t cap_warnings;
    unsigned seen; /* result parameters already given (bit per kind) */
};

/* A parameter name fit for an error location or warning: names are not
 * patient data, but only a plain one is echoed. */
static const char *
safe_name(struct base_arena *a, struct base_str name)
{
    if (name.len == 0 || name.len > 64)
        return "(unprintable)";
    for (size_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':'))
            return "(unprintable)";
    }
    return sp_dup(a, name);
}

/* Unknown or unsupported: an error when strict, a warning when lenient. */
static int
unsupported(struct qp *q, const char *name, const char *why)
{
    struct fhir_search_warning *w;

    if (q->opt->handling == FHIR_SEARCH_STRICT)
        return base_err_set(q->err, BASE_E_INVALID, "not-supported", name, "%s", why);
    if (q->s->n_warnings == q->cap_warnings) {
        size_t ncap = q->cap_warnings == 0 ? 4 : q->cap_warnings * 2;
        w = base_arena_grow(q->a, q->s->warnings, q->s->n_warnings, ncap, sizeof(*w));
        if (w == NULL)
            return BASE_E_NOMEM;
        q->s->warnings = w;
        q->cap_warnings = ncap;
    }
    w = &q->s->warnings[q->s->n_warnings++];
    w->param = name;
    w->msg = why;
    return BASE_OK;
}

static int
bad(struct qp *q, const char *where, const char *code, const char *why)
{
    return base_err_set(q->err, BASE_E_INVALID, code, where, "%s", why);
}

/* ---- result parameters -------------------------------------------------------- */

enum rp_kind {
    RP_COUNT,
    RP_OFFSET,
    RP_CURSOR,
    RP_SORT,
    RP_ELEMENTS,
    RP_SUMMARY,
    RP_TOTAL,
    RP_FORMAT,
    RP_PRETTY,
    RP_INCLUDE,
    RP_REVINCLUDE,
    RP_NONE
};

static const char *const rp_names[] = {"_count",    "_offset",  "_cursor",    "_sort",
                                       "_elements", "_summary", "_total",     "_format",
                                       "_pretty",   "_include", "_revinclude"};

static enum rp_kind
rp_kind_of(struct base_str base)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(rp_names); i++) {
        if (base_str_eq_cstr(base, rp_names[i]))
            return (enum rp_kind)i;
    }
    return RP_NONE;
}

static bool
is_word(struct base_str s, bool allow_dash)
{
    if (s.len == 0 || s.len > 64)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (allow_dash && (c == '-' || c == '.'))))
            return false;
    }
    return true;
}

static int
rp_count(struct qp *q, const char *where, struct base_str v)
{
    uint64_t n;

    if (v.len == 0 || v.len > 10 || v.ptr[0] == '+' || v.ptr[0] == '-' || !base_str_to_u64(v, &n))
        return bad(q, where, "value", "_count must be a non-negative integer");
    q->s->count_given = true;
    if (n > q->opt->max_count) {
        n = q->opt->max_count;
        q->s->count_capped = true;
    }
    q->s->count = (uint32_t)n;
    return BASE_OK;
}

static int
rp_offset(struct qp *q, const char *where, struct base_str v)
{
    if (v.len == 0 || v.len > 19 || v.ptr[0] == '+' || v.ptr[0] == '-' ||
        !base_str_to_u64(v, &q->s->offset))
        return bad(q, where, "value", "_offset must be a non-negative integer");
    return BASE_OK;
}

static int
rp_cursor(struct qp *q, const char *where, struct base_str v)
{
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '~'))
            return bad(q, where, "value", "malformed paging cursor");
    }
    if (v.len == 0)
        return bad(q, where, "value", "malformed paging cursor");
    q->s->cursor = sp_dup(q->a, v);
    return q->s->cursor != NULL ? BASE_OK : BASE_E_NOMEM;
}

static int
rp_sort(struct qp *q, const char *where, struct base_str v)
{
    struct base_str keys[BASE_LIMIT_SEARCH_MAX_SORT_KEYS];
    size_t n = sp_split(v, ',', keys, BASE_ARRAY_LEN(keys));

    if (n > BASE_ARRAY_LEN(keys))
        return base_err_set(q->err, BASE_E_LIMIT, "too-costly", where, "too many sort keys");
    q->s->sort = BASE_NEW_N(q->a, struct fhir_search_sort_key, n);
    if (q->s->sort == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        struct base_str k = keys[i];
        bool desc = k.len > 0 && k.ptr[0] == '-';
        const struct fhir_search_param_def *def;

        if (desc)
            k = base_str_sub(k, 1, k.len - 1);
        if (!is_word(k, true))
            return bad(q, where, "value", "malformed sort key");
        def = fhir_search_param_find(q->s->resource_type, k.ptr, k.len);
        if (def == NULL) {
            TRY(unsupported(q, where, "unknown search parameter in _sort"));
            continue;
        }
        q->s->sort[q->s->n_sort].def = def;
        q->s->sort[q->s->n_sort++].desc = desc;
    }
    return BASE_OK;
}

static int
rp_elements(struct qp *q, const char *where, struct base_str v)
{
    struct base_str names[BASE_LIMIT_SEARCH_MAX_ELEMENTS];
    size_t n = sp_split(v, ',', names, BASE_ARRAY_LEN(names));

    if (n > BASE_ARRAY_LEN(names))
        return base_err_set(q->err, BASE_E_LIMIT, "too-costly", where, "too many elements");
    q->s->elements = BASE_NEW_N(q->a, const char *, n);
    if (q->s->elements == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!is_word(names[i], true))
            return bad(q, where, "value", "malformed element name");
        if ((q->s->elements[i] = sp_dup(q->a, names[i])) == NULL)
            return BASE_E_NOMEM;
    }
    q->s->n_elements = n;
    return BASE_OK;
}

static int
rp_enum(struct qp *q, const char *where, struct base_str v, const char *const *names, size_t n,
        int *out)
{
    for (size_t i = 0; i < n; i++) {
        if (base_str_eq_cstr(v, names[i])) {
            *out = (int)i;
            return BASE_OK;
        }
    }
    return bad(q, where, "value", "value is not one of the allowed codes");
}

/* _include / _revinclude: "*" or Source:param[:Target] (R4 §3.1.1.5.4). */
static int
rp_include(struct qp *q, const char *where, struct base_str mod, struct base_str v, bool rev)
{
    struct fhir_search_include *inc;
    struct base_str parts[4];
    size_t n = sp_split(v, ':', parts, 3);

    if (q->s->n_includes == BASE_LIMIT_SEARCH_MAX_INCLUDES)
        return base_err_set(q->err, BASE_E_LIMIT, "too-costly", where, "too many includes");
    if (mod.len > 0 && !base_str_eq_cstr(mod, "iterate") && !base_str_eq_cstr(mod, "recurse"))
        return bad(q, where, "invalid", "unknown modifier");
    if (q->s->n_includes == 0) {
        q->s->includes =
            BASE_NEW_N(q->a, struct fhir_search_include, BASE_LIMIT_SEARCH_MAX_INCLUDES);
        if (q->s->includes == NULL)
            return BASE_E_NOMEM;
    }
    inc = &q->s->includes[q->s->n_includes];
    inc->rev = rev;
    inc->iterate = mod.len > 0;
    if (base_str_eq_cstr(v, "*")) {
        inc->wildcard = true;
    } else {
        if (n < 2 || n > 3 || !sp_is_type_name(parts[0]) ||
            (!is_word(parts[1], true) && !base_str_eq_cstr(parts[1], "*")) ||
            (n == 3 && !sp_is_type_name(parts[2])))
            return bad(q, where, "value", "include must be Type:param[:Target] or *");
        inc->source_type = sp_dup(q->a, parts[0]);
        inc->param = sp_dup(q->a, parts[1]);
        inc->target_type = n == 3 ? sp_dup(q->a, parts[2]) : NULL;
        if (inc->source_type == NULL || inc->param == NULL || (n == 3 && !inc->target_type))
            return BASE_E_NOMEM;
    }
    q->s->n_includes++;
    return BASE_OK;
}

static int
result_param(struct qp *q, enum rp_kind k, const char *where, struct base_str mod,
             struct base_str v)
{
    static const char *const summary[] = {"", "true", "text", "data", "count", "false"};
    static const char *const total[] = {"", "none", "estimate", "accurate"};
    static const char *const boolean[] = {"false", "true"};
    int e = 0;

    if (k != RP_INCLUDE && k != RP_REVINCLUDE) {
        if (mod.len > 0)
            return bad(q, where, "invalid", "result parameters take no modifier");
        if ((q->seen & (1u << k)) != 0)
            return bad(q, where, "invalid", "parameter may appear only once");
        q->seen |= 1u << k;
    }
    switch (k) {
    case RP_COUNT:
        return rp_count(q, where, v);
    case RP_OFFSET:
        return rp_offset(q, where, v);
    case RP_CURSOR:
        return rp_cursor(q, where, v);
    case RP_SORT:
        return rp_sort(q, where, v);
    case RP_ELEMENTS:
        return rp_elements(q, where, v);
    case RP_SUMMARY:
        TRY(rp_enum(q, where, v, summary + 1, BASE_ARRAY_LEN(summary) - 1, &e));
        q->s->summary = (enum fhir_search_summary)(e + 1);
        return BASE_OK;
    case RP_TOTAL:
        TRY(rp_enum(q, where, v, total + 1, BASE_ARRAY_LEN(total) - 1, &e));
        q->s->total = (enum fhir_search_total)(e + 1);
        return BASE_OK;
    case RP_FORMAT:
        if (v.len == 0 || v.len > 100)
            return bad(q, where, "value", "malformed format");
        q->s->format = sp_dup(q->a, v);
        return q->s->format != NULL ? BASE_OK : BASE_E_NOMEM;
    case RP_PRETTY:
        TRY(rp_enum(q, where, v, boolean, 2, &e));
        q->s->pretty = e;
        return BASE_OK;
    case RP_INCLUDE:
    case RP_REVINCLUDE:
        return rp_include(q, where, mod, v, k == RP_REVINCLUDE);
    default:
        return base_err_set(q->err, BASE_E_INTERNAL, "exception", where, "unhandled parameter");
    }
}

/* ---- search parameters ----------------------------------------------------- */

static const char *const mod_names[] = {"",      "exact", "contains",   "missing", "not",    "text",
                                        "above", "below", "identifier", "",        "of-type"};

/* Which modifiers a search type takes (R4 §3.1.1.5.5 table). */
static int
check_modifier(struct qp *q, const char *where, const struct fhir_search_param_def *def,
               struct base_str mod, enum fhir_search_modifier *out, const char **mtype)
{
    enum fhir_search_type t = def->type;

    *out = FHIR_SEARCH_MOD_NONE;
    *mtype = NULL;
    if (mod.len == 0)
        return BASE_OK;
    if (t == FHIR_SEARCH_REFERENCE && sp_is_type_name(mod)) {
        if (!fhir_search_param_allows_target(def, mod.ptr, mod.len))
            return bad(q, where, "invalid", "resource type is not a target of this parameter");
        *out = FHIR_SEARCH_MOD_TYPE;
        *mtype = sp_dup(q->a, mod);
        return *mtype != NULL ? BASE_OK : BASE_E_NOMEM;
    }
    if (base_str_eq_cstr(mod, "in") || base_str_eq_cstr(mod, "not-in") ||
        ((t == FHIR_SEARCH_TOKEN || t == FHIR_SEARCH_REFERENCE) &&
         (base_str_eq_cstr(mod, "above") || base_str_eq_cstr(mod, "below"))))
        return base_err_set(q->err, BASE_E_INVALID, "not-supported", where,
                            "modifier needs terminology services and is not supported");
    for (size_t i = 1; i < BASE_ARRAY_LEN(mod_names); i++) {
        if (mod_names[i][0] != '\0' && base_str_eq_cstr(mod, mod_names[i]))
            *out = (enum fhir_search_modifier)i;
    }
    switch (*out) {
    case FHIR_SEARCH_MOD_MISSING:
        return BASE_OK;
    case FHIR_SEARCH_MOD_EXACT:
    case FHIR_SEARCH_MOD_CONTAINS:
        return t == FHIR_SEARCH_STRING ? BASE_OK : bad(q, where, "invalid", "modifier not allowed");
    case FHIR_SEARCH_MOD_NOT:
    case FHIR_SEARCH_MOD_TEXT:
    case FHIR_SEARCH_MOD_OF_TYPE:
        return t == FHIR_SEARCH_TOKEN ? BASE_OK : bad(q, where, "invalid", "modifier not allowed");
    case FHIR_SEARCH_MOD_ABOVE:
    case FHIR_SEARCH_MOD_BELOW:
        return t == FHIR_SEARCH_URI ? BASE_OK : bad(q, where, "invalid", "modifier not allowed");
    case FHIR_SEARCH_MOD_IDENTIFIER:
        return t == FHIR_SEARCH_REFERENCE ? BASE_OK
                                          : bad(q, where, "invalid", "modifier not allowed");
    default:
        return bad(q, where, "invalid", "unknown modifier");
    }
}

static int
add_clause(struct qp *q, struct fhir_search_clause **out)
{
    if (q->s->n_clauses == q->cap_clauses) {
        size_t ncap = q->cap_clauses == 0 ? 8 : q->cap_clauses * 2;
        struct fhir_search_clause *nc =
            base_arena_grow(q->a, q->s->clauses, q->s->n_clauses, ncap, sizeof(*nc));

        if (nc == NULL)
            return BASE_E_NOMEM;
        q->s->clauses = nc;
        q->cap_clauses = ncap;
    }
    *out = &q->s->clauses[q->s->n_clauses++];
    memset(*out, 0, sizeof(**out));
    return BASE_OK;
}

static int
search_param(struct qp *q, const char *where, const struct fhir_search_param_def *def,
             struct base_str mod, struct base_str v)
{
    struct fhir_search_clause *c;
    struct base_str *alts;
    size_t n;
    struct sp_vctx vc = {q->a, q->err, where, def, FHIR_SEARCH_MOD_NONE, NULL};

    TRY(check_modifier(q, where, def, mod, &vc.modifier, &vc.modifier_type));
    alts = BASE_NEW_N(q->a, struct base_str, q->opt->max_or_values);
    if (alts == NULL)
        return BASE_E_NOMEM;
    n = sp_split(v, ',', alts, q->opt->max_or_values);
    if (n > q->opt->max_or_values)
        return base_err_set(q->err, BASE_E_LIMIT, "too-costly", where, "too many values");
    TRY(add_clause(q, &c));
    c->def = def;
    c->name = where;
    c->modifier = vc.modifier;
    c->modifier_type = vc.modifier_type;
    c->raw_value = sp_dup(q->a, v);
    c->values = BASE_NEW_N(q->a, struct fhir_search_value, n);
    if (c->values == NULL || c->raw_value == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        TRY(sp_parse_value(&vc, alts[i], &c->values[i]));
    c->n_values = n;
    return BASE_OK;
}

/* Parameters of R4 §3.1.1.4/§3.1.1.5 that this library does not evaluate. */
static bool
is_unsupported_special(struct base_str base)
{
    static const char *const names[] = {"_text",   "_content",   "_list",
                                        "_has",    "_type",      "_query",
                                        "_filter", "_contained", "_containedType"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(names); i++) {
        if (base_str_eq_cstr(base, names[i]))
            return true;
    }
    return false;
}

static int
one_param(struct qp *q, struct base_str name, struct base_str value)
{
    struct base_str base;
    struct base_str mod;
    const char *where = safe_name(q->a, name);
    enum rp_kind k;
    const struct fhir_search_param_def *def;

    if (where == NULL)
        return BASE_E_NOMEM;
    if (value.len > q->opt->max_param_len)
        return base_err_set(q->err, BASE_E_LIMIT, "too-costly", where, "parameter value too long");
    (void)base_str_cut(name, ':', &base, &mod);
    if (base.len == 0)
        return bad(q, "query", "invalid", "parameter without a name");
    k = rp_kind_of(base);
    if (k != RP_NONE)
        return result_param(q, k, where, mod, value);
    if (is_unsupported_special(base))
        return unsupported(q, where, "search parameter not supported");
    if (base_str_find_chr(base, '.', 0) >= 0)
        return unsupported(q, where, "chained search parameters are not supported");
    def = fhir_search_param_find(q->s->resource_type, base.ptr, base.len);
    if (def == NULL)
        return unsupported(q, where, "unknown search parameter");
    return search_param(q, where, def, mod, value);
}

/* Non-empty name=value pairs, counted before any is interpreted so the
 * limit does not depend on which parameter happens to fail first. */
static size_t
count_pairs(struct base_str query)
{
    size_t n = 0;
    size_t len = 0;

    for (size_t i = 0; i <= query.len; i++) {
        if (i < query.len && query.ptr[i] != '&') {
            len++;
            continue;
        }
        n += len > 0;
        len = 0;
    }
    return n;
}

static int
parse_pairs(struct qp *q, struct base_str query)
{
    size_t start = 0;

    if (count_pairs(query) > q->opt->max_params)
        return base_err_set(q->err, BASE_E_LIMIT, "too-costly", "query",
                            "too many search parameters");

    for (size_t i = 0; i <= query.len; i++) {
        struct base_str pair;
        struct base_str rn;
        struct base_str rv;
        char *name;
        char *value;
        size_t nl;
        size_t vl;

        if (i < query.len && query.ptr[i] != '&')
            continue;
        pair = base_str_sub(query, start, i - start);
        start = i + 1;
        if (pair.len == 0)
            continue;
        (void)base_str_cut(pair, '=', &rn, &rv);
        name = pct_decode(q->a, rn, &nl);
        if (name == NULL)
            return bad(q, "query", "invalid", "malformed percent-encoding in a parameter name");
        value = pct_decode(q->a, rv, &vl);
        if (value == NULL)
            return bad(q, safe_name(q->a, base_str_make(name, nl)), "value",
                       "malformed percent-encoding or invalid UTF-8 in a parameter value");
        TRY(one_param(q, base_str_make(name, nl), base_str_make(value, vl)));
    }
    return BASE_OK;
}

int
fhir_search_parse(struct base_arena *a, const char *resource_type, const char *query, size_t len,
                  const struct fhir_search_options *opt, struct fhir_search **out,
                  struct base_err *err)
{
    struct fhir_search_options dflt = fhir_search_options_default();
    struct qp q = {a, err, opt != NULL ? opt : &dflt, NULL, 0, 0, 0};
    int rc;

    *out = NULL;
    ENSURE(fhir_search_resource_known(resource_type), err, BASE_E_INVALID, "not-supported",
           "resourceType", "resource type is not searchable here");
    ENSURE(len <= q.opt->max_query, err, BASE_E_LIMIT, "too-costly", "query",
           "query string too long");
    q.s = BASE_NEW(a, struct fhir_search);
    if (q.s == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    q.s->resource_type = base_arena_strdup(a, resource_type);
    q.s->count = q.opt->default_count;
    q.s->pretty = -1;
    if (q.s->resource_type == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rc = parse_pairs(&q, base_str_make(query != NULL ? query : "", query != NULL ? len : 0));
    if (rc == BASE_E_NOMEM)
        return base_err_set(err, rc, "exception", NULL, "out of memory");
    if (rc != BASE_OK)
        return rc;
    *out = q.s;
    return BASE_OK;
}

int
fhir_search_warnings_to_outcome(const struct fhir_search *s, json_t *oo)
{
    for (size_t i = 0; s != NULL && i < s->n_warnings; i++)
        TRY(fhir_outcome_add(oo, "warning", "not-supported", s->warnings[i].param,
                             s->warnings[i].msg));
    return BASE_OK;
}
