/*
 * Local code maps: CSV files -> an immutable hash table of
 * (local system, local code) -> standard codings.
 *
 * The CSV reader follows RFC 4180 (quoted fields, "" inside quotes, CRLF
 * or LF records, newlines inside quotes) with two additions for hand-kept
 * files: a leading UTF-8 BOM is skipped and lines starting with '#' are
 * comments.  Every problem names FILE:LINE:COLUMN.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapters/codemap/codemap.h"
#include "adapters/mapkit/mapkit.h"
#include "fhir/base/arena.h"
#include "fhir/validate/fhir_validate.h"

struct slot {
    const char *system; /* local system as written in the CSV */
    const char *code;
    struct codemap_target *targets;
};

struct codemap {
    struct codemap_limits lim;
    struct base_arena *a; /* strings and targets */
    struct slot *slots;   /* open addressing, power-of-two size */
    size_t nslots;
    size_t used;
    size_t rows;
};

/* ---------------------------------------------------------------- systems -- */

static const char *const target_aliases[][2] = {
    {"LN", "http://loinc.org"},
    {"LOINC", "http://loinc.org"},
    {"SCT", "http://snomed.info/sct"},
    {"SNOMED", "http://snomed.info/sct"},
    {"SNOMEDCT", "http://snomed.info/sct"},
    {"SNOMED CT", "http://snomed.info/sct"},
    {"I10", "http://hl7.org/fhir/sid/icd-10"},
    {"ICD10", "http://hl7.org/fhir/sid/icd-10"},
    {"ICD-10", "http://hl7.org/fhir/sid/icd-10"},
    {"ICD-10-CM", "http://hl7.org/fhir/sid/icd-10-cm"},
    {"ICD-9-CM", "http://hl7.org/fhir/sid/icd-9-cm"},
    {"UCUM", "http://unitsofmeasure.org"},
    {"RXNORM", "http://www.nlm.nih.gov/research/umls/rxnorm"},
    {"ATC", "http://www.whocc.no/atc"},
    {"CVX", "http://hl7.org/fhir/sid/cvx"},
    {"NDC", "http://hl7.org/fhir/sid/ndc"},
    {"CPT", "http://www.ama-assn.org/go/cpt"},
    /* GB/T 2261.1 administrative gender, as registered for WS/T 500 documents */
    {"GB/T 2261.1", "urn:oid:2.16.156.10011.2.3.3.4"},
};

static bool
is_oid_text(struct base_str s)
{
    bool dot = false;

    if (s.len < 3)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '.')
            dot = true;
        else if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    }
    return dot;
}

const char *
codemap_system_uri(struct base_str name)
{
    static _Thread_local char oid[128];

    name = base_str_trim(name);
    for (size_t i = 0; i < BASE_ARRAY_LEN(target_aliases); i++) {
        if (base_str_case_eq_cstr(name, target_aliases[i][0]))
            return target_aliases[i][1];
    }
    if (base_str_starts_with(name, "http://") || base_str_starts_with(name, "https://") ||
        base_str_starts_with(name, "urn:"))
        return NULL; /* a URI: the caller keeps its own copy */
    if (is_oid_text(name) && name.len + 9 < sizeof(oid)) {
        snprintf(oid, sizeof(oid), "urn:oid:%.*s", (int)name.len, name.ptr);
        return oid;
    }
    return NULL;
}

bool
codemap_is_uri(struct base_str s)
{
    if (!(base_str_starts_with(s, "http://") || base_str_starts_with(s, "https://") ||
          base_str_starts_with(s, "urn:")))
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if ((unsigned char)s.ptr[i] <= 0x20)
            return false;
    }
    /* and what the validator accepts as a uri: a urn:uuid or urn:oid that
     * is not one would make every resource naming it invalid */
    return fhir_validate_primitive(FHIR_PRIM_URI, s.ptr, s.len) == FHIR_PRIM_OK;
}

/* ------------------------------------------------------------------ table -- */

static uint64_t
hash2(struct base_str a, struct base_str b)
{
    uint64_t h = 1469598103934665603u;

    for (size_t i = 0; i < a.len; i++)
        h = (h ^ (unsigned char)a.ptr[i]) * 1099511628211u;
    h = (h ^ 0x1f) * 1099511628211u;
    for (size_t i = 0; i < b.len; i++)
        h = (h ^ (unsigned char)b.ptr[i]) * 1099511628211u;
    return h;
}

static struct slot *
find_slot(struct slot *slots, size_t nslots, struct base_str sys, struct base_str code)
{
    size_t i = (size_t)hash2(sys, code) & (nslots - 1);

    for (;;) {
        struct slot *s = &slots[i];

        if (s->system == NULL ||
            (base_str_eq_cstr(sys, s->system) && base_str_eq_cstr(code, s->code)))
            return s;
        i = (i + 1) & (nslots - 1);
    }
}

static int
grow_table(struct codemap *cm)
{
    size_t n = cm->nslots == 0 ? 1024 : cm->nslots * 2;
    struct slot *s = base_calloc(n, sizeof(*s));

    if (s == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < cm->nslots; i++) {
        struct slot *old = &cm->slots[i];

        if (old->system != NULL)
            *find_slot(s, n, base_str_from_cstr(old->system), base_str_from_cstr(old->code)) = *old;
    }
    base_free(cm->slots);
    cm->slots = s;
    cm->nslots = n;
    return BASE_OK;
}

struct codemap *
codemap_new(const struct codemap_limits *lim)
{
    struct codemap *cm = base_calloc(1, sizeof(*cm));

    if (cm == NULL)
        return NULL;
    cm->lim = lim != NULL ? *lim : CODEMAP_LIMITS_DEFAULT;
    cm->a = base_arena_new(0);
    if (cm->a == NULL || grow_table(cm) != BASE_OK) {
        codemap_free(cm);
        return NULL;
    }
    return cm;
}

void
codemap_free(struct codemap *cm)
{
    if (cm == NULL)
        return;
    base_arena_free(cm->a);
    base_free(cm->slots);
    base_free(cm);
}

size_t
codemap_size(const struct codemap *cm)
{
    return cm != NULL ? cm->used : 0;
}

const struct codemap_target *
codemap_lookup(const struct codemap *cm, struct base_str system, struct base_str code)
{
    struct slot *s;

    if (cm == NULL || cm->used == 0 || code.len == 0)
        return NULL;
    s = find_slot(cm->slots, cm->nslots, system, code);
    return s->system != NULL ? s->targets : NULL;
}

bool
codemap_adapter_fn(void *hook, const char *system, const char *code, struct adapter_coding *out)
{
    const struct codemap_hook *h = hook;
    struct base_str sys = base_str_from_cstr(system != NULL ? system : "");
    struct base_str c = base_str_from_cstr(code != NULL ? code : "");
    const struct codemap_target *t;

    if (h == NULL || c.len == 0)
        return false;
    t = codemap_lookup(h->map, sys, c);
    if (h->report != NULL)
        codemap_report_note(h->report, sys, c, t != NULL);
    if (t == NULL)
        return false;
    out->system = t->system;
    out->code = t->code;
    out->display = t->display;
    return true;
}

/* -------------------------------------------------------------------- CSV -- */

enum col { COL_LSYS, COL_LCODE, COL_TSYS, COL_TCODE, COL_TDISPLAY, COL_N };

static const char *const col_names[COL_N] = {"local_system", "local_code", "target_system",
                                             "target_code", "target_display"};

struct csv {
    const char *name;
    const char *p;
    size_t len;
    size_t off;
    unsigned line;
    size_t line_start;
    struct codemap *cm;
    struct base_err *err;
    int colmap[64]; /* CSV column -> enum col, or -1 */
    size_t ncols;
};

struct field {
    struct base_str v;
    char *buf; /* unquoted copy when the field was quoted */
    unsigned line;
    unsigned col;
};

static int
csv_err(struct csv *c, int rc, unsigned line, unsigned col, const char *msg)
{
    char where[128];

    snprintf(where, sizeof(where), "%s:%u:%u", c->name, line, col);
    return base_err_set(c->err, rc, rc == BASE_E_LIMIT ? "too-costly" : "invalid", where, "%s",
                        msg);
}

static unsigned
column(const struct csv *c, size_t off)
{
    return (unsigned)(off - c->line_start + 1);
}

static int
read_quoted(struct csv *c, struct field *f)
{
    size_t n = 0;
    unsigned line = c->line;
    unsigned col = column(c, c->off);

    f->buf = base_arena_alloc(c->cm->a, c->cm->lim.max_field + 1);
    if (f->buf == NULL)
        return base_err_set(c->err, BASE_E_NOMEM, "exception", c->name, "out of memory");
    c->off++; /* opening quote */
    for (;;) {
        char ch;

        if (c->off >= c->len)
            return csv_err(c, BASE_E_PARSE, line, col, "quoted field is not closed");
        ch = c->p[c->off++];
        if (ch == '"') {
            if (c->off < c->len && c->p[c->off] == '"') {
                c->off++;
            } else {
                break;
            }
        } else if (ch == '\n') {
            c->line++;
            c->line_start = c->off;
        }
        if (n >= c->cm->lim.max_field)
            return csv_err(c, BASE_E_LIMIT, line, col, "field exceeds the size limit");
        f->buf[n++] = ch;
    }
    f->buf[n] = '\0';
    f->v = base_str_make(f->buf, n);
    if (c->off < c->len && c->p[c->off] != ',' && c->p[c->off] != '\r' && c->p[c->off] != '\n')
        return csv_err(c, BASE_E_PARSE, c->line, column(c, c->off),
                       "unexpected character after a closing quote");
    return BASE_OK;
}

/* One field; stops before ',' or the end of the record. */
static int
read_field(struct csv *c, struct field *f)
{
    size_t start = c->off;

    memset(f, 0, sizeof(*f));
    f->line = c->line;
    f->col = column(c, c->off);
    if (c->off < c->len && c->p[c->off] == '"')
        return read_quoted(c, f);
    while (c->off < c->len && c->p[c->off] != ',' && c->p[c->off] != '\r' && c->p[c->off] != '\n') {
        if (c->p[c->off] == '"')
            return csv_err(c, BASE_E_PARSE, c->line, column(c, c->off),
                           "quote inside an unquoted field");
        c->off++;
    }
    if (c->off - start > c->cm->lim.max_field)
        return csv_err(c, BASE_E_LIMIT, f->line, f->col, "field exceeds the size limit");
    f->v = base_str_make(c->p + start, c->off - start);
    return BASE_OK;
}

static void
end_record(struct csv *c)
{
    if (c->off < c->len && c->p[c->off] == '\r')
        c->off++;
    if (c->off < c->len && c->p[c->off] == '\n')
        c->off++;
    c->line++;
    c->line_start = c->off;
}

/* Read one record into fields[]; *n is the field count (0 for blank or
 * comment lines). */
static int
read_record(struct csv *c, struct field *fields, size_t cap, size_t *n)
{
    *n = 0;
    if (c->off < c->len && (c->p[c->off] == '#' || c->p[c->off] == '\r' || c->p[c->off] == '\n')) {
        while (c->off < c->len && c->p[c->off] != '\n')
            c->off++;
        end_record(c);
        return BASE_OK;
    }
    for (;;) {
        if (*n >= cap)
            return csv_err(c, BASE_E_LIMIT, c->line, column(c, c->off), "too many columns");
        TRY(read_field(c, &fields[(*n)++]));
        if (c->off < c->len && c->p[c->off] == ',') {
            c->off++;
            continue;
        }
        end_record(c);
        return BASE_OK;
    }
}

static int
read_header(struct csv *c, struct field *fields, size_t cap)
{
    bool seen[COL_N] = {false};
    size_t n = 0;

    while (n == 0 && c->off < c->len)
        TRY(read_record(c, fields, cap, &n));
    if (n == 0)
        return csv_err(c, BASE_E_INVALID, c->line, 1, "file has no header row");
    c->ncols = n;
    for (size_t i = 0; i < n; i++) {
        c->colmap[i] = -1;
        for (int k = 0; k < COL_N; k++) {
            if (base_str_case_eq_cstr(base_str_trim(fields[i].v), col_names[k])) {
                c->colmap[i] = k;
                seen[k] = true;
            }
        }
    }
    for (int k = 0; k < COL_TDISPLAY; k++) {
        if (!seen[k]) {
            char msg[96];

            snprintf(msg, sizeof(msg), "header has no %s column", col_names[k]);
            return csv_err(c, BASE_E_INVALID, fields[0].line, 1, msg);
        }
    }
    return BASE_OK;
}

static char *
dup(struct codemap *cm, struct base_str s)
{
    return base_arena_strndup(cm->a, s.ptr, s.len);
}

static int
add_row(struct csv *c, struct field *by_col[COL_N])
{
    struct codemap *cm = c->cm;
    struct base_str tsys_in = base_str_trim(by_col[COL_TSYS]->v);
    const char *alias = codemap_system_uri(tsys_in);
    struct base_str lsys = base_str_trim(by_col[COL_LSYS]->v);
    struct base_str lcode = base_str_trim(by_col[COL_LCODE]->v);
    struct base_str tcode = base_str_trim(by_col[COL_TCODE]->v);
    struct codemap_target *t;
    struct codemap_target **tail;
    struct slot *s;

    for (int k = 0; k < COL_TDISPLAY; k++) {
        if (base_str_trim(by_col[k]->v).len == 0)
            return csv_err(c, BASE_E_INVALID, by_col[k]->line, by_col[k]->col, "value is empty");
    }
    if (alias == NULL && !codemap_is_uri(tsys_in))
        return csv_err(c, BASE_E_INVALID, by_col[COL_TSYS]->line, by_col[COL_TSYS]->col,
                       "target system is neither a known name nor a URI");
    if (++cm->rows > cm->lim.max_rows)
        return csv_err(c, BASE_E_LIMIT, by_col[COL_LSYS]->line, 1, "too many code map rows");
    if ((cm->used + 1) * 2 > cm->nslots && grow_table(cm) != BASE_OK)
        return base_err_set(c->err, BASE_E_NOMEM, "exception", c->name, "out of memory");
    s = find_slot(cm->slots, cm->nslots, lsys, lcode);
    for (tail = &s->targets; *tail != NULL; tail = (struct codemap_target **)&(*tail)->next) {
        if (strcmp((*tail)->system, alias != NULL ? alias : "") == 0 ||
            base_str_eq_cstr(tsys_in, (*tail)->system)) {
            if (base_str_eq_cstr(tcode, (*tail)->code))
                return BASE_OK; /* the same row twice */
            return csv_err(c, BASE_E_INVALID, by_col[COL_TCODE]->line, by_col[COL_TCODE]->col,
                           "local code already maps to another code of this target system");
        }
    }
    t = BASE_NEW(cm->a, struct codemap_target);
    if (t == NULL)
        return base_err_set(c->err, BASE_E_NOMEM, "exception", c->name, "out of memory");
    t->system = alias != NULL ? base_arena_strdup(cm->a, alias) : dup(cm, tsys_in);
    t->code = dup(cm, tcode);
    if (by_col[COL_TDISPLAY] != NULL && base_str_trim(by_col[COL_TDISPLAY]->v).len > 0)
        t->display = dup(cm, base_str_trim(by_col[COL_TDISPLAY]->v));
    if (s->system == NULL) {
        s->system = dup(cm, lsys);
        s->code = dup(cm, lcode);
        cm->used++;
    }
    *tail = t;
    if (t->system == NULL || t->code == NULL || s->system == NULL || s->code == NULL)
        return base_err_set(c->err, BASE_E_NOMEM, "exception", c->name, "out of memory");
    return BASE_OK;
}

static int
load_rows(struct csv *c, struct field *fields, size_t cap)
{
    while (c->off < c->len) {
        struct field *by_col[COL_N] = {NULL};
        unsigned line = c->line;
        size_t n = 0;

        TRY(read_record(c, fields, cap, &n));
        if (n == 0)
            continue;
        if (n != c->ncols)
            return csv_err(c, BASE_E_PARSE, line, column(c, c->line_start),
                           "wrong number of columns");
        for (size_t i = 0; i < n; i++) {
            if (c->colmap[i] >= 0)
                by_col[c->colmap[i]] = &fields[i];
        }
        TRY(add_row(c, by_col));
    }
    return BASE_OK;
}

int
codemap_load_buffer(struct codemap *cm, const char *name, const char *data, size_t len,
                    struct base_err *err)
{
    struct csv c = {.name = name, .p = data, .len = len, .line = 1, .cm = cm, .err = err};
    struct field fields[64];
    size_t bad = 0;

    if (len > cm->lim.max_file)
        return csv_err(&c, BASE_E_LIMIT, 1, 1, "file exceeds the size limit");
    if (!base_utf8_valid(data, len, &bad)) {
        size_t line_start = 0;

        for (size_t i = 0; i < bad; i++) {
            if (data[i] == '\n') {
                c.line++;
                line_start = i + 1;
            }
        }
        return csv_err(&c, BASE_E_PARSE, c.line, (unsigned)(bad - line_start + 1),
                       "bytes are not valid UTF-8");
    }
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        c.off = c.line_start = 3;
    TRY(read_header(&c, fields, BASE_ARRAY_LEN(fields)));
    return load_rows(&c, fields, BASE_ARRAY_LEN(fields));
}

/* ------------------------------------------------------------- directory -- */

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
load_file(struct codemap *cm, const char *dir, const char *file, struct base_err *err)
{
    char path[4096];
    FILE *f;
    char *buf;
    size_t n;
    int rc;
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    f = fopen(path, "rb");
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        if (f != NULL)
            fclose(f);
        return base_err_set(err, BASE_E_IO, "exception", file, "could not open code map file");
    }
    if ((size_t)st.st_size > cm->lim.max_file) {
        fclose(f);
        return base_err_set(err, BASE_E_LIMIT, "too-costly", file, "file exceeds the size limit");
    }
    buf = base_malloc((size_t)st.st_size + 1);
    n = buf != NULL ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (buf == NULL || n != (size_t)st.st_size) {
        base_free(buf);
        return base_err_set(err, BASE_E_IO, "exception", file, "could not read code map file");
    }
    rc = codemap_load_buffer(cm, file, buf, n, err);
    base_free(buf);
    return rc;
}

static int
list_csv(const char *dir, char ***names, size_t *count, struct base_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t cap = 0;

    *names = NULL;
    *count = 0;
    if (d == NULL)
        return base_err_set(err, BASE_E_IO, "exception", dir, "could not open code map directory");
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char **grown;

        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".csv") != 0)
            continue;
        if (*count == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            grown = base_realloc(*names, cap * sizeof(**names));
            if (grown == NULL)
                break;
            *names = grown;
        }
        if (((*names)[*count] = base_malloc(len + 1)) == NULL)
            break;
        memcpy((*names)[(*count)++], de->d_name, len + 1);
    }
    closedir(d);
    if (de != NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", dir, "out of memory");
    if (*count > 0)
        qsort(*names, *count, sizeof(**names), cmp_names);
    return BASE_OK;
}

int
codemap_load_dir(const char *dir, const struct codemap_limits *lim, struct codemap **out,
                 struct base_err *err)
{
    struct codemap *cm = codemap_new(lim);
    char **names = NULL;
    size_t count = 0;
    int rc;

    if (cm == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", dir, "out of memory");
    rc = list_csv(dir, &names, &count, err);
    for (size_t i = 0; i < count && rc == BASE_OK; i++)
        rc = load_file(cm, dir, names[i], err);
    for (size_t i = 0; i < count; i++)
        base_free(names[i]);
    base_free(names);
    if (rc != BASE_OK) {
        codemap_free(cm);
        return rc;
    }
    *out = cm;
    return BASE_OK;
}
