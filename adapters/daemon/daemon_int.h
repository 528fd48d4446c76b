/*
 * adapters/daemon/daemon_int.h — internals shared by the daemon's files.
 * Only the daemon's own files include it.
 */
#ifndef ADAPTERS_DAEMON_DAEMON_INT_H
#define ADAPTERS_DAEMON_DAEMON_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "adapters/daemon/adapter_daemon.h"
#include "adapters/mllp/mllp.h"
#include "adapters/store/adapter_store.h"
#include "fhir/base/conf.h"
#include "gateway/db/gw_db.h"
#include "gateway/http/gw_http_metrics.h"

struct codemap_report;

/* ---- config (config.c, config_read.c) ---------------------------------- */

const struct base_conf_schema *adapter__conf_schema(void);
/* [mllp] / [ingest] / [hl7v2] / [pacs] / [gateway] readers (config_read.c). */
int adapter__read_mllp(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
                       struct base_err *err);
int adapter__read_ingest(const struct base_conf *c, struct adapter_config *cfg,
                         struct base_arena *a, struct base_err *err);
int adapter__read_hl7v2(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
                        struct base_err *err);
int adapter__read_docs(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
                       struct base_err *err);
int adapter__read_pacs(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
                       struct base_err *err);
int adapter__read_gateway(const struct base_conf *c, struct adapter_config *cfg,
                          struct base_arena *a, struct base_err *err);
/* "HOST:PORT" / "[v6]:PORT" into an arena host and a port. */
int adapter__parse_hostport(const struct base_conf_section *s, const char *key, const char *v,
                            struct base_arena *a, const char **host, uint16_t *port,
                            struct base_err *err);
/* A list of identities ("CN" or "sha256:HEX" items). */
int adapter__read_identities(const struct base_conf_section *s, const char *key,
                             struct base_arena *a, struct adapter_identity **out, size_t *n,
                             struct base_err *err);
/* A path the daemon will use must exist and be usable. */
enum adapter_check {
    ADAPTER_CHECK_FILE, /* a readable regular file */
    ADAPTER_CHECK_DIR,  /* a readable folder */
    ADAPTER_CHECK_DROP  /* a folder we can write (drop folders) */
};
int adapter__check_file(const struct base_conf_section *s, const char *key, const char *path,
                        enum adapter_check what, struct base_err *err);

/* ---- the ingest queue and the committer (committer.c) ------------------- */

struct adapter_job;

/* Called on the committer thread once the job's batch is durable (or the
 * whole batch failed: batch_rc != BASE_OK, nothing of it is durable). */
typedef void (*adapter_job_done_fn)(struct adapter_job *j, int batch_rc);

/*
 * One unit of work for the committer: a transaction Bundle (or a message
 * refused before conversion) with its ledger key.  Allocated by the
 * submitter in its own arena `a` (which must live until `done` ran);
 * `result` is filled by the committer before `done`.
 */
struct adapter_job {
    struct adapter_store_item item;
    struct adapter_store_result result;
    struct base_arena *a;     /* the job's arena (the ACK callback allocates here) */
    adapter_job_done_fn done; /* committer thread */
    void *ctx;
    int64_t enqueued_us;
    const char *kind;         /* "hl7v2", "cda", "csv", "pacs": metrics label */
    struct adapter_job *next; /* queue link (committer's) */
};

struct adapter_committer;

int adapter__committer_new(struct adapter_daemon *d, struct adapter_committer **out,
                           struct base_err *err);
/* Queue a job.  BASE_E_LIMIT when queue_max jobs wait (the caller answers
 * AR / 503 at once), BASE_E_IO once draining has begun. */
int adapter__committer_submit(struct adapter_committer *c, struct adapter_job *j,
                              struct base_err *err);
/* Commit everything queued, then stop the thread. */
void adapter__committer_drain(struct adapter_committer *c);
void adapter__committer_free(struct adapter_committer *c);
size_t adapter__committer_queued(struct adapter_committer *c);

/* Submit and wait for the commit (HTTP handlers, drop folders, PACS sync):
 * returns the batch's rc (job->result then describes the durable outcome). */
int adapter__submit_wait(struct adapter_daemon *d, struct adapter_job *j, struct base_err *err);

/* ---- the HL7 v2 pipeline (hl7.c) ---------------------------------------- */

/* One HL7 message, from raw bytes to a queued job whose done callback
 * delivers the ACK bytes to `deliver(ctx, ack, len)` (committer thread;
 * or at once on the calling thread when it cannot be queued). */
typedef void (*adapter_ack_fn)(void *ctx, const char *ack, size_t len, bool accepted);
int adapter__hl7_submit(struct adapter_daemon *d, const char *data, size_t len,
                        adapter_ack_fn deliver, void *ctx);

/* The converter thread: MLLP frames are converted there in arrival order,
 * then submitted to the committer.  free() converts what is queued first. */
struct adapter_converter;
int adapter__converter_new(struct adapter_daemon *d, struct adapter_converter **out,
                           struct base_err *err);
int adapter__converter_push(struct adapter_converter *c, const char *data, size_t len,
                            adapter_ack_fn deliver, void *ctx);
void adapter__converter_free(struct adapter_converter *c);

/* The MLLP side (mllp.c). */
int adapter__mllp_new(struct adapter_daemon *d, struct base_err *err);
int adapter__mllp_run(struct adapter_daemon *d, struct base_err *err);
void adapter__mllp_wait_acks(struct adapter_daemon *d, unsigned timeout_ms);
void adapter__mllp_stop(struct adapter_daemon *d);

/* ---- shared steps (pipeline.c) ------------------------------------------ */

/* Label every entry's resource (adapters/label) and validate the Bundle
 * (fhir/validate).  BASE_E_INVALID names the first error's location; with
 * `oo` every issue is appended. */
int adapter__prepare_bundle(json_t *bundle, json_t *oo, struct base_err *err);
/* Microseconds since the epoch (CLOCK_REALTIME). */
int64_t adapter__now_us(void);

/* ---- background threads (worker.c) ------------------------------------- */

struct adapter_worker;
typedef void (*adapter_worker_fn)(struct adapter_worker *w, void *arg);

struct adapter_worker {
    pthread_mutex_t mu; /* guards stop */
    pthread_cond_t cv;
    bool stop;
    bool started;
    pthread_t th;
    adapter_worker_fn fn;
    void *arg;
};

/* Run fn(w, arg) on a new thread.  `what` names it in errors. */
int adapter__worker_start(struct adapter_worker *w, adapter_worker_fn fn, void *arg,
                          const char *what, struct base_err *err);
/* Sleep up to ms, or until asked to stop; true when asked to stop. */
bool adapter__worker_sleep(struct adapter_worker *w, unsigned ms);
bool adapter__worker_stopping(struct adapter_worker *w);
/* Ask the thread to stop and join it (no-op when not started). */
void adapter__worker_stop(struct adapter_worker *w);

/* ---- documents (docs.c), drop folders (dropdir.c), PACS (pacs.c),
 *      registration (register.c), metrics (metrics.c) --------------------- */

int adapter__dropdir_start(struct adapter_daemon *d, struct base_err *err);
void adapter__dropdir_stop(struct adapter_daemon *d);
int adapter__pacs_start(struct adapter_daemon *d, struct base_err *err);
void adapter__pacs_stop(struct adapter_daemon *d);
/* [ingest] ledger_retention: trims the ingest ledger (retention.c). */
int adapter__retention_start(struct adapter_daemon *d, struct base_err *err);
void adapter__retention_stop(struct adapter_daemon *d);

/* Rewrites stale search index rows in the background (reindex.c). */
int adapter__reindex_start(struct adapter_daemon *d, struct base_err *err);
void adapter__reindex_stop(struct adapter_daemon *d);
/* The table of studies served live (study id -> local Patient id), in the
 * daemon's arena; only when the PACS is asked live. */
int adapter__pacs_seen_new(struct adapter_daemon *d, struct base_err *err);
int adapter__register_start(struct adapter_daemon *d, struct base_err *err);
void adapter__register_stop(struct adapter_daemon *d);

struct adapter_metrics {
    struct gw_http_metrics *reg;
    struct gw_http_metric *messages;    /* fhirgate_adapter_ingest_messages_total{kind,outcome} */
    struct gw_http_metric *latency;     /* fhirgate_adapter_ingest_latency_seconds{kind} */
    struct gw_http_metric *batch_size;  /* fhirgate_adapter_batch_size */
    struct gw_http_metric *commit_time; /* fhirgate_adapter_commit_seconds */
    struct gw_http_metric *acks;        /* fhirgate_adapter_acks_total{code} */
    struct gw_http_metric *resources;   /* fhirgate_adapter_resources_total{type,action} */
    struct gw_http_metric *pacs;        /* fhirgate_adapter_pacs_requests_total{mode,outcome} */
    struct gw_http_metric *files;       /* fhirgate_adapter_drop_files_total{kind,outcome} */
    struct gw_http_metric *codemap;     /* fhirgate_adapter_codemap_codes{system,result} */
    struct gw_http_metric *reindexing;  /* fhirgate_adapter_reindex_running */
    struct gw_http_metric *reindexed;   /* fhirgate_adapter_reindexed_resources_total */
};
int adapter__metrics_init(struct adapter_daemon *d, struct base_err *err);
/* The code-map report as gauges (the report from adapter_store_code_report). */
void adapter__metrics_codemap(struct adapter_daemon *d, const json_t *report);

/* One message's code-map counts (pipeline.c): a report to note into while
 * it converts (NULL when out of memory; free it with codemap_report_free),
 * then its counts copied into the store item (in `a`). */
struct codemap_report *adapter__code_uses_begin(void);
int adapter__code_uses_end(struct codemap_report *r, struct base_arena *a,
                           struct adapter_store_item *it);
void adapter__metrics_job(struct adapter_daemon *d, const struct adapter_job *j, int batch_rc);

/* ---- the daemon ---------------------------------------------------------- */

struct adapter_daemon {
    const struct adapter_config *cfg;
    struct base_arena *arena;
    struct gw_db_pool *pool; /* reads (facade) and short writes */
    char *db_url;            /* the service URL actually used */
    struct adapter_committer *committer;
    struct adapter_converter *converter;
    struct hl7v2_map_opts map; /* cfg->map + the code map (each message has its own report) */
    struct adapter_metrics m;
    pthread_mutex_t frame_mu; /* orders MLLP frames against the converter's end */
    atomic_bool quiescing;
    atomic_uint_fast64_t ack_seq; /* MSH-10 of our ACKs */

    struct mllp_listener *mllp;
    pthread_t mllp_thread;
    bool mllp_running;
    atomic_uint_fast64_t mllp_completed; /* tickets we completed */

    struct adapter_dropdir *dropdir;
    struct adapter_worker pacs_sync;
    struct adapter_pacs_seen *pacs_seen; /* NULL unless [pacs] mode live or both */
    struct adapter_worker reg;
    struct adapter_worker retention; /* ingest ledger trimming (retention.c) */
    struct adapter_worker reindex;   /* stale search index rows (reindex.c) */
};

#endif /* ADAPTERS_DAEMON_DAEMON_INT_H */
