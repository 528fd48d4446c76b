/*
 * Goals, family history, care teams and compressed bodies (suite
 * cda_care): documents written for these tests after the C-CDA R2.1 / 2.2
 * examples (Goal Observation, Family History Organizer, Care Team
 * Organizer, serviceEvent performers, ED compression).
 */
#include <check.h>
#include <string.h>

#include "adapters/cda/cda.h"
#include "fhir/json/fhir_json.h"
#include "test/support/jsonpath.h"
#include "test/unit/adapters/cda/cda_test.h"

#define SCT  "2.16.840.1.113883.6.96"
#define ROLE "2.16.840.1.113883.5.111"

/* A US Realm header with `tail` (documentationOf ...) after recordTarget. */
#define CCDA_DOC_WITH(tail, body)                                                                  \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" xmlns:sdtc=\"urn:hl7-org:sdtc\" "                  \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"                                     \
    "<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>"                         \
    "<id root=\"1.2.3.4\" extension=\"DOC-CARE\"/>"                                                \
    "<code code=\"34133-9\" codeSystem=\"2.16.840.1.113883.6.1\"/>"                                \
    "<effectiveTime value=\"20230415103012-0500\"/>"                                               \
    "<recordTarget><patientRole><id root=\"1.2.3.5\" extension=\"E1\"/><patient><name><given>"     \
    "Jane</given><family>Doe</family></name><administrativeGenderCode code=\"F\" "                 \
    "codeSystem=\"2.16.840.1.113883.5.1\"/></patient></patientRole></recordTarget>" tail           \
    "<component><structuredBody>" body "</structuredBody></component></ClinicalDocument>"

/* ----------------------------------------------------------------- Goals -- */

#define GOAL(mood, attrs, inner)                                                                   \
    "<entry><observation classCode=\"OBS\" moodCode=\"" mood "\"" attrs ">"                        \
    "<templateId root=\"2.16.840.1.113883.10.20.22.4.121\"/>" inner "</observation></entry>"

START_TEST(goal_observation)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "60", "61146-7",
        "<text><content ID=\"goal1\">Lose weight to 150 lb by year end</content></text>" GOAL(
            "GOL", "",
            "<id root=\"1.9\" extension=\"G1\"/><code code=\"29463-7\" "
            "codeSystem=\"2.16.840.1.113883.6.1\" displayName=\"Body weight\"/><text><reference "
            "value=\"#goal1\"/></text><statusCode code=\"active\"/><effectiveTime><low "
            "value=\"20230101\"/><high value=\"20231231\"/></effectiveTime><value xsi:type=\"PQ\" "
            "value=\"150\" unit=\"[lb_av]\"/><author><time value=\"20230101\"/><assignedAuthor><id "
            "root=\"1.2.3.5\" extension=\"E1\"/><code code=\"ONESELF\" codeSystem=\"" ROLE "\"/>"
            "</assignedAuthor></author><entryRelationship typeCode=\"REFR\"><observation "
            "classCode=\"OBS\" moodCode=\"EVN\"><templateId "
            "root=\"2.16.840.1.113883.10.20.22.4.143\"/><code code=\"225773000\" "
            "codeSystem=\"" SCT "\"/><value xsi:type=\"CD\" code=\"394849002\" codeSystem=\"" SCT
            "\"/></observation></entryRelationship>")
        /* a clinician's goal named only by its coded value */
        GOAL("GOL", "",
             "<id root=\"1.9\" extension=\"G2\"/><code nullFlavor=\"UNK\"/><statusCode "
             "code=\"completed\"/><value xsi:type=\"CD\" code=\"289169006\" codeSystem=\"" SCT
             "\" displayName=\"Able to walk\"/><author><assignedAuthor><id root=\"1.7\" "
             "extension=\"DR9\"/><assignedPerson><name><family>Careful</family></name>"
             "</assignedPerson></assignedAuthor></author>")));
    json_t *b = convert_ok(doc, NULL);
    json_t *g = nth(b, "Goal", 0);
    json_t *g2 = nth(b, "Goal", 1);

    ck_assert_uint_eq(count_type(b, "Goal"), 2);
    ck_assert_str_eq(tu_json_str(g, "description.coding.0.code"), "29463-7");
    ck_assert_str_eq(tu_json_str(g, "description.text"), "Lose weight to 150 lb by year end");
    ck_assert_str_eq(tu_json_str(g, "lifecycleStatus"), "active");
    ck_assert_str_eq(tu_json_str(g, "startDate"), "2023-01-01");
    ck_assert_str_eq(tu_json_str(g, "target.0.dueDate"), "2023-12-31");
    ck_assert_str_eq(tu_json_str(g, "target.0.measure.coding.0.code"), "29463-7");
    ck_assert_str_eq(tu_json_str(g, "target.0.detailQuantity.code"), "[lb_av]");
    ck_assert_str_eq(tu_json_str(g, "priority.coding.0.code"), "high-priority");
    /* author coded ONESELF: the patient set the goal */
    ck_assert_str_eq(tu_json_str(g, "expressedBy.reference"), tu_json_str(g, "subject.reference"));
    ck_assert_str_eq(tu_json_str(g, "identifier.0.value"), "G1");
    /* no measure to hang a detail on (gol-1): the value is the description */
    ck_assert_str_eq(tu_json_str(g2, "description.coding.0.code"), "289169006");
    ck_assert_ptr_null(tu_json_at(g2, "target"));
    ck_assert_str_eq(tu_json_str(g2, "lifecycleStatus"), "completed");
    ck_assert_ptr_nonnull(strstr(tu_json_str(g2, "expressedBy.reference"), "urn:uuid:"));
    ck_assert_str_ne(tu_json_str(g2, "expressedBy.reference"),
                     tu_json_str(g2, "subject.reference"));
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* Only goals are goals: an event in the section, a negated goal and a goal
 * of nothing give no Goal, each with a warning. */
START_TEST(goal_section_non_goals)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "60", "61146-7",
        GOAL("EVN", "", "<code code=\"29463-7\" codeSystem=\"2.16.840.1.113883.6.1\"/>")
            GOAL("GOL", " negationInd=\"true\"",
                 "<code code=\"29463-7\" codeSystem=\"2.16.840.1.113883.6.1\"/>")
                GOAL("GOL", "", "<code nullFlavor=\"UNK\"/>")));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);

    ck_assert_uint_eq(count_type(b, "Goal"), 0);
    ck_assert(has_issue(w, "not-supported", "moodCode is not GOL"));
    ck_assert(has_issue(w, "not-supported", "negated goal"));
    ck_assert(has_issue(w, "required", "goal has no code or text"));
    json_decref(w);
    json_decref(b);
}
END_TEST

/* -------------------------------------------------------- Family history -- */

#define RELATIVE(code, display, person)                                                            \
    "<subject><relatedSubject classCode=\"PRS\"><code code=\"" code "\" codeSystem=\"" ROLE        \
    "\" displayName=\"" display "\"/>" person "</relatedSubject></subject>"

#define FH_OBS(attrs, value, inner)                                                                \
    "<observation classCode=\"OBS\" moodCode=\"EVN\"" attrs "><templateId "                        \
    "root=\"2.16.840.1.113883.10.20.22.4.46\"/><code code=\"64572001\" codeSystem=\"" SCT "\"/>"   \
    "<statusCode code=\"completed\"/>" value inner "</observation>"

#define FH_ORGANIZER(id, subject, comps)                                                           \
    "<entry><organizer classCode=\"CLUSTER\" moodCode=\"EVN\"><templateId "                        \
    "root=\"2.16.840.1.113883.10.20.22.4.45\"/><id root=\"1.9\" extension=\"" id "\"/>"            \
    "<statusCode code=\"completed\"/>" subject comps "</organizer></entry>"

#define MI "<value xsi:type=\"CD\" code=\"22298006\" codeSystem=\"" SCT "\" displayName=\"MI\"/>"
#define DM "<value xsi:type=\"CD\" code=\"44054006\" codeSystem=\"" SCT "\" displayName=\"DM\"/>"

START_TEST(family_history_organizer)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "15", "10157-6",
        FH_ORGANIZER(
            "F1",
            RELATIVE("FTH", "Father",
                     "<subject><administrativeGenderCode code=\"M\" "
                     "codeSystem=\"2.16.840.1.113883.5.1\"/><birthTime value=\"1912\"/></subject>"),
            "<component>" FH_OBS(
                "", MI,
                "<entryRelationship typeCode=\"CAUS\"><observation classCode=\"OBS\" "
                "moodCode=\"EVN\"><templateId root=\"2.16.840.1.113883.10.20.22.4.47\"/><code "
                "code=\"ASSERTION\" codeSystem=\"2.16.840.1.113883.5.4\"/><value xsi:type=\"CD\" "
                "code=\"419099009\" codeSystem=\"" SCT "\" displayName=\"Dead\"/></observation>"
                "</entryRelationship><entryRelationship typeCode=\"SUBJ\" inversionInd=\"true\">"
                "<observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "
                "root=\"2.16.840.1.113883.10.20.22.4.31\"/><code code=\"445518008\" "
                "codeSystem=\"" SCT "\"/><value xsi:type=\"PQ\" value=\"57\" unit=\"a\"/>"
                "</observation></entryRelationship>") "</component>"
                                                      /* "no family history of diabetes": never a
                                                         condition */
                                                      "<component>" FH_OBS(" negationInd=\"true\"",
                                                                           DM, "") "</component>")
        /* a mother with a death date and a name */
        FH_ORGANIZER("F2",
                     RELATIVE("MTH", "Mother",
                              "<subject><name>Mary</name><sdtc:deceasedInd value=\"true\"/>"
                              "<sdtc:deceasedTime value=\"19800301\"/></subject>"),
                     "<component>" FH_OBS("", DM, "") "</component>")
        /* HL7 "Mother alive, no known problems": a negated generic Problem */
        FH_ORGANIZER("F3",
                     RELATIVE("GRMTH", "Grandmother",
                              "<subject><sdtc:deceasedInd value=\"false\"/></subject>"),
                     "<component>" FH_OBS(" negationInd=\"true\"",
                                          "<value xsi:type=\"CD\" code=\"55607006\" "
                                          "codeSystem=\"" SCT "\"/>",
                                          "") "</component>")));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);
    json_t *f = nth(b, "FamilyMemberHistory", 0);
    json_t *m = nth(b, "FamilyMemberHistory", 1);
    json_t *g = nth(b, "FamilyMemberHistory", 2);

    ck_assert_uint_eq(count_type(b, "FamilyMemberHistory"), 3);
    ck_assert_str_eq(tu_json_str(g, "condition.0.code.coding.0.code"), "160245001");
    ck_assert(json_is_false(tu_json_at(g, "deceasedBoolean")));
    ck_assert_str_eq(tu_json_str(f, "status"), "completed");
    ck_assert_str_eq(tu_json_str(f, "relationship.coding.0.system"),
                     "http://terminology.hl7.org/CodeSystem/v3-RoleCode");
    ck_assert_str_eq(tu_json_str(f, "relationship.coding.0.code"), "FTH");
    ck_assert_str_eq(tu_json_str(f, "sex.coding.0.code"), "male");
    ck_assert_str_eq(tu_json_str(f, "bornDate"), "1912");
    ck_assert_uint_eq(json_array_size(json_object_get(f, "condition")), 1);
    ck_assert_str_eq(tu_json_str(f, "condition.0.code.coding.0.code"), "22298006");
    ck_assert_str_eq(tu_json_str(f, "condition.0.onsetAge.code"), "a");
    ck_assert_str_eq(tu_json_str(f, "condition.0.outcome.coding.0.code"), "419099009");
    ck_assert(json_is_true(tu_json_at(f, "condition.0.contributedToDeath")));
    ck_assert(json_is_true(tu_json_at(f, "deceasedBoolean")));
    ck_assert(has_issue(w, "not-supported", "negated family history"));
    ck_assert_str_eq(tu_json_str(m, "name"), "Mary");
    ck_assert_str_eq(tu_json_str(m, "deceasedDate"), "1980-03-01");
    ck_assert_ptr_null(tu_json_at(m, "deceasedBoolean"));
    ck_assert_str_eq(tu_json_str(m, "condition.0.code.coding.0.code"), "44054006");
    assert_bundle_valid(b);
    json_decref(w);
    json_decref(b);
}
END_TEST

/* A relative of whom only negations are said is no FamilyMemberHistory; a
 * Family History Observation standing alone (no organizer) names its own
 * relative, or none ("family member"); WS/T 500's 家族史 text element is
 * left in the original. */
START_TEST(family_history_negated_and_standalone)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "15", "10157-6",
        FH_ORGANIZER(
            "N1", RELATIVE("BRO", "Brother", ""),
            "<component>" FH_OBS(
                " negationInd=\"true\"", MI,
                "") "</component>") "<entry>" FH_OBS("", DM,
                                                     RELATIVE(
                                                         "SIS", "Sister",
                                                         "")) "</entry><entry>" FH_OBS("", MI,
                                                                                       "") "</"
                                                                                           "entry><"
                                                                                           "entry><"
                                                                                           "observa"
                                                                                           "tion "
                                                                                           "classCo"
                                                                                           "de="
                                                                                           "\"OBS\""
                                                                                           " moodCo"
                                                                                           "de="
                                                                                           "\"EVN\""
                                                                                           "><code "
                                                                                           "code="
                                                                                           "\"DE02."
                                                                                           "10.103."
                                                                                           "00\" "
                                                                                           "codeSys"
                                                                                           "tem="
                                                                                           "\"2.16."
                                                                                           "156."
                                                                                           "10011."
                                                                                           "2.2."
                                                                                           "1\"/"
                                                                                           "><"
                                                                                           "value "
                                                                                           "xsi:"
                                                                                           "type="
                                                                                           "\"ST\">"
                                                                                           "父亲高"
                                                                                           "血压</"
                                                                                           "value><"
                                                                                           "/observ"
                                                                                           "ation><"
                                                                                           "/entry"
                                                                                           ">"));
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);

    ck_assert_uint_eq(count_type(b, "FamilyMemberHistory"), 2);
    ck_assert_str_eq(tu_json_str(nth(b, "FamilyMemberHistory", 0), "relationship.coding.0.code"),
                     "SIS");
    ck_assert_str_eq(tu_json_str(nth(b, "FamilyMemberHistory", 1), "relationship.coding.0.code"),
                     "FAMMEMB");
    ck_assert(has_issue(w, "informational", "records no condition"));
    assert_bundle_valid(b);
    json_decref(w);
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------------ Care teams -- */

#define MEMBER(fn, ext, person)                                                                    \
    "<performer typeCode=\"PRF\">" fn "<assignedEntity><id root=\"2.16.840.1.113883.4.6\" "        \
    "extension=\"" ext "\"/><code code=\"207Q00000X\" codeSystem=\"2.16.840.1.113883.6.101\" "     \
    "displayName=\"Family Medicine\"/>" person "</assignedEntity></performer>"
#define ORG_HOPE                                                                                   \
    "<representedOrganization><id root=\"1.9.9\" extension=\"ORG1\"/><name>Hope Woods</name>"      \
    "</representedOrganization>"
#define PERSON(name) "<assignedPerson><name><family>" name "</family></name></assignedPerson>"
#define PCP                                                                                        \
    "<sdtc:functionCode code=\"PCP\" codeSystem=\"2.16.840.1.113883.5.88\" displayName=\"primary " \
    "care physician\"/>"

START_TEST(care_team_organizer)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "500", "85847-2",
        "<text><content ID=\"ct1\">Diabetes care team</content></text>"
        "<entry><organizer classCode=\"CLUSTER\" moodCode=\"EVN\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.500\" extension=\"2019-07-01\"/><id root=\"1.9\" "
        "extension=\"CT1\"/><code code=\"86744-0\" codeSystem=\"2.16.840.1.113883.6.1\">"
        "<originalText><reference value=\"#ct1\"/></originalText></code><statusCode "
        "code=\"active\"/><effectiveTime><low value=\"20220101\"/></effectiveTime>"
        "<component><observation classCode=\"OBS\" moodCode=\"EVN\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.500.2\"/><code code=\"86744-0\" "
        "codeSystem=\"2.16.840.1.113883.6.1\"/><value xsi:type=\"CD\" code=\"LA28865-6\" "
        "codeSystem=\"2.16.840.1.113883.6.1\"/></observation></component>"
        "<component><act classCode=\"PCPR\" moodCode=\"EVN\"><templateId "
        "root=\"2.16.840.1.113883.10.20.22.4.500.1\"/><id root=\"1.9\" extension=\"M1\"/><code "
        "code=\"86744-0\" codeSystem=\"2.16.840.1.113883.6.1\"/><statusCode code=\"active\"/>"
        "<effectiveTime><low value=\"20220301\"/></effectiveTime>" MEMBER(
            PCP, "1234567893",
            PERSON("Careful")
                ORG_HOPE) "</act></component>"
                          /* a member that is an organization, and one that is nobody */
                          "<component><act classCode=\"PCPR\" moodCode=\"EVN\"><templateId "
                          "root=\"2.16.840.1.113883.10.20.22.4.500.1\"/>" MEMBER(
                              "", "9999999991",
                              "<representedOrganization><name>Community Dialysis</name>"
                              "</representedOrganization>")
                              MEMBER("", "9999999992", "") "</act></component>"
                                                           "</organizer></entry>"));
    json_t *b = convert_ok(doc, NULL);
    json_t *t = nth(b, "CareTeam", 0);

    ck_assert_uint_eq(count_type(b, "CareTeam"), 1);
    ck_assert_str_eq(tu_json_str(t, "status"), "active");
    ck_assert_str_eq(tu_json_str(t, "name"), "Diabetes care team");
    ck_assert_str_eq(tu_json_str(t, "category.0.coding.0.code"), "LA28865-6");
    ck_assert_str_eq(tu_json_str(t, "period.start"), "2022-01-01");
    ck_assert_uint_eq(json_array_size(json_object_get(t, "participant")), 2);
    ck_assert_str_eq(tu_json_str(t, "participant.0.role.0.coding.0.code"), "PCP");
    ck_assert_str_eq(tu_json_str(t, "participant.0.period.start"), "2022-03-01");
    ck_assert_str_eq(tu_json_str(nth(b, "Practitioner", 0), "identifier.0.value"), "1234567893");
    ck_assert_ptr_nonnull(strstr(tu_json_str(t, "participant.0.member.reference"), "urn:uuid:"));
    /* the clinician acts for Hope Woods; an organization member for no one */
    ck_assert_ptr_nonnull(
        strstr(tu_json_str(t, "participant.0.onBehalfOf.reference"), "urn:uuid:"));
    ck_assert_ptr_null(tu_json_at(t, "participant.1.onBehalfOf"));
    /* the organization's role falls back to the entity's own code */
    ck_assert_str_eq(tu_json_str(t, "participant.1.role.0.coding.0.code"), "207Q00000X");
    ck_assert_uint_eq(count_type(b, "Organization"), 2);
    ck_assert_str_eq(tu_json_str(t, "identifier.0.value"), "CT1");
    assert_bundle_valid(b);
    json_decref(b);
}
END_TEST

/* documentationOf/serviceEvent/performer: the clinicians of the summarised
 * care -> one CareTeam per serviceEvent; a serviceEvent whose performers
 * name no one gives none. */
START_TEST(service_event_performers_care_team)
{
    static const char doc[] = CCDA_DOC_WITH(
        "<documentationOf><serviceEvent classCode=\"PCPR\"><effectiveTime><low "
        "value=\"20230101\"/><high value=\"20230415\"/></effectiveTime><performer "
        "typeCode=\"PRF\"><functionCode code=\"PCP\" codeSystem=\"2.16.840.1.113883.5.88\"/>"
        "<time><low value=\"20200101\"/></time><assignedEntity><id root=\"2.16.840.1.113883.4.6\" "
        "extension=\"1234567893\"/>" PERSON(
            "Careful") "</assignedEntity></performer><performer "
                       "typeCode=\"SPRF\"><assignedEntity><id root=\"2.16.840.1.113883.4.6\" "
                       "extension=\"1111111112\"/><code code=\"163W00000X\" "
                       "codeSystem=\"2.16.840.1.113883.6.101\" displayName=\"Registered "
                       "Nurse\"/>" PERSON(
                           "Nightingale") "</assignedEntity></performer></serviceEvent></"
                                          "documentationOf>"
                                          "<documentationOf><serviceEvent><performer "
                                          "typeCode=\"PRF\"><assignedEntity "
                                          "nullFlavor=\"NI\"/></performer></serviceEvent></"
                                          "documentationOf>",
        "");
    json_t *w = NULL;
    json_t *b = convert_ok(doc, &w);
    json_t *t = nth(b, "CareTeam", 0);

    ck_assert_uint_eq(count_type(b, "CareTeam"), 1);
    ck_assert_uint_eq(count_type(b, "Practitioner"), 2);
    ck_assert_str_eq(tu_json_str(t, "period.start"), "2023-01-01");
    ck_assert_str_eq(tu_json_str(t, "period.end"), "2023-04-15");
    ck_assert_str_eq(tu_json_str(t, "participant.0.role.0.coding.0.system"),
                     "http://terminology.hl7.org/CodeSystem/v3-ParticipationFunction");
    ck_assert_str_eq(tu_json_str(t, "participant.0.period.start"), "2020-01-01");
    ck_assert_str_eq(tu_json_str(t, "participant.1.role.0.coding.0.code"), "163W00000X");
    ck_assert_ptr_nonnull(tu_json_str(t, "subject.reference"));
    ck_assert(has_issue(w, "informational", "care team names no member"));
    assert_bundle_valid(b);
    json_decref(w);
    json_decref(b);
}
END_TEST

/* -------------------------------------------------- compressed nonXMLBody -- */

/* 168 bytes: "Discharge summary: stable, home on day 3.\n" four times, in
 * each compression, and that text's own base64. */
#define PLAIN_B64                                                                                  \
    "RGlzY2hhcmdlIHN1bW1hcnk6IHN0YWJsZSwgaG9tZSBvbiBkYXkgMy4KRGlzY2hhcmdlIHN1bW1hcnk6IHN0YWJsZSwg" \
    "aG9tZSBvbiBkYXkgMy4KRGlzY2hhcmdlIHN1bW1hcnk6IHN0YWJsZSwgaG9tZSBvbiBkYXkgMy4KRGlzY2hhcmdlIHN1" \
    "bW1hcnk6IHN0YWJsZSwgaG9tZSBvbiBkYXkgMy4K"
#define DF_B64 "c8ksTs5ILEpPVSguzc1NLKq0UiguSUzKSdVRyMjPTVXIz1NISaxUMNbjchlQlQA="
#define ZL_B64 "eNpzySxOzkgsSk9VKC7NzU0sqrRSKC5JTMpJ1VHIyM9NVcjPU0hJrFQw1uNyGVCVAGUBOaE="
#define GZ_B64                                                                                     \
    "H4sIAAAAAAAC/3PJLE7OSCxKT1UoLs3NTSyqtFIoLklMyknVUcjIz01VyM9TSEmsVDDW43IZUJUAOFmPj6gAAAA="
#define DF_CUT_B64   "c8ksTs5ILEpPVSguzc1NLKq0UiguSUw="
#define DF_TRAIL_B64 "c8ksTs5ILEpPVSguzc1NLKq0UiguSUzKSdVRyMjPTVXIz1NISaxUMNbjchlQlQBKVU5L"

#define BODY_DOC(attrs, content)                                                                   \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id root=\"1.2.3\" extension=\"NXB\"/>"            \
    "<recordTarget><patientRole><id root=\"1.2\" extension=\"P\"/></patientRole></recordTarget>"   \
    "<component><nonXMLBody><text mediaType=\"text/plain\" " attrs ">" content                     \
    "</text></nonXMLBody></component></ClinicalDocument>"

/* The body's attachment (content[1]) of a document, or NULL. */
static json_t *
body_of(const char *doc, json_t **bundle, json_t **warnings, const struct cda_limits *lim)
{
    struct base_err err = {0};
    int rc;

    *bundle = convert_text(doc, lim, NULL, warnings, &err, &rc);
    ck_assert_msg(rc == BASE_OK, "%s", err.msg);
    return tu_json_at(nth(*bundle, "DocumentReference", 0), "content.1.attachment");
}

START_TEST(compressed_bodies_are_inflated)
{
    static const char *const docs[] = {
        BODY_DOC("representation=\"B64\" compression=\"DF\"", DF_B64),
        BODY_DOC("representation=\"B64\" compression=\"ZL\"", ZL_B64),
        BODY_DOC("representation=\"B64\" compression=\"GZ\"", "\n  " GZ_B64 "\n"),
        /* zlib-wrapped under DF, as Java's and .NET's deflaters write it */
        BODY_DOC("representation=\"B64\" compression=\"DF\"", ZL_B64),
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(docs); i++) {
        json_t *b = NULL;
        json_t *w = NULL;
        json_t *a = body_of(docs[i], &b, &w, NULL);

        ck_assert_ptr_nonnull(a);
        ck_assert_str_eq(tu_json_str(a, "contentType"), "text/plain");
        ck_assert_str_eq(tu_json_str(a, "data"), PLAIN_B64);
        ck_assert_int_eq(json_integer_value(json_object_get(a, "size")), 168);
        ck_assert_uint_eq(json_array_size(json_object_get(w, "issue")), 0);
        assert_bundle_valid(b);
        json_decref(w);
        json_decref(b);
    }
}
END_TEST

/* Every stream that cannot be inflated is a warning naming the body, and
 * no attachment of it -- never a crash, never a partial attachment. */
START_TEST(bad_compressed_bodies_are_warnings)
{
    static const struct {
        const char *doc;
        const char *code;
    } cases[] = {
        {BODY_DOC("representation=\"B64\" compression=\"DF\"", DF_CUT_B64), "invalid"},
        {BODY_DOC("representation=\"B64\" compression=\"DF\"", DF_TRAIL_B64), "invalid"},
        {BODY_DOC("representation=\"B64\" compression=\"GZ\"", DF_B64), "invalid"},
        {BODY_DOC("representation=\"B64\" compression=\"DF\"", PLAIN_B64), "invalid"},
        {BODY_DOC("representation=\"B64\" compression=\"Z\"", DF_B64), "not-supported"},
        {BODY_DOC("compression=\"DF\"", "plain words"), "invalid"},
        {BODY_DOC("representation=\"B64\" compression=\"DF\"", "!!!!"), "value"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        json_t *b = NULL;
        json_t *w = NULL;

        ck_assert_msg(body_of(cases[i].doc, &b, &w, NULL) == NULL, "case %zu attached", i);
        ck_assert_str_eq(tu_json_str(w, "issue.0.code"), cases[i].code);
        ck_assert_str_eq(tu_json_str(w, "issue.0.expression.0"),
                         "/ClinicalDocument/component/nonXMLBody/text");
        /* the original document is attached all the same */
        ck_assert_str_eq(
            tu_json_str(nth(b, "DocumentReference", 0), "content.0.attachment.contentType"),
            "application/hl7-cda+xml");
        json_decref(w);
        json_decref(b);
    }
}
END_TEST

/* A body that inflates beyond max_inflated (a "zip bomb") stops at the
 * limit. */
START_TEST(inflated_body_is_bounded)
{
    struct cda_limits lim = cda_limits_default();
    json_t *b = NULL;
    json_t *w = NULL;

    lim.max_inflated = 100; /* the text is 168 bytes */
    ck_assert_ptr_null(
        body_of(BODY_DOC("representation=\"B64\" compression=\"DF\"", DF_B64), &b, &w, &lim));
    ck_assert_str_eq(tu_json_str(w, "issue.0.code"), "too-costly");
    json_decref(w);
    json_decref(b);
    lim.max_inflated = 168;
    ck_assert_ptr_nonnull(
        body_of(BODY_DOC("representation=\"B64\" compression=\"DF\"", DF_B64), &b, &w, &lim));
    json_decref(w);
    json_decref(b);
}
END_TEST

Suite *
cda_care_suite(void)
{
    Suite *s = suite_create("cda_care");
    TCase *plan = tcase_create("goals_family_teams");
    TCase *body = tcase_create("compressed_body");

    tcase_add_test(plan, goal_observation);
    tcase_add_test(plan, goal_section_non_goals);
    tcase_add_test(plan, family_history_organizer);
    tcase_add_test(plan, family_history_negated_and_standalone);
    tcase_add_test(plan, care_team_organizer);
    tcase_add_test(plan, service_event_performers_care_team);
    tcase_add_test(body, compressed_bodies_are_inflated);
    tcase_add_test(body, bad_compressed_bodies_are_warnings);
    tcase_add_test(body, inflated_body_is_bounded);
    suite_add_tcase(s, plan);
    suite_add_tcase(s, body);
    return s;
}
