/*
 * Search query parser, canonical form and matcher.  Input: a resource type,
 * a newline, then the raw query string (no type line: Observation).
 * seeds: */
/* Own seeds in test/fuzz/corpus/search_params (the shared corpus has no
 * query strings).  Invariant checked: the canonical query of any accepted
 * search parses again, strictly, to the same canonical query. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const resources[] = {
    "{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\",\"code\":{\"coding\":"
    "[{\"system\":\"http://loinc.org\",\"code\":\"1-8\"}],\"text\":\"Glucose\"},\"subject\":"
    "{\"reference\":\"Patient/p\"},\"effectivePeriod\":{\"start\":\"2020-03\"},\"valueQuantity\":"
    "{\"value\":5.40,\"system\":\"http://unitsofmeasure.org\",\"code\":\"mg\"}}",
    "{\"resourceType\":\"Patient\",\"id\":\"p\",\"name\":[{\"family\":\"M\xc3\xbcller\",\"given\":"
    "[\"Jos\xc3\xa9\"]}],\"birthDate\":\"1970\",\"identifier\":[{\"system\":\"s\",\"value\":\"1\"}]"
    ","
    "\"deceasedBoolean\":false}",
};

static void
exercise(struct base_arena *a, const struct fhir_search *s)
{
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
        json_t *r = NULL;
        bool ok;

        if (fhir_json_parse(resources[i], strlen(resources[i]), NULL, &r, NULL) != BASE_OK)
            __builtin_trap();
        int rc = fhir_search_match(s, r, NULL, a, &ok, NULL);

        if (rc != BASE_OK && rc != BASE_E_NOMEM)
            __builtin_trap(); /* an accepted search always evaluates */
        if (s->n_sort > 0)
            (void)fhir_search_compare(s, r, r, a);
        json_decref(r);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a = base_arena_new(32u << 20);
    struct fhir_search_options opt = fhir_search_options_default();
    const char *text = (const char *)data;
    const uint8_t *nl = memchr(data, '\n', size < 40 ? size : 40);
    char type[48] = "Observation";
    struct fhir_search *s = NULL;
    struct fhir_search *again = NULL;
    char *canon;
    char *canon2;

    if (a == NULL)
        return 0;
    if (nl != NULL) {
        memcpy(type, data, (size_t)(nl - data));
        type[nl - data] = '\0';
        text = (const char *)nl + 1;
        size -= (size_t)(nl - data) + 1;
    }
    opt.handling = size % 2 == 0 ? FHIR_SEARCH_LENIENT : FHIR_SEARCH_STRICT;
    if (fhir_search_parse(a, type, text, size, &opt, &s, NULL) == BASE_OK) {
        exercise(a, s);
        canon = fhir_search_canonical_query(a, s);
        opt.handling = FHIR_SEARCH_STRICT;
        if (canon == NULL ||
            fhir_search_parse(a, type, canon, strlen(canon), &opt, &again, NULL) != BASE_OK)
            __builtin_trap();
        canon2 = fhir_search_canonical_query(a, again);
        if (canon2 == NULL || strcmp(canon, canon2) != 0)
            __builtin_trap();
    }
    base_arena_free(a);
    return 0;
}
