/* Identity extraction from a member's FHIR Patient, and pair scoring. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/mpi/gw_mpi.h"
#include "test/support/testutil.h"

#define TODAY 20260115

static struct base_arena *A;

static void
setup(void)
{
    A = base_arena_new(0);
}

static void
teardown(void)
{
    base_arena_free(A);
}

static int
ident(const char *json, struct gw_mpi_identity *id, struct base_err *err)
{
    return gw_mpi_identity_from_json(A, "hosp-a", json, strlen(json), TODAY, id, err);
}

static struct gw_mpi_identity
must(const char *json)
{
    struct gw_mpi_identity id;
    struct base_err err = {0};

    ck_assert_msg(ident(json, &id, &err) == BASE_OK, "%s at %s", err.msg, err.where);
    return id;
}

static const char FULL[] =
    "{\"resourceType\":\"Patient\",\"id\":\"p1\","
    "\"identifier\":[{\"system\":\"urn:oid:1.2.156.1.1\",\"value\":\"V1\"},"
    "{\"type\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\","
    "\"code\":\"MR\"}]},\"system\":\"urn:oid:1.2.156.1.2\",\"value\":\"MRN-7\"},"
    "{\"system\":\"urn:oid:2.16.156.10011.1.3\",\"value\":\"11010519491231002x\"}],"
    "\"name\":[{\"use\":\"usual\",\"text\":\"Zhang San\"},{\"family\":\"張\",\"given\":[\"三\"]}],"
    "\"gender\":\"female\",\"birthDate\":\"1949-12-31\","
    "\"telecom\":[{\"system\":\"email\",\"value\":\"a@b.c\"},"
    "{\"system\":\"phone\",\"value\":\"+86 138 0013 8000\"}],"
    "\"address\":[{\"use\":\"work\",\"text\":\"北京市朝阳区建国路88号\"},"
    "{\"use\":\"home\",\"state\":\"辽宁省\",\"city\":\"沈阳市\",\"district\":\"和平区\","
    "\"line\":[\"南京北街155号\"]}]}";

START_TEST(full_patient)
{
    struct gw_mpi_identity id = must(FULL);

    ck_assert_str_eq(id.member, "hosp-a");
    ck_assert_str_eq(id.key.system, "urn:oid:1.2.156.1.2"); /* MR first */
    ck_assert_str_eq(id.key.value, "MRN-7");
    ck_assert_uint_eq(id.n_local, 2);
    ck_assert_str_eq(id.local[1].value, "V1");
    ck_assert(id.has_resid);
    ck_assert(!id.resid_invalid);
    ck_assert_str_eq(id.resid.number, "11010519491231002X");
    ck_assert_str_eq(id.name_han, "张三");
    ck_assert_str_eq(id.name_py, "zhangsan");
    ck_assert_str_eq(id.name_py_family, "zhang");
    ck_assert_str_eq(id.name_py_given, "san");
    ck_assert(!id.name_latin_only);
    ck_assert_int_eq(id.birth_year * 10000 + id.birth_month * 100 + id.birth_day, 19491231);
    ck_assert_int_eq(id.sex, GW_MPI_SEX_FEMALE);
    ck_assert_uint_eq(id.n_phone, 1);
    ck_assert_str_eq(id.phone[0], "13800138000");
    ck_assert_str_eq(id.addr_province, "辽宁");
    ck_assert_str_eq(id.addr_city, "沈阳");
    ck_assert_str_eq(id.addr_district, "和平");
    ck_assert_str_eq(id.addr_detail, "南京北街155号");
}
END_TEST

START_TEST(invalid_resident_id_is_flagged_not_used)
{
    struct gw_mpi_identity id =
        must("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:x\",\"value\":\"1\"},"
             "{\"type\":{\"coding\":[{\"code\":\"NNCHN\"}]},\"value\":\"110105194912310021\"}]}");

    ck_assert(!id.has_resid);
    ck_assert(id.resid_invalid);
    ck_assert_str_eq(id.name_py, "");
}
END_TEST

START_TEST(name_variants)
{
    struct gw_mpi_identity id;

    id = must("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
              "\"name\":[{\"text\":\"欧阳娜娜\"}]}");
    ck_assert_str_eq(id.name_py_family, "ouyang");
    ck_assert_str_eq(id.name_py_given, "nana");
    id = must("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
              "\"name\":[{\"family\":\"王小明\"}]}");
    ck_assert_str_eq(id.name_han, "王小明");
    ck_assert_str_eq(id.name_py_family, "wang");
    ck_assert_str_eq(id.name_py_given, "xiaoming");
    id = must("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
              "\"name\":[{\"family\":\"Wang\",\"given\":[\"Xiao\",\"Ming\"]}]}");
    ck_assert(id.name_latin_only);
    ck_assert_str_eq(id.name_py, "wangxiaoming");
    ck_assert_str_eq(id.name_py_given, "xiaoming");
    id = must("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
              "\"name\":[{\"text\":\"Xiaoming Wang\"}]}");
    ck_assert_str_eq(id.name_py_family, "xiaoming");
    ck_assert_str_eq(id.name_py_given, "wang");
}
END_TEST

static void
bad(const char *json, int rc, const char *where)
{
    struct gw_mpi_identity id;
    struct base_err err = {0};

    ck_assert_int_eq(ident(json, &id, &err), rc);
    ck_assert_msg(strcmp(err.where, where) == 0, "where %s, want %s", err.where, where);
}

START_TEST(errors_name_the_element)
{
    char big[600];

    bad("[]", BASE_E_INVALID, "Patient.resourceType");
    bad("{\"resourceType\":\"Observation\"}", BASE_E_INVALID, "Patient.resourceType");
    bad("{\"resourceType\":\"Patient\"", BASE_E_PARSE, "line 1, column 26");
    bad("{\"resourceType\":\"Patient\"}", BASE_E_INVALID, "Patient.identifier");
    bad("{\"resourceType\":\"Patient\",\"identifier\":{}}", BASE_E_INVALID, "Patient.identifier");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[1]}", BASE_E_INVALID,
        "Patient.identifier[0]");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"value\":\"x\"}]}", BASE_E_INVALID,
        "Patient.identifier[0].value");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":3,\"value\":\"x\"}]}",
        BASE_E_INVALID, "Patient.identifier[0].system");
    snprintf(
        big, sizeof(big),
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"%0200d\"}]}",
        0);
    bad(big, BASE_E_LIMIT, "Patient.identifier[0].value");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"name\":[{\"given\":\"x\"}]}",
        BASE_E_INVALID, "Patient.name[0].given");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"name\":[{\"given\":[1]}]}",
        BASE_E_INVALID, "Patient.name[0].given");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"name\":[\"x\"]}",
        BASE_E_INVALID, "Patient.name[0]");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"birthDate\":\"1980-02-30\"}",
        BASE_E_INVALID, "Patient.birthDate");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"telecom\":[{\"value\":7}]}",
        BASE_E_INVALID, "Patient.telecom[0].value");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"address\":[{\"line\":[5]}]}",
        BASE_E_INVALID, "Patient.address.line");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"address\":[7]}",
        BASE_E_INVALID, "Patient.address[0]");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"address\":[{\"city\":false}]}",
        BASE_E_INVALID, "Patient.address.city");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"gender\":1}",
        BASE_E_INVALID, "Patient.gender");
}
END_TEST

START_TEST(limits_are_enforced)
{
    char doc[4096];
    char big[700];
    struct gw_mpi_identity id;
    struct base_err err = {0};
    char member[100];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(doc, sizeof(doc),
             "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
             "\"name\":[{\"family\":\"%.300s\"}]}",
             big);
    bad(doc, BASE_E_LIMIT, "Patient.name[0].family");
    snprintf(doc, sizeof(doc),
             "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
             "\"name\":[{\"given\":[\"%.200s\",\"%.200s\"]}]}",
             big, big);
    bad(doc, BASE_E_LIMIT, "Patient.name[0].given");
    snprintf(doc, sizeof(doc),
             "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
             "\"address\":[{\"line\":[\"%.600s\"]}]}",
             big);
    bad(doc, BASE_E_LIMIT, "Patient.address.line");
    snprintf(doc, sizeof(doc),
             "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
             "\"address\":[{\"text\":\"%.600s\"}]}",
             big);
    bad(doc, BASE_E_LIMIT, "Patient.address.text");
    snprintf(
        doc, sizeof(doc),
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"%.300s\",\"value\":\"1\"}]}",
        big);
    bad(doc, BASE_E_LIMIT, "Patient.identifier[0].system");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"telecom\":[3]}",
        BASE_E_INVALID, "Patient.telecom[0]");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"telecom\":[{\"system\":[],\"value\":\"1\"}]}",
        BASE_E_INVALID, "Patient.telecom[0].system");
    bad("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}],"
        "\"name\":{}}",
        BASE_E_INVALID, "Patient.name");
    /* nesting beyond the MPI's depth limit */
    snprintf(doc, sizeof(doc), "{\"resourceType\":\"Patient\",\"x\":%s}",
             "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]");
    ck_assert_int_eq(ident(doc, &id, &err), BASE_E_LIMIT);
    memset(member, 'm', sizeof(member) - 1);
    member[sizeof(member) - 1] = '\0';
    ck_assert_int_eq(gw_mpi_identity_from_json(A, member, FULL, strlen(FULL), TODAY, &id, NULL),
                     BASE_E_INVALID);
}
END_TEST

START_TEST(unusable_values_are_skipped)
{
    struct gw_mpi_identity id =
        must("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"\"},"
             "{\"system\":\"s\",\"value\":\"2\"}],\"name\":[{}],"
             "\"telecom\":[{\"system\":\"email\",\"value\":\"a@b\"},{\"system\":\"phone\","
             "\"value\":\"12\"},"
             "{\"value\":\"13800138000\"}],\"gender\":\"M\"}");

    ck_assert_str_eq(id.key.value, "2");
    ck_assert_str_eq(id.name_py, "");
    ck_assert_uint_eq(id.n_phone, 1);
    ck_assert_int_eq(id.sex, GW_MPI_SEX_UNKNOWN);
}
END_TEST

START_TEST(member_is_required)
{
    struct gw_mpi_identity id;
    struct base_err err = {0};

    ck_assert_int_eq(gw_mpi_identity_from_json(A, "", FULL, strlen(FULL), TODAY, &id, &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.where, "member");
}
END_TEST

/* Real Patients from the shared corpus: every one with an identifier yields
 * an identity, and the Synthea ones carry their MR number as the key. */
START_TEST(corpus_patients)
{
    static const char *const files[] = {
        "fhir-r4-examples/json/Patient-example.json",
        "fhir-r4-examples/json/Patient-f001.json",
        "fhir-r4-examples/json/Patient-f201.json",
        "fhir-r4-examples/json/Patient-glossy.json",
        "fhir-r4-examples/json/Patient-dicom.json",
        "fhir-r4-examples/json/Patient-ch-example.json",
    };
    struct gw_mpi_identity id;
    struct base_err err;
    size_t len = 0;
    char *text;

    for (size_t i = 0; i < BASE_ARRAY_LEN(files); i++) {
        text = tu_read_file(tu_corpus_path(files[i]), &len);
        ck_assert_ptr_nonnull(text);
        memset(&err, 0, sizeof(err));
        ck_assert_msg(ident(text, &id, &err) == BASE_OK, "%s: %s at %s", files[i], err.msg,
                      err.where);
        ck_assert_uint_ge(id.n_local, 1);
        free(text);
    }
    text = tu_read_file(tu_corpus_path("synthea/bulk-ndjson-10-patients/Patient.000.ndjson"), &len);
    ck_assert_ptr_nonnull(text);
    size_t n = 0;
    for (char *line = text, *nl; *line != '\0'; line = nl + 1) {
        nl = strchr(line, '\n');
        if (nl == NULL)
            nl = line + strlen(line) - 1;
        memset(&err, 0, sizeof(err));
        ck_assert_msg(gw_mpi_identity_from_json(A, "synthea", line, (size_t)(nl - line), TODAY, &id,
                                                &err) == BASE_OK,
                      "line %zu: %s at %s", n, err.msg, err.where);
        ck_assert_str_eq(id.key.system, "http://hospital.smarthealthit.org");
        ck_assert(id.name_latin_only);
        ck_assert(id.birth_year > 1900);
        n++;
    }
    ck_assert_uint_ge(n, 10);
    free(text);
}
END_TEST

/* ---- scoring ----------------------------------------------------------------------- */

static struct gw_mpi_identity
person(const char *name, const char *birth, const char *gender, const char *phone, const char *addr,
       const char *resid)
{
    char json[1024];

    snprintf(
        json, sizeof(json),
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}%s%s%s],"
        "\"name\":[{\"text\":\"%s\"}],\"birthDate\":\"%s\",\"gender\":\"%s\","
        "\"telecom\":[{\"system\":\"phone\",\"value\":\"%s\"}],"
        "\"address\":[{\"text\":\"%s\"}]}",
        resid ? ",{\"system\":\"urn:oid:2.16.156.10011.1.3\",\"value\":\"" : "", resid ? resid : "",
        resid ? "\"}" : "", name, birth, gender, phone, addr);
    return must(json);
}

static struct gw_mpi_score
score(const struct gw_mpi_identity *a, const struct gw_mpi_identity *b)
{
    struct gw_mpi_score s;

    gw_mpi_score_pair(a, b, NULL, &s);
    return s;
}

START_TEST(exact_match_scores_high)
{
    struct gw_mpi_identity a = person("张三", "1980-05-17", "male", "13800138000",
                                      "辽宁省沈阳市和平区南京北街155号", NULL);
    struct gw_mpi_identity b = person("張 三", "1980-05-17", "male", "+86 138 0013 8000",
                                      "沈阳市和平区南京北街155号", NULL);
    struct gw_mpi_score s = score(&a, &b);
    struct gw_mpi_config cfg = gw_mpi_config_default();

    for (int f = 0; f < GW_MPI_F_COUNT; f++)
        ck_assert_msg(s.level[f] == GW_MPI_L_EXACT, "%s is %s", gw_mpi_field_name(f),
                      gw_mpi_level_name(s.level[f]));
    ck_assert(s.total > cfg.upper);
    ck_assert(!s.twin_guard);
    ck_assert(!s.resid_conflict);
}
END_TEST

START_TEST(levels)
{
    struct gw_mpi_identity a = person("张三", "1980-05-17", "male", "13800138000",
                                      "辽宁省沈阳市和平区南京北街155号", NULL);
    struct gw_mpi_identity b;
    struct gw_mpi_score s;

    b = person("章三", "1980-05-17", "male", "13800138000", "", NULL); /* homophone */
    s = score(&a, &b);
    ck_assert_int_eq(s.level[GW_MPI_F_NAME], GW_MPI_L_PHONETIC);
    ck_assert_int_eq(s.level[GW_MPI_F_ADDRESS], GW_MPI_L_MISSING);
    ck_assert(s.weight[GW_MPI_F_ADDRESS] == 0.0);
    b = person("San Zhang", "1908-05-17", "male", "13800138001", "辽宁省沈阳市和平区三好街", NULL);
    s = score(&a, &b);
    ck_assert_int_eq(s.level[GW_MPI_F_NAME], GW_MPI_L_EXACT);    /* romanized, other order */
    ck_assert_int_eq(s.level[GW_MPI_F_BIRTH], GW_MPI_L_PARTIAL); /* two digits swapped */
    ck_assert_int_eq(s.level[GW_MPI_F_PHONE], GW_MPI_L_PARTIAL);
    ck_assert_int_eq(s.level[GW_MPI_F_ADDRESS], GW_MPI_L_PARTIAL);
    b = person("赵四", "1980-05-18", "female", "13900139000", "辽宁省沈阳市皇姑区", NULL);
    s = score(&a, &b);
    ck_assert_int_eq(s.level[GW_MPI_F_NAME], GW_MPI_L_DISAGREE);
    ck_assert_int_eq(s.level[GW_MPI_F_BIRTH], GW_MPI_L_PARTIAL); /* one digit */
    ck_assert_int_eq(s.level[GW_MPI_F_SEX], GW_MPI_L_DISAGREE);
    ck_assert_int_eq(s.level[GW_MPI_F_PHONE], GW_MPI_L_DISAGREE);
    ck_assert_int_eq(s.level[GW_MPI_F_ADDRESS], GW_MPI_L_WEAK);
    ck_assert(s.total < gw_mpi_config_default().lower);
    b = person("张山", "1980-05", "", "", "吉林省长春市南关区", NULL); /* zhang shan ~ zhang san */
    s = score(&a, &b);
    ck_assert_int_eq(s.level[GW_MPI_F_NAME], GW_MPI_L_PARTIAL);
    ck_assert_int_eq(s.level[GW_MPI_F_BIRTH], GW_MPI_L_PHONETIC); /* year and month only */
    ck_assert_int_eq(s.level[GW_MPI_F_SEX], GW_MPI_L_MISSING);
    ck_assert_int_eq(s.level[GW_MPI_F_ADDRESS], GW_MPI_L_DISAGREE);
}
END_TEST

START_TEST(day_month_swap)
{
    struct gw_mpi_identity a = person("李四", "1985-03-04", "male", "", "", NULL);
    struct gw_mpi_identity b = person("李四", "1985-04-03", "male", "", "", NULL);

    ck_assert_int_eq(score(&a, &b).level[GW_MPI_F_BIRTH], GW_MPI_L_PARTIAL);
}
END_TEST

START_TEST(twins_are_guarded)
{
    struct gw_mpi_identity a = person("王思涵", "2010-03-04", "female", "13800138000",
                                      "辽宁省沈阳市和平区南京北街155号", NULL);
    struct gw_mpi_identity b = person("王思雨", "2010-03-04", "female", "13800138000",
                                      "辽宁省沈阳市和平区南京北街155号", NULL);
    struct gw_mpi_score s = score(&a, &b);
    struct gw_mpi_identity c = person("王思宇", "2010-03-04", "male", "13800138000", "", NULL);
    struct gw_mpi_identity d = person("王思雨", "2010-04-03", "female", "13800138000", "", NULL);
    struct gw_mpi_identity e = person("汪思涵", "2010-03-04", "female", "13800138000", "", NULL);

    ck_assert(s.twin_guard);
    /* same sound, other sex, a near date: still a twin pattern */
    s = score(&c, &d);
    ck_assert_int_eq(s.level[GW_MPI_F_NAME], GW_MPI_L_PHONETIC);
    ck_assert_int_eq(s.level[GW_MPI_F_BIRTH], GW_MPI_L_PARTIAL);
    ck_assert(s.twin_guard);
    /* a homophone typo of the same girl is not */
    s = score(&a, &e);
    ck_assert_int_eq(s.level[GW_MPI_F_NAME], GW_MPI_L_PHONETIC);
    ck_assert(!s.twin_guard);
    ck_assert(s.total >= gw_mpi_config_default().upper);
}
END_TEST

START_TEST(resident_ids_conflict)
{
    struct gw_mpi_identity a =
        person("张三", "1949-12-31", "female", "13800138000", "", "11010519491231002X");
    struct gw_mpi_identity b =
        person("张三", "1949-12-31", "female", "13800138000", "", "110105194912310046");
    struct gw_mpi_identity c = person("张三", "1949-12-31", "female", "13800138000", "", NULL);

    ck_assert(b.has_resid);
    ck_assert(score(&a, &b).resid_conflict);
    ck_assert(!score(&a, &c).resid_conflict);
}
END_TEST

START_TEST(frequency_lowers_common_names)
{
    struct gw_mpi_identity a = person("王伟", "1980-05-17", "male", "", "", NULL);
    struct gw_mpi_identity b = person("王伟", "1980-05-17", "male", "", "", NULL);
    struct gw_mpi_name_freq rare = {1, 1, 100000};
    struct gw_mpi_name_freq common = {500, 600, 100000};
    struct gw_mpi_score s1;
    struct gw_mpi_score s2;

    gw_mpi_score_pair(&a, &b, &rare, &s1);
    gw_mpi_score_pair(&a, &b, &common, &s2);
    ck_assert(s1.weight[GW_MPI_F_NAME] > s2.weight[GW_MPI_F_NAME] + 5);
    ck_assert(s2.weight[GW_MPI_F_NAME] > 0);
    ck_assert_str_eq(gw_mpi_level_name(GW_MPI_L_COUNT), "?");
    ck_assert_str_eq(gw_mpi_field_name(GW_MPI_F_COUNT), "?");
}
END_TEST

Suite *gw_mpi_identity_suite(void)
{
    Suite *s = suite_create("gw_mpi_identity");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, full_patient);
    tcase_add_test(tc, invalid_resident_id_is_flagged_not_used);
    tcase_add_test(tc, name_variants);
    tcase_add_test(tc, errors_name_the_element);
    tcase_add_test(tc, member_is_required);
    tcase_add_test(tc, limits_are_enforced);
    tcase_add_test(tc, unusable_values_are_skipped);
    tcase_add_test(tc, corpus_patients);
    tcase_add_test(tc, exact_match_scores_high);
    tcase_add_test(tc, levels);
    tcase_add_test(tc, day_month_swap);
    tcase_add_test(tc, twins_are_guarded);
    tcase_add_test(tc, resident_ids_conflict);
    tcase_add_test(tc, frequency_lowers_common_names);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
