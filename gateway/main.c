/*
 * fhirgate-gateway — the region's central daemon.
 *
 *   fhirgate-gateway --config FILE [--check-config]
 *
 * Loads and validates the whole configuration before anything starts
 * (gateway/config), starts the gateway (gateway/app), then waits for
 * SIGTERM or SIGINT and stops gracefully.  Exit status: 0 after a clean
 * stop or a valid --check-config, 1 when the configuration or start-up
 * fails, 2 for a usage error.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/daemon.h"
#include "fhir/base/log.h"
#include "gateway/app/gw_app.h"
#include "gateway/config/gw_config.h"

int
main(int argc, char **argv)
{
    const char *path = NULL;
    bool check = false;
    int rc = base_daemon_args(argc, argv, "fhirgate-gateway", "deploy/gateway.conf.example", &path,
                              &check);
    struct base_arena *a;
    struct gw_config *cfg = NULL;
    struct gw_app *app = NULL;
    struct base_err err = {0};
    sigset_t set;
    int sig = 0;

    if (rc >= 0)
        return rc;
    base_daemon_block_signals(&set);
    if ((a = base_arena_new(0)) == NULL)
        return 1;
    if (gw_config_load(a, path, &cfg, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate-gateway: %s: %s\n", err.where[0] ? err.where : path, err.msg);
        base_arena_free(a);
        return 1;
    }
    if (check) {
        printf("%s: configuration valid\n", path);
        base_arena_free(a);
        return 0;
    }
    base_log_set_level(cfg->log_level);
    if (gw_app_start(cfg, &app, &err) != BASE_OK) {
        BASE_LOG(BASE_LOG_ERROR, "gateway.start", "where=%s rc=%d", err.where, err.rc);
        fprintf(stderr, "fhirgate-gateway: could not start: %s: %s\n",
                err.where[0] ? err.where : "start", err.msg);
        base_arena_free(a);
        return 1;
    }
    BASE_LOG(BASE_LOG_INFO, "gateway.ready", "node=%s port=%u", cfg->node_id, gw_app_port(app));
    printf("ready: port=%u\n", gw_app_port(app));
    fflush(stdout);
    while (sigwait(&set, &sig) != 0)
        ;
    BASE_LOG(BASE_LOG_INFO, "gateway.stopping", "signal=%d", sig);
    gw_app_stop(app);
    base_arena_free(a);
    return 0;
}
