#include "test/support/audittest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test/support/pgtest.h"
#include "test/support/testutil.h"

bool
at_env_init(struct at_env *e, const char *prefix)
{
    struct base_err err = {0};

    memset(e, 0, sizeof(*e));
    e->db = pt_create_migrated_db(prefix);
    if (e->db == NULL)
        return false;
    e->url_app = pt_url(e->db, "fhirgate_app");
    e->url_admin = pt_url(e->db, "postgres");
    snprintf(e->key, sizeof(e->key), "%s/%s.key.pem", pt_tmp(), e->db);
    snprintf(e->pub, sizeof(e->pub), "%s/%s.pub.pem", pt_tmp(), e->db);
    if (gw_audit_key_generate(e->key, e->pub, &err) != BASE_OK) {
        fprintf(stderr, "audittest: keygen: %s\n", err.msg);
        return false;
    }
    return e->url_app != NULL && e->url_admin != NULL;
}

void
at_env_fini(struct at_env *e)
{
    free(e->db);
    free(e->url_app);
    free(e->url_admin);
    memset(e, 0, sizeof(*e));
}

struct gw_db_pool *
at_pool(const char *url, unsigned size)
{
    struct gw_db_config cfg;
    struct gw_db_pool *p = NULL;
    struct base_err err = {0};

    gw_db_config_defaults(&cfg);
    cfg.url = url;
    cfg.pool_size = size;
    cfg.statement_timeout_ms = 3000;
    cfg.lock_timeout_ms = 1000;
    cfg.deadline_grace_ms = 1000;
    cfg.reconnect_min_ms = 50;
    cfg.reconnect_max_ms = 250;
    if (gw_db_pool_new(&cfg, &p, &err) != BASE_OK) {
        fprintf(stderr, "audittest: pool: %s\n", err.msg);
        return NULL;
    }
    return p;
}

static long long (*test_clock)(void);

static int64_t
clock_adapter(void)
{
    return (int64_t)test_clock();
}

struct gw_audit *
at_audit(struct gw_db_pool *p, const char *chain, const char *key, unsigned cp_rows,
         long long (*clock_us)(void))
{
    return at_audit_w(p, chain, key, cp_rows, clock_us, 1);
}

struct gw_audit *
at_audit_w(struct gw_db_pool *p, const char *chain, const char *key, unsigned cp_rows,
           long long (*clock_us)(void), unsigned writers)
{
    struct gw_audit_config cfg;
    struct gw_audit *a = NULL;
    struct base_err err = {0};

    gw_audit_config_defaults(&cfg);
    cfg.chain_id = chain;
    cfg.writers = writers;
    cfg.signing_key = key;
    cfg.checkpoint_rows = cp_rows > 0 ? cp_rows : 1000;
    cfg.append_timeout_ms = 8000;
    if (clock_us != NULL) {
        test_clock = clock_us;
        cfg.clock_us = clock_adapter;
    }
    if (gw_audit_new(p, &cfg, &a, &err) != BASE_OK) {
        fprintf(stderr, "audittest: audit: %s: %s\n", err.where, err.msg);
        return NULL;
    }
    return a;
}

void
at_rec_make(struct at_rec *x, int i, const char *user, const char *patient, const char *member)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->req, sizeof(x->req), "req-%d-%d", (int)getpid(), i);
    snprintf(x->user, sizeof(x->user), "%s", user != NULL ? user : "dr-wang");
    snprintf(x->patient, sizeof(x->patient), "%s", patient != NULL ? patient : "Patient/p1");
    snprintf(x->ent0, sizeof(x->ent0), "Observation/o-%d", i);
    snprintf(x->json, sizeof(x->json),
             "{\"resourceType\":\"AuditEvent\",\"type\":{\"system\":\"http://dicom.nema.org/"
             "resources/ontology/DCM\",\"code\":\"110112\",\"display\":\"Query\"},"
             "\"subtype\":[{\"system\":\"http://hl7.org/fhir/restful-interaction\","
             "\"code\":\"search-type\"}],\"action\":\"E\",\"recorded\":\"2026-11-28T10:00:00Z\","
             "\"outcome\":\"0\",\"purposeOfEvent\":[{\"coding\":[{\"system\":"
             "\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"TREAT\"}]}],"
             "\"agent\":[{\"type\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
             "CodeSystem/extra-security-role-type\",\"code\":\"humanuser\"}]},\"who\":{"
             "\"identifier\":{\"value\":\"%s\"}},\"requestor\":true,\"network\":{\"address\":"
             "\"10.0.0.7\",\"type\":\"2\"}}],\"source\":{\"observer\":{\"display\":\"gw-test\"}},"
             "\"entity\":[{\"what\":{\"reference\":\"%s\"},\"type\":{\"code\":\"1\"},"
             "\"role\":{\"code\":\"1\"}},{\"what\":{\"reference\":\"%s\"}},{\"type\":{\"code\":"
             "\"2\"},\"query\":\"cGF0aWVudD1QYXRpZW50L3AxJmNhdGVnb3J5PWxhYm9yYXRvcnkmX2NvdW50"
             "PTUwJl9zb3J0PS1kYXRl\"}],\"extension\":[{\"url\":\"http://example.org/i\","
             "\"valueInteger\":%d},{\"url\":\"http://example.org/d\",\"valueDecimal\":1.50}]}",
             x->user, x->patient, x->ent0, i);
    x->ents[0] = x->patient;
    x->ents[1] = x->ent0;
    x->r.event_json = x->json;
    x->r.event_len = strlen(x->json);
    x->r.action = "E";
    x->r.subtype = "search-type";
    x->r.outcome = "0";
    x->r.http_status = 200;
    x->r.agent_user = x->user;
    x->r.agent_role = "clinician";
    x->r.agent_org = member != NULL ? member : "hospital-a";
    x->r.patient_ref = x->patient;
    x->r.entities = x->ents;
    x->r.entity_count = 2;
    x->r.purpose = "TREAT";
    x->r.request_id = x->req;
    x->r.client_addr = "10.0.0.7";
}

int
at_verify_cli(const struct at_env *e, const char *const *extra, char **out)
{
    const char *argv[16];
    size_t n = 0;

    argv[n++] = tu_bin("fhirgate");
    argv[n++] = "audit";
    argv[n++] = "verify";
    argv[n++] = "--database";
    argv[n++] = e->url_admin;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n + 1 < 16; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return pt_run(argv, out);
}
