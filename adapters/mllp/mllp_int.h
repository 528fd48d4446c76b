/*
 * adapters/mllp/mllp_int.h — listener internals shared by listener.c,
 * conn.c and tls.c.  Everything here is touched by the listener thread
 * only, except what `mu` guards in struct mllp_listener.
 */
#ifndef ADAPTERS_MLLP_MLLP_INT_H
#define ADAPTERS_MLLP_MLLP_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <openssl/ssl.h>

#include "adapters/mllp/mllp.h"

#define MLLP_READ_CHUNK (64u << 10)
#define MLLP_MAX_OUT    (4u << 20) /* unsent ACK bytes before a reader is cut off */

/* One message waiting for its acknowledgement. */
struct pending {
    uint64_t seq;
    bool ready;
    char *ack; /* base_malloc'd once ready */
    size_t len;
};

struct conn {
    bool used;
    uint32_t gen; /* bumps on close: stale tickets miss */
    int fd;
    SSL *ssl;            /* NULL without TLS */
    bool tls_want_write; /* OpenSSL needs the socket writable to go on */
    bool rx_eof;         /* peer shut its side; stay until ACKs are out */
    bool paused;         /* max_inflight reached: not reading */
    bool frame_open;
    uint32_t events; /* epoll mask now registered */
    struct mllp_deframer df;
    struct base_buf in;  /* input read but not yet de-framed (while paused) */
    struct base_buf out; /* framed ACKs not yet written */
    size_t out_off;
    struct pending *q; /* ring of max_inflight */
    size_t qhead;
    size_t qlen;
    uint64_t next_seq;
    uint64_t last_rx_ms;
    uint64_t last_tx_ms;
    uint64_t frame_start_ms;
    char peer[64];
    char *subject; /* verified client certificate subject (base_malloc) */
};

struct completion {
    struct mllp_ticket t;
    char *ack;
    size_t len;
    struct completion *next;
};

struct mllp_listener {
    struct mllp_listener_cfg cfg; /* defaults filled in */
    int lfd;
    int epfd;
    int evfd;
    uint16_t port;
    SSL_CTX *tls;
    struct conn *conns;
    size_t nconns;
    atomic_bool stop;
    atomic_bool close_listen; /* drain: stop accepting, keep serving */
    pthread_mutex_t mu; /* guards done_head/done_tail */
    struct completion *done_head;
    struct completion *done_tail;
    atomic_uint_fast64_t st_accepted, st_refused, st_open, st_frames, st_acks, st_garbage,
        st_errors, st_timeouts, st_dropped;
};

uint64_t mllp_now_ms(void);
uint64_t mllp_conn_id(const struct mllp_listener *l, const struct conn *c);

/* conn.c */
void mllp_conn_readable(struct mllp_listener *l, struct conn *c);
void mllp_conn_flush(struct mllp_listener *l, struct conn *c);
void mllp_conn_close(struct mllp_listener *l, struct conn *c);
void mllp_conn_update_events(struct mllp_listener *l, struct conn *c);
void mllp_conn_ack_ready(struct mllp_listener *l, struct conn *c, uint64_t seq, char *ack,
                         size_t len);

/* tls.c */
int mllp_tls_ctx(const struct mllp_listener_cfg *cfg, SSL_CTX **out, struct base_err *err);
/* >0 bytes, 0 end of stream, -1 would block, -2 failed */
long mllp_tls_read(struct mllp_listener *l, struct conn *c, char *buf, size_t cap);
long mllp_tls_write(struct mllp_listener *l, struct conn *c, const char *buf, size_t len);

#endif /* ADAPTERS_MLLP_MLLP_INT_H */
