/*
 * Loading a CSV export with a mapping: header -> column positions, each row
 * (or group of consecutive rows) -> one resource keyed by its identity,
 * resources -> transaction Bundles of `batch_rows`, bad rows -> reports.
 *
 * Memory stays bounded: one record, one resource (or group), one Bundle
 * batch at a time, whatever the file size.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/csv/csv_int.h"
#include "adapters/mapkit/mapkit.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"

struct csv_load {
    const struct csv_mapping *m;
    struct csv_limits lim;
    struct csv_load_options opt;
    csv_bundle_fn on_bundle;
    csv_row_error_fn on_row_error;
    void *ctx;
    struct csv_reader *reader;
    enum csv_on_error policy;
    struct base_arena *arena; /* header names, column positions */
    bool have_header;
    unsigned char head[2]; /* the export's first bytes, for the UTF-16 check */
    size_t nhead;
    iconv_t u16;   /* UTF-16 export (BOM) -> UTF-8, else (iconv_t)-1 */
    char carry[4]; /* a UTF-16 character split between feeds */
    size_t ncarry;
    size_t u16_lines; /* line feeds decoded so far, for errors */
    size_t nheader;
    const char **names;
    size_t *colidx;
    iconv_t cd;              /* (iconv_t)-1 for UTF-8 */
    struct base_buf scratch; /* template expansion */
    struct base_buf conv;    /* charset conversion */
    struct base_buf group;   /* key of the group being built */
    struct base_buf idval;   /* identity value of the resource being built */
    json_t **values;         /* per rule, for one row */
    json_t *res;             /* resource being built */
    size_t group_rows;
    size_t res_line; /* line of the row that started `res` */
    struct adapter_tx tx;
    bool tx_open;
    struct csv_report report;
    struct base_err fatal; /* what stopped the load */
};

/* ------------------------------------------------------------ reporting */

static int
row_error(struct csv_load *l, size_t line, size_t column, const char *name,
          const struct base_err *e)
{
    struct base_err copy = *e;
    struct csv_row_error re = {l->opt.source_name != NULL ? l->opt.source_name : "-", line, column,
                               name, &copy};
    int rc;

    if (column > 0)
        (void)snprintf(copy.where, sizeof(copy.where), "line %zu, column %zu%s%s%s", line, column,
                       name != NULL ? " (" : "", name != NULL ? name : "", name != NULL ? ")" : "");
    else
        (void)snprintf(copy.where, sizeof(copy.where), "line %zu", line);
    l->report.rows_bad++;
    rc = l->on_row_error != NULL ? l->on_row_error(l->ctx, &re) : BASE_OK;
    if (rc < 0)
        return base_err_set(&l->fatal, rc, "exception", copy.where, "load stopped");
    if (l->policy == CSV_ON_ERROR_FAIL) {
        l->fatal = copy;
        return copy.rc < 0 ? copy.rc : BASE_E_INVALID;
    }
    return BASE_OK;
}

static int
nomem(struct csv_load *l)
{
    return base_err_set(&l->fatal, BASE_E_NOMEM, "exception", "csv", "out of memory");
}

/* --------------------------------------------------------------- batches */

static int
emit_batch(struct csv_load *l)
{
    json_t *b;

    if (!l->tx_open || adapter_tx_count(&l->tx) == 0)
        return BASE_OK;
    b = adapter_tx_take(&l->tx);
    adapter_tx_fini(&l->tx);
    l->tx_open = false;
    if (b == NULL)
        return nomem(l);
    l->report.bundles++;
    if (l->on_bundle == NULL) {
        json_decref(b);
        return BASE_OK;
    }
    int rc = l->on_bundle(l->ctx, b);
    if (rc < 0)
        return base_err_set(&l->fatal, rc, "exception", "csv", "load stopped");
    return BASE_OK;
}

static int
add_identity(struct csv_load *l, json_t *res)
{
    json_t *ids = json_object_get(res, "identifier");
    size_t i;
    json_t *id;

    json_array_foreach(ids, i, id)
    {
        const char *sys = json_string_value(json_object_get(id, "system"));
        const char *val = json_string_value(json_object_get(id, "value"));

        if (sys != NULL && val != NULL && strcmp(sys, l->m->id_system) == 0 &&
            base_str_eq_cstr(base_buf_str(&l->idval), val))
            return BASE_OK;
    }
    /* the identity goes first: it is what the Bundle entry is keyed on */
    json_t *mine =
        json_pack("{s:s,s:s%}", "system", l->m->id_system, "value", l->idval.data, l->idval.len);
    if (ids == NULL)
        return adapter_jpush(res, "identifier", mine);
    return json_array_insert_new(ids, 0, mine) == 0 ? BASE_OK : BASE_E_NOMEM;
}

/* Rows of one group repeat what they share (the same identifier on every
 * row of a patient): drop array elements equal to an earlier one. */
static void
dedupe_arrays(json_t *v)
{
    const char *key;
    json_t *x;
    size_t i;

    if (json_is_object(v)) {
        json_object_foreach(v, key, x) dedupe_arrays(x);
        return;
    }
    if (!json_is_array(v))
        return;
    for (i = 0; i < json_array_size(v); i++) {
        dedupe_arrays(json_array_get(v, i));
        for (size_t j = 0; j < i; j++) {
            if (fhir_json_equal(json_array_get(v, j), json_array_get(v, i))) {
                (void)json_array_remove(v, i--);
                break;
            }
        }
    }
}

/* Whether `res` is new to the batch or equal to the entry it would share
 * an identity with (an export that repeats a row). */
static bool
same_as_earlier(const struct csv_load *l, const json_t *res)
{
    const char *url = adapter_tx_find(&l->tx, l->m->resource, l->m->id_system, l->idval.data);
    size_t i;
    json_t *e;

    if (url == NULL)
        return true;
    json_array_foreach(l->tx.entries, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "fullUrl")), url) == 0)
            return fhir_json_equal(json_object_get(e, "resource"), res);
    }
    return true;
}

/* The resource being built is complete: into the batch. */
static int
flush_resource(struct csv_load *l)
{
    json_t *res = l->res;
    size_t before;
    int rc;

    if (res == NULL)
        return BASE_OK;
    l->res = NULL;
    if (l->m->grouped && l->group_rows > 1)
        dedupe_arrays(res); /* depth is bounded by the mapping's paths */
    if (add_identity(l, res) != BASE_OK) {
        json_decref(res);
        return nomem(l);
    }
    if (!l->tx_open) {
        TRY(adapter_tx_init(&l->tx, 0, &l->fatal));
        l->tx_open = true;
    }
    bool clash = !same_as_earlier(l, res);
    before = adapter_tx_count(&l->tx);
    rc = adapter_tx_put(&l->tx, res, l->m->id_system, l->idval.data, NULL, &l->fatal);
    if (rc != BASE_OK)
        return rc;
    l->report.resources += adapter_tx_count(&l->tx) - before;
    if (clash) {
        /* the Bundle keeps one entry per identity (the first): a later
         * row with the same identity and other values is not lost quietly */
        struct base_err e = {0};

        (void)base_err_set(&e, BASE_E_INVALID, "duplicate", NULL,
                           "an earlier row has the same identity and other values; "
                           "this row was not loaded");
        if (l->report.rows_ok > 0)
            l->report.rows_ok--;
        TRY(row_error(l, l->res_line, 0, NULL, &e));
    }
    if (adapter_tx_count(&l->tx) >= l->opt.batch_rows)
        return emit_batch(l);
    return BASE_OK;
}

/* ---------------------------------------------------------------- header */

/* One character of a header name, folded: ASCII letters to lower case, and
 * the full-width forms a Chinese IME types (U+FF01-FF5E "ＩＤ", U+3000 the
 * ideographic space) to their ASCII twins -- a WPS or HIS report header
 * "ＰＡＴＩＥＮＴ＿ＩＤ" names the column the mapping calls PATIENT_ID.
 * Returns the bytes read. */
static size_t
name_char(const unsigned char *p, unsigned *c)
{
    size_t n = 1;

    *c = p[0];
    if (p[0] == 0xEF && (p[1] == 0xBC || p[1] == 0xBD) && p[2] >= 0x80 && p[2] <= 0xBF) {
        unsigned cp = 0xFF00 + (p[1] == 0xBD ? 0x40u : 0u) + (p[2] - 0x80u);

        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            *c = cp - 0xFF01 + '!';
            n = 3;
        }
    } else if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) {
        *c = ' ';
        n = 3;
    }
    if (*c >= 'A' && *c <= 'Z')
        *c = *c - 'A' + 'a';
    return n;
}

/* Header names equal exactly, or (`folded`) ignoring ASCII case and the
 * full-width forms of ASCII. */
static bool
name_eq(const char *a, const char *b, bool folded)
{
    const unsigned char *x = (const unsigned char *)a;
    const unsigned char *y = (const unsigned char *)b;

    if (!folded)
        return strcmp(a, b) == 0;
    while (*x != '\0' && *y != '\0') {
        unsigned cx;
        unsigned cy;

        x += name_char(x, &cx);
        y += name_char(y, &cy);
        if (cx != cy)
            return false;
    }
    return *x == *y;
}

/* Header field `from`+1.. that has the name of field `i` too, or SIZE_MAX. */
static size_t
same_name_after(const struct csv_load *l, size_t i, bool folded)
{
    for (size_t j = i + 1; j < l->nheader; j++) {
        if (name_eq(l->names[i], l->names[j], folded))
            return j;
    }
    return SIZE_MAX;
}

static int
resolve_columns(struct csv_load *l, size_t line)
{
    const struct csv_mapping *m = l->m;

    for (size_t r = 0; r < m->ncolrefs; r++) {
        const struct csv_colref *ref = &m->colrefs[r];

        l->colidx[r] = SIZE_MAX;
        /* exact names first; then ignoring ASCII case, because exporters
         * change it between versions (Synthea 1.x/2.0 "ID", later "Id")
         * and a column's name is not its meaning's case, nor its width */
        for (int ci = 0; ci < 2 && l->colidx[r] == SIZE_MAX; ci++) {
            for (size_t k = 0; k < ref->nnames && l->colidx[r] == SIZE_MAX; k++) {
                for (size_t i = 0; i < l->nheader; i++) {
                    if (name_eq(l->names[i], ref->names[k], ci != 0)) {
                        l->colidx[r] = i;
                        break;
                    }
                }
                /* a join in the HIS report ("姓名" of the patient and of the
                 * doctor): picking one would be a guess at whose value */
                size_t dup =
                    l->colidx[r] != SIZE_MAX ? same_name_after(l, l->colidx[r], ci != 0) : SIZE_MAX;
                if (dup != SIZE_MAX) {
                    char where[32];

                    (void)snprintf(where, sizeof(where), "line %zu", line);
                    return base_err_set(&l->fatal, BASE_E_INVALID, "duplicate", where,
                                        "header names column %.60s twice (fields %zu and %zu); "
                                        "rename one in the export or the mapping",
                                        ref->names[k], l->colidx[r] + 1, dup + 1);
                }
            }
        }
        if (l->colidx[r] == SIZE_MAX && !ref->optional) {
            char where[32];

            (void)snprintf(where, sizeof(where), "line %zu", line);
            /* column names are the export's schema, not patient data */
            return base_err_set(&l->fatal, BASE_E_INVALID, "required", where,
                                "header has no column %.60s, which the mapping needs",
                                ref->names[0]);
        }
    }
    return BASE_OK;
}

/* Header names of a non-UTF-8 export, converted like the values. */
static int
header_utf8(struct csv_load *l, struct base_str *name)
{
    char *in = (char *)name->ptr; /* iconv's prototype is not const-correct */
    size_t inleft = name->len;
    char *o;
    size_t oleft = name->len * 4 + 4;

    base_buf_reset(&l->conv);
    if (name->len == 0)
        return BASE_OK;
    if (base_buf_reserve(&l->conv, oleft) != BASE_OK)
        return BASE_E_NOMEM;
    o = l->conv.data;
    (void)iconv(l->cd, NULL, NULL, NULL, NULL);
    if (iconv(l->cd, &in, &inleft, &o, &oleft) == (size_t)-1)
        return BASE_E_INVALID;
    *name = base_str_make(l->conv.data, (size_t)(o - l->conv.data));
    return BASE_OK;
}

/* Whether a header's high bytes come in pairs as GBK characters do (GB2312
 * hanzi are two bytes of 0xA1-0xFE: "病案号") rather than alone between
 * ASCII letters as Latin-1 / Windows-1252 accents do ("Pr\xe9nom"). */
static bool
header_looks_gbk(const struct csv_record *rec)
{
    size_t pairs = 0;
    size_t singles = 0;

    for (size_t i = 0; i < rec->nfields; i++) {
        const unsigned char *u = (const unsigned char *)rec->field[i].ptr;
        size_t len = rec->field[i].len;

        for (size_t at = 0; at < len; at++) {
            if (u[at] < 0x80)
                continue;
            if (at + 1 < len && u[at] >= 0xA1 && u[at + 1] >= 0xA1) {
                pairs++;
                at++;
            } else {
                singles++;
            }
        }
    }
    return pairs > singles;
}

/* Latin-1 header names hold letters and signs of 0xA0-0xFF ("Pr\xe9nom",
 * "Gr\xf6\xdfe", "Temp \xb0C"); 0x80-0x9F are control characters there (and
 * Windows-1252's quotes and dashes, which no column name needs): a header
 * with them is no Latin-1 text -- a lone 0x80 is refused, not read as "EUR". */
static bool
header_latin1(const struct csv_record *rec)
{
    for (size_t i = 0; i < rec->nfields; i++) {
        for (size_t at = 0; at < rec->field[i].len; at++) {
            unsigned char b = (unsigned char)rec->field[i].ptr[at];

            if (b >= 0x80 && b < 0xA0)
                return false;
        }
    }
    return true;
}

/* The header converted by a fresh iconv from `enc`; false (no descriptor
 * kept) when a name is not valid there. */
static bool
header_reads_as(struct csv_load *l, const struct csv_record *rec, const char *enc)
{
    if (strcmp(enc, "WINDOWS-1252") == 0 && !header_latin1(rec))
        return false;
    l->cd = iconv_open("UTF-8", enc);
    for (size_t j = 0; l->cd != (iconv_t)-1 && j < rec->nfields; j++) {
        struct base_str name = rec->field[j];

        if (header_utf8(l, &name) != BASE_OK) {
            (void)iconv_close(l->cd);
            l->cd = (iconv_t)-1;
        }
    }
    return l->cd != (iconv_t)-1;
}

/*
 * A mapping without `encoding` reads UTF-8.  Excel's plain "CSV" on a
 * Chinese Windows saves in code page 936 (GBK) without a BOM, and WPS does
 * the same: then the header is not UTF-8 and would match no column.  Such a
 * header is read as GB18030 (a superset of GBK, GB 18030-2005) when its high
 * bytes pair as GBK's do, and the rows with it.  Excel on a Western Windows
 * writes code page 1252 the same way; GB18030 takes nearly any byte pair, so
 * "Pr\xe9nom" read that way became "Pr" and a hanzi and matched nothing (or,
 * worse, the rows' names turned Chinese): a header whose high bytes stand
 * alone is Windows-1252 first.  A header valid in neither is
 * refused naming the first bad byte.
 */
static int
detect_encoding(struct csv_load *l, const struct csv_record *rec)
{
    /* Windows-1252 is ISO-8859-1 in 0xA0-0xFF, and reads the rows' curly
     * quotes and euro signs (0x80-0x9F) that Excel writes */
    static const char *const chinese[] = {"GB18030", "WINDOWS-1252"};
    static const char *const western[] = {"WINDOWS-1252", "GB18030"};
    const char *const *order;
    char where[64];
    size_t bad = 0;
    size_t i = 0;

    if (l->cd != (iconv_t)-1 || l->m->encoding != NULL)
        return BASE_OK;
    while (i < rec->nfields && base_utf8_valid(rec->field[i].ptr, rec->field[i].len, &bad))
        i++;
    if (i == rec->nfields)
        return BASE_OK;
    order = header_looks_gbk(rec) ? chinese : western;
    for (size_t k = 0; k < 2; k++) {
        if (header_reads_as(l, rec, order[k]))
            return BASE_OK;
    }
    (void)snprintf(where, sizeof(where), "line %zu, column %zu", rec->field_line[i],
                   rec->field_col[i] + bad);
    return base_err_set(&l->fatal, BASE_E_INVALID, "value", where,
                        "header is neither UTF-8, GB18030 nor Latin-1; give the export's "
                        "encoding in the mapping");
}

static int
take_header(struct csv_load *l, const struct csv_record *rec)
{
    if (detect_encoding(l, rec) != BASE_OK)
        return l->fatal.rc;
    l->nheader = rec->nfields;
    l->names = BASE_NEW_N(l->arena, const char *, rec->nfields + 1);
    if (l->names == NULL)
        return nomem(l);
    for (size_t i = 0; i < rec->nfields; i++) {
        struct base_str name = base_str_trim(rec->field[i]);

        if (l->cd != (iconv_t)-1 && header_utf8(l, &name) != BASE_OK) {
            char where[32];

            (void)snprintf(where, sizeof(where), "line %zu", rec->line);
            return base_err_set(&l->fatal, BASE_E_INVALID, "value", where,
                                "header is not valid in the mapping's encoding");
        }
        l->names[i] = base_str_dup0(l->arena, name);
        if (l->names[i] == NULL)
            return nomem(l);
    }
    /* unnamed columns at the end ("A,B,," - spreadsheets save the empty
     * cells right of a table) are not columns; rows may then end early */
    while (l->nheader > 0 && l->names[l->nheader - 1][0] == '\0')
        l->nheader--;
    l->have_header = true;
    return resolve_columns(l, rec->line);
}

/* ------------------------------------------------------------------ rows */

static void
row_view(struct csv_load *l, const struct csv_record *rec, struct csv_row *row)
{
    row->rec = rec;
    row->colidx = l->colidx;
    row->names = l->names;
    row->default_tz = l->opt.default_tz;
    row->iconv = l->cd == (iconv_t)-1 ? NULL : (void *)l->cd;
    row->nulls = csv_mapping_nulls(l->m, &row->nnulls);
    row->scratch = &l->scratch;
    row->conv = &l->conv;
}

static int
row_failed(struct csv_load *l, const struct csv_record *rec, const struct csv_blame *b,
           const struct base_err *e)
{
    for (size_t i = 0; i < l->m->nrules; i++) {
        json_decref(l->values[i]);
        l->values[i] = NULL;
    }
    return row_error(l, rec->line, b->column, b->name, e);
}

/* Start the resource for a row that begins a new group (or any row when
 * there is no grouping): identity first, it keys the Bundle entry. */
static int
start_resource(struct csv_load *l, const struct csv_row *row, struct csv_blame *b,
               struct base_err *e)
{
    json_t *id = NULL;

    l->res_line = row->rec->line;
    TRY(csv_eval_rule(l->m, &l->m->identity, row, &id, b, e));
    if (id == NULL || !fhir_json_is_string(id)) {
        json_decref(id);
        return base_err_set(e, BASE_E_INVALID, "required", NULL, "row has no identity value");
    }
    base_buf_reset(&l->idval);
    if (base_buf_append_cstr(&l->idval, json_string_value(id)) != BASE_OK) {
        json_decref(id);
        return base_err_set(e, BASE_E_LIMIT, "too-costly", NULL, "identity is too long");
    }
    json_decref(id);
    l->res = json_pack("{s:s}", "resourceType", l->m->resource);
    l->group_rows = 0;
    return l->res != NULL ? BASE_OK : BASE_E_NOMEM;
}

/* Grouping: consecutive rows with the same group key make one resource. */
static int
next_group(struct csv_load *l, const struct csv_row *row, struct csv_blame *b, struct base_err *e,
           bool *fresh)
{
    *fresh = true;
    if (l->m->grouped) {
        TRY(csv_expand(&l->m->group, row, b, e));
        if (l->res != NULL && base_str_eq(base_buf_str(&l->scratch), base_buf_str(&l->group)) &&
            l->group_rows < l->lim.max_group) {
            *fresh = false;
            return BASE_OK;
        }
        base_buf_reset(&l->group);
        TRY(base_buf_append_str(&l->group, base_buf_str(&l->scratch)));
    }
    TRY(flush_resource(l));
    return start_resource(l, row, b, e);
}

/* Whether the fields past the header's `n` columns - spreadsheets write
 * empty cells right of a table, "a,b,," - are all empty.  A row with fewer
 * fields is never read as one: an unquoted line break splits rows that way. */
static bool
only_empty_beyond(const struct csv_record *rec, size_t n)
{
    if (rec->nfields < n)
        return false;
    for (size_t i = n; i < rec->nfields; i++) {
        if (base_str_trim(rec->field[i]).len > 0)
            return false;
    }
    return true;
}

static int
take_row(struct csv_load *l, const struct csv_record *rec)
{
    struct csv_blame blame = {0};
    struct base_err e = {0};
    struct csv_row row;
    bool fresh = true;
    int rc;

    l->report.rows++;
    if (rec->nfields != l->nheader && !only_empty_beyond(rec, l->nheader)) {
        size_t col = rec->nfields > l->nheader ? rec->field_col[l->nheader] : 0;

        (void)base_err_set(&e, BASE_E_INVALID, "structure", NULL,
                           "record has %zu fields; the header has %zu", rec->nfields, l->nheader);
        return row_error(l, rec->line, col, NULL, &e);
    }
    row_view(l, rec, &row);
    rc = next_group(l, &row, &blame, &e, &fresh);
    if (rc != BASE_OK && l->fatal.rc != 0)
        return rc; /* a Bundle callback stopped the load */
    if (rc != BASE_OK)
        return row_failed(l, rec, &blame, &e);
    for (size_t i = 0; i < l->m->nrules; i++) {
        memset(&blame, 0, sizeof(blame));
        if (csv_eval_rule(l->m, &l->m->rules[i], &row, &l->values[i], &blame, &e) != BASE_OK) {
            if (fresh) {
                json_decref(l->res); /* the group it started is dropped with it */
                l->res = NULL;
            }
            return row_failed(l, rec, &blame, &e);
        }
    }
    for (size_t i = 0; i < l->m->nrules; i++) {
        json_t *v = l->values[i];

        l->values[i] = NULL;
        if (v != NULL && csv_path_set(l->res, &l->m->rules[i].path, v, &e) != BASE_OK)
            rc = rc != BASE_OK ? rc : e.rc;
    }
    if (rc != BASE_OK)
        return row_error(l, rec->line, 0, NULL, &e);
    l->group_rows++;
    l->report.rows_ok++;
    return BASE_OK;
}

static int
on_record(void *ctx, const struct csv_record *rec)
{
    struct csv_load *l = ctx;

    if (!l->have_header)
        return take_header(l, rec);
    return take_row(l, rec);
}

static int
on_syntax(void *ctx, size_t line, size_t column, const struct base_err *err)
{
    struct csv_load *l = ctx;

    l->report.rows += l->have_header;
    return row_error(l, line, column, NULL, err);
}

/* ------------------------------------------------------------------- API */

static int
setup(struct csv_load *l, struct base_err *err)
{
    const struct csv_mapping *m = l->m;

    l->arena = base_arena_new(0);
    l->colidx = l->arena != NULL ? BASE_NEW_N(l->arena, size_t, m->ncolrefs + 1) : NULL;
    l->values = l->arena != NULL ? BASE_NEW_N(l->arena, json_t *, m->nrules + 1) : NULL;
    if (l->colidx == NULL || l->values == NULL ||
        csv_reader_new(m->delimiter, &l->lim, on_record, on_syntax, l, &l->reader) != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", "csv", "out of memory");
    if (m->encoding != NULL && (l->cd = iconv_open("UTF-8", m->encoding)) == (iconv_t)-1)
        return base_err_set(err, BASE_E_INVALID, "not-supported", "mapping",
                            "the mapping's encoding is not supported");
    if (m->ncolumns > 0) {
        struct base_str *f = BASE_NEW_N(l->arena, struct base_str, m->ncolumns);
        size_t *zeros = BASE_NEW_N(l->arena, size_t, m->ncolumns);

        if (f == NULL || zeros == NULL)
            return base_err_set(err, BASE_E_NOMEM, "exception", "csv", "out of memory");
        for (size_t i = 0; i < m->ncolumns; i++)
            f[i] = base_str_from_cstr(m->columns[i]);
        struct csv_record hdr = {0, m->ncolumns, f, zeros, zeros};
        if (take_header(l, &hdr) != BASE_OK) {
            *err = l->fatal;
            return err->rc;
        }
    }
    return BASE_OK;
}

int
csv_load_new(const struct csv_mapping *m, const struct csv_limits *lim,
             const struct csv_load_options *opt, csv_bundle_fn on_bundle,
             csv_row_error_fn on_row_error, void *ctx, struct csv_load **out, struct base_err *err)
{
    struct csv_load *l = base_calloc(1, sizeof(*l));
    int rc;

    *out = NULL;
    if (l == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "csv", "out of memory");
    l->m = m;
    l->lim = lim != NULL ? *lim : csv_limits_default();
    if (opt != NULL)
        l->opt = *opt;
    if (l->opt.batch_rows == 0)
        l->opt.batch_rows = BASE_LIMIT_CSV_BATCH_ROWS;
    l->policy = l->opt.on_error != CSV_ON_ERROR_MAPPING ? l->opt.on_error : m->on_error;
    l->on_bundle = on_bundle;
    l->on_row_error = on_row_error;
    l->ctx = ctx;
    l->cd = (iconv_t)-1;
    l->u16 = (iconv_t)-1;
    base_buf_init(&l->scratch, l->lim.max_record + 1);
    base_buf_init(&l->conv, 4 * l->lim.max_field + 8);
    base_buf_init(&l->group, l->lim.max_record + 1);
    base_buf_init(&l->idval, l->lim.max_record + 1);
    rc = setup(l, err);
    if (rc != BASE_OK) {
        csv_load_free(l);
        return rc;
    }
    *out = l;
    return BASE_OK;
}

/* ------------------------------------------------------------- UTF-16 */

static int
u16_bad(struct csv_load *l, const char *what)
{
    char where[32];

    (void)snprintf(where, sizeof(where), "line %zu", l->u16_lines + 1);
    return base_err_set(&l->fatal, BASE_E_INVALID, "value", where, "%s", what);
}

/* Convert and hand to the reader; in and inleft advance.  EINVAL (a character
 * cut at the end of the input) is not an error: the rest is left. */
static int
u16_convert(struct csv_load *l, char **in, size_t *inleft)
{
    char out[8192];

    while (*inleft > 0) {
        char *o = out;
        size_t oleft = sizeof(out);
        size_t r = iconv(l->u16, in, inleft, &o, &oleft);
        int e = r == (size_t)-1 ? errno : 0;
        size_t n = (size_t)(o - out);
        int rc;

        for (size_t i = 0; i < n; i++)
            l->u16_lines += out[i] == '\n';
        rc = n > 0 ? csv_reader_feed(l->reader, out, n) : BASE_OK;
        if (rc != BASE_OK)
            return rc;
        if (e == EILSEQ)
            return u16_bad(l, "the export is not valid UTF-16");
        if (e == EINVAL || (e != E2BIG && e != 0))
            break;
    }
    return BASE_OK;
}

/*
 * Excel's "Unicode text" (and Save As "UTF-16 CSV"): UTF-16 with a byte
 * order mark, tab-separated.  It is decoded to UTF-8 before the reader, so
 * line numbers are the file's and byte columns those of the UTF-8 text.
 * At most 3 bytes of a character split between feeds wait in `carry`.
 */
static int
feed_utf16(struct csv_load *l, const char *data, size_t len)
{
    int rc;

    if (l->ncarry > 0) {
        size_t old = l->ncarry;
        size_t take = len < sizeof(l->carry) - old ? len : sizeof(l->carry) - old;
        char *in = l->carry;
        size_t inleft = old + take;

        memcpy(l->carry + old, data, take);
        rc = u16_convert(l, &in, &inleft);
        if (rc != BASE_OK)
            return rc;
        if (inleft == old + take) { /* still not a whole character */
            l->ncarry = inleft;
            return BASE_OK;
        }
        data += old + take - inleft - old;
        len -= old + take - inleft - old;
        l->ncarry = 0;
    }
    char *in = (char *)data; /* iconv's prototype is not const-correct */
    size_t inleft = len;

    rc = u16_convert(l, &in, &inleft);
    if (rc == BASE_OK && inleft > 0) {
        memcpy(l->carry, in, inleft); /* < 4: EINVAL */
        l->ncarry = inleft;
    }
    return rc;
}

/* The first two bytes decide: a UTF-16 byte order mark switches to decoding. */
static int
sniff_utf16(struct csv_load *l, const char **data, size_t *len)
{
    bool le;

    while (l->nhead < 2 && *len > 0) {
        l->head[l->nhead++] = (unsigned char)**data;
        (*data)++;
        (*len)--;
    }
    if (l->nhead < 2 || l->u16 != (iconv_t)-1)
        return BASE_OK;
    le = l->head[0] == 0xFF && l->head[1] == 0xFE;
    if (!le && !(l->head[0] == 0xFE && l->head[1] == 0xFF)) {
        l->nhead = 3; /* not UTF-16: the two bytes go to the reader once */
        return csv_reader_feed(l->reader, (const char *)l->head, 2);
    }
    l->u16 = iconv_open("UTF-8", le ? "UTF-16LE" : "UTF-16BE");
    if (l->u16 == (iconv_t)-1)
        return base_err_set(&l->fatal, BASE_E_NOMEM, "exception", "csv", "no UTF-16 decoder");
    /* the BOM says what the file is, whatever the mapping's `encoding` */
    if (l->cd != (iconv_t)-1)
        (void)iconv_close(l->cd);
    l->cd = (iconv_t)-1;
    l->nhead = 4;
    return BASE_OK;
}

int
csv_load_feed(struct csv_load *l, const char *data, size_t len, struct base_err *err)
{
    int rc = l->fatal.rc;

    if (rc == 0 && l->nhead < 3)
        rc = sniff_utf16(l, &data, &len);
    if (rc == 0 && l->nhead >= 3)
        rc = l->u16 != (iconv_t)-1 ? feed_utf16(l, data, len)
                                   : csv_reader_feed(l->reader, data, len);

    if (rc != BASE_OK && err != NULL)
        *err = l->fatal.rc != 0 ? l->fatal : (struct base_err){0};
    if (rc != BASE_OK && err != NULL && err->rc == 0)
        (void)base_err_set(err, rc, "exception", "csv", "could not read the export");
    return rc;
}

int
csv_load_finish(struct csv_load *l, struct csv_report *report, struct base_err *err)
{
    int rc = l->fatal.rc;

    /* fewer than 2 bytes: not sniffed yet */
    if (rc == 0 && l->nhead > 0 && l->nhead < 3)
        rc = csv_reader_feed(l->reader, (const char *)l->head, l->nhead);
    if (rc == 0 && l->ncarry > 0)
        rc = u16_bad(l, "the export ends inside a UTF-16 character");
    if (rc == 0)
        rc = csv_reader_finish(l->reader);

    if (rc == BASE_OK && !l->have_header)
        rc = base_err_set(&l->fatal, BASE_E_INVALID, "required", "line 1", "file has no header");
    if (rc == BASE_OK)
        rc = flush_resource(l);
    if (rc == BASE_OK)
        rc = emit_batch(l);
    if (report != NULL)
        *report = l->report;
    if (rc != BASE_OK && err != NULL)
        *err = l->fatal;
    return rc;
}

void
csv_load_free(struct csv_load *l)
{
    if (l == NULL)
        return;
    csv_reader_free(l->reader);
    if (l->u16 != (iconv_t)-1)
        (void)iconv_close(l->u16);
    if (l->cd != (iconv_t)-1)
        (void)iconv_close(l->cd);
    for (size_t i = 0; l->values != NULL && i < l->m->nrules; i++)
        json_decref(l->values[i]);
    json_decref(l->res);
    if (l->tx_open)
        adapter_tx_fini(&l->tx);
    base_buf_fini(&l->scratch);
    base_buf_fini(&l->conv);
    base_buf_fini(&l->group);
    base_buf_fini(&l->idval);
    base_arena_free(l->arena);
    base_free(l);
}

/* ------------------------------------------------------------ all at once */

struct convert_ctx {
    json_t *bundle;
    csv_row_error_fn on_row_error;
    void *ctx;
};

static int
keep_bundle(void *ctx, json_t *bundle)
{
    struct convert_ctx *c = ctx;

    json_decref(c->bundle);
    c->bundle = bundle;
    return BASE_OK;
}

static int
forward_row_error(void *ctx, const struct csv_row_error *e)
{
    struct convert_ctx *c = ctx;

    return c->on_row_error != NULL ? c->on_row_error(c->ctx, e) : BASE_OK;
}

int
csv_convert(const struct csv_mapping *m, const char *data, size_t len, const struct csv_limits *lim,
            const struct csv_load_options *opt, csv_row_error_fn on_row_error, void *ctx,
            json_t **out, struct csv_report *report, struct base_err *err)
{
    struct csv_load_options o = opt != NULL ? *opt : (struct csv_load_options){0};
    struct convert_ctx c = {NULL, on_row_error, ctx};
    struct csv_load *l = NULL;
    int rc;

    *out = NULL;
    o.batch_rows = SIZE_MAX; /* one Bundle */
    rc = csv_load_new(m, lim, &o, keep_bundle, forward_row_error, &c, &l, err);
    if (rc != BASE_OK)
        return rc;
    rc = csv_load_feed(l, data, len, err);
    if (rc == BASE_OK)
        rc = csv_load_finish(l, report, err);
    csv_load_free(l);
    if (rc == BASE_OK && c.bundle == NULL)
        c.bundle = json_pack("{s:s,s:s}", "resourceType", "Bundle", "type", "transaction");
    if (rc != BASE_OK) {
        json_decref(c.bundle);
        return rc;
    }
    *out = c.bundle;
    return c.bundle != NULL ? BASE_OK
                            : base_err_set(err, BASE_E_NOMEM, "exception", "csv", "out of memory");
}
