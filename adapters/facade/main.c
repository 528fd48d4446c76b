/*
 * fhirgate-adapter — one member hospital's adapter daemon.
 *
 *   fhirgate-adapter --config FILE [--check-config]
 *
 * Loads and validates the whole configuration before anything listens
 * (adapters/daemon), starts the daemon (database, committer, MLLP), the
 * HTTPS facade (adapters/facade), then the listeners, drop folders, PACS
 * sync and registration; waits for SIGTERM or SIGINT and stops gracefully:
 * no new messages, HTTP requests in flight finish, everything received is
 * committed and acknowledged, then the listeners close.  Prints one line
 * "ready: https=PORT mllp=PORT" on stdout when serving.  Exit status: 0
 * after a clean stop or a valid --check-config, 1 when the configuration or
 * start-up fails, 2 for a usage error.
 */
#include <curl/curl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "adapters/daemon/adapter_daemon.h"
#include "adapters/facade/adapter_facade.h"
#include "fhir/base/arena.h"
#include "fhir/base/daemon.h"
#include "fhir/base/log.h"

static int
fail(const char *what, const struct base_err *err, const char *dflt)
{
    fprintf(stderr, "fhirgate-adapter: %s: %s: %s\n", what, err->where[0] ? err->where : dflt,
            err->msg);
    return 1;
}

int
main(int argc, char **argv)
{
    const char *path = NULL;
    bool check = false;
    int rc = base_daemon_args(argc, argv, "fhirgate-adapter", "deploy/adapter.conf.example", &path,
                              &check);
    struct base_arena *a;
    struct adapter_config *cfg = NULL;
    struct adapter_daemon *d = NULL;
    struct adapter_facade *f = NULL;
    struct base_err err = {0};
    sigset_t set;
    int sig = 0;

    if (rc >= 0)
        return rc;
    base_daemon_block_signals(&set);
    /* One arena per message: keep glibc from trimming the heap after each
     * (docs/design/hl7v2.md, measured ~10%). */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    if ((a = base_arena_new(0)) == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    if (adapter_config_load(a, path, &cfg, &err) != BASE_OK) {
        base_arena_free(a);
        return fail("configuration", &err, path);
    }
    if (check) {
        printf("%s: configuration valid\n", path);
        base_arena_free(a);
        return 0;
    }
    base_log_set_level(cfg->log_level);
    if (adapter_daemon_start(cfg, &d, &err) != BASE_OK ||
        adapter_facade_start(d, &f, &err) != BASE_OK || adapter_daemon_run(d, &err) != BASE_OK) {
        BASE_LOG(BASE_LOG_ERROR, "adapter.start", "where=%s rc=%s", err.where,
                 base_rc_name(err.rc));
        adapter_facade_stop(f, 0);
        adapter_daemon_stop(d);
        base_arena_free(a);
        return fail("could not start", &err, "start");
    }
    BASE_LOG(BASE_LOG_INFO, "adapter.ready", "member=%s https=%u mllp=%u", cfg->member_id,
             adapter_facade_port(f), (unsigned)adapter_daemon_mllp_port(d));
    printf("ready: https=%u mllp=%u\n", adapter_facade_port(f),
           (unsigned)adapter_daemon_mllp_port(d));
    fflush(stdout);
    while (sigwait(&set, &sig) != 0)
        ;
    BASE_LOG(BASE_LOG_INFO, "adapter.stopping", "signal=%d", sig);
    adapter_daemon_quiesce(d);
    adapter_facade_stop(f, cfg->shutdown_grace_ms);
    adapter_daemon_stop(d);
    curl_global_cleanup();
    base_arena_free(a);
    return 0;
}
