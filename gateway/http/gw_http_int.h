/*
 * gateway/http/gw_http_int.h — internals shared by the files of
 * gateway/http.  Only this module includes it.
 */
#ifndef GATEWAY_HTTP_GW_HTTP_INT_H
#define GATEWAY_HTTP_GW_HTTP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "fhir/base/buf.h"
#include "gateway/http/gw_http.h"
#include "gateway/http/gw_http_metrics.h"
#include "gateway/http/gw_http_parse.h"

/* What a connection is waiting for, for the deadline sweeper. */
enum gw_http__wait {
    GW_HTTP__WAIT_NONE,    /* handler running, suspended, or answer being sent */
    GW_HTTP__WAIT_HEADERS, /* TLS handshake and request headers */
    GW_HTTP__WAIT_BODY,    /* the rest of the request body */
    GW_HTTP__WAIT_IDLE     /* keep-alive: the next request */
};

/* Per connection (MHD socket_context).  Freed when MHD closes it. */
struct gw_http_conn {
    struct gw_http_conn *prev; /* srv->conns, under srv->conn_lock */
    struct gw_http_conn *next;
    int fd;
    _Atomic int64_t deadline_ms; /* monotonic; 0 = none */
    _Atomic int wait;            /* enum gw_http__wait, for the log line of a cut */
    char addr[48];               /* client address, text */
    bool tls_checked;            /* owning pool thread only */
    struct gw_http_client client; /* strings in client_mem (heap) */
    char *client_mem;
};

/* A pending response, built by the handler, sent by the pool thread. */
struct gw_http__hdr {
    struct gw_http__hdr *next;
    const char *name;
    const char *value;
};

enum gw_http__body_kind {
    GW_HTTP__BODY_NONE,
    GW_HTTP__BODY_BUF,
    GW_HTTP__BODY_FD,
    GW_HTTP__BODY_STREAM
};

struct gw_http__resp {
    bool set;
    unsigned status;
    const char *content_type;
    enum gw_http__body_kind kind;
    const char *body;           /* BUF: arena or static memory */
    size_t len;
    int fd;                     /* FD: owned until queued */
    uint64_t off;
    uint64_t fd_len;
    gw_http_stream_fn stream;   /* STREAM */
    void *stream_cls;
    void (*stream_free)(void *cls);
    struct gw_http__hdr *headers;
    bool has_cache_control;
    bool has_csp; /* the handler set its own Content-Security-Policy */
};

enum gw_http__async_state {
    GW_HTTP__ASYNC_PENDING,
    GW_HTTP__ASYNC_RESUMED,
    GW_HTTP__ASYNC_CANCELLED
};

/*
 * Lives in its request, so it is valid for as long as anyone holds a
 * reference; the server may be gone when a cancelled holder resumes.
 * Lock order: srv->async_lock, then lock.
 */
struct gw_http_async {
    struct gw_http_req *req;
    struct gw_http_async *prev; /* srv->suspended, under srv->async_lock */
    struct gw_http_async *next;
    pthread_mutex_t lock;       /* protects state, on_cancel, cancel_cls */
    bool lock_ready;
    bool linked;                /* on srv->suspended, under srv->async_lock */
    int state;                  /* enum gw_http__async_state */
    void (*on_cancel)(void *cls);
    void *cancel_cls;
};

struct gw_http__reqhdr {
    struct base_str name;
    const char *value;
};

enum gw_http__phase {
    GW_HTTP__PH_LINE,      /* request line seen (uri log callback) */
    GW_HTTP__PH_BODY,      /* headers done, body arriving */
    GW_HTTP__PH_SUSPENDED, /* handed to another thread */
    GW_HTTP__PH_QUEUED     /* answer queued */
};

struct gw_http_req {
    struct gw_http_server *srv;
    struct MHD_Connection *conn;
    struct gw_http_conn *cc;
    struct base_arena *arena;
    _Atomic unsigned refs;      /* MHD side + async holder */
    enum gw_http__phase phase;  /* pool thread */
    char id[40];
    uint64_t t_start_ns;
    const char *method;
    const char *raw_target;     /* NULL when longer than max_url */
    size_t raw_target_len;
    struct gw_http_target target;
    struct gw_http_match match;
    bool matched;
    bool preflight; /* answered by the framework in r->resp: a CORS preflight (cors.c) or
                     * a plain OPTIONS (dispatch.c) */
    struct gw_http__reqhdr *headers;
    size_t header_count;
    struct base_buf body;
    uint64_t content_length;
    bool has_body;
    size_t bytes_in;            /* body bytes received */
    size_t drained;             /* body bytes discarded after the limit */
    bool counted;               /* counted in srv->inflight */
    struct gw_http_client client;
    struct gw_http__resp resp;  /* the handler's answer */
    struct gw_http__resp err_resp; /* an answer decided by the framework */
    bool has_err_resp;
    bool async_used;
    struct gw_http_async async;
    unsigned status_sent;
};

struct gw_http_server {
    const struct gw_http_config *cfg;
    struct gw_http_limits lim;
    struct MHD_Daemon *d;
    struct base_arena *arena;   /* router, PEM copies, header strings */
    struct gw_http_router *router;
    struct gw_http_metrics *metrics;
    bool own_metrics;
    struct gw_http_metric *m_requests;
    struct gw_http_metric *m_latency;
    struct gw_http_metric *m_cut;
    struct gw_http_metric *m_conns;
    struct gw_http_metric *m_inflight;
    struct gw_http_metric *m_suspended;
    char *key_pem;              /* wiped on free */
    size_t key_pem_len;
    char *cert_pem;
    char *ca_pem;
    gnutls_x509_crl_t *crls;
    unsigned crl_count;
    unsigned port;
    bool tls;
    const char *csp;
    const char *hsts;           /* header value, or NULL */
    const char **cors_origins;  /* lower case; see cors.c */
    size_t cors_count;
    bool cors_any;              /* "*" */
    pthread_mutex_t conn_lock;  /* protects conns */
    struct gw_http_conn *conns;
    pthread_t sweeper;
    bool sweeper_started;
    pthread_mutex_t sweep_lock; /* protects sweep_stop, with sweep_cond */
    pthread_cond_t sweep_cond;
    bool sweep_stop;
    pthread_mutex_t async_lock; /* protects the suspended list and `cancelling` */
    struct gw_http_async *suspended;
    bool cancelling;            /* shutdown cancelled the suspended: no new ones */
    _Atomic size_t inflight;    /* requests with complete headers, not yet completed */
    _Atomic size_t n_suspended; /* suspended and not yet answered */
    _Atomic size_t n_conns;
    _Atomic bool draining;
    _Atomic bool running;       /* the daemon has started (log level of MHD's messages) */
};

/* Monotonic clock. */
int64_t gw_http__now_ms(void);
uint64_t gw_http__now_ns(void);

/* dispatch.c */
void *gw_http__uri_log(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result gw_http__access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_len, void **req_cls);
void gw_http__completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                        enum MHD_RequestTerminationCode why);
void gw_http__req_unref(struct gw_http_req *r);

/* respond.c */
/* Fill `out` with an OperationOutcome answer allocated in r's arena;
 * falls back to a static body when memory is short. */
void gw_http__outcome_resp(struct gw_http_req *r, unsigned status, const char *issue_code,
                           const char *where, const char *msg, struct gw_http__resp *out);
/* Add a header to `resp` (validated, copied into r's arena). */
BASE_MUST_CHECK int gw_http__resp_header(struct gw_http_req *r, struct gw_http__resp *resp,
                                         const char *name, const char *value);
/* Queue `resp` for r with the standard headers; a fixed 500 when resp is
 * NULL, unset, or cannot be built. */
enum MHD_Result gw_http__queue(struct gw_http_req *r, const struct gw_http__resp *resp);
/* Queue the fixed 503 "shutting down" answer. */
enum MHD_Result gw_http__queue_unavailable(struct gw_http_req *r);
/* Close the fd / free the stream of an answer that was never queued. */
void gw_http__resp_release(struct gw_http__resp *resp);

/* async.c: the answer of a resumed request; runs on its pool thread. */
enum MHD_Result gw_http__async_answer(struct gw_http_req *r);
void gw_http__async_unlink(struct gw_http_req *r);
/* Cancel every suspended request (shutdown); returns how many. */
size_t gw_http__async_cancel_all(struct gw_http_server *s);

/* tls.c */
BASE_MUST_CHECK int gw_http__tls_load(struct gw_http_server *s, struct base_err *err);
void gw_http__tls_free(struct gw_http_server *s);
/* Check the connection's client certificate once and cache it in cc. */
void gw_http__tls_identify(struct gw_http_server *s, struct MHD_Connection *conn,
                           struct gw_http_conn *cc);
/* Copy cc's identity into r's arena. */
BASE_MUST_CHECK int gw_http__client_copy(struct gw_http_req *r, const struct gw_http_client *src);

/* cors.c */
BASE_MUST_CHECK int gw_http__cors_init(struct gw_http_server *s, struct base_err *err);
const char *gw_http__cors_allow(const struct gw_http_req *r);
bool gw_http__cors_add_headers(const struct gw_http_req *r, struct MHD_Response *mr);
bool gw_http__cors_is_preflight(const struct gw_http_req *r);
BASE_MUST_CHECK int gw_http__cors_preflight(struct gw_http_req *r, struct base_err *err);

#endif /* GATEWAY_HTTP_GW_HTTP_INT_H */
