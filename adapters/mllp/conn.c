/*
 * One MLLP connection: read and de-frame, hand frames to ingest, write the
 * acknowledgements back in arrival order.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "adapters/mllp/mllp_int.h"
#include "fhir/base/arena.h"

void
mllp_conn_update_events(struct mllp_listener *l, struct conn *c)
{
    uint32_t ev = 0;
    struct epoll_event e;

    if (!c->paused && !c->rx_eof)
        ev |= EPOLLIN;
    if (c->out.len > c->out_off || c->tls_want_write)
        ev |= EPOLLOUT;
    if (ev == c->events)
        return;
    memset(&e, 0, sizeof(e));
    e.events = ev;
    e.data.u64 = (uint64_t)(c - l->conns) + 1;
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
        c->events = ev;
}

void
mllp_conn_close(struct mllp_listener *l, struct conn *c)
{
    if (!c->used)
        return;
    atomic_fetch_sub(&l->st_open, 1); /* counters change before the peer sees the close */
    if (c->ssl != NULL) {
        SSL_free(c->ssl); /* no close_notify: the peer may be gone or hostile */
        c->ssl = NULL;
    }
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    for (size_t i = 0; i < c->qlen; i++)
        base_free(c->q[(c->qhead + i) % l->cfg.max_inflight].ack);
    base_free(c->q);
    base_free(c->subject);
    mllp_deframer_fini(&c->df);
    base_buf_fini(&c->in);
    base_buf_fini(&c->out);
    c->used = false;
    c->gen++;
}

static long
conn_recv(struct mllp_listener *l, struct conn *c, char *buf, size_t cap)
{
    ssize_t n;

    if (c->ssl != NULL)
        return mllp_tls_read(l, c, buf, cap);
    n = recv(c->fd, buf, cap, 0);
    if (n >= 0)
        return (long)n;
    return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? -1 : -2;
}

static long
conn_send(struct mllp_listener *l, struct conn *c, const char *buf, size_t len)
{
    ssize_t n;

    if (c->ssl != NULL)
        return mllp_tls_write(l, c, buf, len);
    n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
        return (long)n;
    return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? -1 : -2;
}

static void
on_frame(struct mllp_listener *l, struct conn *c, struct base_str frame)
{
    struct pending *p = &c->q[(c->qhead + c->qlen) % l->cfg.max_inflight];
    struct mllp_msg msg = {frame.ptr, frame.len, c->peer, c->subject};
    struct mllp_ticket t = {mllp_conn_id(l, c), c->next_seq};

    p->seq = c->next_seq++;
    p->ready = false;
    p->ack = NULL;
    p->len = 0;
    c->qlen++;
    atomic_fetch_add(&l->st_frames, 1);
    l->cfg.ingest(l->cfg.ingest_ctx, l, &msg, t);
}

/* De-frame p[0..n).  Returns false when the connection was closed.  Stops
 * (keeping the rest in c->in) when max_inflight messages wait. */
static bool
feed(struct mllp_listener *l, struct conn *c, const char *p, size_t n)
{
    size_t off = 0;

    while (off < n) {
        struct base_str frame;
        size_t used = 0;
        uint64_t garbage = c->df.garbage;
        int rc;

        if (c->qlen >= l->cfg.max_inflight) {
            c->paused = true;
            if (base_buf_append(&c->in, p + off, n - off) != BASE_OK) {
                mllp_conn_close(l, c);
                return false;
            }
            return true;
        }
        rc = mllp_deframer_feed(&c->df, p + off, n - off, &used, &frame, NULL);
        off += used;
        atomic_fetch_add(&l->st_garbage, c->df.garbage - garbage);
        if (c->df.in_frame && !c->frame_open)
            c->frame_start_ms = mllp_now_ms();
        c->frame_open = c->df.in_frame;
        if (rc < 0) {
            /* oversized or mis-framed: the stream cannot be trusted */
            atomic_fetch_add(&l->st_errors, 1);
            mllp_conn_close(l, c);
            return false;
        }
        if (rc == MLLP_FRAME)
            on_frame(l, c, frame);
    }
    return true;
}

/* Input kept while paused, fed once acknowledgements free the queue. */
static bool
resume(struct mllp_listener *l, struct conn *c)
{
    struct base_buf held = c->in;
    bool alive;

    c->paused = false;
    base_buf_init(&c->in, MLLP_READ_CHUNK);
    alive = feed(l, c, held.data != NULL ? held.data : "", held.len);
    base_buf_fini(&held);
    return alive;
}

void
mllp_conn_readable(struct mllp_listener *l, struct conn *c)
{
    static _Thread_local char buf[MLLP_READ_CHUNK];

    if (c->paused && c->qlen < l->cfg.max_inflight && !resume(l, c))
        return;
    while (!c->paused && !c->rx_eof) {
        long n = conn_recv(l, c, buf, sizeof(buf));

        if (n == -1)
            break;
        if (n == -2) {
            mllp_conn_close(l, c);
            return;
        }
        if (n == 0) {
            c->rx_eof = true;
            break;
        }
        c->last_rx_ms = mllp_now_ms();
        if (!feed(l, c, buf, (size_t)n))
            return;
    }
    if (c->rx_eof && c->qlen == 0 && c->out.len == c->out_off) {
        mllp_conn_close(l, c);
        return;
    }
    mllp_conn_update_events(l, c);
}

void
mllp_conn_flush(struct mllp_listener *l, struct conn *c)
{
    while (c->out_off < c->out.len) {
        long n = conn_send(l, c, c->out.data + c->out_off, c->out.len - c->out_off);

        if (n == -1)
            break;
        if (n <= 0) {
            mllp_conn_close(l, c);
            return;
        }
        c->out_off += (size_t)n;
        c->last_tx_ms = mllp_now_ms();
    }
    if (c->out_off == c->out.len) {
        base_buf_reset(&c->out);
        c->out_off = 0;
    }
    if (c->rx_eof && c->qlen == 0 && c->out.len == 0) {
        mllp_conn_close(l, c);
        return;
    }
    mllp_conn_update_events(l, c);
}

void
mllp_conn_ack_ready(struct mllp_listener *l, struct conn *c, uint64_t seq, char *ack, size_t len)
{
    struct pending *head = &c->q[c->qhead];
    uint64_t k = seq - head->seq;
    struct pending *p;

    if (c->qlen == 0 || seq < head->seq || k >= c->qlen ||
        c->q[(c->qhead + k) % l->cfg.max_inflight].ready) {
        base_free(ack); /* not waiting for this one (completed twice) */
        atomic_fetch_add(&l->st_dropped, 1);
        return;
    }
    p = &c->q[(c->qhead + k) % l->cfg.max_inflight];
    p->ready = true;
    p->ack = ack;
    p->len = len;
    /* original mode: acknowledgements leave in arrival order */
    while (c->qlen > 0 && c->q[c->qhead].ready) {
        p = &c->q[c->qhead];
        if (c->out.len == 0)
            c->last_tx_ms = mllp_now_ms();
        if (mllp_frame(&c->out, p->ack, p->len) != BASE_OK) {
            mllp_conn_close(l, c); /* the peer does not read its ACKs */
            return;
        }
        base_free(p->ack);
        p->ack = NULL;
        c->qhead = (c->qhead + 1) % l->cfg.max_inflight;
        c->qlen--;
        atomic_fetch_add(&l->st_acks, 1);
    }
    if (c->paused && c->qlen < l->cfg.max_inflight) {
        mllp_conn_readable(l, c);
        if (!c->used)
            return;
    }
    mllp_conn_flush(l, c);
}
