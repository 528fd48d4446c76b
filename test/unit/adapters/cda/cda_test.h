/*
 * Helpers shared by the CDA unit suites: convert a document held in memory
 * and find resources of a type in the resulting Bundle.
 */
#ifndef TEST_UNIT_ADAPTERS_CDA_CDA_TEST_H
#define TEST_UNIT_ADAPTERS_CDA_CDA_TEST_H

#include <string.h>

#include <jansson.h>

#include "adapters/cda/cda.h"

static inline json_t *
convert_text(const char *xml, const struct cda_limits *lim, const struct cda_options *opt,
             json_t **warnings, struct base_err *err, int *rc)
{
    json_t *out = NULL;

    *rc = cda_to_bundle(xml, strlen(xml), lim, opt, &out, warnings, err);
    return out;
}

static inline size_t
count_type(const json_t *bundle, const char *type)
{
    size_t i;
    size_t n = 0;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        const char *t =
            json_string_value(json_object_get(json_object_get(e, "resource"), "resourceType"));

        n += t != NULL && strcmp(t, type) == 0;
    }
    return n;
}

/* The n-th resource (0-based) of `type`. */
static inline json_t *
nth(const json_t *bundle, const char *type, size_t want)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        json_t *r = json_object_get(e, "resource");
        const char *t = json_string_value(json_object_get(r, "resourceType"));

        if (t != NULL && strcmp(t, type) == 0 && want-- == 0)
            return r;
    }
    return NULL;
}

#endif /* TEST_UNIT_ADAPTERS_CDA_CDA_TEST_H */
