/*
 * Imaging from the PACS through DICOMweb QIDO-RS (adapters/dicomweb), per
 * configuration:
 *   live  ImagingStudy search (and $everything) ask the PACS when the
 *         gateway asks, with the PatientID taken from the local Patient's
 *         identifier in [pacs] patient_id_system;
 *   sync  a thread asks the PACS for every Patient in the store each
 *         sync_interval and stores the studies (conditional updates keyed
 *         by Study Instance UID: a repeat changes nothing);
 *   both  live answers, and stored studies when the PACS is down.
 * A PACS that cannot answer is an error naming it (the facade turns it
 * into an OperationOutcome), never an empty success.
 *
 * A study gets the same logical id live and stored: the v5 UUID of its
 * Study Instance UID, so the gateway sees one resource either way.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "adapters/daemon/daemon_int.h"
#include "adapters/label/adapter_label.h"
#include "adapters/mapkit/mapkit.h"
#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "fhir/validate/fhir_validate.h"

#define DICOM_UID_SYSTEM "urn:dicom:uid"
#define MR_TYPE_SYSTEM   "http://terminology.hl7.org/CodeSystem/v2-0203"
#define PATIENT_ID_MAX   64 /* a FHIR id is 1-64 characters (R4 datatypes.html#id) */

/* ------------------------------------------------------ the PatientID -- */

static bool
has_type_mr(const json_t *ident)
{
    const json_t *coding;
    size_t i;

    json_array_foreach(json_object_get(json_object_get(ident, "type"), "coding"), i, coding)
    {
        if (base_str_eq_cstr(fhir_json_str(json_object_get(coding, "code")), "MR"))
            return true;
    }
    return false;
}

/* The value the PACS files the patient under: the identifier in the
 * configured system; else the medical record number (type MR); else the
 * first identifier. */
static const char *
pacs_patient_id(const struct adapter_config *cfg, const json_t *patient)
{
    const json_t *ids = json_object_get(patient, "identifier");
    const json_t *id;
    const json_t *mr = NULL;
    size_t i;

    json_array_foreach(ids, i, id)
    {
        const char *sys = json_string_value(json_object_get(id, "system"));

        if (cfg->pacs_patient_system != NULL) {
            if (sys != NULL && strcmp(sys, cfg->pacs_patient_system) == 0)
                return json_string_value(json_object_get(id, "value"));
            continue;
        }
        if (mr == NULL && has_type_mr(id))
            mr = id;
    }
    if (cfg->pacs_patient_system != NULL)
        return NULL;
    if (mr == NULL)
        mr = json_array_get(ids, 0);
    return json_string_value(json_object_get(mr, "value"));
}

/* ----------------------------------------------------------- studies -- */

static const char *
study_uid(const json_t *study)
{
    const json_t *id;
    size_t i;

    json_array_foreach(json_object_get(study, "identifier"), i, id)
    {
        if (base_str_eq_cstr(fhir_json_str(json_object_get(id, "system")), DICOM_UID_SYSTEM))
            return json_string_value(json_object_get(id, "value"));
    }
    return NULL;
}

/* Give every study its id; label and validate it; drop what is invalid. */
static int
finish_studies(json_t *studies, struct base_err *err)
{
    struct fhir_validate_opts vo = {0};

    vo.no_warnings = true;
    for (size_t i = json_array_size(studies); i-- > 0;) {
        json_t *st = json_array_get(studies, i);
        const char *uid = study_uid(st);
        char id[ADAPTER_UUID_LEN + 1];
        struct base_err why = {0};

        if (uid == NULL) {
            json_array_remove(studies, i);
            continue;
        }
        adapter_uuid5(uid, strlen(uid), id);
        if (json_object_set_new(st, "id", json_string(id)) != 0 || adapter_label_resource(st) < 0)
            return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        if (fhir_validate(st, &vo, NULL, NULL, &why) != BASE_OK) {
            BASE_LOG(BASE_LOG_WARN, "adapter.pacs_invalid", "where=%s", why.where);
            json_array_remove(studies, i);
        }
    }
    return BASE_OK;
}

/* The local Patient and its PACS PatientID. */
static int
patient_pacs_id(struct adapter_daemon *d, struct base_arena *a, const char *patient_id,
                const char **out, struct base_err *err)
{
    struct gw_db_conn *c = NULL;
    struct adapter_store_row row;
    json_t *p = NULL;
    int rc;

    TRY(gw_db_borrow(d->pool, &c, err));
    rc = adapter_store_read(gw_db_conn_pg(c), a, "Patient", patient_id, &row, err);
    gw_db_release(c);
    TRY(rc);
    TRY(fhir_json_parse(row.json, row.len, NULL, &p, err));
    *out = pacs_patient_id(d->cfg, p);
    if (*out != NULL)
        *out = base_arena_strdup(a, *out);
    json_decref(p);
    ENSURE(*out != NULL, err, BASE_E_NOTFOUND, "not-found", "Patient.identifier",
           "the patient has no identifier the PACS knows");
    return BASE_OK;
}

static int
ask_pacs(struct adapter_daemon *d, const char *pid, const char *patient_ref, json_t **studies,
         struct base_err *err)
{
    const struct adapter_config *cfg = d->cfg;
    struct dicomweb_options opt = {
        patient_ref, cfg->pacs_patient_system, cfg->pacs_wado_base, cfg->pacs.name,
        cfg->tz,     cfg->pacs_patient_issuer};
    int rc = dicomweb_qido_patient(&cfg->pacs, pid, cfg->pacs_level, NULL, &opt, studies, err);

    if (rc == BASE_OK)
        rc = finish_studies(*studies, err);
    if (rc != BASE_OK) {
        json_decref(*studies);
        *studies = NULL;
    }
    return rc;
}

/* The studies of local Patient `patient_id` from the PACS, tied to `a`. */
static int
ask_live(struct adapter_daemon *d, struct base_arena *a, const char *patient_id, json_t **studies,
         struct base_err *err)
{
    const char *pid = NULL;
    const char *ref;
    int rc;

    *studies = NULL;
    if (!d->cfg->pacs_enabled)
        return base_err_set(err, BASE_E_INVALID, "not-supported", NULL, "no PACS is configured");
    TRY(patient_pacs_id(d, a, patient_id, &pid, err));
    ref = base_arena_sprintf(a, "Patient/%s", patient_id);
    if (ref == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rc = ask_pacs(d, pid, ref, studies, err);
    gw_http_metric_add(d->m.pacs, (const char *[]){"live", rc == BASE_OK ? "ok" : "failed"}, 1);
    if (rc == BASE_OK)
        rc = fhir_json_tie(a, *studies);
    return rc;
}

/* ------------------------------------------- studies served live -- */

/* A live study has no row in the store, so a read by id needs to know whom
 * to ask the PACS about: the Patient of the search that served it.  A ring
 * of the last BASE_LIMIT_ADAPTER_LIVE_SEEN studies, scanned linearly (a
 * read by id is rare next to searches; 8192 short compares are cheap). */
struct seen_entry {
    char id[ADAPTER_UUID_LEN + 1];
    char patient[PATIENT_ID_MAX + 1];
};

struct adapter_pacs_seen {
    pthread_mutex_t mu;
    size_t next; /* the slot the next new study takes */
    struct seen_entry e[BASE_LIMIT_ADAPTER_LIVE_SEEN];
};

static void
seen_fini(void *p)
{
    struct adapter_pacs_seen *s = p;

    pthread_mutex_destroy(&s->mu);
}

int
adapter__pacs_seen_new(struct adapter_daemon *d, struct base_err *err)
{
    struct adapter_pacs_seen *s;

    if (!d->cfg->pacs_enabled || d->cfg->pacs_mode == ADAPTER_PACS_SYNC)
        return BASE_OK;
    s = BASE_NEW(d->arena, struct adapter_pacs_seen);
    if (s == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    if (base_arena_on_free(d->arena, seen_fini, s) != BASE_OK) {
        pthread_mutex_destroy(&s->mu);
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    d->pacs_seen = s;
    return BASE_OK;
}

/* The slot of study `id`, or NULL; caller holds s->mu. */
static struct seen_entry *
seen_find(struct adapter_pacs_seen *s, const char *id)
{
    for (size_t i = 0; i < BASE_LIMIT_ADAPTER_LIVE_SEEN; i++) {
        if (strcmp(s->e[i].id, id) == 0)
            return &s->e[i];
    }
    return NULL;
}

static void
seen_note(struct adapter_daemon *d, const json_t *studies, const char *patient_id)
{
    struct adapter_pacs_seen *s = d->pacs_seen;
    const json_t *st;
    size_t i;

    if (s == NULL || strlen(patient_id) > PATIENT_ID_MAX)
        return;
    pthread_mutex_lock(&s->mu);
    json_array_foreach(studies, i, st)
    {
        const char *id = json_string_value(json_object_get(st, "id"));
        struct seen_entry *e;

        if (id == NULL || strlen(id) != ADAPTER_UUID_LEN)
            continue;
        if ((e = seen_find(s, id)) == NULL) {
            e = &s->e[s->next];
            s->next = (s->next + 1) % BASE_LIMIT_ADAPTER_LIVE_SEEN;
            memcpy(e->id, id, ADAPTER_UUID_LEN + 1);
        }
        snprintf(e->patient, sizeof(e->patient), "%s", patient_id);
    }
    pthread_mutex_unlock(&s->mu);
}

int
adapter_pacs_live_read(struct adapter_daemon *d, struct base_arena *a, const char *study_id,
                       json_t **study, struct base_err *err)
{
    struct adapter_pacs_seen *s = d->pacs_seen;
    char patient[PATIENT_ID_MAX + 1] = "";
    json_t *studies = NULL;
    const json_t *st;
    size_t i;

    *study = NULL;
    if (s != NULL && strlen(study_id) == ADAPTER_UUID_LEN) {
        struct seen_entry *e;

        pthread_mutex_lock(&s->mu);
        if ((e = seen_find(s, study_id)) != NULL)
            memcpy(patient, e->patient, sizeof(patient));
        pthread_mutex_unlock(&s->mu);
    }
    ENSURE(patient[0] != '\0', err, BASE_E_NOTFOUND, "not-found", "id", "no such resource");
    TRY(ask_live(d, a, patient, &studies, err));
    json_array_foreach(studies, i, st)
    {
        if (base_str_eq_cstr(fhir_json_str(json_object_get(st, "id")), study_id)) {
            *study = (json_t *)st;
            return BASE_OK;
        }
    }
    return base_err_set(err, BASE_E_NOTFOUND, "not-found", "id", "no such resource");
}

int
adapter_pacs_live(struct adapter_daemon *d, struct base_arena *a, const char *patient_id,
                  json_t **studies, struct base_err *err)
{
    TRY(ask_live(d, a, patient_id, studies, err));
    seen_note(d, *studies, patient_id);
    return BASE_OK;
}

/* --------------------------------------------------------------- sync -- */

static int
study_entry(json_t *bundle, json_t *study)
{
    const char *uid = study_uid(study);
    json_t *url = adapter_identifier_query("ImagingStudy", DICOM_UID_SYSTEM, uid);
    json_t *e;

    if (url == NULL)
        return BASE_E_NOMEM;
    e = json_pack("{s:O, s:{s:s, s:o}}", "resource", study, "request", "method", "PUT", "url", url);
    if (e == NULL || json_array_append_new(json_object_get(bundle, "entry"), e) != 0)
        return BASE_E_NOMEM;
    return BASE_OK;
}

/* One patient's studies into the store (one transaction Bundle). */
static int
sync_patient(struct adapter_daemon *d, const char *patient_id, const char *pid, size_t *stored,
             struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    char *ref = a != NULL ? base_arena_sprintf(a, "Patient/%s", patient_id) : NULL;
    json_t *studies = NULL;
    json_t *bundle = NULL;
    struct adapter_job j;
    json_t *st;
    size_t i;
    int rc = ref != NULL ? ask_pacs(d, pid, ref, &studies, err) : BASE_E_NOMEM;

    gw_http_metric_add(d->m.pacs, (const char *[]){"sync", rc == BASE_OK ? "ok" : "failed"}, 1);
    if (rc == BASE_OK && json_array_size(studies) > 0) {
        bundle =
            json_pack("{s:s, s:s, s:[]}", "resourceType", "Bundle", "type", "transaction", "entry");
        rc = bundle != NULL && fhir_json_tie(a, bundle) == BASE_OK ? BASE_OK : BASE_E_NOMEM;
        json_array_foreach(studies, i, st)
        {
            if (rc == BASE_OK)
                rc = study_entry(bundle, st);
        }
        memset(&j, 0, sizeof(j));
        j.a = a;
        j.kind = "pacs";
        j.item.bundle = bundle;
        if (rc == BASE_OK)
            rc = adapter__submit_wait(d, &j, err);
        if (rc == BASE_OK && j.result.rc == BASE_OK)
            *stored += json_array_size(studies);
        else if (rc == BASE_OK)
            BASE_LOG(BASE_LOG_WARN, "adapter.pacs_store", "status=%d where=%s", j.result.status,
                     j.result.err.where);
    }
    json_decref(studies);
    base_arena_free(a);
    return rc;
}

struct sync_walk {
    struct adapter_daemon *d;
    size_t stored;
    size_t failed;
    int64_t last_us;
    int rc;
    struct base_err *err;
};

static int
sync_row(void *ctx, const struct adapter_store_row *row, enum fhir_bundle_mode mode)
{
    struct sync_walk *w = ctx;
    struct base_arena *a;
    const char *pid;
    char *id;
    json_t *p = NULL;

    (void)mode;
    if (atomic_load(&w->d->quiescing))
        return w->rc = BASE_E_IO; /* shutting down: the next start syncs again */
    w->last_us = row->last_updated_us;
    if (row->json == NULL || fhir_json_parse(row->json, row->len, NULL, &p, NULL) != BASE_OK)
        return BASE_OK;
    /* The row is valid only during this call: keep what we need. */
    a = base_arena_new(0);
    pid = a != NULL ? pacs_patient_id(w->d->cfg, p) : NULL;
    pid = pid != NULL ? base_arena_strdup(a, pid) : NULL;
    id = a != NULL ? base_arena_strdup(a, row->id) : NULL;
    json_decref(p);
    if (pid != NULL && id != NULL && sync_patient(w->d, id, pid, &w->stored, w->err) != BASE_OK) {
        w->failed++;
        if (w->err->rc == BASE_E_UPSTREAM || w->err->rc == BASE_E_AUTH)
            w->rc = w->err->rc; /* the PACS is away: stop this round */
    }
    base_arena_free(a);
    return w->rc;
}

/* ---------------------------------------------------------- discover -- */

/* One PACS patient — Patient (from the DICOM patient module, with the Other
 * Patient IDs), studies and Endpoint, conditional updates — into the store.
 * A bundle that does not validate is logged and skipped, not fatal. */
static int
discover_patient(struct adapter_daemon *d, const char *pid, size_t *stored, struct base_err *err)
{
    const struct adapter_config *cfg = d->cfg;
    struct dicomweb_options opt = {
        NULL,    cfg->pacs_patient_system, cfg->pacs_wado_base, cfg->pacs.name,
        cfg->tz, cfg->pacs_patient_issuer};
    struct base_arena *a = base_arena_new(0);
    struct base_err why = {0};
    json_t *bundle = NULL;
    struct adapter_job j;
    int rc = a != NULL ? dicomweb_qido_patient_bundle(&cfg->pacs, pid, cfg->pacs_level, NULL, &opt,
                                                      &bundle, NULL, err)
                       : BASE_E_NOMEM;

    gw_http_metric_add(d->m.pacs, (const char *[]){"sync", rc == BASE_OK ? "ok" : "failed"}, 1);
    if (rc == BASE_OK && fhir_json_tie(a, bundle) != BASE_OK)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (rc == BASE_OK && adapter__prepare_bundle(bundle, NULL, &why) != BASE_OK) {
        BASE_LOG(BASE_LOG_WARN, "adapter.pacs_invalid", "where=%s", why.where);
        base_arena_free(a);
        return BASE_OK;
    }
    if (rc == BASE_OK) {
        memset(&j, 0, sizeof(j));
        j.a = a;
        j.kind = "pacs";
        j.item.bundle = bundle;
        rc = adapter__submit_wait(d, &j, err);
        if (rc == BASE_OK && j.result.rc == BASE_OK)
            (*stored)++;
        else if (rc == BASE_OK)
            BASE_LOG(BASE_LOG_WARN, "adapter.pacs_store", "status=%d where=%s", j.result.status,
                     j.result.err.where);
    }
    base_arena_free(a);
    return rc;
}

/* `[pacs] discover`: the PACS is the member's source of patients (an imaging
 * centre has no other feed), so every PatientID it holds is synced, not
 * only the Patients already in the store. */
static int
discover_round(struct adapter_daemon *d, struct base_err *err)
{
    json_t *ids = NULL;
    size_t stored = 0;
    size_t failed = 0;
    size_t i;
    json_t *v;
    int rc = dicomweb_qido_patient_ids(&d->cfg->pacs, NULL, 0, &ids, err);

    json_array_foreach(ids, i, v)
    {
        if (rc != BASE_OK || atomic_load(&d->quiescing))
            break;
        if (discover_patient(d, json_string_value(v), &stored, err) == BASE_OK)
            continue;
        failed++;
        if (err->rc == BASE_E_UPSTREAM || err->rc == BASE_E_AUTH || err->rc == BASE_E_IO)
            rc = err->rc; /* the PACS or the store is away: stop this round */
    }
    BASE_LOG(BASE_LOG_INFO, "adapter.pacs_discover", "patients=%zu stored=%zu failed=%zu",
             json_array_size(ids), stored, failed);
    json_decref(ids);
    return rc != BASE_OK ? rc : (int)(stored > (size_t)INT32_MAX ? INT32_MAX : stored);
}

int
adapter_pacs_sync_round(struct adapter_daemon *d, struct base_err *err)
{
    struct sync_walk w = {d, 0, 0, 0, BASE_OK, err};
    struct adapter_store_page page;
    size_t seen = 0;

    if (!d->cfg->pacs_enabled)
        return 0;
    if (d->cfg->pacs_discover)
        return discover_round(d, err);
    /* Page through every Patient by lastUpdated (keyset: no skips). */
    while (w.rc == BASE_OK && seen < BASE_LIMIT_ADAPTER_PACS_PATIENTS) {
        struct base_arena *a = base_arena_new(0);
        struct gw_db_conn *c = NULL;
        int rc = a != NULL ? gw_db_borrow(d->pool, &c, err) : BASE_E_NOMEM;

        /* The connection is held while the page's patients are asked:
         * rows stream in single-row mode. */
        if (rc == BASE_OK)
            rc = adapter_store_changed_since(gw_db_conn_pg(c), a, "Patient", w.last_us, 100,
                                             sync_row, &w, &page, err);
        gw_db_release(c);
        base_arena_free(a);
        if (rc != BASE_OK)
            return w.rc != BASE_OK ? w.rc : rc;
        seen += page.n_rows;
        if (page.next_cursor == NULL)
            break;
    }
    BASE_LOG(BASE_LOG_INFO, "adapter.pacs_sync", "patients=%zu studies=%zu failed=%zu", seen,
             w.stored, w.failed);
    return w.rc != BASE_OK ? w.rc : (int)(w.stored > (size_t)INT32_MAX ? INT32_MAX : w.stored);
}

static void
sync_main(struct adapter_worker *w, void *arg)
{
    struct adapter_daemon *d = arg;

    do {
        struct base_err err = {0};

        if (adapter_pacs_sync_round(d, &err) < 0)
            BASE_LOG(BASE_LOG_WARN, "adapter.pacs_sync_failed", "rc=%s msg=%s",
                     base_rc_name(err.rc), err.msg);
    } while (!adapter__worker_sleep(w, d->cfg->pacs_sync_ms));
}

int
adapter__pacs_start(struct adapter_daemon *d, struct base_err *err)
{
    if (!d->cfg->pacs_enabled || d->cfg->pacs_mode == ADAPTER_PACS_LIVE)
        return BASE_OK;
    return adapter__worker_start(&d->pacs_sync, sync_main, d, "pacs", err);
}

void
adapter__pacs_stop(struct adapter_daemon *d)
{
    adapter__worker_stop(&d->pacs_sync);
}
