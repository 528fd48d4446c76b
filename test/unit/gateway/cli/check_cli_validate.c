/*
 * `fhirgate validate`, run as a program (bin/fhirgate, or $FHIRGATE_BIN).
 */
#include <check.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test/support/testutil.h"

extern char **environ;

struct run {
    int status; /* exit status */
    char *out;  /* stdout */
    char *err;  /* stderr */
};

static char *
slurp_fd(int fd)
{
    FILE *f = fdopen(fd, "r");
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    int ch;

    ck_assert_ptr_nonnull(f);
    rewind(f);
    while ((ch = fgetc(f)) != EOF)
        fputc(ch, m);
    fclose(m);
    fclose(f);
    return text;
}

static int
tmpfile_fd(void)
{
    char path[] = "/tmp/fhirgate-cli-XXXXXX";
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    unlink(path);
    return fd;
}

/* Run bin/fhirgate with argv (NULL-terminated, without argv[0]). */
static struct run
run(const char *const *args)
{
    const char *argv[32] = {"fhirgate"};
    posix_spawn_file_actions_t fa;
    int out = tmpfile_fd();
    int err = tmpfile_fd();
    struct run r;
    pid_t pid;
    int st;
    size_t n = 1;

    for (; args[n - 1] != NULL; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out, 1);
    posix_spawn_file_actions_adddup2(&fa, err, 2);
    ck_assert_int_eq(posix_spawn(&pid, tu_bin("fhirgate"), &fa, NULL, (char *const *)argv, environ),
                     0);
    posix_spawn_file_actions_destroy(&fa);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    r.status = WEXITSTATUS(st);
    r.out = slurp_fd(out);
    r.err = slurp_fd(err);
    return r;
}

static void
run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

/* Write `text` to a new temporary file named ...suffix; returns its path. */
static char *
write_tmp(const char *text, const char *suffix)
{
    char *path = malloc(64);
    int fd;

    snprintf(path, 64, "/tmp/fhirgate-val-XXXXXX%s", suffix);
    fd = mkstemps(path, (int)strlen(suffix));
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

START_TEST(help_and_usage)
{
    struct run r = run((const char *[]){"validate", "--help", NULL});

    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: fhirgate validate"));
    run_free(&r);
    r = run((const char *[]){"validate", NULL});
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    r = run((const char *[]){"validate", "--bogus", "x.json", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "bad argument"));
    run_free(&r);
    r = run((const char *[]){"validate", "--format", "yaml", "x.json", NULL});
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    r = run((const char *[]){"validate", "--max-issues", "0", "x.json", NULL});
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    r = run((const char *[]){"--help", NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "validate"));
    run_free(&r);
}
END_TEST

START_TEST(valid_files_exit_zero_quietly)
{
    const char *p = tu_corpus_path("fhir-r4-examples/json/Patient-example.json");
    char *ex = strdup(p);
    const char *q = tu_corpus_path("synthea/bulk-ndjson-10-patients/Patient.000.ndjson");
    struct run r = run((const char *[]){"validate", ex, q, NULL});

    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.err, "");
    ck_assert_str_eq(r.out, "");
    run_free(&r);
    free(ex);
}
END_TEST

START_TEST(problems_one_per_line)
{
    char *good = write_tmp("{\"resourceType\":\"Patient\",\"gender\":\"male\"}", ".json");
    char *bad = write_tmp("{\"resourceType\":\"Patient\",\"gender\":\"mal\",\"foo\":1,"
                          "\"birthDate\":\"2015-02-29\"}",
                          ".json");
    struct run r = run((const char *[]){"validate", good, bad, NULL});
    char want[1024];

    ck_assert_int_eq(r.status, 1);
    snprintf(want, sizeof(want),
             "%s: Patient.gender: error: code-invalid: code is not in the required value set "
             "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1\n"
             "%s: Patient.foo: error: structure: unknown element for type Patient\n"
             "%s: Patient.birthDate: error: value: value is not a valid calendar date for type "
             "date\n",
             bad, bad, bad);
    ck_assert_str_eq(r.err, want);
    run_free(&r);
    unlink(good);
    unlink(bad);
    free(good);
    free(bad);
}
END_TEST

START_TEST(ndjson_lines_and_parse_errors)
{
    char *nd = write_tmp("{\"resourceType\":\"Patient\"}\n\n{\"resourceType\":\"Patient\","
                         "\"active\":\"yes\"}\n{\"resourceType\":\n",
                         ".ndjson");
    struct run r = run((const char *[]){"validate", nd, NULL});
    char want[1024];

    ck_assert_int_eq(r.status, 1);
    snprintf(want, sizeof(want),
             "%s:3: Patient.active: error: structure: expected a boolean for type boolean, "
             "found a string\n"
             "%s:4: line 1, column 17: error: structure: ",
             nd, nd);
    ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "%s", r.err);
    run_free(&r);
    /* the same file read as one JSON document is one parse error */
    r = run((const char *[]){"validate", "--format", "json", nd, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, ": line 3, column 1: error: structure: "));
    run_free(&r);
    unlink(nd);
    free(nd);
}
END_TEST

START_TEST(options_and_unreadable_files)
{
    char *pat =
        write_tmp("{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"a\\u0001\"}]}", ".json");
    struct run r = run((const char *[]){"validate", "--type", "Observation", pat, NULL});

    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "resourceType: error: value: resourceType is Patient"));
    run_free(&r);
    /* a warning alone does not fail; --errors-only hides it */
    r = run((const char *[]){"validate", pat, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.err, "Patient.name[0].text: warning: value: "));
    run_free(&r);
    r = run((const char *[]){"validate", "--errors-only", pat, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.err, "");
    run_free(&r);
    r = run((const char *[]){"validate", "/nonexistent/x.json", pat, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/x.json: could not read"));
    run_free(&r);
    unlink(pat);
    free(pat);
}
END_TEST

START_TEST(many_problems_are_capped)
{
    char buf[4096];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "{\"resourceType\":\"Patient\"");
    char *f;
    struct run r;
    size_t lines = 0;

    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",\"x%d\":1", i);
    snprintf(buf + n, sizeof(buf) - n, "}");
    f = write_tmp(buf, ".json");
    r = run((const char *[]){"validate", "--max-issues", "5", f, NULL});
    ck_assert_int_eq(r.status, 1);
    for (const char *p = r.err; *p; p++)
        lines += *p == '\n';
    ck_assert_uint_eq(lines, 6); /* five issues and the note that more exist */
    ck_assert_ptr_nonnull(strstr(r.err, "more than 5 problems"));
    run_free(&r);
    unlink(f);
    free(f);
}
END_TEST

/* FHIR XML: by suffix, by content, or --format xml; the same issues as
 * JSON, plus the XML-only ones with their line. */
START_TEST(xml_files)
{
    char *good = write_tmp("<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"male\"/>"
                           "</Patient>",
                           ".xml");
    char *bad = write_tmp("<?xml version=\"1.0\"?>\n<Patient xmlns=\"http://hl7.org/fhir\">\n"
                          "  <gender value=\"mal\"/>\n  <foo/>\n</Patient>\n",
                          ".dat");
    struct run r = run((const char *[]){"validate", good, bad, NULL});
    char want[1024];

    ck_assert_int_eq(r.status, 1);
    snprintf(want, sizeof(want),
             "%s: Patient.foo: error: structure: unknown element for type Patient (line 4)\n"
             "%s: Patient.gender: error: code-invalid: code is not in the required value set "
             "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1\n",
             bad, bad);
    ck_assert_str_eq(r.err, want);
    run_free(&r);
    r = run((const char *[]){"validate", "--format", "xml", good, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.err, "");
    run_free(&r);
    r = run((const char *[]){"validate", "--format", "json", good, NULL});
    ck_assert_int_eq(r.status, 1);
    run_free(&r);
    r = run((const char *[]){"validate",
                             tu_corpus_path("fhir-r4-examples/xml/"
                                            "observation-example-f001-glucose.xml"),
                             NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    run_free(&r);
    unlink(good);
    unlink(bad);
    free(good);
    free(bad);
}
END_TEST

/* fhirgate convert between FHIR JSON and FHIR XML, both ways. */
START_TEST(convert_json_xml)
{
    char *ex = strdup(tu_corpus_path("fhir-r4-examples/json/Observation-f001.json"));
    struct run r =
        run((const char *[]){"convert", "--from", "fhir-json", "--to", "fhir-xml", ex, NULL});
    char *xml;

    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "<Observation xmlns=\"http://hl7.org/fhir\">"));
    ck_assert_ptr_nonnull(strstr(r.out, "<value value=\"6.3\"/>"));
    xml = write_tmp(r.out, ".xml");
    run_free(&r);
    r = run((const char *[]){"convert", "--from", "fhir-xml", "--to", "fhir-json", xml, NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "\"value\": 6.3,"));
    run_free(&r);
    r = run((const char *[]){"convert", "--help", NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "fhir-xml"));
    run_free(&r);
    unlink(xml);
    free(xml);
    xml = write_tmp("<Patient xmlns=\"http://hl7.org/fhir\"><foo/></Patient>", ".xml");
    r = run((const char *[]){"convert", "--from", "fhir-xml", xml, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "Patient.foo: unknown element for type Patient (line 1)"));
    ck_assert_str_eq(r.out, "");
    run_free(&r);
    unlink(xml);
    free(xml);
    free(ex);
}
END_TEST

Suite *cli_validate_suite(void)
{
    Suite *s = suite_create("cli_validate");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, help_and_usage);
    tcase_add_test(tc, valid_files_exit_zero_quietly);
    tcase_add_test(tc, problems_one_per_line);
    tcase_add_test(tc, ndjson_lines_and_parse_errors);
    tcase_add_test(tc, options_and_unreadable_files);
    tcase_add_test(tc, many_problems_are_capped);
    tcase_add_test(tc, xml_files);
    tcase_add_test(tc, convert_json_xml);
    suite_add_tcase(s, tc);
    return s;
}
