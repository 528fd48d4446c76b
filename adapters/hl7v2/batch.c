/*
 * Files of many messages and HL7 batches (HL7 v2.5.1 ch. 2.10.3: FHS/BHS
 * ... BTS/FTS).  Splits into message slices; the messages are parsed one by
 * one afterwards, so one bad message does not hide the others.
 *
 * Lines between messages that are not segments (comments in sample files,
 * banners) are skipped and counted; MLLP block characters left in a
 * captured file are dropped.  A segment line before the first MSH is
 * an error: it belongs to no message and would be lost silently.
 */
#include <string.h>

#include "adapters/hl7v2/hl7v2_int.h"
#include "fhir/base/arena.h"

struct line {
    const char *p;
    size_t len;  /* without terminator */
    size_t end;  /* offset after the CR/LF terminator: where a message slice may end */
    size_t next; /* offset after the terminator */
};

/* MLLP block characters (HL7 v2.5.1 Appendix C): a file captured from an
 * MLLP connection keeps them around every message. */
#define MLLP_SB 0x0B
#define MLLP_EB 0x1C

static void
next_line(const char *data, size_t len, size_t off, struct line *l)
{
    size_t i;

    while (off < len && data[off] == MLLP_SB)
        off++;
    i = off;
    while (i < len && data[i] != '\r' && data[i] != '\n' && data[i] != MLLP_EB)
        i++;
    l->p = data + off;
    l->len = i - off;
    if (i < len && data[i] == MLLP_EB) {
        l->end = i; /* the block ends the message and the line */
        l->next = i + 1;
        return;
    }
    if (i < len && data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
        i++;
    l->next = i < len ? i + 1 : i;
    l->end = l->next;
}

static bool
is_delim_char(char c)
{
    return c > 0x20 && c < 0x7f && !hl7v2_is_id_char(c) && !(c >= 'a' && c <= 'z');
}

/* A segment name (three characters such as PID or ZXY) followed by the end of
 * the line or a delimiter character. */
static bool
is_segment(const struct line *l, char fs)
{
    if (l->len < 3 || !(l->p[0] >= 'A' && l->p[0] <= 'Z') || !hl7v2_is_id_char(l->p[1]) ||
        !hl7v2_is_id_char(l->p[2]))
        return false;
    if (l->len == 3)
        return true;
    return fs != 0 ? l->p[3] == fs : is_delim_char(l->p[3]);
}

static bool
starts(const struct line *l, const char *id)
{
    return l->len >= 4 && memcmp(l->p, id, 3) == 0 && is_delim_char(l->p[3]);
}

static long
bts_count(const struct line *l)
{
    struct base_str f = base_str_make(l->p + 4, l->len - 4);
    struct base_str head;
    struct base_str tail;
    int64_t v;

    base_str_cut(f, l->p[3], &head, &tail);
    if (!base_str_to_i64(head, &v) || v < 0 || v > 100000000)
        return -1;
    return (long)v;
}

static size_t
count_msh(const char *data, size_t len)
{
    size_t n = 0;

    for (size_t off = 0; off < len;) {
        struct line l;

        next_line(data, len, off, &l);
        n += starts(&l, "MSH");
        off = l.next;
    }
    return n;
}

struct split {
    struct hl7v2_file *f;
    const char *data;
    const struct hl7v2_limits *lim;
    struct base_err *err;
    size_t cur;     /* index of the open message + 1, 0 = none */
    size_t cur_end; /* end offset of its last segment line */
    char fs;        /* field separator of the open message */
    uint32_t cut;   /* line that was no segment and ended a message, 0 = none */
};

static void
close_msg(struct split *s)
{
    if (s->cur > 0) {
        struct hl7v2_file_msg *m = &s->f->msgs[s->cur - 1];

        m->data.len = s->cur_end - (size_t)(m->data.ptr - s->data);
    }
    s->cur = 0;
    s->fs = 0;
}

static int
on_line(struct split *s, const struct line *l, uint32_t lineno, size_t cap)
{
    if (starts(l, "MSH")) {
        close_msg(s);
        if (s->f->nmsgs >= s->lim->max_messages || s->f->nmsgs >= cap)
            return base_err_set(s->err, BASE_E_LIMIT, "too-costly", NULL,
                                "file exceeds %zu messages", s->lim->max_messages);
        s->f->msgs[s->f->nmsgs].data = base_str_make(l->p, 0);
        s->f->msgs[s->f->nmsgs].line = lineno;
        s->cur = ++s->f->nmsgs;
        s->fs = l->p[3];
        s->cut = 0;
    } else if (starts(l, "FHS") || starts(l, "BHS") || starts(l, "FTS") || starts(l, "BTS")) {
        close_msg(s);
        s->f->has_batch = true;
        s->cut = 0;
        if (memcmp(l->p, "BTS", 3) == 0 && bts_count(l) >= 0)
            s->f->declared_count =
                (s->f->declared_count < 0 ? 0 : s->f->declared_count) + bts_count(l);
        return BASE_OK;
    } else if (l->len == 0) {
        return BASE_OK; /* blank lines neither end nor extend a message */
    } else if (s->cur > 0 && is_segment(l, s->fs)) {
        /* part of the open message */
    } else if (s->cur == 0 && is_segment(l, 0)) {
        /* A message whose segments go on after a line that is no segment was
         * cut by a line break inside a field (a text wrapped by an editor or
         * a mail client): name that line, not the orphans after it. */
        if (s->cut != 0)
            return base_err_set(s->err, BASE_E_PARSE, "structure", NULL,
                                "line %u: not a segment, inside a message (a line break "
                                "within a field?)",
                                s->cut);
        return base_err_set(s->err, BASE_E_PARSE, "structure", NULL,
                            "line %u: segment outside a message (no MSH before it)", lineno);
    } else {
        if (s->cur > 0)
            s->cut = lineno;
        close_msg(s);
        s->f->skipped_lines++;
        return BASE_OK;
    }
    s->cur_end = l->end;
    return BASE_OK;
}

int
hl7v2_file_split(struct base_arena *a, const char *data, size_t len, const struct hl7v2_limits *lim,
                 struct hl7v2_file *out, struct base_err *err)
{
    static const struct hl7v2_limits deflim = HL7V2_LIMITS_DEFAULT;
    struct split s = {.f = out, .data = data, .lim = lim != NULL ? lim : &deflim, .err = err};
    size_t off = 0;
    uint32_t lineno = 1;
    size_t cap;

    memset(out, 0, sizeof(*out));
    out->declared_count = -1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        off = 3;
    cap = count_msh(data + off, len - off);
    if (cap > s.lim->max_messages)
        return base_err_set(err, BASE_E_LIMIT, "too-costly", NULL, "file exceeds %zu messages",
                            s.lim->max_messages);
    if (cap == 0)
        return base_err_set(err, BASE_E_PARSE, "structure", NULL,
                            "no message found (no line starts with MSH)");
    out->msgs = BASE_NEW_N(a, struct hl7v2_file_msg, cap);
    if (out->msgs == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    while (off < len) {
        struct line l;

        next_line(data, len, off, &l);
        TRY(on_line(&s, &l, lineno, cap));
        off = l.next;
        lineno++;
    }
    close_msg(&s);
    return BASE_OK;
}
