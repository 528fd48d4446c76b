/*
 * gateway/app/pull.c — the identity pull (docs/design/region.md
 * "Identities"): for each active member, GET {base}/Patient?_lastUpdated=
 * ge<cursor>&_sort=_lastUpdated&_count=N over the federation channel, and
 * each Patient into the MPI.  The cursor per member (the latest
 * meta.lastUpdated ingested) lives in registry.pull_cursor.
 *
 * `ge`, not `gt`: a page may end between Patients updated at the same
 * instant; re-ingesting the boundary ones is harmless (the MPI answers
 * "updated").  A page that is full and moved the cursor is followed at
 * once by the next, up to PULL_PAGES per round.
 */
#include "gateway/app/app_int.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "gateway/fed/gw_fed.h"
#include "gateway/http/gw_http_metrics.h"

#define PULL_PAGES 20
#define MAX_STAMP  64

struct pull_state {
    const struct gw_registry_member *m;
    char cursor[MAX_STAMP]; /* "" = from the start */
    bool more;              /* a full page moved the cursor: ask again */
    uint64_t ingested;
    uint64_t failed;
};

static int
load_cursor(struct gw_db_conn *c, struct pull_state *st, struct base_err *err)
{
    PGresult *res = NULL;
    const char *v;

    st->cursor[0] = '\0';
    TRY(gw_db_exec(c, "pull.cursor", "SELECT last_updated FROM registry.pull_cursor WHERE member = $1",
                   1, &st->m->id, &res, err));
    v = PQntuples(res) > 0 ? gw_db_val(res, 0, 0) : NULL;
    if (v != NULL)
        snprintf(st->cursor, sizeof(st->cursor), "%s", v);
    PQclear(res);
    return BASE_OK;
}

static int
save_cursor(struct gw_db_conn *c, const struct pull_state *st, struct base_err *err)
{
    char pulled[24];
    char failed[24];
    const char *v[4] = {st->m->id, st->cursor, pulled, failed};

    snprintf(pulled, sizeof(pulled), "%llu", (unsigned long long)st->ingested);
    snprintf(failed, sizeof(failed), "%llu", (unsigned long long)st->failed);
    return gw_db_exec(c, "pull.save",
                      "INSERT INTO registry.pull_cursor (member, last_updated, pulled, failed, "
                      "pulled_at) VALUES ($1, $2, $3::bigint, $4::bigint, now()) "
                      "ON CONFLICT (member) DO UPDATE SET last_updated = EXCLUDED.last_updated, "
                      "pulled = registry.pull_cursor.pulled + EXCLUDED.pulled, "
                      "failed = registry.pull_cursor.failed + EXCLUDED.failed, pulled_at = now()",
                      4, v, NULL, err);
}

/* A FHIR instant as written by the member: only characters an instant
 * may hold, so it can go into the next URL unescaped except '+'. */
static bool
stamp_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    return n >= 4 && n < MAX_STAMP && strspn(s, "0123456789-:T.Z+") == n;
}

static void
ingest_page(struct gw_app *app, struct gw_db_conn *c, struct pull_state *st, json_t *bundle)
{
    json_t *entries = json_object_get(bundle, "entry");
    size_t n = json_array_size(entries);
    char best[MAX_STAMP];

    snprintf(best, sizeof(best), "%s", st->cursor);
    for (size_t i = 0; i < n; i++) {
        json_t *res = json_object_get(json_array_get(entries, i), "resource");
        const char *lu = json_string_value(json_object_get(json_object_get(res, "meta"),
                                                           "lastUpdated"));
        struct gw_mpi_ingest_result out;
        struct base_err err = {0};

        if (!base_str_eq_cstr(fhir_json_str(json_object_get(res, "resourceType")), "Patient"))
            continue;
        if (gw_mpi_ingest_identity(gw_db_conn_pg(c), &app->mpi, st->m->id, res, &out, &err) ==
            BASE_OK) {
            st->ingested++;
        } else {
            st->failed++;
            BASE_LOG(BASE_LOG_WARN, "mpi.pull.refused", "member=%s entry=%zu where=%s",
                     st->m->id, i, err.where);
        }
        /* Instants of one server share a format, so text order is time
         * order; a stamp we cannot put in a URL is not used as cursor. */
        if (stamp_ok(lu) && strcmp(lu, best) > 0)
            snprintf(best, sizeof(best), "%s", lu);
    }
    st->more = n >= app->cfg->mpi_pull_count && strcmp(best, st->cursor) != 0;
    snprintf(st->cursor, sizeof(st->cursor), "%s", best);
}

static char *
pull_url(struct base_arena *a, const struct gw_app *app, const struct pull_state *st)
{
    char enc[3 * MAX_STAMP];
    size_t k = 0;

    /* '+' of a time-zone offset must be percent-encoded in a query. */
    for (const char *p = st->cursor; *p != '\0' && k + 4 < sizeof(enc); p++) {
        if (*p == '+') {
            memcpy(enc + k, "%2B", 3);
            k += 3;
        } else {
            enc[k++] = *p;
        }
    }
    enc[k] = '\0';
    if (st->cursor[0] == '\0')
        return base_arena_sprintf(a, "%s/Patient?_sort=_lastUpdated&_count=%u", st->m->base,
                                  app->cfg->mpi_pull_count);
    return base_arena_sprintf(a, "%s/Patient?_lastUpdated=ge%s&_sort=_lastUpdated&_count=%u",
                              st->m->base, enc, app->cfg->mpi_pull_count);
}

/* One page from one member; false when nothing usable came back. */
static bool
pull_page(struct gw_app *app, struct gw_db_conn *c, struct pull_state *st)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_fed_request rq = {0};
    struct gw_fed_job job = {0};
    struct gw_fed_answer *ans = NULL;
    struct base_err err = {0};
    json_t *bundle = NULL;
    bool ok = false;

    if (a == NULL)
        return false;
    rq.member_id = st->m->id;
    rq.member_name = st->m->name;
    rq.base = st->m->base;
    rq.url = pull_url(a, app, st);
    job.requests = &rq;
    job.n_requests = 1;
    if (rq.url != NULL)
        ans = gw_app_fed_run(app, &job, &err);
    if (ans != NULL && ans->results[0].error == GW_FED_OK &&
        fhir_json_parse(ans->results[0].body, ans->results[0].body_len, NULL, &bundle, &err) ==
            BASE_OK &&
        base_str_eq_cstr(fhir_json_str(json_object_get(bundle, "resourceType")), "Bundle")) {
        ingest_page(app, c, st, bundle);
        ok = true;
    } else if (ans != NULL) {
        BASE_LOG(BASE_LOG_INFO, "mpi.pull.failed", "member=%s error=%s", st->m->id,
                 gw_fed_error_name(ans->results[0].error));
        if (ans->results[0].error == GW_FED_OK)
            gw_fed_note_invalid(app->fed, st->m->id);
    }
    json_decref(bundle);
    gw_fed_answer_free(ans);
    base_arena_free(a);
    return ok;
}

static void
pull_member(struct gw_app *app, struct gw_db_conn *c, const struct gw_registry_member *m)
{
    struct pull_state st = {.m = m};
    struct base_err err = {0};
    const char *labels[1] = {m->id};
    bool any = false;

    if (load_cursor(c, &st, &err) != BASE_OK)
        return;
    for (int page = 0; page < PULL_PAGES; page++) {
        if (!pull_page(app, c, &st))
            break;
        any = true;
        if (!st.more)
            break;
    }
    if (!any)
        return;
    if (save_cursor(c, &st, &err) != BASE_OK)
        BASE_LOG(BASE_LOG_WARN, "mpi.pull.cursor", "member=%s where=%s", m->id, err.where);
    if (app->m_pulled != NULL)
        gw_http_metric_add(app->m_pulled, labels, (double)st.ingested);
    if (app->m_pull_lag != NULL)
        gw_http_metric_set(app->m_pull_lag, labels, (double)gw_app_now());
}

void
gw_app_pull_round(struct gw_app *app)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_registry_member *ms = NULL;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    size_t n = 0;

    if (a == NULL)
        return;
    if (gw_registry_snapshot(app->registry, a, true, &ms, &n, &err) == BASE_OK && n > 0 &&
        gw_db_borrow(app->pool, &c, &err) == BASE_OK) {
        for (size_t i = 0; i < n; i++)
            pull_member(app, c, &ms[i]);
        gw_db_release(c);
    }
    base_arena_free(a);
}
