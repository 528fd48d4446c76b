/*
 * test/integration/auth_it.h — helpers for the auth integration suites: a
 * database of our own in the private cluster, our migrations applied with
 * psql (the migration runner is not ours), and running the real CLI.
 */
#ifndef TEST_INTEGRATION_AUTH_IT_H
#define TEST_INTEGRATION_AUTH_IT_H

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "test/support/testutil.h"

#define IT_UNUSED __attribute__((unused))

static char it_url[1024];

static IT_UNUSED const char *
it_env(const char *name)
{
    const char *v = getenv(name);

    ck_assert_msg(v != NULL && v[0] != '\0', "%s is not set (run through make check)", name);
    return v;
}

/* Run argv with stdin from `in_path` (or /dev/null), stdout/stderr to
 * files; extra environment "K=V" strings in `env` (NULL-terminated).
 * Returns the exit status. */
static IT_UNUSED int
it_run(const char *const argv[], const char *in_path, const char *out_path, const char *err_path,
       const char *const env[])
{
    pid_t pid = fork();
    int status = 0;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int in = open(in_path != NULL ? in_path : "/dev/null", O_RDONLY);
        int out =
            open(out_path != NULL ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err =
            open(err_path != NULL ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (in < 0 || out < 0 || err < 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        for (size_t i = 0; env != NULL && env[i] != NULL; i++)
            putenv((char *)env[i]); /* the child's own copy of the environment */
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Create database `db` in the private cluster, apply every
 * schemas/sql/gateway/01??_auth_*.sql with psql, and set it_url. */
static IT_UNUSED void
it_make_database(const char *db)
{
    char admin[1024];
    char sql[256];
    PGconn *c;
    PGresult *r;
    char dir[2048];
    char **files;

    snprintf(admin, sizeof(admin), "%s", it_env("FHIRGATE_TEST_DATABASE_URL"));
    snprintf(it_url, sizeof(it_url), "postgresql:///%s?host=%s&port=%s&user=postgres", db,
             it_env("FHIRGATE_TEST_PGHOST"), it_env("FHIRGATE_TEST_PGPORT"));
    c = PQconnectdb(admin);
    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
    r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(dir, sizeof(dir), "%s/schemas/sql/gateway", it_env("FHIRGATE_SRC"));
    files = tu_list_dir(dir, ".sql", NULL);
    ck_assert_ptr_nonnull(files);
    for (size_t i = 0; files[i] != NULL; i++) {
        const char *base = strrchr(files[i], '/') + 1;
        const char *argv[] = {"/usr/bin/psql", "-X", "-q",     "-v", "ON_ERROR_STOP=1", "-d",
                              it_url,          "-f", files[i], NULL};

        if (strncmp(base, "01", 2) != 0 || strstr(base, "_auth_") == NULL)
            continue; /* only our block: 0100-0199 */
        ck_assert_msg(it_run(argv, NULL, NULL, NULL, NULL) == 0, "psql failed on %s", base);
    }
    tu_free_list(files);
}

static IT_UNUSED PGconn *
it_connect(void)
{
    PGconn *c = PQconnectdb(it_url);

    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    return c;
}

/* Run one statement and return the first column of the first row
 * (malloc'd), or NULL when there is no row. */
static IT_UNUSED char *
it_scalar(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    char *v = NULL;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK,
                  "%s", PQerrorMessage(c));
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

#endif /* TEST_INTEGRATION_AUTH_IT_H */
