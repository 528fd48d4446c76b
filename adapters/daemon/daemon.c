/*
 * The daemon's life: database and migrations, code maps, the committer and
 * converter threads, the MLLP listener, drop folders, PACS sync and the
 * registration; and the graceful stop (docs/design/adapter.md "Shutdown").
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "adapters/codemap/codemap.h"
#include "adapters/daemon/daemon_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"

#define EMBEDDED_DB "fhirgate_adapter"

/* ------------------------------------------------------------ database -- */

static int
check_or_migrate(const struct adapter_config *cfg, const char *admin_url, struct base_err *err)
{
    struct gw_db_config dc;
    struct gw_db_conn *c = NULL;
    struct gw_db_migration_status *st = NULL;
    struct base_arena *a = base_arena_new(0);
    size_t n = 0;
    size_t ns = 0;
    unsigned applied = 0;
    const struct gw_db_migration *set = gw_db_migrations("adapter", &n);
    int rc;

    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "database", "out of memory");
    gw_db_config_defaults(&dc);
    dc.url = admin_url;
    dc.application_name = "fhirgate-adapter-migrate";
    rc = gw_db_connect(&dc, &c, err);
    if (rc == BASE_OK)
        rc = gw_db_migrate_status(c, "adapter", set, n, a, &st, &ns, err);
    for (size_t i = 0; rc == BASE_OK && i < ns; i++) {
        if (st[i].state == GW_DB_MIG_CHANGED)
            rc = base_err_set(err, BASE_E_CONFLICT, "conflict", st[i].name,
                              "an applied migration differs from this build's file");
        else if (st[i].state == GW_DB_MIG_PENDING && !cfg->migrate_auto)
            rc = base_err_set(err, BASE_E_INVALID, "business-rule", st[i].name,
                              "the database schema is not up to date (migrate = check); run "
                              "`fhirgate migrate --target adapter` first");
    }
    if (rc == BASE_OK && cfg->migrate_auto)
        rc = gw_db_migrate(c, "adapter", set, n, &applied, err);
    if (rc == BASE_OK && applied > 0)
        BASE_LOG(BASE_LOG_INFO, "adapter.migrated", "applied=%u", applied);
    gw_db_conn_free(c);
    base_arena_free(a);
    return rc;
}

/* The embedded cluster's service login is the gateway's; ours is the
 * adapter role that schemas/sql/adapter/0001_roles.sql creates. */
static char *
adapter_login(struct base_arena *a, const char *admin_url)
{
    const char *user = strstr(admin_url, "&user=");

    if (user == NULL)
        return NULL;
    return base_arena_sprintf(a, "%.*s&user=fhirgate_adapter_app", (int)(user - admin_url),
                              admin_url);
}

static int
start_db(struct adapter_daemon *d, struct base_err *err)
{
    const struct adapter_config *cfg = d->cfg;
    const char *admin = cfg->db_admin_url != NULL ? cfg->db_admin_url : cfg->db_url;
    struct gw_db_embedded_opts eo = {NULL, NULL, EMBEDDED_DB, 0};
    struct gw_db_embedded_urls urls;
    struct gw_db_config dc;

    d->db_url = (char *)cfg->db_url;
    if (cfg->db_url == NULL) {
        /* DESIGN §4: no URL configured -> a private cluster under the state
         * folder, on a Unix socket only.  Run as root, the cluster belongs
         * to a system user (PostgreSQL refuses root), who must be able to
         * pass through this folder: search permission only, no listing. */
        if (mkdir(cfg->state_dir, 0711) != 0 && errno != EEXIST)
            return base_err_set(err, BASE_E_IO, "exception", "adapter.state_dir",
                                "could not create the state folder");
        TRY(gw_db_embedded_ensure(cfg->state_dir, &eo, d->arena, &urls, err));
        admin = urls.admin;
        d->db_url = adapter_login(d->arena, urls.admin);
        ENSURE(d->db_url != NULL, err, BASE_E_INTERNAL, "exception", "database",
               "unexpected embedded database URL");
    }
    TRY(check_or_migrate(cfg, admin, err));
    gw_db_config_defaults(&dc);
    dc.url = d->db_url;
    dc.application_name = "fhirgate-adapter";
    dc.pool_size = cfg->db_pool_size;
    dc.statement_timeout_ms = cfg->db_statement_timeout_ms;
    TRY(gw_db_pool_new(&dc, &d->pool, err));
    return gw_db_pool_ping(d->pool, err);
}

/* ------------------------------------------------------------ life -- */

int
adapter_daemon_start(const struct adapter_config *cfg, struct adapter_daemon **out,
                     struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    struct adapter_daemon *d = a != NULL ? BASE_NEW(a, struct adapter_daemon) : NULL;
    int rc;

    if (d == NULL) {
        base_arena_free(a);
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    d->cfg = cfg;
    d->arena = a;
    pthread_mutex_init(&d->frame_mu, NULL);
    atomic_init(&d->quiescing, false);
    atomic_init(&d->ack_seq, (uint_fast64_t)time(NULL) << 32);
    atomic_init(&d->mllp_completed, 0);
    d->map = cfg->map;
    d->map.codemap = cfg->codemap;
    d->map.codemap_report = NULL; /* each message counts into its own */
    rc = adapter__metrics_init(d, err);
    if (rc == BASE_OK)
        rc = adapter__pacs_seen_new(d, err);
    if (rc == BASE_OK)
        rc = start_db(d, err);
    if (rc == BASE_OK)
        rc = adapter__committer_new(d, &d->committer, err);
    if (rc == BASE_OK)
        rc = adapter__converter_new(d, &d->converter, err);
    if (rc == BASE_OK)
        rc = adapter__mllp_new(d, err);
    if (rc != BASE_OK) {
        adapter_daemon_stop(d);
        return rc;
    }
    *out = d;
    return BASE_OK;
}

int
adapter_daemon_run(struct adapter_daemon *d, struct base_err *err)
{
    TRY(adapter__mllp_run(d, err));
    TRY(adapter__dropdir_start(d, err));
    TRY(adapter__pacs_start(d, err));
    TRY(adapter__retention_start(d, err));
    TRY(adapter__reindex_start(d, err));
    return adapter__register_start(d, err);
}

static void
set_quiescing(struct adapter_daemon *d)
{
    pthread_mutex_lock(&d->frame_mu);
    atomic_store(&d->quiescing, true);
    pthread_mutex_unlock(&d->frame_mu);
    /* A new connection now would get no ACK for its frames: refuse it, so
     * the sender retries after the restart; open ones are drained. */
    if (d->mllp != NULL && d->mllp_running)
        mllp_listener_close_listen(d->mllp);
}

void
adapter_daemon_quiesce(struct adapter_daemon *d)
{
    set_quiescing(d);
    adapter__register_stop(d);
    adapter__dropdir_stop(d);
    adapter__pacs_stop(d);
    adapter__retention_stop(d);
    adapter__reindex_stop(d);
}

void
adapter_daemon_stop(struct adapter_daemon *d)
{
    if (d == NULL)
        return;
    set_quiescing(d);
    adapter__register_stop(d);
    adapter__dropdir_stop(d);
    adapter__pacs_stop(d);
    adapter__retention_stop(d);
    adapter__reindex_stop(d);
    /* Drain: frames already received are converted, committed and
     * acknowledged; then the ACKs must leave before the sockets close. */
    pthread_mutex_lock(&d->frame_mu);
    adapter__converter_free(d->converter);
    d->converter = NULL;
    pthread_mutex_unlock(&d->frame_mu);
    adapter__committer_free(d->committer);
    d->committer = NULL;
    adapter__mllp_wait_acks(d, 3000);
    adapter__mllp_stop(d);
    gw_db_pool_free(d->pool);
    gw_http_metrics_free(d->m.reg);
    pthread_mutex_destroy(&d->frame_mu);
    BASE_LOG(BASE_LOG_INFO, "adapter.stopped", "acks=%llu",
             (unsigned long long)atomic_load(&d->mllp_completed));
    base_arena_free(d->arena);
}

/* --------------------------------------------------------- accessors -- */

const struct adapter_config *
adapter_daemon_config(const struct adapter_daemon *d)
{
    return d->cfg;
}

struct gw_db_pool *
adapter_daemon_pool(struct adapter_daemon *d)
{
    return d->pool;
}

struct gw_http_metrics *
adapter_daemon_metrics(struct adapter_daemon *d)
{
    return d->m.reg;
}

int
adapter_daemon_codemap_report(struct adapter_daemon *d, json_t **out, struct base_err *err)
{
    struct gw_db_conn *c = NULL;
    int rc;

    *out = NULL;
    TRY(gw_db_borrow(d->pool, &c, err));
    rc = adapter_store_code_report(gw_db_conn_pg(c), out, err);
    gw_db_release(c);
    if (rc == BASE_OK)
        adapter__metrics_codemap(d, *out);
    return rc;
}
