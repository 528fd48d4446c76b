#include "test/support/jsonpath.h"

#include <string.h>

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
