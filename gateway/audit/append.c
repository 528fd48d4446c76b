/*
 * The callers' side of the audit trail: configuration, start and stop,
 * validating and copying a record into a queue entry of its own, leading a
 * batch or waiting for the verdict (gateway/audit/writer.c), flush and
 * statistics.
 */
#include "gateway/audit/gw_audit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/base/str.h"
#include "fhir/json/fhir_json.h"
#include "gateway/audit/audit_int.h"
#include "gateway/db/gw_db.h"

void
gw_audit_config_defaults(struct gw_audit_config *c)
{
    memset(c, 0, sizeof(*c));
    c->queue_max = 8192;
    c->batch_max = 512;
    c->spill_rows = 16;
    c->append_timeout_ms = 5000;
    c->checkpoint_rows = 1000;
    c->checkpoint_ms = 60000;
    c->partitions_ahead = 3;
    c->writers = 8;
}

/* --------------------------------------------------------------- api -- */

static int
check_config(const struct gw_audit_config *cfg, struct base_err *err)
{
    ENSURE(cfg != NULL && cfg->chain_id != NULL && cfg->chain_id[0] != '\0' &&
               strlen(cfg->chain_id) + 4 < BASE_LIMIT_AUDIT_MAX_FIELD &&
               base_utf8_valid(cfg->chain_id, strlen(cfg->chain_id), NULL),
           err, BASE_E_INVALID, "required", "audit.chain_id", "audit chain id is required");
    ENSURE(cfg->writers >= 1 && cfg->writers <= GW_AUDIT__MAX_WRITERS, err, BASE_E_INVALID, "value",
           "audit.writers", "writers must be 1..%u", GW_AUDIT__MAX_WRITERS);
    ENSURE(cfg->batch_max >= 1 && cfg->batch_max <= BASE_LIMIT_AUDIT_MAX_BATCH, err, BASE_E_INVALID,
           "value", "audit.batch_max", "batch size must be 1..%u", BASE_LIMIT_AUDIT_MAX_BATCH);
    ENSURE(cfg->spill_rows >= 1 && cfg->spill_rows <= BASE_LIMIT_AUDIT_MAX_QUEUE, err,
           BASE_E_INVALID, "value", "audit.spill_rows", "spill rows must be 1..%u",
           BASE_LIMIT_AUDIT_MAX_QUEUE);
    ENSURE(cfg->queue_max >= 1 && cfg->queue_max <= BASE_LIMIT_AUDIT_MAX_QUEUE, err, BASE_E_INVALID,
           "value", "audit.queue_max", "queue size must be 1..%u", BASE_LIMIT_AUDIT_MAX_QUEUE);
    ENSURE(cfg->partitions_ahead >= 2 && cfg->partitions_ahead <= 24, err, BASE_E_INVALID, "value",
           "audit.partitions_ahead", "partitions ahead must be 2..24");
    ENSURE(cfg->checkpoint_rows >= 1 && cfg->checkpoint_ms >= 1, err, BASE_E_INVALID, "value",
           "audit.checkpoint", "checkpoint interval must be positive");
    ENSURE(cfg->node == NULL || strlen(cfg->node) <= BASE_LIMIT_AUDIT_MAX_FIELD, err,
           BASE_E_INVALID, "value", "audit.node", "node name is too long");
    return BASE_OK;
}

/* Best effort at start: the database may be down now and come up later. */
static void
prepare_database(struct gw_audit *a)
{
    struct gw_db_conn *c = NULL;
    struct base_err soft = {0};

    if (gw_db_borrow(a->pool, &c, &soft) != BASE_OK) {
        BASE_LOG(BASE_LOG_WARN, "audit.start", "database not reachable yet: %s", soft.msg);
        return;
    }
    gw_audit__ensure_partitions(&a->writers[0], c, true);
    for (unsigned i = 1; i < a->nwriters; i++)
        a->writers[i].ensured_month = a->writers[0].ensured_month;
    if (a->key != NULL && gw_audit__register_key(c, a->key, &soft) != BASE_OK)
        BASE_LOG(BASE_LOG_WARN, "audit.register_key", "could not record the public key: %s",
                 soft.msg);
    gw_db_release(c);
}

static int
start_timer(struct gw_audit *a, struct base_err *err)
{
    ENSURE(pthread_create(&a->timer, NULL, gw_audit__timer_main, a) == 0, err, BASE_E_INTERNAL,
           "exception", "audit", "could not start the audit checkpoint timer");
    a->timer_started = true;
    return BASE_OK;
}

int
gw_audit_new(struct gw_db_pool *pool, const struct gw_audit_config *cfg, struct gw_audit **out,
             struct base_err *err)
{
    struct gw_db_pool_stats ps;
    struct gw_audit *a;
    int rc;

    *out = NULL;
    TRY(check_config(cfg, err));
    gw_db_pool_stats(pool, &ps);
    ENSURE(ps.size >= cfg->writers, err, BASE_E_INVALID, "value", "audit.writers",
           "the audit pool needs at least one connection per writer");
    a = base_calloc(1, sizeof(*a));
    ENSURE(a != NULL, err, BASE_E_NOMEM, "exception", "audit", "out of memory");
    a->pool = pool;
    a->cfg = *cfg;
    snprintf(a->node, sizeof(a->node), "%s", cfg->node != NULL ? cfg->node : cfg->chain_id);
    a->cfg.chain_id = NULL;
    a->cfg.node = a->node;
    a->cfg.signing_key = NULL;
    a->nwriters = cfg->writers;
    pthread_mutex_init(&a->mu, NULL);
    gw_audit__cond_init(&a->tick);
    gw_audit__cond_init(&a->drained);
    for (unsigned i = 0; i < a->nwriters; i++) {
        struct gw_audit__writer *w = &a->writers[i];

        w->a = a;
        w->last_cp_ms = gw_audit__mono_ms();
        if (a->nwriters == 1)
            snprintf(w->chain_id, sizeof(w->chain_id), "%s", cfg->chain_id);
        else
            snprintf(w->chain_id, sizeof(w->chain_id), "%s/%u", cfg->chain_id, i + 1);
        w->batch = base_calloc(cfg->batch_max, sizeof(*w->batch));
        if (w->batch == NULL) {
            gw_audit_free(a);
            return base_err_set(err, BASE_E_NOMEM, "exception", "audit", "out of memory");
        }
    }
    if (cfg->signing_key != NULL) {
        rc = gw_audit_key_load_private(cfg->signing_key, &a->key, err);
        if (rc != BASE_OK) {
            gw_audit_free(a);
            return rc;
        }
    } else {
        BASE_LOG(BASE_LOG_WARN, "audit.no_signing_key",
                 "no audit signing key configured: checkpoints are not signed");
    }
    rc = gw_audit__build_statements(a, err);
    if (rc != BASE_OK) {
        gw_audit_free(a);
        return rc;
    }
    prepare_database(a);
    rc = start_timer(a, err);
    if (rc != BASE_OK) {
        gw_audit_free(a);
        return rc;
    }
    *out = a;
    return BASE_OK;
}

void
gw_audit_free(struct gw_audit *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    a->stopping = true;
    pthread_cond_broadcast(&a->tick);
    pthread_mutex_unlock(&a->mu);
    /* the callers still waiting drain the queue; the timer then signs the
     * last checkpoints */
    if (a->timer_started)
        pthread_join(a->timer, NULL);
    for (unsigned i = 0; i < a->nwriters; i++)
        base_free(a->writers[i].batch);
    gw_audit__free_statements(a);
    pthread_cond_destroy(&a->tick);
    pthread_cond_destroy(&a->drained);
    pthread_mutex_destroy(&a->mu);
    gw_audit_key_free(a->key);
    base_free(a);
}

#ifdef FHIRGATE_BENCH_NOOP_AUDIT
/* The `bench` build variant: audit writes replaced by nothing, only to
 * measure what auditing costs (issue #6 benchmark).  Never shipped. */
int
gw_audit_append(struct gw_audit *a, const struct gw_audit_record *rec, struct gw_audit_receipt *out,
                struct base_err *err)
{
    (void)a;
    (void)rec;
    (void)err;
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    return BASE_OK;
}
#else

/* --------------------------------------------------------- building -- */

static int
copy_field(struct gw_audit__entry *e, enum gw_audit__col col, const char *v, const char *where,
           struct base_err *err)
{
    size_t n;

    if (v == NULL)
        return BASE_OK;
    n = strnlen(v, BASE_LIMIT_AUDIT_MAX_FIELD + 1);
    ENSURE(n <= BASE_LIMIT_AUDIT_MAX_FIELD, err, BASE_E_LIMIT, "too-long", where,
           "audit field exceeds %u bytes", BASE_LIMIT_AUDIT_MAX_FIELD);
    ENSURE(base_utf8_valid(v, n, NULL), err, BASE_E_INVALID, "value", where,
           "audit field is not valid UTF-8");
    e->col[col] = base_arena_strndup(e->arena, v, n);
    ENSURE(e->col[col] != NULL, err, BASE_E_NOMEM, "exception", where, "out of memory");
    return BASE_OK;
}

static int
canonical_event(struct gw_audit__entry *e, const struct gw_audit_record *rec, struct base_err *err)
{
    json_t *parsed = NULL;
    const json_t *ev = rec->event;
    struct base_buf out;
    int rc;

    if (ev == NULL) {
        struct fhir_json_limits lim = fhir_json_limits_default();

        ENSURE(rec->event_json != NULL, err, BASE_E_INVALID, "required", "AuditEvent",
               "no AuditEvent given");
        lim.max_doc = BASE_LIMIT_AUDIT_MAX_EVENT;
        TRY(fhir_json_parse(rec->event_json, rec->event_len, &lim, &parsed, err));
        ev = parsed;
    }
    rc = BASE_OK;
    if (!json_is_object(ev) ||
        !base_str_eq_cstr(fhir_json_str(json_object_get(ev, "resourceType")), "AuditEvent"))
        rc = base_err_set(err, BASE_E_INVALID, "invalid", "AuditEvent.resourceType",
                          "not an AuditEvent");
    base_buf_init(&out, BASE_LIMIT_AUDIT_MAX_EVENT);
    /* Sorted keys, no whitespace, decimals verbatim: the same event always
     * gives the same text, and PostgreSQL's json parser accepts it. */
    if (rc == BASE_OK && (rc = fhir_json_dump(ev, FHIR_JSON_SORT_KEYS, &out, err)) != BASE_OK)
        base_err_set(err, rc, "too-long", "AuditEvent", "AuditEvent exceeds %u bytes",
                     BASE_LIMIT_AUDIT_MAX_EVENT);
    if (rc == BASE_OK) {
        e->event_text = base_buf_dup0(&out, e->arena);
        e->event_len = out.len;
        if (e->event_text == NULL)
            rc = base_err_set(err, BASE_E_NOMEM, "exception", "AuditEvent", "out of memory");
    }
    base_buf_fini(&out);
    json_decref(parsed);
    return rc;
}

static int
build_entities(struct gw_audit__entry *e, const struct gw_audit_record *rec, struct base_err *err)
{
    struct base_buf canon;
    struct base_buf lit;
    int rc = BASE_OK;

    if (rec->entities == NULL || rec->entity_count == 0)
        return BASE_OK;
    ENSURE(rec->entity_count <= BASE_LIMIT_AUDIT_MAX_ENTITIES, err, BASE_E_LIMIT, "too-costly",
           "audit.entities", "more than %u entities", BASE_LIMIT_AUDIT_MAX_ENTITIES);
    for (size_t i = 0; i < rec->entity_count; i++) {
        const char *v = rec->entities[i];
        size_t n = v != NULL ? strnlen(v, BASE_LIMIT_AUDIT_MAX_FIELD + 1) : 0;

        ENSURE(v != NULL && n <= BASE_LIMIT_AUDIT_MAX_FIELD && base_utf8_valid(v, n, NULL), err,
               BASE_E_INVALID, "value", "audit.entities",
               "entity %zu is missing, too long or not UTF-8", i);
    }
    base_buf_init(&canon, 0);
    base_buf_init(&lit, 0);
    if (gw_audit__entities_canon(rec->entities, rec->entity_count, &canon) != BASE_OK ||
        gw_audit__entities_literal(rec->entities, rec->entity_count, &lit) != BASE_OK ||
        (e->col[GW_AUDIT__ENTITIES] = base_buf_dup0(&canon, e->arena)) == NULL ||
        (e->entities_literal = base_buf_dup0(&lit, e->arena)) == NULL)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "audit.entities", "out of memory");
    base_buf_fini(&canon);
    base_buf_fini(&lit);
    return rc;
}

static int
build_entry(struct gw_audit *a, const struct gw_audit_record *rec, struct gw_audit__entry **out,
            struct base_err *err)
{
    struct base_arena *arena = base_arena_new(0);
    struct gw_audit__entry *e;
    char status[16];
    int rc;

    *out = NULL;
    ENSURE(arena != NULL, err, BASE_E_NOMEM, "exception", "audit", "out of memory");
    e = BASE_NEW(arena, struct gw_audit__entry);
    if (e == NULL) {
        base_arena_free(arena);
        return base_err_set(err, BASE_E_NOMEM, "exception", "audit", "out of memory");
    }
    e->arena = arena;
    snprintf(status, sizeof(status), "%d", rec->http_status);
    rc = canonical_event(e, rec, err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__ACTION, rec->action, "audit.action", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__SUBTYPE, rec->subtype, "audit.subtype", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__OUTCOME, rec->outcome, "audit.outcome", err);
    if (rc == BASE_OK && rec->http_status != 0)
        rc = copy_field(e, GW_AUDIT__STATUS, status, "audit.http_status", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__USER, rec->agent_user, "audit.agent_user", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__ROLE, rec->agent_role, "audit.agent_role", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__ORG, rec->agent_org, "audit.agent_org", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__PATIENT, rec->patient_ref, "audit.patient_ref", err);
    if (rc == BASE_OK)
        rc = build_entities(e, rec, err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__PURPOSE, rec->purpose, "audit.purpose", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__BREAK_GLASS, rec->break_glass ? "true" : "false",
                        "audit.break_glass", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__REASON, rec->reason, "audit.reason", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__REQUEST, rec->request_id, "audit.request_id", err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__NODE, rec->node != NULL ? rec->node : a->node, "audit.node",
                        err);
    if (rc == BASE_OK)
        rc = copy_field(e, GW_AUDIT__CLIENT, rec->client_addr, "audit.client_addr", err);
    if (rc != BASE_OK) {
        base_arena_free(arena);
        return rc;
    }
    *out = e;
    return BASE_OK;
}

static void
unlink_queued(struct gw_audit *a, struct gw_audit__entry *e)
{
    struct gw_audit__entry **pp = &a->head;
    struct gw_audit__entry *prev = NULL;

    while (*pp != NULL && *pp != e) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp != e)
        return;
    *pp = e->next;
    if (a->tail == e)
        a->tail = prev;
    a->queued--;
}

int
gw_audit_append(struct gw_audit *a, const struct gw_audit_record *rec, struct gw_audit_receipt *out,
                struct base_err *err)
{
    struct gw_audit__entry *e = NULL;
    struct timespec until;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    rc = build_entry(a, rec, &e, err);
    if (rc != BASE_OK) {
        pthread_mutex_lock(&a->mu);
        a->st.rejected++;
        pthread_mutex_unlock(&a->mu);
        return rc;
    }
    gw_audit__abs_deadline(&until, gw_audit__mono_ms() + a->cfg.append_timeout_ms);
    pthread_mutex_lock(&a->mu);
    if (a->stopping || a->queued >= a->cfg.queue_max) {
        a->st.rejected++;
        pthread_mutex_unlock(&a->mu);
        base_arena_free(e->arena);
        return base_err_set(err, BASE_E_IO, "transient", "audit",
                            a->stopping ? "audit trail is shutting down" : "audit queue is full");
    }
    gw_audit__cond_init(&e->done);
    e->refs = 2;
    e->state = GW_AUDIT__QUEUED;
    if (a->tail != NULL)
        a->tail->next = e;
    else
        a->head = e;
    a->tail = e;
    a->queued++;
    while (e->state != GW_AUDIT__DONE) {
        /* A free slot: lead, writing what is queued (this row included,
         * unless older rows fill the batch). */
        if (e->state == GW_AUDIT__QUEUED && gw_audit__lead(a))
            continue;
        if (pthread_cond_timedwait(&e->done, &a->mu, &until) == 0 || e->state == GW_AUDIT__DONE)
            continue;
        /* Waited too long: give up.  A row still queued is withdrawn; one
         * being written may still commit (the request fails anyway: an
         * extra audit row is harmless, a missing one is not). */
        if (e->state == GW_AUDIT__QUEUED) {
            unlink_queued(a, e);
            e->refs--;
            if (a->queued == 0 && a->inflight == 0)
                pthread_cond_broadcast(&a->drained);
        }
        a->st.failed++;
        gw_audit__entry_unref(e);
        pthread_mutex_unlock(&a->mu);
        return base_err_set(err, BASE_E_IO, "timeout", "audit",
                            "audit record was not committed in time");
    }
    rc = e->rc;
    if (rc == BASE_OK && out != NULL)
        *out = e->receipt;
    if (rc != BASE_OK && err != NULL && err->rc == 0)
        *err = e->err;
    gw_audit__entry_unref(e);
    pthread_mutex_unlock(&a->mu);
    return rc;
}
#endif

int
gw_audit_flush(struct gw_audit *a, unsigned timeout_ms, struct base_err *err)
{
    struct timespec until;

    gw_audit__abs_deadline(&until, gw_audit__mono_ms() + timeout_ms);
    pthread_mutex_lock(&a->mu);
    while (a->queued > 0 || a->inflight > 0) {
        if (pthread_cond_timedwait(&a->drained, &a->mu, &until) != 0 &&
            (a->queued > 0 || a->inflight > 0)) {
            pthread_mutex_unlock(&a->mu);
            return base_err_set(err, BASE_E_IO, "timeout", "audit",
                                "audit queue did not drain in time");
        }
    }
    pthread_mutex_unlock(&a->mu);
    return BASE_OK;
}

void
gw_audit_stats(struct gw_audit *a, struct gw_audit_stats *out)
{
    pthread_mutex_lock(&a->mu);
    *out = a->st;
    out->queued = a->queued;
    pthread_mutex_unlock(&a->mu);
}
