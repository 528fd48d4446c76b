/*
 * test/integration/http_fixture.h — a gateway/http server inside the test
 * process, for the check_http_*.c suites (static helpers, header only).
 */
#ifndef TEST_INTEGRATION_HTTP_FIXTURE_H
#define TEST_INTEGRATION_HTTP_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/log.h"
#include "fhir/outcome/fhir_outcome.h"
#include "gateway/http/gw_http.h"
#include "test/support/tu_http.h"

struct fx {
    struct gw_http_config cfg;
    struct gw_http_server *srv;
    char base[64]; /* "http://127.0.0.1:PORT" */
};

/* Plain HTTP on 127.0.0.1, any port, two threads. */
static inline void
fx_init_plain(struct fx *f, const struct gw_http_route *routes, size_t n)
{
    memset(f, 0, sizeof(*f));
    /* access lines of every test request would drown the report; the
     * access-log test turns them back on */
    base_log_set_level(BASE_LOG_WARN);
    gw_http_config_init(&f->cfg);
    f->cfg.name = "test";
    f->cfg.plain_http = true;
    f->cfg.threads = 2;
    f->cfg.routes = routes;
    f->cfg.route_count = n;
}

static inline void
fx_start(struct fx *f)
{
    struct base_err err = {0};

    ck_assert_msg(gw_http_server_start(&f->cfg, &f->srv, &err) == BASE_OK, "start: %s: %s",
                  err.where, err.msg);
    snprintf(f->base, sizeof(f->base), "%s://127.0.0.1:%u", f->cfg.plain_http ? "http" : "https",
             gw_http_server_port(f->srv));
}

static inline void
fx_stop(struct fx *f)
{
    if (f->srv != NULL)
        (void)gw_http_server_stop(f->srv, 2000);
    f->srv = NULL;
}

/* "BASE/path" in a static per-thread buffer. */
static inline const char *
fx_url(const struct fx *f, const char *path)
{
    static _Thread_local char buf[32768];

    snprintf(buf, sizeof(buf), "%s%s", f->base, path);
    return buf;
}

/* The body parses as an OperationOutcome with an error issue. */
static inline void
fx_assert_outcome(const struct tu_http_resp *r, const char *code)
{
    json_error_t je;
    json_t *oo = json_loadb(r->body, r->body_len, 0, &je);
    const char *rt;
    json_t *issue;

    ck_assert_msg(oo != NULL, "body is not JSON: %s", r->body);
    rt = json_string_value(json_object_get(oo, "resourceType"));
    ck_assert_str_eq(rt != NULL ? rt : "", "OperationOutcome");
    ck_assert_uint_ge(fhir_outcome_error_count(oo), 1);
    issue = json_array_get(json_object_get(oo, "issue"), 0);
    if (code != NULL)
        ck_assert_str_eq(json_string_value(json_object_get(issue, "code")), code);
    json_decref(oo);
}

#endif /* TEST_INTEGRATION_HTTP_FIXTURE_H */
