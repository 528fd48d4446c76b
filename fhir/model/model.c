/*
 * Lookups over the generated type and value-set tables.  Every lookup is a
 * hash probe (FNV-1a, linear probing, tables laid out by the generator).
 */
#include "fhir/model/fhir_model.h"

#include <string.h>

#include "fhir/base/compat.h"
#include "fhir/model/model_int.h"

size_t
fhir_model_type_count(void)
{
    return fhir_model__type_total;
}

const struct fhir_model_type *
fhir_model_type_at(size_t i)
{
    return i < fhir_model__type_total ? &fhir_model__types[i] : NULL;
}

/* Type names are compared by their words (every byte up to 16) rather than
 * by a memcmp call: resourceType and every relative reference look one up. */
const struct fhir_model_type *
fhir_model_type_find(const char *name, size_t len)
{
    struct fhir_model__words w = fhir_model__words(name, len);

    for (uint32_t i = fhir_model__mix(w, len) & fhir_model__type_mask;;
         i = (i + 1) & fhir_model__type_mask) {
        uint16_t s = fhir_model__type_slots[i];
        const struct fhir_model_type *t;
        struct fhir_model__words tw;

        if (s == 0)
            return NULL;
        t = &fhir_model__types[s - 1];
        if (t->name_len != len)
            continue;
        tw = fhir_model__words(t->name, len);
        if (tw.a == w.a && tw.b == w.b && (len <= 16 || memcmp(t->name + 8, name + 8, len - 16) == 0))
            return t;
    }
}

bool
fhir_model_is_resource_type(const char *name, size_t len)
{
    const struct fhir_model_type *t = fhir_model_type_find(name, len);

    return t != NULL && t->kind == FHIR_MODEL_RESOURCE && !(t->flags & FHIR_MODEL_TYPE_ABSTRACT);
}

/* Probe the key table of `t`; `want_base` selects choice base names (which
 * are stored with is_ext == 2 and are not JSON property names). */
static const struct fhir_model_key *
find_key(const struct fhir_model_type *t, const char *key, size_t len, bool want_base)
{
    uint32_t s = fhir_model__key_slot(t, key, len);
    const struct fhir_model_key *k = s != 0 ? &t->keys[FHIR_MODEL__SLOT_KEY(s) - 1] : NULL;

    return k != NULL && (k->is_ext == FHIR_MODEL__KEY_BASE) == want_base ? k : NULL;
}

bool
fhir_model_match_key(const struct fhir_model_type *t, const char *key, size_t len,
                     struct fhir_model_match *out)
{
    const struct fhir_model_key *k = find_key(t, key, len, false);
    const struct fhir_model_elem *e;

    if (k == NULL)
        return false;
    e = &t->elems[k->elem];
    out->elem = e;
    out->elem_index = k->elem;
    out->choice_index = k->choice;
    out->is_ext = k->is_ext != 0;
    out->type = (e->flags & FHIR_MODEL_ELEM_CHOICE) ? e->choices[k->choice].type : e->type;
    return true;
}

const struct fhir_model_elem *
fhir_model_elem_find(const struct fhir_model_type *t, const char *name, size_t len)
{
    const struct fhir_model_key *k = find_key(t, name, len, false);

    if (k != NULL && k->is_ext == 0 && !(t->elems[k->elem].flags & FHIR_MODEL_ELEM_CHOICE))
        return &t->elems[k->elem];
    k = find_key(t, name, len, true);
    return k != NULL ? &t->elems[k->elem] : NULL;
}

const char *
fhir_model_prim_name(enum fhir_model_prim p)
{
    static const char *const names[] = {
        [FHIR_PRIM_NONE] = "complex",
        [FHIR_PRIM_BASE64BINARY] = "base64Binary",
        [FHIR_PRIM_BOOLEAN] = "boolean",
        [FHIR_PRIM_CANONICAL] = "canonical",
        [FHIR_PRIM_CODE] = "code",
        [FHIR_PRIM_DATE] = "date",
        [FHIR_PRIM_DATETIME] = "dateTime",
        [FHIR_PRIM_DECIMAL] = "decimal",
        [FHIR_PRIM_ID] = "id",
        [FHIR_PRIM_INSTANT] = "instant",
        [FHIR_PRIM_INTEGER] = "integer",
        [FHIR_PRIM_MARKDOWN] = "markdown",
        [FHIR_PRIM_OID] = "oid",
        [FHIR_PRIM_POSITIVEINT] = "positiveInt",
        [FHIR_PRIM_STRING] = "string",
        [FHIR_PRIM_TIME] = "time",
        [FHIR_PRIM_UNSIGNEDINT] = "unsignedInt",
        [FHIR_PRIM_URI] = "uri",
        [FHIR_PRIM_URL] = "url",
        [FHIR_PRIM_UUID] = "uuid",
        [FHIR_PRIM_XHTML] = "xhtml",
    };

    if ((size_t)p >= BASE_ARRAY_LEN(names) || names[p] == NULL)
        return "unknown";
    return names[p];
}

const struct fhir_model_valueset *
fhir_model_valueset_find(const char *url, size_t len)
{
    const char *bar = memchr(url, '|', len);
    size_t base_len = bar != NULL ? (size_t)(bar - url) : len;
    uint32_t mask = fhir_model__valueset_mask;

    for (uint32_t i = fhir_model__hash(url, base_len) & mask;; i = (i + 1) & mask) {
        uint16_t s = fhir_model__valueset_slots[i];
        const struct fhir_model_valueset *vs;
        const char *vbar;

        if (s == 0)
            return NULL;
        vs = &fhir_model__valuesets[s - 1];
        vbar = strchr(vs->url, '|');
        if ((vbar != NULL ? (size_t)(vbar - vs->url) : strlen(vs->url)) != base_len ||
            memcmp(vs->url, url, base_len) != 0)
            continue;
        /* a version, when given, must be the one R4 binds */
        if (bar != NULL && (vbar == NULL || strlen(vbar) != len - base_len ||
                            memcmp(vbar, bar, len - base_len) != 0))
            return NULL;
        return vs;
    }
}

/* RFC 6838 section 4.2 restricted-name: 1-127 chars, first alphanumeric. */
static size_t
mime_name(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len && i < 127) {
        unsigned char c = (unsigned char)s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

        if (!alnum && (i == 0 || strchr("!#$&-^_.+", c) == NULL || c == '\0'))
            break;
        i++;
    }
    return i;
}

/* RFC 7230 tchar, for parameter names and unquoted values. */
static bool
is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* type "/" subtype *( OWS ";" OWS name "=" value ) (RFC 6838, RFC 7231 3.1.1.1). */
static bool
mime_type_ok(const char *s, size_t len)
{
    size_t i = mime_name(s, len);
    size_t n;

    if (i == 0 || i >= len || s[i] != '/')
        return false;
    i++;
    n = mime_name(s + i, len - i);
    if (n == 0)
        return false;
    i += n;
    while (i < len) {
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i >= len || s[i] != ';')
            return false;
        i++;
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        n = i;
        while (i < len && is_tchar((unsigned char)s[i]))
            i++;
        if (i == n || i >= len || s[i] != '=')
            return false;
        i++;
        if (i < len && s[i] == '"') {
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == '\\')
                    i++;
            }
            if (i >= len)
                return false;
            i++;
        } else {
            n = i;
            while (i < len && is_tchar((unsigned char)s[i]))
                i++;
            if (i == n)
                return false;
        }
    }
    return true;
}

enum fhir_model_vs_result
fhir_model_vs_check(const struct fhir_model_valueset *vs, const char *system, size_t system_len,
                    const char *code, size_t code_len)
{
    uint32_t mask = vs->mask;

    switch (vs->kind) {
    case FHIR_VS_CODES:
        break;
    case FHIR_VS_MIME_TYPE:
        return mime_type_ok(code, code_len) ? FHIR_VS_MEMBER : FHIR_VS_NOT_MEMBER;
    case FHIR_VS_CURRENCY:
        return code_len == 3 && code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' &&
                       code[1] <= 'Z' && code[2] >= 'A' && code[2] <= 'Z'
                   ? FHIR_VS_MEMBER
                   : FHIR_VS_NOT_MEMBER;
    case FHIR_VS_UNCHECKED:
        return FHIR_VS_NOT_CHECKED;
    default:
        return FHIR_VS_NOT_CHECKED;
    }
    if (vs->code_count == 0)
        return FHIR_VS_NOT_MEMBER;
    for (uint32_t i = fhir_model__hash(code, code_len) & mask;; i = (i + 1) & mask) {
        uint16_t s = vs->slots[i];
        const struct fhir_model_code *c;

        if (s == 0)
            return FHIR_VS_NOT_MEMBER;
        c = &vs->codes[s - 1];
        if (c->code_len != code_len || memcmp(c->code, code, code_len) != 0)
            continue;
        /* the same code may come from several systems: keep probing */
        if (system == NULL ||
            (c->system_len == system_len && memcmp(c->system, system, system_len) == 0))
            return FHIR_VS_MEMBER;
    }
}
