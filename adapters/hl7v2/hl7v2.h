/*
 * adapters/hl7v2/hl7v2.h — HL7 version 2 (ER7, "pipe and hat") parsing.
 *
 * hl7v2_msg_parse() takes the bytes of one message and returns a model whose
 * slices point into a UTF-8 copy of the input held in the caller's arena.
 * It is pure: no I/O, no globals, no logging.  Everything it rejects is
 * reported with a location in err->where, never with the value:
 *
 *     "PID-5[2].1 (segment 3)"    field 5, repetition 2, component 1
 *     "MSH-18 (segment 1)"        a whole field
 *     "segment 7"                 the segment as a whole (bad identifier, …)
 *
 * Numbering follows HL7 v2.x chapter 2: fields, repetitions, components and
 * subcomponents are 1-based; MSH-1 is the field separator itself and MSH-2
 * the encoding characters, so MSH fields are numbered from 1 at the
 * separator.  A segment's field n is seg->fields[n - 1].
 *
 * What the parser accepts (see docs/design/hl7v2.md):
 *   - v2.1 to v2.8 ER7; any five distinct printable delimiters from
 *     MSH-1/MSH-2 (MSH-2 may carry 1–5 characters: component, repetition,
 *     escape, subcomponent, truncation);
 *   - segment terminator CR; LF and CRLF with HL7V2_ACCEPT_LF;
 *   - a leading UTF-8 byte order mark, blank lines between segments;
 *   - every escape of chapter 2.7 (\F\ \S\ \T\ \R\ \E\ \Xhh..\ \Zxx\ \H\ \N\
 *     and the FT formatting commands \.br\ \.sp\ \.fi\ \.nf\ \.in\ \.ti\
 *     \.sk\ \.ce\); \Cxxyy\ and \Mxxyyzz\ (ISO 2022 switching) are rejected;
 *   - MSH-18 character sets ASCII, 8859/1-9 and 8859/15, UNICODE UTF-8,
 *     GB 18030-2000 (also GBK, GB2312 and the names Chinese systems send),
 *     BIG-5, KS X 1001: converted to UTF-8 before tokenizing.
 */
#ifndef ADAPTERS_HL7V2_HL7V2_H
#define ADAPTERS_HL7V2_HL7V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"

struct base_arena;

struct hl7v2_limits {
    size_t max_message;  /* bytes of one message (after charset conversion too) */
    size_t max_segments; /* segments in one message */
    size_t max_fields;   /* fields in one segment */
    size_t max_reps;     /* repetitions in one field */
    size_t max_comps;    /* components in one repetition */
    size_t max_subs;     /* subcomponents in one component */
    size_t max_messages; /* messages in one file or batch */
};

#define HL7V2_LIMITS_DEFAULT                                                                       \
    ((struct hl7v2_limits){BASE_LIMIT_HL7V2_MAX_MESSAGE, BASE_LIMIT_HL7V2_MAX_SEGMENTS,            \
                           BASE_LIMIT_HL7V2_MAX_FIELDS, BASE_LIMIT_HL7V2_MAX_REPS,                 \
                           BASE_LIMIT_HL7V2_MAX_COMPS, BASE_LIMIT_HL7V2_MAX_SUBS,                  \
                           BASE_LIMIT_HL7V2_MAX_MESSAGES})

/* Parse flags (struct hl7v2_parse_opts.flags). */
enum hl7v2_parse_flag {
    /* LF and CRLF end a segment too (HL7 says CR only; files and many
     * interfaces use LF).  Without it a LF inside a segment is an error. */
    HL7V2_ACCEPT_LF = 1u << 0,
    /* A line ending in the two characters "\r" or "\n" (optionally followed
     * by a double quote) before its real terminator is a terminator that an
     * exporter wrote as text; drop it instead of rejecting the unterminated
     * escape.  Also accepts MSH-2 "^~\\&" (escape character doubled). */
    HL7V2_ACCEPT_TEXT_TERMINATORS = 1u << 1,
};

#define HL7V2_FLAGS_DEFAULT (HL7V2_ACCEPT_LF | HL7V2_ACCEPT_TEXT_TERMINATORS)

struct hl7v2_parse_opts {
    unsigned flags;              /* enum hl7v2_parse_flag */
    const char *default_charset; /* MSH-18 value assumed when MSH-18 is empty
                                  * (e.g. "GB18030" for a HIS that never sets
                                  * it); NULL = UTF-8 (ASCII is a subset) */
    const char *force_charset;   /* used whatever MSH-18 says (a sender whose
                                  * MSH-18 is wrong or non-standard); NULL = no */
};

#define HL7V2_PARSE_OPTS_DEFAULT ((struct hl7v2_parse_opts){HL7V2_FLAGS_DEFAULT, NULL, NULL})

/* Things the parser recovered from (hl7v2_msg.warn bits); never errors. */
enum hl7v2_warning {
    HL7V2_W_BOM = 1u << 0,             /* leading UTF-8 byte order mark dropped */
    HL7V2_W_LF = 1u << 1,              /* LF or CRLF terminators */
    HL7V2_W_TEXT_TERMINATOR = 1u << 2, /* literal "\r" at line ends dropped */
    HL7V2_W_DOUBLED_ESCAPE = 1u << 3,  /* MSH-2 "^~\\&" read as "^~\&" */
    HL7V2_W_BLANK_LINES = 1u << 4,     /* empty lines between segments skipped */
    HL7V2_W_CHARSET_GUESS = 1u << 5,   /* MSH-18 said ASCII but bytes were UTF-8 */
    HL7V2_W_LOCAL_ESCAPE = 1u << 6,    /* \Zxx\ escapes dropped (locally defined) */
    HL7V2_W_CHARSET_GB18030 = 1u << 7, /* MSH-18 empty, ASCII or UTF-8 and bytes not
                                        * UTF-8: read as GB 18030 */
    HL7V2_W_CHARSET_UTF8 = 1u << 8,    /* MSH-18 said ISO 8859 but the bytes were
                                        * multi-byte UTF-8: read as UTF-8 */
};

struct hl7v2_delims {
    char field; /* MSH-1 */
    char comp;  /* MSH-2 [0] */
    char rep;   /* MSH-2 [1], 0 when absent */
    char esc;   /* MSH-2 [2], 0 when absent (then nothing is an escape) */
    char sub;   /* MSH-2 [3], 0 when absent */
    char trunc; /* MSH-2 [4] (v2.7+), 0 when absent; kept as data */
};

struct hl7v2_seg {
    char id[4];              /* segment identifier, NUL-terminated ("PID") */
    uint32_t index;          /* 1-based position in the message */
    uint32_t line;           /* 1-based line in the input (for people) */
    uint32_t nfields;        /* fields after the identifier */
    struct base_str *fields; /* fields[n - 1] is field n, raw (escapes kept) */
};

struct hl7v2_msg {
    struct hl7v2_delims d;
    struct base_str text;   /* the whole message, UTF-8, segments end with CR */
    struct hl7v2_seg *segs; /* segs[0] is MSH */
    size_t nsegs;
    const char *charset; /* canonical source charset: "UTF-8", "GB18030", … */
    unsigned warn;       /* enum hl7v2_warning bits */
    /* MSH shortcuts (raw slices, escapes kept; empty when absent) */
    struct base_str msg_code;   /* MSH-9.1 "ADT" */
    struct base_str trigger;    /* MSH-9.2 "A01" */
    struct base_str structure;  /* MSH-9.3 "ADT_A01" */
    struct base_str control_id; /* MSH-10 */
    struct base_str version;    /* MSH-12.1 "2.5.1" */
};

/*
 * Parse one message (MSH first; an optional BOM and leading blank lines are
 * skipped).  On success *out lives in `a`.  Errors: BASE_E_PARSE (syntax,
 * bad delimiters, bad escape, invalid bytes for the character set),
 * BASE_E_LIMIT (a limit of `lim`), BASE_E_INVALID (unsupported character
 * set), BASE_E_NOMEM.  Nothing is written to *out on error.  `lim` and
 * `opts` may be NULL for the defaults.
 */
BASE_MUST_CHECK int hl7v2_msg_parse(struct base_arena *a, const char *data, size_t len,
                                    const struct hl7v2_limits *lim,
                                    const struct hl7v2_parse_opts *opts, struct hl7v2_msg **out,
                                    struct base_err *err);

/* --- access ------------------------------------------------------------- */

/* The n-th (0-based `from`) segment with identifier `id` at or after
 * position `from`; NULL if none.  *at (may be NULL) receives its position. */
const struct hl7v2_seg *hl7v2_seg_find(const struct hl7v2_msg *m, const char *id, size_t from,
                                       size_t *at);

/* Raw field n (1-based) of a segment; empty when absent. */
struct base_str hl7v2_field(const struct hl7v2_seg *s, size_t n);
/* Repetition r (1-based) of a raw field; empty when absent.  MSH-2 has none. */
struct base_str hl7v2_rep(const struct hl7v2_msg *m, struct base_str field, size_t r);
size_t hl7v2_rep_count(const struct hl7v2_msg *m, struct base_str field); /* 0 when empty */
/* Component c (1-based) of a repetition; subcomponent s (1-based) of a component. */
struct base_str hl7v2_comp(const struct hl7v2_msg *m, struct base_str rep, size_t c);
struct base_str hl7v2_sub(const struct hl7v2_msg *m, struct base_str comp, size_t s);

/* Shorthand: segment field n, repetition r, component c, subcomponent s
 * (0 for "the whole level"), raw. */
struct base_str hl7v2_get(const struct hl7v2_msg *m, const struct hl7v2_seg *seg, size_t n,
                          size_t r, size_t c, size_t s);

/*
 * Decode escapes in a raw slice (any level) into text: delimiters, hex
 * data, line breaks for \.br\ (FT formatting), nothing for highlighting.
 * Returns the raw slice itself when it holds no escape character (no copy).
 * Errors: BASE_E_NOMEM, and BASE_E_PARSE when hex data decodes to bytes that
 * are not UTF-8 or to control characters other than TAB, CR and LF.
 */
BASE_MUST_CHECK int hl7v2_unescape(struct base_arena *a, const struct hl7v2_msg *m,
                                   struct base_str raw, struct base_str *out, struct base_err *err);

/* Append `s` to `b` with the message's delimiters escaped (\F\ \S\ \R\ \T\
 * \E\) and line breaks as \.br\; other control bytes become spaces. */
BASE_MUST_CHECK int hl7v2_escape_text(struct base_buf *b, const struct hl7v2_delims *d,
                                      struct base_str s);

/* True for the HL7 null value "" (a field explicitly emptied). */
bool hl7v2_is_null(struct base_str raw);

/* --- files and batches ---------------------------------------------------- */

struct hl7v2_file_msg {
    struct base_str data; /* one message: MSH … up to the next MSH/BHS/BTS/FHS/FTS */
    uint32_t line;        /* line of its MSH in the file */
};

struct hl7v2_file {
    struct hl7v2_file_msg *msgs;
    size_t nmsgs;
    size_t skipped_lines; /* lines outside messages that are not segments */
    bool has_batch;       /* BHS/FHS seen */
    long declared_count;  /* BTS-1 message count, -1 when absent */
};

/*
 * Split a file (or an FHS/BHS batch) into messages.  Lines outside messages
 * that are not HL7 segments (comments, blank lines) are skipped and
 * counted; the messages themselves are not parsed here.  Errors:
 * BASE_E_LIMIT (more than lim->max_messages), BASE_E_PARSE (no message at
 * all), BASE_E_NOMEM.
 */
BASE_MUST_CHECK int hl7v2_file_split(struct base_arena *a, const char *data, size_t len,
                                     const struct hl7v2_limits *lim, struct hl7v2_file *out,
                                     struct base_err *err);

/* --- locations ---------------------------------------------------------- */

struct hl7v2_loc {
    char seg[4];        /* segment id, "" when unknown */
    uint32_t seg_index; /* 1-based position in the message, 0 unknown */
    uint32_t field;     /* 0 = the whole segment */
    uint32_t rep;       /* 0 = not given */
    uint32_t comp;
    uint32_t sub;
};

/* Format a location as described at the top of this file. */
void hl7v2_loc_format(const struct hl7v2_loc *loc, char *buf, size_t cap);
/* Read a location back from err->where; false when it is not one. */
bool hl7v2_loc_parse(const char *where, struct hl7v2_loc *loc);

/* --- acknowledgements ------------------------------------------------------- */

enum hl7v2_ack_code {
    HL7V2_ACK_AA, /* accepted (and committed) */
    HL7V2_ACK_AE, /* error in the message content */
    HL7V2_ACK_AR  /* rejected: unsupported type/version/MSH, or system failure */
};

struct hl7v2_ack_opts {
    const char *sending_app;      /* MSH-3 of the ACK (our application), may be NULL */
    const char *sending_facility; /* MSH-4 of the ACK, may be NULL */
    const char *control_id;       /* MSH-10 of the ACK (unique per ACK), required */
    const char *timestamp;        /* MSH-7 of the ACK, "YYYYMMDDHHMMSS+ZZZZ", required */
};

/*
 * Build the ACK for a message (original-mode codes AA/AE/AR; CA/CE/CR when
 * MSH-15 asks for enhanced-mode accept acknowledgements): MSH (sender and receiver
 * swapped, same delimiters, version and processing id), MSA (code and the
 * message's MSH-10) and, for AE/AR, an ERR segment whose location comes from
 * `why->where` and whose text is `why->msg` (PHI-free by construction).
 * `msg` may be NULL when the message could not be parsed; then the header
 * fields are salvaged from the raw bytes `raw` when they can be, else
 * defaults (v2.5, "|^~\&") are used.  Pure.  *out is CR-separated, in `a`.
 */
BASE_MUST_CHECK int hl7v2_ack_build(struct base_arena *a, const struct hl7v2_msg *msg,
                                    struct base_str raw, enum hl7v2_ack_code code,
                                    const struct base_err *why, const struct hl7v2_ack_opts *o,
                                    struct base_str *out, struct base_err *err);

/* The HL7 table 0357 error code that fits an error value (100, 101, 102,
 * 200, 203, 207). */
int hl7v2_err_code(const struct base_err *why);

#endif /* ADAPTERS_HL7V2_HL7V2_H */
