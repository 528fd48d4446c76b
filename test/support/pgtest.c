#include "test/support/pgtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway/db/gw_db.h"

static const char *
env_or(const char *name, const char *def)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : def;
}

const char *
pt_tmp(void)
{
    return env_or("FHIRGATE_TEST_TMP", "/tmp");
}

long long
pt_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
pt_url(const char *db, const char *user)
{
    const char *host = getenv("FHIRGATE_TEST_PGHOST");
    const char *port = getenv("FHIRGATE_TEST_PGPORT");
    char *u = NULL;

    if (host == NULL || port == NULL) {
        fprintf(stderr,
                "pgtest: FHIRGATE_TEST_PGHOST/PGPORT not set (run via test/integration/run.sh)\n");
        return NULL;
    }
    if (asprintf(&u, "postgresql:///%s?host=%s&port=%s&user=%s", db, host, port, user) < 0)
        return NULL;
    return u;
}

int
pt_sql(const char *db, const char *sql, char **out)
{
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    PGresult *res = NULL;
    char *url = pt_url(db, "postgres");
    int rc = -1;

    if (out != NULL)
        *out = NULL;
    if (url == NULL)
        return -1;
    gw_db_config_defaults(&cfg);
    cfg.url = url;
    cfg.statement_timeout_ms = 0;
    if (gw_db_connect(&cfg, &c, &err) != BASE_OK) {
        fprintf(stderr, "pgtest: connect %s: %s\n", db, err.msg);
        goto out;
    }
    if (gw_db_exec(c, "test.sql", sql, 0, NULL, &res, &err) != BASE_OK) {
        fprintf(stderr, "pgtest: %s: %s %s\n", sql, err.msg, err.log_detail);
        goto out;
    }
    if (out != NULL && PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
        *out = strdup(PQgetvalue(res, 0, 0));
    rc = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0;
out:
    PQclear(res);
    gw_db_conn_free(c);
    free(url);
    return rc < 0 ? -1 : rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
pt_column(const char *db, const char *sql, size_t *count)
{
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    PGresult *res = NULL;
    char *url = pt_url(db, "postgres");
    char **list = NULL;

    *count = 0;
    if (url == NULL)
        return NULL;
    gw_db_config_defaults(&cfg);
    cfg.url = url;
    cfg.statement_timeout_ms = 0;
    if (gw_db_connect(&cfg, &c, &err) != BASE_OK ||
        gw_db_exec(c, "test.column", sql, 0, NULL, &res, &err) != BASE_OK) {
        fprintf(stderr, "pgtest: %s: %s\n", sql, err.msg);
        goto out;
    }
    list = calloc((size_t)PQntuples(res) + 1, sizeof(*list));
    for (int r = 0; list != NULL && r < PQntuples(res); r++)
        list[r] = strdup(PQgetisnull(res, r, 0) ? "" : PQgetvalue(res, r, 0));
    *count = (size_t)PQntuples(res);
    qsort(list, *count, sizeof(*list), cmp_str);
out:
    PQclear(res);
    gw_db_conn_free(c);
    free(url);
    return list;
}

bool
pt_in(char **sorted, size_t count, const char *s)
{
    return sorted != NULL && bsearch(&s, sorted, count, sizeof(*sorted), cmp_str) != NULL;
}

long
pt_count(const char *db, const char *sql)
{
    char *v = NULL;
    long n;

    if (pt_sql(db, sql, &v) < 0 || v == NULL) {
        free(v);
        return -1;
    }
    n = strtol(v, NULL, 10);
    free(v);
    return n;
}

char *
pt_create_db(const char *prefix)
{
    static int counter;
    char *name = NULL;
    char *sql = NULL;

    if (asprintf(&name, "%s_%d_%d_%d", prefix, (int)getpid(), counter++,
                 (int)(pt_now_ms() % 100000)) < 0)
        return NULL;
    if (asprintf(&sql, "CREATE DATABASE %s", name) < 0 || pt_sql("postgres", sql, NULL) < 0) {
        free(sql);
        free(name);
        return NULL;
    }
    free(sql);
    return name;
}

char *
pt_create_migrated_db(const char *prefix)
{
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    const struct gw_db_migration *set;
    size_t n = 0;
    char *db = pt_create_db(prefix);
    char *url = db != NULL ? pt_url(db, "postgres") : NULL;
    int rc = -1;

    if (url == NULL)
        goto out;
    gw_db_config_defaults(&cfg);
    cfg.url = url;
    set = gw_db_migrations("gateway", &n);
    if (gw_db_connect(&cfg, &c, &err) == BASE_OK &&
        gw_db_migrate(c, "gateway", set, n, NULL, &err) == BASE_OK)
        rc = 0;
    else
        fprintf(stderr, "pgtest: migrate %s: %s: %s (%s)\n", db, err.where, err.msg,
                err.log_detail);
    gw_db_conn_free(c);
out:
    free(url);
    if (rc != 0) {
        free(db);
        return NULL;
    }
    return db;
}

static int
pgctl(const char *what)
{
    const char *src = env_or("FHIRGATE_SRC", ".");
    const char *host = getenv("FHIRGATE_TEST_PGHOST");
    const char *port = getenv("FHIRGATE_TEST_PGPORT");
    char script[4096];
    char *out = NULL;
    int rc;

    if (host == NULL || port == NULL)
        return -1;
    snprintf(script, sizeof(script), "%s/deploy/pgctl.sh", src);
    if (strcmp(what, "start") == 0) {
        const char *argv[] = {script, "start", host, port, "--volatile", NULL};

        rc = pt_run(argv, &out);
    } else {
        const char *argv[] = {script, what, host, NULL};

        rc = pt_run(argv, &out);
    }
    if (rc != 0)
        fprintf(stderr, "pgtest: pgctl %s: %s\n", what, out != NULL ? out : "");
    free(out);
    return rc;
}

int
pt_pg_stop(void)
{
    return pgctl("stop");
}

int
pt_pg_start(void)
{
    return pgctl("start");
}

int
pt_run(const char *const *argv, char **out)
{
    int fds[2];
    pid_t pid;
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    int status = 0;

    if (out != NULL)
        *out = NULL;
    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);

        dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        ssize_t n;

        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap + 1);
        }
        n = read(fds[0], buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fds[0]);
    if (buf != NULL)
        buf[len] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (out != NULL)
        *out = buf != NULL ? buf : strdup("");
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
