/*
 * Small jansson builders shared by the converters.
 */
#include "adapters/mapkit/mapkit.h"

#include <string.h>

#include "fhir/json/fhir_json.h"

int
adapter_jset(json_t *obj, const char *key, json_t *v)
{
    if (v == NULL || json_object_set_new(obj, key, v) != 0)
        return BASE_E_NOMEM;
    return BASE_OK;
}

int
adapter_jset_strn(json_t *obj, const char *key, struct base_str s)
{
    json_t *v;

    if (s.len == 0)
        return BASE_OK;
    if (!base_utf8_valid(s.ptr, s.len, NULL))
        return BASE_E_INVALID;
    v = json_stringn_nocheck(s.ptr, s.len);
    return adapter_jset(obj, key, v);
}

int
adapter_jset_str(json_t *obj, const char *key, const char *s)
{
    return adapter_jset_strn(obj, key, base_str_from_cstr(s));
}

int
adapter_jpush(json_t *obj, const char *key, json_t *v)
{
    json_t *arr;

    if (v == NULL)
        return BASE_E_NOMEM;
    arr = json_object_get(obj, key);
    if (arr == NULL) {
        arr = json_array();
        if (arr == NULL || json_object_set_new(obj, key, arr) != 0) {
            json_decref(v);
            return BASE_E_NOMEM;
        }
    }
    if (json_array_append_new(arr, v) != 0)
        return BASE_E_NOMEM;
    return BASE_OK;
}

static json_t *
coding(const char *system, const char *code, const char *display)
{
    json_t *c = json_object();

    if (c == NULL || adapter_jset_str(c, "system", system) != BASE_OK ||
        adapter_jset_str(c, "code", code) != BASE_OK ||
        adapter_jset_str(c, "display", display) != BASE_OK) {
        json_decref(c);
        return NULL;
    }
    return c;
}

int
adapter_cc_add_coding(json_t *cc, const char *system, const char *code, const char *display,
                      const struct adapter_codemap *map)
{
    struct adapter_coding std = {0};

    TRY(adapter_jpush(cc, "coding", coding(system, code, display)));
    if (map == NULL || map->fn == NULL || code == NULL || code[0] == '\0')
        return BASE_OK;
    if (!map->fn(map->ctx, system != NULL ? system : "", code, &std) || std.code == NULL)
        return BASE_OK;
    /* The standard coding goes next to the local one (FHIR R4
     * datatypes.html#CodeableConcept: several codings for one concept). */
    return adapter_jpush(cc, "coding", coding(std.system, std.code, std.display));
}

json_t *
adapter_cc(const char *system, const char *code, const char *display)
{
    json_t *cc = json_object();

    if (cc == NULL || adapter_jpush(cc, "coding", coding(system, code, display)) != BASE_OK) {
        json_decref(cc);
        return NULL;
    }
    return cc;
}

json_t *
adapter_decimal(struct base_str text)
{
    char buf[64];
    size_t o = 0;
    size_t i = 0;
    struct base_str t = base_str_trim(text);

    if (t.len == 0 || t.len >= sizeof(buf) - 2)
        return NULL;
    if (t.ptr[0] == '+' || t.ptr[0] == '-') {
        if (t.ptr[0] == '-')
            buf[o++] = '-';
        i++;
    }
    /* leading zeros of the integer part, keeping one before '.' or the end */
    while (i + 1 < t.len && t.ptr[i] == '0' && t.ptr[i + 1] >= '0' && t.ptr[i + 1] <= '9')
        i++;
    if (i < t.len && t.ptr[i] == '.')
        buf[o++] = '0';
    memcpy(buf + o, t.ptr + i, t.len - i);
    o += t.len - i;
    if (!fhir_json_number_syntax_ok(buf, o))
        return NULL;
    return fhir_json_decimal(buf, o);
}
