/*
 * componentOf/encompassingEncounter (CDA R2 section 4.2.3.3) and the
 * Encounter Activities of an Encounters section (C-CDA R2.1 4.49) ->
 * Encounter; Encounter Diagnosis acts (4.80) -> Condition.
 */
#include <stdio.h>
#include <string.h>

#include "adapters/cda/cda_int.h"

#define ACT_CODE "2.16.840.1.113883.5.4" /* v3 ActCode: AMB, IMP, EMER... */

/* encounterParticipant/@typeCode (ParticipationType: ADM, ATND, CON, DIS,
 * REF) -> participant.type, individual -> Practitioner. */
static int
encounter_participants(struct cda_ctx *c, json_t *enc, const xmlNode *ee)
{
    CDA_EACH(ep, ee, "encounterParticipant")
    {
        const char *ref = NULL;
        const char *type = cda_attr(c, ep, "typeCode");
        json_t *p;

        TRY(cda_map_practitioner(c, cda_child(ep, "assignedEntity"), &ref));
        if (ref == NULL)
            continue;
        p = json_object();
        if (p == NULL || adapter_jset(p, "individual", adapter_reference(ref, NULL)) != BASE_OK ||
            (type != NULL &&
             adapter_jpush(p, "type",
                           adapter_cc("http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                      type, NULL)) != BASE_OK)) {
            json_decref(p);
            return BASE_E_NOMEM;
        }
        TRY(adapter_jpush(enc, "participant", p));
    }
    return BASE_OK;
}

/* The first ActCode coding of the code or of its translations (exports
 * send CPT with an ActCode translation), NULL if none. */
static json_t *
act_code_coding(struct cda_ctx *c, const xmlNode *code)
{
    const char *system = cda_attr(c, code, "codeSystem");

    if (system != NULL && strcmp(system, ACT_CODE) == 0)
        return cda_coding(c, code);
    CDA_EACH(tr, code, "translation")
    {
        system = cda_attr(c, tr, "codeSystem");
        if (system != NULL && strcmp(system, ACT_CODE) == 0)
            return cda_coding(c, tr);
    }
    return NULL;
}

/* CPT evaluation and management codes say where the visit was (AMA CPT
 * E/M categories): office/outpatient and office consultations are
 * ambulatory, hospital care and inpatient consultations inpatient, the
 * emergency department codes emergency, home visits home health.  US
 * exports code encounters so (99213) with no ActCode at all. */
static const struct {
    int lo, hi;
    const char *act, *display;
} cpt_em_class[] = {
    {99201, 99215, "AMB", "ambulatory"}, {99217, 99239, "IMP", "inpatient encounter"},
    {99241, 99245, "AMB", "ambulatory"}, {99251, 99255, "IMP", "inpatient encounter"},
    {99281, 99288, "EMER", "emergency"}, {99304, 99318, "IMP", "inpatient encounter"},
    {99341, 99350, "HH", "home health"},
};

static json_t *
cpt_class_coding(struct cda_ctx *c, const xmlNode *code)
{
    const xmlNode *cd = code;
    const xmlNode *next = cda_child(code, "translation");

    while (cd != NULL) {
        const char *system = cda_attr(c, cd, "codeSystem");
        const char *v = cda_attr(c, cd, "code");
        int64_t n;

        if (system != NULL && v != NULL && strcmp(system, "2.16.840.1.113883.6.12") == 0 &&
            base_str_to_i64(base_str_trim(base_str_from_cstr(v)), &n)) {
            for (size_t i = 0; i < BASE_ARRAY_LEN(cpt_em_class); i++) {
                if (n >= cpt_em_class[i].lo && n <= cpt_em_class[i].hi)
                    return json_pack("{s:s,s:s,s:s}", "system",
                                     "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code",
                                     cpt_em_class[i].act, "display", cpt_em_class[i].display);
            }
        }
        cd = next;
        next = next != NULL ? cda_next(next, "translation") : NULL;
    }
    return NULL;
}

/* WS/T 500 codes the visit in its own words: 患者类型 门诊 / 急诊 / 住院
 * (2.16.156.10011.2.3.1.271) or a hospital's table with those display
 * names.  They are v3 ActCode AMB, EMER and IMP. */
static json_t *
wst_class_coding(struct cda_ctx *c, const xmlNode *code)
{
    static const struct {
        const char *name, *act, *display;
    } words[] = {
        {"\u95e8\u8bca", "AMB", "ambulatory"},          /* 门诊 */
        {"\u6025\u8bca", "EMER", "emergency"},          /* 急诊 */
        {"\u4f4f\u9662", "IMP", "inpatient encounter"}, /* 住院 */
    };
    const char *name = cda_attr(c, code, "displayName");

    for (size_t i = 0; name != NULL && i < BASE_ARRAY_LEN(words); i++) {
        if (strcmp(name, words[i].name) == 0)
            return json_pack("{s:s,s:s,s:s}", "system",
                             "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code",
                             words[i].act, "display", words[i].display);
    }
    return NULL;
}

/*
 * A WS/T 500 document's type says where it was written: 急诊留观病历 (C0003)
 * in the emergency department; the nursing records (C0017-C0025: 护理记录,
 * 生命体征测量记录, 入院评估, 出院评估与指导) and the inpatient record
 * (C0032-C0053: 住院病案首页, 入院记录, 病程记录, 术前小结, 出院记录,
 * 死亡记录, 住院医嘱, 出院小结) during a hospital stay.  Their headers
 * seldom code the visit, whose class was then UNK (the gateway searches
 * encounters by class).  Other types (门(急)诊病历, 手术记录, 知情告知书)
 * may be either and say nothing here.  Code system 2.16.156.10011.2.4 is
 * 卫生信息共享文档规范编码体系.
 */
static json_t *
wst_document_class(struct cda_ctx *c)
{
    const xmlNode *code = cda_child(xmlDocGetRootElement(c->doc), "code");
    const char *system = cda_attr(c, code, "codeSystem");
    const char *v = cda_attr(c, code, "code");
    int n = 0;
    int len = 0;

    if (system == NULL || strcmp(system, "2.16.156.10011.2.4") != 0 || v == NULL ||
        sscanf(v, "C%4d%n", &n, &len) != 1 || len != 5 || v[len] != '\0')
        return NULL;
    if (n == 3)
        return json_pack("{s:s,s:s,s:s}", "system",
                         "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code", "EMER",
                         "display", "emergency");
    if ((n >= 17 && n <= 25) || (n >= 32 && n <= 53))
        return json_pack("{s:s,s:s,s:s}", "system",
                         "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code", "IMP",
                         "display", "inpatient encounter");
    return NULL;
}

/* 入院途径 (WS 364 CV09.00.403, 2.16.156.10011.2.3.1.270: 急诊, 门诊, 其他
 *医疗机构转入) is how the patient came to be admitted: the stay is
 * inpatient, and the route is its admitSource -- not the visit type.  As a
 * type "门诊" (outpatient) described a hospital stay. */
#define WST_ADMISSION_ROUTE "2.16.156.10011.2.3.1.270"

static int
encounter_class(struct cda_ctx *c, json_t *enc, const xmlNode *code)
{
    const char *system = cda_attr(c, code, "codeSystem");
    json_t *coding = act_code_coding(c, code);
    json_t *cc;

    if (system != NULL && strcmp(system, WST_ADMISSION_ROUTE) == 0) {
        cc = cda_concept(c, code);
        if (cc != NULL &&
            adapter_jset(enc, "hospitalization", json_pack("{s:o}", "admitSource", cc)) != BASE_OK)
            return BASE_E_NOMEM;
        json_decref(coding);
        return adapter_jset(enc, "class",
                            json_pack("{s:s,s:s,s:s}", "system",
                                      "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code",
                                      "IMP", "display", "inpatient encounter"));
    }
    /* Encounter.class (1..1) is a v3 ActCode (AMB, IMP, EMER...); any other
     * code system describes the visit type instead. */
    if (system == NULL || strcmp(system, ACT_CODE) != 0) {
        cc = cda_concept(c, code);
        if (cc != NULL && adapter_jpush(enc, "type", cc) != BASE_OK) {
            json_decref(coding);
            return BASE_E_NOMEM;
        }
    }
    if (coding == NULL)
        coding = cpt_class_coding(c, code);
    if (coding == NULL)
        coding = wst_class_coding(c, code);
    if (coding == NULL)
        coding = wst_document_class(c);
    if (coding == NULL)
        coding = json_pack("{s:s,s:s}", "system",
                           "http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "code", "UNK");
    return adapter_jset(enc, "class", coding);
}

const char *
cda_wst_time(struct cda_ctx *c, const char *de)
{
    xmlNodeSetPtr hits = NULL;
    const char *expr = base_arena_sprintf(
        c->arena,
        "(//hl7:observation[hl7:code/@codeSystem='" CDA_WST_DATA_ELEMENTS "' and "
        "hl7:code/@code='%s']/hl7:value)[1]",
        de);

    if (expr == NULL || cda_xpath(c, xmlDocGetRootElement(c->doc), expr, &hits) != BASE_OK ||
        hits == NULL || hits->nodeNr == 0)
        return NULL;
    return cda_ts(c, hits->nodeTab[0], false);
}

/* WS/T 500 headers leave encompassingEncounter/effectiveTime empty and
 * give the stay as body entries: 入院日期时间 DE06.00.092.00 and
 * 出院日期时间 DE06.00.017.00. */
static json_t *
wst_stay(struct cda_ctx *c)
{
    const char *start = cda_wst_time(c, "DE06.00.092.00");
    const char *end = cda_wst_time(c, "DE06.00.017.00");

    if (start == NULL && end == NULL)
        return NULL;
    json_t *p = json_object();
    if (p == NULL || adapter_jset_str(p, "start", start) != BASE_OK ||
        adapter_jset_str(p, "end", end) != BASE_OK) {
        json_decref(p);
        (void)cda_nomem(c);
        return NULL;
    }
    return p;
}

/* WS/T 500 nests the place of the stay under serviceProviderOrganization:
 * asOrganizationPartOf/wholeOrganization for the bed, room, department,
 * ward and last the hospital (its id rooted at 2.16.156.10011.1.5).  The
 * hospital is the service provider; the others are locations, innermost
 * first. */
#define WST_HOSPITAL "2.16.156.10011.1.5"

static int
wst_places(struct cda_ctx *c, json_t *enc, const xmlNode *spo)
{
    const xmlNode *org = spo;
    const char *hospital = NULL;

    while ((org = cda_child(cda_child(org, "asOrganizationPartOf"), "wholeOrganization")) != NULL) {
        const char *root = cda_attr(c, cda_child(org, "id"), "root");
        const char *name = cda_text(c, cda_child(org, "name"));

        if (root != NULL && strcmp(root, WST_HOSPITAL) == 0) {
            TRY(cda_map_organization(c, org, &hospital));
            continue;
        }
        if (name[0] != '\0' && !cda_filler_text(name))
            TRY(adapter_jpush(enc, "location",
                              json_pack("{s:o}", "location", adapter_reference(NULL, name))));
    }
    if (hospital != NULL && json_object_get(enc, "serviceProvider") == NULL)
        TRY(adapter_jset(enc, "serviceProvider", adapter_reference(hospital, NULL)));
    return BASE_OK;
}

static int
encounter_details(struct cda_ctx *c, json_t *enc, const xmlNode *ee)
{
    json_t *period = cda_period(c, cda_child(ee, "effectiveTime"));
    xmlNodePtr hcf = cda_child(cda_child(ee, "location"), "healthCareFacility");
    const char *org = NULL;
    json_t *dispo;

    if (period == NULL)
        period = wst_stay(c);
    bool ended = json_object_get(period, "end") != NULL;
    if (period != NULL)
        TRY(adapter_jset(enc, "period", period));
    TRY(adapter_jset_str(enc, "status", ended ? "finished" : "unknown"));
    TRY(encounter_class(c, enc, cda_child(ee, "code")));
    TRY(adapter_jset(enc, "subject", adapter_reference(c->patient, NULL)));
    TRY(encounter_participants(c, enc, ee));
    dispo = cda_concept(c, cda_child(ee, "dischargeDispositionCode"));
    if (dispo != NULL) {
        json_t *h = json_object_get(enc, "hospitalization");

        if (h != NULL)
            TRY(adapter_jset(h, "dischargeDisposition", dispo));
        else
            TRY(adapter_jset(enc, "hospitalization",
                             json_pack("{s:o}", "dischargeDisposition", dispo)));
    }
    TRY(cda_map_organization(c, cda_child(hcf, "serviceProviderOrganization"), &org));
    if (org != NULL)
        TRY(adapter_jset(enc, "serviceProvider", adapter_reference(org, NULL)));
    const char *place = cda_text(c, cda_child(cda_child(hcf, "location"), "name"));
    if (place[0] != '\0' && !cda_filler_text(place)) {
        json_t *loc = json_pack("{s:o}", "location", adapter_reference(NULL, place));

        TRY(adapter_jpush(enc, "location", loc));
    }
    return wst_places(c, enc, cda_child(hcf, "serviceProviderOrganization"));
}

int
cda_map_encounter(struct cda_ctx *c, xmlNodePtr root)
{
    xmlNodePtr ee = cda_child(cda_child(root, "componentOf"), "encompassingEncounter");
    json_t *enc;
    bool have;

    if (ee == NULL)
        return BASE_OK;
    TRY(cda_need_patient(c, ee, &have));
    if (!have)
        return BASE_OK;
    enc = cda_resource(c, "Encounter");
    if (enc == NULL || encounter_details(c, enc, ee) != BASE_OK) {
        json_decref(enc);
        return cda_nomem(c);
    }
    return cda_emit(c, enc, ee, "Encounter", &c->encounter);
}

/* ------------------------------------------------ Encounter Activity (4.49) */

static const struct cda_pair encounter_status[] = {
    {"completed", "finished"},  {"active", "in-progress"},         {"aborted", "cancelled"},
    {"cancelled", "cancelled"}, {"nullified", "entered-in-error"}, {"suspended", "onleave"},
};

/* A Service Delivery Location without a name (Practice Fusion sends only
 * the address, its first line the practice): named by its address lines
 * and city, rather than dropped. */
static const char *
place_by_address(struct cda_ctx *c, const xmlNode *role)
{
    xmlNodePtr ad = cda_child(role, "addr");
    const char *place = "";

    for (xmlNodePtr k = ad != NULL ? ad->children : NULL; k != NULL; k = k->next) {
        const char *t = cda_text(c, k);

        if (!(cda_is(k, "streetAddressLine") || cda_is(k, "city")) || t[0] == '\0' ||
            cda_filler_text(t))
            continue;
        place = place[0] == '\0' ? t : base_arena_sprintf(c->arena, "%s, %s", place, t);
        if (place == NULL)
            return "";
    }
    return place;
}

/* performer/assignedEntity -> participant.individual; participant[@typeCode
 * LOC]/participantRole (Service Delivery Location 4.32) -> location. */
static int
activity_people_and_places(struct cda_ctx *c, json_t *enc, const xmlNode *act)
{
    CDA_EACH(perf, act, "performer")
    {
        const char *ref = NULL;

        TRY(cda_map_practitioner(c, cda_child(perf, "assignedEntity"), &ref));
        if (ref != NULL)
            TRY(adapter_jpush(enc, "participant",
                              json_pack("{s:o}", "individual", adapter_reference(ref, NULL))));
    }
    CDA_EACH(part, act, "participant")
    {
        const char *type = cda_attr(c, part, "typeCode");
        xmlNodePtr role = cda_child(part, "participantRole");
        const char *place = cda_text(c, cda_child(cda_child(role, "playingEntity"), "name"));

        if (place[0] == '\0' || cda_filler_text(place))
            place = place_by_address(c, role);
        if (type == NULL || strcmp(type, "LOC") != 0 || place[0] == '\0')
            continue;
        TRY(adapter_jpush(enc, "location",
                          json_pack("{s:o}", "location", adapter_reference(NULL, place))));
    }
    return BASE_OK;
}

static int
activity_details(struct cda_ctx *c, json_t *enc, const xmlNode *act)
{
    xmlNodePtr et = cda_child(act, "effectiveTime");
    json_t *period = cda_period(c, et);
    const char *st =
        CDA_LOOKUP(encounter_status, cda_attr(c, cda_child(act, "statusCode"), "code"));

    /* C-CDA on FHIR: an encounter that happened (moodCode EVN) with a time
     * is finished unless its statusCode says otherwise. */
    if (st == NULL)
        st = period != NULL ? "finished" : "unknown";
    if (period != NULL)
        TRY(adapter_jset(enc, "period", period));
    TRY(adapter_jset_str(enc, "status", st));
    TRY(encounter_class(c, enc, cda_child(act, "code")));
    TRY(adapter_jset(enc, "subject", adapter_reference(c->patient, NULL)));
    TRY(activity_people_and_places(c, enc, act));
    /* C-CDA R2.1 Encounter Activity carries it as an SDTC extension */
    json_t *dispo = cda_concept(c, cda_sdtc_child(act, "dischargeDispositionCode"));
    if (dispo != NULL)
        TRY(adapter_jset(enc, "hospitalization",
                         json_pack("{s:o}", "dischargeDisposition", dispo)));
    CDA_EACH(rel, act, "entryRelationship")
    {
        const char *type = cda_attr(c, rel, "typeCode");
        json_t *why;

        if (type == NULL || strcmp(type, "RSON") != 0)
            continue;
        why = cda_concept(c, cda_child(cda_child(rel, "observation"), "value"));
        if (why != NULL)
            TRY(adapter_jpush(enc, "reasonCode", why));
    }
    return BASE_OK;
}

/* Encounter Diagnosis (4.80): act/entryRelationship/observation, each a
 * Condition of category encounter-diagnosis pointing at this encounter. */
static int
activity_diagnoses(struct cda_ctx *c, const xmlNode *act, const char *ref)
{
    const char *outer = c->encounter;
    const char *st = cda_attr(c, cda_child(act, "statusCode"), "code");
    int rc = BASE_OK;

    /* an encounter recorded in error takes its diagnoses with it: they
     * stayed active Conditions of an encounter that was entered-in-error */
    c->within_nullified = st != NULL && strcmp(st, "nullified") == 0;
    c->encounter = ref;
    CDA_EACH(rel, act, "entryRelationship")
    {
        xmlNodePtr dx = cda_child(rel, "act");

        CDA_EACH(inner, dx, "entryRelationship")
        {
            xmlNodePtr obs = cda_child(inner, "observation");

            if (obs != NULL && rc == BASE_OK)
                rc = cda_map_condition(c, obs, dx, CDA_DIAGNOSIS);
        }
    }
    c->encounter = outer;
    c->within_nullified = false;
    return rc;
}

int
cda_map_encounter_activity(struct cda_ctx *c, xmlNodePtr act)
{
    const char *mood = cda_attr(c, act, "moodCode");
    const char *ref = NULL;
    json_t *enc;
    bool have;

    if (mood != NULL && strcmp(mood, "EVN") != 0) /* planned, not held */
        return cda_warn_planned(c, act);
    TRY(cda_need_patient(c, act, &have));
    if (!have)
        return BASE_OK;
    enc = cda_resource(c, "Encounter");
    if (enc == NULL || activity_details(c, enc, act) != BASE_OK) {
        json_decref(enc);
        return cda_nomem(c);
    }
    TRY(cda_emit(c, enc, act, "Encounter", &ref));
    return activity_diagnoses(c, act, ref);
}
