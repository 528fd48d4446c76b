/*
 * test/integration/adapter_it.h — the real bin/fhirgate-adapter for the
 * adapter suites: certificates from deploy/ca.sh (a region CA with the
 * server, the gateway's client certificate, an ingest client, another
 * member, and a second CA), a database of its own per test in the private
 * cluster, a config file, the process started on free ports and stopped
 * (SIGTERM or kill -9), an MLLP client and HTTPS helpers.
 */
#ifndef TEST_INTEGRATION_ADAPTER_IT_H
#define TEST_INTEGRATION_ADAPTER_IT_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adapters/hl7v2/hl7v2.h"
#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/validate/fhir_validate.h"
#include "fhir/xml/fhir_xml.h"
#include "test/support/jsonpath.h"
#include "test/support/pgtest.h"
#include "test/support/testutil.h"
#include "test/support/tu_fhircheck.h"
#include "test/support/tu_http.h"

#define AIT_UNUSED __attribute__((unused))

struct ait_pki {
    struct tu_pki p;                      /* CA, server (localhost), client hospital-a.example */
    char gw_cert[600], gw_key[600];       /* CN=gateway */
    char his_cert[600], his_key[600];     /* CN=his-a: may ingest */
    char other_cert[600], other_key[600]; /* CN=hosp-b: a member, not the gateway */
    char alien_cert[600], alien_key[600]; /* CN=gateway from another CA */
};

struct ait {
    struct ait_pki pki;
    char dir[512]; /* scratch folder of this test */
    char conf[600];
    char db[128];
    char url[512];
    pid_t pid;
    unsigned https;
    unsigned mllp;
    char base[128]; /* https://127.0.0.1:PORT */
};

static AIT_UNUSED int
ait_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static AIT_UNUSED long long
ait_now_ms(void)
{
    return pt_now_ms();
}

static AIT_UNUSED void
ait_client(const char *dir, const char *cn, char *cert, char *key)
{
    ck_assert_int_eq(tu_ca((const char *[]){"client", dir, cn, NULL}, cert, 600, key, 600), 0);
}

static AIT_UNUSED void
ait_pki_make(struct ait_pki *k, const char *name)
{
    struct tu_pki alien;
    char alien_name[128];

    ck_assert_int_eq(tu_pki_make(name, &k->p), 0);
    ait_client(k->p.dir, "gateway", k->gw_cert, k->gw_key);
    ait_client(k->p.dir, "his-a", k->his_cert, k->his_key);
    ait_client(k->p.dir, "hosp-b", k->other_cert, k->other_key);
    snprintf(alien_name, sizeof(alien_name), "%s-alien", name);
    ck_assert_int_eq(tu_pki_make(alien_name, &alien), 0);
    ait_client(alien.dir, "gateway", k->alien_cert, k->alien_key);
}

/*
 * A fresh test: certificates, a database, a config with [adapter], [http],
 * [database], [mllp], [ingest] (with `ingest_more` lines) and `extra` (more
 * sections, or "").
 */
static AIT_UNUSED void
ait_init_ingest(struct ait *t, const char *name, const char *ingest_more, const char *extra)
{
    FILE *f;
    char *db;
    char *url;

    memset(t, 0, sizeof(*t));
    ait_pki_make(&t->pki, name);
    snprintf(t->dir, sizeof(t->dir), "%s", tu_tmpdir(name));
    db = pt_create_db("ait");
    ck_assert_ptr_nonnull(db);
    url = pt_url(db, "postgres");
    snprintf(t->db, sizeof(t->db), "%s", db);
    snprintf(t->url, sizeof(t->url), "%s", url);
    free(db);
    free(url);
    t->https = (unsigned)ait_free_port();
    t->mllp = (unsigned)ait_free_port();
    snprintf(t->base, sizeof(t->base), "https://127.0.0.1:%u", t->https);
    snprintf(t->conf, sizeof(t->conf), "%s/adapter.conf", t->dir);
    f = fopen(t->conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "[adapter]\nmember_id = hosp-a\nname = \"Hospital A\"\nstate_dir = %s/state\n"
            "public_url = %s/fhir\nlog_level = info\nshutdown_grace = 5s\n\n"
            "[http]\nlisten = 127.0.0.1:%u\ncert = %s\nkey = %s\nclient_ca = %s\n"
            "gateway_cn = gateway\nadmin_clients = ops\n\n"
            "[database]\nurl = env:AIT_DB_URL\n\n"
            "[mllp]\nlisten = 127.0.0.1:%u\nidle_timeout = 2s\nframe_timeout = 2s\n"
            "max_frame = 1M\n\n"
            "[ingest]\nclients = his-a\npoll_interval = 200ms\nsettle_time = 300ms\n%s\n"
            "[hl7v2]\nsystem_base = https://hosp-a.example/sid\n\n%s",
            t->dir, t->base, t->https, t->pki.p.server_cert, t->pki.p.server_key, t->pki.p.ca,
            t->mllp, ingest_more, extra);
    fclose(f);
}

static AIT_UNUSED void
ait_init(struct ait *t, const char *name, const char *extra)
{
    ait_init_ingest(t, name, "", extra);
}

/* The end of the adapter's log on stderr (to explain a failure). */
static AIT_UNUSED void
ait_dump_log(const struct ait *t)
{
    char path[700];
    size_t len = 0;
    char *s;

    snprintf(path, sizeof(path), "%s/adapter.err", t->dir);
    s = tu_read_file(path, &len);
    if (s != NULL)
        fprintf(stderr, "--- %s (end)\n%s\n", path, len > 4000 ? s + len - 4000 : s);
    free(s);
}

/* Start the adapter; waits for its "ready:" line (fails the test after
 * 30 s or when it exits). */
static AIT_UNUSED void
ait_start(struct ait *t)
{
    char out[700];
    char errf[700];
    char env[600];

    snprintf(out, sizeof(out), "%s/adapter.out", t->dir);
    snprintf(errf, sizeof(errf), "%s/adapter.err", t->dir);
    snprintf(env, sizeof(env), "AIT_DB_URL=%s", t->url);
    unlink(out);
    t->pid = fork();
    ck_assert_int_ge(t->pid, 0);
    if (t->pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(errf, O_WRONLY | O_CREAT | O_APPEND, 0644);

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        dup2(o, 1);
        dup2(e, 2);
        putenv(env);
        execl(tu_bin("fhirgate-adapter"), "fhirgate-adapter", "--config", t->conf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) {
        size_t len = 0;
        char *s = tu_read_file(out, &len);
        int st;

        if (s != NULL && strstr(s, "ready:") != NULL) {
            free(s);
            return;
        }
        free(s);
        if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
            t->pid = 0;
            ait_dump_log(t);
            ck_abort_msg("the adapter exited at start (%s)", errf);
        }
        usleep(100000);
    }
    ck_abort_msg("the adapter did not become ready (%s)", errf);
}

/* SIGTERM (graceful) or SIGKILL; returns the exit status (-signal when
 * killed by a signal). */
static AIT_UNUSED int
ait_stop(struct ait *t, int sig)
{
    int st = 0;

    if (t->pid <= 0)
        return 0;
    kill(t->pid, sig);
    for (int i = 0; i < 300; i++) {
        if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
            t->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
        }
        usleep(50000);
    }
    kill(t->pid, SIGKILL);
    waitpid(t->pid, &st, 0);
    t->pid = 0;
    ck_abort_msg("the adapter did not stop within 15 s");
    return -1;
}

/* Resident memory of the adapter in KiB (-1 when unknown).  /proc files
 * report size 0: read them line by line, not by their size. */
static AIT_UNUSED long
ait_rss_kb(const struct ait *t)
{
    char path[64];
    char line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)t->pid);
    f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    if (f != NULL)
        fclose(f);
    return kb;
}

/* ----------------------------------------------------------------- MLLP -- */

static AIT_UNUSED int
ait_mllp_connect(const struct ait *t)
{
    int fd = tu_tcp_connect(t->mllp);
    int one = 1;

    ck_assert_int_ge(fd, 0);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static AIT_UNUSED void
ait_mllp_send(int fd, const char *msg, size_t len)
{
    char sb = 0x0b;
    char eb[2] = {0x1c, 0x0d};

    ck_assert_int_eq(send(fd, &sb, 1, MSG_NOSIGNAL), 1);
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, msg + off, len - off, MSG_NOSIGNAL);

        ck_assert_int_gt(n, 0);
        off += (size_t)n;
    }
    ck_assert_int_eq(send(fd, eb, 2, MSG_NOSIGNAL), 2);
}

/* Read one ACK frame (malloc'd, without markers) within timeout_ms; NULL
 * on timeout or a closed connection. */
static AIT_UNUSED char *
ait_mllp_ack(int fd, long timeout_ms)
{
    char *buf = malloc(1 << 16);
    size_t len = 0;
    long long until = ait_now_ms() + timeout_ms;

    ck_assert_ptr_nonnull(buf);
    while (len + 1 < (1 << 16)) {
        struct pollfd p = {fd, POLLIN, 0};
        long left = (long)(until - ait_now_ms());
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        n = read(fd, buf + len, 1); /* byte by byte: never read past one frame */
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len >= 2 && buf[len - 2] == 0x1c && buf[len - 1] == 0x0d) {
            buf[len - 2] = '\0';
            if (buf[0] == 0x0b)
                memmove(buf, buf + 1, len - 2);
            return buf;
        }
    }
    free(buf);
    return NULL;
}

/* MSA-1 of an ACK ("AA", "AE", "AR"), in a static buffer. */
static AIT_UNUSED const char *
ait_msa(const char *ack)
{
    static char code[3];
    const char *m = ack != NULL ? strstr(ack, "\rMSA") : NULL;

    if (m == NULL || strlen(m) < 7)
        return "";
    code[0] = m[5];
    code[1] = m[6];
    code[2] = '\0';
    return code;
}

/* Does the message ask for enhanced-mode accept acknowledgements (MSH-15
 * AL, ER or SU)?  Then its answers are CA/CE/CR, not AA/AE/AR. */
static AIT_UNUSED bool
ait_enhanced(const char *msg)
{
    const char *p = strstr(msg, "MSH");
    char fs;
    int field = 1;
    size_t n = 0;

    if (p == NULL || p[3] == '\0')
        return false;
    fs = p[3];
    for (p += 4; *p != '\0' && *p != '\r' && *p != '\n' && field < 14; p++)
        field += *p == fs;
    if (field != 14)
        return false;
    while (p[n] != '\0' && p[n] != fs && p[n] != '\r' && p[n] != '\n')
        n++;
    return n == 2 &&
           (strncmp(p, "AL", 2) == 0 || strncmp(p, "ER", 2) == 0 || strncmp(p, "SU", 2) == 0);
}

/* The MSA-1 a message committed gets. */
static AIT_UNUSED const char *
ait_accepted(const char *msg)
{
    return ait_enhanced(msg) ? "CA" : "AA";
}

/* --------------------------------------------------------------- HTTPS -- */

enum ait_who { AIT_GATEWAY, AIT_HIS, AIT_OTHER, AIT_ALIEN, AIT_NONE };

static AIT_UNUSED long
ait_http(const struct ait *t, enum ait_who who, const char *method, const char *path,
         const char *body, size_t body_len, struct tu_http_resp *resp)
{
    struct tu_http_opts o = {0};
    char url[2048];

    o.method = method;
    o.body = body;
    o.body_len = body_len;
    o.ca_file = t->pki.p.ca;
    o.timeout_ms = 60000;
    switch (who) {
    case AIT_GATEWAY:
        o.cert_file = t->pki.gw_cert;
        o.key_file = t->pki.gw_key;
        break;
    case AIT_HIS:
        o.cert_file = t->pki.his_cert;
        o.key_file = t->pki.his_key;
        break;
    case AIT_OTHER:
        o.cert_file = t->pki.other_cert;
        o.key_file = t->pki.other_key;
        break;
    case AIT_ALIEN:
        o.cert_file = t->pki.alien_cert;
        o.key_file = t->pki.alien_key;
        break;
    default:
        break;
    }
    snprintf(url, sizeof(url), "%s%s", strncmp(path, "https://", 8) == 0 ? "" : t->base, path);
    tu_http_request(url, &o, resp);
    tu_assert_fhir_answer(url, resp);
    return resp->status;
}

/* GET as the gateway; asserts 200 and returns the parsed body. */
static AIT_UNUSED json_t *
ait_get_json(const struct ait *t, const char *path)
{
    struct tu_http_resp r = {0};
    json_t *v = NULL;

    ck_assert_msg(ait_http(t, AIT_GATEWAY, "GET", path, NULL, 0, &r) == 200, "GET %s: %ld %s", path,
                  r.status, r.body != NULL ? r.body : r.error);
    ck_assert_msg(fhir_json_parse(r.body, r.body_len, NULL, &v, NULL) == BASE_OK,
                  "GET %s: not JSON", path);
    tu_http_resp_free(&r);
    return v;
}

/* A FHIR resource without validation errors. */
static AIT_UNUSED void
ait_assert_valid(const json_t *res, const char *what)
{
    struct base_err err = {0};
    struct fhir_validate_opts vo = {0};

    vo.no_warnings = true;
    ck_assert_msg(fhir_validate(res, &vo, NULL, NULL, &err) == BASE_OK, "%s is not valid: %s: %s",
                  what, err.where, err.msg);
}

/* Does the compact JSON text of v contain `needle`? */
static AIT_UNUSED bool
ait_json_has(const json_t *v, const char *needle)
{
    char *text = json_dumps(v, JSON_COMPACT);
    bool found = text != NULL && strstr(text, needle) != NULL;

    free(text);
    return found;
}

/* The URL of the Bundle's link `rel`, or NULL. */
static AIT_UNUSED const char *
ait_link(const json_t *bundle, const char *rel)
{
    const json_t *l;
    size_t i;

    json_array_foreach(json_object_get(bundle, "link"), i, l)
    {
        if (strcmp(json_string_value(json_object_get(l, "relation")), rel) == 0)
            return json_string_value(json_object_get(l, "url"));
    }
    return NULL;
}

/* ------------------------------------------------------------ database -- */

static AIT_UNUSED long
ait_count(const struct ait *t, const char *sql)
{
    return pt_count(t->db, sql);
}

/* Every message of an HL7 file (split as bin/fhirgate does), malloc'd
 * copies in *out (NULL-terminated). */
static AIT_UNUSED size_t
ait_split_hl7(const char *path, char ***out)
{
    struct base_arena *a = base_arena_new(0);
    struct hl7v2_limits lim = HL7V2_LIMITS_DEFAULT;
    struct hl7v2_file f;
    size_t len = 0;
    char *data = tu_read_file(path, &len);
    char **msgs = NULL;
    size_t n = 0;

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(data);
    if (hl7v2_file_split(a, data, len, &lim, &f, NULL) == BASE_OK) {
        msgs = calloc(f.nmsgs + 1, sizeof(char *));
        for (size_t i = 0; i < f.nmsgs; i++) {
            msgs[i] = malloc(f.msgs[i].data.len + 1);
            memcpy(msgs[i], f.msgs[i].data.ptr, f.msgs[i].data.len);
            msgs[i][f.msgs[i].data.len] = '\0';
        }
        n = f.nmsgs;
    } else {
        /* Not splittable (a malformed file): send it as one frame. */
        msgs = calloc(2, sizeof(char *));
        msgs[0] = data;
        data = NULL;
        n = 1;
    }
    free(data);
    base_arena_free(a);
    *out = msgs;
    return n;
}

static AIT_UNUSED void
ait_free_msgs(char **m)
{
    for (size_t i = 0; m != NULL && m[i] != NULL; i++)
        free(m[i]);
    free(m);
}

#endif /* TEST_INTEGRATION_ADAPTER_IT_H */
