/*
 * gateway/auth/gw_auth_store.h — PostgreSQL stores of the auth module:
 * users, SMART Backend Services clients, failed sign-in throttling, and the
 * client-assertion jti replay cache (tables in schemas/sql/gateway/
 * 0100-0104_auth_*.sql).
 *
 * Every function takes a plain libpq connection, so it composes with any
 * pool: the caller leases a PGconn, calls, and returns it.  Only
 * parameterized statements are used.  Times are seconds since the epoch
 * passed in by the caller (testable, and one clock per request).
 *
 * Errors: BASE_E_IO when the database cannot be reached or a statement
 * fails (detail in err->log_detail, never SQL text in err->msg),
 * BASE_E_NOTFOUND, BASE_E_CONFLICT (name taken, jti replayed),
 * BASE_E_INVALID (a record the rules refuse).
 */
#ifndef GATEWAY_AUTH_GW_AUTH_STORE_H
#define GATEWAY_AUTH_GW_AUTH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "gateway/auth/gw_auth.h"

struct base_arena;

/* --- users -------------------------------------------------------------- */

/* Insert a user (checked with gw_auth_user_check(); password_hash required).
 * BASE_E_CONFLICT when the name is taken. */
BASE_MUST_CHECK int gw_auth_user_create(PGconn *c, const struct gw_auth_user *u,
                                        struct base_err *err);
/* One user by normalized name, password hash included.  BASE_E_NOTFOUND. */
BASE_MUST_CHECK int gw_auth_user_get(PGconn *c, struct base_arena *a, const char *username,
                                     struct gw_auth_user **out, struct base_err *err);
/* Every user ordered by name, without password hashes (at most 100,000). */
BASE_MUST_CHECK int gw_auth_user_list(PGconn *c, struct base_arena *a, struct gw_auth_user **out,
                                      size_t *out_count, struct base_err *err);
/* Enable or disable.  BASE_E_NOTFOUND. */
BASE_MUST_CHECK int gw_auth_user_set_enabled(PGconn *c, const char *username, bool enabled,
                                             struct base_err *err);
/* Replace the password hash (a PHC string).  BASE_E_NOTFOUND. */
BASE_MUST_CHECK int gw_auth_user_set_password(PGconn *c, const char *username, const char *hash,
                                              struct base_err *err);
/*
 * Create `u` (an admin) only if the database has no admin yet, atomically
 * (an advisory lock serializes concurrent bootstraps).  *out_created tells
 * whether it did.  BASE_E_CONFLICT when the name is taken by a non-admin.
 */
BASE_MUST_CHECK int gw_auth_user_bootstrap_admin(PGconn *c, const struct gw_auth_user *u,
                                                 bool *out_created, struct base_err *err);

/* --- clients ------------------------------------------------------------ */

/* Insert or replace a client; its JWK Set must hold a usable key and its
 * scopes must parse (BASE_E_INVALID otherwise). */
BASE_MUST_CHECK int gw_auth_client_put(PGconn *c, const struct gw_auth_client *cl,
                                       struct base_err *err);
BASE_MUST_CHECK int gw_auth_client_get(PGconn *c, struct base_arena *a, const char *client_id,
                                       struct gw_auth_client **out, struct base_err *err);
BASE_MUST_CHECK int gw_auth_client_set_enabled(PGconn *c, const char *client_id, bool enabled,
                                               struct base_err *err);

/* --- SMART App Launch app clients and codes ------------------------------ */

/* The rules a registration must meet (client id, 1-16 redirect URIs each
 * passing gw_auth_redirect_uri_check(), scopes that parse with at least one
 * resource scope).  BASE_E_INVALID naming the field. */
BASE_MUST_CHECK int gw_auth_app_client_check(const struct gw_auth_app_client *cl,
                                             struct base_err *err);
/* Insert or replace an app client (checked first). */
BASE_MUST_CHECK int gw_auth_app_client_put(PGconn *c, const struct gw_auth_app_client *cl,
                                           struct base_err *err);
/* BASE_E_NOTFOUND when unknown. */
BASE_MUST_CHECK int gw_auth_app_client_get(PGconn *c, struct base_arena *a, const char *client_id,
                                           struct gw_auth_app_client **out, struct base_err *err);
/* Every app client ordered by id (at most 100,000). */
BASE_MUST_CHECK int gw_auth_app_client_list(PGconn *c, struct base_arena *a,
                                            struct gw_auth_app_client **out, size_t *out_count,
                                            struct base_err *err);
BASE_MUST_CHECK int gw_auth_app_client_set_enabled(PGconn *c, const char *client_id, bool enabled,
                                                   struct base_err *err);
/* Store an issued code (by its hash).  BASE_E_CONFLICT on a hash collision. */
BASE_MUST_CHECK int gw_auth_code_put(PGconn *c, const struct gw_auth_code *code,
                                     struct base_err *err);
/* Mark the code used, atomically, and return it; BASE_E_NOTFOUND when it is
 * unknown, was already used, or expired at `now`. */
BASE_MUST_CHECK int gw_auth_code_take(PGconn *c, struct base_arena *a, const char *code_hash,
                                      int64_t now, struct gw_auth_code **out, struct base_err *err);
/* Drop codes that expired before `before`. */
BASE_MUST_CHECK int gw_auth_code_purge(PGconn *c, int64_t before, struct base_err *err);

/* auth.refresh_tokens (0106).  Store a refresh token (its hash) issued at
 * `now`. */
BASE_MUST_CHECK int gw_auth_refresh_put(PGconn *c, const struct gw_auth_refresh *r, int64_t now,
                                        struct base_err *err);
/* Mark the token used, atomically, and return it; BASE_E_NOTFOUND when
 * unknown, expired or revoked; BASE_E_CONFLICT when it was already used —
 * its whole family is then revoked (RFC 9700 §4.14.2). */
BASE_MUST_CHECK int gw_auth_refresh_take(PGconn *c, struct base_arena *a, const char *token_hash,
                                         int64_t now, struct gw_auth_refresh **out,
                                         struct base_err *err);
/* RFC 7009: revoke the family of the token with this hash when it was
 * issued to `client_id`; nothing (and BASE_OK) otherwise. */
BASE_MUST_CHECK int gw_auth_refresh_revoke(PGconn *c, const char *token_hash, const char *client_id,
                                           struct base_err *err);
/* Revoke every token of a family (the family of a replayed code). */
BASE_MUST_CHECK int gw_auth_refresh_revoke_family(PGconn *c, const char *family_id,
                                                  struct base_err *err);
/* Drop refresh tokens whose family ended before `before`. */
BASE_MUST_CHECK int gw_auth_refresh_purge(PGconn *c, int64_t before, struct base_err *err);

/* --- throttling ----------------------------------------------------------- */

/* Is the user name or the address locked at `now`? */
BASE_MUST_CHECK int gw_auth_throttle_check(PGconn *c, const char *username, const char *addr,
                                           int64_t now, struct gw_auth_throttle *out,
                                           struct base_err *err);
/* Count one failure against both; lock whichever reaches its maximum
 * within the window.  *out tells the state afterwards. */
BASE_MUST_CHECK int gw_auth_throttle_fail(PGconn *c, const char *username, const char *addr,
                                          const struct gw_auth_lockout_policy *p, int64_t now,
                                          struct gw_auth_throttle *out, struct base_err *err);
/* A successful sign-in clears the user name's counter (not the address's). */
BASE_MUST_CHECK int gw_auth_throttle_success(PGconn *c, const char *username, struct base_err *err);
/* An administrator's unlock: clears the user name's counter and lock. */
BASE_MUST_CHECK int gw_auth_throttle_clear(PGconn *c, const char *username, struct base_err *err);
/* Remove rows whose window and lock both ended before `before`. */
BASE_MUST_CHECK int gw_auth_throttle_purge(PGconn *c, int64_t before, struct base_err *err);

/* --- jti replay cache ----------------------------------------------------- */

/* Record (issuer, jti) until `expires_at`.  BASE_E_CONFLICT when it was
 * already recorded and has not expired at `now`. */
BASE_MUST_CHECK int gw_auth_jti_claim(PGconn *c, const char *issuer, const char *jti,
                                      int64_t expires_at, int64_t now, struct base_err *err);
/* Drop entries expired before `now`. */
BASE_MUST_CHECK int gw_auth_jti_purge(PGconn *c, int64_t now, struct base_err *err);

/* --- the token endpoint's backend ----------------------------------------- */

/* Fill `out` with the functions above, bound to `conn` (borrowed). */
void gw_auth_backend_pg(struct gw_auth_backend *out, PGconn *conn);

#endif /* GATEWAY_AUTH_GW_AUTH_STORE_H */
