/*
 * AuditEvent search and "who looked at my record", for the regulators' and
 * patients' APIs.  One fixed, parameterized statement: every filter is
 * "($n IS NULL OR column = $n)", which PostgreSQL folds away for the
 * absent ones when it plans the unnamed statement with the actual values,
 * so each search uses the index of the filter it has.
 *
 * Paging is by key (recorded_at, chain_id, seq) — stable while rows are
 * added, and cheap deep into the table — carried in an opaque token
 * "v1~TIME~SEQ~HEX(CHAIN)", validated strictly when it comes back.
 */
#include "gateway/audit/gw_audit.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"
#include "fhir/json/fhir_json.h"
#include "gateway/audit/audit_int.h"
#include "gateway/db/gw_db.h"

#define DEFAULT_PAGE 50u

/* Canonical time "YYYY-MM-DDTHH:MM:SS.ffffffZ", digits where digits go. */
static bool
time_shape_ok(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

    if (n != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    }
    return true;
}

int
gw_audit__page_parse(const char *token, size_t len, struct gw_audit__page_key *k,
                     struct base_err *err)
{
    struct base_str s = base_str_make(token, len);
    struct base_str ver, t, seq, chain;
    char hex[2 * BASE_LIMIT_AUDIT_MAX_FIELD + 1];
    uint64_t n = 0;
    long clen;

    ENSURE(len < 3 * BASE_LIMIT_AUDIT_MAX_FIELD && memchr(token, '\0', len) == NULL &&
               base_str_cut(s, '~', &ver, &s) && base_str_eq_cstr(ver, "v1") &&
               base_str_cut(s, '~', &t, &s) && base_str_cut(s, '~', &seq, &chain) &&
               time_shape_ok(t.ptr, t.len) && base_str_to_u64(seq, &n) && n <= INT64_MAX &&
               seq.len < sizeof(k->seq) && chain.len > 0 && chain.len < sizeof(hex),
           err, BASE_E_INVALID, "value", "page", "invalid page token");
    memcpy(hex, chain.ptr, chain.len);
    hex[chain.len] = '\0';
    clen = gw_audit__unhex(hex, (unsigned char *)k->chain, sizeof(k->chain) - 1);
    ENSURE(clen > 0 && memchr(k->chain, '\0', (size_t)clen) == NULL &&
               base_utf8_valid(k->chain, (size_t)clen, NULL),
           err, BASE_E_INVALID, "value", "page", "invalid page token");
    k->chain[clen] = '\0';
    memcpy(k->time, t.ptr, t.len);
    k->time[t.len] = '\0';
    memcpy(k->seq, seq.ptr, seq.len);
    k->seq[seq.len] = '\0';
    return BASE_OK;
}

static json_t *
make_page(const char *time, const char *seq, const char *chain)
{
    size_t n = strlen(chain);
    char *hex = base_malloc(2 * n + 1);
    char *tok;
    json_t *j;
    size_t tlen;

    if (hex == NULL)
        return NULL;
    gw_audit__hex((const unsigned char *)chain, n, hex);
    tlen = strlen(time) + strlen(seq) + 2 * n + 8;
    tok = base_malloc(tlen);
    if (tok == NULL) {
        base_free(hex);
        return NULL;
    }
    snprintf(tok, tlen, "v1~%s~%s~%s", time, seq, hex);
    j = json_string(tok);
    base_free(hex);
    base_free(tok);
    return j;
}

/* Result columns of the search statement. */
enum {
    C_CHAIN,
    C_SEQ,
    C_TIME,
    C_EVENT,
    C_USER,
    C_ROLE,
    C_ORG,
    C_PURPOSE,
    C_BG,
    C_OUTCOME,
    C_STATUS,
    C_SUBTYPE,
    C_REASON
};

const char *
gw_audit_token_codes(struct base_arena *a, const char *v, const char *const *systems)
{
    struct base_buf b;
    const char *out = NULL;
    bool ok = v != NULL;

    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_URL);
    for (const char *p = v; ok;) {
        size_t n = strcspn(p, ",");
        const char *bar = memchr(p, '|', n);
        const char *code = bar != NULL ? bar + 1 : p;
        size_t cn = n - (size_t)(code - p);
        bool known = bar == NULL || bar == p;

        for (size_t i = 0; !known && systems != NULL && systems[i] != NULL; i++)
            known = strlen(systems[i]) == (size_t)(bar - p) &&
                    memcmp(systems[i], p, (size_t)(bar - p)) == 0;
        ok = cn > 0 && memchr(code, '|', cn) == NULL &&
             (!known || base_buf_appendf(&b, "%s%.*s", b.len > 0 ? "," : "", (int)cn, code) ==
                            BASE_OK);
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    if (ok)
        out = b.len > 0 ? base_buf_dup0(&b, a) : "";
    base_buf_fini(&b);
    return out;
}

int
gw_audit__text_array(const char *list, struct base_buf *b, const char **out, const char *where,
                     struct base_err *err)
{
    *out = NULL;
    if (list == NULL)
        return BASE_OK;
    if (base_buf_putc(b, '{') != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", where, "out of memory");
    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, ",");

        for (size_t i = 0; i < n; i++)
            ENSURE((unsigned char)p[i] >= 0x20 && p[i] != '"' && p[i] != '\\', err,
                   BASE_E_INVALID, "value", where, "a value has a character no code has");
        if (n > 0 && (base_buf_appendf(b, "%s\"%.*s\"", b->data[b->len - 1] == '{' ? "" : ",",
                                       (int)n, p) != BASE_OK))
            return base_err_set(err, BASE_E_NOMEM, "exception", where, "out of memory");
        p += n + (p[n] == ',');
    }
    if (base_buf_putc(b, '}') != BASE_OK || base_buf_putc(b, '\0') != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", where, "out of memory");
    *out = b->data;
    return BASE_OK;
}

enum { L_AGENT, L_OUTCOME, L_PURPOSE, L_MEMBER, L_ACTION, L_SUBTYPE, L_COUNT };

static int
exec_search(struct gw_db_conn *c, const struct gw_audit_search *q, const char *const *lists,
            const struct gw_audit__page_key *pk, unsigned count, PGresult **out,
            struct base_err *err)
{
    char limit[16];
    const char *vals[18];

    snprintf(limit, sizeof(limit), "%u", count + 1);
    vals[0] = q->from;
    vals[1] = q->to;
    vals[2] = lists[L_AGENT];
    vals[3] = q->patient;
    vals[4] = q->entity;
    vals[5] = lists[L_OUTCOME];
    vals[6] = lists[L_PURPOSE];
    vals[7] = lists[L_MEMBER];
    vals[8] = lists[L_ACTION];
    vals[9] = lists[L_SUBTYPE];
    vals[10] = pk != NULL ? pk->time : NULL;
    vals[11] = pk != NULL ? pk->chain : NULL;
    vals[12] = pk != NULL ? pk->seq : NULL;
    vals[13] = limit;
    vals[14] = q->event_chain;
    vals[15] = q->event_seq;
    vals[16] = q->contains;
    vals[17] = q->strings;
    return gw_db_exec(
        c, "audit.search",
        "SELECT chain_id, seq, " GW_AUDIT__TIME_SQL(
            "recorded_at") ", event_text, agent_user, "
                           "agent_role, agent_org, purpose, break_glass, outcome, http_status, "
                           "subtype, reason "
                           /* the event as jsonb only when a content filter asks */
                           "FROM audit.event CROSS JOIN LATERAL (SELECT CASE WHEN $17::jsonb IS "
                           "NULL AND $18::jsonb IS NULL THEN NULL ELSE event_text::jsonb END AS "
                           "ev) j "
                           "WHERE ($1::timestamptz IS NULL OR recorded_at >= "
                           "$1::timestamptz) "
                           "AND ($2::timestamptz IS NULL OR recorded_at < $2::timestamptz) "
                           "AND ($3::text[] IS NULL OR agent_user = ANY($3::text[])) "
                           "AND ($4::text IS NULL OR patient_ref = $4::text) "
                           "AND ($5::text IS NULL OR entities @> ARRAY[$5::text]) "
                           "AND ($6::text[] IS NULL OR outcome = ANY($6::text[])) "
                           "AND ($7::text[] IS NULL OR purpose = ANY($7::text[])) "
                           "AND ($8::text[] IS NULL OR agent_org = ANY($8::text[])) "
                           "AND ($9::text[] IS NULL OR action = ANY($9::text[])) "
                           "AND ($10::text[] IS NULL OR subtype = ANY($10::text[])) "
                           "AND ($11::timestamptz IS NULL OR (recorded_at, chain_id, seq) < "
                           "($11::timestamptz, $12::text, $13::bigint)) "
                           /* a read: the chains are few, the key (chain, seq) is indexed */
                           "AND ($15::text IS NULL OR (chain_id IN (SELECT chain_id FROM "
                           "audit.chain WHERE translate(chain_id, '/_', '..') = $15::text) "
                           "AND seq = $16::bigint)) "
                           "AND ($17::jsonb IS NULL OR NOT EXISTS (SELECT 1 FROM "
                           "jsonb_array_elements($17::jsonb) g WHERE NOT EXISTS (SELECT 1 FROM "
                           "jsonb_array_elements(g) alt WHERE j.ev @> alt))) "
                           "AND ($18::jsonb IS NULL OR NOT EXISTS (SELECT 1 FROM "
                           "jsonb_array_elements($18::jsonb) f WHERE NOT EXISTS (SELECT 1 FROM "
                           "jsonb_array_elements(CASE jsonb_typeof(j.ev -> (f ->> 'on')) WHEN "
                           "'array' THEN j.ev -> (f ->> 'on') ELSE '[]'::jsonb END) x, "
                           "jsonb_array_elements_text(f -> 'any') want, LATERAL (SELECT x #>> "
                           "string_to_array(f ->> 'path', '.') AS v) xv WHERE CASE f ->> 'mode' "
                           "WHEN 'exact' THEN xv.v = want WHEN 'contains' THEN strpos(lower(xv.v), "
                           "lower(want)) > 0 ELSE starts_with(lower(xv.v), lower(want)) END))) "
                           "ORDER BY recorded_at DESC, chain_id DESC, seq DESC LIMIT $14::integer",
        18, vals, out, err);
}

static int
run_search(struct gw_db_conn *c, const struct gw_audit_search *q, unsigned count, PGresult **out,
           struct base_err *err)
{
    struct gw_audit__page_key pk;
    const char *lists[L_COUNT];
    struct base_buf bufs[L_COUNT];
    const char *const raw[L_COUNT] = {q->agent,  q->outcome, q->purpose,
                                      q->member, q->action,  q->subtype};
    static const char *const names[L_COUNT] = {"agent",  "outcome", "purpose",
                                               "member", "action",  "subtype"};
    int rc = BASE_OK;

    for (int i = 0; i < L_COUNT; i++)
        base_buf_init(&bufs[i], BASE_LIMIT_HTTP_MAX_URL * 2);
    for (int i = 0; i < L_COUNT && rc == BASE_OK; i++)
        rc = gw_audit__text_array(raw[i], &bufs[i], &lists[i], names[i], err);
    if (rc == BASE_OK && q->page != NULL)
        rc = gw_audit__page_parse(q->page, strlen(q->page), &pk, err);
    if (rc == BASE_OK)
        rc = exec_search(c, q, lists, q->page != NULL ? &pk : NULL, count, out, err);
    for (int i = 0; i < L_COUNT; i++)
        base_buf_fini(&bufs[i]);
    return rc;
}

static int
check_count(unsigned *count, struct base_err *err)
{
    if (*count == 0)
        *count = DEFAULT_PAGE;
    ENSURE(*count <= BASE_LIMIT_AUDIT_MAX_PAGE, err, BASE_E_LIMIT, "too-costly", "_count",
           "page size exceeds %u", BASE_LIMIT_AUDIT_MAX_PAGE);
    return BASE_OK;
}

static json_t *
str_or_null(const PGresult *res, int r, int col)
{
    const char *v = gw_db_val(res, r, col);

    return v != NULL ? json_string(v) : json_null();
}

/* {"events"|"accesses": […], "next": …} from the rows; `item` makes one. */
typedef json_t *(*item_fn)(const PGresult *res, int r, struct base_err *err);

static int
page_json(const PGresult *res, unsigned count, const char *key, item_fn item, json_t **out,
          struct base_err *err)
{
    json_t *list = json_array();
    json_t *o = json_object();
    int n = PQntuples(res);
    int shown = n > (int)count ? (int)count : n;

    if (list == NULL || o == NULL)
        goto nomem;
    for (int r = 0; r < shown; r++) {
        json_t *it = item(res, r, err);

        if (it == NULL || json_array_append_new(list, it) != 0)
            goto fail;
    }
    if (n > (int)count) {
        json_t *next =
            make_page(PQgetvalue(res, shown - 1, C_TIME), PQgetvalue(res, shown - 1, C_SEQ),
                      PQgetvalue(res, shown - 1, C_CHAIN));

        if (next == NULL || json_object_set_new(o, "next", next) != 0)
            goto nomem;
    } else if (json_object_set_new(o, "next", json_null()) != 0) {
        goto nomem;
    }
    if (json_object_set_new(o, key, list) != 0) {
        list = NULL;
        goto nomem;
    }
    *out = o;
    return BASE_OK;
nomem:
    base_err_set(err, BASE_E_NOMEM, "exception", "audit.search", "out of memory");
fail:
    json_decref(list);
    json_decref(o);
    return err != NULL && err->rc != 0 ? err->rc : BASE_E_NOMEM;
}

static json_t *
event_item(const PGresult *res, int r, struct base_err *err)
{
    const char *text = PQgetvalue(res, r, C_EVENT);
    json_t *ev = NULL;
    int64_t seq = 0;

    if (fhir_json_parse(text, (size_t)PQgetlength(res, r, C_EVENT), NULL, &ev, err) != BASE_OK)
        return NULL;
    (void)gw_db_val_i64(res, r, C_SEQ, &seq);
    return json_pack("{s:s, s:I, s:s, s:o}", "chain", PQgetvalue(res, r, C_CHAIN), "seq",
                     (json_int_t)seq, "recorded", PQgetvalue(res, r, C_TIME), "resource", ev);
}

static json_t *
access_item(const PGresult *res, int r, struct base_err *err)
{
    int64_t status = 0;
    json_t *o;

    (void)err;
    o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o}", "time",
                  PQgetvalue(res, r, C_TIME), "user", str_or_null(res, r, C_USER), "role",
                  str_or_null(res, r, C_ROLE), "member", str_or_null(res, r, C_ORG), "purpose",
                  str_or_null(res, r, C_PURPOSE), "break_glass", gw_db_val_bool(res, r, C_BG),
                  "outcome", str_or_null(res, r, C_OUTCOME), "subtype",
                  str_or_null(res, r, C_SUBTYPE), "reason", str_or_null(res, r, C_REASON));
    if (o != NULL && gw_db_val_i64(res, r, C_STATUS, &status))
        json_object_set_new(o, "status", json_integer((json_int_t)status));
    return o;
}

int
gw_audit_search(struct gw_db_conn *c, const struct gw_audit_search *q, json_t **out,
                struct base_err *err)
{
    unsigned count = q->count;
    PGresult *res = NULL;
    int rc;

    *out = NULL;
    TRY(check_count(&count, err));
    TRY(run_search(c, q, count, &res, err));
    rc = page_json(res, count, "events", event_item, out, err);
    PQclear(res);
    return rc;
}

int
gw_audit_patient_accesses(struct gw_db_conn *c, const char *patient_ref, const char *from,
                          const char *to, unsigned count, const char *page, json_t **out,
                          struct base_err *err)
{
    struct gw_audit_search q = {0};
    PGresult *res = NULL;
    int rc;

    *out = NULL;
    ENSURE(patient_ref != NULL && patient_ref[0] != '\0', err, BASE_E_INVALID, "required",
           "patient", "patient reference is required");
    TRY(check_count(&count, err));
    q.patient = patient_ref;
    q.from = from;
    q.to = to;
    q.page = page;
    TRY(run_search(c, &q, count, &res, err));
    rc = page_json(res, count, "accesses", access_item, out, err);
    PQclear(res);
    if (rc == BASE_OK && json_object_set_new(*out, "patient", json_string(patient_ref)) != 0) {
        json_decref(*out);
        *out = NULL;
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "audit.search", "out of memory");
    }
    return rc;
}
