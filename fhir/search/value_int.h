/*
 * fhir/search/value_int.h — value parsing shared by query.c and value.c.
 */
#ifndef FHIR_SEARCH_VALUE_INT_H
#define FHIR_SEARCH_VALUE_INT_H

#include "fhir/search/search_int.h"

/* What a value is parsed for. */
struct sp_vctx {
    struct base_arena *a;
    struct base_err *err;
    const char *where; /* parameter name as written, for errors */
    const struct fhir_search_param_def *def;
    enum fhir_search_modifier modifier;
    const char *modifier_type; /* FHIR_SEARCH_MOD_TYPE */
};

/* Split on unescaped `sep`; returns the number of parts, or max + 1 when
 * there are more than `max` (parts[] then holds the first max). */
size_t sp_split(struct base_str s, char sep, struct base_str *parts, size_t max);

/* Remove the escapes \, \| \$ \\ (other backslashes stay). */
char *sp_unescape(struct base_arena *a, struct base_str s);

/* One alternative of a clause's value. */
int sp_parse_value(struct sp_vctx *c, struct base_str raw, struct fhir_search_value *v);

#endif /* FHIR_SEARCH_VALUE_INT_H */
