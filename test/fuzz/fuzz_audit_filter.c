/*
 * AuditEvent search parameters answered from the events' content (they
 * come from regulators' clients): gw_app_audit_filter.
 * Input: the first byte picks the parameter name, the second the modifier,
 * the rest is the value.
 * Invariants: NONE only for a name that is none of them; OK leaves
 * `contains` an array of non-empty arrays of objects, or `strings` an array
 * of objects with a non-empty "any" of strings; the result dumps as JSON.
 * Its own corpus has a value for each shape (test/fuzz/corpus/audit_filter).
 * seeds: */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "gateway/app/app_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const NAMES[] = {"type",        "agent-role",  "altid",       "policy",
                                    "entity-type", "entity-role", "site",        "source",
                                    "address",     "agent-name",  "entity-name", "date"};
static const char *const MODIFIERS[] = {"", ":exact", ":contains", ":not", ":below", ":"};

static bool
every_element(const json_t *list, bool (*ok)(const json_t *))
{
    size_t i;
    const json_t *v;

    if (!json_is_array(list) || json_array_size(list) == 0)
        return false;
    json_array_foreach(list, i, v)
    {
        if (!ok(v))
            return false;
    }
    return true;
}

static bool
is_object(const json_t *v)
{
    return json_is_object(v);
}

static bool
is_string(const json_t *v)
{
    return json_is_string(v);
}

static bool
is_alternatives(const json_t *v)
{
    return every_element(v, is_object);
}

static bool
is_string_filter(const json_t *v)
{
    return json_is_string(json_object_get(v, "on")) && json_is_string(json_object_get(v, "path")) &&
           json_is_string(json_object_get(v, "mode")) &&
           every_element(json_object_get(v, "any"), is_string);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a;
    struct gw_app_audit_filter f = {NULL, NULL};
    struct gw_http_param p;
    const char *name;
    char *full;
    int rc;

    if (size < 2 || size > 8192)
        return 0;
    a = base_arena_new(0);
    if (a == NULL)
        return 0;
    name = NAMES[data[0] % (sizeof(NAMES) / sizeof(NAMES[0]))];
    full = base_arena_sprintf(a, "%s%s", name,
                              MODIFIERS[data[1] % (sizeof(MODIFIERS) / sizeof(MODIFIERS[0]))]);
    if (full == NULL) {
        base_arena_free(a);
        return 0;
    }
    memset(&p, 0, sizeof(p));
    p.name = base_str_from_cstr(full);
    p.value = base_str_make((const char *)data + 2, size - 2);
    rc = gw_app_audit_filter(a, &p, &f);
    if ((rc == GW_APP_AUDIT_FILTER_NONE) != (strcmp(name, "date") == 0))
        __builtin_trap();
    if (rc == GW_APP_AUDIT_FILTER_OK) {
        struct base_buf b;

        if (f.contains != NULL && !every_element(f.contains, is_alternatives))
            __builtin_trap();
        if (f.strings != NULL && !every_element(f.strings, is_string_filter))
            __builtin_trap();
        if ((f.contains == NULL) == (f.strings == NULL))
            __builtin_trap();
        base_buf_init(&b, 0);
        if (fhir_json_dump(f.contains != NULL ? f.contains : f.strings, FHIR_JSON_COMPACT, &b,
                           NULL) != BASE_OK)
            __builtin_trap();
        base_buf_fini(&b);
    }
    base_arena_free(a);
    return 0;
}
