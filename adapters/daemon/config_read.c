/*
 * The adapter's configuration: [mllp], [ingest], [hl7v2], [cda], [csv
 * "NAME"], [pacs], [gateway].  Files the daemon will need are checked and
 * loaded here (code maps, CSV mappings), so a bad one stops the daemon
 * before anything listens (STYLE.md 3.7: validated completely at start).
 */
#include <string.h>

#include "adapters/codemap/codemap.h"
#include "adapters/daemon/daemon_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/conf.h"
#include "fhir/base/limits.h"

#define MAX_AUTHORITIES 256

static int
read_ms(const struct base_conf_section *s, const char *key, uint64_t min, uint64_t max,
        uint64_t def, unsigned *out, struct base_err *err)
{
    uint64_t ms = 0;

    TRY(base_conf_duration_ms(s, key, min, max, def, &ms, err));
    *out = (unsigned)ms;
    return BASE_OK;
}

static int
read_count(const struct base_conf_section *s, const char *key, int64_t min, int64_t max,
           int64_t def, size_t *out, struct base_err *err)
{
    int64_t v = 0;

    TRY(base_conf_int(s, key, min, max, def, &v, err));
    *out = (size_t)v;
    return BASE_OK;
}

/* ---------------------------------------------------------------- mllp -- */

int
adapter__read_mllp(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
                   struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(c, "mllp");
    const char *listen = NULL;
    uint64_t frame = 0;
    bool on = s != NULL;

    TRY(base_conf_bool(s, "enabled", on, &on, err));
    cfg->mllp_enabled = on;
    TRY(base_conf_str(s, "listen", "127.0.0.1:2575", &listen, err));
    TRY(adapter__parse_hostport(s, "listen", listen, a, &cfg->mllp_bind, &cfg->mllp_port, err));
    TRY(base_conf_path(s, "tls_cert", NULL, a, &cfg->mllp_tls_cert, err));
    TRY(base_conf_path(s, "tls_key", NULL, a, &cfg->mllp_tls_key, err));
    TRY(base_conf_path(s, "tls_client_ca", NULL, a, &cfg->mllp_tls_ca, err));
    if ((cfg->mllp_tls_cert == NULL) != (cfg->mllp_tls_key == NULL))
        return base_conf_fail(s, "tls_cert", err, BASE_E_INVALID,
                              "TLS needs both tls_cert and tls_key");
    if (cfg->mllp_tls_ca != NULL && cfg->mllp_tls_cert == NULL)
        return base_conf_fail(s, "tls_client_ca", err, BASE_E_INVALID,
                              "needs tls_cert and tls_key");
    TRY(adapter__check_file(s, "tls_cert", cfg->mllp_tls_cert, ADAPTER_CHECK_FILE, err));
    TRY(adapter__check_file(s, "tls_key", cfg->mllp_tls_key, ADAPTER_CHECK_FILE, err));
    TRY(adapter__check_file(s, "tls_client_ca", cfg->mllp_tls_ca, ADAPTER_CHECK_FILE, err));
    TRY(base_conf_size(s, "max_frame", 1024, BASE_LIMIT_HL7V2_MAX_MESSAGE,
                       BASE_LIMIT_MLLP_MAX_FRAME, &frame, err));
    cfg->mllp_max_frame = (size_t)frame;
    TRY(read_count(s, "max_clients", 1, 65536, BASE_LIMIT_MLLP_MAX_CLIENTS, &cfg->mllp_max_clients,
                   err));
    TRY(read_ms(s, "idle_timeout", 100, 86400000, BASE_LIMIT_MLLP_IDLE_MS, &cfg->mllp_idle_ms,
                err));
    TRY(read_ms(s, "frame_timeout", 100, 86400000, BASE_LIMIT_MLLP_FRAME_MS, &cfg->mllp_frame_ms,
                err));
    TRY(read_count(s, "max_inflight", 1, 65536, BASE_LIMIT_MLLP_MAX_INFLIGHT,
                   &cfg->mllp_max_inflight, err));
    /* The batch committer serves every input; its grouping is set here
     * because MLLP feeds are what it is sized for. */
    TRY(read_count(s, "batch_max", 1, BASE_LIMIT_STORE_MAX_BATCH, BASE_LIMIT_ADAPTER_BATCH_MAX,
                   &cfg->batch_max, err));
    return read_ms(s, "batch_latency", 0, 1000, BASE_LIMIT_ADAPTER_BATCH_LATENCY_MS,
                   &cfg->batch_latency_ms, err);
}

/* -------------------------------------------------------------- ingest -- */

int
adapter__read_ingest(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
                     struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(c, "ingest");
    uint64_t doc = 0;
    uint64_t ret_ms = 0;

    TRY(read_count(s, "queue_max", 1, 1000000, BASE_LIMIT_ADAPTER_QUEUE_MAX, &cfg->queue_max, err));
    TRY(adapter__read_identities(s, "clients", a, &cfg->ingest_clients, &cfg->n_ingest_clients,
                                 err));
    TRY(read_ms(s, "poll_interval", 50, 3600000, BASE_LIMIT_ADAPTER_DROP_POLL_MS,
                &cfg->drop_poll_ms, err));
    TRY(read_ms(s, "settle_time", 0, 3600000, BASE_LIMIT_ADAPTER_DROP_SETTLE_MS,
                &cfg->drop_settle_ms, err));
    TRY(base_conf_size(s, "max_document", 1024, BASE_LIMIT_ADAPTER_MAX_FILE,
                       BASE_LIMIT_ADAPTER_MAX_DOCUMENT, &doc, err));
    cfg->max_document = (size_t)doc;
    /* resends come within hours; a quarter keeps every one a sender makes
     * and bounds the table (0: keep every row) */
    TRY(base_conf_duration_ms(s, "ledger_retention", 0, UINT64_C(3650) * 86400 * 1000,
                              UINT64_C(90) * 86400 * 1000, &ret_ms, err));
    cfg->ledger_retention_s = (int64_t)(ret_ms / 1000);
    if (ret_ms > 0 && cfg->ledger_retention_s == 0)
        cfg->ledger_retention_s = 1;
    return BASE_OK;
}

/* --------------------------------------------------------------- hl7v2 -- */

/* "NAMESPACE=SYSTEM-URI" (assigning authority -> identifier system). */
static int
read_authorities(const struct base_conf_section *s, struct adapter_config *cfg,
                 struct base_arena *a, struct base_err *err)
{
    size_t n = base_conf_count(s, "authority");

    if (n > MAX_AUTHORITIES)
        return base_conf_fail(s, "authority", err, BASE_E_LIMIT, "at most %d authorities",
                              MAX_AUTHORITIES);
    cfg->authorities = BASE_NEW_N(a, struct hl7v2_authority, n + 1);
    if (cfg->authorities == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *v = NULL;
        const char *eq;

        TRY(base_conf_str_at(s, "authority", i, &v, err));
        eq = strchr(v, '=');
        if (eq == NULL || eq == v || !codemap_is_uri(base_str_from_cstr(eq + 1)))
            return base_conf_fail(s, "authority", err, BASE_E_INVALID,
                                  "expected NAMESPACE=SYSTEM-URI (occurrence %zu)", i + 1);
        cfg->authorities[i].namespace_id = base_arena_strndup(a, v, (size_t)(eq - v));
        cfg->authorities[i].system = eq + 1;
        if (cfg->authorities[i].namespace_id == NULL)
            return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    cfg->map.authorities = cfg->authorities;
    cfg->map.nauthorities = n;
    return BASE_OK;
}

static void
free_codemap(void *p)
{
    codemap_free(p);
}

static int
load_codemaps(const struct base_conf_section *s, struct adapter_config *cfg, struct base_arena *a,
              struct base_err *err)
{
    struct codemap_limits lim = CODEMAP_LIMITS_DEFAULT;
    struct base_err why = {0};

    TRY(base_conf_path(s, "codemaps", NULL, a, &cfg->codemap_dir, err));
    if (cfg->codemap_dir == NULL)
        return BASE_OK;
    TRY(adapter__check_file(s, "codemaps", cfg->codemap_dir, ADAPTER_CHECK_DIR, err));
    if (codemap_load_dir(cfg->codemap_dir, &lim, &cfg->codemap, &why) != BASE_OK)
        return base_conf_fail(s, "codemaps", err, why.rc, "%s: %s", why.where, why.msg);
    return base_arena_on_free(a, free_codemap, cfg->codemap);
}

static bool
uri_or_null(const char *v)
{
    return v == NULL || codemap_is_uri(base_str_from_cstr(v));
}

int
adapter__read_hl7v2(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
                    struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(c, "hl7v2");

    cfg->parse = HL7V2_PARSE_OPTS_DEFAULT;
    cfg->map = HL7V2_MAP_OPTS_DEFAULT;
    cfg->map.default_tz = cfg->tz;
    TRY(base_conf_str(s, "system_base", NULL, &cfg->map.system_base, err));
    if (!uri_or_null(cfg->map.system_base))
        return base_conf_fail(s, "system_base", err, BASE_E_INVALID, "expected an absolute URI");
    TRY(base_conf_str(s, "ssn_system", NULL, &cfg->map.ssn_system, err));
    if (!uri_or_null(cfg->map.ssn_system))
        return base_conf_fail(s, "ssn_system", err, BASE_E_INVALID, "expected an absolute URI");
    TRY(base_conf_str(s, "obs_category", NULL, &cfg->map.obs_category, err));
    TRY(base_conf_str(s, "default_charset", NULL, &cfg->parse.default_charset, err));
    TRY(base_conf_str(s, "force_charset", NULL, &cfg->parse.force_charset, err));
    TRY(base_conf_str(s, "ack_application", "FHIRGATE", &cfg->ack_app, err));
    TRY(base_conf_str(s, "ack_facility", cfg->member_id, &cfg->ack_facility, err));
    TRY(read_authorities(s, cfg, a, err));
    return load_codemaps(s, cfg, a, err);
}

/* ------------------------------------------------------------ cda, csv -- */

static void
free_mapping(void *p)
{
    csv_mapping_free(p);
}

static int
read_csv_source(const struct base_conf_section *s, struct adapter_csv_source *src,
                struct base_arena *a, struct base_err *err)
{
    struct csv_limits lim = csv_limits_default();
    struct csv_mapping *m = NULL;
    struct base_err why = {0};
    const char *on_error = NULL;
    char *text = NULL;
    size_t len = 0;

    src->name = base_conf_section_name(s);
    TRY(base_conf_path(s, "mapping", NULL, a, &src->mapping_path, err));
    TRY(adapter__check_file(s, "mapping", src->mapping_path, ADAPTER_CHECK_FILE, err));
    TRY(base_conf_read_file(a, src->mapping_path, lim.max_mapping, "mapping", "mapping file", &text,
                            &len, err));
    if (csv_mapping_parse(text, len, &lim, &m, &why) != BASE_OK)
        return base_conf_fail(s, "mapping", err, why.rc, "%s: %s", why.where, why.msg);
    TRY(base_arena_on_free(a, free_mapping, m));
    src->mapping = m;
    TRY(base_conf_path(s, "drop_dir", NULL, a, &src->drop_dir, err));
    TRY(adapter__check_file(s, "drop_dir", src->drop_dir, ADAPTER_CHECK_DROP, err));
    TRY(base_conf_str(s, "on_error", NULL, &on_error, err));
    if (on_error == NULL)
        src->on_error = CSV_ON_ERROR_MAPPING;
    else if (strcmp(on_error, "skip") == 0)
        src->on_error = CSV_ON_ERROR_SKIP;
    else if (strcmp(on_error, "fail") == 0)
        src->on_error = CSV_ON_ERROR_FAIL;
    else
        return base_conf_fail(s, "on_error", err, BASE_E_INVALID, "expected skip or fail");
    return read_count(s, "batch_rows", 1, BASE_LIMIT_STORE_MAX_ENTRIES, BASE_LIMIT_CSV_BATCH_ROWS,
                      &src->batch_rows, err);
}

int
adapter__read_docs(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
                   struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(c, "cda");

    TRY(base_conf_path(s, "drop_dir", NULL, a, &cfg->cda_drop_dir, err));
    TRY(adapter__check_file(s, "drop_dir", cfg->cda_drop_dir, ADAPTER_CHECK_DROP, err));
    cfg->n_csv = base_conf_section_count(c, "csv");
    cfg->csv = BASE_NEW_N(a, struct adapter_csv_source, cfg->n_csv + 1);
    if (cfg->csv == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < cfg->n_csv; i++)
        TRY(read_csv_source(base_conf_section_at(c, "csv", i), &cfg->csv[i], a, err));
    return BASE_OK;
}

/* ---------------------------------------------------------------- pacs -- */

static int
read_pacs_auth(const struct base_conf_section *s, struct dicomweb_pacs *p, struct base_arena *a,
               struct base_err *err)
{
    const char *auth = NULL;
    struct base_str pw = BASE_STR_NULL;
    struct base_str token = BASE_STR_NULL;

    TRY(base_conf_str(s, "auth", "none", &auth, err));
    TRY(base_conf_str(s, "user", NULL, &p->user, err));
    TRY(base_conf_secret(s, "password", a, &pw, err));
    TRY(base_conf_secret(s, "token", a, &token, err));
    if (strcmp(auth, "none") == 0) {
        p->auth = DICOMWEB_AUTH_NONE;
    } else if (strcmp(auth, "basic") == 0) {
        p->auth = DICOMWEB_AUTH_BASIC;
        if (p->user == NULL || pw.len == 0)
            return base_conf_fail(s, "auth", err, BASE_E_INVALID, "basic needs user and password");
        p->password = pw.ptr;
    } else if (strcmp(auth, "bearer") == 0) {
        p->auth = DICOMWEB_AUTH_BEARER;
        if (token.len == 0)
            return base_conf_fail(s, "auth", err, BASE_E_INVALID, "bearer needs token");
        p->token = token.ptr;
    } else {
        return base_conf_fail(s, "auth", err, BASE_E_INVALID, "expected none, basic or bearer");
    }
    return BASE_OK;
}

static int
read_pacs_mode(const struct base_conf_section *s, struct adapter_config *cfg, struct base_err *err)
{
    const char *mode = NULL;
    const char *level = NULL;

    TRY(base_conf_str(s, "mode", "live", &mode, err));
    if (strcmp(mode, "live") == 0)
        cfg->pacs_mode = ADAPTER_PACS_LIVE;
    else if (strcmp(mode, "sync") == 0)
        cfg->pacs_mode = ADAPTER_PACS_SYNC;
    else if (strcmp(mode, "both") == 0)
        cfg->pacs_mode = ADAPTER_PACS_BOTH;
    else
        return base_conf_fail(s, "mode", err, BASE_E_INVALID, "expected live, sync or both");
    TRY(base_conf_str(s, "level", "series", &level, err));
    if (strcmp(level, "studies") == 0)
        cfg->pacs_level = DICOMWEB_STUDIES;
    else if (strcmp(level, "series") == 0)
        cfg->pacs_level = DICOMWEB_SERIES;
    else if (strcmp(level, "instances") == 0)
        cfg->pacs_level = DICOMWEB_INSTANCES;
    else
        return base_conf_fail(s, "level", err, BASE_E_INVALID,
                              "expected studies, series or instances");
    return BASE_OK;
}

int
adapter__read_pacs(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
                   struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(c, "pacs");
    struct dicomweb_pacs *p = &cfg->pacs;
    bool allow_http = false;
    unsigned ms = 0;

    cfg->pacs_enabled = s != NULL;
    if (s == NULL)
        return BASE_OK;
    TRY(base_conf_str(s, "name", "PACS", &p->name, err));
    TRY(base_conf_str(s, "qido_url", NULL, &p->base_url, err));
    TRY(base_conf_bool(s, "allow_http", false, &allow_http, err));
    p->allow_http = allow_http;
    if (strncmp(p->base_url, "https://", 8) != 0 &&
        !(allow_http && strncmp(p->base_url, "http://", 7) == 0))
        return base_conf_fail(s, "qido_url", err, BASE_E_INVALID,
                              "expected an https:// URL (http:// needs allow_http = true)");
    TRY(base_conf_str(s, "wado_url", NULL, &cfg->pacs_wado_base, err));
    TRY(base_conf_path(s, "ca", NULL, a, &p->ca_file, err));
    TRY(adapter__check_file(s, "ca", p->ca_file, ADAPTER_CHECK_FILE, err));
    TRY(read_pacs_auth(s, p, a, err));
    TRY(read_pacs_mode(s, cfg, err));
    TRY(read_ms(s, "sync_interval", 1000, 7 * 86400000ull, 600000, &cfg->pacs_sync_ms, err));
    TRY(read_ms(s, "connect_timeout", 100, 600000, 3000, &ms, err));
    p->connect_timeout_ms = ms;
    TRY(read_ms(s, "timeout", 100, 600000, 15000, &ms, err));
    p->timeout_ms = ms;
    TRY(base_conf_str(s, "patient_id_system", NULL, &cfg->pacs_patient_system, err));
    if (!uri_or_null(cfg->pacs_patient_system))
        return base_conf_fail(s, "patient_id_system", err, BASE_E_INVALID,
                              "expected an absolute URI");
    TRY(base_conf_str(s, "patient_issuer", NULL, &cfg->pacs_patient_issuer, err));
    if (cfg->pacs_patient_issuer != NULL &&
        (cfg->pacs_patient_issuer[0] == '\0' || strlen(cfg->pacs_patient_issuer) > 64))
        /* LO (0010,0021) or the UID of (0010,0024): at most 64 characters */
        return base_conf_fail(s, "patient_issuer", err, BASE_E_INVALID,
                              "expected 1 to 64 characters (an issuer name or an OID)");
    TRY(base_conf_bool(s, "discover", false, &cfg->pacs_discover, err));
    if (cfg->pacs_discover && cfg->pacs_mode == ADAPTER_PACS_LIVE)
        return base_conf_fail(s, "discover", err, BASE_E_INVALID,
                              "discover needs mode = sync or both (it stores what it finds)");
    return BASE_OK;
}

/* ------------------------------------------------------------- gateway -- */

int
adapter__read_gateway(const struct base_conf *c, struct adapter_config *cfg, struct base_arena *a,
                      struct base_err *err)
{
    const struct base_conf_section *s = base_conf_section(c, "gateway");
    bool reg = true;

    if (s == NULL)
        return BASE_OK;
    TRY(base_conf_bool(s, "register", true, &reg, err));
    cfg->register_enabled = reg;
    TRY(base_conf_str(s, "url", NULL, &cfg->gw_url, err));
    if (strncmp(cfg->gw_url, "https://", 8) != 0 || strlen(cfg->gw_url) > 1024)
        return base_conf_fail(s, "url", err, BASE_E_INVALID, "expected the gateway's https:// URL");
    TRY(base_conf_path(s, "ca", NULL, a, &cfg->gw_ca, err));
    TRY(base_conf_path(s, "client_cert", NULL, a, &cfg->gw_client_cert, err));
    TRY(base_conf_path(s, "client_key", NULL, a, &cfg->gw_client_key, err));
    TRY(adapter__check_file(s, "ca", cfg->gw_ca, ADAPTER_CHECK_FILE, err));
    TRY(adapter__check_file(s, "client_cert", cfg->gw_client_cert, ADAPTER_CHECK_FILE, err));
    TRY(adapter__check_file(s, "client_key", cfg->gw_client_key, ADAPTER_CHECK_FILE, err));
    return read_ms(s, "retry_max", 1000, 86400000, 300000, &cfg->register_retry_max_ms, err);
}
