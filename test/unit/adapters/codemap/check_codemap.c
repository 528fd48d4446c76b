/* Local code maps: CSV loading, lookups, errors with FILE:LINE:COLUMN, the
 * coverage report, and their use by the HL7 v2 mapper. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/codemap/codemap.h"
#include "adapters/mapkit/mapkit.h"
#include "test/unit/adapters/hl7v2/hl7_test.h"

static struct codemap *
load(const char *csv, struct base_err *err, int expect)
{
    struct codemap *cm = codemap_new(NULL);

    ck_assert_ptr_nonnull(cm);
    ck_assert_int_eq(codemap_load_buffer(cm, "lab.csv", csv, strlen(csv), err), expect);
    return cm;
}

static const char *
target_code(const struct codemap *cm, const char *sys, const char *code, size_t k)
{
    const struct codemap_target *t =
        codemap_lookup(cm, base_str_from_cstr(sys), base_str_from_cstr(code));

    while (t != NULL && k-- > 0)
        t = t->next;
    return t != NULL ? t->code : NULL;
}

START_TEST(loads_and_looks_up)
{
    struct base_err err = {0};
    struct codemap *cm =
        load("\xEF\xBB\xBFlocal_system,local_code,target_system,target_code,target_display,note\r\n"
             "# glucose\r\n"
             "99LAB,GLU,LN,2345-7,\"Glucose [Mass/volume] in Serum or Plasma\",x\r\n"
             "99LAB,GLU,SCT,33747003,Glucose measurement,\r\n"
             "\r\n"
             "OBX-3,K,http://loinc.org,2823-3,\"Potassium, \"\"serum\"\"\",\n"
             "99LAB,GLU,LN,2345-7,dup row is fine,\n"
             "ZZ,A,2.16.156.10011.2.3.3.4,1,男,\n",
             &err, BASE_OK);
    const struct codemap_target *t;

    ck_assert_uint_eq(codemap_size(cm), 3);
    ck_assert_str_eq(target_code(cm, "99LAB", "GLU", 0), "2345-7");
    ck_assert_str_eq(target_code(cm, "99LAB", "GLU", 1), "33747003");
    t = codemap_lookup(cm, base_str_from_cstr("99LAB"), base_str_from_cstr("GLU"));
    ck_assert_str_eq(t->system, "http://loinc.org");
    ck_assert_str_eq(t->display, "Glucose [Mass/volume] in Serum or Plasma");
    ck_assert_str_eq(t->next->system, "http://snomed.info/sct");
    t = codemap_lookup(cm, base_str_from_cstr("OBX-3"), base_str_from_cstr("K"));
    ck_assert_str_eq(t->display, "Potassium, \"serum\"");
    t = codemap_lookup(cm, base_str_from_cstr("ZZ"), base_str_from_cstr("A"));
    ck_assert_str_eq(t->system, "urn:oid:2.16.156.10011.2.3.3.4");
    ck_assert_ptr_null(codemap_lookup(cm, base_str_from_cstr("99LAB"), base_str_from_cstr("NA")));
    ck_assert_ptr_null(codemap_lookup(cm, base_str_from_cstr("99lab"), base_str_from_cstr("GLU")));
    codemap_free(cm);
}
END_TEST

START_TEST(many_rows_grow_the_table)
{
    struct base_err err = {0};
    struct codemap *cm = codemap_new(NULL);
    char *csv = malloc(200000);
    size_t o = (size_t)sprintf(csv, "local_system,local_code,target_system,target_code\n");

    for (int i = 0; i < 5000; i++)
        o += (size_t)sprintf(csv + o, "L,C%d,LN,%d-1\n", i, i);
    ck_assert_int_eq(codemap_load_buffer(cm, "big.csv", csv, o, &err), BASE_OK);
    ck_assert_uint_eq(codemap_size(cm), 5000);
    ck_assert_str_eq(target_code(cm, "L", "C4321", 0), "4321-1");
    free(csv);
    codemap_free(cm);
}
END_TEST

START_TEST(bad_files_name_file_line_column)
{
    struct {
        const char *csv;
        const char *where;
        int rc;
        const char *msg;
    } cases[] = {
        {"", "lab.csv:1:1", BASE_E_INVALID, "file has no header row"},
        {"local_system,local_code,target_system\n", "lab.csv:1:1", BASE_E_INVALID,
         "header has no target_code column"},
        {"local_system,local_code,target_system,target_code\nL,C,LN\n", "lab.csv:2:1", BASE_E_PARSE,
         "wrong number of columns"},
        {"local_system,local_code,target_system,target_code\nL,,LN,1\n", "lab.csv:2:3",
         BASE_E_INVALID, "value is empty"},
        {"local_system,local_code,target_system,target_code\nL,C,NOPE,1\n", "lab.csv:2:5",
         BASE_E_INVALID, "target system is neither a known name nor a URI"},
        {"local_system,local_code,target_system,target_code\nL,C,LN,1\nL,C,LOINC,2\n",
         "lab.csv:3:11", BASE_E_INVALID,
         "local code already maps to another code of this target system"},
        {"local_system,local_code,target_system,target_code\nL,\"C,LN,1\n", "lab.csv:2:3",
         BASE_E_PARSE, "quoted field is not closed"},
        {"local_system,local_code,target_system,target_code\nL,\"C\"x,LN,1\n", "lab.csv:2:6",
         BASE_E_PARSE, "unexpected character after a closing quote"},
        {"local_system,local_code,target_system,target_code\nL,C\"x,LN,1\n", "lab.csv:2:4",
         BASE_E_PARSE, "quote inside an unquoted field"},
        {"local_system,local_code,target_system,target_code\nL,C,LN,1\nL,\xff,LN,2\n",
         "lab.csv:3:3", BASE_E_PARSE, "bytes are not valid UTF-8"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        struct base_err err = {0};
        struct codemap *cm = load(cases[i].csv, &err, cases[i].rc);

        ck_assert_msg(strcmp(err.where, cases[i].where) == 0, "case %zu: %s", i, err.where);
        ck_assert_msg(strcmp(err.msg, cases[i].msg) == 0, "case %zu: %s", i, err.msg);
        codemap_free(cm);
    }
}
END_TEST

START_TEST(limits)
{
    struct codemap_limits lim = CODEMAP_LIMITS_DEFAULT;
    struct base_err err = {0};
    struct codemap *cm;
    const char *csv = "local_system,local_code,target_system,target_code\nL,C,LN,1\nL,D,LN,2\n";

    lim.max_rows = 1;
    cm = codemap_new(&lim);
    ck_assert_int_eq(codemap_load_buffer(cm, "x.csv", csv, strlen(csv), &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "x.csv:3:1");
    codemap_free(cm);
    lim = (struct codemap_limits)CODEMAP_LIMITS_DEFAULT;
    lim.max_field = 3;
    cm = codemap_new(&lim);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(codemap_load_buffer(cm, "x.csv", csv, strlen(csv), &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "x.csv:1:1");
    codemap_free(cm);
    lim = (struct codemap_limits)CODEMAP_LIMITS_DEFAULT;
    lim.max_file = 10;
    cm = codemap_new(&lim);
    ck_assert_int_eq(codemap_load_buffer(cm, "x.csv", csv, strlen(csv), &err), BASE_E_LIMIT);
    codemap_free(cm);
}
END_TEST

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(loads_a_directory)
{
    char dir[] = "/tmp/codemap-test-XXXXXX";
    char path[256];
    struct codemap *cm = NULL;
    struct base_err err = {0};

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a-lab.csv", dir);
    write_file(path, "local_system,local_code,target_system,target_code\n99LAB,GLU,LN,2345-7\n");
    snprintf(path, sizeof(path), "%s/b-dx.csv", dir);
    write_file(path, "local_code,local_system,target_code,target_system\nHTN,99DX,I10,ICD-10\n");
    snprintf(path, sizeof(path), "%s/readme.txt", dir);
    write_file(path, "not a map");
    ck_assert_int_eq(codemap_load_dir(dir, NULL, &cm, &err), BASE_OK);
    ck_assert_uint_eq(codemap_size(cm), 2);
    ck_assert_str_eq(target_code(cm, "99DX", "HTN", 0), "I10");
    codemap_free(cm);
    snprintf(path, sizeof(path), "%s/c-bad.csv", dir);
    write_file(path, "local_system,local_code,target_system,target_code\nX,Y,??,1\n");
    cm = NULL;
    ck_assert_int_eq(codemap_load_dir(dir, NULL, &cm, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "c-bad.csv:2:5");
    ck_assert_ptr_null(cm);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(codemap_load_dir("/nonexistent/codemaps", NULL, &cm, &err), BASE_E_IO);
    for (const char *n = "a-lab.csv\0b-dx.csv\0readme.txt\0c-bad.csv\0"; *n; n += strlen(n) + 1) {
        snprintf(path, sizeof(path), "%s/%s", dir, n);
        unlink(path);
    }
    rmdir(dir);
}
END_TEST

START_TEST(report_counts_and_lists)
{
    struct codemap_report *r = codemap_report_new(2);
    json_t *j;

    codemap_report_note(r, base_str_from_cstr("sysB"), base_str_from_cstr("X"), false);
    codemap_report_note(r, base_str_from_cstr("sysA"), base_str_from_cstr("1"), true);
    codemap_report_note(r, base_str_from_cstr("sysB"), base_str_from_cstr("Y"), false);
    codemap_report_note(r, base_str_from_cstr("sysB"), base_str_from_cstr("X"), false);
    codemap_report_note(r, base_str_from_cstr("sysB"), base_str_from_cstr("Z"), false);
    j = codemap_report_json(r);
    ck_assert_str_eq(th_str(j, "systems[0].system"), "sysA");
    ck_assert_int_eq(json_integer_value(th_at(j, "systems[0].mapped")), 1);
    ck_assert_int_eq(json_integer_value(th_at(j, "systems[1].unmapped")), 4);
    ck_assert_uint_eq(json_array_size(th_at(j, "systems[1].unmapped_codes")), 2);
    ck_assert_str_eq(th_str(j, "systems[1].unmapped_codes[0]"), "X");
    ck_assert_str_eq(th_str(j, "systems[1].unmapped_codes[1]"), "Y");
    ck_assert_int_eq(json_integer_value(th_at(j, "systems[1].unmapped_codes_dropped")), 1);
    json_decref(j);
    codemap_report_free(r);
}
END_TEST

struct uses {
    char text[4096];
    size_t len;
};

static void
collect_use(void *ctx, const char *system, const char *code, bool mapped, uint64_t count)
{
    struct uses *u = ctx;

    u->len +=
        (size_t)snprintf(u->text + u->len, sizeof(u->text) - u->len, "%s|%s|%c|%llu;", system,
                         code != NULL ? code : "-", mapped ? 'm' : 'u', (unsigned long long)count);
}

/* What the adapter hands its store for one message: every count, with the
 * uses of each listed code, past the table's first growth. */
START_TEST(report_foreach_gives_uses_per_code)
{
    struct codemap_report *r = codemap_report_new(40);
    struct uses u = {{0}, 0};
    char code[16];
    char want[64];

    for (int i = 0; i < 45; i++) { /* 40 listed, 5 past the bound */
        snprintf(code, sizeof(code), "C%02d", i);
        for (int k = 0; k <= i % 3; k++)
            codemap_report_note(r, base_str_from_cstr("sysB"), base_str_from_cstr(code), false);
    }
    codemap_report_note(r, base_str_from_cstr("sysA"), base_str_from_cstr("1"), true);
    codemap_report_note(r, base_str_from_cstr("sysA"), base_str_from_cstr("2"), true);
    codemap_report_foreach(r, collect_use, &u);
    ck_assert_ptr_nonnull(strstr(u.text, "sysA|-|m|2;"));
    for (int i = 0; i < 40; i++) {
        snprintf(want, sizeof(want), "sysB|C%02d|u|%d;", i, i % 3 + 1);
        ck_assert_msg(strstr(u.text, want) != NULL, "%s missing", want);
    }
    ck_assert_ptr_null(strstr(u.text, "sysB|C40|"));
    /* C40..C44 were seen 2+3+1+2+3 times: uses past the list */
    ck_assert_ptr_nonnull(strstr(u.text, "sysB|-|u|11;"));
    ck_assert_ptr_null(strstr(u.text, "sysA|-|u|"));
    codemap_report_free(r);
}
END_TEST

START_TEST(plugs_into_the_mapkit_hook)
{
    /* the CDA and CSV converters take a struct adapter_codemap (mapkit.h) */
    struct base_err err = {0};
    struct codemap *cm = load("local_system,local_code,target_system,target_code,target_display\n"
                              "urn:oid:1.2.156.1,GLU,LN,2345-7,Glucose\n",
                              &err, BASE_OK);
    struct codemap_report *r = codemap_report_new(0);
    struct codemap_hook hook = {cm, r};
    struct adapter_codemap map = {codemap_adapter_fn, &hook};
    json_t *cc = json_object();
    json_t *rep;

    ck_assert_int_eq(adapter_cc_add_coding(cc, "urn:oid:1.2.156.1", "GLU", "glucose", &map),
                     BASE_OK);
    ck_assert_int_eq(adapter_cc_add_coding(cc, "urn:oid:1.2.156.1", "NOPE", NULL, &map), BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(cc, "coding")), 3);
    ck_assert_str_eq(th_str(cc, "coding[0].code"), "GLU"); /* the local coding is kept */
    ck_assert_str_eq(th_str(cc, "coding[1].system"), "http://loinc.org");
    ck_assert_str_eq(th_str(cc, "coding[1].code"), "2345-7");
    ck_assert_str_eq(th_str(cc, "coding[1].display"), "Glucose");
    ck_assert_str_eq(th_str(cc, "coding[2].code"), "NOPE");
    rep = codemap_report_json(r);
    ck_assert_int_eq(json_integer_value(th_at(rep, "systems[0].mapped")), 1);
    ck_assert_int_eq(json_integer_value(th_at(rep, "systems[0].unmapped")), 1);
    ck_assert_str_eq(th_str(rep, "systems[0].unmapped_codes[0]"), "NOPE");
    json_decref(rep);
    json_decref(cc);
    codemap_report_free(r);
    codemap_free(cm);
}
END_TEST

START_TEST(mapper_adds_standard_codes_and_counts)
{
    const char *csv = "local_system,local_code,target_system,target_code,target_display\n"
                      "99LAB,GLU,LN,2345-7,Glucose\n"
                      "OBX-3,NA,LN,2951-2,Sodium\n"
                      "99DX,HTN,ICD-10,I10,Essential hypertension\n";
    struct base_err err = {0};
    struct codemap *cm = load(csv, &err, BASE_OK);
    struct codemap_report *r = codemap_report_new(0);
    struct hl7v2_map_opts o = HL7V2_MAP_OPTS_DEFAULT;
    json_t *b;
    json_t *rep;
    json_t *glu;

    o.codemap = cm;
    o.codemap_report = r;
    b = th_convert_opts("MSH|^~\\&|LIS|LAB|FG|REG|20240301||ORU^R01|C1|P|2.5\n"
                        "PID|1||M1^^^HIS^MR\n"
                        "DG1|1||HTN^Hypertension^99DX\n"
                        "OBR|1||F1|P^Panel^99LAB\n"
                        "OBX|1|NM|GLU^Glucose^99LAB||5.6|mmol/L|||||F\n"
                        "OBX|2|NM|NA^Sodium||140|mmol/L|||||F\n"
                        "OBX|3|NM|XYZ^Unknown^99LAB||1|||||F\n"
                        "OBX|4|NM|2823-3^Potassium^LN||4.1|mmol/L|||||F\n",
                        &o);
    glu = th_res(b, "Observation", 0);
    ck_assert_str_eq(th_str(glu, "code.coding[0].code"), "GLU"); /* local kept */
    ck_assert_str_eq(th_str(glu, "code.coding[0].system"), "urn:fhirgate:member:LAB/code/99LAB");
    ck_assert_str_eq(th_str(glu, "code.coding[1].system"), "http://loinc.org");
    ck_assert_str_eq(th_str(glu, "code.coding[1].code"), "2345-7");
    ck_assert_str_eq(th_str(th_res(b, "Observation", 1), "code.coding[1].code"), "2951-2");
    ck_assert_uint_eq(json_array_size(th_at(th_res(b, "Observation", 2), "code.coding")), 1);
    ck_assert_uint_eq(json_array_size(th_at(th_res(b, "Observation", 3), "code.coding")), 1);
    ck_assert_str_eq(th_str(th_res(b, "Condition", 0), "code.coding[1].system"),
                     "http://hl7.org/fhir/sid/icd-10");
    rep = codemap_report_json(r);
    /* 99LAB: GLU mapped; P (OBR-4) and XYZ not.  LOINC codes are not counted. */
    ck_assert_str_eq(th_str(rep, "systems[1].system"), "urn:fhirgate:member:LAB/code/99LAB");
    ck_assert_int_eq(json_integer_value(th_at(rep, "systems[1].mapped")), 1);
    ck_assert_int_eq(json_integer_value(th_at(rep, "systems[1].unmapped")), 2);
    ck_assert_str_eq(th_str(rep, "systems[1].unmapped_codes[0]"), "P");
    ck_assert_str_eq(th_str(rep, "systems[1].unmapped_codes[1]"), "XYZ");
    ck_assert_str_eq(th_str(rep, "systems[2].system"), "urn:fhirgate:member:LAB/code/OBX-3");
    ck_assert_int_eq(json_integer_value(th_at(rep, "systems[2].mapped")), 1);
    ck_assert_str_eq(th_str(rep, "systems[0].system"), "urn:fhirgate:member:LAB/code/99DX");
    ck_assert_uint_eq(json_array_size(json_object_get(rep, "systems")), 3);
    json_decref(rep);
    json_decref(b);
    codemap_report_free(r);
    codemap_free(cm);
}
END_TEST

Suite *codemap_suite(void);

Suite *
codemap_suite(void)
{
    Suite *s = suite_create("codemap");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, loads_and_looks_up);
    tcase_add_test(tc, many_rows_grow_the_table);
    tcase_add_test(tc, bad_files_name_file_line_column);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, loads_a_directory);
    tcase_add_test(tc, report_counts_and_lists);
    tcase_add_test(tc, report_foreach_gives_uses_per_code);
    tcase_add_test(tc, mapper_adds_standard_codes_and_counts);
    tcase_add_test(tc, plugs_into_the_mapkit_hook);
    suite_add_tcase(s, tc);
    return s;
}
