/* HL7 v2 tokenizer: delimiters, terminators, segments, limits, locations. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/support/testutil.h"
#include "test/unit/adapters/hl7v2/hl7_test.h"

#define MSH "MSH|^~\\&|APP|FAC|RAPP|RFAC|20240101120000+0800||ADT^A01^ADT_A01|CTRL1|P|2.5\n"

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

START_TEST(parses_segments_and_fields)
{
    struct hl7v2_msg *m = th_parse(arena, MSH "PID|1||123^^^HIS^MR||DOE^JOHN\nZPI|x|y\n");

    ck_assert_uint_eq(m->nsegs, 3);
    ck_assert_str_eq(m->segs[1].id, "PID");
    ck_assert_str_eq(m->segs[2].id, "ZPI"); /* Z-segments are kept */
    ck_assert_uint_eq(m->segs[1].nfields, 5);
    ck_assert(base_str_eq_cstr(hl7v2_field(&m->segs[1], 3), "123^^^HIS^MR"));
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 5, 1, 2, 0), "JOHN"));
    ck_assert(base_str_eq_cstr(m->msg_code, "ADT"));
    ck_assert(base_str_eq_cstr(m->trigger, "A01"));
    ck_assert(base_str_eq_cstr(m->structure, "ADT_A01"));
    ck_assert(base_str_eq_cstr(m->control_id, "CTRL1"));
    ck_assert(base_str_eq_cstr(m->version, "2.5"));
    ck_assert_str_eq(m->charset, "UTF-8");
    ck_assert_uint_eq(m->segs[2].line, 3);
}
END_TEST

START_TEST(msh_fields_are_numbered_from_the_separator)
{
    struct hl7v2_msg *m = th_parse(arena, MSH);

    ck_assert(base_str_eq_cstr(hl7v2_field(&m->segs[0], 1), "|"));
    ck_assert(base_str_eq_cstr(hl7v2_field(&m->segs[0], 2), "^~\\&"));
    ck_assert(base_str_eq_cstr(hl7v2_field(&m->segs[0], 3), "APP"));
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[0], 2, 1, 1, 1), "^~\\&"));
    ck_assert_int_eq(m->d.field, '|');
    ck_assert_int_eq(m->d.comp, '^');
    ck_assert_int_eq(m->d.rep, '~');
    ck_assert_int_eq(m->d.esc, '\\');
    ck_assert_int_eq(m->d.sub, '&');
}
END_TEST

START_TEST(custom_delimiters)
{
    /* field separator '^', components '~' (hapi segmentfinder sample) */
    struct hl7v2_msg *m = th_parse(arena, "MSH^~|\\&^S^F^R^F2^20120918^^ADT~A24^C1^T^2.4\n"
                                          "PID^1^^111~~~FOO&&0363~NI|222^^SMITH~JOHN\n");

    ck_assert_int_eq(m->d.field, '^');
    ck_assert_int_eq(m->d.comp, '~');
    ck_assert_int_eq(m->d.rep, '|');
    ck_assert(base_str_eq_cstr(m->trigger, "A24"));
    ck_assert_uint_eq(hl7v2_rep_count(m, hl7v2_field(&m->segs[1], 3)), 2);
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 3, 1, 4, 1), "FOO"));
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 3, 1, 4, 3), "0363"));
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 3, 2, 1, 0), "222"));
}
END_TEST

START_TEST(three_encoding_characters)
{
    /* "^~}" : no subcomponent separator (old v2.1 feeds) */
    struct hl7v2_msg *m = th_parse(arena, "MSH|^~}|A|B|C|D|19930502||BAR^P01|X|P|2.4\n"
                                          "PID||^^|429314294^1^M10|a&b\n");

    ck_assert_int_eq(m->d.esc, '}');
    ck_assert_int_eq(m->d.sub, 0);
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 4, 1, 1, 1), "a&b"));
}
END_TEST

START_TEST(truncation_character_v27)
{
    struct hl7v2_msg *m = th_parse(arena, "MSH|^~\\&#|A|B|C|D|2019||ADT^A01|X|P|2.7\n");

    ck_assert_int_eq(m->d.trunc, '#');
}
END_TEST

START_TEST(terminators_cr_lf_crlf_and_bom)
{
    const char *variants[] = {
        "\xEF\xBB\xBFMSH|^~\\&|A|B|C|D|2019||ADT^A01|X|P|2.5\rPID|1\rPV1|1\r",
        "MSH|^~\\&|A|B|C|D|2019||ADT^A01|X|P|2.5\nPID|1\nPV1|1\n",
        "MSH|^~\\&|A|B|C|D|2019||ADT^A01|X|P|2.5\r\nPID|1\r\nPV1|1",
        "\r\n\nMSH|^~\\&|A|B|C|D|2019||ADT^A01|X|P|2.5\r\n\r\nPID|1\n\rPV1|1\r\n\r\n",
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(variants); i++) {
        struct hl7v2_msg *m = NULL;
        struct base_err err = {0};

        ck_assert_int_eq(
            hl7v2_msg_parse(arena, variants[i], strlen(variants[i]), NULL, NULL, &m, &err),
            BASE_OK);
        ck_assert_uint_eq(m->nsegs, 3);
        ck_assert_str_eq(m->segs[2].id, "PV1");
        /* the model's text is normalised to CR terminators */
        ck_assert_ptr_null(memchr(m->text.ptr, '\n', m->text.len));
    }
}
END_TEST

START_TEST(lf_rejected_without_the_flag)
{
    const char *text = "MSH|^~\\&|A|B|C|D|2019||ADT^A01|X|P|2.5\nPID|1\n";
    struct hl7v2_parse_opts strict = {0, NULL, NULL};
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(hl7v2_msg_parse(arena, text, strlen(text), NULL, &strict, &m, &err),
                     BASE_E_PARSE);
    ck_assert_str_eq(err.where, "MSH-12[1].1.1 (segment 1)");
    ck_assert(strstr(err.msg, "control character (byte 0x0a)") != NULL);
}
END_TEST

START_TEST(text_terminator_oddities)
{
    /* LinuxForHealth samples: MSH-2 "^~\\&" and literal "\r" at line ends */
    const char *text = "MSH|^~\\\\&|SE050|050|PACS|050|20120912011230||ADT^A01|102|T|2.6|||AL|NE|"
                       "764|ASCII||||||^4086::132:2A57:3C28^IPv6\\r\"\r\n"
                       "AL1|2|DRUG|00001433^TRAMADOL||SEIZURES~VOMITING\\r\r\n";
    struct hl7v2_msg *m = NULL;
    struct base_err err = {0};
    struct hl7v2_parse_opts strict = {HL7V2_ACCEPT_LF, NULL, NULL};

    ck_assert_int_eq(hl7v2_msg_parse(arena, text, strlen(text), NULL, NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(m->d.esc, '\\');
    ck_assert_int_eq(m->d.sub, '&');
    ck_assert(m->warn & HL7V2_W_DOUBLED_ESCAPE);
    ck_assert(m->warn & HL7V2_W_TEXT_TERMINATOR);
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[1], 5, 2, 0, 0), "VOMITING"));
    ck_assert(base_str_eq_cstr(hl7v2_get(m, &m->segs[0], 24, 1, 3, 0), "IPv6"));
    /* without the flag the same input is an error, with a location */
    m = NULL;
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(hl7v2_msg_parse(arena, text, strlen(text), NULL, &strict, &m, &err),
                     BASE_E_PARSE);
    ck_assert_str_eq(err.where, "MSH-2 (segment 1)");
}
END_TEST

START_TEST(rejects_bad_starts)
{
    struct base_err err = {0};

    ck_assert_int_eq(th_parse_fail("PID|1\n", NULL, NULL, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.where, "segment 1");
    ck_assert(strstr(err.msg, "does not start with an MSH") != NULL);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(th_parse_fail("BHS|^~\\&|A\nMSH|^~\\&|A\n", NULL, NULL, &err), BASE_E_PARSE);
    ck_assert(strstr(err.msg, "batch") != NULL);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(th_parse_fail("", NULL, NULL, &err), BASE_E_PARSE);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(th_parse_fail("MSHH0\n", NULL, NULL, &err), BASE_E_PARSE); /* nHapi nullref1 */
    ck_assert_str_eq(err.where, "MSH-1 (segment 1)");
}
END_TEST

START_TEST(rejects_bad_encoding_characters)
{
    struct {
        const char *text;
        const char *why;
    } cases[] = {
        {"MSH|^^A\\0|x\n", "encoding characters 1 and 2 are the same"},
        {"MSH|0000|\n", "encoding character 1 is not a printable delimiter"},
        {"MSH||x\n", "encoding characters must be 1 to 5 characters"},
        {"MSH|^~\\&#$|x\n", "encoding characters must be 1 to 5 characters"},
        {"MSH|^~\\&&|x\n", "encoding characters 4 and 5 are the same"},
        {"MSH|^ \\E|x\n", "encoding character 2 is not a printable delimiter"},
        {"MSH 1|^~\\&|x\n", "field separator is missing or not a printable delimiter"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        struct base_err err = {0};

        ck_assert_int_eq(th_parse_fail(cases[i].text, NULL, NULL, &err), BASE_E_PARSE);
        ck_assert_msg(strstr(err.msg, cases[i].why) != NULL, "case %zu: %s", i, err.msg);
        ck_assert_msg(strncmp(err.where, "MSH-", 4) == 0, "case %zu: %s", i, err.where);
    }
}
END_TEST

START_TEST(rejects_bad_segments)
{
    struct base_err err = {0};

    ck_assert_int_eq(th_parse_fail(MSH "PID|1\npid|2\n", NULL, NULL, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.where, "segment 3");
    ck_assert_str_eq(err.msg, "invalid segment identifier");
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(th_parse_fail(MSH "PIDX|1\n", NULL, NULL, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.where, "segment 2");
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(th_parse_fail(MSH "PI\n", NULL, NULL, &err), BASE_E_PARSE);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(th_parse_fail(MSH "PID|1\n" MSH, NULL, NULL, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.where, "MSH (segment 3)");
    ck_assert(strstr(err.msg, "split files first") != NULL);
}
END_TEST

START_TEST(rejects_control_bytes_with_location)
{
    struct base_err err = {0};

    ck_assert_int_eq(th_parse_fail(MSH "PID|1||12\x01"
                                       "3\n",
                                   NULL, NULL, &err),
                     BASE_E_PARSE);
    ck_assert_str_eq(err.where, "PID-3[1].1.1 (segment 2)");
    ck_assert_str_eq(err.msg, "control character (byte 0x01) is not allowed");
    /* the value itself never appears in the message */
    ck_assert_ptr_null(strstr(err.msg, "12"));
}
END_TEST

START_TEST(tab_is_data)
{
    struct hl7v2_msg *m = th_parse(arena, MSH "NTE|1||a\tb\n");

    ck_assert(base_str_eq_cstr(hl7v2_field(&m->segs[1], 3), "a\tb"));
}
END_TEST

START_TEST(rejects_missing_header_fields)
{
    struct {
        const char *text;
        const char *where;
        int rc;
    } cases[] = {
        {"MSH|^~\\&|A|B|C|D|2019|||X|P|2.5\n", "MSH-9 (segment 1)", BASE_E_PARSE},
        {"MSH|^|||||||^A|||2.2^M^AA\n", "MSH-9 (segment 1)", BASE_E_PARSE},
        {"MSH|^~\\&|A|B|C|D|2019||ADT^A01|X||2.5\n", "MSH-11 (segment 1)", BASE_E_PARSE},
        {"MSH|^~\\&|A|B|C|D|2019||ADT^A01|X|P|\n", "MSH-12 (segment 1)", BASE_E_PARSE},
        {"MSH|^~\\&|A|B|C|D|2019||ADT^A01|X|P|3.0\n", "MSH-12 (segment 1)", BASE_E_INVALID},
        {"MSH|^~\\&|A|B|C|D|2019||ADT^A01|X|P|2.\n", "MSH-12 (segment 1)", BASE_E_INVALID},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        struct base_err err = {0};

        ck_assert_int_eq(th_parse_fail(cases[i].text, NULL, NULL, &err), cases[i].rc);
        ck_assert_str_eq(err.where, cases[i].where);
    }
    /* MSH-10 may be empty (nHapi's OML samples) */
    th_parse(arena, "MSH|^~\\&|HIS|ASE|LIS|Rapela|||OML^O21||T|2.5\n");
    /* a version padded with blanks (fixed-width HIS columns) is that version */
    ck_assert(base_str_eq_cstr(
        th_parse(arena, "MSH|^~\\&|HIS|H|LIS|L|2019||ADT^A01|X|P| 2.4 \n")->version, "2.4"));
}
END_TEST

START_TEST(limit_message_size)
{
    struct hl7v2_limits lim = HL7V2_LIMITS_DEFAULT;
    struct base_err err = {0};

    lim.max_message = 20;
    ck_assert_int_eq(th_parse_fail(MSH, &lim, NULL, &err), BASE_E_LIMIT);
    ck_assert(strstr(err.msg, "exceeds 20 bytes") != NULL);
}
END_TEST

START_TEST(limit_segments)
{
    struct hl7v2_limits lim = HL7V2_LIMITS_DEFAULT;
    struct base_err err = {0};

    lim.max_segments = 2;
    ck_assert_int_eq(th_parse_fail(MSH "PID|1\nPV1|1\n", &lim, NULL, &err), BASE_E_LIMIT);
    ck_assert(strstr(err.msg, "exceeds 2 segments") != NULL);
}
END_TEST

START_TEST(limit_fields)
{
    struct hl7v2_limits lim = HL7V2_LIMITS_DEFAULT;
    struct base_err err = {0};

    lim.max_fields = 12;
    ck_assert_int_eq(th_parse_fail(MSH "PID|1|2|3|4|5|6|7|8|9|10|11|12|13\n", &lim, NULL, &err),
                     BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "PID (segment 2)");
    ck_assert_str_eq(err.msg, "segment exceeds 12 fields");
}
END_TEST

START_TEST(limit_repetitions_components_subcomponents)
{
    struct hl7v2_limits lim = HL7V2_LIMITS_DEFAULT;
    struct base_err err = {0};

    lim.max_reps = 2;
    lim.max_comps = 3;
    lim.max_subs = 2;
    ck_assert_int_eq(th_parse_fail(MSH "PID|1||a~b~c\n", &lim, NULL, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "PID-3 (segment 2)");
    ck_assert_str_eq(err.msg, "field exceeds 2 repetitions");
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(th_parse_fail(MSH "PID|1||a~b^c^d^e\n", &lim, NULL, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "PID-3[2] (segment 2)");
    ck_assert_str_eq(err.msg, "repetition exceeds 3 components");
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(th_parse_fail(MSH "PID|1||a^b&c&d\n", &lim, NULL, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "PID-3[1].2 (segment 2)");
    ck_assert_str_eq(err.msg, "component exceeds 2 subcomponents");
}
END_TEST

START_TEST(limit_in_msh_fields)
{
    struct hl7v2_limits lim = HL7V2_LIMITS_DEFAULT;
    struct base_err err = {0};

    lim.max_fields = 5;
    ck_assert_int_eq(th_parse_fail(MSH, &lim, NULL, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "MSH (segment 1)");
}
END_TEST

START_TEST(fuzz_corpus_inputs_fail_cleanly)
{
    /* nHapi fuzzer finds: each is rejected (or, for NoException, parsed)
     * without crashing; the rejections say where */
    const char *dir = tu_corpus_path("hl7v2/malformed");
    size_t n = 0;
    char **files = tu_list_dir(dir, ".bin", &n);

    ck_assert_uint_ge(n, 14);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *data = tu_read_file(files[i], &len);
        struct hl7v2_msg *m = NULL;
        struct base_err err = {0};
        int rc = hl7v2_msg_parse(arena, data, len, NULL, NULL, &m, &err);

        if (strstr(files[i], "NoException") == NULL) {
            ck_assert_msg(rc != BASE_OK, "%s parsed", files[i]);
            ck_assert_msg(err.where[0] != '\0' && err.msg[0] != '\0', "%s: no location", files[i]);
        }
        free(data);
    }
    tu_free_list(files);
}
END_TEST

/* The scanner finds delimiters 16 bytes at a time (SSE2) with a cached
 * window: every delimiter kind, at every offset of fields of every length
 * across the window edges, must split exactly as a byte-by-byte scan. */
START_TEST(delimiters_at_every_offset)
{
    static const char kinds[] = {'|', '^', '~', '&', '\t', '\\', '\x01'};

    for (size_t len = 1; len <= 40; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t k = 0; k < sizeof(kinds); k++) {
                char field[64];
                char text[256];
                char x[64];
                char y[64];
                struct base_err err = {0};
                struct hl7v2_msg *m = NULL;
                const struct hl7v2_seg *nte;
                char ch = kinds[k];

                memset(field, 'x', len);
                field[len] = '\0';
                if (ch == '\\') /* an escape sequence straddling the offset */
                    snprintf(field + pos, sizeof(field) - pos, "\\F\\%.*s", (int)(len - pos),
                             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
                else
                    field[pos] = ch;
                snprintf(text, sizeof(text), MSH "NTE|1||%s|end\n", field);
                snprintf(x, sizeof(x), "%.*s", (int)pos, field);
                snprintf(y, sizeof(y), "%s", field + pos + 1);
                if (ch == '\x01') {
                    ck_assert_int_eq(th_parse_fail(text, NULL, NULL, &err), BASE_E_PARSE);
                    ck_assert_str_eq(err.where, "NTE-3[1].1.1 (segment 2)");
                    continue;
                }
                m = th_parse(arena, text);
                nte = &m->segs[1];
                ck_assert_uint_eq(nte->nfields, ch == '|' ? 5 : 4);
                ck_assert(base_str_eq_cstr(hl7v2_field(nte, nte->nfields), "end"));
                if (ch == '|') {
                    ck_assert(base_str_eq_cstr(hl7v2_field(nte, 3), x));
                    ck_assert(base_str_eq_cstr(hl7v2_field(nte, 4), y));
                    continue;
                }
                ck_assert(base_str_eq_cstr(hl7v2_field(nte, 3), field));
                if (ch == '^')
                    ck_assert(base_str_eq_cstr(hl7v2_get(m, nte, 3, 1, 2, 0), y));
                if (ch == '~')
                    ck_assert(base_str_eq_cstr(hl7v2_get(m, nte, 3, 2, 0, 0), y));
                if (ch == '&')
                    ck_assert(base_str_eq_cstr(hl7v2_get(m, nte, 3, 1, 1, 2), y));
            }
        }
    }
}
END_TEST

Suite *hl7v2_tokenize_suite(void);

Suite *
hl7v2_tokenize_suite(void)
{
    Suite *s = suite_create("hl7v2_tokenize");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parses_segments_and_fields);
    tcase_add_test(tc, msh_fields_are_numbered_from_the_separator);
    tcase_add_test(tc, custom_delimiters);
    tcase_add_test(tc, three_encoding_characters);
    tcase_add_test(tc, truncation_character_v27);
    tcase_add_test(tc, terminators_cr_lf_crlf_and_bom);
    tcase_add_test(tc, lf_rejected_without_the_flag);
    tcase_add_test(tc, text_terminator_oddities);
    tcase_add_test(tc, rejects_bad_starts);
    tcase_add_test(tc, rejects_bad_encoding_characters);
    tcase_add_test(tc, rejects_bad_segments);
    tcase_add_test(tc, rejects_control_bytes_with_location);
    tcase_add_test(tc, tab_is_data);
    tcase_add_test(tc, delimiters_at_every_offset);
    tcase_add_test(tc, rejects_missing_header_fields);
    tcase_add_test(tc, limit_message_size);
    tcase_add_test(tc, limit_segments);
    tcase_add_test(tc, limit_fields);
    tcase_add_test(tc, limit_repetitions_components_subcomponents);
    tcase_add_test(tc, limit_in_msh_fields);
    tcase_add_test(tc, fuzz_corpus_inputs_fail_cleanly);
    suite_add_tcase(s, tc);
    return s;
}
