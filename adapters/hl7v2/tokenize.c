/*
 * ER7 tokenizer: one message's bytes -> segments -> fields (slices).
 *
 * Three passes, none recursive:
 *   1. header: delimiters from MSH-1/MSH-2, character set from MSH-18, and
 *      conversion of the whole message to UTF-8 when needed (before any
 *      splitting: a GB 18030 trail byte can equal '|' or '^');
 *   2. normalise: copy into the arena line by line, dropping blank lines and
 *      ending every segment with CR;
 *   3. tokenize: split segments into fields and check, field by field, the
 *      repetition/component/subcomponent limits, escape sequences and
 *      control bytes (nginx-style byte-class loop).
 * Components and subcomponents are found on access (access.c): a parsed
 * message costs one slice per field.
 */
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "adapters/hl7v2/hl7v2_int.h"
#include "fhir/base/arena.h"

struct tok {
    struct base_arena *a;
    const struct hl7v2_limits *lim;
    unsigned flags;
    struct hl7v2_msg *m;
    struct base_err *err;
    unsigned char cls[256];
    struct base_str *fields; /* scratch: the fields of the segment at hand */
    size_t fields_used;
    size_t nseg;     /* segments after normalising */
    uint32_t *lines; /* input line of each normalised segment */
#ifndef __SSE2__
    uint64_t bc[6]; /* delimiters and DEL broadcast to 8 bytes (SWAR) */
#else
    __m128i vc[6]; /* delimiters and DEL broadcast to 16 bytes */
    /* Special bytes of the 16-byte window at `win` of the segment at hand
     * (bit k: p[win + k]); fields are short, so one window serves several. */
    size_t win;
    uint32_t winmask;
#endif
};

static const struct hl7v2_loc *
seg_loc(struct hl7v2_loc *loc, const char *id, uint32_t index)
{
    memset(loc, 0, sizeof(*loc));
    if (id != NULL)
        memcpy(loc->seg, id, 3);
    loc->seg_index = index;
    return loc;
}

void
hl7v2_cls_init(unsigned char cls[256], const struct hl7v2_delims *d)
{
    memset(cls, HL7V2_C_DATA, 256);
    for (int c = 0; c < 0x20; c++)
        cls[c] = HL7V2_C_CTRL;
    cls[0x7f] = HL7V2_C_CTRL;
    cls['\t'] = HL7V2_C_DATA;
    cls['\r'] = HL7V2_C_EOL;
    cls[(unsigned char)d->field] = HL7V2_C_FIELD;
    cls[(unsigned char)d->comp] = HL7V2_C_COMP;
    if (d->rep != 0)
        cls[(unsigned char)d->rep] = HL7V2_C_REP;
    if (d->sub != 0)
        cls[(unsigned char)d->sub] = HL7V2_C_SUB;
    if (d->esc != 0)
        cls[(unsigned char)d->esc] = HL7V2_C_ESC;
}

/* ---------------------------------------------------------------- header -- */

static bool
delim_ok(char c)
{
    /* HL7 v2.5.1 ch. 2.5.4: delimiters are single printable characters;
     * letters and digits would make segment identifiers ambiguous. */
    return c > 0x20 && c < 0x7f && !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') &&
           !(c >= 'a' && c <= 'z');
}

/* Read MSH-1 and MSH-2 from the first line.  *msh2_len is how many input
 * bytes MSH-2 occupies (5 for a doubled escape read as 4 characters). */
int
hl7v2_read_delims(const char *p, size_t len, unsigned flags, struct hl7v2_delims *d,
                  size_t *msh2_len, unsigned *warn, struct base_err *err)
{
    struct hl7v2_loc loc;
    char enc[5] = {0};
    size_t n = 0;
    size_t k;

    seg_loc(&loc, "MSH", 1);
    loc.field = 1;
    if (len < 4 || !delim_ok(p[3]))
        return hl7v2_err_at(err, BASE_E_PARSE, "structure", &loc,
                            "field separator is missing or not a printable delimiter");
    d->field = p[3];
    loc.field = 2;
    for (k = 4; k < len && p[k] != d->field; k++)
        ;
    n = k - 4;
    if ((flags & HL7V2_ACCEPT_TEXT_TERMINATORS) && n == 5 && p[6] == p[7] && p[6] == '\\') {
        /* "^~\\&": the escape character written twice by a string-escaping
         * exporter (seen in the LinuxForHealth samples). */
        memcpy(enc, p + 4, 3);
        enc[3] = p[8];
        *warn |= HL7V2_W_DOUBLED_ESCAPE;
        *msh2_len = 5;
        n = 4;
    } else {
        if (n == 0 || n > 5)
            return hl7v2_err_at(err, BASE_E_PARSE, "structure", &loc,
                                "encoding characters must be 1 to 5 characters");
        memcpy(enc, p + 4, n);
        *msh2_len = n;
    }
    for (size_t i = 0; i < n; i++) {
        if (!delim_ok(enc[i]))
            return hl7v2_err_at(err, BASE_E_PARSE, "structure", &loc,
                                "encoding character %zu is not a printable delimiter", i + 1);
        if (enc[i] == d->field)
            return hl7v2_err_at(err, BASE_E_PARSE, "structure", &loc,
                                "encoding character %zu repeats the field separator", i + 1);
        for (size_t j = 0; j < i; j++) {
            if (enc[i] == enc[j])
                return hl7v2_err_at(err, BASE_E_PARSE, "structure", &loc,
                                    "encoding characters %zu and %zu are the same", j + 1, i + 1);
        }
    }
    d->comp = enc[0];
    d->rep = enc[1];
    d->esc = enc[2];
    d->sub = enc[3];
    d->trunc = enc[4];
    return BASE_OK;
}

/* Raw MSH field n (n >= 3) of the first line, scanning with the field
 * separator only.  With `gb` set, bytes 0x81-0xFE start a two- or four-byte
 * GB 18030 character whose trail bytes are skipped (they may equal '|'). */
static struct base_str
msh_field(const char *p, size_t len, char fs, size_t n, bool gb)
{
    size_t field = 2; /* p[3] is MSH-1; what follows is MSH-2 */
    size_t start = 4;
    size_t i = 4;

    if (!gb) { /* the usual case: jump from separator to separator */
        const char *cr = memchr(p, '\r', len);
        const char *nl;

        len = cr != NULL ? (size_t)(cr - p) : len;
        nl = memchr(p, '\n', len);
        len = nl != NULL ? (size_t)(nl - p) : len;
        for (; field < n && start <= len; field++) {
            const char *q = start < len ? memchr(p + start, fs, len - start) : NULL;

            if (q == NULL)
                return BASE_STR_NULL;
            start = (size_t)(q - p) + 1;
        }
        if (start > len)
            return BASE_STR_NULL;
        {
            const char *q = memchr(p + start, fs, len - start);

            return base_str_make(p + start, (q != NULL ? (size_t)(q - p) : len) - start);
        }
    }
    for (;;) {
        bool end = i >= len || p[i] == '\r' || p[i] == '\n';
        unsigned char c;

        if (end || p[i] == fs) {
            if (field == n)
                return base_str_make(p + start, (i < len ? i : len) - start);
            if (end)
                return BASE_STR_NULL;
            field++;
            start = ++i;
            continue;
        }
        c = (unsigned char)p[i];
        if (gb && c >= 0x81 && c <= 0xfe)
            i += (i + 1 < len && p[i + 1] >= 0x30 && p[i + 1] <= 0x39) ? 4 : 2;
        else
            i++;
    }
}

static bool
has_high_byte(const char *p, size_t len)
{
    for (size_t i = 0; i < len && p[i] != '\r' && p[i] != '\n'; i++) {
        if ((unsigned char)p[i] >= 0x80)
            return true;
    }
    return false;
}

/* MSH-18, first repetition, first component: the default character set. */
static struct base_str
charset_name(struct base_str msh18, const struct hl7v2_delims *d)
{
    for (size_t i = 0; i < msh18.len; i++) {
        if (msh18.ptr[i] == d->rep || msh18.ptr[i] == d->comp)
            return base_str_make(msh18.ptr, i);
    }
    return msh18;
}

/* How far a declared charset may be second-guessed (only what the message
 * itself says, or its silence, never a configured charset). */
enum guess { GUESS_NONE, GUESS_GB18030, GUESS_UTF8 };

static int
pick_charset(const char *p, size_t len, const struct hl7v2_delims *d,
             const struct hl7v2_parse_opts *o, const char **canonical, const char **iconv_name,
             enum guess *guessable, struct base_err *err)
{
    struct base_str name = charset_name(msh_field(p, len, d->field, 18, false), d);
    const char *deflt = o->default_charset;
    struct hl7v2_loc loc;

    if (o->force_charset != NULL) {
        name = base_str_from_cstr(o->force_charset);
    } else if (has_high_byte(p, len)) {
        /* A Chinese name in MSH-3..6 may hide a '|' or '^' in a GB 18030
         * trail byte and shift the plain scan: look again skipping trail
         * bytes, and believe it only when it says GB 18030. */
        struct base_str gb = charset_name(msh_field(p, len, d->field, 18, true), d);

        if (hl7v2_charset_lookup(gb, canonical, iconv_name) && *iconv_name != NULL &&
            strcmp(*iconv_name, "GB18030") == 0)
            return BASE_OK;
    }
    /* only what the message itself says (or its silence) may be second-
     * guessed, never a configured charset */
    bool from_message = o->force_charset == NULL && !(name.len == 0 && deflt != NULL);

    if (name.len == 0 && deflt != NULL)
        name = base_str_from_cstr(deflt);
    if (name.len == 0) {
        *canonical = "UTF-8";
        *iconv_name = NULL;
        *guessable = GUESS_GB18030;
        return BASE_OK;
    }
    if (hl7v2_charset_lookup(name, canonical, iconv_name)) {
        /* Chinese HIS that say ASCII or UTF-8 and send GBK are common; so
         * are interfaces moved to UTF-8 that still say 8859/1 */
        if (from_message && *iconv_name == NULL)
            *guessable = GUESS_GB18030;
        else if (from_message && (strncmp(*iconv_name, "ISO-8859-", 9) == 0 ||
                                  strcmp(*iconv_name, "WINDOWS-1252") == 0))
            *guessable = GUESS_UTF8;
        return BASE_OK;
    }
    seg_loc(&loc, "MSH", 1);
    loc.field = 18;
    return hl7v2_err_at(err, BASE_E_INVALID, "not-supported", &loc,
                        "character set is not supported");
}

/* ------------------------------------------------------------- normalise -- */

/* Locate input offset `off` as "segment N" (N counts non-blank lines). */
static int
err_at_offset(struct base_err *err, int rc, const char *p, size_t len, size_t off, const char *what)
{
    struct hl7v2_loc loc;
    uint32_t seg = 0;
    size_t line_start = 0;
    bool in_line = false;

    for (size_t i = 0; i < len && i <= off; i++) {
        bool eol = p[i] == '\r' || p[i] == '\n';

        if (!eol && !in_line) {
            seg++;
            line_start = i;
            in_line = true;
        } else if (eol) {
            in_line = false;
        }
    }
    seg_loc(&loc, NULL, seg == 0 ? 1 : seg);
    if (off - line_start >= 3 && hl7v2_is_id_char(p[line_start]))
        memcpy(loc.seg, p + line_start, 3);
    loc.field = 0;
    return hl7v2_err_at(err, rc, "value", &loc, "%s (byte %zu of the segment)", what,
                        off - line_start + 1);
}

/* Is the line's tail an escaped terminator written as text ("\r", "\n",
 * optionally followed by '"') that opens an escape sequence never closed?
 * Returns how many bytes to drop. */
static size_t
text_terminator(const char *p, size_t len, char esc, size_t skip)
{
    size_t tail = (len > 0 && p[len - 1] == '"') ? 1 : 0;
    size_t escs = 0;

    if (esc == 0 || len < skip + 2 + tail)
        return 0;
    if (p[len - tail - 2] != esc || (p[len - tail - 1] != 'r' && p[len - tail - 1] != 'n'))
        return 0;
    for (size_t i = skip; i < len; i++)
        escs += p[i] == esc;
    return (escs % 2 == 1) ? 2 + tail : 0;
}

/* Lines (CR, LF, CRLF) of the input; an upper bound of its segments.
 * *lf is cleared when there is no LF at all (then lines end at CR only). */
static size_t
count_lines(const char *p, size_t len, bool *lf)
{
    size_t n = 1;
    size_t nl = 0;

    for (const char *q = p, *end = p + len; (q = memchr(q, '\r', (size_t)(end - q))) != NULL; q++)
        n++;
    for (const char *q = p, *end = p + len; *lf && (q = memchr(q, '\n', (size_t)(end - q))) != NULL;
         q++)
        nl++;
    *lf = nl > 0;
    return n + nl;
}

/* End of the line starting at p[i]: the next CR, or LF with ACCEPT_LF. */
static size_t
line_end(const char *p, size_t len, size_t i, bool lf)
{
    const char *cr = memchr(p + i, '\r', len - i);
    size_t end = cr != NULL ? (size_t)(cr - p) : len;
    const char *nl = lf ? memchr(p + i, '\n', end - i) : NULL;

    return nl != NULL ? (size_t)(nl - p) : end;
}

/* Copy `in` into the arena with one CR after every non-blank line. */
static int
normalise(struct tok *t, struct base_str in, size_t msh2_len)
{
    bool lf = (t->flags & HL7V2_ACCEPT_LF) != 0;
    size_t nlines = count_lines(in.ptr, in.len, &lf);
    char *out = base_arena_alloc(t->a, in.len + 2);
    size_t o = 0;
    uint32_t line = 1;
    size_t nseg = 0;
    size_t i = 0;

    t->lines = base_arena_alloc(t->a, nlines * sizeof(*t->lines)); /* written before read */
    if (out == NULL || t->lines == NULL)
        return base_err_set(t->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    while (i < in.len) {
        size_t start = i;
        size_t end = line_end(in.ptr, in.len, i, lf);

        i = end;
        if (i < in.len && in.ptr[i] == '\r' && lf && i + 1 < in.len && in.ptr[i + 1] == '\n')
            i++;
        if (i < in.len) {
            if (in.ptr[i] == '\n')
                t->m->warn |= HL7V2_W_LF;
            i++;
        }
        if (end > start && (t->flags & HL7V2_ACCEPT_TEXT_TERMINATORS)) {
            size_t drop = text_terminator(in.ptr + start, end - start, t->m->d.esc,
                                          nseg == 0 ? 4 + msh2_len : 4);

            if (drop > 0)
                t->m->warn |= HL7V2_W_TEXT_TERMINATOR;
            end -= drop;
        }
        if (end == start) {
            if (nseg > 0)
                t->m->warn |= HL7V2_W_BLANK_LINES;
            line++;
            continue;
        }
        if (nseg == 0 && (t->m->warn & HL7V2_W_DOUBLED_ESCAPE)) {
            /* keep "MSH|^~\" then skip the doubled escape byte */
            memcpy(out + o, in.ptr + start, 7);
            o += 7;
            start += 8;
        }
        memcpy(out + o, in.ptr + start, end - start);
        o += end - start;
        out[o++] = '\r';
        t->lines[nseg++] = line++;
    }
    t->m->text = base_str_make(out, o);
    t->nseg = nseg;
    return BASE_OK;
}

/* -------------------------------------------------------------- tokenize -- */

static int
check_escape(struct tok *t, const char *p, size_t len, size_t *i, struct hl7v2_loc *loc)
{
    size_t j = *i + 1;
    const char *why = NULL;
    bool local = false;

    while (j < len && t->cls[(unsigned char)p[j]] == HL7V2_C_DATA)
        j++;
    if (j >= len || t->cls[(unsigned char)p[j]] != HL7V2_C_ESC)
        return hl7v2_err_at(t->err, BASE_E_PARSE, "structure", loc,
                            "escape sequence is not terminated");
    if (hl7v2_escape_check(base_str_make(p + *i + 1, j - *i - 1), &why, &local) != BASE_OK)
        return hl7v2_err_at(t->err, BASE_E_PARSE, "structure", loc, "%s", why);
    if (local)
        t->m->warn |= HL7V2_W_LOCAL_ESCAPE;
    *i = j;
    return BASE_OK;
}

#ifdef __SSE2__
/* Bit k set when p[k] is a delimiter, DEL or a control byte (<= 0x1F). */
static inline uint32_t
special16(const struct tok *t, const char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);

    for (int k = 0; k < 6; k++)
        m = _mm_or_si128(m, _mm_cmpeq_epi8(x, t->vc[k]));
    return (uint32_t)_mm_movemask_epi8(m);
}

/* Position of the first byte at or after p[i] that may end a run of data:
 * a set bit of the cached window, else 16 bytes at a time, else (the last
 * bytes of the segment) one at a time.  Cost per delimiter, not per byte:
 * ER7 has one every few bytes. */
static inline size_t
next_special(struct tok *t, const char *p, size_t len, size_t i)
{
    if (i - t->win < 16) { /* unsigned: false when win > i */
        uint32_t m = t->winmask >> (i - t->win);

        if (m != 0)
            return i + (size_t)__builtin_ctz(m);
        i = t->win + 16;
    }
    for (; i + 16 <= len; i += 16) {
        uint32_t m = special16(t, p + i);

        if (m != 0) {
            t->win = i;
            t->winmask = m;
            return i + (size_t)__builtin_ctz(m);
        }
    }
    t->win = len + 16; /* no window: the tail goes byte by byte */
    while (i < len && t->cls[(unsigned char)p[i]] == HL7V2_C_DATA)
        i++;
    return i;
}
#else
/* SWAR (Hacker's Delight 6-1): does any of 8 bytes equal a delimiter or
 * fall below 0x20?  False positives only cost the byte loop. */
static inline uint64_t
zero_byte(uint64_t x)
{
    return (x - 0x0101010101010101u) & ~x & 0x8080808080808080u;
}

static inline bool
special8(const struct tok *t, const char *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
    return (zero_byte(w ^ t->bc[0]) | zero_byte(w ^ t->bc[1]) | zero_byte(w ^ t->bc[2]) |
            zero_byte(w ^ t->bc[3]) | zero_byte(w ^ t->bc[4]) | zero_byte(w ^ t->bc[5]) |
            ((w - 0x2020202020202020u) & ~w & 0x8080808080808080u)) != 0;
}

static inline size_t
next_special(struct tok *t, const char *p, size_t len, size_t i)
{
    /* eight bytes at a time while none is a delimiter or control byte */
    while (i + 8 <= len && !special8(t, p + i))
        i += 8;
    while (i < len && t->cls[(unsigned char)p[i]] == HL7V2_C_DATA)
        i++;
    return i;
}
#endif

/* Scan one field starting at p[*i]; stops on the field separator or the
 * end of the segment.  Runs of plain data are skipped in a tight loop;
 * each delimiter is one case of the switch (exempt from the 60-line
 * guideline: it is the byte state machine). */
static int
scan_field(struct tok *t, const char *p, size_t len, size_t *ip, struct hl7v2_loc *loc)
{
    const unsigned char *cls = t->cls;
    const struct hl7v2_limits *lim = t->lim;
    size_t i = *ip;

    loc->rep = 1;
    loc->comp = 1;
    loc->sub = 1;
    for (;; i++) {
        i = next_special(t, p, len, i);
        if (i >= len)
            break;
        switch (cls[(unsigned char)p[i]]) {
        case HL7V2_C_DATA: /* TAB: a control byte that is data */
            break;
        case HL7V2_C_FIELD:
            *ip = i;
            return BASE_OK;
        case HL7V2_C_REP:
            loc->comp = 1;
            loc->sub = 1;
            if (++loc->rep > lim->max_reps) {
                loc->rep = 0;
                loc->comp = 0;
                return hl7v2_err_at(t->err, BASE_E_LIMIT, "too-costly", loc,
                                    "field exceeds %zu repetitions", lim->max_reps);
            }
            break;
        case HL7V2_C_COMP:
            loc->sub = 1;
            if (++loc->comp > lim->max_comps) {
                loc->comp = 0;
                return hl7v2_err_at(t->err, BASE_E_LIMIT, "too-costly", loc,
                                    "repetition exceeds %zu components", lim->max_comps);
            }
            break;
        case HL7V2_C_SUB:
            if (++loc->sub > lim->max_subs) {
                loc->sub = 0;
                return hl7v2_err_at(t->err, BASE_E_LIMIT, "too-costly", loc,
                                    "component exceeds %zu subcomponents", lim->max_subs);
            }
            break;
        case HL7V2_C_ESC:
            TRY(check_escape(t, p, len, &i, loc));
            break;
        case HL7V2_C_CTRL:
            return hl7v2_err_at(t->err, BASE_E_PARSE, "value", loc,
                                "control character (byte 0x%02x) is not allowed",
                                (unsigned)(unsigned char)p[i]);
        default:
            return hl7v2_err_at(t->err, BASE_E_PARSE, "structure", loc,
                                "unexpected end of segment");
        }
    }
    *ip = i;
    return BASE_OK;
}

/* Fields go to a scratch array, then to an exact-size copy per segment. */
static int
add_field(struct tok *t, struct base_str f, struct hl7v2_loc *loc)
{
    if (t->fields_used >= t->lim->max_fields) {
        loc->field = 0;
        return hl7v2_err_at(t->err, BASE_E_LIMIT, "too-costly", loc, "segment exceeds %zu fields",
                            t->lim->max_fields);
    }
    t->fields[t->fields_used++] = f;
    return BASE_OK;
}

static bool
is_header_id(const char *id)
{
    return memcmp(id, "MSH", 3) == 0 || memcmp(id, "BHS", 3) == 0 || memcmp(id, "FHS", 3) == 0 ||
           memcmp(id, "BTS", 3) == 0 || memcmp(id, "FTS", 3) == 0;
}

static int
segment_id(struct tok *t, const char *p, size_t len, struct hl7v2_seg *seg)
{
    struct hl7v2_loc loc;

    seg_loc(&loc, NULL, seg->index);
    if (len < 3 || !(p[0] >= 'A' && p[0] <= 'Z') || !hl7v2_is_id_char(p[1]) ||
        !hl7v2_is_id_char(p[2]) || (len > 3 && p[3] != t->m->d.field))
        return hl7v2_err_at(t->err, BASE_E_PARSE, "structure", &loc, "invalid segment identifier");
    memcpy(seg->id, p, 3);
    seg->id[3] = '\0';
    if (seg->index > 1 && is_header_id(seg->id)) {
        memcpy(loc.seg, p, 3);
        return hl7v2_err_at(t->err, BASE_E_PARSE, "structure", &loc,
                            "message or batch header inside a message (split files first)");
    }
    return BASE_OK;
}

static int
tokenize_segment(struct tok *t, const char *p, size_t len, struct hl7v2_seg *seg)
{
    struct hl7v2_loc loc;
    size_t i = 3;

    TRY(segment_id(t, p, len, seg));
    seg_loc(&loc, seg->id, seg->index);
    t->fields_used = 0;
#ifdef __SSE2__
    t->win = len + 16; /* the window belonged to the previous segment */
#endif
    if (seg->index == 1) {
        size_t k = 4;

        while (k < len && p[k] != t->m->d.field)
            k++;
        loc.field = 1;
        TRY(add_field(t, base_str_make(p + 3, 1), &loc));
        loc.field = 2;
        TRY(add_field(t, base_str_make(p + 4, k - 4), &loc));
        i = k;
    }
    while (i < len) {
        size_t start = ++i; /* p[i - 1] is the field separator */

        loc.field = (uint32_t)t->fields_used + 1;
        TRY(scan_field(t, p, len, &i, &loc));
        loc.rep = loc.comp = loc.sub = 0;
        TRY(add_field(t, base_str_make(p + start, i - start), &loc));
    }
    seg->nfields = (uint32_t)t->fields_used;
    if (seg->nfields > 0) {
        seg->fields = base_arena_memdup(t->a, t->fields, seg->nfields * sizeof(*t->fields));
        if (seg->fields == NULL)
            return base_err_set(t->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    return BASE_OK;
}

static int
tokenize(struct tok *t)
{
    const char *p = t->m->text.ptr;
    size_t len = t->m->text.len;
    struct hl7v2_loc loc;

    if (t->nseg > t->lim->max_segments)
        return hl7v2_err_at(t->err, BASE_E_LIMIT, "too-costly", seg_loc(&loc, NULL, 0),
                            "message exceeds %zu segments", t->lim->max_segments);
    /* scratch, written before read: no need to zero 4 KB per message */
    t->fields = base_arena_alloc(t->a, t->lim->max_fields * sizeof(*t->fields));
    t->m->segs = BASE_NEW_N(t->a, struct hl7v2_seg, t->nseg + 1);
    if (t->fields == NULL || t->m->segs == NULL)
        return base_err_set(t->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0, s = 0; i < len; s++) {
        const char *eol = memchr(p + i, '\r', len - i);
        size_t n = (size_t)(eol - (p + i));
        struct hl7v2_seg *seg = &t->m->segs[s];

        seg->index = (uint32_t)(s + 1);
        seg->line = t->lines[s];
        TRY(tokenize_segment(t, p + i, n, seg));
        i += n + 1;
        t->m->nsegs = s + 1;
    }
    return BASE_OK;
}

/* ------------------------------------------------------------------ entry -- */

static bool
all_ascii(const char *p, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t w;

        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080u)
            return false;
    }
    for (; i < n; i++) {
        if ((unsigned char)p[i] >= 0x80)
            return false;
    }
    return true;
}

static int
check_utf8(struct tok *t, struct base_str in, const char *canonical)
{
    size_t bad = 0;

    if (all_ascii(in.ptr, in.len))
        return BASE_OK;
    if (!base_utf8_valid(in.ptr, in.len, &bad))
        return err_at_offset(t->err, BASE_E_PARSE, in.ptr, in.len, bad,
                             strcmp(canonical, "UTF-8") == 0
                                 ? "bytes are not valid UTF-8"
                                 : "bytes are not valid in the declared character set");
    if (strcmp(canonical, "ASCII") == 0) {
        for (size_t i = 0; i < in.len; i++) {
            if ((unsigned char)in.ptr[i] >= 0x80) {
                /* declared ASCII, sent UTF-8: common, and unambiguous */
                t->m->warn |= HL7V2_W_CHARSET_GUESS;
                break;
            }
        }
    }
    return BASE_OK;
}

static void
fill_shortcuts(struct hl7v2_msg *m)
{
    const struct hl7v2_seg *msh = &m->segs[0];

    m->msg_code = hl7v2_get(m, msh, 9, 1, 1, 0);
    m->trigger = hl7v2_get(m, msh, 9, 1, 2, 0);
    m->structure = hl7v2_get(m, msh, 9, 1, 3, 0);
    m->control_id = hl7v2_get(m, msh, 10, 1, 0, 0);
    /* "2.4 ": HIS that pad fixed-width columns; the version is still 2.4 */
    m->version = base_str_trim(hl7v2_get(m, msh, 12, 1, 1, 0));
}

/* HL7 v2.x ch. 2: MSH-9 (message type), MSH-11 (processing id) and MSH-12
 * (version) are required in every version; without them a message cannot
 * be routed, acknowledged or mapped.  MSH-10 is required too but is empty
 * in messages real parsers accept, so it is left to the receiver. */
static int
check_header(struct hl7v2_msg *m, struct base_err *err)
{
    struct hl7v2_loc loc;
    struct base_str v = m->version;
    bool version_ok = v.len >= 3 && v.len <= 8 && v.ptr[0] == '2' && v.ptr[1] == '.';

    for (size_t i = 2; version_ok && i < v.len; i++)
        version_ok = (v.ptr[i] >= '0' && v.ptr[i] <= '9') || (v.ptr[i] == '.' && i > 2);
    seg_loc(&loc, "MSH", 1);
    loc.field = 9;
    if (m->msg_code.len == 0)
        return hl7v2_err_at(err, BASE_E_PARSE, "required", &loc, "message type is required");
    loc.field = 11;
    if (hl7v2_field(&m->segs[0], 11).len == 0)
        return hl7v2_err_at(err, BASE_E_PARSE, "required", &loc, "processing id is required");
    loc.field = 12;
    if (v.len == 0)
        return hl7v2_err_at(err, BASE_E_PARSE, "required", &loc, "version id is required");
    if (!version_ok)
        return hl7v2_err_at(err, BASE_E_INVALID, "not-supported", &loc,
                            "version id is not an HL7 version 2.x");
    return BASE_OK;
}

static struct base_str
skip_preamble(struct base_str in, unsigned *warn)
{
    if (in.len >= 3 && memcmp(in.ptr, "\xEF\xBB\xBF", 3) == 0) {
        *warn |= HL7V2_W_BOM;
        in = base_str_sub(in, 3, in.len - 3);
    }
    while (in.len > 0 && (in.ptr[0] == '\r' || in.ptr[0] == '\n'))
        in = base_str_sub(in, 1, in.len - 1);
    return in;
}

static int
start_checks(struct base_str in, struct base_err *err)
{
    struct hl7v2_loc loc;

    seg_loc(&loc, NULL, 1);
    if (in.len >= 3 && (memcmp(in.ptr, "BHS", 3) == 0 || memcmp(in.ptr, "FHS", 3) == 0))
        return hl7v2_err_at(err, BASE_E_PARSE, "structure", &loc,
                            "input is a batch; split it into messages first");
    if (in.len < 3 || memcmp(in.ptr, "MSH", 3) != 0)
        return hl7v2_err_at(err, BASE_E_PARSE, "structure", &loc,
                            "message does not start with an MSH segment");
    return BASE_OK;
}

int
hl7v2_msg_parse(struct base_arena *a, const char *data, size_t len, const struct hl7v2_limits *lim,
                const struct hl7v2_parse_opts *opts, struct hl7v2_msg **out, struct base_err *err)
{
    static const struct hl7v2_limits deflim = HL7V2_LIMITS_DEFAULT;
    static const struct hl7v2_parse_opts defopts = HL7V2_PARSE_OPTS_DEFAULT;
    struct tok t = {.a = a, .err = err};
    struct base_str in = base_str_make(data, len);
    const char *iconv_name = NULL;
    enum guess guessable = GUESS_NONE;
    size_t msh2_len = 0;

    t.lim = lim != NULL ? lim : &deflim;
    t.flags = (opts != NULL ? opts : &defopts)->flags;
    if (len > t.lim->max_message)
        return base_err_set(err, BASE_E_LIMIT, "too-costly", NULL, "message exceeds %zu bytes",
                            t.lim->max_message);
    t.m = BASE_NEW(a, struct hl7v2_msg);
    if (t.m == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    in = skip_preamble(in, &t.m->warn);
    TRY(start_checks(in, err));
    TRY(hl7v2_read_delims(in.ptr, in.len, t.flags, &t.m->d, &msh2_len, &t.m->warn, err));
    TRY(pick_charset(in.ptr, in.len, &t.m->d, opts != NULL ? opts : &defopts, &t.m->charset,
                     &iconv_name, &guessable, err));
    if (guessable == GUESS_GB18030 && hl7v2_charset_guess_gb18030(a, &in, t.lim->max_message)) {
        t.m->charset = "GB18030";
        t.m->warn |= HL7V2_W_CHARSET_GB18030;
    }
    if (guessable == GUESS_UTF8 && hl7v2_charset_is_utf8_text(in)) {
        t.m->charset = "UTF-8";
        t.m->warn |= HL7V2_W_CHARSET_UTF8;
        iconv_name = NULL;
    }
    if (iconv_name != NULL) {
        struct base_str conv;
        size_t bad = 0;
        int rc = hl7v2_charset_convert(a, iconv_name, in, t.lim->max_message, &conv, &bad, err);

        if (rc == BASE_E_PARSE)
            return err_at_offset(err, rc, in.ptr, in.len, bad,
                                 "bytes are not valid in the declared character set");
        TRY(rc);
        in = conv;
    }
    TRY(check_utf8(&t, in, t.m->charset));
    hl7v2_cls_init(t.cls, &t.m->d);
    {
        const char ds[6] = {t.m->d.field, t.m->d.comp, t.m->d.rep, t.m->d.sub, t.m->d.esc, 0x7f};

        for (int k = 0; k < 6; k++) { /* an absent delimiter (0) matches NUL: a control byte */
#ifdef __SSE2__
            t.vc[k] = _mm_set1_epi8(ds[k]);
#else
            t.bc[k] = 0x0101010101010101u * (unsigned char)ds[k];
#endif
        }
    }
    TRY(normalise(&t, in, msh2_len));
    TRY(tokenize(&t));
    fill_shortcuts(t.m);
    TRY(check_header(t.m, err));
    *out = t.m;
    return BASE_OK;
}
