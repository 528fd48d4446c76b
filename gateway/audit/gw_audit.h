/*
 * gateway/audit/gw_audit.h — the tamper-evident, append-only audit store.
 *
 *   append      gw_audit_append: many request threads hand over one
 *               AuditEvent each and block until it is durably committed;
 *               whichever caller finds a writer slot free leads: it writes
 *               everything queued as one statement and transaction (group
 *               commit), extends that slot's hash chain and wakes every
 *               caller of the batch with the outcome.  Fail closed: an
 *               error means the request must not proceed (503).
 *   checkpoints ECDSA P-256 signatures over (chain, seq, hash, times) every
 *               N rows or T seconds, stored with the rows.
 *   verify      gw_audit_verify: recompute the chains over a range with a
 *               cursor (bounded memory), check checkpoint signatures, name
 *               the first row changed, removed or inserted.
 *   retention   gw_audit_archive: export old months, checkpoint the chain at
 *               the boundary, drop the partitions.
 *   queries     gw_audit_search / gw_audit_patient_accesses /
 *               gw_audit_report: JSON for the regulators' and patients' APIs
 *               (on a connection the caller borrowed; parameterized SQL).
 *
 * The row format, the canonical form that is hashed and the signature input
 * are specified in docs/design/storage.md.  This module stores whatever
 * AuditEvent it is given plus the indexed columns the caller supplies; it
 * does not build AuditEvents.
 */
#ifndef GATEWAY_AUDIT_GW_AUDIT_H
#define GATEWAY_AUDIT_GW_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct base_arena;
struct gw_db_conn;
struct gw_db_pool;
struct gw_audit;
struct gw_audit_key;

/* ---------------------------------------------------------------- keys -- */

/* Load an EC P-256 private key (PEM, PKCS#8 or SEC1).  BASE_E_IO when the
 * file cannot be read, BASE_E_INVALID when it is not a P-256 private key. */
BASE_MUST_CHECK int gw_audit_key_load_private(const char *path, struct gw_audit_key **out,
                                              struct base_err *err);
/* Load an EC P-256 public key (PEM SubjectPublicKeyInfo) — or the public
 * half of a private key file. */
BASE_MUST_CHECK int gw_audit_key_load_public(const char *path, struct gw_audit_key **out,
                                             struct base_err *err);
/* Write a new P-256 key pair: private key (PKCS#8 PEM, mode 0600) and public
 * key (PEM).  For set-up and tests. */
BASE_MUST_CHECK int gw_audit_key_generate(const char *private_path, const char *public_path,
                                          struct base_err *err);
void gw_audit_key_free(struct gw_audit_key *k);
/* Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo (64 characters). */
const char *gw_audit_key_id(const struct gw_audit_key *k);
/* PEM text of the public key. */
const char *gw_audit_key_public_pem(const struct gw_audit_key *k);

/* -------------------------------------------------------------- writer -- */

struct gw_audit_config {
    const char *chain_id;       /* this node's chain (required; e.g. the node name);
                                 * with several writers, "ID/1" … "ID/N" */
    unsigned writers;           /* writer slots = batches in flight at once, one
                                 * chain each (1..16); the pool needs at least
                                 * this many connections */
    const char *node;           /* default for gw_audit_record.node; NULL = chain_id */
    const char *signing_key;    /* PEM path of the P-256 key; NULL: no checkpoints */
    unsigned queue_max;         /* rows waiting at most; beyond: BASE_E_IO at once */
    unsigned batch_max;         /* rows per group commit */
    unsigned spill_rows;        /* while a batch is being written, rows queued behind it
                                 * before another slot opens (1: any free slot at once) */
    unsigned append_timeout_ms; /* longest wait while a row is still queued */
    unsigned checkpoint_rows;   /* sign a checkpoint after this many rows … */
    unsigned checkpoint_ms;     /* … or this long after the last one (if rows) */
    unsigned partitions_ahead;  /* months of partitions kept created ahead (>= 2) */
    /* Tests only: microseconds since the epoch used as recorded_at instead
     * of the database clock (still never before the chain's last row). */
    int64_t (*clock_us)(void);
};

/* Fill `c` with the defaults (chain_id stays NULL). */
void gw_audit_config_defaults(struct gw_audit_config *c);

/*
 * Start the audit writers on `pool` (a pool of its own is recommended, so
 * that request traffic cannot starve audit writes; at least `writers`
 * connections).  Loads
 * the signing key and records its public half, makes sure this month's and
 * the next partitions exist.  The database need not be up: appends fail
 * (fail closed) until it is.  BASE_E_INVALID for a bad config or key.
 */
BASE_MUST_CHECK int gw_audit_new(struct gw_db_pool *pool, const struct gw_audit_config *cfg,
                                 struct gw_audit **out, struct base_err *err);
/* Stop accepting appends, let the callers still waiting drain the queue,
 * sign a last checkpoint per chain, stop the timer thread.  Call it once
 * every appending thread has returned.  NULL is a no-op. */
void gw_audit_free(struct gw_audit *a);

/* The indexed columns that accompany one AuditEvent.  Every string is
 * borrowed for the duration of the call, UTF-8, at most
 * BASE_LIMIT_AUDIT_MAX_FIELD bytes; NULL = not applicable. */
struct gw_audit_record {
    const json_t *event;    /* the AuditEvent (borrowed) … */
    const char *event_json; /* … or its JSON text when event is NULL */
    size_t event_len;
    const char *action;          /* AuditEvent.action: C R U D E */
    const char *subtype;         /* read, search-type, $everything, login, … */
    const char *outcome;         /* AuditEvent.outcome: 0 4 8 12 */
    int http_status;             /* 0 = none */
    const char *agent_user;      /* user id of the requester */
    const char *agent_role;      /* clinician, regulator, admin, patient, system */
    const char *agent_org;       /* member organization acting */
    const char *patient_ref;     /* "Patient/…" whose record */
    const char *const *entities; /* references returned or touched */
    size_t entity_count;
    const char *purpose; /* purpose of use: TREAT, ETREAT, … */
    bool break_glass;
    const char *reason; /* break-the-glass reason, denial reason */
    const char *request_id;
    const char *node; /* NULL = config node */
    const char *client_addr;
};

/* Where an appended row landed. */
struct gw_audit_receipt {
    int64_t seq;
    char recorded[32]; /* "2026-11-28T14:33:20.123456Z" */
    char hash[65];
};

/*
 * Append one AuditEvent and wait until it is durably committed
 * (synchronous_commit on) together with whatever other rows were queued
 * with it.  BASE_OK: the row is committed and `out` (may be NULL) says
 * where.  Errors, after which the caller must fail the request:
 * BASE_E_INVALID/BASE_E_PARSE/BASE_E_LIMIT for a bad record (where = the
 * field), BASE_E_IO when the queue is full, the writer could not commit
 * (database down, lock or statement timeout — nothing of the batch is
 * written) or the row waited in the queue longer than append_timeout_ms.
 * Under -DFHIRGATE_BENCH_NOOP_AUDIT this is a no-op returning BASE_OK.
 */
BASE_MUST_CHECK int gw_audit_append(struct gw_audit *a, const struct gw_audit_record *rec,
                                    struct gw_audit_receipt *out, struct base_err *err);

/* Wait until everything queued so far is committed or failed (BASE_E_IO
 * after timeout_ms). */
BASE_MUST_CHECK int gw_audit_flush(struct gw_audit *a, unsigned timeout_ms, struct base_err *err);

struct gw_audit_stats {
    uint64_t appended;    /* rows committed */
    uint64_t failed;      /* rows that got an error */
    uint64_t rejected;    /* refused: queue full or invalid */
    uint64_t batches;     /* group commits */
    uint64_t checkpoints; /* checkpoints signed */
    unsigned max_batch;   /* largest group commit */
    unsigned peak_slots;  /* most batches written at once */
    unsigned queued;      /* rows waiting now */
};
void gw_audit_stats(struct gw_audit *a, struct gw_audit_stats *out);

/* -------------------------------------------------------------- verify -- */

enum gw_audit_problem_kind {
    GW_AUDIT_INTACT = 0,
    GW_AUDIT_CHANGED,       /* a row's content no longer matches its hash or chain */
    GW_AUDIT_REMOVED,       /* a sequence number is missing */
    GW_AUDIT_INSERTED,      /* a row that was never written by the gateway */
    GW_AUDIT_REWRITTEN,     /* rows before a signed checkpoint were re-hashed */
    GW_AUDIT_BAD_CHECKPOINT /* a checkpoint's signature is invalid or its key unknown */
};

struct gw_audit_problem {
    enum gw_audit_problem_kind kind;
    char chain_id[128];
    int64_t seq;      /* the row named */
    char time[32];    /* its recorded time ("" when unknown) */
    char detail[200]; /* one line, PHI-free */
};

struct gw_audit_verify_opts {
    const char *from; /* timestamps (anything timestamptz accepts); NULL = open */
    const char *to;
    const char *chain_id;           /* NULL = every chain */
    const struct gw_audit_key *key; /* trusted public key; NULL = keys stored in the database */
    FILE *out;                      /* one line per chain; NULL = quiet */
    unsigned fetch_rows;            /* rows per cursor fetch (0 = 2000) */
};

struct gw_audit_verify_result {
    bool intact;
    unsigned chains;
    unsigned chains_bad;
    uint64_t rows;                 /* rows whose hash was recomputed */
    uint64_t checkpoints;          /* checkpoint signatures verified */
    struct gw_audit_problem first; /* the first problem (kind INTACT when none) */
};

/*
 * Verify the chains (see docs/design/storage.md, "Verification").  Starts
 * each chain at the latest signed checkpoint before `from` (or the archive
 * boundary, or the first row), streams the rows in sequence order inside one
 * REPEATABLE READ snapshot, and stops a chain at its first problem.
 * BASE_OK when the verification ran — look at res->intact; an error only
 * when it could not run (database unreachable, bad option).
 */
BASE_MUST_CHECK int gw_audit_verify(struct gw_db_conn *c, const struct gw_audit_verify_opts *o,
                                    struct gw_audit_verify_result *res, struct base_err *err);

/* ------------------------------------------------------------- archive -- */

struct gw_audit_archive_opts {
    const char *before;             /* "YYYY-MM": archive months strictly before it */
    const char *dir;                /* folder for the exported files (must exist) */
    const struct gw_audit_key *key; /* private key for the boundary checkpoints */
    bool force;                     /* archive even when verification finds a problem */
    FILE *out;                      /* progress lines; NULL = quiet */
};

/*
 * Archive and drop the monthly partitions before opts->before: verify the
 * chains up to the boundary, export each month with COPY to
 * DIR/audit-event_YYYYMM.csv (SHA-256 recorded), then in one transaction per
 * month sign an "archive" checkpoint at each chain's last archived row,
 * record the month in audit.archive and drop the partition.  Needs the
 * owner's rights (run by the admin CLI).  *out_months = months archived.
 * BASE_E_INVALID for a bad month or one not yet over.
 */
BASE_MUST_CHECK int gw_audit_archive(struct gw_db_conn *c, const struct gw_audit_archive_opts *o,
                                     unsigned *out_months, struct base_err *err);

/* ------------------------------------------------------------- queries -- */

struct gw_audit_search {
    const char *from;    /* recorded_at >= from (timestamp text); NULL = open */
    const char *to;      /* recorded_at <  to */
    /* agent, outcome, purpose, member, action, subtype: one value, or several
     * separated by ',' (any of them, as FHIR token lists are); "" matches
     * nothing; NULL does not filter */
    const char *agent;   /* agent_user */
    const char *patient; /* patient_ref */
    const char *entity;  /* one of entities */
    const char *outcome;
    const char *purpose;
    const char *member; /* agent_org */
    const char *action;
    const char *subtype;
    /* filters on the event's content (JSON text, NULL for none): `contains`
     * [[obj, …], …]: for every inner list the event contains one of its
     * objects (jsonb @>); `strings` [{"on":"agent"|"entity","path":"a.b",
     * "mode":"prefix"|"exact"|"contains","any":["v", …]}, …]: for every
     * filter some agent/entity's value at path matches one of `any` (prefix
     * and contains ignore case) */
    const char *contains;
    const char *strings;
    unsigned count;   /* page size (1..BASE_LIMIT_AUDIT_MAX_PAGE; 0 = 50) */
    const char *page; /* "next" of a previous page, NULL for the first */
    /* one event by its FHIR id ("<chain>-<seq>", the chain's '/' and '_'
     * written '.'): event_chain the chain part, event_seq the number */
    const char *event_chain;
    const char *event_seq;
};

/*
 * A token search parameter's value (R4 search.html#token) as the list
 * gw_audit_search takes: values separated by ',' (any of them), each
 * "code", "|code" or "system|code"; the codes under one of `systems`
 * (NULL-terminated, or NULL for none) are kept, a value under another
 * system is left out, and when none is left the result is "" (matches
 * nothing).  NULL when `v` is NULL or a value is empty or has a second '|'.
 * Allocated in `a`.
 */
const char *gw_audit_token_codes(struct base_arena *a, const char *v,
                                 const char *const *systems);

/*
 * Search, newest first.  *out = {"events": [{"chain", "seq", "recorded",
 * "resource": AuditEvent}…], "next": token or null}.  BASE_E_INVALID for a
 * malformed page token or timestamp (where names the parameter).
 */
BASE_MUST_CHECK int gw_audit_search(struct gw_db_conn *c, const struct gw_audit_search *q,
                                    json_t **out, struct base_err *err);

/*
 * "Who looked at my record": accesses to `patient_ref`, newest first:
 * {"patient", "accesses": [{"time", "user", "role", "member", "purpose",
 * "break_glass", "outcome", "status", "subtype"}…], "next"}.
 */
BASE_MUST_CHECK int gw_audit_patient_accesses(struct gw_db_conn *c, const char *patient_ref,
                                              const char *from, const char *to, unsigned count,
                                              const char *page, json_t **out, struct base_err *err);

struct gw_audit_report_opts {
    const char *from;     /* required, timestamp text */
    const char *to;       /* required */
    const char *tz;       /* time zone for days and hours (default "UTC") */
    unsigned night_start; /* unusual hours start (0..23, default 22) */
    unsigned night_end;   /* … end, exclusive (0..23, default 6) */
    double volume_factor; /* unusual volume: > factor × median (default 3) */
    unsigned volume_min;  /* … and at least this many accesses (default 20) */
    unsigned max_list;    /* longest event list per section (default 500) */
    const char *member;   /* only events of this member's staff (agent_org), or NULL */
    const char *user;     /* only events of this user (agent_user), or NULL */
};

/*
 * A report for a period: {"period", "accesses", "per_member", "per_clinician",
 * "per_day", "denials", "break_glass", "unusual_hours", "unusual_volume"}
 * (see docs/design/storage.md, "Reports").  An access is an event with a
 * patient reference; a denial has HTTP status 401 or 403.
 */
BASE_MUST_CHECK int gw_audit_report(struct gw_db_conn *c, const struct gw_audit_report_opts *o,
                                    json_t **out, struct base_err *err);

#endif /* GATEWAY_AUDIT_GW_AUDIT_H */
