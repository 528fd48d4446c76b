/*
 * test/support/mpi_testdb.h — a fresh PostgreSQL database with the MPI
 * migrations applied, for the MPI integration tests.
 */
#ifndef TEST_SUPPORT_MPI_TESTDB_H
#define TEST_SUPPORT_MPI_TESTDB_H

#include <libpq-fe.h>

/* Drop and create database `name` in the private cluster
 * ($FHIRGATE_TEST_DATABASE_URL), apply schemas/sql/gateway/02*.sql (from
 * $FHIRGATE_SRC, else the current folder) and return a connection to it.
 * NULL, with the reason on stderr, when anything fails. */
PGconn *tu_mpi_db(const char *name);

/* Apply one SQL file statement by statement (split at ";" ending a line;
 * our migrations keep to that).  0 on success. */
int tu_apply_sql_file(PGconn *db, const char *path);

#endif /* TEST_SUPPORT_MPI_TESTDB_H */
