/*
 * test/support/audittest.h — fixtures for the audit trail tests: a migrated
 * database with its own signing key, pools and writers on it, sample
 * AuditEvents, and `fhirgate audit verify` runs.
 */
#ifndef TEST_SUPPORT_AUDITTEST_H
#define TEST_SUPPORT_AUDITTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/audit/gw_audit.h"
#include "gateway/db/gw_db.h"

struct at_env {
    char *db;        /* database name */
    char *url_app;   /* as the service login fhirgate_app */
    char *url_admin; /* as the superuser */
    char key[512];   /* private key PEM path */
    char pub[512];   /* public key PEM path */
};

/* Fresh migrated database and a new key pair; false on failure. */
bool at_env_init(struct at_env *e, const char *prefix);
void at_env_fini(struct at_env *e);

/* A pool on `url` (size connections, short timeouts for tests). */
struct gw_db_pool *at_pool(const char *url, unsigned size);
/* An audit writer (one thread) for `chain` signing with `key` (NULL: no
 * checkpoints), checkpoint every `cp_rows` rows; clock hook optional. */
struct gw_audit *at_audit(struct gw_db_pool *p, const char *chain, const char *key,
                          unsigned cp_rows, long long (*clock_us)(void));
/* The same with `writers` writer threads (chains CHAIN/1 … CHAIN/N). */
struct gw_audit *at_audit_w(struct gw_db_pool *p, const char *chain, const char *key,
                            unsigned cp_rows, long long (*clock_us)(void), unsigned writers);

/* A sample AuditEvent and indexed columns for request `i`; `json` holds
 * the text (cap >= 2048).  user/patient/member/purpose may be NULL for
 * defaults. */
struct at_rec {
    struct gw_audit_record r;
    char json[2048];
    char req[64];
    char user[64];
    char patient[64];
    const char *ents[3];
    char ent0[64];
};
void at_rec_make(struct at_rec *x, int i, const char *user, const char *patient,
                 const char *member);

/* Run `fhirgate audit verify --database URL [extra...]`; returns the exit
 * status and the output (malloc'd). */
int at_verify_cli(const struct at_env *e, const char *const *extra, char **out);

#endif /* TEST_SUPPORT_AUDITTEST_H */
