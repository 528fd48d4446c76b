/*
 * The mapping file: one directive or rule per line, '#' starts a comment
 * line.  See docs/design/converters.md ("CSV mapping files") for the
 * grammar; in short:
 *
 *   resource   Patient
 *   delimiter  auto | , | ; | tab | |
 *   encoding   utf-8 | gb18030 | gbk | latin1 ...
 *   on-error   skip | fail
 *   identity   SYSTEM TEMPLATE [| transform ...]
 *   group      TEMPLATE
 *   columns    A,B,C            (names when the file has no header)
 *   PATH = TEMPLATE [| transform args...]... [when COL[=v|!=v|~number|!~number]]...
 *          [required]
 *
 * A TEMPLATE is text with {COLUMN} placeholders; {A,B} takes the first of
 * A, B that the header has; {A?} may be missing from the header.
 */
#include <stdio.h>
#include <string.h>

#include "adapters/csv/csv_int.h"

struct mparse {
    struct csv_mapping *m;
    const struct csv_limits *lim;
    struct base_err *err;
    size_t line;
    size_t rules_cap;
};

static int
fail(struct mparse *p, int rc, const char *msg)
{
    char where[32];

    (void)snprintf(where, sizeof(where), "mapping line %zu", p->line);
    return base_err_set(p->err, rc, rc == BASE_E_NOMEM ? "exception" : "structure", where, "%s",
                        msg);
}

static char *
dup(struct mparse *p, struct base_str s)
{
    return base_str_dup0(p->m->arena, s);
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Next whitespace-separated word of *s (empty at the end). */
static struct base_str
word(struct base_str *s)
{
    size_t i = 0;
    size_t j;

    while (i < s->len && is_space(s->ptr[i]))
        i++;
    j = i;
    while (j < s->len && !is_space(s->ptr[j]))
        j++;
    struct base_str w = base_str_make(s->ptr + i, j - i);
    *s = base_str_make(s->ptr + j, s->len - j);
    return w;
}

/* -------------------------------------------------------------- columns */

static bool
name_ok(struct base_str n)
{
    if (n.len == 0)
        return false;
    for (size_t i = 0; i < n.len; i++) {
        if (n.ptr[i] == '{' || n.ptr[i] == '}' || n.ptr[i] == ',')
            return false;
    }
    return true;
}

/* "{A,B?}" content -> a new colref; returns its index or SIZE_MAX. */
static size_t
add_colref(struct mparse *p, struct base_str spec)
{
    struct csv_mapping *m = p->m;
    struct csv_colref ref = {0};
    struct base_str head;
    struct base_str rest = base_str_trim(spec);

    if (rest.len > 0 && rest.ptr[rest.len - 1] == '?') {
        ref.optional = true;
        rest.len--;
    }
    ref.names = BASE_NEW_N(m->arena, const char *, rest.len + 1);
    while (ref.names != NULL && rest.len > 0) {
        bool more = base_str_cut(rest, ',', &head, &rest);

        head = base_str_trim(head);
        if (!name_ok(head))
            return SIZE_MAX;
        ref.names[ref.nnames++] = dup(p, head);
        if (!more)
            break;
    }
    if (ref.names == NULL || ref.nnames == 0)
        return SIZE_MAX;
    m->colrefs =
        base_arena_grow(m->arena, m->colrefs, m->ncolrefs, m->ncolrefs + 1, sizeof(*m->colrefs));
    if (m->colrefs == NULL)
        return SIZE_MAX;
    m->colrefs[m->ncolrefs] = ref;
    return m->ncolrefs++;
}

static int
add_part(struct mparse *p, struct csv_template *t, const char *literal, size_t colref)
{
    t->parts = base_arena_grow(p->m->arena, t->parts, t->nparts, t->nparts + 1, sizeof(*t->parts));
    if (t->parts == NULL)
        return fail(p, BASE_E_NOMEM, "out of memory");
    t->parts[t->nparts].literal = literal;
    t->parts[t->nparts].colref = colref;
    t->nparts++;
    return BASE_OK;
}

static int
parse_template(struct mparse *p, struct base_str s, struct csv_template *t)
{
    memset(t, 0, sizeof(*t));
    while (s.len > 0) {
        long open = base_str_find_chr(s, '{', 0);
        size_t lit = open < 0 ? s.len : (size_t)open;

        if (lit > 0) {
            if (memchr(s.ptr, '}', lit) != NULL)
                return fail(p, BASE_E_PARSE, "unbalanced '}' in template");
            TRY(add_part(p, t, dup(p, base_str_make(s.ptr, lit)), SIZE_MAX));
        }
        if (open < 0)
            break;
        long close = base_str_find_chr(s, '}', lit);
        if (close < 0)
            return fail(p, BASE_E_PARSE, "unclosed '{' in template");
        size_t ref = add_colref(p, base_str_sub(s, lit + 1, (size_t)close - lit - 1));
        if (ref == SIZE_MAX)
            return fail(p, BASE_E_PARSE, "bad column reference in template");
        TRY(add_part(p, t, NULL, ref));
        s = base_str_sub(s, (size_t)close + 1, s.len);
    }
    return BASE_OK;
}

/* ----------------------------------------------------------------- paths */

static bool
member_ok(struct base_str n)
{
    if (n.len == 0 ||
        !((n.ptr[0] >= 'a' && n.ptr[0] <= 'z') || (n.ptr[0] >= 'A' && n.ptr[0] <= 'Z')))
        return false;
    for (size_t i = 0; i < n.len; i++) {
        char c = n.ptr[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static int
parse_seg(struct mparse *p, struct base_str s, struct csv_seg *seg)
{
    long br = base_str_find_chr(s, '[', 0);
    struct base_str name = br < 0 ? s : base_str_sub(s, 0, (size_t)br);

    if (!member_ok(name))
        return fail(p, BASE_E_PARSE, "bad element name in path");
    seg->name = dup(p, name);
    seg->op = SEG_FIELD;
    if (br < 0)
        return BASE_OK;
    struct base_str ix = base_str_sub(s, (size_t)br + 1, s.len - (size_t)br - 1);
    if (ix.len < 2 || ix.ptr[ix.len - 1] != ']')
        return fail(p, BASE_E_PARSE, "bad index in path");
    ix.len--;
    uint64_t n;
    if (base_str_eq_cstr(ix, "+"))
        seg->op = SEG_NEW;
    else if (base_str_eq_cstr(ix, "="))
        seg->op = SEG_LAST;
    else if (base_str_to_u64(ix, &n) && n < 1000)
        seg->op = SEG_INDEX, seg->index = (size_t)n;
    else
        return fail(p, BASE_E_PARSE, "bad index in path");
    return BASE_OK;
}

static int
parse_path(struct mparse *p, struct base_str s, struct csv_path *path)
{
    struct base_str head;
    bool more = true;

    memset(path, 0, sizeof(*path));
    path->seg = BASE_NEW_N(p->m->arena, struct csv_seg, s.len / 2 + 1);
    if (path->seg == NULL)
        return fail(p, BASE_E_NOMEM, "out of memory");
    while (more) {
        more = base_str_cut(s, '.', &head, &s);
        TRY(parse_seg(p, head, &path->seg[path->n++]));
    }
    return BASE_OK;
}

/* ------------------------------------------------------------ transforms */

struct xf_spec {
    const char *name;
    enum csv_xf_kind kind;
    size_t min_args, max_args;
    bool makes_json; /* produces a non-string: must come last */
};

static const struct xf_spec xf_specs[] = {
    {"date", XF_DATE, 0, 8, false},
    {"datetime", XF_DATETIME, 0, 8, false},
    {"decimal", XF_DECIMAL, 0, 2, true},
    {"integer", XF_INTEGER, 0, 0, true},
    {"comparator", XF_COMPARATOR, 0, 0, false},
    {"boolean", XF_BOOLEAN, 0, 0, true},
    {"map", XF_MAP, 1, 256, false},
    {"ref", XF_REF, 2, 2, true},
    {"uuid", XF_UUID, 0, 0, false},
    {"upper", XF_UPPER, 0, 0, false},
    {"lower", XF_LOWER, 0, 0, false},
};

static int
parse_transform(struct mparse *p, struct base_str s, struct csv_transform *xf, bool *json)
{
    struct base_str name = word(&s);
    const struct xf_spec *spec = NULL;

    for (size_t i = 0; i < BASE_ARRAY_LEN(xf_specs); i++) {
        if (base_str_eq_cstr(name, xf_specs[i].name))
            spec = &xf_specs[i];
    }
    if (spec == NULL)
        return fail(p, BASE_E_PARSE, "unknown transform");
    xf->kind = spec->kind;
    xf->args = BASE_NEW_N(p->m->arena, const char *, spec->max_args + 1);
    xf->nargs = 0;
    if (xf->args == NULL)
        return fail(p, BASE_E_NOMEM, "out of memory");
    for (struct base_str a = word(&s); a.len > 0; a = word(&s)) {
        if (xf->nargs == spec->max_args)
            return fail(p, BASE_E_PARSE, "too many arguments for transform");
        xf->args[xf->nargs++] = dup(p, a);
    }
    if (xf->nargs < spec->min_args)
        return fail(p, BASE_E_PARSE, "too few arguments for transform");
    for (size_t i = 0, marks = 0; spec->kind == XF_DECIMAL && i < xf->nargs; i++) {
        if (strcmp(xf->args[i], "comparator") == 0 &&
            (i == 0 || strcmp(xf->args[0], "comparator") != 0))
            continue;
        if ((strcmp(xf->args[i], ",") != 0 && strcmp(xf->args[i], ".") != 0) || ++marks > 1)
            return fail(p, BASE_E_PARSE, "decimal takes a mark (',' or '.') and 'comparator'");
    }
    for (size_t i = 0; spec->kind == XF_MAP && i < xf->nargs; i++) {
        if (strchr(xf->args[i], '=') == NULL)
            return fail(p, BASE_E_PARSE, "map arguments are FROM=TO");
    }
    *json = spec->makes_json;
    return BASE_OK;
}

/* Trailing "when COL[=v|!=v|~number|!~number]" and "required", right to left. */
static int
parse_modifiers(struct mparse *p, struct base_str *last, struct csv_rule *r)
{
    for (;;) {
        struct base_str t = *last;
        while (t.len > 0 && is_space(t.ptr[t.len - 1]))
            t.len--;
        size_t i = t.len;
        while (i > 0 && !is_space(t.ptr[i - 1]))
            i--;
        struct base_str tok = base_str_sub(t, i, t.len - i);
        struct base_str before = base_str_make(t.ptr, i);
        while (before.len > 0 && is_space(before.ptr[before.len - 1]))
            before.len--;
        if (base_str_eq_cstr(tok, "required")) {
            r->required = true;
            *last = before;
            continue;
        }
        if (!base_str_ends_with(before, " when") && !base_str_eq_cstr(before, "when"))
            return BASE_OK;
        struct csv_cond c = {0};
        struct base_str col = tok;
        struct base_str val = BASE_STR_NULL;
        long eq = base_str_find_chr(tok, '=', 0);
        long tilde = base_str_find_chr(tok, '~', 0);
        if (tilde > 0 && (eq < 0 || tilde < eq)) {
            bool ne = tok.ptr[tilde - 1] == '!';
            if (!base_str_eq_cstr(base_str_sub(tok, (size_t)tilde + 1, tok.len), "number"))
                return fail(p, BASE_E_PARSE, "'~' in 'when' only tests 'number'");
            col = base_str_sub(tok, 0, (size_t)tilde - ne);
            c.op = ne ? COND_TEXT : COND_NUM;
        } else if (eq > 0) {
            bool ne = tok.ptr[eq - 1] == '!';
            col = base_str_sub(tok, 0, (size_t)eq - ne);
            val = base_str_sub(tok, (size_t)eq + 1, tok.len);
            c.op = ne ? COND_NE : COND_EQ;
            c.value = dup(p, val);
        }
        c.colref = add_colref(p, col);
        if (c.colref == SIZE_MAX)
            return fail(p, BASE_E_PARSE, "bad column in 'when'");
        /* a column the file lacks reads as empty in a condition */
        p->m->colrefs[c.colref].optional = true;
        r->cond = base_arena_grow(p->m->arena, r->cond, r->ncond, r->ncond + 1, sizeof(c));
        if (r->cond == NULL)
            return fail(p, BASE_E_NOMEM, "out of memory");
        r->cond[r->ncond++] = c;
        *last = base_str_make(before.ptr, before.len - 4); /* drop "when" */
    }
}

/* "TEMPLATE | xf args | xf args ... [modifiers]" */
static int
parse_rhs(struct mparse *p, struct base_str rhs, struct csv_rule *r)
{
    struct base_str segs[64];
    size_t n = 0;

    while (n < BASE_ARRAY_LEN(segs)) {
        const char *bar = NULL;

        for (size_t i = 0; i + 2 < rhs.len && bar == NULL; i++) {
            if (rhs.ptr[i] == ' ' && rhs.ptr[i + 1] == '|' && rhs.ptr[i + 2] == ' ')
                bar = rhs.ptr + i;
        }
        if (bar == NULL) {
            segs[n++] = rhs;
            break;
        }
        segs[n++] = base_str_make(rhs.ptr, (size_t)(bar - rhs.ptr));
        rhs = base_str_make(bar + 3, rhs.len - (size_t)(bar - rhs.ptr) - 3);
    }
    TRY(parse_modifiers(p, &segs[n - 1], r));
    TRY(parse_template(p, base_str_trim(segs[0]), &r->tpl));
    r->xf = BASE_NEW_N(p->m->arena, struct csv_transform, n);
    if (r->xf == NULL)
        return fail(p, BASE_E_NOMEM, "out of memory");
    for (size_t i = 1; i < n; i++) {
        bool json = false;

        TRY(parse_transform(p, base_str_trim(segs[i]), &r->xf[r->nxf++], &json));
        if (json && i + 1 < n)
            return fail(p, BASE_E_PARSE, "this transform must be the last one");
    }
    return BASE_OK;
}

static int
add_rule(struct mparse *p, struct base_str line)
{
    struct csv_mapping *m = p->m;
    struct csv_rule *r;
    size_t depth = 0;
    size_t eq = SIZE_MAX;

    for (size_t i = 0; i < line.len && eq == SIZE_MAX; i++) {
        depth += line.ptr[i] == '[';
        depth -= depth > 0 && line.ptr[i] == ']';
        if (line.ptr[i] == '=' && depth == 0)
            eq = i;
    }
    if (eq == SIZE_MAX)
        return fail(p, BASE_E_PARSE, "expected a directive or PATH = VALUE");
    if (m->nrules >= p->lim->max_rules)
        return fail(p, BASE_E_LIMIT, "too many rules");
    if (m->nrules == p->rules_cap) {
        size_t cap = p->rules_cap == 0 ? 16 : p->rules_cap * 2;

        m->rules = base_arena_grow(m->arena, m->rules, m->nrules, cap, sizeof(*m->rules));
        if (m->rules == NULL)
            return fail(p, BASE_E_NOMEM, "out of memory");
        p->rules_cap = cap;
    }
    r = &m->rules[m->nrules++];
    memset(r, 0, sizeof(*r));
    r->line = p->line;
    TRY(parse_path(p, base_str_trim(base_str_make(line.ptr, eq)), &r->path));
    return parse_rhs(p, base_str_trim(base_str_sub(line, eq + 1, line.len)), r);
}

/* ------------------------------------------------------------ directives */

static int
set_delimiter(struct mparse *p, struct base_str v)
{
    if (base_str_eq_cstr(v, "auto"))
        p->m->delimiter = 0;
    else if (base_str_eq_cstr(v, "tab"))
        p->m->delimiter = '\t';
    else if (v.len == 1 && strchr(",;|", v.ptr[0]) != NULL)
        p->m->delimiter = v.ptr[0];
    else
        return fail(p, BASE_E_INVALID, "delimiter is one of auto , ; | tab");
    return BASE_OK;
}

static int
set_columns(struct mparse *p, struct base_str v)
{
    struct base_str head;
    bool more = v.len > 0;

    p->m->columns = BASE_NEW_N(p->m->arena, const char *, v.len + 1);
    if (p->m->columns == NULL)
        return fail(p, BASE_E_NOMEM, "out of memory");
    while (more) {
        more = base_str_cut(v, ',', &head, &v);
        head = base_str_trim(head);
        if (!name_ok(head))
            return fail(p, BASE_E_PARSE, "bad column name");
        p->m->columns[p->m->ncolumns++] = dup(p, head);
    }
    return BASE_OK;
}

/* `null NULL N/A -`: cells that mean "no value" in this export. */
static int
set_nulls(struct mparse *p, struct base_str v)
{
    p->m->nulls = BASE_NEW_N(p->m->arena, const char *, v.len + 1);
    if (p->m->nulls == NULL)
        return fail(p, BASE_E_NOMEM, "out of memory");
    p->m->nnulls = 0;
    for (struct base_str w = word(&v); w.len > 0; w = word(&v))
        p->m->nulls[p->m->nnulls++] = dup(p, w);
    return BASE_OK;
}

/*
 * SQL Server and most HIS report tools write a missing value as NULL, and
 * Excel's lookups leave #N/A: neither is ever data, so by default they read
 * as empty.  Others (N/A, -) can be data in some column; a mapping lists them.
 */
const char *const *
csv_mapping_nulls(const struct csv_mapping *m, size_t *n)
{
    static const char *const defaults[] = {"NULL", "#N/A"};

    if (m->nulls != NULL) {
        *n = m->nnulls;
        return m->nulls;
    }
    *n = BASE_ARRAY_LEN(defaults);
    return defaults;
}

static int
set_identity(struct mparse *p, struct base_str v)
{
    struct base_str system = word(&v);

    if (system.len == 0 || base_str_trim(v).len == 0)
        return fail(p, BASE_E_PARSE, "identity needs SYSTEM and TEMPLATE");
    p->m->id_system = dup(p, system);
    p->m->identity.line = p->line;
    return parse_rhs(p, base_str_trim(v), &p->m->identity);
}

/* Returns 1 when `line` was a directive. */
static int
directive(struct mparse *p, struct base_str line)
{
    struct base_str rest = line;
    struct base_str key = word(&rest);
    struct base_str v = base_str_trim(rest);
    struct csv_mapping *m = p->m;

    if (base_str_eq_cstr(key, "resource")) {
        if (!member_ok(v))
            return fail(p, BASE_E_INVALID, "resource needs a FHIR resource type");
        m->resource = dup(p, v);
    } else if (base_str_eq_cstr(key, "delimiter")) {
        TRY(set_delimiter(p, v));
    } else if (base_str_eq_cstr(key, "encoding")) {
        m->encoding = base_str_case_eq_cstr(v, "utf-8") || base_str_case_eq_cstr(v, "utf8")
                          ? NULL
                          : dup(p, v);
    } else if (base_str_eq_cstr(key, "on-error")) {
        if (!base_str_eq_cstr(v, "skip") && !base_str_eq_cstr(v, "fail"))
            return fail(p, BASE_E_INVALID, "on-error is skip or fail");
        m->on_error = base_str_eq_cstr(v, "fail") ? CSV_ON_ERROR_FAIL : CSV_ON_ERROR_SKIP;
    } else if (base_str_eq_cstr(key, "identity")) {
        TRY(set_identity(p, v));
    } else if (base_str_eq_cstr(key, "group")) {
        m->grouped = true;
        TRY(parse_template(p, v, &m->group));
    } else if (base_str_eq_cstr(key, "columns")) {
        TRY(set_columns(p, v));
    } else if (base_str_eq_cstr(key, "null")) {
        TRY(set_nulls(p, v));
    } else {
        return 0;
    }
    return 1;
}

static int
parse_lines(struct mparse *p, const char *text, size_t len)
{
    struct base_str rest = base_str_make(text, len);
    struct base_str line;
    bool more = len > 0;

    while (more) {
        more = base_str_cut(rest, '\n', &line, &rest);
        p->line++;
        line = base_str_trim(line);
        if (line.len > 0 && line.ptr[line.len - 1] == '\r')
            line = base_str_trim(base_str_make(line.ptr, line.len - 1));
        if (line.len == 0 || line.ptr[0] == '#')
            continue;
        if (!base_utf8_valid(line.ptr, line.len, NULL))
            return fail(p, BASE_E_PARSE, "not valid UTF-8");
        int d = directive(p, line);
        if (d < 0)
            return d;
        if (d == 0)
            TRY(add_rule(p, line));
    }
    return BASE_OK;
}

int
csv_mapping_parse(const char *text, size_t len, const struct csv_limits *lim,
                  struct csv_mapping **out, struct base_err *err)
{
    struct csv_limits deflim = csv_limits_default();
    struct mparse p = {.lim = lim != NULL ? lim : &deflim, .err = err};
    struct base_arena *a;
    int rc;

    *out = NULL;
    if (len > p.lim->max_mapping)
        return base_err_set(err, BASE_E_LIMIT, "too-costly", "mapping", "mapping exceeds %zu bytes",
                            p.lim->max_mapping);
    a = base_arena_new(0);
    if (a == NULL || (p.m = BASE_NEW(a, struct csv_mapping)) == NULL) {
        base_arena_free(a);
        return base_err_set(err, BASE_E_NOMEM, "exception", "mapping", "out of memory");
    }
    p.m->arena = a;
    rc = parse_lines(&p, text, len);
    if (rc == BASE_OK && p.m->resource == NULL)
        rc = base_err_set(err, BASE_E_INVALID, "required", "mapping", "mapping has no 'resource'");
    if (rc == BASE_OK && p.m->id_system == NULL)
        rc = base_err_set(err, BASE_E_INVALID, "required", "mapping", "mapping has no 'identity'");
    if (rc != BASE_OK) {
        base_arena_free(a);
        return rc;
    }
    *out = p.m;
    return BASE_OK;
}

void
csv_mapping_free(struct csv_mapping *m)
{
    if (m != NULL)
        base_arena_free(m->arena);
}

const char *
csv_mapping_resource(const struct csv_mapping *m)
{
    return m->resource;
}
