/*
 * gateway/audit/audit_int.h — internals shared by the files of gateway/audit.
 */
#ifndef GATEWAY_AUDIT_AUDIT_INT_H
#define GATEWAY_AUDIT_AUDIT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fhir/base/buf.h"
#include "fhir/base/err.h"
#include "fhir/base/limits.h"
#include "gateway/audit/gw_audit.h"
#include "gateway/db/gw_db.h"

/* The fields of the canonical form, in their order (docs/design/storage.md). */
enum gw_audit__col {
    GW_AUDIT__CHAIN,
    GW_AUDIT__SEQ,
    GW_AUDIT__RECORDED,
    GW_AUDIT__PREV,
    GW_AUDIT__ACTION,
    GW_AUDIT__SUBTYPE,
    GW_AUDIT__OUTCOME,
    GW_AUDIT__STATUS,
    GW_AUDIT__USER,
    GW_AUDIT__ROLE,
    GW_AUDIT__ORG,
    GW_AUDIT__PATIENT,
    GW_AUDIT__ENTITIES, /* already encoded: concatenated fields of the elements */
    GW_AUDIT__PURPOSE,
    GW_AUDIT__BREAK_GLASS,
    GW_AUDIT__REASON,
    GW_AUDIT__REQUEST,
    GW_AUDIT__NODE,
    GW_AUDIT__CLIENT,
    GW_AUDIT__EVENT,
    GW_AUDIT__NCOLS
};

/* One row's canonical values: v[i] NULL = SQL NULL, len[i] its bytes. */
struct gw_audit__canon {
    const char *v[GW_AUDIT__NCOLS];
    size_t len[GW_AUDIT__NCOLS];
};

#define GW_AUDIT__ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define GW_AUDIT__TIME_SQL(col)                                                                    \
    "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* Set field i of `c` from a C string (NULL stays SQL NULL). */
void gw_audit__canon_set(struct gw_audit__canon *c, enum gw_audit__col i, const char *s);
/* hex SHA-256 of the canonical form of `c` (out: 65 bytes). */
BASE_MUST_CHECK int gw_audit__row_hash(const struct gw_audit__canon *c, char out[65]);
/* Append the canonical form itself (for tests and documentation examples). */
BASE_MUST_CHECK int gw_audit__row_canonical(const struct gw_audit__canon *c, struct base_buf *out);
/* Encode entity references as the ENTITIES field value: each element as a
 * field, concatenated.  Appends to `out`. */
BASE_MUST_CHECK int gw_audit__entities_canon(const char *const *e, size_t n, struct base_buf *out);
/* Encode entity references as a PostgreSQL array literal for a text[]
 * parameter ({"a","b"} with \ and " escaped).  Appends to `out`. */
BASE_MUST_CHECK int gw_audit__entities_literal(const char *const *e, size_t n,
                                               struct base_buf *out);

/* Checkpoint signature input. */
struct gw_audit__cp {
    const char *chain_id;
    int64_t seq;
    const char *hash;
    const char *row_time;  /* canonical time text */
    const char *signed_at; /* canonical time text */
    const char *kind;
    const char *key_id;
};
BASE_MUST_CHECK int gw_audit__cp_canonical(const struct gw_audit__cp *cp, struct base_buf *out);

/* ---- the writer (append.c: callers' side; writer.c: writer threads) ---- */

#define GW_AUDIT__MAX_WRITERS 16u
/* Batches of up to this many rows use statements prepared once per
 * connection (planning the batch statement costs more than running it). */
#define GW_AUDIT__PREPARED_ROWS 8u

enum gw_audit__state { GW_AUDIT__QUEUED, GW_AUDIT__INFLIGHT, GW_AUDIT__DONE };

/* One queued row.  Lives in its own arena; freed by whoever drops the last
 * of its two references (the waiter and the writer), under gw_audit.mu. */
struct gw_audit__entry {
    struct base_arena *arena;
    struct gw_audit__entry *next;
    unsigned refs;
    enum gw_audit__state state;
    pthread_cond_t done; /* its waiter sleeps here (not a shared
                          * condition: no thundering herd) */
    /* the row, owned */
    const char *event_text;
    size_t event_len;
    const char *col[GW_AUDIT__NCOLS]; /* text values by canonical column */
    const char *entities_literal;     /* text[] literal or NULL */
    /* outcome, written by the writer */
    int rc;
    struct base_err err;
    struct gw_audit_receipt receipt;
    char prev[65];
};

/* One writer slot and its chain.  A caller that finds rows queued and a
 * slot free becomes the slot's leader and writes a batch (leader/follower
 * group commit: no hand-off to another thread).  The fields below `busy`
 * belong to whoever holds the slot busy. */
struct gw_audit__writer {
    struct gw_audit *a;
    char chain_id[BASE_LIMIT_AUDIT_MAX_FIELD + 1];
    bool busy;              /* under a->mu */
    struct gw_audit__entry **batch;
    int64_t rows_since_cp;
    int64_t last_cp_ms;
    int ensured_month;      /* months since year 0 known to have partitions */
    int64_t ensure_retry_ms;
    bool have_cached;       /* the chain head as this writer last left it */
    bool have_cached_once;  /* a batch succeeded before (a moved head is news) */
    int64_t moved_logged_ms;
    int64_t cached_seq;
    char cached_hash[65];
    int64_t cached_us;      /* its recorded time, microseconds since the epoch */
};

struct gw_audit {
    struct gw_db_pool *pool;
    struct gw_audit_config cfg;
    char node[BASE_LIMIT_AUDIT_MAX_FIELD + 1];
    struct gw_audit_key *key;
    pthread_mutex_t mu;
    pthread_cond_t tick;    /* the timer sleeps here; signalled at stop */
    pthread_cond_t drained; /* nothing queued or in flight */
    struct gw_audit__entry *head;
    struct gw_audit__entry *tail;
    unsigned queued;
    unsigned inflight;      /* rows being written */
    unsigned writing;       /* slots writing a batch of rows */
    bool stopping;
    bool timer_started;
    pthread_t timer;
    struct gw_audit_stats st;
    unsigned nwriters;
    struct gw_audit__writer writers[GW_AUDIT__MAX_WRITERS];
    /* [with checkpoint][rows - 1]; names unique to this instance */
    struct gw_db_stmt stmts[2][GW_AUDIT__PREPARED_ROWS];
    char stmt_names[2][GW_AUDIT__PREPARED_ROWS][48];
};

/* Build the prepared batch statements of `a` (heap SQL; freed by
 * gw_audit__free_statements). */
BASE_MUST_CHECK int gw_audit__build_statements(struct gw_audit *a, struct base_err *err);
void gw_audit__free_statements(struct gw_audit *a);

/* Under a->mu: when rows are queued and a slot is free, take the slot and
 * write one batch (the lock is released meanwhile).  True if it did. */
bool gw_audit__lead(struct gw_audit *a);
/* Checkpoint timer thread (arg: struct gw_audit *). */
void *gw_audit__timer_main(void *arg);
/* Make sure the partitions ahead exist (best effort, logged). */
void gw_audit__ensure_partitions(struct gw_audit__writer *w, struct gw_db_conn *c, bool force);
/* Drop one reference (under a->mu). */
void gw_audit__entry_unref(struct gw_audit__entry *e);
/* Condition variables on CLOCK_MONOTONIC. */
void gw_audit__cond_init(pthread_cond_t *cv);
int64_t gw_audit__mono_ms(void);
void gw_audit__abs_deadline(struct timespec *ts, int64_t at_ms);

/* Canonical time text of `us` microseconds since the epoch (out: 32 bytes). */
void gw_audit__format_time(int64_t us, char out[32]);
/* Wall clock in microseconds. */
int64_t gw_audit__now_us(void);

/* Sign `data`; *sig (base_malloc'd DER) and *sig_len.  Needs a private key. */
BASE_MUST_CHECK int gw_audit__sign(const struct gw_audit_key *k, const void *data, size_t len,
                                   unsigned char **sig, size_t *sig_len, struct base_err *err);
bool gw_audit__verify_sig(const struct gw_audit_key *k, const void *data, size_t len,
                          const unsigned char *sig, size_t sig_len);
/* Key from PEM text (public or private). */
BASE_MUST_CHECK int gw_audit__key_from_pem(const char *pem, size_t len, bool want_private,
                                           struct gw_audit_key **out, struct base_err *err);
bool gw_audit__key_has_private(const struct gw_audit_key *k);

/* Sign a checkpoint now: sets cp->signed_at (to `signed_at`, 32 bytes) and
 * cp->key_id, returns the signature as bytea hex text "\x…" in *sig_hex
 * (base_malloc'd). */
BASE_MUST_CHECK int gw_audit__cp_sign(const struct gw_audit_key *k, struct gw_audit__cp *cp,
                                      char signed_at[32], char **sig_hex, struct base_err *err);
/* Build, sign and insert one checkpoint row on `c` (inside the caller's
 * transaction).  `cp->key_id` and `signed_at` are filled in here. */
BASE_MUST_CHECK int gw_audit__insert_checkpoint(struct gw_db_conn *c, const struct gw_audit_key *k,
                                                struct gw_audit__cp *cp, struct base_err *err);
/* Record the key's public half in audit.signing_key (idempotent). */
BASE_MUST_CHECK int gw_audit__register_key(struct gw_db_conn *c, const struct gw_audit_key *k,
                                           struct base_err *err);

/* Hex helpers. */
void gw_audit__hex(const unsigned char *p, size_t n, char *out);
/* Decode hex (optionally prefixed "\x" as bytea text output); returns bytes
 * written or -1.  `out` needs (len/2) bytes. */
long gw_audit__unhex(const char *s, unsigned char *out, size_t cap);

/* ---- search paging (query.c) ---- */

/* Where a search page ends: the key of its last row. */
struct gw_audit__page_key {
    char time[32];
    char seq[24];
    char chain[BASE_LIMIT_AUDIT_MAX_FIELD + 1];
};

/* Parse a page token "v1~TIME~SEQ~HEX(CHAIN)" (untrusted: it comes back
 * from clients).  BASE_E_INVALID with where = "page" when malformed. */
/* A gw_audit_search list ("a,b") as the PostgreSQL array literal
 * {"a","b"} in `b` ("" gives {}, which matches nothing; NULL stays NULL).
 * BASE_E_INVALID (where = `where`) for a quote, backslash or control
 * character: no code or name of ours has one. */
BASE_MUST_CHECK int gw_audit__text_array(const char *list, struct base_buf *b, const char **out,
                                         const char *where, struct base_err *err);
BASE_MUST_CHECK int gw_audit__page_parse(const char *token, size_t len,
                                         struct gw_audit__page_key *out, struct base_err *err);

/* ---- the verification state machine (pure; unit-tested) ---- */

struct gw_audit__vrow {
    int64_t seq;
    const char *time;
    const char *prev_hash;
    const char *hash;     /* stored */
    const char *computed; /* recomputed from the content */
};

struct gw_audit__chk {
    const char *chain_id;
    int64_t next_seq; /* expected sequence number */
    char hash[65];    /* hash of the last accepted row (or anchor) */
    int64_t last_seq; /* last accepted row, 0 = only the anchor so far */
    char last_time[32];
    bool last_is_anchor;
    char prev_of_last[65]; /* prev_hash of the last accepted row */
    bool has_suspect;
    struct {
        int64_t seq;
        char time[32];
        bool content_ok;
    } suspect;
    bool has_dup; /* a sound second row with the last accepted seq */
    struct {
        int64_t seq;
        char time[32];
        char hash[65];
    } dup;
    bool done;
    struct gw_audit_problem problem;
};

void gw_audit__chk_init(struct gw_audit__chk *k, const char *chain_id, int64_t anchor_seq,
                        const char *anchor_hash, const char *anchor_time);
/* Feed the next row (in seq order).  Returns true when the row was
 * accepted; false when it was held as a suspect or a problem was found
 * (k->done). */
bool gw_audit__chk_feed(struct gw_audit__chk *k, const struct gw_audit__vrow *r);
/* End of rows: a held suspect becomes a problem. */
void gw_audit__chk_end(struct gw_audit__chk *k);
/* Record a problem (first one wins). */
void gw_audit__chk_fail(struct gw_audit__chk *k, enum gw_audit_problem_kind kind, int64_t seq,
                        const char *time, const char *fmt, ...) BASE_PRINTF(5, 6);

#endif /* GATEWAY_AUDIT_AUDIT_INT_H */
