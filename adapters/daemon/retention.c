/*
 * Ingest ledger retention ([ingest] ledger_retention): one row per received
 * message keeps its ACK so that a resend is answered without being applied
 * again.  Senders resend within minutes or hours; rows older than the
 * retention are deleted in short batches, so the ledger stays the size of
 * the retention window instead of growing for as long as the hospital runs.
 */
#include <time.h>

#include "adapters/daemon/daemon_int.h"
#include "adapters/store/adapter_store.h"
#include "fhir/base/log.h"

#define TRIM_BATCH 5000u

/* Check a quarter of the retention, at least every second and at most
 * every hour: a row outlives the retention by at most that. */
static unsigned
interval_ms(int64_t retention_s)
{
    int64_t ms = retention_s * 1000 / 4;

    return ms < 1000 ? 1000u : ms > 3600000 ? 3600000u : (unsigned)ms;
}

static void
trim_round(struct adapter_daemon *d, struct adapter_worker *w)
{
    int64_t before = (int64_t)time(NULL) - d->cfg->ledger_retention_s;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    size_t total = 0;
    size_t n = TRIM_BATCH;

    if (gw_db_borrow(d->pool, &c, &err) != BASE_OK) {
        BASE_LOG(BASE_LOG_WARN, "adapter.ledger_trim", "rc=%s", base_rc_name(err.rc));
        return;
    }
    while (n == TRIM_BATCH && !adapter__worker_stopping(w)) {
        if (adapter_store_ledger_purge(gw_db_conn_pg(c), before, TRIM_BATCH, &n, &err) != BASE_OK) {
            BASE_LOG(BASE_LOG_WARN, "adapter.ledger_trim", "rc=%s", base_rc_name(err.rc));
            break;
        }
        total += n;
    }
    gw_db_release(c);
    if (total > 0)
        BASE_LOG(BASE_LOG_INFO, "adapter.ledger_trim", "rows=%zu", total);
}

static void
retention_main(struct adapter_worker *w, void *arg)
{
    struct adapter_daemon *d = arg;

    do
        trim_round(d, w);
    while (!adapter__worker_sleep(w, interval_ms(d->cfg->ledger_retention_s)));
}

int
adapter__retention_start(struct adapter_daemon *d, struct base_err *err)
{
    if (d->cfg->ledger_retention_s <= 0)
        return BASE_OK;
    return adapter__worker_start(&d->retention, retention_main, d, "ledger_retention", err);
}

void
adapter__retention_stop(struct adapter_daemon *d)
{
    adapter__worker_stop(&d->retention);
}
