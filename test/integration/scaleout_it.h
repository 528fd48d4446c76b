/*
 * test/integration/scaleout_it.h — the deployment suites' fixture (header only):
 * a region of light members made by deploy/region-gen.sh (one nginx, real HTTPS with
 * mutual TLS), gateway nodes (bin/fhirgate-gateway) sharing one private database, HAProxy
 * running the shipped deploy/haproxy/haproxy.cfg, a clinician and tokens.
 *
 * Clean-up: every process is started in its own process group with PR_SET_PDEATHSIG, so
 * it dies with the test process, and its group is written to a pid file that so_reap()
 * (an unchecked fixture's teardown, which runs in the runner even after a failed or
 * timed-out test) kills.  Nothing is left running whatever happens to the test.
 */
#ifndef TEST_INTEGRATION_SCALEOUT_IT_H
#define TEST_INTEGRATION_SCALEOUT_IT_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <jansson.h>

#include "test/support/pgtest.h"
#include "test/support/testutil.h"
#include "test/support/tu_fhircheck.h"
#include "test/support/tu_http.h"

#define SO_MAX_NODES 2
#define SO_PATH      768
#define SO_PW        "correct horse battery staple"

/* snprintf into an array, failing the test rather than truncating a path. */
#define SO_FMT(buf, ...)                                                                      \
    ck_assert_msg((size_t)snprintf((buf), sizeof(buf), __VA_ARGS__) < sizeof(buf),           \
                  "too long for %s", #buf)

struct so_node {
    char id[16];          /* gw-1, gw-2 */
    char conf[SO_PATH];   /* its configuration file */
    char log[SO_PATH];    /* its stderr */
    pid_t pid;            /* 0 while stopped */
    unsigned port;        /* fixed, so that HAProxy finds a restarted node */
    char base[64];        /* https://127.0.0.1:PORT */
};

struct so_region {
    char dir[SO_PATH];        /* the test's folder */
    char reg[SO_PATH];        /* region-gen output */
    char ca[SO_PATH];         /* region CA folder (deploy/ca.sh) */
    char ca_crt[SO_PATH];
    char srv_cert[SO_PATH];   /* the gateway nodes' server certificate */
    char srv_key[SO_PATH];
    char fed_cert[SO_PATH];   /* the gateway's client certificate (CN=gateway) */
    char fed_key[SO_PATH];
    char token_key[SO_PATH];  /* token signing key (EC P-256) */
    char audit_key[SO_PATH];  /* audit checkpoint key and its public half */
    char audit_pub[SO_PATH];
    char db[128];             /* database name in the test cluster */
    char *db_url;             /* its superuser URL (malloc) */
    char shared[96];          /* SYSTEM|VALUE of the person every member holds */
    size_t members;
    pid_t nginx;
    struct so_node node[SO_MAX_NODES];
    size_t n_nodes;
    pid_t lb;                 /* HAProxy */
    unsigned lb_port;
    char lb_sock[SO_PATH];
    char lb_log[SO_PATH];
    char lb_base[64];
};

/* ---------------------------------------------------------- processes -- */

static inline const char *
so_pid_file(void)
{
    static char p[SO_PATH];

    SO_FMT(p, "%s/deploy-suite.pids", pt_tmp());
    return p;
}

/* Unchecked fixture (runner process): forget, then kill, every group started. */
static inline void
so_reap(void)
{
    FILE *f = fopen(so_pid_file(), "r");
    long pid;

    if (f == NULL)
        return;
    while (fscanf(f, "%ld", &pid) == 1) {
        if (pid > 1) {
            kill((pid_t)-pid, SIGKILL);
            kill((pid_t)pid, SIGKILL);
        }
    }
    fclose(f);
    unlink(so_pid_file());
}

static inline void
so_reap_setup(void)
{
    so_reap();
}

static inline void
so_record(pid_t pid)
{
    FILE *f = fopen(so_pid_file(), "a");

    if (f != NULL) {
        fprintf(f, "%ld\n", (long)pid);
        fclose(f);
    }
}

/* Start argv[0] (a path or a name on PATH) in its own process group; stdout and
 * stderr to `log`, or stdout to a pipe returned in *out_fd.  The pid, or -1. */
static inline pid_t
so_spawn(const char *const argv[], const char *log, int *out_fd)
{
    pid_t parent = getpid();
    int p[2] = {-1, -1};
    pid_t pid;

    if (out_fd != NULL && pipe(p) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (out_fd != NULL) {
            dup2(p[1], 1);
            close(p[0]);
            close(p[1]);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (pid > 0) {
        setpgid(pid, pid);
        so_record(pid);
    }
    if (out_fd != NULL) {
        close(p[1]);
        *out_fd = pid > 0 ? p[0] : -1;
        if (pid <= 0)
            close(p[0]);
    }
    return pid;
}

/* Run a program to completion (a bare name is looked up on PATH); its exit status,
 * output in *out (malloc'd). */
static inline int
so_run(const char *const argv[], char **out)
{
    const char *v[32] = {"/usr/bin/env"};
    size_t n = 1;

    if (strchr(argv[0], '/') != NULL)
        return pt_run(argv, out);
    for (size_t i = 0; argv[i] != NULL && n + 1 < 32; i++)
        v[n++] = argv[i];
    v[n] = NULL;
    return pt_run(v, out);
}

/* Run and require exit 0, showing the output otherwise. */
static inline void
so_must(const char *const argv[])
{
    char *out = NULL;
    int st = so_run(argv, &out);

    ck_assert_msg(st == 0, "%s exited %d: %s", argv[0], st, out != NULL ? out : "");
    free(out);
}

static inline const char *
so_src(const char *rel)
{
    static _Thread_local char p[4][SO_PATH];
    static _Thread_local int k;
    const char *root = getenv("FHIRGATE_SRC");

    k = (k + 1) % 4;
    SO_FMT(p[k], "%s/%s", root != NULL ? root : ".", rel);
    return p[k];
}

/* A loopback port nothing listens on now (bound to 0, then closed). */
static inline unsigned
so_free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    unsigned port = 0;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static inline bool
so_port_listens(unsigned port)
{
    int fd = tu_tcp_connect(port);

    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static inline bool
so_alive(pid_t pid)
{
    return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

static inline void
so_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* ------------------------------------------------------------- region -- */

/* One nginx for every member, in the foreground; true when all members listen. */
static inline bool
so_nginx_start(struct so_region *r)
{
    char conf[SO_PATH + 16];
    char prefix[SO_PATH + 2];
    char err[SO_PATH + 24];
    char tsv[SO_PATH + 16];
    long long until = pt_now_ms() + 10000;

    SO_FMT(conf, "%s/nginx.conf", r->reg);
    SO_FMT(prefix, "%s/", r->reg);
    SO_FMT(err, "%s/nginx-error.log", r->reg);
    SO_FMT(tsv, "%s/members.tsv", r->reg);
    r->nginx = so_spawn((const char *[]){"nginx", "-p", prefix, "-c", conf, "-e", err, "-g",
                                         "daemon off;", NULL},
                        err, NULL);
    ck_assert_int_gt(r->nginx, 0);
    while (pt_now_ms() < until && so_alive(r->nginx)) {
        FILE *f = fopen(tsv, "r");
        char line[512];
        size_t up = 0;
        size_t all = 0;

        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
            char *tab = strrchr(line, '\t');

            all++;
            if (tab != NULL && so_port_listens((unsigned)strtoul(tab + 1, NULL, 10)))
                up++;
        }
        if (f != NULL)
            fclose(f);
        if (all > 0 && up == all)
            return true;
        usleep(50 * 1000);
    }
    if (r->nginx > 0) {
        kill(-r->nginx, SIGKILL);
        waitpid(r->nginx, NULL, 0);
    }
    r->nginx = 0;
    return false;
}

/* Generate the region (members, CA, certificates, keys) and start its members. */
static inline void
so_region_make(struct so_region *r, const char *name, size_t members)
{
    char n[16];
    char line[160];
    char path[SO_PATH + 32];
    char *text;
    bool up = false;

    memset(r, 0, sizeof(*r));
    r->members = members;
    SO_FMT(r->dir, "%s", tu_tmpdir(name));
    chmod(r->dir, 0755);
    SO_FMT(r->reg, "%s/region", r->dir);
    SO_FMT(r->ca, "%s/region/ca", r->dir);
    SO_FMT(n, "%zu", members);
    /* The port range is picked free; another process may take one before nginx binds
     * it, so a failed start generates again (certificates are kept: quick). */
    for (int attempt = 0; attempt < 3 && !up; attempt++) {
        so_must((const char *[]){so_src("deploy/region-gen.sh"), "gen", r->reg, "--members", n,
                                 NULL});
        up = so_nginx_start(r);
    }
    ck_assert_msg(up, "the light members did not start (see %s/nginx-error.log)", r->reg);
    SO_FMT(r->ca_crt, "%s/ca.crt", r->ca);
    SO_FMT(r->fed_cert, "%s/client/gateway.crt", r->ca);
    SO_FMT(r->fed_key, "%s/client/gateway.key", r->ca);
    ck_assert_int_eq(tu_ca((const char *[]){"server", r->ca, "gateway", NULL}, r->srv_cert,
                           sizeof(r->srv_cert), r->srv_key, sizeof(r->srv_key)),
                     0);
    SO_FMT(r->token_key, "%s/token-1.pem", r->dir);
    so_must((const char *[]){"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                             "ec_paramgen_curve:P-256", "-out", r->token_key, NULL});
    SO_FMT(r->audit_key, "%s/audit.pem", r->dir);
    SO_FMT(r->audit_pub, "%s/audit.pub", r->dir);
    so_must((const char *[]){tu_bin("fhirgate"), "audit", "keygen", "--out", r->audit_key,
                             "--public", r->audit_pub, NULL});
    SO_FMT(path, "%s/shared-patient", r->reg);
    text = tu_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    SO_FMT(line, "%s", text);
    line[strcspn(line, "\n")] = '\0';
    SO_FMT(r->shared, "%s", line);
    free(text);
    text = pt_create_db("deploy");
    ck_assert_ptr_nonnull(text);
    SO_FMT(r->db, "%s", text);
    free(text);
    r->db_url = pt_url(r->db, "postgres");
    ck_assert_ptr_nonnull(r->db_url);
    /* Every node has the same public URL (the balancer's), or a token issued by one node
     * would name an issuer the others refuse. */
    r->lb_port = so_free_port();
    setenv("SO_DB_URL", r->db_url, 1);
    /* One paging-cursor key for every node (docs/operations.md). */
    setenv("SO_CURSOR_KEY", "deploy-suite-cursor-key-0123456789", 1);
}

static inline void
so_region_free(struct so_region *r)
{
    free(r->db_url);
    r->db_url = NULL;
}

/* ------------------------------------------------------------- nodes -- */

struct so_node_opts {
    const char *signing_key;  /* NULL: r->token_key */
    const char *verify_keys;  /* "verify_key = …" lines, or NULL */
    const char *http_extra;   /* lines for [http], or NULL */
    const char *pull_interval;
};

/* Write node i's configuration (gw-<i+1>, fixed port). */
static inline void
so_node_conf(struct so_region *r, size_t i, const struct so_node_opts *o)
{
    struct so_node *nd = &r->node[i];
    char members[SO_PATH + 32];
    char *list;
    FILE *f;

    if (nd->port == 0) {
        char tmp[SO_PATH];

        SO_FMT(nd->id, "gw-%zu", i + 1);
        nd->port = so_free_port();
        SO_FMT(nd->base, "https://127.0.0.1:%u", nd->port);
        /* Through a local copy: GCC cannot tell r->dir and r->node[i] apart. */
        SO_FMT(tmp, "%s/gw-%zu.conf", r->dir, i + 1);
        memcpy(nd->conf, tmp, sizeof(tmp));
        SO_FMT(tmp, "%s/gw-%zu.log", r->dir, i + 1);
        memcpy(nd->log, tmp, sizeof(tmp));
    }
    if (i + 1 > r->n_nodes)
        r->n_nodes = i + 1;
    SO_FMT(members, "%s/gateway-members.conf", r->reg);
    list = tu_read_file(members, NULL);
    ck_assert_ptr_nonnull(list);
    f = fopen(nd->conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "[node]\nid = %s\npublic_url = https://127.0.0.1:%u\nstate_dir = %s/state-%s\n"
            "log_level = warn\nshutdown_grace = 3s\n"
            "[http]\nlisten = 127.0.0.1:%u\ncert = %s\nkey = %s\nclient_ca = %s\n"
            "client_crl = %s/crl.pem\nclient_auth = optional\nmax_body = 64K\nthreads = 2\n"
            "max_connections_per_ip = 0\n%s"
            "[database]\nurl = env:SO_DB_URL\npool_size = 8\nmigrate = auto\n"
            "[audit]\nsigning_key = %s\nwriters = 2\nappend_timeout = 3s\n"
            "[auth]\nsigning_key = %s\n%spassword_grant = true\n"
            "[registry]\nprobe_interval = 2s\nprobe_timeout = 1s\nauto_approve = false\n"
            "[mpi]\npull_interval = %s\n"
            "[federation]\nca = %s\nclient_cert = %s\nclient_key = %s\ndeadline = 5s\n"
            "cursor_key = env:SO_CURSOR_KEY\npage_max = 500\n%s",
            nd->id, r->lb_port, r->dir, nd->id, nd->port,
            r->srv_cert, r->srv_key, r->ca_crt, r->ca,
            o != NULL && o->http_extra != NULL ? o->http_extra : "", r->audit_key,
            o != NULL && o->signing_key != NULL ? o->signing_key : r->token_key,
            o != NULL && o->verify_keys != NULL ? o->verify_keys : "",
            o != NULL && o->pull_interval != NULL ? o->pull_interval : "300ms", r->ca_crt,
            r->fed_cert, r->fed_key, list);
    fclose(f);
    free(list);
}

/* Start node i and wait for its "ready: port=N" line (60 s). */
static inline void
so_node_start(struct so_region *r, size_t i)
{
    struct so_node *nd = &r->node[i];
    char buf[128] = "";
    size_t got = 0;
    long long until = pt_now_ms() + 60000;
    unsigned port = 0;
    int fd = -1;

    nd->pid = so_spawn((const char *[]){tu_bin("fhirgate-gateway"), "--config", nd->conf, NULL},
                       nd->log, &fd);
    ck_assert_int_gt(nd->pid, 0);
    while (pt_now_ms() < until && got + 1 < sizeof(buf) && strchr(buf, '\n') == NULL) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, 200) <= 0)
            continue;
        n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
    }
    close(fd);
    buf[got] = '\0';
    ck_assert_msg(sscanf(buf, "ready: port=%u", &port) == 1 && port == nd->port,
                  "%s did not start (see %s)", nd->id, nd->log);
}

/* Send `sig` and reap; true when it had been running. */
static inline bool
so_node_stop(struct so_region *r, size_t i, int sig)
{
    struct so_node *nd = &r->node[i];

    if (nd->pid <= 0)
        return false;
    kill(nd->pid, sig);
    waitpid(nd->pid, NULL, 0);
    nd->pid = 0;
    return true;
}

/* ------------------------------------------------------------ HAProxy -- */

/* One "show stat" field (0-based column) of backend server `srv`; "" when unknown. */
static inline void
so_lb_field(const struct so_region *r, const char *srv, int col, char *out, size_t cap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    static char buf[65536];
    size_t got = 0;
    char key[64];
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    out[0] = '\0';
    SO_FMT(sa.sun_path, "%s", r->lb_sock);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        write(fd, "show stat\n", 10) != 10) {
        if (fd >= 0)
            close(fd);
        return;
    }
    for (ssize_t n; got + 1 < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0;)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    SO_FMT(key, "\nfhirgate_gateways,%s,", srv);
    char *p = strstr(buf, key);

    if (p == NULL)
        return;
    p++;
    for (int c = 0; c < col && p != NULL; c++) {
        p = strchr(p, ',');
        p = p != NULL ? p + 1 : NULL;
    }
    if (p != NULL)
        (void)!snprintf(out, cap, "%.*s", (int)strcspn(p, ",\n"), p);
}

/* Wait until HAProxy reports server `srv` with a status starting with `want`. */
static inline bool
so_lb_wait(const struct so_region *r, const char *srv, const char *want, long ms)
{
    long long until = pt_now_ms() + ms;
    char st[32];

    while (pt_now_ms() < until && so_alive(r->lb)) {
        so_lb_field(r, srv, 17, st, sizeof(st)); /* column 17: status */
        if (strncmp(st, want, strlen(want)) == 0)
            return true;
        usleep(50 * 1000);
    }
    return false;
}

/* HAProxy with the shipped configuration in front of nodes 0 and 1. */
static inline void
so_lb_start(struct so_region *r)
{
    char v[64];
    bool up = false;

    SO_FMT(r->lb_sock, "%s/lb.sock", r->dir);
    SO_FMT(r->lb_log, "%s/haproxy.log", r->dir);
    SO_FMT(v, "127.0.0.1:%u", r->node[0].port);
    setenv("FHIRGATE_GW1", v, 1);
    SO_FMT(v, "127.0.0.1:%u", r->node[1].port);
    setenv("FHIRGATE_GW2", v, 1);
    setenv("FHIRGATE_LB_CA", r->ca_crt, 1);
    setenv("FHIRGATE_LB_STATS", r->lb_sock, 1);
    setenv("FHIRGATE_LB_INTER", "250ms", 1);
    setenv("FHIRGATE_LB_LOG", "stderr", 1);
    setenv("FHIRGATE_LB_LOG_FORMAT", "short", 1);
    setenv("FHIRGATE_LB_MAXCONN", "2000", 1);
    for (int attempt = 0; attempt < 5 && !up; attempt++) {
        if (attempt > 0)
            r->lb_port = so_free_port();
        SO_FMT(v, "127.0.0.1:%u", r->lb_port);
        setenv("FHIRGATE_LB_BIND", v, 1);
        r->lb = so_spawn((const char *[]){"haproxy", "-f", so_src("deploy/haproxy/haproxy.cfg"),
                                          "-db", NULL},
                         r->lb_log, NULL);
        ck_assert_int_gt(r->lb, 0);
        up = so_lb_wait(r, "gw1", "UP", 10000) && so_lb_wait(r, "gw2", "UP", 10000);
        if (!up && !so_alive(r->lb))
            continue; /* the port was taken: another one */
        ck_assert_msg(up, "HAProxy does not see both nodes up (see %s)", r->lb_log);
    }
    ck_assert_msg(up, "HAProxy did not start (see %s)", r->lb_log);
    SO_FMT(r->lb_base, "https://127.0.0.1:%u", r->lb_port);
}

/* --------------------------------------------------- users and tokens -- */

/* A clinician of member m001, through the real CLI. */
static inline void
so_user(const struct so_region *r, const char *name)
{
    char pwfile[SO_PATH + 16];

    SO_FMT(pwfile, "%s/pw.txt", r->dir);
    so_write(pwfile, SO_PW "\n");
    so_must((const char *[]){tu_bin("fhirgate"), "user", "add", name, "--role", "clinician",
                             "--organization", "m001", "--password-file", pwfile, "--database",
                             r->db_url, NULL});
}

struct so_resp {
    long status;
    json_t *json;
    char id[40]; /* X-Request-Id */
    char *body;
};

static inline void
so_resp_free(struct so_resp *s)
{
    json_decref(s->json);
    free(s->body);
    memset(s, 0, sizeof(*s));
}

/* One request (a fresh connection) to `base`. */
static inline struct so_resp
so_req(const struct so_region *r, const char *base, const char *method, const char *path,
       const char *token, const char *form)
{
    struct tu_http_opts o = {0};
    struct tu_http_resp t = {0};
    struct so_resp s = {0};
    char auth[4096];
    char url[4096];
    const char *h[3] = {NULL, NULL, NULL};
    size_t n = 0;

    if (token != NULL) {
        SO_FMT(auth, "Authorization: Bearer %s", token);
        h[n++] = auth;
    }
    if (form != NULL)
        h[n++] = "Content-Type: application/x-www-form-urlencoded";
    o.method = method;
    o.body = form;
    o.body_len = form != NULL ? strlen(form) : 0;
    o.headers = h;
    o.ca_file = r->ca_crt;
    o.timeout_ms = 30000;
    SO_FMT(url, "%s%s", base, path);
    (void)tu_http_request(url, &o, &t);
    tu_assert_fhir_answer(url, &t);
    s.status = t.status;
    (void)tu_http_header(&t, "X-Request-Id", s.id, sizeof(s.id));
    if (t.body != NULL)
        s.json = json_loads(t.body, 0, NULL);
    s.body = t.body;
    t.body = NULL;
    tu_http_resp_free(&t);
    return s;
}

/* Sign in through `base` (password grant); the token (malloc) or NULL. */
static inline char *
so_token(const struct so_region *r, const char *base, const char *name)
{
    char form[256];
    struct so_resp s;
    char *tok = NULL;

    SO_FMT(form,
             "grant_type=password&username=%s&password=correct+horse+battery+staple"
             "&client_id=portal",
             name);
    s = so_req(r, base, "POST", "/auth/token", NULL, form);
    if (s.status == 200 && s.json != NULL)
        tok = strdup(json_string_value(json_object_get(s.json, "access_token")));
    so_resp_free(&s);
    return tok;
}

/* ------------------------------------------------------------- checks -- */

/* The regional id of the shared person once `links` member records are linked to it
 * (the identity pull runs every 300 ms; waits up to `ms`); malloc'd or NULL. */
static inline char *
so_person(const struct so_region *r, size_t links, long ms)
{
    const char *resid = strchr(r->shared, '|') + 1;
    char sql[512];
    long long until = pt_now_ms() + ms;
    char *out = NULL;

    SO_FMT(sql,
             "SELECT p.public_id FROM mpi.person p JOIN mpi.record r ON r.person_id = p.id "
             "WHERE r.resident_id = '%s' GROUP BY p.public_id HAVING count(*) >= %zu",
             resid, links);
    while (pt_now_ms() < until) {
        if (pt_sql(r->db, sql, &out) > 0 && out != NULL && out[0] != '\0')
            return out;
        free(out);
        out = NULL;
        usleep(200 * 1000);
    }
    return NULL;
}

/* Entries of a Bundle whose search.mode is `mode`. */
static inline size_t
so_entries(const json_t *bundle, const char *mode)
{
    size_t n = 0;
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e) {
        const char *m = json_string_value(json_object_get(json_object_get(e, "search"), "mode"));

        if (m != NULL && strcmp(m, mode) == 0)
            n++;
    }
    return n;
}

/* The member codes tagged on match entries, counted per member into `seen` (indexed
 * by the member number of mNNN, 1…999); returns how many distinct members. */
static inline size_t
so_members_seen(const json_t *bundle, unsigned *seen, size_t cap)
{
    size_t distinct = 0;
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e) {
        json_t *tags = json_object_get(
            json_object_get(json_object_get(e, "resource"), "meta"), "tag");
        size_t k;
        json_t *t;

        json_array_foreach(tags, k, t) {
            const char *sys = json_string_value(json_object_get(t, "system"));
            const char *code = json_string_value(json_object_get(t, "code"));
            unsigned long m;

            if (sys == NULL || code == NULL || strcmp(sys, "urn:fhirgate:member") != 0 ||
                code[0] != 'm')
                continue;
            m = strtoul(code + 1, NULL, 10);
            if (m >= cap)
                continue;
            if (seen[m]++ == 0)
                distinct++;
        }
    }
    return distinct;
}

/* `fhirgate audit verify` with the checkpoint key: its exit status; output in *out. */
static inline int
so_audit_verify(const struct so_region *r, char **out)
{
    return so_run((const char *[]){tu_bin("fhirgate"), "audit", "verify", "--database",
                                   r->db_url, "--key", r->audit_pub, NULL},
                  out);
}

#endif /* TEST_INTEGRATION_SCALEOUT_IT_H */
