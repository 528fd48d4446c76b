/* AuditEvent (IHE BALP) and Provenance builders. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/event/fhir_event.h"
#include "fhir/json/fhir_json.h"
#include "test/support/testutil.h"

/* 2026-11-28T14:33:20.123Z */
#define T0 1795876400123000LL

static const struct fhir_event_user user = {"dr.li",
                                            "https://gw.example/users",
                                            "Practitioner/pr-7",
                                            "Li Wei",
                                            "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                            "PHYS",
                                            "physician",
                                            "Organization/hospital-a",
                                            "Hospital A",
                                            "10.1.2.3"};
static const struct fhir_event_client client = {"portal", "Regional portal", "192.0.2.10"};
static const struct fhir_event_node node = {"region-gateway", "Device/gw-node-1",
                                            "fhirgate gateway node 1", "https://gw.example/fhir"};

static const char *
str_at(const json_t *root, const char *path)
{
    /* dotted path with numeric array indexes: "agent.0.type.coding.0.code" */
    char buf[256];
    const json_t *cur = root;

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *tok = buf, *next; tok != NULL && cur != NULL; tok = next) {
        next = strchr(tok, '.');
        if (next != NULL)
            *next++ = '\0';
        if (tok[0] >= '0' && tok[0] <= '9')
            cur = json_array_get(cur, (size_t)strtoul(tok, NULL, 10));
        else
            cur = json_object_get(cur, tok);
    }
    if (json_is_true(cur))
        return "true";
    if (json_is_false(cur))
        return "false";
    return json_string_value(cur);
}

#define ASSERT_AT(root, path, want)                                                                \
    do {                                                                                           \
        const char *got_ = str_at((root), (path));                                                 \
        ck_assert_msg(got_ != NULL && strcmp(got_, (want)) == 0, "%s: got %s", (path),             \
                      got_ != NULL ? got_ : "(none)");                                             \
    } while (0)

START_TEST(search_event_follows_balp)
{
    const char *raw = "GET /fhir/Observation?patient=p1&code=http://loinc.org|1-8";
    struct fhir_event_entity ents[] = {{"Observation", "o1", "2"}, {"Observation", "o2", NULL}};
    struct fhir_event_audit ev = {0};
    struct base_err err = {0};
    json_t *ae;

    ev.kind = FHIR_EVENT_SEARCH;
    ev.recorded_us = T0;
    ev.tz_offset_min = 480;
    ev.purpose_of_use = "TREAT";
    ev.user = &user;
    ev.client = &client;
    ev.node = &node;
    ev.patient_reference = "Patient/p1";
    ev.query = raw;
    ev.query_len = strlen(raw);
    ev.query_description = "patient=p1&code=http://loinc.org%7C1-8&_count=50";
    ev.entities = ents;
    ev.n_entities = 2;
    ev.request_id = "req-42";
    ae = fhir_event_audit_build(&ev, &err);
    ck_assert_ptr_nonnull(ae);
    ASSERT_AT(ae, "resourceType", "AuditEvent");
    ASSERT_AT(ae, "type.system", "http://terminology.hl7.org/CodeSystem/audit-event-type");
    ASSERT_AT(ae, "type.code", "rest");
    ASSERT_AT(ae, "subtype.0.system", "http://hl7.org/fhir/restful-interaction");
    ASSERT_AT(ae, "subtype.0.code", "search-type");
    ASSERT_AT(ae, "action", "E");
    ASSERT_AT(ae, "recorded", "2026-11-28T22:33:20.123+08:00");
    ASSERT_AT(ae, "outcome", "0");
    ASSERT_AT(ae, "purposeOfEvent.0.coding.0.code", "TREAT");
    ASSERT_AT(ae, "purposeOfEvent.0.coding.0.system",
              "http://terminology.hl7.org/CodeSystem/v3-ActReason");
    /* user: information recipient, requestor, role, purpose */
    ASSERT_AT(ae, "agent.0.type.coding.0.code", "IRCP");
    ASSERT_AT(ae, "agent.0.role.0.coding.0.code", "PHYS");
    ASSERT_AT(ae, "agent.0.who.reference", "Practitioner/pr-7");
    ASSERT_AT(ae, "agent.0.who.identifier.value", "dr.li");
    ASSERT_AT(ae, "agent.0.name", "Li Wei");
    ASSERT_AT(ae, "agent.0.requestor", "true");
    ASSERT_AT(ae, "agent.0.purposeOfUse.0.coding.0.display", "treatment");
    ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(ae, "agent"), 0), "network"));
    /* organization, client (Source Role ID), gateway (Destination Role ID) */
    ASSERT_AT(ae, "agent.1.who.reference", "Organization/hospital-a");
    ASSERT_AT(ae, "agent.1.requestor", "false");
    ASSERT_AT(ae, "agent.2.type.coding.0.code", "110153");
    ASSERT_AT(ae, "agent.2.who.identifier.value", "portal");
    ASSERT_AT(ae, "agent.2.network.address", "192.0.2.10");
    ASSERT_AT(ae, "agent.2.network.type", "2");
    ASSERT_AT(ae, "agent.3.type.coding.0.code", "110152");
    ASSERT_AT(ae, "agent.3.who.reference", "Device/gw-node-1");
    ASSERT_AT(ae, "agent.3.network.type", "5");
    ASSERT_AT(ae, "source.site", "region-gateway");
    ASSERT_AT(ae, "source.observer.display", "fhirgate gateway node 1");
    ASSERT_AT(ae, "source.type.0.code", "4");
    /* patient (1/1), query (2/24, base64), returned entities (2/4), request id */
    ASSERT_AT(ae, "entity.0.what.reference", "Patient/p1");
    ASSERT_AT(ae, "entity.0.type.code", "1");
    ASSERT_AT(ae, "entity.0.role.code", "1");
    ASSERT_AT(ae, "entity.1.type.code", "2");
    ASSERT_AT(ae, "entity.1.role.code", "24");
    ASSERT_AT(ae, "entity.1.query",
              "R0VUIC9maGlyL09ic2VydmF0aW9uP3BhdGllbnQ9cDEmY29kZT1odHRwOi8vbG"
              "9pbmMub3JnfDEtOA==");
    ASSERT_AT(ae, "entity.1.description", "patient=p1&code=http://loinc.org%7C1-8&_count=50");
    ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(ae, "entity"), 1), "name"));
    ASSERT_AT(ae, "entity.2.what.reference", "Observation/o1/_history/2");
    ASSERT_AT(ae, "entity.2.what.type", "Observation");
    ASSERT_AT(ae, "entity.2.role.code", "4");
    ASSERT_AT(ae, "entity.3.what.reference", "Observation/o2");
    ASSERT_AT(ae, "entity.4.what.identifier.value", "req-42");
    /* serializes and parses back to the same tree */
    {
        struct base_buf out;
        json_t *again = NULL;

        base_buf_init(&out, 1u << 20);
        ck_assert_int_eq(fhir_json_dump(ae, 0, &out, NULL), BASE_OK);
        ck_assert_int_eq(fhir_json_parse(out.data, out.len, NULL, &again, NULL), BASE_OK);
        ck_assert(fhir_json_equal(ae, again));
        json_decref(again);
        base_buf_fini(&out);
    }
    json_decref(ae);
}
END_TEST

START_TEST(read_denied_login_alert)
{
    struct fhir_event_entity ent = {"DiagnosticReport", "dr1", NULL};
    struct fhir_event_audit ev = {0};
    struct base_err err = {0};
    json_t *ae;

    ev.kind = FHIR_EVENT_READ;
    ev.recorded_us = T0;
    ev.user = &user;
    ev.client = &client;
    ev.node = &node;
    ev.entities = &ent;
    ev.n_entities = 1;
    ev.outcome = FHIR_EVENT_MINOR_FAILURE;
    ev.outcome_desc = "denied by consent";
    ae = fhir_event_audit_build(&ev, &err);
    ck_assert_ptr_nonnull(ae);
    ASSERT_AT(ae, "subtype.0.code", "read");
    ASSERT_AT(ae, "action", "R");
    ASSERT_AT(ae, "outcome", "4");
    ASSERT_AT(ae, "outcomeDesc", "denied by consent");
    ASSERT_AT(ae, "recorded", "2026-11-28T14:33:20.123+00:00");
    /* BALP Read: the client receives, so it is the Destination */
    ASSERT_AT(ae, "agent.2.type.coding.0.code", "110152");
    ASSERT_AT(ae, "agent.3.type.coding.0.code", "110153");
    json_decref(ae);

    memset(&ev, 0, sizeof(ev));
    ev.kind = FHIR_EVENT_LOGIN;
    ev.recorded_us = T0;
    ev.user = &user;
    ev.node = &node;
    ev.outcome = FHIR_EVENT_SERIOUS_FAILURE;
    ev.outcome_desc = "bad password";
    ae = fhir_event_audit_build(&ev, &err);
    ck_assert_ptr_nonnull(ae);
    ASSERT_AT(ae, "type.code", "110114");
    ASSERT_AT(ae, "subtype.0.code", "110122");
    ASSERT_AT(ae, "agent.0.type.coding.0.code", "humanuser");
    ASSERT_AT(ae, "agent.0.network.address", "10.1.2.3"); /* no client: on the user */
    ck_assert_ptr_null(json_object_get(ae, "entity"));
    json_decref(ae);

    ev.kind = FHIR_EVENT_SECURITY_ALERT;
    ev.alert = FHIR_EVENT_ALERT_EMERGENCY_OVERRIDE_STARTED;
    ev.outcome = FHIR_EVENT_SUCCESS;
    ev.purpose_of_use = "ETREAT";
    ev.purpose_text = "unconscious patient in ED";
    ev.patient_reference = "Patient/p1";
    ae = fhir_event_audit_build(&ev, &err);
    ck_assert_ptr_nonnull(ae);
    ASSERT_AT(ae, "type.code", "110113");
    ASSERT_AT(ae, "subtype.0.code", "110127");
    ASSERT_AT(ae, "subtype.0.display", "Emergency Override Started");
    ASSERT_AT(ae, "purposeOfEvent.0.coding.0.code", "ETREAT");
    ASSERT_AT(ae, "purposeOfEvent.0.text", "unconscious patient in ED");
    ASSERT_AT(ae, "entity.0.role.code", "1");
    json_decref(ae);

    memset(&ev, 0, sizeof(ev));
    ev.kind = FHIR_EVENT_DELETE;
    ev.recorded_us = T0;
    ev.tz_offset_min = -330;
    ev.node = &node;
    ev.user = &user;
    ae = fhir_event_audit_build(&ev, &err);
    ck_assert_ptr_nonnull(ae);
    ASSERT_AT(ae, "action", "D");
    ASSERT_AT(ae, "agent.0.type.coding.0.code", "AUT");
    ASSERT_AT(ae, "recorded", "2026-11-28T09:03:20.123-05:30");
    json_decref(ae);
}
END_TEST

static const struct {
    const char *field;
    const char *where;
} bad_cases[] = {
    {"node", "AuditEvent.source.observer"}, {"outcome", "AuditEvent.outcome"},
    {"desc", "AuditEvent.outcomeDesc"},     {"purpose", "AuditEvent.purposeOfEvent"},
    {"patient", "AuditEvent.entity.what"},  {"entity", "AuditEvent.entity.what"},
    {"alert", "AuditEvent.subtype"},        {"recorded", "AuditEvent.recorded"},
    {"userid", "AuditEvent.agent.who"},     {"kind", "AuditEvent.type"},
};

START_TEST(audit_rejects_bad_input)
{
    struct fhir_event_user u = user;
    struct fhir_event_entity ent = {"Observation", "bad id!", NULL};
    struct fhir_event_audit ev = {0};
    struct base_err err = {0};
    const char *f = bad_cases[_i].field;

    ev.kind = FHIR_EVENT_SEARCH;
    ev.recorded_us = T0;
    ev.node = &node;
    ev.user = &u;
    if (strcmp(f, "node") == 0)
        ev.node = NULL;
    else if (strcmp(f, "outcome") == 0)
        ev.outcome = (enum fhir_event_outcome)5;
    else if (strcmp(f, "desc") == 0)
        ev.outcome = FHIR_EVENT_MAJOR_FAILURE;
    else if (strcmp(f, "purpose") == 0)
        ev.purpose_of_use = "treat; drop";
    else if (strcmp(f, "patient") == 0)
        ev.patient_reference = "Group/1";
    else if (strcmp(f, "entity") == 0)
        ev.entities = &ent, ev.n_entities = 1;
    else if (strcmp(f, "alert") == 0)
        ev.kind = FHIR_EVENT_SECURITY_ALERT;
    else if (strcmp(f, "recorded") == 0)
        ev.recorded_us = INT64_MAX;
    else if (strcmp(f, "userid") == 0)
        u.id = NULL;
    else if (strcmp(f, "kind") == 0)
        ev.kind = (enum fhir_event_kind)99;
    ck_assert_ptr_null(fhir_event_audit_build(&ev, &err));
    ck_assert_int_eq(err.rc, BASE_E_INVALID);
    ck_assert_str_eq(err.where, bad_cases[_i].where);
}
END_TEST

START_TEST(instant_formatting)
{
    char buf[40];

    ck_assert_uint_eq(fhir_event_format_instant(0, 0, buf, sizeof(buf)), 29);
    ck_assert_str_eq(buf, "1970-01-01T00:00:00.000+00:00");
    ck_assert_uint_gt(fhir_event_format_instant(-1000, 0, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59.999+00:00");
    ck_assert_uint_gt(fhir_event_format_instant(951782400000000LL, 60, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "2000-02-29T01:00:00.000+01:00");
    ck_assert_uint_eq(fhir_event_format_instant(0, 15 * 60, buf, sizeof(buf)), 0);
    ck_assert_uint_eq(fhir_event_format_instant(0, 0, buf, 10), 0);
}
END_TEST

START_TEST(provenance_for_converted_resources)
{
    const char *targets[] = {"Observation/o1/_history/1", "DiagnosticReport/r1"};
    struct fhir_event_provenance p = {"prov-1",
                                      targets,
                                      2,
                                      T0,
                                      480,
                                      FHIR_EVENT_ACTIVITY_CREATE,
                                      "Device/adapter-a",
                                      "fhirgate adapter, Hospital A",
                                      "Organization/hospital-a",
                                      "Hospital A",
                                      "urn:oid:2.16.156.10011.1.1",
                                      "MSG00001",
                                      "HL7 v2 ORU^R01"};
    struct base_err err = {0};
    json_t *pv = fhir_event_provenance_build(&p, &err);
    json_t *example = NULL;
    size_t len = 0;
    char *text =
        tu_read_file(tu_corpus_path("fhir-r4-examples/json/Provenance-example.json"), &len);

    ck_assert_ptr_nonnull(pv);
    ASSERT_AT(pv, "resourceType", "Provenance");
    ASSERT_AT(pv, "target.0.reference", "Observation/o1/_history/1");
    ASSERT_AT(pv, "target.1.reference", "DiagnosticReport/r1");
    ASSERT_AT(pv, "recorded", "2026-11-28T22:33:20.123+08:00");
    ASSERT_AT(pv, "activity.coding.0.code", "CREATE");
    ASSERT_AT(pv, "agent.0.type.coding.0.code", "assembler");
    ASSERT_AT(pv, "agent.0.who.reference", "Device/adapter-a");
    ASSERT_AT(pv, "agent.0.onBehalfOf.reference", "Organization/hospital-a");
    ASSERT_AT(pv, "agent.1.type.coding.0.code", "custodian");
    ASSERT_AT(pv, "entity.0.role", "source");
    ASSERT_AT(pv, "entity.0.what.identifier.value", "MSG00001");
    ASSERT_AT(pv, "entity.0.what.display", "HL7 v2 ORU^R01");
    /* same shapes as the official example: entity.role a code, agent.who a Reference */
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(fhir_json_parse(text, len, NULL, &example, NULL), BASE_OK);
    ck_assert(json_is_string(
        json_object_get(json_array_get(json_object_get(example, "entity"), 0), "role")));
    json_decref(example);
    free(text);
    json_decref(pv);

    p.targets = NULL;
    ck_assert_ptr_null(fhir_event_provenance_build(&p, &err));
    ck_assert_str_eq(err.where, "Provenance.target");
    p.targets = targets;
    targets[1] = "not a reference";
    memset(&err, 0, sizeof(err));
    ck_assert_ptr_null(fhir_event_provenance_build(&p, &err));
    ck_assert_str_eq(err.where, "Provenance.target");
    targets[1] = "DiagnosticReport/r1";
    p.device_reference = "Organization/x";
    memset(&err, 0, sizeof(err));
    ck_assert_ptr_null(fhir_event_provenance_build(&p, &err));
    ck_assert_str_eq(err.where, "Provenance.agent.who");
    p.device_reference = "Device/adapter-a";
    p.source_value = NULL;
    memset(&err, 0, sizeof(err));
    ck_assert_ptr_null(fhir_event_provenance_build(&p, &err));
    ck_assert_str_eq(err.where, "Provenance.entity.what");
}
END_TEST

Suite *fhir_event_suite(void)
{
    Suite *s = suite_create("fhir_event");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, search_event_follows_balp);
    tcase_add_test(tc, read_denied_login_alert);
    tcase_add_loop_test(tc, audit_rejects_bad_input, 0, (int)BASE_ARRAY_LEN(bad_cases));
    tcase_add_test(tc, instant_formatting);
    tcase_add_test(tc, provenance_for_converted_resources);
    suite_add_tcase(s, tc);
    return s;
}
