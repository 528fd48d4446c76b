/* HL7 v2 -> FHIR mapping, one test per message type and per rule. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/adapters/hl7v2/hl7_test.h"

#define MSH(type) "MSH|^~\\&|HIS|HOSP|FG|REG|20240301083000+0800||" type "|C1|P|2.5\n"
#define PID                                                                                        \
    "PID|1||MRN1^^^HIS^MR||DOE^JOHN^Q^JR^DR||19800102|M|||1 MAIN "                                 \
    "ST^^SPRINGFIELD^IL^62701^USA^H||555-1234^PRN^PH\n"
#define PV1                                                                                        \
    "PV1|1|I|W1^101^A^HOSP||||111^SMITH^ANN^^^DR|||MED||||7|||222^JONES^BOB||V100^^^HIS^VN|||||||" \
    "||||||||||||||||||20240301080000+0800\n"

static json_t *
entry_request(json_t *bundle, const char *type, size_t k, const char *what)
{
    return th_at(th_entry(bundle, type, k), what);
}

/* -------------------------------------------------------------- ADT -- */

START_TEST(adt_a01_patient_encounter_provenance)
{
    json_t *b = th_convert(MSH("ADT^A01^ADT_A01") "EVN|A01|20240301083000\n" PID PV1);
    json_t *p = th_res(b, "Patient", 0);
    json_t *e = th_res(b, "Encounter", 0);
    json_t *prov = th_res(b, "Provenance", 0);

    ck_assert_str_eq(th_str(b, "type"), "transaction");
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 3);
    ck_assert_str_eq(th_str(p, "identifier[0].system"), "urn:fhirgate:member:HOSP/id/HIS");
    ck_assert_str_eq(th_str(p, "identifier[0].value"), "MRN1");
    ck_assert_str_eq(th_str(p, "identifier[0].type.coding[0].code"), "MR");
    ck_assert_str_eq(th_str(p, "name[0].family"), "DOE");
    ck_assert_str_eq(th_str(p, "name[0].given[0]"), "JOHN");
    ck_assert_str_eq(th_str(p, "name[0].given[1]"), "Q");
    ck_assert_str_eq(th_str(p, "name[0].prefix[0]"), "DR");
    ck_assert_str_eq(th_str(p, "name[0].suffix[0]"), "JR");
    ck_assert_str_eq(th_str(p, "gender"), "male");
    ck_assert_str_eq(th_str(p, "birthDate"), "1980-01-02");
    ck_assert_str_eq(th_str(p, "address[0].use"), "home");
    ck_assert_str_eq(th_str(p, "address[0].city"), "SPRINGFIELD");
    ck_assert_str_eq(th_str(p, "telecom[0].value"), "555-1234");
    ck_assert_str_eq(th_str(p, "telecom[0].use"), "home");
    ck_assert_str_eq(th_str(e, "status"), "in-progress");
    ck_assert_str_eq(th_str(e, "class.code"), "IMP");
    ck_assert_str_eq(th_str(e, "identifier[0].value"), "V100");
    ck_assert_str_eq(th_str(e, "identifier[0].type.coding[0].code"), "VN");
    ck_assert_str_eq(th_str(e, "period.start"), "2024-03-01T08:00:00+08:00");
    ck_assert_str_eq(th_str(e, "participant[0].type[0].coding[0].code"), "ATND");
    ck_assert_str_eq(th_str(e, "participant[0].individual.display"), "DR ANN SMITH");
    ck_assert_str_eq(th_str(e, "participant[1].type[0].coding[0].code"), "ADM");
    ck_assert_str_eq(th_str(e, "location[0].location.display"), "W1 101 A");
    ck_assert_str_eq(th_str(e, "serviceType.coding[0].code"), "MED");
    ck_assert_str_eq(th_str(e, "subject.reference"), th_str(th_entry(b, "Patient", 0), "fullUrl"));
    ck_assert_str_eq(th_str(prov, "recorded"), "2024-03-01T08:30:00+08:00");
    ck_assert_str_eq(th_str(prov, "entity[0].what.identifier.value"), "C1");
    ck_assert_str_eq(th_str(prov, "agent[0].who.display"), "HOSP");
    ck_assert_uint_eq(json_array_size(th_at(prov, "target")), 2);
    ck_assert_str_eq(th_str(entry_request(b, "Patient", 0, "request"), "method"), "PUT");
    ck_assert_str_eq(th_str(entry_request(b, "Patient", 0, "request"), "url"),
                     "Patient?identifier=urn:fhirgate:member:HOSP/id/HIS|MRN1");
    ck_assert_str_eq(th_str(entry_request(b, "Encounter", 0, "request"), "url"),
                     "Encounter?identifier=urn:fhirgate:member:HOSP/visit/HIS|V100");
    ck_assert(strncmp(th_str(entry_request(b, "Provenance", 0, "request"), "url"), "Provenance/",
                      11) == 0);
    ck_assert(strncmp(th_str(th_entry(b, "Patient", 0), "fullUrl"), "urn:uuid:", 9) == 0);
    json_decref(b);
}
END_TEST

START_TEST(same_message_same_bundle)
{
    struct base_arena *a = base_arena_new(0);
    char *s = th_cr(MSH("ADT^A01") PID PV1 "AL1|1|DA|PCN^Penicillin|SV|Hives\n");
    struct hl7v2_bundle *b1 = NULL;
    struct hl7v2_bundle *b2 = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(hl7v2_convert(a, s, strlen(s), NULL, NULL, NULL, &b1, &err), BASE_OK);
    ck_assert_int_eq(hl7v2_convert(a, s, strlen(s), NULL, NULL, NULL, &b2, &err), BASE_OK);
    ck_assert(base_str_eq(b1->json, b2->json));
    ck_assert_uint_eq(b1->nentries, 4);
    ck_assert_str_eq(b1->entries[0].type, "Patient");
    ck_assert(base_str_starts_with(b1->entries[0].resource, "{\"resourceType\":\"Patient\""));
    ck_assert(base_str_ends_with(b1->entries[0].resource, "}"));
    ck_assert_uint_eq(hl7v2_bundle_count(b1, "AllergyIntolerance"), 1);
    free(s);
    base_arena_free(a);
}
END_TEST

START_TEST(adt_a03_discharge_finishes_the_encounter)
{
    json_t *b =
        th_convert(MSH("ADT^A03") PID "PV1|1|I|W1^101^A||||||||||||||||V100^^^HIS^VN|||||||||||||||"
                                      "||01||||||||20240301080000|20240305100000\n");
    json_t *e = th_res(b, "Encounter", 0);

    ck_assert_str_eq(th_str(e, "status"), "finished");
    ck_assert_str_eq(th_str(e, "period.end"), "2024-03-05T10:00:00+08:00");
    ck_assert_str_eq(th_str(e, "hospitalization.dischargeDisposition.coding[0].code"), "01");
    ck_assert_str_eq(th_str(e, "location[0].status"), "completed");
    /* the same visit number: the A03 updates the A01's Encounter */
    ck_assert_str_eq(th_str(entry_request(b, "Encounter", 0, "request"), "url"),
                     "Encounter?identifier=urn:fhirgate:member:HOSP/visit/HIS|V100");
    json_decref(b);
}
END_TEST

START_TEST(adt_status_by_event_and_class)
{
    struct {
        const char *msh;
        const char *cls;
        const char *status;
        const char *code;
    } cases[] = {
        {MSH("ADT^A11"), "I", "cancelled", "IMP"},   {MSH("ADT^A05"), "P", "planned", "PRENC"},
        {MSH("ADT^A04"), "O", "in-progress", "AMB"}, {MSH("ADT^A04"), "E", "in-progress", "EMER"},
        {MSH("ADT^A08"), "R", "in-progress", "R"},   {MSH("ADT^A08"), "", "in-progress", "UNK"},
        {MSH("ADT^A23"), "I", "entered-in-error", "IMP"}, {MSH("ADT^A38"), "P", "cancelled", "PRENC"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        char text[1024];
        json_t *b;
        json_t *e;

        snprintf(text, sizeof(text), "%s" PID "PV1|1|%s|||||||||||||||||V9^^^HIS^VN\n",
                 cases[i].msh, cases[i].cls);
        b = th_convert(text);
        e = th_res(b, "Encounter", 0);
        ck_assert_str_eq(th_str(e, "status"), cases[i].status);
        ck_assert_str_eq(th_str(e, "class.code"), cases[i].code);
        json_decref(b);
    }
}
END_TEST

START_TEST(person_events_and_missing_visit_number_make_no_encounter)
{
    json_t *b = th_convert(MSH("ADT^A28") PID PV1);

    ck_assert_uint_eq(th_count(b, "Encounter"), 0);
    ck_assert_uint_eq(th_count(b, "Patient"), 1);
    json_decref(b);
    b = th_convert(MSH("ADT^A01") PID "PV1|1|N\n");
    ck_assert_uint_eq(th_count(b, "Encounter"), 0);
    json_decref(b);
}
END_TEST

START_TEST(adt_a40_merge_links_both_records)
{
    json_t *b = th_convert(MSH("ADT^A40^ADT_A39") "EVN|A40|20240301\n" PID
                                                  "MRG|OLD7^^^HIS^MR||||||DOE^JON\n");
    json_t *keep = th_res(b, "Patient", 0);
    json_t *old = th_res(b, "Patient", 1);

    ck_assert_uint_eq(th_count(b, "Patient"), 2);
    ck_assert_str_eq(th_str(keep, "link[0].type"), "replaces");
    ck_assert_str_eq(th_str(keep, "link[0].other.reference"),
                     th_str(th_entry(b, "Patient", 1), "fullUrl"));
    ck_assert_str_eq(th_str(old, "link[0].type"), "replaced-by");
    ck_assert_str_eq(th_str(old, "link[0].other.reference"),
                     th_str(th_entry(b, "Patient", 0), "fullUrl"));
    ck_assert(json_is_false(th_at(old, "active")));
    ck_assert_str_eq(th_str(old, "identifier[0].value"), "OLD7");
    ck_assert_str_eq(th_str(old, "name[0].given[0]"), "JON");
    ck_assert_str_eq(th_str(entry_request(b, "Patient", 1, "request"), "url"),
                     "Patient?identifier=urn:fhirgate:member:HOSP/id/HIS|OLD7");
    json_decref(b);
}
END_TEST

/* A47 changes the identifier: the old one's record is retired like a merge */
START_TEST(adt_a47_identifier_change_retires_the_old_record)
{
    json_t *b = th_convert(MSH("ADT^A47^ADT_A30") "EVN|A47|20240301\n" PID "MRG|OLD7^^^HIS^MR\n");

    ck_assert_uint_eq(th_count(b, "Patient"), 2);
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "link[0].type"), "replaces");
    ck_assert_str_eq(th_str(th_res(b, "Patient", 1), "link[0].type"), "replaced-by");
    json_decref(b);
}
END_TEST

/* On account and visit events MRG names an account or a visit that moves;
 * neither patient is retired: linking them would merge two people. */
START_TEST(mrg_on_account_and_visit_events_links_no_patients)
{
    static const char *const events[] = {"A41", "A42", "A43", "A44", "A45", "A49", "A50"};

    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        struct base_arena *a = base_arena_new(0);
        char msg[512];
        char *s;
        struct hl7v2_bundle *bundle = NULL;
        struct base_err err = {0};
        json_t *b = NULL;

        snprintf(msg, sizeof(msg),
                 MSH("ADT^%s") "EVN|%s|20240301\n" PID "MRG|OTHER9^^^HIS^MR|||ACC1|V9\n", events[i],
                 events[i]);
        s = th_cr(msg);
        ck_assert_int_eq(hl7v2_convert(a, s, strlen(s), NULL, NULL, NULL, &bundle, &err), BASE_OK);
        ck_assert_uint_eq(bundle->nwarnings, 1);
        ck_assert_str_eq(bundle->warnings[0].where, "MRG-1 (segment 4)");
        ck_assert_int_eq(hl7v2_bundle_tree(bundle, &b, &err), BASE_OK);
        ck_assert_msg(th_count(b, "Patient") == 1, "%s: %zu patients", events[i],
                      th_count(b, "Patient"));
        ck_assert_ptr_null(th_at(th_res(b, "Patient", 0), "link"));
        json_decref(b);
        free(s);
        base_arena_free(a);
    }
}
END_TEST

/* A24: two PIDs, two records of one person, linked both ways (seealso) */
START_TEST(adt_a24_links_two_records)
{
    json_t *b = th_convert(MSH("ADT^A24^ADT_A24") "EVN|A24|20240301\n"
                                                  "PID|1||M1^^^HIS^MR||LI^SI||19800101|F\nPD1\n"
                                                  "PID|2||M2^^^HIS^MR||LI^SI||19800101|F\n");
    json_t *p1 = th_res(b, "Patient", 0);
    json_t *p2 = th_res(b, "Patient", 1);

    ck_assert_uint_eq(th_count(b, "Patient"), 2);
    ck_assert_str_eq(th_str(p1, "link[0].type"), "seealso");
    ck_assert_str_eq(th_str(p1, "link[0].other.reference"),
                     th_str(th_entry(b, "Patient", 1), "fullUrl"));
    ck_assert_str_eq(th_str(p2, "link[0].type"), "seealso");
    ck_assert_str_eq(th_str(p2, "link[0].other.reference"),
                     th_str(th_entry(b, "Patient", 0), "fullUrl"));
    ck_assert(th_at(p1, "active") == NULL && th_at(p2, "active") == NULL);
    json_decref(b);

    /* A37 (unlink) sends the same two records without a link: each replaces
     * its record, so a link made by an A24 is gone */
    b = th_convert(MSH("ADT^A37^ADT_A37") "EVN|A37|20240301\n"
                                          "PID|1||M1^^^HIS^MR||LI^SI||19800101|F\n"
                                          "PID|2||M2^^^HIS^MR||LI^SI||19800101|F\n");
    ck_assert_uint_eq(th_count(b, "Patient"), 2);
    ck_assert_ptr_null(th_at(th_res(b, "Patient", 0), "link"));
    ck_assert_ptr_null(th_at(th_res(b, "Patient", 1), "link"));
    json_decref(b);
}
END_TEST

START_TEST(patient_without_identifier_is_an_error)
{
    struct base_arena *a = base_arena_new(0);
    char *s = th_cr(MSH("ADT^A01") "PID|1||||DOE^JOHN\n");
    struct hl7v2_bundle *bundle = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(hl7v2_convert(a, s, strlen(s), NULL, NULL, NULL, &bundle, &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.where, "PID-3 (segment 2)");
    ck_assert_str_eq(err.issue_code, "required");
    ck_assert_ptr_null(bundle);
    free(s);
    base_arena_free(a);
}
END_TEST

START_TEST(bad_text_in_a_mapped_field_is_located)
{
    struct base_arena *a = base_arena_new(0);
    char *s = th_cr(MSH("ADT^A01") "PID|1||M1^^^H^MR||DOE\\X07\\^JOHN\n");
    struct hl7v2_bundle *bundle = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(hl7v2_convert(a, s, strlen(s), NULL, NULL, NULL, &bundle, &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.where, "PID-5[1].1 (segment 2)");
    ck_assert_str_eq(err.msg, "hexadecimal escape decodes to a control character");
    free(s);
    base_arena_free(a);
}
END_TEST

/* ---------------------------------------------------- Chinese patients -- */

START_TEST(chinese_names)
{
    json_t *b =
        th_convert(MSH("ADT^A01") "PID|1||M1^^^HIS^MR||张三~欧阳^娜娜^^^^^L^I~Zhang^San^^^^^^P\n");
    json_t *p = th_res(b, "Patient", 0);

    /* one component: no safe family/given split */
    ck_assert_str_eq(th_str(p, "name[0].text"), "张三");
    ck_assert_ptr_null(th_at(p, "name[0].family"));
    ck_assert_str_eq(th_str(p, "name[1].family"), "欧阳");
    ck_assert_str_eq(th_str(p, "name[1].given[0]"), "娜娜");
    ck_assert_str_eq(th_str(p, "name[1].text"), "欧阳娜娜");
    ck_assert_str_eq(th_str(p, "name[1].use"), "official");
    ck_assert_str_eq(th_str(p, "name[1].extension[0].url"),
                     "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation");
    ck_assert_str_eq(th_str(p, "name[1].extension[0].valueCode"), "IDE");
    ck_assert_str_eq(th_str(p, "name[2].extension[0].valueCode"), "SYL");
    ck_assert_str_eq(th_str(p, "name[2].family"), "Zhang");
    json_decref(b);
    b = th_convert(MSH("ADT^A01") "PID|1||M1^^^HIS^MR||SMITH\n");
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "name[0].family"), "SMITH");
    json_decref(b);
}
END_TEST

START_TEST(resident_identity_number_placements)
{
    const char *pids[] = {
        "PID|1||M1^^^HIS^MR~110101199003071735^^^^NNCHN\n",
        "PID|1||M1^^^HIS^MR~110101199003071735^^^^ID\n",
        "PID|1||M1^^^HIS^MR~110101199003071735^^^身份证\n",
        "PID|1||M1^^^HIS^MR~110101199003071735^^^&2.16.156.10011.1.3&ISO\n",
        "PID|1||M1^^^HIS^MR||||||||||||||||110101199003071735\n",
        "PID|1||M1^^^HIS^MR~110101900307173^^^^ID\n", /* 15 digits, 1989 edition */
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(pids); i++) {
        char text[512];
        json_t *b;
        json_t *p;

        snprintf(text, sizeof(text), "%s%s", MSH("ADT^A01"), pids[i]);
        b = th_convert(text);
        p = th_res(b, "Patient", 0);
        ck_assert_msg(strcmp(th_str(p, "identifier[1].system"), HL7V2_SYSTEM_CN_RESIDENT_ID) == 0,
                      "case %zu: %s", i, th_str(p, "identifier[1].system"));
        ck_assert_str_eq(th_str(p, "identifier[1].value"), "110101199003071735");
        ck_assert_str_eq(th_str(p, "identifier[1].use"), "official");
        ck_assert_str_eq(th_str(p, "identifier[1].type.coding[0].code"), "NI");
        /* the hospital record number stays the key */
        ck_assert_str_eq(th_str(entry_request(b, "Patient", 0, "request"), "url"),
                         "Patient?identifier=urn:fhirgate:member:HOSP/id/HIS|M1");
        json_decref(b);
    }
}
END_TEST

START_TEST(bad_resident_identity_number_stays_local)
{
    struct base_arena *a = base_arena_new(0);
    char *s = th_cr(MSH("ADT^A01") "PID|1||110101199003071731^^^^ID\n");
    struct hl7v2_bundle *b = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(hl7v2_convert(a, s, strlen(s), NULL, NULL, NULL, &b, &err), BASE_OK);
    ck_assert_uint_eq(b->nwarnings, 1);
    ck_assert_str_eq(b->warnings[0].where, "PID-3[1] (segment 2)");
    ck_assert(strstr(b->entries[0].url.ptr, HL7V2_SYSTEM_CN_RESIDENT_ID) == NULL);
    free(s);
    base_arena_free(a);
}
END_TEST

/* ORU_R01 allows no PID; results without a patient are not filed, and the
 * conversion says so once instead of returning an empty Bundle silently */
START_TEST(results_without_a_patient_are_warned)
{
    struct base_arena *a = base_arena_new(0);
    char *s = th_cr(MSH("ORU^R01") "OBX|1|NM|HC^Head circumference^L|1|175|mm||||||F\n"
                                   "OBX|2|NM|AC^Abdominal circumference^L|1|212|mm||||||F\n");
    struct hl7v2_bundle *b = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(hl7v2_convert(a, s, strlen(s), NULL, NULL, NULL, &b, &err), BASE_OK);
    ck_assert_uint_eq(b->nentries, 0);
    ck_assert_uint_eq(b->nwarnings, 1);
    ck_assert_str_eq(b->warnings[0].where, "OBX (segment 2)");
    ck_assert_ptr_nonnull(strstr(b->warnings[0].msg, "no patient"));
    free(s);
    base_arena_free(a);
}
END_TEST

/* A message that maps to nothing says so: a master file (MFN), and an ADT
 * whose segment terminators an export turned into blanks (every segment
 * became fields of the MSH) */
START_TEST(empty_bundle_is_warned)
{
    static const char *const msgs[] = {
        "MSH|^~\\&|SENDMED|BOUGE|EQUAFILE|BOUGE|20050918000000||MFN^M02|0|T|2.3.1\n"
        "MFI|PRA||UPD\nMFE|MUP|||15101\nSTF|15101^^^15101||DU JARDIN^ETIENNE\n",
        "MSH|^~\\&|AccMgr|1|||20050110045504||ADT^A01|599102|P|2.3||| EVN|A01|20050110045502|| "
        "PID|1||10006579^^^1^MRN^1||DUCK^DONALD^D||19241010|M| PV1|1|I|PREOP^101^1\n",
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(msgs); i++) {
        struct base_arena *a = base_arena_new(0);
        char *s = th_cr(msgs[i]);
        struct hl7v2_bundle *b = NULL;
        struct base_err err = {0};

        ck_assert_int_eq(hl7v2_convert(a, s, strlen(s), NULL, NULL, NULL, &b, &err), BASE_OK);
        ck_assert_uint_eq(b->nentries, 0);
        ck_assert_uint_eq(b->nwarnings, 1);
        ck_assert_str_eq(b->warnings[0].where, "MSH-9[1] (segment 1)");
        ck_assert_ptr_nonnull(strstr(b->warnings[0].msg, "nothing mapped"));
        free(s);
        base_arena_free(a);
    }
}
END_TEST

START_TEST(only_a_resident_id_makes_it_the_key)
{
    json_t *b = th_convert(MSH("ADT^A04") "PID|1||110101199003071735^^^^NNCHN\n");

    ck_assert_str_eq(th_str(entry_request(b, "Patient", 0, "request"), "url"),
                     "Patient?identifier=urn:oid:2.16.156.10011.1.3|110101199003071735");
    json_decref(b);
}
END_TEST

START_TEST(demographic_code_tables)
{
    json_t *b =
        th_convert(MSH("ADT^A01") "PID|1||M1^^^HIS^MR||DOE||19800102123000|2|||^^^^^^B~^^^^^^M||^"
                                  "NET^Internet^a@b.cn~13800138000^^CP|||20||||||||Y|2|||||Y\n");
    json_t *p = th_res(b, "Patient", 0);

    ck_assert_str_eq(th_str(p, "gender"), "female");
    ck_assert_str_eq(th_str(p, "maritalStatus.coding[0].code"), "M");
    ck_assert_str_eq(th_str(p, "maritalStatus.coding[0].system"),
                     "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus");
    ck_assert_str_eq(th_str(p, "telecom[0].system"), "email");
    ck_assert_str_eq(th_str(p, "telecom[0].value"), "a@b.cn");
    ck_assert_str_eq(th_str(p, "telecom[1].use"), "mobile");
    ck_assert_str_eq(th_num(p, "multipleBirthInteger"), "2");
    ck_assert(json_is_true(th_at(p, "deceasedBoolean")));
    ck_assert_str_eq(th_str(p, "_birthDate.extension[0].valueDateTime"),
                     "1980-01-02T12:30:00+08:00");
    json_decref(b);
}
END_TEST

START_TEST(next_of_kin)
{
    json_t *b =
        th_convert(MSH("ADT^A01") PID "NK1|1|DOE^JANE|SPO^Spouse^HL70063|2 OAK^^X||555-9|||\n"
                                      "NK1|2||FTH\n");
    json_t *p = th_res(b, "Patient", 0);

    ck_assert_uint_eq(json_array_size(th_at(p, "contact")), 1); /* pat-1: the second is empty */
    ck_assert_str_eq(th_str(p, "contact[0].name.family"), "DOE");
    ck_assert_str_eq(th_str(p, "contact[0].relationship[0].coding[0].code"), "SPO");
    ck_assert_str_eq(th_str(p, "contact[0].telecom[0].value"), "555-9");
    ck_assert_str_eq(th_str(p, "contact[0].address.line[0]"), "2 OAK");
    json_decref(b);
}
END_TEST

/* ------------------------------------------------------- clinical ADT -- */

START_TEST(allergy_diagnosis_procedure)
{
    json_t *b = th_convert(MSH("ADT^A08") PID PV1
                           "AL1|1|DA|70618^Penicillin^RXNORM|SV|Hives~Wheezing|20200101\n"
                           "AL1|2|FA|^Peanuts|MI\n"
                           "DG1|1||I10.9^Hypertension^I10||20240301|A|||||||||1\n"
                           "DG1|2|I9|250.00^Diabetes||20240301|F\n"
                           "PR1|1||0DTJ4ZZ^Appendectomy^I10P||20240302103000|||||||333^CUT^ME\n");
    json_t *al = th_res(b, "AllergyIntolerance", 0);
    json_t *c0 = th_res(b, "Condition", 0);
    json_t *c1 = th_res(b, "Condition", 1);
    json_t *pr = th_res(b, "Procedure", 0);
    json_t *enc = th_res(b, "Encounter", 0);

    ck_assert_uint_eq(th_count(b, "AllergyIntolerance"), 2);
    ck_assert_str_eq(th_str(al, "clinicalStatus.coding[0].code"), "active");
    ck_assert_str_eq(th_str(al, "category[0]"), "medication");
    ck_assert_str_eq(th_str(al, "criticality"), "high");
    ck_assert_str_eq(th_str(al, "code.coding[0].system"),
                     "http://www.nlm.nih.gov/research/umls/rxnorm");
    ck_assert_str_eq(th_str(al, "reaction[0].manifestation[1].text"), "Wheezing");
    ck_assert_str_eq(th_str(al, "reaction[0].severity"), "severe");
    ck_assert_str_eq(th_str(al, "patient.reference"), th_str(th_entry(b, "Patient", 0), "fullUrl"));
    ck_assert_str_eq(th_str(th_res(b, "AllergyIntolerance", 1), "code.text"), "Peanuts");
    ck_assert_str_eq(th_str(th_res(b, "AllergyIntolerance", 1), "category[0]"), "food");
    ck_assert_str_eq(th_str(c0, "code.coding[0].system"), "http://hl7.org/fhir/sid/icd-10");
    ck_assert_str_eq(th_str(c0, "code.coding[0].code"), "I10.9");
    ck_assert_str_eq(th_str(c0, "category[0].coding[0].code"), "encounter-diagnosis");
    ck_assert_str_eq(th_str(c0, "verificationStatus.coding[0].code"), "provisional");
    ck_assert_str_eq(th_str(c0, "encounter.reference"),
                     th_str(th_entry(b, "Encounter", 0), "fullUrl"));
    /* v2.3 DG1-2 names the coding system when DG1-3 does not */
    ck_assert_str_eq(th_str(c1, "code.coding[0].system"), "http://hl7.org/fhir/sid/icd-9-cm");
    ck_assert_str_eq(th_str(c1, "verificationStatus.coding[0].code"), "confirmed");
    ck_assert_str_eq(th_str(enc, "diagnosis[0].use.coding[0].code"), "AD");
    ck_assert_str_eq(th_num(enc, "diagnosis[0].rank"), "1");
    ck_assert_str_eq(th_str(enc, "diagnosis[1].use.coding[0].code"), "DD");
    ck_assert_str_eq(th_str(pr, "status"), "completed");
    ck_assert_str_eq(th_str(pr, "performedDateTime"), "2024-03-02T10:30:00+08:00");
    ck_assert_str_eq(th_str(pr, "performer[0].actor.display"), "ME CUT");
    ck_assert_str_eq(th_str(th_entry(b, "Condition", 0), "request.url"),
                     th_str(th_entry(b, "Condition", 0), "request.url"));
    ck_assert(strstr(th_str(th_entry(b, "Condition", 0), "request.url"),
                     "Condition?identifier=urn:ietf:rfc:3986|urn:uuid:") != NULL);
    json_decref(b);
}
END_TEST

START_TEST(problem_list)
{
    json_t *b = th_convert("MSH|^~\\&|||||20040629164652|1|PPR^PC1|331|P|2.3.1\n"
                           "PID|||10290^^^WEST^MR||KARLS^TOM\n"
                           "PRB|AD|2004062916460000|596.5^BLADDER "
                           "DYSFUNCTION^I9|26744|||20040629||||||ACTIVE|||20040629\n");
    json_t *c = th_res(b, "Condition", 0);

    ck_assert_str_eq(th_str(c, "category[0].coding[0].code"), "problem-list-item");
    ck_assert_str_eq(th_str(c, "clinicalStatus.coding[0].code"), "active");
    ck_assert_str_eq(th_str(c, "code.coding[0].code"), "596.5");
    ck_assert_str_eq(th_str(c, "identifier[0].value"), "26744");
    ck_assert_str_eq(th_str(c, "onsetDateTime"), "2004-06-29");
    json_decref(b);
}
END_TEST

/* --------------------------------------------------- orders and results -- */

START_TEST(oru_report_observations_specimen_notes)
{
    json_t *b = th_convert(
        MSH("ORU^R01^ORU_R01") PID PV1
        "ORC|RE|P100^HIS|F200^LIS\n"
        "OBR|1|P100^HIS|F200^LIS|24331-1^Lipid "
        "panel^LN|||20240301070000|||||||||||||||20240301090000||CH|F\n"
        "NTE|1||report comment\n"
        "OBX|1|NM|2093-3^Cholesterol^LN||5.20|mmol/L^^UCUM|3.0-5.2|H|||F|||20240301080000\n"
        "NTE|1||fasting~12 hours\n"
        "OBX|2|NM|2571-8^Triglyceride^LN||1.50|mmol/L|<1.7|N|||F\n"
        "SPM|1|S1&LIS^S1F&LIS||SER^Serum^HL70487|||||||||||||20240301070000|20240301073000\n");
    json_t *dr = th_res(b, "DiagnosticReport", 0);
    json_t *o1 = th_res(b, "Observation", 0);
    json_t *o2 = th_res(b, "Observation", 1);
    json_t *sp = th_res(b, "Specimen", 0);

    ck_assert_uint_eq(th_count(b, "Observation"), 2);
    ck_assert_str_eq(th_str(dr, "status"), "final");
    ck_assert_str_eq(th_str(dr, "code.coding[0].code"), "24331-1");
    ck_assert_str_eq(th_str(dr, "category[0].coding[0].code"), "CH");
    ck_assert_str_eq(th_str(dr, "effectiveDateTime"), "2024-03-01T07:00:00+08:00");
    ck_assert_str_eq(th_str(dr, "issued"), "2024-03-01T09:00:00+08:00");
    ck_assert_str_eq(th_str(dr, "identifier[1].value"), "F200");
    ck_assert_str_eq(th_str(dr, "identifier[1].type.coding[0].code"), "FILL");
    ck_assert_str_eq(th_str(dr, "result[0].reference"),
                     th_str(th_entry(b, "Observation", 0), "fullUrl"));
    ck_assert_str_eq(th_str(dr, "result[1].reference"),
                     th_str(th_entry(b, "Observation", 1), "fullUrl"));
    ck_assert_str_eq(th_str(dr, "specimen[0].reference"),
                     th_str(th_entry(b, "Specimen", 0), "fullUrl"));
    ck_assert_str_eq(th_str(th_entry(b, "DiagnosticReport", 0), "request.url"),
                     "DiagnosticReport?identifier=urn:fhirgate:member:HOSP/order/filler/LIS|F200");
    ck_assert_str_eq(th_num(o1, "valueQuantity.value"), "5.20"); /* exact decimal text */
    ck_assert_str_eq(th_str(o1, "valueQuantity.code"), "mmol/L");
    ck_assert_str_eq(th_str(o1, "valueQuantity.system"), "http://unitsofmeasure.org");
    ck_assert_str_eq(th_num(o1, "referenceRange[0].low.value"), "3.0");
    ck_assert_str_eq(th_num(o1, "referenceRange[0].high.value"), "5.2");
    ck_assert_str_eq(th_str(o1, "interpretation[0].coding[0].code"), "H");
    ck_assert_str_eq(th_str(o1, "status"), "final");
    ck_assert_str_eq(th_str(o1, "category[0].coding[0].code"), "laboratory");
    ck_assert_str_eq(th_str(o1, "effectiveDateTime"), "2024-03-01T08:00:00+08:00");
    ck_assert_str_eq(th_str(o1, "note[0].text"), "fasting\n12 hours");
    ck_assert_str_eq(th_str(o2, "effectiveDateTime"), "2024-03-01T07:00:00+08:00");
    ck_assert_str_eq(th_num(o2, "valueQuantity.value"), "1.50");
    ck_assert_str_eq(th_num(o2, "referenceRange[0].high.value"), "1.7");
    ck_assert_ptr_null(th_at(o2, "referenceRange[0].low"));
    ck_assert_str_eq(th_str(o2, "specimen.reference"),
                     th_str(th_entry(b, "Specimen", 0), "fullUrl"));
    ck_assert_str_eq(th_str(sp, "identifier[0].value"), "S1F");
    ck_assert_str_eq(th_str(sp, "identifier[0].type.coding[0].code"), "FILL");
    ck_assert_str_eq(th_str(sp, "type.coding[0].code"), "SER");
    ck_assert_str_eq(th_str(sp, "collection.collectedDateTime"), "2024-03-01T07:00:00+08:00");
    ck_assert_str_eq(th_str(sp, "receivedTime"), "2024-03-01T07:30:00+08:00");
    json_decref(b);
}
END_TEST

START_TEST(repeated_observation_codes_keep_separate_identities)
{
    json_t *b = th_convert(MSH("ORU^R01") PID "OBR|1||F1|X^Report\n"
                                              "OBX|1|TX|FIND^Findings||line one||||||F\n"
                                              "OBX|2|TX|FIND^Findings||line two||||||F\n"
                                              "OBX|3|TX|FIND^Findings|2|line three||||||F\n");
    const char *u0 = th_str(th_entry(b, "Observation", 0), "request.url");
    const char *u1 = th_str(th_entry(b, "Observation", 1), "request.url");
    const char *u2 = th_str(th_entry(b, "Observation", 2), "request.url");

    ck_assert_uint_eq(th_count(b, "Observation"), 3);
    ck_assert_str_ne(u0, u1);
    ck_assert_str_ne(u1, u2);
    ck_assert_str_eq(th_str(th_res(b, "Observation", 1), "valueString"), "line two");
    json_decref(b);
}
END_TEST

START_TEST(orm_service_request)
{
    json_t *b = th_convert(
        MSH("ORM^O01") PID
        "ORC|NW|P77^HIS||||||||||555^ORDER^DOC\n"
        "OBR|1|P77^HIS||71020^Chest X-ray^C4|S|||||||||||||||||||RAD|||||||R/O pneumonia^Rule out\n"
        "NTE|1||patient on oxygen\n");
    json_t *sr = th_res(b, "ServiceRequest", 0);

    ck_assert_uint_eq(th_count(b, "ServiceRequest"), 1);
    ck_assert_uint_eq(th_count(b, "DiagnosticReport"), 0);
    ck_assert_str_eq(th_str(sr, "status"), "active");
    ck_assert_str_eq(th_str(sr, "intent"), "order");
    ck_assert_str_eq(th_str(sr, "priority"), "stat");
    ck_assert_str_eq(th_str(sr, "code.coding[0].system"), "http://www.ama-assn.org/go/cpt");
    ck_assert_str_eq(th_str(sr, "requester.display"), "DOC ORDER");
    ck_assert_str_eq(th_str(sr, "identifier[0].type.coding[0].code"), "PLAC");
    ck_assert_str_eq(th_str(sr, "note[0].text"), "patient on oxygen");
    ck_assert_str_eq(th_str(sr, "reasonCode[0].text"), "");
    ck_assert_str_eq(th_str(sr, "reasonCode[0].coding[0].code"), "R/O pneumonia");
    ck_assert_str_eq(th_str(th_entry(b, "ServiceRequest", 0), "request.url"),
                     "ServiceRequest?identifier=urn:fhirgate:member:HOSP/order/placer/HIS|P77");
    json_decref(b);
    b = th_convert(MSH("ORM^O01") PID "ORC|CA|P77^HIS\nOBR|1|P77^HIS||71020^Chest X-ray^C4\n");
    ck_assert_str_eq(th_str(th_res(b, "ServiceRequest", 0), "status"), "revoked");
    json_decref(b);
}
END_TEST

START_TEST(rde_medication_request)
{
    json_t *b = th_convert(MSH("RDE^O11") PID PV1
                           "ORC|NW|RX1^HIS|||||||20240301090000|||777^DOC^RX\n"
                           "RXE||1049502^Acetaminophen 325 MG Oral "
                           "Tablet^RXNORM|650||mg^^UCUM|TAB|^Take with food|||30|TAB^^UCUM|2\n"
                           "RXR|PO^Oral^HL70162\n");
    json_t *mr = th_res(b, "MedicationRequest", 0);

    ck_assert_str_eq(th_str(mr, "status"), "active");
    ck_assert_str_eq(th_str(mr, "intent"), "order");
    ck_assert_str_eq(th_str(mr, "medicationCodeableConcept.coding[0].code"), "1049502");
    ck_assert_str_eq(th_str(mr, "authoredOn"), "2024-03-01T09:00:00+08:00");
    ck_assert_str_eq(th_str(mr, "requester.display"), "RX DOC");
    ck_assert_str_eq(th_num(mr, "dosageInstruction[0].doseAndRate[0].doseQuantity.value"), "650");
    ck_assert_str_eq(th_str(mr, "dosageInstruction[0].doseAndRate[0].doseQuantity.code"), "mg");
    ck_assert_str_eq(th_str(mr, "dosageInstruction[0].text"), "Take with food");
    ck_assert_str_eq(th_str(mr, "dosageInstruction[0].route.coding[0].code"), "PO");
    ck_assert_str_eq(th_num(mr, "dispenseRequest.quantity.value"), "30");
    ck_assert_str_eq(th_num(mr, "dispenseRequest.numberOfRepeatsAllowed"), "2");
    ck_assert_str_eq(th_str(th_entry(b, "MedicationRequest", 0), "request.url"),
                     "MedicationRequest?identifier=urn:fhirgate:member:HOSP/order/placer/HIS|RX1");
    json_decref(b);
    /* medication[x] is required: an empty give code still gives a valid resource (fuzz find) */
    b = th_convert(MSH("RDE^O11") PID "ORC|NW|RX2^HIS\nRXE|||||||||A\n");
    ck_assert_str_eq(th_str(th_res(b, "MedicationRequest", 0), "medicationCodeableConcept.text"),
                     "unspecified");
    json_decref(b);
    /* an SPM after RXE: MedicationRequest has no `specimen` (fuzz find) */
    b = th_convert(MSH("RDE^O11") PID "ORC|NW|RX3^HIS\nRXE||1049502^Acetaminophen^RXNORM\n"
                                      "SPM|1|S1^S2||BLD\nSPM|1|S1^S2||BLD\n");
    ck_assert_ptr_null(th_at(th_res(b, "MedicationRequest", 0), "specimen"));
    ck_assert_uint_eq(th_count(b, "Specimen"), 1);
    json_decref(b);
    /* the same SPM twice in a report: one reference */
    b = th_convert(MSH("ORU^R01") PID "OBR|1||F9^LIS|24331-1^Lipid panel^LN\n"
                                      "SPM|1|S1^S2||BLD\nSPM|1|S1^S2||BLD\n");
    ck_assert_uint_eq(json_array_size(th_at(th_res(b, "DiagnosticReport", 0), "specimen")), 1);
    json_decref(b);
}
END_TEST

START_TEST(vxu_immunization)
{
    json_t *b =
        th_convert(MSH("VXU^V04") PID "ORC|RE||IZ-783^NDA\n"
                                      "RXA|0|1|20240215||08^HepB^CVX|0.5|mL^^UCUM||00^New^NIP001|9^"
                                      "NURSE^NANCY|||||L123|20251231|MSD^Merck^MVX|||CP|A\n"
                                      "RXR|C28161^IM^NCIT|LA^Left arm^HL70163\n");
    json_t *im = th_res(b, "Immunization", 0);

    ck_assert_str_eq(th_str(im, "status"), "completed");
    ck_assert_str_eq(th_str(im, "vaccineCode.coding[0].system"), "http://hl7.org/fhir/sid/cvx");
    ck_assert_str_eq(th_str(im, "vaccineCode.coding[0].code"), "08");
    ck_assert_str_eq(th_str(im, "occurrenceDateTime"), "2024-02-15");
    ck_assert_str_eq(th_str(im, "lotNumber"), "L123");
    ck_assert_str_eq(th_str(im, "expirationDate"), "2025-12-31");
    ck_assert_str_eq(th_str(im, "manufacturer.identifier.system"), "http://hl7.org/fhir/sid/mvx");
    ck_assert_str_eq(th_num(im, "doseQuantity.value"), "0.5");
    ck_assert(json_is_true(th_at(im, "primarySource")));
    ck_assert_str_eq(th_str(im, "performer[0].actor.display"), "NANCY NURSE");
    ck_assert_str_eq(th_str(im, "route.coding[0].code"), "C28161");
    ck_assert_str_eq(th_str(im, "site.coding[0].code"), "LA");
    ck_assert_str_eq(th_str(th_entry(b, "Immunization", 0), "request.url"),
                     "Immunization?identifier=urn:fhirgate:member:HOSP/order/filler/NDA|IZ-783");
    json_decref(b);
    b = th_convert(MSH("VXU^V04") PID
                   "RXA|0|1|20240215||08^HepB^CVX|999||||||||||||00^Refused^NIP002||RE\n");
    ck_assert_str_eq(th_str(th_res(b, "Immunization", 0), "status"), "not-done");
    ck_assert_ptr_null(th_at(th_res(b, "Immunization", 0), "doseQuantity"));
    json_decref(b);
}
END_TEST

START_TEST(mdm_document_reference)
{
    json_t *b =
        th_convert(MSH("MDM^T02") PID PV1
                   "TXA|1|DS^Discharge "
                   "summary|TX|20240305||20240305101500|||444^WRITER^W|||D-9^HIS|||||LA||AV\n"
                   "OBX|1|TX|S^Summary||Patient stable.||||||F\n"
                   "OBX|2|TX|S^Summary||Go home.||||||F\n"
                   "OBX|3|ED|PDF^Report||^AP^PDF^Base64^JVBERi0xLjQK||||||F\n");
    json_t *d = th_res(b, "DocumentReference", 0);

    ck_assert_str_eq(th_str(d, "status"), "current");
    ck_assert_str_eq(th_str(d, "docStatus"), "final");
    ck_assert_str_eq(th_str(d, "masterIdentifier.value"), "D-9");
    ck_assert_str_eq(th_str(d, "type.coding[0].code"), "DS");
    ck_assert_str_eq(th_str(d, "date"), "2024-03-05T10:15:00+08:00");
    ck_assert_str_eq(th_str(d, "author[0].display"), "W WRITER");
    ck_assert_str_eq(th_str(d, "context.encounter[0].reference"),
                     th_str(th_entry(b, "Encounter", 0), "fullUrl"));
    ck_assert_str_eq(th_str(d, "content[0].attachment.contentType"), "application/pdf");
    ck_assert_str_eq(th_str(d, "content[0].attachment.data"), "JVBERi0xLjQK");
    ck_assert_str_eq(th_num(d, "content[0].attachment.size"), "9");
    /* the text lines: "Patient stable.\nGo home." in base64 */
    ck_assert_str_eq(th_str(d, "content[1].attachment.contentType"), "text/plain; charset=utf-8");
    ck_assert_str_eq(th_str(d, "content[1].attachment.data"), "UGF0aWVudCBzdGFibGUuCkdvIGhvbWUu");
    ck_assert_str_eq(th_str(th_entry(b, "DocumentReference", 0), "request.url"),
                     "DocumentReference?identifier=urn:fhirgate:member:HOSP/document/HIS|D-9");
    json_decref(b);
}
END_TEST

START_TEST(other_messages_map_what_they_carry)
{
    json_t *b = th_convert(MSH("SIU^S12") "SCH|1\n" PID PV1 "DG1|1||R51^Headache^I10\n");

    ck_assert_uint_eq(th_count(b, "Patient"), 1);
    ck_assert_uint_eq(th_count(b, "Encounter"), 1);
    ck_assert_uint_eq(th_count(b, "Condition"), 1);
    json_decref(b);
    b = th_convert(MSH("ACK") "MSA|AA|X1\n");
    ck_assert_ptr_null(json_object_get(b, "entry")); /* nothing to store, no Provenance */
    json_decref(b);
}
END_TEST

/* ----------------------------------------------------------- options -- */

START_TEST(options_system_base_authorities_tz_category)
{
    struct hl7v2_authority auth[] = {{"HIS", "https://hosp-a.example/sid/mrn"}};
    struct hl7v2_map_opts o = HL7V2_MAP_OPTS_DEFAULT;
    json_t *b;

    o.system_base = "https://hosp-a.example/sid";
    o.authorities = auth;
    o.nauthorities = 1;
    o.default_tz = "+00:00";
    o.obs_category = "laboratory";
    /* MSH-7 without an offset: the configured zone applies */
    b = th_convert_opts("MSH|^~\\&|HIS|HOSP|FG|REG|20240301083000||ORU^R01|C1|P|2.5\n"
                        "PID|1||M1^^^HIS^MR~X2^^^OTHER\n"
                        "OBR|1||F1|X^Y|||20240301070000\nOBX|1|ST|A^B||text||||||F\n",
                        &o);
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "identifier[0].system"),
                     "https://hosp-a.example/sid/mrn");
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "identifier[1].system"),
                     "https://hosp-a.example/sid/id/OTHER");
    ck_assert_str_eq(th_str(th_res(b, "DiagnosticReport", 0), "effectiveDateTime"),
                     "2024-03-01T07:00:00+00:00");
    ck_assert_str_eq(th_str(th_res(b, "DiagnosticReport", 0), "category[0].coding[0].code"),
                     "laboratory");
    ck_assert_str_eq(th_str(th_res(b, "Observation", 0), "category[0].coding[0].code"),
                     "laboratory");
    ck_assert_str_eq(th_str(th_res(b, "Observation", 0), "code.coding[0].system"),
                     "https://hosp-a.example/sid/code/OBX-3");
    json_decref(b);
}
END_TEST

/* v2 times without an offset are in the sender's zone, which MSH-7 states;
 * the configured zone is for senders that do not. */
START_TEST(msh7_offset_is_the_zone_of_times_without_one)
{
    struct hl7v2_map_opts o = HL7V2_MAP_OPTS_DEFAULT;
    const char *body = "PID|1||M1^^^HIS^MR\n"
                       "OBR|1||F1|X^Y|||20240301070000|||||||||||||||20240301091500-0300\n"
                       "OBX|1|ST|A^B||text||||||F|||202403010705\n";
    char msg[512];
    json_t *b;

    o.default_tz = "+01:00";
    snprintf(msg, sizeof(msg),
             "MSH|^~\\&|HIS|HOSP|FG|REG|20240301083000-0500||ORU^R01|C1|P|2.5\n%s", body);
    b = th_convert_opts(msg, &o);
    ck_assert_str_eq(th_str(th_res(b, "DiagnosticReport", 0), "effectiveDateTime"),
                     "2024-03-01T07:00:00-05:00");
    ck_assert_str_eq(th_str(th_res(b, "Observation", 0), "effectiveDateTime"),
                     "2024-03-01T07:05:00-05:00");
    /* an offset of its own is kept */
    ck_assert_str_eq(th_str(th_res(b, "DiagnosticReport", 0), "issued"),
                     "2024-03-01T09:15:00-03:00");
    ck_assert_str_eq(th_str(th_res(b, "Provenance", 0), "recorded"), "2024-03-01T08:30:00-05:00");
    json_decref(b);

    /* +0000 is a stated zone too, not "none" */
    snprintf(msg, sizeof(msg),
             "MSH|^~\\&|HIS|HOSP|FG|REG|20240301083000+0000||ORU^R01|C1|P|2.5\n%s", body);
    b = th_convert_opts(msg, &o);
    ck_assert_str_eq(th_str(th_res(b, "DiagnosticReport", 0), "effectiveDateTime"),
                     "2024-03-01T07:00:00+00:00");
    json_decref(b);

    /* an MSH-7 that is not a valid date/time states nothing: the default */
    snprintf(msg, sizeof(msg), "MSH|^~\\&|HIS|HOSP|FG|REG|2024030108300+0500||ORU^R01|C1|P|2.5\n%s",
             body);
    b = th_convert_opts(msg, &o);
    ck_assert_str_eq(th_str(th_res(b, "DiagnosticReport", 0), "effectiveDateTime"),
                     "2024-03-01T07:00:00+01:00");
    json_decref(b);
}
END_TEST

START_TEST(conditional_urls_are_percent_encoded)
{
    json_t *b = th_convert(MSH("ADT^A01") "PID|1||A 1\\F\\2&x^^^MY HIS^MR\n");

    ck_assert_str_eq(th_str(th_entry(b, "Patient", 0), "request.url"),
                     "Patient?identifier=urn:fhirgate:member:HOSP/id/MY%2520HIS|A%201%7C2");
    ck_assert_str_eq(th_str(th_res(b, "Patient", 0), "identifier[0].value"), "A 1|2");
    json_decref(b);
}
END_TEST

Suite *hl7v2_map_suite(void);

Suite *
hl7v2_map_suite(void)
{
    Suite *s = suite_create("hl7v2_map");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, adt_a01_patient_encounter_provenance);
    tcase_add_test(tc, same_message_same_bundle);
    tcase_add_test(tc, adt_a03_discharge_finishes_the_encounter);
    tcase_add_test(tc, adt_status_by_event_and_class);
    tcase_add_test(tc, person_events_and_missing_visit_number_make_no_encounter);
    tcase_add_test(tc, adt_a40_merge_links_both_records);
    tcase_add_test(tc, adt_a47_identifier_change_retires_the_old_record);
    tcase_add_test(tc, mrg_on_account_and_visit_events_links_no_patients);
    tcase_add_test(tc, adt_a24_links_two_records);
    tcase_add_test(tc, patient_without_identifier_is_an_error);
    tcase_add_test(tc, bad_text_in_a_mapped_field_is_located);
    tcase_add_test(tc, chinese_names);
    tcase_add_test(tc, resident_identity_number_placements);
    tcase_add_test(tc, bad_resident_identity_number_stays_local);
    tcase_add_test(tc, only_a_resident_id_makes_it_the_key);
    tcase_add_test(tc, demographic_code_tables);
    tcase_add_test(tc, next_of_kin);
    tcase_add_test(tc, allergy_diagnosis_procedure);
    tcase_add_test(tc, problem_list);
    tcase_add_test(tc, oru_report_observations_specimen_notes);
    tcase_add_test(tc, repeated_observation_codes_keep_separate_identities);
    tcase_add_test(tc, orm_service_request);
    tcase_add_test(tc, rde_medication_request);
    tcase_add_test(tc, vxu_immunization);
    tcase_add_test(tc, mdm_document_reference);
    tcase_add_test(tc, other_messages_map_what_they_carry);
    tcase_add_test(tc, options_system_base_authorities_tz_category);
    tcase_add_test(tc, msh7_offset_is_the_zone_of_times_without_one);
    tcase_add_test(tc, conditional_urls_are_percent_encoded);
    tcase_add_test(tc, results_without_a_patient_are_warned);
    tcase_add_test(tc, empty_bundle_is_warned);
    suite_add_tcase(s, tc);
    return s;
}
