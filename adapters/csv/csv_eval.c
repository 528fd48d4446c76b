/*
 * Evaluating mapping rules against one row: template expansion (with
 * charset conversion for non-UTF-8 exports), conditions, transforms, and
 * storing the value at its element path.
 */
#include <iconv.h>
#include <stdio.h>
#include <string.h>

#include "adapters/csv/csv_int.h"
#include "adapters/mapkit/mapkit.h"
#include "fhir/json/fhir_json.h"

static bool
is_null(const struct csv_row *row, struct base_str v)
{
    for (size_t i = 0; i < row->nnulls; i++) {
        if (base_str_eq_cstr(v, row->nulls[i]))
            return true;
    }
    return false;
}

static int
blame_field(const struct csv_row *row, size_t colref, struct csv_blame *blame)
{
    size_t idx = row->colidx[colref];

    if (blame != NULL && idx != SIZE_MAX && idx < row->rec->nfields) {
        blame->column = row->rec->field_col[idx];
        blame->name = row->names[idx];
    }
    return BASE_OK;
}

/* The field behind a colref, trimmed; empty when absent.  Converted to
 * UTF-8 for other encodings; invalid text is an error. */
static int
field(const struct csv_row *row, size_t colref, struct base_str *out, struct csv_blame *blame,
      struct base_err *err)
{
    size_t idx = row->colidx[colref];
    struct base_str v;

    *out = BASE_STR_NULL;
    if (idx == SIZE_MAX || idx >= row->rec->nfields)
        return BASE_OK;
    v = base_str_trim(row->rec->field[idx]);
    if (is_null(row, v))
        return BASE_OK;
    if (row->iconv != NULL && v.len > 0) {
        char *in = (char *)v.ptr; /* iconv's prototype is not const-correct */
        size_t inleft = v.len;
        char *o;
        size_t oleft;

        base_buf_reset(row->conv);
        if (base_buf_reserve(row->conv, v.len * 4 + 4) != BASE_OK)
            return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        o = row->conv->data;
        oleft = v.len * 4 + 4;
        (void)iconv((iconv_t)row->iconv, NULL, NULL, NULL, NULL);
        if (iconv((iconv_t)row->iconv, &in, &inleft, &o, &oleft) == (size_t)-1) {
            (void)blame_field(row, colref, blame);
            return base_err_set(err, BASE_E_INVALID, "value", NULL,
                                "value is not valid in the file's encoding");
        }
        v = base_str_make(row->conv->data, (size_t)(o - row->conv->data));
    }
    if (!base_utf8_valid(v.ptr, v.len, NULL)) {
        (void)blame_field(row, colref, blame);
        return base_err_set(err, BASE_E_INVALID, "value", NULL, "value is not valid UTF-8");
    }
    *out = v;
    return BASE_OK;
}

int
csv_expand(const struct csv_template *t, const struct csv_row *row, struct csv_blame *blame,
           struct base_err *err)
{
    base_buf_reset(row->scratch);
    for (size_t i = 0; i < t->nparts; i++) {
        const struct csv_part *part = &t->parts[i];
        struct base_str v = base_str_from_cstr(part->literal);

        if (part->colref != SIZE_MAX) {
            TRY(field(row, part->colref, &v, blame, err));
            if (v.len > 0 && blame != NULL && blame->name == NULL)
                (void)blame_field(row, part->colref, blame);
        }
        if (base_buf_append_str(row->scratch, v) != BASE_OK)
            return base_err_set(err, BASE_E_LIMIT, "too-costly", NULL, "value is too long");
    }
    return BASE_OK;
}

/* Whether the template names any column that has a value in this row:
 * a literal alone ("http://loinc.org") always applies. */
static bool
has_value(const struct csv_template *t, const struct csv_row *row)
{
    bool any_col = false;

    for (size_t i = 0; i < t->nparts; i++) {
        size_t idx;

        if (t->parts[i].colref == SIZE_MAX)
            continue;
        any_col = true;
        idx = row->colidx[t->parts[i].colref];
        if (idx != SIZE_MAX && idx < row->rec->nfields &&
            base_str_trim(row->rec->field[idx]).len > 0 &&
            !is_null(row, base_str_trim(row->rec->field[idx])))
            return true;
    }
    return !any_col;
}

/* ------------------------------------------------------------- numbers */

/*
 * Numbers as spreadsheets write them, made the ASCII text FHIR's decimal
 * takes.  Full-width digits and signs (U+FF10-FF19, ＋－．，: Chinese IMEs)
 * become ASCII.  `mark` is the decimal mark the mapping gives (',' or '.'),
 * or 0: then the last of ',' and '.' is the mark when both occur
 * ("1,234.5", "1.234,5"), and a lone ',' is the mark unless three digits
 * follow it ("5,5" but "1,234" is ambiguous: refused).  The other separator,
 * spaces and no-break spaces group thousands and go, only between groups of
 * three digits.
 */
enum { NUM_OK, NUM_BAD, NUM_AMBIGUOUS };

static size_t
num_char(const unsigned char *p, size_t left, char *c)
{
    if (left >= 3 && p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x8B && p[2] <= 0x99 && p[2] != 0x8F) {
        *c = (char)(p[2] - 0x8B + '+'); /* U+FF0B..FF19 mirror '+'..'9' */
        return 3;
    }
    if (left >= 2 && p[0] == 0xC2 && p[1] == 0xA0) {
        *c = ' ';
        return 2;
    }
    if (left >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0xAF) {
        *c = ' '; /* U+202F narrow no-break space (French locales) */
        return 3;
    }
    *c = (char)p[0];
    return 1;
}

/* The ASCII form in out (at most v.len bytes), grouping not yet checked. */
static size_t
num_ascii(struct base_str v, char *out)
{
    const unsigned char *p = (const unsigned char *)v.ptr;
    size_t n = 0;

    for (size_t i = 0; i < v.len;) {
        i += num_char(p + i, v.len - i, &out[n]);
        n++;
    }
    return n;
}

static char
num_mark(const char *t, size_t n, char mark, int *state)
{
    const char *comma = memrchr(t, ',', n);
    const char *dot = memrchr(t, '.', n);
    size_t after = 0;

    if (mark != 0 || comma == NULL)
        return mark != 0 ? mark : '.';
    if (dot != NULL)
        return comma > dot ? ',' : '.';
    if (memchr(t, ',', (size_t)(comma - t)) != NULL)
        return '.'; /* "1,234,567": grouping */
    while (comma + 1 + after < t + n && comma[1 + after] >= '0' && comma[1 + after] <= '9')
        after++;
    if (after == 3 && comma + 4 == t + n)
        *state = NUM_AMBIGUOUS;
    return ',';
}

/* Drop grouping separators between groups of three digits; the mark -> '.'. */
static int
num_ungroup(char *t, size_t *n, char mark)
{
    size_t end = *n;
    size_t o = 0;
    size_t run = 0;
    bool grouped = false;
    bool frac = false;

    for (size_t i = 0; i < end; i++) {
        char c = t[i];

        if (c == mark && !frac) {
            if (grouped && run != 3)
                return NUM_BAD;
            t[o++] = '.';
            frac = true;
        } else if (!frac && (c == ',' || c == '.' || c == ' ' || c == '\'')) {
            if (run == 0 || run > 3 || (grouped && run != 3) || i + 1 == end)
                return NUM_BAD;
            grouped = true;
            run = 0;
        } else {
            run = c >= '0' && c <= '9' ? run + 1 : 0;
            t[o++] = c;
        }
    }
    if (grouped && !frac && run != 3)
        return NUM_BAD;
    *n = o;
    return NUM_OK;
}

/* Longer text is no number a spreadsheet cell holds (FHIR keeps 18 digits). */
#define CSV_NUMBER_MAX 128

static json_t *
csv_decimal(struct base_str v, char mark, int *state)
{
    char t[CSV_NUMBER_MAX];
    size_t n;
    json_t *j;

    *state = NUM_BAD;
    if (v.len == 0 || v.len > sizeof(t))
        return NULL;
    n = num_ascii(v, t);
    *state = NUM_OK;
    mark = num_mark(t, n, mark, state);
    if (*state == NUM_AMBIGUOUS)
        return NULL;
    *state = num_ungroup(t, &n, mark);
    if (*state != NUM_OK)
        return NULL;
    j = adapter_decimal(base_str_make(t, n));
    if (j == NULL)
        *state = NUM_BAD;
    return j;
}

static int
cond_holds(const struct csv_cond *c, const struct csv_row *row, bool *holds, struct base_err *err)
{
    struct base_str v;

    TRY(field(row, c->colref, &v, NULL, err));
    switch (c->op) {
    case COND_SET:
        *holds = v.len > 0;
        break;
    case COND_EQ:
        *holds = base_str_eq_cstr(v, c->value);
        break;
    case COND_NE:
        *holds = !base_str_eq_cstr(v, c->value);
        break;
    case COND_NUM:
    case COND_TEXT: {
        /* what the `decimal` transform would accept */
        int state;
        json_t *d = csv_decimal(v, 0, &state);

        *holds = c->op == COND_NUM ? d != NULL : (v.len > 0 && d == NULL);
        json_decref(d);
        break;
    }
    default:
        BASE_ASSERT_UNREACHABLE();
    }
    return BASE_OK;
}

/* ------------------------------------------------------------ transforms */

static int
xf_date(const struct csv_transform *xf, const struct csv_row *row, bool want_date,
        struct base_err *err)
{
    char out[ADAPTER_TS_MAX];
    size_t n = csv_date_parse(base_buf_str(row->scratch), xf->args, xf->nargs, want_date,
                              row->default_tz, out, sizeof(out));

    if (n == 0)
        return base_err_set(err, BASE_E_INVALID, "value", NULL,
                            want_date ? "value is not a date in the expected format"
                                      : "value is not a date-time in the expected format");
    base_buf_reset(row->scratch);
    return base_buf_append(row->scratch, out, n);
}

static int
xf_map(const struct csv_transform *xf, const struct csv_row *row, struct base_err *err)
{
    struct base_str v = base_buf_str(row->scratch);
    const char *to = NULL;

    for (size_t i = 0; i < xf->nargs && to == NULL; i++) {
        const char *eq = strchr(xf->args[i], '=');
        struct base_str from = base_str_make(xf->args[i], (size_t)(eq - xf->args[i]));

        if (base_str_eq(from, v) || base_str_eq_cstr(from, "*"))
            to = eq + 1;
    }
    if (to == NULL)
        return base_err_set(err, BASE_E_INVALID, "code-invalid", NULL,
                            "value is not one the mapping knows");
    base_buf_reset(row->scratch);
    return base_buf_append_cstr(row->scratch, to);
}

static int
xf_case(const struct csv_row *row, bool upper)
{
    for (size_t i = 0; i < row->scratch->len; i++) {
        char c = row->scratch->data[i];

        if (upper && c >= 'a' && c <= 'z')
            row->scratch->data[i] = (char)(c - 'a' + 'A');
        if (!upper && c >= 'A' && c <= 'Z')
            row->scratch->data[i] = (char)(c - 'A' + 'a');
    }
    return BASE_OK;
}

static int
xf_uuid(const struct csv_row *row)
{
    char uuid[ADAPTER_UUID_LEN + 1];

    adapter_uuid5(row->scratch->data != NULL ? row->scratch->data : "", row->scratch->len, uuid);
    base_buf_reset(row->scratch);
    TRY(base_buf_append_cstr(row->scratch, "urn:uuid:"));
    return base_buf_append_cstr(row->scratch, uuid);
}

/*
 * A comparator in front of a number, as LIS exports write results below or
 * above what the analyser measures ("<0.5", ">=60", "≤5", full-width
 * "＜0.5"): its FHIR code (R4 Quantity.comparator, value set
 * quantity-comparator) and its length in bytes (blanks around it
 * included), or NULL.  Read as a plain number, "<0.5" would claim 0.5 was measured.
 */
static const char *
num_comparator(struct base_str v, size_t *len)
{
    static const struct {
        const char *text, *code;
    } forms[] = {
        {"<=", "<="},
        {">=", ">="},
        {"\xe2\x89\xa4", "<="},
        {"\xe2\x89\xa5", ">="},
        {"\xef\xbc\x9c\xef\xbc\x9d", "<="},
        {"\xef\xbc\x9e\xef\xbc\x9d", ">="},
        {"<", "<"},
        {">", ">"},
        {"\xef\xbc\x9c", "<"},
        {"\xef\xbc\x9e", ">"},
    };
    size_t lead = 0;

    while (lead < v.len && (v.ptr[lead] == ' ' || v.ptr[lead] == '\t'))
        lead++;
    for (size_t i = 0; i < BASE_ARRAY_LEN(forms); i++) {
        size_t n = strlen(forms[i].text);

        if (v.len - lead >= n && memcmp(v.ptr + lead, forms[i].text, n) == 0) {
            n += lead;
            while (n < v.len && (v.ptr[n] == ' ' || v.ptr[n] == '\t'))
                n++; /* "> 100" */
            *len = n;
            return forms[i].code;
        }
    }
    *len = 0;
    return NULL;
}

/* `decimal [,|.] [comparator]`: the mark, and whether a comparator may
 * lead (the mapping then maps it with the `comparator` transform). */
static char
decimal_args(const struct csv_transform *xf, bool *comparator)
{
    char mark = 0;

    *comparator = false;
    for (size_t i = 0; i < xf->nargs; i++) {
        if (strcmp(xf->args[i], "comparator") == 0)
            *comparator = true;
        else
            mark = xf->args[i][0];
    }
    return mark;
}

static int
xf_comparator(const struct csv_row *row)
{
    size_t n;
    const char *code = num_comparator(base_buf_str(row->scratch), &n);

    base_buf_reset(row->scratch);
    return code != NULL ? base_buf_append_cstr(row->scratch, code) : BASE_OK;
}

/* The transforms that end in a JSON value other than a string. */
static json_t *
xf_json(const struct csv_transform *xf, const struct csv_row *row, struct base_err *err)
{
    struct base_str v = base_buf_str(row->scratch);
    int64_t n;
    json_t *j = NULL;

    switch (xf->kind) {
    case XF_DECIMAL: {
        int state;
        bool comparator;
        char mark = decimal_args(xf, &comparator);
        size_t skip = 0;

        if (comparator)
            (void)num_comparator(v, &skip);
        j = csv_decimal(base_str_make(v.ptr + skip, v.len - skip), mark, &state);
        if (state == NUM_AMBIGUOUS)
            (void)base_err_set(err, BASE_E_INVALID, "value", NULL,
                               "number with one ',' and three digits after it is ambiguous; "
                               "write 'decimal ,' or 'decimal .' in the mapping");
        else if (j == NULL)
            (void)base_err_set(err, BASE_E_INVALID, "value", NULL, "value is not a number");
        return j;
    }
    case XF_INTEGER:
        if (!base_str_to_i64(base_str_trim(v), &n) || n < INT32_MIN || n > INT32_MAX) {
            (void)base_err_set(err, BASE_E_INVALID, "value", NULL, "value is not an integer");
            return NULL;
        }
        return json_integer(n);
    case XF_BOOLEAN:
        if (base_str_case_eq_cstr(v, "true") || base_str_case_eq_cstr(v, "yes") ||
            base_str_case_eq_cstr(v, "y") || base_str_eq_cstr(v, "1"))
            return json_true();
        if (base_str_case_eq_cstr(v, "false") || base_str_case_eq_cstr(v, "no") ||
            base_str_case_eq_cstr(v, "n") || base_str_eq_cstr(v, "0"))
            return json_false();
        (void)base_err_set(err, BASE_E_INVALID, "value", NULL, "value is not a boolean");
        return NULL;
    case XF_REF: {
        /* FHIR R4 http.html#trules: a conditional reference, resolved by the
         * server when it processes the transaction.  conv is free here and
         * gives the NUL-terminated copy the query builder needs. */
        json_t *url;

        base_buf_reset(row->conv);
        if (base_buf_append_str(row->conv, v) != BASE_OK || row->conv->data == NULL)
            return NULL;
        url = adapter_identifier_query(xf->args[0], xf->args[1], row->conv->data);
        return url != NULL ? json_pack("{s:o}", "reference", url) : NULL;
    }
    default:
        BASE_ASSERT_UNREACHABLE();
    }
    return NULL;
}

static int
apply_transforms(const struct csv_rule *r, const struct csv_row *row, json_t **out,
                 struct base_err *err)
{
    *out = NULL;
    for (size_t i = 0; i < r->nxf; i++) {
        const struct csv_transform *xf = &r->xf[i];

        switch (xf->kind) {
        case XF_DATE:
        case XF_DATETIME:
            TRY(xf_date(xf, row, xf->kind == XF_DATE, err));
            break;
        case XF_MAP:
            TRY(xf_map(xf, row, err));
            break;
        case XF_UUID:
            TRY(xf_uuid(row));
            break;
        case XF_COMPARATOR:
            TRY(xf_comparator(row));
            break;
        case XF_UPPER:
        case XF_LOWER:
            TRY(xf_case(row, xf->kind == XF_UPPER));
            break;
        default:
            *out = xf_json(xf, row, err);
            return *out != NULL ? BASE_OK : (err->rc != 0 ? err->rc : BASE_E_NOMEM);
        }
    }
    if (row->scratch->len == 0)
        return BASE_OK; /* e.g. map M=  : mapped to nothing */
    *out = json_stringn(row->scratch->data, row->scratch->len);
    return *out != NULL ? BASE_OK : BASE_E_NOMEM;
}

int
csv_eval_rule(const struct csv_mapping *m, const struct csv_rule *r, const struct csv_row *row,
              json_t **out, struct csv_blame *blame, struct base_err *err)
{
    (void)m;
    *out = NULL;
    for (size_t i = 0; i < r->ncond; i++) {
        bool holds = false;

        TRY(cond_holds(&r->cond[i], row, &holds, err));
        if (!holds)
            return BASE_OK;
    }
    if (!has_value(&r->tpl, row)) {
        if (!r->required)
            return BASE_OK;
        for (size_t i = 0; i < r->tpl.nparts && blame->name == NULL; i++) {
            if (r->tpl.parts[i].colref != SIZE_MAX)
                (void)blame_field(row, r->tpl.parts[i].colref, blame);
        }
        return base_err_set(err, BASE_E_INVALID, "required", NULL, "required value is empty");
    }
    TRY(csv_expand(&r->tpl, row, blame, err));
    return apply_transforms(r, row, out, err);
}

/* ------------------------------------------------------------------ paths */

static json_t *
child_container(json_t *parent, const char *name, bool array)
{
    json_t *c = json_object_get(parent, name);

    if (c == NULL) {
        c = array ? json_array() : json_object();
        if (c == NULL || json_object_set_new(parent, name, c) != 0)
            return NULL;
    }
    return (array ? json_is_array(c) : json_is_object(c)) ? c : NULL;
}

/* The array element a segment selects; creates it (an object when the
 * path goes on) when needed.  *created tells whether it is new. */
static json_t *
array_slot(json_t *arr, const struct csv_seg *seg, bool last, bool *created)
{
    size_t n = json_array_size(arr);
    bool make = seg->op == SEG_NEW || (seg->op == SEG_LAST && n == 0) ||
                (seg->op == SEG_INDEX && seg->index >= n);

    *created = make;
    if (!make)
        return json_array_get(arr, seg->op == SEG_INDEX ? seg->index : n - 1);
    if (last)
        return NULL; /* the caller appends the value itself */
    json_t *o = json_object();
    if (o == NULL || json_array_append_new(arr, o) != 0)
        return NULL;
    return o;
}

int
csv_path_set(json_t *res, const struct csv_path *path, json_t *v, struct base_err *err)
{
    json_t *cur = res;

    for (size_t i = 0; i < path->n; i++) {
        const struct csv_seg *seg = &path->seg[i];
        bool last = i + 1 == path->n;
        bool created = false;

        if (seg->op == SEG_FIELD && last) {
            if (json_object_get(cur, seg->name) == NULL) /* first value wins */
                return json_object_set_new(cur, seg->name, v) == 0 ? BASE_OK : BASE_E_NOMEM;
            json_decref(v);
            return BASE_OK;
        }
        json_t *next = child_container(cur, seg->name, seg->op != SEG_FIELD);
        if (next != NULL && seg->op != SEG_FIELD) {
            json_t *arr = next;

            next = array_slot(arr, seg, last, &created);
            if (last) {
                if (created)
                    return json_array_append_new(arr, v) == 0 ? BASE_OK : BASE_E_NOMEM;
                json_decref(v);
                return BASE_OK;
            }
        }
        if (next == NULL || !json_is_object(next)) {
            json_decref(v);
            return base_err_set(err, BASE_E_INVALID, "structure", NULL,
                                "mapping path runs into a value of another kind");
        }
        cur = next;
    }
    json_decref(v);
    return BASE_OK;
}
