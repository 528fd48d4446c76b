/*
 * gateway/http/gw_http_metrics.h — a small metrics registry rendered in the
 * Prometheus text exposition format 0.0.4.
 *
 * A registry holds families (counter, gauge, histogram), each with a fixed
 * list of label names; a series is created the first time a combination of
 * label values is used.  Updates are thread-safe (one mutex per family)
 * and cheap enough for every request.  Label values must not carry patient
 * data: use route patterns, status codes, member ids.  A family keeps at
 * most GW_HTTP_METRICS_MAX_SERIES series; updates to new series beyond that
 * are dropped (and counted in fhirgate_metrics_dropped_series_total), so a
 * label fed from input can never exhaust memory.
 *
 * The HTTP server records, in the registry given in its config (or its own):
 *   fhirgate_http_requests_total{method,route,status}        counter
 *   fhirgate_http_request_duration_seconds{route}            histogram
 *   fhirgate_http_connections / _inflight / _suspended       gauges
 *   fhirgate_http_connections_cut_total{reason}              counter
 */
#ifndef GATEWAY_HTTP_GW_HTTP_METRICS_H
#define GATEWAY_HTTP_GW_HTTP_METRICS_H

#include <stddef.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"

#define GW_HTTP_METRICS_MAX_SERIES  2000u
#define GW_HTTP_METRICS_MAX_LABELS  4u
#define GW_HTTP_METRICS_MAX_BUCKETS 24u

struct gw_http_metrics;
struct gw_http_metric;

enum gw_http_metric_type {
    GW_HTTP_METRIC_COUNTER,
    GW_HTTP_METRIC_GAUGE,
    GW_HTTP_METRIC_HISTOGRAM
};

/* Latency buckets in seconds (1 ms .. 10 s), used when none are given. */
extern const double gw_http_latency_buckets[];
extern const size_t gw_http_latency_bucket_count;

BASE_MUST_CHECK struct gw_http_metrics *gw_http_metrics_new(void);
void gw_http_metrics_free(struct gw_http_metrics *m);

/*
 * Register a family, or get the one already registered under `name` when
 * its type and label names are the same (so two servers may share a
 * registry).  `name` must match [a-zA-Z_:][a-zA-Z0-9_:]*; `labels` is a comma-separated list of label names ("route,status")
 * or NULL; histograms take ascending `buckets` (NULL: latency buckets).
 * Returns NULL on invalid arguments or when out of memory.  The family
 * lives as long as the registry.
 */
BASE_MUST_CHECK struct gw_http_metric *gw_http_metrics_add(struct gw_http_metrics *m,
                                                           enum gw_http_metric_type type,
                                                           const char *name, const char *help,
                                                           const char *labels,
                                                           const double *buckets,
                                                           size_t bucket_count);

/* A gauge computed when the registry is rendered.  `fn(cls)` must be
 * thread-safe.  BASE_E_INVALID / BASE_E_NOMEM. */
BASE_MUST_CHECK int gw_http_metrics_add_gauge_fn(struct gw_http_metrics *m, const char *name,
                                                 const char *help, double (*fn)(void *cls),
                                                 void *cls);

/* `values` holds one string per label name (NULL when the family has none). */
void gw_http_metric_add(struct gw_http_metric *f, const char *const *values, double v);
void gw_http_metric_set(struct gw_http_metric *f, const char *const *values, double v);
void gw_http_metric_observe(struct gw_http_metric *f, const char *const *values, double v);

/* Current value of a counter or gauge series (0 when absent); for tests. */
double gw_http_metric_value(struct gw_http_metric *f, const char *const *values);

/* Append the whole registry in text format 0.0.4.  BASE_E_LIMIT when `out`
 * is full, BASE_E_NOMEM. */
BASE_MUST_CHECK int gw_http_metrics_render(struct gw_http_metrics *m, struct base_buf *out);

#endif /* GATEWAY_HTTP_GW_HTTP_METRICS_H */
