#include "test/support/jsonpath.h"

#include <string.h>

#include "adapters/mapkit/mapkit.h"
#include "fhir/json/fhir_json.h"

json_t *
tu_json_at(const json_t *v, const char *path)
{
    const char *p = path;

    while (v != NULL && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        char key[128];
        size_t idx = 0;
        bool number = n > 0;

        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        for (size_t i = 0; i < n; i++) {
            number = number && key[i] >= '0' && key[i] <= '9';
            idx = idx * 10 + (size_t)(key[i] - '0');
        }
        v = number ? json_array_get(v, idx) : json_object_get(v, key);
        p += n + (dot != NULL);
    }
    return (json_t *)v;
}

const char *
tu_json_str(const json_t *v, const char *path)
{
    const json_t *x = tu_json_at(v, path);

    return x != NULL && fhir_json_is_string(x) ? json_string_value(x) : NULL;
}

static bool
names(const json_t *id, const char *type, const char *url)
{
    const char *sys = json_string_value(json_object_get(id, "system"));
    const char *val = json_string_value(json_object_get(id, "value"));
    json_t *q;
    bool same;

    if (sys == NULL || val == NULL)
        return false;
    q = adapter_identifier_query(type, sys, val);
    same = q != NULL && strcmp(json_string_value(q), url) == 0;
    json_decref(q);
    return same;
}

bool
tu_entry_keyed(const json_t *entry)
{
    const json_t *res = json_object_get(entry, "resource");
    const char *type = tu_json_str(res, "resourceType");
    const char *url = tu_json_str(entry, "request.url");
    size_t i;
    json_t *id;

    if (type == NULL || url == NULL)
        return false;
    if (names(json_object_get(res, "masterIdentifier"), type, url))
        return true;
    json_array_foreach(json_object_get(res, "identifier"), i, id)
    {
        if (names(id, type, url))
            return true;
    }
    return false;
}

static bool
entry_is(const json_t *e, const char *type, json_t **res)
{
    const char *t;

    *res = json_object_get(e, "resource");
    t = json_string_value(json_object_get(*res, "resourceType"));
    return t != NULL && strcmp(t, type) == 0;
}

size_t
tu_bundle_count(const json_t *bundle, const char *type)
{
    size_t n = 0;
    size_t i;
    json_t *e;
    json_t *r;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
        n += entry_is(e, type, &r);
    return n;
}

json_t *
tu_bundle_nth(const json_t *bundle, const char *type, size_t k)
{
    size_t i;
    json_t *e;
    json_t *r;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        if (entry_is(e, type, &r) && k-- == 0)
            return r;
    }
    return NULL;
}
