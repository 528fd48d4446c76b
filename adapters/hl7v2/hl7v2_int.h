/*
 * adapters/hl7v2/hl7v2_int.h — internals shared by the hl7v2 parser files.
 */
#ifndef ADAPTERS_HL7V2_HL7V2_INT_H
#define ADAPTERS_HL7V2_HL7V2_INT_H

#include "adapters/hl7v2/hl7v2.h"

/* Byte classes for the tokenizer (one table per message's delimiters). */
enum hl7v2_cls {
    HL7V2_C_DATA = 0,
    HL7V2_C_FIELD,
    HL7V2_C_COMP,
    HL7V2_C_REP,
    HL7V2_C_SUB,
    HL7V2_C_ESC,
    HL7V2_C_CTRL, /* a control byte FHIR strings cannot hold */
    HL7V2_C_EOL   /* CR or LF */
};

void hl7v2_cls_init(unsigned char cls[256], const struct hl7v2_delims *d);

/* Validate the escape sequence whose body (between the two escape
 * characters) is `body`; BASE_OK or BASE_E_PARSE with the reason in *why. */
int hl7v2_escape_check(struct base_str body, const char **why, bool *local);

/* Set an error located at `loc` (formatted into err->where). */
int hl7v2_err_at(struct base_err *err, int rc, const char *issue, const struct hl7v2_loc *loc,
                 const char *fmt, ...) BASE_PRINTF(5, 6);

/* MSH-18 name -> canonical charset and the iconv name (NULL when no
 * conversion is needed: UTF-8 and ASCII).  False when unknown. */
bool hl7v2_charset_lookup(struct base_str name, const char **canonical, const char **iconv_name);

/* Convert `in` from `iconv_name` to UTF-8 in the arena.  On a byte that is
 * not valid in the source charset, BASE_E_PARSE with *bad_off set. */
int hl7v2_charset_convert(struct base_arena *a, const char *iconv_name, struct base_str in,
                          size_t max_out, struct base_str *out, size_t *bad_off,
                          struct base_err *err);

/* Bytes that are not UTF-8 but read as Chinese GB 18030 text (most byte
 * pairs with a high trail byte, the whole input converting, CJK ideographs
 * in the result): *in becomes the UTF-8 conversion and true is returned.
 * For a message whose MSH-18 is empty, ASCII or UTF-8. */
bool hl7v2_charset_guess_gb18030(struct base_arena *a, struct base_str *in, size_t max);
/* Bytes with multi-byte UTF-8 and nothing else above 0x7F (see charset.c). */
bool hl7v2_charset_is_utf8_text(struct base_str in);

/* MSH-1/MSH-2 from the first line `p` (HL7V2_ACCEPT_TEXT_TERMINATORS in
 * `flags` allows a doubled escape character).  *msh2_len is how many input
 * bytes MSH-2 occupies. */
int hl7v2_read_delims(const char *p, size_t len, unsigned flags, struct hl7v2_delims *d,
                      size_t *msh2_len, unsigned *warn, struct base_err *err);

/* Convert UTF-8 `in` to the charset `iconv_name` (for ACKs). */
int hl7v2_charset_encode(struct base_arena *a, const char *iconv_name, struct base_str in,
                         struct base_str *out, struct base_err *err);

/* Is `c` a "segment identifier" character (A-Z, 0-9)? */
static inline bool
hl7v2_is_id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

#endif /* ADAPTERS_HL7V2_HL7V2_INT_H */
