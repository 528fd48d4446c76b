/*
 * The adapter store's search compiler (no database): a resource type, a
 * newline, then a raw query string.  Every accepted search compiles to SQL
 * whose text is ours alone: values travel only as parameters.
 * seeds: */
/* Own seeds in test/fuzz/corpus/store_query.  Invariants: the WHERE text has
 * no quote, statement separator or comment, and names no parameter beyond
 * those it binds; the ORDER BY text has no separator or comment. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/store/store_int.h"
#include "fhir/base/arena.h"
#include "fhir/search/fhir_search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_where(struct base_arena *a, const struct fhir_search *s)
{
    struct adapter_store_search_opts o = {"https://h.example/fhir", 1767225600000000};
    struct st_compile cc;
    struct st_sql q;
    const char *t;

    st_compile_init(&cc, a, &o);
    st_sql_init(&q, a);
    if (st_compile_where(&q, &cc, s, NULL) != BASE_OK || (t = st_sql_text(&q)) == NULL)
        return;
    if (strchr(t, '\'') != NULL || strchr(t, ';') != NULL || strstr(t, "--") != NULL ||
        strstr(t, "/*") != NULL)
        __builtin_trap();
    for (const char *p = strchr(t, '$'); p != NULL; p = strchr(p + 1, '$')) {
        long k = strtol(p + 1, NULL, 10);

        if (k < 1 || k > q.n)
            __builtin_trap();
    }
    st_sql_init(&q, a);
    if (st_compile_sort_keys(&q, s, NULL) == BASE_OK && (t = st_sql_text(&q)) != NULL &&
        (strchr(t, ';') != NULL || strstr(t, "--") != NULL))
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a = base_arena_new(32u << 20);
    const char *text = (const char *)data;
    const uint8_t *nl = memchr(data, '\n', size < 40 ? size : 40);
    char type[48] = "Observation";
    struct fhir_search *s = NULL;

    if (a == NULL)
        return 0;
    if (nl != NULL) {
        memcpy(type, data, (size_t)(nl - data));
        type[nl - data] = '\0';
        text = (const char *)nl + 1;
        size -= (size_t)(nl - data) + 1;
    }
    if (fhir_search_parse(a, type, text, size, NULL, &s, NULL) == BASE_OK)
        check_where(a, s);
    base_arena_free(a);
    return 0;
}
