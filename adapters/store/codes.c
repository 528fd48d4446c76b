/*
 * The code-map report in the store (0015_store_code_uses.sql): a batch's
 * counts are added in its transaction, before the commit; the report is
 * read back as JSON.
 */
#include <stdio.h>
#include <string.h>

#include "adapters/store/store_int.h"
#include "fhir/base/limits.h"

#define CODE_TEXT_MAX 4096u /* bytes of a system or code: the tables' CHECKs */

enum { COL_SYSTEM, COL_CODE, COL_MAPPED, COL_USES, N_COLS };

/*
 * A message counts when it committed and changed the store.  A repeat
 * changes nothing, and so neither do its codes: one the ledger answered,
 * and one it could not recognize (a resend with a new MSH-7, a CDA document
 * or CSV file loaded twice), whose every entry was identical.
 */
static bool
counted(const struct adapter_store_item *it, const struct adapter_store_result *r)
{
    if (it->n_code_uses == 0 || r->rc != BASE_OK || r->replayed)
        return false;
    for (size_t i = 0; i < r->n_entries; i++) {
        if (r->entries[i].action == ADAPTER_STORE_CREATED ||
            r->entries[i].action == ADAPTER_STORE_UPDATED ||
            r->entries[i].action == ADAPTER_STORE_DELETED)
            return true;
    }
    return false;
}

/*
 * A system the table cannot hold is left out rather than failing the batch
 * (the message is stored either way); a code it cannot hold is counted as
 * unlisted.  The converters bound both well below this.
 */
static void
add_use(struct st_arr *x, const struct adapter_store_code_use *u)
{
    size_t slen = u->system != NULL ? strlen(u->system) : 0;
    const char *code = u->code;

    if (slen == 0 || slen > CODE_TEXT_MAX || u->uses == 0 || u->uses > (uint64_t)INT64_MAX)
        return;
    if (code != NULL && (code[0] == '\0' || strlen(code) > CODE_TEXT_MAX))
        code = NULL;
    st_arr_textn(&x[COL_SYSTEM], u->system, slen);
    st_arr_text(&x[COL_CODE], code);
    st_arr_raw(&x[COL_MAPPED], u->mapped ? "t" : "f");
    st_arr_i64(&x[COL_USES], (int64_t)u->uses);
}

int
st_code_uses_add(PGconn *c, const struct adapter_store_item *items,
                 const struct adapter_store_result *results, size_t n, struct base_err *err)
{
    struct st_arr x[N_COLS];
    const char *p[N_COLS + 1];
    char max[24];
    PGresult *res = NULL;
    bool any = false;
    int rc = BASE_OK;

    for (size_t i = 0; i < n && !any; i++)
        any = counted(&items[i], &results[i]);
    if (!any)
        return BASE_OK;
    for (int k = 0; k < N_COLS; k++)
        st_arr_init(&x[k]);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; counted(&items[i], &results[i]) && k < items[i].n_code_uses; k++)
            add_use(x, &items[i].code_uses[k]);
    }
    for (int k = 0; k < N_COLS; k++) {
        p[k] = st_arr_get(&x[k]);
        if (p[k] == NULL)
            rc = base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory (code uses)");
    }
    snprintf(max, sizeof(max), "%u", BASE_LIMIT_CODEMAP_MAX_UNMAPPED);
    p[N_COLS] = max;
    if (rc == BASE_OK && x[COL_SYSTEM].n > 0)
        rc = st_exec(c,
                     "SELECT store.note_code_uses($1::text[], $2::text[], $3::boolean[], "
                     "$4::bigint[], $5::integer)",
                     N_COLS + 1, p, PGRES_TUPLES_OK, "count the uses of local codes", &res, err);
    PQclear(res);
    for (int k = 0; k < N_COLS; k++)
        st_arr_fini(&x[k]);
    return rc;
}

/* Systems and codes compare byte by byte (COLLATE "C"), as strcmp does:
 * the order does not depend on the database's locale.  Times are UTC. */
static const char REPORT_SQL[] =
    "SELECT coalesce(json_agg(json_build_object("
    "  'system', s.system, 'mapped', s.mapped, 'unmapped', s.unmapped,"
    "  'unmapped_codes', coalesce((SELECT json_agg(u.code ORDER BY u.code COLLATE \"C\")"
    "    FROM store.code_use_unmapped u WHERE u.system = s.system), '[]'::json),"
    "  'unmapped_codes_dropped', s.unlisted,"
    "  'unmapped_code_uses', coalesce((SELECT json_agg(json_build_object("
    "      'code', u.code, 'uses', u.uses,"
    "      'first_seen', to_char(u.first_seen AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "      'last_seen', to_char(u.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
    "      ORDER BY u.uses DESC, u.code COLLATE \"C\")"
    "    FROM store.code_use_unmapped u WHERE u.system = s.system), '[]'::json),"
    "  'first_seen', to_char(s.first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "  'last_seen', to_char(s.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
    "  ORDER BY s.system COLLATE \"C\"), '[]'::json)::text"
    " FROM store.code_use_system s";

int
adapter_store_code_report(PGconn *c, json_t **out, struct base_err *err)
{
    PGresult *res = NULL;
    json_t *systems = NULL;
    json_t *root = NULL;

    *out = NULL;
    TRY(st_exec(c, REPORT_SQL, 0, NULL, PGRES_TUPLES_OK, "read the code-map report", &res, err));
    if (PQntuples(res) == 1)
        systems = json_loadb(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), 0, NULL);
    PQclear(res);
    root = systems != NULL ? json_object() : NULL;
    /* json_object_set_new takes `systems` even when it fails */
    if (root == NULL || json_object_set_new(root, "systems", systems) != 0) {
        json_decref(root);
        if (root == NULL)
            json_decref(systems);
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL,
                            "could not build the code-map report");
    }
    *out = root;
    return BASE_OK;
}
