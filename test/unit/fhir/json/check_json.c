#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "test/support/testutil.h"

static json_t *
parse_ok(const char *text)
{
    json_t *v = NULL;
    struct base_err err = {0};
    int rc = fhir_json_parse(text, strlen(text), NULL, &v, &err);

    ck_assert_msg(rc == BASE_OK, "parse failed: %s at %s", err.msg, err.where);
    return v;
}

static int
parse_fail(const char *text, size_t len, const struct fhir_json_limits *lim, struct base_err *err)
{
    json_t *v = NULL;
    int rc = fhir_json_parse(text, len, lim, &v, err);

    ck_assert_ptr_null(v);
    return rc;
}

static char *
dump(const json_t *v, unsigned flags)
{
    struct base_buf b;
    char *s;

    base_buf_init(&b, 0);
    ck_assert_int_eq(fhir_json_dump(v, flags, &b, NULL), BASE_OK);
    s = strdup(b.data);
    base_buf_fini(&b);
    return s;
}

START_TEST(decimals_keep_their_text)
{
    const char *in = "{\"a\":1.50,\"b\":-0,\"c\":1e3,\"d\":0.0,\"e\":12345678901234567890,"
                     "\"f\":7,\"g\":-12,\"h\":3.14159265358979323846264338327950288}";
    json_t *v = parse_ok(in);
    char *out = dump(v, 0);
    char nb[40];

    ck_assert_str_eq(out, in);
    ck_assert(fhir_json_is_number(json_object_get(v, "a")));
    ck_assert(!fhir_json_is_string(json_object_get(v, "a")));
    ck_assert(fhir_json_is_decimal_node(json_object_get(v, "a")));
    ck_assert(json_is_integer(json_object_get(v, "f")));
    ck_assert(base_str_eq_cstr(fhir_json_number_text(json_object_get(v, "a"), nb, sizeof(nb)),
                               "1.50"));
    ck_assert(fhir_json_number_double(json_object_get(v, "a")) == 1.5);
    ck_assert_int_eq(fhir_json_kind(json_object_get(v, "e")), FHIR_JSON_NUMBER);
    free(out);
    json_decref(v);
}
END_TEST

START_TEST(builders_may_use_reals_and_decimal_nodes)
{
    json_t *o = json_object();
    char *out;

    json_object_set_new(o, "r", json_real(0.1));
    json_object_set_new(o, "w", json_real(2.0));
    json_object_set_new(o, "d", fhir_json_decimal("100.00", 6));
    json_object_set_new(o, "s", json_string("x\"y\\z\n\001"));
    ck_assert_ptr_null(fhir_json_decimal("1.", 2));
    ck_assert_ptr_null(fhir_json_decimal("01", 2));
    ck_assert_ptr_null(fhir_json_decimal("+1", 2));
    out = dump(o, 0);
    ck_assert_str_eq(out, "{\"r\":0.1,\"w\":2.0,\"d\":100.00,\"s\":\"x\\\"y\\\\z\\n\\u0001\"}");
    free(out);
    json_decref(o);
}
END_TEST

START_TEST(equal_is_exact_about_decimals)
{
    json_t *a = parse_ok("{\"x\":[1.50,{\"y\":\"z\"}]}");
    json_t *b = parse_ok("{\"x\":[1.50,{\"y\":\"z\"}]}");
    json_t *c = parse_ok("{\"x\":[1.5,{\"y\":\"z\"}]}");

    ck_assert(fhir_json_equal(a, b));
    ck_assert(!fhir_json_equal(a, c));
    json_decref(a);
    json_decref(b);
    json_decref(c);
}
END_TEST

/* Sizes around the in-place sort's limits (16 members on the stack, qsort
 * beyond): keys written in reverse come out in byte order. */
START_TEST(sort_keys_orders_objects_of_every_size)
{
    static const size_t sizes[] = {2, 15, 16, 17, 40};

    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        char in[1024] = "{";
        char want[1024] = "{";
        json_t *v;
        char *got;

        for (size_t i = 0; i < sizes[k]; i++) {
            char m[64];

            snprintf(m, sizeof(m), "%s\"k%02zu\":%zu", i > 0 ? "," : "", sizes[k] - 1 - i, i);
            strcat(in, m);
            snprintf(m, sizeof(m), "%s\"k%02zu\":%zu", i > 0 ? "," : "", i, sizes[k] - 1 - i);
            strcat(want, m);
        }
        strcat(in, "}");
        strcat(want, "}");
        v = parse_ok(in);
        got = dump(v, FHIR_JSON_SORT_KEYS);
        ck_assert_str_eq(got, want);
        free(got);
        json_decref(v);
    }
}
END_TEST

START_TEST(member_order_is_kept_and_sort_keys_canonicalises)
{
    json_t *v = parse_ok("{\"resourceType\":\"Patient\",\"b\":1,\"a\":{\"z\":1,\"y\":2}}");
    char *out = dump(v, 0);
    char *sorted = dump(v, FHIR_JSON_SORT_KEYS);
    char *pretty = dump(v, FHIR_JSON_PRETTY);

    ck_assert_str_eq(out, "{\"resourceType\":\"Patient\",\"b\":1,\"a\":{\"z\":1,\"y\":2}}");
    ck_assert_str_eq(sorted, "{\"a\":{\"y\":2,\"z\":1},\"b\":1,\"resourceType\":\"Patient\"}");
    ck_assert_str_eq(pretty, "{\n  \"resourceType\": \"Patient\",\n  \"b\": 1,\n  \"a\": {\n"
                             "    \"z\": 1,\n    \"y\": 2\n  }\n}\n");
    free(out);
    free(sorted);
    free(pretty);
    json_decref(v);
}
END_TEST

START_TEST(strings_unicode_escapes_and_utf8)
{
    json_t *v = parse_ok("[\"\\u4e2d\\u6587\",\"\\ud83d\\ude00\",\"\xe5\xbc\xa0\\/\\t\"]");

    ck_assert_str_eq(json_string_value(json_array_get(v, 0)), "\xe4\xb8\xad\xe6\x96\x87");
    ck_assert_str_eq(json_string_value(json_array_get(v, 1)), "\xf0\x9f\x98\x80");
    ck_assert_str_eq(json_string_value(json_array_get(v, 2)), "\xe5\xbc\xa0/\t");
    json_decref(v);
}
END_TEST

/* The string scanner's vector loop against the rule: every byte value at
 * every position of a 40-byte run (two blocks and a tail), both modes. */
START_TEST(plain_len_every_byte_at_every_position)
{
    char s[40];

    for (int b = 0; b < 256; b++) {
        for (size_t k = 0; k < sizeof(s); k++) {
            bool plain_ascii = b >= 0x20 && b < 0x80 && b != '"' && b != '\\';
            bool plain_utf8 = b >= 0x20 && b != '"' && b != '\\';

            memset(s, 'a', sizeof(s));
            s[k] = (char)b;
            ck_assert_uint_eq(fhir_json_plain_len(s, sizeof(s), false),
                              plain_ascii ? sizeof(s) : k);
            ck_assert_uint_eq(fhir_json_plain_len(s, sizeof(s), true), plain_utf8 ? sizeof(s) : k);
            ck_assert_uint_eq(fhir_json_plain_len(s, k, true), k);
        }
    }
}
END_TEST

/* Reader and writer on strings with one special byte at every position
 * around the 16-byte blocks: the value decodes exactly, errors point at
 * the byte, and the writer escapes exactly that byte. */
/* The writer checks strings of up to 16 bytes (most keys and values) with
 * overlapping word loads: every length, a byte at every position, as a
 * value and as a key. */
START_TEST(short_strings_escape_at_every_position)
{
    static const struct {
        char byte;
        const char *out;
    } bytes[] = {
        {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\x01', "\\u0001"},
        {'\x1f', "\\u001f"}, {' ', " "}, {'\x7f', "\x7f"}, {'\xc3', "\xc3"},
    };

    for (size_t len = 1; len <= 20; len++) {
        for (size_t at = 0; at < len; at++) {
            for (size_t b = 0; b < sizeof(bytes) / sizeof(bytes[0]); b++) {
                char in[32];
                char esc[64];
                char want[160];
                json_t *v;
                json_t *o;
                char *got;

                memset(in, 'a', len);
                in[at] = bytes[b].byte;
                snprintf(esc, sizeof(esc), "%.*s%s%.*s", (int)at, in, bytes[b].out,
                         (int)(len - at - 1), in + at + 1);
                v = json_stringn_nocheck(in, len); /* a lone 0xC3 too: written as it is */
                ck_assert_ptr_nonnull(v);
                o = json_object();
                ck_assert_int_eq(json_object_setn_new_nocheck(o, in, len, json_integer(1)), 0);
                got = dump(v, FHIR_JSON_COMPACT);
                snprintf(want, sizeof(want), "\"%s\"", esc);
                ck_assert_msg(strcmp(got, want) == 0, "len %zu at %zu byte %zu: %s", len, at, b, got);
                free(got);
                got = dump(o, FHIR_JSON_COMPACT);
                snprintf(want, sizeof(want), "{\"%s\":1}", esc);
                ck_assert_msg(strcmp(got, want) == 0, "key len %zu at %zu byte %zu: %s", len, at, b,
                              got);
                free(got);
                json_decref(o);
                json_decref(v);
            }
        }
    }
}
END_TEST

START_TEST(strings_with_a_special_byte_anywhere)
{
    /* Filler on either side, so that the special byte lands at every offset
     * around the scanner's 16-byte blocks (k bytes before it, 35 - k after). */
    static const char PAD_BEFORE[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    static const char PAD_AFTER[] = "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy";
    static const struct {
        const char *in;  /* JSON text of the byte */
        const char *val; /* decoded */
        const char *out; /* as the writer escapes it */
    } specials[] = {
        {"\\\"", "\"", "\\\""},
        {"\\\\", "\\", "\\\\"},
        {"\\n", "\n", "\\n"},
        {"\\u0001", "\x01", "\\u0001"},
        {"\\u007f", "\x7f", "\x7f"},
        {"\xc3\xa9", "\xc3\xa9", "\xc3\xa9"},
        {"\xe4\xb8\xad", "\xe4\xb8\xad", "\xe4\xb8\xad"},
    };

    for (size_t k = 0; k < 36; k++) {
        for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
            char text[128];
            char want[128];
            char out[128];
            struct base_err err = {0};
            json_t *v;
            char *got;
            char *bad;

            snprintf(text, sizeof(text), "[\"%.*s%s%.*s\"]", (int)k,
                     PAD_BEFORE, specials[i].in, (int)(35 - k),
                     PAD_AFTER);
            snprintf(want, sizeof(want), "%.*s%s%.*s", (int)k,
                     PAD_BEFORE, specials[i].val, (int)(35 - k),
                     PAD_AFTER);
            snprintf(out, sizeof(out), "[\"%.*s%s%.*s\"]", (int)k,
                     PAD_BEFORE, specials[i].out, (int)(35 - k),
                     PAD_AFTER);
            v = parse_ok(text);
            ck_assert_str_eq(json_string_value(json_array_get(v, 0)), want);
            got = dump(v, FHIR_JSON_COMPACT);
            ck_assert_str_eq(got, out);
            free(got);
            json_decref(v);
            /* a raw control byte or a broken sequence there: an error at it */
            bad = strdup(text);
            bad[2 + k] = i % 2 == 0 ? '\t' : '\xC3';
            bad[3 + k] = i % 2 == 0 ? bad[3 + k] : '(';
            ck_assert_int_eq(parse_fail(bad, strlen(bad), NULL, &err), BASE_E_PARSE);
            snprintf(want, sizeof(want), "line 1, column %zu", k + 3);
            ck_assert_str_eq(err.where, want);
            free(bad);
        }
    }
}
END_TEST

struct bad_case {
    const char *text;
    int rc;
    const char *where;
};

START_TEST(malformed_input_is_rejected_with_a_location)
{
    static const struct bad_case cases[] = {
        {"{\"a\":1,}", BASE_E_PARSE, "line 1, column 8"},
        {"{\"a\":1 \"b\":2}", BASE_E_PARSE, "line 1, column 8"},
        {"{\"a\":1,\n\"a\":2}", BASE_E_PARSE, "line 2, column 1"},
        {"[1,2", BASE_E_PARSE, "line 1, column 5"},
        {"\"abc", BASE_E_PARSE, "line 1, column 1"},
        {"\"a\\u0000b\"", BASE_E_PARSE, "line 1, column 3"},
        {"\"a\\ud800\"", BASE_E_PARSE, "line 1, column 9"},
        {"\"a\\x\"", BASE_E_PARSE, "line 1, column 3"},
        {"\"a\tb\"", BASE_E_PARSE, "line 1, column 3"},
        {"[01]", BASE_E_PARSE, "line 1, column 3"},
        {"[1.]", BASE_E_PARSE, "line 1, column 2"},
        {"[NaN]", BASE_E_PARSE, "line 1, column 2"},
        {"[tru]", BASE_E_PARSE, "line 1, column 2"},
        {"{} {}", BASE_E_PARSE, "line 1, column 4"},
        {"", BASE_E_PARSE, "line 1, column 1"},
        {"// c\n{}", BASE_E_PARSE, "line 1, column 1"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct base_err err = {0};
        int rc = parse_fail(cases[i].text, strlen(cases[i].text), NULL, &err);

        ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d", i, rc);
        ck_assert_msg(strcmp(err.where, cases[i].where) == 0, "case %zu: where '%s'", i,
                      err.where);
        ck_assert(err.msg[0] != '\0');
    }
}
END_TEST

/* A duplicate name is the error reported, whatever follows it (the reader
 * finds duplicates when it inserts the member, after its value). */
START_TEST(duplicate_names_are_reported_before_later_errors)
{
    static const struct bad_case cases[] = {
        {"{\"a\":1,\"a\":2}", BASE_E_PARSE, "line 1, column 8"},
        {"{\"a\":1,\"a\":[", BASE_E_PARSE, "line 1, column 8"},
        {"{\"a\":1,\"a\":[1,}", BASE_E_PARSE, "line 1, column 8"},
        {"{\"a\":1,\"a\" 2}", BASE_E_PARSE, "line 1, column 8"},
        {"{\"a\":1,\"a\"", BASE_E_PARSE, "line 1, column 8"},
        {"{\"x\":{\"b\":1,\"b\":{}},\"c\":3}", BASE_E_PARSE, "line 1, column 13"},
        {"{\"a\\u0062\":1,\"ab\":2}", BASE_E_PARSE, "line 1, column 14"},
        {"{\"ab\":1,\"a\\u0062\":nul}", BASE_E_PARSE, "line 1, column 9"},
    };
    struct fhir_json_limits lim = fhir_json_limits_default();
    struct base_err err = {0};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;

        base_err_clear(&err);
        rc = parse_fail(cases[i].text, strlen(cases[i].text), NULL, &err);
        ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d", i, rc);
        ck_assert_msg(strcmp(err.where, cases[i].where) == 0, "case %zu: where '%s'", i,
                      err.where);
        ck_assert_msg(strcmp(err.msg, "duplicate member name") == 0, "case %zu: '%s'", i,
                      err.msg);
    }
    /* at the member limit, a duplicate is still a duplicate */
    lim.max_members = 1;
    base_err_clear(&err);
    ck_assert_int_eq(parse_fail("{\"a\":1,\"a\":2}", 13, &lim, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.msg, "duplicate member name");
    /* an error the caller's err already held stays the one it holds */
    base_err_clear(&err);
    (void)base_err_set(&err, BASE_E_INVALID, "value", "earlier", "earlier");
    ck_assert_int_eq(parse_fail("{\"a\":1,\"a\":[", 12, NULL, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.where, "earlier");
    ck_assert_int_eq(err.rc, BASE_E_INVALID);
}
END_TEST

START_TEST(nul_bytes_and_invalid_utf8_are_rejected)
{
    struct base_err err = {0};

    ck_assert_int_eq(parse_fail("\"a\0b\"", 5, NULL, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.msg, "string contains a NUL byte");
    base_err_clear(&err);
    ck_assert_int_eq(parse_fail("\"\xC3\x28\"", 4, NULL, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.msg, "invalid UTF-8 in string");
    base_err_clear(&err);
    ck_assert_int_eq(parse_fail("{\"a\":1}\0", 8, NULL, &err), BASE_E_PARSE);
}
END_TEST

START_TEST(bom_is_accepted)
{
    json_t *v = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(fhir_json_parse("\xEF\xBB\xBF{}", 5, NULL, &v, &err), BASE_OK);
    json_decref(v);
}
END_TEST

START_TEST(limits_are_enforced)
{
    struct fhir_json_limits lim = fhir_json_limits_default();
    struct base_err err = {0};
    char deep[200];

    lim.max_depth = 64;
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    ck_assert_int_eq(parse_fail(deep, 130, &lim, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.issue_code, "too-costly");
    base_err_clear(&err);
    lim = fhir_json_limits_default();
    lim.max_string = 3;
    ck_assert_int_eq(parse_fail("[\"abcd\"]", 8, &lim, &err), BASE_E_LIMIT);
    base_err_clear(&err);
    ck_assert_int_eq(parse_fail("[\"a\\nbcd\"]", 10, &lim, &err), BASE_E_LIMIT);
    base_err_clear(&err);
    lim = fhir_json_limits_default();
    lim.max_array = 2;
    ck_assert_int_eq(parse_fail("[1,2,3]", 7, &lim, &err), BASE_E_LIMIT);
    base_err_clear(&err);
    lim = fhir_json_limits_default();
    lim.max_members = 1;
    ck_assert_int_eq(parse_fail("{\"a\":1,\"b\":2}", 13, &lim, &err), BASE_E_LIMIT);
    base_err_clear(&err);
    lim = fhir_json_limits_default();
    lim.max_doc = 4;
    ck_assert_int_eq(parse_fail("[1,2]", 5, &lim, &err), BASE_E_LIMIT);
}
END_TEST

START_TEST(deep_nesting_without_limit_does_not_crash)
{
    size_t n = 100000;
    char *deep = malloc(2 * n);
    struct base_err err = {0};

    memset(deep, '[', n);
    memset(deep + n, ']', n);
    ck_assert_int_eq(parse_fail(deep, 2 * n, NULL, &err), BASE_E_LIMIT);
    free(deep);
}
END_TEST

/* Every official example survives parse -> dump -> parse unchanged, and the
 * dump of the second parse is byte-identical to the first (a fixed point). */
START_TEST(official_examples_round_trip)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &n);

    ck_assert_msg(n >= 100, "expected the official examples, found %zu", n);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *text = tu_read_file(files[i], &len);
        json_t *a = NULL;
        json_t *b = NULL;
        struct base_err err = {0};
        char *d1;
        char *d2;

        ck_assert_ptr_nonnull(text);
        ck_assert_msg(fhir_json_parse(text, len, NULL, &a, &err) == BASE_OK, "%s: %s at %s",
                      files[i], err.msg, err.where);
        d1 = dump(a, FHIR_JSON_PRETTY);
        ck_assert_int_eq(fhir_json_parse(d1, strlen(d1), NULL, &b, &err), BASE_OK);
        ck_assert_msg(fhir_json_equal(a, b), "%s changed in a round trip", files[i]);
        d2 = dump(b, FHIR_JSON_PRETTY);
        ck_assert_str_eq(d1, d2);
        free(d1);
        free(d2);
        free(text);
        json_decref(a);
        json_decref(b);
    }
    tu_free_list(files);
}
END_TEST

Suite *fhir_json_suite(void)
{
    Suite *s = suite_create("fhir_json");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, decimals_keep_their_text);
    tcase_add_test(tc, builders_may_use_reals_and_decimal_nodes);
    tcase_add_test(tc, equal_is_exact_about_decimals);
    tcase_add_test(tc, member_order_is_kept_and_sort_keys_canonicalises);
    tcase_add_test(tc, sort_keys_orders_objects_of_every_size);
    tcase_add_test(tc, strings_unicode_escapes_and_utf8);
    tcase_add_test(tc, plain_len_every_byte_at_every_position);
    tcase_add_test(tc, short_strings_escape_at_every_position);
    tcase_add_test(tc, strings_with_a_special_byte_anywhere);
    tcase_add_test(tc, malformed_input_is_rejected_with_a_location);
    tcase_add_test(tc, duplicate_names_are_reported_before_later_errors);
    tcase_add_test(tc, nul_bytes_and_invalid_utf8_are_rejected);
    tcase_add_test(tc, bom_is_accepted);
    tcase_add_test(tc, limits_are_enforced);
    tcase_add_test(tc, deep_nesting_without_limit_does_not_crash);
    tcase_add_test(tc, official_examples_round_trip);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
