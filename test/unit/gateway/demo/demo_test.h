/*
 * test/unit/gateway/demo/demo_test.h — a generation in a scratch folder,
 * shared by the demo suites (made once per test case, in the runner's
 * process, before the tests fork).
 */
#ifndef TEST_UNIT_GATEWAY_DEMO_DEMO_TEST_H
#define TEST_UNIT_GATEWAY_DEMO_DEMO_TEST_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir/json/fhir_json.h"
#include "gateway/demo/gw_demo.h"
#include "test/support/testutil.h"

BASE_UNUSED static int
demo_test_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* A new scratch folder; path into dir[256]. */
BASE_UNUSED static void
demo_test_tmpdir(char dir[256])
{
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, 256, "%s/fhirgate-demo.XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

BASE_UNUSED static void
demo_test_rmdir(const char *dir)
{
    if (dir[0] != '\0')
        nftw(dir, demo_test_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Generate with `seed` into a new scratch folder (aborts on failure: the
 * fixture runs outside any test). */
BASE_UNUSED static void
demo_test_generate(uint64_t seed, char dir[256], struct gw_demo_summary *sum)
{
    struct gw_demo_config cfg = gw_demo_config_default();
    struct base_err err = {0};

    cfg.seed = seed;
    demo_test_tmpdir(dir);
    if (gw_demo_generate(&cfg, dir, sum, &err) != BASE_OK) {
        fprintf(stderr, "demo generation failed: %s: %s\n", err.where, err.msg);
        abort();
    }
}

/* manifest.json of a generation (new reference). */
BASE_UNUSED static json_t *
demo_test_manifest(const char *dir)
{
    char path[512];
    size_t len = 0;
    char *text;
    json_t *doc = NULL;

    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    text = tu_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(fhir_json_parse(text, len, NULL, &doc, NULL), BASE_OK);
    free(text);
    return doc;
}

/* With DEMO_TEST_ONE_GENERATION defined before the include: `dir` and
 * `sum` of one default-seed generation, made by setup_once() (an unchecked
 * fixture) and removed by teardown_once(). */
#ifdef DEMO_TEST_ONE_GENERATION
static char dir[256];
static struct gw_demo_summary sum;

static void
setup_once(void)
{
    demo_test_generate(GW_DEMO_DEFAULT_SEED, dir, &sum);
}

static void
teardown_once(void)
{
    demo_test_rmdir(dir);
}
#endif

#endif /* TEST_UNIT_GATEWAY_DEMO_DEMO_TEST_H */
