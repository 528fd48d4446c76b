/*
 * An incremental RFC 4180 tokenizer: one byte at a time through a small
 * state machine, so any chunking of the input gives the same records.
 *
 * RFC 4180 section 2: records end at a line break; fields are separated by
 * the delimiter; a field may be enclosed in double quotes, and then may
 * contain delimiters, line breaks, and quotes written twice.  Real exports
 * also use LF or CR alone, ';' or TAB as delimiter (Excel in many locales),
 * and start with a UTF-8 BOM; all are accepted.  Blank lines are skipped.
 *
 * Recovery: the bytes of the current record are kept (bounded by
 * max_record).  When a record turns out malformed after spanning several
 * lines -- typically an opening quote that was never closed and swallowed
 * the lines after it -- the record is reported at its start and the bytes
 * after its first line are parsed again, so the good rows that followed are
 * not lost.  Memory never depends on the file size.
 */
#include <string.h>

#include "adapters/csv/csv.h"
#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/limits.h"

#define REFEED  1 /* step(): parse r->refeed again before going on */
#define SKIPPED 2 /* the record was reported; the rest of its line is skipped */

enum rstate {
    R_REC_START,   /* before a record (also skips blank lines) */
    R_FIELD_START, /* first byte of a field */
    R_UNQUOTED,
    R_QUOTED,
    R_QUOTE_IN_QUOTED, /* a quote inside a quoted field: end, or "" */
    R_SKIP             /* rest of a malformed record's line */
};

struct csv_reader {
    struct csv_limits lim;
    char delim; /* 0 while detecting */
    bool bom_done;
    csv_record_fn on_record;
    csv_syntax_fn on_syntax;
    void *ctx;
    enum rstate st;
    size_t line, col; /* position of the byte being read */
    bool prev_cr;     /* last byte was CR (a following LF ends nothing) */
    size_t rec_line;  /* where the current record started */
    size_t quote_line, quote_col;
    struct base_buf rec;     /* decoded field bytes, back to back */
    struct base_buf raw;     /* the record as written */
    struct base_buf pending; /* bytes to parse before the caller's next ones */
    struct base_buf refeed;  /* set by step() when it returns REFEED */
    struct base_buf scratch;
    size_t nfields;
    size_t *start; /* offset of each field in rec */
    size_t *fline; /* line of each field */
    size_t *fcol;  /* column of each field */
    struct base_str *view;
};

struct csv_limits
csv_limits_default(void)
{
    struct csv_limits l = {
        .max_columns = BASE_LIMIT_CSV_MAX_COLUMNS,
        .max_field = BASE_LIMIT_CSV_MAX_FIELD,
        .max_record = BASE_LIMIT_CSV_MAX_RECORD,
        .max_mapping = BASE_LIMIT_CSV_MAX_MAPPING,
        .max_rules = BASE_LIMIT_CSV_MAX_RULES,
        .max_group = BASE_LIMIT_CSV_MAX_GROUP_ROWS,
    };
    return l;
}

int
csv_reader_new(char delimiter, const struct csv_limits *lim, csv_record_fn on_record,
               csv_syntax_fn on_syntax, void *ctx, struct csv_reader **out)
{
    struct csv_reader *r = base_calloc(1, sizeof(*r));
    size_t n;

    *out = NULL;
    if (r == NULL)
        return BASE_E_NOMEM;
    r->lim = lim != NULL ? *lim : csv_limits_default();
    n = r->lim.max_columns + 1;
    r->delim = delimiter;
    r->on_record = on_record;
    r->on_syntax = on_syntax;
    r->ctx = ctx;
    r->line = 1;
    r->col = 1;
    base_buf_init(&r->rec, r->lim.max_record + 1);
    base_buf_init(&r->raw, r->lim.max_record + 1);
    base_buf_init(&r->pending, 3 * r->lim.max_record + 8);
    base_buf_init(&r->refeed, r->lim.max_record + 1);
    base_buf_init(&r->scratch, 3 * r->lim.max_record + 8);
    r->start = base_calloc(n, sizeof(size_t));
    r->fline = base_calloc(n, sizeof(size_t));
    r->fcol = base_calloc(n, sizeof(size_t));
    r->view = base_calloc(n, sizeof(struct base_str));
    if (r->start == NULL || r->fline == NULL || r->fcol == NULL || r->view == NULL) {
        csv_reader_free(r);
        return BASE_E_NOMEM;
    }
    *out = r;
    return BASE_OK;
}

void
csv_reader_free(struct csv_reader *r)
{
    if (r == NULL)
        return;
    base_buf_fini(&r->rec);
    base_buf_fini(&r->raw);
    base_buf_fini(&r->pending);
    base_buf_fini(&r->refeed);
    base_buf_fini(&r->scratch);
    base_free(r->start);
    base_free(r->fline);
    base_free(r->fcol);
    base_free(r->view);
    base_free(r);
}

char
csv_reader_delimiter(const struct csv_reader *r)
{
    return r->delim;
}

static bool
is_eol(char c)
{
    return c == '\r' || c == '\n';
}

static int
emit(struct csv_reader *r)
{
    struct csv_record rec = {r->rec_line, r->nfields, r->view, r->fline, r->fcol};

    for (size_t i = 0; i < r->nfields; i++) {
        size_t end = i + 1 < r->nfields ? r->start[i + 1] : r->rec.len;

        r->view[i] =
            base_str_make(r->rec.data != NULL ? r->rec.data + r->start[i] : "", end - r->start[i]);
    }
    r->st = R_REC_START;
    return r->on_record != NULL ? r->on_record(r->ctx, &rec) : BASE_OK;
}

/* Offset just past the first line break of the raw record, or 0 if none. */
static size_t
after_first_line(const struct base_buf *raw)
{
    for (size_t i = 0; i < raw->len; i++) {
        if (raw->data[i] == '\n')
            return i + 1;
        if (raw->data[i] == '\r')
            return (i + 1 < raw->len && raw->data[i + 1] == '\n') ? i + 2 : i + 1;
    }
    return 0;
}

/* Report a malformed record, then either skip the rest of its line or,
 * when it spans lines, set up the re-parse of everything after its first
 * line (returns REFEED). */
static int
bad_record(struct csv_reader *r, size_t line, size_t col, int code, const char *msg)
{
    struct base_err err = {0};
    size_t tail = after_first_line(&r->raw);
    int rc;

    (void)base_err_set(&err, code, code == BASE_E_LIMIT ? "too-costly" : "structure", NULL, "%s",
                       msg);
    (void)snprintf(err.where, sizeof(err.where), "line %zu, column %zu", line, col);
    rc = r->on_syntax != NULL ? r->on_syntax(r->ctx, line, col, &err) : BASE_OK;
    if (rc < 0)
        return rc;
    if (tail == 0) {
        r->st = R_SKIP;
        return SKIPPED;
    }
    base_buf_reset(&r->refeed);
    if (base_buf_append(&r->refeed, r->raw.data + tail, r->raw.len - tail) != BASE_OK)
        return BASE_E_NOMEM;
    r->st = R_REC_START;
    r->line = r->rec_line + 1;
    r->col = 1;
    r->prev_cr = false;
    return REFEED;
}

static int
begin_field(struct csv_reader *r)
{
    if (r->nfields >= r->lim.max_columns)
        return bad_record(r, r->line, r->col, BASE_E_LIMIT, "record has too many columns");
    r->start[r->nfields] = r->rec.len;
    r->fline[r->nfields] = r->line;
    r->fcol[r->nfields] = r->col;
    r->nfields++;
    return BASE_OK;
}

static int
append(struct csv_reader *r, char c)
{
    size_t idx = r->nfields - 1;

    if (r->rec.len - r->start[idx] >= r->lim.max_field)
        return bad_record(r, r->fline[idx], r->fcol[idx], BASE_E_LIMIT, "field is too long");
    return base_buf_putc(&r->rec, c) == BASE_OK ? BASE_OK : BASE_E_NOMEM;
}

/* The first byte of a field decides whether it is quoted. */
static int
field_start(struct csv_reader *r, char c)
{
    int rc = begin_field(r);

    if (rc != BASE_OK)
        return rc;
    if (c == '"') {
        r->quote_line = r->line;
        r->quote_col = r->col;
        r->st = R_QUOTED;
        return BASE_OK;
    }
    if (c == r->delim)
        return BASE_OK; /* an empty field; the next one starts after */
    if (is_eol(c))
        return emit(r);
    r->st = R_UNQUOTED;
    return append(r, c);
}

static int
record_start(struct csv_reader *r, char c)
{
    if (is_eol(c))
        return BASE_OK; /* blank line, or the LF of a CRLF */
    r->rec_line = r->line;
    r->nfields = 0;
    base_buf_reset(&r->rec);
    r->st = R_FIELD_START;
    return field_start(r, c);
}

/* State machine body: the exemption from the function-length rule
 * (STYLE.md 3.9) applies. */
static int
dispatch(struct csv_reader *r, char c)
{
    switch (r->st) {
    case R_REC_START:
        return record_start(r, c);
    case R_FIELD_START:
        return field_start(r, c);
    case R_UNQUOTED:
        if (c == r->delim) {
            r->st = R_FIELD_START;
            return BASE_OK;
        }
        if (is_eol(c))
            return emit(r);
        if (c == '"')
            return bad_record(r, r->line, r->col, BASE_E_PARSE, "quote inside an unquoted field");
        return append(r, c);
    case R_QUOTED:
        if (c == '"') {
            r->st = R_QUOTE_IN_QUOTED;
            return BASE_OK;
        }
        return append(r, c);
    case R_QUOTE_IN_QUOTED:
        if (c == '"') {
            r->st = R_QUOTED;
            return append(r, c);
        }
        if (c == r->delim) {
            r->st = R_FIELD_START;
            return BASE_OK;
        }
        if (is_eol(c))
            return emit(r);
        /* A quoted field that ran over lines and then goes wrong was most
         * likely never closed on its own line: point at its opening quote. */
        if (r->quote_line < r->line)
            return bad_record(r, r->quote_line, r->quote_col, BASE_E_PARSE,
                              "quoted field is not closed properly");
        return bad_record(r, r->line, r->col, BASE_E_PARSE,
                          "unexpected character after a closing quote");
    case R_SKIP:
        if (is_eol(c))
            r->st = R_REC_START;
        return BASE_OK;
    default:
        BASE_ASSERT_UNREACHABLE();
    }
    return BASE_OK;
}

static void
advance(struct csv_reader *r, char c)
{
    if (c == '\r' || (c == '\n' && !r->prev_cr)) {
        r->line++;
        r->col = 1;
    } else if (c != '\n') {
        r->col++;
    }
    r->prev_cr = c == '\r';
}

static int
step(struct csv_reader *r, char c)
{
    int rc;

    if (r->st == R_REC_START)
        base_buf_reset(&r->raw);
    if (r->st != R_SKIP && (r->st != R_REC_START || !is_eol(c))) {
        /* raw holds up to max_record + 1 bytes: the one past the limit is
         * kept so that a re-parse does not lose it */
        if (base_buf_putc(&r->raw, c) != BASE_OK)
            return BASE_E_NOMEM;
        if (r->raw.len > r->lim.max_record) {
            rc = bad_record(r, r->rec_line, 1, BASE_E_LIMIT, "record is too long");
            if (rc == SKIPPED) {
                if (is_eol(c))
                    r->st = R_REC_START;
                advance(r, c);
            }
            return rc;
        }
    }
    rc = dispatch(r, c);
    /* after a REFEED the position is already that of the re-parse */
    if (rc != REFEED)
        advance(r, c);
    return rc;
}

/* Fast path: inside a field, a run of bytes that are not delimiter, quote
 * or line end changes nothing but the field; copy it at once.  Runs that
 * would cross a limit go through step() so errors point at the exact byte. */
static size_t
plain_run(const struct csv_reader *r, const char *p, size_t n)
{
    size_t i = 0;
    char d = r->st == R_UNQUOTED ? r->delim : '"';

    if (r->st != R_UNQUOTED && r->st != R_QUOTED)
        return 0;
    while (i < n && p[i] != d && p[i] != '"' && p[i] != '\r' && p[i] != '\n')
        i++;
    if (i == 0 || r->raw.len + i > r->lim.max_record ||
        r->rec.len - r->start[r->nfields - 1] + i > r->lim.max_field)
        return 0;
    return i;
}

static int
take_run(struct csv_reader *r, const char *p, size_t n)
{
    if (base_buf_append(&r->raw, p, n) != BASE_OK || base_buf_append(&r->rec, p, n) != BASE_OK)
        return BASE_E_NOMEM;
    r->col += n;
    r->prev_cr = false;
    return BASE_OK;
}

/* Parse r->pending to the end; a REFEED puts the re-parsed bytes in front
 * of what is left.  Never grows: those bytes came from pending itself. */
static int
drain(struct csv_reader *r)
{
    size_t i = 0;

    while (i < r->pending.len) {
        size_t run = plain_run(r, r->pending.data + i, r->pending.len - i);

        if (run > 0) {
            TRY(take_run(r, r->pending.data + i, run));
            i += run;
            continue;
        }
        int rc = step(r, r->pending.data[i++]);

        if (rc < 0)
            return rc;
        if (rc != REFEED)
            continue;
        base_buf_reset(&r->scratch);
        if (base_buf_append(&r->scratch, r->refeed.data, r->refeed.len) != BASE_OK ||
            base_buf_append(&r->scratch, r->pending.data + i, r->pending.len - i) != BASE_OK)
            return BASE_E_NOMEM;
        struct base_buf t = r->pending;
        r->pending = r->scratch;
        r->scratch = t;
        i = 0;
    }
    base_buf_reset(&r->pending);
    return BASE_OK;
}

/* RFC 4180 names the comma; exports in many locales use ';' (Excel), TAB
 * or '|'.  The most frequent of them outside quotes on the first line. */
static char
detect(const char *p, size_t n)
{
    static const char cand[] = {',', ';', '\t', '|'};
    size_t count[4] = {0};
    bool quoted = false;
    size_t best = 0;

    for (size_t i = 0; i < n && (quoted || !is_eol(p[i])); i++) {
        if (p[i] == '"')
            quoted = !quoted;
        for (size_t k = 0; k < 4 && !quoted; k++)
            count[k] += p[i] == cand[k];
    }
    for (size_t k = 1; k < 4; k++) {
        if (count[k] > count[best])
            best = k;
    }
    return cand[best];
}

static bool
has_line(const struct base_buf *b)
{
    return b->len > 0 &&
           (memchr(b->data, '\n', b->len) != NULL || memchr(b->data, '\r', b->len) != NULL);
}

static int
strip_bom(struct csv_reader *r, const char **data, size_t *len)
{
    /* The BOM may arrive split over feeds: collect the first 3 bytes. */
    static const char bom[] = "\xEF\xBB\xBF";

    while (!r->bom_done && *len > 0) {
        TRY(base_buf_putc(&r->scratch, **data) == BASE_OK ? BASE_OK : BASE_E_NOMEM);
        (*data)++;
        (*len)--;
        if (memcmp(r->scratch.data, bom, r->scratch.len) != 0 || r->scratch.len == 3) {
            r->bom_done = true;
            if (r->scratch.len < 3 || memcmp(r->scratch.data, bom, 3) != 0)
                TRY(base_buf_append(&r->pending, r->scratch.data, r->scratch.len) == BASE_OK
                        ? BASE_OK
                        : BASE_E_NOMEM);
            base_buf_reset(&r->scratch);
        }
    }
    return BASE_OK;
}

int
csv_reader_feed(struct csv_reader *r, const char *data, size_t len)
{
    TRY(strip_bom(r, &data, &len));
    if (r->delim == 0) {
        if (base_buf_append(&r->pending, data, len) != BASE_OK) {
            r->delim = detect(r->pending.data, r->pending.len);
            TRY(drain(r));
            return csv_reader_feed(r, data, len); /* pending is empty now */
        }
        if (!has_line(&r->pending) && r->pending.len < r->lim.max_record)
            return BASE_OK;
        r->delim = detect(r->pending.data, r->pending.len);
        return drain(r);
    }
    TRY(drain(r));
    for (size_t i = 0; i < len; i++) {
        size_t run = plain_run(r, data + i, len - i);

        if (run > 0) {
            TRY(take_run(r, data + i, run));
            i += run - 1;
            continue;
        }
        int rc = step(r, data[i]);

        if (rc < 0)
            return rc;
        if (rc == REFEED) {
            if (base_buf_append(&r->pending, r->refeed.data, r->refeed.len) != BASE_OK)
                return BASE_E_NOMEM;
            TRY(drain(r));
        }
    }
    return BASE_OK;
}

int
csv_reader_finish(struct csv_reader *r)
{
    if (!r->bom_done && r->scratch.len > 0) {
        TRY(base_buf_append(&r->pending, r->scratch.data, r->scratch.len) == BASE_OK
                ? BASE_OK
                : BASE_E_NOMEM);
        base_buf_reset(&r->scratch);
        r->bom_done = true;
    }
    if (r->delim == 0)
        r->delim = detect(r->pending.data, r->pending.len);
    TRY(drain(r));
    while (r->st == R_QUOTED) {
        int rc =
            bad_record(r, r->quote_line, r->quote_col, BASE_E_PARSE, "quoted field is not closed");

        if (rc < 0)
            return rc;
        if (rc != REFEED) {
            r->st = R_REC_START;
            break;
        }
        TRY(base_buf_append(&r->pending, r->refeed.data, r->refeed.len) == BASE_OK ? BASE_OK
                                                                                   : BASE_E_NOMEM);
        TRY(drain(r));
    }
    if (r->st == R_FIELD_START || r->st == R_UNQUOTED || r->st == R_QUOTE_IN_QUOTED)
        return emit(r);
    r->st = R_REC_START;
    return BASE_OK;
}
