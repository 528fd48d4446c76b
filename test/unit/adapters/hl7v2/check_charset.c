/*
 * MSH-18 character sets: GB 18030 and ISO 8859-1 messages are written here
 * (iconv from UTF-8 text), parsed, mapped, and acknowledged in their own
 * character set.
 */
#include <check.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/adapters/hl7v2/hl7_test.h"

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

/* UTF-8 text ('\n' = CR) -> bytes in `charset` (malloc'd). */
static char *
encode(const char *utf8, const char *charset, size_t *out_len)
{
    char *src = th_cr(utf8);
    size_t in_left = strlen(src);
    size_t cap = in_left * 2 + 16;
    char *out = malloc(cap);
    char *in = src;
    char *o = out;
    size_t out_left = cap;
    iconv_t cd = iconv_open(charset, "UTF-8");

    ck_assert(cd != (iconv_t)-1);
    ck_assert(iconv(cd, &in, &in_left, &o, &out_left) != (size_t)-1);
    iconv_close(cd);
    free(src);
    *out_len = cap - out_left;
    return out;
}

/* 億 (0x83 0x7C) and 區 (0x85 0x5E) have '|' and '^' as GB 18030 trail
 * bytes, 乗 (0x81 0x5C) has '\': a byte-wise tokenizer would split them. */
#define GB_MSG                                                                                     \
    "MSH|^~\\&|HIS|億區医院|LIS|檢驗科|20240301083000+0800||ADT^A01|GB1|P|2.5|||||CHN|"     \
    "GB 18030-2000\n"                                                                              \
    "PID|1||MRN001^^^HIS^MR~110101199003071735^^^^ID||张乗^三||19900307|M|||"                   \
    "朝阳路1号^^北京市^北京^100020^CHN^H\n"                                               \
    "PV1|1|I|内科^301^2||||||||||||||||V001^^^HIS^VN|||||||||||||||||||||||||20240301080000\n"

START_TEST(gb18030_message_parses_to_utf8)
{
    size_t len = 0;
    char *raw = encode(GB_MSG, "GB18030", &len);
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};
    struct base_str fam;

    ck_assert_ptr_nonnull(memchr(raw, 0x7c, len));
    ck_assert_int_eq(hl7v2_msg_parse(arena, raw, len, NULL, NULL, &m, &err), BASE_OK);
    ck_assert_str_eq(m->charset, "GB18030");
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[0], 4, 1, 1, 0), "億區医院"));
    fam = hl7v2_get(m, &m->segs[1], 5, 1, 1, 0);
    ck_assert(base_str_eq_cstr(fam, "张乗"));
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 5, 1, 2, 0), "三"));
    free(raw);
}
END_TEST

START_TEST(gb18030_message_maps_chinese_name_address_and_resident_id)
{
    size_t len = 0;
    char *raw = encode(GB_MSG, "GB18030", &len);
    struct hl7v2_bundle *b = NULL;
    struct base_err err = {0};
    json_t *tree = NULL;
    json_t *pat;

    ck_assert_int_eq(hl7v2_convert(arena, raw, len, NULL, NULL, NULL, &b, &err), BASE_OK);
    ck_assert_int_eq(hl7v2_bundle_tree(b, &tree, &err), BASE_OK);
    pat = th_res(tree, "Patient", 0);
    ck_assert_str_eq(th_str(pat, "name[0].family"), "张乗");
    ck_assert_str_eq(th_str(pat, "name[0].given[0]"), "三");
    ck_assert_str_eq(th_str(pat, "name[0].text"), "张乗三");
    /* the province (北京) is already in the street line: not repeated */
    ck_assert_str_eq(th_str(pat, "address[0].text"), "北京市朝阳路1号");
    ck_assert_str_eq(th_str(pat, "identifier[1].system"), "urn:oid:2.16.156.10011.1.3");
    ck_assert_str_eq(th_str(pat, "identifier[1].value"), "110101199003071735");
    json_decref(tree);
    free(raw);
}
END_TEST

START_TEST(gb18030_ack_is_encoded_back)
{
    size_t len = 0;
    char *raw = encode(GB_MSG, "GB18030", &len);
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};
    struct hl7v2_ack_opts o = {"FHIRGATE", NULL, "ACK1", "20240301083001+0800"};
    struct base_str ack;
    size_t facility_len = 0;
    char *facility = encode("億區医院", "GB18030", &facility_len);

    ck_assert_int_eq(hl7v2_msg_parse(arena, raw, len, NULL, NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(
        hl7v2_ack_build(arena, m, base_str_make(raw, len), HL7V2_ACK_AA, NULL, &o, &ack, &err),
        BASE_OK);
    /* the sender's facility comes back in GB 18030, MSH-18 is echoed */
    ck_assert_ptr_nonnull(memmem(ack.ptr, ack.len, facility, facility_len));
    ck_assert_ptr_nonnull(memmem(ack.ptr, ack.len, "|GB 18030-2000\rMSA|AA|GB1\r", 26));
    free(facility);
    free(raw);
}
END_TEST

START_TEST(gbk_without_msh18_is_read_as_gb18030)
{
    size_t len = 0;
    char *raw = encode("MSH|^~\\&|HIS|H|LIS|L|20240301||ADT^A04|G2|P|2.4\nPID|1||9^^^H^MR||王^五\n",
                       "GBK", &len);
    struct hl7v2_parse_opts opts = HL7V2_PARSE_OPTS_DEFAULT;
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};

    /* a Chinese HIS that never sets MSH-18: GB 18030, with a warning */
    ck_assert_int_eq(hl7v2_msg_parse(arena, raw, len, NULL, NULL, &m, &err), BASE_OK);
    ck_assert_str_eq(m->charset, "GB18030");
    ck_assert(m->warn & HL7V2_W_CHARSET_GB18030);
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 5, 1, 1, 0), "王"));
    /* a configured default is not a guess */
    opts.default_charset = "GBK";
    ck_assert_int_eq(hl7v2_msg_parse(arena, raw, len, NULL, &opts, &m, &err), BASE_OK);
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 5, 1, 1, 0), "王"));
    ck_assert(!(m->warn & HL7V2_W_CHARSET_GB18030));
    free(raw);
}
END_TEST

START_TEST(gbk_declared_as_utf8_or_ascii_is_read_as_gb18030)
{
    const char *const declared[] = {"UNICODE UTF-8", "ASCII"};
    struct hl7v2_parse_opts opts = HL7V2_PARSE_OPTS_DEFAULT;
    struct base_err err = {0};
    struct hl7v2_msg *m = NULL;

    for (size_t i = 0; i < BASE_ARRAY_LEN(declared); i++) {
        char text[160];
        size_t len = 0;
        char *raw;

        snprintf(text, sizeof(text),
                 "MSH|^~\\&|HIS|H|LIS|L|20240301||ADT^A04|G6|P|2.4|||||CHN|%s\n"
                 "PID|1||9^^^H^MR||王^五\n",
                 declared[i]);
        raw = encode(text, "GBK", &len);
        ck_assert_int_eq(hl7v2_msg_parse(arena, raw, len, NULL, NULL, &m, &err), BASE_OK);
        ck_assert_str_eq(m->charset, "GB18030");
        ck_assert(m->warn & HL7V2_W_CHARSET_GB18030);
        ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 5, 1, 1, 0), "王"));
        /* a charset the adapter is configured with is not second-guessed */
        opts.force_charset = "UTF-8";
        ck_assert_int_eq(hl7v2_msg_parse(arena, raw, len, NULL, &opts, &m, &err), BASE_E_PARSE);
        ck_assert_str_eq(err.where, "PID (segment 2)");
        opts.force_charset = NULL;
        free(raw);
    }
}
END_TEST

START_TEST(undeclared_non_utf8_that_is_not_chinese_is_rejected)
{
    size_t len = 0;
    size_t raw_len = 0;
    /* Latin-1 "ü" + "l" is a valid GB 18030 pair: not taken for Chinese */
    char *raw = encode("MSH|^~\\&|A|B|C|D|20240301||ADT^A01|L2|P|2.5\nPID|1||7^^^B^MR||Müller\n",
                       "ISO-8859-1", &raw_len);
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};
    struct hl7v2_bundle *b = NULL;
    static const char bad[] = "MSH|^~\\&|A|B|C|D|2024||ADT^A01|X|P|2.5\rPID|1||7||\xA1\xA1\xFF\r";
    char *gb = encode("MSH|^~\\&|HIS|H|LIS|L|20240301||ADT^A04|G5|P|2.4\nPID|1||9^^^H^MR||王^五\n",
                      "GBK", &len);

    ck_assert_int_eq(hl7v2_msg_parse(arena, raw, raw_len, NULL, NULL, &m, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.where, "PID (segment 2)");
    ck_assert(strstr(err.msg, "not valid UTF-8") != NULL);
    /* bytes that are not GB 18030 either keep the UTF-8 error */
    ck_assert_int_eq(hl7v2_msg_parse(arena, bad, sizeof(bad) - 1, NULL, NULL, &m, &err),
                     BASE_E_PARSE);
    /* the guess is reported as a mapping warning at MSH-18 */
    ck_assert_int_eq(hl7v2_convert(arena, gb, len, NULL, NULL, NULL, &b, &err), BASE_OK);
    ck_assert_uint_ge(b->nwarnings, 1);
    ck_assert(strstr(b->warnings[0].where, "MSH-18") != NULL);
    free(gb);
    free(raw);
}
END_TEST

START_TEST(forced_charset_overrides_a_wrong_msh18)
{
    size_t len = 0;
    char *raw = encode("MSH|^~\\&|HIS|H|LIS|L|20240301||ADT^A04|G4|P|2.4|||||CHN|CHINESE\n"
                       "PID|1||9^^^H^MR||赵^六\n",
                       "GB18030", &len);
    struct hl7v2_parse_opts opts = HL7V2_PARSE_OPTS_DEFAULT;
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(hl7v2_msg_parse(arena, raw, len, NULL, &opts, &m, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "MSH-18 (segment 1)");
    opts.force_charset = "GB18030";
    ck_assert_int_eq(hl7v2_msg_parse(arena, raw, len, NULL, &opts, &m, &err), BASE_OK);
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 5, 1, 1, 0), "赵"));
    free(raw);
}
END_TEST

START_TEST(invalid_gb18030_bytes_are_located)
{
    const char raw[] = "MSH|^~\\&|HIS|H|LIS|L|20240301||ADT^A04|G3|P|2.5|||||CHN|GB18030\r"
                       "PID|1||9^^^H^MR||\x81\x20X\r";
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(hl7v2_msg_parse(arena, raw, sizeof(raw) - 1, NULL, NULL, &m, &err),
                     BASE_E_PARSE);
    ck_assert_str_eq(err.where, "PID (segment 2)");
    ck_assert(strstr(err.msg, "not valid in the declared character set") != NULL);
}
END_TEST

START_TEST(latin1_message)
{
    size_t len = 0;
    char *raw = encode("MSH|^~\\&|A|B|C|D|20240301||ADT^A01|L1|P|2.5|||||DEU|8859/1\n"
                       "PID|1||7^^^B^MR||Müller^José^^^Dr.\n",
                       "ISO-8859-1", &len);
    struct hl7v2_bundle *b = NULL;
    struct base_err err = {0};
    json_t *tree = NULL;

    ck_assert_ptr_nonnull(memchr(raw, 0xFC, len)); /* ü in Latin-1 */
    ck_assert_int_eq(hl7v2_convert(arena, raw, len, NULL, NULL, NULL, &b, &err), BASE_OK);
    ck_assert_int_eq(hl7v2_bundle_tree(b, &tree, &err), BASE_OK);
    ck_assert_str_eq(th_str(th_res(tree, "Patient", 0), "name[0].family"), "Müller");
    ck_assert_str_eq(th_str(th_res(tree, "Patient", 0), "name[0].given[0]"), "José");
    json_decref(tree);
    free(raw);
}
END_TEST

/* An interface moved to UTF-8 that still says 8859/1: the names must not
 * come out as "MÃ¼ller"; a real Latin-1 message (above) stays Latin-1, and
 * a configured charset is not second-guessed. */
START_TEST(utf8_declared_8859_is_read_as_utf8_with_a_warning)
{
    const char *text = "MSH|^~\\&|A|B|C|D|20240301||ADT^A08|U1|P|2.5|||||DEU|8859/1\n"
                       "PID|1||7^^^B^MR||Müller^Jürgen\n";
    char *raw = th_cr(text);
    struct hl7v2_parse_opts opts = HL7V2_PARSE_OPTS_DEFAULT;
    struct hl7v2_bundle *b = NULL;
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};
    json_t *tree = NULL;

    ck_assert_int_eq(hl7v2_convert(arena, raw, strlen(raw), NULL, NULL, NULL, &b, &err), BASE_OK);
    ck_assert_int_eq(hl7v2_bundle_tree(b, &tree, &err), BASE_OK);
    ck_assert_str_eq(th_str(th_res(tree, "Patient", 0), "name[0].family"), "Müller");
    ck_assert_uint_ge(b->nwarnings, 1);
    ck_assert_ptr_nonnull(strstr(b->warnings[0].where, "MSH-18"));
    json_decref(tree);
    opts.force_charset = "8859/1";
    ck_assert_int_eq(hl7v2_msg_parse(arena, raw, strlen(raw), NULL, &opts, &m, &err), BASE_OK);
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 5, 1, 1, 0), "MÃ¼ller"));
    ck_assert(!(m->warn & HL7V2_W_CHARSET_UTF8));
    free(raw);
}
END_TEST

START_TEST(ascii_declared_utf8_sent_is_accepted_with_a_warning)
{
    struct hl7v2_msg *m = th_parse(arena, "MSH|^~\\&|A|B|C|D|2024||ADT^A01|X|P|2.5|||||USA|ASCII\n"
                                          "PID|1||7^^^B^MR||Zoë\n");

    ck_assert_str_eq(m->charset, "ASCII");
    ck_assert(m->warn & HL7V2_W_CHARSET_GUESS);
}
END_TEST

START_TEST(charset_names)
{
    struct {
        const char *name;
        const char *canonical;
    } ok[] = {
        {"UNICODE UTF-8", "UTF-8"}, {"utf-8", "UTF-8"},         {"ASCII", "ASCII"},
        {"8859/1", "ISO-8859-1"},   {"8859/15", "ISO-8859-15"}, {"GB 18030-2000", "GB18030"},
        {"GB18030", "GB18030"},     {"GBK", "GB18030"},         {"GB2312", "GB18030"},
        {"gb 2312", "GB18030"},     {"BIG-5", "BIG5"},          {"KS X 1001", "EUC-KR"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(ok); i++) {
        char text[256];
        struct hl7v2_msg *m;

        snprintf(text, sizeof(text), "MSH|^~\\&|A|B|C|D|2024||ADT^A01|X|P|2.5|||||CHN|%s\n",
                 ok[i].name);
        m = th_parse(arena, text);
        ck_assert_str_eq(m->charset, ok[i].canonical);
    }
}
END_TEST

START_TEST(unsupported_charsets_are_rejected)
{
    const char *bad[] = {"ISO IR87", "UNICODE UTF-16", "CHINESE", "EBCDIC"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        char text[256];
        struct base_err err = {0};

        snprintf(text, sizeof(text), "MSH|^~\\&|A|B|C|D|2024||ADT^A01|X|P|2.5|||||CHN|%s\n",
                 bad[i]);
        ck_assert_int_eq(th_parse_fail(text, NULL, NULL, &err), BASE_E_INVALID);
        ck_assert_str_eq(err.where, "MSH-18 (segment 1)");
        ck_assert_str_eq(err.issue_code, "not-supported");
    }
}
END_TEST

START_TEST(invalid_utf8_is_located)
{
    struct base_err err = {0};

    ck_assert_int_eq(th_parse_fail("MSH|^~\\&|A|B|C|D|2024||ADT^A01|X|P|2.5\n"
                                   "PID|1||7^^^B^MR||Ab\xC3\x28\n",
                                   NULL, NULL, &err),
                     BASE_E_PARSE);
    ck_assert_str_eq(err.where, "PID (segment 2)");
    ck_assert_str_eq(err.msg, "bytes are not valid UTF-8 (byte 20 of the segment)");
}
END_TEST

Suite *hl7v2_charset_suite(void);

Suite *
hl7v2_charset_suite(void)
{
    Suite *s = suite_create("hl7v2_charset");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, gb18030_message_parses_to_utf8);
    tcase_add_test(tc, gb18030_message_maps_chinese_name_address_and_resident_id);
    tcase_add_test(tc, gb18030_ack_is_encoded_back);
    tcase_add_test(tc, gbk_without_msh18_is_read_as_gb18030);
    tcase_add_test(tc, undeclared_non_utf8_that_is_not_chinese_is_rejected);
    tcase_add_test(tc, gbk_declared_as_utf8_or_ascii_is_read_as_gb18030);
    tcase_add_test(tc, forced_charset_overrides_a_wrong_msh18);
    tcase_add_test(tc, invalid_gb18030_bytes_are_located);
    tcase_add_test(tc, latin1_message);
    tcase_add_test(tc, ascii_declared_utf8_sent_is_accepted_with_a_warning);
    tcase_add_test(tc, utf8_declared_8859_is_read_as_utf8_with_a_warning);
    tcase_add_test(tc, charset_names);
    tcase_add_test(tc, unsupported_charsets_are_rejected);
    tcase_add_test(tc, invalid_utf8_is_located);
    suite_add_tcase(s, tc);
    return s;
}
