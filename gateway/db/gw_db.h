/*
 * gateway/db/gw_db.h — PostgreSQL access shared by both daemons (libgwrt.a).
 *
 *   connections   gw_db_connect / gw_db_conn_free: one libpq connection with
 *                 statement and lock timeouts and a client-side deadline on
 *                 every round trip (a frozen server cannot hang a thread);
 *   pool          gw_db_pool_new / gw_db_borrow / gw_db_release: a fixed
 *                 number of connections shared by threads; a borrow waits at
 *                 most borrow_timeout_ms, broken connections are replaced,
 *                 and reconnection backs off while the server is away;
 *   statements    gw_db_exec (text parameters, never SQL built from values),
 *                 gw_db_exec_stmt (prepared once per connection), transactions
 *                 and result helpers;
 *   migrations    gw_db_migrate: numbered .sql files embedded at build time;
 *   embedded      gw_db_embedded_ensure: a private cluster under the state
 *                 folder when no database URL is configured.
 *
 * Errors never contain SQL text or parameter values (they may be patient
 * data): err->where names the statement by its label ("audit.insert"),
 * err->msg says what failed, err->log_detail holds the SQLSTATE.  Every
 * database failure is BASE_E_IO (the HTTP layer answers 503) except:
 * BASE_E_CONFLICT for unique violations, BASE_E_INVALID for data exceptions
 * (SQLSTATE class 22, a bad parameter), BASE_E_AUTH for missing privileges.
 */
#ifndef GATEWAY_DB_GW_DB_H
#define GATEWAY_DB_GW_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct base_arena;
struct gw_db_conn;
struct gw_db_pool;

/* ------------------------------------------------------------ settings -- */

struct gw_db_config {
    const char *url;               /* postgresql:// URL or "k=v" conninfo; copied */
    const char *application_name;  /* shown in pg_stat_activity; default "fhirgate" */
    unsigned pool_size;            /* connections in a pool (1..BASE_LIMIT_DB_POOL_MAX) */
    unsigned borrow_timeout_ms;    /* longest wait for a free pooled connection */
    unsigned connect_timeout_s;    /* libpq connect_timeout (>= 2 as libpq requires) */
    unsigned statement_timeout_ms; /* server-side statement_timeout (0 = none) */
    unsigned lock_timeout_ms;      /* server-side lock_timeout (0 = none) */
    unsigned idle_tx_timeout_ms;   /* idle_in_transaction_session_timeout (0 = none) */
    unsigned deadline_grace_ms;    /* client gives up statement_timeout + this after a send */
    unsigned reconnect_min_ms;     /* first back-off after a failed connect */
    unsigned reconnect_max_ms;     /* back-off ceiling while the server stays away */
};

/* Fill `c` with the defaults (see docs/design/storage.md, "Settings"). */
void gw_db_config_defaults(struct gw_db_config *c);

/*
 * Check that `url` is a connection string libpq accepts (postgresql:// URL,
 * including a Unix-socket folder as ?host=/dir, or key=value conninfo).
 * BASE_E_INVALID otherwise; the message never quotes the URL (it may hold a
 * password).
 */
BASE_MUST_CHECK int gw_db_url_check(const char *url, struct base_err *err);

/*
 * A loggable description of `url` without password: "host=/var/pg port=5432
 * dbname=fhirgate user=fhirgate_app".  Written to out (cap bytes, always
 * NUL-terminated); "(invalid connection string)" when it does not parse.
 */
void gw_db_url_describe(const char *url, char *out, size_t cap);

/* ---------------------------------------------------------- connections -- */

/*
 * Open one connection (not pooled) with the settings of `cfg` (cfg->url
 * required).  BASE_E_IO when the server cannot be reached or refuses; the
 * message says which (never the URL).  Release with gw_db_conn_free().
 */
BASE_MUST_CHECK int gw_db_connect(const struct gw_db_config *cfg, struct gw_db_conn **out,
                                  struct base_err *err);
/* Close a connection from gw_db_connect().  NULL is a no-op.  Do not use on
 * a pooled connection (use gw_db_release). */
void gw_db_conn_free(struct gw_db_conn *c);

/* The libpq handle, for what these helpers do not cover (COPY, notices). */
PGconn *gw_db_conn_pg(struct gw_db_conn *c);
/* False once a round trip failed at the connection level or timed out. */
bool gw_db_conn_ok(const struct gw_db_conn *c);
/* SQLSTATE of the last failed statement on `c` ("" when none). */
const char *gw_db_conn_sqlstate(const struct gw_db_conn *c);

/*
 * Change the statement timeout of this connection (server side, and the
 * client deadline with it); 0 = none.  A pooled connection gets the pool's
 * value back when released.  Used for long maintenance work (migrations,
 * archive, verify).
 */
BASE_MUST_CHECK int gw_db_conn_set_timeout(struct gw_db_conn *c, unsigned statement_timeout_ms,
                                           struct base_err *err);

/* ----------------------------------------------------------- statements -- */

/*
 * Run one SQL statement with text parameters (`vals[i]` NULL = SQL NULL).
 * `what` labels the statement in errors and logs ("audit.insert"); `sql` is
 * fixed text with $1..$n placeholders and must never contain values.
 * On success *out (may be NULL to discard) is the result (PQclear it, or tie
 * it to an arena with gw_db_res_tie).  Results with an error status are
 * turned into an error and never returned.  At most BASE_LIMIT_DB_PARAMS
 * parameters.
 */
BASE_MUST_CHECK int gw_db_exec(struct gw_db_conn *c, const char *what, const char *sql, int n,
                               const char *const *vals, PGresult **out, struct base_err *err);

/* A statement prepared once per connection, on first use.  `name` doubles as
 * the label in errors.  Define them as static const. */
struct gw_db_stmt {
    const char *name; /* "audit.head" — unique per SQL text */
    const char *sql;
    int nparams;
};

BASE_MUST_CHECK int gw_db_exec_stmt(struct gw_db_conn *c, const struct gw_db_stmt *st,
                                    const char *const *vals, PGresult **out, struct base_err *err);

/* Transactions.  begin takes an optional isolation clause from a fixed set
 * (NULL, "REPEATABLE READ", "REPEATABLE READ READ ONLY", "SERIALIZABLE").
 * rollback is best effort and safe when no transaction is open. */
BASE_MUST_CHECK int gw_db_begin(struct gw_db_conn *c, const char *mode, struct base_err *err);
BASE_MUST_CHECK int gw_db_commit(struct gw_db_conn *c, struct base_err *err);
void gw_db_rollback(struct gw_db_conn *c);

/* Set a run-time parameter for the current transaction only
 * (set_config(name, value, true)), e.g. synchronous_commit = on. */
BASE_MUST_CHECK int gw_db_set_local(struct gw_db_conn *c, const char *name, const char *value,
                                    struct base_err *err);

/*
 * Stream the output of a COPY ... TO STDOUT statement to `sink`.  The sink
 * returns 0 to continue or a negative BASE_E_* to stop (the connection is
 * then dropped, since libpq cannot abandon a COPY mid-stream).
 */
typedef int (*gw_db_copy_sink_fn)(void *ctx, const char *data, size_t len);
BASE_MUST_CHECK int gw_db_copy_out(struct gw_db_conn *c, const char *what, const char *sql,
                                   gw_db_copy_sink_fn sink, void *ctx, struct base_err *err);

/* ------------------------------------------------------------- results -- */

/* Free `res` when `a` is freed. */
BASE_MUST_CHECK int gw_db_res_tie(struct base_arena *a, PGresult *res);
/* Text of a field, NULL for SQL NULL or out of range. */
const char *gw_db_val(const PGresult *res, int row, int col);
/* Integer field; false when NULL, out of range or not an integer. */
bool gw_db_val_i64(const PGresult *res, int row, int col, int64_t *out);
/* Boolean field ("t"/"f"); false when NULL. */
bool gw_db_val_bool(const PGresult *res, int row, int col);

/* ---------------------------------------------------------------- pool -- */

/*
 * A fixed-size pool (cfg->pool_size connections, opened lazily).  Creating
 * it checks the URL but does not connect, so a daemon starts while the
 * database is still down and recovers by itself when it comes up.
 */
BASE_MUST_CHECK int gw_db_pool_new(const struct gw_db_config *cfg, struct gw_db_pool **out,
                                   struct base_err *err);
/* Close every connection.  No connection may still be borrowed. */
void gw_db_pool_free(struct gw_db_pool *p);

/*
 * Borrow a working connection.  Waits at most cfg->borrow_timeout_ms for one
 * to be free (then BASE_E_IO "database connection pool exhausted").  A
 * connection the server closed is noticed here and replaced; when no
 * connection can be opened, fails at once with BASE_E_IO "database
 * unavailable" and retries only after a back-off (reconnect_min_ms doubling
 * up to reconnect_max_ms), so a missing server costs callers no waiting.
 */
BASE_MUST_CHECK int gw_db_borrow(struct gw_db_pool *p, struct gw_db_conn **out,
                                 struct base_err *err);
/* Give a connection back.  An open transaction is rolled back; a broken
 * connection is closed and reopened by a later borrow.  NULL is a no-op. */
void gw_db_release(struct gw_db_conn *c);

/* Check the server answers (borrow, SELECT 1, release). */
BASE_MUST_CHECK int gw_db_pool_ping(struct gw_db_pool *p, struct base_err *err);

struct gw_db_pool_stats {
    unsigned size;        /* configured connections */
    unsigned open;        /* connections currently open */
    unsigned borrowed;    /* connections lent out now */
    uint64_t borrows;     /* successful borrows */
    uint64_t exhausted;   /* borrows that timed out waiting */
    uint64_t unavailable; /* borrows refused because the server was away */
    uint64_t reconnects;  /* connections (re)opened */
    uint64_t broken;      /* connections found broken and closed */
};
void gw_db_pool_stats(struct gw_db_pool *p, struct gw_db_pool_stats *out);

/* ----------------------------------------------------------- migrations -- */

/* One embedded migration file: schemas/sql/<target>/<name>. */
struct gw_db_migration {
    const char *target;       /* "gateway" | "adapter" */
    const char *name;         /* "0002_audit.sql" */
    const unsigned char *sql; /* file bytes (not NUL-terminated) */
    size_t len;
};

/* The migrations built into this binary for `target`, in numeric order;
 * NULL (count 0) for an unknown target. */
const struct gw_db_migration *gw_db_migrations(const char *target, size_t *count);

enum gw_db_migration_state {
    GW_DB_MIG_PENDING, /* in this build, not applied */
    GW_DB_MIG_APPLIED, /* applied with the same checksum */
    GW_DB_MIG_CHANGED, /* applied, but the file differs now: an error */
    GW_DB_MIG_UNKNOWN  /* applied, but this build does not have it (newer schema) */
};

struct gw_db_migration_status {
    const char *name;
    enum gw_db_migration_state state;
    char applied_at[40]; /* "2026-11-28 14:33:20+00" or "" */
    char checksum[65];   /* SHA-256 of the file (hex) */
};

/*
 * Status of every migration of `target` against the database: the build's
 * files and the applied records, merged in name order, into an array in `a`.
 * Creates nothing.
 */
BASE_MUST_CHECK int gw_db_migrate_status(struct gw_db_conn *c, const char *target,
                                         const struct gw_db_migration *set, size_t count,
                                         struct base_arena *a, struct gw_db_migration_status **out,
                                         size_t *out_count, struct base_err *err);

/*
 * Apply the pending migrations of `set` (for `target`) in numeric order,
 * each in its own transaction together with its record in
 * fhirgate_meta.migration (name, SHA-256, applied_at).  Forward-only: a
 * migration already applied is skipped; one applied with a different
 * checksum is an error (BASE_E_CONFLICT, where = file name) and nothing is
 * applied.  Concurrent runs are serialized by an advisory lock.  *out_applied
 * (may be NULL) receives how many were applied.  On a failing statement the
 * transaction rolls back; err->where is "FILE: statement N (line L)" and
 * err->log_detail holds the server's SQLSTATE and primary message.
 */
BASE_MUST_CHECK int gw_db_migrate(struct gw_db_conn *c, const char *target,
                                  const struct gw_db_migration *set, size_t count,
                                  unsigned *out_applied, struct base_err *err);

/*
 * Split an SQL script into statements at top-level semicolons, honouring
 * '…' and E'…' strings, "…" identifiers, $tag$…$tag$ bodies, -- and nested
 * block comments.  Calls `fn` for each non-empty statement with its text
 * (without the semicolon) and the line it starts on.  BASE_E_PARSE for an
 * unterminated string, identifier, body or comment (where = "line L");
 * BASE_E_LIMIT past `max_statements`.  A callback error stops the split and
 * is returned.
 */
typedef int (*gw_db_stmt_fn)(void *ctx, const char *sql, size_t len, unsigned line);
BASE_MUST_CHECK int gw_db_sql_split(const char *script, size_t len, size_t max_statements,
                                    gw_db_stmt_fn fn, void *ctx, struct base_err *err);

/* ------------------------------------------------------ embedded cluster -- */

struct gw_db_embedded_opts {
    const char *pg_bindir;    /* NULL: $FHIRGATE_PGBIN, else newest /usr/lib/postgresql/N/bin */
    const char *run_as;       /* when running as root: system user owning the
                               * cluster (created when missing); default "fhirgate" */
    const char *dbname;       /* database to create; default "fhirgate" ([a-z_][a-z0-9_]*) */
    unsigned start_timeout_s; /* pg_ctl -t; default 60 */
};

struct gw_db_embedded_urls {
    char *admin;   /* superuser "postgres": migrations, archive, maintenance */
    char *service; /* login role fhirgate_app (exists once migrations ran) */
};

/*
 * Make sure the private cluster under `state_dir` (folder "<state_dir>/pg",
 * data in pg/data, Unix socket in pg/ only: no TCP) exists and runs: initdb
 * on first use, pg_ctl start when it is not running, create the database
 * when missing; reuse everything that is already there.  Serialized between
 * processes by a lock file.  As root the server runs as opts->run_as via
 * runuser (PostgreSQL refuses root).  The URLs are allocated in `a`.
 * BASE_E_IO with err->where naming the step and the log file to read.
 */
BASE_MUST_CHECK int gw_db_embedded_ensure(const char *state_dir,
                                          const struct gw_db_embedded_opts *opts,
                                          struct base_arena *a, struct gw_db_embedded_urls *out,
                                          struct base_err *err);

/* Stop the private cluster (fast shutdown) if it runs. */
BASE_MUST_CHECK int gw_db_embedded_stop(const char *state_dir,
                                        const struct gw_db_embedded_opts *opts,
                                        struct base_err *err);

#endif /* GATEWAY_DB_GW_DB_H */
