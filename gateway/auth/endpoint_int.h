/*
 * gateway/auth/endpoint_int.h — the token endpoint's parts, shared by
 * endpoint.c and grant_*.c.
 */
#ifndef GATEWAY_AUTH_ENDPOINT_INT_H
#define GATEWAY_AUTH_ENDPOINT_INT_H

#include "gateway/auth/gw_auth.h"

/* Fill `out` with an OAuth2 error (RFC 6749 §5.2) and the event reason. */
BASE_MUST_CHECK int gw_auth__reply_error(struct base_arena *a, struct gw_auth_token_response *out,
                                         unsigned status, const char *error,
                                         const char *description, const char *reason);
/* 503 for BASE_E_IO, else 500. */
BASE_MUST_CHECK int gw_auth__reply_store_error(struct base_arena *a,
                                               struct gw_auth_token_response *out, int rc);
/* A SMART app's grant (authorization code and refresh): OpenID Connect
 * and refresh tokens. */
struct gw_auth__oidc {
    const char *client_id; /* aud of the id_token */
    const char *nonce;     /* from the authorization request, or NULL */
    /* The refresh token presented (its family continues), or NULL: a new
     * family starts when offline_access or online_access is granted. */
    const struct gw_auth_refresh *family;
    /* The id of a new family (the code's hash), or NULL for a random one. */
    const char *new_family_id;
};

/* The app client `cid`: BASE_OK with *answered false, or `out` answered
 * (401 invalid_client for an unknown or disabled app, 503/500). */
BASE_MUST_CHECK int gw_auth__app_client_find(const struct gw_auth_endpoint_config *cfg,
                                             struct base_arena *a, const char *cid,
                                             struct gw_auth_app_client **cl,
                                             struct gw_auth_token_response *out, bool *answered);

/*
 * Grant `p` (role, subject, … filled in; scopes and purpose are set here):
 * scopes = requested (or the role's defaults) ∩ client ceiling (if any) ∩
 * role ceiling, then issue the token and fill `out` (RFC 6749 §5.1), or
 * answer invalid_scope when nothing is left.  With `oidc` and `openid`
 * granted, the response also carries an id_token (OpenID Connect Core
 * §2; SMART App Launch 2.x "scopes for requesting identity data"); with
 * `oidc` and offline_access or online_access granted, a refresh token
 * (stored hashed before the answer leaves).  Without `oidc` those two
 * scopes are dropped.
 */
BASE_MUST_CHECK int gw_auth__grant(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                                   struct gw_auth_principal *p, const char *requested,
                                   const char *client_ceiling, int64_t now,
                                   const struct gw_auth__oidc *oidc,
                                   struct gw_auth_token_response *out);

/* Scopes `requested` (or the role's defaults when NULL) ∩ `client_ceiling`
 * (when not NULL) ∩ the role's ceiling. */
BASE_MUST_CHECK int gw_auth__grant_scopes(struct base_arena *a, const char *requested,
                                          const char *client_ceiling, enum gw_auth_role role,
                                          struct gw_auth_scopes *out, struct base_err *err);

/* The outcome of checking a user name and password (gw_auth__login). */
struct gw_auth__login {
    struct gw_auth_user *user; /* on success */
    const char *reason;        /* event reason on failure ("locked", "bad-password", …) */
    const char *subject;       /* the normalized name, NULL when malformed */
    enum gw_auth_role role;    /* when the user is known */
    const char *organization;
    int64_t retry_after; /* "locked": seconds */
};

/*
 * The one sign-in check (password grant and the authorize page): lockout
 * first, then the user, the password (an unknown name costs a hash too),
 * the enabled flag; failures are counted per name and address, a success
 * clears the name's counter and upgrades an old hash.  BASE_OK with
 * res->user; BASE_E_AUTH with res->reason; BASE_E_IO (store down),
 * BASE_E_NOMEM or another error otherwise.
 */
BASE_MUST_CHECK int gw_auth__login(const struct gw_auth_endpoint_config *cfg, struct base_arena *a,
                                   const char *name, const char *pw, const char *client_addr,
                                   int64_t now, struct gw_auth__login *res);

/* SHA-256 of an authorization code, base64url (what the store keeps). */
char *gw_auth__code_hash(struct base_arena *a, const char *code);

BASE_MUST_CHECK int gw_auth__code_grant(const struct gw_auth_endpoint_config *cfg,
                                        struct base_arena *a, const struct gw_auth_form *form,
                                        int64_t now, struct gw_auth_token_response *out);
BASE_MUST_CHECK int gw_auth__refresh_grant(const struct gw_auth_endpoint_config *cfg,
                                           struct base_arena *a, const struct gw_auth_form *form,
                                           int64_t now, struct gw_auth_token_response *out);
BASE_MUST_CHECK int gw_auth__client_credentials(const struct gw_auth_endpoint_config *cfg,
                                                struct base_arena *a,
                                                const struct gw_auth_form *form, int64_t now,
                                                struct gw_auth_token_response *out);
BASE_MUST_CHECK int gw_auth__password_grant(const struct gw_auth_endpoint_config *cfg,
                                            struct base_arena *a, const struct gw_auth_form *form,
                                            const char *client_addr, int64_t now,
                                            struct gw_auth_token_response *out);

#endif /* GATEWAY_AUTH_ENDPOINT_INT_H */
