/*
 * The canonical form of a parsed search, for Bundle.link self / next.
 */
#include "fhir/search/search_int.h"

#include <string.h>

#include "fhir/base/buf.h"

/* RFC 3986 unreserved characters plus those FHIR query syntax uses
 * literally (":" in names, "," between alternatives, "/" in references);
 * everything else is percent-encoded. */
static bool
keep(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == ':' || c == ',' || c == '/';
}

static int
put_enc(struct base_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (keep(c))
            TRY(base_buf_putc(b, (char)c));
        else
            TRY(base_buf_appendf(b, "%%%02X", c));
    }
    return BASE_OK;
}

static int
put_param(struct base_buf *b, const char *name, const char *value)
{
    if (b->len > 0)
        TRY(base_buf_putc(b, '&'));
    TRY(put_enc(b, name));
    TRY(base_buf_putc(b, '='));
    return put_enc(b, value);
}

static int
put_sort(struct base_buf *b, const struct fhir_search *s)
{
    if (s->n_sort == 0)
        return BASE_OK;
    TRY(base_buf_append_cstr(b, b->len > 0 ? "&_sort=" : "_sort="));
    for (size_t i = 0; i < s->n_sort; i++) {
        TRY(base_buf_appendf(b, "%s%s%s", i > 0 ? "," : "", s->sort[i].desc ? "-" : "",
                             s->sort[i].def->name));
    }
    return BASE_OK;
}

static int
put_includes(struct base_buf *b, const struct fhir_search *s)
{
    for (size_t i = 0; i < s->n_includes; i++) {
        const struct fhir_search_include *inc = &s->includes[i];
        const char *name = inc->rev ? (inc->iterate ? "_revinclude:iterate" : "_revinclude")
                                    : (inc->iterate ? "_include:iterate" : "_include");

        TRY(base_buf_appendf(b, "%s%s=", b->len > 0 ? "&" : "", name));
        if (inc->wildcard)
            TRY(base_buf_putc(b, '*'));
        else
            TRY(base_buf_appendf(b, "%s:%s%s%s", inc->source_type, inc->param,
                                 inc->target_type != NULL ? ":" : "",
                                 inc->target_type != NULL ? inc->target_type : ""));
    }
    return BASE_OK;
}

static int
build(struct base_buf *b, const struct fhir_search *s)
{
    static const char *const summary[] = {"", "true", "text", "data", "count", "false"};
    static const char *const total[] = {"", "none", "estimate", "accurate"};

    for (size_t i = 0; i < s->n_clauses; i++)
        TRY(put_param(b, s->clauses[i].name, s->clauses[i].raw_value));
    TRY(put_sort(b, s));
    TRY(base_buf_appendf(b, "%s_count=%u", b->len > 0 ? "&" : "", (unsigned)s->count));
    for (size_t i = 0; i < s->n_elements; i++)
        TRY(base_buf_appendf(b, "%s%s", i == 0 ? "&_elements=" : ",", s->elements[i]));
    if (s->summary != FHIR_SEARCH_SUMMARY_ABSENT)
        TRY(base_buf_appendf(b, "&_summary=%s", summary[s->summary]));
    if (s->total != FHIR_SEARCH_TOTAL_ABSENT)
        TRY(base_buf_appendf(b, "&_total=%s", total[s->total]));
    return put_includes(b, s);
}

char *
fhir_search_canonical_query(struct base_arena *a, const struct fhir_search *s)
{
    struct base_buf b;
    char *out = NULL;

    base_buf_init(&b, BASE_LIMIT_SEARCH_MAX_QUERY * 4);
    if (build(&b, s) == BASE_OK)
        out = base_buf_dup0(&b, a);
    base_buf_fini(&b);
    return out;
}
