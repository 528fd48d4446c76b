/*
 * gateway/fed/engine_int.h — the fan-out engine's insides, shared by
 * engine.c (threads, queue, jobs), xfer.c (one libcurl transfer) and
 * breaker.c (per-member circuit breaker and statistics).
 *
 * Threads and what they touch:
 *   - any thread: gw_fed_submit() takes loop->mu to queue a job and wakes
 *     the loop through its eventfd (fed_loop_wake());
 *   - a loop thread owns its multi handle, its jobs, transfers and easy
 *     handle pool (nobody else touches them);
 *   - members (breaker state and statistics) are shared by all loops and by
 *     gw_fed_stats(): every field of every struct fed_member is guarded by
 *     the one mutex engine->members_mu;
 *   - engine->inflight and engine->waiting are atomics (global cap).
 */
#ifndef GATEWAY_FED_ENGINE_INT_H
#define GATEWAY_FED_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <curl/curl.h>

#include "fhir/base/buf.h"
#include "gateway/fed/fed_int.h"

/* Breaker state and statistics of one member (guarded by members_mu). */
struct fed_member {
    struct fed_member *next; /* hash chain */
    char *id;
    enum gw_fed_breaker_state state;
    unsigned consecutive_failures;
    int64_t opened_us;   /* when the circuit last opened (monotonic) */
    bool trial_inflight; /* half-open: the one trial request is out */
    unsigned inflight;
    struct gw_fed_member_stats st; /* counters (id/state/inflight filled on snapshot) */
};

#define FED_MEMBER_BUCKETS 1024

struct fed_job;
struct fed_loop;

/* One member request of a job on its way (owned by the loop). */
struct fed_xfer {
    struct fed_job *job;
    size_t idx;
    struct fed_member *member;
    CURL *easy;
    struct curl_slist *headers;
    struct base_buf body;
    int64_t t_start;     /* start of the current attempt (monotonic µs) */
    int64_t t_end;       /* when libcurl finished it (0: not yet) */
    unsigned timeout_ms; /* effective timeout of the current attempt */
    unsigned attempts;
    bool trial; /* the half-open trial request of its member */
    bool too_large;
    bool running; /* added to the multi handle */
    bool done;
    bool holds_slot; /* counted in the global and member caps */
    bool in_pending; /* in the loop's pending list */
    struct fed_xfer *next_pending;
    struct fed_xfer *prev_pending;
    char errbuf[CURL_ERROR_SIZE];
};

struct fed_job {
    struct fed_job *next; /* queue, then the loop's active list */
    struct fed_job *prev;
    struct base_arena *arena;
    struct gw_fed_answer *answer;
    struct fed_xfer *xfers;
    const char *const **headers; /* per request, copied */
    size_t *n_headers;
    size_t n;
    size_t n_done;
    int64_t submitted_us;
    int64_t deadline_us;
    unsigned member_timeout_ms;
    size_t max_body;
    bool probe;
    gw_fed_done_fn done;
    void *ctx;
    void (*on_result)(const struct gw_fed_result *r, size_t idx, void *ctx);
    void *on_result_ctx;
};

struct fed_loop {
    struct gw_fed_engine *e;
    pthread_t thread;
    bool started;
    CURLM *multi;
    int epfd;   /* epoll over libcurl's sockets and wakefd (-1: none) */
    int wakefd; /* eventfd: a job queued, a slot freed, stop (-1: none) */
    pthread_mutex_t mu; /* protects queue_head/queue_tail and stop */
    struct fed_job *queue_head;
    struct fed_job *queue_tail;
    bool stop;
    /* loop thread only: */
    struct fed_job *active;        /* jobs with transfers (doubly linked) */
    struct fed_xfer *pending_head; /* transfers waiting for a slot (FIFO) */
    struct fed_xfer *pending_tail;
    CURL **pool; /* idle easy handles */
    size_t n_pool;
    int64_t timer_us; /* when libcurl wants its timeout action (-1: never) */
};

struct gw_fed_engine {
    struct gw_fed_config cfg; /* strings copied */
    CURLSH *share;            /* TLS sessions and DNS, shared by the loops */
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    struct fed_loop *loops;
    unsigned n_loops;
    atomic_uint next_loop;
    atomic_uint queued;
    atomic_uint inflight; /* transfers holding a global slot */
    atomic_uint waiting;  /* transfers pending for a slot, all loops */
    atomic_bool stopping;
    bool stopped;
    pthread_mutex_t members_mu; /* protects members[] and every fed_member */
    struct fed_member *members[FED_MEMBER_BUCKETS];
    size_t n_members;
    struct fed_member overflow; /* shared entry past BASE_LIMIT_FED_MAX_MEMBERS */
};

/* ---- breaker.c (all take members_mu themselves) ----------------------------------- */

enum fed_admit { FED_ADMIT, FED_ADMIT_TRIAL, FED_REJECT };

/* Find or create `id`'s member and decide whether a request may go. */
enum fed_admit fed_breaker_admit(struct gw_fed_engine *e, const char *id, bool probe,
                                 int64_t now_us, struct fed_member **out, unsigned *failures);
/* Take one of the member's concurrency slots (false: all taken). */
bool fed_member_slot(struct gw_fed_engine *e, struct fed_member *m);
void fed_member_release(struct gw_fed_engine *e, struct fed_member *m);
/* A request of `m` ended: statistics and breaker transitions. */
void fed_breaker_done(struct gw_fed_engine *e, struct fed_member *m, enum gw_fed_error err,
                      long status, uint64_t latency_us, bool sent, bool trial);
/* Release the member table (engine teardown). */
void fed_members_free(struct gw_fed_engine *e);

/* ---- loop.c ------------------------------------------------------------------------- */

/* The loop thread's body (pthread start routine; arg: struct fed_loop *). */
void *fed_loop_main(void *arg);
/* Set up L's epoll set, eventfd and libcurl's socket and timer callbacks
 * (L->multi exists); fed_loop_fini() closes them. */
BASE_MUST_CHECK int fed_loop_init_events(struct fed_loop *L);
void fed_loop_fini_events(struct fed_loop *L);
/* Wake L's thread (any thread; async-signal-safe). */
void fed_loop_wake(struct fed_loop *L);

/* ---- xfer.c ------------------------------------------------------------------------- */

/* Options common to every request, once per new easy handle. */
BASE_MUST_CHECK int fed_easy_setup(struct fed_loop *L, CURL *h);
/* Clear a pooled handle's pointers into the transfer it served. */
void fed_easy_forget(CURL *h);
/* Configure x->easy for its request (and this attempt's timeout). */
BASE_MUST_CHECK int fed_xfer_setup(struct fed_loop *L, struct fed_xfer *x, unsigned timeout_ms);
/* Classify a finished transfer into its result. */
void fed_xfer_result(struct fed_xfer *x, CURLcode cc, struct gw_fed_result *r);
/* Should this finished attempt be retried (GET, connection reset, time left)? */
bool fed_xfer_retry(const struct fed_xfer *x, CURLcode cc, int64_t now_us);

#endif /* GATEWAY_FED_ENGINE_INT_H */
