/*
 * The FHIRPath subset used by the R4 search parameter expressions: compile
 * once, then walk jansson trees.
 *
 * FHIR JSON (R4 §2.6.2.3) names a choice element by its name plus the type
 * ("effectiveDateTime"), so `Observation.effective` finds whichever of the
 * effective[x] keys is present, and `.ofType(Quantity)` looks for exactly
 * "valueQuantity".  The suffix also tells the type of the element found.
 */
#include "fhir/search/search_int.h"

#include <pthread.h>
#include <string.h>

#include "fhir/json/fhir_json.h"

/* R4 data types that appear as choice suffixes, with their type names. */
/* clang-format off */
static const struct {
    const char *suffix;
    const char *type;
} choice_types[] = {
    {"Address", "Address"},       {"Age", "Age"},
    {"Annotation", "Annotation"}, {"Attachment", "Attachment"},
    {"Base64Binary", "base64Binary"}, {"Boolean", "boolean"},
    {"Canonical", "canonical"},   {"Code", "code"},
    {"CodeableConcept", "CodeableConcept"}, {"Coding", "Coding"},
    {"ContactDetail", "ContactDetail"}, {"ContactPoint", "ContactPoint"},
    {"Contributor", "Contributor"}, {"Count", "Count"},
    {"DataRequirement", "DataRequirement"}, {"Date", "date"},
    {"DateTime", "dateTime"},     {"Decimal", "decimal"},
    {"Distance", "Distance"},     {"Dosage", "Dosage"},
    {"Duration", "Duration"},     {"Expression", "Expression"},
    {"HumanName", "HumanName"},   {"Id", "id"},
    {"Identifier", "Identifier"}, {"Instant", "instant"},
    {"Integer", "integer"},       {"Markdown", "markdown"},
    {"Meta", "Meta"},             {"Money", "Money"},
    {"Oid", "oid"},               {"ParameterDefinition", "ParameterDefinition"},
    {"Period", "Period"},         {"PositiveInt", "positiveInt"},
    {"Quantity", "Quantity"},     {"Range", "Range"},
    {"Ratio", "Ratio"},           {"Reference", "Reference"},
    {"RelatedArtifact", "RelatedArtifact"}, {"SampledData", "SampledData"},
    {"Signature", "Signature"},   {"String", "string"},
    {"Time", "time"},             {"Timing", "Timing"},
    {"TriggerDefinition", "TriggerDefinition"}, {"UnsignedInt", "unsignedInt"},
    {"Uri", "uri"},               {"Url", "url"},
    {"UsageContext", "UsageContext"}, {"Uuid", "uuid"},
};
/* clang-format on */

static const char *
choice_type_of_suffix(const char *suffix)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(choice_types); i++) {
        if (strcmp(choice_types[i].suffix, suffix) == 0)
            return choice_types[i].type;
    }
    return NULL;
}

/* "dateTime" -> "DateTime" (the JSON suffix of a type). */
static const char *
choice_suffix_of_type(const char *type)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(choice_types); i++) {
        if (strcmp(choice_types[i].type, type) == 0)
            return choice_types[i].suffix;
    }
    return NULL;
}

/* ---- compiling ------------------------------------------------------- */

static bool
copy_field(char *dst, size_t cap, const char *s, size_t len)
{
    if (len == 0 || len >= cap)
        return false;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return true;
}

static bool
starts(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);

    return len >= n && memcmp(s, lit, n) == 0;
}

/* The text between "fn(" and the final ')' of a token. */
static bool
call_arg(const char *tok, size_t len, const char *fn, const char **arg, size_t *arg_len)
{
    size_t n = strlen(fn);

    if (!starts(tok, len, fn) || len < n + 2 || tok[n] != '(' || tok[len - 1] != ')')
        return false;
    *arg = tok + n + 1;
    *arg_len = len - n - 2;
    return true;
}

static bool
compile_where(struct sp_step *st, const char *arg, size_t len)
{
    const char *eq;

    if (starts(arg, len, "resolve() is ")) {
        st->where = SP_WHERE_RESOLVE_IS;
        return copy_field(st->where_a, sizeof(st->where_a), arg + 13, len - 13);
    }
    eq = memchr(arg, '=', len);
    if (eq == NULL || eq + 2 >= arg + len || eq[1] != '\'' || arg[len - 1] != '\'')
        return false;
    st->where = SP_WHERE_EQ;
    return copy_field(st->where_a, sizeof(st->where_a), arg, (size_t)(eq - arg)) &&
           copy_field(st->where_b, sizeof(st->where_b), eq + 2, len - (size_t)(eq - arg) - 3);
}

static bool
compile_token(struct sp_path *p, const char *tok, size_t len)
{
    struct sp_step *last = p->n_steps > 0 ? &p->steps[p->n_steps - 1] : NULL;
    const char *arg;
    size_t arg_len;

    if (call_arg(tok, len, "ofType", &arg, &arg_len) || call_arg(tok, len, "as", &arg, &arg_len))
        return last != NULL && copy_field(last->of_type, sizeof(last->of_type), arg, arg_len);
    if (call_arg(tok, len, "where", &arg, &arg_len))
        return last != NULL && last->where == SP_WHERE_NONE && compile_where(last, arg, arg_len);
    for (size_t i = 0; i < len; i++) {
        if (!((tok[i] >= 'a' && tok[i] <= 'z') || (tok[i] >= 'A' && tok[i] <= 'Z')))
            return false;
    }
    if (p->n_steps == SP_MAX_STEPS)
        return false;
    return copy_field(p->steps[p->n_steps++].name, sizeof(p->steps[0].name), tok, len);
}

/* Dot-separated tokens (dots inside parentheses do not split). */
static bool
compile_steps(struct sp_path *p, const char *s, size_t len, bool skip_root)
{
    size_t start = 0;
    int depth = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] == '(')
            depth++;
        else if (i < len && s[i] == ')')
            depth--;
        if (i < len && (s[i] != '.' || depth != 0))
            continue;
        if (i == start)
            return false;
        if (!skip_root && !compile_token(p, s + start, i - start))
            return false;
        skip_root = false;
        start = i + 1;
    }
    return depth == 0;
}

static size_t
trimmed(const char **s, size_t len)
{
    while (len > 0 && **s == ' ') {
        (*s)++;
        len--;
    }
    while (len > 0 && (*s)[len - 1] == ' ')
        len--;
    return len;
}

/* "(Observation.value as Quantity)" or "(X.value.ofType(Y)).text" or a path. */
static bool
compile_alt(struct sp_path *p, const char *s, size_t len)
{
    size_t close = 0;
    int depth = 0;
    const char *as;
    size_t inner_len;

    len = trimmed(&s, len);
    if (len == 0)
        return false;
    if (s[0] != '(')
        return compile_steps(p, s, len, true);
    for (close = 0; close < len; close++) {
        depth += s[close] == '(' ? 1 : s[close] == ')' ? -1 : 0;
        if (depth == 0)
            break;
    }
    if (close == len)
        return false;
    inner_len = close - 1;
    as = NULL;
    for (size_t i = 1; i + 4 <= close; i++) {
        if (memcmp(s + i, " as ", 4) == 0)
            as = s + i;
    }
    if (as != NULL) {
        inner_len = (size_t)(as - s - 1);
        if (!compile_alt(p, s + 1, inner_len) || p->n_steps == 0 ||
            !copy_field(p->steps[p->n_steps - 1].of_type, sizeof(p->steps[0].of_type), as + 4,
                        (size_t)(s + close - as - 4)))
            return false;
    } else if (!compile_alt(p, s + 1, inner_len)) {
        return false;
    }
    if (close + 1 == len)
        return true;
    return s[close + 1] == '.' && compile_steps(p, s + close + 2, len - close - 2, false);
}

/* R4 Patient-deceased: "Patient.deceased.exists() and Patient.deceased != false". */
static bool
compile_exists_not_false(const char *expr, const char *and, struct sp_expr *out)
{
    size_t left_len = (size_t)(and-expr);
    const char *sfx = ".exists()";
    size_t sfx_len = strlen(sfx);
    const char *right = and+5;

    if (left_len <= sfx_len || memcmp(expr + left_len - sfx_len, sfx, sfx_len) != 0)
        return false;
    left_len -= sfx_len;
    if (strlen(right) != left_len + 9 || memcmp(right, expr, left_len) != 0 ||
        strcmp(right + left_len, " != false") != 0)
        return false;
    out->n_alts = 1;
    out->exists_not_false = true;
    return compile_alt(&out->alts[0], expr, left_len);
}

bool
sp_compile(const char *expr, struct sp_expr *out)
{
    const char *and = strstr(expr, " and ");
    const char *s = expr;

    memset(out, 0, sizeof(*out));
    if (and != NULL)
        return compile_exists_not_false(expr, and, out);
    for (;;) {
        const char *bar = strstr(s, " | ");
        size_t len = bar != NULL ? (size_t)(bar - s) : strlen(s);

        if (out->n_alts == SP_MAX_ALTS || !compile_alt(&out->alts[out->n_alts++], s, len))
            return false;
        if (bar == NULL)
            return true;
        s = bar + 3;
    }
}

/* ---- compiled table ---------------------------------------------------- */

static struct sp_expr *compiled_common;
static struct sp_expr *compiled_res;
static bool *compiled_ok;
static pthread_once_t compile_once = PTHREAD_ONCE_INIT;

static void
compile_all(void)
{
    size_t nc;
    size_t nr;
    const struct fhir_search_param_def *c = sp_table_common(&nc);
    const struct fhir_search_param_def *r = sp_table_resources(&nr);

    /* Process-lifetime tables (a few hundred KB), built once. */
    compiled_common = base_calloc(nc + nr, sizeof(*compiled_common));
    compiled_ok = base_calloc(nc + nr, sizeof(*compiled_ok));
    if (compiled_common == NULL || compiled_ok == NULL) {
        base_free(compiled_common);
        base_free(compiled_ok);
        compiled_common = NULL;
        compiled_ok = NULL;
        return;
    }
    compiled_res = compiled_common + nc;
    for (size_t i = 0; i < nc; i++)
        compiled_ok[i] = sp_compile(c[i].expression, &compiled_common[i]);
    for (size_t i = 0; i < nr; i++)
        compiled_ok[nc + i] = sp_compile(r[i].expression, &compiled_res[i]);
}

const struct sp_expr *
sp_expr_of(const struct fhir_search_param_def *def)
{
    size_t nc;
    size_t nr;
    const struct fhir_search_param_def *c = sp_table_common(&nc);
    const struct fhir_search_param_def *r = sp_table_resources(&nr);

    (void)pthread_once(&compile_once, compile_all);
    if (compiled_common == NULL || def == NULL)
        return NULL;
    if (def >= c && def < c + nc)
        return compiled_ok[def - c] ? &compiled_common[def - c] : NULL;
    if (def >= r && def < r + nr)
        return compiled_ok[nc + (size_t)(def - r)] ? &compiled_res[def - r] : NULL;
    return NULL;
}

/* ---- evaluating -------------------------------------------------------- */

struct nodes {
    struct base_arena *a;
    struct sp_node *v;
    size_t n;
    size_t cap;
    size_t max;
};

static int
push(struct nodes *ns, const json_t *v, const char *type)
{
    if (v == NULL || json_is_null(v))
        return BASE_OK;
    if (ns->n == ns->max)
        return BASE_E_LIMIT;
    if (ns->n == ns->cap) {
        size_t ncap = ns->cap == 0 ? 8 : ns->cap * 2;
        struct sp_node *nv = base_arena_grow(ns->a, ns->v, ns->n, ncap, sizeof(*nv));

        if (nv == NULL)
            return BASE_E_NOMEM;
        ns->v = nv;
        ns->cap = ncap;
    }
    ns->v[ns->n].v = v;
    ns->v[ns->n].type = type;
    ns->n++;
    return BASE_OK;
}

static int
push_all(struct nodes *ns, const json_t *v, const char *type)
{
    if (!json_is_array(v))
        return push(ns, v, type);
    for (size_t i = 0; i < json_array_size(v); i++)
        TRY(push(ns, json_array_get(v, i), type));
    return BASE_OK;
}

bool
sp_is_type_name(struct base_str s)
{
    if (s.len == 0 || s.len > 64 || s.ptr[0] < 'A' || s.ptr[0] > 'Z')
        return false;
    for (size_t i = 1; i < s.len; i++) {
        char c = s.ptr[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

const char *
sp_get_str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return fhir_json_is_string(v) ? json_string_value(v) : NULL;
}

static struct base_str
contained_type(const json_t *resource, struct base_str id)
{
    const json_t *list = json_object_get(resource, "contained");

    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *c = json_array_get(list, i);
        const char *cid = sp_get_str(c, "id");
        const char *rt = sp_get_str(c, "resourceType");

        if (cid != NULL && rt != NULL && base_str_eq_cstr(id, cid))
            return base_str_from_cstr(rt);
    }
    return BASE_STR_NULL;
}

struct base_str
sp_reference_type(const json_t *resource, struct base_str ref)
{
    struct base_str parts[6];
    size_t n = 0;
    size_t end = ref.len;
    long h;

    if (ref.len > 1 && ref.ptr[0] == '#')
        return contained_type(resource, base_str_sub(ref, 1, ref.len - 1));
    h = base_str_find_chr(ref, '?', 0);
    if (h >= 0)
        end = (size_t)h;
    /* The last segments: [Type, id] or [Type, id, "_history", v]. */
    for (size_t i = end; i-- > 0 && n < BASE_ARRAY_LEN(parts);) {
        if (ref.ptr[i] == '/' || i == 0) {
            size_t from = ref.ptr[i] == '/' ? i + 1 : i;

            parts[n++] = base_str_sub(ref, from, end - from);
            end = i;
        }
    }
    if (n >= 4 && base_str_eq_cstr(parts[1], "_history") && sp_is_type_name(parts[3]))
        return parts[3];
    if (n >= 2 && sp_is_type_name(parts[1]))
        return parts[1];
    return BASE_STR_NULL;
}

static bool
where_holds(const json_t *resource, const struct sp_step *st, const json_t *v)
{
    if (st->where == SP_WHERE_NONE)
        return true;
    if (st->where == SP_WHERE_EQ) {
        const char *s = sp_get_str(v, st->where_a);

        return s != NULL && strcmp(s, st->where_b) == 0;
    }
    {
        const char *ref = sp_get_str(v, "reference");
        const char *type = sp_get_str(v, "type");
        struct base_str t = BASE_STR_NULL;

        if (ref != NULL)
            t = sp_reference_type(resource, base_str_from_cstr(ref));
        if (t.len == 0 && type != NULL)
            t = base_str_from_cstr(type);
        return base_str_eq_cstr(t, st->where_a);
    }
}

/* Members of `obj` for one step: "name", or "name<Type>" for a choice. */
static int
step_object(struct nodes *next, const json_t *obj, const struct sp_step *st)
{
    size_t name_len = strlen(st->name);
    const char *key;
    json_t *v;

    if (!json_is_object(obj))
        return BASE_OK;
    if (st->of_type[0] != '\0') {
        const char *sfx = choice_suffix_of_type(st->of_type);
        char buf[80];

        if (sfx == NULL || name_len + strlen(sfx) >= sizeof(buf))
            return BASE_OK;
        memcpy(buf, st->name, name_len);
        memcpy(buf + name_len, sfx, strlen(sfx) + 1);
        return push_all(next, json_object_get(obj, buf), choice_type_of_suffix(sfx));
    }
    v = json_object_get(obj, st->name);
    if (v != NULL)
        return push_all(next, v, NULL);
    json_object_foreach((json_t *)obj, key, v)
    {
        const char *type;

        if (strncmp(key, st->name, name_len) != 0 || key[name_len] < 'A' || key[name_len] > 'Z')
            continue;
        type = choice_type_of_suffix(key + name_len);
        if (type != NULL)
            TRY(push_all(next, v, type));
    }
    return BASE_OK;
}

static int
eval_path(struct nodes *out, const json_t *resource, const struct sp_path *p)
{
    struct nodes cur = {out->a, NULL, 0, 0, out->max};

    TRY(push(&cur, resource, NULL));
    for (size_t s = 0; s < p->n_steps; s++) {
        struct nodes next = {out->a, NULL, 0, 0, out->max};
        const struct sp_step *st = &p->steps[s];

        for (size_t i = 0; i < cur.n; i++)
            TRY(step_object(&next, cur.v[i].v, st));
        cur.n = 0;
        for (size_t i = 0; i < next.n; i++) {
            if (where_holds(resource, st, next.v[i].v))
                next.v[cur.n++] = next.v[i];
        }
        cur.v = next.v;
        cur.cap = next.cap;
    }
    for (size_t i = 0; i < cur.n; i++)
        TRY(push(out, cur.v[i].v, cur.v[i].type));
    return BASE_OK;
}

int
sp_eval(struct base_arena *a, const json_t *resource, const struct sp_expr *e, struct sp_node **out,
        size_t *n_out, size_t max)
{
    struct nodes all = {a, NULL, 0, 0, max};

    for (size_t i = 0; i < e->n_alts; i++)
        TRY(eval_path(&all, resource, &e->alts[i]));
    *out = all.v;
    *n_out = all.n;
    return BASE_OK;
}
