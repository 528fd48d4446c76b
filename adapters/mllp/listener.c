/*
 * The MLLP listener: one thread, one epoll set, no thread per connection.
 * Completions (ACKs) may come from any thread: they are queued under a
 * mutex and the loop is woken through an eventfd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "adapters/mllp/mllp_int.h"
#include "fhir/base/arena.h"

#define TAG_LISTEN 0u
#define TAG_WAKE   UINT64_MAX
#define TICK_MS    100

uint64_t
mllp_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
mllp_conn_id(const struct mllp_listener *l, const struct conn *c)
{
    return (uint64_t)c->gen << 32 | (uint64_t)(c - l->conns);
}

/* ------------------------------------------------------------------ setup -- */

static void
defaults(struct mllp_listener_cfg *c)
{
    if (c->bind_addr == NULL)
        c->bind_addr = "127.0.0.1";
    if (c->max_frame == 0)
        c->max_frame = BASE_LIMIT_MLLP_MAX_FRAME;
    if (c->max_clients == 0)
        c->max_clients = BASE_LIMIT_MLLP_MAX_CLIENTS;
    if (c->idle_ms == 0)
        c->idle_ms = BASE_LIMIT_MLLP_IDLE_MS;
    if (c->frame_ms == 0)
        c->frame_ms = BASE_LIMIT_MLLP_FRAME_MS;
    if (c->max_inflight == 0)
        c->max_inflight = BASE_LIMIT_MLLP_MAX_INFLIGHT;
}

static int
bind_listen(struct mllp_listener *l, struct base_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, l->cfg.bind_addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons(l->cfg.port);
        len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, l->cfg.bind_addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) ==
               1) {
        ss.ss_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(l->cfg.port);
        len = sizeof(struct sockaddr_in6);
    } else {
        return base_err_set(err, BASE_E_INVALID, "value", "bind_addr",
                            "bind address is not an IPv4 or IPv6 address");
    }
    l->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->lfd < 0)
        return base_err_set(err, BASE_E_IO, "exception", "listen", "could not create a socket");
    setsockopt(l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(l->lfd, (struct sockaddr *)&ss, len) != 0 || listen(l->lfd, 256) != 0)
        return base_err_set(err, BASE_E_IO, "exception", "listen",
                            "could not listen on the address and port (%s)", strerror(errno));
    len = sizeof(ss);
    if (getsockname(l->lfd, (struct sockaddr *)&ss, &len) == 0)
        l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return BASE_OK;
}

static int
epoll_setup(struct mllp_listener *l, struct base_err *err)
{
    struct epoll_event e;

    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->epfd < 0 || l->evfd < 0)
        return base_err_set(err, BASE_E_IO, "exception", "listen", "could not create epoll");
    memset(&e, 0, sizeof(e));
    e.events = EPOLLIN;
    e.data.u64 = TAG_LISTEN;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->lfd, &e) != 0)
        return base_err_set(err, BASE_E_IO, "exception", "listen", "could not watch the socket");
    e.data.u64 = TAG_WAKE;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &e) != 0)
        return base_err_set(err, BASE_E_IO, "exception", "listen", "could not watch the wake fd");
    return BASE_OK;
}

int
mllp_listener_new(const struct mllp_listener_cfg *cfg, struct mllp_listener **out,
                  struct base_err *err)
{
    struct mllp_listener *l;
    int rc;

    if (cfg == NULL || cfg->ingest == NULL)
        return base_err_set(err, BASE_E_INVALID, "required", "ingest",
                            "listener needs an ingest callback");
    if ((cfg->tls_cert_file == NULL) != (cfg->tls_key_file == NULL) ||
        (cfg->tls_ca_file != NULL && cfg->tls_cert_file == NULL))
        return base_err_set(err, BASE_E_INVALID, "value", "tls",
                            "TLS needs both a certificate and a key file");
    l = base_calloc(1, sizeof(*l));
    if (l == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    l->cfg = *cfg;
    defaults(&l->cfg);
    l->lfd = l->epfd = l->evfd = -1;
    pthread_mutex_init(&l->mu, NULL);
    l->nconns = l->cfg.max_clients;
    l->conns = base_calloc(l->nconns, sizeof(*l->conns));
    rc = l->conns == NULL ? base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory")
                          : BASE_OK;
    if (rc == BASE_OK && l->cfg.tls_cert_file != NULL)
        rc = mllp_tls_ctx(&l->cfg, &l->tls, err);
    if (rc == BASE_OK)
        rc = bind_listen(l, err);
    if (rc == BASE_OK)
        rc = epoll_setup(l, err);
    if (rc != BASE_OK) {
        mllp_listener_free(l);
        return rc;
    }
    *out = l;
    return BASE_OK;
}

uint16_t
mllp_listener_port(const struct mllp_listener *l)
{
    return l->port;
}

/* ----------------------------------------------------------------- accept -- */

static struct conn *
free_slot(struct mllp_listener *l)
{
    for (size_t i = 0; i < l->nconns; i++) {
        if (!l->conns[i].used)
            return &l->conns[i];
    }
    return NULL;
}

static void
peer_name(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
        port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof(host));
        port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    }
    snprintf(buf, cap, "%s:%u", host, port);
}

static bool
conn_open(struct mllp_listener *l, struct conn *c, int fd, const struct sockaddr_storage *ss)
{
    struct epoll_event e;
    int one = 1;

    memset(&e, 0, sizeof(e));
    c->fd = fd;
    c->q = base_calloc(l->cfg.max_inflight, sizeof(*c->q));
    if (c->q == NULL)
        return false;
    if (l->tls != NULL && ((c->ssl = SSL_new(l->tls)) == NULL || SSL_set_fd(c->ssl, fd) != 1)) {
        SSL_free(c->ssl);
        c->ssl = NULL;
        base_free(c->q);
        return false;
    }
    if (c->ssl != NULL)
        SSL_set_accept_state(c->ssl);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* ACK latency */
    mllp_deframer_init(&c->df, l->cfg.max_frame);
    base_buf_init(&c->in, MLLP_READ_CHUNK);
    base_buf_init(&c->out, MLLP_MAX_OUT);
    c->out_off = c->qhead = c->qlen = 0;
    c->next_seq = 0;
    c->paused = c->rx_eof = c->frame_open = c->tls_want_write = false;
    c->subject = NULL;
    c->last_rx_ms = c->last_tx_ms = mllp_now_ms();
    peer_name(ss, c->peer, sizeof(c->peer));
    e.events = c->events = EPOLLIN;
    e.data.u64 = (uint64_t)(c - l->conns) + 1;
    c->used = true;
    atomic_fetch_add(&l->st_open, 1);
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
        mllp_conn_close(l, c); /* closes fd */
        return true;
    }
    return true;
}

static void
accept_all(struct mllp_listener *l)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(l->lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *c;

        if (fd < 0)
            return; /* EAGAIN, or a transient error: the next event retries */
        c = free_slot(l);
        if (c == NULL || !conn_open(l, c, fd, &ss)) {
            atomic_fetch_add(&l->st_refused, 1); /* counted before the peer can see it */
            close(fd);
            continue;
        }
        atomic_fetch_add(&l->st_accepted, 1);
    }
}

/* ------------------------------------------------------------- completions -- */

int
mllp_listener_complete(struct mllp_listener *l, struct mllp_ticket t, const char *ack, size_t len)
{
    struct completion *c = base_malloc(sizeof(*c));
    uint64_t one = 1;

    if (c == NULL || (c->ack = base_malloc(len > 0 ? len : 1)) == NULL) {
        base_free(c);
        return BASE_E_NOMEM;
    }
    memcpy(c->ack, ack, len);
    c->len = len;
    c->t = t;
    c->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->done_tail != NULL)
        l->done_tail->next = c;
    else
        l->done_head = c;
    l->done_tail = c;
    pthread_mutex_unlock(&l->mu);
    if (write(l->evfd, &one, sizeof(one)) < 0) {
        /* the counter is saturated: the loop is awake anyway */
    }
    return BASE_OK;
}

static void
drain_completions(struct mllp_listener *l)
{
    struct completion *list;
    uint64_t v;

    if (read(l->evfd, &v, sizeof(v)) < 0) {
        /* nothing pending on the eventfd: fine, the list decides */
    }
    pthread_mutex_lock(&l->mu);
    list = l->done_head;
    l->done_head = l->done_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (list != NULL) {
        struct completion *next = list->next;
        size_t slot = (size_t)(list->t.conn_id & 0xffffffffu);
        struct conn *c = slot < l->nconns ? &l->conns[slot] : NULL;

        if (c != NULL && c->used && (uint64_t)c->gen == list->t.conn_id >> 32) {
            mllp_conn_ack_ready(l, c, list->t.seq, list->ack, list->len);
        } else {
            base_free(list->ack);
            atomic_fetch_add(&l->st_dropped, 1);
        }
        base_free(list);
        list = next;
    }
}

/* ------------------------------------------------------------------- loop -- */

static void
sweep(struct mllp_listener *l, uint64_t now)
{
    for (size_t i = 0; i < l->nconns; i++) {
        struct conn *c = &l->conns[i];
        bool expired = false;

        if (!c->used)
            continue;
        if (c->frame_open && now - c->frame_start_ms > l->cfg.frame_ms)
            expired = true; /* a frame that never ends */
        else if (c->out.len > c->out_off && now - c->last_tx_ms > l->cfg.idle_ms)
            expired = true; /* a peer that does not read its ACKs */
        else if (c->qlen == 0 && !c->frame_open && now - c->last_rx_ms > l->cfg.idle_ms)
            expired = true; /* silent, and not waiting for us */
        if (expired) {
            atomic_fetch_add(&l->st_timeouts, 1); /* before the peer sees the close */
            mllp_conn_close(l, c);
        }
    }
}

static void
dispatch(struct mllp_listener *l, const struct epoll_event *e)
{
    struct conn *c;

    if (e->data.u64 == TAG_LISTEN) {
        accept_all(l);
        return;
    }
    if (e->data.u64 == TAG_WAKE) {
        drain_completions(l);
        return;
    }
    c = &l->conns[e->data.u64 - 1];
    if (!c->used)
        return;
    if ((e->events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ||
        ((e->events & EPOLLOUT) && c->tls_want_write))
        mllp_conn_readable(l, c);
    if (c->used && (e->events & EPOLLOUT))
        mllp_conn_flush(l, c);
}

/* On the loop thread: the listening socket goes when a drain asks. */
static void
maybe_close_listen(struct mllp_listener *l)
{
    if (l->lfd < 0 || !atomic_load(&l->close_listen))
        return;
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->lfd, NULL);
    close(l->lfd);
    l->lfd = -1;
}

int
mllp_listener_run(struct mllp_listener *l)
{
    struct epoll_event evs[64];
    uint64_t last_sweep = mllp_now_ms();

    while (!atomic_load(&l->stop)) {
        int n = epoll_wait(l->epfd, evs, (int)BASE_ARRAY_LEN(evs), TICK_MS);
        uint64_t now;

        if (n < 0 && errno != EINTR)
            return BASE_E_IO;
        for (int i = 0; i < n; i++)
            dispatch(l, &evs[i]);
        maybe_close_listen(l);
        now = mllp_now_ms();
        if (now - last_sweep >= TICK_MS) {
            drain_completions(l);
            sweep(l, now);
            last_sweep = now;
        }
    }
    return BASE_OK;
}

void
mllp_listener_stop(struct mllp_listener *l)
{
    uint64_t one = 1;

    atomic_store(&l->stop, true);
    if (write(l->evfd, &one, sizeof(one)) < 0) {
        /* the loop also wakes every tick */
    }
}

void
mllp_listener_close_listen(struct mllp_listener *l)
{
    uint64_t one = 1;

    atomic_store(&l->close_listen, true);
    if (write(l->evfd, &one, sizeof(one)) < 0) {
        /* the loop also wakes every tick */
    }
}

void
mllp_listener_stats(struct mllp_listener *l, struct mllp_stats *out)
{
    out->accepted = atomic_load(&l->st_accepted);
    out->refused = atomic_load(&l->st_refused);
    out->open = atomic_load(&l->st_open);
    out->frames = atomic_load(&l->st_frames);
    out->acks = atomic_load(&l->st_acks);
    out->garbage_bytes = atomic_load(&l->st_garbage);
    out->protocol_errors = atomic_load(&l->st_errors);
    out->timeouts = atomic_load(&l->st_timeouts);
    out->dropped_acks = atomic_load(&l->st_dropped);
}

void
mllp_listener_free(struct mllp_listener *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; l->conns != NULL && i < l->nconns; i++)
        mllp_conn_close(l, &l->conns[i]);
    while (l->done_head != NULL) {
        struct completion *next = l->done_head->next;

        base_free(l->done_head->ack);
        base_free(l->done_head);
        l->done_head = next;
    }
    if (l->lfd >= 0)
        close(l->lfd);
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->evfd >= 0)
        close(l->evfd);
    SSL_CTX_free(l->tls);
    base_free(l->conns);
    pthread_mutex_destroy(&l->mu);
    base_free(l);
}
