/*
 * grant_type=password (RFC 6749 §4.3) for portal users, when the
 * configuration enables it.  Guessing is throttled per user name and per
 * client address; a locked name is refused before its password is even
 * checked, and unknown names cost the same time as known ones, so neither
 * timing nor lockout tells an attacker which names exist.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/auth/auth_int.h"
#include "gateway/auth/endpoint_int.h"

/* Every malformed name shares one throttle bucket. */
#define INVALID_NAME_KEY "(invalid)"
#define BAD_CREDENTIALS  "invalid user name or password"

/* Check the password; `reason` tells why it did not work (NULL when it did). */
static const char *
check_user(const struct gw_auth_endpoint_config *cfg, const struct gw_auth_user *u, const char *pw,
           size_t pw_len, int rc_get)
{
    struct base_err err = {0};
    bool match = false;

    if (rc_get == BASE_E_NOTFOUND) {
        gw_auth_password_dummy_verify(pw, pw_len, &cfg->pw_params);
        return "unknown-user";
    }
    if (gw_auth_password_verify(pw, pw_len, u->password_hash, &match, &err) != BASE_OK) {
        BASE_LOG(BASE_LOG_ERROR, "auth.user.bad_hash", "msg=%s", err.msg);
        return "bad-password";
    }
    if (!match)
        return "bad-password";
    /* Checked after the password so a disabled account costs the same time. */
    return u->is_enabled ? NULL : "user-disabled";
}

/* Upgrade a hash made with older parameters, now that we know the password. */
static void
maybe_rehash(const struct gw_auth_endpoint_config *cfg, const struct gw_auth_user *u,
             const char *pw, size_t pw_len)
{
    const struct gw_auth_backend *be = cfg->backend;
    char hash[GW_AUTH_PW_HASH_MAX];
    struct base_err err = {0};

    if (be->user_rehash == NULL ||
        !gw_auth_password_needs_rehash(u->password_hash, &cfg->pw_params))
        return;
    if (gw_auth_password_hash(pw, pw_len, &cfg->pw_params, hash, sizeof(hash), &err) != BASE_OK ||
        be->user_rehash(be->ctx, u->username, hash, &err) != BASE_OK)
        BASE_LOG(BASE_LOG_WARN, "auth.user.rehash_failed", "msg=%s", err.msg);
}

static int
grant(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, const struct gw_auth_user *u,
      const char *scope, int64_t now, struct gw_auth_token_response *out)
{
    struct gw_auth_principal p = {0};

    p.role = u->role;
    p.subject = u->username;
    p.client_id = cfg->portal_client_id;
    p.organization = u->organization;
    p.patient = u->patient;
    p.display_name = u->display_name;
    return gw_auth__grant(cfg, a, &p, scope, NULL, now, NULL, out);
}

/* Count a failed attempt; the caller answers the same way whatever the cause. */
static int
count_failure(const struct gw_auth_endpoint_config *cfg, const char *user, const char *addr,
              int64_t now, struct gw_auth__login *res, const char *reason)
{
    const struct gw_auth_backend *be = cfg->backend;
    struct gw_auth_throttle t = {0};
    struct base_err err = {0};
    int rc = be->throttle_fail(be->ctx, user, addr, &cfg->lockout, now, &t, &err);

    res->reason = rc == BASE_OK ? reason : rc == BASE_E_IO ? "store-unavailable" : "internal";
    return rc == BASE_OK ? BASE_E_AUTH : rc;
}

int
gw_auth__login(const struct gw_auth_endpoint_config *cfg, struct base_arena *a, const char *name,
               const char *pw, const char *client_addr, int64_t now, struct gw_auth__login *res)
{
    const struct gw_auth_backend *be = cfg->backend;
    const char *addr = client_addr != NULL ? client_addr : "";
    char *user = base_arena_alloc(a, BASE_LIMIT_AUTH_MAX_USERNAME + 1);
    struct gw_auth_throttle t = {0};
    struct gw_auth_user *u = NULL;
    struct base_err err = {0};
    const char *why;
    int rc;

    memset(res, 0, sizeof(*res));
    res->reason = "internal";
    if (user == NULL)
        return BASE_E_NOMEM;
    if (gw_auth_username_normalize(name, strlen(name), user, BASE_LIMIT_AUTH_MAX_USERNAME + 1,
                                   &err) != BASE_OK)
        memcpy(user, INVALID_NAME_KEY, sizeof(INVALID_NAME_KEY));
    else
        res->subject = user;
    rc = be->throttle_check(be->ctx, user, addr, now, &t, &err);
    if (rc != BASE_OK)
        goto store_failed;
    if (t.is_locked) {
        res->reason = "locked";
        res->retry_after = t.retry_after > 0 ? t.retry_after : 1;
        return BASE_E_AUTH;
    }
    rc = res->subject == NULL ? BASE_E_NOTFOUND : be->user_get(be->ctx, a, user, &u, &err);
    if (rc != BASE_OK && rc != BASE_E_NOTFOUND)
        goto store_failed;
    if (u != NULL) {
        res->role = u->role;
        res->organization = u->organization;
    }
    why = check_user(cfg, u, pw, strlen(pw), rc);
    if (why != NULL)
        return count_failure(cfg, user, addr, now, res, why);
    rc = be->throttle_success(be->ctx, user, &err);
    if (rc != BASE_OK)
        goto store_failed;
    maybe_rehash(cfg, u, pw, strlen(pw));
    res->user = u;
    res->reason = NULL;
    return BASE_OK;

store_failed:
    res->reason = rc == BASE_E_IO ? "store-unavailable" : "internal";
    return rc;
}

int
gw_auth__password_grant(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                        const struct gw_auth_form *form, const char *client_addr, int64_t now,
                        struct gw_auth_token_response *out)
{
    const char *name = gw_auth_form_get(form, "username");
    const char *pw = gw_auth_form_get(form, "password");
    const char *cid = gw_auth_form_get(form, "client_id");
    struct gw_auth__login res;
    int rc;

    if (!cfg->password_grant)
        return gw_auth__reply_error(a, out, 400, "unsupported_grant_type",
                                    "the password grant is not enabled", "unsupported-grant");
    if (name == NULL || pw == NULL)
        return gw_auth__reply_error(a, out, 400, "invalid_request",
                                    "username and password are required", "invalid-request");
    if (cid != NULL && (cfg->portal_client_id == NULL || strcmp(cid, cfg->portal_client_id) != 0))
        return gw_auth__reply_error(a, out, 401, "invalid_client", "unknown client",
                                    "unknown-client");
    rc = gw_auth__login(cfg, a, name, pw, client_addr, now, &res);
    out->event.subject = res.subject;
    out->event.role = res.role;
    out->event.organization = res.organization;
    if (rc == BASE_OK)
        return grant(cfg, a, res.user, gw_auth_form_get(form, "scope"), now, out);
    if (rc != BASE_E_AUTH)
        return gw_auth__reply_store_error(a, out, rc == BASE_E_NOMEM ? BASE_E_INTERNAL : rc);
    if (strcmp(res.reason, "locked") == 0) {
        rc = gw_auth__reply_error(a, out, 429, "invalid_grant",
                                  "too many failed sign-in attempts; try again later", "locked");
        out->retry_after = res.retry_after;
        return rc;
    }
    return gw_auth__reply_error(a, out, 400, "invalid_grant", BAD_CREDENTIALS, res.reason);
}
