/*
 * test/integration/store_it.h — helpers for the adapter store suites: a
 * database of our own in the private cluster with the adapter migrations
 * applied by the real `fhirgate migrate --target adapter`, connections, Bundles.
 */
#ifndef TEST_INTEGRATION_STORE_IT_H
#define TEST_INTEGRATION_STORE_IT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "adapters/store/adapter_store.h"
#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "test/integration/auth_it.h"
#include "test/support/testutil.h"

#define SIT_UNUSED __attribute__((unused))

static char sit_url[1024];

/* The adapter migrations, exactly as an operator applies them. */
static SIT_UNUSED int
sit_migrate(void)
{
    const char *argv[] = {tu_bin("fhirgate"), "migrate", "--target", "adapter", "--database",
                          sit_url, NULL};

    return it_run(argv, NULL, NULL, NULL, NULL);
}

/* Create database `db` (the cluster is new for every run) with the
 * adapter migrations, and point sit_url at it. */
static SIT_UNUSED void
sit_make_database(const char *db)
{
    char sql[256];
    PGconn *c = PQconnectdb(it_env("FHIRGATE_TEST_DATABASE_URL"));
    PGresult *r;

    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
    r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(sit_url, sizeof(sit_url), "postgresql:///%s?host=%s&port=%s&user=postgres", db,
             it_env("FHIRGATE_TEST_PGHOST"), it_env("FHIRGATE_TEST_PGPORT"));
    ck_assert_msg(sit_migrate() == 0, "fhirgate migrate --target adapter failed");
}

static SIT_UNUSED PGconn *
sit_connect(void)
{
    PGconn *c = PQconnectdb(sit_url);

    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    return c;
}

/* First column of the first row as a number (-1 when NULL / no row). */
static SIT_UNUSED long long
sit_count(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    long long v = -1;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* Parse JSON text into a tree (asserting). */
static SIT_UNUSED json_t *
sit_json(const char *text)
{
    json_t *v = NULL;
    struct base_err err = {0};

    ck_assert_msg(fhir_json_parse(text, strlen(text), NULL, &v, &err) == BASE_OK,
                  "bad test JSON: %s at %s", err.msg, err.where);
    return v;
}

#endif /* TEST_INTEGRATION_STORE_IT_H */
