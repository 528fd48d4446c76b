#include <check.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/civil.h"
#include "fhir/base/err.h"
#include "fhir/base/rd.h"
#include "fhir/base/str.h"
#include "test/support/utf8_ref.h"

static int cleanup_order[4];
static int cleanup_n;

static void
note_cleanup(void *obj)
{
    cleanup_order[cleanup_n++] = *(int *)obj;
}

START_TEST(arena_budget_is_enforced)
{
    struct base_arena *a = base_arena_new(1000);

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(base_arena_alloc(a, 500));
    ck_assert_ptr_null(base_arena_alloc(a, 600));
    ck_assert_ptr_nonnull(base_arena_alloc(a, 100));
    ck_assert_ptr_null(base_arena_zalloc(a, SIZE_MAX / 2, 4)); /* overflow */
    base_arena_free(a);
}
END_TEST

START_TEST(arena_cleanups_run_newest_first_and_children_die_with_parent)
{
    struct base_arena *a = base_arena_new(0);
    struct base_arena *c = base_arena_child(a, 0);
    static int one = 1, two = 2, three = 3;

    cleanup_n = 0;
    ck_assert_int_eq(base_arena_on_free(a, note_cleanup, &one), 0);
    ck_assert_int_eq(base_arena_on_free(a, note_cleanup, &two), 0);
    ck_assert_int_eq(base_arena_on_free(c, note_cleanup, &three), 0);
    ck_assert_ptr_nonnull(base_arena_alloc(c, 100000)); /* big block path */
    base_arena_free(a);
    ck_assert_int_eq(cleanup_n, 3);
    ck_assert_int_eq(cleanup_order[0], 2);
    ck_assert_int_eq(cleanup_order[1], 1);
    ck_assert_int_eq(cleanup_order[2], 3);
}
END_TEST

START_TEST(arena_child_freed_early_unlinks)
{
    struct base_arena *a = base_arena_new(0);
    struct base_arena *c1 = base_arena_child(a, 0);
    struct base_arena *c2 = base_arena_child(a, 0);
    char *s;

    s = base_arena_sprintf(c2, "%s-%d", "x", 42);
    ck_assert_str_eq(s, "x-42");
    base_arena_free(c1);
    s = base_arena_strndup(c2, "abcdef", 3);
    ck_assert_str_eq(s, "abc");
    base_arena_free(a); /* frees c2 once; ASan catches a double free */
}
END_TEST

START_TEST(arena_alignment_and_many_small_allocations)
{
    struct base_arena *a = base_arena_new(0);

    for (int i = 0; i < 10000; i++) {
        void *p = base_arena_alloc(a, (size_t)(i % 37) + 1);

        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 16, 0);
    }
    ck_assert_uint_gt(base_arena_used(a), 10000);
    base_arena_free(a);
}
END_TEST

START_TEST(torture_hook_fails_the_nth_allocation)
{
    struct base_arena *a;

    (void)base_alloc_fail_after(1);
    a = base_arena_new(0);
    ck_assert_ptr_null(a);
    (void)base_alloc_fail_after(2);
    a = base_arena_new(0);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(base_arena_alloc(a, 10)); /* first chunk is the 2nd */
    (void)base_alloc_fail_after(0);
    ck_assert_ptr_nonnull(base_arena_alloc(a, 10));
    base_arena_free(a);
}
END_TEST

START_TEST(buf_refuses_to_grow_past_max)
{
    struct base_buf b;

    base_buf_init(&b, 10);
    ck_assert_int_eq(base_buf_append_cstr(&b, "0123456789"), BASE_OK);
    ck_assert_int_eq(base_buf_putc(&b, 'x'), BASE_E_LIMIT);
    ck_assert_uint_eq(b.len, 10);
    ck_assert_str_eq(b.data, "0123456789");
    base_buf_reset(&b);
    ck_assert_int_eq(base_buf_appendf(&b, "%d-%s", 7, "ab"), BASE_OK);
    ck_assert_str_eq(b.data, "7-ab");
    ck_assert_int_eq(base_buf_appendf(&b, "%s", "0123456789"), BASE_E_LIMIT);
    ck_assert_str_eq(b.data, "7-ab");
    base_buf_fini(&b);
    base_buf_fini(&b);
}
END_TEST

START_TEST(rd_take_until_and_bounds)
{
    struct base_rd rd;
    struct base_str s;
    char c;

    base_rd_init(&rd, "MSH|a|b", 7);
    ck_assert(base_rd_accept(&rd, "MSH"));
    ck_assert(base_rd_getc(&rd, &c));
    ck_assert_int_eq(c, '|');
    s = base_rd_take_until(&rd, '|');
    ck_assert(base_str_eq_cstr(s, "a"));
    ck_assert(!base_rd_take(&rd, 5, &s));
    ck_assert_uint_eq(base_rd_remaining(&rd), 1);
    s = base_rd_take_until(&rd, '|');
    ck_assert(base_str_eq_cstr(s, "b"));
    ck_assert(base_rd_empty(&rd));
    ck_assert(!base_rd_peek(&rd, &c));
}
END_TEST

START_TEST(str_integers_are_strict)
{
    int64_t v;
    uint64_t u;

    ck_assert(base_str_to_i64(BASE_STR_LIT("-9223372036854775808"), &v));
    ck_assert(v == INT64_MIN);
    ck_assert(!base_str_to_i64(BASE_STR_LIT("9223372036854775808"), &v));
    ck_assert(!base_str_to_i64(BASE_STR_LIT(" 1"), &v));
    ck_assert(!base_str_to_i64(BASE_STR_LIT("1x"), &v));
    ck_assert(!base_str_to_i64(BASE_STR_LIT(""), &v));
    ck_assert(!base_str_to_i64(BASE_STR_LIT("-"), &v));
    ck_assert(base_str_to_u64(BASE_STR_LIT("18446744073709551615"), &u));
    ck_assert(!base_str_to_u64(BASE_STR_LIT("18446744073709551616"), &u));
}
END_TEST

START_TEST(utf8_validation)
{
    size_t bad;

    ck_assert(base_utf8_valid("abc \xE4\xB8\xAD\xE6\x96\x87", 10, NULL));
    ck_assert(!base_utf8_valid("a\xC0\x80", 3, &bad)); /* overlong NUL */
    ck_assert_uint_eq(bad, 1);
    ck_assert(!base_utf8_valid("\xED\xA0\x80", 3, &bad)); /* surrogate */
    ck_assert(!base_utf8_valid("\xF4\x90\x80\x80", 4, &bad)); /* > U+10FFFF */
    ck_assert(!base_utf8_valid("\xE4\xB8", 2, &bad)); /* truncated */
    ck_assert(base_utf8_valid("\xF0\x9F\x98\x80", 4, NULL));
}
END_TEST

/* Does base_utf8_valid agree with the oracle (and on the bad offset)? */
static bool
utf8_agree(const unsigned char *buf, size_t n)
{
    size_t want_bad = 0;
    size_t got_bad = 12345;
    bool want = utf8_ref_valid(buf, n, &want_bad);
    bool got = base_utf8_valid((const char *)buf, n, &got_bad);

    return got == want && (want || got_bad == want_bad);
}

/* The vector path (16-byte blocks, chosen at run time) against the oracle:
 * every sequence of up to four bytes drawn from the boundary values of the
 * table, at offsets on both sides of a block edge and at the very end,
 * then random mixtures of valid characters and stray bytes. */
START_TEST(utf8_vector_path_agrees_with_rfc_3629)
{
    static const unsigned char edge[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                         0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                         0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFF};
    static const size_t offs[] = {0, 13, 14, 15, 16, 29};
    const size_t ne = sizeof(edge);
    unsigned char buf[48];
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    size_t bad = 0;

    for (size_t a = 0; a < ne; a++)
        for (size_t b = 0; b < ne; b++)
            for (size_t c = 0; c < ne; c++)
                for (size_t d = 0; d < ne; d++) {
                    const unsigned char seq[4] = {edge[a], edge[b], edge[c], edge[d]};

                    for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
                        memset(buf, 'a', sizeof(buf));
                        memcpy(buf + offs[o], seq, 4);
                        bad += !utf8_agree(buf, 40);
                    }
                    memset(buf, 'a', sizeof(buf));
                    memcpy(buf + 28, seq, 4); /* the input ends inside it */
                    for (size_t end = 29; end <= 32; end++)
                        bad += !utf8_agree(buf, end);
                }
    for (int round = 0; round < 200000; round++) {
        size_t n = 0;
        size_t len;

        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        len = (size_t)(x % sizeof(buf));
        while (n < len) {
            static const char *const chars[] = {"a", "\xC3\xA9", "\xE4\xB8\xAD", "\xED\x9F\xBF",
                                                "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"};
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (x % 23 == 0) {
                buf[n++] = (unsigned char)(x >> 24); /* a stray byte */
                continue;
            }
            const char *ch = chars[(x >> 8) % 6];
            size_t k = strlen(ch);
            if (n + k > len)
                break;
            memcpy(buf + n, ch, k);
            n += k;
        }
        bad += !utf8_agree(buf, n);
    }
    ck_assert_uint_eq(bad, 0);
}
END_TEST

START_TEST(err_first_error_wins)
{
    struct base_err err = {0};

    ck_assert_int_eq(base_err_set(&err, BASE_E_PARSE, "structure", "PID-3", "bad %s", "field"),
                     BASE_E_PARSE);
    ck_assert_int_eq(base_err_set(&err, BASE_E_LIMIT, "too-costly", "x", "later"), BASE_E_LIMIT);
    ck_assert_int_eq(err.rc, BASE_E_PARSE);
    ck_assert_str_eq(err.where, "PID-3");
    ck_assert_str_eq(err.msg, "bad field");
    ck_assert_str_eq(base_rc_name(BASE_E_LIMIT), "limit");
    base_err_clear(&err);
    ck_assert_int_eq(err.rc, 0);
}
END_TEST

/* Against the C library's own calendar (timegm) over six centuries, both
 * ways, and the era boundaries the formula divides by. */
START_TEST(civil_days_agree_with_timegm)
{
    int64_t y;
    int64_t m;
    int64_t d;

    ck_assert_int_eq(base_days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(base_days_from_civil(1969, 12, 31), -1);
    ck_assert_int_eq(base_days_from_civil(2000, 3, 1), 11017);
    ck_assert_int_eq(base_days_from_civil(2000, 2, 29) + 1, base_days_from_civil(2000, 3, 1));
    ck_assert_int_eq(base_days_from_civil(1900, 2, 28) + 1, base_days_from_civil(1900, 3, 1));
    for (int64_t z = -140000; z <= 120000; z += 37) {
        struct tm tm = {0};
        time_t t;

        base_civil_from_days(z, &y, &m, &d);
        ck_assert_int_eq(base_days_from_civil(y, m, d), z);
        tm.tm_year = (int)(y - 1900);
        tm.tm_mon = (int)(m - 1);
        tm.tm_mday = (int)d;
        t = timegm(&tm);
        ck_assert_int_eq((int64_t)t, z * 86400);
        ck_assert_int_eq(tm.tm_mday, d); /* a valid date: timegm left it alone */
    }
    base_civil_from_days(-719468, &y, &m, &d); /* the proleptic 0000-03-01 */
    ck_assert(y == 0 && m == 3 && d == 1);
}
END_TEST

Suite *fhir_base_suite(void)
{
    Suite *s = suite_create("fhir_base");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, arena_budget_is_enforced);
    tcase_add_test(tc, utf8_vector_path_agrees_with_rfc_3629);
    tcase_add_test(tc, arena_cleanups_run_newest_first_and_children_die_with_parent);
    tcase_add_test(tc, arena_child_freed_early_unlinks);
    tcase_add_test(tc, arena_alignment_and_many_small_allocations);
    tcase_add_test(tc, torture_hook_fails_the_nth_allocation);
    tcase_add_test(tc, buf_refuses_to_grow_past_max);
    tcase_add_test(tc, rd_take_until_and_bounds);
    tcase_add_test(tc, str_integers_are_strict);
    tcase_add_test(tc, utf8_validation);
    tcase_add_test(tc, err_first_error_wins);
    tcase_add_test(tc, civil_days_agree_with_timegm);
    suite_add_tcase(s, tc);
    return s;
}
