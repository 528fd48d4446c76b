/*
 * adapters/daemon/adapter_daemon.h — the hospital adapter daemon
 * (bin/fhirgate-adapter) minus its HTTP handlers (adapters/facade).
 *
 *   configuration   adapter_config_load(): the whole file, validated before
 *                   anything listens (code maps and CSV mappings loaded,
 *                   files checked, secrets read from env:/file:);
 *   ingest          one durable pipeline for every input: HL7 v2 (MLLP and
 *                   POST /ingest/hl7v2), CDA, CSV, DICOMweb sync — convert,
 *                   code maps, sensitivity labels, validation, then the batch
 *                   committer, which groups what arrives within a few ms
 *                   into ONE adapter_store_apply_batch() transaction with the
 *                   ingest ledger and acknowledges only after the commit;
 *   drop folders    CDA and CSV files dropped into watched folders;
 *   PACS            QIDO-RS live search and/or a periodic sync into the store;
 *   registration    POST /members/register at the gateway (docs/design/region.md).
 *
 * Threads: the MLLP listener (one epoll thread), the converter, the
 * committer, the drop-folder watcher, the PACS sync and the registration
 * each run on their own thread; the HTTP handlers call in from MHD's pool
 * threads.  Everything reachable from struct adapter_config is immutable
 * after adapter_config_load().  Design notes: docs/design/adapter.md.
 */
#ifndef ADAPTERS_DAEMON_ADAPTER_DAEMON_H
#define ADAPTERS_DAEMON_ADAPTER_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "adapters/csv/csv.h"
#include "adapters/dicomweb/dicomweb.h"
#include "adapters/hl7v2/hl7v2.h"
#include "adapters/hl7v2/hl7v2_map.h"
#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/log.h"
#include "gateway/http/gw_http.h"

struct base_arena;
struct codemap;
struct gw_db_pool;
struct gw_http_metrics;
struct adapter_daemon;

/* ------------------------------------------------------------ config -- */

/* A client-certificate identity allowed to do something: the certificate
 * must chain to the region CA, and its subject CN equal `cn` (when set)
 * and its SHA-256 fingerprint equal `sha256` (when set). */
struct adapter_identity {
    const char *cn;     /* NULL: any CN */
    const char *sha256; /* 64 lower-case hex digits, or NULL */
};

/* One CSV export the adapter takes ([csv "NAME"]). */
struct adapter_csv_source {
    const char *name;                  /* the mapping's name: POST /ingest/csv?mapping=NAME */
    const char *mapping_path;          /* its mapping file */
    const struct csv_mapping *mapping; /* parsed at load (owned by the config's arena) */
    const char *drop_dir;              /* watched folder, or NULL */
    enum csv_on_error on_error;        /* bad rows: as the mapping says, skip, or fail the load */
    size_t batch_rows;                 /* resources per Bundle (one store transaction each) */
};

enum adapter_pacs_mode {
    ADAPTER_PACS_LIVE, /* ImagingStudy search asks the PACS at request time */
    ADAPTER_PACS_SYNC, /* a periodic sync copies studies into the store */
    ADAPTER_PACS_BOTH  /* both: live answers, stored studies when the PACS is down */
};

struct adapter_config {
    /* [adapter] */
    const char *member_id; /* "hosp-a": our CN at the gateway, Organization id */
    const char *name;      /* "Hospital A" */
    const char *state_dir; /* embedded database, drop-folder defaults */
    enum base_log_level log_level;
    const char *tz;         /* offset for local times without one, "+08:00" */
    const char *public_url; /* our facade's FHIR base as the gateway reaches it */
    unsigned shutdown_grace_ms;

    /* [http]: the facade (mutual TLS always) */
    struct gw_http_config http;
    struct adapter_identity gateway;        /* the only identity that may read data */
    struct adapter_identity *admin_clients; /* may read the admin paths and /metrics */
    size_t n_admin_clients;

    /* [database] */
    const char *db_url;       /* NULL: the embedded cluster under state_dir */
    const char *db_admin_url; /* migrations; NULL: db_url */
    unsigned db_pool_size;
    unsigned db_statement_timeout_ms;
    bool migrate_auto; /* apply pending adapter migrations at start (else only check) */

    /* [mllp] */
    bool mllp_enabled;
    const char *mllp_bind;
    uint16_t mllp_port;
    const char *mllp_tls_cert, *mllp_tls_key, *mllp_tls_ca;
    size_t mllp_max_frame;
    size_t mllp_max_clients;
    unsigned mllp_idle_ms;
    unsigned mllp_frame_ms;
    size_t mllp_max_inflight;

    /* [ingest]: the batch committer and who may push */
    size_t batch_max;                        /* messages per commit */
    unsigned batch_latency_ms;               /* how long the committer waits to fill a batch */
    size_t queue_max;                        /* messages waiting (beyond: AR / 503) */
    struct adapter_identity *ingest_clients; /* may POST to the ingest paths */
    size_t n_ingest_clients;
    unsigned drop_poll_ms;   /* drop folders: scan interval */
    unsigned drop_settle_ms; /* a file must keep its size this long before it is taken */
    size_t max_document;     /* bytes of one CDA document / dropped file */
    int64_t ledger_retention_s; /* ingest ledger rows older are deleted; 0: kept */

    /* [hl7v2] */
    struct hl7v2_parse_opts parse;
    struct hl7v2_map_opts map; /* codemap is set by the daemon, not the file */
    struct hl7v2_authority *authorities;
    const char *codemap_dir; /* NULL: no code maps */
    struct codemap *codemap; /* loaded from codemap_dir (owned by the config's arena) */
    const char *ack_app;     /* MSH-3 of our ACKs */
    const char *ack_facility;

    /* [cda] */
    const char *cda_drop_dir;

    /* [csv "NAME"] */
    struct adapter_csv_source *csv;
    size_t n_csv;

    /* [pacs] */
    bool pacs_enabled;
    struct dicomweb_pacs pacs;
    enum adapter_pacs_mode pacs_mode;
    enum dicomweb_level pacs_level;
    unsigned pacs_sync_ms;
    const char *pacs_wado_base;
    const char *pacs_patient_system; /* identifier system whose value is the PACS PatientID */
    const char *pacs_patient_issuer; /* our Issuer of Patient ID on a shared PACS, or NULL */
    bool pacs_discover; /* sync takes its patients from the PACS itself (imaging centre) */

    /* [gateway]: self-registration */
    bool register_enabled;
    const char *gw_url;
    const char *gw_ca;
    const char *gw_client_cert;
    const char *gw_client_key;
    unsigned register_retry_max_ms;
};

/*
 * Read and validate the configuration file `path` completely: every key
 * against the schema (deploy/adapter.conf.example), value ranges, files
 * that must exist, cross-key rules (mTLS required, a gateway identity),
 * code maps and CSV mappings loaded.  Everything lives in `a`.
 * Errors name the file and line, or the setting ("[csv \"x\"] mapping").
 */
BASE_MUST_CHECK int adapter_config_load(struct base_arena *a, const char *path,
                                        struct adapter_config **out, struct base_err *err);

/* The same for text in memory (`name` is used in locations and as the base
 * of relative paths). */
BASE_MUST_CHECK int adapter_config_parse(struct base_arena *a, const char *text, size_t len,
                                         const char *name, struct adapter_config **out,
                                         struct base_err *err);

/* Does the verified client certificate `cl` match `id`? */
bool adapter_identity_match(const struct adapter_identity *id, const struct gw_http_client *cl);
/* Does it match one of ids[0..n)? */
bool adapter_identity_any(const struct adapter_identity *ids, size_t n,
                          const struct gw_http_client *cl);

/* ------------------------------------------------------------ daemon -- */

/*
 * Start what needs no network listener of its own: the database (embedded
 * or configured; migrations applied or checked), the converter and the
 * committer threads, and the MLLP listener's socket (bound, not served).
 * `cfg` must outlive the daemon.
 */
BASE_MUST_CHECK int adapter_daemon_start(const struct adapter_config *cfg,
                                         struct adapter_daemon **out, struct base_err *err);

/* Serve: the MLLP listener, drop folders, PACS sync and the registration
 * (once the facade listens, so the gateway's first probe finds it). */
BASE_MUST_CHECK int adapter_daemon_run(struct adapter_daemon *d, struct base_err *err);

/* First step of a graceful stop: no new MLLP message or dropped file is
 * taken (a sender sees no ACK for what arrives now and resends later). */
void adapter_daemon_quiesce(struct adapter_daemon *d);

/* Last step: commit and acknowledge everything received (drain), wait for
 * the ACKs to be written, stop every thread, close the database.  Call it
 * after the HTTP server has stopped.  `d` is invalid afterwards. */
void adapter_daemon_stop(struct adapter_daemon *d);

uint16_t adapter_daemon_mllp_port(const struct adapter_daemon *d); /* 0 when off */
const struct adapter_config *adapter_daemon_config(const struct adapter_daemon *d);
struct gw_db_pool *adapter_daemon_pool(struct adapter_daemon *d);
struct gw_http_metrics *adapter_daemon_metrics(struct adapter_daemon *d);

/* Bring gauges computed from the store (code-map coverage) up to date; the
 * facade calls it before rendering /metrics.  With the store unavailable
 * the gauges keep their last values (the scrape still answers). */
void adapter_daemon_refresh_metrics(struct adapter_daemon *d);

/* The code-mapping report from the store (adapter_store_code_report: uses
 * of mapped and unmapped codes per local code system, each unmapped code
 * with its uses), over a pooled connection; it also refreshes the gauges.
 * *out is a new reference. */
BASE_MUST_CHECK int adapter_daemon_codemap_report(struct adapter_daemon *d, json_t **out,
                                                  struct base_err *err);

/* ------------------------------------------------------------ ingest -- */

/* Counts of one HTTP ingest call. */
struct adapter_ingest_counts {
    size_t messages; /* HL7 messages or Bundles submitted */
    size_t accepted; /* committed (AA / 2xx) */
    size_t rejected; /* AE / AR / refused */
};

/*
 * HL7 v2 text of one or many messages (a file or an FHS/BHS batch) through
 * the pipeline; each message is acknowledged after its commit.  The ACKs
 * (CR-separated segments, one message after another, separated by a LF)
 * are appended to `acks`.  `client` names the pushing system in logs.
 * BASE_E_PARSE when the text holds no message; BASE_E_IO when the store is
 * unavailable (the ACKs then say AR).
 */
BASE_MUST_CHECK int adapter_ingest_hl7v2(struct adapter_daemon *d, const char *data, size_t len,
                                         struct base_buf *acks, struct adapter_ingest_counts *n,
                                         struct base_err *err);

/*
 * One CDA document through the pipeline.  On success *response is the
 * transaction-response Bundle; on failure err says why (BASE_E_PARSE /
 * BASE_E_INVALID / BASE_E_LIMIT for the document, BASE_E_CONFLICT when the
 * store refuses an ambiguous conditional update, BASE_E_IO when the store
 * is down) and *response may hold an OperationOutcome with every issue.
 * *status is the HTTP status that fits (200, 400, 412, 413, 422, 503…).
 */
BASE_MUST_CHECK int adapter_ingest_cda(struct adapter_daemon *d, struct base_arena *a,
                                       const char *xml, size_t len, json_t **response,
                                       unsigned *status, struct base_err *err);

/* A CSV load in progress (POST /ingest/csv streams the body through it). */
struct adapter_csv_job;

/* Start a load with the mapping named `mapping` (BASE_E_NOTFOUND when none
 * is configured under that name).  `source_name` goes into row errors. */
BASE_MUST_CHECK int adapter_csv_begin(struct adapter_daemon *d, const char *mapping,
                                      const char *source_name, struct adapter_csv_job **out,
                                      struct base_err *err);
/* Feed bytes; full Bundles go to the store as they fill. */
BASE_MUST_CHECK int adapter_csv_feed(struct adapter_csv_job *j, const char *data, size_t len,
                                     struct base_err *err);
/*
 * Finish: the last rows are stored and *report (an OperationOutcome, new
 * reference) lists every bad row as "line L, column C" (warning when
 * skipped, error when the load failed) plus an information issue with the
 * counts; *counts gets the numbers.  Frees the job.
 */
BASE_MUST_CHECK int adapter_csv_end(struct adapter_csv_job *j, json_t **report,
                                    struct csv_report *counts, struct base_err *err);
/* Abandon a job (rows stored so far stay). */
void adapter_csv_abort(struct adapter_csv_job *j);

/* ------------------------------------------------------------- PACS -- */

/*
 * The ImagingStudy resources of local Patient `patient_id`, asked live from
 * the PACS (PatientID from the Patient's identifier in the configured
 * system).  BASE_E_NOTFOUND when the Patient does not exist or has no such
 * identifier (then there is nothing to ask: an empty answer is correct);
 * BASE_E_UPSTREAM / BASE_E_AUTH naming the PACS when it cannot answer.
 */
BASE_MUST_CHECK int adapter_pacs_live(struct adapter_daemon *d, struct base_arena *a,
                                      const char *patient_id, json_t **studies,
                                      struct base_err *err);

/*
 * ImagingStudy `study_id` read live (FHIR read of a study a live search
 * served): the study's Patient is remembered from that search (the last
 * BASE_LIMIT_ADAPTER_LIVE_SEEN studies served, in memory), the PACS is
 * asked again for that Patient and the study with this id returned in
 * *study (tied to `a`).  BASE_E_NOTFOUND when no live search served it
 * (since the start) or the PACS no longer has it; BASE_E_UPSTREAM /
 * BASE_E_AUTH naming the PACS when it cannot answer.
 */
BASE_MUST_CHECK int adapter_pacs_live_read(struct adapter_daemon *d, struct base_arena *a,
                                           const char *study_id, json_t **study,
                                           struct base_err *err);

/* Run one PACS sync round now (tests and the sync thread); returns the
 * number of studies stored, or a negative BASE_E_*. */
int adapter_pacs_sync_round(struct adapter_daemon *d, struct base_err *err);

#endif /* ADAPTERS_DAEMON_ADAPTER_DAEMON_H */
