/*
 * gateway/config/schema.c — the sections and keys the gateway's config file
 * may hold (deploy/gateway.conf.example documents each).
 */
#include "gateway/config/config_int.h"

#include "fhir/base/limits.h"

#define KEYS(arr) (arr), BASE_ARRAY_LEN(arr)

static const struct base_conf_key node_keys[] = {
    {"id", BASE_CONF_STRING, BASE_CONF_REQUIRED},
    {"state_dir", BASE_CONF_PATH, 0},
    {"public_url", BASE_CONF_STRING, BASE_CONF_REQUIRED},
    {"log_level", BASE_CONF_STRING, 0},
    {"tz_offset", BASE_CONF_STRING, 0},
    {"shutdown_grace", BASE_CONF_DURATION, 0},
};

static const struct base_conf_key db_keys[] = {
    {"url", BASE_CONF_SECRET, 0},
    {"admin_url", BASE_CONF_SECRET, 0},
    {"pool_size", BASE_CONF_INT, 0},
    {"statement_timeout", BASE_CONF_DURATION, 0},
    {"migrate", BASE_CONF_STRING, 0},
};

static const struct base_conf_key audit_keys[] = {
    {"chain_id", BASE_CONF_STRING, 0},
    {"signing_key", BASE_CONF_PATH, 0},
    {"writers", BASE_CONF_INT, 0},
    {"queue_max", BASE_CONF_INT, 0},
    {"batch_max", BASE_CONF_INT, 0},
    {"spill_rows", BASE_CONF_INT, 0},
    {"append_timeout", BASE_CONF_DURATION, 0},
    {"checkpoint_rows", BASE_CONF_INT, 0},
    {"checkpoint_interval", BASE_CONF_DURATION, 0},
};

static const struct base_conf_key auth_keys[] = {
    {"issuer", BASE_CONF_STRING, 0},
    {"audience", BASE_CONF_STRING, 0},
    {"signing_key", BASE_CONF_PATH, BASE_CONF_REQUIRED},
    {"verify_key", BASE_CONF_PATH, BASE_CONF_REPEAT},
    {"token_lifetime", BASE_CONF_DURATION, 0},
    {"system_token_lifetime", BASE_CONF_DURATION, 0},
    {"password_grant", BASE_CONF_BOOL, 0},
    {"portal_client_id", BASE_CONF_STRING, 0},
    {"lockout_user_failures", BASE_CONF_INT, 0},
    {"lockout_address_failures", BASE_CONF_INT, 0},
    {"lockout_window", BASE_CONF_DURATION, 0},
    {"lockout_duration", BASE_CONF_DURATION, 0},
    {"purge_interval", BASE_CONF_DURATION, 0},
};

static const struct base_conf_key fed_keys[] = {
    {"ca", BASE_CONF_PATH, 0},
    {"client_cert", BASE_CONF_PATH, 0},
    {"client_key", BASE_CONF_PATH, 0},
    {"allow_http", BASE_CONF_BOOL, 0},
    {"deadline", BASE_CONF_DURATION, 0},
    {"member_timeout", BASE_CONF_DURATION, 0},
    {"max_inflight", BASE_CONF_INT, 0},
    {"max_per_member", BASE_CONF_INT, 0},
    {"loops", BASE_CONF_INT, 0},
    {"workers", BASE_CONF_INT, 0},
    {"max_body", BASE_CONF_SIZE, 0},
    {"breaker_failures", BASE_CONF_INT, 0},
    {"breaker_open", BASE_CONF_DURATION, 0},
    {"cursor_key", BASE_CONF_SECRET, 0},
    {"cursor_key_previous", BASE_CONF_SECRET, 0},
    {"page_default", BASE_CONF_INT, 0},
    {"page_max", BASE_CONF_INT, 0},
};

static const struct base_conf_key registry_keys[] = {
    {"auto_approve", BASE_CONF_BOOL, 0},
    {"probe_interval", BASE_CONF_DURATION, 0},
    {"probe_timeout", BASE_CONF_DURATION, 0},
};

static const struct base_conf_key mpi_keys[] = {
    {"pull", BASE_CONF_BOOL, 0},
    {"pull_interval", BASE_CONF_DURATION, 0},
    {"pull_count", BASE_CONF_INT, 0},
    {"upper", BASE_CONF_STRING, 0},
    {"lower", BASE_CONF_STRING, 0},
    {"person_system", BASE_CONF_STRING, 0},
};

static const struct base_conf_key portal_keys[] = {
    {"root", BASE_CONF_PATH, 0},
    {"max_age", BASE_CONF_DURATION, 0},
};

static const struct base_conf_key report_keys[] = {
    {"tz", BASE_CONF_STRING, 0},
    {"unusual_hours", BASE_CONF_STRING, 0},
    {"volume_factor", BASE_CONF_STRING, 0},
    {"volume_min", BASE_CONF_INT, 0},
};

static const struct base_conf_key member_keys[] = {
    {"name", BASE_CONF_STRING, BASE_CONF_REQUIRED},
    {"base", BASE_CONF_STRING, BASE_CONF_REQUIRED},
    {"cert_sha256", BASE_CONF_STRING, 0},
    {"status", BASE_CONF_STRING, 0},
};

static struct base_conf_section_schema sections[11];
static struct base_conf_schema schema;

const struct base_conf_schema *
gw_config__schema(void)
{
    /* gw_http_conf_keys is an extern array, not a constant expression, so
     * the table is filled at run time (idempotent; the first call happens
     * before any thread starts). */
    const struct base_conf_section_schema s[] = {
        {"node", BASE_CONF_SECTION_REQUIRED, KEYS(node_keys)},
        {"http", 0, gw_http_conf_keys, 0},
        {"database", 0, KEYS(db_keys)},
        {"audit", 0, KEYS(audit_keys)},
        {"auth", BASE_CONF_SECTION_REQUIRED, KEYS(auth_keys)},
        {"federation", 0, KEYS(fed_keys)},
        {"registry", 0, KEYS(registry_keys)},
        {"mpi", 0, KEYS(mpi_keys)},
        {"portal", 0, KEYS(portal_keys)},
        {"reports", 0, KEYS(report_keys)},
        {"member", BASE_CONF_NAMED, KEYS(member_keys)},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(s); i++)
        sections[i] = s[i];
    sections[1].key_count = gw_http_conf_key_count;
    schema.sections = sections;
    schema.section_count = BASE_ARRAY_LEN(sections);
    return &schema;
}
