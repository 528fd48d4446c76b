/*
 * recordTarget/patientRole -> Patient.
 */
#include <string.h>

#include "adapters/cda/cda_int.h"

/* GB/T 2261.1 (human sexes), the gender code set of WS/T 500 documents. */
#define GBT_2261_1 "2.16.156.10011.2.3.3.4"

const char *
cda_gender(struct cda_ctx *c, const xmlNode *code)
{
    const char *v = cda_attr(c, code, "code");
    const char *system = cda_attr(c, code, "codeSystem");

    const char *shown = cda_attr(c, code, "displayName");

    if (code == NULL)
        return NULL;
    /* Chinese exports drop the code system (<administrativeGenderCode
     * code="2"/>) or write the word (code="男", or code="" displayName="女性"):
     * digits are GB/T 2261.1's alone -- v3 AdministrativeGender has none --
     * and the words say it.  Read as "unknown" before, the patient index
     * lost the sex it matches on.  The display only when there is no code:
     * templates write a fixed displayName="男性" next to the real code. */
    for (size_t i = 0; i < 2; i++) {
        const char *w = i == 0 ? v : (v == NULL || v[0] == '\0') ? shown : NULL;

        if (w != NULL && (strcmp(w, "\u7537") == 0 || strcmp(w, "\u7537\u6027") == 0)) /* 男 */
            return "male";
        if (w != NULL && (strcmp(w, "\u5973") == 0 || strcmp(w, "\u5973\u6027") == 0)) /* 女 */
            return "female";
    }
    if (v == NULL || v[0] == '\0')
        return cda_attr(c, code, "nullFlavor") != NULL || v != NULL ? "unknown" : NULL;
    if ((system != NULL && strcmp(system, GBT_2261_1) == 0) || (v[0] >= '0' && v[0] <= '9')) {
        /* 0 unknown, 1 male, 2 female, 9 not stated */
        return strcmp(v, "1") == 0 ? "male" : strcmp(v, "2") == 0 ? "female" : "unknown";
    }
    /* HL7 v3 AdministrativeGender; FHIR's ConceptMap cm-administrative-gender-v3
     * maps UN (undifferentiated) to other. */
    if (strcmp(v, "M") == 0)
        return "male";
    if (strcmp(v, "F") == 0)
        return "female";
    if (strcmp(v, "UN") == 0)
        return "other";
    return "unknown";
}

/* A Chinese document (<realmCode code="CN"/>, or a document type of a
 * national code system 2.16.156.*): only those carry WS 363 data
 * elements, and the search for one walks the whole document. */
static bool
chinese_document(struct cda_ctx *c)
{
    const xmlNode *root = xmlDocGetRootElement(c->doc);
    const char *realm = cda_attr(c, cda_child(root, "realmCode"), "code");
    const char *system = cda_attr(c, cda_child(root, "code"), "codeSystem");

    return (realm != NULL && strcmp(realm, "CN") == 0) ||
           (system != NULL && strncmp(system, "2.16.156.", 9) == 0);
}

/* WS/T 500 死亡记录 (C0050) and 24小时内入院死亡记录 (C0036) give the time
 * of death as a body entry, 死亡日期时间 DE02.01.036.00 (the header has no
 * sdtc:deceasedTime): the Patient stayed alive for every reader. */
static int
add_deceased(struct cda_ctx *c, json_t *res, const xmlNode *pat)
{
    const char *when = cda_ts(c, cda_sdtc_child(pat, "deceasedTime"), false);
    const char *ind = cda_attr(c, cda_sdtc_child(pat, "deceasedInd"), "value");

    if (when == NULL && ind == NULL && chinese_document(c))
        when = cda_wst_time(c, "DE02.01.036.00");

    if (when != NULL)
        return adapter_jset_str(res, "deceasedDateTime", when);
    if (ind != NULL && (strcmp(ind, "true") == 0 || strcmp(ind, "false") == 0))
        return adapter_jset(res, "deceasedBoolean", json_boolean(strcmp(ind, "true") == 0));
    return BASE_OK;
}

static int
add_communication(struct cda_ctx *c, json_t *res, const xmlNode *pat)
{
    CDA_EACH(lc, pat, "languageCommunication")
    {
        const char *lang = cda_attr(c, cda_child(lc, "languageCode"), "code");
        const char *pref = cda_attr(c, cda_child(lc, "preferenceInd"), "value");
        json_t *comm;

        if (lang == NULL || lang[0] == '\0')
            continue;
        comm = json_object();
        /* CDA languageCode is an RFC 4646/5646 tag: FHIR's urn:ietf:bcp:47 */
        if (comm == NULL ||
            adapter_jset(comm, "language", adapter_cc("urn:ietf:bcp:47", lang, NULL)) != BASE_OK ||
            (pref != NULL &&
             adapter_jset(comm, "preferred", json_boolean(strcmp(pref, "true") == 0)) != BASE_OK)) {
            json_decref(comm);
            return BASE_E_NOMEM;
        }
        TRY(adapter_jpush(res, "communication", comm));
    }
    return BASE_OK;
}

/* GB/T 2261.2 (marital status, the code set of WS/T 500 documents) -> HL7
 * v3 MaritalStatus, which FHIR R4 binds Patient.maritalStatus to; the
 * national code stays first. */
#define GBT_2261_2 "2.16.156.10011.2.3.3.5"
static const struct cda_pair gbt_marital[] = {
    {"10", "S"}, /* 未婚 never married */
    {"20", "M"}, /* 已婚 married */
    {"21", "M"}, /* 初婚 */
    {"22", "M"}, /* 再婚 */
    {"23", "M"}, /* 复婚 */
    {"30", "W"}, /* 丧偶 widowed */
    {"40", "D"}, /* 离婚 divorced */
};

static int
add_v3_marital(struct cda_ctx *c, json_t *cc, const xmlNode *code)
{
    const char *system = cda_attr(c, code, "codeSystem");
    const char *v3 = CDA_LOOKUP(gbt_marital, cda_attr(c, code, "code"));

    if (system == NULL || strcmp(system, GBT_2261_2) != 0 || v3 == NULL)
        return BASE_OK;
    return adapter_cc_add_coding(cc, "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", v3,
                                 NULL, NULL);
}

static int
patient_details(struct cda_ctx *c, json_t *res, const xmlNode *role)
{
    xmlNodePtr pat = cda_child(role, "patient");
    const char *org = NULL;
    json_t *marital;

    TRY(cda_add_demographics(c, res, pat, role));
    TRY(adapter_jset_str(res, "gender", cda_gender(c, cda_child(pat, "administrativeGenderCode"))));
    TRY(adapter_jset_str(res, "birthDate", cda_ts(c, cda_child(pat, "birthTime"), true)));
    TRY(add_deceased(c, res, pat));
    marital = cda_concept(c, cda_child(pat, "maritalStatusCode"));
    if (marital != NULL) {
        TRY(adapter_jset(res, "maritalStatus", marital));
        TRY(add_v3_marital(c, marital, cda_child(pat, "maritalStatusCode")));
    }
    TRY(add_communication(c, res, pat));
    TRY(cda_map_organization(c, cda_child(role, "providerOrganization"), &org));
    if (org != NULL)
        TRY(adapter_jset(res, "managingOrganization", adapter_reference(org, NULL)));
    return BASE_OK;
}

/* ------------------------------------------------------------- contacts */

/* associatedEntity/@classCode (v3 RoleClass) -> v2-0131 contact role, the
 * table FHIR R4 binds Patient.contact.relationship to. */
static const struct cda_pair contact_role[] = {
    {"ECON", "C"}, /* emergency contact */
    {"NOK", "N"},  /* next of kin */
    {"GUARD", "N"}, {"CAREGIVER", "U"}, {"PRS", "U"},
};

/* One Patient.contact: relationship from `role` (v2-0131) and `code`, name
 * from `person`, telecom and address from `entity`.  Nothing is added
 * when the contact has no details (FHIR R4 pat-1). */
static int
add_contact(struct cda_ctx *c, json_t *res, const char *role, const xmlNode *code,
            const xmlNode *person, const xmlNode *entity)
{
    json_t *ct = json_object();
    json_t *holder = json_object();
    json_t *rel;

    if (ct == NULL || holder == NULL)
        goto nomem;
    if (role != NULL && adapter_jpush(ct, "relationship",
                                      adapter_cc("http://terminology.hl7.org/CodeSystem/v2-0131",
                                                 role, NULL)) != BASE_OK)
        goto nomem;
    rel = cda_concept(c, code);
    if (rel != NULL && adapter_jpush(ct, "relationship", rel) != BASE_OK)
        goto nomem;
    /* HumanName is 0..1 in a contact: collect into a holder, keep the first */
    if (cda_add_demographics(c, holder, person, entity) != BASE_OK)
        goto nomem;
    if (json_array_size(json_object_get(holder, "name")) > 0 &&
        adapter_jset(ct, "name", json_incref(json_array_get(json_object_get(holder, "name"), 0))) !=
            BASE_OK)
        goto nomem;
    if (json_object_get(holder, "telecom") != NULL &&
        adapter_jset(ct, "telecom", json_incref(json_object_get(holder, "telecom"))) != BASE_OK)
        goto nomem;
    if (json_array_size(json_object_get(holder, "address")) > 0 &&
        adapter_jset(ct, "address",
                     json_incref(json_array_get(json_object_get(holder, "address"), 0))) != BASE_OK)
        goto nomem;
    json_decref(holder);
    if (json_object_get(ct, "name") == NULL && json_object_get(ct, "telecom") == NULL &&
        json_object_get(ct, "address") == NULL) {
        json_decref(ct);
        return BASE_OK;
    }
    return adapter_jpush(res, "contact", ct);
nomem:
    json_decref(holder);
    json_decref(ct);
    return BASE_E_NOMEM;
}

/* patient/guardian, and header participants (typeCode IND, or NOT as in
 * WS/T 500's 联系人) whose associatedEntity is an emergency contact, next
 * of kin, guardian or caregiver (C-CDA on FHIR: Patient.contact). */
static int
add_contacts(struct cda_ctx *c, json_t *res, const xmlNode *root, const xmlNode *pat)
{
    CDA_EACH(g, pat, "guardian")
    {
        TRY(add_contact(c, res, "N", cda_child(g, "code"), cda_child(g, "guardianPerson"), g));
    }
    CDA_EACH(part, root, "participant")
    {
        const char *type = cda_attr(c, part, "typeCode");
        xmlNodePtr ae = cda_child(part, "associatedEntity");
        const char *role = CDA_LOOKUP(contact_role, cda_attr(c, ae, "classCode"));

        const char *rel = cda_attr(c, cda_child(ae, "code"), "code");

        if (type == NULL || (strcmp(type, "IND") != 0 && strcmp(type, "NOT") != 0) || role == NULL)
            continue;
        /* v3 RoleCode ONESELF: the participant is the patient (athenahealth
         * lists the patient as her own "self" participant) -- no contact */
        if (rel != NULL && strcmp(rel, "ONESELF") == 0)
            continue;
        TRY(add_contact(c, res, role, cda_child(ae, "code"), cda_child(ae, "associatedPerson"),
                        ae));
    }
    return BASE_OK;
}

/* WS/T 500 headers put the resident identity number on patient/id (CDA R2
 * POCD_MT000040.Patient.id); it joins the patientRole ids. */
static int
add_patient_ids(struct cda_ctx *c, json_t *res, const xmlNode *pat)
{
    CDA_EACH(ii, pat, "id")
    {
        json_t *id = cda_identifier(c, ii, NULL);

        if (id != NULL)
            TRY(adapter_jpush(res, "identifier", id));
    }
    return BASE_OK;
}

int
cda_map_patient(struct cda_ctx *c, xmlNodePtr root)
{
    xmlNodePtr role = cda_child(cda_child(root, "recordTarget"), "patientRole");
    json_t *res;

    if (role == NULL)
        return cda_warn(c, root, "required", "document has no recordTarget/patientRole");
    res = cda_resource(c, "Patient");
    if (res == NULL || patient_details(c, res, role) != BASE_OK ||
        add_contacts(c, res, root, cda_child(role, "patient")) != BASE_OK ||
        add_patient_ids(c, res, cda_child(role, "patient")) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    return cda_emit(c, res, role, "Patient", &c->patient);
}
