/*
 * Housekeeping of the sign-in tables, on the background thread: rows that
 * no longer protect anything are deleted, so that the tables stay the size
 * of the current traffic instead of growing for as long as the region runs.
 *   auth.codes           authorization codes past their 60 s (a replayed
 *                        code is refused as unknown as it was as expired)
 *   auth.jti_seen        client assertion ids past their expiry (a replay
 *                        of an expired assertion fails on its exp anyway)
 *   auth.login_throttle  counters whose window and lock have both ended
 *   auth.refresh_tokens  refresh token families past their absolute end
 */
#include <time.h>

#include "fhir/base/log.h"
#include "gateway/app/app_int.h"
#include "gateway/auth/gw_auth_store.h"

void
gw_app_purge_round(struct gw_app *app)
{
    const struct gw_config *cfg = app->cfg;
    int64_t now = (int64_t)time(NULL);
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    PGconn *pg;

    if (gw_db_borrow(app->pool, &c, &err) != BASE_OK) {
        BASE_LOG(BASE_LOG_WARN, "auth.purge", "where=%s", err.where);
        return;
    }
    pg = gw_db_conn_pg(c);
    if (gw_auth_code_purge(pg, now, &err) != BASE_OK ||
        gw_auth_jti_purge(pg, now, &err) != BASE_OK ||
        gw_auth_refresh_purge(pg, now, &err) != BASE_OK ||
        gw_auth_throttle_purge(pg, now - cfg->lockout_window_s, &err) != BASE_OK)
        BASE_LOG(BASE_LOG_WARN, "auth.purge", "where=%s", err.where);
    gw_db_release(c);
}
