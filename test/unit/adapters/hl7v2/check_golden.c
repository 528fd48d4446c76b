/*
 * Golden files: every directory test/golden/hl7v2/NAME holds input.hl7 and
 * either expected.json (the Bundle, compared after sorting keys) or
 * expected.err ("rc issue_code where", one line).  Adding a case means
 * adding files.  FHIRGATE_GOLDEN_UPDATE=1 rewrites expected.json from the
 * current output (review the diff before committing).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test/support/testutil.h"
#include "test/unit/adapters/hl7v2/hl7_test.h"

#define GOLDEN_DIR "test/golden/hl7v2"

static char *
canonical(const json_t *v)
{
    struct base_buf b;
    char *s;

    base_buf_init(&b, 0);
    ck_assert_int_eq(fhir_json_dump(v, FHIR_JSON_PRETTY | FHIR_JSON_SORT_KEYS, &b, NULL), BASE_OK);
    s = strdup(b.data);
    base_buf_fini(&b);
    return s;
}

static void
check_case(const char *dir, const char *name)
{
    char path[1024];
    size_t len = 0;
    char *input;
    char *want;
    struct hl7v2_file_opts fo = {0};
    struct base_err err = {0};
    json_t *out = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/%s/input.hl7", dir, name);
    input = tu_read_file(path, &len);
    ck_assert_msg(input != NULL, "%s: no input.hl7", name);
    rc = hl7v2_convert_file(input, len, &fo, &out, &err);
    snprintf(path, sizeof(path), "%s/%s/expected.err", dir, name);
    want = tu_read_file(path, &len);
    if (want != NULL) {
        char got[512];

        snprintf(got, sizeof(got), "%s %s %s\n", base_rc_name(rc), err.issue_code, err.where);
        ck_assert_msg(strcmp(got, want) == 0, "%s:\n got %s\nwant %s", name, got, want);
        free(want);
    } else {
        char *text;

        ck_assert_msg(rc == BASE_OK, "%s: %s: %s", name, err.where, err.msg);
        th_assert_valid(out);
        text = canonical(out);
        snprintf(path, sizeof(path), "%s/%s/expected.json", dir, name);
        if (getenv("FHIRGATE_GOLDEN_UPDATE") != NULL) {
            FILE *f = fopen(path, "w");

            ck_assert_ptr_nonnull(f);
            fputs(text, f);
            fclose(f);
        }
        want = tu_read_file(path, &len);
        ck_assert_msg(want != NULL, "%s: no expected.json or expected.err", name);
        {
            json_t *w = NULL;
            char *wtext;

            ck_assert_int_eq(fhir_json_parse(want, len, NULL, &w, &err), BASE_OK);
            wtext = canonical(w);
            ck_assert_msg(strcmp(text, wtext) == 0, "%s: output differs from expected.json", name);
            free(wtext);
            json_decref(w);
        }
        free(want);
        free(text);
    }
    json_decref(out);
    free(input);
}

START_TEST(golden_cases)
{
    DIR *d = opendir(GOLDEN_DIR);
    struct dirent *de;
    size_t n = 0;

    ck_assert_msg(d != NULL, "run from the repository root (%s)", GOLDEN_DIR);
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        check_case(GOLDEN_DIR, de->d_name);
        n++;
    }
    closedir(d);
    ck_assert_uint_ge(n, 8);
}
END_TEST

Suite *hl7v2_golden_suite(void);

Suite *
hl7v2_golden_suite(void)
{
    Suite *s = suite_create("hl7v2_golden");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, golden_cases);
    suite_add_tcase(s, tc);
    return s;
}
