/* MPI normalization: names (ICU), phones, addresses, dates, gender. */
#include <check.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/mpi/gw_mpi.h"

static struct base_arena *A;

static void
setup(void)
{
    A = base_arena_new(0);
}

static void
teardown(void)
{
    base_arena_free(A);
}

static void
name_is(const char *in, const char *han, const char *py, const char *syl)
{
    const char *h = NULL;
    const char *p = NULL;
    const char *s = NULL;

    ck_assert_int_eq(gw_mpi_norm_name(A, in, strlen(in), &h, &p, &s, NULL), BASE_OK);
    ck_assert_str_eq(h, han);
    ck_assert_str_eq(p, py);
    if (syl != NULL)
        ck_assert_str_eq(s, syl);
}

START_TEST(han_names)
{
    name_is("张三", "张三", "zhangsan", "zhang san");
    name_is(" 张 三 ", "张三", "zhangsan", NULL);
    name_is("张\xe3\x80\x80三", "张三", "zhangsan", NULL); /* ideographic space */
    name_is("張三", "张三", "zhangsan", NULL);             /* traditional */
    name_is("劉德華", "刘德华", "liudehua", NULL);
    name_is("欧阳娜娜", "欧阳娜娜", "ouyangnana", NULL);
    /* surname readings: 单 shan, 曾 zeng, 解 xie, 区 ou */
    name_is("单田芳", "单田芳", "shantianfang", NULL);
    name_is("曾志伟", "曾志伟", "zengzhiwei", NULL);
    /* minority names with middle dots */
    name_is("阿依古丽·买买提", "阿依古丽买买提", "ayigulimaimaiti", NULL);
    name_is("阿依古丽•买买提", "阿依古丽买买提", "ayigulimaimaiti", NULL);
    /* homophones share pinyin */
    name_is("章三", "章三", "zhangsan", NULL);
    name_is("汪小明", "汪小明", "wangxiaoming", NULL);
}
END_TEST

START_TEST(latin_names)
{
    name_is("Zhang San", "", "zhangsan", "zhang san");
    name_is("ZHANG, San", "", "zhangsan", "zhang san");
    name_is("Zhāng Sān", "", "zhangsan", NULL);
    name_is("zhang1 san1", "", "zhangsan", NULL);
    name_is("Ｚｈａｎｇ　Ｓａｎ", "", "zhangsan", NULL); /* full-width */
    name_is("Lü Bu", "", "lubu", NULL);
    name_is("O'Brien-Müller", "", "obrienmuller", NULL);
}
END_TEST

START_TEST(name_errors)
{
    const char *h;
    const char *p;
    const char *s;
    char big[400];
    struct base_err err = {0};

    ck_assert_int_eq(gw_mpi_norm_name(A, "\xff\xfe", 2, &h, &p, &s, &err), BASE_E_INVALID);
    memset(big, 'a', sizeof(big));
    ck_assert_int_eq(gw_mpi_norm_name(A, big, sizeof(big), &h, &p, &s, NULL), BASE_E_LIMIT);
    ck_assert_int_eq(gw_mpi_norm_name(A, "", 0, &h, &p, &s, NULL), BASE_OK);
    ck_assert_str_eq(p, "");
}
END_TEST

static void
phone_is(const char *in, enum gw_mpi_phone_kind kind, const char *out)
{
    char d[24];

    ck_assert_int_eq(gw_mpi_norm_phone(in, strlen(in), d), kind);
    ck_assert_str_eq(d, out);
}

START_TEST(phones)
{
    phone_is("13800138000", GW_MPI_PHONE_MOBILE, "13800138000");
    phone_is("+86 138-0013-8000", GW_MPI_PHONE_MOBILE, "13800138000");
    phone_is("0086 138 0013 8000", GW_MPI_PHONE_MOBILE, "13800138000");
    phone_is("8613800138000", GW_MPI_PHONE_MOBILE, "13800138000");
    phone_is("(010) 6512 3456", GW_MPI_PHONE_LANDLINE, "01065123456");
    phone_is("010-65123456", GW_MPI_PHONE_LANDLINE, "01065123456");
    phone_is("+86 10 6512 3456", GW_MPI_PHONE_LANDLINE, "01065123456");
    phone_is("+86-24-23456789", GW_MPI_PHONE_LANDLINE, "02423456789");
    phone_is("024-2345678", GW_MPI_PHONE_LANDLINE, "0242345678");
    phone_is("010-65123456转123", GW_MPI_PHONE_LANDLINE, "01065123456");
    phone_is("010-65123456 ext 9", GW_MPI_PHONE_LANDLINE, "01065123456");
    phone_is("65123456", GW_MPI_PHONE_OTHER, "65123456");
    phone_is("+1 415 555 0100", GW_MPI_PHONE_OTHER, "14155550100");
    phone_is("12345", GW_MPI_PHONE_NONE, "");
    phone_is("", GW_MPI_PHONE_NONE, "");
    phone_is("1234567890123456789012345", GW_MPI_PHONE_NONE, "");
}
END_TEST

static void
addr_is(const char *state, const char *city, const char *district, const char *line,
        const char *text, const char *p, const char *c, const char *d, const char *det)
{
    const char *o[4];

    ck_assert_int_eq(
        gw_mpi_norm_address(A, state, city, district, line, text, &o[0], &o[1], &o[2], &o[3], NULL),
        BASE_OK);
    ck_assert_str_eq(o[0], p);
    ck_assert_str_eq(o[1], c);
    ck_assert_str_eq(o[2], d);
    ck_assert_str_eq(o[3], det);
}

START_TEST(addresses)
{
    addr_is(NULL, NULL, NULL, NULL, "辽宁省沈阳市和平区南京北街155号", "辽宁", "沈阳", "和平",
            "南京北街155号");
    addr_is("辽宁省", "沈阳市", "和平区", "南京北街 155 号", NULL, "辽宁", "沈阳", "和平",
            "南京北街155号");
    addr_is(NULL, NULL, NULL, NULL, "北京市朝阳区建国路88号", "北京", "北京", "朝阳", "建国路88号");
    addr_is(NULL, NULL, NULL, "上海市 浦东新区 世纪大道100号", NULL, "上海", "上海", "浦东",
            "世纪大道100号");
    addr_is(NULL, NULL, NULL, NULL, "新疆维吾尔自治区乌鲁木齐市天山区解放路1号", "新疆", "乌鲁木齐",
            "天山", "解放路1号");
    addr_is(NULL, NULL, NULL, NULL, "广西壮族自治区南宁市青秀区民族大道", "广西", "南宁", "青秀",
            "民族大道");
    addr_is(NULL, NULL, NULL, NULL, "和平区市府路5号", "", "", "和平", "市府路5号");
    addr_is(NULL, NULL, NULL, NULL, "遼寧省瀋陽市和平區南京北街155號", "辽宁", "沈阳", "和平",
            "南京北街155号");
    addr_is(NULL, NULL, NULL, NULL, NULL, "", "", "", "");
}
END_TEST

START_TEST(dates_and_gender)
{
    int y;
    int m;
    int d;

    ck_assert(gw_mpi_norm_birth_date("1980-05-17", 10, &y, &m, &d));
    ck_assert_int_eq(y * 10000 + m * 100 + d, 19800517);
    ck_assert(gw_mpi_norm_birth_date("1980-05", 7, &y, &m, &d));
    ck_assert_int_eq(d, 0);
    ck_assert(gw_mpi_norm_birth_date("1980", 4, &y, &m, &d));
    ck_assert(gw_mpi_norm_birth_date("1980-05-17T08:30:00+08:00", 25, &y, &m, &d));
    ck_assert(!gw_mpi_norm_birth_date("1981-02-29", 10, &y, &m, &d));
    ck_assert(gw_mpi_norm_birth_date("2000-02-29", 10, &y, &m, &d));
    ck_assert(!gw_mpi_norm_birth_date("1980-13-01", 10, &y, &m, &d));
    ck_assert(!gw_mpi_norm_birth_date("1980/05/17", 10, &y, &m, &d));
    ck_assert(!gw_mpi_norm_birth_date("19800517", 8, &y, &m, &d));
    ck_assert(!gw_mpi_norm_birth_date("80", 2, &y, &m, &d));
    ck_assert_int_eq(gw_mpi_norm_gender("male"), GW_MPI_SEX_MALE);
    ck_assert_int_eq(gw_mpi_norm_gender("female"), GW_MPI_SEX_FEMALE);
    ck_assert_int_eq(gw_mpi_norm_gender("other"), GW_MPI_SEX_OTHER);
    ck_assert_int_eq(gw_mpi_norm_gender("unknown"), GW_MPI_SEX_UNKNOWN);
    ck_assert_int_eq(gw_mpi_norm_gender("M"), GW_MPI_SEX_UNKNOWN);
    ck_assert_int_eq(gw_mpi_norm_gender(NULL), GW_MPI_SEX_UNKNOWN);
}
END_TEST

START_TEST(similarity)
{
    char f[64];

    ck_assert(gw_mpi_jaro_winkler("martha", "marhta") > 0.96);
    ck_assert(gw_mpi_jaro_winkler("martha", "marhta") < 0.97);
    ck_assert(gw_mpi_jaro_winkler("abc", "abc") == 1.0);
    ck_assert(gw_mpi_jaro_winkler("abc", "xyz") == 0.0);
    ck_assert(gw_mpi_jaro_winkler("", "") == 1.0);
    gw_mpi_pinyin_fuzzy("zhang san", f, sizeof(f));
    ck_assert_str_eq(f, "zansan");
    gw_mpi_pinyin_fuzzy("liu xing", f, sizeof(f));
    ck_assert_str_eq(f, "niuxin");
    gw_mpi_pinyin_fuzzy("chen shi", f, sizeof(f));
    ck_assert_str_eq(f, "censi");
    gw_mpi_pinyin_fuzzy("cheng shi", f, sizeof(f));
    ck_assert_str_eq(f, "censi");
    gw_mpi_pinyin_fuzzy("zhangsan", f, 4);
    ck_assert_str_eq(f, "zan");
}
END_TEST

Suite *gw_mpi_norm_suite(void)
{
    Suite *s = suite_create("gw_mpi_norm");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, han_names);
    tcase_add_test(tc, latin_names);
    tcase_add_test(tc, name_errors);
    tcase_add_test(tc, phones);
    tcase_add_test(tc, addresses);
    tcase_add_test(tc, dates_and_gender);
    tcase_add_test(tc, similarity);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
