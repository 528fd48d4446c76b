/*
 * gateway/db/db_int.h — internals shared by the files of gateway/db only.
 */
#ifndef GATEWAY_DB_DB_INT_H
#define GATEWAY_DB_DB_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "gateway/db/gw_db.h"

/* Statements prepared per connection; beyond this they run unprepared. */
#define GW_DB__MAX_PREPARED 64u
/* Longer statement names are run unprepared. */
#define GW_DB__MAX_STMT_NAME 63u

struct gw_db_conn {
    PGconn *pg;                     /* NULL while closed */
    struct gw_db_pool *pool;        /* owner, NULL for a standalone connection */
    const struct gw_db_config *cfg; /* the pool's or the standalone copy */
    bool broken;                    /* a round trip failed: close on release */
    bool in_use;                    /* pooled: lent out */
    unsigned timeout_ms;            /* current statement_timeout (0 = none) */
    char sqlstate[6];               /* of the last failed statement */
    char message[160];              /* server's primary message of that failure:
                                     * surfaced only for migrations (trusted SQL) */
    unsigned nprepared;
    /* by name, not by address: a statement struct freed with its owner
     * (an audit writer) and another allocated at the same address with
     * another name and SQL must not pass for prepared */
    char prepared[GW_DB__MAX_PREPARED][GW_DB__MAX_STMT_NAME + 1];
};

/* Monotonic milliseconds. */
int64_t gw_db__now_ms(void);

/* Open c->pg with c->cfg (session settings applied).  On failure c->pg is
 * NULL and err says why. */
BASE_MUST_CHECK int gw_db__open(struct gw_db_conn *c, struct base_err *err);
/* Close c->pg and forget what was prepared on it. */
void gw_db__close(struct gw_db_conn *c);
/* Non-blocking check that an idle connection is still alive (the server
 * closes idle sessions when it stops). */
bool gw_db__alive(struct gw_db_conn *c);

/* The migrations embedded at build time (generated from schemas/sql by
 * schemas/sql/embed.sh), sorted by target then name. */
extern const struct gw_db_migration gw_db__embedded_migrations[];
extern const size_t gw_db__embedded_migration_count;

/* Lower-case hex SHA-256 of `len` bytes (out: 65 bytes). */
void gw_db__sha256_hex(const void *data, size_t len, char out[65]);

#endif /* GATEWAY_DB_DB_INT_H */
