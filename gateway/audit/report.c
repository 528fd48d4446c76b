/*
 * Regulators' report for a period: accesses per member, per clinician and
 * per day; denials; break-the-glass events with their reasons; accesses at
 * unusual hours; clinicians with unusual volume.  Every section is one
 * parameterized aggregate over the period's partitions, all in one
 * REPEATABLE READ snapshot so the sections agree with each other.
 *
 * Definitions (docs/design/storage.md, "Reports"): an access is an event
 * naming a patient; a denial is an event with HTTP status 401 or 403; hours
 * and days are taken in the report's time zone; unusual volume is more than
 * factor × the median number of accesses per clinician in the period (and
 * at least volume_min) — clinicians only, on both sides: a patient reading
 * their own record or an administrator is no yardstick for a doctor.
 */
#include "gateway/audit/gw_audit.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/audit/audit_int.h"
#include "gateway/db/gw_db.h"

/* The period, and the member and user filters: those are transaction-local
 * settings (set_config, parameterized) so that every section's SQL keeps
 * its own parameter numbering. */
#define PERIOD                                                                                     \
    "recorded_at >= $1::timestamptz AND recorded_at < $2::timestamptz "                            \
    "AND (coalesce(current_setting('fhirgate.report_member', true), '') = '' "                     \
    "OR agent_org = current_setting('fhirgate.report_member', true)) "                             \
    "AND (coalesce(current_setting('fhirgate.report_user', true), '') = '' "                       \
    "OR agent_user = current_setting('fhirgate.report_user', true))"
#define DENIAL "http_status IN (401, 403)"

struct rctx {
    struct gw_db_conn *c;
    const char *vals[8];
    char hours[2][8];
    char factor[32];
    char vmin[16];
    char limit[16];
    struct base_err *err;
};

/* Column kinds for turning rows into JSON objects. */
enum kind { K_TEXT, K_INT, K_NUM, K_BOOL };

struct col {
    const char *name;
    enum kind kind;
};

static json_t *
cell(const PGresult *res, int r, int c, enum kind k)
{
    const char *v = gw_db_val(res, r, c);
    int64_t i;

    if (v == NULL)
        return json_null();
    switch (k) {
    case K_INT:
        return gw_db_val_i64(res, r, c, &i) ? json_integer((json_int_t)i) : json_null();
    case K_NUM:
        return json_real(strtod(v, NULL));
    case K_BOOL:
        return json_boolean(v[0] == 't');
    case K_TEXT:
        return json_string(v);
    default:
        BASE_ASSERT_UNREACHABLE();
        return NULL;
    }
}

/* Run `sql` with parameters named by index into x->vals ("012" = $1 from,
 * $2 to, $3 tz); rows -> array of objects. */
static int
rows_json(struct rctx *x, const char *what, const char *sql, const char *params,
          const struct col *cols, size_t ncols, json_t **out)
{
    const char *vals[8];
    int n = 0;
    PGresult *res = NULL;
    json_t *arr;

    *out = NULL;
    for (const char *p = params; *p != '\0' && n < 8; p++)
        vals[n++] = x->vals[*p - '0'];
    TRY(gw_db_exec(x->c, what, sql, n, vals, &res, x->err));
    arr = json_array();
    for (int r = 0; arr != NULL && r < PQntuples(res); r++) {
        json_t *o = json_object();

        for (size_t k = 0; o != NULL && k < ncols; k++) {
            if (json_object_set_new(o, cols[k].name, cell(res, r, (int)k, cols[k].kind)) != 0) {
                json_decref(o);
                o = NULL;
            }
        }
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    PQclear(res);
    ENSURE(arr != NULL, x->err, BASE_E_NOMEM, "exception", what, "out of memory");
    *out = arr;
    return BASE_OK;
}

static int
add(json_t *report, const char *key, json_t *v, struct base_err *err)
{
    ENSURE(v != NULL && json_object_set_new(report, key, v) == 0, err, BASE_E_NOMEM, "exception",
           "audit.report", "out of memory");
    return BASE_OK;
}

static int
section_totals(struct rctx *x, json_t *report)
{
    static const struct col cols[] = {{"events", K_INT},
                                      {"accesses", K_INT},
                                      {"patients", K_INT},
                                      {"denials", K_INT},
                                      {"break_glass", K_INT}};
    json_t *arr = NULL;
    int rc;

    TRY(rows_json(x, "audit.report_totals",
                  "SELECT count(*), count(*) FILTER (WHERE patient_ref IS NOT NULL), "
                  "count(DISTINCT patient_ref), count(*) FILTER (WHERE " DENIAL "), "
                  "count(*) FILTER (WHERE break_glass) FROM audit.event WHERE " PERIOD,
                  "01", cols, BASE_ARRAY_LEN(cols), &arr));
    rc = add(report, "totals", json_incref(json_array_get(arr, 0)), x->err);
    json_decref(arr);
    return rc;
}

static int
section_per_member(struct rctx *x, json_t *report)
{
    static const struct col cols[] = {{"member", K_TEXT},  {"accesses", K_INT},
                                      {"patients", K_INT}, {"clinicians", K_INT},
                                      {"denials", K_INT},  {"break_glass", K_INT}};
    json_t *arr = NULL;

    TRY(rows_json(x, "audit.report_member",
                  "SELECT agent_org, count(*) FILTER (WHERE patient_ref IS NOT NULL), "
                  "count(DISTINCT patient_ref), count(DISTINCT agent_user), "
                  "count(*) FILTER (WHERE " DENIAL "), count(*) FILTER (WHERE break_glass) "
                  "FROM audit.event WHERE " PERIOD " GROUP BY agent_org "
                  "ORDER BY 2 DESC, 1 NULLS LAST LIMIT $3::integer",
                  "017", cols, BASE_ARRAY_LEN(cols), &arr));
    return add(report, "per_member", arr, x->err);
}

static int
section_per_clinician(struct rctx *x, json_t *report)
{
    static const struct col cols[] = {
        {"user", K_TEXT},    {"member", K_TEXT}, {"role", K_TEXT},      {"accesses", K_INT},
        {"patients", K_INT}, {"denials", K_INT}, {"break_glass", K_INT}};
    json_t *arr = NULL;

    TRY(rows_json(x, "audit.report_clinician",
                  "SELECT agent_user, agent_org, agent_role, "
                  "count(*) FILTER (WHERE patient_ref IS NOT NULL), count(DISTINCT patient_ref), "
                  "count(*) FILTER (WHERE " DENIAL "), count(*) FILTER (WHERE break_glass) "
                  "FROM audit.event WHERE " PERIOD " AND agent_user IS NOT NULL "
                  "GROUP BY agent_user, agent_org, agent_role ORDER BY 4 DESC, 1 LIMIT $3::integer",
                  "017", cols, BASE_ARRAY_LEN(cols), &arr));
    return add(report, "per_clinician", arr, x->err);
}

static int
section_per_day(struct rctx *x, json_t *report)
{
    static const struct col cols[] = {{"day", K_TEXT},
                                      {"events", K_INT},
                                      {"accesses", K_INT},
                                      {"denials", K_INT},
                                      {"break_glass", K_INT}};
    json_t *arr = NULL;

    TRY(rows_json(x, "audit.report_day",
                  "SELECT to_char(recorded_at AT TIME ZONE $3, 'YYYY-MM-DD') AS day, count(*), "
                  "count(*) FILTER (WHERE patient_ref IS NOT NULL), "
                  "count(*) FILTER (WHERE " DENIAL "), count(*) FILTER (WHERE break_glass) "
                  "FROM audit.event WHERE " PERIOD " GROUP BY day ORDER BY day",
                  "012", cols, BASE_ARRAY_LEN(cols), &arr));
    return add(report, "per_day", arr, x->err);
}

#define EVENT_COLS                                                                                 \
    GW_AUDIT__TIME_SQL("recorded_at")                                                              \
    ", chain_id, seq, agent_user, agent_role, agent_org, "                                         \
    "patient_ref, purpose, http_status, outcome, subtype, "                                        \
    "reason, request_id"
static const struct col event_cols[] = {
    {"time", K_TEXT},      {"chain", K_TEXT},   {"seq", K_INT},      {"user", K_TEXT},
    {"role", K_TEXT},      {"member", K_TEXT},  {"patient", K_TEXT}, {"purpose", K_TEXT},
    {"status", K_INT},     {"outcome", K_TEXT}, {"subtype", K_TEXT}, {"reason", K_TEXT},
    {"request_id", K_TEXT}};

static int
section_denials(struct rctx *x, json_t *report)
{
    json_t *arr = NULL;

    TRY(rows_json(x, "audit.report_denials",
                  "SELECT " EVENT_COLS " FROM audit.event WHERE " PERIOD " AND " DENIAL
                  " ORDER BY recorded_at DESC, chain_id, seq DESC LIMIT $3::integer",
                  "017", event_cols, BASE_ARRAY_LEN(event_cols), &arr));
    return add(report, "denials", arr, x->err);
}

static int
section_break_glass(struct rctx *x, json_t *report)
{
    json_t *arr = NULL;

    TRY(rows_json(x, "audit.report_break_glass",
                  "SELECT " EVENT_COLS " FROM audit.event WHERE " PERIOD " AND break_glass "
                  "ORDER BY recorded_at DESC, chain_id, seq DESC LIMIT $3::integer",
                  "017", event_cols, BASE_ARRAY_LEN(event_cols), &arr));
    return add(report, "break_glass", arr, x->err);
}

static int
section_unusual_hours(struct rctx *x, json_t *report, const struct gw_audit_report_opts *o)
{
    static const struct col cols[] = {{"user", K_TEXT},    {"member", K_TEXT}, {"accesses", K_INT},
                                      {"patients", K_INT}, {"first", K_TEXT},  {"last", K_TEXT}};
    json_t *arr = NULL;
    json_t *sec;

    TRY(rows_json(x, "audit.report_hours",
                  "SELECT agent_user, agent_org, count(*), count(DISTINCT "
                  "patient_ref), " GW_AUDIT__TIME_SQL("min(recorded_at)") ", " GW_AUDIT__TIME_SQL(
                      "max(recorded_at)") " FROM audit.event WHERE " PERIOD
                                          " AND patient_ref IS NOT NULL AND (CASE WHEN $4::integer "
                                          "<= $5::integer "
                                          "THEN extract(hour FROM recorded_at AT TIME ZONE $3) >= "
                                          "$4::integer "
                                          "AND extract(hour FROM recorded_at AT TIME ZONE $3) < "
                                          "$5::integer "
                                          "ELSE extract(hour FROM recorded_at AT TIME ZONE $3) >= "
                                          "$4::integer "
                                          "OR extract(hour FROM recorded_at AT TIME ZONE $3) < "
                                          "$5::integer END) "
                                          "GROUP BY agent_user, agent_org ORDER BY 3 DESC, 1 LIMIT "
                                          "$6::integer",
                  "012347", cols, BASE_ARRAY_LEN(cols), &arr));
    sec = json_pack("{s:i, s:i, s:s, s:o}", "from_hour", (int)o->night_start, "to_hour",
                    (int)o->night_end, "tz", x->vals[2], "users", arr);
    return add(report, "unusual_hours", sec, x->err);
}

static int
section_unusual_volume(struct rctx *x, json_t *report)
{
    static const struct col cols[] = {{"user", K_TEXT},
                                      {"member", K_TEXT},
                                      {"accesses", K_INT},
                                      {"median", K_NUM},
                                      {"times_median", K_NUM}};
    json_t *arr = NULL;
    json_t *sec;
    PGresult *res = NULL;
    json_t *median;

    TRY(gw_db_exec(x->c, "audit.report_median",
                   "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n) FROM ("
                   "SELECT count(*) AS n FROM audit.event WHERE " PERIOD
                   " AND patient_ref IS NOT NULL AND agent_user IS NOT NULL "
                   "AND agent_role = 'clinician' GROUP BY agent_user) per",
                   2, x->vals, &res, x->err));
    median = cell(res, 0, 0, K_NUM);
    PQclear(res);
    TRY(rows_json(
        x, "audit.report_volume",
        "WITH per AS (SELECT agent_user, min(agent_org) AS org, count(*) AS n "
        "FROM audit.event WHERE " PERIOD " AND patient_ref IS NOT NULL "
        "AND agent_user IS NOT NULL AND agent_role = 'clinician' GROUP BY agent_user), "
        "med AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS m FROM per) "
        "SELECT per.agent_user, per.org, per.n, med.m, round((per.n / med.m)::numeric, 2) "
        "FROM per, med WHERE med.m > 0 AND per.n > $3::float8 * med.m "
        "AND per.n >= $4::integer ORDER BY per.n DESC, 1 LIMIT $5::integer",
        "01567", cols, BASE_ARRAY_LEN(cols), &arr));
    sec = json_pack("{s:o, s:f, s:o}", "median", median, "factor", strtod(x->factor, NULL), "users",
                    arr);
    return add(report, "unusual_volume", sec, x->err);
}

static int
check_opts(struct gw_audit_report_opts *o, struct base_err *err)
{
    ENSURE(o->from != NULL && o->to != NULL, err, BASE_E_INVALID, "required",
           o->from == NULL ? "from" : "to", "report period needs from and to");
    if (o->tz == NULL)
        o->tz = "UTC";
    ENSURE(strlen(o->tz) < 64, err, BASE_E_INVALID, "value", "tz", "invalid time zone");
    if (o->night_start == 0 && o->night_end == 0) {
        o->night_start = 22;
        o->night_end = 6;
    }
    ENSURE(o->night_start < 24 && o->night_end < 24, err, BASE_E_INVALID, "value", "hours",
           "hours must be 0..23");
    if (o->volume_factor == 0)
        o->volume_factor = 3;
    ENSURE(isfinite(o->volume_factor) && o->volume_factor > 0 && o->volume_factor < 1e6, err,
           BASE_E_INVALID, "value", "factor", "volume factor must be positive");
    if (o->volume_min == 0)
        o->volume_min = 20;
    if (o->max_list == 0)
        o->max_list = 500;
    ENSURE(o->max_list <= 100000, err, BASE_E_LIMIT, "too-costly", "max_list",
           "list limit too large");
    return BASE_OK;
}

static int
set_filters(struct rctx *x, const struct gw_audit_report_opts *o)
{
    const char *vals[2] = {o->member != NULL ? o->member : "", o->user != NULL ? o->user : ""};
    PGresult *res = NULL;

    TRY(gw_db_exec(x->c, "audit.report_filters",
                   "SELECT set_config('fhirgate.report_member', $1, true), "
                   "set_config('fhirgate.report_user', $2, true)",
                   2, vals, &res, x->err));
    PQclear(res);
    return BASE_OK;
}

static int
build(struct rctx *x, json_t *report, const struct gw_audit_report_opts *o)
{
    json_t *period = json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "from", o->from, "to", o->to, "tz",
                               o->tz, "member", o->member, "user", o->user);

    TRY(set_filters(x, o));
    TRY(add(report, "period", period, x->err));
    TRY(section_totals(x, report));
    TRY(section_per_member(x, report));
    TRY(section_per_clinician(x, report));
    TRY(section_per_day(x, report));
    TRY(section_denials(x, report));
    TRY(section_break_glass(x, report));
    TRY(section_unusual_hours(x, report, o));
    return section_unusual_volume(x, report);
}

int
gw_audit_report(struct gw_db_conn *c, const struct gw_audit_report_opts *in, json_t **out,
                struct base_err *err)
{
    struct gw_audit_report_opts o = *in;
    struct rctx x;
    json_t *report;
    int rc;

    *out = NULL;
    TRY(check_opts(&o, err));
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.err = err;
    snprintf(x.hours[0], sizeof(x.hours[0]), "%u", o.night_start);
    snprintf(x.hours[1], sizeof(x.hours[1]), "%u", o.night_end);
    snprintf(x.factor, sizeof(x.factor), "%.6g", o.volume_factor);
    snprintf(x.vmin, sizeof(x.vmin), "%u", o.volume_min);
    snprintf(x.limit, sizeof(x.limit), "%u", o.max_list);
    x.vals[0] = o.from;
    x.vals[1] = o.to;
    x.vals[2] = o.tz;
    x.vals[3] = x.hours[0];
    x.vals[4] = x.hours[1];
    x.vals[5] = x.factor;
    x.vals[6] = x.vmin;
    x.vals[7] = x.limit;
    report = json_object();
    ENSURE(report != NULL, err, BASE_E_NOMEM, "exception", "audit.report", "out of memory");
    rc = gw_db_begin(c, "REPEATABLE READ READ ONLY", err);
    if (rc == BASE_OK)
        rc = build(&x, report, &o);
    if (rc == BASE_OK)
        rc = gw_db_commit(c, err);
    if (rc != BASE_OK) {
        gw_db_rollback(c);
        json_decref(report);
        return rc;
    }
    *out = report;
    return BASE_OK;
}
