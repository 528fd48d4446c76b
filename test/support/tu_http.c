#include "test/support/tu_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

struct tu_http_client {
    CURL *easy;
};

struct grow {
    char *p;
    size_t len;
    CURL *easy;                 /* header block only: to read the TLS version */
    struct tu_http_resp *resp;
};

static void tls_info(CURL *e, struct tu_http_resp *r);

static size_t
append(void *data, size_t size, size_t n, void *cls)
{
    struct grow *g = cls;
    size_t add = size * n;
    char *p = realloc(g->p, g->len + add + 1);

    /* the TLS session is only reachable while the transfer runs */
    if (g->easy != NULL && g->resp->tls_version[0] == '\0')
        tls_info(g->easy, g->resp);
    if (p == NULL)
        return 0;
    memcpy(p + g->len, data, add);
    g->p = p;
    g->len += add;
    p[g->len] = '\0';
    return add;
}

struct upload {
    const char *p;
    size_t len;
    size_t off;
};

static size_t
read_body(char *buf, size_t size, size_t n, void *cls)
{
    struct upload *u = cls;
    size_t want = size * n;
    size_t left = u->len - u->off;

    if (want > left)
        want = left;
    memcpy(buf, u->p + u->off, want);
    u->off += want;
    return want;
}

static struct curl_slist *
setup(CURL *e, const char *url, const struct tu_http_opts *o, struct upload *up)
{
    struct curl_slist *hl = NULL;
    static const struct tu_http_opts none;

    if (o == NULL)
        o = &none;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 10000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    if (o->ca_file != NULL)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
    if (o->cert_file != NULL)
        curl_easy_setopt(e, CURLOPT_SSLCERT, o->cert_file);
    if (o->key_file != NULL)
        curl_easy_setopt(e, CURLOPT_SSLKEY, o->key_file);
    if (o->tls_min != 0 || o->tls_max != 0)
        curl_easy_setopt(e, CURLOPT_SSLVERSION, o->tls_min | o->tls_max);
    if (o->ciphers != NULL)
        curl_easy_setopt(e, CURLOPT_SSL_CIPHER_LIST, o->ciphers);
    if (o->path_as_is)
        curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    for (const char *const *h = o->headers; h != NULL && *h != NULL; h++)
        hl = curl_slist_append(hl, *h);
    if (o->body != NULL) {
        up->p = o->body;
        up->len = o->body_len;
        up->off = 0;
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(e, CURLOPT_READDATA, up);
        if (o->chunked)
            hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
        else
            curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)o->body_len);
        hl = curl_slist_append(hl, "Expect:");
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method != NULL ? o->method : "POST");
    } else if (o->method != NULL) {
        if (strcmp(o->method, "HEAD") == 0)
            curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        else
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    return hl;
}

static void
tls_info(CURL *e, struct tu_http_resp *r)
{
    struct curl_tlssessioninfo *ti = NULL;

    if (curl_easy_getinfo(e, CURLINFO_TLS_SSL_PTR, &ti) == CURLE_OK && ti != NULL &&
        ti->backend == CURLSSLBACKEND_OPENSSL && ti->internals != NULL)
        snprintf(r->tls_version, sizeof(r->tls_version), "%s",
                 SSL_get_version((SSL *)ti->internals));
}

static int
perform(CURL *e, const char *url, const struct tu_http_opts *o, struct tu_http_resp *r)
{
    struct grow body = {0};
    struct grow head = {.easy = e, .resp = r};
    struct upload up = {0};
    struct curl_slist *hl;
    CURLcode rc;

    memset(r, 0, sizeof(*r));
    head.resp = r;
    hl = setup(e, url, o, &up);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, append);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 1L);
    rc = curl_easy_perform(e);
    r->curl_code = (int)rc;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &r->connects);
    if (rc != CURLE_OK && r->error[0] == '\0')
        snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(rc));
    r->body = body.p != NULL ? body.p : calloc(1, 1);
    r->body_len = body.len;
    r->headers = head.p != NULL ? head.p : calloc(1, 1);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hl);
    return (int)rc;
}

int
tu_http_request(const char *url, const struct tu_http_opts *o, struct tu_http_resp *resp)
{
    CURL *e = curl_easy_init();
    int rc;

    if (e == NULL) {
        memset(resp, 0, sizeof(*resp));
        return CURLE_FAILED_INIT;
    }
    rc = perform(e, url, o, resp);
    curl_easy_cleanup(e);
    return rc;
}

void
tu_http_resp_free(struct tu_http_resp *r)
{
    free(r->headers);
    free(r->body);
    r->headers = r->body = NULL;
}

const char *
tu_http_header(const struct tu_http_resp *r, const char *name, char *buf, size_t cap)
{
    size_t n = strlen(name);

    for (const char *line = r->headers; line != NULL && *line != '\0';) {
        const char *eol = strchr(line, '\n');
        size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);

        if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            size_t vl = len - n - 1;

            while (vl > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                vl--;
            snprintf(buf, cap, "%.*s", (int)vl, v);
            return buf;
        }
        line = eol != NULL ? eol + 1 : NULL;
    }
    return NULL;
}

struct tu_http_client *
tu_http_client_new(void)
{
    struct tu_http_client *c = calloc(1, sizeof(*c));

    if (c != NULL && (c->easy = curl_easy_init()) == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

int
tu_http_client_request(struct tu_http_client *c, const char *url, const struct tu_http_opts *o,
                       struct tu_http_resp *resp)
{
    curl_easy_reset(c->easy); /* keeps the connection cache */
    return perform(c->easy, url, o, resp);
}

void
tu_http_client_free(struct tu_http_client *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->easy);
    free(c);
}

/* ------------------------------------------------------------- raw TCP -- */

int
tu_tcp_connect(unsigned port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool
tu_tcp_wait_closed(int fd, long timeout_ms)
{
    struct timespec t0;
    struct timespec t;
    char buf[4096];

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        long spent;
        int n;

        clock_gettime(CLOCK_MONOTONIC, &t);
        spent = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= timeout_ms)
            return false;
        n = poll(&p, 1, (int)(timeout_ms - spent));
        if (n <= 0)
            continue;
        n = (int)read(fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            return true;
    }
}

/* ---------------------------------------------------------------- PKI -- */

const char *
tu_tmpdir(const char *name)
{
    static _Thread_local char buf[512];
    const char *base = getenv("FHIRGATE_TEST_TMP");

    if (base != NULL && base[0] != '\0') {
        snprintf(buf, sizeof(buf), "%s/%s", base, name);
    } else {
        snprintf(buf, sizeof(buf), "/tmp/fhirgate-test-%ld-%s", (long)getpid(), name);
    }
    mkdir(buf, 0755);
    return buf;
}

static const char *
ca_script(void)
{
    static char buf[512];
    const char *src = getenv("FHIRGATE_SRC");

    snprintf(buf, sizeof(buf), "%s/deploy/ca.sh", src != NULL && src[0] != '\0' ? src : ".");
    return buf;
}

/* Copy the value of the first "kind: path" line of `out`. */
static void
pick(const char *out, const char *kind, char *dst, size_t cap)
{
    size_t n = strlen(kind);

    if (dst == NULL)
        return;
    dst[0] = '\0';
    for (const char *l = out; l != NULL && *l != '\0';) {
        const char *eol = strchr(l, '\n');
        size_t len = eol != NULL ? (size_t)(eol - l) : strlen(l);

        if (len > n + 2 && strncmp(l, kind, n) == 0 && l[n] == ':' && l[n + 1] == ' ') {
            snprintf(dst, cap, "%.*s", (int)(len - n - 2), l + n + 2);
            return;
        }
        l = eol != NULL ? eol + 1 : NULL;
    }
}

int
tu_ca(const char *const *argv, char *cert, size_t cert_cap, char *key, size_t key_cap)
{
    char out[8192];
    size_t got = 0;
    const char *args[32];
    size_t n = 0;
    int pipefd[2];
    int status = -1;
    pid_t pid;

    args[n++] = "/bin/sh";
    args[n++] = ca_script();
    for (; argv[n - 2] != NULL && n < 31; n++)
        args[n] = argv[n - 2];
    args[n] = NULL;
    if (pipe(pipefd) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execv("/bin/sh", (char *const *)(void *)args);
        _exit(127);
    }
    close(pipefd[1]);
    for (;;) {
        ssize_t r = read(pipefd[0], out + got, sizeof(out) - 1 - got);

        if (r <= 0)
            break;
        got += (size_t)r;
    }
    out[got] = '\0';
    close(pipefd[0]);
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    pick(out, "cert", cert, cert_cap);
    pick(out, "key", key, key_cap);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
tu_pki_make(const char *name, struct tu_pki *p)
{
    const char *dir = tu_tmpdir(name);

    memset(p, 0, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "%s/ca", dir);
    if (tu_ca((const char *[]){"init", p->dir, NULL}, NULL, 0, NULL, 0) != 0)
        return -1;
    snprintf(p->ca, sizeof(p->ca), "%s/ca.crt", p->dir);
    snprintf(p->crl, sizeof(p->crl), "%s/crl.pem", p->dir);
    if (tu_ca((const char *[]){"server", p->dir, "localhost", NULL}, p->server_cert,
              sizeof(p->server_cert), p->server_key, sizeof(p->server_key)) != 0)
        return -1;
    if (tu_ca((const char *[]){"client", p->dir, "hospital-a.example", "O=Hospital A", NULL},
              p->client_cert, sizeof(p->client_cert), p->client_key, sizeof(p->client_key)) != 0)
        return -1;
    return 0;
}
