#include "test/support/mpi_testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/support/testutil.h"

static int
run(PGconn *db, const char *sql)
{
    PGresult *r = PQexecParams(db, sql, 0, NULL, NULL, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (!ok)
        fprintf(stderr, "mpi_testdb: %s\n", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

int
tu_apply_sql_file(PGconn *db, const char *path)
{
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    char *stmt;
    char *p;
    int rc = 0;

    if (text == NULL) {
        fprintf(stderr, "mpi_testdb: cannot read %s\n", path);
        return -1;
    }
    /* blank out comments so a ';' in a comment cannot split */
    for (p = text; (p = strstr(p, "--")) != NULL;) {
        while (*p != '\0' && *p != '\n')
            *p++ = ' ';
    }
    for (stmt = text; rc == 0 && (p = strstr(stmt, ";\n")) != NULL; stmt = p + 2) {
        *p = '\0';
        if (strspn(stmt, " \t\r\n") != strlen(stmt))
            rc = run(db, stmt);
    }
    free(text);
    return rc;
}

static void
quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static PGconn *
connect_to(const char *url, const char *dbname)
{
    const char *keys[] = {"dbname", "dbname", NULL};
    const char *vals[] = {url, dbname, NULL};
    PGconn *db = PQconnectdbParams(keys, vals, 1);

    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "mpi_testdb: %s\n", PQerrorMessage(db));
        PQfinish(db);
        return NULL;
    }
    PQsetNoticeProcessor(db, quiet, NULL);
    return db;
}

PGconn *
tu_mpi_db(const char *name)
{
    const char *url = getenv("FHIRGATE_TEST_DATABASE_URL");
    const char *src = getenv("FHIRGATE_SRC");
    char sql[256];
    char dir[4096];
    PGconn *admin;
    PGconn *db;
    char **files;
    size_t n = 0;

    if (url == NULL || url[0] == '\0') {
        fprintf(stderr, "mpi_testdb: FHIRGATE_TEST_DATABASE_URL is not set\n");
        return NULL;
    }
    if ((admin = connect_to(url, "postgres")) == NULL)
        return NULL;
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\"", name);
    (void)run(admin, sql);
    snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
    if (run(admin, sql) != 0) {
        PQfinish(admin);
        return NULL;
    }
    PQfinish(admin);
    if ((db = connect_to(url, name)) == NULL)
        return NULL;
    (void)run(db, "SET client_min_messages = warning");
    snprintf(dir, sizeof(dir), "%s/schemas/sql/gateway", src != NULL ? src : ".");
    files = tu_list_dir(dir, ".sql", &n);
    for (size_t i = 0; files != NULL && i < n; i++) {
        const char *base = strrchr(files[i], '/');

        base = base != NULL ? base + 1 : files[i];
        if (strncmp(base, "02", 2) == 0 && tu_apply_sql_file(db, files[i]) != 0) {
            tu_free_list(files);
            PQfinish(db);
            return NULL;
        }
    }
    tu_free_list(files);
    return db;
}
