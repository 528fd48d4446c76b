/*
 * Small helpers of the auth module: secrets in arenas, error relabelling,
 * and the mapping of auth errors to HTTP (RFC 6750 §3).
 */
#include "gateway/auth/auth_int.h"

#include <string.h>

#include <openssl/crypto.h>

#include "fhir/base/arena.h"

struct secret {
    char *p;
    size_t len;
};

static void
wipe_secret(void *obj)
{
    struct secret *s = obj;

    OPENSSL_cleanse(s->p, s->len);
}

char *
gw_auth__secret_dup(struct base_arena *a, const char *p, size_t len)
{
    struct secret *s = BASE_NEW(a, struct secret);
    char *copy = base_arena_strndup(a, p, len);

    if (s == NULL || copy == NULL)
        return NULL;
    s->p = copy;
    s->len = len;
    if (base_arena_on_free(a, wipe_secret, s) != BASE_OK) {
        return NULL; /* already wiped by the failed registration */
    }
    return copy;
}

int
gw_auth__as_auth(struct base_err *err)
{
    if (err != NULL) {
        err->rc = BASE_E_AUTH;
        if (strcmp(err->issue_code, "expired") != 0)
            memcpy(err->issue_code, "login", sizeof("login"));
    }
    return BASE_E_AUTH;
}
