/*
 * AuditEvent search token values (they come from regulators' clients):
 * gw_audit_token_codes, then the array literal gw_audit_search sends.
 * Input: the first byte picks the systems, the rest is the value.
 * Invariants: a list is NULL, "" or codes joined by ',' with no empty code
 * and no '|'; its array literal, when accepted, is {} or "…" elements
 * joined by ',' with exactly one element per code.
 * seeds: */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/audit/audit_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const SYSTEMS[] = {"http://hl7.org/fhir/audit-event-outcome",
                                      "urn:fhirgate:member", NULL};

static size_t
count_char(const char *s, char c)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += *s == c;
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a;
    char *v;
    const char *list;

    if (size < 1 || size > 8192)
        return 0;
    a = base_arena_new(0);
    v = a != NULL ? base_arena_strndup(a, (const char *)data + 1, size - 1) : NULL;
    if (v == NULL) {
        base_arena_free(a);
        return 0;
    }
    list = gw_audit_token_codes(a, v, (data[0] & 1) != 0 ? SYSTEMS : NULL);
    if (list != NULL) {
        struct base_buf b;
        struct base_err err = {0};
        const char *lit = NULL;

        if (strchr(list, '|') != NULL || strstr(list, ",,") != NULL || list[0] == ',' ||
            (list[0] != '\0' && list[strlen(list) - 1] == ','))
            __builtin_trap();
        base_buf_init(&b, 0);
        if (gw_audit__text_array(list, &b, &lit, "x", &err) == BASE_OK) {
            size_t codes = list[0] == '\0' ? 0 : count_char(list, ',') + 1;

            if (lit == NULL || lit[0] != '{' || lit[strlen(lit) - 1] != '}' ||
                count_char(lit, '"') != 2 * codes)
                __builtin_trap();
        }
        base_buf_fini(&b);
    }
    base_arena_free(a);
    return 0;
}
