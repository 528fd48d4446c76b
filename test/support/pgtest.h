/*
 * test/support/pgtest.h — helpers for tests against the private PostgreSQL
 * cluster that test/integration/run.sh starts (FHIRGATE_TEST_PGHOST,
 * FHIRGATE_TEST_PGPORT): fresh databases, superuser SQL, stopping and
 * starting the cluster, running the built programs.
 */
#ifndef TEST_SUPPORT_PGTEST_H
#define TEST_SUPPORT_PGTEST_H

#include <stdbool.h>
#include <stddef.h>

/* "postgresql:///DB?host=…&port=…&user=USER" for the test cluster (malloc'd). */
char *pt_url(const char *db, const char *user);
/* Create a database with a unique name starting with `prefix` (malloc'd name). */
char *pt_create_db(const char *prefix);
/* Create a database and apply the embedded gateway migrations to it. */
char *pt_create_migrated_db(const char *prefix);
/* Run one statement as superuser in `db`; returns 0, or -1 (message printed).
 * `out` (may be NULL) receives the first column of the first row (malloc'd). */
int pt_sql(const char *db, const char *sql, char **out);
/* All values of the first column (malloc'd array of malloc'd strings,
 * NULL-terminated; *count rows), sorted with strcmp; NULL on failure. */
char **pt_column(const char *db, const char *sql, size_t *count);
/* Is `s` in the sorted list? */
bool pt_in(char **sorted, size_t count, const char *s);
/* Same, but returns the count of rows of a query (or -1). */
long pt_count(const char *db, const char *sql);
/* Stop / start the test cluster (deploy/pgctl.sh). 0 on success. */
int pt_pg_stop(void);
int pt_pg_start(void);
/* Run argv (argv[0] a path), capture stdout and stderr together
 * (malloc'd, NUL-terminated) and return the exit status (-1 if it died). */
int pt_run(const char *const *argv, char **out);
/* Scratch folder of the run ($FHIRGATE_TEST_TMP, else /tmp). */
const char *pt_tmp(void);
/* Monotonic milliseconds. */
long long pt_now_ms(void);

#endif /* TEST_SUPPORT_PGTEST_H */
