/* GB 11643-1999 resident identity numbers. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/compat.h"
#include "gateway/mpi/gw_mpi.h"

#define TODAY 20260115

/* 17 digits plus their computed check character. */
static void
with_check(const char *d17, char out[19])
{
    memcpy(out, d17, 17);
    out[17] = gw_mpi_resid_check_char(d17);
    out[18] = '\0';
}

static int
parse(const char *s, struct gw_mpi_resid *r, struct base_err *err)
{
    return gw_mpi_resid_parse(s, strlen(s), TODAY, r, err);
}

START_TEST(standard_examples_are_valid)
{
    struct gw_mpi_resid r;

    /* the two examples printed in GB 11643-1999 */
    ck_assert_int_eq(parse("11010519491231002X", &r, NULL), BASE_OK);
    ck_assert_str_eq(r.number, "11010519491231002X");
    ck_assert_int_eq(r.birth_year, 1949);
    ck_assert_int_eq(r.birth_month, 12);
    ck_assert_int_eq(r.birth_day, 31);
    ck_assert_int_eq(r.sex, GW_MPI_SEX_FEMALE);
    ck_assert_uint_eq(r.region, 110105);
    ck_assert_int_eq(r.kind, GW_MPI_RESID_CITIZEN);
    ck_assert_int_eq(parse("440524188001010014", &r, NULL), BASE_OK);
    ck_assert_int_eq(r.sex, GW_MPI_SEX_MALE);
    ck_assert(!r.from_15);
}
END_TEST

START_TEST(computed_numbers_across_provinces)
{
    static const char *const d17[] = {
        "21030219800101123", "11010119900307001", "65010220000229004",
        "81000019850615003", "82000019850615004", "83000019850615005",
        "71000019700101001", "54010219991231999", "46000220101010010",
    };
    char num[19];
    struct gw_mpi_resid r;

    for (size_t i = 0; i < BASE_ARRAY_LEN(d17); i++) {
        with_check(d17[i], num);
        ck_assert_msg(parse(num, &r, NULL) == BASE_OK, "%s", num);
        ck_assert_str_eq(r.number, num);
        ck_assert_int_eq(r.sex, ((d17[i][16] - '0') % 2) ? GW_MPI_SEX_MALE : GW_MPI_SEX_FEMALE);
    }
    with_check("81000019850615003", num);
    ck_assert_int_eq(parse(num, &r, NULL), BASE_OK);
    ck_assert_int_eq(r.kind, GW_MPI_RESID_PERMIT);
}
END_TEST

START_TEST(foreign_permanent_resident_card)
{
    char num[19];
    struct gw_mpi_resid r;

    /* 9, issuing province 11, nationality 156-style code, birth, sequence */
    with_check("91184019850615003", num);
    ck_assert_int_eq(parse(num, &r, NULL), BASE_OK);
    ck_assert_int_eq(r.kind, GW_MPI_RESID_FOREIGN_PR);
    with_check("99984019850615003", num); /* 99 is no province */
    ck_assert_int_eq(parse(num, &r, NULL), BASE_E_INVALID);
}
END_TEST

START_TEST(lowercase_x_is_normalized)
{
    struct gw_mpi_resid r;

    ck_assert_int_eq(parse("11010519491231002x", &r, NULL), BASE_OK);
    ck_assert_str_eq(r.number, "11010519491231002X");
}
END_TEST

START_TEST(separators_and_fullwidth_digits)
{
    struct gw_mpi_resid r;

    ck_assert_int_eq(parse(" 110105 19491231 002X ", &r, NULL), BASE_OK);
    ck_assert_str_eq(r.number, "11010519491231002X");
    ck_assert_int_eq(parse("110105-19491231-002X", &r, NULL), BASE_OK);
    /* full-width: １１０１０５１９４９１２３１００２Ｘ */
    ck_assert_int_eq(parse("\xef\xbc\x91\xef\xbc\x91\xef\xbc\x90\xef\xbc\x91\xef\xbc\x90\xef\xbc"
                           "\x95\xef\xbc\x91\xef\xbc\x99\xef\xbc\x94\xef\xbc\x99\xef\xbc\x91\xef"
                           "\xbc\x92\xef\xbc\x93\xef\xbc\x91\xef\xbc\x90\xef\xbc\x90\xef\xbc\x92"
                           "\xef\xbc\xb8",
                           &r, NULL),
                     BASE_OK);
    ck_assert_str_eq(r.number, "11010519491231002X");
}
END_TEST

START_TEST(wrong_check_character)
{
    struct gw_mpi_resid r;
    struct base_err err = {0};

    ck_assert_int_eq(parse("110105194912310021", &r, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "resident-id");
    ck_assert_str_eq(err.msg, "check character does not match");
    /* the message never quotes the number */
    ck_assert_ptr_null(strstr(err.msg, "1101"));
}
END_TEST

START_TEST(bad_dates)
{
    char num[19];
    struct gw_mpi_resid r;
    struct base_err err = {0};

    with_check("11010119990229001", num); /* 1999 is not a leap year */
    ck_assert_int_eq(parse(num, &r, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.msg, "birth date does not exist");
    with_check("11010120000229001", num); /* 2000 is */
    ck_assert_int_eq(parse(num, &r, NULL), BASE_OK);
    with_check("11010119001301001", num); /* month 13 */
    ck_assert_int_eq(parse(num, &r, NULL), BASE_E_INVALID);
    with_check("11010119000431001", num); /* April 31 */
    ck_assert_int_eq(parse(num, &r, NULL), BASE_E_INVALID);
    with_check("11010119800100001", num); /* day 0 */
    ck_assert_int_eq(parse(num, &r, NULL), BASE_E_INVALID);
    with_check("11010118000101001", num); /* before 1850 */
    ck_assert_int_eq(parse(num, &r, NULL), BASE_E_INVALID);
    base_err_clear(&err);
    with_check("11010120260116001", num); /* the day after TODAY */
    ck_assert_int_eq(parse(num, &r, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.msg, "birth date is in the future");
    with_check("11010120260115001", num); /* born today */
    ck_assert_int_eq(parse(num, &r, NULL), BASE_OK);
}
END_TEST

START_TEST(bad_region)
{
    static const char *const bad[] = {"00010119800101001", "10010119800101001", "16010119800101001",
                                      "24010119800101001", "38010119800101001", "47010119800101001",
                                      "55010119800101001", "66010119800101001", "72010119800101001",
                                      "84010119800101001"};
    char num[19];
    struct gw_mpi_resid r;
    struct base_err err;

    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        memset(&err, 0, sizeof(err));
        with_check(bad[i], num);
        ck_assert_int_eq(parse(num, &r, &err), BASE_E_INVALID);
        ck_assert_str_eq(err.msg, "unknown province code");
    }
}
END_TEST

START_TEST(fifteen_digit_conversion)
{
    struct gw_mpi_resid r;

    ck_assert_int_eq(parse("110105491231002", &r, NULL), BASE_OK);
    ck_assert_str_eq(r.number, "11010519491231002X");
    ck_assert(r.from_15);
    ck_assert_int_eq(r.birth_year, 1949);
    ck_assert_int_eq(r.sex, GW_MPI_SEX_FEMALE);
    ck_assert_int_eq(parse("440524800101001", &r, NULL), BASE_OK);
    ck_assert_str_eq(r.number, "440524198001010013"); /* sum 196, 196 mod 11 = 9 -> 3 */
    ck_assert_int_eq(parse("110105990229002", &r, NULL), BASE_E_INVALID); /* 1999-02-29 */
    ck_assert_int_eq(parse("11010549123100X", &r, NULL), BASE_E_INVALID); /* no X in 15 */
}
END_TEST

START_TEST(wrong_lengths_and_characters)
{
    struct gw_mpi_resid r;
    struct base_err err = {0};

    ck_assert_int_eq(parse("", &r, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.msg, "wrong length");
    ck_assert_int_eq(parse("11010519491231002", &r, NULL), BASE_E_INVALID);   /* 17 */
    ck_assert_int_eq(parse("11010519491231002XX", &r, NULL), BASE_E_INVALID); /* 19 */
    base_err_clear(&err);
    ck_assert_int_eq(parse("1101051949123100AX", &r, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.msg, "unexpected character");
    ck_assert_int_eq(parse("110105194912X1002X", &r, NULL), BASE_E_INVALID); /* X inside */
    ck_assert_int_eq(gw_mpi_resid_parse(NULL, 0, TODAY, &r, NULL), BASE_E_INVALID);
    char big[100];
    memset(big, '1', sizeof(big));
    ck_assert_int_eq(gw_mpi_resid_parse(big, sizeof(big), TODAY, &r, NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_mpi_resid_check_char("1101051949123100"), 0);
    ck_assert_int_eq(gw_mpi_resid_check_char("1101051949123100a"), 0);
}
END_TEST

Suite *gw_mpi_resid_suite(void)
{
    Suite *s = suite_create("gw_mpi_resid");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, standard_examples_are_valid);
    tcase_add_test(tc, computed_numbers_across_provinces);
    tcase_add_test(tc, foreign_permanent_resident_card);
    tcase_add_test(tc, lowercase_x_is_normalized);
    tcase_add_test(tc, separators_and_fullwidth_digits);
    tcase_add_test(tc, wrong_check_character);
    tcase_add_test(tc, bad_dates);
    tcase_add_test(tc, bad_region);
    tcase_add_test(tc, fifteen_digit_conversion);
    tcase_add_test(tc, wrong_lengths_and_characters);
    suite_add_tcase(s, tc);
    return s;
}
