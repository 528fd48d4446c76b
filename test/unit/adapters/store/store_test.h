/*
 * test/unit/adapters/store/store_test.h — what the store's unit suites
 * share: an arena per test and JSON from text.
 */
#ifndef TEST_UNIT_ADAPTERS_STORE_STORE_TEST_H
#define TEST_UNIT_ADAPTERS_STORE_STORE_TEST_H

#include <check.h>
#include <string.h>

#include "adapters/store/store_int.h"
#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"

#define STT_UNUSED __attribute__((unused))

static struct base_arena *A;

static STT_UNUSED void
setup(void)
{
    A = base_arena_new(16u << 20);
}

static STT_UNUSED void
teardown(void)
{
    base_arena_free(A);
}

static STT_UNUSED json_t *
js(const char *text)
{
    json_t *v = NULL;

    ck_assert_int_eq(fhir_json_parse(text, strlen(text), NULL, &v, NULL), BASE_OK);
    return v;
}

#endif /* TEST_UNIT_ADAPTERS_STORE_STORE_TEST_H */
