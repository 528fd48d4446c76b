/*
 * Runs every unit suite.  Suites register themselves by defining
 * `Suite *NAME_suite(void)` in a check_*.c file under test/unit; the build
 * collects them into unit_suites.inc.  CK_RUN_SUITE / CK_RUN_CASE select a
 * subset, CK_VERBOSITY=verbose lists every test, CK_FORK=no runs in-process
 * (for gdb and valgrind).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define SUITE(name) Suite *name(void);
#include "unit_suites.inc"
#undef SUITE

int
main(void)
{
    SRunner *sr = srunner_create(NULL);
    int failed;

    setvbuf(stdout, NULL, _IOLBF, 0);
#define SUITE(name) srunner_add_suite(sr, name());
#include "unit_suites.inc"
#undef SUITE
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
