/*
 * The MLLP listener (adapters/mllp) wired to the pipeline.  The listener's
 * thread only copies each frame to the converter; the ACK comes back
 * through mllp_listener_complete() from the committer thread once the
 * message is committed.  The listener writes ACKs per connection in
 * arrival order and stops reading from a connection with max_inflight
 * messages waiting (back-pressure), so a fast sender is paced by commits.
 */
#include <string.h>
#include <time.h>

#include "adapters/daemon/daemon_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/log.h"

struct ticket {
    struct adapter_daemon *d;
    struct mllp_ticket t;
};

static void
deliver(void *ctx, const char *ack, size_t len, bool accepted)
{
    struct ticket *tk = ctx;

    (void)accepted;
    if (mllp_listener_complete(tk->d->mllp, tk->t, ack, len) != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.mllp_ack", "out of memory: ACK dropped");
    atomic_fetch_add(&tk->d->mllp_completed, 1);
    base_free(tk);
}

static void
on_frame(void *ctx, struct mllp_listener *l, const struct mllp_msg *m, struct mllp_ticket t)
{
    static const char fallback[] = "MSH|^~\\&|||||||ACK||P|2.5\rMSA|AR|\r";
    struct adapter_daemon *d = ctx;
    struct ticket *tk;

    tk = base_malloc(sizeof(*tk));
    if (tk != NULL) {
        int rc = BASE_E_NOMEM;

        tk->d = d;
        tk->t = t;
        pthread_mutex_lock(&d->frame_mu);
        /* Shutting down: no ACK; the sender resends after our restart. */
        if (atomic_load(&d->quiescing) || d->converter == NULL) {
            pthread_mutex_unlock(&d->frame_mu);
            base_free(tk);
            return;
        }
        rc = adapter__converter_push(d->converter, m->data, m->len, deliver, tk);
        pthread_mutex_unlock(&d->frame_mu);
        if (rc == BASE_OK)
            return;
        base_free(tk);
    }
    BASE_LOG(BASE_LOG_ERROR, "adapter.mllp_frame", "out of memory: AR");
    if (mllp_listener_complete(l, t, fallback, sizeof(fallback) - 1) == BASE_OK)
        atomic_fetch_add(&d->mllp_completed, 1);
}

int
adapter__mllp_new(struct adapter_daemon *d, struct base_err *err)
{
    const struct adapter_config *cfg = d->cfg;
    struct mllp_listener_cfg lc = {0};

    if (!cfg->mllp_enabled)
        return BASE_OK;
    lc.bind_addr = cfg->mllp_bind;
    lc.port = cfg->mllp_port;
    lc.max_frame = cfg->mllp_max_frame;
    lc.max_clients = cfg->mllp_max_clients;
    lc.idle_ms = cfg->mllp_idle_ms;
    lc.frame_ms = cfg->mllp_frame_ms;
    lc.max_inflight = cfg->mllp_max_inflight;
    lc.tls_cert_file = cfg->mllp_tls_cert;
    lc.tls_key_file = cfg->mllp_tls_key;
    lc.tls_ca_file = cfg->mllp_tls_ca;
    lc.ingest = on_frame;
    lc.ingest_ctx = d;
    TRY(mllp_listener_new(&lc, &d->mllp, err));
    return BASE_OK;
}

static void *
mllp_main(void *arg)
{
    struct adapter_daemon *d = arg;

    if (mllp_listener_run(d->mllp) != BASE_OK)
        BASE_LOG(BASE_LOG_ERROR, "adapter.mllp", "listener stopped on an I/O error");
    return NULL;
}

int
adapter__mllp_run(struct adapter_daemon *d, struct base_err *err)
{
    if (d->mllp == NULL)
        return BASE_OK;
    if (pthread_create(&d->mllp_thread, NULL, mllp_main, d) != 0)
        return base_err_set(err, BASE_E_INTERNAL, "exception", "mllp", "no listener thread");
    d->mllp_running = true;
    BASE_LOG(BASE_LOG_INFO, "adapter.mllp_listening", "port=%u tls=%d",
             (unsigned)mllp_listener_port(d->mllp), d->cfg->mllp_tls_cert != NULL);
    return BASE_OK;
}

/* Every ACK we completed is written (or its connection has gone). */
void
adapter__mllp_wait_acks(struct adapter_daemon *d, unsigned timeout_ms)
{
    struct mllp_stats st;

    if (d->mllp == NULL || !d->mllp_running)
        return;
    for (unsigned waited = 0; waited < timeout_ms; waited += 10) {
        mllp_listener_stats(d->mllp, &st);
        if (st.acks + st.dropped_acks >= atomic_load(&d->mllp_completed))
            return;
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    }
    BASE_LOG(BASE_LOG_WARN, "adapter.mllp_acks_pending", "waited_ms=%u", timeout_ms);
}

void
adapter__mllp_stop(struct adapter_daemon *d)
{
    if (d->mllp == NULL)
        return;
    if (d->mllp_running) {
        mllp_listener_stop(d->mllp);
        pthread_join(d->mllp_thread, NULL);
        d->mllp_running = false;
    }
    mllp_listener_free(d->mllp);
    d->mllp = NULL;
}

uint16_t
adapter_daemon_mllp_port(const struct adapter_daemon *d)
{
    return d->mllp != NULL ? mllp_listener_port(d->mllp) : 0;
}
