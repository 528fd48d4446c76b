/*
 * Name-based UUIDs (RFC 9562 section 5.5, version 5: SHA-1 of namespace +
 * name), so that the same message always gives the same Bundle.
 *
 * OpenSSL's one-shot SHA1 functions are used rather than EVP: EVP
 * allocates a context and fetches the algorithm per call, which costs more
 * than hashing the ~100-byte names we hash per resource (the low-level API
 * is deprecated in OpenSSL 3 but kept, and uses the CPU's SHA extensions).
 * SHA-1's weakness against chosen collisions does not matter for naming:
 * RFC 9562 still specifies it for version 5.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>

#include <openssl/sha.h>

#include "adapters/hl7v2/hl7v2_map.h"

/* fhirgate's namespace for HL7 v2 derived resources (a random v4 UUID,
 * fixed forever: changing it would change every derived id). */
static const unsigned char ns_fhirgate_hl7v2[16] = {0x6f, 0x1e, 0x2b, 0x4c, 0x9a, 0x57, 0x4d, 0x1b,
                                                    0x8e, 0x3a, 0x5c, 0x27, 0xd0, 0x41, 0x96, 0xf3};

void
hl7v2_uuid5(const struct base_str *parts, size_t nparts, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[SHA_DIGEST_LENGTH];
    unsigned char name[512];
    size_t total = sizeof(ns_fhirgate_hl7v2);
    size_t o = 0;
    SHA_CTX s;

    for (size_t i = 0; i < nparts; i++)
        total += parts[i].len + (i > 0);
    SHA1_Init(&s);
    if (total <= sizeof(name)) {
        /* the usual name: gathered and hashed in one update, which costs
         * less than one per part (SHA1() itself would fetch the algorithm
         * in OpenSSL 3) */
        size_t n = sizeof(ns_fhirgate_hl7v2);

        memcpy(name, ns_fhirgate_hl7v2, n);
        for (size_t i = 0; i < nparts; i++) {
            /* a separator that cannot occur in text keeps ("ab","c") != ("a","bc") */
            if (i > 0)
                name[n++] = 0x1f;
            if (parts[i].len > 0)
                memcpy(name + n, parts[i].ptr, parts[i].len);
            n += parts[i].len;
        }
        SHA1_Update(&s, name, n);
    } else { /* the same bytes, piece by piece */
        SHA1_Update(&s, ns_fhirgate_hl7v2, sizeof(ns_fhirgate_hl7v2));
        for (size_t i = 0; i < nparts; i++) {
            if (i > 0)
                SHA1_Update(&s, "\x1f", 1);
            SHA1_Update(&s, parts[i].ptr, parts[i].len);
        }
    }
    SHA1_Final(d, &s);
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
    unsigned char d[SHA_DIGEST_LENGTH];

    SHA1(data, len, d);
    for (int i = 0; i < 20; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[40] = '\0';
}
