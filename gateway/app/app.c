/*
 * gateway/app/app.c — start and stop the gateway daemon (gw_app.h).
 */
#include "gateway/app/gw_app.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/xml/fhir_xml.h"
#include "gateway/app/app_int.h"
#include "gateway/http/gw_http_metrics.h"
#include "gateway/http/gw_http_static.h"

#define REFRESH_MS 30000u

/* ------------------------------------------------------------ database -- */

static int
check_or_migrate(const struct gw_config *cfg, const char *admin_url, struct base_err *err)
{
    struct gw_db_config dc;
    struct gw_db_conn *c = NULL;
    const struct gw_db_migration *set;
    struct gw_db_migration_status *st = NULL;
    struct base_arena *a = base_arena_new(0);
    size_t n = 0;
    size_t ns = 0;
    unsigned applied = 0;
    int rc;

    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "database", "out of memory");
    gw_db_config_defaults(&dc);
    dc.url = admin_url;
    dc.application_name = "fhirgate-gateway-migrate";
    set = gw_db_migrations("gateway", &n);
    rc = gw_db_connect(&dc, &c, err);
    if (rc == BASE_OK)
        rc = gw_db_migrate_status(c, "gateway", set, n, a, &st, &ns, err);
    for (size_t i = 0; rc == BASE_OK && i < ns; i++) {
        if (st[i].state == GW_DB_MIG_CHANGED)
            rc = base_err_set(err, BASE_E_CONFLICT, "conflict", st[i].name,
                              "an applied migration differs from this build's file");
        else if (st[i].state == GW_DB_MIG_PENDING && cfg->migrate == GW_CONFIG_MIGRATE_CHECK)
            rc = base_err_set(err, BASE_E_INVALID, "business-rule", st[i].name,
                              "the database schema is not up to date (migrate = check); run "
                              "`fhirgate migrate` first");
    }
    if (rc == BASE_OK && cfg->migrate == GW_CONFIG_MIGRATE_AUTO)
        rc = gw_db_migrate(c, "gateway", set, n, &applied, err);
    if (rc == BASE_OK && applied > 0)
        BASE_LOG(BASE_LOG_INFO, "db.migrated", "applied=%u", applied);
    gw_db_conn_free(c);
    base_arena_free(a);
    return rc;
}

static int
start_db(struct gw_app *app, struct base_err *err)
{
    const struct gw_config *cfg = app->cfg;
    const char *url = cfg->db_url;
    const char *admin = cfg->db_admin_url != NULL ? cfg->db_admin_url : cfg->db_url;
    struct gw_db_embedded_urls urls;
    struct gw_db_config dc;

    if (url == NULL) {
        /* DESIGN §4: no URL configured → a private cluster under the state
         * folder, on a Unix socket only. */
        if (mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST)
            return base_err_set(err, BASE_E_IO, "exception", "node.state_dir",
                                "could not create the state folder");
        TRY(gw_db_embedded_ensure(cfg->state_dir, NULL, app->arena, &urls, err));
        url = urls.service;
        admin = urls.admin;
    }
    TRY(check_or_migrate(cfg, admin, err));
    gw_db_config_defaults(&dc);
    dc.url = url;
    dc.application_name = "fhirgate-gateway";
    dc.pool_size = cfg->db_pool_size;
    dc.statement_timeout_ms = cfg->db_statement_timeout_ms;
    TRY(gw_db_pool_new(&dc, &app->pool, err));
    /* The audit writers get a pool of their own, so request traffic can
     * never starve audit writes (docs/design/storage.md). */
    dc.application_name = "fhirgate-gateway-audit";
    dc.pool_size = cfg->audit_writers;
    dc.statement_timeout_ms = 5000;
    return gw_db_pool_new(&dc, &app->audit_pool, err);
}

static int
start_audit(struct gw_app *app, struct base_err *err)
{
    const struct gw_config *cfg = app->cfg;
    struct gw_audit_config ac;

    gw_audit_config_defaults(&ac);
    ac.chain_id = cfg->audit_chain;
    ac.node = cfg->node_id;
    ac.writers = cfg->audit_writers;
    ac.signing_key = cfg->audit_key;
    ac.queue_max = cfg->audit_queue_max;
    ac.batch_max = cfg->audit_batch_max;
    ac.spill_rows = cfg->audit_spill_rows;
    ac.append_timeout_ms = cfg->audit_append_timeout_ms;
    ac.checkpoint_rows = cfg->audit_checkpoint_rows;
    ac.checkpoint_ms = cfg->audit_checkpoint_ms;
    if (cfg->audit_key == NULL)
        BASE_LOG(BASE_LOG_WARN, "audit.unsigned", "no audit signing key: no checkpoints");
    TRY(gw_audit_new(app->audit_pool, &ac, &app->audit, err));
    atomic_store(&app->audit_ok, true);
    return BASE_OK;
}

/* ---------------------------------------------------------------- auth -- */

static int
start_auth(struct gw_app *app, struct base_err *err)
{
    const struct gw_config *cfg = app->cfg;
    struct gw_auth_endpoint_config *ep = &app->token_ep;

    TRY(gw_auth_keyset_new(&app->keys, err));
    TRY(gw_auth_keyset_load_file(app->keys, cfg->signing_key, NULL, NULL, true, err));
    for (size_t i = 0; i < cfg->n_verify_keys; i++)
        TRY(gw_auth_keyset_load_file(app->keys, cfg->verify_keys[i], NULL, NULL, false, err));
    ep->keys = app->keys;
    gw_auth_token_config_default(&ep->tokens);
    ep->tokens.issuer = cfg->issuer;
    ep->tokens.audience = cfg->audience;
    ep->tokens.user_lifetime = cfg->user_lifetime_s;
    ep->tokens.system_lifetime = cfg->system_lifetime_s;
    ep->token_url = base_arena_sprintf(app->arena, "%s/auth/token", cfg->public_url);
    ep->jwks_url = base_arena_sprintf(app->arena, "%s/.well-known/jwks.json", cfg->public_url);
    ep->authorize_url = base_arena_sprintf(app->arena, "%s/auth/authorize", cfg->public_url);
    ep->revocation_url = base_arena_sprintf(app->arena, "%s/auth/revoke", cfg->public_url);
    ep->fhir_base = cfg->fhir_base;
    ep->password_grant = cfg->password_grant;
    ep->portal_client_id = cfg->portal_client_id;
    gw_auth_lockout_policy_default(&ep->lockout);
    ep->lockout.user_max_failures = cfg->lockout_user_failures;
    ep->lockout.addr_max_failures = cfg->lockout_addr_failures;
    ep->lockout.window = cfg->lockout_window_s;
    ep->lockout.lock_duration = cfg->lockout_duration_s;
    gw_auth_pw_params_default(&ep->pw_params);
    if (ep->token_url == NULL || ep->jwks_url == NULL || ep->authorize_url == NULL ||
        ep->revocation_url == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "auth", "out of memory");
    return BASE_OK;
}

/* ------------------------------------------------------------ registry -- */

static int
start_registry(struct gw_app *app, struct base_err *err)
{
    const struct gw_config *cfg = app->cfg;
    struct gw_db_conn *c = NULL;
    int rc = BASE_OK;

    TRY(gw_registry_new(app->pool, &app->registry, err));
    if (cfg->n_members > 0)
        TRY(gw_db_borrow(app->pool, &c, err));
    for (size_t i = 0; rc == BASE_OK && i < cfg->n_members; i++) {
        const struct gw_config_member *cm = &cfg->members[i];
        struct gw_registry_member m = {.id = cm->id,
                                       .name = cm->name,
                                       .base = cm->base,
                                       .cert_sha256 = cm->cert_sha256,
                                       .source = "config",
                                       .status = cm->is_active ? GW_REGISTRY_ACTIVE
                                                               : GW_REGISTRY_PENDING};

        rc = gw_registry_member_check(&m, cfg->fed_allow_http, err);
        if (rc == BASE_OK)
            rc = gw_registry_seed(c, &m, err);
    }
    gw_db_release(c);
    TRY(rc);
    return gw_registry_refresh(app->registry, err);
}

/* ------------------------------------------------------------- metrics -- */

static double
audit_queue(void *cls)
{
    struct gw_app *app = cls;
    struct gw_audit_stats st;

    gw_audit_stats(app->audit, &st);
    return (double)st.queued;
}

static double
pool_borrowed(void *cls)
{
    struct gw_app *app = cls;
    struct gw_db_pool_stats st;

    gw_db_pool_stats(app->pool, &st);
    return (double)st.borrowed;
}

static double
audit_appended(void *cls)
{
    struct gw_app *app = cls;
    struct gw_audit_stats st;

    gw_audit_stats(app->audit, &st);
    return (double)st.appended;
}

static double
audit_failed(void *cls)
{
    struct gw_app *app = cls;
    struct gw_audit_stats st;

    gw_audit_stats(app->audit, &st);
    return (double)st.failed + (double)st.rejected;
}

static int
start_metrics(struct gw_app *app, struct base_err *err)
{
    struct gw_http_metrics *m = gw_http_metrics_new();

    if (m == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "metrics", "out of memory");
    app->metrics = m;
    TRY(gw_http_metrics_add_gauge_fn(m, "fhirgate_audit_queue_depth",
                                     "audit rows waiting to be committed", audit_queue, app));
    TRY(gw_http_metrics_add_gauge_fn(m, "fhirgate_audit_appended_rows",
                                     "audit rows committed since start", audit_appended, app));
    TRY(gw_http_metrics_add_gauge_fn(m, "fhirgate_audit_failed_rows",
                                     "audit rows refused or failed since start", audit_failed,
                                     app));
    TRY(gw_http_metrics_add_gauge_fn(m, "fhirgate_db_pool_borrowed",
                                     "request pool connections in use", pool_borrowed, app));
    app->m_denied = gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER,
                                        "fhirgate_requests_denied_total",
                                        "requests refused (401/403/4xx), by reason", "reason",
                                        NULL, 0);
    app->m_audit_failed = gw_http_metrics_add(
        m, GW_HTTP_METRIC_COUNTER, "fhirgate_audit_refused_requests_total",
        "requests answered 503 because the audit trail could not be written", NULL, NULL, 0);
    app->m_pulled = gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "fhirgate_mpi_pulled_total",
                                        "Patient identities ingested from members", "member",
                                        NULL, 0);
    app->m_pull_lag = gw_http_metrics_add(
        m, GW_HTTP_METRIC_GAUGE, "fhirgate_mpi_pull_last_success_timestamp_seconds",
        "Unix time of the member's last successful identity pull (lag = time() - this)",
        "member", NULL, 0);
    app->m_fed = gw_http_metrics_add(m, GW_HTTP_METRIC_COUNTER, "fhirgate_fed_queries_total",
                                     "federated queries by kind and outcome", "kind,outcome",
                                     NULL, 0);
    if (app->m_denied == NULL || app->m_audit_failed == NULL || app->m_pulled == NULL ||
        app->m_pull_lag == NULL || app->m_fed == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "metrics", "out of memory");
    return BASE_OK;
}

/* ---------------------------------------------------------- background -- */

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to `ms` or until stopped; true when stopped. */
static bool
bg_wait(struct gw_app *app, unsigned ms)
{
    struct timespec until;
    bool stop;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000u;
    until.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&app->bg_mu);
    while (!app->bg_stop &&
           pthread_cond_timedwait(&app->bg_cv, &app->bg_mu, &until) != ETIMEDOUT)
        ;
    stop = app->bg_stop;
    pthread_mutex_unlock(&app->bg_mu);
    return stop;
}

/* Probes, identity pulls and registry refreshes, each at its interval.
 * One thread: a slow round delays the next of the same kind, never a
 * request. */
static void *
bg_main(void *arg)
{
    struct gw_app *app = arg;
    const struct gw_config *cfg = app->cfg;
    int64_t next_probe = 0;
    int64_t next_pull = 0;
    int64_t next_purge = 0;
    int64_t next_refresh = mono_ms() + REFRESH_MS;

    do {
        int64_t now = mono_ms();
        struct base_err err = {0};

        if (now >= next_refresh) {
            if (gw_registry_refresh(app->registry, &err) != BASE_OK)
                BASE_LOG(BASE_LOG_WARN, "registry.refresh", "where=%s", err.where);
            next_refresh = now + REFRESH_MS;
        }
        if (cfg->probe_interval_ms > 0 && now >= next_probe) {
            gw_app_probe_round(app);
            next_probe = mono_ms() + cfg->probe_interval_ms;
        }
        if (cfg->mpi_pull && now >= next_pull) {
            gw_app_pull_round(app);
            next_pull = mono_ms() + cfg->mpi_pull_interval_ms;
        }
        if (now >= next_purge) {
            gw_app_purge_round(app);
            next_purge = mono_ms() + cfg->purge_interval_s * 1000;
        }
    } while (!bg_wait(app, 100));
    return NULL;
}

static int
start_bg(struct gw_app *app, struct base_err *err)
{
    pthread_mutex_init(&app->bg_mu, NULL);
    pthread_cond_init(&app->bg_cv, NULL);
    if (pthread_create(&app->bg_thread, NULL, bg_main, app) != 0)
        return base_err_set(err, BASE_E_INTERNAL, "exception", "background",
                            "could not start the background thread");
    app->bg_started = true;
    return BASE_OK;
}

static void
stop_bg(struct gw_app *app)
{
    if (!app->bg_started)
        return;
    pthread_mutex_lock(&app->bg_mu);
    app->bg_stop = true;
    pthread_cond_broadcast(&app->bg_cv);
    pthread_mutex_unlock(&app->bg_mu);
    pthread_join(app->bg_thread, NULL);
    pthread_cond_destroy(&app->bg_cv);
    pthread_mutex_destroy(&app->bg_mu);
    app->bg_started = false;
}

/* ---------------------------------------------------------------- http -- */

/* FHIR XML for content negotiation (R4 http.html#mime-type). */
static int
write_xml(const json_t *resource, bool pretty, struct base_buf *out, struct base_err *err)
{
    return fhir_xml_write(resource, pretty ? FHIR_XML_PRETTY : FHIR_XML_COMPACT, out, err);
}

static int
start_http(struct gw_app *app, struct base_err *err)
{
    const struct gw_config *cfg = app->cfg;
    struct gw_http_config *hc = BASE_NEW(app->arena, struct gw_http_config);
    struct stat st;

    if (hc == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "http", "out of memory");
    if (cfg->portal_root != NULL) {
        if (stat(cfg->portal_root, &st) == 0 && S_ISDIR(st.st_mode))
            TRY(gw_http_static_new(cfg->portal_root, cfg->portal_max_age_s, &app->portal, err));
        else
            BASE_LOG(BASE_LOG_WARN, "portal.missing", "the portal folder does not exist");
    }
    TRY(gw_app_routes(app, err));
    *hc = cfg->http;
    hc->routes = app->routes;
    hc->route_count = app->n_routes;
    hc->app = app;
    hc->metrics = app->metrics;
    hc->xml = write_xml;
    return gw_http_server_start(hc, &app->http, err);
}

/* -------------------------------------------------------------- public -- */

static int
start_all(struct gw_app *app, struct base_err *err)
{
    const struct gw_config *cfg = app->cfg;

    app->node.site = "fhirgate-region";
    app->node.name = cfg->node_id;
    app->node.device_reference = base_arena_sprintf(app->arena, "Device/%s", cfg->node_id);
    app->node.base_url = cfg->fhir_base;
    app->mpi = gw_mpi_config_default();
    app->mpi.upper = cfg->mpi_upper;
    app->mpi.lower = cfg->mpi_lower;
    app->mpi.person_system = cfg->mpi_person_system;
    TRY(start_metrics(app, err));
    TRY(start_db(app, err));
    TRY(start_audit(app, err));
    TRY(start_auth(app, err));
    TRY(start_registry(app, err));
    TRY(gw_app_fed_start(app, err));
    TRY(start_bg(app, err));
    return start_http(app, err);
}

int
gw_app_start(const struct gw_config *cfg, struct gw_app **out, struct base_err *err)
{
    struct gw_app *app = base_calloc(1, sizeof(*app));

    *out = NULL;
    if (app == NULL || (app->arena = base_arena_new(0)) == NULL) {
        base_free(app);
        return base_err_set(err, BASE_E_NOMEM, "exception", "start", "out of memory");
    }
    app->cfg = cfg;
    atomic_init(&app->audit_ok, false);
    atomic_init(&app->db_ok, false);
    if (start_all(app, err) != BASE_OK) {
        int rc = err->rc;

        gw_app_stop(app);
        return rc < 0 ? rc : BASE_E_INTERNAL;
    }
    *out = app;
    return BASE_OK;
}

unsigned
gw_app_port(const struct gw_app *app)
{
    return app->http != NULL ? gw_http_server_port(app->http) : 0;
}

void
gw_app_stop(struct gw_app *app)
{
    if (app == NULL)
        return;
    /* Stop accepting; requests in flight (suspended fan-outs included)
     * finish within the grace, answers carrying "Connection: close". */
    if (app->http != NULL) {
        size_t cancelled = gw_http_server_stop(app->http, app->cfg->shutdown_grace_ms);

        BASE_LOG(BASE_LOG_INFO, "gateway.stopped", "cancelled=%zu", cancelled);
    }
    stop_bg(app);
    gw_app_fed_stop(app);
    /* Every appending thread has returned: flush, sign a last checkpoint. */
    gw_audit_free(app->audit);
    gw_registry_free(app->registry);
    gw_db_pool_free(app->audit_pool);
    gw_db_pool_free(app->pool);
    gw_auth_keyset_free(app->keys);
    gw_http_static_free(app->portal);
    gw_http_metrics_free(app->metrics);
    base_arena_free(app->arena);
    base_free(app);
}
