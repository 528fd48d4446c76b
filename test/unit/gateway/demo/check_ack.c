/*
 * What the feed reads from the network: MLLP frames and HL7 v2
 * acknowledgements, including every refusal.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/limits.h"
#include "gateway/demo/gw_demo.h"

static int
parse(const char *s, struct gw_demo_ack *ack, struct base_err *err)
{
    return gw_demo_ack_parse(s, strlen(s), ack, err);
}

START_TEST(accepts)
{
    struct gw_demo_ack ack;
    struct base_err err = {0};

    ck_assert_int_eq(parse("MSH|^~\\&|FG|HOSPA|HIS|HOSPA|20260101||ACK^A01^ACK|1|P|2.5\r"
                           "MSA|AA|HA00000001\r",
                           &ack, &err),
                     BASE_OK);
    ck_assert_str_eq(ack.code, "AA");
    ck_assert_str_eq(ack.control_id, "HA00000001");
    ck_assert_str_eq(ack.text, "");
    /* AE with ERR-8 (v2.5), preferred over MSA-3; LF line ends tolerated */
    ck_assert_int_eq(
        parse("MSH|^~\\&|A|B|C|D|20260101||ACK|2|P|2.5\n"
              "MSA|AE|X9|old text\n"
              "ERR||PID^1^5^1^1|101^Required field missing^HL70357|E||||PID-5 required\n",
              &ack, &err),
        BASE_OK);
    ck_assert_str_eq(ack.code, "AE");
    ck_assert_str_eq(ack.control_id, "X9");
    ck_assert_str_eq(ack.text, "PID-5 required");
    /* v2.3 style: MSA-3 only; custom delimiters; MSA-1 component ignored */
    ck_assert_int_eq(
        parse("MSH#:~\\&#A#B#C#D#20260101##ACK#3#P#2.3\rMSA#AR:x#C1#store down\r", &ack, &err),
        BASE_OK);
    ck_assert_str_eq(ack.code, "AR");
    ck_assert_str_eq(ack.text, "store down");
    /* enhanced mode commit acknowledgement */
    ck_assert_int_eq(parse("MSH|^~\\&|A|B|C|D|1||ACK|4|P|2.5\rMSA|CA|Z\r", &ack, &err), BASE_OK);
    ck_assert_str_eq(ack.code, "CA");
}
END_TEST

START_TEST(text_is_made_printable)
{
    struct gw_demo_ack ack;
    char msg[800];
    size_t n;

    /* control bytes dropped; a long reason cut on a UTF-8 boundary */
    n = (size_t)snprintf(msg, sizeof(msg), "MSH|^~\\&|A|B|C|D|1||ACK|4|P|2.5\rMSA|AE|Z|bad\001x");
    for (int i = 0; i < 120; i++) {
        memcpy(msg + n, "错", 3);
        n += 3;
    }
    msg[n] = '\0';
    ck_assert_int_eq(parse(msg, &ack, NULL), BASE_OK);
    ck_assert_str_eq(strncmp(ack.text, "badx", 4) == 0 ? "ok" : ack.text, "ok");
    ck_assert_uint_lt(strlen(ack.text), sizeof(ack.text));
    ck_assert_uint_eq((strlen(ack.text) - 4) % 3, 0); /* whole characters only */
}
END_TEST

START_TEST(refuses)
{
    struct gw_demo_ack ack;
    struct base_err err = {0};
    char *big;

    ck_assert_int_eq(parse("PID|1\r", &ack, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.where, "MSH");
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(parse("MSH|^~\\&|A|B\rPID|1\r", &ack, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.where, "MSA");
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(parse("MSH|^~\\&|A|B\rMSA|OK|1\r", &ack, &err), BASE_E_PARSE);
    ck_assert_str_eq(err.where, "MSA-1");
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(parse("MSH|^~\\&|A|B\rMSA\r", &ack, &err), BASE_E_PARSE);
    ck_assert_int_eq(parse("MSH||~\\&|A|B\rMSA|AA\r", &ack, NULL), BASE_E_PARSE);
    ck_assert_int_eq(parse("MSH ^~\\&|A|B\rMSA|AA\r", &ack, NULL), BASE_E_PARSE);
    ck_assert_int_eq(parse("MSH", &ack, NULL), BASE_E_PARSE);
    big = malloc(GW_DEMO_LIMIT_ACK + 2);
    memset(big, 'A', GW_DEMO_LIMIT_ACK + 1);
    memcpy(big, "MSH|^~\\&|", 9);
    ck_assert_int_eq(gw_demo_ack_parse(big, GW_DEMO_LIMIT_ACK + 1, &ack, &err), BASE_E_LIMIT);
    free(big);
}
END_TEST

START_TEST(frames)
{
    struct base_err err = {0};
    size_t start = 0;
    size_t len = 0;
    size_t used = 0;
    const char two[] = "xx\x0b"
                       "AB\x1c\r\x0b"
                       "CD\x1c\r";

    ck_assert_int_eq(gw_demo_mllp_find(two, sizeof(two) - 1, 100, &start, &len, &used, &err), 1);
    ck_assert_uint_eq(start, 3);
    ck_assert_uint_eq(len, 2);
    ck_assert_uint_eq(used, 7);
    ck_assert_int_eq(
        gw_demo_mllp_find(two + used, sizeof(two) - 1 - used, 100, &start, &len, &used, &err), 1);
    ck_assert_uint_eq(len, 2);
    /* partial frames: need more, keeping the start block */
    ck_assert_int_eq(gw_demo_mllp_find("\x0b"
                                       "AB",
                                       3, 100, &start, &len, &used, &err),
                     0);
    ck_assert_uint_eq(used, 0);
    ck_assert_int_eq(gw_demo_mllp_find("z\x0b"
                                       "AB\x1c",
                                       5, 100, &start, &len, &used, &err),
                     0);
    ck_assert_uint_eq(used, 1);
    /* garbage only: all of it can go */
    ck_assert_int_eq(gw_demo_mllp_find("garbage", 7, 100, &start, &len, &used, &err), 0);
    ck_assert_uint_eq(used, 7);
    /* an empty frame is a frame */
    ck_assert_int_eq(gw_demo_mllp_find("\x0b\x1c\r", 3, 100, &start, &len, &used, &err), 1);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(frame_errors)
{
    struct base_err err = {0};
    size_t start;
    size_t len;
    size_t used;
    char big[64];

    ck_assert_int_eq(gw_demo_mllp_find("\x0b"
                                       "AB\x1cX",
                                       5, 100, &start, &len, &used, &err),
                     BASE_E_PARSE);
    ck_assert_str_eq(err.where, "mllp");
    ck_assert_int_eq(gw_demo_mllp_find("\x0b"
                                       "A\x0b"
                                       "B\x1c\r",
                                       6, 100, &start, &len, &used, NULL),
                     BASE_E_PARSE);
    memset(big, 'A', sizeof(big));
    big[0] = 0x0b;
    ck_assert_int_eq(gw_demo_mllp_find(big, sizeof(big), 10, &start, &len, &used, NULL),
                     BASE_E_LIMIT);
    big[20] = 0x1c;
    big[21] = '\r';
    ck_assert_int_eq(gw_demo_mllp_find(big, 22, 10, &start, &len, &used, NULL), BASE_E_LIMIT);
}
END_TEST

Suite *
demo_ack_suite(void)
{
    Suite *s = suite_create("demo_ack");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, accepts);
    tcase_add_test(tc, text_is_made_printable);
    tcase_add_test(tc, refuses);
    tcase_add_test(tc, frames);
    tcase_add_test(tc, frame_errors);
    suite_add_tcase(s, tc);
    return s;
}
