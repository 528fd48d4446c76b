/*
 * PKCE (RFC 7636) for public clients, and HTML escaping for the sign-in
 * page.  Pure functions.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "gateway/auth/auth_int.h"

/* RFC 7636 §4.1: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~". */
static bool
unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

bool
gw_auth_pkce_verifier_ok(const char *verifier, size_t len)
{
    if (verifier == NULL || len < 43 || len > 128)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!unreserved(verifier[i]))
            return false;
    }
    return true;
}

bool
gw_auth_pkce_challenge_ok(const char *challenge, size_t len)
{
    unsigned char raw[48];
    size_t n = 0;

    /* S256 is a base64url SHA-256: 43 characters, canonical trailing bits. */
    return challenge != NULL && len == 43 &&
           gw_auth__b64_decode(GW_AUTH__B64URL_NOPAD, challenge, len, raw, &n) && n == 32;
}

bool
gw_auth_pkce_s256_matches(const char *verifier, size_t len, const char *challenge)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned char want[48];
    size_t n = 0;

    if (!gw_auth_pkce_verifier_ok(verifier, len) || challenge == NULL ||
        !gw_auth__b64_decode(GW_AUTH__B64URL_NOPAD, challenge, strlen(challenge), want, &n) ||
        n != sizeof(digest))
        return false;
    SHA256((const unsigned char *)verifier, len, digest);
    return CRYPTO_memcmp(digest, want, sizeof(digest)) == 0;
}

int
gw_auth_html_escape(struct base_buf *out, const char *s)
{
    for (const char *p = s; p != NULL && *p != '\0'; p++) {
        const char *ent = NULL;

        switch (*p) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            break;
        }
        TRY(ent != NULL ? base_buf_append(out, ent, strlen(ent)) : base_buf_append(out, p, 1));
    }
    return BASE_OK;
}
