/* HL7 v2 access and escape sequences (HL7 v2.5.1 ch. 2.7). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/support/testutil.h"
#include "test/unit/adapters/hl7v2/hl7_test.h"

#define MSH "MSH|^~\\&|APP|FAC|RAPP|RFAC|20240101120000+0800||ORU^R01|CTRL1|P|2.5\n"

static struct base_arena *arena;

static void
setup(void)
{
    arena = base_arena_new(0);
}

static void
teardown(void)
{
    base_arena_free(arena);
}

/* Decode OBX-5 (whole field) of a one-OBX message. */
static struct base_str
decode_obx5(const char *obx5, int expect_rc)
{
    char text[512];
    struct hl7v2_msg *m;
    struct base_str out = BASE_STR_NULL;
    struct base_err err = {0};

    snprintf(text, sizeof(text), MSH "OBX|1|FT|X||%s\n", obx5);
    m = th_parse(arena, text);
    ck_assert_int_eq(
        hl7v2_unescape(arena, m, hl7v2_field(hl7v2_seg_find(m, "OBX", 0, NULL), 5), &out, &err),
        expect_rc);
    return out;
}

START_TEST(delimiter_escapes)
{
    ck_assert(
        base_str_eq_cstr(decode_obx5("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f", BASE_OK), "a|b^c&d~e\\f"));
}
END_TEST

START_TEST(hex_escapes)
{
    ck_assert(base_str_eq_cstr(decode_obx5("x\\X0D0A\\y", BASE_OK), "x\r\ny"));
    ck_assert(base_str_eq_cstr(decode_obx5("caf\\XC3A9\\", BASE_OK), "caf\xC3\xA9"));
    ck_assert(base_str_eq_cstr(decode_obx5("\\Xe4b8ad\\", BASE_OK), "\xE4\xB8\xAD"));
    decode_obx5("a\\X00\\b", BASE_E_PARSE); /* NUL: FHIR strings cannot hold it */
    decode_obx5("a\\X1B\\b", BASE_E_PARSE);
    decode_obx5("a\\XFF\\b", BASE_E_PARSE); /* not UTF-8 */
}
END_TEST

START_TEST(formatting_escapes)
{
    ck_assert(base_str_eq_cstr(decode_obx5("l1\\.br\\l2", BASE_OK), "l1\nl2"));
    ck_assert(base_str_eq_cstr(decode_obx5("a\\.sp2\\b", BASE_OK), "a\n\nb"));
    ck_assert(base_str_eq_cstr(decode_obx5("a\\.sp\\b", BASE_OK), "a\nb"));
    ck_assert(base_str_eq_cstr(decode_obx5("a\\.sk3\\b", BASE_OK), "a   b"));
    ck_assert(base_str_eq_cstr(decode_obx5("a\\.sk9999\\b", BASE_OK), "a        b")); /* capped */
    ck_assert(base_str_eq_cstr(decode_obx5("\\.fi\\\\.nf\\\\.in+4\\\\.ti-2\\x", BASE_OK), "x"));
    ck_assert(base_str_eq_cstr(decode_obx5("t\\.ce\\c", BASE_OK), "t\nc"));
}
END_TEST

START_TEST(highlight_and_local_escapes)
{
    struct hl7v2_msg *m;

    ck_assert(base_str_eq_cstr(decode_obx5("a \\H\\bold\\N\\ z", BASE_OK), "a bold z"));
    ck_assert(base_str_eq_cstr(decode_obx5("a\\Zvendor1\\b", BASE_OK), "ab"));
    m = th_parse(arena, MSH "OBX|1|FT|X||a\\Zvendor1\\b\n");
    ck_assert(m->warn & HL7V2_W_LOCAL_ESCAPE);
}
END_TEST

START_TEST(no_escape_means_no_copy)
{
    struct hl7v2_msg *m = th_parse(arena, MSH "OBX|1|ST|X||plain text\n");
    struct base_str raw = hl7v2_field(&m->segs[1], 5);
    struct base_str out;

    ck_assert_int_eq(hl7v2_unescape(arena, m, raw, &out, NULL), BASE_OK);
    ck_assert_ptr_eq(out.ptr, raw.ptr);
    ck_assert_uint_eq(out.len, raw.len);
}
END_TEST

START_TEST(escapes_in_components_stay_in_their_component)
{
    struct hl7v2_msg *m = th_parse(arena, MSH "PID|1||A\\S\\B^C\n");
    struct base_str c1 = hl7v2_get(m, &m->segs[1], 3, 1, 1, 0);
    struct base_str out;

    ck_assert(base_str_eq_cstr(c1, "A\\S\\B"));
    ck_assert_int_eq(hl7v2_unescape(arena, m, c1, &out, NULL), BASE_OK);
    ck_assert(base_str_eq_cstr(out, "A^B"));
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 3, 1, 2, 0), "C"));
}
END_TEST

START_TEST(bad_escapes_are_rejected_with_location)
{
    struct {
        const char *obx5;
        const char *why;
    } cases[] = {
        {"a\\Q\\b", "unknown escape sequence"},
        {"a\\X1\\b", "hexadecimal escape needs an even number of hex digits"},
        {"a\\XZZ\\b", "hexadecimal escape needs an even number of hex digits"},
        {"a\\X\\b", "hexadecimal escape needs an even number of hex digits"},
        {"a\\C2842\\b", "character set switching escapes (\\C, \\M) are not supported"},
        {"a\\M2d2942\\b", "character set switching escapes (\\C, \\M) are not supported"},
        {"a\\\\b", "empty escape sequence"},
        {"a\\F", "escape sequence is not terminated"},
        {"a\\F^b\\", "escape sequence is not terminated"},
        {"a\\.xx\\b", "unknown formatting escape"},
        {"a\\.sp12345\\b", "unknown formatting escape"},
        {"a\\.br1\\b", "unknown formatting escape"},
        {"a\\FF\\b", "unknown escape sequence"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        char text[256];
        struct base_err err = {0};

        snprintf(text, sizeof(text), MSH "OBX|1|FT|X||%s\n", cases[i].obx5);
        ck_assert_int_eq(th_parse_fail(text, NULL, NULL, &err), BASE_E_PARSE);
        ck_assert_msg(strcmp(err.msg, cases[i].why) == 0, "case %zu: %s", i, err.msg);
        ck_assert_msg(strncmp(err.where, "OBX-5[1].", 9) == 0, "case %zu: %s", i, err.where);
    }
}
END_TEST

START_TEST(no_escape_character_means_literal_backslash)
{
    /* MSH-2 "^~": there is no escape character at all */
    struct hl7v2_msg *m =
        th_parse(arena, "MSH|^~|A|B|C|D|2019||ADT^A01|X|P|2.2\nNTE|1||C:\\dir\\Q\n");
    struct base_str out;

    ck_assert_int_eq(hl7v2_unescape(arena, m, hl7v2_field(&m->segs[1], 3), &out, NULL), BASE_OK);
    ck_assert(base_str_eq_cstr(out, "C:\\dir\\Q"));
}
END_TEST

START_TEST(null_value_and_absent_parts)
{
    struct hl7v2_msg *m = th_parse(arena, MSH "PID|1|\"\"|a~b\n");

    ck_assert(hl7v2_is_null(hl7v2_field(&m->segs[1], 2)));
    ck_assert(!hl7v2_is_null(hl7v2_field(&m->segs[1], 3)));
    ck_assert_uint_eq(hl7v2_get(m, &m->segs[1], 3, 3, 0, 0).len, 0);
    ck_assert_uint_eq(hl7v2_get(m, &m->segs[1], 30, 1, 1, 1).len, 0);
    ck_assert_uint_eq(hl7v2_get(m, &m->segs[1], 3, 1, 5, 0).len, 0);
    ck_assert_uint_eq(hl7v2_rep_count(m, hl7v2_field(&m->segs[1], 3)), 2);
    ck_assert_uint_eq(hl7v2_rep_count(m, hl7v2_field(&m->segs[1], 9)), 0);
    ck_assert_ptr_null(hl7v2_seg_find(m, "OBX", 0, NULL));
}
END_TEST

START_TEST(encapsulated_data_fragment_85k)
{
    /* hapi's uuencoded ED payload, escaped with \X0D\ \X0A\ \S\ \E\ \T\:
     * 2224 hex, 1092 \S\, 1017 \E\, 1002 \T\ sequences in 85004 bytes */
    size_t len = 0;
    char *frag =
        tu_read_file(tu_corpus_path("hl7v2/valid/hapi-ed-uuencoded-escaped-fragment.txt"), &len);
    size_t cap = len + 256;
    char *msg = malloc(cap);
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};
    struct base_str data;
    struct base_str out;
    size_t cr = 0, hat = 0, amp = 0, bs = 0;
    int n;

    ck_assert_ptr_nonnull(frag);
    ck_assert_uint_eq(len, 85004);
    n = snprintf(msg, cap, "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|X|P|2.5\rOBX|1|ED|WAV||^AP^^A^%s\r",
                 frag);
    ck_assert_int_eq(hl7v2_msg_parse(arena, msg, (size_t)n, NULL, NULL, &m, &err), BASE_OK);
    data = hl7v2_get(m, &m->segs[1], 5, 1, 5, 0);
    ck_assert_uint_eq(data.len, 85004);
    ck_assert_int_eq(hl7v2_unescape(arena, m, data, &out, &err), BASE_OK);
    ck_assert_uint_eq(out.len, 85004 - 4 * 2224 - 2 * (1092 + 1017 + 1002));
    for (size_t i = 0; i < out.len; i++) {
        cr += out.ptr[i] == '\r';
        hat += out.ptr[i] == '^';
        amp += out.ptr[i] == '&';
        bs += out.ptr[i] == '\\';
    }
    ck_assert_uint_eq(cr, 1112);
    ck_assert_uint_eq(hat, 1092);
    ck_assert_uint_eq(amp, 1002);
    ck_assert_uint_eq(bs, 1017);
    ck_assert(base_str_starts_with(out, "begin 644 WAV.DAT\r\n"));
    ck_assert(base_str_ends_with(out, "\r\nend\r\n"));
    free(msg);
    free(frag);
}
END_TEST

Suite *hl7v2_access_suite(void);

Suite *
hl7v2_access_suite(void)
{
    Suite *s = suite_create("hl7v2_access");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, delimiter_escapes);
    tcase_add_test(tc, hex_escapes);
    tcase_add_test(tc, formatting_escapes);
    tcase_add_test(tc, highlight_and_local_escapes);
    tcase_add_test(tc, no_escape_means_no_copy);
    tcase_add_test(tc, escapes_in_components_stay_in_their_component);
    tcase_add_test(tc, bad_escapes_are_rejected_with_location);
    tcase_add_test(tc, no_escape_character_means_literal_backslash);
    tcase_add_test(tc, null_value_and_absent_parts);
    tcase_add_test(tc, encapsulated_data_fragment_85k);
    suite_add_tcase(s, tc);
    return s;
}
