/*
 * The canonical forms that are hashed (rows) and signed (checkpoints).
 *
 * Every field is written as "<decimal byte length>:<bytes>\n" and SQL NULL
 * as "-\n", after a version line.  Length prefixes make the encoding
 * unambiguous whatever the values contain (newlines, colons), and the same
 * bytes can be produced with SQL alone (audit.canonical() in
 * schemas/sql/gateway/0002_audit.sql) or a few lines of any language, so
 * anyone can re-verify with standard tools (docs/design/storage.md).
 */
#include "gateway/audit/audit_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/evp.h>

#include "fhir/base/err.h"

#define ROW_HEADER "fhirgate-audit-v1\n"
#define CP_HEADER  "fhirgate-audit-checkpoint-v1\n"

void
gw_audit__canon_set(struct gw_audit__canon *c, enum gw_audit__col i, const char *s)
{
    c->v[i] = s;
    c->len[i] = s != NULL ? strlen(s) : 0;
}

static int
field_prefix(const char *v, size_t len, char pre[32])
{
    if (v == NULL)
        return snprintf(pre, 32, "-\n");
    return snprintf(pre, 32, "%zu:", len);
}

int
gw_audit__row_hash(const struct gw_audit__canon *c, char out[65])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char h[32];
    unsigned int hlen = 0;
    int ok;

    if (md == NULL)
        return BASE_E_NOMEM;
    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(md, ROW_HEADER, sizeof(ROW_HEADER) - 1) == 1;
    for (int i = 0; ok && i < GW_AUDIT__NCOLS; i++) {
        char pre[32];
        int n = field_prefix(c->v[i], c->len[i], pre);

        ok = EVP_DigestUpdate(md, pre, (size_t)n) == 1;
        if (ok && c->v[i] != NULL)
            ok =
                EVP_DigestUpdate(md, c->v[i], c->len[i]) == 1 && EVP_DigestUpdate(md, "\n", 1) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(md, h, &hlen) == 1 && hlen == 32;
    EVP_MD_CTX_free(md);
    if (!ok)
        return BASE_E_INTERNAL;
    gw_audit__hex(h, 32, out);
    return BASE_OK;
}

static int
put_field(struct base_buf *out, const char *v, size_t len)
{
    if (v == NULL)
        return base_buf_append(out, "-\n", 2);
    TRY(base_buf_appendf(out, "%zu:", len));
    TRY(base_buf_append(out, v, len));
    return base_buf_putc(out, '\n');
}

int
gw_audit__row_canonical(const struct gw_audit__canon *c, struct base_buf *out)
{
    TRY(base_buf_append(out, ROW_HEADER, sizeof(ROW_HEADER) - 1));
    for (int i = 0; i < GW_AUDIT__NCOLS; i++)
        TRY(put_field(out, c->v[i], c->len[i]));
    return BASE_OK;
}

int
gw_audit__entities_canon(const char *const *e, size_t n, struct base_buf *out)
{
    for (size_t i = 0; i < n; i++)
        TRY(put_field(out, e[i], strlen(e[i])));
    /* make the buffer non-NULL even for zero elements: "" differs from NULL */
    return base_buf_append(out, "", 0);
}

int
gw_audit__entities_literal(const char *const *e, size_t n, struct base_buf *out)
{
    TRY(base_buf_putc(out, '{'));
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            TRY(base_buf_putc(out, ','));
        TRY(base_buf_putc(out, '"'));
        for (const char *p = e[i]; *p != '\0'; p++) {
            if (*p == '"' || *p == '\\')
                TRY(base_buf_putc(out, '\\'));
            TRY(base_buf_putc(out, *p));
        }
        TRY(base_buf_putc(out, '"'));
    }
    return base_buf_putc(out, '}');
}

int
gw_audit__cp_canonical(const struct gw_audit__cp *cp, struct base_buf *out)
{
    char seq[24];

    snprintf(seq, sizeof(seq), "%" PRId64, cp->seq);
    TRY(base_buf_append(out, CP_HEADER, sizeof(CP_HEADER) - 1));
    TRY(put_field(out, cp->chain_id, strlen(cp->chain_id)));
    TRY(put_field(out, seq, strlen(seq)));
    TRY(put_field(out, cp->hash, strlen(cp->hash)));
    TRY(put_field(out, cp->row_time, strlen(cp->row_time)));
    TRY(put_field(out, cp->signed_at, strlen(cp->signed_at)));
    TRY(put_field(out, cp->kind, strlen(cp->kind)));
    return put_field(out, cp->key_id, strlen(cp->key_id));
}

void
gw_audit__format_time(int64_t us, char out[32])
{
    time_t s = (time_t)(us / 1000000);
    long frac = (long)(us % 1000000);
    struct tm tm;
    char tmp[96];

    if (frac < 0) {
        frac += 1000000;
        s--;
    }
    gmtime_r(&s, &tm);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    snprintf(out, 32, "%.31s", tmp);
}

int64_t
gw_audit__now_us(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void
gw_audit__hex(const unsigned char *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long
gw_audit__unhex(const char *s, unsigned char *out, size_t cap)
{
    size_t len;
    size_t n = 0;

    if (s[0] == '\\' && s[1] == 'x')
        s += 2;
    len = strlen(s);
    if (len % 2 != 0 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval(s[i]);
        int lo = hexval(s[i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[n++] = (unsigned char)(hi << 4 | lo);
    }
    return (long)n;
}
