/*
 * The adapter's configuration file: schema, [adapter], [http], [database],
 * and the cross-key rules.  The other sections are read in config_read.c.
 * deploy/adapter.conf.example documents every key.
 */
#include "adapters/daemon/adapter_daemon.h"

#include <ctype.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/daemon/daemon_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/conf.h"
#include "fhir/base/limits.h"
#include "gateway/db/gw_db.h"

#define KEYS(arr) (arr), BASE_ARRAY_LEN(arr)

static const struct base_conf_key adapter_keys[] = {
    {"member_id", BASE_CONF_STRING, BASE_CONF_REQUIRED},
    {"name", BASE_CONF_STRING, BASE_CONF_REQUIRED},
    {"state_dir", BASE_CONF_PATH, 0},
    {"log_level", BASE_CONF_STRING, 0},
    {"tz_offset", BASE_CONF_STRING, 0},
    {"public_url", BASE_CONF_STRING, BASE_CONF_REQUIRED},
    {"shutdown_grace", BASE_CONF_DURATION, 0},
};

/* The facade's own keys, appended to gw_http_conf_keys at run time. */
static const struct base_conf_key facade_keys[] = {
    {"gateway_cn", BASE_CONF_STRING, 0},
    {"gateway_sha256", BASE_CONF_STRING, 0},
    {"admin_clients", BASE_CONF_LIST, BASE_CONF_REPEAT},
};

static const struct base_conf_key db_keys[] = {
    {"url", BASE_CONF_SECRET, 0},     {"admin_url", BASE_CONF_SECRET, 0},
    {"pool_size", BASE_CONF_INT, 0},  {"statement_timeout", BASE_CONF_DURATION, 0},
    {"migrate", BASE_CONF_STRING, 0},
};

static const struct base_conf_key mllp_keys[] = {
    {"listen", BASE_CONF_STRING, 0},          {"enabled", BASE_CONF_BOOL, 0},
    {"tls_cert", BASE_CONF_PATH, 0},          {"tls_key", BASE_CONF_PATH, 0},
    {"tls_client_ca", BASE_CONF_PATH, 0},     {"max_frame", BASE_CONF_SIZE, 0},
    {"max_clients", BASE_CONF_INT, 0},        {"idle_timeout", BASE_CONF_DURATION, 0},
    {"frame_timeout", BASE_CONF_DURATION, 0}, {"max_inflight", BASE_CONF_INT, 0},
    {"batch_max", BASE_CONF_INT, 0},          {"batch_latency", BASE_CONF_DURATION, 0},
};

static const struct base_conf_key ingest_keys[] = {
    {"queue_max", BASE_CONF_INT, 0},          {"clients", BASE_CONF_LIST, BASE_CONF_REPEAT},
    {"poll_interval", BASE_CONF_DURATION, 0}, {"settle_time", BASE_CONF_DURATION, 0},
    {"max_document", BASE_CONF_SIZE, 0},      {"ledger_retention", BASE_CONF_DURATION, 0},
};

static const struct base_conf_key hl7v2_keys[] = {
    {"system_base", BASE_CONF_STRING, 0},   {"authority", BASE_CONF_STRING, BASE_CONF_REPEAT},
    {"codemaps", BASE_CONF_PATH, 0},        {"default_charset", BASE_CONF_STRING, 0},
    {"force_charset", BASE_CONF_STRING, 0}, {"obs_category", BASE_CONF_STRING, 0},
    {"ssn_system", BASE_CONF_STRING, 0},    {"ack_application", BASE_CONF_STRING, 0},
    {"ack_facility", BASE_CONF_STRING, 0},
};

static const struct base_conf_key cda_keys[] = {
    {"drop_dir", BASE_CONF_PATH, 0},
};

static const struct base_conf_key csv_keys[] = {
    {"mapping", BASE_CONF_PATH, BASE_CONF_REQUIRED},
    {"drop_dir", BASE_CONF_PATH, 0},
    {"on_error", BASE_CONF_STRING, 0},
    {"batch_rows", BASE_CONF_INT, 0},
};

static const struct base_conf_key pacs_keys[] = {
    {"name", BASE_CONF_STRING, 0},
    {"qido_url", BASE_CONF_STRING, BASE_CONF_REQUIRED},
    {"wado_url", BASE_CONF_STRING, 0},
    {"auth", BASE_CONF_STRING, 0},
    {"user", BASE_CONF_STRING, 0},
    {"password", BASE_CONF_SECRET, 0},
    {"token", BASE_CONF_SECRET, 0},
    {"ca", BASE_CONF_PATH, 0},
    {"allow_http", BASE_CONF_BOOL, 0},
    {"mode", BASE_CONF_STRING, 0},
    {"level", BASE_CONF_STRING, 0},
    {"sync_interval", BASE_CONF_DURATION, 0},
    {"connect_timeout", BASE_CONF_DURATION, 0},
    {"timeout", BASE_CONF_DURATION, 0},
    {"patient_id_system", BASE_CONF_STRING, 0},
    {"patient_issuer", BASE_CONF_STRING, 0},
    {"discover", BASE_CONF_BOOL, 0},
};

static const struct base_conf_key gateway_keys[] = {
    {"url", BASE_CONF_STRING, BASE_CONF_REQUIRED},
    {"ca", BASE_CONF_PATH, BASE_CONF_REQUIRED},
    {"client_cert", BASE_CONF_PATH, BASE_CONF_REQUIRED},
    {"client_key", BASE_CONF_PATH, BASE_CONF_REQUIRED},
    {"register", BASE_CONF_BOOL, 0},
    {"retry_max", BASE_CONF_DURATION, 0},
};

static struct base_conf_key http_keys[64];
static struct base_conf_section_schema sections[10];
static struct base_conf_schema schema;
static pthread_once_t schema_once = PTHREAD_ONCE_INIT;

static void
build_schema(void)
{
    const struct base_conf_section_schema s[] = {
        {"adapter", BASE_CONF_SECTION_REQUIRED, KEYS(adapter_keys)},
        {"http", BASE_CONF_SECTION_REQUIRED, http_keys, 0},
        {"database", 0, KEYS(db_keys)},
        {"mllp", 0, KEYS(mllp_keys)},
        {"ingest", 0, KEYS(ingest_keys)},
        {"hl7v2", 0, KEYS(hl7v2_keys)},
        {"cda", 0, KEYS(cda_keys)},
        {"csv", BASE_CONF_NAMED, KEYS(csv_keys)},
        {"pacs", 0, KEYS(pacs_keys)},
        {"gateway", 0, KEYS(gateway_keys)},
    };
    size_t n = 0;

    /* gw_http_conf_keys is an extern array (not a constant expression):
     * the [http] key table is built once at run time. */
    for (size_t i = 0; i < gw_http_conf_key_count && n < BASE_ARRAY_LEN(http_keys); i++)
        http_keys[n++] = gw_http_conf_keys[i];
    for (size_t i = 0; i < BASE_ARRAY_LEN(facade_keys) && n < BASE_ARRAY_LEN(http_keys); i++)
        http_keys[n++] = facade_keys[i];
    for (size_t i = 0; i < BASE_ARRAY_LEN(s); i++)
        sections[i] = s[i];
    sections[1].key_count = n;
    schema.sections = sections;
    schema.section_count = BASE_ARRAY_LEN(sections);
}

const struct base_conf_schema *
adapter__conf_schema(void)
{
    pthread_once(&schema_once, build_schema);
    return &schema;
}

/* ------------------------------------------------------------- helpers -- */

int
adapter__check_file(const struct base_conf_section *s, const char *key, const char *path,
                    enum adapter_check what, struct base_err *err)
{
    bool dir = what != ADAPTER_CHECK_FILE;
    struct stat st;

    if (path == NULL)
        return BASE_OK;
    if (stat(path, &st) != 0)
        return base_conf_fail(s, key, err, BASE_E_IO, "%s does not exist",
                              dir ? "the folder" : "the file");
    if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
        return base_conf_fail(s, key, err, BASE_E_INVALID, "is not a %s",
                              dir ? "folder" : "regular file");
    /* Drop folders get done/ and failed/ subfolders and files moved. */
    if (access(path, what == ADAPTER_CHECK_DROP ? (R_OK | W_OK | X_OK)
                     : dir                      ? (R_OK | X_OK)
                                                : R_OK) != 0)
        return base_conf_fail(s, key, err, BASE_E_IO, "cannot be %s by this user",
                              what == ADAPTER_CHECK_DROP ? "written" : "read");
    return BASE_OK;
}

int
adapter__parse_hostport(const struct base_conf_section *s, const char *key, const char *v,
                        struct base_arena *a, const char **host, uint16_t *port,
                        struct base_err *err)
{
    struct base_str all = base_str_from_cstr(v);
    const char *colon = strrchr(v, ':');
    uint64_t p = 0;
    struct base_str h;

    if (colon == NULL || colon == v ||
        !base_str_to_u64(base_str_sub(all, (size_t)(colon - v) + 1, all.len), &p) || p > 65535)
        return base_conf_fail(s, key, err, BASE_E_INVALID, "expected ADDRESS:PORT");
    h = base_str_sub(all, 0, (size_t)(colon - v));
    if (h.len >= 2 && h.ptr[0] == '[' && h.ptr[h.len - 1] == ']')
        h = base_str_sub(h, 1, h.len - 2);
    *host = base_str_dup0(a, h);
    if (*host == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    *port = (uint16_t)p;
    return BASE_OK;
}

static bool
hex64(const char *s)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        if (!isxdigit((unsigned char)s[n]) || isupper((unsigned char)s[n]))
            return false;
    }
    return n == 64;
}

/* Accepts "sha256:HEX" with upper or lower case and colons between bytes
 * (the form `openssl x509 -fingerprint -sha256` prints); stores lower hex. */
static const char *
norm_fingerprint(struct base_arena *a, const char *v)
{
    char hex[65];
    size_t n = 0;

    if (strncmp(v, "sha256:", 7) == 0)
        v += 7;
    for (; *v != '\0'; v++) {
        if (*v == ':')
            continue;
        if (!isxdigit((unsigned char)*v) || n >= 64)
            return NULL;
        hex[n++] = (char)tolower((unsigned char)*v);
    }
    hex[n] = '\0';
    return n == 64 && hex64(hex) ? base_arena_strdup(a, hex) : NULL;
}

int
adapter__read_identities(const struct base_conf_section *s, const char *key, struct base_arena *a,
                         struct adapter_identity **out, size_t *n, struct base_err *err)
{
    const char *const *items = NULL;
    size_t count = 0;

    TRY(base_conf_list(s, key, &items, &count, err));
    *out = BASE_NEW_N(a, struct adapter_identity, count + 1);
    if (*out == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < count; i++) {
        if (strncmp(items[i], "sha256:", 7) == 0) {
            (*out)[i].sha256 = norm_fingerprint(a, items[i]);
            if ((*out)[i].sha256 == NULL)
                return base_conf_fail(s, key, err, BASE_E_INVALID,
                                      "item %zu: expected sha256: and 64 hex digits", i + 1);
        } else if (items[i][0] == '\0') {
            return base_conf_fail(s, key, err, BASE_E_INVALID, "item %zu is empty", i + 1);
        } else {
            (*out)[i].cn = items[i];
        }
    }
    *n = count;
    return BASE_OK;
}

bool
adapter_identity_match(const struct adapter_identity *id, const struct gw_http_client *cl)
{
    if (id == NULL || cl == NULL || !cl->present || !cl->verified)
        return false;
    if (id->cn == NULL && id->sha256 == NULL)
        return false;
    if (id->cn != NULL && (cl->subject_cn == NULL || strcmp(id->cn, cl->subject_cn) != 0))
        return false;
    return id->sha256 == NULL || strcmp(id->sha256, cl->sha256) == 0;
}

bool
adapter_identity_any(const struct adapter_identity *ids, size_t n, const struct gw_http_client *cl)
{
    for (size_t i = 0; i < n; i++) {
        if (adapter_identity_match(&ids[i], cl))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ sections -- */

static bool
tz_ok(const char *tz)
{
    if (strcmp(tz, "Z") == 0)
        return true;
    return strlen(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && isdigit((unsigned char)tz[1]) &&
           isdigit((unsigned char)tz[2]) && tz[3] == ':' && isdigit((unsigned char)tz[4]) &&
           isdigit((unsigned char)tz[5]) && (tz[1] - '0') * 10 + (tz[2] - '0') <= 14 &&
           tz[4] <= '5';
}

/* A member id is our certificate CN and a FHIR id at the gateway. */
static bool
member_id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '.')
            return false;
    }
    return true;
}

static bool
url_ok(const char *u, bool allow_http)
{
    size_t n = strlen(u);

    if (n < 9 || n > 1024 || strpbrk(u, " \t\r\n\"<>\\^`{|}") != NULL)
        return false;
    return strncmp(u, "https://", 8) == 0 || (allow_http && strncmp(u, "http://", 7) == 0);
}

static int
read_adapter(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
             struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(c, "adapter");
    const char *level = NULL;
    uint64_t ms = 0;

    TRY(base_conf_str(s, "member_id", NULL, &cfg->member_id, err));
    if (!member_id_ok(cfg->member_id))
        return base_conf_fail(s, "member_id", err, BASE_E_INVALID,
                              "expected 1 to 64 letters, digits, '-' or '.'");
    TRY(base_conf_str(s, "name", NULL, &cfg->name, err));
    TRY(base_conf_path(s, "state_dir", "var/adapter", a, &cfg->state_dir, err));
    TRY(base_conf_str(s, "log_level", "info", &level, err));
    if (!base_log_parse_level(level, &cfg->log_level))
        return base_conf_fail(s, "log_level", err, BASE_E_INVALID,
                              "expected error, warn, info or debug");
    TRY(base_conf_str(s, "tz_offset", "+08:00", &cfg->tz, err));
    if (!tz_ok(cfg->tz))
        return base_conf_fail(s, "tz_offset", err, BASE_E_INVALID, "expected +HH:MM, -HH:MM or Z");
    TRY(base_conf_str(s, "public_url", NULL, &cfg->public_url, err));
    if (!url_ok(cfg->public_url, false))
        return base_conf_fail(s, "public_url", err, BASE_E_INVALID,
                              "expected the https:// URL of this facade's FHIR base");
    if (cfg->public_url[strlen(cfg->public_url) - 1] == '/')
        return base_conf_fail(s, "public_url", err, BASE_E_INVALID, "no trailing '/'");
    TRY(base_conf_duration_ms(s, "shutdown_grace", 0, 600000, 10000, &ms, err));
    cfg->shutdown_grace_ms = (unsigned)ms;
    return BASE_OK;
}

/* The facade serves patient data: HTTPS with client certificates of the
 * region CA, always (docs/design/region.md "Trust"). */
static int
read_http(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
          struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(c, "http");
    const char *sha = NULL;

    gw_http_config_init(&cfg->http);
    cfg->http.name = "adapter";
    cfg->http.client_auth = GW_HTTP_CLIENT_AUTH_REQUIRED;
    /* Ingest requests hold a pool thread until their commit: more threads
     * than cores keep reads flowing meanwhile. */
    cfg->http.threads = 4;
    TRY(gw_http_config_from_conf(&cfg->http, s, a, err));
    if (cfg->http.plain_http)
        return base_conf_fail(s, "plain_http", err, BASE_E_INVALID,
                              "the facade serves patient data over HTTPS only");
    if (cfg->http.client_auth != GW_HTTP_CLIENT_AUTH_REQUIRED)
        return base_conf_fail(s, "client_auth", err, BASE_E_INVALID,
                              "must be required: the facade needs mutual TLS");
    if (cfg->http.cert_file == NULL || cfg->http.key_file == NULL ||
        cfg->http.client_ca_file == NULL)
        return base_conf_fail(s, cfg->http.client_ca_file == NULL ? "client_ca" : "cert", err,
                              BASE_E_INVALID, "cert, key and client_ca (the region CA) are needed");
    TRY(adapter__check_file(s, "cert", cfg->http.cert_file, ADAPTER_CHECK_FILE, err));
    TRY(adapter__check_file(s, "key", cfg->http.key_file, ADAPTER_CHECK_FILE, err));
    TRY(adapter__check_file(s, "client_ca", cfg->http.client_ca_file, ADAPTER_CHECK_FILE, err));
    TRY(adapter__check_file(s, "client_crl", cfg->http.client_crl_file, ADAPTER_CHECK_FILE, err));
    TRY(base_conf_str(s, "gateway_cn", "gateway", &cfg->gateway.cn, err));
    if (cfg->gateway.cn[0] == '\0')
        return base_conf_fail(s, "gateway_cn", err, BASE_E_INVALID, "must not be empty");
    TRY(base_conf_str(s, "gateway_sha256", NULL, &sha, err));
    if (sha != NULL && (cfg->gateway.sha256 = norm_fingerprint(a, sha)) == NULL)
        return base_conf_fail(s, "gateway_sha256", err, BASE_E_INVALID,
                              "expected the certificate's SHA-256 (64 hex digits)");
    return adapter__read_identities(s, "admin_clients", a, &cfg->admin_clients,
                                    &cfg->n_admin_clients, err);
}

static int
read_database(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
              struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(c, "database");
    struct base_str url = BASE_STR_NULL;
    struct base_str admin = BASE_STR_NULL;
    const char *mode = NULL;
    struct base_err bad = {0}; /* its text may not name the key; ours does */
    int64_t pool = 0;
    uint64_t ms = 0;

    TRY(base_conf_secret(s, "url", a, &url, err));
    TRY(base_conf_secret(s, "admin_url", a, &admin, err));
    cfg->db_url = url.len > 0 ? url.ptr : NULL;
    cfg->db_admin_url = admin.len > 0 ? admin.ptr : NULL;
    if (cfg->db_url != NULL && gw_db_url_check(cfg->db_url, &bad) != BASE_OK)
        return base_conf_fail(s, "url", err, BASE_E_INVALID, "not a PostgreSQL connection string");
    if (cfg->db_admin_url != NULL && gw_db_url_check(cfg->db_admin_url, &bad) != BASE_OK)
        return base_conf_fail(s, "admin_url", err, BASE_E_INVALID,
                              "not a PostgreSQL connection string");
    TRY(base_conf_int(s, "pool_size", 1, BASE_LIMIT_DB_POOL_MAX, 6, &pool, err));
    cfg->db_pool_size = (unsigned)pool;
    TRY(base_conf_duration_ms(s, "statement_timeout", 100, 3600000, 30000, &ms, err));
    cfg->db_statement_timeout_ms = (unsigned)ms;
    TRY(base_conf_str(s, "migrate", "auto", &mode, err));
    if (strcmp(mode, "auto") != 0 && strcmp(mode, "check") != 0)
        return base_conf_fail(s, "migrate", err, BASE_E_INVALID, "expected auto or check");
    cfg->migrate_auto = strcmp(mode, "auto") == 0;
    return BASE_OK;
}

static int
read_all(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
         struct base_err *err)
{
    TRY(read_adapter(c, cfg, a, err));
    TRY(read_http(c, cfg, a, err));
    TRY(read_database(c, cfg, a, err));
    TRY(adapter__read_mllp(c, cfg, a, err));
    TRY(adapter__read_ingest(c, cfg, a, err));
    TRY(adapter__read_hl7v2(c, cfg, a, err));
    TRY(adapter__read_docs(c, cfg, a, err));
    TRY(adapter__read_pacs(c, cfg, a, err));
    return adapter__read_gateway(c, cfg, a, err);
}

int
adapter_config_parse(struct base_arena *a, const char *text, size_t len, const char *name,
                     struct adapter_config **out, struct base_err *err)
{
    struct base_conf *c = NULL;
    struct adapter_config *cfg = BASE_NEW(a, struct adapter_config);

    if (cfg == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    TRY(base_conf_parse(a, text, len, name, adapter__conf_schema(), NULL, &c, err));
    TRY(read_all(c, cfg, a, err));
    *out = cfg;
    return BASE_OK;
}

int
adapter_config_load(struct base_arena *a, const char *path, struct adapter_config **out,
                    struct base_err *err)
{
    struct base_conf *c = NULL;
    struct adapter_config *cfg = BASE_NEW(a, struct adapter_config);

    if (cfg == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    TRY(base_conf_load(a, path, adapter__conf_schema(), NULL, &c, err));
    TRY(read_all(c, cfg, a, err));
    *out = cfg;
    return BASE_OK;
}
