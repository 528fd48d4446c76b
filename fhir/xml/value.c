/*
 * Values as the reader maps them: attribute text from libxml2's SAX2
 * interface, and a primitive's JSON form by its type.
 */
#include <string.h>

#include "fhir/json/fhir_json.h"
#include "fhir/xml/xml_int.h"

size_t
fhir_xml__att_run(const char **p, const char *end, bool *amp)
{
    const char *start = *p;
    const char *a = memchr(start, '&', (size_t)(end - start));

    *amp = a != NULL;
    if (a == NULL) {
        *p = end;
        return (size_t)(end - start);
    }
    *p = (end - a >= 5 && memcmp(a, "&#38;", 5) == 0) ? a + 5 : a + 1;
    return (size_t)(a - start);
}

bool
fhir_xml__att_text(const char *v, const char *end, struct base_buf *scratch, struct base_str *out)
{
    if (memchr(v, '&', (size_t)(end - v)) == NULL) {
        *out = base_str_make(v, (size_t)(end - v));
        return true;
    }
    base_buf_reset(scratch);
    while (v < end) {
        const char *run = v;
        bool amp;
        size_t n = fhir_xml__att_run(&v, end, &amp);

        if (base_buf_append(scratch, run, n) != BASE_OK ||
            (amp && base_buf_putc(scratch, '&') != BASE_OK))
            return false;
    }
    *out = base_buf_str(scratch);
    return true;
}

/* A number's tree form exactly as fhir_json_parse() builds it from the
 * same literal: int64 integers (except "-0") as integers, the rest as
 * decimal nodes keeping their text.  *bad when not a JSON number. */
static json_t *
number_json(struct base_str s, bool *bad)
{
    int64_t iv;

    if (!fhir_json_number_syntax_ok(s.ptr, s.len)) {
        *bad = true;
        return NULL;
    }
    if (memchr(s.ptr, '.', s.len) == NULL && memchr(s.ptr, 'e', s.len) == NULL &&
        memchr(s.ptr, 'E', s.len) == NULL && !base_str_eq_cstr(s, "-0") && base_str_to_i64(s, &iv))
        return json_integer(iv);
    return fhir_json_decimal(s.ptr, s.len);
}

json_t *
fhir_xml__prim_json(const struct fhir_model_type *t, struct base_str s, bool *bad)
{
    switch (t->prim) {
    case FHIR_PRIM_BOOLEAN:
        if (base_str_eq_cstr(s, "true"))
            return json_true();
        if (base_str_eq_cstr(s, "false"))
            return json_false();
        *bad = true;
        return NULL;
    case FHIR_PRIM_INTEGER:
    case FHIR_PRIM_POSITIVEINT:
    case FHIR_PRIM_UNSIGNEDINT:
    case FHIR_PRIM_DECIMAL:
        return number_json(s, bad);
    default:
        /* no UTF-8 recheck: the pre-scan validated the whole document, and
         * what libxml2 hands over (slices of it, decoded references) is
         * UTF-8 by construction */
        return json_stringn_nocheck(s.ptr, s.len);
    }
}
