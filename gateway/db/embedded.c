/*
 * The embedded default: a private PostgreSQL cluster under the state folder
 * when no database URL is configured.
 *
 *   <state>/pg/            socket folder (mode 0700), logs
 *   <state>/pg/data/       the cluster (initdb on first use, then reused)
 *   <state>/pg.lock        serializes processes that ensure it at once
 *
 * The server listens on a Unix socket in <state>/pg only (listen_addresses
 * = ''), so nothing is exposed on the network and local trust
 * authentication is limited to whoever can enter that folder: its owner
 * and root.  PostgreSQL refuses to run as root, so as root initdb and
 * pg_ctl run as a system user (default "fhirgate") through runuser(1).
 * Everything runs via posix_spawn with argument vectors — no shell; the
 * repository's scripts are not needed at run time.
 */
#include "gateway/db/gw_db.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/log.h"

extern char **environ;

#define EMBEDDED_PORT "5432"

/* Paths kept short: the socket path must fit in 107 bytes anyway. */
#define EMB_PATH 256

struct emb {
    char state[EMB_PATH];
    char dir[EMB_PATH];  /* <state>/pg */
    char data[EMB_PATH]; /* <state>/pg/data */
    char bindir[EMB_PATH];
    const char *run_as; /* NULL when not root */
    const char *dbname;
    unsigned timeout_s;
};

static bool
ident_ok(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 63 || isdigit((unsigned char)s[0]))
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
            return false;
    }
    return true;
}

static bool
is_exec(const char *dir, const char *name)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return access(p, X_OK) == 0;
}

/* Newest /usr/lib/postgresql/N/bin that has initdb and pg_ctl. */
static bool
find_bindir(const struct gw_db_embedded_opts *o, char out[EMB_PATH])
{
    const char *env = getenv("FHIRGATE_PGBIN");
    glob_t g;
    long best = -1;

    if (o != NULL && o->pg_bindir != NULL)
        env = o->pg_bindir;
    if (env != NULL && env[0] != '\0') {
        if (strlen(env) >= EMB_PATH)
            return false;
        snprintf(out, EMB_PATH, "%s", env);
        return is_exec(out, "initdb") && is_exec(out, "pg_ctl");
    }
    if (glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) != 0)
        return false;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *v = g.gl_pathv[i] + strlen("/usr/lib/postgresql/");
        long n = strtol(v, NULL, 10);

        if (n > best && strlen(g.gl_pathv[i]) < EMB_PATH && is_exec(g.gl_pathv[i], "initdb") &&
            is_exec(g.gl_pathv[i], "pg_ctl")) {
            best = n;
            snprintf(out, EMB_PATH, "%s", g.gl_pathv[i]);
        }
    }
    globfree(&g);
    return best >= 0;
}

static const char *
runuser_path(void)
{
    static const char *const cand[] = {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(cand); i++) {
        if (access(cand[i], X_OK) == 0)
            return cand[i];
    }
    return NULL;
}

/*
 * Run argv (argv[0] a full path), as e->run_as when root, with stdin from
 * /dev/null, stdout+stderr appended to `log`, in folder e->dir.  Returns
 * the exit status, or -1 when it could not run.
 */
static int
run(const struct emb *e, const char *const *argv, const char *log)
{
    const char *full[32];
    size_t n = 0;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = 0;
    int rc;

    if (e->run_as != NULL) {
        const char *ru = runuser_path();

        if (ru == NULL)
            return -1;
        full[n++] = ru;
        full[n++] = "-u";
        full[n++] = e->run_as;
        full[n++] = "--";
    }
    for (size_t i = 0; argv[i] != NULL && n + 1 < BASE_ARRAY_LEN(full); i++)
        full[n++] = argv[i];
    full[n] = NULL;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addchdir_np(&fa, e->dir);
    /* posix_spawn's argv is char *const[] for historical reasons; it does
     * not modify the strings. */
    rc = posix_spawn(&pid, full[0], &fa, NULL, (char *const *)full, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* pg_ctl hands its paths to /bin/sh inside double quotes. */
static bool
shell_safe(const char *p)
{
    return strpbrk(p, "\"'$`\\\n") == NULL;
}

/* out = a + b; the caller checked that it fits EMB_PATH. */
static void
join(char out[EMB_PATH], const char *a, const char *b)
{
    size_t na = strlen(a);
    size_t nb = strlen(b);

    BASE_ASSERT(na + nb < EMB_PATH);
    memcpy(out, a, na);
    memcpy(out + na, b, nb + 1);
}

static int
prepare(const char *state_dir, const struct gw_db_embedded_opts *o, struct emb *e,
        struct base_err *err)
{
    char real[PATH_MAX];

    memset(e, 0, sizeof(*e));
    e->dbname = o != NULL && o->dbname != NULL ? o->dbname : "fhirgate";
    e->timeout_s = o != NULL && o->start_timeout_s > 0 ? o->start_timeout_s : 60;
    ENSURE(ident_ok(e->dbname), err, BASE_E_INVALID, "value", "database.name",
           "database name must be lower-case letters, digits and _");
    ENSURE(state_dir != NULL && state_dir[0] != '\0', err, BASE_E_INVALID, "required", "state_dir",
           "no state folder given");
    ENSURE(find_bindir(o, e->bindir), err, BASE_E_IO, "not-found", "embedded.pg_bin",
           "PostgreSQL server programs (initdb, pg_ctl) not found; install postgresql");
    ENSURE(mkdir_p(state_dir, 0755) == 0 && realpath(state_dir, real) != NULL, err, BASE_E_IO,
           "exception", "state_dir", "could not create the state folder");
    ENSURE(strlen(real) + sizeof("/pg/.s.PGSQL." EMBEDDED_PORT) <= 107 &&
               strlen(real) + sizeof("/pg/data") < EMB_PATH,
           err, BASE_E_INVALID, "value", "state_dir",
           "state folder path is too long for a Unix socket (107 bytes)");
    ENSURE(shell_safe(real), err, BASE_E_INVALID, "value", "state_dir",
           "state folder path must not contain quotes, $, ` or backslashes");
    join(e->state, real, "");
    join(e->dir, real, "/pg");
    join(e->data, real, "/pg/data");
    if (geteuid() == 0)
        e->run_as = o != NULL && o->run_as != NULL ? o->run_as : "fhirgate";
    ENSURE(e->run_as == NULL || ident_ok(e->run_as), err, BASE_E_INVALID, "value",
           "embedded.run_as", "invalid system user name");
    ENSURE(mkdir(e->dir, 0700) == 0 || errno == EEXIST, err, BASE_E_IO, "exception", "state_dir",
           "could not create the database folder");
    return BASE_OK;
}

static int
ensure_user(struct emb *e, struct base_err *err)
{
    struct passwd *pw;
    char log[PATH_MAX];

    if (e->run_as == NULL)
        return BASE_OK;
    if (getpwnam(e->run_as) == NULL) {
        const char *argv[] = {
            "/usr/sbin/useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
            e->run_as,           NULL};
        const char *as = e->run_as;

        snprintf(log, sizeof(log), "%s/initdb.log", e->dir);
        e->run_as = NULL; /* useradd runs as root */
        if (run(e, argv, log) != 0) {
            e->run_as = as;
            return base_err_set(err, BASE_E_IO, "exception", "embedded.run_as",
                                "could not create the system user for PostgreSQL");
        }
        e->run_as = as;
    }
    pw = getpwnam(e->run_as);
    ENSURE(pw != NULL, err, BASE_E_IO, "exception", "embedded.run_as",
           "system user for PostgreSQL is missing");
    ENSURE(chown(e->dir, pw->pw_uid, pw->pw_gid) == 0, err, BASE_E_IO, "exception", "state_dir",
           "could not hand the database folder to the PostgreSQL user");
    return BASE_OK;
}

static int
append_conf(const struct emb *e, struct base_err *err)
{
    char path[PATH_MAX];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/postgresql.conf", e->data);
    f = fopen(path, "a");
    ENSURE(f != NULL, err, BASE_E_IO, "exception", "embedded.initdb",
           "could not configure the new cluster");
    ok = fprintf(f,
                 "\n# fhirgate embedded cluster: Unix socket only, in its private folder\n"
                 "listen_addresses = ''\n"
                 "unix_socket_directories = '%s'\n"
                 "unix_socket_permissions = 0700\n"
                 "port = " EMBEDDED_PORT "\n",
                 e->dir) > 0;
    ok = (fclose(f) == 0) && ok;
    ENSURE(ok, err, BASE_E_IO, "exception", "embedded.initdb",
           "could not configure the new cluster");
    return BASE_OK;
}

static int
initdb(const struct emb *e, struct base_err *err)
{
    char ver[PATH_MAX];
    char bin[PATH_MAX];
    char log[PATH_MAX];
    struct stat st;
    const char *argv[] = {bin,  "-D",    e->data, "-U",   "postgres",
                          "-A", "trust", "-E",    "UTF8", "--locale=C.UTF-8",
                          NULL};

    snprintf(ver, sizeof(ver), "%s/PG_VERSION", e->data);
    if (stat(ver, &st) == 0)
        return BASE_OK;
    ENSURE(stat(e->data, &st) != 0, err, BASE_E_IO, "exception", "embedded.initdb",
           "database folder exists but holds no cluster (remove it or look at initdb.log)");
    snprintf(bin, sizeof(bin), "%s/initdb", e->bindir);
    snprintf(log, sizeof(log), "%s/initdb.log", e->dir);
    BASE_LOG(BASE_LOG_INFO, "db.embedded", "creating the private PostgreSQL cluster");
    ENSURE(run(e, argv, log) == 0, err, BASE_E_IO, "exception", "embedded.initdb",
           "initdb failed; see pg/initdb.log in the state folder");
    return append_conf(e, err);
}

static void
conninfo(const struct emb *e, const char *db, char *out, size_t cap)
{
    snprintf(out, cap, "host='%s' port=" EMBEDDED_PORT " dbname=%s user=postgres connect_timeout=5",
             e->dir, db);
}

static int
start(const struct emb *e, struct base_err *err)
{
    char bin[PATH_MAX];
    char log[PATH_MAX];
    char plog[PATH_MAX];
    char ci[PATH_MAX + 128];
    char t[16];
    const char *argv[] = {bin, "-D", e->data, "-l", log, "-w", "-t", t, "start", NULL};
    PGPing ping;

    conninfo(e, "postgres", ci, sizeof(ci));
    for (unsigned i = 0; i < e->timeout_s * 10; i++) {
        ping = PQping(ci);
        if (ping == PQPING_OK)
            return BASE_OK;
        if (ping != PQPING_REJECT)
            break;
        usleep(100000); /* starting up or shutting down */
    }
    snprintf(bin, sizeof(bin), "%s/pg_ctl", e->bindir);
    snprintf(log, sizeof(log), "%s/server.log", e->dir);
    snprintf(plog, sizeof(plog), "%s/pg_ctl.log", e->dir);
    snprintf(t, sizeof(t), "%u", e->timeout_s);
    BASE_LOG(BASE_LOG_INFO, "db.embedded", "starting the private PostgreSQL cluster");
    ENSURE(run(e, argv, plog) == 0 && PQping(ci) == PQPING_OK, err, BASE_E_IO, "exception",
           "embedded.start", "could not start PostgreSQL; see pg/server.log in the state folder");
    return BASE_OK;
}

static int
create_db(const struct emb *e, struct base_err *err)
{
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    char ci[PATH_MAX + 128];
    char sql[128];
    const char *vals[1] = {e->dbname};
    PGresult *res = NULL;
    int rc;

    conninfo(e, "postgres", ci, sizeof(ci));
    gw_db_config_defaults(&cfg);
    cfg.url = ci;
    TRY(gw_db_connect(&cfg, &c, err));
    rc = gw_db_exec(c, "embedded.db_exists", "SELECT 1 FROM pg_database WHERE datname = $1", 1,
                    vals, &res, err);
    if (rc == BASE_OK && PQntuples(res) == 0) {
        /* the name is checked by ident_ok(): DDL takes no parameters */
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s ENCODING 'UTF8'", e->dbname);
        rc = gw_db_exec(c, "embedded.create_db", sql, 0, NULL, NULL, err);
    }
    PQclear(res);
    gw_db_conn_free(c);
    return rc;
}

/* postgresql:///DB?host=DIR&port=P&user=U with DIR percent-encoded. */
static char *
make_url(struct base_arena *a, const struct emb *e, const char *user)
{
    struct base_buf b;
    char *s = NULL;
    int rc;

    base_buf_init(&b, 0);
    rc = base_buf_appendf(&b, "postgresql:///%s?host=", e->dbname);
    for (const char *p = e->dir; rc == BASE_OK && *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~')
            rc = base_buf_putc(&b, (char)c);
        else
            rc = base_buf_appendf(&b, "%%%02X", c);
    }
    if (rc == BASE_OK)
        rc = base_buf_appendf(&b, "&port=" EMBEDDED_PORT "&user=%s", user);
    if (rc == BASE_OK)
        s = base_buf_dup0(&b, a);
    base_buf_fini(&b);
    return s;
}

static int
lock_state(const struct emb *e, int *fd, struct base_err *err)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/pg.lock", e->state);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ENSURE(*fd >= 0, err, BASE_E_IO, "exception", "state_dir", "could not create pg.lock");
    while (flock(*fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(*fd);
            *fd = -1;
            return base_err_set(err, BASE_E_IO, "exception", "state_dir", "could not lock pg.lock");
        }
    }
    return BASE_OK;
}

int
gw_db_embedded_ensure(const char *state_dir, const struct gw_db_embedded_opts *opts,
                      struct base_arena *a, struct gw_db_embedded_urls *out, struct base_err *err)
{
    struct emb e;
    int fd = -1;
    int rc;

    memset(out, 0, sizeof(*out));
    TRY(prepare(state_dir, opts, &e, err));
    TRY(lock_state(&e, &fd, err));
    rc = ensure_user(&e, err);
    if (rc == BASE_OK)
        rc = initdb(&e, err);
    if (rc == BASE_OK)
        rc = start(&e, err);
    if (rc == BASE_OK)
        rc = create_db(&e, err);
    close(fd); /* releases the lock */
    TRY(rc);
    out->admin = make_url(a, &e, "postgres");
    out->service = make_url(a, &e, "fhirgate_app");
    ENSURE(out->admin != NULL && out->service != NULL, err, BASE_E_NOMEM, "exception", "embedded",
           "out of memory");
    return BASE_OK;
}

int
gw_db_embedded_stop(const char *state_dir, const struct gw_db_embedded_opts *opts,
                    struct base_err *err)
{
    struct emb e;
    char pid[PATH_MAX];
    char bin[PATH_MAX];
    char log[PATH_MAX];
    struct stat st;
    const char *argv[] = {bin, "-D", e.data, "-m", "fast", "-w", "-t", "60", "stop", NULL};
    int fd = -1;
    int rc = BASE_OK;

    TRY(prepare(state_dir, opts, &e, err));
    snprintf(pid, sizeof(pid), "%s/postmaster.pid", e.data);
    if (stat(pid, &st) != 0)
        return BASE_OK;
    TRY(lock_state(&e, &fd, err));
    snprintf(bin, sizeof(bin), "%s/pg_ctl", e.bindir);
    snprintf(log, sizeof(log), "%s/pg_ctl.log", e.dir);
    if (run(&e, argv, log) != 0 && stat(pid, &st) == 0)
        rc = base_err_set(err, BASE_E_IO, "exception", "embedded.stop",
                          "could not stop PostgreSQL; see pg/pg_ctl.log in the state folder");
    close(fd);
    return rc;
}
