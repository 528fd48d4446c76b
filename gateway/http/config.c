/* Reading the HTTP settings from a config file section (fhir/base/conf). */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/conf.h"
#include "gateway/http/gw_http_int.h"

const struct base_conf_key gw_http_conf_keys[] = {
    {"listen", BASE_CONF_STRING, 0},
    {"plain_http", BASE_CONF_BOOL, 0},
    {"cert", BASE_CONF_PATH, 0},
    {"key", BASE_CONF_PATH, 0},
    {"client_ca", BASE_CONF_PATH, 0},
    {"client_crl", BASE_CONF_PATH, 0},
    {"client_auth", BASE_CONF_STRING, 0},
    {"tls_priorities", BASE_CONF_STRING, 0},
    {"threads", BASE_CONF_INT, 0},
    {"event_loop", BASE_CONF_STRING, 0},
    {"max_body", BASE_CONF_SIZE, 0},
    {"max_url", BASE_CONF_SIZE, 0},
    {"max_header", BASE_CONF_SIZE, 0},
    {"max_params", BASE_CONF_INT, 0},
    {"max_param_len", BASE_CONF_SIZE, 0},
    {"max_segments", BASE_CONF_INT, 0},
    {"max_connections", BASE_CONF_INT, 0},
    {"max_connections_per_ip", BASE_CONF_INT, 0},
    {"connection_memory", BASE_CONF_SIZE, 0},
    {"idle_timeout", BASE_CONF_DURATION, 0},
    {"header_timeout", BASE_CONF_DURATION, 0},
    {"body_timeout", BASE_CONF_DURATION, 0},
    {"request_memory", BASE_CONF_SIZE, 0},
    {"hsts_max_age", BASE_CONF_DURATION, 0},
    {"content_security_policy", BASE_CONF_STRING, 0},
    {"trust_request_id", BASE_CONF_BOOL, 0},
    {"trust_forwarded", BASE_CONF_BOOL, 0},
    {"cors_origins", BASE_CONF_LIST, 0},
};
const size_t gw_http_conf_key_count = BASE_ARRAY_LEN(gw_http_conf_keys);

/* "127.0.0.1:8443", "[::1]:8443", "0.0.0.0:443" */
static int
parse_listen(const struct base_conf_section *s, const char *v, struct base_arena *a,
             struct gw_http_config *c, struct base_err *err)
{
    struct base_str all = base_str_from_cstr(v);
    long colon = -1;
    uint64_t port;
    struct base_str host;

    for (size_t i = 0; i < all.len; i++) {
        if (all.ptr[i] == ':')
            colon = (long)i;
    }
    if (colon <= 0 || !base_str_to_u64(base_str_sub(all, (size_t)colon + 1, all.len), &port) ||
        port > 65535)
        return base_conf_fail(s, "listen", err, BASE_E_INVALID, "expected ADDRESS:PORT");
    host = base_str_sub(all, 0, (size_t)colon);
    if (host.len >= 2 && host.ptr[0] == '[' && host.ptr[host.len - 1] == ']')
        host = base_str_sub(host, 1, host.len - 2);
    c->bind = base_str_dup0(a, host);
    if (c->bind == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    c->port = (unsigned)port;
    return BASE_OK;
}

static int
read_tls(const struct base_conf_section *s, struct gw_http_config *c, struct base_arena *a,
         struct base_err *err)
{
    const char *auth = NULL;
    bool plain = c->plain_http;

    TRY(base_conf_bool(s, "plain_http", plain, &plain, err));
    c->plain_http = plain;
    TRY(base_conf_path(s, "cert", c->cert_file, a, &c->cert_file, err));
    TRY(base_conf_path(s, "key", c->key_file, a, &c->key_file, err));
    TRY(base_conf_path(s, "client_ca", c->client_ca_file, a, &c->client_ca_file, err));
    TRY(base_conf_path(s, "client_crl", c->client_crl_file, a, &c->client_crl_file, err));
    TRY(base_conf_str(s, "tls_priorities", c->tls_priorities, &c->tls_priorities, err));
    TRY(base_conf_str(s, "client_auth", NULL, &auth, err));
    if (auth == NULL)
        return BASE_OK;
    if (strcmp(auth, "none") == 0)
        c->client_auth = GW_HTTP_CLIENT_AUTH_NONE;
    else if (strcmp(auth, "optional") == 0)
        c->client_auth = GW_HTTP_CLIENT_AUTH_OPTIONAL;
    else if (strcmp(auth, "required") == 0)
        c->client_auth = GW_HTTP_CLIENT_AUTH_REQUIRED;
    else
        return base_conf_fail(s, "client_auth", err, BASE_E_INVALID,
                              "expected none, optional or required");
    if (c->client_auth != GW_HTTP_CLIENT_AUTH_NONE && c->client_ca_file == NULL && !c->plain_http)
        return base_conf_fail(s, "client_auth", err, BASE_E_INVALID, "needs client_ca");
    return BASE_OK;
}

static int
read_loop(const struct base_conf_section *s, struct gw_http_config *c, struct base_err *err)
{
    const char *v = NULL;

    TRY(base_conf_str(s, "event_loop", NULL, &v, err));
    if (v == NULL)
        return BASE_OK;
    if (strcmp(v, "poll") == 0)
        c->event_loop = GW_HTTP_LOOP_POLL;
    else if (strcmp(v, "epoll") == 0)
        c->event_loop = GW_HTTP_LOOP_EPOLL;
    else
        return base_conf_fail(s, "event_loop", err, BASE_E_INVALID, "expected poll or epoll");
    return BASE_OK;
}

static int
read_size(const struct base_conf_section *s, const char *key, uint64_t min, uint64_t max,
          size_t *v, struct base_err *err)
{
    uint64_t u;

    TRY(base_conf_size(s, key, min, max, *v, &u, err));
    *v = (size_t)u;
    return BASE_OK;
}

static int
read_count(const struct base_conf_section *s, const char *key, int64_t min, int64_t max,
           size_t *v, struct base_err *err)
{
    int64_t i;

    TRY(base_conf_int(s, key, min, max, (int64_t)*v, &i, err));
    *v = (size_t)i;
    return BASE_OK;
}

static int
read_ms(const struct base_conf_section *s, const char *key, unsigned *v, struct base_err *err)
{
    uint64_t ms;

    TRY(base_conf_duration_ms(s, key, 100, 86400000, *v, &ms, err));
    *v = (unsigned)ms;
    return BASE_OK;
}

static int
read_limits(const struct base_conf_section *s, struct gw_http_limits *l, struct base_err *err)
{
    size_t n;

    TRY(read_size(s, "max_body", 0, 1ull << 32, &l->max_body, err));
    TRY(read_size(s, "max_url", 64, 1u << 20, &l->max_url, err));
    TRY(read_size(s, "max_header", 256, 1u << 20, &l->max_header, err));
    TRY(read_count(s, "max_params", 0, 100000, &l->max_params, err));
    TRY(read_size(s, "max_param_len", 16, 1u << 20, &l->max_param_len, err));
    TRY(read_count(s, "max_segments", 1, 1000, &l->max_segments, err));
    n = l->max_connections;
    TRY(read_count(s, "max_connections", 1, 1000000, &n, err));
    l->max_connections = (unsigned)n;
    n = l->max_per_ip;
    TRY(read_count(s, "max_connections_per_ip", 0, 1000000, &n, err));
    l->max_per_ip = (unsigned)n;
    TRY(read_size(s, "connection_memory", 4096, 1u << 24, &l->conn_memory, err));
    TRY(read_size(s, "request_memory", 65536, 1ull << 34, &l->arena_budget, err));
    TRY(read_ms(s, "idle_timeout", &l->idle_timeout_ms, err));
    TRY(read_ms(s, "header_timeout", &l->header_timeout_ms, err));
    return read_ms(s, "body_timeout", &l->body_timeout_ms, err);
}

int
gw_http_config_from_conf(struct gw_http_config *c, const struct base_conf_section *s,
                         struct base_arena *a, struct base_err *err)
{
    const char *listen = NULL;
    int64_t threads;
    uint64_t hsts;
    bool trust = c->trust_request_id;

    TRY(base_conf_str(s, "listen", NULL, &listen, err));
    if (listen != NULL)
        TRY(parse_listen(s, listen, a, c, err));
    TRY(read_tls(s, c, a, err));
    TRY(base_conf_int(s, "threads", 0, 256, (int64_t)c->threads, &threads, err));
    c->threads = (unsigned)threads;
    TRY(read_loop(s, c, err));
    TRY(read_limits(s, &c->limits, err));
    TRY(base_conf_duration_ms(s, "hsts_max_age", 0, 2ull * 365 * 86400000,
                              (uint64_t)c->hsts_max_age_s * 1000u, &hsts, err));
    c->hsts_max_age_s = (unsigned)(hsts / 1000u);
    TRY(base_conf_str(s, "content_security_policy", c->csp, &c->csp, err));
    TRY(base_conf_bool(s, "trust_request_id", trust, &trust, err));
    c->trust_request_id = trust;
    trust = c->trust_forwarded;
    TRY(base_conf_bool(s, "trust_forwarded", trust, &trust, err));
    c->trust_forwarded = trust;
    if (base_conf_has(s, "cors_origins"))
        TRY(base_conf_list(s, "cors_origins", &c->cors_origins, &c->cors_origin_count, err));
    return BASE_OK;
}
