/* The token endpoint against an in-memory backend: SMART Backend Services
 * client assertions, the password grant with lockout, error bodies and
 * statuses, audit events, and the smart-configuration document. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/auth/gw_auth.h"
#include "test/unit/gateway/auth/auth_test.h"

#define NOW       1700000000LL
#define TOKEN_URL "https://gw.test/auth/token"

static const struct gw_auth_pw_params fast = {
    .alg = GW_AUTH_PW_SCRYPT, .log2_n = 10, .r = 8, .p = 1};

/* ------------------------------------------------------- memory backend -- */

struct throttle_row {
    char key[128];
    unsigned failures;
    int64_t window_start;
    int64_t locked_until;
};

struct mem {
    struct gw_auth_client clients[4];
    size_t nclients;
    struct gw_auth_user users[4];
    size_t nusers;
    char jti[32][128];
    int64_t jti_exp[32];
    size_t njti;
    struct throttle_row rows[32];
    size_t nrows;
    char rehashed[GW_AUTH_PW_HASH_MAX];
    bool is_down;
    struct gw_auth_app_client apps[3];
    size_t napps;
    struct gw_auth_code codes[8];
    bool code_used[8];
    size_t ncodes;
    struct gw_auth_refresh refresh[8];
    bool refresh_used[8];
    bool refresh_revoked[8];
    size_t nrefresh;
};

static struct mem M;

static int
m_client_get(void *ctx, struct base_arena *a, const char *id, struct gw_auth_client **out,
             struct base_err *err)
{
    struct mem *m = ctx;

    (void)a;
    if (m->is_down)
        return base_err_set(err, BASE_E_IO, "exception", "db", "down");
    for (size_t i = 0; i < m->nclients; i++) {
        if (strcmp(m->clients[i].client_id, id) == 0) {
            *out = &m->clients[i];
            return BASE_OK;
        }
    }
    return BASE_E_NOTFOUND;
}

static int
m_user_get(void *ctx, struct base_arena *a, const char *name, struct gw_auth_user **out,
           struct base_err *err)
{
    struct mem *m = ctx;

    (void)a;
    (void)err;
    for (size_t i = 0; i < m->nusers; i++) {
        if (strcmp(m->users[i].username, name) == 0) {
            *out = &m->users[i];
            return BASE_OK;
        }
    }
    return BASE_E_NOTFOUND;
}

static int
m_rehash(void *ctx, const char *name, const char *hash, struct base_err *err)
{
    struct mem *m = ctx;

    (void)name;
    (void)err;
    snprintf(m->rehashed, sizeof(m->rehashed), "%s", hash);
    return BASE_OK;
}

static int
m_jti(void *ctx, const char *iss, const char *jti, int64_t exp, int64_t now, struct base_err *err)
{
    struct mem *m = ctx;
    char key[128];

    (void)err;
    snprintf(key, sizeof(key), "%s|%s", iss, jti);
    for (size_t i = 0; i < m->njti; i++) {
        if (strcmp(m->jti[i], key) == 0 && m->jti_exp[i] >= now)
            return BASE_E_CONFLICT;
    }
    snprintf(m->jti[m->njti], sizeof(m->jti[0]), "%s", key);
    m->jti_exp[m->njti++] = exp;
    return BASE_OK;
}

static struct throttle_row *
row(struct mem *m, const char *kind, const char *key)
{
    char k[128];

    snprintf(k, sizeof(k), "%s|%s", kind, key);
    for (size_t i = 0; i < m->nrows; i++) {
        if (strcmp(m->rows[i].key, k) == 0)
            return &m->rows[i];
    }
    snprintf(m->rows[m->nrows].key, sizeof(k), "%s", k);
    return &m->rows[m->nrows++];
}

static int
m_check(void *ctx, const char *user, const char *addr, int64_t now, struct gw_auth_throttle *out,
        struct base_err *err)
{
    struct throttle_row *u = row(ctx, "user", user);
    struct throttle_row *a = row(ctx, "addr", addr);

    (void)err;
    memset(out, 0, sizeof(*out));
    if (u->locked_until > now || a->locked_until > now) {
        out->is_locked = true;
        out->by_address = a->locked_until > now;
        out->retry_after =
            (u->locked_until > a->locked_until ? u->locked_until : a->locked_until) - now;
    }
    return BASE_OK;
}

static void
bump(struct throttle_row *r, unsigned max, const struct gw_auth_lockout_policy *p, int64_t now)
{
    if (r->window_start + p->window < now) {
        r->window_start = now;
        r->failures = 0;
    }
    if (++r->failures >= max)
        r->locked_until = now + p->lock_duration;
}

static int
m_fail(void *ctx, const char *user, const char *addr, const struct gw_auth_lockout_policy *p,
       int64_t now, struct gw_auth_throttle *out, struct base_err *err)
{
    bump(row(ctx, "user", user), p->user_max_failures, p, now);
    bump(row(ctx, "addr", addr), p->addr_max_failures, p, now);
    return m_check(ctx, user, addr, now, out, err);
}

static int
m_success(void *ctx, const char *user, struct base_err *err)
{
    struct throttle_row *u = row(ctx, "user", user);

    (void)err;
    u->failures = 0;
    u->locked_until = 0;
    return BASE_OK;
}

static int
m_app_get(void *ctx, struct base_arena *a, const char *id, struct gw_auth_app_client **out,
          struct base_err *err)
{
    struct mem *m = ctx;

    (void)a;
    if (m->is_down)
        return base_err_set(err, BASE_E_IO, "exception", "db", "down");
    for (size_t i = 0; i < m->napps; i++) {
        if (strcmp(m->apps[i].client_id, id) == 0) {
            *out = &m->apps[i];
            return BASE_OK;
        }
    }
    return BASE_E_NOTFOUND;
}

static char code_text[8][7][1100]; /* copies of the stored strings */

static int
m_code_put(void *ctx, const struct gw_auth_code *c, struct base_err *err)
{
    struct mem *m = ctx;
    const char *src[7] = {c->code_hash, c->client_id, c->redirect_uri, c->code_challenge,
                          c->username,  c->scope,     c->nonce != NULL ? c->nonce : ""};
    size_t n = m->ncodes++;

    (void)err;
    ck_assert_uint_lt(n, 8);
    for (int i = 0; i < 7; i++)
        snprintf(code_text[n][i], sizeof(code_text[n][i]), "%s", src[i]);
    m->codes[n] =
        (struct gw_auth_code){code_text[n][0], code_text[n][1], code_text[n][2], code_text[n][3],
                              code_text[n][4], code_text[n][5],
                              c->nonce != NULL ? code_text[n][6] : NULL, c->expires_at};
    return BASE_OK;
}

static int
m_code_take(void *ctx, struct base_arena *a, const char *hash, int64_t now,
            struct gw_auth_code **out, struct base_err *err)
{
    struct mem *m = ctx;

    (void)a;
    (void)err;
    for (size_t i = 0; i < m->ncodes; i++) {
        if (strcmp(m->codes[i].code_hash, hash) == 0 && !m->code_used[i]) {
            m->code_used[i] = true;
            if (m->codes[i].expires_at <= now)
                return BASE_E_NOTFOUND;
            *out = &m->codes[i];
            return BASE_OK;
        }
    }
    return BASE_E_NOTFOUND;
}

static char refresh_text[8][5][1100]; /* copies of the stored strings */

static int
m_refresh_put(void *ctx, const struct gw_auth_refresh *r, int64_t now, struct base_err *err)
{
    struct mem *m = ctx;
    const char *src[5] = {r->token_hash, r->family_id, r->client_id, r->username, r->scope};
    size_t n = m->nrefresh++;

    (void)now;
    if (m->is_down)
        return base_err_set(err, BASE_E_IO, "exception", "db", "down");
    ck_assert_uint_lt(n, 8);
    ck_assert_uint_eq(strlen(r->token_hash), 43); /* a hash, never the token */
    for (int i = 0; i < 5; i++)
        snprintf(refresh_text[n][i], sizeof(refresh_text[n][i]), "%s", src[i]);
    m->refresh[n] =
        (struct gw_auth_refresh){refresh_text[n][0], refresh_text[n][1], refresh_text[n][2],
                                 refresh_text[n][3], refresh_text[n][4], r->expires_at};
    return BASE_OK;
}

/* As the PostgreSQL store: a used token revokes its family. */
static int
m_refresh_take(void *ctx, struct base_arena *a, const char *hash, int64_t now,
               struct gw_auth_refresh **out, struct base_err *err)
{
    struct mem *m = ctx;

    (void)a;
    (void)err;
    for (size_t i = 0; i < m->nrefresh; i++) {
        if (strcmp(m->refresh[i].token_hash, hash) != 0 || m->refresh[i].expires_at <= now)
            continue;
        if (m->refresh_used[i] && !m->refresh_revoked[i]) {
            for (size_t j = 0; j < m->nrefresh; j++)
                if (strcmp(m->refresh[j].family_id, m->refresh[i].family_id) == 0)
                    m->refresh_revoked[j] = true;
            return BASE_E_CONFLICT;
        }
        if (m->refresh_revoked[i])
            return BASE_E_NOTFOUND;
        m->refresh_used[i] = true;
        *out = &m->refresh[i];
        return BASE_OK;
    }
    return BASE_E_NOTFOUND;
}

static int
m_refresh_revoke(void *ctx, const char *hash, const char *client_id, struct base_err *err)
{
    struct mem *m = ctx;

    (void)err;
    for (size_t i = 0; i < m->nrefresh; i++) {
        if (strcmp(m->refresh[i].token_hash, hash) != 0 ||
            strcmp(m->refresh[i].client_id, client_id) != 0)
            continue;
        for (size_t j = 0; j < m->nrefresh; j++)
            if (strcmp(m->refresh[j].family_id, m->refresh[i].family_id) == 0)
                m->refresh_revoked[j] = true;
    }
    return BASE_OK;
}

static int
m_refresh_revoke_family(void *ctx, const char *family_id, struct base_err *err)
{
    struct mem *m = ctx;

    (void)err;
    for (size_t j = 0; j < m->nrefresh; j++)
        if (strcmp(m->refresh[j].family_id, family_id) == 0)
            m->refresh_revoked[j] = true;
    return BASE_OK;
}

static int
m_refresh_put_down(void *ctx, const struct gw_auth_refresh *r, int64_t now, struct base_err *err)
{
    (void)ctx;
    (void)r;
    (void)now;
    return base_err_set(err, BASE_E_IO, "exception", "db", "down");
}

static const struct gw_auth_backend backend = {
    &M,          m_client_get,  m_user_get,     m_rehash,         m_jti,
    m_check,     m_fail,        m_success,      m_app_get,        m_code_put,
    m_code_take, m_refresh_put, m_refresh_take, m_refresh_revoke, m_refresh_revoke_family};

/* ---------------------------------------------------------------- setup -- */

#define AUTHZ_URL "https://gw.test/auth/authorize"
/* RFC 7636 Appendix B */
#define VERIFIER  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define APP_CB    "https://app.example/cb"

static const char *app_uris[] = {APP_CB, "http://127.0.0.1/native"};

static EVP_PKEY *gw_key, *c_es384, *c_rs384, *c_other;
static struct gw_auth_keyset *gw_ks;
static char *jwks_es384, *jwks_rs384;
static struct gw_auth_endpoint_config cfg;

static void
hash(const char *pw, const struct gw_auth_pw_params *p, char *out)
{
    ck_assert_int_eq(gw_auth_password_hash(pw, strlen(pw), p, out, GW_AUTH_PW_HASH_MAX, NULL),
                     BASE_OK);
}

static char hashes[4][GW_AUTH_PW_HASH_MAX];

static void
suite_setup(void)
{
    char *pem;

    base_log_set_level(BASE_LOG_WARN); /* refusals are logged at info */
    gw_key = tk_keygen("P-256");
    c_es384 = tk_keygen("P-384");
    c_rs384 = tk_keygen("RSA2048");
    c_other = tk_keygen("P-384");
    ck_assert_int_eq(gw_auth_keyset_new(&gw_ks, NULL), BASE_OK);
    pem = tk_pem(gw_key, true);
    ck_assert_int_eq(gw_auth_keyset_add_pem(gw_ks, pem, strlen(pem), "gw1", NULL, true, NULL),
                     BASE_OK);
    free(pem);
    jwks_es384 = tk_jwks(c_es384, "c1-key", NULL);
    jwks_rs384 = tk_jwks(c_rs384, "c2-key", "RS384");
    hash("clinician-password", &fast, hashes[0]);
    hash("patient-password", &fast, hashes[1]);
    {
        struct gw_auth_pw_params pb = {.alg = GW_AUTH_PW_PBKDF2, .iterations = 600000};

        hash("legacy-password", &pb, hashes[2]);
    }
}

static void
suite_teardown(void)
{
    gw_auth_keyset_free(gw_ks);
    EVP_PKEY_free(gw_key);
    EVP_PKEY_free(c_es384);
    EVP_PKEY_free(c_rs384);
    EVP_PKEY_free(c_other);
    free(jwks_es384);
    free(jwks_rs384);
}

/* Per test (in the forked child): a fresh backend and configuration. */
static void
test_setup(void)
{
    memset(&M, 0, sizeof(M));
    M.clients[0] =
        (struct gw_auth_client){"hosp-a-his", "Hospital A HIS", GW_AUTH_ROLE_MEMBER_SYSTEM,
                                "hospital-a", jwks_es384,       "system/*.rs",
                                true};
    M.clients[1] = (struct gw_auth_client){"regulator-sys",
                                           "Health Commission",
                                           GW_AUTH_ROLE_REGULATOR,
                                           NULL,
                                           jwks_rs384,
                                           "system/AuditEvent.rs system/Observation.rs",
                                           true};
    M.clients[2] = (struct gw_auth_client){
        "off", "Disabled", GW_AUTH_ROLE_MEMBER_SYSTEM, "h", jwks_es384, "system/*.rs", false};
    M.nclients = 3;
    M.users[0] = (struct gw_auth_user){
        1, "dr.wang", "Dr Wang", GW_AUTH_ROLE_CLINICIAN, "hospital-a", NULL, true, hashes[0]};
    M.users[1] = (struct gw_auth_user){2,    "li.na",     "Li Na", GW_AUTH_ROLE_PATIENT,
                                       NULL, "person-42", true,    hashes[1]};
    M.users[2] = (struct gw_auth_user){3,    "old.user", "Old", GW_AUTH_ROLE_REGULATOR,
                                       NULL, NULL,       true,  hashes[2]};
    M.users[3] = (struct gw_auth_user){4,    "gone", "Gone",   GW_AUTH_ROLE_CLINICIAN, "hospital-a",
                                       NULL, false,  hashes[0]};
    M.nusers = 4;
    M.apps[0] = (struct gw_auth_app_client){"growth-chart",
                                            "Growth <Chart> & Co",
                                            app_uris,
                                            2,
                                            "patient/*.rs user/*.rs openid fhirUser "
                                            "offline_access online_access",
                                            true};
    M.apps[1] = (struct gw_auth_app_client){"old-app", "Old", app_uris, 1, "patient/*.rs", false};
    M.apps[2] = (struct gw_auth_app_client){
        "other-app", "Other", app_uris, 1, "patient/*.rs offline_access", true};
    M.napps = 3;
    tk_endpoint_config(&cfg, gw_ks, &backend);
    cfg.authorize_url = AUTHZ_URL;
}

/* ------------------------------------------------------------- helpers -- */

static char *
assertion(EVP_PKEY *k, const char *alg, const char *kid, const char *iss, const char *aud,
          int64_t exp, const char *jti)
{
    char h[128];
    char c[512];

    snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid);
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,\"jti\":\"%s\"}", iss, iss,
             aud, (long long)exp, jti);
    return tk_token(h, c, k, alg, NULL, 0);
}

static struct gw_auth_token_response
post(struct base_arena *a, const char *body)
{
    struct gw_auth_token_response r;

    ck_assert_int_eq(gw_auth_token_endpoint_body(&cfg, a, body, strlen(body), "10.0.0.9", NOW, &r),
                     BASE_OK);
    ck_assert_ptr_nonnull(r.body);
    return r;
}

static struct gw_auth_token_response
post_cc(struct base_arena *a, const char *tok, const char *scope)
{
    char body[4096];

    snprintf(body, sizeof(body),
             "grant_type=client_credentials&scope=%s&client_assertion_type=urn%%3Aietf%%3Aparams"
             "%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-bearer&client_assertion=%s",
             scope, tok);
    return post(a, body);
}

static const char *
field(const struct gw_auth_token_response *r, const char *name)
{
    static char buf[2048];
    json_t *j = json_loads(r->body, 0, NULL);
    json_t *v = json_object_get(j, name);

    ck_assert_ptr_nonnull(j);
    snprintf(buf, sizeof(buf), "%s", json_is_string(v) ? json_string_value(v) : "");
    if (json_is_integer(v))
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
    json_decref(j);
    return buf;
}

/* The issued token verifies and names the right principal. */
static struct gw_auth_principal *
principal(struct base_arena *a, const struct gw_auth_token_response *r)
{
    struct gw_auth_principal *p = NULL;
    const char *tok = base_arena_strdup(a, field(r, "access_token"));
    struct base_err err = {0};

    ck_assert_msg(gw_auth_token_verify(a, gw_ks, &cfg.tokens, tok, strlen(tok), NOW, &p, &err) ==
                      BASE_OK,
                  "%s", err.msg);
    return p;
}

/* --------------------------------------------------- client credentials -- */

START_TEST(client_credentials_es384)
{
    struct base_arena *a = base_arena_new(0);
    char *t = assertion(c_es384, "ES384", "c1-key", "hosp-a-his", TOKEN_URL, NOW + 240, "a1");
    struct gw_auth_token_response r = post_cc(a, t, "system%2F*.rs+system%2FPatient.c");
    struct gw_auth_principal *p;

    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_str_eq(field(&r, "token_type"), "Bearer");
    ck_assert_str_eq(field(&r, "expires_in"), "300");
    ck_assert_str_eq(field(&r, "scope"), "system/*.rs"); /* Patient.c narrowed away */
    p = principal(a, &r);
    ck_assert_int_eq(p->role, GW_AUTH_ROLE_MEMBER_SYSTEM);
    ck_assert_str_eq(p->subject, "hosp-a-his");
    ck_assert_str_eq(p->client_id, "hosp-a-his");
    ck_assert_str_eq(p->organization, "hospital-a");
    ck_assert(r.event.is_success);
    ck_assert_str_eq(r.event.reason, "granted");
    ck_assert_str_eq(r.event.grant_type, "client_credentials");
    ck_assert_str_eq(r.event.subject, "hosp-a-his");
    ck_assert_str_eq(r.event.token_id, p->token_id);
    free(t);
    base_arena_free(a);
}
END_TEST

START_TEST(client_credentials_rs384_regulator)
{
    struct base_arena *a = base_arena_new(0);
    char *t = assertion(c_rs384, "RS384", "c2-key", "regulator-sys", TOKEN_URL, NOW + 60, "b1");
    struct gw_auth_token_response r = post_cc(a, t, "system%2F*.read");
    struct gw_auth_principal *p;

    ck_assert_msg(r.status == 200, "%s", r.body);
    /* client allows AuditEvent + Observation; the regulator role only AuditEvent */
    ck_assert_str_eq(field(&r, "scope"), "system/AuditEvent.read");
    p = principal(a, &r);
    ck_assert_int_eq(p->role, GW_AUTH_ROLE_REGULATOR);
    ck_assert_int_eq(p->purpose, GW_AUTH_POU_HCOMPL);
    free(t);
    base_arena_free(a);
}
END_TEST

static void
expect_error(const struct gw_auth_token_response *r, unsigned status, const char *error,
             const char *reason)
{
    ck_assert_msg(r->status == status, "status %u body %s", r->status, r->body);
    ck_assert_str_eq(field(r, "error"), error);
    ck_assert_str_ne(field(r, "error_description"), "");
    ck_assert(!r->event.is_success);
    ck_assert_str_eq(r->event.reason, reason);
}

START_TEST(client_assertion_replay_refused)
{
    struct base_arena *a = base_arena_new(0);
    char *t = assertion(c_es384, "ES384", "c1-key", "hosp-a-his", TOKEN_URL, NOW + 240, "same");
    struct gw_auth_token_response r = post_cc(a, t, "system%2F*.rs");

    ck_assert_uint_eq(r.status, 200);
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "assertion-replayed");
    free(t);
    base_arena_free(a);
}
END_TEST

START_TEST(client_assertion_refusals)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response r;
    char *t;

    t = assertion(c_es384, "ES384", "c1-key", "hosp-a-his", "https://other/token", NOW + 60, "c1");
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    ck_assert_str_eq(field(&r, "error_description"), "token audience does not match");
    free(t);
    t = assertion(c_es384, "ES384", "c1-key", "hosp-a-his", TOKEN_URL, NOW + 3600, "c2");
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    ck_assert_str_eq(field(&r, "error_description"), "token lifetime exceeds 300 seconds");
    free(t);
    t = assertion(c_es384, "ES384", "c1-key", "hosp-a-his", TOKEN_URL, NOW - 120, "c3");
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    free(t);
    t = assertion(c_other, "ES384", "c1-key", "hosp-a-his", TOKEN_URL, NOW + 60, "c4");
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    ck_assert_str_eq(field(&r, "error_description"), "token signature is invalid");
    free(t);
    t = assertion(c_es384, "ES384", "other-kid", "hosp-a-his", TOKEN_URL, NOW + 60, "c5");
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    free(t);
    /* another client's keys: hosp-a-his's assertion presented as regulator-sys */
    t = assertion(c_es384, "ES384", "c1-key", "regulator-sys", TOKEN_URL, NOW + 60, "c6");
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    free(t);
    t = assertion(c_es384, "ES384", "c1-key", "nobody", TOKEN_URL, NOW + 60, "c7");
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "unknown-client");
    free(t);
    t = assertion(c_es384, "ES384", "c1-key", "off", TOKEN_URL, NOW + 60, "c8");
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "client-disabled");
    free(t);
    t = tk_token("{\"alg\":\"none\",\"kid\":\"c1-key\"}",
                 "{\"iss\":\"hosp-a-his\",\"sub\":\"hosp-a-his\"}", NULL, NULL, NULL, 0);
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    free(t);
    /* iss != sub */
    t = tk_token("{\"alg\":\"ES384\",\"kid\":\"c1-key\"}",
                 "{\"iss\":\"hosp-a-his\",\"sub\":\"x\",\"aud\":\"" TOKEN_URL
                 "\",\"exp\":1700000060,"
                 "\"jti\":\"q\"}",
                 c_es384, "ES384", NULL, 0);
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    free(t);
    /* no jti */
    t = tk_token("{\"alg\":\"ES384\",\"kid\":\"c1-key\"}",
                 "{\"iss\":\"hosp-a-his\",\"sub\":\"hosp-a-his\",\"aud\":\"" TOKEN_URL
                 "\",\"exp\":1700000060}",
                 c_es384, "ES384", NULL, 0);
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    ck_assert_str_eq(field(&r, "error_description"), "token is missing required claim jti");
    free(t);
    base_arena_free(a);
}
END_TEST

START_TEST(client_credentials_request_errors)
{
    struct base_arena *a = base_arena_new(0);
    char *t = assertion(c_es384, "ES384", "c1-key", "hosp-a-his", TOKEN_URL, NOW + 60, "d1");
    struct gw_auth_token_response r;
    char body[2048];

    r = post(a, "grant_type=client_credentials&scope=system%2F*.rs");
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    snprintf(
        body, sizeof(body),
        "grant_type=client_credentials&scope=x&client_assertion_type=basic&client_assertion=%s", t);
    r = post(a, body);
    expect_error(&r, 401, "invalid_client", "bad-assertion");
    r = post_cc(a, t, "user%2F*.rs");
    expect_error(&r, 400, "invalid_scope", "scope-denied");
    free(t);
    t = assertion(c_es384, "ES384", "c1-key", "hosp-a-his", TOKEN_URL, NOW + 60, "d2");
    snprintf(body, sizeof(body),
             "grant_type=client_credentials&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth"
             "%%3Aclient-assertion-type%%3Ajwt-bearer&client_assertion=%s",
             t);
    r = post(a, body);
    expect_error(&r, 400, "invalid_request", "invalid-request");
    free(t);
    t = assertion(c_es384, "ES384", "c1-key", "hosp-a-his", TOKEN_URL, NOW + 60, "d3");
    r = post_cc(a, t, "user%2FObservation.bad");
    expect_error(&r, 400, "invalid_scope", "scope-denied");
    free(t);
    /* store down → 503 */
    M.is_down = true;
    t = assertion(c_es384, "ES384", "c1-key", "hosp-a-his", TOKEN_URL, NOW + 60, "d4");
    r = post_cc(a, t, "system%2F*.rs");
    expect_error(&r, 503, "temporarily_unavailable", "store-unavailable");
    free(t);
    base_arena_free(a);
}
END_TEST

START_TEST(grant_type_errors)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response r;

    r = post(a, "scope=x");
    expect_error(&r, 400, "invalid_request", "invalid-request");
    r = post(a, "grant_type=implicit&code=x");
    expect_error(&r, 400, "unsupported_grant_type", "unsupported-grant");
    ck_assert_ptr_null(r.event.grant_type);
    r = post(a, "grant_type=authorization_code&code=x");
    expect_error(&r, 400, "invalid_request", "invalid-request");
    r = post(a, "grant_type=password&grant_type=password");
    expect_error(&r, 400, "invalid_request", "invalid-request");
    r = post(a, "grant_type=%zz");
    expect_error(&r, 400, "invalid_request", "invalid-request");
    base_arena_free(a);
}
END_TEST

/* --------------------------------------------------------- password grant -- */

START_TEST(password_grant_clinician)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response r =
        post(a, "grant_type=password&username=Dr.Wang&password=clinician-password");
    struct gw_auth_principal *p;

    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_str_eq(field(&r, "scope"), "openid fhirUser user/*.rs");
    ck_assert_str_eq(field(&r, "expires_in"), "900");
    p = principal(a, &r);
    ck_assert_int_eq(p->role, GW_AUTH_ROLE_CLINICIAN);
    ck_assert_str_eq(p->subject, "dr.wang");
    ck_assert_str_eq(p->organization, "hospital-a");
    ck_assert_str_eq(p->client_id, "portal");
    ck_assert_str_eq(p->display_name, "Dr Wang");
    ck_assert_int_eq(p->purpose, GW_AUTH_POU_TREAT);
    ck_assert_str_eq(r.event.subject, "dr.wang");
    ck_assert_str_eq(r.event.organization, "hospital-a");
    ck_assert_ptr_null(strstr(r.body, "clinician-password"));
    base_arena_free(a);
}
END_TEST

START_TEST(password_grant_patient_scopes)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response r =
        post(a, "grant_type=password&username=li.na&password=patient-password&scope=patient%2F*.*+"
                "user%2F*.rs+offline_access");
    struct gw_auth_principal *p;

    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_str_eq(field(&r, "scope"), "patient/*.read");
    ck_assert_str_eq(field(&r, "patient"), "person-42");
    p = principal(a, &r);
    ck_assert_int_eq(p->role, GW_AUTH_ROLE_PATIENT);
    ck_assert_str_eq(p->patient, "person-42");
    r = post(a, "grant_type=password&username=li.na&password=patient-password&scope=user%2F*.rs");
    expect_error(&r, 400, "invalid_scope", "scope-denied");
    base_arena_free(a);
}
END_TEST

START_TEST(password_grant_refusals)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response r;

    r = post(a, "grant_type=password&username=dr.wang&password=wrong-password");
    expect_error(&r, 400, "invalid_grant", "bad-password");
    ck_assert_str_eq(field(&r, "error_description"), "invalid user name or password");
    r = post(a, "grant_type=password&username=nobody&password=clinician-password");
    expect_error(&r, 400, "invalid_grant", "unknown-user");
    ck_assert_str_eq(field(&r, "error_description"), "invalid user name or password");
    r = post(a, "grant_type=password&username=gone&password=clinician-password");
    expect_error(&r, 400, "invalid_grant", "user-disabled");
    ck_assert_str_eq(field(&r, "error_description"), "invalid user name or password");
    r = post(a, "grant_type=password&username=%27%3B+drop&password=x");
    expect_error(&r, 400, "invalid_grant", "unknown-user");
    ck_assert_ptr_null(r.event.subject);
    r = post(a, "grant_type=password&username=dr.wang");
    expect_error(&r, 400, "invalid_request", "invalid-request");
    r = post(a, "grant_type=password&username=dr.wang&password=clinician-password&client_id=evil");
    expect_error(&r, 401, "invalid_client", "unknown-client");
    cfg.password_grant = false;
    r = post(a, "grant_type=password&username=dr.wang&password=clinician-password");
    expect_error(&r, 400, "unsupported_grant_type", "unsupported-grant");
    base_arena_free(a);
}
END_TEST

START_TEST(lockout_after_repeated_failures)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response r;

    for (int i = 0; i < 5; i++) {
        r = post(a, "grant_type=password&username=dr.wang&password=guess");
        expect_error(&r, 400, "invalid_grant", "bad-password");
    }
    /* locked: even the right password is refused, before it is checked */
    r = post(a, "grant_type=password&username=dr.wang&password=clinician-password");
    expect_error(&r, 429, "invalid_grant", "locked");
    ck_assert_int_eq(r.retry_after, 15 * 60);
    /* other users from the same address are not locked yet */
    r = post(a, "grant_type=password&username=li.na&password=patient-password");
    ck_assert_uint_eq(r.status, 200);
    /* after the lock expires the right password works and resets the count */
    {
        const char *b = "grant_type=password&username=dr.wang&password=clinician-password";

        ck_assert_int_eq(
            gw_auth_token_endpoint_body(&cfg, a, b, strlen(b), "10.0.0.9", NOW + 15 * 60 + 1, &r),
            BASE_OK);
    }
    ck_assert_msg(r.status == 200, "%s", r.body);
    base_arena_free(a);
}
END_TEST

START_TEST(lockout_per_address)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response r;
    char body[128];

    for (int i = 0; i < 20; i++) {
        snprintf(body, sizeof(body), "grant_type=password&username=user%d&password=x", i);
        r = post(a, body);
        expect_error(&r, 400, "invalid_grant", "unknown-user");
    }
    r = post(a, "grant_type=password&username=dr.wang&password=clinician-password");
    expect_error(&r, 429, "invalid_grant", "locked");
    base_arena_free(a);
}
END_TEST

START_TEST(password_hash_upgraded_on_sign_in)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response r =
        post(a, "grant_type=password&username=old.user&password=legacy-password");
    bool match = false;

    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_ptr_nonnull(strstr(M.rehashed, "$scrypt$ln=10,r=8,p=1$"));
    ck_assert_int_eq(gw_auth_password_verify("legacy-password", 15, M.rehashed, &match, NULL),
                     BASE_OK);
    ck_assert(match);
    /* no upgrade when the parameters are current */
    M.rehashed[0] = '\0';
    r = post(a, "grant_type=password&username=dr.wang&password=clinician-password");
    ck_assert_str_eq(M.rehashed, "");
    base_arena_free(a);
}
END_TEST

START_TEST(smart_configuration_document)
{
    json_t *doc = gw_auth_smart_configuration(&cfg);
    char *text;

    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "token_endpoint")), TOKEN_URL);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "jwks_uri")),
                     "https://gw.test/.well-known/jwks.json");
    text = json_dumps(doc, JSON_COMPACT);
    ck_assert_ptr_nonnull(strstr(text,
                                 "\"grant_types_supported\":[\"client_credentials\",\"password\","
                                 "\"authorization_code\",\"refresh_token\"]"));
    ck_assert_ptr_nonnull(
        strstr(text, "\"token_endpoint_auth_methods_supported\":[\"private_key_jwt\"]"));
    ck_assert_ptr_nonnull(strstr(text, "\"RS384\""));
    ck_assert_ptr_nonnull(strstr(text, "\"ES384\""));
    ck_assert_ptr_nonnull(strstr(text, "client-confidential-asymmetric"));
    ck_assert_ptr_nonnull(strstr(text, "\"system/*.rs\""));
    ck_assert_ptr_nonnull(strstr(text, "\"patient/*.rs\""));
    free(text);
    json_decref(doc);
    cfg.password_grant = false;
    doc = gw_auth_smart_configuration(&cfg);
    text = json_dumps(doc, JSON_COMPACT);
    ck_assert_ptr_nonnull(
        strstr(text, "\"grant_types_supported\":[\"client_credentials\",\"authorization_code\","
                     "\"refresh_token\"]"));
    free(text);
    json_decref(doc);
}
END_TEST

/* ----------------------------------------------------- SMART App Launch -- */

#define GOOD_QUERY                                                                                 \
    "response_type=code&client_id=growth-chart&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"        \
    "&scope=launch%2Fpatient+patient%2F*.rs+openid+fhirUser&state=st%26%3C1&aud=https%3A%2F%2F"    \
    "gw.test%2Ffhir&code_challenge=" CHALLENGE "&code_challenge_method=S256&nonce=n-0S6"

static struct gw_auth_authorize_response
authz_get(struct base_arena *a, const char *q)
{
    struct gw_auth_authorize_response r;

    ck_assert_int_eq(gw_auth_authorize_get(&cfg, a, q, strlen(q), NOW, &r), BASE_OK);
    return r;
}

/* The signed request the page carries (malloc). */
static char *
page_request(const struct gw_auth_authorize_response *r)
{
    const char *k = "name=\"request\" value=\"";
    const char *p = r->body != NULL ? strstr(r->body, k) : NULL;

    ck_assert_ptr_nonnull(p);
    p += strlen(k);
    return strndup(p, strcspn(p, "\""));
}

static struct gw_auth_authorize_response
authz_post(struct base_arena *a, const char *req, const char *user, const char *pw,
           const char *action, int64_t now)
{
    struct gw_auth_authorize_response r;
    char body[8192];

    snprintf(body, sizeof(body), "request=%s&username=%s&password=%s&action=%s", req, user, pw,
             action);
    ck_assert_int_eq(gw_auth_authorize_post(&cfg, a, body, strlen(body), "10.0.0.7", now, &r),
                     BASE_OK);
    return r;
}

/* The value of `name` in a redirect's query (static buffer; "" if absent). */
static const char *
loc_param(const struct gw_auth_authorize_response *r, const char *name)
{
    static char buf[512];
    char key[64];
    const char *p;

    ck_assert_uint_eq(r->status, 302);
    snprintf(key, sizeof(key), "%s=", name);
    p = strstr(r->location, key);
    buf[0] = '\0';
    if (p != NULL && (p[-1] == '?' || p[-1] == '&'))
        snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(p + strlen(key), "&"), p + strlen(key));
    return buf;
}

/* Sign `user` in through the page for `query`; the code (malloc). */
static char *
code_for(struct base_arena *a, const char *query, const char *user, const char *pw)
{
    struct gw_auth_authorize_response r = authz_get(a, query);
    char *req = page_request(&r);
    char *code;

    r = authz_post(a, req, user, pw, "approve", NOW);
    free(req);
    ck_assert_msg(r.status == 302, "status %u", r.status);
    ck_assert(strncmp(r.location, APP_CB "?code=", strlen(APP_CB "?code=")) == 0);
    code = strdup(loc_param(&r, "code"));
    ck_assert_uint_ge(strlen(code), 43); /* 256 bits */
    return code;
}

/* Sign li.na in through the page; the code (malloc). */
static char *
get_code(struct base_arena *a, const char *user, const char *pw)
{
    return code_for(a, GOOD_QUERY, user, pw);
}

static struct gw_auth_token_response
redeem(struct base_arena *a, const char *code, const char *client, const char *verifier)
{
    char body[1024];

    snprintf(body, sizeof(body),
             "grant_type=authorization_code&code=%s&redirect_uri=https%%3A%%2F%%2Fapp.example"
             "%%2Fcb&client_id=%s&code_verifier=%s",
             code, client, verifier);
    return post(a, body);
}

START_TEST(app_launch_flow)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_authorize_response g = authz_get(a, GOOD_QUERY);
    struct gw_auth_token_response t;
    struct gw_auth_principal *p;
    char *req;
    char *code;

    ck_assert_uint_eq(g.status, 200);
    ck_assert(!g.is_sign_in);
    /* the app's name is escaped; the page posts only to us and the app */
    ck_assert_ptr_nonnull(strstr(g.body, "Growth &lt;Chart&gt; &amp; Co"));
    ck_assert_ptr_null(strstr(g.body, "<Chart>"));
    ck_assert_ptr_nonnull(strstr(g.csp, "form-action 'self' https://app.example;"));
    ck_assert_ptr_nonnull(strstr(g.csp, "frame-ancestors 'none'"));
    req = page_request(&g);
    g = authz_post(a, req, "li.na", "patient-password", "approve", NOW + 5);
    free(req);
    ck_assert_uint_eq(g.status, 302);
    ck_assert(g.is_sign_in && g.event.is_success);
    ck_assert_str_eq(g.event.reason, "granted");
    ck_assert_str_eq(g.event.subject, "li.na");
    ck_assert_str_eq(loc_param(&g, "state"), "st%26%3C1"); /* echoed, re-encoded */
    code = strdup(loc_param(&g, "code"));
    t = redeem(a, code, "growth-chart", VERIFIER);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(t.event.grant_type, "authorization_code");
    ck_assert_str_eq(field(&t, "patient"), "person-42");
    ck_assert_str_eq(field(&t, "scope"), "openid fhirUser launch/patient patient/*.rs");
    p = principal(a, &t);
    /* OpenID Connect: an id_token for the app, signed by us, typed JWT */
    {
        const char *text = base_arena_strdup(a, field(&t, "id_token"));
        struct gw_auth_jwt *jwt = NULL;
        struct gw_auth_principal *as_access = NULL;
        struct base_err err = {0};
        struct gw_auth_jwt_expect ex = {.issuer = "https://gw.test",
                                        .audience = "growth-chart",
                                        .now = NOW,
                                        .leeway = 60,
                                        .required = GW_AUTH_CLAIM_ISS | GW_AUTH_CLAIM_SUB |
                                                    GW_AUTH_CLAIM_AUD | GW_AUTH_CLAIM_EXP |
                                                    GW_AUTH_CLAIM_IAT};

        ck_assert_int_eq(gw_auth_jwt_parse(a, text, strlen(text), &jwt, &err), BASE_OK);
        ck_assert_int_eq(gw_auth_jwt_verify(jwt, gw_ks, &err), BASE_OK);
        ck_assert_int_eq(gw_auth_jwt_check_claims(jwt, &ex, &err), BASE_OK);
        ck_assert_str_eq(jwt->typ, "JWT");
        ck_assert_str_eq(gw_auth_jwt_claim_str(jwt, "sub"), "li.na");
        ck_assert_str_eq(gw_auth_jwt_claim_str(jwt, "nonce"), "n-0S6");
        ck_assert_str_eq(gw_auth_jwt_claim_str(jwt, "fhirUser"),
                         "https://gw.test/fhir/Patient/person-42");
        /* an id_token is no access token */
        ck_assert_int_ne(gw_auth_token_verify(a, gw_ks, &cfg.tokens, text, strlen(text), NOW,
                                              &as_access, &err),
                         BASE_OK);
    }
    ck_assert_str_eq(p->client_id, "growth-chart");
    ck_assert_str_eq(p->subject, "li.na");
    ck_assert_int_eq(p->role, GW_AUTH_ROLE_PATIENT);
    /* RFC 6749 §4.1.2: a code is used once */
    t = redeem(a, code, "growth-chart", VERIFIER);
    expect_error(&t, 400, "invalid_grant", "bad-code");
    free(code);
    base_arena_free(a);
}
END_TEST

START_TEST(app_launch_clinician_scopes_narrowed)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_authorize_response r = authz_get(a, GOOD_QUERY);
    char *req = page_request(&r);

    /* the app asks for patient scopes; a clinician's role holds none */
    r = authz_post(a, req, "dr.wang", "clinician-password", "approve", NOW);
    ck_assert_str_eq(loc_param(&r, "error"), "invalid_scope");
    ck_assert_str_eq(loc_param(&r, "state"), "st%26%3C1");
    ck_assert(r.is_sign_in && !r.event.is_success);
    ck_assert_str_eq(r.event.reason, "scope-denied");
    free(req);
    base_arena_free(a);
}
END_TEST

static void
expect_page(const struct gw_auth_authorize_response *r, unsigned status)
{
    ck_assert_msg(r->status == status, "status %u", r->status);
    ck_assert_ptr_null(r->location); /* never a redirect */
    ck_assert_ptr_nonnull(r->body);
    ck_assert_ptr_nonnull(strstr(r->body, "<!DOCTYPE html>"));
}

static void
expect_redirect_error(struct base_arena *a, const char *q, const char *error)
{
    struct gw_auth_authorize_response r = authz_get(a, q);

    ck_assert_msg(r.status == 302, "%s: status %u", q, r.status);
    ck_assert_str_eq(loc_param(&r, "error"), error);
    ck_assert_str_ne(loc_param(&r, "error_description"), "");
    ck_assert_str_eq(loc_param(&r, "state"), "s1");
}

#define Q_CLIENT "client_id=growth-chart&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s1"
#define Q_AUD    "&aud=https%3A%2F%2Fgw.test%2Ffhir"
#define Q_PKCE   "&code_challenge=" CHALLENGE "&code_challenge_method=S256"

START_TEST(authorize_refusals)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_authorize_response r;

    /* the client or the redirect URI in doubt: a page, never a redirect */
    r = authz_get(a, "response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fapp."
                     "example%2Fcb" Q_AUD Q_PKCE "&scope=patient%2F*.rs");
    expect_page(&r, 400);
    r = authz_get(a, "response_type=code&client_id=old-app&redirect_uri=https%3A%2F%2Fapp."
                     "example%2Fcb" Q_AUD Q_PKCE "&scope=patient%2F*.rs");
    expect_page(&r, 400);
    r = authz_get(a, "response_type=code&client_id=growth-chart&redirect_uri=https%3A%2F%2Fevil."
                     "example%2Fcb" Q_AUD Q_PKCE "&scope=patient%2F*.rs");
    expect_page(&r, 400);
    ck_assert_ptr_null(strstr(r.body, "evil"));
    r = authz_get(a, "response_type=code&client_id=growth-chart&redirect_uri=https%3A%2F%2Fapp."
                     "example%2Fcb%2F" Q_AUD Q_PKCE "&scope=patient%2F*.rs");
    expect_page(&r, 400); /* exact match: a trailing slash is another URI */
    r = authz_get(a, "response_type=code&client_id=growth-chart" Q_AUD Q_PKCE);
    expect_page(&r, 400);
    r = authz_get(a, "response_type=code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb");
    expect_page(&r, 400);
    r = authz_get(a, Q_CLIENT "&client_id=growth-chart");
    expect_page(&r, 400); /* a repeated parameter (RFC 6749 §3.1) */
    /* the rest: an error redirect with the state */
    expect_redirect_error(a, Q_CLIENT Q_AUD Q_PKCE "&scope=patient%2F*.rs", "invalid_request");
    expect_redirect_error(a, Q_CLIENT "&response_type=token" Q_AUD Q_PKCE "&scope=patient%2F*.rs",
                          "unsupported_response_type");
    expect_redirect_error(a, Q_CLIENT "&response_type=code" Q_AUD "&scope=patient%2F*.rs",
                          "invalid_request");
    expect_redirect_error(a,
                          Q_CLIENT "&response_type=code" Q_AUD "&code_challenge=" VERIFIER
                                   "&code_challenge_method=plain&scope=patient%2F*.rs",
                          "invalid_request");
    expect_redirect_error(a,
                          Q_CLIENT "&response_type=code" Q_AUD
                                   "&code_challenge=short&code_challenge_method=S256"
                                   "&scope=patient%2F*.rs",
                          "invalid_request");
    expect_redirect_error(a,
                          Q_CLIENT "&response_type=code&aud=https%3A%2F%2Fother.test%2Ffhir" Q_PKCE
                                   "&scope=patient%2F*.rs",
                          "invalid_request");
    expect_redirect_error(a, Q_CLIENT "&response_type=code" Q_PKCE "&scope=patient%2F*.rs",
                          "invalid_request");
    expect_redirect_error(a, Q_CLIENT "&response_type=code" Q_AUD Q_PKCE, "invalid_scope");
    expect_redirect_error(a, Q_CLIENT "&response_type=code" Q_AUD Q_PKCE "&scope=system%2F*.rs",
                          "invalid_scope");
    /* a trailing slash on aud names the same server */
    r = authz_get(a, Q_CLIENT "&response_type=code&aud=https%3A%2F%2Fgw.test%2Ffhir%2F" Q_PKCE
                              "&scope=patient%2F*.rs");
    ck_assert_uint_eq(r.status, 200);
    /* store down: a page */
    M.is_down = true;
    r = authz_get(a, GOOD_QUERY);
    expect_page(&r, 503);
    base_arena_free(a);
}
END_TEST

START_TEST(authorize_post_refusals)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_authorize_response r = authz_get(a, GOOD_QUERY);
    char *req = page_request(&r);
    char bad[8192];

    /* denied by the user */
    r = authz_post(a, req, "", "", "deny", NOW);
    ck_assert_str_eq(loc_param(&r, "error"), "access_denied");
    ck_assert_str_eq(loc_param(&r, "state"), "st%26%3C1");
    /* wrong password: the page again, audited */
    r = authz_post(a, req, "li.na", "wrong-password", "approve", NOW);
    expect_page(&r, 400);
    ck_assert(r.is_sign_in && !r.event.is_success);
    ck_assert_str_eq(r.event.reason, "bad-password");
    ck_assert_ptr_null(strstr(r.body, "wrong-password"));
    ck_assert_ptr_nonnull(strstr(r.body, req)); /* the same request, to try again */
    r = authz_post(a, req, "nobody", "whatever-pass", "approve", NOW);
    ck_assert_str_eq(r.event.reason, "unknown-user");
    r = authz_post(a, req, "gone", "clinician-password", "approve", NOW);
    ck_assert_str_eq(r.event.reason, "user-disabled");
    r = authz_post(a, req, "li.na", "", "approve", NOW);
    expect_page(&r, 400);
    ck_assert(!r.is_sign_in);
    /* an altered or expired request */
    snprintf(bad, sizeof(bad), "%s", req);
    bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
    r = authz_post(a, bad, "li.na", "patient-password", "approve", NOW);
    expect_page(&r, 400);
    r = authz_post(a, req, "li.na", "patient-password", "approve",
                   NOW + BASE_LIMIT_AUTH_LOGIN_PAGE_LIFE + BASE_LIMIT_AUTH_CLOCK_SKEW + 1);
    expect_page(&r, 400);
    ck_assert(!r.is_sign_in);
    /* an access token is not a sign-in request */
    {
        struct gw_auth_token_response t =
            post(a, "grant_type=password&username=li.na&password=patient-password");

        r = authz_post(a, field(&t, "access_token"), "li.na", "patient-password", "approve", NOW);
        expect_page(&r, 400);
    }
    free(req);
    base_arena_free(a);
}
END_TEST

START_TEST(authorize_lockout_shared_with_password_grant)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_authorize_response r = authz_get(a, GOOD_QUERY);
    struct gw_auth_token_response t;
    char *req = page_request(&r);

    for (int i = 0; i < 5; i++)
        r = authz_post(a, req, "li.na", "wrong-password", "approve", NOW);
    /* locked: even the right password is refused, on the page and the grant */
    r = authz_post(a, req, "li.na", "patient-password", "approve", NOW + 1);
    expect_page(&r, 429);
    ck_assert_str_eq(r.event.reason, "locked");
    t = post(a, "grant_type=password&username=li.na&password=patient-password");
    ck_assert_uint_eq(t.status, 429);
    free(req);
    base_arena_free(a);
}
END_TEST

START_TEST(code_redemption_refusals)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response t;
    char *code;

    /* PKCE mismatch: refused, and the code is spent */
    code = get_code(a, "li.na", "patient-password");
    t = redeem(a, code, "growth-chart", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect_error(&t, 400, "invalid_grant", "bad-verifier");
    t = redeem(a, code, "growth-chart", VERIFIER);
    expect_error(&t, 400, "invalid_grant", "bad-code");
    free(code);
    /* a malformed verifier */
    code = get_code(a, "li.na", "patient-password");
    t = redeem(a, code, "growth-chart", "short");
    expect_error(&t, 400, "invalid_request", "invalid-request");
    /* another client */
    t = redeem(a, code, "nobody", VERIFIER);
    expect_error(&t, 401, "invalid_client", "unknown-client");
    t = redeem(a, code, "old-app", VERIFIER);
    expect_error(&t, 401, "invalid_client", "client-disabled");
    free(code);
    /* expired */
    code = get_code(a, "li.na", "patient-password");
    {
        char body[1024];

        snprintf(body, sizeof(body),
                 "grant_type=authorization_code&code=%s&redirect_uri=https%%3A%%2F%%2Fapp.example"
                 "%%2Fcb&client_id=growth-chart&code_verifier=" VERIFIER,
                 code);
        ck_assert_int_eq(gw_auth_token_endpoint_body(&cfg, a, body, strlen(body), "10.0.0.9",
                                                     NOW + BASE_LIMIT_AUTH_CODE_LIFE, &t),
                         BASE_OK);
        expect_error(&t, 400, "invalid_grant", "bad-code");
    }
    free(code);
    /* another redirect URI than the request's */
    code = get_code(a, "li.na", "patient-password");
    {
        char body[1024];

        snprintf(body, sizeof(body),
                 "grant_type=authorization_code&code=%s&redirect_uri=http%%3A%%2F%%2F127.0.0.1"
                 "%%2Fnative&client_id=growth-chart&code_verifier=" VERIFIER,
                 code);
        t = post(a, body);
        expect_error(&t, 400, "invalid_grant", "bad-code");
    }
    free(code);
    /* unknown code */
    t = redeem(a, "bm90LWEtY29kZQ", "growth-chart", VERIFIER);
    expect_error(&t, 400, "invalid_grant", "bad-code");
    base_arena_free(a);
}
END_TEST

/* ------------------------------------------------------- refresh tokens -- */

#define LAUNCH_QUERY(scope)                                                                        \
    "response_type=code&client_id=growth-chart&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"        \
    "&scope=" scope "&state=s1&aud=https%3A%2F%2Fgw.test%2Ffhir&code_challenge=" CHALLENGE         \
    "&code_challenge_method=S256"
#define OFFLINE_SCOPE "launch%2Fpatient+patient%2F*.rs+openid+fhirUser+offline_access"

static struct gw_auth_token_response
refresh_at(struct base_arena *a, const char *rt, const char *client, const char *scope, int64_t now)
{
    struct gw_auth_token_response r;
    char body[2048];

    snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s%s%s%s%s", rt,
             client != NULL ? "&client_id=" : "", client != NULL ? client : "",
             scope != NULL ? "&scope=" : "", scope != NULL ? scope : "");
    ck_assert_int_eq(gw_auth_token_endpoint_body(&cfg, a, body, strlen(body), "10.0.0.9", now, &r),
                     BASE_OK);
    ck_assert_ptr_nonnull(r.body);
    return r;
}

/* Sign li.na in for `query` and redeem the code; the refresh token (malloc). */
static char *
offline_grant(struct base_arena *a, const char *query)
{
    char *code = code_for(a, query, "li.na", "patient-password");
    struct gw_auth_token_response t = redeem(a, code, "growth-chart", VERIFIER);
    char *rt;

    free(code);
    ck_assert_msg(t.status == 200, "%s", t.body);
    rt = strdup(field(&t, "refresh_token"));
    ck_assert_uint_eq(strlen(rt), 43); /* 256 random bits */
    return rt;
}

START_TEST(refresh_token_rotation)
{
    struct base_arena *a = base_arena_new(0);
    char *code = code_for(a, LAUNCH_QUERY(OFFLINE_SCOPE), "li.na", "patient-password");
    struct gw_auth_token_response t = redeem(a, code, "growth-chart", VERIFIER);
    struct gw_auth_principal *p;
    char *rt1, *rt2, *rt3;

    free(code);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(field(&t, "scope"),
                     "openid fhirUser launch/patient offline_access patient/*.rs");
    rt1 = strdup(field(&t, "refresh_token"));
    ck_assert_uint_eq(strlen(rt1), 43);
    /* stored as its hash, for 30 days from the sign-in */
    ck_assert_uint_eq(M.nrefresh, 1);
    ck_assert_str_ne(M.refresh[0].token_hash, rt1);
    ck_assert_str_eq(M.refresh[0].client_id, "growth-chart");
    ck_assert_str_eq(M.refresh[0].username, "li.na");
    ck_assert_int_eq(M.refresh[0].expires_at, NOW + BASE_LIMIT_AUTH_REFRESH_OFFLINE_LIFE);
    /* RFC 6749 §6: a new access token, and (rotation) a new refresh token */
    t = refresh_at(a, rt1, "growth-chart", NULL, NOW + 30);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert(t.event.is_success);
    ck_assert_str_eq(t.event.grant_type, "refresh_token");
    ck_assert_str_eq(t.event.subject, "li.na");
    ck_assert_ptr_nonnull(t.event.token_id);
    ck_assert_str_eq(field(&t, "token_type"), "Bearer");
    ck_assert_str_eq(field(&t, "patient"), "person-42");
    ck_assert_str_eq(field(&t, "scope"),
                     "openid fhirUser launch/patient offline_access patient/*.rs");
    ck_assert_str_ne(field(&t, "id_token"), "");
    p = principal(a, &t);
    ck_assert_str_eq(p->subject, "li.na");
    ck_assert_str_eq(p->client_id, "growth-chart");
    rt2 = strdup(field(&t, "refresh_token"));
    ck_assert_uint_eq(strlen(rt2), 43);
    ck_assert_str_ne(rt2, rt1);
    ck_assert_uint_eq(M.nrefresh, 2);
    /* the same family, whose end rotation never moves */
    ck_assert_str_eq(M.refresh[1].family_id, M.refresh[0].family_id);
    ck_assert_int_eq(M.refresh[1].expires_at, M.refresh[0].expires_at);
    t = refresh_at(a, rt2, "growth-chart", NULL, NOW + 60);
    ck_assert_msg(t.status == 200, "%s", t.body);
    rt3 = strdup(field(&t, "refresh_token"));
    /* RFC 9700 §4.14.2: a spent token again revokes the whole family */
    t = refresh_at(a, rt1, NULL, NULL, NOW + 90);
    expect_error(&t, 400, "invalid_grant", "refresh-token-reused");
    t = refresh_at(a, rt3, "growth-chart", NULL, NOW + 91);
    expect_error(&t, 400, "invalid_grant", "bad-refresh-token");
    free(rt1);
    free(rt2);
    free(rt3);
    base_arena_free(a);
}
END_TEST

/* RFC 6749 §4.1.2: a code presented again ends the grant made from it. */
START_TEST(replayed_code_revokes_its_refresh_tokens)
{
    struct base_arena *a = base_arena_new(0);
    char *code = code_for(a, LAUNCH_QUERY(OFFLINE_SCOPE), "li.na", "patient-password");
    struct gw_auth_token_response t = redeem(a, code, "growth-chart", VERIFIER);
    char *rt = strdup(field(&t, "refresh_token"));
    char *rt2;

    ck_assert_msg(t.status == 200, "%s", t.body);
    /* rotated once: the whole family goes, not only the first token */
    t = refresh_at(a, rt, "growth-chart", NULL, NOW + 1);
    ck_assert_msg(t.status == 200, "%s", t.body);
    rt2 = strdup(field(&t, "refresh_token"));
    t = redeem(a, code, "growth-chart", VERIFIER);
    expect_error(&t, 400, "invalid_grant", "bad-code");
    t = refresh_at(a, rt2, "growth-chart", NULL, NOW + 2);
    expect_error(&t, 400, "invalid_grant", "bad-refresh-token");
    /* an unknown code ends nobody's grant */
    rt = (free(rt), offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE)));
    t = redeem(a, "bm90LWEtY29kZQ", "growth-chart", VERIFIER);
    expect_error(&t, 400, "invalid_grant", "bad-code");
    t = refresh_at(a, rt, "growth-chart", NULL, NOW + 3);
    ck_assert_msg(t.status == 200, "%s", t.body);
    free(code);
    free(rt);
    free(rt2);
    base_arena_free(a);
}
END_TEST

START_TEST(refresh_token_scope_and_lifetime)
{
    struct base_arena *a = base_arena_new(0);
    char *rt = offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE));
    struct gw_auth_token_response t;
    char *rt2;

    /* narrowing is allowed; the family keeps the sign-in's scope */
    t = refresh_at(a, rt, "growth-chart", "patient%2FObservation.rs+offline_access", NOW + 5);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(field(&t, "scope"), "offline_access patient/Observation.rs");
    ck_assert_str_eq(M.refresh[1].scope, M.refresh[0].scope);
    rt2 = strdup(field(&t, "refresh_token"));
    /* so the next refresh may ask for the whole grant again */
    t = refresh_at(a, rt2, "growth-chart", "patient%2F*.rs+offline_access", NOW + 6);
    ck_assert_msg(t.status == 200, "%s", t.body);
    free(rt2);
    rt2 = strdup(field(&t, "refresh_token"));
    /* widening is refused: more permissions, another context, a flag */
    t = refresh_at(a, rt2, "growth-chart", "patient%2F*.cruds", NOW + 7);
    expect_error(&t, 400, "invalid_scope", "scope-denied");
    free(rt);
    free(rt2);
    rt = offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE));
    t = refresh_at(a, rt, "growth-chart", "user%2F*.rs", NOW + 7);
    expect_error(&t, 400, "invalid_scope", "scope-denied");
    free(rt);
    rt = offline_grant(a, LAUNCH_QUERY("patient%2F*.rs+offline_access"));
    t = refresh_at(a, rt, "growth-chart", "patient%2F*.rs+openid", NOW + 7);
    expect_error(&t, 400, "invalid_scope", "scope-denied");
    free(rt);
    /* malformed scope text is refused before the token is spent */
    rt = offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE));
    t = refresh_at(a, rt, "growth-chart", "patient%2FObservation.xyz", NOW + 7);
    expect_error(&t, 400, "invalid_scope", "scope-denied");
    /* narrowing offline_access away ends the family: no new refresh token */
    t = refresh_at(a, rt, "growth-chart", "patient%2F*.rs", NOW + 8);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_ptr_null(strstr(t.body, "refresh_token"));
    free(rt);
    /* online_access: a family of 12 hours; offline_access: 30 days */
    rt = offline_grant(a, LAUNCH_QUERY("patient%2F*.rs+online_access"));
    t = refresh_at(a, rt, "growth-chart", NULL, NOW + BASE_LIMIT_AUTH_REFRESH_ONLINE_LIFE);
    expect_error(&t, 400, "invalid_grant", "bad-refresh-token");
    free(rt);
    rt = offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE));
    t = refresh_at(a, rt, "growth-chart", NULL, NOW + BASE_LIMIT_AUTH_REFRESH_OFFLINE_LIFE);
    expect_error(&t, 400, "invalid_grant", "bad-refresh-token");
    free(rt);
    base_arena_free(a);
}
END_TEST

START_TEST(refresh_token_refusals)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response t;
    char *code;
    char *rt;
    char big[400];

    /* not asked for, not granted */
    code = get_code(a, "li.na", "patient-password");
    t = redeem(a, code, "growth-chart", VERIFIER);
    free(code);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_ptr_null(strstr(t.body, "refresh_token"));
    /* the portal's password grant never gets one */
    t = post(a, "grant_type=password&username=li.na&password=patient-password&scope=patient%2F*.rs"
                "+offline_access");
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(field(&t, "scope"), "patient/*.rs");
    ck_assert_ptr_null(strstr(t.body, "refresh_token"));
    ck_assert_uint_eq(M.nrefresh, 0);
    /* request errors */
    rt = offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE));
    /* a public client need not name itself (RFC 6749 §6): the token does */
    t = refresh_at(a, rt, NULL, NULL, NOW + 1);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(principal(a, &t)->client_id, "growth-chart");
    free(rt);
    rt = strdup(field(&t, "refresh_token"));
    t = post(a, "grant_type=refresh_token&client_id=growth-chart");
    expect_error(&t, 400, "invalid_request", "invalid-request");
    t = refresh_at(a, "bm90LWEtdG9rZW4", "growth-chart", NULL, NOW + 1);
    expect_error(&t, 400, "invalid_grant", "bad-refresh-token");
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    t = refresh_at(a, big, "growth-chart", NULL, NOW + 1);
    expect_error(&t, 400, "invalid_grant", "bad-refresh-token");
    t = refresh_at(a, rt, "nobody", NULL, NOW + 1);
    expect_error(&t, 401, "invalid_client", "unknown-client");
    t = refresh_at(a, rt, "old-app", NULL, NOW + 1);
    expect_error(&t, 401, "invalid_client", "client-disabled");
    /* another app presenting it spends it, and the rightful app's next use
     * ends the family */
    t = refresh_at(a, rt, "other-app", NULL, NOW + 1);
    expect_error(&t, 400, "invalid_grant", "bad-refresh-token");
    t = refresh_at(a, rt, "growth-chart", NULL, NOW + 2);
    expect_error(&t, 400, "invalid_grant", "refresh-token-reused");
    free(rt);
    /* without client_id, the token's app must still be enabled */
    rt = offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE));
    M.apps[0].is_enabled = false;
    t = refresh_at(a, rt, NULL, NULL, NOW + 2);
    expect_error(&t, 401, "invalid_client", "client-disabled");
    M.apps[0].is_enabled = true;
    free(rt);
    /* the user disabled since */
    rt = offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE));
    M.users[1].is_enabled = false;
    t = refresh_at(a, rt, "growth-chart", NULL, NOW + 3);
    expect_error(&t, 400, "invalid_grant", "user-disabled");
    ck_assert_str_eq(t.event.subject, "li.na");
    M.users[1].is_enabled = true;
    free(rt);
    /* the app's registration no longer lists offline_access: the grant
     * goes on narrowed, without a new refresh token */
    rt = offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE));
    M.apps[0].allowed_scopes = "patient/*.rs";
    t = refresh_at(a, rt, "growth-chart", NULL, NOW + 4);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(field(&t, "scope"), "launch/patient patient/*.rs");
    ck_assert_ptr_null(strstr(t.body, "refresh_token"));
    free(rt);
    base_arena_free(a);
}
END_TEST

/* launch/patient is echoed in the granted scope exactly when the token
 * response names a patient (RFC 6749 §5.1, SMART App Launch 2.x
 * standalone launch): a patient user asking for it gets it even though the
 * app's registration does not list it; a clinician (no patient picker) and
 * a patient who did not ask do not. */
START_TEST(launch_patient_granted_with_the_context)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response t;
    char *code;

    code =
        code_for(a, LAUNCH_QUERY("launch%2Fpatient+patient%2F*.rs"), "li.na", "patient-password");
    t = redeem(a, code, "growth-chart", VERIFIER);
    free(code);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(field(&t, "scope"), "launch/patient patient/*.rs");
    ck_assert_str_eq(field(&t, "patient"), "person-42");
    ck_assert_ptr_nonnull(principal(a, &t)); /* the access token verifies */
    code =
        code_for(a, LAUNCH_QUERY("launch%2Fpatient+user%2F*.rs"), "dr.wang", "clinician-password");
    t = redeem(a, code, "growth-chart", VERIFIER);
    free(code);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(field(&t, "scope"), "user/*.rs");
    ck_assert_ptr_null(strstr(t.body, "\"patient\""));
    code = code_for(a, LAUNCH_QUERY("patient%2F*.rs"), "li.na", "patient-password");
    t = redeem(a, code, "growth-chart", VERIFIER);
    free(code);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(field(&t, "scope"), "patient/*.rs");
    base_arena_free(a);
}
END_TEST

/* The verified claims of a token response's id_token. */
static struct gw_auth_jwt *
id_claims(struct base_arena *a, const struct gw_auth_token_response *t)
{
    const char *text = base_arena_strdup(a, field(t, "id_token"));
    struct gw_auth_jwt *jwt = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(gw_auth_jwt_parse(a, text, strlen(text), &jwt, &err), BASE_OK);
    ck_assert_int_eq(gw_auth_jwt_verify(jwt, gw_ks, &err), BASE_OK);
    return jwt;
}

/* SMART App Launch 2.x §fhirUser: a clinician's or regulator's id_token
 * names their Practitioner (absolute URL), and the granted scope keeps
 * fhirUser; without the scope there is no claim. */
START_TEST(app_launch_practitioner_fhir_user)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response t;
    char *code;

    code =
        code_for(a, LAUNCH_QUERY("user%2F*.rs+openid+fhirUser"), "dr.wang", "clinician-password");
    t = redeem(a, code, "growth-chart", VERIFIER);
    free(code);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(field(&t, "scope"), "openid fhirUser user/*.rs");
    ck_assert_str_eq(gw_auth_jwt_claim_str(id_claims(a, &t), "fhirUser"),
                     "https://gw.test/fhir/Practitioner/dr.wang");
    code = code_for(a, LAUNCH_QUERY("user%2FAuditEvent.rs+openid+fhirUser"), "old.user",
                    "legacy-password");
    t = redeem(a, code, "growth-chart", VERIFIER);
    free(code);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(gw_auth_jwt_claim_str(id_claims(a, &t), "fhirUser"),
                     "https://gw.test/fhir/Practitioner/old.user");
    code = code_for(a, LAUNCH_QUERY("user%2F*.rs+openid"), "dr.wang", "clinician-password");
    t = redeem(a, code, "growth-chart", VERIFIER);
    free(code);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_ptr_null(gw_auth_jwt_claim_str(id_claims(a, &t), "fhirUser"));
    base_arena_free(a);
}
END_TEST

START_TEST(refresh_token_store_absent_or_down)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_backend be = backend;
    struct gw_auth_token_response t;
    char *code;
    char *rt;

    /* a store that cannot keep refresh tokens grants no offline access */
    be.refresh_put = NULL;
    be.refresh_take = NULL;
    cfg.backend = &be;
    code = code_for(a, LAUNCH_QUERY(OFFLINE_SCOPE), "li.na", "patient-password");
    t = redeem(a, code, "growth-chart", VERIFIER);
    free(code);
    ck_assert_msg(t.status == 200, "%s", t.body);
    ck_assert_str_eq(field(&t, "scope"), "openid fhirUser launch/patient patient/*.rs");
    ck_assert_ptr_null(strstr(t.body, "refresh_token"));
    t = refresh_at(a, "bm90LWEtdG9rZW4", "growth-chart", NULL, NOW + 1);
    expect_error(&t, 400, "unsupported_grant_type", "unsupported-grant");
    cfg.backend = &backend;
    /* fail closed: no answer when the refresh token cannot be stored */
    rt = offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE));
    be = backend;
    be.refresh_put = m_refresh_put_down;
    cfg.backend = &be;
    t = refresh_at(a, rt, "growth-chart", NULL, NOW + 1);
    ck_assert_uint_eq(t.status, 503);
    ck_assert_str_eq(field(&t, "error"), "temporarily_unavailable");
    ck_assert_ptr_null(strstr(t.body, "access_token"));
    cfg.backend = &backend;
    free(rt);
    base_arena_free(a);
}
END_TEST

static struct gw_auth_token_response
revoke(struct base_arena *a, const char *body)
{
    struct gw_auth_token_response r;

    ck_assert_int_eq(gw_auth_revoke_endpoint_body(&cfg, a, body, strlen(body), NOW + 10, &r),
                     BASE_OK);
    ck_assert_ptr_nonnull(r.body);
    return r;
}

/* RFC 7009: an app revokes its refresh token, and the family ends. */
START_TEST(revoke_refresh_token)
{
    struct base_arena *a = base_arena_new(0);
    char *rt = offline_grant(a, LAUNCH_QUERY(OFFLINE_SCOPE));
    struct gw_auth_token_response t;
    char body[256];

    /* another app's revocation does nothing, and says nothing */
    snprintf(body, sizeof(body), "token=%s&client_id=other-app", rt);
    t = revoke(a, body);
    ck_assert_uint_eq(t.status, 200);
    ck_assert_uint_eq(t.body_len, 0);
    t = refresh_at(a, rt, "growth-chart", NULL, NOW + 11);
    ck_assert_msg(t.status == 200, "%s", t.body);
    free(rt);
    rt = strdup(field(&t, "refresh_token"));
    snprintf(body, sizeof(body), "token=%s&token_type_hint=refresh_token&client_id=growth-chart",
             rt);
    t = revoke(a, body);
    ck_assert_uint_eq(t.status, 200);
    ck_assert(t.event.is_success);
    ck_assert_str_eq(t.event.grant_type, "revoke");
    ck_assert_str_eq(t.event.subject, "growth-chart");
    t = refresh_at(a, rt, "growth-chart", NULL, NOW + 12);
    expect_error(&t, 400, "invalid_grant", "bad-refresh-token");
    /* unknown tokens are no error (§2.2) */
    t = revoke(a, "token=bm90LWEtdG9rZW4&client_id=growth-chart");
    ck_assert_uint_eq(t.status, 200);
    /* refusals */
    t = revoke(a, "token=abc");
    expect_error(&t, 400, "invalid_request", "invalid-request");
    t = revoke(a, "client_id=growth-chart");
    expect_error(&t, 400, "invalid_request", "invalid-request");
    t = revoke(a, "token=abc&token=def&client_id=growth-chart");
    expect_error(&t, 400, "invalid_request", "invalid-request");
    t = revoke(a, "token=abc&client_id=nobody");
    expect_error(&t, 401, "invalid_client", "unknown-client");
    t = revoke(a, "token=abc&client_id=old-app");
    expect_error(&t, 401, "invalid_client", "client-disabled");
    t = revoke(a, "token=aaa.bbb.ccc&client_id=growth-chart");
    expect_error(&t, 400, "unsupported_token_type", "unsupported-grant");
    M.is_down = true; /* the app lookup fails: 503 */
    t = revoke(a, "token=abc&client_id=growth-chart");
    ck_assert_uint_eq(t.status, 503);
    M.is_down = false;
    free(rt);
    base_arena_free(a);
}
END_TEST

/* RFC 6749 §5.2: HTTP client authentication tried → 401 naming its scheme. */
START_TEST(http_client_auth_refused)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_token_response t;

    ck_assert_int_eq(gw_auth_token_refuse_http_auth(a, "Basic Z3Jvd3RoLWNoYXJ0Og==", &t), BASE_OK);
    expect_error(&t, 401, "invalid_client", "client-auth-unsupported");
    ck_assert_str_eq(t.www_authenticate, "Basic realm=\"fhirgate\"");
    ck_assert_ptr_null(strstr(t.body, "Z3Jvd3Ro")); /* never echoed */
    ck_assert_int_eq(gw_auth_token_refuse_http_auth(a, "DPoP eyJ", &t), BASE_OK);
    ck_assert_str_eq(t.www_authenticate, "DPoP realm=\"fhirgate\"");
    /* a scheme that is no token (quote, CR) is never sent back */
    ck_assert_int_eq(gw_auth_token_refuse_http_auth(a, "Ba\"sic x", &t), BASE_OK);
    ck_assert_str_eq(t.www_authenticate, "Basic realm=\"fhirgate\"");
    ck_assert_int_eq(gw_auth_token_refuse_http_auth(a, "X\r\nSet-Cookie: a", &t), BASE_OK);
    ck_assert_str_eq(t.www_authenticate, "Basic realm=\"fhirgate\"");
    ck_assert_int_eq(gw_auth_token_refuse_http_auth(a, "", &t), BASE_OK);
    ck_assert_str_eq(t.www_authenticate, "Basic realm=\"fhirgate\"");
    /* other refusals carry no challenge */
    t = post(a, "grant_type=nope");
    ck_assert_ptr_null(t.www_authenticate);
    base_arena_free(a);
}
END_TEST

/* SMART 2.x authorize-post: the request POSTed, answered as the GET. */
START_TEST(authorize_post_of_the_request)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_authorize_response r;
    char *req;

    ck_assert_int_eq(
        gw_auth_authorize_post(&cfg, a, GOOD_QUERY, strlen(GOOD_QUERY), "10.0.0.7", NOW, &r),
        BASE_OK);
    ck_assert_uint_eq(r.status, 200);
    ck_assert(!r.is_sign_in);
    req = page_request(&r);
    r = authz_post(a, req, "li.na", "patient-password", "approve", NOW + 5);
    free(req);
    ck_assert_uint_eq(r.status, 302);
    ck_assert_str_ne(loc_param(&r, "code"), "");
    /* and its refusals are the GET's: a bad PKCE method redirects */
    {
        const char *q = "response_type=code&client_id=growth-chart&redirect_uri=https%3A%2F%2Fapp"
                        ".example%2Fcb&scope=patient%2F*.rs&state=s9&aud=https%3A%2F%2Fgw.test%2F"
                        "fhir&code_challenge=" CHALLENGE "&code_challenge_method=plain";

        ck_assert_int_eq(gw_auth_authorize_post(&cfg, a, q, strlen(q), "10.0.0.7", NOW, &r),
                         BASE_OK);
        ck_assert_str_eq(loc_param(&r, "error"), "invalid_request");
        ck_assert_str_eq(loc_param(&r, "state"), "s9");
    }
    base_arena_free(a);
}
END_TEST

START_TEST(smart_configuration_app_launch)
{
    json_t *doc = gw_auth_smart_configuration(&cfg);
    char *text = json_dumps(doc, JSON_COMPACT);

    ck_assert_str_eq(json_string_value(json_object_get(doc, "authorization_endpoint")), AUTHZ_URL);
    ck_assert_ptr_nonnull(strstr(text, "\"response_types_supported\":[\"code\"]"));
    ck_assert_str_eq(json_string_value(json_object_get(doc, "issuer")), "https://gw.test");
    ck_assert_ptr_nonnull(strstr(text, "\"code_challenge_methods_supported\":[\"S256\"]"));
    ck_assert_ptr_nonnull(strstr(text, "\"authorization_code\""));
    ck_assert_ptr_nonnull(strstr(text, "\"launch-standalone\""));
    ck_assert_ptr_nonnull(strstr(text, "\"client-public\""));
    ck_assert_ptr_nonnull(strstr(text, "\"context-standalone-patient\""));
    ck_assert_ptr_nonnull(strstr(text, "\"launch/patient\""));
    ck_assert_ptr_nonnull(strstr(text, "\"openid\""));
    ck_assert_ptr_nonnull(strstr(text, "\"fhirUser\""));
    ck_assert_ptr_nonnull(strstr(text, "\"sso-openid-connect\""));
    /* refresh tokens (RFC 6749 §6) for offline_access / online_access */
    ck_assert_ptr_nonnull(strstr(text, "\"permission-offline\""));
    ck_assert_ptr_nonnull(strstr(text, "\"permission-online\""));
    ck_assert_ptr_nonnull(strstr(text, "\"authorize-post\""));
    ck_assert_ptr_nonnull(strstr(text, "\"refresh_token\""));
    ck_assert_ptr_nonnull(strstr(text, "\"offline_access\""));
    ck_assert_ptr_nonnull(strstr(text, "\"online_access\""));
    ck_assert_ptr_null(json_object_get(doc, "revocation_endpoint"));
    free(text);
    json_decref(doc);
    cfg.revocation_url = "https://gw.test/auth/revoke";
    doc = gw_auth_smart_configuration(&cfg);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "revocation_endpoint")),
                     "https://gw.test/auth/revoke");
    text = json_dumps(doc, JSON_COMPACT);
    free(text);
    json_decref(doc);
    doc = gw_auth_openid_configuration(&cfg);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "issuer")), "https://gw.test");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "authorization_endpoint")), AUTHZ_URL);
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(doc, "id_token_signing_alg_values_supported"), 0)),
                     "ES256");
    json_decref(doc);
    /* without the authorization endpoint: no OpenID Connect at all */
    cfg.authorize_url = NULL;
    doc = gw_auth_smart_configuration(&cfg);
    text = json_dumps(doc, JSON_COMPACT);
    ck_assert_ptr_null(json_object_get(doc, "authorization_endpoint"));
    ck_assert_ptr_null(json_object_get(doc, "issuer"));
    ck_assert_ptr_null(strstr(text, "\"openid\""));
    ck_assert_ptr_null(strstr(text, "sso-openid-connect"));
    ck_assert_ptr_null(strstr(text, "permission-offline"));
    ck_assert_ptr_null(strstr(text, "refresh_token"));
    ck_assert_ptr_null(strstr(text, "offline_access"));
    free(text);
    json_decref(doc);
    ck_assert_ptr_null(gw_auth_openid_configuration(&cfg));
}
END_TEST

Suite *gw_auth_endpoint_suite(void)
{
    Suite *s = suite_create("gw_auth_endpoint");
    TCase *tc = tcase_create("endpoint");

    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, test_setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, client_credentials_es384);
    tcase_add_test(tc, client_credentials_rs384_regulator);
    tcase_add_test(tc, client_assertion_replay_refused);
    tcase_add_test(tc, client_assertion_refusals);
    tcase_add_test(tc, client_credentials_request_errors);
    tcase_add_test(tc, grant_type_errors);
    tcase_add_test(tc, password_grant_clinician);
    tcase_add_test(tc, password_grant_patient_scopes);
    tcase_add_test(tc, password_grant_refusals);
    tcase_add_test(tc, lockout_after_repeated_failures);
    tcase_add_test(tc, lockout_per_address);
    tcase_add_test(tc, password_hash_upgraded_on_sign_in);
    tcase_add_test(tc, smart_configuration_document);
    tcase_add_test(tc, app_launch_flow);
    tcase_add_test(tc, launch_patient_granted_with_the_context);
    tcase_add_test(tc, app_launch_clinician_scopes_narrowed);
    tcase_add_test(tc, app_launch_practitioner_fhir_user);
    tcase_add_test(tc, authorize_refusals);
    tcase_add_test(tc, authorize_post_refusals);
    tcase_add_test(tc, authorize_lockout_shared_with_password_grant);
    tcase_add_test(tc, code_redemption_refusals);
    tcase_add_test(tc, refresh_token_rotation);
    tcase_add_test(tc, replayed_code_revokes_its_refresh_tokens);
    tcase_add_test(tc, refresh_token_scope_and_lifetime);
    tcase_add_test(tc, refresh_token_refusals);
    tcase_add_test(tc, refresh_token_store_absent_or_down);
    tcase_add_test(tc, revoke_refresh_token);
    tcase_add_test(tc, http_client_auth_refused);
    tcase_add_test(tc, authorize_post_of_the_request);
    tcase_add_test(tc, smart_configuration_app_launch);
    suite_add_tcase(s, tc);
    return s;
}
