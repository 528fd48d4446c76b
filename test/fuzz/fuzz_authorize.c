/* The SMART App Launch authorization endpoint: the bytes as the GET query
 * (form decoding, the request reader and checks, the sign-in page), as the
 * sign-in form's body, and appended to a genuine signed request; plus the
 * redirect URI rules.  Invariant: a redirect only ever goes to the
 * registered URI, and no code is issued (nobody can sign in).
 * No shared-corpus folder applies; own seeds in test/fuzz/corpus/authorize.  seeds: */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>


#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/auth/gw_auth.h"
#include "test/fuzz/fuzz_auth_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CB "https://a.example/cb"

static struct gw_auth_keyset *ks;
static struct gw_auth_endpoint_config cfg;
static char *signed_form; /* "request=JWT&" from a good GET */
static const char *uris[] = {CB, "http://127.0.0.1/cb"};
static struct gw_auth_app_client app = {"app", "App", uris, 2, "patient/*.rs", true};

static int
app_get(void *ctx, struct base_arena *a, const char *id, struct gw_auth_app_client **out,
        struct base_err *err)
{
    (void)ctx, (void)a, (void)err;
    if (strcmp(id, "app") != 0)
        return BASE_E_NOTFOUND;
    *out = &app;
    return BASE_OK;
}

static int
no_user(void *ctx, struct base_arena *a, const char *name, struct gw_auth_user **out,
        struct base_err *err)
{
    (void)ctx, (void)a, (void)name, (void)out, (void)err;
    return BASE_E_NOTFOUND;
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
code_put(void *ctx, const struct gw_auth_code *c, struct base_err *err)
{
    (void)ctx, (void)c, (void)err;
    __builtin_trap(); /* nobody exists, so no code can be issued */
}

static const struct gw_auth_backend memory_backend = {NULL,     NULL,    no_user, NULL,    NULL,
                                                      unlocked, fail_ok, NULL,    app_get, code_put,
                                                      NULL,     NULL,    NULL,    NULL,    NULL};

static void
init(void)
{
    static const char q[] = "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fa."
                            "example%2Fcb&scope=patient%2F*.rs&state=s&aud=https%3A%2F%2Fgw."
                            "test%2Ffhir&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw"
                            "-cM&code_challenge_method=S256";
    struct gw_auth_authorize_response r;
    struct base_arena *a;
    const char *p;

    if (ks != NULL)
        return;
    ks = fuzz_auth_config(&cfg, &memory_backend);
    cfg.authorize_url = "https://gw.test/auth/authorize";
    a = base_arena_new(0);
    if (a == NULL || gw_auth_authorize_get(&cfg, a, q, sizeof(q) - 1, 1700000000, &r) != BASE_OK ||
        r.status != 200 || (p = strstr(r.body, "name=\"request\" value=\"")) == NULL)
        __builtin_trap();
    p += strlen("name=\"request\" value=\"");
    signed_form = base_malloc(strcspn(p, "\"") + 16);
    if (signed_form == NULL)
        __builtin_trap();
    sprintf(signed_form, "request=%.*s&", (int)strcspn(p, "\""), p);
    base_arena_free(a);
}

static void
check(const struct gw_auth_authorize_response *r)
{
    if (r->status == 302 && strncmp(r->location, CB, strlen(CB)) != 0 &&
        strncmp(r->location, "http://127.0.0.1", 16) != 0)
        __builtin_trap();
    if (r->status != 302 && r->body == NULL)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a = base_arena_new(16u << 20);
    const char *text = (const char *)data;
    struct gw_auth_authorize_response r;
    size_t pre;
    char *joined;
    char *s;

    init();
    if (a == NULL)
        return 0;
    if (gw_auth_authorize_get(&cfg, a, text, size, 1700000000, &r) == BASE_OK)
        check(&r);
    if (gw_auth_authorize_post(&cfg, a, text, size, "127.0.0.1", 1700000000, &r) == BASE_OK)
        check(&r);
    pre = strlen(signed_form);
    joined = base_arena_alloc(a, pre + size + 1);
    s = base_arena_strndup(a, text, size);
    if (joined != NULL && s != NULL) {
        memcpy(joined, signed_form, pre);
        memcpy(joined + pre, text, size);
        if (gw_auth_authorize_post(&cfg, a, joined, pre + size, "127.0.0.1", 1700000100, &r) ==
            BASE_OK)
            check(&r);
        if (gw_auth_redirect_uri_check(s, NULL) == BASE_OK && !gw_auth_redirect_uri_matches(s, s))
            __builtin_trap();
        (void)gw_auth_redirect_uri_matches("http://127.0.0.1/cb", s);
    }
    base_arena_free(a);
    return 0;
}
