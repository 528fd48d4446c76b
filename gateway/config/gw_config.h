/*
 * gateway/config/gw_config.h — the gateway daemon's configuration: one file
 * (fhir/base/conf format), loaded and validated completely before anything
 * listens, immutable afterwards.  Every key is documented in
 * deploy/gateway.conf.example and docs/design/gateway.md.
 *
 * Secrets (database URL with a password, the federation cursor key) are
 * `env:NAME` or `file:PATH`, never literal; they are never logged.
 */
#ifndef GATEWAY_CONFIG_GW_CONFIG_H
#define GATEWAY_CONFIG_GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/log.h"
#include "gateway/http/gw_http.h"

struct base_arena;

enum gw_config_migrate {
    GW_CONFIG_MIGRATE_AUTO, /* apply pending migrations at start (demo) */
    GW_CONFIG_MIGRATE_CHECK /* refuse to start when any is pending */
};

/* A member declared in the file ([member "id"]); seeded into the registry. */
struct gw_config_member {
    const char *id;
    const char *name;
    const char *base;        /* FHIR base URL of its adapter facade */
    const char *cert_sha256; /* lower-case hex of its client certificate, or NULL */
    bool is_active;          /* status = active (else pending) */
};

struct gw_config {
    /* [node] */
    const char *node_id;    /* this gateway node ("gw-1"): audit chain, logs */
    const char *state_dir;  /* absolute; embedded database, run files */
    const char *public_url; /* "https://gw.example" without trailing '/' */
    const char *fhir_base;  /* public_url + "/fhir" */
    enum base_log_level log_level;
    int tz_offset_min; /* offset shown in AuditEvent times (+480 = +08:00) */

    /* [http] */
    struct gw_http_config http;   /* routes/app filled by the program */
    unsigned shutdown_grace_ms;   /* in-flight requests get this long on SIGTERM */

    /* [database] */
    const char *db_url;       /* NULL: embedded cluster under state_dir/pg */
    const char *db_admin_url; /* migrations; NULL: db_url */
    unsigned db_pool_size;
    unsigned db_statement_timeout_ms;
    enum gw_config_migrate migrate;

    /* [audit] */
    const char *audit_chain;     /* default node_id */
    const char *audit_key;       /* P-256 private key PEM path, or NULL (no checkpoints) */
    unsigned audit_writers;
    unsigned audit_queue_max;
    unsigned audit_batch_max;
    unsigned audit_spill_rows;
    unsigned audit_append_timeout_ms;
    unsigned audit_checkpoint_rows;
    unsigned audit_checkpoint_ms;

    /* [auth] */
    const char *issuer;           /* default public_url */
    const char *audience;         /* default fhir_base */
    const char *signing_key;      /* PEM path (required) */
    const char *const *verify_keys; /* older keys still accepted (rotation) */
    size_t n_verify_keys;
    int64_t user_lifetime_s;
    int64_t system_lifetime_s;
    bool password_grant;
    const char *portal_client_id;
    unsigned lockout_user_failures;
    unsigned lockout_addr_failures;
    int64_t lockout_window_s;
    int64_t lockout_duration_s;
    int64_t purge_interval_s; /* expired codes, assertion ids, throttle rows */

    /* [federation] */
    const char *fed_ca;          /* region CA PEM (members' server certificates) */
    const char *fed_cert;        /* the gateway's client certificate */
    const char *fed_key;
    bool fed_allow_http;         /* plain http:// members (tests only) */
    unsigned fed_deadline_ms;    /* default 3 s */
    unsigned fed_member_timeout_ms;
    unsigned fed_max_inflight;
    unsigned fed_max_per_member;
    unsigned fed_loops;
    unsigned fed_workers;        /* threads that merge, audit and answer */
    size_t fed_max_body;
    unsigned fed_breaker_failures;
    unsigned fed_breaker_open_ms;
    unsigned char cursor_key[32]; /* HMAC key of paging cursors */
    bool has_cursor_key_previous;
    unsigned char cursor_key_previous[32];
    unsigned page_default;        /* _count default */
    unsigned page_max;            /* _count cap */

    /* [registry] */
    bool auto_approve;
    unsigned probe_interval_ms; /* 0: no probes */
    unsigned probe_timeout_ms;

    /* [mpi] */
    bool mpi_pull;
    unsigned mpi_pull_interval_ms;
    unsigned mpi_pull_count;
    double mpi_upper;
    double mpi_lower;
    const char *mpi_person_system;

    /* [portal] */
    const char *portal_root; /* NULL: no portal (404 at /) */
    unsigned portal_max_age_s;

    /* [reports] */
    const char *report_tz;
    unsigned night_start;
    unsigned night_end;
    double volume_factor;
    unsigned volume_min;

    /* [member "id"] */
    struct gw_config_member *members;
    size_t n_members;
};

/*
 * Read and validate `path` completely: syntax, schema, types, ranges,
 * cross-key rules (a TLS listener needs cert and key; federation needs a
 * CA; files named must exist and be readable), secrets resolved.
 * Everything lives in `a`.  Errors name "FILE:LINE" and the key, never a
 * value: BASE_E_IO (file unreadable), BASE_E_PARSE, BASE_E_INVALID,
 * BASE_E_LIMIT.
 */
BASE_MUST_CHECK int gw_config_load(struct base_arena *a, const char *path,
                                   struct gw_config **out, struct base_err *err);

/* The same from text (tests); `file_name` is used in locations and as the
 * base of relative paths. */
BASE_MUST_CHECK int gw_config_parse(struct base_arena *a, const char *text, size_t len,
                                    const char *file_name, struct gw_config **out,
                                    struct base_err *err);

/* A member id: 1..64 of [a-z0-9._-], not starting with '.' or '-' (it is
 * used in URLs, certificate CNs, metric labels and file names). */
bool gw_config_member_id_ok(const char *id);

#endif /* GATEWAY_CONFIG_GW_CONFIG_H */
