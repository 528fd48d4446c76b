/* Table cases for the sweeps of messages written by others
 * (check_sweep4.c, check_sweep5.c): a message written for the test, a
 * warning it must give, and what the Bundle must (not) hold. */
#ifndef TEST_UNIT_ADAPTERS_HL7V2_SWEEP_CASE_H
#define TEST_UNIT_ADAPTERS_HL7V2_SWEEP_CASE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/adapters/hl7v2/hl7_test.h"

struct expect {
    const char *type;
    size_t k;
    const char *path;
    const char *want; /* "" = absent */
};

struct sweep_case {
    const char *name;
    const char *msg;
    const char *warning; /* a warning that must be given (substring), or NULL */
    struct expect ex[10];
};

/* Convert; check every expectation and that `warning` is among the warnings. */
static inline void
check_case(const struct sweep_case *t)
{
    struct base_arena *a = base_arena_new(0);
    char *s = th_cr(t->msg);
    struct hl7v2_bundle *bundle = NULL;
    struct base_err err = {0};
    json_t *b = NULL;
    bool warned = t->warning == NULL;

    ck_assert_msg(hl7v2_convert(a, s, strlen(s), NULL, NULL, NULL, &bundle, &err) == BASE_OK,
                  "%s: convert failed: %s: %s", t->name, err.where, err.msg);
    ck_assert_int_eq(hl7v2_bundle_tree(bundle, &b, &err), BASE_OK);
    th_assert_valid(b);
    for (size_t i = 0; i < bundle->nwarnings && !warned; i++)
        warned = strstr(bundle->warnings[i].msg, t->warning) != NULL;
    ck_assert_msg(warned, "%s: no warning '%s'", t->name, t->warning);
    for (size_t i = 0; i < BASE_ARRAY_LEN(t->ex) && t->ex[i].type != NULL; i++) {
        const struct expect *x = &t->ex[i];
        json_t *r = x->path[0] == '@' ? th_entry(b, x->type, x->k) : th_res(b, x->type, x->k);
        const char *path = x->path + (x->path[0] == '@');
        const char *got;

        if (x->path[0] == '#') { /* "#": how many resources of the type */
            char n[16];

            snprintf(n, sizeof(n), "%zu", th_count(b, x->type));
            ck_assert_msg(strcmp(n, x->want) == 0, "%s: %zu %s, want %s", t->name,
                          th_count(b, x->type), x->type, x->want);
            continue;
        }
        ck_assert_msg(r != NULL, "%s: no %s #%zu", t->name, x->type, x->k);
        /* "=path": a number, compared by its literal text */
        got = path[0] == '=' ? th_num(r, path + 1) : th_str(r, path);
        ck_assert_msg(strcmp(got, x->want) == 0, "%s: %s.%s is '%s', want '%s'", t->name, x->type,
                      x->path, got, x->want);
    }
    json_decref(b);
    free(s);
    base_arena_free(a);
}

#endif
