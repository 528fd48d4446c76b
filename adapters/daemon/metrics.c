/*
 * The adapter's metrics (Prometheus text via gateway/http): ingest counts
 * and latency by input and outcome, batch sizes, commit times, ACK codes,
 * resources written by type and action, PACS requests, drop-folder files,
 * and the code-map coverage (refreshed from the report when /metrics is
 * rendered).  Label values are input kinds, codes and system URIs: never
 * patient data.
 */
#include <string.h>

#include "adapters/daemon/daemon_int.h"

static const double batch_buckets[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

static double
queue_depth(void *cls)
{
    struct adapter_daemon *d = cls;

    return d->committer != NULL ? (double)adapter__committer_queued(d->committer) : 0;
}

int
adapter__metrics_init(struct adapter_daemon *d, struct base_err *err)
{
    struct adapter_metrics *m = &d->m;

    m->reg = gw_http_metrics_new();
    if (m->reg == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    m->messages = gw_http_metrics_add(
        m->reg, GW_HTTP_METRIC_COUNTER, "fhirgate_adapter_ingest_messages_total",
        "Messages and documents through the ingest pipeline", "kind,outcome", NULL, 0);
    m->latency = gw_http_metrics_add(m->reg, GW_HTTP_METRIC_HISTOGRAM,
                                     "fhirgate_adapter_ingest_latency_seconds",
                                     "Receipt (queued) to durable commit", "kind", NULL, 0);
    m->batch_size =
        gw_http_metrics_add(m->reg, GW_HTTP_METRIC_HISTOGRAM, "fhirgate_adapter_batch_size",
                            "Messages committed in one transaction", NULL, batch_buckets,
                            BASE_ARRAY_LEN(batch_buckets));
    m->commit_time =
        gw_http_metrics_add(m->reg, GW_HTTP_METRIC_HISTOGRAM, "fhirgate_adapter_commit_seconds",
                            "Time to apply and commit one batch", NULL, NULL, 0);
    m->acks = gw_http_metrics_add(m->reg, GW_HTTP_METRIC_COUNTER, "fhirgate_adapter_acks_total",
                                  "HL7 v2 acknowledgements sent, by MSA-1 code", "code", NULL, 0);
    m->resources =
        gw_http_metrics_add(m->reg, GW_HTTP_METRIC_COUNTER, "fhirgate_adapter_resources_total",
                            "Resources written to the store", "type,action", NULL, 0);
    m->pacs =
        gw_http_metrics_add(m->reg, GW_HTTP_METRIC_COUNTER, "fhirgate_adapter_pacs_requests_total",
                            "QIDO-RS requests to the PACS", "mode,outcome", NULL, 0);
    m->files =
        gw_http_metrics_add(m->reg, GW_HTTP_METRIC_COUNTER, "fhirgate_adapter_drop_files_total",
                            "Files taken from drop folders", "kind,outcome", NULL, 0);
    m->codemap = gw_http_metrics_add(m->reg, GW_HTTP_METRIC_GAUGE, "fhirgate_adapter_codemap_codes",
                                     "Local codes seen by the converters, by system and result",
                                     "system,result", NULL, 0);
    m->reindexing = gw_http_metrics_add(
        m->reg, GW_HTTP_METRIC_GAUGE, "fhirgate_adapter_reindex_running",
        "1 while the search index is rebuilt after an upgrade (searches on new parameters "
        "are incomplete)",
        NULL, NULL, 0);
    m->reindexed = gw_http_metrics_add(
        m->reg, GW_HTTP_METRIC_COUNTER, "fhirgate_adapter_reindexed_resources_total",
        "Resources whose search index rows were rebuilt", NULL, NULL, 0);
    if (m->messages == NULL || m->latency == NULL || m->batch_size == NULL ||
        m->commit_time == NULL || m->acks == NULL || m->resources == NULL || m->pacs == NULL ||
        m->files == NULL || m->codemap == NULL || m->reindexing == NULL || m->reindexed == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    return gw_http_metrics_add_gauge_fn(m->reg, "fhirgate_adapter_queue_depth",
                                        "Messages waiting for the committer", queue_depth, d);
}

void
adapter__metrics_job(struct adapter_daemon *d, const struct adapter_job *j, int batch_rc)
{
    const struct adapter_store_result *r = &j->result;
    const char *outcome = batch_rc != BASE_OK ? "unavailable"
                          : r->replayed       ? "replayed"
                          : r->rc == BASE_OK  ? "stored"
                                              : "refused";

    gw_http_metric_add(d->m.messages, (const char *[]){j->kind, outcome}, 1);
    if (batch_rc == BASE_OK)
        gw_http_metric_observe(d->m.latency, (const char *[]){j->kind},
                               (double)(adapter__now_us() - j->enqueued_us) / 1e6);
    for (size_t i = 0; batch_rc == BASE_OK && !r->replayed && i < r->n_entries; i++) {
        if (r->entries[i].type != NULL)
            gw_http_metric_add(d->m.resources,
                               (const char *[]){r->entries[i].type,
                                                adapter_store_action_name(r->entries[i].action)},
                               1);
    }
}

/* The code-map report as gauges, for the scoreboard (DESIGN.md §6). */
void
adapter__metrics_codemap(struct adapter_daemon *d, const json_t *report)
{
    const json_t *sys;
    size_t i;

    json_array_foreach(json_object_get(report, "systems"), i, sys)
    {
        const char *s = json_string_value(json_object_get(sys, "system"));

        if (s == NULL)
            continue;
        gw_http_metric_set(d->m.codemap, (const char *[]){s, "mapped"},
                           (double)json_integer_value(json_object_get(sys, "mapped")));
        gw_http_metric_set(d->m.codemap, (const char *[]){s, "unmapped"},
                           (double)json_integer_value(json_object_get(sys, "unmapped")));
    }
}

void
adapter_daemon_refresh_metrics(struct adapter_daemon *d)
{
    struct base_err err = {0};
    json_t *rep = NULL;

    if (adapter_daemon_codemap_report(d, &rep, &err) != BASE_OK)
        BASE_LOG(BASE_LOG_WARN, "adapter.metrics_codemap", "detail=%s", err.log_detail);
    json_decref(rep);
}
