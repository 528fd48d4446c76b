/*
 * Which sections are mapped, and which entries inside them.
 *
 * A section is recognised by a C-CDA R2.1 templateId (either the "entries
 * optional" or the "entries required" variant) or by its LOINC section
 * code; the code is what China's WS/T 500 shared documents use, with the
 * same LOINC section codes.  Sections not listed stay in the attached
 * original document.
 */
#include <string.h>

#include "adapters/cda/cda_int.h"

#define CCDA "2.16.840.1.113883.10.20.22.2."

struct section_rule {
    const char *template_optional; /* C-CDA section, entries optional */
    const char *template_required; /* C-CDA section, entries required */
    const char *loinc;             /* section code */
    enum cda_kind kind;
};

/* clang-format off */
static const struct section_rule section_rules[] = {
    /* optional       required         LOINC      what */
    {CCDA "5",        CCDA "5.1",      "11450-4", CDA_PROBLEM},      /* Problems */
    {CCDA "20",       NULL,            "11348-0", CDA_PROBLEM},      /* Past medical history */
    {CCDA "43",       NULL,            "46241-6", CDA_DIAGNOSIS},    /* Admission diagnosis */
    {CCDA "24",       NULL,            "11535-2", CDA_DIAGNOSIS},    /* Discharge diagnosis */
    {NULL,            NULL,            "29548-5", CDA_DIAGNOSIS},    /* Diagnosis (WS/T 500) */
    {CCDA "34",       NULL,            "10219-4", CDA_DIAGNOSIS},    /* Preoperative diagnosis */
    {CCDA "35",       NULL,            "10218-6", CDA_DIAGNOSIS},    /* Postoperative diagnosis */
    {CCDA "36",       NULL,            "59769-0", CDA_DIAGNOSIS},    /* Postprocedure diagnosis */
    {CCDA "37",       NULL,            "55109-3", CDA_DIAGNOSIS},    /* Complications */
    {CCDA "1",        CCDA "1.1",      "10160-0", CDA_MEDICATION},   /* Medications */
    {CCDA "44",       NULL,            "42346-7", CDA_MEDICATION},   /* Admission medications */
    {CCDA "11",       CCDA "11.1",     "10183-2", CDA_MEDICATION},   /* Discharge medications */
    {NULL,            NULL,            "75311-1", CDA_MEDICATION},   /* Discharge medications */
    {CCDA "38",       NULL,            "29549-3", CDA_MEDICATION},   /* Medications administered */
    {NULL,            NULL,            "18610-6", CDA_MEDICATION},   /* Medication administered (WS/T 500 麻醉记录) */
    {CCDA "6",        CCDA "6.1",      "48765-2", CDA_ALLERGY},      /* Allergies */
    {CCDA "3",        CCDA "3.1",      "30954-2", CDA_RESULT},       /* Results */
    {CCDA "4",        CCDA "4.1",      "8716-3",  CDA_VITAL},        /* Vital signs */
    {CCDA "7",        CCDA "7.1",      "47519-4", CDA_PROCEDURE},    /* Procedures */
    {CCDA "25",       NULL,            "59774-0", CDA_PROCEDURE},    /* Anesthesia */
    {NULL,            NULL,            "56836-0", CDA_PROCEDURE},    /* Blood transfusion (WS/T 500) */
    {CCDA "2",        CCDA "2.1",      "11369-6", CDA_IMMUNIZATION}, /* Immunizations */
    {CCDA "17",       NULL,            "29762-2", CDA_SOCIAL},       /* Social history */
    {CCDA "22",       CCDA "22.1",     "46240-8", CDA_ENCOUNTER},    /* Encounters */
    {NULL,            NULL,            "29545-1", CDA_EXAM},         /* Physical findings */
    {CCDA "58",       NULL,            "75310-3", CDA_CONCERN},      /* Health concerns */
    {CCDA "60",       NULL,            "61146-7", CDA_GOAL},         /* Goals */
    {CCDA "15",       NULL,            "10157-6", CDA_FAMILY},       /* Family history */
    {CCDA "500",      NULL,            "85847-2", CDA_CARETEAM},     /* Care teams */
};

/* The acts each kind maps, as XPath from the <entry>: the entry's own act
 * and acts wrapped by concern / diagnosis / discharge-medication acts. */
static const char *const entry_paths[] = {
    [CDA_PROBLEM] = "hl7:observation | hl7:act/hl7:entryRelationship/hl7:observation"
                    " | hl7:act/hl7:entryRelationship/hl7:act/hl7:entryRelationship/hl7:observation"
                    " | hl7:organizer", /* WS/T 500 diagnosis organizers */
    [CDA_DIAGNOSIS] = "hl7:observation | hl7:act/hl7:entryRelationship/hl7:observation"
                      " | hl7:act/hl7:entryRelationship/hl7:act/hl7:entryRelationship/hl7:observation"
                      " | hl7:organizer",
    [CDA_MEDICATION] = "hl7:substanceAdministration"
                       " | hl7:act/hl7:entryRelationship/hl7:substanceAdministration",
    [CDA_ALLERGY] = "hl7:observation | hl7:act/hl7:entryRelationship/hl7:observation",
    [CDA_RESULT] = "hl7:organizer | hl7:observation"
                   " | hl7:organizer/hl7:component/hl7:organizer", /* panels in a panel */
    [CDA_VITAL] = "hl7:organizer/hl7:component/hl7:observation | hl7:observation",
    /* C-CDA's Anesthesia Section (2.25) holds the anesthetics given as
     * Medication Activities next to the anesthesia procedure */
    [CDA_PROCEDURE] = "hl7:procedure | hl7:observation | hl7:act | hl7:substanceAdministration",
    [CDA_IMMUNIZATION] = "hl7:substanceAdministration",
    [CDA_SOCIAL] = "hl7:observation | hl7:organizer/hl7:component/hl7:observation",
    [CDA_ENCOUNTER] = "hl7:encounter",
    [CDA_EXAM] = "hl7:observation | hl7:organizer/hl7:component/hl7:observation",
    /* a Health Concern Act (4.132) may point at results, allergies and more
     * as evidence: only its Problem Observations (4.4) are conditions */
    [CDA_CONCERN] = "hl7:act/hl7:entryRelationship/hl7:observation"
                    "[hl7:templateId/@root='2.16.840.1.113883.10.20.22.4.4']",
    [CDA_GOAL] = "hl7:observation",
    /* the organizer (4.45), or a Family History Observation standing alone */
    [CDA_FAMILY] = "hl7:organizer | hl7:observation",
    [CDA_CARETEAM] = "hl7:organizer",
};
/* clang-format on */

static bool
rule_matches(struct cda_ctx *c, const struct section_rule *r, const xmlNode *section)
{
    const char *code = cda_attr(c, cda_child(section, "code"), "code");

    if (r->template_optional != NULL && cda_has_template(c, section, r->template_optional))
        return true;
    if (r->template_required != NULL && cda_has_template(c, section, r->template_required))
        return true;
    return code != NULL && strcmp(code, r->loinc) == 0;
}

/* WS/T 500 病历概要 (C0001) has a 卫生事件 ("health event") section that
 * carries no LOINC code -- only <code displayName="卫生事件"/> -- and holds
 * the event's diagnoses (DE05.01.024.00) among its department, dates and
 * costs.  Read as a diagnosis section, only those diagnoses map (so do the
 * other sections named, not coded, that hold diagnoses). */
static const struct section_rule health_event = {NULL, NULL, NULL, CDA_DIAGNOSIS};

static const struct section_rule *
find_rule(struct cda_ctx *c, const xmlNode *section)
{
    xmlNodePtr code = cda_child(section, "code");
    const char *name = cda_attr(c, code, "displayName");

    for (size_t i = 0; i < BASE_ARRAY_LEN(section_rules); i++) {
        if (rule_matches(c, &section_rules[i], section))
            return &section_rules[i];
    }
    /* 死亡记录 (C0050) and 24小时内入院死亡记录 (C0036) put the direct cause
     * of death (直接死亡原因名称 DE05.01.025.00 with its ICD-10 code) in a
     * 死亡原因章节 without a code either: it was lost. */
    static const char *const named[] = {"\u536b\u751f\u4e8b\u4ef6",             /* 卫生事件 */
                                        "\u6b7b\u4ea1\u539f\u56e0\u7ae0\u8282", /* 死亡原因章节 */
                                        "\u6b7b\u4ea1\u539f\u56e0"};            /* 死亡原因 */
    for (size_t i = 0;
         cda_attr(c, code, "code") == NULL && name != NULL && i < BASE_ARRAY_LEN(named); i++) {
        if (strcmp(name, named[i]) == 0)
            return &health_event;
    }
    return NULL;
}

/* The concern/diagnosis act around a problem observation, if any. */
static xmlNodePtr
wrapping_act(xmlNodePtr obs)
{
    xmlNodePtr rel = obs->parent;

    if (rel != NULL && cda_is(rel, "entryRelationship") && cda_is(rel->parent, "act"))
        return rel->parent;
    return NULL;
}

/* An observation of a Vital Signs Organizer (C-CDA 4.26) without its own
 * time takes the organizer's: the vital signs were taken then, and FHIR's
 * vital signs profile needs the time (vs-1).  Vendors put the time on the
 * organizer only. */
static int
map_grouped_observation(struct cda_ctx *c, xmlNodePtr obs, enum cda_kind kind)
{
    const char *ignored = NULL;
    xmlNodePtr up = obs->parent != NULL ? obs->parent->parent : NULL;
    int rc;

    if (up != NULL && up->type == XML_ELEMENT_NODE && cda_is(obs->parent, "component") &&
        cda_is(up, "organizer"))
        c->result_time = cda_child(up, "effectiveTime");
    rc = cda_map_observation(c, obs, kind, &ignored);
    c->result_time = NULL;
    return rc;
}

static int
map_act(struct cda_ctx *c, xmlNodePtr act, enum cda_kind kind)
{
    const char *ignored = NULL;

    /* A clinical statement that is itself nullFlavored (<substanceAdministration
     * nullFlavor="NI">: "no information whether the patient was vaccinated",
     * HL7 "Unknown Immunization Status"; an allergy observation "NASK")
     * asserts nothing, whatever its parts say. */
    if (cda_attr(c, act, "nullFlavor") != NULL && !cda_unknown_pregnancy(c, act))
        return cda_warn_nothing(c, act);
    /* DS4P Privacy Annotations label the entries, they are none */
    if (cda_privacy_marking(c, act) || cda_privacy_marking(c, act->parent))
        return BASE_OK;
    switch (kind) {
    case CDA_PROBLEM:
    case CDA_DIAGNOSIS:
    case CDA_CONCERN:
        if (cda_is(act, "organizer"))
            return cda_map_condition_organizer(c, act, kind);
        return cda_map_condition(c, act, wrapping_act(act), kind);
    case CDA_ALLERGY:
        return cda_map_allergy(c, act, wrapping_act(act));
    case CDA_MEDICATION:
        return cda_map_medication(c, act);
    case CDA_IMMUNIZATION:
        return cda_map_immunization(c, act);
    case CDA_PROCEDURE:
        if (cda_is(act, "substanceAdministration"))
            return cda_map_medication(c, act);
        return cda_map_procedure(c, act);
    case CDA_RESULT:
        if (cda_is(act, "organizer"))
            return cda_map_report(c, act);
        return cda_map_observation(c, act, kind, &ignored);
    case CDA_VITAL:
    case CDA_SOCIAL:
    case CDA_EXAM:
        return map_grouped_observation(c, act, kind);
    case CDA_ENCOUNTER:
        return cda_map_encounter_activity(c, act);
    case CDA_GOAL:
        return cda_map_goal(c, act);
    case CDA_FAMILY:
        return cda_map_family_history(c, act);
    case CDA_CARETEAM:
        return cda_map_care_team(c, act);
    default:
        BASE_ASSERT_UNREACHABLE();
    }
    return BASE_OK;
}

static int
map_section(struct cda_ctx *c, xmlNodePtr section, enum cda_kind kind)
{
    CDA_EACH(entry, section, "entry")
    {
        xmlNodeSetPtr acts = NULL;

        TRY(cda_xpath(c, entry, entry_paths[kind], &acts));
        for (int i = 0; acts != NULL && i < acts->nodeNr; i++)
            TRY(map_act(c, acts->nodeTab[i], kind));
    }
    return BASE_OK;
}

int
cda_map_sections(struct cda_ctx *c, xmlNodePtr root)
{
    xmlNodeSetPtr sections = NULL;

    /* Every section, nested ones included, of a structuredBody -- or the
     * root itself when the input is a section fragment.  A WS/T 500
     * generator (西药处方 C0004) writes component/section straight under
     * ClinicalDocument, without structuredBody (not CDA R2): read too, with
     * a warning -- every entry of the document was lost before. */
    TRY(cda_xpath(c, root,
                  "self::hl7:section | hl7:component/hl7:structuredBody//hl7:section"
                  " | hl7:component/hl7:section/descendant-or-self::hl7:section",
                  &sections));
    if (cda_is(root, "ClinicalDocument") && cda_child(cda_child(root, "component"), "section"))
        TRY(cda_warn(c, cda_child(root, "component"), "structure",
                     "sections directly in ClinicalDocument/component (no structuredBody, not "
                     "CDA R2); read as the body"));
    for (int i = 0; sections != NULL && i < sections->nodeNr; i++) {
        const struct section_rule *r = find_rule(c, sections->nodeTab[i]);

        if (r != NULL)
            TRY(map_section(c, sections->nodeTab[i], r->kind));
    }
    return BASE_OK;
}
