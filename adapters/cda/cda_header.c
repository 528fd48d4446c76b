/*
 * The CDA header: recordTarget -> Patient, author / legalAuthenticator ->
 * Practitioner, custodian and represented organizations -> Organization,
 * componentOf/encompassingEncounter -> Encounter (CDA R2 section 4.2;
 * C-CDA on FHIR header mapping).
 */
#include <string.h>

#include "adapters/cda/cda_int.h"

json_t *
cda_resource(struct cda_ctx *c, const char *type)
{
    json_t *r = json_object();

    if (r == NULL || adapter_jset_str(r, "resourceType", type) != BASE_OK) {
        json_decref(r);
        (void)cda_nomem(c);
        return NULL;
    }
    return r;
}

/* The first identifier of `ids` as a key (strings live in the tree). */
static struct cda_key
first_key(const json_t *ids)
{
    const json_t *id = json_array_get(ids, 0);
    struct cda_key k = {json_string_value(json_object_get(id, "system")),
                        json_string_value(json_object_get(id, "value"))};

    if (k.system == NULL || k.value == NULL)
        k.system = k.value = NULL;
    return k;
}

static bool
has_identifier(const json_t *ids, struct cda_key key)
{
    size_t i;
    json_t *id;

    json_array_foreach(ids, i, id)
    {
        const char *sys = json_string_value(json_object_get(id, "system"));
        const char *val = json_string_value(json_object_get(id, "value"));

        if (sys != NULL && val != NULL && strcmp(sys, key.system) == 0 &&
            strcmp(val, key.value) == 0)
            return true;
    }
    return false;
}

/* Put `res` (consumed) into the Bundle with identifiers `ids` (consumed,
 * may be NULL) in front of any it already has, keyed by `key`, else by its
 * first identifier, else by a key derived from `label` -- which then
 * becomes an identifier too, so that the conditional update finds the
 * resource next time. */
static int
put_keyed(struct cda_ctx *c, json_t *res, json_t *ids, struct cda_key key, const char *label,
          const char **ref)
{
    json_t *had = json_object_get(res, "identifier");

    if (ids == NULL)
        ids = json_array();
    if (ids == NULL || (had != NULL && json_array_extend(ids, had) != 0))
        goto nomem;
    if (key.value == NULL)
        key = first_key(ids);
    if (key.value == NULL)
        key = cda_derived_key(c, label);
    if (key.value == NULL ||
        (!has_identifier(ids, key) &&
         json_array_append_new(
             ids, json_pack("{s:s,s:s}", "system", key.system, "value", key.value)) != 0))
        goto nomem;
    if (adapter_jset(res, "identifier", ids) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    return adapter_tx_put(&c->tx, res, key.system, key.value, ref, c->err);
nomem:
    json_decref(ids);
    json_decref(res);
    return cda_nomem(c);
}

/* Comment Activity (C-CDA 4.64, code 48767-8 "Annotation comment") under
 * an entry -> note (C-CDA on FHIR), for the types that have one in R4. */
static int
add_notes(struct cda_ctx *c, json_t *res, const xmlNode *act)
{
    static const char *const with_note[] = {
        "Observation",  "Condition", "AllergyIntolerance", "MedicationStatement", "Procedure",
        "Immunization", "Goal",      "FamilyMemberHistory"};
    const char *type = json_string_value(json_object_get(res, "resourceType"));
    bool has_note = false;

    for (size_t i = 0; type != NULL && i < BASE_ARRAY_LEN(with_note); i++)
        has_note = has_note || strcmp(type, with_note[i]) == 0;
    if (!has_note)
        return BASE_OK;
    CDA_EACH(rel, act, "entryRelationship")
    {
        xmlNodePtr comment = cda_child(rel, "act");
        const char *code = cda_attr(c, cda_child(comment, "code"), "code");
        const char *text;

        if (comment == NULL || !(cda_has_template(c, comment, "2.16.840.1.113883.10.20.22.4.64") ||
                                 (code != NULL && strcmp(code, "48767-8") == 0)))
            continue;
        text = cda_narrative(c, cda_child(comment, "text"));
        if (text != NULL && text[0] != '\0')
            TRY(adapter_jpush(res, "note", json_pack("{s:s}", "text", text)));
    }
    return BASE_OK;
}

int
cda_emit(struct cda_ctx *c, json_t *res, const xmlNode *act, const char *label, const char **ref)
{
    struct cda_key key = {0};
    json_t *ids;
    const char *type;

    if (res == NULL || c->err->rc != 0) {
        json_decref(res);
        return c->err->rc != 0 ? c->err->rc : cda_nomem(c);
    }
    if (add_notes(c, res, act) != BASE_OK || cda_security_labels(c, res, act) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    ids = cda_identifiers(c, act, &key);
    type = json_string_value(json_object_get(res, "resourceType"));
    if (key.value != NULL && adapter_tx_find(&c->tx, type, key.system, key.value) != NULL) {
        /* Two entries with one id (copy-pasted ids are common): keep both,
         * the second under an identifier derived from its position, next
         * to the repeated one. */
        key = cda_derived_key(c, label);
        if (key.value == NULL ||
            json_array_append_new(
                ids, json_pack("{s:s,s:s}", "system", key.system, "value", key.value)) != 0) {
            json_decref(ids);
            json_decref(res);
            return cda_nomem(c);
        }
        (void)cda_warn(c, act, "duplicate",
                       "entry repeats the id of an earlier entry; kept with a derived identifier");
    }
    return put_keyed(c, res, ids, key, label, ref);
}

int
cda_need_patient(struct cda_ctx *c, const xmlNode *n, bool *have)
{
    *have = c->patient != NULL;
    if (*have)
        return BASE_OK;
    return cda_warn(c, n, "required", "entry needs a patient and the document names none; skipped");
}

/* A key from the document and a name, for entities without ids. */
static struct cda_key
named_key(struct cda_ctx *c, const char *type, const char *name)
{
    char uuid[ADAPTER_UUID_LEN + 1];
    char *seed = base_arena_sprintf(c->arena, "%s/%s/%s", c->doc_key, type, name);
    struct cda_key k = {"urn:ietf:rfc:3986", NULL};

    if (seed == NULL)
        return k;
    adapter_uuid5(seed, strlen(seed), uuid);
    k.value = base_arena_sprintf(c->arena, "urn:uuid:%s", uuid);
    return k;
}

int
cda_map_organization(struct cda_ctx *c, const xmlNode *org, const char **ref)
{
    struct cda_key key = {0};
    const char *name = cda_text(c, cda_child(org, "name"));
    json_t *res;
    json_t *ids;

    if (cda_filler_text(name))
        name = "";
    *ref = NULL;
    if (org == NULL || cda_attr(c, org, "nullFlavor") != NULL)
        return BASE_OK;
    ids = cda_identifiers(c, org, &key);
    if (key.value == NULL && name[0] == '\0')
        return BASE_OK; /* nothing that identifies it */
    if (key.value == NULL) {
        key = named_key(c, "Organization", name);
        json_decref(ids);
        ids = NULL;
    }
    res = cda_resource(c, "Organization");
    if (res == NULL || adapter_jset_str(res, "name", name) != BASE_OK ||
        cda_add_demographics(c, res, NULL, org) != BASE_OK) {
        json_decref(ids);
        json_decref(res);
        return cda_nomem(c);
    }
    return put_keyed(c, res, ids, key, "Organization", ref);
}

static int
add_qualification(struct cda_ctx *c, json_t *res, const xmlNode *code)
{
    json_t *cc = cda_concept(c, code);
    json_t *q;

    if (cc == NULL)
        return BASE_OK;
    q = json_object();
    if (q == NULL || adapter_jset(q, "code", cc) != BASE_OK) {
        json_decref(q);
        return BASE_E_NOMEM;
    }
    return adapter_jpush(res, "qualification", q);
}

int
cda_map_practitioner(struct cda_ctx *c, const xmlNode *assigned, const char **ref)
{
    xmlNodePtr person = cda_child(assigned, "assignedPerson");
    struct cda_key key = {0};
    json_t *res;
    json_t *ids;

    *ref = NULL;
    if (person == NULL) /* a device or an organization acted, not a person */
        return BASE_OK;
    ids = cda_identifiers(c, assigned, &key);
    res = cda_resource(c, "Practitioner");
    if (res == NULL || cda_add_demographics(c, res, person, assigned) != BASE_OK ||
        add_qualification(c, res, cda_child(assigned, "code")) != BASE_OK) {
        json_decref(ids);
        json_decref(res);
        return cda_nomem(c);
    }
    if (key.value == NULL) {
        const char *name = cda_text(c, cda_child(person, "name"));

        if (name[0] == '\0' || cda_filler_text(name)) {
            json_decref(ids);
            json_decref(res);
            return BASE_OK;
        }
        key = named_key(c, "Practitioner", name);
        json_decref(ids);
        ids = NULL;
    }
    return put_keyed(c, res, ids, key, "Practitioner", ref);
}

static int
push_ref(json_t *arr, const char *ref)
{
    if (ref == NULL)
        return BASE_OK;
    return json_array_append_new(arr, adapter_reference(ref, NULL)) == 0 ? BASE_OK : BASE_E_NOMEM;
}

static int
map_participants(struct cda_ctx *c, xmlNodePtr root)
{
    const char *ref;

    CDA_EACH(author, root, "author")
    {
        xmlNodePtr aa = cda_child(author, "assignedAuthor");

        TRY(cda_map_practitioner(c, aa, &ref));
        TRY(push_ref(c->doc_authors, ref));
        TRY(cda_map_organization(c, cda_child(aa, "representedOrganization"), &ref));
        TRY(push_ref(c->doc_authors, ref));
    }
    xmlNodePtr cust = cda_child(cda_child(root, "custodian"), "assignedCustodian");
    TRY(cda_map_organization(c, cda_child(cust, "representedCustodianOrganization"),
                             &c->custodian));
    xmlNodePtr legal = cda_child(cda_child(root, "legalAuthenticator"), "assignedEntity");
    TRY(cda_map_practitioner(c, legal, &c->authenticator));
    return BASE_OK;
}

/* Document identity: the base of every derived key.  The ClinicalDocument
 * id when there is one, else the SHA-1 of the bytes (fragments). */
static void
set_doc_key(struct cda_ctx *c, xmlNodePtr root)
{
    char uuid[ADAPTER_UUID_LEN + 1];
    struct cda_key k = {0};
    json_t *id = cda_identifier(c, cda_child(root, "id"), &k);
    char *seed = NULL;

    json_decref(id);
    if (k.value != NULL)
        seed = base_arena_sprintf(c->arena, "%s|%s", k.system, k.value);
    if (seed != NULL) {
        adapter_uuid5(seed, strlen(seed), uuid);
    } else {
        char sha[29];

        adapter_sha1_b64(c->xml, c->xml_len, sha);
        adapter_uuid5(sha, strlen(sha), uuid);
    }
    memcpy(c->doc_key, "urn:uuid:", 9);
    memcpy(c->doc_key + 9, uuid, ADAPTER_UUID_LEN + 1);
}

/* CDA R2 allows several recordTargets (a mother and her newborn).  Every
 * entry would be the first one's: the baby's findings filed under the
 * mother.  Several recordTargets naming one patient (the same first id)
 * are read as one, with a warning; different patients are refused -- the
 * document cannot be split entry by entry. */
static int
check_record_targets(struct cda_ctx *c, xmlNodePtr root)
{
    struct cda_key first = {0};
    size_t n = 0;

    CDA_EACH(rt, root, "recordTarget")
    {
        n++;
    }
    if (n < 2)
        return BASE_OK;
    n = 0;
    CDA_EACH(rt, root, "recordTarget")
    {
        struct cda_key k = {0};
        json_t *ids = cda_identifiers(c, cda_child(rt, "patientRole"), &k);

        json_decref(ids);
        if (n++ == 0) {
            first = k;
            continue;
        }
        ENSURE(first.value != NULL && k.value != NULL && strcmp(first.system, k.system) == 0 &&
                   strcmp(first.value, k.value) == 0,
               c->err, BASE_E_INVALID, "structure", cda_where(c, rt),
               "document names more than one patient (recordTarget); its entries cannot be "
               "attributed to one -- refused");
    }
    return cda_warn(c, root, "duplicate", "recordTarget repeated for the same patient; read once");
}

int
cda_map_header(struct cda_ctx *c, xmlNodePtr root)
{
    set_doc_key(c, root);
    if (!cda_is(root, "ClinicalDocument")) {
        c->patient = c->opt->patient_ref; /* a section fragment */
        return BASE_OK;
    }
    TRY(check_record_targets(c, root));
    TRY(cda_map_patient(c, root));
    if (c->patient == NULL)
        c->patient = c->opt->patient_ref;
    TRY(map_participants(c, root));
    return cda_map_encounter(c, root);
}
