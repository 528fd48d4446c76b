/*
 * What the feed reads from the network: MLLP frames and the HL7 v2
 * acknowledgements inside them.  Pure and bounded (GW_DEMO_LIMIT_ACK);
 * errors say where, never what.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/limits.h"
#include "gateway/demo/gw_demo.h"

#define MLLP_SB 0x0B /* start block */
#define MLLP_EB 0x1C /* end block */
#define MLLP_CR 0x0D

int
gw_demo_mllp_find(const char *buf, size_t len, size_t max, size_t *start, size_t *mlen,
                  size_t *used, struct base_err *err)
{
    const char *sb = memchr(buf, MLLP_SB, len);
    size_t s;

    *used = 0;
    if (sb == NULL) {
        *used = len; /* bytes outside a frame: nothing to keep */
        return 0;
    }
    s = (size_t)(sb - buf);
    *used = s;
    for (size_t i = s + 1; i < len; i++) {
        if (i - s - 1 > max)
            return base_err_set(err, BASE_E_LIMIT, "too-long", "mllp", "frame over %zu bytes", max);
        if (buf[i] == MLLP_SB)
            return base_err_set(err, BASE_E_PARSE, "structure", "mllp",
                                "start block inside a frame");
        if (buf[i] != MLLP_EB)
            continue;
        if (i + 1 == len)
            return 0; /* the carriage return is still to come */
        if (buf[i + 1] != MLLP_CR)
            return base_err_set(err, BASE_E_PARSE, "structure", "mllp",
                                "end block not followed by a carriage return");
        *start = s + 1;
        *mlen = i - s - 1;
        *used = i + 2;
        return 1;
    }
    if (len - s - 1 > max)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "mllp", "frame over %zu bytes", max);
    return 0;
}

/* Field `n` (1-based; for MSH as in HL7: MSH-1 is the separator) of the
 * segment seg[0..len), up to the first component separator when `first`. */
static void
field(const char *seg, size_t len, char fs, char cs, size_t n, bool first, const char **out,
      size_t *olen)
{
    size_t f = 0;
    size_t i = 3;

    *out = NULL;
    *olen = 0;
    while (i < len && f < n) {
        size_t from = ++i; /* skip the separator */

        while (i < len && seg[i] != fs)
            i++;
        if (++f == n) {
            size_t to = from;

            while (to < i && !(first && seg[to] == cs))
                to++;
            *out = seg + from;
            *olen = to - from;
        }
    }
}

/* Copy printable text (UTF-8 kept, control bytes dropped), cut at a
 * character boundary to fit. */
static void
copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];

        if (c >= 0x20 && c != 0x7F)
            dst[n++] = (char)c;
    }
    while (n > 0 && ((unsigned char)dst[n - 1] & 0x80) != 0) {
        /* drop a trailing UTF-8 sequence the cut left incomplete */
        size_t k = n - 1;

        while (k > 0 && ((unsigned char)dst[k] & 0xC0) == 0x80)
            k--;
        unsigned char lead = (unsigned char)dst[k];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (n - k >= need)
            break;
        n = k;
    }
    dst[n] = '\0';
}

static bool
ack_code_ok(const char *c, size_t n)
{
    static const char *const codes[] = {"AA", "AE", "AR", "CA", "CE", "CR"};

    for (size_t i = 0; n == 2 && i < BASE_ARRAY_LEN(codes); i++) {
        if (memcmp(c, codes[i], 2) == 0)
            return true;
    }
    return false;
}

static int
read_msa(const char *seg, size_t len, char fs, char cs, struct gw_demo_ack *out,
         struct base_err *err)
{
    const char *v;
    size_t n;

    field(seg, len, fs, cs, 1, true, &v, &n);
    if (v == NULL || !ack_code_ok(v, n))
        return base_err_set(err, BASE_E_PARSE, "code-invalid", "MSA-1",
                            "not an acknowledgement code (table 0008)");
    memcpy(out->code, v, 2);
    out->code[2] = '\0';
    field(seg, len, fs, cs, 2, false, &v, &n);
    copy_text(out->control_id, sizeof(out->control_id), v != NULL ? v : "", n);
    field(seg, len, fs, cs, 3, false, &v, &n);
    if (out->text[0] == '\0' && v != NULL)
        copy_text(out->text, sizeof(out->text), v, n);
    return BASE_OK;
}

int
gw_demo_ack_parse(const char *msg, size_t len, struct gw_demo_ack *out, struct base_err *err)
{
    char fs;
    char cs;
    bool have_msa = false;
    size_t i = 0;

    memset(out, 0, sizeof(*out));
    ENSURE(len <= GW_DEMO_LIMIT_ACK, err, BASE_E_LIMIT, "too-long", "ACK",
           "acknowledgement over %u bytes", GW_DEMO_LIMIT_ACK);
    ENSURE(len >= 8 && memcmp(msg, "MSH", 3) == 0, err, BASE_E_PARSE, "structure", "MSH",
           "acknowledgement does not start with MSH");
    fs = msg[3];
    cs = msg[4];
    ENSURE(fs > 0x20 && fs < 0x7F && cs > 0x20 && cs < 0x7F && fs != cs, err, BASE_E_PARSE,
           "structure", "MSH-1", "unusable delimiters");
    while (i < len) {
        size_t end = i;

        while (end < len && msg[end] != '\r' && msg[end] != '\n')
            end++;
        if (end - i >= 4 && memcmp(msg + i, "MSA", 3) == 0 && msg[i + 3] == fs && !have_msa) {
            TRY(read_msa(msg + i, end - i, fs, cs, out, err));
            have_msa = true;
        } else if (end - i >= 4 && memcmp(msg + i, "ERR", 3) == 0 && msg[i + 3] == fs) {
            const char *v;
            size_t n;

            /* ERR-8 user message (v2.5): the receiver's reason, preferred over MSA-3 */
            field(msg + i, end - i, fs, cs, 8, false, &v, &n);
            if (v != NULL && n > 0)
                copy_text(out->text, sizeof(out->text), v, n);
        }
        i = end + 1;
    }
    ENSURE(have_msa, err, BASE_E_PARSE, "required", "MSA", "acknowledgement without MSA");
    return BASE_OK;
}
