/*
 * Name-based UUIDs (RFC 9562 section 5.5, version 5: SHA-1 of namespace +
 * name), so that the same message always gives the same Bundle.
 *
 * SHA-1 is written out here (FIPS 180-4 section 6.1) rather than called
 * through OpenSSL's EVP: EVP allocates a context and fetches the algorithm
 * per call, which costs more than hashing the ~100-byte names we hash per
 * resource.  SHA-1's weakness against chosen collisions does not matter
 * for naming: RFC 9562 still specifies it for version 5.
 */
#include <string.h>

#include "adapters/hl7v2/hl7v2_map.h"

struct sha1 {
    uint32_t h[5];
    unsigned char block[64];
    size_t used;
    uint64_t total;
};

static uint32_t
rol(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void
sha1_compress(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    for (int i = 0; i < 80; i++) {
        uint32_t f;
        uint32_t k;
        uint32_t t;

        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999u;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1u;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdcu;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6u;
        }
        t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

static void
sha1_init(struct sha1 *s)
{
    static const uint32_t iv[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u,
                                   0xc3d2e1f0u};

    memcpy(s->h, iv, sizeof(iv));
    s->used = 0;
    s->total = 0;
}

static void
sha1_update(struct sha1 *s, const void *data, size_t len)
{
    const unsigned char *p = data;

    s->total += len;
    while (len > 0) {
        size_t take = 64 - s->used;

        if (take > len)
            take = len;
        memcpy(s->block + s->used, p, take);
        s->used += take;
        p += take;
        len -= take;
        if (s->used == 64) {
            sha1_compress(s->h, s->block);
            s->used = 0;
        }
    }
}

static void
sha1_final(struct sha1 *s, unsigned char out[20])
{
    uint64_t bits = s->total * 8u;
    unsigned char pad = 0x80;
    unsigned char zero = 0;
    unsigned char len[8];

    sha1_update(s, &pad, 1);
    while (s->used != 56)
        sha1_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_update(s, len, 8);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
}

/* fhirgate's namespace for HL7 v2 derived resources (a random v4 UUID,
 * fixed forever: changing it would change every derived id). */
static const unsigned char ns_fhirgate_hl7v2[16] = {0x6f, 0x1e, 0x2b, 0x4c, 0x9a, 0x57, 0x4d,
                                                    0x1b, 0x8e, 0x3a, 0x5c, 0x27, 0xd0, 0x41,
                                                    0x96, 0xf3};

void
hl7v2_uuid5(const struct base_str *parts, size_t nparts, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[20];
    struct sha1 s;
    size_t o = 0;

    sha1_init(&s);
    sha1_update(&s, ns_fhirgate_hl7v2, sizeof(ns_fhirgate_hl7v2));
    for (size_t i = 0; i < nparts; i++) {
        /* a separator that cannot occur in text keeps ("ab","c") != ("a","bc") */
        if (i > 0)
            sha1_update(&s, "\x1f", 1);
        sha1_update(&s, parts[i].ptr, parts[i].len);
    }
    sha1_final(&s, d);
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x50); /* version 5 */
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80); /* RFC 9562 variant */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[d[i] >> 4];
        out[o++] = hex[d[i] & 15];
    }
    out[o] = '\0';
}

void
hl7v2_sha1_hex(const void *data, size_t len, char out[41])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[20];
    struct sha1 s;

    sha1_init(&s);
    sha1_update(&s, data, len);
    sha1_final(&s, d);
    for (int i = 0; i < 20; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[40] = '\0';
}
