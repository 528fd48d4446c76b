/*
 * The search index follows this build (adapters/store/reindex.c): when the
 * stored index rows were written by a build with another parameter table,
 * every resource's rows are rewritten in the background, a short batch per
 * transaction, so ingest and searches go on meanwhile (a search on a new
 * parameter finds the resources done so far).  An interrupted pass resumes
 * where it stopped at the next start.
 */
#include "adapters/daemon/daemon_int.h"
#include "adapters/store/adapter_store.h"
#include "fhir/base/log.h"

/* Resources per transaction: each holds the writers' lock, so a message
 * waits at most one batch (a few tens of milliseconds). */
#define REINDEX_BATCH 200u

/* Between failed attempts (database unavailable): the pass resumes. */
#define REINDEX_RETRY_MS 5000u

/* One statement or step on a connection of the pool, returned at once:
 * the pass never keeps a connection the facade may need. */
static int
with_conn(struct adapter_daemon *d, const char *fp, bool begin, bool *flag, size_t *n,
          struct base_err *err)
{
    struct gw_db_conn *c = NULL;
    int rc;

    TRY(gw_db_borrow(d->pool, &c, err));
    if (begin)
        rc = adapter_store_reindex_begin(gw_db_conn_pg(c), fp, flag, err);
    else
        rc = adapter_store_reindex_step(gw_db_conn_pg(c), fp, REINDEX_BATCH, n, flag, err);
    gw_db_release(c);
    return rc;
}

static int
run_pass(struct adapter_daemon *d, struct adapter_worker *w, const char *fp, size_t *total,
         struct base_err *err)
{
    bool needed = false;
    bool finished = false;

    TRY(with_conn(d, fp, true, &needed, NULL, err));
    if (!needed)
        return BASE_OK;
    BASE_LOG(BASE_LOG_INFO, "adapter.reindex_start", "fingerprint=%.12s", fp);
    gw_http_metric_set(d->m.reindexing, NULL, 1);
    while (!finished && !adapter__worker_stopping(w)) {
        size_t n = 0;
        int rc = with_conn(d, fp, false, &finished, &n, err);

        if (rc != BASE_OK) {
            gw_http_metric_set(d->m.reindexing, NULL, 0);
            return rc;
        }
        *total += n;
        gw_http_metric_add(d->m.reindexed, NULL, (double)n);
    }
    gw_http_metric_set(d->m.reindexing, NULL, 0);
    if (finished)
        BASE_LOG(BASE_LOG_INFO, "adapter.reindex_done", "resources=%zu", *total);
    return BASE_OK;
}

static void
reindex_main(struct adapter_worker *w, void *arg)
{
    struct adapter_daemon *d = arg;
    char fp[65];
    struct base_err err = {0};
    size_t total = 0;

    if (adapter_store_index_fingerprint(fp, &err) != BASE_OK) {
        BASE_LOG(BASE_LOG_ERROR, "adapter.reindex", "rc=%s", base_rc_name(err.rc));
        return;
    }
    do {
        int rc;

        base_err_clear(&err);
        rc = run_pass(d, w, fp, &total, &err);
        if (rc == BASE_OK)
            return;
        BASE_LOG(BASE_LOG_WARN, "adapter.reindex", "rc=%s done=%zu", base_rc_name(rc), total);
    } while (!adapter__worker_sleep(w, REINDEX_RETRY_MS));
}

int
adapter__reindex_start(struct adapter_daemon *d, struct base_err *err)
{
    return adapter__worker_start(&d->reindex, reindex_main, d, "reindex", err);
}

void
adapter__reindex_stop(struct adapter_daemon *d)
{
    adapter__worker_stop(&d->reindex);
}
