/*
 * AuditEvent builder following IHE BALP (ITI Basic Audit Log Patterns) on
 * FHIR R4.  Codes: audit-event-type#rest with restful-interaction subtypes
 * for REST (BALP Query/Read/Create/Update/Delete), DICOM DCM 110114 User
 * Authentication and 110113 Security Alert; entity types and roles from
 * audit-entity-type and object-role; PurposeOfUse from v3-ActReason.
 */
#include "fhir/event/event_int.h"
#include "fhir/event/fhir_event.h"

#include <stdio.h>
#include <string.h>

#define SYS_EVENT_TYPE  "http://terminology.hl7.org/CodeSystem/audit-event-type"
#define SYS_REST        "http://hl7.org/fhir/restful-interaction"
#define SYS_DCM         "http://dicom.nema.org/resources/ontology/DCM"
#define SYS_PART_TYPE   "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
#define SYS_ROLE_CLASS  "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
#define SYS_SEC_ROLE    "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
#define SYS_ENTITY_TYPE "http://terminology.hl7.org/CodeSystem/audit-entity-type"
#define SYS_OBJECT_ROLE "http://terminology.hl7.org/CodeSystem/object-role"
#define SYS_SOURCE_TYPE "http://terminology.hl7.org/CodeSystem/security-source-type"
#define SYS_ACT_REASON  "http://terminology.hl7.org/CodeSystem/v3-ActReason"
#define SYS_BALP_ENTITY "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"

struct kind_info {
    const char *type_system;
    const char *type_code;
    const char *type_display;
    const char *sub_system;
    const char *sub_code;
    const char *sub_display;
    const char *action;
    bool client_is_source; /* BALP: client = Source Role ID (110153) */
    bool user_is_author;   /* create/update/delete: user type AUT */
    bool rest;
};

static const struct kind_info kinds[] = {
    [FHIR_EVENT_SEARCH] = {SYS_EVENT_TYPE, "rest", "Restful Operation", SYS_REST, "search-type",
                           "search type", "E", true, false, true},
    [FHIR_EVENT_READ] = {SYS_EVENT_TYPE, "rest", "Restful Operation", SYS_REST, "read", "read", "R",
                         false, false, true},
    [FHIR_EVENT_VREAD] = {SYS_EVENT_TYPE, "rest", "Restful Operation", SYS_REST, "vread", "vread",
                          "R", false, false, true},
    [FHIR_EVENT_OPERATION] = {SYS_EVENT_TYPE, "rest", "Restful Operation", SYS_REST, "operation",
                              "operation", "E", true, false, true},
    [FHIR_EVENT_CREATE] = {SYS_EVENT_TYPE, "rest", "Restful Operation", SYS_REST, "create",
                           "create", "C", true, true, true},
    [FHIR_EVENT_UPDATE] = {SYS_EVENT_TYPE, "rest", "Restful Operation", SYS_REST, "update",
                           "update", "U", true, true, true},
    [FHIR_EVENT_DELETE] = {SYS_EVENT_TYPE, "rest", "Restful Operation", SYS_REST, "delete",
                           "delete", "D", true, true, true},
    [FHIR_EVENT_LOGIN] = {SYS_DCM, "110114", "User Authentication", SYS_DCM, "110122", "Login", "E",
                          true, false, false},
    [FHIR_EVENT_LOGOUT] = {SYS_DCM, "110114", "User Authentication", SYS_DCM, "110123", "Logout",
                           "E", true, false, false},
    [FHIR_EVENT_SECURITY_ALERT] = {SYS_DCM, "110113", "Security Alert", NULL, NULL, NULL, "E", true,
                                   false, false},
};

static const struct {
    const char *code;
    const char *display;
} alerts[] = {
    [FHIR_EVENT_ALERT_NONE] = {NULL, NULL},
    [FHIR_EVENT_ALERT_EMERGENCY_OVERRIDE_STARTED] = {"110127", "Emergency Override Started"},
    [FHIR_EVENT_ALERT_EMERGENCY_OVERRIDE_STOPPED] = {"110138", "Emergency Override Stopped"},
    [FHIR_EVENT_ALERT_NODE_AUTHENTICATION] = {"110126", "Node Authentication"},
    [FHIR_EVENT_ALERT_SECURITY_CONFIGURATION] = {"110129", "Security Configuration"},
    [FHIR_EVENT_ALERT_RESTRICTED_FUNCTION] = {"110132", "Use of Restricted Function"},
    [FHIR_EVENT_ALERT_SECURITY_ROLES_CHANGED] = {"110136", "Security Roles Changed"},
    [FHIR_EVENT_ALERT_USER_ATTRIBUTES_CHANGED] = {"110137", "User Security Attributes Changed"},
};

/* v3 PurposeOfUse (in the v3-ActReason code system). */
static const struct {
    const char *code;
    const char *display;
} purposes[] = {
    {"TREAT", "treatment"},
    {"ETREAT", "Emergency Treatment"},
    {"COC", "coordination of care"},
    {"HPAYMT", "healthcare payment"},
    {"HOPERAT", "healthcare operations"},
    {"HSYSADMIN", "health system administration"},
    {"HRESCH", "healthcare research"},
    {"PUBHLTH", "public health"},
    {"HLEGAL", "legal"},
    {"PATRQT", "patient requested"},
    {"FAMRQT", "family requested"},
    {"PWATRNY", "power of attorney"},
    {"SYSDEV", "system development"},
    {"HQUALIMP", "health quality improvement"},
    {"HACCRED", "health accreditation"},
    {"HCOMPL", "health compliance"},
};

static bool
code_shape_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n < 2 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    }
    return true;
}

static json_t *
purpose_cc(const char *code, const char *text)
{
    const char *display = NULL;
    json_t *cc;

    for (size_t i = 0; i < BASE_ARRAY_LEN(purposes); i++) {
        if (strcmp(purposes[i].code, code) == 0)
            display = purposes[i].display;
    }
    cc = ev_cc(SYS_ACT_REASON, code, display);
    if (cc != NULL && text != NULL && json_object_set_new(cc, "text", json_string(text)) != 0) {
        json_decref(cc);
        return NULL;
    }
    return cc;
}

/* ---- agents --------------------------------------------------------------------- */

static json_t *
user_agent(const struct fhir_event_audit *ev, const struct kind_info *k)
{
    const struct fhir_event_user *u = ev->user;
    json_t *who = json_object();
    json_t *ag;

    if (who == NULL)
        return NULL;
    if ((u->reference != NULL && ev_set_str(who, "reference", u->reference) != BASE_OK) ||
        json_object_set_new(who, "identifier", ev_identifier(u->id_system, u->id)) != 0 ||
        (u->name != NULL && ev_set_str(who, "display", u->name) != BASE_OK)) {
        json_decref(who);
        return NULL;
    }
    /* R4 element order: type, role, who, name, requestor, network, purposeOfUse */
    ag = json_pack("{s:o}", "type",
                   k->rest
                       ? (k->user_is_author ? ev_cc(SYS_PART_TYPE, "AUT", "author")
                                            : ev_cc(SYS_PART_TYPE, "IRCP", "information recipient"))
                       : ev_cc(SYS_SEC_ROLE, "humanuser", "human user"));
    if (ag == NULL) {
        json_decref(who);
        return NULL;
    }
    if (u->role_code != NULL &&
        json_object_set_new(
            ag, "role", json_pack("[o]", ev_cc(u->role_system, u->role_code, u->role_display))) !=
            0) {
        json_decref(who);
        json_decref(ag);
        return NULL;
    }
    if (json_object_set_new(ag, "who", who) != 0 ||
        (u->name != NULL && ev_set_str(ag, "name", u->name) != BASE_OK) ||
        json_object_set_new(ag, "requestor", json_true()) != 0 ||
        (ev->client == NULL && u->network_address != NULL &&
         json_object_set_new(ag, "network", ev_network(u->network_address)) != 0) ||
        (ev->purpose_of_use != NULL &&
         json_object_set_new(ag, "purposeOfUse",
                             json_pack("[o]", purpose_cc(ev->purpose_of_use, ev->purpose_text))) !=
             0)) {
        json_decref(ag);
        return NULL;
    }
    return ag;
}

/* The member organization the user acts for: its own agent, a healthcare
 * provider role (v3 RoleClass PROV), since R4 agent has no organization. */
static json_t *
org_agent(const struct fhir_event_user *u)
{
    json_t *who = json_pack("{s:s}", "reference", u->org_reference);

    if (who != NULL && u->org_display != NULL &&
        ev_set_str(who, "display", u->org_display) != BASE_OK) {
        json_decref(who);
        who = NULL;
    }
    return json_pack("{s:o, s:o, s:b}", "type",
                     ev_cc(SYS_ROLE_CLASS, "PROV", "healthcare provider"), "who", who, "requestor",
                     0);
}

static json_t *
client_agent(const struct fhir_event_client *c, bool is_source)
{
    json_t *who = json_pack("{s:o}", "identifier", ev_identifier(NULL, c->id));
    json_t *ag;

    if (who != NULL && c->name != NULL && ev_set_str(who, "display", c->name) != BASE_OK) {
        json_decref(who);
        who = NULL;
    }
    ag = json_pack("{s:o, s:o, s:b}", "type",
                   is_source ? ev_cc(SYS_DCM, "110153", "Source Role ID")
                             : ev_cc(SYS_DCM, "110152", "Destination Role ID"),
                   "who", who, "requestor", 0);
    if (ag != NULL && c->network_address != NULL &&
        json_object_set_new(ag, "network", ev_network(c->network_address)) != 0) {
        json_decref(ag);
        return NULL;
    }
    return ag;
}

static json_t *
node_who(const struct fhir_event_node *n)
{
    json_t *who = json_pack("{s:s}", "display", n->name);

    if (who != NULL && n->device_reference != NULL &&
        ev_set_str(who, "reference", n->device_reference) != BASE_OK) {
        json_decref(who);
        who = NULL;
    }
    return who;
}

static json_t *
server_agent(const struct fhir_event_node *n, bool client_is_source)
{
    json_t *ag = json_pack("{s:o, s:o, s:b}", "type",
                           client_is_source ? ev_cc(SYS_DCM, "110152", "Destination Role ID")
                                            : ev_cc(SYS_DCM, "110153", "Source Role ID"),
                           "who", node_who(n), "requestor", 0);

    if (ag != NULL && n->base_url != NULL &&
        json_object_set_new(ag, "network", ev_network(n->base_url)) != 0) {
        json_decref(ag);
        return NULL;
    }
    return ag;
}

static int
add_agents(json_t *ae, const struct fhir_event_audit *ev, const struct kind_info *k)
{
    json_t *agents = json_array();

    if (agents == NULL || json_object_set_new(ae, "agent", agents) != 0)
        return BASE_E_NOMEM;
    if (ev->user != NULL && json_array_append_new(agents, user_agent(ev, k)) != 0)
        return BASE_E_NOMEM;
    if (ev->user != NULL && ev->user->org_reference != NULL &&
        json_array_append_new(agents, org_agent(ev->user)) != 0)
        return BASE_E_NOMEM;
    if (ev->client != NULL &&
        json_array_append_new(agents, client_agent(ev->client, k->client_is_source)) != 0)
        return BASE_E_NOMEM;
    return json_array_append_new(agents, server_agent(ev->node, k->client_is_source)) == 0
               ? BASE_OK
               : BASE_E_NOMEM;
}

/* ---- entities -------------------------------------------------------------------- */

static int
add_entity(json_t *ae, json_t *entity)
{
    json_t *list = json_object_get(ae, "entity");

    if (entity == NULL)
        return BASE_E_NOMEM;
    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(ae, "entity", list) != 0) {
            json_decref(entity);
            return BASE_E_NOMEM;
        }
    }
    return json_array_append_new(list, entity) == 0 ? BASE_OK : BASE_E_NOMEM;
}

static json_t *
query_entity(const struct fhir_event_audit *ev)
{
    char *b64 = ev_base64(ev->query, ev->query_len);
    json_t *e;

    if (b64 == NULL)
        return NULL;
    e = json_pack("{s:o, s:o}", "type", ev_coding(SYS_ENTITY_TYPE, "2", "System Object"), "role",
                  ev_coding(SYS_OBJECT_ROLE, "24", "Query"));
    /* BALP: the raw request base64 in .query, the cleaned one in .description */
    if (e != NULL && ((ev->query_description != NULL &&
                       ev_set_str(e, "description", ev->query_description) != BASE_OK) ||
                      json_object_set_new(e, "query", json_string(b64)) != 0)) {
        json_decref(e);
        e = NULL;
    }
    base_free(b64);
    return e;
}

static json_t *
data_entity(const struct fhir_event_entity *d)
{
    char ref[256];
    int n = d->version != NULL
                ? snprintf(ref, sizeof(ref), "%s/%s/_history/%s", d->type, d->id, d->version)
                : snprintf(ref, sizeof(ref), "%s/%s", d->type, d->id);

    if (n < 0 || (size_t)n >= sizeof(ref))
        return NULL;
    return json_pack("{s:{s:s, s:s}, s:o, s:o}", "what", "reference", ref, "type", d->type, "type",
                     ev_coding(SYS_ENTITY_TYPE, "2", "System Object"), "role",
                     ev_coding(SYS_OBJECT_ROLE, "4", "Domain Resource"));
}

static int
add_entities(json_t *ae, const struct fhir_event_audit *ev)
{
    if (ev->patient_reference != NULL)
        TRY(add_entity(ae,
                       json_pack("{s:{s:s}, s:o, s:o}", "what", "reference", ev->patient_reference,
                                 "type", ev_coding(SYS_ENTITY_TYPE, "1", "Person"), "role",
                                 ev_coding(SYS_OBJECT_ROLE, "1", "Patient"))));
    if (ev->query != NULL)
        TRY(add_entity(ae, query_entity(ev)));
    for (size_t i = 0; i < ev->n_entities; i++)
        TRY(add_entity(ae, data_entity(&ev->entities[i])));
    if (ev->request_id != NULL)
        TRY(add_entity(ae, json_pack("{s:{s:{s:s}}, s:o}", "what", "identifier", "value",
                                     ev->request_id, "type",
                                     ev_coding(SYS_BALP_ENTITY, "XrequestId", "X-Request-Id"))));
    return BASE_OK;
}

/* ---- checks and assembly --------------------------------------------------------- */

static int
check_audit(const struct fhir_event_audit *ev, struct base_err *err)
{
    ENSURE(ev != NULL && (size_t)ev->kind < BASE_ARRAY_LEN(kinds), err, BASE_E_INVALID, "required",
           "AuditEvent.type", "unknown event kind");
    ENSURE(ev->node != NULL && ev->node->name != NULL, err, BASE_E_INVALID, "required",
           "AuditEvent.source.observer", "the recording node is required");
    ENSURE(ev->outcome == FHIR_EVENT_SUCCESS || ev->outcome == FHIR_EVENT_MINOR_FAILURE ||
               ev->outcome == FHIR_EVENT_SERIOUS_FAILURE || ev->outcome == FHIR_EVENT_MAJOR_FAILURE,
           err, BASE_E_INVALID, "code-invalid", "AuditEvent.outcome",
           "outcome must be 0, 4, 8 or 12");
    ENSURE(ev->outcome == FHIR_EVENT_SUCCESS || ev->outcome_desc != NULL, err, BASE_E_INVALID,
           "required", "AuditEvent.outcomeDesc", "a failure needs a description");
    ENSURE(ev->user == NULL || ev->user->id != NULL, err, BASE_E_INVALID, "required",
           "AuditEvent.agent.who", "the user needs an id");
    ENSURE(ev->user == NULL || ev->user->role_code == NULL || ev->user->role_system != NULL, err,
           BASE_E_INVALID, "required", "AuditEvent.agent.role", "a role needs a system");
    ENSURE(ev->client == NULL || ev->client->id != NULL, err, BASE_E_INVALID, "required",
           "AuditEvent.agent.who", "the client needs an id");
    ENSURE(ev->purpose_of_use == NULL || code_shape_ok(ev->purpose_of_use), err, BASE_E_INVALID,
           "code-invalid", "AuditEvent.purposeOfEvent", "malformed purpose of use");
    ENSURE(ev->patient_reference == NULL || ev_reference_ok(ev->patient_reference, "Patient"), err,
           BASE_E_INVALID, "value", "AuditEvent.entity.what", "malformed patient reference");
    ENSURE(ev->kind != FHIR_EVENT_SECURITY_ALERT ||
               ((size_t)ev->alert < BASE_ARRAY_LEN(alerts) && ev->alert != FHIR_EVENT_ALERT_NONE),
           err, BASE_E_INVALID, "required", "AuditEvent.subtype", "a security alert needs a kind");
    ENSURE(ev->query == NULL || ev->query_len <= (1u << 20), err, BASE_E_LIMIT, "too-costly",
           "AuditEvent.entity.query", "query too long to audit");
    for (size_t i = 0; i < ev->n_entities; i++)
        ENSURE(ev_entity_ok(ev->entities[i].type, ev->entities[i].id, ev->entities[i].version), err,
               BASE_E_INVALID, "value", "AuditEvent.entity.what",
               "malformed entity type, id or version");
    return BASE_OK;
}

static int
fill(json_t *ae, const struct fhir_event_audit *ev, const struct kind_info *k, const char *when)
{
    char outcome[4];
    const char *sub_system = k->sub_system != NULL ? k->sub_system : SYS_DCM;
    const char *sub_code = k->sub_code != NULL ? k->sub_code : alerts[ev->alert].code;
    const char *sub_display = k->sub_code != NULL ? k->sub_display : alerts[ev->alert].display;

    snprintf(outcome, sizeof(outcome), "%d", (int)ev->outcome);
    if ((ev->id != NULL && ev_set_str(ae, "id", ev->id) != BASE_OK) ||
        json_object_set_new(ae, "type", ev_coding(k->type_system, k->type_code, k->type_display)) !=
            0 ||
        json_object_set_new(ae, "subtype",
                            json_pack("[o]", ev_coding(sub_system, sub_code, sub_display))) != 0 ||
        ev_set_str(ae, "action", k->action) != BASE_OK ||
        ev_set_str(ae, "recorded", when) != BASE_OK ||
        ev_set_str(ae, "outcome", outcome) != BASE_OK ||
        (ev->outcome_desc != NULL && ev_set_str(ae, "outcomeDesc", ev->outcome_desc) != BASE_OK) ||
        (ev->purpose_of_use != NULL &&
         json_object_set_new(ae, "purposeOfEvent",
                             json_pack("[o]", purpose_cc(ev->purpose_of_use, ev->purpose_text))) !=
             0))
        return BASE_E_NOMEM;
    TRY(add_agents(ae, ev, k));
    {
        json_t *src = json_object();

        if (src == NULL || (ev->node->site != NULL && ev_set_str(src, "site", ev->node->site)) ||
            json_object_set_new(src, "observer", node_who(ev->node)) != 0 ||
            json_object_set_new(
                src, "type",
                json_pack("[o]", ev_coding(SYS_SOURCE_TYPE, "4", "Application Server"))) ||
            json_object_set_new(ae, "source", src) != 0) {
            json_decref(src);
            return BASE_E_NOMEM;
        }
    }
    return add_entities(ae, ev);
}

json_t *
fhir_event_audit_build(const struct fhir_event_audit *ev, struct base_err *err)
{
    char when[40];
    json_t *ae;

    if (check_audit(ev, err) != BASE_OK)
        return NULL;
    if (fhir_event_format_instant(ev->recorded_us, ev->tz_offset_min, when, sizeof(when)) == 0) {
        (void)base_err_set(err, BASE_E_INVALID, "value", "AuditEvent.recorded",
                           "recorded time out of range");
        return NULL;
    }
    ae = json_pack("{s:s}", "resourceType", "AuditEvent");
    if (ae == NULL || fill(ae, ev, &kinds[ev->kind], when) != BASE_OK) {
        json_decref(ae);
        (void)base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
        return NULL;
    }
    return ae;
}
