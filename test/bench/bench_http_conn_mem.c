/*
 * Memory per idle keep-alive HTTPS connection.
 *
 *   bench_http_conn_mem --ca CA --cert CRT --key KEY [--conns N]
 *                       [--conn-memory BYTES] [--plain]
 *                       [--peer-pid PID --peer-port PORT]
 *
 * Starts gateway/http in a child process (HTTPS unless --plain), opens N
 * connections from this process, each doing one request and then staying
 * open idle (keep-alive), and reports the growth of the server's resident
 * memory divided by N.  With --peer-pid/--peer-port the same is measured
 * for another server (nginx) in the same run.  Prints one JSON object:
 *   {"conns":N,"ours":BYTES_PER_CONN,"peer":BYTES_PER_CONN|null}
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fhir/base/log.h"
#include "gateway/http/gw_http.h"

struct conn {
    int fd;
    SSL *ssl;
};

static long
rss_kb(pid_t pid)
{
    char path[64];
    char line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    }
    fclose(f);
    return kb;
}

static int
tcp(unsigned port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* as curl and browsers do: the request must not wait for the ACK of the
     * TLS Finished record (Nagle + delayed ACK = 40 ms per connection) */
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int
xfer(struct conn *c, bool write, void *buf, int len)
{
    if (c->ssl != NULL)
        return write ? SSL_write(c->ssl, buf, len) : SSL_read(c->ssl, buf, len);
    return (int)(write ? send(c->fd, buf, (size_t)len, MSG_NOSIGNAL) : recv(c->fd, buf, (size_t)len, 0));
}

/* One GET, read until the (small) answer is complete; the connection stays open. */
static bool
open_one(struct conn *c, unsigned port, SSL_CTX *ctx)
{
    static char req[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    char buf[4096];
    size_t got = 0;

    c->ssl = NULL;
    c->fd = tcp(port);
    if (c->fd < 0)
        return false;
    if (ctx != NULL) {
        c->ssl = SSL_new(ctx);
        SSL_set_fd(c->ssl, c->fd);
        if (SSL_connect(c->ssl) != 1)
            return false;
    }
    if (xfer(c, true, req, (int)strlen(req)) <= 0)
        return false;
    for (;;) {
        int n = xfer(c, false, buf + got, (int)(sizeof(buf) - 1 - got));
        char *body;

        if (n <= 0)
            return false;
        got += (size_t)n;
        buf[got] = '\0';
        body = strstr(buf, "\r\n\r\n");
        if (body != NULL && strstr(body, "}") != NULL)
            return true; /* {"status":"pass"} or nginx's {"ok"} */
    }
}

static void
close_all(struct conn *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].ssl != NULL)
            SSL_free(c[i].ssl);
        if (c[i].fd >= 0)
            close(c[i].fd);
    }
}

/* Bytes per connection: warm up, then open n and compare resident memory. */
static double
measure(pid_t pid, unsigned port, SSL_CTX *ctx, size_t n)
{
    struct conn *c = calloc(n, sizeof(*c));
    long before;
    long after;

    for (size_t i = 0; i < 64 && i < n; i++) { /* threads, TLS state, caches */
        if (!open_one(&c[i], port, ctx))
            fprintf(stderr, "warm-up connection %zu failed\n", i);
    }
    close_all(c, n < 64 ? n : 64);
    usleep(300000);
    before = rss_kb(pid);
    for (size_t i = 0; i < n; i++) {
        if (!open_one(&c[i], port, ctx)) {
            fprintf(stderr, "connection %zu failed\n", i);
            exit(1);
        }
    }
    usleep(500000);
    after = rss_kb(pid);
    close_all(c, n);
    free(c);
    return (double)(after - before) * 1024.0 / (double)n;
}

static void
serve(int ready_fd, const char *cert, const char *key, size_t conn_memory, bool plain, size_t n)
{
    static const struct gw_http_route routes[] = {{"GET", "/healthz", gw_http_handle_healthz, NULL}};
    struct gw_http_config cfg;
    struct gw_http_server *s = NULL;
    struct base_err err = {0};
    unsigned port;
    char c;

    base_log_set_level(BASE_LOG_WARN);
    gw_http_config_init(&cfg);
    cfg.plain_http = plain;
    cfg.cert_file = cert;
    cfg.key_file = key;
    cfg.threads = 2;
    cfg.routes = routes;
    cfg.route_count = 1;
    cfg.limits.max_per_ip = 0;
    cfg.limits.max_connections = (unsigned)n + 200;
    cfg.limits.idle_timeout_ms = 120000;
    cfg.limits.header_timeout_ms = 60000;
    if (conn_memory > 0)
        cfg.limits.conn_memory = conn_memory;
    if (gw_http_server_start(&cfg, &s, &err) != BASE_OK) {
        fprintf(stderr, "server: %s: %s\n", err.where, err.msg);
        _exit(1);
    }
    port = gw_http_server_port(s);
    if (write(ready_fd, &port, sizeof(port)) != (ssize_t)sizeof(port))
        _exit(1);
    while (read(ready_fd, &c, 1) > 0) {
    }
    (void)gw_http_server_stop(s, 100);
    _exit(0);
}

int
main(int argc, char **argv)
{
    const char *ca = NULL, *cert = NULL, *key = NULL;
    size_t n = 1000, conn_memory = 0;
    bool plain = false;
    pid_t peer_pid = 0;
    unsigned peer_port = 0, port = 0;
    struct rlimit rl;
    int sv[2];
    pid_t child;
    SSL_CTX *ctx = NULL;
    double ours, peer = -1;

    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";

        if (!strcmp(argv[i], "--ca")) ca = v, i++;
        else if (!strcmp(argv[i], "--cert")) cert = v, i++;
        else if (!strcmp(argv[i], "--key")) key = v, i++;
        else if (!strcmp(argv[i], "--conns")) n = strtoul(v, NULL, 10), i++;
        else if (!strcmp(argv[i], "--conn-memory")) conn_memory = strtoul(v, NULL, 10), i++;
        else if (!strcmp(argv[i], "--plain")) plain = true;
        else if (!strcmp(argv[i], "--peer-pid")) peer_pid = (pid_t)strtol(v, NULL, 10), i++;
        else if (!strcmp(argv[i], "--peer-port")) peer_port = (unsigned)strtoul(v, NULL, 10), i++;
        else {
            fprintf(stderr, "usage: see the comment at the top of bench_http_conn_mem.c\n");
            return 2;
        }
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (!plain) {
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (ca == NULL || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
            fprintf(stderr, "need --ca\n");
            return 2;
        }
    }
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 1;
    child = fork();
    if (child == 0) {
        close(sv[0]);
        serve(sv[1], cert, key, conn_memory, plain, n);
    }
    close(sv[1]);
    if (read(sv[0], &port, sizeof(port)) != (ssize_t)sizeof(port))
        return 1;
    ours = measure(child, port, ctx, n);
    close(sv[0]); /* the child stops */
    waitpid(child, NULL, 0);
    if (peer_pid > 0)
        peer = measure(peer_pid, peer_port, ctx, n);
    printf("{\"conns\":%zu,\"ours\":%.0f,\"peer\":", n, ours);
    if (peer >= 0)
        printf("%.0f}\n", peer);
    else
        printf("null}\n");
    SSL_CTX_free(ctx);
    return 0;
}
