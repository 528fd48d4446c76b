/*
 * gateway/config/config.c — load and validate the gateway's config file.
 *
 * Every value is read and range-checked here, before anything listens
 * (STYLE.md 3.7: nginx and kore refuse to start on a bad config); the
 * result is immutable.  Messages name FILE:LINE and section.key, never a
 * value (it may be a secret).
 */
#include "gateway/config/gw_config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fhir/base/arena.h"
#include "fhir/base/conf.h"
#include "fhir/base/limits.h"
#include "gateway/config/config_int.h"
#include "gateway/db/gw_db.h"

#define MS_HOUR (3600ull * 1000u)
#define MS_DAY  (24ull * MS_HOUR)

/* ---------------------------------------------------------- helpers -- */

bool
gw_config_member_id_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;

    return n >= 1 && n <= 64 && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n &&
           id[0] != '.' && id[0] != '-';
}

static int
get_uint(const struct base_conf_section *s, const char *key, int64_t min, int64_t max,
         unsigned def, unsigned *out, struct base_err *err)
{
    int64_t v;

    TRY(base_conf_int(s, key, min, max, (int64_t)def, &v, err));
    *out = (unsigned)v;
    return BASE_OK;
}

static int
get_ms(const struct base_conf_section *s, const char *key, uint64_t min, uint64_t max,
       unsigned def, unsigned *out, struct base_err *err)
{
    uint64_t v;

    TRY(base_conf_duration_ms(s, key, min, max, def, &v, err));
    *out = (unsigned)v;
    return BASE_OK;
}

static int
get_secs(const struct base_conf_section *s, const char *key, uint64_t min_s, uint64_t max_s,
         int64_t def_s, int64_t *out, struct base_err *err)
{
    uint64_t v;

    TRY(base_conf_duration_ms(s, key, min_s * 1000u, max_s * 1000u, (uint64_t)def_s * 1000u, &v,
                              err));
    *out = (int64_t)(v / 1000u);
    return BASE_OK;
}

/* A decimal number in [min, max] written as a string key. */
static int
get_double(const struct base_conf_section *s, const char *key, double min, double max, double def,
           double *out, struct base_err *err)
{
    const char *text = NULL;
    char *end = NULL;
    double v;

    TRY(base_conf_str(s, key, NULL, &text, err));
    if (text == NULL) {
        *out = def;
        return BASE_OK;
    }
    v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v) || v < min || v > max)
        return base_conf_fail(s, key, err, BASE_E_INVALID, "expected a number from %g to %g",
                              min, max);
    *out = v;
    return BASE_OK;
}

/* A file named by the config must exist and be readable now, not at the
 * first request that needs it. */
static int
need_readable(const struct base_conf_section *s, const char *key, const char *path,
              struct base_err *err)
{
    if (path != NULL && access(path, R_OK) != 0)
        return base_conf_fail(s, key, err, BASE_E_IO, "cannot read the file it names");
    return BASE_OK;
}

static int
get_file(const struct base_conf_section *s, const char *key, struct base_arena *a,
         const char **out, struct base_err *err)
{
    *out = NULL;
    TRY(base_conf_path(s, key, NULL, a, out, err));
    return need_readable(s, key, *out, err);
}

/* An absolute http(s) URL without a trailing slash, query or fragment. */
static int
check_base_url(const struct base_conf_section *s, const char *key, const char *url,
               struct base_err *err)
{
    size_t n = strlen(url);

    if ((strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) || n < 10 ||
        strpbrk(url, "?# \t\"<>\\") != NULL)
        return base_conf_fail(s, key, err, BASE_E_INVALID,
                              "expected an absolute http(s) URL without query or fragment");
    return BASE_OK;
}

static char *
strip_slash(struct base_arena *a, const char *url)
{
    size_t n = strlen(url);

    while (n > 0 && url[n - 1] == '/')
        n--;
    return base_arena_strndup(a, url, n);
}

/* Paging cursors are signed with HMAC-SHA-256 under a 32-byte key derived
 * from the configured secret (any length >= 16 bytes). */
static int
derive_key(const struct base_conf_section *s, const char *key, struct base_arena *a,
           unsigned char out[32], bool *present, struct base_err *err)
{
    struct base_str secret;
    unsigned int len = 32;

    *present = false;
    TRY(base_conf_secret(s, key, a, &secret, err));
    if (secret.len == 0)
        return BASE_OK;
    if (secret.len < 16)
        return base_conf_fail(s, key, err, BASE_E_INVALID, "the secret must be at least 16 bytes");
    if (EVP_Digest(secret.ptr, secret.len, out, &len, EVP_sha256(), NULL) != 1)
        return base_err_set(err, BASE_E_INTERNAL, "exception", "federation.cursor_key",
                            "could not derive the cursor key");
    *present = true;
    return BASE_OK;
}

/* ---------------------------------------------------------- sections -- */

static int
read_tz_offset(const struct base_conf_section *s, struct gw_config *c, struct base_err *err)
{
    const char *tz = NULL;
    int h = 0;
    int m = 0;
    char sign = '+';

    TRY(base_conf_str(s, "tz_offset", "+00:00", &tz, err));
    if (strlen(tz) != 6 || (tz[0] != '+' && tz[0] != '-') || tz[3] != ':' ||
        sscanf(tz, "%c%2d:%2d", &sign, &h, &m) != 3 || h > 14 || m > 59)
        return base_conf_fail(s, "tz_offset", err, BASE_E_INVALID, "expected +HH:MM or -HH:MM");
    c->tz_offset_min = (sign == '-' ? -1 : 1) * (h * 60 + m);
    return BASE_OK;
}

static int
read_node(const struct base_conf *conf, struct base_arena *a, struct gw_config *c,
          struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(conf, "node");
    const char *level = NULL;
    const char *url = NULL;

    TRY(base_conf_str(s, "id", NULL, &c->node_id, err));
    if (c->node_id[0] == '\0' || strlen(c->node_id) > 64 ||
        strspn(c->node_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            strlen(c->node_id))
        return base_conf_fail(s, "id", err, BASE_E_INVALID,
                              "expected 1 to 64 of letters, digits, '.', '_' and '-'");
    TRY(base_conf_path(s, "state_dir", "var", a, &c->state_dir, err));
    TRY(base_conf_str(s, "public_url", NULL, &url, err));
    TRY(check_base_url(s, "public_url", url, err));
    c->public_url = strip_slash(a, url);
    c->fhir_base = base_arena_sprintf(a, "%s/fhir", c->public_url);
    if (c->public_url == NULL || c->fhir_base == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "config", "out of memory");
    TRY(base_conf_str(s, "log_level", "info", &level, err));
    if (!base_log_parse_level(level, &c->log_level))
        return base_conf_fail(s, "log_level", err, BASE_E_INVALID,
                              "expected error, warn, info or debug");
    TRY(read_tz_offset(s, c, err));
    return get_ms(s, "shutdown_grace", 0, 10u * 60000u, 10000u, &c->shutdown_grace_ms, err);
}

static int
read_http(const struct base_conf *conf, struct base_arena *a, struct gw_config *c,
          struct base_err *err)
{
    gw_http_config_init(&c->http);
    c->http.name = "gateway";
    c->http.client_auth = GW_HTTP_CLIENT_AUTH_OPTIONAL;
    return gw_http_config_from_conf(&c->http, base_conf_section(conf, "http"), a, err);
}

static int
read_database(const struct base_conf *conf, struct base_arena *a, struct gw_config *c,
              struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(conf, "database");
    struct base_str url;
    struct base_str admin;
    const char *mode = NULL;

    TRY(base_conf_secret(s, "url", a, &url, err));
    TRY(base_conf_secret(s, "admin_url", a, &admin, err));
    c->db_url = url.len > 0 ? url.ptr : NULL;
    c->db_admin_url = admin.len > 0 ? admin.ptr : NULL;
    if (c->db_url != NULL && gw_db_url_check(c->db_url, &(struct base_err){0}) != BASE_OK)
        return base_conf_fail(s, "url", err, BASE_E_INVALID,
                              "not a PostgreSQL connection string");
    if (c->db_admin_url != NULL && gw_db_url_check(c->db_admin_url, &(struct base_err){0}) != BASE_OK)
        return base_conf_fail(s, "admin_url", err, BASE_E_INVALID,
                              "not a PostgreSQL connection string");
    TRY(get_uint(s, "pool_size", 1, BASE_LIMIT_DB_POOL_MAX, 16, &c->db_pool_size, err));
    TRY(get_ms(s, "statement_timeout", 100, 10u * 60000u, 10000u, &c->db_statement_timeout_ms,
               err));
    TRY(base_conf_str(s, "migrate", "auto", &mode, err));
    if (strcmp(mode, "auto") == 0)
        c->migrate = GW_CONFIG_MIGRATE_AUTO;
    else if (strcmp(mode, "check") == 0)
        c->migrate = GW_CONFIG_MIGRATE_CHECK;
    else
        return base_conf_fail(s, "migrate", err, BASE_E_INVALID, "expected auto or check");
    return BASE_OK;
}

static int
read_audit(const struct base_conf *conf, struct base_arena *a, struct gw_config *c,
           struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(conf, "audit");

    TRY(base_conf_str(s, "chain_id", c->node_id, &c->audit_chain, err));
    if (c->audit_chain[0] == '\0' || strlen(c->audit_chain) > 100)
        return base_conf_fail(s, "chain_id", err, BASE_E_INVALID, "expected 1 to 100 characters");
    TRY(get_file(s, "signing_key", a, &c->audit_key, err));
    TRY(get_uint(s, "writers", 1, 16, 4, &c->audit_writers, err));
    TRY(get_uint(s, "queue_max", 1, BASE_LIMIT_AUDIT_MAX_QUEUE, 8192, &c->audit_queue_max, err));
    TRY(get_uint(s, "batch_max", 1, BASE_LIMIT_AUDIT_MAX_BATCH, 512, &c->audit_batch_max, err));
    TRY(get_uint(s, "spill_rows", 1, BASE_LIMIT_AUDIT_MAX_QUEUE, 16, &c->audit_spill_rows, err));
    TRY(get_ms(s, "append_timeout", 100, 60000, 5000, &c->audit_append_timeout_ms, err));
    TRY(get_uint(s, "checkpoint_rows", 1, 10000000, 1000, &c->audit_checkpoint_rows, err));
    return get_ms(s, "checkpoint_interval", 1000, MS_DAY, 60000, &c->audit_checkpoint_ms, err);
}

/* Older verification keys (rotation): a repeated path key, each resolved
 * against the config file's folder like base_conf_path does. */
static int
read_verify_keys(const struct base_conf *conf, const struct base_conf_section *s,
                 struct base_arena *a, struct gw_config *c, struct base_err *err)
{
    size_t n = base_conf_count(s, "verify_key");
    const char **keys = BASE_NEW_N(a, const char *, n + 1);
    const char *file = base_conf_file(conf);
    const char *slash = file != NULL ? strrchr(file, '/') : NULL;
    int dir_len = slash != NULL ? (int)(slash - file) : 1;
    const char *dir = slash != NULL ? file : ".";

    if (keys == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "config", "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *raw = NULL;

        TRY(base_conf_str_at(s, "verify_key", i, &raw, err));
        keys[i] = raw[0] == '/' ? raw : base_arena_sprintf(a, "%.*s/%s", dir_len, dir, raw);
        if (keys[i] == NULL)
            return base_err_set(err, BASE_E_NOMEM, "exception", "config", "out of memory");
        TRY(need_readable(s, "verify_key", keys[i], err));
    }
    c->verify_keys = keys;
    c->n_verify_keys = n;
    return BASE_OK;
}

static int
read_auth(const struct base_conf *conf, struct base_arena *a, struct gw_config *c,
          struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(conf, "auth");
    int64_t v;

    TRY(base_conf_str(s, "issuer", c->public_url, &c->issuer, err));
    TRY(base_conf_str(s, "audience", c->fhir_base, &c->audience, err));
    TRY(get_file(s, "signing_key", a, &c->signing_key, err));
    TRY(read_verify_keys(conf, s, a, c, err));
    TRY(get_secs(s, "token_lifetime", 60, 86400, 900, &c->user_lifetime_s, err));
    TRY(get_secs(s, "system_token_lifetime", 60, 3600, 300, &c->system_lifetime_s, err));
    TRY(base_conf_bool(s, "password_grant", false, &c->password_grant, err));
    TRY(base_conf_str(s, "portal_client_id", "portal", &c->portal_client_id, err));
    TRY(get_uint(s, "lockout_user_failures", 1, 1000, 5, &c->lockout_user_failures, err));
    TRY(get_uint(s, "lockout_address_failures", 1, 100000, 20, &c->lockout_addr_failures, err));
    TRY(get_secs(s, "lockout_window", 1, 86400, 900, &c->lockout_window_s, err));
    TRY(get_secs(s, "lockout_duration", 1, 86400, 900, &v, err));
    c->lockout_duration_s = v;
    TRY(get_secs(s, "purge_interval", 1, 86400, 600, &c->purge_interval_s, err));
    return BASE_OK;
}

static int
read_fed_files(const struct base_conf_section *s, struct base_arena *a, struct gw_config *c,
               struct base_err *err)
{
    TRY(get_file(s, "ca", a, &c->fed_ca, err));
    TRY(get_file(s, "client_cert", a, &c->fed_cert, err));
    TRY(get_file(s, "client_key", a, &c->fed_key, err));
    if ((c->fed_cert == NULL) != (c->fed_key == NULL))
        return base_conf_fail(s, c->fed_cert == NULL ? "client_cert" : "client_key", err,
                              BASE_E_INVALID, "client_cert and client_key go together");
    /* Members are verified against the region CA (docs/design/region.md):
     * without one, only plain-HTTP test members could be reached. */
    TRY(base_conf_bool(s, "allow_http", false, &c->fed_allow_http, err));
    if (c->fed_ca == NULL && !c->fed_allow_http && c->n_members > 0)
        return base_conf_fail(s, "ca", err, BASE_E_INVALID,
                              "the region CA is required to verify members");
    return BASE_OK;
}

static int
read_federation(const struct base_conf *conf, struct base_arena *a, struct gw_config *c,
                struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(conf, "federation");
    uint64_t body;
    bool has_key = false;

    TRY(read_fed_files(s, a, c, err));
    TRY(get_ms(s, "deadline", 100, 120000, 3000, &c->fed_deadline_ms, err));
    TRY(get_ms(s, "member_timeout", 0, 120000, 0, &c->fed_member_timeout_ms, err));
    if (c->fed_member_timeout_ms > c->fed_deadline_ms)
        return base_conf_fail(s, "member_timeout", err, BASE_E_INVALID,
                              "must not exceed the deadline");
    TRY(get_uint(s, "max_inflight", 0, 100000, 0, &c->fed_max_inflight, err));
    TRY(get_uint(s, "max_per_member", 0, 10000, 0, &c->fed_max_per_member, err));
    TRY(get_uint(s, "loops", 1, 16, 1, &c->fed_loops, err));
    TRY(get_uint(s, "workers", 1, 64, 8, &c->fed_workers, err));
    TRY(base_conf_size(s, "max_body", 4096, 1ull << 30, 32ull << 20, &body, err));
    c->fed_max_body = (size_t)body;
    TRY(get_uint(s, "breaker_failures", 0, 1000, 0, &c->fed_breaker_failures, err));
    TRY(get_ms(s, "breaker_open", 0, MS_HOUR, 0, &c->fed_breaker_open_ms, err));
    TRY(get_uint(s, "page_default", 1, 1000, 50, &c->page_default, err));
    TRY(get_uint(s, "page_max", 1, 5000, 500, &c->page_max, err));
    if (c->page_default > c->page_max)
        return base_conf_fail(s, "page_default", err, BASE_E_INVALID, "exceeds page_max");
    TRY(derive_key(s, "cursor_key", a, c->cursor_key, &has_key, err));
    if (!has_key && RAND_bytes(c->cursor_key, sizeof(c->cursor_key)) != 1)
        return base_err_set(err, BASE_E_INTERNAL, "exception", "federation.cursor_key",
                            "could not draw a random cursor key");
    return derive_key(s, "cursor_key_previous", a, c->cursor_key_previous,
                      &c->has_cursor_key_previous, err);
}

static int
read_registry_mpi(const struct base_conf *conf, struct gw_config *c, struct base_err *err)
{
    const struct base_conf_section *r = base_conf_section(conf, "registry");
    const struct base_conf_section *m = base_conf_section(conf, "mpi");

    TRY(base_conf_bool(r, "auto_approve", false, &c->auto_approve, err));
    TRY(get_ms(r, "probe_interval", 0, MS_DAY, 10000, &c->probe_interval_ms, err));
    TRY(get_ms(r, "probe_timeout", 100, 60000, 2000, &c->probe_timeout_ms, err));
    TRY(base_conf_bool(m, "pull", true, &c->mpi_pull, err));
    TRY(get_ms(m, "pull_interval", 100, MS_DAY, 5000, &c->mpi_pull_interval_ms, err));
    TRY(get_uint(m, "pull_count", 1, 1000, 100, &c->mpi_pull_count, err));
    TRY(get_double(m, "upper", -100, 100, c->mpi_upper, &c->mpi_upper, err));
    TRY(get_double(m, "lower", -100, 100, c->mpi_lower, &c->mpi_lower, err));
    if (c->mpi_lower > c->mpi_upper)
        return base_conf_fail(m, "lower", err, BASE_E_INVALID, "exceeds upper");
    return base_conf_str(m, "person_system", c->mpi_person_system, &c->mpi_person_system, err);
}

static int
read_hours(const struct base_conf_section *s, struct gw_config *c, struct base_err *err)
{
    const char *hours = NULL;
    unsigned a = 0;
    unsigned b = 0;
    int used = 0;

    TRY(base_conf_str(s, "unusual_hours", "22-6", &hours, err));
    if (sscanf(hours, "%2u-%2u%n", &a, &b, &used) != 2 || hours[used] != '\0' || a > 23 ||
        b > 23)
        return base_conf_fail(s, "unusual_hours", err, BASE_E_INVALID,
                              "expected START-END hours such as 22-6");
    c->night_start = a;
    c->night_end = b;
    return BASE_OK;
}

static int
read_portal_reports(const struct base_conf *conf, struct base_arena *a, struct gw_config *c,
                    struct base_err *err)
{
    const struct base_conf_section *p = base_conf_section(conf, "portal");
    const struct base_conf_section *r = base_conf_section(conf, "reports");

    TRY(base_conf_path(p, "root", NULL, a, &c->portal_root, err));
    TRY(get_ms(p, "max_age", 0, 365ull * MS_DAY, 3600000u, &c->portal_max_age_s, err));
    c->portal_max_age_s /= 1000u;
    TRY(base_conf_str(r, "tz", "UTC", &c->report_tz, err));
    if (strlen(c->report_tz) > 64 ||
        strspn(c->report_tz, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+-") !=
            strlen(c->report_tz))
        return base_conf_fail(r, "tz", err, BASE_E_INVALID, "expected a time zone name");
    TRY(read_hours(r, c, err));
    TRY(get_double(r, "volume_factor", 1, 1000, 3, &c->volume_factor, err));
    return get_uint(r, "volume_min", 1, 1000000, 20, &c->volume_min, err);
}

static int
read_member(const struct base_conf_section *s, struct gw_config_member *m, struct base_err *err)
{
    const char *status = NULL;

    m->id = base_conf_section_name(s);
    if (!gw_config_member_id_ok(m->id))
        return base_conf_fail(s, NULL, err, BASE_E_INVALID,
                              "member id: expected 1 to 64 of a-z, 0-9, '.', '_' and '-'");
    TRY(base_conf_str(s, "name", NULL, &m->name, err));
    TRY(base_conf_str(s, "base", NULL, &m->base, err));
    TRY(check_base_url(s, "base", m->base, err));
    TRY(base_conf_str(s, "cert_sha256", NULL, &m->cert_sha256, err));
    if (m->cert_sha256 != NULL &&
        (strlen(m->cert_sha256) != 64 ||
         strspn(m->cert_sha256, "0123456789abcdef") != 64))
        return base_conf_fail(s, "cert_sha256", err, BASE_E_INVALID,
                              "expected 64 lower-case hex digits");
    TRY(base_conf_str(s, "status", "active", &status, err));
    if (strcmp(status, "active") != 0 && strcmp(status, "pending") != 0)
        return base_conf_fail(s, "status", err, BASE_E_INVALID, "expected active or pending");
    m->is_active = strcmp(status, "active") == 0;
    return BASE_OK;
}

static int
read_members(const struct base_conf *conf, struct base_arena *a, struct gw_config *c,
             struct base_err *err)
{
    size_t n = base_conf_section_count(conf, "member");

    c->members = BASE_NEW_N(a, struct gw_config_member, n + 1);
    if (c->members == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "config", "out of memory");
    for (size_t i = 0; i < n; i++)
        TRY(read_member(base_conf_section_at(conf, "member", i), &c->members[i], err));
    c->n_members = n;
    return BASE_OK;
}

static void
defaults(struct gw_config *c)
{
    c->mpi_upper = 12.0;
    c->mpi_lower = 4.0;
    c->mpi_person_system = "urn:fhirgate:mpi:person";
}

static int
from_conf(const struct base_conf *conf, struct base_arena *a, struct gw_config *c,
          struct base_err *err)
{
    defaults(c);
    TRY(read_node(conf, a, c, err));
    TRY(read_http(conf, a, c, err));
    TRY(read_database(conf, a, c, err));
    TRY(read_audit(conf, a, c, err));
    TRY(read_auth(conf, a, c, err));
    TRY(read_members(conf, a, c, err));
    TRY(read_registry_mpi(conf, c, err));
    TRY(read_federation(conf, a, c, err));
    return read_portal_reports(conf, a, c, err);
}

int
gw_config_parse(struct base_arena *a, const char *text, size_t len, const char *file_name,
                struct gw_config **out, struct base_err *err)
{
    struct base_conf *conf = NULL;
    struct gw_config *c = BASE_NEW(a, struct gw_config);

    *out = NULL;
    if (c == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "config", "out of memory");
    TRY(base_conf_parse(a, text, len, file_name, gw_config__schema(), NULL, &conf, err));
    TRY(from_conf(conf, a, c, err));
    *out = c;
    return BASE_OK;
}

int
gw_config_load(struct base_arena *a, const char *path, struct gw_config **out,
               struct base_err *err)
{
    struct base_conf *conf = NULL;
    struct gw_config *c = BASE_NEW(a, struct gw_config);

    *out = NULL;
    if (c == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "config", "out of memory");
    TRY(base_conf_load(a, path, gw_config__schema(), NULL, &conf, err));
    TRY(from_conf(conf, a, c, err));
    *out = c;
    return BASE_OK;
}
