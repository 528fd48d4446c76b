/* The metrics registry and its Prometheus text; the HTTP config reader. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/conf.h"
#include "gateway/http/gw_http.h"
#include "gateway/http/gw_http_metrics.h"

static double
seven(void *cls)
{
    (void)cls;
    return 7.5;
}

START_TEST(renders_text_format)
{
    struct gw_http_metrics *m = gw_http_metrics_new();
    struct gw_http_metric *c;
    struct gw_http_metric *g;
    struct gw_http_metric *h;
    static const double b[] = {0.1, 1};
    struct base_buf out;

    ck_assert_ptr_nonnull(m);
    c = gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "t_requests_total", "Requests.\nSecond",
                            "route,status", NULL, 0);
    g = gw_http_metrics_add(m, GW_HTTP_METRIC_GAUGE, "t_open", "Open things.", NULL, NULL, 0);
    h = gw_http_metrics_add(m, GW_HTTP_METRIC_HISTOGRAM, "t_seconds", "Latency.", "route", b, 2);
    ck_assert_int_eq(gw_http_metrics_add_gauge_fn(m, "t_computed", "Computed.", seven, NULL), 0);
    gw_http_metric_add(c, (const char *[]){"/a", "200"}, 1);
    gw_http_metric_add(c, (const char *[]){"/a", "200"}, 2);
    gw_http_metric_add(c, (const char *[]){"/b\"x\\y\nz", "404"}, 1);
    gw_http_metric_add(c, (const char *[]){"/a", "200"}, -5); /* counters never go down */
    gw_http_metric_add(g, NULL, 3);
    gw_http_metric_add(g, NULL, -1);
    gw_http_metric_observe(h, (const char *[]){"/a"}, 0.05);
    gw_http_metric_observe(h, (const char *[]){"/a"}, 0.5);
    gw_http_metric_observe(h, (const char *[]){"/a"}, 5);
    base_buf_init(&out, 1 << 20);
    ck_assert_int_eq(gw_http_metrics_render(m, &out), BASE_OK);
    ck_assert_str_eq(out.data,
                     "# HELP fhirgate_metrics_dropped_series_total Updates dropped because a "
                     "family reached its series limit.\n"
                     "# TYPE fhirgate_metrics_dropped_series_total counter\n"
                     "fhirgate_metrics_dropped_series_total 0\n"
                     "# HELP t_requests_total Requests.\\nSecond\n"
                     "# TYPE t_requests_total counter\n"
                     "t_requests_total{route=\"/a\",status=\"200\"} 3\n"
                     "t_requests_total{route=\"/b\\\"x\\\\y\\nz\",status=\"404\"} 1\n"
                     "# HELP t_open Open things.\n"
                     "# TYPE t_open gauge\n"
                     "t_open 2\n"
                     "# HELP t_seconds Latency.\n"
                     "# TYPE t_seconds histogram\n"
                     "t_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"
                     "t_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"
                     "t_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"
                     "t_seconds_sum{route=\"/a\"} 5.55\n"
                     "t_seconds_count{route=\"/a\"} 3\n"
                     "# HELP t_computed Computed.\n"
                     "# TYPE t_computed gauge\n"
                     "t_computed 7.5\n");
    ck_assert_double_eq(gw_http_metric_value(c, (const char *[]){"/a", "200"}), 3);
    ck_assert_double_eq(gw_http_metric_value(h, (const char *[]){"/a"}), 3);
    ck_assert_double_eq(gw_http_metric_value(c, (const char *[]){"/zz", "1"}), 0);
    base_buf_fini(&out);
    gw_http_metrics_free(m);
}
END_TEST

START_TEST(registration_rules)
{
    struct gw_http_metrics *m = gw_http_metrics_new();
    struct gw_http_metric *a;
    static const double desc[] = {1, 0.5};

    a = gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "x_total", "", "a, b", NULL, 0);
    ck_assert_ptr_nonnull(a);
    /* the same name and shape gives the same family (shared registries) */
    ck_assert_ptr_eq(gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "x_total", "", "a,b", NULL, 0),
                     a);
    ck_assert_ptr_null(gw_http_metrics_add(m, GW_HTTP_METRIC_GAUGE, "x_total", "", "a,b", NULL, 0));
    ck_assert_ptr_null(gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "x_total", "", "a", NULL, 0));
    ck_assert_ptr_null(gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "9x", "", NULL, NULL, 0));
    ck_assert_ptr_null(gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "x-y", "", NULL, NULL, 0));
    ck_assert_ptr_null(gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "y", "", "a:b", NULL, 0));
    ck_assert_ptr_null(gw_http_metrics_add(m, GW_HTTP_METRIC_HISTOGRAM, "h", "", "le", NULL, 0));
    ck_assert_ptr_null(gw_http_metrics_add(m, GW_HTTP_METRIC_HISTOGRAM, "h", "", NULL, desc, 2));
    ck_assert_ptr_null(gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "z", "", "a,b,c,d,e", NULL,
                                           0));
    ck_assert_int_eq(gw_http_metrics_add_gauge_fn(m, "f", "", NULL, NULL), BASE_E_INVALID);
    gw_http_metrics_free(m);
}
END_TEST

START_TEST(series_are_capped)
{
    struct gw_http_metrics *m = gw_http_metrics_new();
    struct gw_http_metric *c = gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "c_total", "", "id",
                                                   NULL, 0);
    struct gw_http_metric *d = gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER,
                                                   "fhirgate_metrics_dropped_series_total",
                                                   NULL, NULL, NULL, 0);
    char v[32];

    for (unsigned i = 0; i < GW_HTTP_METRICS_MAX_SERIES + 5; i++) {
        const char *labels[] = {v};

        snprintf(v, sizeof(v), "%u", i);
        gw_http_metric_add(c, labels, 1);
    }
    ck_assert_double_eq(gw_http_metric_value(d, NULL), 5);
    gw_http_metrics_free(m);
}
END_TEST

/* ------------------------------------------------- config from file -- */

static int
load(const char *text, struct gw_http_config *c, struct base_arena *a, struct base_err *err)
{
    static const struct base_conf_section_schema sec[1] = {{"http", 0, NULL, 0}};
    struct base_conf_section_schema s = sec[0];
    struct base_conf_schema schema = {&s, 1};
    struct base_conf *conf;

    s.keys = gw_http_conf_keys;
    s.key_count = gw_http_conf_key_count;
    gw_http_config_init(c);
    TRY(base_conf_parse(a, text, strlen(text), "/etc/fhirgate/gw.conf", &schema, NULL, &conf, err));
    return gw_http_config_from_conf(c, base_conf_section(conf, "http"), a, err);
}

START_TEST(config_from_conf)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_http_config c;
    struct base_err err = {0};

    ck_assert_int_eq(load("[http]\nlisten = [::1]:8443\ncert = tls/gw.crt\nkey = /k.pem\n"
                          "client_ca = ca.crt\nclient_auth = required\nthreads = 4\n"
                          "max_body = 2M\nidle_timeout = 45s\nheader_timeout = 500ms\n"
                          "max_connections_per_ip = 0\nhsts_max_age = 1d\n"
                          "trust_request_id = yes\n",
                          &c, a, &err),
                     BASE_OK);
    ck_assert_str_eq(c.bind, "::1");
    ck_assert_uint_eq(c.port, 8443);
    ck_assert_str_eq(c.cert_file, "/etc/fhirgate/tls/gw.crt");
    ck_assert_str_eq(c.key_file, "/k.pem");
    ck_assert_int_eq(c.client_auth, GW_HTTP_CLIENT_AUTH_REQUIRED);
    ck_assert_uint_eq(c.threads, 4);
    ck_assert_uint_eq(c.limits.max_body, 2u << 20);
    ck_assert_uint_eq(c.limits.idle_timeout_ms, 45000);
    ck_assert_uint_eq(c.limits.header_timeout_ms, 500);
    ck_assert_uint_eq(c.limits.max_per_ip, 0);
    ck_assert_uint_eq(c.hsts_max_age_s, 86400);
    ck_assert(c.trust_request_id);
    ck_assert(!c.plain_http);
    /* defaults stay when keys are absent */
    ck_assert_int_eq(load("[http]\n", &c, a, &err), BASE_OK);
    ck_assert_str_eq(c.bind, "127.0.0.1");
    ck_assert_uint_eq(c.limits.max_url, gw_http_limits_default().max_url);
    base_arena_free(a);
}
END_TEST

START_TEST(config_errors_name_the_line)
{
    static const struct {
        const char *text;
        const char *where;
    } bad[] = {
        {"[http]\nlisten = 8443\n", "/etc/fhirgate/gw.conf:2"},
        {"[http]\nlisten = 127.0.0.1:99999\n", "/etc/fhirgate/gw.conf:2"},
        {"[http]\nlisten = 127.0.0.1:\n", "/etc/fhirgate/gw.conf:2"},
        {"[http]\n\nclient_auth = maybe\n", "/etc/fhirgate/gw.conf:3"},
        {"[http]\nclient_auth = required\n", "/etc/fhirgate/gw.conf:2"},
        {"[http]\nthreads = 1000\n", "/etc/fhirgate/gw.conf:2"},
        {"[http]\nmax_url = 10\n", "/etc/fhirgate/gw.conf:2"},
        {"[http]\nidle_timeout = 10ms\n", "/etc/fhirgate/gw.conf:2"},
        {"[http]\nconnection_memory = 1K\n", "/etc/fhirgate/gw.conf:2"},
        {"[http]\nmax_bdy = 1\n", "/etc/fhirgate/gw.conf:2"},
    };
    struct base_arena *a = base_arena_new(0);
    struct gw_http_config c;

    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        struct base_err err = {0};

        ck_assert_msg(load(bad[i].text, &c, a, &err) != BASE_OK, "case %zu", i);
        ck_assert_msg(strcmp(err.where, bad[i].where) == 0, "case %zu: %s", i, err.where);
    }
    base_arena_free(a);
}
END_TEST

Suite *gw_http_metrics_suite(void)
{
    Suite *s = suite_create("gw_http_metrics");
    TCase *tc = tcase_create("metrics");

    tcase_add_test(tc, renders_text_format);
    tcase_add_test(tc, registration_rules);
    tcase_add_test(tc, series_are_capped);
    tcase_add_test(tc, config_from_conf);
    tcase_add_test(tc, config_errors_name_the_line);
    suite_add_tcase(s, tc);
    return s;
}
