/*
 * `make demo` end to end (issue #8): deploy/demo/run.sh from a clean state
 * folder on free ports, to its `ready:` line; the printed lines parsed as a
 * user or a script would; a clinician signs in with the printed credentials
 * and asks the gateway (HTTPS, verified against the region CA the demo
 * documents) for the printed shared patient's record, which must hold
 * entries from all three members, with its AuditEvent committed (read back
 * by the printed regulator); the printed database URL, PACS and a member
 * facade (with the documented script certificate) answer.  Then SIGTERM:
 * every process the demo started is gone and the state stays; a second
 * start reuses it and is ready sooner.  And a busy port is refused by name.
 *
 * Processes are found by the state folder on their command line (every one
 * the demo starts names it); the unchecked fixture kills any left behind,
 * also after a failed or timed-out test.
 */
#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "test/support/pgtest.h"
#include "test/support/testutil.h"
#include "test/support/tu_fhircheck.h"
#include "test/support/tu_http.h"

#define DEMO_PATH     768
#define DEMO_MAX_OUT  (64u << 10)
#define READY_FIRST_S 240
#define READY_AGAIN_S 120

#define FMT(buf, ...)                                                                              \
    ck_assert_msg((size_t)snprintf((buf), sizeof(buf), __VA_ARGS__) < sizeof(buf),                 \
                  "too long for %s", #buf)

/* The state folder of the running test (each test its own, fresh). */
static char g_state[DEMO_PATH];

static const char *
state_dir(void)
{
    return g_state;
}

static void
use_state(const char *name)
{
    mkdir(tu_tmpdir("demo"), 0755);
    chmod(tu_tmpdir("demo"), 0755); /* PostgreSQL runs as another user when we are root */
    FMT(g_state, "%s/%s", tu_tmpdir("demo"), name);
}

/* Pids of processes whose command line names the state folder (not us). */
static size_t
demo_pids(pid_t *out, size_t cap)
{
    char want[DEMO_PATH + 2];
    DIR *d = opendir("/proc");
    struct dirent *e;
    size_t n = 0;

    /* every state folder of the suite */
    (void)snprintf(want, sizeof(want), "%s/", tu_tmpdir("demo"));
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[64];
        char cmd[8192];
        ssize_t len;
        int fd;
        long pid = strtol(e->d_name, NULL, 10);

        if (pid <= 1 || pid == getpid() || !isdigit((unsigned char)e->d_name[0]))
            continue;
        (void)snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
        fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        len = read(fd, cmd, sizeof(cmd) - 1);
        close(fd);
        if (len <= 0)
            continue;
        for (ssize_t i = 0; i < len; i++)
            cmd[i] = cmd[i] == '\0' ? ' ' : cmd[i];
        cmd[len] = '\0';
        if (strstr(cmd, want) != NULL && n < cap)
            out[n++] = (pid_t)pid;
    }
    if (d != NULL)
        closedir(d);
    return n;
}

/* Unchecked fixture: nothing of the demo survives the suite. */
static void
demo_reap(void)
{
    pid_t pids[256];
    size_t n = demo_pids(pids, 256);

    for (size_t i = 0; i < n; i++)
        kill(pids[i], SIGKILL);
}

struct demo_run {
    pid_t pid;
    int out;                 /* its stdout (a pipe; kept open until it exits) */
    char text[DEMO_MAX_OUT]; /* what it printed so far */
    size_t len;
    long long ms; /* start to `ready:` */
};

struct demo_env {
    unsigned gw_port;
    unsigned base;
};

static unsigned
free_ports(unsigned n)
{
    char count[16];
    char *out = NULL;
    char script[DEMO_PATH];
    unsigned port = 0;

    FMT(count, "%u", n);
    FMT(script, "%s/deploy/free-port.sh", getenv("FHIRGATE_SRC"));
    ck_assert_int_eq(pt_run((const char *[]){script, count, NULL}, &out), 0);
    port = (unsigned)strtoul(out, NULL, 10);
    free(out);
    ck_assert_uint_gt(port, 1024);
    return port;
}

/* Start run.sh in its own process group, stdout to a pipe, stderr to a log. */
static void
demo_start(struct demo_run *r, const struct demo_env *env)
{
    char script[DEMO_PATH];
    char portal[DEMO_PATH];
    char log[DEMO_PATH];
    char gw[16];
    char base[16];
    int p[2];

    memset(r, 0, sizeof(*r));
    FMT(script, "%s/deploy/demo/run.sh", getenv("FHIRGATE_SRC"));
    FMT(portal, "%s/build/portal", getenv("FHIRGATE_SRC"));
    FMT(log, "%s/run.stderr", tu_tmpdir("demo"));
    FMT(gw, "%u", env->gw_port);
    FMT(base, "%u", env->base);
    ck_assert_int_eq(pipe(p), 0);
    r->ms = pt_now_ms();
    r->pid = fork();
    ck_assert_int_ge(r->pid, 0);
    if (r->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

        setpgid(0, 0);
        dup2(p[1], 1);
        if (fd >= 0)
            dup2(fd, 2);
        close(p[0]);
        close(p[1]);
        setenv("FHIRGATE_DEMO_STATE", state_dir(), 1);
        setenv("FHIRGATE_DEMO_PORT", gw, 1);
        setenv("FHIRGATE_DEMO_PORT_BASE", base, 1);
        if (getenv("FHIRGATE_BIN") != NULL)
            setenv("FHIRGATE_DEMO_BIN", getenv("FHIRGATE_BIN"), 1);
        setenv("FHIRGATE_DEMO_PORTAL", portal, 1);
        setenv("FHIRGATE_DEMO_TIMEOUT", "200", 1);
        setenv("FHIRGATE_DEMO_INTERVAL", "2s", 1);
        execl("/bin/bash", "bash", script, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    r->out = p[0];
}

/* Read what it prints until the `ready:` line; false on exit or timeout. */
static bool
demo_wait_ready(struct demo_run *r, int seconds)
{
    long long until = pt_now_ms() + seconds * 1000LL;

    while (pt_now_ms() < until) {
        struct pollfd pf = {.fd = r->out, .events = POLLIN};
        ssize_t n;

        if (poll(&pf, 1, 500) <= 0)
            continue;
        n = read(r->out, r->text + r->len, sizeof(r->text) - 1 - r->len);
        if (n <= 0)
            return false;
        r->len += (size_t)n;
        r->text[r->len] = '\0';
        char *ready = strstr(r->text, "\nready: ");

        if (ready != NULL && strchr(ready + 1, '\n') != NULL) {
            r->ms = pt_now_ms() - r->ms;
            return true;
        }
    }
    return false;
}

/* SIGTERM and wait (60 s); its exit status (-1 if it had to be killed). */
static int
demo_stop(struct demo_run *r)
{
    long long until = pt_now_ms() + 60000;
    int st = 0;

    kill(r->pid, SIGTERM);
    while (pt_now_ms() < until) {
        if (waitpid(r->pid, &st, WNOHANG) == r->pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(100 * 1000);
    }
    kill(-r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    return -1;
}

/* ----------------------------------------------------- printed lines -- */

struct demo_lines {
    char gateway[128];  /* service gateway: https://…/fhir */
    char database[256]; /* service database: postgresql://… */
    char pacs[128];
    char hosp_a_fhir[128];
    size_t services;
    char clin_name[64], clin_pw[128];
    char reg_name[64], reg_pw[128];
    bool has_admin, has_patient;
    char shared[128]; /* SYSTEM|VALUE */
    char ready[128];
};

/* The block from the first `service ` line on: services, then users, then
 * the shared patient, then `ready:` last; nothing else in between. */
static void
parse_lines(const char *text, struct demo_lines *l)
{
    const char *p = strstr(text, "service ");
    int stage = 0; /* 0 services, 1 users, 2 patient, 3 ready */

    memset(l, 0, sizeof(*l));
    ck_assert_msg(p != NULL && (p == text || p[-1] == '\n'), "no service line:\n%s", text);
    while (*p != '\0') {
        char line[512];
        size_t n = strcspn(p, "\n");
        char a[64];
        char b[256];
        char c[128];

        ck_assert_uint_lt(n, sizeof(line));
        memcpy(line, p, n);
        line[n] = '\0';
        p += n + (p[n] == '\n');
        if (strncmp(line, "service ", 8) == 0) {
            ck_assert_msg(stage == 0, "service line after the users: %s", line);
            ck_assert_msg(sscanf(line, "service %63[^:]: %255s", a, b) == 2, "bad: %s", line);
            l->services++;
            if (strcmp(a, "gateway") == 0)
                FMT(l->gateway, "%s", b);
            else if (strcmp(a, "database") == 0)
                FMT(l->database, "%s", b);
            else if (strcmp(a, "pacs") == 0)
                FMT(l->pacs, "%s", b);
            else if (strcmp(a, "hosp-a-fhir") == 0)
                FMT(l->hosp_a_fhir, "%s", b);
        } else if (strncmp(line, "user ", 5) == 0) {
            ck_assert_msg(stage <= 1, "user line out of order: %s", line);
            stage = 1;
            ck_assert_msg(sscanf(line, "user %63[^:]: %255s %127s", a, b, c) == 3, "bad: %s", line);
            if (strcmp(a, "clinician") == 0 && l->clin_name[0] == '\0') {
                FMT(l->clin_name, "%s", b);
                FMT(l->clin_pw, "%s", c);
            } else if (strcmp(a, "regulator") == 0) {
                FMT(l->reg_name, "%s", b);
                FMT(l->reg_pw, "%s", c);
            }
            l->has_admin |= strcmp(a, "admin") == 0;
            l->has_patient |= strcmp(a, "patient") == 0;
        } else if (strncmp(line, "patient shared: ", 16) == 0) {
            ck_assert_msg(stage == 1, "patient line out of order");
            stage = 2;
            FMT(l->shared, "%s", line + 16);
        } else if (strncmp(line, "ready: ", 7) == 0) {
            ck_assert_msg(stage == 2, "ready before the patient line");
            stage = 3;
            FMT(l->ready, "%s", line + 7);
            break;
        } else {
            ck_abort_msg("unexpected line inside the ready block: %s", line);
        }
    }
    ck_assert_int_eq(stage, 3);
    ck_assert_msg(l->services >= 9, "only %zu service lines", l->services);
    ck_assert_msg(strncmp(l->gateway, "https://127.0.0.1:", 18) == 0, "gateway %s", l->gateway);
    ck_assert_msg(strncmp(l->database, "postgresql://", 13) == 0, "database %s", l->database);
    ck_assert(l->pacs[0] != '\0' && l->hosp_a_fhir[0] != '\0');
    ck_assert(l->clin_name[0] != '\0' && l->reg_name[0] != '\0');
    ck_assert(l->has_admin && l->has_patient);
    ck_assert_msg(strncmp(l->shared, "urn:oid:2.16.156.10011.1.3|", 27) == 0, "%s", l->shared);
}

/* ------------------------------------------------------------ HTTPS -- */

static const char *
state_file(const char *name)
{
    static _Thread_local char p[4][DEMO_PATH + 64];
    static _Thread_local int k;

    k = (k + 1) % 4;
    if ((size_t)snprintf(p[k], sizeof(p[k]), "%s/%s", state_dir(), name) >= sizeof(p[k]))
        ck_abort_msg("path too long");
    return p[k];
}

/* GET or POST (form) `url` verified against the demo's region CA. */
static long
https(const char *url, const char *token, const char *form, json_t **out, char *req_id, size_t cap)
{
    struct tu_http_opts o = {0};
    struct tu_http_resp t = {0};
    char auth[4096];
    const char *h[3] = {NULL, NULL, NULL};
    size_t n = 0;
    long status;

    if (token != NULL) {
        FMT(auth, "Authorization: Bearer %s", token);
        h[n++] = auth;
    }
    if (form != NULL) {
        h[n++] = "Content-Type: application/x-www-form-urlencoded";
        o.body = form;
        o.body_len = strlen(form);
        o.method = "POST";
    }
    o.headers = h;
    o.ca_file = state_file("region-ca.crt");
    o.timeout_ms = 30000;
    (void)tu_http_request(url, &o, &t);
    tu_assert_fhir_answer(url, &t);
    status = t.status;
    if (req_id != NULL)
        (void)tu_http_header(&t, "X-Request-Id", req_id, cap);
    if (out != NULL)
        *out = t.body != NULL ? json_loads(t.body, 0, NULL) : NULL;
    tu_http_resp_free(&t);
    return status;
}

/* "https://127.0.0.1:P/fhir" → "https://127.0.0.1:P" */
static void
origin_of(const char *fhir_base, char *out, size_t cap)
{
    size_t n = strlen(fhir_base);

    ck_assert(n > 5 && strcmp(fhir_base + n - 5, "/fhir") == 0);
    ck_assert_uint_lt(n - 5, cap);
    memcpy(out, fhir_base, n - 5);
    out[n - 5] = '\0';
}

static char *
sign_in(const char *origin, const char *user, const char *pw)
{
    char url[256];
    char form[512];
    json_t *j = NULL;
    char *tok = NULL;
    long st;

    FMT(url, "%s/auth/token", origin);
    FMT(form, "grant_type=password&username=%s&password=%s&client_id=portal", user, pw);
    st = https(url, NULL, form, &j, NULL, 0);
    ck_assert_msg(st == 200, "sign-in of %s: %ld", user, st);
    tok = strdup(json_string_value(json_object_get(j, "access_token")));
    json_decref(j);
    return tok;
}

/* The regional id of the shared patient (PDQm by the printed identifier). */
static char *
shared_person(const struct demo_lines *l, const char *tok)
{
    char url[512];
    char ident[160];
    json_t *b = NULL;
    char *id;
    const char *bar = strchr(l->shared, '|');

    FMT(ident, "%.*s%%7C%s", (int)(bar - l->shared), l->shared, bar + 1);
    FMT(url, "%s/Patient?identifier=%s", l->gateway, ident);
    ck_assert_int_eq(https(url, tok, NULL, &b, NULL, 0), 200);
    ck_assert_int_eq(json_array_size(json_object_get(b, "entry")), 1);
    id = strdup(json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(b, "entry"), 0), "resource"), "id")));
    json_decref(b);
    return id;
}

/* How many of hosp-a, hosp-b, img-c tag the match entries of `b`. */
static int
members_in(const json_t *b, size_t *entries)
{
    const char *want[3] = {"hosp-a", "hosp-b", "img-c"};
    bool seen[3] = {false, false, false};
    size_t i;
    json_t *e;

    *entries = 0;
    json_array_foreach(json_object_get(b, "entry"), i, e)
    {
        const char *mode = json_string_value(json_object_get(json_object_get(e, "search"), "mode"));
        json_t *tags =
            json_object_get(json_object_get(json_object_get(e, "resource"), "meta"), "tag");
        size_t k;
        json_t *t;

        if (mode == NULL || strcmp(mode, "outcome") == 0)
            continue;
        (*entries)++;
        json_array_foreach(tags, k, t)
        {
            const char *sys = json_string_value(json_object_get(t, "system"));
            const char *code = json_string_value(json_object_get(t, "code"));

            for (int m = 0; m < 3 && sys != NULL && code != NULL; m++)
                seen[m] |= strcmp(sys, "urn:fhirgate:member") == 0 && strcmp(code, want[m]) == 0;
        }
    }
    return seen[0] + seen[1] + seen[2];
}

/* Does any entry of `b` carry the v3-ActCode security label `code`? */
static bool
any_labelled(const json_t *b, const char *code)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(b, "entry"), i, e)
    {
        json_t *sec =
            json_object_get(json_object_get(json_object_get(e, "resource"), "meta"), "security");
        size_t k;
        json_t *c;

        json_array_foreach(sec, k, c)
        {
            const char *v = json_string_value(json_object_get(c, "code"));

            if (v != NULL && strcmp(v, code) == 0)
                return true;
        }
    }
    return false;
}

static bool
exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* No sanitizer report in the programs' logs (an ASan build of the region). */
static void
assert_logs_clean(void)
{
    const char *logs[] = {"gateway", "hosp-a", "hosp-b", "img-c", "feed"};

    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        char name[64];
        char *text;

        FMT(name, "logs/%s.log", logs[i]);
        text = tu_read_file(state_file(name), NULL);
        ck_assert_msg(text != NULL, "no %s", name);
        ck_assert_msg(strstr(text, "Sanitizer") == NULL && strstr(text, "runtime error:") == NULL,
                      "a sanitizer report in %s", state_file(name));
        free(text);
    }
}

/* Where a restart spent its time: both runs' progress lines and the end of
 * every process log (the state folder does not outlive the test). */
static void
print_slow_restart(const char *first, const struct demo_run *r)
{
    const char *logs[] = {"gateway", "hosp-a", "hosp-b", "img-c", "feed", "orthanc", "setup"};

    fprintf(stderr, "demo: first start printed:\n%s\ndemo: restart printed:\n%s\n",
            first != NULL ? first : "?", r->text);
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        char name[64];
        size_t len = 0;
        char *text;

        FMT(name, "logs/%s.log", logs[i]);
        text = tu_read_file(state_file(name), &len);
        if (text == NULL)
            continue;
        fprintf(stderr, "---- end of %s:\n%s\n", name, len > 3000 ? text + len - 3000 : text);
        free(text);
    }
}

/* Everything stopped, each program with status 0 (run.sh names any other);
 * no process names the state folder; a SIGTERMed run exits 143. */
static void
assert_all_gone(struct demo_run *r)
{
    pid_t pids[64];
    size_t n;
    size_t before = r->len;

    ck_assert_int_eq(demo_stop(r), 143);
    /* the rest of what it printed (bounded: a leftover holding the pipe must
     * not hang the test — it is caught below) */
    for (long long until = pt_now_ms() + 5000; pt_now_ms() < until;) {
        struct pollfd pf = {.fd = r->out, .events = POLLIN};
        ssize_t k;

        if (poll(&pf, 1, 200) <= 0)
            continue;
        k = read(r->out, r->text + r->len, sizeof(r->text) - 1 - r->len);
        if (k <= 0)
            break;
        r->len += (size_t)k;
    }
    r->text[r->len] = '\0';
    close(r->out);
    ck_assert_msg(strstr(r->text + before, "ended with status") == NULL, "unclean stop:\n%s",
                  r->text + before);
    assert_logs_clean();
    n = demo_pids(pids, 64);
    ck_assert_msg(n == 0, "%zu processes of the demo left running (first: pid %ld)", n,
                  n > 0 ? (long)pids[0] : 0L);
}

/* Include entries of `type` in a searchset: each after every match, each
 * tagged with the member it came from (-1 when one is not). */
static int
included(const json_t *b, const char *type)
{
    json_t *entries = json_object_get(b, "entry");
    size_t last_match = 0;
    size_t i;
    json_t *e;
    int n = 0;

    json_array_foreach(entries, i, e)
    {
        const char *mode = json_string_value(json_object_get(json_object_get(e, "search"), "mode"));

        if (mode != NULL && strcmp(mode, "match") == 0)
            last_match = i;
    }
    json_array_foreach(entries, i, e)
    {
        const char *mode = json_string_value(json_object_get(json_object_get(e, "search"), "mode"));
        json_t *res = json_object_get(e, "resource");

        if (mode == NULL || strcmp(mode, "include") != 0)
            continue;
        if (i < last_match || json_object_get(json_object_get(res, "meta"), "source") == NULL)
            return -1;
        n += strcmp(json_string_value(json_object_get(res, "resourceType")), type) == 0;
    }
    return n;
}

START_TEST(demo_starts_answers_for_all_members_stops_and_restarts)
{
    struct demo_env env;
    static struct demo_run r;
    struct demo_lines l;
    char origin[128];
    char url[512];
    char rid[64] = "";
    char *tok;
    char *person;
    json_t *b = NULL;
    size_t entries = 0;
    char *out = NULL;
    long long first_ms;
    char *first_text;

    ck_assert_msg(exists("/usr/sbin/Orthanc"), "Orthanc is not installed (deploy/install-deps.sh)");
    use_state("state");
    env.gw_port = free_ports(1);
    env.base = free_ports(8);

    /* First start: everything is made. */
    demo_start(&r, &env);
    ck_assert_msg(demo_wait_ready(&r, READY_FIRST_S),
                  "no ready: line; it printed:\n%s\n(logs in %s/logs)", r.text, state_dir());
    first_ms = r.ms;
    first_text = strdup(r.text);
    fprintf(stderr, "demo: first start ready in %lld ms\n", first_ms);
    parse_lines(r.text, &l);
    origin_of(l.gateway, origin, sizeof(origin));
    FMT(url, "%s/", origin);
    ck_assert_str_eq(l.ready, url);

    /* OpenID Connect Discovery 1.0 §3: RS256 MUST be among the id_token
     * algorithms; apps built on OIDC libraries verify nothing else. */
    FMT(url, "%s/.well-known/openid-configuration", origin);
    ck_assert_int_eq(https(url, NULL, NULL, &b, NULL, 0), 200);
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(b, "id_token_signing_alg_values_supported"), 0)),
                     "RS256");
    json_decref(b);

    /* A clinician's view of the shared patient: all three members. */
    tok = sign_in(origin, l.clin_name, l.clin_pw);
    person = shared_person(&l, tok);
    FMT(url, "%s/Patient/%s/$everything?_count=500", l.gateway, person);
    ck_assert_int_eq(https(url, tok, NULL, &b, rid, sizeof(rid)), 200);
    ck_assert_msg(members_in(b, &entries) == 3, "entries from %d members only",
                  members_in(b, &entries));
    ck_assert_uint_gt(entries, 10);
    /* The shared patient's consent withholds mental-health data (PSY). */
    ck_assert_msg(!any_labelled(b, "PSY"), "a PSY-labelled entry was shared against consent");
    json_decref(b);
    FMT(url, "%s/Observation?patient=%s&_count=200", l.gateway, person);
    ck_assert_int_eq(https(url, tok, NULL, &b, NULL, 0), 200);
    ck_assert_int_ge(members_in(b, &entries), 2); /* hosp-a's HL7 and hosp-b's CDA results */
    json_decref(b);
    /* _include through real adapters: each hospital's own Patient record,
     * and a report's results, after the matches */
    FMT(url, "%s/Observation?patient=%s&_include=Observation:patient&_count=200", l.gateway,
        person);
    ck_assert_int_eq(https(url, tok, NULL, &b, NULL, 0), 200);
    ck_assert_int_ge(included(b, "Patient"), 2);
    json_decref(b);
    FMT(url, "%s/DiagnosticReport?patient=%s&_include=DiagnosticReport:result&_count=50", l.gateway,
        person);
    ck_assert_int_eq(https(url, tok, NULL, &b, NULL, 0), 200);
    ck_assert_int_gt(included(b, "Observation"), 0);
    json_decref(b);
    free(tok);

    /* Its AuditEvent, read by the printed regulator. */
    ck_assert(rid[0] != '\0');
    tok = sign_in(origin, l.reg_name, l.reg_pw);
    FMT(url, "%s/AuditEvent?patient=%s&agent=%s&_count=100", l.gateway, person, l.clin_name);
    ck_assert_int_eq(https(url, tok, NULL, &b, NULL, 0), 200);
    {
        char *text = json_dumps(b, 0);

        ck_assert_msg(text != NULL && strstr(text, rid) != NULL, "no AuditEvent with request id %s",
                      rid);
        free(text);
    }
    json_decref(b);
    free(tok);

    /* The portal, the PACS and the database answer at their printed addresses;
     * a member's facade accepts the documented script certificate. */
    FMT(url, "%s/", origin);
    ck_assert_int_eq(https(url, NULL, NULL, NULL, NULL, 0), 200);
    {
        struct tu_http_opts o = {0};
        struct tu_http_resp t = {0};

        FMT(url, "%s/metadata", l.hosp_a_fhir);
        o.ca_file = state_file("region-ca.crt");
        o.cert_file = state_file("demo-client.crt");
        o.key_file = state_file("demo-client.key");
        ck_assert_int_eq(tu_http_request(url, &o, &t), 0);
        ck_assert_int_eq(t.status, 200);
        tu_http_resp_free(&t);
        FMT(url, "%s/studies", l.pacs);
        memset(&o, 0, sizeof(o));
        ck_assert_int_eq(tu_http_request(url, &o, &t), 0);
        ck_assert_int_eq(t.status, 401); /* Orthanc asks for its credentials */
        tu_http_resp_free(&t);
    }
    ck_assert_int_eq(pt_run((const char *[]){"/usr/bin/psql", l.database, "-Atqc",
                                             "SELECT count(*) > 0 FROM mpi.record", NULL},
                            &out),
                     0);
    ck_assert_msg(strncmp(out, "t", 1) == 0, "psql: %s", out);
    free(out);
    /* hosp-b's progress notes whose entries are depression diagnoses carry
     * the PSY label themselves (the whole document is attached), so the
     * consent above could withhold them. */
    {
        char hosp_b[300];
        const char *slash = strrchr(l.database, '/');

        FMT(hosp_b, "%.*s/demo_hosp_b", (int)(slash - l.database), l.database);
        ck_assert_int_eq(
            pt_run((const char *[]){"/usr/bin/psql", hosp_b, "-Atqc",
                                    "SELECT count(*) FROM store.resource WHERE res_type = "
                                    "'DocumentReference' AND content->'meta'->'security' @> "
                                    "'[{\"code\":\"PSY\"}]'",
                                    NULL},
                   &out),
            0);
        ck_assert_msg(atoi(out) > 0, "no PSY-labelled DocumentReference at hosp-b: %s", out);
        free(out);
    }

    /* SIGTERM: everything it started ends; the state stays. */
    assert_all_gone(&r);
    ck_assert(exists(state_file("data/manifest.json")));
    ck_assert(exists(state_file("pg/data/PG_VERSION")));
    ck_assert(exists(state_file("region-ca.crt")));
    ck_assert(exists(state_file("done/orthanc-loaded")));

    /* Second start: the state is reused and it is ready sooner. */
    demo_start(&r, &env);
    ck_assert_msg(demo_wait_ready(&r, READY_AGAIN_S), "no ready: line on restart:\n%s", r.text);
    fprintf(stderr, "demo: restart ready in %lld ms (first %lld ms)\n", r.ms, first_ms);
    if (r.ms >= first_ms)
        print_slow_restart(first_text, &r);
    ck_assert_msg(r.ms < first_ms, "restart took %lld ms, first start %lld ms", r.ms, first_ms);
    free(first_text);
    ck_assert_ptr_null(strstr(r.text, "generating the demo data"));
    parse_lines(r.text, &l);
    tok = sign_in(origin, l.clin_name, l.clin_pw);
    FMT(url, "%s/Patient/%s/$everything?_count=500", l.gateway, person);
    ck_assert_int_eq(https(url, tok, NULL, &b, NULL, 0), 200);
    ck_assert_int_eq(members_in(b, &entries), 3);
    json_decref(b);
    free(tok);
    free(person);
    assert_all_gone(&r);
}
END_TEST

/* A port in use is refused at once, by number and by the variable that set it. */
START_TEST(demo_refuses_a_busy_port_by_name)
{
    struct demo_env env;
    static struct demo_run r;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char want[64];
    char *err;
    char log[DEMO_PATH];
    int st;

    use_state("busy");
    env.gw_port = free_ports(1);
    env.base = free_ports(8);
    sa.sin_port = htons((uint16_t)(env.base + 2)); /* hosp-a's FHIR facade */
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)), 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 1), 0);
    FMT(log, "%s/run.stderr", tu_tmpdir("demo"));
    unlink(log);
    demo_start(&r, &env);
    ck_assert_int_eq(waitpid(r.pid, &st, 0), r.pid);
    close(r.out);
    close(fd);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    err = tu_read_file(log, NULL);
    FMT(want, "port %u (hosp-a FHIR, set by FHIRGATE_DEMO_PORT_BASE+2)", env.base + 2);
    ck_assert_msg(err != NULL && strstr(err, want) != NULL, "stderr: %s", err ? err : "");
    free(err);
}
END_TEST

Suite *
demo_suite(void)
{
    Suite *s = suite_create("demo");
    TCase *tc = tcase_create("demo");

    tcase_set_timeout(tc, 420);
    tcase_add_unchecked_fixture(tc, demo_reap, demo_reap);
    tcase_add_test(tc, demo_refuses_a_busy_port_by_name);
    tcase_add_test(tc, demo_starts_answers_for_all_members_stops_and_restarts);
    suite_add_tcase(s, tc);
    return s;
}
