/*
 * gateway/fed/gw_fed.h — federation: fan-out to member hospitals and the
 * merge of their answers into one searchset Bundle (issue #5; the
 * protocol is docs/design/region.md, the design docs/design/federation.md).
 *
 * Three parts, usable on their own:
 *
 *   1. The engine (gw_fed_engine_*): loop threads, each driving one libcurl
 *      multi handle, fed by a thread-safe queue.  gw_fed_submit() hands it a
 *      job (a list of member requests under one deadline) from any thread;
 *      the job's callback runs exactly once, on a loop thread, with one
 *      result per member.  mTLS with the gateway's client certificate, peers
 *      verified against the region CA, connections and TLS sessions reused,
 *      HTTP/2 where the member offers it, caps on concurrency, one retry of
 *      a GET after a connection reset, a circuit breaker per member.
 *
 *   2. The scanner (gw_fed_scan_bundle): one strict pass over a member's
 *      Bundle text that validates it and finds each entry's span and the few
 *      fields the gateway needs, without building a tree.
 *
 *   3. The merge (gw_fed_merge_*): sorts, de-duplicates and pages the
 *      members' entries, tags each with its source, reports each failed
 *      member as an OperationOutcome entry, and produces the Bundle text
 *      incrementally (a pull producer for the HTTP layer).
 */
#ifndef GATEWAY_FED_GW_FED_H
#define GATEWAY_FED_GW_FED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/str.h"

struct base_arena;
struct fhir_search;

/* ======================================================================
 * Results of member requests
 * ==================================================================== */

/* Why a member gave no usable answer.  Keep gw_fed_error_name() in step. */
enum gw_fed_error {
    GW_FED_OK = 0,         /* a 2xx answer arrived in full */
    GW_FED_E_REFUSED,      /* no connection: refused, unreachable, no such host */
    GW_FED_E_TIMEOUT,      /* the deadline or the member's timeout passed */
    GW_FED_E_TLS,          /* handshake failed: certificate from another CA, expired, … */
    GW_FED_E_HTTP_STATUS,  /* the member answered with a non-2xx status */
    GW_FED_E_TOO_LARGE,    /* the answer exceeded the per-member body cap */
    GW_FED_E_RESET,        /* the connection was reset or closed before the answer ended */
    GW_FED_E_INVALID,      /* not a valid answer (set by the merge, or an unparsable reply) */
    GW_FED_E_CIRCUIT_OPEN, /* skipped: the member's circuit breaker is open */
    GW_FED_E_SHUTDOWN,     /* the engine stopped before the request finished */
    GW_FED_E_INTERNAL      /* out of memory or a transfer that could not be set up */
};
#define GW_FED_ERROR_COUNT 11

/* Stable short name ("timeout", "tls", …) for logs, metrics and extensions. */
const char *gw_fed_error_name(enum gw_fed_error e);
/* The OperationOutcome issue code for a failed member (docs/design/region.md:
 * timeout | transient | exception | invalid). */
const char *gw_fed_error_issue_code(enum gw_fed_error e);

/* One member request of a job.  Strings are copied by gw_fed_submit(). */
struct gw_fed_request {
    const char *member_id;      /* "hosp-a": breaker, stats, tags */
    const char *member_name;    /* "Hospital A" (tag display, diagnostics); may be NULL */
    const char *base;           /* member FHIR base "https://a.example/fhir" (meta.source) */
    const char *url;            /* full URL to GET */
    const char *const *headers; /* extra "Name: value" lines (X-Request-Id, …) */
    size_t n_headers;
    bool offset_paging; /* the member honours _offset (fhirgate adapters do) */
};

/* What happened to one member request. */
struct gw_fed_result {
    const char *member_id;
    const char *member_name; /* never NULL (the id when no name was given) */
    const char *base;
    const char *url;
    bool offset_paging;
    enum gw_fed_error error;
    long status;      /* HTTP status; 0 when no answer arrived */
    const char *body; /* NUL-terminated (len in body_len); NULL when none */
    size_t body_len;
    const char *content_type; /* as sent, or NULL */
    uint64_t latency_us;      /* start of the (last) attempt to its end; 0 when not sent */
    unsigned attempts;        /* 0 (skipped), 1, or 2 after a retry */
    int http_version;         /* 1 or 2 (0 when no answer) */
    const char *detail;       /* client-safe reason when error != OK, else NULL */
};

/* ======================================================================
 * Engine
 * ==================================================================== */

struct gw_fed_breaker_config {
    unsigned failures; /* consecutive failures that open the circuit (0 = default) */
    unsigned open_ms;  /* how long it stays open before one trial request (0 = default) */
};

struct gw_fed_config {
    const char *ca_file;      /* region CA (PEM) that member certificates must chain to */
    const char *cert_file;    /* the gateway's client certificate (PEM), NULL: none */
    const char *key_file;     /* its private key (PEM) */
    bool allow_http;          /* also allow plain http:// (tests and benchmarks only) */
    bool http1_only;          /* do not offer HTTP/2 */
    unsigned loops;           /* loop threads (0 = 1) */
    unsigned max_inflight;    /* concurrent upstream requests, all loops (0 = default) */
    unsigned max_per_member;  /* concurrent requests to one member (0 = default) */
    unsigned max_queue;       /* jobs waiting (0 = default); more: gw_fed_submit fails */
    unsigned deadline_ms;     /* default job deadline (0 = BASE_LIMIT_FED_DEADLINE_MS) */
    unsigned connect_ms;      /* TCP + TLS setup (0 = BASE_LIMIT_FED_CONNECT_MS) */
    size_t max_body;          /* default per-member body cap (0 = BASE_LIMIT_FED_MAX_BODY) */
    unsigned max_connections; /* connection cache per loop (0 = 4 × max_inflight / loops) */
    struct gw_fed_breaker_config breaker;
};

/* A job: what gw_fed_submit() copies.  The deadline runs from submission. */
struct gw_fed_job {
    const struct gw_fed_request *requests;
    size_t n_requests;          /* 1 … BASE_LIMIT_FED_MAX_REQUESTS */
    unsigned deadline_ms;       /* 0: the engine's default */
    unsigned member_timeout_ms; /* per request; 0: the deadline */
    size_t max_body;            /* per member; 0: the engine's default */
    bool probe;                 /* a health probe: sent even when the circuit is open,
                                   and its success closes the circuit */
    /* Called on the loop thread as each member's result becomes final
     * (before `done`), e.g. to gw_fed_merge_add() it while slower members
     * are still out; may be NULL.  Must not block. */
    void (*on_result)(const struct gw_fed_result *r, size_t idx, void *ctx);
    void *on_result_ctx;
};

/* Handed to the callback; owned by the receiver from then on, who frees it
 * with gw_fed_answer_free() (from any thread).  Bodies live in it: keep it
 * until the merge that reads them is freed. */
struct gw_fed_answer {
    struct gw_fed_result *results; /* one per request, in request order */
    size_t n_results;
    uint64_t elapsed_us;      /* submission to completion */
    struct base_arena *arena; /* private */
};

/* Called exactly once per accepted job, on a loop thread.  It must not block
 * for long (it holds up that loop) and must not call gw_fed_engine_stop()
 * or gw_fed_engine_free(); it may call gw_fed_submit(). */
typedef void (*gw_fed_done_fn)(struct gw_fed_answer *answer, void *ctx);

struct gw_fed_engine;

/* Defaults from fhir/base/limits.h (no files set). */
struct gw_fed_config gw_fed_config_default(void);

/* Start the loop threads.  The file names are copied; the files are read
 * when connections are made.  BASE_E_INVALID for a bad configuration,
 * BASE_E_INTERNAL when libcurl or a thread cannot be set up. */
BASE_MUST_CHECK int gw_fed_engine_new(const struct gw_fed_config *cfg, struct gw_fed_engine **out,
                                      struct base_err *err);

/*
 * Queue a job (any thread).  On BASE_OK, `done` is called exactly once with
 * the results, at the latest shortly after the deadline; otherwise it is
 * never called: BASE_E_INVALID (no requests, too many, a request without
 * member id or URL), BASE_E_LIMIT (queue full: answer 503), BASE_E_IO (the
 * engine is stopping), BASE_E_NOMEM.
 */
BASE_MUST_CHECK int gw_fed_submit(struct gw_fed_engine *e, const struct gw_fed_job *job,
                                  gw_fed_done_fn done, void *ctx, struct base_err *err);

/* Stop accepting jobs, fail every queued and running job with
 * GW_FED_E_SHUTDOWN (their callbacks run), and join the threads.  Idempotent. */
void gw_fed_engine_stop(struct gw_fed_engine *e);
/* Stop, then release everything.  NULL is a no-op. */
void gw_fed_engine_free(struct gw_fed_engine *e);

void gw_fed_answer_free(struct gw_fed_answer *a);

/* ---- circuit breaker and per-member statistics ------------------------- */

enum gw_fed_breaker_state {
    GW_FED_CLOSED,   /* requests flow */
    GW_FED_OPEN,     /* requests are answered "circuit open" at once */
    GW_FED_HALF_OPEN /* one trial request is in flight */
};
const char *gw_fed_breaker_state_name(enum gw_fed_breaker_state s); /* "closed", … */

/* Upper bounds (ms) of the latency histogram buckets; the last bucket
 * (index GW_FED_LATENCY_BUCKETS - 1) is +Inf. */
#define GW_FED_LATENCY_BUCKETS 14
extern const unsigned gw_fed_latency_bounds_ms[GW_FED_LATENCY_BUCKETS - 1];

struct gw_fed_member_stats {
    const char *member_id;
    enum gw_fed_breaker_state state;
    unsigned consecutive_failures;
    unsigned inflight;
    uint64_t requests;                        /* requests finished (retries count once) */
    uint64_t errors;                          /* of which failed */
    uint64_t by_error[GW_FED_ERROR_COUNT];    /* per error kind (index GW_FED_OK: successes) */
    uint64_t latency[GW_FED_LATENCY_BUCKETS]; /* non-cumulative counts */
    uint64_t latency_sum_us;
    int64_t last_contact_ms; /* Unix ms of the last answer of any status; 0: never */
    int64_t last_success_ms;
    int64_t last_failure_ms;
    enum gw_fed_error last_error;
};

/* A consistent snapshot of every member seen so far, sorted by id, in `a`. */
BASE_MUST_CHECK int gw_fed_stats(struct gw_fed_engine *e, struct base_arena *a,
                                 struct gw_fed_member_stats **out, size_t *n_out);
/* Prometheus text exposition of those statistics (fhirgate_fed_*). */
BASE_MUST_CHECK int gw_fed_metrics_text(struct gw_fed_engine *e, struct base_buf *out);
/* Tell the breaker about a member answer the merge found invalid (the
 * transport worked, the content did not): counts as a failure. */
void gw_fed_note_invalid(struct gw_fed_engine *e, const char *member_id);
/* Close a member's circuit by hand (an operator after a repair). */
void gw_fed_breaker_reset(struct gw_fed_engine *e, const char *member_id);

/* ======================================================================
 * Scanner: one member's Bundle text, without a tree
 * ==================================================================== */

/* A slice of the scanned text: for strings, the bytes between the quotes
 * (still JSON-escaped when the entry's `escaped` bit for it is set). */
struct gw_fed_span {
    uint32_t off;
    uint32_t len;
};

struct gw_fed_coding {
    struct gw_fed_span system; /* len 0: absent */
    struct gw_fed_span code;
};

/* Top-level date elements of a resource the sort keys use (choice
 * elements by their base name). */
enum gw_fed_date_elem {
    GW_FED_DE_EFFECTIVE,
    GW_FED_DE_PERIOD,
    GW_FED_DE_RECORDED_DATE,
    GW_FED_DE_ONSET,
    GW_FED_DE_STARTED,
    GW_FED_DE_AUTHORED_ON,
    GW_FED_DE_PERFORMED,
    GW_FED_DE_OCCURRENCE,
    GW_FED_DE_DATE,
    GW_FED_DE_ISSUED,
    GW_FED_DE_RECORDED,
    GW_FED_DE_DATE_ASSERTED,
    GW_FED_DE_DATE_TIME,
    GW_FED_DE_CREATED,
    GW_FED_DE_BIRTH_DATE,
    GW_FED_DE_ABATEMENT,
    GW_FED_DE_LAST_OCCURRENCE,
    GW_FED_DE_START,
    GW_FED_DE_COUNT
};

/* How a captured date element is written. */
enum gw_fed_date_form {
    GW_FED_DF_DATETIME, /* a date, dateTime or instant string */
    GW_FED_DF_PERIOD,   /* a Period object */
    GW_FED_DF_OTHER     /* Timing, Age, Range, string, …: not read by the scanner */
};

struct gw_fed_date_field {
    uint8_t elem;             /* enum gw_fed_date_elem */
    uint8_t form;             /* enum gw_fed_date_form */
    struct gw_fed_span value; /* the string's contents, or the whole object */
};

#define GW_FED_MAX_DATE_FIELDS 4

enum gw_fed_entry_mode {
    GW_FED_MODE_NONE,
    GW_FED_MODE_MATCH,
    GW_FED_MODE_INCLUDE,
    GW_FED_MODE_OUTCOME
};

/* Bits of gw_fed_entry.escaped: which spans hold JSON escapes. */
enum {
    GW_FED_ESC_TYPE = 1u << 0,
    GW_FED_ESC_ID = 1u << 1,
    GW_FED_ESC_VERSION = 1u << 2,
    GW_FED_ESC_UPDATED = 1u << 3,
    GW_FED_ESC_FULLURL = 1u << 4,
    GW_FED_ESC_OTHER = 1u << 5 /* a coding, identifier or date string */
};

/* gw_fed_entry.meta_has: meta has members at all, a source, a tag. */
enum gw_fed_meta_has {
    GW_FED_META_ANY = 1u << 0,
    GW_FED_META_SOURCE = 1u << 1,
    GW_FED_META_TAG = 1u << 2
};

struct gw_fed_entry {
    struct gw_fed_span resource;     /* the resource object, braces included */
    struct gw_fed_span meta;         /* the meta object (len 0: none) */
    struct gw_fed_span full_url;     /* entry.fullUrl (len 0: none) */
    struct gw_fed_span type;         /* resource.resourceType */
    struct gw_fed_span id;           /* len 0: none */
    struct gw_fed_span version_id;   /* meta.versionId */
    struct gw_fed_span last_updated; /* meta.lastUpdated */
    uint32_t first_label, n_labels;  /* meta.security codings in gw_fed_scan.codings */
    uint32_t first_ident, n_idents;  /* identifier + masterIdentifier (system, value) */
    struct gw_fed_date_field dates[GW_FED_MAX_DATE_FIELDS];
    uint8_t n_dates;
    uint8_t mode;        /* enum gw_fed_entry_mode (entry.search.mode) */
    uint8_t escaped;     /* GW_FED_ESC_* */
    /* one byte between them, so that an entry stays 128 bytes */
    uint8_t dates_overflow : 1; /* more date elements than GW_FED_MAX_DATE_FIELDS */
    uint8_t meta_has : 3;       /* GW_FED_META_*: what meta holds (tagging) */
    uint32_t date_seen;  /* bit per enum gw_fed_date_elem present */
};

struct gw_fed_scan {
    const char *text;
    size_t len;
    bool has_total;
    uint64_t total;
    struct gw_fed_span next_url; /* link[relation=next].url (len 0: none) */
    bool next_escaped;
    struct gw_fed_entry *entries;
    size_t n_entries;
    struct gw_fed_coding *codings; /* meta.security codings of all entries */
    size_t n_codings;
    struct gw_fed_coding *idents; /* identifiers (system, value) of all entries */
    size_t n_idents;
};

struct gw_fed_scan_opts {
    size_t max_depth;         /* 0: BASE_LIMIT_FHIR_MAX_DEPTH */
    size_t max_entries;       /* 0: BASE_LIMIT_FED_MAX_ENTRIES */
    const char *const *types; /* resource types a match entry may have; NULL: any */
    size_t n_types;
    /* types an include entry may have; with `types` set, none unless listed */
    const char *const *include_types;
    size_t n_include_types;
};

/*
 * Scan `text` as a searchset Bundle: strict RFC 8259 (UTF-8, no U+0000, no
 * duplicate member names, bounded depth), resourceType "Bundle", type
 * "searchset", entries that are objects each with a resource whose
 * resourceType is a FHIR type name (and one of opts->types for match
 * entries, of opts->include_types for include entries, OperationOutcome
 * allowed as an outcome entry) and whose id is a
 * FHIR id.  BASE_E_PARSE / BASE_E_INVALID / BASE_E_LIMIT with err->where =
 * "byte N" and a client-safe message naming the entry index; never a crash
 * on any input.  The spans point into `text`, which must outlive *out.
 */
BASE_MUST_CHECK int gw_fed_scan_bundle(struct base_arena *a, const char *text, size_t len,
                                       const struct gw_fed_scan_opts *opts, struct gw_fed_scan *out,
                                       struct base_err *err);

/* The _sort value ("-date", "-_lastUpdated", …) that asks a member for the
 * merge's default order of `type` (most recent first), or NULL when no
 * search parameter matches it (docs/design/federation.md "Merge"). */
const char *gw_fed_default_sort(const char *type);

/* The value of a string span, JSON escapes decoded, NUL-terminated, in `a`. */
char *gw_fed_span_str(struct base_arena *a, const char *text, struct gw_fed_span s, bool escaped);
bool gw_fed_span_eq(const char *text, struct gw_fed_span s, const char *lit);

/* ======================================================================
 * Paging cursor: opaque, HMAC-signed, expiring, stateless
 * ==================================================================== */

#define GW_FED_CURSOR_KEY_LEN 32

/* Every gateway node behind the load balancer holds the same keys, so any
 * node can continue a cursor.  `previous` lets keys rotate without breaking
 * cursors issued just before. */
struct gw_fed_cursor_keys {
    uint8_t current_id;
    unsigned char current[GW_FED_CURSOR_KEY_LEN];
    bool has_previous;
    uint8_t previous_id;
    unsigned char previous[GW_FED_CURSOR_KEY_LEN];
};

/* Where one member's next page starts. */
struct gw_fed_member_state {
    const char *member_id;
    uint64_t offset;      /* offset paging: entries consumed so far; link paging:
                             entries of page_url already consumed */
    const char *page_url; /* link paging: the member page to fetch, relative to
                             the member's base ("/Observation?…"); NULL: offset paging */
    bool done;            /* nothing more from this member */
};

struct gw_fed_cursor {
    struct gw_fed_member_state *members;
    size_t n_members;
    int64_t expires; /* Unix seconds */
};

/*
 * Sign `c` into a URL-safe token (base64url), valid for ttl_s seconds from
 * `now` and only for requests that present the same `binding` (the caller
 * passes e.g. the user, the regional patient and the canonical query, so a
 * cursor cannot be replayed against another search).  BASE_E_LIMIT when
 * the token would exceed BASE_LIMIT_FED_MAX_CURSOR.
 */
BASE_MUST_CHECK int gw_fed_cursor_encode(struct base_arena *a, const struct gw_fed_cursor_keys *k,
                                         const struct gw_fed_cursor *c, const char *binding,
                                         unsigned ttl_s, int64_t now, char **token,
                                         struct base_err *err);
/* Verify and decode; BASE_E_INVALID (issue "invalid") for a token that is
 * malformed, signed with an unknown key, tampered with, bound to another
 * request, or expired. */
BASE_MUST_CHECK int gw_fed_cursor_decode(struct base_arena *a, const struct gw_fed_cursor_keys *k,
                                         const char *token, const char *binding, int64_t now,
                                         struct gw_fed_cursor *out, struct base_err *err);
/* The state of one member, or NULL when the cursor does not name it (a
 * member that joined after the first page: leave it out of later pages). */
const struct gw_fed_member_state *gw_fed_cursor_find(const struct gw_fed_cursor *c,
                                                     const char *member_id);
/*
 * The URL for a member's next page: `first_url` is the URL the first page
 * used (the member's search with its own patient id and _count); offset
 * paging appends _offset, link paging returns base + page_url.  NULL when
 * the arena is exhausted or st->done.
 */
char *gw_fed_page_url(struct base_arena *a, const char *base, const char *first_url,
                      const struct gw_fed_member_state *st);

/* ======================================================================
 * Merge
 * ==================================================================== */

/* What a policy filter sees of one entry (strings decoded, in the merge's arena). */
struct gw_fed_label {
    const char *system; /* may be NULL */
    const char *code;
};
struct gw_fed_entry_info {
    const char *member_id;
    const char *type;
    const char *id;                      /* may be NULL */
    const char *version_id;              /* may be NULL */
    const struct gw_fed_label *security; /* meta.security */
    size_t n_security;
};
/* Return false to leave the entry out (e.g. a sensitivity label the user
 * may not see); the merge counts what was left out. */
typedef bool (*gw_fed_admit_fn)(const struct gw_fed_entry_info *e, void *ctx);

struct gw_fed_merge_opts {
    const char *base_url;             /* the gateway's FHIR base, for Bundle.link */
    const char *path;                 /* "Observation" or "Patient/123/$everything" */
    const char *query;                /* canonical query, without paging (may be NULL) */
    const struct fhir_search *search; /* _sort keys (NULL: default order) */
    uint32_t count;                   /* page size; 0: every entry, no paging */
    const char *const *types;         /* types match entries may have; NULL: any */
    size_t n_types;
    const char *const *include_types; /* types include entries may have (see scan opts) */
    size_t n_include_types;
    const struct gw_fed_cursor *cursor;    /* the page being continued; NULL: first */
    const char *self_cursor;               /* that page's token, for the self link; NULL: first */
    const struct gw_fed_cursor_keys *keys; /* to sign the next cursor; NULL: no next link */
    const char *binding;                   /* see gw_fed_cursor_encode */
    unsigned cursor_ttl_s;                 /* 0: BASE_LIMIT_FED_CURSOR_TTL_S */
    int64_t now;                           /* Unix seconds; 0: the clock */
    const char *bundle_id;                 /* Bundle.id; may be NULL */
    const char *timestamp;                 /* Bundle.timestamp (instant); may be NULL */
    gw_fed_admit_fn admit;                 /* may be NULL */
    void *admit_ctx;
    size_t max_depth; /* 0: BASE_LIMIT_FHIR_MAX_DEPTH */
};

/* An entity on the page, for the audit record (BALP: every returned entity). */
struct gw_fed_entity {
    const char *type;
    const char *id;               /* may be NULL */
    const char *version;          /* may be NULL */
    const char *member_id;        /* where the returned copy came from */
    const char *const *also_from; /* members whose duplicates were folded into it */
    size_t n_also;
};

/* A failed member as the merge reports it. */
struct gw_fed_failure {
    const char *member_id;
    const char *member_name;
    enum gw_fed_error error;
    const char *detail;
    uint64_t latency_us;
};

struct gw_fed_merge;

/*
 * Prepare the merged page from one job's results: scan every answer
 * (an invalid one becomes a GW_FED_E_INVALID failure), select the page
 * across members in sort order, fold duplicates, compute the next cursor.
 * Fast: no tree of any member answer is built (only of an entry whose
 * _sort key the scanner cannot read).  `results` (and their bodies) must
 * outlive the merge.  Errors: BASE_E_NOMEM, BASE_E_INVALID for bad options.
 */
BASE_MUST_CHECK int gw_fed_merge_new(struct base_arena *a, const struct gw_fed_result *results,
                                     size_t n_results, const struct gw_fed_merge_opts *opts,
                                     struct gw_fed_merge **out, struct base_err *err);

/*
 * The same in three steps, so that each answer is scanned as it arrives
 * (gw_fed_job.on_result) rather than after the slowest member: start,
 * then add every member's result once (any order, idx < n_members, the
 * result must outlive the merge), then finish.  add() and finish() may
 * run on different threads one after the other, never at once.
 */
BASE_MUST_CHECK int gw_fed_merge_start(struct base_arena *a, size_t n_members,
                                       const struct gw_fed_merge_opts *opts,
                                       struct gw_fed_merge **out, struct base_err *err);
BASE_MUST_CHECK int gw_fed_merge_add(struct gw_fed_merge *m, size_t idx,
                                     const struct gw_fed_result *r, struct base_err *err);
BASE_MUST_CHECK int gw_fed_merge_finish(struct gw_fed_merge *m, struct base_err *err);

/*
 * Pull the Bundle text: up to `max` bytes into buf; returns the number
 * written, 0 at the end, -1 on an error (out of memory, or not finished).
 * A gw_http_stream_fn (gateway/http) maps 0 to GW_HTTP_STREAM_END and -1
 * to GW_HTTP_STREAM_ERROR.  Memory stays
 * bounded by the largest entry whatever the page size.
 */
ssize_t gw_fed_merge_read(struct gw_fed_merge *m, char *buf, size_t max);
/* An OperationOutcome written as the page's first entry (search mode
 * outcome), before the members' failures: the gateway's consent notice.
 * `resource_json` is one resource object the caller guarantees valid (a
 * constant of its own; it is not validated again); copied.  Before reading. */
BASE_MUST_CHECK int gw_fed_merge_lead_outcome(struct gw_fed_merge *m, const char *resource_json);
/* The whole text at once into `out` (tests, small answers). */
BASE_MUST_CHECK int gw_fed_merge_write(struct gw_fed_merge *m, struct base_buf *out);

/* The entities on the page, in output order (for the AuditEvent). */
void gw_fed_merge_entities(const struct gw_fed_merge *m, const struct gw_fed_entity **out,
                           size_t *n);
/* The members that failed (each has one OperationOutcome entry). */
void gw_fed_merge_failures(const struct gw_fed_merge *m, const struct gw_fed_failure **out,
                           size_t *n);

struct gw_fed_merge_info {
    size_t n_members;    /* results given */
    size_t n_ok;         /* members whose answer was used */
    size_t n_entries;    /* entries on the page (outcomes excluded) */
    size_t n_duplicates; /* entries folded into another */
    size_t n_filtered;   /* entries the admit filter left out */
    bool has_total;
    uint64_t total;
    const char *next_cursor; /* NULL on the last page */
};
void gw_fed_merge_info(const struct gw_fed_merge *m, struct gw_fed_merge_info *out);

/* Tie a merge's source tag and meta.source into one resource's text (the
 * operation the merge applies to each entry; exposed for tests): rewrite
 * meta so that meta.source = `source` and meta.tag holds exactly the
 * urn:fhirgate:member codings given (member-supplied ones with that system
 * are dropped, so a member cannot claim another's data). */
struct gw_fed_tag {
    const char *member_id;
    const char *member_name; /* may be NULL */
};
BASE_MUST_CHECK int gw_fed_tag_resource(struct base_buf *out, const char *text,
                                        const struct gw_fed_entry *e, const char *source,
                                        const struct gw_fed_tag *tags, size_t n_tags);

#define GW_FED_TAG_SYSTEM  "urn:fhirgate:member"
#define GW_FED_EXT_LATENCY "urn:fhirgate:fed:latency-ms"
#define GW_FED_EXT_ERROR   "urn:fhirgate:fed:error"

#endif /* GATEWAY_FED_GW_FED_H */
