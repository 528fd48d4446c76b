/*
 * gateway/auth/store_int.h — the statement helper shared by the store_*.c
 * files.
 */
#ifndef GATEWAY_AUTH_STORE_INT_H
#define GATEWAY_AUTH_STORE_INT_H

#include <libpq-fe.h>

#include "gateway/auth/gw_auth_store.h"

/*
 * Run a parameterized statement (text parameters).  Returns the result when
 * its status is `want`; otherwise NULL, with *rc and err set: a unique
 * violation is BASE_E_CONFLICT, a check violation BASE_E_INVALID, anything
 * else BASE_E_IO ("could not <what>"; SQLSTATE in err->log_detail).
 */
PGresult *gw_auth__exec(PGconn *c, const char *sql, int n, const char *const *params,
                        ExecStatusType want, const char *what, int *rc, struct base_err *err);
/* Run a statement that returns nothing of interest; BASE_OK or an error. */
BASE_MUST_CHECK int gw_auth__exec_cmd(PGconn *c, const char *sql, int n, const char *const *params,
                                      const char *what, struct base_err *err);
/* An UPDATE that must change exactly one row; BASE_E_NOTFOUND with message
 * `missing` otherwise. */
BASE_MUST_CHECK int gw_auth__update_one(PGconn *c, const char *sql, int n,
                                        const char *const *params, const char *what,
                                        const char *missing, struct base_err *err);
/* Rows changed by a command result, as a number. */
long gw_auth__affected(PGresult *res);
/* Copy a text column into the arena (NULL for SQL NULL, or on exhaustion). */
const char *gw_auth__col(struct base_arena *a, PGresult *res, int row, int col);
/* A client id: 1-256 printable ASCII characters without spaces (the
 * CHECK of auth.clients and auth.app_clients).  BASE_E_INVALID. */
BASE_MUST_CHECK int gw_auth__client_id_check(const char *id, struct base_err *err);
/* Seconds as decimal text in buf. */
const char *gw_auth__i64(char buf[24], int64_t v);

#endif /* GATEWAY_AUTH_STORE_INT_H */
