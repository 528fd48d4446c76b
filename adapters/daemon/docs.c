/*
 * Documents through the pipeline: CDA R2 (one document -> one transaction
 * Bundle, all or nothing) and CSV exports (streamed through the CSV loader;
 * Bundles of batch_rows resources; a bad row is reported with its line and
 * column and never costs the good rows around it).  Both are committed by
 * the batch committer, like HL7 messages, with code maps (CDA), labels and
 * validation first.
 */
#include <stdio.h>
#include <string.h>

#include "adapters/cda/cda.h"
#include "adapters/codemap/codemap.h"
#include "adapters/daemon/daemon_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"

#define MAX_REPORT_ISSUES 1000u /* issues listed in a CSV load report */

/* A job for one Bundle in the caller's arena, committed synchronously;
 * `counts` (may be NULL) are its code-map counts. */
static int
commit_bundle(struct adapter_daemon *d, struct base_arena *a, const char *kind, json_t *bundle,
              struct codemap_report *counts, struct adapter_job *j, struct base_err *err)
{
    memset(j, 0, sizeof(*j));
    j->a = a;
    j->kind = kind;
    j->item.bundle = bundle;
    if (adapter__code_uses_end(counts, a, &j->item) != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    return adapter__submit_wait(d, j, err);
}

/* -------------------------------------------------------------- CDA -- */

static void
free_counts(void *r)
{
    codemap_report_free(r);
}

static int
ingest_cda(struct adapter_daemon *d, struct base_arena *a, const char *xml, size_t len,
           json_t **response, unsigned *status, struct base_err *err)
{
    const struct adapter_config *cfg = d->cfg;
    struct codemap_hook hook = {cfg->codemap, NULL};
    struct cda_options opt = {cfg->tz, NULL, {NULL, NULL}};
    struct cda_limits lim = cda_limits_default();
    struct adapter_job *j = BASE_NEW(a, struct adapter_job);
    json_t *bundle = NULL;
    json_t *warnings = NULL;
    json_t *oo = NULL;
    int rc;

    *response = NULL;
    if (j == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (cfg->codemap != NULL) {
        /* the document's own counts, freed with the request's arena */
        hook.report = adapter__code_uses_begin();
        if (hook.report == NULL || base_arena_on_free(a, free_counts, hook.report) != BASE_OK)
            return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        opt.codemap = (struct adapter_codemap){codemap_adapter_fn, &hook};
    }
    if (len > cfg->max_document)
        return base_err_set(err, BASE_E_LIMIT, "too-costly", NULL, "the document is too large");
    TRY(cda_to_bundle(xml, len, &lim, &opt, &bundle, &warnings, err));
    json_decref(warnings);
    TRY(fhir_json_tie(a, bundle));
    if ((oo = fhir_outcome_new()) == NULL || fhir_json_tie(a, oo) != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if ((rc = adapter__prepare_bundle(bundle, oo, err)) != BASE_OK) {
        /* Never stored: the whole document is answered with every issue. */
        *response = json_incref(oo);
        if (rc == BASE_E_INVALID)
            snprintf(err->issue_code, sizeof(err->issue_code), "%s", "processing");
        return rc;
    }
    TRY(commit_bundle(d, a, "cda", bundle, hook.report, j, err));
    *response = adapter_store_response(a, &j->result);
    if (*response == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (j->result.rc != BASE_OK) {
        *err = j->result.err;
        err->rc = j->result.rc;
        *status = (unsigned)j->result.status;
        return j->result.rc;
    }
    return BASE_OK;
}

int
adapter_ingest_cda(struct adapter_daemon *d, struct base_arena *a, const char *xml, size_t len,
                   json_t **response, unsigned *status, struct base_err *err)
{
    int rc;

    *status = 0;
    rc = ingest_cda(d, a, xml, len, response, status, err);
    if (*status == 0)
        *status = rc == BASE_OK ? 200 : gw_http_status_for_err(err);
    return rc;
}

/* -------------------------------------------------------------- CSV -- */

struct adapter_csv_job {
    struct adapter_daemon *d;
    const struct adapter_csv_source *src;
    struct csv_load *load;
    json_t *report;          /* OperationOutcome */
    size_t issues;           /* issues listed (the rest only counted) */
    size_t resources_stored; /* resources committed */
    size_t resources_bad;    /* refused by validation or the store */
    size_t bundle_no;
    struct base_err fatal; /* the store is unavailable: stop the load */
};

/* One issue of the report; its text is the concatenation of the parts. */
static void
note(struct adapter_csv_job *j, const char *severity, const char *code, const char *where,
     const char *p1, const char *p2, const char *p3)
{
    char msg[400];

    if (j->issues++ >= MAX_REPORT_ISSUES)
        return;
    snprintf(msg, sizeof(msg), "%s%s%s", p1 != NULL ? p1 : "", p2 != NULL ? p2 : "",
             p3 != NULL ? p3 : "");
    if (fhir_outcome_add(j->report, severity, code, where, msg) != BASE_OK)
        j->issues = MAX_REPORT_ISSUES;
}

static int
on_row_error(void *ctx, const struct csv_row_error *e)
{
    struct adapter_csv_job *j = ctx;
    char where[64];
    char msg[300];
    bool fail = j->src->on_error == CSV_ON_ERROR_FAIL;

    snprintf(where, sizeof(where), "line %zu, column %zu", e->line, e->column);
    if (e->column_name != NULL)
        snprintf(msg, sizeof(msg), "column %s: %s", e->column_name, e->err->msg);
    else
        snprintf(msg, sizeof(msg), "%s", e->err->msg);
    note(j, fail ? "error" : "warning", e->err->issue_code[0] ? e->err->issue_code : "value", where,
         msg, NULL, NULL);
    return BASE_OK;
}

/* Index N of a location "Bundle.entry[N]…", or -1. */
static long
entry_index(const char *loc)
{
    unsigned long n = 0;
    const char *p;

    if (loc == NULL || strncmp(loc, "Bundle.entry[", 13) != 0)
        return -1;
    for (p = loc + 13; *p >= '0' && *p <= '9' && n < 1000000; p++)
        n = n * 10 + (unsigned long)(*p - '0');
    return *p == ']' && p > loc + 13 ? (long)n : -1;
}

/* Remove entries that do not validate (each reported), keep the rest. */
static int
drop_invalid(struct adapter_csv_job *j, json_t *bundle)
{
    json_t *oo = fhir_outcome_new();
    json_t *entries = json_object_get(bundle, "entry");
    struct base_err err = {0};
    size_t n = json_array_size(entries);
    bool *bad = n > 0 ? base_calloc(n, sizeof(bool)) : NULL;
    json_t *issue;
    size_t i;
    int rc;

    if (oo == NULL || (n > 0 && bad == NULL)) {
        json_decref(oo);
        base_free(bad);
        return BASE_E_NOMEM;
    }
    rc = adapter__prepare_bundle(bundle, oo, &err);
    json_array_foreach(json_object_get(oo, "issue"), i, issue)
    {
        const char *loc =
            json_string_value(json_array_get(json_object_get(issue, "expression"), 0));
        long k = entry_index(loc);

        if (k >= 0 && (size_t)k < n && !bad[k]) {
            bad[k] = true;
            j->resources_bad++;
            note(j, "warning", "invariant", loc,
                 "resource refused: ", json_string_value(json_object_get(issue, "diagnostics")),
                 NULL);
        }
    }
    for (size_t k = n; rc == BASE_E_INVALID && k-- > 0;) {
        if (bad[k])
            json_array_remove(entries, k);
    }
    json_decref(oo);
    base_free(bad);
    return rc == BASE_E_INVALID ? BASE_OK : rc;
}

/* `where` names the Bundle (and entry) in the load: "Bundle 3, entry 17". */
static void
account(struct adapter_csv_job *j, const struct adapter_job *job, size_t n, long entry)
{
    char where[96];

    if (job->result.rc == BASE_OK) {
        j->resources_stored += n;
        return;
    }
    j->resources_bad += n;
    if (entry >= 0)
        snprintf(where, sizeof(where), "Bundle %zu, entry %ld", j->bundle_no, entry);
    else
        snprintf(where, sizeof(where), "Bundle %zu", j->bundle_no);
    note(j, "error", job->result.err.issue_code[0] ? job->result.err.issue_code : "processing",
         where, "not stored: ", job->result.err.msg, NULL);
}

/* The store refused a Bundle as a whole (one unresolvable reference, an
 * ambiguous match): apply its entries one by one, so that only the bad
 * ones are lost.  All in one batch: one commit. */
static int
store_singly(struct adapter_csv_job *j, struct base_arena *a, json_t *bundle, struct base_err *err)
{
    json_t *entries = json_object_get(bundle, "entry");
    size_t n = json_array_size(entries);
    struct adapter_job *jobs = BASE_NEW_N(a, struct adapter_job, n);
    size_t i;
    json_t *e;

    if (jobs == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    json_array_foreach(entries, i, e)
    {
        json_t *one = json_pack("{s:s, s:s, s:[O]}", "resourceType", "Bundle", "type",
                                "transaction", "entry", e);

        if (one == NULL || fhir_json_tie(a, one) != BASE_OK)
            return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        TRY(commit_bundle(j->d, a, "csv", one, NULL, &jobs[i], err));
        account(j, &jobs[i], 1, (long)i);
    }
    return BASE_OK;
}

static int
on_bundle(void *ctx, json_t *bundle)
{
    struct adapter_csv_job *j = ctx;
    struct base_arena *a = base_arena_new(0);
    struct adapter_job job;
    size_t n;
    int rc;

    j->bundle_no++;
    if (a == NULL || fhir_json_tie(a, bundle) != BASE_OK) {
        base_arena_free(a);
        return BASE_E_NOMEM;
    }
    rc = drop_invalid(j, bundle);
    n = json_array_size(json_object_get(bundle, "entry"));
    if (rc == BASE_OK && n > 0)
        rc = commit_bundle(j->d, a, "csv", bundle, NULL, &job, &j->fatal);
    if (rc == BASE_OK && n > 0) {
        if (job.result.rc != BASE_OK && job.result.status < 500 && n > 1)
            rc = store_singly(j, a, bundle, &j->fatal);
        else
            account(j, &job, n, -1);
    }
    base_arena_free(a);
    return rc;
}

int
adapter_csv_begin(struct adapter_daemon *d, const char *mapping, const char *source_name,
                  struct adapter_csv_job **out, struct base_err *err)
{
    const struct adapter_config *cfg = d->cfg;
    struct csv_limits lim = csv_limits_default();
    struct csv_load_options o = {source_name, CSV_ON_ERROR_MAPPING, 0, cfg->tz};
    const struct adapter_csv_source *src = NULL;
    struct adapter_csv_job *j;

    for (size_t i = 0; mapping != NULL && i < cfg->n_csv; i++) {
        if (strcmp(cfg->csv[i].name, mapping) == 0)
            src = &cfg->csv[i];
    }
    if (src == NULL)
        return base_err_set(err, BASE_E_NOTFOUND, "not-found", "mapping",
                            "no CSV mapping of that name is configured");
    j = base_calloc(1, sizeof(*j));
    if (j == NULL || (j->report = fhir_outcome_new()) == NULL) {
        base_free(j);
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    j->d = d;
    j->src = src;
    o.on_error = src->on_error;
    o.batch_rows = src->batch_rows;
    if (csv_load_new(src->mapping, &lim, &o, on_bundle, on_row_error, j, &j->load, err) !=
        BASE_OK) {
        adapter_csv_abort(j);
        return err->rc;
    }
    *out = j;
    return BASE_OK;
}

int
adapter_csv_feed(struct adapter_csv_job *j, const char *data, size_t len, struct base_err *err)
{
    int rc = csv_load_feed(j->load, data, len, err);

    if (rc != BASE_OK && j->fatal.rc != BASE_OK)
        *err = j->fatal;
    return rc;
}

int
adapter_csv_end(struct adapter_csv_job *j, json_t **report, struct csv_report *counts,
                struct base_err *err)
{
    struct csv_report r = {0};
    char msg[300];
    int rc = csv_load_finish(j->load, &r, err);

    if (rc != BASE_OK && j->fatal.rc != BASE_OK)
        *err = j->fatal;
    snprintf(msg, sizeof(msg),
             "rows %zu, rows with errors %zu, resources stored %zu, resources refused %zu", r.rows,
             r.rows_bad, j->resources_stored, j->resources_bad);
    if (fhir_outcome_add(j->report, "information", "informational", NULL, msg) != BASE_OK &&
        rc == BASE_OK)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (j->issues > MAX_REPORT_ISSUES) {
        snprintf(msg, sizeof(msg), "%zu more issues not listed", j->issues - MAX_REPORT_ISSUES);
        if (fhir_outcome_add(j->report, "information", "informational", NULL, msg) != BASE_OK &&
            rc == BASE_OK)
            rc = base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    if (counts != NULL)
        *counts = r;
    *report = json_incref(j->report);
    adapter_csv_abort(j);
    return rc;
}

void
adapter_csv_abort(struct adapter_csv_job *j)
{
    if (j == NULL)
        return;
    csv_load_free(j->load);
    json_decref(j->report);
    base_free(j);
}
