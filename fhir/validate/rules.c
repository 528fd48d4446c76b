/*
 * Rules beyond structure: literal reference forms
 * (https://hl7.org/fhir/R4/references.html#literal) and required bindings
 * (https://hl7.org/fhir/R4/terminologies.html#required).
 */
#include "fhir/validate/validate_int.h"

#include <string.h>

#include "fhir/json/fhir_json.h"

static bool
is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* RFC 3986 scheme ":" — the start of an absolute URI. */
static size_t
scheme_len(const char *s, size_t len)
{
    size_t i = 0;

    if (len == 0 || !is_alpha(s[0]))
        return 0;
    for (i = 1; i < len; i++) {
        char ch = s[i];

        if (ch == ':')
            return i;
        if (!is_alpha(ch) && !(ch >= '0' && ch <= '9') && ch != '+' && ch != '-' && ch != '.')
            return 0;
    }
    return 0;
}

static bool
id_ok(const char *s, size_t len)
{
    return fhir_validate_primitive(FHIR_PRIM_ID, s, len) == FHIR_PRIM_OK;
}

/* Does the root resource contain a resource with this id? (ref-1) */
static bool
contained_has(const json_t *root, const char *id, size_t len)
{
    const json_t *arr = root != NULL ? json_object_get(root, "contained") : NULL;
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;

    for (size_t i = 0; i < n; i++) {
        struct base_str cid = fhir_json_str(json_object_get(json_array_get(arr, i), "id"));

        if (cid.len == len && memcmp(cid.ptr, id, len) == 0)
            return true;
    }
    return false;
}

/*
 * Type/id[/_history/vid] with a known resource type, or Type?query (a
 * conditional reference) when `query` is not NULL.
 */
enum rel_form { REL_BAD, REL_BAD_TYPE, REL_OK, REL_CONDITIONAL };

static enum rel_form
relative_form(const char *s, size_t len)
{
    size_t i = 0;
    size_t id_start;

    while (i < len && s[i] != '/' && s[i] != '?')
        i++;
    if (i == len)
        return REL_BAD;
    if (!fhir_model_is_resource_type(s, i))
        return REL_BAD_TYPE;
    if (s[i] == '?')
        return REL_CONDITIONAL;
    id_start = ++i;
    {
        const char *slash = memchr(s + id_start, '/', len - id_start);

        i = slash != NULL ? (size_t)(slash - s) : len;
    }
    if (!id_ok(s + id_start, i - id_start))
        return REL_BAD;
    if (i == len)
        return REL_OK;
    if (len - i < 11 || memcmp(s + i, "/_history/", 10) != 0)
        return REL_BAD;
    return id_ok(s + i + 10, len - i - 10) ? REL_OK : REL_BAD;
}

static void
bad_reference(struct fhir_validate__ctx *c, const char *code, const char *why)
{
    fhir_validate__issue(c, FHIR_VALIDATE__ERROR, code, "reference", 9, "%s", why);
}

enum fhir_validate__ref_form
fhir_validate__reference_form(struct base_str s)
{
    if (s.len == 0)
        return FHIR_VALIDATE__REF_OK; /* the empty string was reported as a value */
    if (s.ptr[0] == '#')
        return s.len > 1 ? FHIR_VALIDATE__REF_LOCAL
                         : FHIR_VALIDATE__REF_OK; /* "#": the container */
    if (scheme_len(s.ptr, s.len) > 0) {
        /* Reference.reference is a string holding a URI, not a `uuid` (whose
         * R4 regex is lower case): RFC 4122 section 3 has the hex digits
         * "case insensitive on input", so urn:uuid:A5F9... names the same
         * entry as urn:uuid:a5f9... (Bundle.entry.fullUrl, a uri, takes
         * either). */
        if (base_str_starts_with(s, "urn:uuid:"))
            return fhir_validate__uuid_urn(s.ptr, s.len, true) ? FHIR_VALIDATE__REF_OK
                                                               : FHIR_VALIDATE__REF_BAD_UUID;
        if (base_str_starts_with(s, "urn:oid:"))
            return fhir_validate_primitive(FHIR_PRIM_OID, s.ptr, s.len) == FHIR_PRIM_OK
                       ? FHIR_VALIDATE__REF_OK
                       : FHIR_VALIDATE__REF_BAD_OID;
        return fhir_validate_primitive(FHIR_PRIM_URI, s.ptr, s.len) == FHIR_PRIM_OK
                   ? FHIR_VALIDATE__REF_OK
                   : FHIR_VALIDATE__REF_BAD_URI;
    }
    switch (relative_form(s.ptr, s.len)) {
    case REL_OK:
        return FHIR_VALIDATE__REF_OK;
    case REL_CONDITIONAL:
        return FHIR_VALIDATE__REF_CONDITIONAL;
    case REL_BAD_TYPE:
        return FHIR_VALIDATE__REF_BAD_TYPE;
    default:
        return FHIR_VALIDATE__REF_BAD;
    }
}

void
fhir_validate__warn_conditional(struct fhir_validate__ctx *c)
{
    /* Type?query is resolved by the server processing a transaction or
     * batch (http.html#trules); elsewhere nothing resolves it.  Bulk
     * exports (Synthea) carry such references, so this is a warning. */
    fhir_validate__issue(c, FHIR_VALIDATE__WARNING, "value", "reference", 9,
                         "conditional reference outside a transaction or batch bundle cannot be "
                         "resolved");
}

void
fhir_validate__reference(struct fhir_validate__ctx *c, const json_t *ref_obj)
{
    const json_t *r = json_object_get(ref_obj, "reference");
    struct base_str s;

    if (!fhir_json_is_string(r))
        return; /* type errors were reported by the walk */
    s = fhir_json_str(r);
    if (s.len > 0 && s.ptr[0] == '#')
        fhir_validate__dom3_note(c, s);
    switch (fhir_validate__reference_form(s)) {
    case FHIR_VALIDATE__REF_OK:
        return;
    case FHIR_VALIDATE__REF_LOCAL:
        if (!contained_has(c->root, s.ptr + 1, s.len - 1))
            bad_reference(c, "invariant",
                          "local reference does not match a contained resource (ref-1)");
        return;
    case FHIR_VALIDATE__REF_CONDITIONAL:
        if (!c->in_transaction)
            fhir_validate__warn_conditional(c);
        return;
    case FHIR_VALIDATE__REF_BAD_UUID:
        bad_reference(c, "value", "urn:uuid reference is not a valid uuid");
        return;
    case FHIR_VALIDATE__REF_BAD_OID:
        bad_reference(c, "value", "urn:oid reference is not a valid oid");
        return;
    case FHIR_VALIDATE__REF_BAD_URI:
        bad_reference(c, "value", "absolute reference is not a valid URI");
        return;
    case FHIR_VALIDATE__REF_BAD_TYPE:
        bad_reference(c, "value", "relative reference does not start with a resource type");
        return;
    case FHIR_VALIDATE__REF_BAD:
    default:
        bad_reference(c, "value",
                      "reference is not of the form Type/id, #id, an absolute URL, urn:uuid "
                      "or urn:oid");
        return;
    }
}

bool
fhir_validate__is_coded(const struct fhir_model_type *t)
{
    switch (t->index) {
    case FHIR_T_CODING:
    case FHIR_T_QUANTITY:
    case FHIR_T_SIMPLEQUANTITY:
    case FHIR_T_MONEYQUANTITY:
    case FHIR_T_AGE:
    case FHIR_T_COUNT:
    case FHIR_T_DISTANCE:
    case FHIR_T_DURATION:
        return true;
    default:
        return false;
    }
}

bool
fhir_validate__code_member(const struct fhir_model_valueset *vs, struct base_str system,
                           bool has_system, struct base_str code, bool *checked)
{
    enum fhir_model_vs_result r;

    *checked = false;
    if (code.len == 0)
        return false;
    r = fhir_model_vs_check(vs, has_system ? system.ptr : NULL, system.len, code.ptr, code.len);
    *checked = r != FHIR_VS_NOT_CHECKED;
    return r == FHIR_VS_MEMBER;
}

static bool
coding_member(const struct fhir_model_valueset *vs, const json_t *coding, bool *checked)
{
    const json_t *sys = json_object_get(coding, "system");

    /* a system that is not a string was reported already: match any */
    return fhir_validate__code_member(vs, fhir_json_str(sys), fhir_json_is_string(sys),
                                      fhir_json_str(json_object_get(coding, "code")), checked);
}

static void
not_in_vs(struct fhir_validate__ctx *c, const char *extra, size_t extra_len,
          const struct fhir_model_valueset *vs)
{
    fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "code-invalid", extra, extra_len,
                         "code is not in the required value set %s", vs->url);
}

/* Is `e` one of the elements of the type named `type`? */
static bool
elem_of(const struct fhir_model_elem *e, const char *type)
{
    const struct fhir_model_type *t = fhir_model_type_find(type, strlen(type));

    return t != NULL && e >= t->elems && e < t->elems + t->elem_count;
}

/* CapabilityStatement.format: "'xml', 'json' and 'ttl' are allowed, which
 * describe the simple encodings described in the specification"; otherwise
 * media types (R4 CapabilityStatement.format comments).  The TestScript
 * operations' accept and contentType and the assertions' contentType name
 * the same encodings the same way in R4's own TestScript examples (which
 * the R4 publication validated: the media type set cannot be expanded);
 * an Attachment's or a Binary's contentType must be a media type. */
bool
fhir_validate__shorthand_format(const struct fhir_model_elem *e, struct base_str s)
{
    struct base_str name = base_str_make(e->name, e->name_len);

    if (!base_str_eq_cstr(s, "xml") && !base_str_eq_cstr(s, "json") && !base_str_eq_cstr(s, "ttl"))
        return false;
    if (base_str_eq_cstr(name, "format"))
        return elem_of(e, "CapabilityStatement");
    if (base_str_eq_cstr(name, "accept"))
        return elem_of(e, "TestScript.setup.action.operation");
    if (base_str_eq_cstr(name, "contentType"))
        return elem_of(e, "TestScript.setup.action.operation") ||
               elem_of(e, "TestScript.setup.action.assert");
    return false;
}

void
fhir_validate__binding(struct fhir_validate__ctx *c, const json_t *v,
                       const struct fhir_model_type *t, const struct fhir_model_elem *e)
{
    const struct fhir_model_valueset *vs = e->valueset;
    bool checked;

    if (t->prim == FHIR_PRIM_CODE || t->prim == FHIR_PRIM_STRING || t->prim == FHIR_PRIM_URI) {
        struct base_str s = fhir_json_str(v);

        if (vs->kind == FHIR_VS_MIME_TYPE && fhir_validate__shorthand_format(e, s))
            return;
        if (s.len > 0 && fhir_model_vs_check(vs, NULL, 0, s.ptr, s.len) == FHIR_VS_NOT_MEMBER)
            not_in_vs(c, NULL, 0, vs);
        return;
    }
    if (!json_is_object(v))
        return;
    if (fhir_validate__is_coded(t)) {
        /* Coding, and the code of a Quantity (UCUM or other system) */
        if (!coding_member(vs, v, &checked) && checked)
            not_in_vs(c, "code", 4, vs);
        return;
    }
    switch (t->index) {
    case FHIR_T_CODEABLECONCEPT: {
        /* at least one coding from the value set; text alone is not checked */
        const json_t *codings = json_object_get(v, "coding");
        size_t n = json_is_array(codings) ? json_array_size(codings) : 0;
        bool any_checked = false;

        for (size_t i = 0; i < n; i++) {
            if (coding_member(vs, json_array_get(codings, i), &checked))
                return;
            any_checked |= checked;
        }
        if (any_checked)
            fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "code-invalid", "coding", 6,
                                 "no coding is from the required value set %s", vs->url);
        return;
    }
    default:
        return;
    }
}
