/*
 * gateway/app/h_operation_post.c — POST Patient/ID/$everything and
 * Patient/$ihe-pix: an
 * operation that changes nothing may be invoked by POST as well (R4
 * operations.html#request), and HAPI's generic client does so by default,
 * with a Parameters resource (JSON or XML), a form, or nothing.  Each
 * becomes the query a GET would carry; then the GET's handler runs, with
 * the same checks and the same audit.
 */
#include "gateway/app/app_int.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"

/* Percent-encode `v` as a form value (RFC 3986 unreserved bytes kept). */
static bool
form_append(struct base_buf *b, const char *name, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";

    if (base_buf_appendf(b, "%s%s=", b->len > 0 ? "&" : "", name) != BASE_OK)
        return false;
    for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';

        if (plain ? base_buf_putc(b, (char)*p) != BASE_OK
                  : base_buf_appendf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]) != BASE_OK)
            return false;
    }
    return true;
}

/* The value[x] of one Parameters.parameter as text: a string-valued
 * primitive (valueInstant, valueString, valueCode, …) or an integer
 * (valueInteger, valuePositiveInt for _count); NULL for anything else. */
static const char *
parameter_value(const json_t *p, char num[24])
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)p, key, v)
    {
        if (strncmp(key, "value", 5) != 0)
            continue;
        if (json_is_string(v))
            return json_string_value(v);
        if (json_is_integer(v)) {
            snprintf(num, 24, "%lld", (long long)json_integer_value(v));
            return num;
        }
        return NULL;
    }
    return NULL;
}

/*
 * A Parameters resource (R4 operations.html#request) to the form a GET of
 * the operation would carry.  Unknown parameter names go through, so that
 * everything_query() refuses them as it refuses them in a URL.
 */
static bool
params_to_form(struct gw_http_req *r, const json_t *params, struct base_buf *b)
{
    const json_t *list = json_object_get(params, "parameter");
    const char *rt = json_string_value(json_object_get(params, "resourceType"));
    const json_t *p;
    size_t i;
    const char *why = NULL;

    if (rt == NULL || strcmp(rt, "Parameters") != 0)
        why = "the body must be a Parameters resource";
    json_array_foreach((json_t *)list, i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        char num[24];
        const char *v = parameter_value(p, num);

        if (why != NULL)
            break;
        if (name == NULL || v == NULL)
            why = "each parameter needs a name and a primitive value";
        else if (!form_append(b, name, v))
            why = "too many parameters";
    }
    if (why == NULL)
        return true;
    if (gw_http_respond_outcome(r, 400, "invalid", "Parameters", why) != BASE_OK)
        return false;
    return false;
}

/* The POSTed operation as its GET: the form or the Parameters become the
 * query, then the GET's handler `get` runs. */
static void
operation_post(struct gw_http_req *r, void *cls, void (*get)(struct gw_http_req *, void *))
{
    struct base_err err = {0};
    struct base_buf b;
    json_t *params;
    bool ok;

    if (gw_http_req_body_is_form(r)) {
        if (gw_http_take_search_form(r))
            get(r, cls);
        return;
    }
    if ((params = gw_app_body_json(r)) == NULL)
        return;
    base_buf_init(&b, BASE_LIMIT_HTTP_MAX_URL);
    ok = params_to_form(r, params, &b);
    if (ok &&
        gw_http_req_adopt_query(r, b.len > 0 ? (const char *)b.data : "", b.len, &err) != BASE_OK) {
        ok = false;
        if (gw_http_respond_error(r, &err) != BASE_OK)
            ok = false;
    }
    base_buf_fini(&b);
    if (ok)
        get(r, cls);
}

void
gw_app_h_everything_post(struct gw_http_req *r, void *cls)
{
    operation_post(r, cls, gw_app_h_everything);
}

/* PIXm (ITI-83) names GET; a consumer that keeps the patient's identifier
 * out of URLs (and server logs) POSTs the same Parameters
 * (IHE.PIXm.pix: affectsState false, so R4 operations.html allows it). */
void
gw_app_h_patient_pix_post(struct gw_http_req *r, void *cls)
{
    operation_post(r, cls, gw_app_h_patient_pix);
}
