/* Authorization header framing (Bearer, Basic, garbage) through to token
 * verification and the WWW-Authenticate challenge; the same bytes as a
 * token request body (form decoding, the whole token endpoint against a
 * in-memory store) and as a SMART scope string.
 * No shared-corpus folder applies; own seeds in test/fuzz/corpus/auth_header.  seeds: */
#include <stddef.h>
#include <stdint.h>
#include <string.h>


#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/auth/gw_auth.h"
#include "test/fuzz/fuzz_auth_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_auth_keyset *ks;
static struct gw_auth_endpoint_config cfg;

static int
no_client(void *ctx, struct base_arena *a, const char *id, struct gw_auth_client **out,
          struct base_err *err)
{
    (void)ctx, (void)a, (void)id, (void)out, (void)err;
    return BASE_E_NOTFOUND;
}

static int
no_user(void *ctx, struct base_arena *a, const char *name, struct gw_auth_user **out,
        struct base_err *err)
{
    (void)ctx, (void)a, (void)name, (void)out, (void)err;
    return BASE_E_NOTFOUND;
}

static int
jti_ok(void *ctx, const char *iss, const char *jti, int64_t exp, int64_t now, struct base_err *err)
{
    (void)ctx, (void)iss, (void)jti, (void)exp, (void)now, (void)err;
    return BASE_OK;
}

static int
unlocked(void *ctx, const char *user, const char *addr, int64_t now, struct gw_auth_throttle *out,
         struct base_err *err)
{
    (void)ctx, (void)user, (void)addr, (void)now, (void)err;
    memset(out, 0, sizeof(*out));
    return BASE_OK;
}

static int
fail_ok(void *ctx, const char *user, const char *addr, const struct gw_auth_lockout_policy *p,
        int64_t now, struct gw_auth_throttle *out, struct base_err *err)
{
    (void)p;
    return unlocked(ctx, user, addr, now, out, err);
}

static int
success_ok(void *ctx, const char *user, struct base_err *err)
{
    (void)ctx, (void)user, (void)err;
    return BASE_OK;
}

/* The refresh grant reaches its scope checks and the store: one app, and
 * every token known (to a user who does not exist, so nothing is issued). */
static int
one_app(void *ctx, struct base_arena *a, const char *id, struct gw_auth_app_client **out,
        struct base_err *err)
{
    static const char *uris[] = {"https://app.example/cb"};
    static struct gw_auth_app_client app = {"app", "App", uris, 1, "patient/*.rs offline_access",
                                            true};

    (void)ctx, (void)a, (void)err;
    if (strcmp(id, app.client_id) != 0)
        return BASE_E_NOTFOUND;
    *out = &app;
    return BASE_OK;
}

static int
refresh_put_ok(void *ctx, const struct gw_auth_refresh *r, int64_t now, struct base_err *err)
{
    (void)ctx, (void)r, (void)now, (void)err;
    return BASE_OK;
}

static int
refresh_known(void *ctx, struct base_arena *a, const char *hash, int64_t now,
              struct gw_auth_refresh **out, struct base_err *err)
{
    static struct gw_auth_refresh r = {"h", "family", "app", "nobody", "patient/*.rs", 1LL << 40};

    (void)ctx, (void)a, (void)hash, (void)now, (void)err;
    *out = &r;
    return BASE_OK;
}

static const struct gw_auth_backend memory_backend = {
    NULL,    no_client, no_user, NULL,           jti_ok,        unlocked, fail_ok, success_ok,
    one_app, NULL,      NULL,    refresh_put_ok, refresh_known, NULL,     NULL};

static void
init(void)
{
    if (ks != NULL)
        return;
    ks = fuzz_auth_config(&cfg, &memory_backend);
    cfg.password_grant = true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a = base_arena_new(16u << 20);
    const char *text = (const char *)data;
    int outcome = 0; /* results only matter in that the calls return */
    struct gw_auth_credentials cred;
    struct gw_auth_principal *p = NULL;
    struct gw_auth_token_response resp;
    struct gw_auth_scopes scopes;
    struct base_err err = {0};
    struct base_buf b;

    init();
    if (a == NULL)
        return 0;
    outcome += gw_auth_header_parse(a, text, size, &cred, NULL);
    base_buf_init(&b, 4096);
    if (gw_auth_bearer_verify(a, ks, &cfg.tokens, text, size, 1700000000, &p, &err) != BASE_OK &&
        (gw_auth_challenge(&err, &b) != BASE_OK || gw_auth_http_status(&err) < 400))
        __builtin_trap();
    base_buf_fini(&b);
    if (gw_auth_token_endpoint_body(&cfg, a, text, size, "127.0.0.1", 1700000000, &resp) ==
            BASE_OK &&
        (resp.body == NULL || resp.status == 200))
        __builtin_trap(); /* nobody exists, so nothing can be granted */
    if (gw_auth_scopes_parse(a, base_str_make(text, size), &scopes, NULL) == BASE_OK) {
        base_buf_init(&b, 1u << 20);
        outcome += gw_auth_scopes_format(&scopes, &b, NULL);
        base_buf_fini(&b);
    }
    base_arena_free(a);
    (void)outcome;
    return 0;
}
