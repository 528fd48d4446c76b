/*
 * Strict base64 and base64url (RFC 4648).  JWS (RFC 7515 §2) forbids
 * padding and line breaks; we also require the unused low bits of the last
 * character to be zero, so a token has exactly one accepted spelling and a
 * "tampered but equivalent" signature segment cannot slip through.
 */
#include "gateway/auth/auth_int.h"

#include <string.h>

#include "fhir/base/arena.h"

static const char alpha_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char alpha_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
sextet(enum gw_auth__b64 kind, unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (kind == GW_AUTH__B64URL_NOPAD) {
        if (c == '-')
            return 62;
        if (c == '_')
            return 63;
        return -1;
    }
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

size_t
gw_auth__b64_decoded_cap(size_t len)
{
    return len / 4 * 3 + 3;
}

/* Strip canonical padding for the padded flavour: the length must be a
 * multiple of 4 and at most two '=' at the end. */
static bool
strip_padding(enum gw_auth__b64 kind, size_t *len, const char *in)
{
    size_t pad = 0;

    if (kind != GW_AUTH__B64_PAD)
        return true;
    if (*len % 4 != 0)
        return false;
    while (pad < 2 && *len > pad && in[*len - 1 - pad] == '=')
        pad++;
    *len -= pad;
    return true;
}

bool
gw_auth__b64_decode(enum gw_auth__b64 kind, const char *in, size_t len, unsigned char *out,
                    size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;

    if (!strip_padding(kind, &len, in) || len % 4 == 1)
        return false;
    for (size_t i = 0; i < len; i++) {
        int v = sextet(kind, (unsigned char)in[i]);

        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1u;
        }
    }
    /* Leftover bits must be zero (RFC 4648 §3.5 canonical encoding). */
    if (acc != 0)
        return false;
    *out_len = n;
    return true;
}

int
gw_auth__b64_encode(enum gw_auth__b64 kind, const unsigned char *in, size_t len,
                    struct base_buf *out)
{
    const char *alpha = kind == GW_AUTH__B64URL_NOPAD ? alpha_url : alpha_std;
    size_t i = 0;
    char q[4];

    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

        q[0] = alpha[v >> 18];
        q[1] = alpha[(v >> 12) & 63];
        q[2] = alpha[(v >> 6) & 63];
        q[3] = alpha[v & 63];
        TRY(base_buf_append(out, q, 4));
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        size_t chars = i + 1 < len ? 3 : 2;

        q[0] = alpha[v >> 18];
        q[1] = alpha[(v >> 12) & 63];
        q[2] = alpha[(v >> 6) & 63];
        q[3] = '=';
        TRY(base_buf_append(out, q, chars));
        if (kind == GW_AUTH__B64_PAD)
            TRY(base_buf_append(out, "==", 4 - chars));
    }
    return BASE_OK;
}

char *
gw_auth__b64url_arena(struct base_arena *a, const unsigned char *in, size_t len)
{
    struct base_buf b;
    char *s = NULL;

    base_buf_init(&b, 0);
    if (gw_auth__b64_encode(GW_AUTH__B64URL_NOPAD, in, len, &b) == BASE_OK)
        s = b.len == 0 ? base_arena_strdup(a, "") : base_buf_dup0(&b, a);
    base_buf_fini(&b);
    return s;
}
