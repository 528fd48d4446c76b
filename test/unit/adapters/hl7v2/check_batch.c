/* Files of many messages, FHS/BHS batches, locations, ACKs, small utilities. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/support/testutil.h"
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

static int
split(const char *text, struct hl7v2_file *f, const struct hl7v2_limits *lim, struct base_err *e)
{
    return hl7v2_file_split(arena, text, strlen(text), lim, f, e);
}

START_TEST(batch_with_headers_and_trailers)
{
    const char *text = "FHS|^~\\&|A\rBHS|^~\\&|A\r"
                       "MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\rPID|1\r"
                       "MSH|^~\\&|A|B|C|D|2024||ADT^A08|2|P|2.5\rPID|2\rPV1|1\r"
                       "BTS|2\rFTS|1\r";
    struct hl7v2_file f;
    struct base_err err = {0};

    ck_assert_int_eq(split(text, &f, NULL, &err), BASE_OK);
    ck_assert_uint_eq(f.nmsgs, 2);
    ck_assert(f.has_batch);
    ck_assert_int_eq(f.declared_count, 2);
    ck_assert_uint_eq(f.msgs[0].line, 3);
    ck_assert(base_str_starts_with(f.msgs[1].data, "MSH|^~\\&|A|B|C|D|2024||ADT^A08|2"));
    ck_assert(base_str_ends_with(f.msgs[1].data, "PV1|1\r"));
    ck_assert(base_str_ends_with(f.msgs[0].data, "PID|1\r"));
}
END_TEST

START_TEST(comment_lines_between_messages_are_skipped)
{
    const char *text = "/*\n * samples\n */\nMSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\nPID|1\n\n"
                       "// *** next\nMSH|^~}|A|B|C|D|2024||BAR^P01|2|P|2.4\nPID|2\n";
    struct hl7v2_file f;
    struct base_err err = {0};

    ck_assert_int_eq(split(text, &f, NULL, &err), BASE_OK);
    ck_assert_uint_eq(f.nmsgs, 2);
    ck_assert_uint_eq(f.skipped_lines, 4);
    ck_assert_uint_eq(f.msgs[1].line, 8);
}
END_TEST

START_TEST(mllp_framed_capture_is_split_without_the_block_characters)
{
    /* one message per MLLP block, as an interface engine's capture holds
     * them; the block characters are not part of any message */
    const char *text = "\x0bMSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\rPID|1\r\x1c\r"
                       "\x0bMSH|^~\\&|A|B|C|D|2024||ADT^A08|2|P|2.5\rPID|2\x1c\r";
    struct hl7v2_file f;
    struct base_err err = {0};
    struct hl7v2_msg *m = NULL;

    ck_assert_int_eq(split(text, &f, NULL, &err), BASE_OK);
    ck_assert_uint_eq(f.nmsgs, 2);
    ck_assert_uint_eq(f.skipped_lines, 0);
    ck_assert(base_str_starts_with(f.msgs[0].data, "MSH|"));
    ck_assert(base_str_ends_with(f.msgs[0].data, "PID|1\r"));
    ck_assert(base_str_starts_with(f.msgs[1].data, "MSH|"));
    ck_assert(base_str_ends_with(f.msgs[1].data, "PID|2"));
    for (size_t i = 0; i < f.nmsgs; i++)
        ck_assert_int_eq(
            hl7v2_msg_parse(arena, f.msgs[i].data.ptr, f.msgs[i].data.len, NULL, NULL, &m, &err),
            BASE_OK);
}
END_TEST

START_TEST(orphan_segment_is_an_error)
{
    struct hl7v2_file f;
    struct base_err err = {0};

    ck_assert_int_eq(split("PID|1\nMSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\n", &f, NULL, &err),
                     BASE_E_PARSE);
    ck_assert(strstr(err.msg, "line 1: segment outside a message") != NULL);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(split("hello\n", &f, NULL, &err), BASE_E_PARSE);
    ck_assert(strstr(err.msg, "no message found") != NULL);
}
END_TEST

/* A field broken over two lines: the error names the line that is no
 * segment, not the segments after it that lost their message. */
START_TEST(line_break_inside_a_field_is_named)
{
    struct hl7v2_file f;
    struct base_err err = {0};

    ck_assert_int_eq(split("MSH|^~\\&|A|B|C|D|2024||ORU^R01|1|P|2.3\n"
                           "OBR|1|P1||X^UPPER RESPIRATORY\n"
                           "CULTURE^L|||2024\n"
                           "OBX|1|ST|X^X^L||text||||||F\n",
                           &f, NULL, &err),
                     BASE_E_PARSE);
    ck_assert_msg(strstr(err.msg, "line 3: not a segment, inside a message") != NULL, "%s",
                  err.msg);
    /* a banner between two messages is still skipped */
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(split("MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\nPID|1\n"
                           "-- next --\n"
                           "MSH|^~\\&|A|B|C|D|2024||ADT^A01|2|P|2.5\nPID|2\n",
                           &f, NULL, &err),
                     BASE_OK);
    ck_assert_uint_eq(f.nmsgs, 2);
    ck_assert_uint_eq(f.skipped_lines, 1);
}
END_TEST

START_TEST(message_count_limit)
{
    struct hl7v2_limits lim = HL7V2_LIMITS_DEFAULT;
    struct hl7v2_file f;
    struct base_err err = {0};

    lim.max_messages = 1;
    ck_assert_int_eq(split("MSH|^~\\&|A\nMSH|^~\\&|B\n", &f, &lim, &err), BASE_E_LIMIT);
    ck_assert(strstr(err.msg, "exceeds 1 messages") != NULL);
}
END_TEST

START_TEST(corpus_multi_message_files)
{
    struct {
        const char *file;
        size_t nmsgs;
    } files[] = {
        {"hl7v2/valid/hapi-messages-multi.txt", 18},
        {"hl7v2/valid/hapi-oml-o21-batch.hl7", 13},
        {"hl7v2/valid/nhapi-OML_O21_messages.txt", 7},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(files); i++) {
        size_t len = 0;
        char *data = tu_read_file(tu_corpus_path(files[i].file), &len);
        struct hl7v2_file f;
        struct base_err err = {0};

        ck_assert_ptr_nonnull(data);
        ck_assert_int_eq(hl7v2_file_split(arena, data, len, NULL, &f, &err), BASE_OK);
        ck_assert_uint_eq(f.nmsgs, files[i].nmsgs);
        for (size_t k = 0; k < f.nmsgs; k++) {
            struct hl7v2_msg *m = NULL;

            ck_assert_msg(hl7v2_msg_parse(arena, f.msgs[k].data.ptr, f.msgs[k].data.len, NULL, NULL,
                                          &m, &err) == BASE_OK,
                          "%s message %zu: %s %s", files[i].file, k + 1, err.where, err.msg);
        }
        free(data);
    }
}
END_TEST

START_TEST(locations_round_trip)
{
    const char *cases[] = {"PID-5[2].1 (segment 3)", "MSH-18 (segment 1)",        "segment 7",
                           "PID (segment 2)",        "OBX-5[1].2.3 (segment 12)", "PID-3"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        struct hl7v2_loc loc;
        char buf[128];

        ck_assert_msg(hl7v2_loc_parse(cases[i], &loc), "%s", cases[i]);
        hl7v2_loc_format(&loc, buf, sizeof(buf));
        ck_assert_str_eq(buf, cases[i]);
    }
    {
        struct hl7v2_loc loc;

        ck_assert(!hl7v2_loc_parse("line 3, column 4", &loc));
        ck_assert(!hl7v2_loc_parse("PID-x", &loc));
        ck_assert(!hl7v2_loc_parse("PID-5[2", &loc));
    }
}
END_TEST

/* ----------------------------------------------------------------- ACKs -- */

static const struct hl7v2_ack_opts ack_opts = {"FHIRGATE", "HOSP-A", "ACK00001",
                                               "20240301083001+0800"};

START_TEST(ack_accept)
{
    struct hl7v2_msg *m =
        th_parse(arena, "MSH|^~\\&|HIS|H|LIS|L|20240301||ADT^A01^ADT_A01|C42|P|2.5.1\n"
                        "PID|1\n");
    struct base_str ack;
    struct base_err err = {0};

    ck_assert_int_eq(
        hl7v2_ack_build(arena, m, BASE_STR_NULL, HL7V2_ACK_AA, NULL, &ack_opts, &ack, &err),
        BASE_OK);
    ck_assert(base_str_eq_cstr(ack, "MSH|^~\\&|FHIRGATE|HOSP-A|HIS|H|20240301083001+0800||"
                                    "ACK^A01^ACK|ACK00001|P|2.5.1\rMSA|AA|C42\r"));
}
END_TEST

START_TEST(ack_error_v25_has_err_location_without_values)
{
    const char *text = "MSH|^~\\&|HIS|H|LIS|L|20240301||ADT^A01|C43|P|2.5\nPID|1||12\x01\n";
    char *raw = th_cr(text);
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};
    struct base_err e2 = {0};
    struct base_str ack;

    ck_assert_int_eq(hl7v2_msg_parse(arena, raw, strlen(raw), NULL, NULL, &m, &err), BASE_E_PARSE);
    ck_assert_int_eq(hl7v2_ack_build(arena, NULL, base_str_from_cstr(raw), HL7V2_ACK_AE, &err,
                                     &ack_opts, &ack, &e2),
                     BASE_OK);
    ck_assert(base_str_starts_with(ack, "MSH|^~\\&|FHIRGATE|HOSP-A|HIS|H|"));
    ck_assert_ptr_nonnull(memmem(ack.ptr, ack.len, "\rMSA|AE|C43\r", 12));
    ck_assert(base_str_ends_with(ack, "\rERR||PID^1^3^1^1^1|102^Data type error^HL70357|E||||"
                                      "control character (byte 0x01) is not allowed\r"));
    ck_assert_ptr_null(memmem(ack.ptr, ack.len, "12", 2)); /* PID-3's value never echoed */
    free(raw);
}
END_TEST

START_TEST(ack_error_v23_uses_err1)
{
    struct hl7v2_msg *m = th_parse(arena, "MSH|^~\\&|HIS|H|LIS|L|20240301||ORU^R01|C44|P|2.3\n"
                                          "PID|1\nPID|2\n");
    struct base_err why = {0};
    struct base_err err = {0};
    struct base_str ack;

    base_err_set(&why, BASE_E_INVALID, "required", "PID-3 (segment 3)",
                 "patient has no identifier");
    ck_assert_int_eq(
        hl7v2_ack_build(arena, m, BASE_STR_NULL, HL7V2_ACK_AE, &why, &ack_opts, &ack, &err),
        BASE_OK);
    ck_assert(base_str_ends_with(ack, "\rMSA|AE|C44|patient has no identifier\r"
                                      "ERR|PID^2^3^101&Required field missing&HL70357\r"));
}
END_TEST

START_TEST(ack_reject_for_garbage_uses_defaults)
{
    struct base_err why = {0};
    struct base_err err = {0};
    struct base_str ack;

    base_err_set(&why, BASE_E_PARSE, "structure", "segment 1",
                 "message does not start with an MSH segment");
    ck_assert_int_eq(hl7v2_ack_build(arena, NULL, base_str_from_cstr("\x01garbage"), HL7V2_ACK_AR,
                                     &why, &ack_opts, &ack, &err),
                     BASE_OK);
    ck_assert(base_str_starts_with(
        ack, "MSH|^~\\&|FHIRGATE|HOSP-A|||20240301083001+0800||ACK^^ACK|ACK00001|P|2.5\rMSA|AR|\r"
             "ERR||^1^|100^Segment sequence error^HL70357|E||||"));
}
END_TEST

START_TEST(ack_escapes_our_text_and_keeps_custom_delimiters)
{
    struct hl7v2_msg *m = th_parse(arena, "MSH^~|\\&^S^F^R^F2^20120918^^ADT~A24^C9^T^2.4\nPID^1\n");
    struct hl7v2_ack_opts o = {"FHIR^GATE", NULL, "A|1", "20240301"};
    struct base_err err = {0};
    struct base_str ack;

    ck_assert_int_eq(hl7v2_ack_build(arena, m, BASE_STR_NULL, HL7V2_ACK_AA, NULL, &o, &ack, &err),
                     BASE_OK);
    ck_assert(
        base_str_eq_cstr(ack, "MSH^~|\\&^FHIR\\F\\GATE^F2^S^F^20240301^^ACK~A24~ACK^A\\R\\1^T^2.4\r"
                              "MSA^AA^C9\r"));
}
END_TEST

/* Enhanced mode (v2.5.1 §2.9.3): MSH-15 AL/ER/SU asks for accept
 * acknowledgements — CA/CE/CR; NE or empty with MSH-16 valued keeps the
 * original codes. */
START_TEST(ack_enhanced_mode_uses_commit_codes)
{
    static const struct {
        const char *msh15_16;
        enum hl7v2_ack_code code;
        const char *msa;
    } cases[] = {
        {"|AL|NE", HL7V2_ACK_AA, "\rMSA|CA|C45\r"},   {"|AL|AL", HL7V2_ACK_AA, "\rMSA|CA|C45\r"},
        {"|ER|NE", HL7V2_ACK_AA, "\rMSA|CA|C45\r"},   {"|SU|", HL7V2_ACK_AA, "\rMSA|CA|C45\r"},
        {"| AL |NE", HL7V2_ACK_AA, "\rMSA|CA|C45\r"}, {"|AL|NE", HL7V2_ACK_AE, "\rMSA|CE|C45\r"},
        {"|AL|NE", HL7V2_ACK_AR, "\rMSA|CR|C45\r"},   {"|NE|AL", HL7V2_ACK_AA, "\rMSA|AA|C45\r"},
        {"|NE|NE", HL7V2_ACK_AE, "\rMSA|AE|C45\r"},   {"||", HL7V2_ACK_AA, "\rMSA|AA|C45\r"},
        {"|al|", HL7V2_ACK_AA, "\rMSA|AA|C45\r"}, /* table 0155 codes are upper case */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        struct hl7v2_msg *m;
        struct base_err why = {0};
        struct base_err err = {0};
        struct base_str ack;

        snprintf(text, sizeof(text),
                 "MSH|^~\\&|LIS|H|HIS|L|20240301||ORU^R01^ORU_R01|C45|P|2.5.1||%s\nPID|1\n",
                 cases[i].msh15_16);
        m = th_parse(arena, text);
        base_err_set(&why, BASE_E_INVALID, "required", "PID-3 (segment 2)",
                     "patient has no identifier");
        ck_assert_int_eq(hl7v2_ack_build(arena, m, BASE_STR_NULL, cases[i].code,
                                         cases[i].code == HL7V2_ACK_AA ? NULL : &why, &ack_opts,
                                         &ack, &err),
                         BASE_OK);
        ck_assert_msg(memmem(ack.ptr, ack.len, cases[i].msa, strlen(cases[i].msa)) != NULL,
                      "MSH-15/16 %s: %.*s", cases[i].msh15_16, (int)ack.len, ack.ptr);
        /* an error answer names where, in either mode */
        ck_assert((memmem(ack.ptr, ack.len, "\rERR|", 5) != NULL) ==
                  (cases[i].code != HL7V2_ACK_AA));
    }
    {
        /* a message that did not parse: MSH-15 salvaged from the bytes */
        struct base_err why = {0};
        struct base_err err = {0};
        struct base_str ack;
        static const char raw[] =
            "MSH|^~\\&|LIS|H|HIS|L|20240301||ORU^R01|C46|P|2.5.1|||AL|NE\rPID|1||\x01\r";

        base_err_set(&why, BASE_E_PARSE, "structure", "segment 2", "control character");
        ck_assert_int_eq(hl7v2_ack_build(arena, NULL, base_str_make(raw, sizeof(raw) - 1),
                                         HL7V2_ACK_AR, &why, &ack_opts, &ack, &err),
                         BASE_OK);
        ck_assert_ptr_nonnull(memmem(ack.ptr, ack.len, "\rMSA|CR|C46\r", 12));
    }
}
END_TEST

START_TEST(ack_needs_control_id_and_time)
{
    struct hl7v2_ack_opts o = {NULL, NULL, NULL, NULL};
    struct base_err err = {0};
    struct base_str ack;

    ck_assert_int_eq(
        hl7v2_ack_build(arena, NULL, BASE_STR_NULL, HL7V2_ACK_AA, NULL, &o, &ack, &err),
        BASE_E_INVALID);
}
END_TEST

START_TEST(err_codes)
{
    struct base_err e = {0};

    ck_assert_int_eq(hl7v2_err_code(NULL), 207);
    base_err_set(&e, BASE_E_INVALID, "required", "PID-3", "x");
    ck_assert_int_eq(hl7v2_err_code(&e), 101);
    base_err_clear(&e);
    base_err_set(&e, BASE_E_INVALID, "not-supported", "MSH-12 (segment 1)", "x");
    ck_assert_int_eq(hl7v2_err_code(&e), 203);
    base_err_clear(&e);
    base_err_set(&e, BASE_E_INVALID, "not-supported", "MSH-18 (segment 1)", "x");
    ck_assert_int_eq(hl7v2_err_code(&e), 200);
    base_err_clear(&e);
    base_err_set(&e, BASE_E_PARSE, "structure", "segment 2", "x");
    ck_assert_int_eq(hl7v2_err_code(&e), 100);
    base_err_clear(&e);
    base_err_set(&e, BASE_E_LIMIT, "too-costly", "PID-3", "x");
    ck_assert_int_eq(hl7v2_err_code(&e), 102);
    base_err_clear(&e);
    base_err_set(&e, BASE_E_IO, "exception", NULL, "x");
    ck_assert_int_eq(hl7v2_err_code(&e), 207);
}
END_TEST

/* ------------------------------------------------------------ utilities -- */

START_TEST(sha1_and_uuid5)
{
    char hex[41];
    char u1[37];
    char u2[37];
    struct base_str a[2] = {BASE_STR_LIT("ab"), BASE_STR_LIT("c")};
    struct base_str b[2] = {BASE_STR_LIT("a"), BASE_STR_LIT("bc")};

    hl7v2_sha1_hex("abc", 3, hex); /* FIPS 180-4 example */
    ck_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    hl7v2_sha1_hex("", 0, hex);
    ck_assert_str_eq(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    hl7v2_sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
    ck_assert_str_eq(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    hl7v2_uuid5(a, 2, u1);
    hl7v2_uuid5(b, 2, u2);
    ck_assert_str_ne(u1, u2);
    ck_assert_int_eq(u1[14], '5'); /* version */
    ck_assert(strchr("89ab", u1[19]) != NULL);
    hl7v2_uuid5(a, 2, u2);
    ck_assert_str_eq(u1, u2);
}
END_TEST

/* RFC 9562 5.5 by hand: SHA-1 of the namespace (fhirgate's, fixed forever)
 * and the name, the version and variant bits set, 8-4-4-4-12. */
static void
uuid5_by_hand(const char *name, size_t len, char out[37])
{
    static const unsigned char ns[16] = {0x6f, 0x1e, 0x2b, 0x4c, 0x9a, 0x57, 0x4d, 0x1b,
                                         0x8e, 0x3a, 0x5c, 0x27, 0xd0, 0x41, 0x96, 0xf3};
    char *buf = malloc(sizeof(ns) + len);
    char hex[41];
    size_t o = 0;

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, ns, sizeof(ns));
    memcpy(buf + sizeof(ns), name, len);
    hl7v2_sha1_hex(buf, sizeof(ns) + len, hex);
    free(buf);
    hex[12] = '5';
    hex[16] = "89ab"[(strchr("0123456789abcdef", hex[16]) - "0123456789abcdef") & 3];
    for (int i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[o++] = '-';
        out[o++] = hex[i];
    }
    out[o] = '\0';
}

/* The name is hashed in one piece when short and part by part when long:
 * both must give the RFC's UUID of the parts joined by U+001F. */
START_TEST(uuid5_short_and_long_names)
{
    static char big[700];
    char got[37];
    char want[37];
    char *joined = malloc(sizeof(big) + 16);
    struct base_str shortp[3] = {BASE_STR_LIT("urn:x"), BASE_STR_LIT("Patient"),
                                 BASE_STR_LIT("MRN1")};
    struct base_str longp[2] = {{big, sizeof(big)}, BASE_STR_LIT("y")};

    ck_assert_ptr_nonnull(joined);
    hl7v2_uuid5(shortp, 3, got);
    uuid5_by_hand("urn:x\x1fPatient\x1fMRN1", 18, want);
    ck_assert_str_eq(got, want);
    memset(big, 'x', sizeof(big));
    memcpy(joined, big, sizeof(big));
    memcpy(joined + sizeof(big), "\x1fy", 2);
    hl7v2_uuid5(longp, 2, got);
    uuid5_by_hand(joined, sizeof(big) + 2, want);
    ck_assert_str_eq(got, want);
    free(joined);
}
END_TEST

START_TEST(resident_identity_numbers)
{
    char out[19];

    ck_assert(hl7v2_cn_resident_id(base_str_from_cstr("110101199003071735"), out));
    ck_assert_str_eq(out, "110101199003071735");
    ck_assert(hl7v2_cn_resident_id(base_str_from_cstr("11010519491231002x"), out));
    ck_assert_str_eq(out, "11010519491231002X");
    ck_assert(!hl7v2_cn_resident_id(base_str_from_cstr("110101199003071731"), out)); /* check */
    ck_assert(!hl7v2_cn_resident_id(base_str_from_cstr("110101199013071735"), out)); /* month */
    ck_assert(!hl7v2_cn_resident_id(base_str_from_cstr("11010119900307173"), out));  /* length */
    ck_assert(!hl7v2_cn_resident_id(base_str_from_cstr("1101011990030717X5"), out));
    /* 1989 edition: 15 digits, upgraded with "19" and a check character */
    ck_assert(hl7v2_cn_resident_id(base_str_from_cstr("110101900307173"), out));
    ck_assert_str_eq(out, "110101199003071735");
}
END_TEST

Suite *hl7v2_batch_suite(void);

Suite *
hl7v2_batch_suite(void)
{
    Suite *s = suite_create("hl7v2_batch");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, batch_with_headers_and_trailers);
    tcase_add_test(tc, comment_lines_between_messages_are_skipped);
    tcase_add_test(tc, mllp_framed_capture_is_split_without_the_block_characters);
    tcase_add_test(tc, orphan_segment_is_an_error);
    tcase_add_test(tc, line_break_inside_a_field_is_named);
    tcase_add_test(tc, message_count_limit);
    tcase_add_test(tc, corpus_multi_message_files);
    tcase_add_test(tc, locations_round_trip);
    tcase_add_test(tc, ack_accept);
    tcase_add_test(tc, ack_enhanced_mode_uses_commit_codes);
    tcase_add_test(tc, ack_error_v25_has_err_location_without_values);
    tcase_add_test(tc, ack_error_v23_uses_err1);
    tcase_add_test(tc, ack_reject_for_garbage_uses_defaults);
    tcase_add_test(tc, ack_escapes_our_text_and_keeps_custom_delimiters);
    tcase_add_test(tc, ack_needs_control_id_and_time);
    tcase_add_test(tc, err_codes);
    tcase_add_test(tc, sha1_and_uuid5);
    tcase_add_test(tc, uuid5_short_and_long_names);
    tcase_add_test(tc, resident_identity_numbers);
    suite_add_tcase(s, tc);
    return s;
}
