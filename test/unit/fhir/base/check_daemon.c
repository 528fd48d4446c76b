/* fhir/base/daemon: the daemons' command line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/daemon.h"

/* argv from string literals (main's argv is writable; keep it so). */
static int
args(const char *const *v, const char **config, bool *check)
{
    static char buf[8][64];
    char *argv[8] = {NULL};
    int argc = 0;

    for (; v[argc] != NULL && argc < 7; argc++) {
        snprintf(buf[argc], sizeof(buf[argc]), "%s", v[argc]);
        argv[argc] = buf[argc];
    }
    *config = NULL;
    *check = false;
    return base_daemon_args(argc, argv, "prog", "example.conf", config, check);
}

START_TEST(config_forms_and_check)
{
    const char *config;
    bool check;

    ck_assert_int_eq(
        args((const char *const[]){"prog", "--config", "a.conf", NULL}, &config, &check), -1);
    ck_assert_str_eq(config, "a.conf");
    ck_assert(!check);
    ck_assert_int_eq(args((const char *const[]){"prog", "--config=b.conf", "--check-config", NULL},
                          &config, &check),
                     -1);
    ck_assert_str_eq(config, "b.conf");
    ck_assert(check);
}
END_TEST

START_TEST(usage_errors_and_help)
{
    const char *config;
    bool check;

    /* no configuration, a --config without its file, an unknown option */
    ck_assert_int_eq(args((const char *const[]){"prog", NULL}, &config, &check), 2);
    ck_assert_int_eq(args((const char *const[]){"prog", "--config", NULL}, &config, &check), 2);
    ck_assert_int_eq(
        args((const char *const[]){"prog", "--config", "a", "--verbose", NULL}, &config, &check),
        2);
    ck_assert_int_eq(args((const char *const[]){"prog", "--help", NULL}, &config, &check), 0);
}
END_TEST

Suite *
fhir_base_daemon_suite(void)
{
    Suite *s = suite_create("fhir_base_daemon");
    TCase *tc = tcase_create("args");

    tcase_add_test(tc, config_forms_and_check);
    tcase_add_test(tc, usage_errors_and_help);
    suite_add_tcase(s, tc);
    return s;
}
