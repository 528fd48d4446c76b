/*
 * Finding parameter definitions in the table of params_r4.c.
 */
#include "fhir/search/search_int.h"

#include <string.h>

/* strcmp of a C string against a slice. */
static int
cmp_cstr_slice(const char *a, const char *b, size_t blen)
{
    size_t alen = strlen(a);
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int
cmp_entry(const struct fhir_search_param_def *d, const char *type, const char *name,
          size_t name_len)
{
    int c = strcmp(d->resource, type);

    return c != 0 ? c : cmp_cstr_slice(d->name, name, name_len);
}

const struct fhir_search_param_def *
fhir_search_param_find(const char *resource_type, const char *name, size_t name_len)
{
    size_t n;
    const struct fhir_search_param_def *t = sp_table_resources(&n);
    size_t lo = 0;
    size_t hi = n;

    if (resource_type == NULL || name == NULL)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_entry(&t[mid], resource_type, name, name_len);

        if (c == 0)
            return &t[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!fhir_search_resource_known(resource_type))
        return NULL;
    t = sp_table_common(&n);
    for (size_t i = 0; i < n; i++) {
        if (cmp_cstr_slice(t[i].name, name, name_len) == 0)
            return &t[i];
    }
    return NULL;
}

/* Index of the first entry of `type` (or where it would be). */
static size_t
first_of(const struct fhir_search_param_def *t, size_t n, const char *type)
{
    size_t lo = 0;
    size_t hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(t[mid].resource, type) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void
fhir_search_params_table(const struct fhir_search_param_def **res, size_t *n_res,
                         const struct fhir_search_param_def **common, size_t *n_common)
{
    *res = sp_table_resources(n_res);
    *common = sp_table_common(n_common);
}

bool
fhir_search_resource_known(const char *type)
{
    size_t n;
    const struct fhir_search_param_def *t = sp_table_resources(&n);
    size_t i;

    if (type == NULL)
        return false;
    i = first_of(t, n, type);
    return i < n && strcmp(t[i].resource, type) == 0;
}

size_t
fhir_search_params_for(const char *resource_type, const struct fhir_search_param_def **out,
                       size_t cap)
{
    size_t n;
    size_t nc;
    const struct fhir_search_param_def *t = sp_table_resources(&n);
    const struct fhir_search_param_def *c = sp_table_common(&nc);
    size_t count = 0;

    if (!fhir_search_resource_known(resource_type))
        return 0;
    for (size_t i = first_of(t, n, resource_type); i < n; i++) {
        if (strcmp(t[i].resource, resource_type) != 0)
            break;
        if (count < cap)
            out[count] = &t[i];
        count++;
    }
    for (size_t i = 0; i < nc; i++, count++) {
        if (count < cap)
            out[count] = &c[i];
    }
    return count;
}

bool
fhir_search_param_allows_target(const struct fhir_search_param_def *def, const char *type,
                                size_t len)
{
    const char *p;

    if (def == NULL || def->type != FHIR_SEARCH_REFERENCE)
        return false;
    if (def->targets == NULL)
        return len > 0;
    for (p = def->targets; *p != '\0';) {
        const char *sp = strchr(p, ' ');
        size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);

        if (n == len && memcmp(p, type, len) == 0)
            return true;
        p += n;
        while (*p == ' ')
            p++;
    }
    return false;
}

const char *
fhir_search_type_name(enum fhir_search_type t)
{
    switch (t) {
    case FHIR_SEARCH_NUMBER:
        return "number";
    case FHIR_SEARCH_DATE:
        return "date";
    case FHIR_SEARCH_STRING:
        return "string";
    case FHIR_SEARCH_TOKEN:
        return "token";
    case FHIR_SEARCH_REFERENCE:
        return "reference";
    case FHIR_SEARCH_QUANTITY:
        return "quantity";
    case FHIR_SEARCH_URI:
        return "uri";
    default:
        return "unknown";
    }
}

int
fhir_search_include_check(const struct fhir_search_include *inc, struct base_err *err)
{
    const char *where = inc->rev ? "_revinclude" : "_include";
    const struct fhir_search_param_def *def;

    ENSURE(!inc->iterate, err, BASE_E_INVALID, "not-supported", where,
           ":iterate (and :recurse) are not supported");
    if (inc->wildcard)
        return BASE_OK;
    ENSURE(fhir_search_resource_known(inc->source_type), err, BASE_E_INVALID, "value", where,
           "unknown source resource type");
    if (strcmp(inc->param, "*") == 0)
        return BASE_OK;
    def = fhir_search_param_find(inc->source_type, inc->param, strlen(inc->param));
    ENSURE(def != NULL, err, BASE_E_INVALID, "value", where,
           "unknown search parameter of the source type");
    ENSURE(def->type == FHIR_SEARCH_REFERENCE, err, BASE_E_INVALID, "value", where,
           "not a reference search parameter");
    ENSURE(inc->target_type == NULL ||
               fhir_search_param_allows_target(def, inc->target_type, strlen(inc->target_type)),
           err, BASE_E_INVALID, "value", where, "the parameter cannot refer to that target type");
    return BASE_OK;
}
