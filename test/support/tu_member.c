/*
 * In-process HTTPS member servers for the federation tests.  One thread,
 * one poll() loop, non-blocking OpenSSL: any number of members, each on
 * its own loopback port with its own certificate and behaviour (answer,
 * stay silent, trickle byte by byte, close mid-body, reset).  HTTP/1.1 with
 * keep-alive, so connection reuse by the engine can be counted.
 */
#include "test/support/tu_member.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum cstate { C_HANDSHAKE, C_READ, C_WRITE, C_HOLD };

struct conn {
    struct conn *next;
    int fd;
    SSL *ssl;
    size_t member;
    enum cstate st;
    bool want_write;
    char in[16384];
    size_t in_len;
    char *out;
    size_t out_len;
    size_t out_limit; /* stop (and close) here: CLOSE_MID */
    size_t out_pos;
    int64_t next_ms; /* not before (delay / trickle) */
    bool slow;       /* one byte per delay_ms */
    bool dead;
};

struct member {
    struct tu_member_spec spec;
    int lfd;
    unsigned port;
    SSL_CTX *ctx;
    atomic_ulong requests;
    atomic_ulong connections;
    bool reset_done;
    char last_line[1100];
    char last_accept[128];
};

struct tu_members {
    pthread_t thread;
    bool started;
    int wake[2];
    atomic_bool stop;
    pthread_mutex_t mu; /* protects last_line / last_accept and spec.mode / status */
    struct member *m;
    size_t n;
    struct conn *conns;
};

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- answers ---------------------------------------------------------------------- */

static char *
xappend(char *s, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (s == NULL || *len + n + 1 > *cap) {
        size_t nc = (*cap == 0 ? 4096 : *cap);

        while (nc < *len + n + 1)
            nc *= 2;
        char *ns = realloc(s, nc);
        if (ns == NULL) {
            free(s);
            return NULL;
        }
        s = ns;
        *cap = nc;
    }
    memcpy(s + *len, p, n);
    *len += n;
    s[*len] = '\0';
    return s;
}

#define APPEND(str) (buf = xappend(buf, &len, &cap, (str), strlen(str)))

/* Value of query parameter `name` as an unsigned number, or dflt. */
static size_t
qnum(const char *query, const char *name, size_t dflt)
{
    size_t n = strlen(name);

    for (const char *p = query; p != NULL && *p != '\0';) {
        if (strncmp(p, name, n) == 0 && p[n] == '=')
            return strtoul(p + n + 1, NULL, 10);
        p = strchr(p, '&');
        p = p != NULL ? p + 1 : NULL;
    }
    return dflt;
}

/* The query without the paging parameters (_offset, pg). */
static void
query_without_paging(const char *query, char *out, size_t cap)
{
    size_t o = 0;

    out[0] = '\0';
    for (const char *p = query; p != NULL && *p != '\0';) {
        const char *e = strchr(p, '&');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

        if (strncmp(p, "_offset=", 8) != 0 && strncmp(p, "pg=", 3) != 0 && o + n + 2 < cap) {
            if (o > 0)
                out[o++] = '&';
            memcpy(out + o, p, n);
            o += n;
            out[o] = '\0';
        }
        p = e != NULL ? e + 1 : NULL;
    }
}

/* A searchset page of the member's entries for this request target. */
static char *
searchset(const struct member *mb, const char *path, const char *query, size_t *out_len)
{
    const struct tu_member_spec *s = &mb->spec;
    size_t count = qnum(query, "_count", s->n_entries);
    size_t off = s->links_only ? qnum(query, "pg", 0) : qnum(query, "_offset", 0);
    size_t end = off + count < s->n_entries ? off + count : s->n_entries;
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    char tmp[4096];
    char q[1024];

    if (count == 0)
        count = s->n_entries;
    end = off + count < s->n_entries ? off + count : s->n_entries;
    APPEND("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"");
    if (!s->no_total) {
        snprintf(tmp, sizeof(tmp), ",\"total\":%zu", s->n_entries);
        APPEND(tmp);
    }
    if (end < s->n_entries) {
        query_without_paging(query, q, sizeof(q));
        snprintf(
            tmp, sizeof(tmp),
            ",\"link\":[{\"relation\":\"next\",\"url\":\"https://127.0.0.1:%u%s?%s%s%s=%zu\"}]",
            mb->port, path, q, q[0] != '\0' ? "&" : "", s->links_only ? "pg" : "_offset", end);
        APPEND(tmp);
    }
    for (size_t i = off; i < end; i++) {
        APPEND(i == off ? ",\"entry\":[{\"resource\":" : ",{\"resource\":");
        APPEND(s->entries[i]);
        APPEND(",\"search\":{\"mode\":\"match\"}}");
    }
    APPEND(end > off ? "]}" : "}");
    *out_len = len;
    return buf;
}

static const char *
reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 404:
        return "Not Found";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static int
respond(struct member *mb, struct conn *c, const char *target, enum tu_member_mode mode, int status)
{
    const struct tu_member_spec *s = &mb->spec;
    char path[1024];
    const char *q = strchr(target, '?');
    size_t blen = 0;
    char *body;
    char head[256];
    if (status == 0)
        status = 200;

    snprintf(path, sizeof(path), "%.*s", (int)(q != NULL ? (size_t)(q - target) : strlen(target)),
             target);
    if (s->body != NULL) {
        blen = strlen(s->body);
        body = malloc(blen + 1);
        if (body != NULL)
            memcpy(body, s->body, blen + 1);
    } else {
        body = searchset(mb, path, q != NULL ? q + 1 : "", &blen);
    }
    if (body == NULL)
        return -1;
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d %s\r\nContent-Type: application/fhir+json\r\n"
                      "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
                      status, reason(status), blen);
    free(c->out);
    c->out = malloc((size_t)hl + blen);
    if (c->out == NULL) {
        free(body);
        return -1;
    }
    memcpy(c->out, head, (size_t)hl);
    memcpy(c->out + hl, body, blen);
    free(body);
    c->out_len = (size_t)hl + blen;
    c->out_limit = mode == TU_MEMBER_CLOSE_MID ? (size_t)hl + blen / 2 : c->out_len;
    c->out_pos = 0;
    c->next_ms = now_ms() + (mode == TU_MEMBER_SERVE ? s->delay_ms : 0);
    c->slow = mode == TU_MEMBER_SLOW;
    c->st = C_WRITE;
    return 0;
}

/* ---- connections ----------------------------------------------------------------- */

static void
conn_reset(struct conn *c)
{
    struct linger lg = {1, 0}; /* close with RST */

    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    c->dead = true;
}

/* A complete request head is in c->in: decide what to do with it. */
static int
on_request(struct tu_members *ms, struct conn *c)
{
    struct member *mb = &ms->m[c->member];
    char method[16];
    char target[1024];
    char *acc;

    if (sscanf(c->in, "%15s %1023s", method, target) != 2)
        return -1;
    atomic_fetch_add(&mb->requests, 1);
    pthread_mutex_lock(&ms->mu);
    snprintf(mb->last_line, sizeof(mb->last_line), "%s %s", method, target);
    mb->last_accept[0] = '\0';
    acc = strcasestr(c->in, "\r\naccept:");
    if (acc != NULL)
        sscanf(acc + 9, " %127[^\r\n]", mb->last_accept);
    pthread_mutex_unlock(&ms->mu);
    c->in_len = 0;
    pthread_mutex_lock(&ms->mu);
    enum tu_member_mode mode = mb->spec.mode;
    int status = mb->spec.status;
    pthread_mutex_unlock(&ms->mu);
    switch (mode) {
    case TU_MEMBER_SILENT:
        c->st = C_HOLD;
        return 0;
    case TU_MEMBER_RESET_ALWAYS:
        conn_reset(c);
        return 0;
    case TU_MEMBER_RESET_FIRST:
        if (!mb->reset_done) {
            mb->reset_done = true;
            conn_reset(c);
            return 0;
        }
        return respond(mb, c, target, mode, status);
    default:
        return respond(mb, c, target, mode, status);
    }
}

void
tu_members_set_mode(struct tu_members *ms, size_t i, enum tu_member_mode mode, int status)
{
    pthread_mutex_lock(&ms->mu);
    ms->m[i].spec.mode = mode;
    ms->m[i].spec.status = status;
    pthread_mutex_unlock(&ms->mu);
}

/* SSL error to action: 0 wait, -1 close. */
static int
ssl_wait(struct conn *c, int r)
{
    int e = SSL_get_error(c->ssl, r);

    if (e == SSL_ERROR_WANT_READ) {
        c->want_write = false;
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        c->want_write = true;
        return 0;
    }
    ERR_clear_error();
    return -1;
}

static int
step_read(struct tu_members *ms, struct conn *c)
{
    for (;;) {
        if (c->in_len + 1 >= sizeof(c->in))
            return -1;
        int r = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof(c->in) - 1 - c->in_len));
        if (r <= 0)
            return ssl_wait(c, r);
        c->in_len += (size_t)r;
        c->in[c->in_len] = '\0';
        if (strstr(c->in, "\r\n\r\n") != NULL)
            return on_request(ms, c);
    }
}

static int
step_write(struct tu_members *ms, struct conn *c)
{
    const struct tu_member_spec *s = &ms->m[c->member].spec;

    while (c->out_pos < c->out_limit) {
        if (now_ms() < c->next_ms)
            return 0;
        size_t n = c->out_limit - c->out_pos;
        if (c->slow)
            n = 1;
        int r = SSL_write(c->ssl, c->out + c->out_pos, (int)n);
        if (r <= 0)
            return ssl_wait(c, r);
        c->out_pos += (size_t)r;
        if (c->slow)
            c->next_ms = now_ms() + s->delay_ms;
    }
    if (c->out_limit < c->out_len)
        return -1; /* close mid-body */
    c->st = C_READ;
    c->want_write = false;
    return 0;
}

/* Advance one connection; -1 to close it. */
static int
step(struct tu_members *ms, struct conn *c)
{
    if (c->st == C_HANDSHAKE) {
        int r = SSL_accept(c->ssl);

        if (r != 1)
            return ssl_wait(c, r);
        c->st = C_READ;
    }
    if (c->st == C_READ)
        return step_read(ms, c);
    if (c->st == C_WRITE)
        return step_write(ms, c);
    /* C_HOLD: only notice the peer going away */
    char b[256];
    int r = SSL_read(c->ssl, b, sizeof(b));
    return r > 0 ? 0 : ssl_wait(c, r);
}

static void
conn_free(struct conn *c)
{
    if (c->ssl != NULL) {
        if (!c->dead)
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    close(c->fd);
    free(c->out);
    free(c);
}

static void
accept_all(struct tu_members *ms, size_t i)
{
    struct member *mb = &ms->m[i];

    for (;;) {
        int fd = accept4(mb->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct conn *c = calloc(1, sizeof(*c));
        if (c == NULL || (c->ssl = SSL_new(mb->ctx)) == NULL) {
            free(c);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->fd = fd;
        c->member = i;
        SSL_set_fd(c->ssl, fd);
        SSL_set_accept_state(c->ssl);
        atomic_fetch_add(&mb->connections, 1);
        c->next = ms->conns;
        ms->conns = c;
    }
}

/* ---- the loop ---------------------------------------------------------------------- */

static short
conn_events(const struct conn *c, int64_t now, int *timeout)
{
    if (c->st == C_WRITE && !c->want_write && c->next_ms > now) {
        int t = (int)(c->next_ms - now);

        *timeout = t < *timeout ? t : *timeout;
        return 0;
    }
    if (c->st == C_WRITE)
        return c->want_write ? POLLOUT : POLLOUT | POLLIN;
    return c->want_write ? POLLOUT : POLLIN;
}

static void *
serve(void *arg)
{
    struct tu_members *ms = arg;

    while (!atomic_load(&ms->stop)) {
        size_t nc = 0;
        for (struct conn *c = ms->conns; c != NULL; c = c->next)
            nc++;
        struct pollfd *p = calloc(1 + ms->n + nc, sizeof(*p));
        struct conn **cv = calloc(nc + 1, sizeof(*cv));
        int timeout = 100;
        int64_t now = now_ms();
        size_t k = 0;

        if (p == NULL || cv == NULL) {
            free(p);
            free(cv);
            break;
        }
        p[k++] = (struct pollfd){ms->wake[0], POLLIN, 0};
        for (size_t i = 0; i < ms->n; i++)
            p[k++] = (struct pollfd){ms->m[i].lfd, POLLIN, 0};
        size_t j = 0;
        for (struct conn *c = ms->conns; c != NULL; c = c->next) {
            cv[j++] = c;
            p[k++] = (struct pollfd){c->fd, conn_events(c, now, &timeout), 0};
        }
        poll(p, k, timeout);
        for (size_t i = 0; i < ms->n; i++) {
            if (p[1 + i].revents & POLLIN)
                accept_all(ms, i);
        }
        for (size_t i = 0; i < nc; i++) {
            short re = p[1 + ms->n + i].revents;
            struct conn *c = cv[i];

            if ((re != 0 || (c->st == C_WRITE && now_ms() >= c->next_ms)) && !c->dead &&
                step(ms, c) != 0)
                c->dead = true;
            if (re & (POLLHUP | POLLERR) && c->st != C_WRITE)
                c->dead = true;
        }
        /* drop closed connections */
        for (struct conn **pp = &ms->conns; *pp != NULL;) {
            struct conn *c = *pp;

            if (c->dead) {
                *pp = c->next;
                conn_free(c);
            } else {
                pp = &c->next;
            }
        }
        free(p);
        free(cv);
    }
    return NULL;
}

/* ---- set-up ---------------------------------------------------------------------- */

static int
listen_loopback(unsigned *port)
{
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 512) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

unsigned
tu_member_closed_port(void)
{
    unsigned port = 0;
    int fd = listen_loopback(&port);

    if (fd >= 0)
        close(fd);
    return port;
}

unsigned
tu_member_blackhole_port(int *fd)
{
    unsigned port = 0;

    *fd = listen_loopback(&port);
    return *fd >= 0 ? port : 0;
}

static SSL_CTX *
member_ctx(const struct tu_member_pki *pki, const struct tu_member_spec *s)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* adapters serve only a client certificate from the region CA (mTLS) */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    /* resumed sessions (the engine shares them) need a context with client
     * verification, else OpenSSL fails the handshake with internal_error */
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"fhirgate-test", 13);
    if (SSL_CTX_use_certificate_chain_file(ctx, s->cert != NULL ? s->cert : pki->server_cert) !=
            1 ||
        SSL_CTX_use_PrivateKey_file(ctx, s->key != NULL ? s->key : pki->server_key,
                                    SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(ctx, pki->ca, NULL) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

struct tu_members *
tu_members_start(const struct tu_member_pki *pki, const struct tu_member_spec *specs, size_t n)
{
    struct tu_members *ms = calloc(1, sizeof(*ms));

    if (ms == NULL)
        return NULL;
    ms->wake[0] = ms->wake[1] = -1;
    pthread_mutex_init(&ms->mu, NULL);
    ms->m = calloc(n + 1, sizeof(*ms->m));
    ms->n = n;
    if (ms->m == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++)
        ms->m[i].lfd = -1;
    if (pipe2(ms->wake, O_CLOEXEC | O_NONBLOCK) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        ms->m[i].spec = specs[i];
        ms->m[i].lfd = listen_loopback(&ms->m[i].port);
        ms->m[i].ctx = member_ctx(pki, &specs[i]);
        if (ms->m[i].lfd < 0 || ms->m[i].ctx == NULL)
            goto fail;
    }
    if (pthread_create(&ms->thread, NULL, serve, ms) != 0)
        goto fail;
    ms->started = true;
    return ms;
fail:
    tu_members_stop(ms);
    return NULL;
}

void
tu_members_stop(struct tu_members *ms)
{
    if (ms == NULL)
        return;
    atomic_store(&ms->stop, true);
    if (ms->started) {
        (void)!write(ms->wake[1], "x", 1);
        pthread_join(ms->thread, NULL);
    }
    while (ms->conns != NULL) {
        struct conn *c = ms->conns;

        ms->conns = c->next;
        conn_free(c);
    }
    for (size_t i = 0; ms->m != NULL && i < ms->n; i++) {
        if (ms->m[i].lfd >= 0)
            close(ms->m[i].lfd);
        SSL_CTX_free(ms->m[i].ctx);
    }
    if (ms->wake[0] >= 0) {
        close(ms->wake[0]);
        close(ms->wake[1]);
    }
    pthread_mutex_destroy(&ms->mu);
    free(ms->m);
    free(ms);
}

unsigned
tu_members_port(const struct tu_members *ms, size_t i)
{
    return ms->m[i].port;
}

const char *
tu_members_base(const struct tu_members *ms, size_t i)
{
    static _Thread_local char buf[64];

    snprintf(buf, sizeof(buf), "https://127.0.0.1:%u/fhir", ms->m[i].port);
    return buf;
}

unsigned long
tu_members_requests(const struct tu_members *ms, size_t i)
{
    return atomic_load(&ms->m[i].requests);
}

unsigned long
tu_members_connections(const struct tu_members *ms, size_t i)
{
    return atomic_load(&ms->m[i].connections);
}

void
tu_members_last(const struct tu_members *ms, size_t i, char *line, size_t line_cap, char *accept,
                size_t accept_cap)
{
    struct tu_members *w = (struct tu_members *)ms;

    pthread_mutex_lock(&w->mu);
    snprintf(line, line_cap, "%s", ms->m[i].last_line);
    snprintf(accept, accept_cap, "%s", ms->m[i].last_accept);
    pthread_mutex_unlock(&w->mu);
}
