/*
 * Parsing one search parameter's value (after percent-decoding) into
 * struct fhir_search_value alternatives, by search type and modifier.
 * FHIR R4 §3.1.1.4 (types, prefixes) and §3.1.1.5 (modifiers, escaping):
 * "," separates alternatives (OR), "|" the parts of token, quantity and
 * canonical values, "$" composite parts; "\," "\|" "\$" "\\" escape them.
 */
#include "fhir/search/search_int.h"
#include "fhir/search/value_int.h"

#include <string.h>

/* ---- escaping ---------------------------------------------------------- */

size_t
sp_split(struct base_str s, char sep, struct base_str *parts, size_t max)
{
    size_t n = 0;
    size_t start = 0;

    for (size_t i = 0; i <= s.len; i++) {
        if (i < s.len && s.ptr[i] == '\\' && i + 1 < s.len) {
            i++; /* the escaped character never separates */
            continue;
        }
        if (i < s.len && s.ptr[i] != sep)
            continue;
        if (n == max)
            return max + 1;
        parts[n++] = base_str_sub(s, start, i - start);
        start = i + 1;
    }
    return n;
}

char *
sp_unescape(struct base_arena *a, struct base_str s)
{
    char *out = base_arena_alloc(a, s.len + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < s.len; i++) {
        char next = i + 1 < s.len ? s.ptr[i + 1] : '\0';

        /* R4 §3.1.1.5.7: only these four are escapes; any other backslash
         * is an ordinary character. */
        if (s.ptr[i] == '\\' && (next == ',' || next == '|' || next == '$' || next == '\\'))
            i++;
        out[o++] = s.ptr[i];
    }
    out[o] = '\0';
    return out;
}

/* ---- prefixes ----------------------------------------------------------- */

static const char *const prefix_names[] = {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"};

/* Take a leading prefix when two lowercase letters name one (R4
 * §3.1.1.4.1); the rest must then start the value proper. */
static struct base_str
take_prefix(struct base_str v, enum fhir_search_prefix *p)
{
    *p = FHIR_SEARCH_EQ;
    if (v.len < 2)
        return v;
    for (size_t i = 0; i < BASE_ARRAY_LEN(prefix_names); i++) {
        if (v.ptr[0] == prefix_names[i][0] && v.ptr[1] == prefix_names[i][1]) {
            *p = (enum fhir_search_prefix)i;
            return base_str_sub(v, 2, v.len - 2);
        }
    }
    return v;
}

/* ---- per type ------------------------------------------------------------ */

#define BAD_VALUE(ctx, why)                                                                        \
    base_err_set((ctx)->err, BASE_E_INVALID, "value", (ctx)->where, "%s", (why))

static int
parse_token(struct sp_vctx *c, struct base_str raw, struct fhir_search_value *v)
{
    struct base_str parts[3];
    size_t n = sp_split(raw, '|', parts, 3);
    char *p[3] = {NULL, NULL, NULL};

    if (c->modifier == FHIR_SEARCH_MOD_OF_TYPE) {
        /* identifier:of-type=type-system|type-code|value (R4 §3.1.1.5.11) */
        if (n != 3 || parts[1].len == 0 || parts[2].len == 0)
            return BAD_VALUE(c, "of-type needs system|code|value");
    } else if (n == 0 || n > 2 || (n == 1 && parts[0].len == 0) ||
               (n == 2 && parts[0].len == 0 && parts[1].len == 0)) {
        return BAD_VALUE(c, "token must be code, system|code, |code or system|");
    }
    for (size_t i = 0; i < n && i < 3; i++) {
        p[i] = sp_unescape(c->a, parts[i]);
        if (p[i] == NULL)
            return BASE_E_NOMEM;
    }
    if (c->modifier == FHIR_SEARCH_MOD_OF_TYPE) {
        v->u.token.form = FHIR_SEARCH_TOKEN_SYSTEM_CODE;
        v->u.token.type_system = p[0];
        v->u.token.type_code = p[1];
        v->u.token.code = p[2];
        return BASE_OK;
    }
    if (n == 1) {
        v->u.token.form = FHIR_SEARCH_TOKEN_CODE;
        v->u.token.code = p[0];
    } else if (parts[0].len == 0) {
        v->u.token.form = FHIR_SEARCH_TOKEN_NO_SYSTEM;
        v->u.token.code = p[1];
    } else if (parts[1].len == 0) {
        v->u.token.form = FHIR_SEARCH_TOKEN_SYSTEM_ANY;
        v->u.token.system = p[0];
    } else {
        v->u.token.form = FHIR_SEARCH_TOKEN_SYSTEM_CODE;
        v->u.token.system = p[0];
        v->u.token.code = p[1];
    }
    return BASE_OK;
}

static int
parse_text(struct sp_vctx *c, struct base_str raw, struct fhir_search_value *v)
{
    if (raw.len == 0)
        return BAD_VALUE(c, "empty value");
    v->text = sp_unescape(c->a, raw);
    if (v->text == NULL)
        return BASE_E_NOMEM;
    v->u.string.norm = fhir_search_normalize(c->a, v->text, strlen(v->text));
    return v->u.string.norm != NULL ? BASE_OK : BASE_E_NOMEM;
}

static int
parse_date(struct sp_vctx *c, struct base_str raw, struct fhir_search_value *v)
{
    struct base_str d = take_prefix(raw, &v->prefix);

    if (!sp_date_range_lenient(d.ptr, d.len, &v->u.date.low, &v->u.date.high))
        return BAD_VALUE(c, "not a valid date, dateTime or instant");
    return BASE_OK;
}

static int
parse_number_text(struct sp_vctx *c, struct base_str d, struct fhir_search_value *v)
{
    if (!fhir_search_dec_parse(d.ptr, d.len, &v->u.quantity.value))
        return BAD_VALUE(c, "not a valid number");
    sp_dec_precision_range(v->u.quantity.value, &v->u.quantity.low, &v->u.quantity.high);
    return BASE_OK;
}

static int
parse_number(struct sp_vctx *c, struct base_str raw, struct fhir_search_value *v)
{
    return parse_number_text(c, take_prefix(raw, &v->prefix), v);
}

/* [prefix]number|system|code, number||code, or number (R4 §3.1.1.4.8). */
static int
parse_quantity(struct sp_vctx *c, struct base_str raw, struct fhir_search_value *v)
{
    struct base_str parts[3];
    struct base_str num;
    size_t n = sp_split(raw, '|', parts, 3);

    if (n != 1 && n != 3)
        return BAD_VALUE(c, "quantity must be number or number|system|code");
    num = take_prefix(parts[0], &v->prefix);
    TRY(parse_number_text(c, num, v));
    if (n == 3) {
        if (parts[1].len > 0 && (v->u.quantity.system = sp_unescape(c->a, parts[1])) == NULL)
            return BASE_E_NOMEM;
        if (parts[2].len > 0 && (v->u.quantity.code = sp_unescape(c->a, parts[2])) == NULL)
            return BASE_E_NOMEM;
        if (parts[1].len > 0 && parts[2].len == 0)
            return BAD_VALUE(c, "quantity with a unit system needs a unit code");
    }
    return BASE_OK;
}

/* FHIR id: [A-Za-z0-9\-\.]{1,64} (R4 §2.24.0.1). */
static bool
is_fhir_id(struct base_str s)
{
    if (s.len == 0 || s.len > 64)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.ptr[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

/* "Type/id" or "Type/id/_history/vid" relative reference. */
static int
parse_relative(struct sp_vctx *c, struct base_str r, struct fhir_search_value *v)
{
    struct base_str seg[5];
    size_t n = sp_split(r, '/', seg, 4);

    if (!(n == 2 || (n == 4 && base_str_eq_cstr(seg[2], "_history"))) || !sp_is_type_name(seg[0]) ||
        !is_fhir_id(seg[1]) || (n == 4 && !is_fhir_id(seg[3])))
        return BAD_VALUE(c, "reference must be [type]/[id], [id] or an absolute URL");
    if (!fhir_search_param_allows_target(c->def, seg[0].ptr, seg[0].len))
        return BAD_VALUE(c, "resource type is not a target of this parameter");
    if (c->modifier_type != NULL && !base_str_eq_cstr(seg[0], c->modifier_type))
        return BAD_VALUE(c, "resource type differs from the type modifier");
    v->u.reference.type = sp_dup(c->a, seg[0]);
    v->u.reference.id = sp_dup(c->a, seg[1]);
    v->u.reference.version = n == 4 ? sp_dup(c->a, seg[3]) : NULL;
    return v->u.reference.type == NULL || v->u.reference.id == NULL ? BASE_E_NOMEM : BASE_OK;
}

/* The single target type of a parameter, or NULL. */
static const char *
only_target(const struct fhir_search_param_def *def)
{
    return def->targets != NULL && strchr(def->targets, ' ') == NULL ? def->targets : NULL;
}

static int
parse_reference(struct sp_vctx *c, struct base_str raw, struct fhir_search_value *v)
{
    char *s;
    struct base_str r;

    if (c->modifier == FHIR_SEARCH_MOD_IDENTIFIER)
        return parse_token(c, raw, v);
    if (raw.len == 0)
        return BAD_VALUE(c, "empty value");
    s = sp_unescape(c->a, raw);
    if (s == NULL)
        return BASE_E_NOMEM;
    r = base_str_from_cstr(s);
    if (strstr(s, "://") != NULL || strncmp(s, "urn:", 4) == 0) {
        char *bar = strchr(s, '|');

        /* An absolute URL, or a canonical "url|version" (R4 §3.1.1.4.7.1). */
        if (bar != NULL) {
            *bar = '\0';
            v->u.reference.version = bar + 1;
        }
        v->u.reference.url = s;
        return BASE_OK;
    }
    if (base_str_find_chr(r, '/', 0) >= 0)
        return parse_relative(c, r, v);
    if (!is_fhir_id(r))
        return BAD_VALUE(c, "reference must be [type]/[id], [id] or an absolute URL");
    v->u.reference.id = s;
    v->u.reference.type = c->modifier_type != NULL ? c->modifier_type : only_target(c->def);
    return BASE_OK;
}

static int
parse_uri(struct sp_vctx *c, struct base_str raw, struct fhir_search_value *v)
{
    if (raw.len == 0)
        return BAD_VALUE(c, "empty value");
    v->text = sp_unescape(c->a, raw);
    return v->text != NULL ? BASE_OK : BASE_E_NOMEM;
}

static int
parse_missing(struct sp_vctx *c, struct base_str raw, struct fhir_search_value *v)
{
    if (base_str_eq_cstr(raw, "true"))
        v->u.missing = true;
    else if (base_str_eq_cstr(raw, "false"))
        v->u.missing = false;
    else
        return BAD_VALUE(c, "missing takes true or false");
    return BASE_OK;
}

int
sp_parse_value(struct sp_vctx *c, struct base_str raw, struct fhir_search_value *v)
{
    memset(v, 0, sizeof(*v));
    v->prefix = FHIR_SEARCH_EQ;
    if (c->modifier == FHIR_SEARCH_MOD_MISSING)
        return parse_missing(c, raw, v);
    {
        struct base_str body = raw;
        enum fhir_search_prefix ignore;

        if (c->def->type == FHIR_SEARCH_DATE || c->def->type == FHIR_SEARCH_NUMBER ||
            c->def->type == FHIR_SEARCH_QUANTITY)
            body = take_prefix(raw, &ignore);
        if ((v->text = sp_unescape(c->a, body)) == NULL)
            return BASE_E_NOMEM;
    }
    switch (c->def->type) {
    case FHIR_SEARCH_TOKEN:
        return c->modifier == FHIR_SEARCH_MOD_TEXT ? parse_text(c, raw, v) : parse_token(c, raw, v);
    case FHIR_SEARCH_STRING:
        return parse_text(c, raw, v);
    case FHIR_SEARCH_DATE:
        return parse_date(c, raw, v);
    case FHIR_SEARCH_NUMBER:
        return parse_number(c, raw, v);
    case FHIR_SEARCH_QUANTITY:
        return parse_quantity(c, raw, v);
    case FHIR_SEARCH_REFERENCE:
        return parse_reference(c, raw, v);
    case FHIR_SEARCH_URI:
        return parse_uri(c, raw, v);
    default:
        return base_err_set(c->err, BASE_E_INTERNAL, "exception", c->where, "unknown type");
    }
}
