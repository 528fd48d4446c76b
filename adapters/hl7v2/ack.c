/*
 * Acknowledgements (HL7 v2.5.1 ch. 2.9.2, 2.9.3, 2.14: MSA, ERR).
 *
 * Original mode (MSH-15 and MSH-16 empty) answers AA/AE/AR.  A sender in
 * enhanced mode that asks for accept acknowledgements (MSH-15 AL, ER or SU;
 * AL/NE is common in lab feeds) gets the commit codes CA/CE/CR instead: the
 * answer is sent only once the message is committed, so "commit accept"
 * is what it means.  MSH-15 NE (or empty) with an application
 * acknowledgement asked for in MSH-16 gets AA/AE/AR, final here since the
 * commit applies the message.  Every message gets exactly one answer on its
 * connection, also where ER/SU/NE would let a receiver stay silent: an
 * answer the sender did not ask for is ignored, a missing one stalls it.
 *
 * The ACK reuses the message's delimiters, version and processing id, swaps
 * sender and receiver, and is encoded in the message's character set (a
 * GB 18030 sender gets a GB 18030 ACK with the same MSH-18).  ERR carries
 * a location and a fixed, PHI-free text; never a value from the message.
 */
#include <string.h>

#include "adapters/hl7v2/hl7v2_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/buf.h"

#define ACK_MAX (64u << 10)

/* MSH fields the ACK needs, from a parsed message or salvaged from bytes. */
struct hdr {
    struct hl7v2_delims d;
    struct base_str f[19]; /* f[n] = MSH-n raw, n = 3..18 */
    const char *iconv;     /* re-encode the ACK into this charset, or NULL */
    bool parsed;
};

static bool
printable_field(struct base_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        if ((unsigned char)s.ptr[i] < 0x20 || s.ptr[i] == 0x7f)
            return false;
    }
    return true;
}

/* Best effort for a message that did not parse: only fields made of
 * printable bytes, only with sane delimiters. */
static void
salvage(struct base_str raw, struct hdr *h)
{
    struct base_err ignore = {0};
    size_t line = 0;
    size_t i;

    h->d = (struct hl7v2_delims){'|', '^', '~', '\\', '&', 0};
    if (raw.len >= 3 && memcmp(raw.ptr, "\xEF\xBB\xBF", 3) == 0)
        raw = base_str_sub(raw, 3, raw.len - 3);
    if (raw.len < 8 || memcmp(raw.ptr, "MSH", 3) != 0)
        return;
    while (line < raw.len && raw.ptr[line] != '\r' && raw.ptr[line] != '\n')
        line++;
    {
        struct hl7v2_delims d = {0};
        size_t msh2 = 0;
        unsigned warn = 0;

        if (hl7v2_read_delims(raw.ptr, line, 0, &d, &msh2, &warn, &ignore) != BASE_OK)
            return;
        h->d = d;
        i = 4 + msh2;
    }
    for (size_t n = 3; n <= 18 && i < line; n++) {
        size_t start = ++i;

        while (i < line && raw.ptr[i] != h->d.field)
            i++;
        h->f[n] = base_str_make(raw.ptr + start, i - start);
        if (!printable_field(h->f[n]))
            h->f[n] = BASE_STR_NULL;
    }
}

static void
from_msg(const struct hl7v2_msg *m, struct hdr *h)
{
    const char *canonical = NULL;

    h->d = m->d;
    h->parsed = true;
    for (size_t n = 3; n <= 18; n++)
        h->f[n] = hl7v2_field(&m->segs[0], n);
    if (m->charset != NULL && strcmp(m->charset, "UTF-8") != 0 && strcmp(m->charset, "ASCII") != 0)
        (void)hl7v2_charset_lookup(base_str_from_cstr(m->charset), &canonical, &h->iconv);
}

int
hl7v2_escape_text(struct base_buf *b, const struct hl7v2_delims *d, struct base_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        const char *e = NULL;

        if (c == d->field)
            e = "F";
        else if (c == d->comp)
            e = "S";
        else if (d->rep != 0 && c == d->rep)
            e = "R";
        else if (d->sub != 0 && c == d->sub)
            e = "T";
        else if (d->esc != 0 && c == d->esc)
            e = "E";
        else if (c == '\r' || c == '\n')
            e = ".br";
        if (e == NULL) {
            TRY(base_buf_putc(b, ((unsigned char)c < 0x20) ? ' ' : c));
        } else if (d->esc != 0) {
            TRY(base_buf_appendf(b, "%c%s%c", d->esc, e, d->esc));
        } else {
            TRY(base_buf_putc(b, ' ')); /* no escape character: drop the delimiter */
        }
    }
    return BASE_OK;
}

static int
put_cstr(struct base_buf *b, const struct hdr *h, const char *s)
{
    return hl7v2_escape_text(b, &h->d, base_str_from_cstr(s));
}

static bool
version_before_25(struct base_str v)
{
    return v.len >= 3 && v.ptr[0] == '2' && v.ptr[1] == '.' && v.ptr[2] >= '1' && v.ptr[2] <= '4' &&
           (v.len == 3 || v.ptr[3] == '.');
}

static const char *
code_text(int code)
{
    switch (code) {
    case 100:
        return "Segment sequence error";
    case 101:
        return "Required field missing";
    case 102:
        return "Data type error";
    case 103:
        return "Table value not found";
    case 200:
        return "Unsupported message type";
    case 203:
        return "Unsupported version id";
    default:
        return "Application internal error";
    }
}

int
hl7v2_err_code(const struct base_err *why)
{
    if (why == NULL)
        return 207;
    if (strcmp(why->issue_code, "required") == 0)
        return 101;
    if (strcmp(why->issue_code, "not-supported") == 0)
        return strncmp(why->where, "MSH-12", 6) == 0 ? 203 : 200;
    if (strcmp(why->issue_code, "code-invalid") == 0)
        return 103;
    if (why->rc == BASE_E_PARSE && strcmp(why->issue_code, "structure") == 0)
        return 100;
    if (why->rc == BASE_E_PARSE || why->rc == BASE_E_INVALID || why->rc == BASE_E_LIMIT)
        return 102;
    return 207;
}

/* Occurrence of segment `index` (1-based, blank lines not counted) among
 * segments with the same identifier, read from raw bytes. */
static uint32_t
raw_sequence(struct base_str raw, const struct hl7v2_loc *loc)
{
    uint32_t seg = 0;
    uint32_t n = 0;

    for (size_t i = 0; i < raw.len && seg < loc->seg_index;) {
        size_t start = i;

        while (i < raw.len && raw.ptr[i] != '\r' && raw.ptr[i] != '\n')
            i++;
        if (i > start) {
            seg++;
            n += i - start >= 3 && memcmp(raw.ptr + start, loc->seg, 3) == 0;
        }
        i++;
    }
    return n > 0 ? n : loc->seg_index;
}

/* ERL-2 counts occurrences of the segment identifier, not positions. */
static uint32_t
seg_sequence(const struct hl7v2_msg *m, struct base_str raw, const struct hl7v2_loc *loc)
{
    uint32_t n = 0;

    if (m == NULL)
        return loc->seg[0] != '\0' ? raw_sequence(raw, loc) : loc->seg_index;
    if (loc->seg_index == 0 || loc->seg_index > m->nsegs)
        return loc->seg_index;
    for (uint32_t i = 0; i < loc->seg_index; i++)
        n += memcmp(m->segs[i].id, loc->seg, 3) == 0;
    return n;
}

static int
put_err(struct base_buf *b, const struct hdr *h, const struct hl7v2_msg *m, struct base_str raw,
        const struct base_err *why)
{
    struct hl7v2_loc loc;
    int code = hl7v2_err_code(why);
    char c = h->d.comp;
    char s = h->d.sub != 0 ? h->d.sub : ' ';

    if (why == NULL || !hl7v2_loc_parse(why->where, &loc))
        memset(&loc, 0, sizeof(loc));
    if (loc.seg[0] == '\0' && loc.seg_index > 0 && m != NULL && loc.seg_index <= m->nsegs)
        memcpy(loc.seg, m->segs[loc.seg_index - 1].id, 3);
    TRY(base_buf_appendf(b, "\rERR%c", h->d.field));
    if (version_before_25(m != NULL ? m->version : h->f[12])) {
        /* v2.1-2.4: ERR-1 error code and location (ELD) */
        TRY(base_buf_appendf(b, "%s%c", loc.seg, c));
        if (loc.seg_index > 0)
            TRY(base_buf_appendf(b, "%u", (unsigned)seg_sequence(m, raw, &loc)));
        TRY(base_buf_putc(b, c));
        if (loc.field > 0)
            TRY(base_buf_appendf(b, "%u", (unsigned)loc.field));
        TRY(base_buf_appendf(b, "%c%d%c", c, code, s));
        TRY(put_cstr(b, h, code_text(code)));
        return base_buf_appendf(b, "%cHL70357", s);
    }
    /* v2.5+: ERR-2 location (ERL), ERR-3 code, ERR-4 severity, ERR-8 text */
    TRY(base_buf_appendf(b, "%c%s%c", h->d.field, loc.seg, c));
    if (loc.seg_index > 0)
        TRY(base_buf_appendf(b, "%u", (unsigned)seg_sequence(m, raw, &loc)));
    TRY(base_buf_putc(b, c));
    if (loc.field > 0)
        TRY(base_buf_appendf(b, "%u%c%u%c%u%c%u", (unsigned)loc.field, c, (unsigned)loc.rep, c,
                             (unsigned)loc.comp, c, (unsigned)loc.sub));
    TRY(base_buf_appendf(b, "%c%d%c", h->d.field, code, c));
    TRY(put_cstr(b, h, code_text(code)));
    TRY(base_buf_appendf(b, "%cHL70357%cE%c%c%c%c", c, h->d.field, h->d.field, h->d.field,
                         h->d.field, h->d.field));
    return put_cstr(b, h, why != NULL ? why->msg : "");
}

static int
put_msh(struct base_buf *b, const struct hdr *h, const struct hl7v2_ack_opts *o,
        struct base_str trigger)
{
    char fs = h->d.field;
    char enc[6] = {h->d.comp, h->d.rep, h->d.esc, h->d.sub, h->d.trunc, 0};

    TRY(base_buf_appendf(b, "MSH%c%s%c", fs, enc, fs));
    if (o->sending_app != NULL)
        TRY(put_cstr(b, h, o->sending_app));
    else
        TRY(base_buf_append_str(b, h->f[5]));
    TRY(base_buf_putc(b, fs));
    if (o->sending_facility != NULL)
        TRY(put_cstr(b, h, o->sending_facility));
    else
        TRY(base_buf_append_str(b, h->f[6]));
    TRY(base_buf_putc(b, fs));
    TRY(base_buf_append_str(b, h->f[3]));
    TRY(base_buf_putc(b, fs));
    TRY(base_buf_append_str(b, h->f[4]));
    TRY(base_buf_putc(b, fs));
    TRY(put_cstr(b, h, o->timestamp));
    TRY(base_buf_appendf(b, "%c%cACK%c", fs, fs, h->d.comp));
    TRY(base_buf_append_str(b, trigger));
    TRY(base_buf_appendf(b, "%cACK%c", h->d.comp, fs));
    TRY(put_cstr(b, h, o->control_id));
    TRY(base_buf_putc(b, fs));
    TRY(h->f[11].len > 0 ? base_buf_append_str(b, h->f[11]) : base_buf_putc(b, 'P'));
    TRY(base_buf_putc(b, fs));
    TRY(h->f[12].len > 0 ? base_buf_append_str(b, h->f[12]) : base_buf_append_cstr(b, "2.5"));
    if (h->f[18].len > 0) {
        TRY(base_buf_appendf(b, "%c%c%c%c%c%c", fs, fs, fs, fs, fs, fs));
        TRY(base_buf_append_str(b, h->f[18]));
    }
    return BASE_OK;
}

static int
encode_out(struct base_arena *a, const struct hdr *h, struct base_buf *b, struct base_str *out,
           struct base_err *err)
{
    char *copy;

    if (h->iconv != NULL) {
        /* iconv the other way: UTF-8 -> the sender's charset */
        return hl7v2_charset_encode(a, h->iconv, base_buf_str(b), out, err);
    }
    copy = base_buf_dup0(b, a);
    if (copy == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    *out = base_str_make(copy, b->len);
    return BASE_OK;
}

/* MSH-15 (table 0155) asks for accept acknowledgements. */
static bool
accept_ack_requested(struct base_str msh15)
{
    while (msh15.len > 0 && msh15.ptr[msh15.len - 1] == ' ')
        msh15.len--;
    while (msh15.len > 0 && msh15.ptr[0] == ' ')
        msh15 = base_str_sub(msh15, 1, msh15.len - 1);
    return base_str_eq_cstr(msh15, "AL") || base_str_eq_cstr(msh15, "ER") ||
           base_str_eq_cstr(msh15, "SU");
}

static int
build(struct base_buf *b, const struct hdr *h, const struct hl7v2_msg *msg, struct base_str raw,
      enum hl7v2_ack_code code, const struct base_err *why, const struct hl7v2_ack_opts *o)
{
    static const char *const original[] = {"AA", "AE", "AR"};
    static const char *const commit[] = {"CA", "CE", "CR"};
    const char *const *codes = accept_ack_requested(h->f[15]) ? commit : original;
    struct base_str trigger = BASE_STR_NULL;
    struct base_str control = h->f[10];

    if (msg != NULL) {
        trigger = msg->trigger;
    } else if (h->f[9].len > 0) {
        struct base_str head;

        base_str_cut(h->f[9], h->d.comp, &head, &trigger);
        base_str_cut(trigger, h->d.comp, &trigger, &head);
    }
    TRY(put_msh(b, h, o, trigger));
    TRY(base_buf_appendf(b, "\rMSA%c%s%c", h->d.field, codes[code], h->d.field));
    TRY(base_buf_append_str(b, control));
    if (code != HL7V2_ACK_AA && version_before_25(h->f[12])) {
        TRY(base_buf_putc(b, h->d.field));
        TRY(put_cstr(b, h, why != NULL ? why->msg : ""));
    }
    if (code != HL7V2_ACK_AA)
        TRY(put_err(b, h, msg, raw, why));
    return base_buf_putc(b, '\r');
}

int
hl7v2_ack_build(struct base_arena *a, const struct hl7v2_msg *msg, struct base_str raw,
                enum hl7v2_ack_code code, const struct base_err *why,
                const struct hl7v2_ack_opts *o, struct base_str *out, struct base_err *err)
{
    struct hdr h;
    struct base_buf b;
    int rc;

    if (o == NULL || o->control_id == NULL || o->timestamp == NULL || code > HL7V2_ACK_AR)
        return base_err_set(err, BASE_E_INVALID, "required", NULL,
                            "acknowledgement needs a control id and a timestamp");
    memset(&h, 0, sizeof(h));
    if (msg != NULL)
        from_msg(msg, &h);
    else
        salvage(raw, &h);
    base_buf_init(&b, ACK_MAX);
    rc = build(&b, &h, msg, raw, code, why, o);
    if (rc == BASE_OK)
        rc = encode_out(a, &h, &b, out, err);
    else
        rc = base_err_set(err, rc, "too-costly", NULL, "acknowledgement too large");
    base_buf_fini(&b);
    return rc;
}
