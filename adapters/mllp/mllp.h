/*
 * adapters/mllp/mllp.h — HL7 Minimal Lower Layer Protocol (MLLP release 2,
 * HL7 v2.5.1 Appendix C): frames are 0x0B <message> 0x1C 0x0D.
 *
 * Two parts:
 *   - a pure, incremental de-framer (bytes in, whole frames out), used by
 *     the listener and fuzzed on its own;
 *   - a TCP listener (optionally TLS, OpenSSL) serving many clients from
 *     one thread with epoll, that hands each frame to an ingest callback and
 *     writes back, in order, the acknowledgement the callback supplies once
 *     the message is durably committed.
 */
#ifndef ADAPTERS_MLLP_MLLP_H
#define ADAPTERS_MLLP_MLLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"

#define MLLP_SB 0x0B /* start block */
#define MLLP_EB 0x1C /* end block */
#define MLLP_CR 0x0D

/* ----------------------------------------------------------- de-framer -- */

enum mllp_state {
    MLLP_OUTSIDE, /* between frames: bytes are counted as garbage */
    MLLP_INSIDE,  /* after 0x0B */
    MLLP_END,     /* after 0x1C, expecting 0x0D */
    MLLP_SKIP     /* discarding an oversized frame up to its end */
};

struct mllp_deframer {
    enum mllp_state state;
    struct base_buf frame; /* the frame being received (without markers) */
    size_t max_frame;
    uint64_t frames;  /* complete frames returned */
    uint64_t garbage; /* bytes seen outside frames */
    uint64_t errors;  /* oversized or badly terminated frames */
    bool in_frame;    /* a frame has started and not ended (for timeouts) */
};

void mllp_deframer_init(struct mllp_deframer *d, size_t max_frame);
void mllp_deframer_fini(struct mllp_deframer *d);

enum mllp_feed {
    MLLP_NEED_MORE = 0, /* all input consumed, no complete frame yet */
    MLLP_FRAME = 1      /* *frame holds a complete frame */
};

/*
 * Consume input p[0..n).  Returns MLLP_FRAME as soon as a frame is
 * complete: *frame points into the de-framer and stays valid until the
 * next call, *used says how much input was consumed (feed the rest again).
 * Returns MLLP_NEED_MORE when all n bytes were consumed.  Errors (the
 * frame is dropped, *used covers the offending byte, feeding may go on):
 *   BASE_E_LIMIT  frame longer than max_frame (the rest of it is skipped);
 *   BASE_E_PARSE  0x1C not followed by 0x0D, or 0x0B inside a frame.
 */
BASE_MUST_CHECK int mllp_deframer_feed(struct mllp_deframer *d, const char *p, size_t n,
                                       size_t *used, struct base_str *frame, struct base_err *err);

/* Append 0x0B msg 0x1C 0x0D to out. */
BASE_MUST_CHECK int mllp_frame(struct base_buf *out, const char *msg, size_t len);

/* ------------------------------------------------------------ listener -- */

struct mllp_listener;

/* Identifies one received message for its acknowledgement. */
struct mllp_ticket {
    uint64_t conn_id; /* connection (slot and generation) */
    uint64_t seq;     /* message number on that connection, from 0 */
};

struct mllp_msg {
    const char *data; /* the frame's bytes: valid only during the call */
    size_t len;
    const char *peer;        /* "127.0.0.1:54321" */
    const char *tls_subject; /* verified client certificate subject, or NULL */
};

/*
 * Called on the listener thread for each complete frame.
 *
 * Contract ("no ACK before commit"): the callback (or whoever it hands the
 * message to) calls mllp_listener_complete() exactly once per ticket, with
 * the acknowledgement to send, and only after the message is durably
 * committed (or definitively rejected).  It may do so from any thread, at
 * any later time, for many tickets at once: e.g. a committer thread that
 * collects messages from all connections, commits them in one transaction
 * with one fsync, then completes them all.  The callback must not block the
 * listener thread and must copy what it keeps of msg->data.
 *
 * The listener writes acknowledgements on each connection in the order the
 * messages arrived (HL7 original mode), holds back later ones until earlier
 * ones complete, and stops reading from a connection that has max_inflight
 * messages waiting.  Completions for a connection that has gone away are
 * dropped: the sender saw no ACK and will resend, so the store must be
 * idempotent (the HL7 v2 mapping's conditional updates are).
 */
typedef void (*mllp_ingest_fn)(void *ctx, struct mllp_listener *l, const struct mllp_msg *msg,
                               struct mllp_ticket t);

struct mllp_listener_cfg {
    const char *bind_addr;     /* "127.0.0.1" (NULL), "0.0.0.0", "::", … */
    uint16_t port;             /* 0: any free port (see mllp_listener_port) */
    size_t max_frame;          /* 0: BASE_LIMIT_MLLP_MAX_FRAME */
    size_t max_clients;        /* 0: BASE_LIMIT_MLLP_MAX_CLIENTS */
    unsigned idle_ms;          /* 0: BASE_LIMIT_MLLP_IDLE_MS; silent connection closed */
    unsigned frame_ms;         /* 0: BASE_LIMIT_MLLP_FRAME_MS; a started frame must end */
    size_t max_inflight;       /* 0: BASE_LIMIT_MLLP_MAX_INFLIGHT */
    const char *tls_cert_file; /* PEM; TLS is on when set */
    const char *tls_key_file;
    const char *tls_ca_file; /* set: client certificates from this CA required */
    mllp_ingest_fn ingest;
    void *ingest_ctx;
};

struct mllp_stats {
    uint64_t accepted;        /* connections accepted */
    uint64_t refused;         /* connections refused (max_clients) */
    uint64_t open;            /* connections open now */
    uint64_t frames;          /* messages handed to ingest */
    uint64_t acks;            /* acknowledgements written */
    uint64_t garbage_bytes;   /* bytes outside frames */
    uint64_t protocol_errors; /* oversized or badly framed, TLS failures */
    uint64_t timeouts;        /* connections closed for silence or slowness */
    uint64_t dropped_acks;    /* completions for closed connections */
};

/* Validate the configuration, bind and listen (nothing is served yet).
 * Errors: BASE_E_INVALID (configuration), BASE_E_IO (bind, TLS files). */
BASE_MUST_CHECK int mllp_listener_new(const struct mllp_listener_cfg *cfg,
                                      struct mllp_listener **out, struct base_err *err);
uint16_t mllp_listener_port(const struct mllp_listener *l);
/* Serve until mllp_listener_stop(); returns BASE_OK or BASE_E_IO. */
int mllp_listener_run(struct mllp_listener *l);
/* Thread-safe; run() returns soon after. */
void mllp_listener_stop(struct mllp_listener *l);
/* Thread-safe: stop accepting — the listening socket closes, so a sender's
 * new connection is refused and it retries elsewhere or later — while the
 * open connections are served on (their frames ACKed).  For a drain. */
void mllp_listener_close_listen(struct mllp_listener *l);
/* Thread-safe; `ack` is copied.  BASE_E_NOMEM only. */
BASE_MUST_CHECK int mllp_listener_complete(struct mllp_listener *l, struct mllp_ticket t,
                                           const char *ack, size_t len);
void mllp_listener_stats(struct mllp_listener *l, struct mllp_stats *out);
/* After run() has returned (or was never called). */
void mllp_listener_free(struct mllp_listener *l);

#endif /* ADAPTERS_MLLP_MLLP_H */
