/*
 * A parsed search (fhir/search AST) as SQL over the index tables: each
 * clause is one EXISTS over its parameter's rows (the OR of its values),
 * clauses are ANDed.  Every comparison mirrors fhir/search/match.c on the
 * same extracted values (R4 §3.1.1.4 prefixes and modifiers), which the
 * differential test (test/integration/check_store_search.c) checks.
 * Values only ever travel as parameters.
 */
#include "adapters/store/store_int.h"

#include <string.h>
#include <time.h>

#include "fhir/search/fhir_search.h"

/* Characters of a string index's indexed prefix (store.idx_string). */
#define STRING_KEY_CHARS 25

struct cl {
    struct st_sql *q;
    const struct st_compile *cc;
    const struct fhir_search_clause *c;
    struct base_err *err;
};

void
st_compile_init(struct st_compile *cc, struct base_arena *a,
                const struct adapter_store_search_opts *o)
{
    struct timespec ts;
    const char *base = o != NULL ? o->base_url : NULL;
    size_t n = base != NULL ? strlen(base) : 0;

    memset(cc, 0, sizeof(*cc));
    cc->o = o;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    cc->now_us =
        o != NULL && o->now_us != 0 ? o->now_us : (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    while (n > 0 && base[n - 1] == '/')
        n--;
    /* "https://h/fhir/": what an absolute reference to this server starts with. */
    cc->base_slash = n > 0 ? base_arena_sprintf(a, "%.*s/", (int)n, base) : NULL;
}

/* ---- strings ------------------------------------------------------------------------ */

static size_t
utf8_len_at(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

const char *
st_prefix_successor(struct base_arena *a, const char *p)
{
    size_t n = strlen(p);

    /* Drop trailing U+10FFFF (nothing follows it), then increment the last
     * code point, skipping the surrogates UTF-8 cannot carry. */
    while (n > 0) {
        size_t start = n - 1;
        uint32_t cp;
        char enc[4];
        size_t len;
        char *out;

        while (start > 0 && ((unsigned char)p[start] & 0xC0) == 0x80)
            start--;
        len = utf8_len_at((unsigned char)p[start]);
        cp = len == 1   ? (unsigned char)p[start]
             : len == 2 ? (uint32_t)(p[start] & 0x1F)
             : len == 3 ? (uint32_t)(p[start] & 0x0F)
                        : (uint32_t)(p[start] & 0x07);
        for (size_t i = 1; i < len && start + i < n; i++)
            cp = (cp << 6) | ((unsigned char)p[start + i] & 0x3F);
        n = start;
        if (cp >= 0x10FFFF)
            continue;
        cp = cp + 1 == 0xD800 ? 0xE000 : cp + 1;
        len = base_utf8_encode(cp, enc);
        out = base_arena_alloc(a, n + len + 1);
        if (out == NULL)
            return NULL;
        memcpy(out, p, n);
        memcpy(out + n, enc, len);
        out[n + len] = '\0';
        return out;
    }
    return NULL;
}

/* The first STRING_KEY_CHARS characters, as left(norm, 25) in SQL. */
static const char *
string_key(struct base_arena *a, const char *p)
{
    size_t i = 0;

    for (size_t chars = 0; p[i] != '\0' && chars < STRING_KEY_CHARS; chars++)
        i += utf8_len_at((unsigned char)p[i]);
    return base_arena_strndup(a, p, strlen(p) < i ? strlen(p) : i);
}

/* Index range for "norm starts with p" (the caller rechecks exactly). */
static void
string_range(struct st_sql *q, const char *p)
{
    const char *key = string_key(q->a, p);
    const char *up = key != NULL && key[0] != '\0' ? st_prefix_successor(q->a, key) : NULL;

    if (key == NULL || key[0] == '\0') {
        st_sql_add(q, "true");
        return;
    }
    st_sql_add(q, "left(x.norm, 25) >= ");
    st_sql_param(q, key, NULL);
    if (up != NULL) {
        st_sql_add(q, " AND left(x.norm, 25) < ");
        st_sql_param(q, up, NULL);
    }
}

static int
string_value(struct cl *k, const struct fhir_search_value *v)
{
    struct st_sql *q = k->q;
    const char *norm = v->u.string.norm;

    if (k->c->modifier == FHIR_SEARCH_MOD_EXACT) {
        /* value = text implies norm = normalize(text): the index narrows. */
        norm = fhir_search_normalize(q->a, v->text, strlen(v->text));
        if (norm == NULL)
            return BASE_E_NOMEM;
        st_sql_add(q, "(x.value = ");
        st_sql_param(q, v->text, NULL);
        st_sql_add(q, " AND ");
        string_range(q, norm);
        st_sql_add(q, ")");
    } else if (k->c->modifier == FHIR_SEARCH_MOD_CONTAINS) {
        st_sql_add(q, "strpos(x.norm, ");
        st_sql_param(q, norm, NULL);
        st_sql_add(q, ") > 0");
    } else {
        st_sql_add(q, "(");
        string_range(q, norm);
        st_sql_add(q, " AND starts_with(x.norm, ");
        st_sql_param(q, norm, NULL);
        st_sql_add(q, "))");
    }
    return BASE_OK;
}

/* ---- tokens ------------------------------------------------------------------------- */

/* Exact match of an indexed text column through its left(col, 100) index. */
static void
keyed_eq(struct st_sql *q, const char *col, const char *value)
{
    st_sql_add(q, "(left(");
    st_sql_add(q, col);
    st_sql_add(q, ", 100) = left(");
    st_sql_param(q, value, "::text");
    st_sql_add(q, ", 100) AND ");
    st_sql_add(q, col);
    st_sql_add(q, " = ");
    st_sql_param(q, value, NULL);
    st_sql_add(q, ")");
}

static void
eq_col(struct st_sql *q, const char *col, const char *value)
{
    st_sql_add(q, col);
    st_sql_add(q, " = ");
    st_sql_param(q, value, NULL);
}

/* system|code forms over a (system, code) column pair. */
static void
token_parts(struct st_sql *q, enum fhir_search_token_form form, const char *sys, const char *code,
            const char *sys_col, const char *code_col)
{
    if (form != FHIR_SEARCH_TOKEN_SYSTEM_ANY && code == NULL) {
        st_sql_add(q, "false");
        return;
    }
    switch (form) {
    case FHIR_SEARCH_TOKEN_CODE:
        keyed_eq(q, code_col, code);
        break;
    case FHIR_SEARCH_TOKEN_SYSTEM_CODE:
        st_sql_add(q, "(");
        keyed_eq(q, code_col, code);
        st_sql_add(q, " AND ");
        eq_col(q, sys_col, sys);
        st_sql_add(q, ")");
        break;
    case FHIR_SEARCH_TOKEN_NO_SYSTEM:
        st_sql_add(q, "(");
        keyed_eq(q, code_col, code);
        st_sql_add(q, " AND ");
        st_sql_add(q, sys_col);
        st_sql_add(q, " IS NULL)");
        break;
    case FHIR_SEARCH_TOKEN_SYSTEM_ANY:
        eq_col(q, sys_col, sys);
        break;
    default:
        st_sql_add(q, "false");
        break;
    }
}

static int
token_value(struct cl *k, const struct fhir_search_value *v)
{
    struct st_sql *q = k->q;

    switch (k->c->modifier) {
    case FHIR_SEARCH_MOD_TEXT:
        st_sql_add(q, "starts_with(x.text_norm, ");
        st_sql_param(q, v->u.string.norm, NULL);
        st_sql_add(q, ")");
        return BASE_OK;
    case FHIR_SEARCH_MOD_OF_TYPE:
        if (v->u.token.code == NULL || v->u.token.type_system == NULL ||
            v->u.token.type_code == NULL) {
            st_sql_add(q, "false");
            return BASE_OK;
        }
        st_sql_add(q, "(");
        keyed_eq(q, "x.code", v->u.token.code);
        st_sql_add(q, " AND x.of_type @> jsonb_build_array(jsonb_build_array(");
        st_sql_param(q, v->u.token.type_system, "::text");
        st_sql_add(q, ", ");
        st_sql_param(q, v->u.token.type_code, "::text");
        st_sql_add(q, ")))");
        return BASE_OK;
    default:
        token_parts(q, v->u.token.form, v->u.token.system, v->u.token.code, "x.system", "x.code");
        return BASE_OK;
    }
}

/* ---- dates ------------------------------------------------------------------------- */

static int64_t
sat_add(int64_t a, int64_t b)
{
    int64_t r;

    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

static void
cmp_i64(struct st_sql *q, const char *col, const char *op, int64_t v)
{
    st_sql_add(q, col);
    st_sql_add(q, op);
    st_sql_param_i64(q, v, "::bigint");
}

static void
date_contains(struct st_sql *q, const char *lo, const char *hi, int64_t sl, int64_t sh)
{
    st_sql_add(q, "(");
    cmp_i64(q, lo, " >= ", sl);
    st_sql_add(q, " AND ");
    cmp_i64(q, hi, " <= ", sh);
    st_sql_add(q, ")");
}

/* "Approximately": the search range widened by 10% of its distance from
 * now (as fhir_search_match does). */
static int64_t
ap_gap(const struct st_compile *cc, int64_t sl)
{
    int64_t dist = cc->now_us > sl ? cc->now_us - sl : sl - cc->now_us;

    return dist / 10;
}

/* "Approximately" on a [lo, hi) target: it overlaps the search range
 * widened by ap_gap (hi_op is " > " for a column holding the end, " >= "
 * for one holding the start of a one-microsecond range). */
static void
date_ap(struct st_sql *q, const struct st_compile *cc, const struct fhir_search_value *v,
        const char *lo, const char *hi, const char *hi_op)
{
    int64_t sl = v->u.date.low;
    int64_t gap = ap_gap(cc, sl);

    st_sql_add(q, "(");
    cmp_i64(q, lo, " < ", sat_add(v->u.date.high, gap));
    st_sql_add(q, " AND ");
    cmp_i64(q, hi, hi_op, sat_add(sl, -gap));
    st_sql_add(q, ")");
}

/* The R4 date prefix table on index rows [x.low, x.high). */
static void
date_value(struct st_sql *q, const struct st_compile *cc, const struct fhir_search_value *v)
{
    int64_t sl = v->u.date.low;
    int64_t sh = v->u.date.high;

    switch (v->prefix) {
    case FHIR_SEARCH_EQ:
        date_contains(q, "x.low", "x.high", sl, sh);
        break;
    case FHIR_SEARCH_NE:
        st_sql_add(q, "NOT ");
        date_contains(q, "x.low", "x.high", sl, sh);
        break;
    case FHIR_SEARCH_GT:
        cmp_i64(q, "x.high", " > ", sh);
        break;
    case FHIR_SEARCH_LT:
        cmp_i64(q, "x.low", " < ", sl);
        break;
    case FHIR_SEARCH_GE:
    case FHIR_SEARCH_LE:
        st_sql_add(q, "(");
        if (v->prefix == FHIR_SEARCH_GE)
            cmp_i64(q, "x.high", " > ", sh);
        else
            cmp_i64(q, "x.low", " < ", sl);
        st_sql_add(q, " OR ");
        date_contains(q, "x.low", "x.high", sl, sh);
        st_sql_add(q, ")");
        break;
    case FHIR_SEARCH_SA:
        cmp_i64(q, "x.low", " >= ", sh);
        break;
    case FHIR_SEARCH_EB:
        cmp_i64(q, "x.high", " <= ", sl);
        break;
    case FHIR_SEARCH_AP:
        date_ap(q, cc, v, "x.low", "x.high", " > ");
        break;
    default:
        st_sql_add(q, "false");
        break;
    }
}

/* _lastUpdated on store.resource: the stored instant has microseconds, so
 * its range is [t, t + 1); the table above, solved for t so that the
 * (res_type, last_updated) index serves it. */
static void
updated_value(struct st_sql *q, const struct st_compile *cc, const struct fhir_search_value *v)
{
    int64_t sl = v->u.date.low;
    int64_t sh = v->u.date.high;
    const char *t = "r.last_updated";

    switch (v->prefix) {
    case FHIR_SEARCH_EQ:
    case FHIR_SEARCH_NE:
        st_sql_add(q, v->prefix == FHIR_SEARCH_NE ? "NOT (" : "(");
        cmp_i64(q, t, " >= ", sl);
        st_sql_add(q, " AND ");
        cmp_i64(q, t, " < ", sh);
        st_sql_add(q, ")");
        break;
    case FHIR_SEARCH_GT:
    case FHIR_SEARCH_SA:
        cmp_i64(q, t, " >= ", sh);
        break;
    case FHIR_SEARCH_LT:
    case FHIR_SEARCH_EB:
        cmp_i64(q, t, " < ", sl);
        break;
    case FHIR_SEARCH_GE:
        cmp_i64(q, t, " >= ", sl);
        break;
    case FHIR_SEARCH_LE:
        cmp_i64(q, t, " < ", sh);
        break;
    case FHIR_SEARCH_AP:
        /* lu + 1 > sl - gap, i.e. lu >= sl - gap */
        date_ap(q, cc, v, t, t, " >= ");
        break;
    default:
        st_sql_add(q, "false");
        break;
    }
}

/* ---- numbers and quantities ------------------------------------------------------------ */

static void
cmp_dec(struct st_sql *q, const char *col, const char *op, struct fhir_search_dec d)
{
    char buf[64];

    (void)fhir_search_dec_format(d, buf, sizeof(buf));
    st_sql_add(q, col);
    st_sql_add(q, op);
    st_sql_param(q, base_arena_strdup(q->a, buf), "::numeric");
}

/* v ± |v|/10, exactly (as fhir/search/dec.c). */
static void
approx_range(struct fhir_search_dec v, struct fhir_search_dec *lo, struct fhir_search_dec *hi)
{
    int64_t mag = v.mant < 0 ? -v.mant : v.mant;

    lo->mant = v.mant * 10 - mag;
    lo->exp = v.exp - 1;
    hi->mant = v.mant * 10 + mag;
    hi->exp = v.exp - 1;
}

static void
number_contains(struct st_sql *q, const struct fhir_search_value *v)
{
    st_sql_add(q, "(NOT x.low_open AND NOT x.high_open AND ");
    cmp_dec(q, "x.low", " >= ", v->u.quantity.low);
    st_sql_add(q, " AND ");
    cmp_dec(q, "x.high", " < ", v->u.quantity.high);
    st_sql_add(q, ")");
}

/* R4 §3.1.1.4.1: eq/ne use the value's precision; the order prefixes the
 * exact value; open ends (Range without a bound, comparator) as in
 * fhir/search/match.c number_holds. */
static void
number_value(struct st_sql *q, const struct fhir_search_value *v)
{
    struct fhir_search_dec val = v->u.quantity.value;
    struct fhir_search_dec al;
    struct fhir_search_dec ah;

    switch (v->prefix) {
    case FHIR_SEARCH_EQ:
    case FHIR_SEARCH_NE:
        st_sql_add(q, v->prefix == FHIR_SEARCH_NE ? "NOT " : "");
        number_contains(q, v);
        break;
    case FHIR_SEARCH_GT:
    case FHIR_SEARCH_GE:
        st_sql_add(q, "(x.high_open OR ");
        cmp_dec(q, "x.high", v->prefix == FHIR_SEARCH_GT ? " > " : " >= ", val);
        st_sql_add(q, ")");
        break;
    case FHIR_SEARCH_LT:
    case FHIR_SEARCH_LE:
        st_sql_add(q, "(x.low_open OR ");
        cmp_dec(q, "x.low", v->prefix == FHIR_SEARCH_LT ? " < " : " <= ", val);
        st_sql_add(q, ")");
        break;
    case FHIR_SEARCH_SA:
        st_sql_add(q, "(NOT x.low_open AND ");
        cmp_dec(q, "x.low", " > ", val);
        st_sql_add(q, ")");
        break;
    case FHIR_SEARCH_EB:
        st_sql_add(q, "(NOT x.high_open AND ");
        cmp_dec(q, "x.high", " < ", val);
        st_sql_add(q, ")");
        break;
    case FHIR_SEARCH_AP:
        approx_range(val, &al, &ah);
        st_sql_add(q, "((x.low_open OR ");
        cmp_dec(q, "x.low", " <= ", ah);
        st_sql_add(q, ") AND (x.high_open OR ");
        cmp_dec(q, "x.high", " >= ", al);
        st_sql_add(q, "))");
        break;
    default:
        st_sql_add(q, "false");
        break;
    }
}

/* R4 §3.1.1.4.8: system|code must both match; a code alone matches the
 * unit code or the human unit. */
static void
quantity_value(struct st_sql *q, const struct fhir_search_value *v)
{
    const char *sys = v->u.quantity.system;
    const char *code = v->u.quantity.code;

    st_sql_add(q, "(");
    number_value(q, v);
    if (code != NULL && sys != NULL) {
        st_sql_add(q, " AND ");
        eq_col(q, "x.system", sys);
        st_sql_add(q, " AND ");
        eq_col(q, "x.code", code);
    } else if (code != NULL) {
        st_sql_add(q, " AND (");
        eq_col(q, "x.code", code);
        st_sql_add(q, " OR ");
        eq_col(q, "x.unit", code);
        st_sql_add(q, ")");
    }
    st_sql_add(q, ")");
}

/* ---- references and uris ---------------------------------------------------------------- */

/* A relative reference (or one under this server's base) to id [of type]
 * [at version]. */
void
st_compile_local_url(struct st_sql *q, const struct st_compile *cc)
{
    st_sql_add(q, "(x.ref_url IS NULL");
    if (cc->base_slash != NULL) {
        st_sql_add(q, " OR starts_with(x.ref_url, ");
        st_sql_param(q, cc->base_slash, NULL);
        st_sql_add(q, ")");
    }
    st_sql_add(q, ")");
}

static void
local_ref(struct st_sql *q, const struct st_compile *cc, const char *type, const char *id,
          const char *version)
{
    st_sql_add(q, "(");
    st_compile_local_url(q, cc);
    st_sql_add(q, " AND ");
    keyed_eq(q, "x.ref_id", id);
    if (type != NULL) {
        st_sql_add(q, " AND ");
        eq_col(q, "x.ref_type", type);
    }
    if (version != NULL) {
        st_sql_add(q, " AND ");
        eq_col(q, "x.ref_version", version);
    }
    st_sql_add(q, ")");
}

/* An absolute URL: the same URL, or "Type/id" under this server's base. */
static void
url_ref(struct st_sql *q, const struct st_compile *cc, const struct fhir_search_value *v)
{
    const char *url = v->u.reference.url;
    size_t bl = cc->base_slash != NULL ? strlen(cc->base_slash) : 0;

    st_sql_add(q, "(");
    if (bl > 0 && strncmp(url, cc->base_slash, bl) == 0) {
        const char *local = url + bl;
        const char *slash = strchr(local, '/');

        if (slash != NULL && strchr(slash + 1, '/') == NULL && slash > local) {
            st_sql_add(q, "(");
            eq_col(q, "x.ref_type", base_arena_strndup(q->a, local, (size_t)(slash - local)));
            st_sql_add(q, " AND ");
            local_ref(q, cc, NULL, slash + 1, NULL);
            st_sql_add(q, ") OR ");
        }
    }
    st_sql_add(q, "(");
    keyed_eq(q, "x.ref_url", url);
    if (v->u.reference.version != NULL) {
        st_sql_add(q, " AND ");
        eq_col(q, "x.ref_version", v->u.reference.version);
    }
    st_sql_add(q, "))");
}

static void
reference_value(struct cl *k, const struct fhir_search_value *v)
{
    if (k->c->modifier == FHIR_SEARCH_MOD_IDENTIFIER)
        token_parts(k->q, v->u.token.form, v->u.token.system, v->u.token.code, "x.id_system",
                    "x.id_value");
    else if (v->u.reference.url == NULL)
        local_ref(k->q, k->cc, v->u.reference.type, v->u.reference.id, v->u.reference.version);
    else
        url_ref(k->q, k->cc, v);
}

static void
uri_value(struct cl *k, const struct fhir_search_value *v)
{
    struct st_sql *q = k->q;

    if (k->c->modifier == FHIR_SEARCH_MOD_ABOVE) {
        st_sql_add(q, "starts_with(");
        st_sql_param(q, v->text, "::text");
        st_sql_add(q, ", x.value)");
    } else if (k->c->modifier == FHIR_SEARCH_MOD_BELOW) {
        st_sql_add(q, "starts_with(x.value, ");
        st_sql_param(q, v->text, NULL);
        st_sql_add(q, ")");
    } else {
        keyed_eq(q, "x.value", v->text);
    }
}

/* ---- clauses ------------------------------------------------------------------------------ */

const char *
st_table_of(enum fhir_search_type t)
{
    switch (t) {
    case FHIR_SEARCH_TOKEN:
        return "store.idx_token";
    case FHIR_SEARCH_STRING:
        return "store.idx_string";
    case FHIR_SEARCH_DATE:
        return "store.idx_date";
    case FHIR_SEARCH_REFERENCE:
        return "store.idx_reference";
    case FHIR_SEARCH_NUMBER:
    case FHIR_SEARCH_QUANTITY:
        return "store.idx_quantity";
    case FHIR_SEARCH_URI:
        return "store.idx_uri";
    default:
        return NULL;
    }
}

static int
one_value(struct cl *k, const struct fhir_search_value *v)
{
    switch (k->c->def->type) {
    case FHIR_SEARCH_TOKEN:
        return token_value(k, v);
    case FHIR_SEARCH_STRING:
        return string_value(k, v);
    case FHIR_SEARCH_DATE:
        date_value(k->q, k->cc, v);
        return BASE_OK;
    case FHIR_SEARCH_NUMBER:
        number_value(k->q, v);
        return BASE_OK;
    case FHIR_SEARCH_QUANTITY:
        quantity_value(k->q, v);
        return BASE_OK;
    case FHIR_SEARCH_REFERENCE:
        reference_value(k, v);
        return BASE_OK;
    case FHIR_SEARCH_URI:
        uri_value(k, v);
        return BASE_OK;
    default:
        return BASE_E_INTERNAL;
    }
}

/* EXISTS over the parameter's rows of this resource; `values` adds the OR
 * of the clause's values. */
static int
exists(struct cl *k, const char *type, bool values)
{
    struct st_sql *q = k->q;

    st_sql_add(q, "EXISTS (SELECT 1 FROM ");
    st_sql_add(q, st_table_of(k->c->def->type));
    st_sql_add(q, " x WHERE x.res_pk = r.pk AND x.res_type = ");
    st_sql_param(q, type, NULL);
    st_sql_add(q, " AND x.param = ");
    st_sql_param(q, k->c->def->name, NULL);
    if (values) {
        st_sql_add(q, " AND (");
        for (size_t i = 0; i < k->c->n_values; i++) {
            if (i > 0)
                st_sql_add(q, " OR ");
            TRY(one_value(k, &k->c->values[i]));
        }
        st_sql_add(q, ")");
    }
    st_sql_add(q, ")");
    return BASE_OK;
}

/* :missing=true|false, ORed over its values. */
static int
missing(struct cl *k, const char *type, const char *present_sql)
{
    for (size_t i = 0; i < k->c->n_values; i++) {
        if (i > 0)
            st_sql_add(k->q, " OR ");
        st_sql_add(k->q, k->c->values[i].u.missing ? "NOT " : "");
        if (present_sql != NULL)
            st_sql_add(k->q, present_sql);
        else
            TRY(exists(k, type, false));
    }
    return BASE_OK;
}

/* _id: a token on store.resource.id (no system, no text). */
static void
id_clause(struct cl *k)
{
    const struct fhir_search_clause *c = k->c;

    if (c->modifier == FHIR_SEARCH_MOD_NOT)
        st_sql_add(k->q, "NOT ");
    st_sql_add(k->q, "(false");
    for (size_t i = 0; i < c->n_values; i++) {
        const struct fhir_search_value *v = &c->values[i];
        bool plain = c->modifier == FHIR_SEARCH_MOD_NONE || c->modifier == FHIR_SEARCH_MOD_NOT;

        if (plain && v->u.token.code != NULL &&
            (v->u.token.form == FHIR_SEARCH_TOKEN_CODE ||
             v->u.token.form == FHIR_SEARCH_TOKEN_NO_SYSTEM)) {
            st_sql_add(k->q, " OR ");
            eq_col(k->q, "r.id", v->u.token.code);
        }
    }
    st_sql_add(k->q, ")");
}

static bool
is_common(const struct fhir_search_clause *c, const char *name)
{
    return strcmp(c->def->resource, "Resource") == 0 && strcmp(c->def->name, name) == 0;
}

static int
clause(struct cl *k, const char *type)
{
    const struct fhir_search_clause *c = k->c;

    ENSURE(st_table_of(c->def->type) != NULL, k->err, BASE_E_INVALID, "not-supported", c->name,
           "search parameter type not supported");
    if (c->modifier == FHIR_SEARCH_MOD_MISSING) {
        /* _id and _lastUpdated are never missing. */
        bool col = is_common(c, "_id") || is_common(c, "_lastUpdated");

        return missing(k, type, col ? "true" : NULL);
    }
    if (is_common(c, "_id")) {
        id_clause(k);
        return BASE_OK;
    }
    if (is_common(c, "_lastUpdated")) {
        st_sql_add(k->q, "(false");
        for (size_t i = 0; i < c->n_values; i++) {
            st_sql_add(k->q, " OR ");
            updated_value(k->q, k->cc, &c->values[i]);
        }
        st_sql_add(k->q, ")");
        return BASE_OK;
    }
    /* R4 :not selects resources with no matching value, none at all included. */
    if (c->modifier == FHIR_SEARCH_MOD_NOT)
        st_sql_add(k->q, "NOT ");
    return exists(k, type, true);
}

int
st_compile_where(struct st_sql *q, const struct st_compile *cc, const struct fhir_search *s,
                 struct base_err *err)
{
    for (size_t i = 0; i < s->n_clauses; i++) {
        struct cl k = {q, cc, &s->clauses[i], err};
        int rc;

        st_sql_add(q, " AND (");
        rc = clause(&k, s->resource_type);
        if (rc != BASE_OK)
            return err != NULL && err->rc != BASE_OK
                       ? rc
                       : base_err_set(err, rc, "exception", s->clauses[i].name,
                                      "could not compile the parameter");
        st_sql_add(q, ")");
    }
    if (q->rc != BASE_OK)
        return base_err_set(err, q->rc, "too-costly", "query", "search too large");
    return BASE_OK;
}
