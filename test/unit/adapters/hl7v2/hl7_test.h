/*
 * Helpers shared by the HL7 v2 test suites: build messages from readable
 * text ('\n' becomes the segment terminator CR), convert them, and read
 * values out of the resulting FHIR with a tiny path syntax
 * ("name[0].given[1]", "valueQuantity.value").
 */
#ifndef TEST_UNIT_ADAPTERS_HL7V2_HL7_TEST_H
#define TEST_UNIT_ADAPTERS_HL7V2_HL7_TEST_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/hl7v2/hl7v2.h"
#include "adapters/hl7v2/hl7v2_map.h"
#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/validate/fhir_validate.h"
#include "test/support/jsonpath.h"

/* "MSH|…\nPID|…\n" -> "MSH|…\rPID|…\r" (malloc'd). */
static inline char *
th_cr(const char *text)
{
    char *s = strdup(text);

    for (char *p = s; *p != '\0'; p++) {
        if (*p == '\n')
            *p = '\r';
    }
    return s;
}

static inline struct hl7v2_msg *
th_parse(struct base_arena *a, const char *text)
{
    char *s = th_cr(text);
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};
    int rc = hl7v2_msg_parse(a, s, strlen(s), NULL, NULL, &m, &err);

    ck_assert_msg(rc == BASE_OK, "parse failed: %s: %s", err.where, err.msg);
    free(s); /* the model lives on a copy in the arena */
    return m;
}

/* Parse expecting failure; returns rc, fills err. */
static inline int
th_parse_fail(const char *text, const struct hl7v2_limits *lim, const struct hl7v2_parse_opts *opts,
              struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    char *s = th_cr(text);
    struct hl7v2_msg *m = NULL;
    int rc = hl7v2_msg_parse(a, s, strlen(s), lim, opts, &m, err);

    ck_assert_ptr_null(m);
    free(s);
    base_arena_free(a);
    return rc;
}

/* Every Bundle the tests make must be valid FHIR R4 (fhir/validate):
 * no errors, no warnings. */
static inline void
th_assert_valid(const json_t *bundle)
{
    json_t *oo = fhir_outcome_new();
    struct fhir_validate_result res = {0};
    struct base_err err = {0};

    ck_assert_int_eq(fhir_validate(bundle, NULL, oo, &res, &err), BASE_OK);
    if (res.errors + res.warnings > 0)
        fhir_outcome_print(stderr, "bundle", oo);
    ck_assert_msg(res.errors == 0 && res.warnings == 0, "%zu errors, %zu warnings", res.errors,
                  res.warnings);
    json_decref(oo);
}

/* Convert a message (text with '\n' terminators) to a Bundle tree. */
static inline json_t *
th_convert_opts(const char *text, const struct hl7v2_map_opts *o)
{
    struct base_arena *a = base_arena_new(0);
    char *s = th_cr(text);
    struct hl7v2_bundle *b = NULL;
    struct base_err err = {0};
    json_t *tree = NULL;
    int rc = hl7v2_convert(a, s, strlen(s), NULL, NULL, o, &b, &err);

    ck_assert_msg(rc == BASE_OK, "convert failed: %s: %s", err.where, err.msg);
    ck_assert_int_eq(hl7v2_bundle_tree(b, &tree, &err), BASE_OK);
    th_assert_valid(tree);
    free(s);
    base_arena_free(a);
    return tree;
}

static inline json_t *
th_convert(const char *text)
{
    return th_convert_opts(text, NULL);
}

/* Resources of one type in a transaction Bundle. */
static inline size_t
th_count(const json_t *bundle, const char *type)
{
    return tu_bundle_count(bundle, type);
}

/* The k-th (0-based) resource of a type, or NULL. */
static inline json_t *
th_res(const json_t *bundle, const char *type, size_t k)
{
    return tu_bundle_nth(bundle, type, k);
}

/* The entry (fullUrl/request) of the k-th resource of a type. */
static inline json_t *
th_entry(const json_t *bundle, const char *type, size_t k)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        const char *t =
            json_string_value(json_object_get(json_object_get(e, "resource"), "resourceType"));

        if (t != NULL && strcmp(t, type) == 0 && k-- == 0)
            return e;
    }
    return NULL;
}

/* Follow "a.b[2].c" from v; NULL when absent. */
static inline json_t *
th_at(json_t *v, const char *path)
{
    char key[128];
    const char *p = path;

    while (v != NULL && *p != '\0') {
        size_t n = strcspn(p, ".[");

        if (n > 0) {
            if (n >= sizeof(key))
                return NULL;
            memcpy(key, p, n);
            key[n] = '\0';
            v = json_object_get(v, key);
            p += n;
        }
        if (*p == '[') {
            v = json_array_get(v, strtoul(p + 1, NULL, 10));
            p = strchr(p, ']') + 1;
        }
        if (*p == '.')
            p++;
    }
    return v;
}

/* String at path ("" when absent or not a string, to keep asserts simple). */
static inline const char *
th_str(json_t *v, const char *path)
{
    json_t *s = th_at(v, path);

    return fhir_json_is_string(s) ? json_string_value(s) : "";
}

/* Number literal at path ("" when absent). */
static inline const char *
th_num(json_t *v, const char *path)
{
    static _Thread_local char buf[64];
    struct base_str t = fhir_json_number_text(th_at(v, path), buf, sizeof(buf));

    if (t.len == 0 || t.len >= sizeof(buf))
        return "";
    memmove(buf, t.ptr, t.len);
    buf[t.len] = '\0';
    return buf;
}

#endif /* TEST_UNIT_ADAPTERS_HL7V2_HL7_TEST_H */
