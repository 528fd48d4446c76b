/*
 * Deterministic UUIDs, SHA-1 hashes and base64 for converters (OpenSSL).
 */
#include "adapters/mapkit/mapkit.h"

#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "fhir/base/arena.h"

/* fhirgate's namespace for name-based UUIDs (a random v4 UUID fixed once);
 * changing it would change every fullUrl the adapters ever produced. */
static const unsigned char fhirgate_ns[16] = {0x7b, 0x42, 0x63, 0xb1, 0x03, 0x39, 0x4a, 0x0c,
                                              0xa2, 0x9e, 0xb4, 0xd1, 0xb2, 0x46, 0xbc, 0x63};

/* OpenSSL 3 looks the algorithm up on every EVP_sha1() init; fetching it
 * once (an immutable object, shared by all threads) halves the cost of a
 * uuid, which every Bundle entry needs. */
static EVP_MD *sha1_md;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void
fetch_sha1(void)
{
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static const EVP_MD *
sha1(void)
{
    (void)pthread_once(&sha1_once, fetch_sha1);
    return sha1_md != NULL ? sha1_md : EVP_sha1();
}

void
adapter_uuid5(const void *name, size_t len, char out[ADAPTER_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t o = 0;

    memset(md, 0, sizeof(md));
    if (ctx != NULL && EVP_DigestInit_ex(ctx, sha1(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, fhirgate_ns, sizeof(fhirgate_ns)) == 1 &&
        EVP_DigestUpdate(ctx, name, len) == 1)
        (void)EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    /* RFC 4122 section 4.3: version 5 in the high nibble of byte 6, the
     * variant 10xx in byte 8. */
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 0x0f];
    }
    out[o] = '\0';
}

void
adapter_sha1_b64(const void *data, size_t len, char out[29])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    unsigned int mdlen = 0;

    memset(md, 0, sizeof(md));
    (void)EVP_Digest(data, len, md, &mdlen, sha1(), NULL);
    (void)EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

json_t *
adapter_base64_json(const void *data, size_t len, size_t max_len)
{
    size_t outlen;
    char *buf;
    json_t *s;

    if (len > max_len || len > (size_t)INT32_MAX / 2)
        return NULL;
    outlen = 4 * ((len + 2) / 3);
    buf = base_malloc(outlen + 1);
    if (buf == NULL)
        return NULL;
    /* EVP_EncodeBlock takes an int length; the bound above keeps it in range. */
    (void)EVP_EncodeBlock((unsigned char *)buf, data, (int)len);
    s = json_stringn_nocheck(buf, outlen);
    base_free(buf);
    return s;
}
