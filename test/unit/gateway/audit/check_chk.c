/*
 * The verification state machine on synthetic chains: each row's hash is
 * "h<seq>" (forged rows use other names), so every case can be written out.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "gateway/audit/audit_int.h"

struct row {
    long long seq;
    const char *prev;
    const char *hash;
    const char *computed; /* NULL = same as hash (content intact) */
};

static struct gw_audit__chk k;

/* Feed rows; returns how many were accepted. */
static int
feed(const struct row *rows, int n)
{
    int accepted = 0;

    for (int i = 0; i < n; i++) {
        char time[32];
        struct gw_audit__vrow r;

        snprintf(time, sizeof(time), "t%lld", rows[i].seq);
        r.seq = rows[i].seq;
        r.time = time;
        r.prev_hash = rows[i].prev;
        r.hash = rows[i].hash;
        r.computed = rows[i].computed != NULL ? rows[i].computed : rows[i].hash;
        if (gw_audit__chk_feed(&k, &r))
            accepted++;
    }
    gw_audit__chk_end(&k);
    return accepted;
}

static void
expect(enum gw_audit_problem_kind kind, long long seq, const char *time)
{
    ck_assert(k.done);
    ck_assert_int_eq(k.problem.kind, kind);
    ck_assert_int_eq(k.problem.seq, seq);
    ck_assert_str_eq(k.problem.time, time);
    ck_assert_str_eq(k.problem.chain_id, "c");
}

#define GENESIS() gw_audit__chk_init(&k, "c", 0, GW_AUDIT__ZERO_HASH, "")
#define Z         GW_AUDIT__ZERO_HASH

START_TEST(intact_chain)
{
    static const struct row rows[] = {
        {1, Z, "h1", NULL}, {2, "h1", "h2", NULL}, {3, "h2", "h3", NULL}};

    GENESIS();
    ck_assert_int_eq(feed(rows, 3), 3);
    ck_assert(!k.done);
    ck_assert_int_eq(k.last_seq, 3);
    ck_assert_str_eq(k.hash, "h3");
}
END_TEST

START_TEST(changed_content)
{
    static const struct row rows[] = {
        {1, Z, "h1", NULL}, {2, "h1", "h2", "other"}, {3, "h2", "h3", NULL}};

    GENESIS();
    ck_assert_int_eq(feed(rows, 3), 1);
    expect(GW_AUDIT_CHANGED, 2, "t2");
}
END_TEST

START_TEST(changed_last_row)
{
    static const struct row rows[] = {{1, Z, "h1", NULL}, {2, "h1", "h2", "other"}};

    GENESIS();
    feed(rows, 2);
    expect(GW_AUDIT_CHANGED, 2, "t2");
}
END_TEST

START_TEST(changed_and_rehashed)
{
    /* row 2 rewritten with a consistent new hash: row 3 still links to h2 */
    static const struct row rows[] = {
        {1, Z, "h1", NULL}, {2, "h1", "h2x", NULL}, {3, "h2", "h3", NULL}};

    GENESIS();
    feed(rows, 3);
    expect(GW_AUDIT_CHANGED, 2, "t2");
    ck_assert_ptr_nonnull(strstr(k.problem.detail, "recomputed"));
}
END_TEST

START_TEST(first_row_after_anchor_does_not_link)
{
    static const struct row rows[] = {{11, "hX", "h11", NULL}};

    gw_audit__chk_init(&k, "c", 10, "h10", "t10");
    feed(rows, 1);
    expect(GW_AUDIT_CHANGED, 11, "t11");
}
END_TEST

START_TEST(removed_row)
{
    static const struct row rows[] = {{1, Z, "h1", NULL}, {3, "h2", "h3", NULL}};

    GENESIS();
    feed(rows, 2);
    expect(GW_AUDIT_REMOVED, 2, "t1");
}
END_TEST

START_TEST(removed_range_at_start)
{
    static const struct row rows[] = {{4, "h3", "h4", NULL}};

    GENESIS();
    feed(rows, 1);
    expect(GW_AUDIT_REMOVED, 1, "");
    ck_assert_ptr_nonnull(strstr(k.problem.detail, "1..3"));
}
END_TEST

START_TEST(forged_duplicate_after_genuine)
{
    /* the forgery links like the genuine row and hashes consistently; the
     * next row links to the genuine one */
    static const struct row rows[] = {
        {1, Z, "h1", NULL}, {2, "h1", "h2", NULL}, {2, "h1", "f2", NULL}, {3, "h2", "h3", NULL}};

    GENESIS();
    feed(rows, 4);
    expect(GW_AUDIT_INSERTED, 2, "t2");
    ck_assert_int_eq(k.last_seq, 2);
}
END_TEST

START_TEST(forged_duplicate_before_genuine)
{
    static const struct row rows[] = {
        {1, Z, "h1", NULL}, {2, "h1", "f2", NULL}, {2, "h1", "h2", NULL}, {3, "h2", "h3", NULL}};

    GENESIS();
    feed(rows, 4);
    /* the accepted first one (the forgery) is named */
    expect(GW_AUDIT_INSERTED, 2, "t2");
}
END_TEST

START_TEST(forged_duplicate_with_bad_content)
{
    static const struct row rows[] = {
        {1, Z, "h1", NULL}, {2, "h1", "f2", "zz"}, {2, "h1", "h2", NULL}, {3, "h2", "h3", NULL}};

    GENESIS();
    feed(rows, 4);
    expect(GW_AUDIT_INSERTED, 2, "t2");
}
END_TEST

START_TEST(duplicate_at_end)
{
    static const struct row rows[] = {{1, Z, "h1", NULL}, {1, Z, "f1", NULL}};

    GENESIS();
    feed(rows, 2);
    expect(GW_AUDIT_INSERTED, 1, "t1");
}
END_TEST

START_TEST(older_duplicate)
{
    static const struct row rows[] = {
        {1, Z, "h1", NULL}, {2, "h1", "h2", NULL}, {1, "x", "f1", NULL}};

    GENESIS();
    feed(rows, 3);
    expect(GW_AUDIT_INSERTED, 1, "t1");
}
END_TEST

START_TEST(first_problem_wins)
{
    static const struct row rows[] = {{1, Z, "h1", "bad"}, {3, "h2", "h3", NULL}};

    GENESIS();
    feed(rows, 2);
    expect(GW_AUDIT_CHANGED, 1, "t1");
    gw_audit__chk_fail(&k, GW_AUDIT_REMOVED, 9, "t9", "later");
    expect(GW_AUDIT_CHANGED, 1, "t1");
}
END_TEST

Suite *audit_chk_suite(void)
{
    Suite *s = suite_create("audit_chk");
    TCase *tc = tcase_create("chk");

    tcase_add_test(tc, intact_chain);
    tcase_add_test(tc, changed_content);
    tcase_add_test(tc, changed_last_row);
    tcase_add_test(tc, changed_and_rehashed);
    tcase_add_test(tc, first_row_after_anchor_does_not_link);
    tcase_add_test(tc, removed_row);
    tcase_add_test(tc, removed_range_at_start);
    tcase_add_test(tc, forged_duplicate_after_genuine);
    tcase_add_test(tc, forged_duplicate_before_genuine);
    tcase_add_test(tc, forged_duplicate_with_bad_content);
    tcase_add_test(tc, duplicate_at_end);
    tcase_add_test(tc, older_duplicate);
    tcase_add_test(tc, first_problem_wins);
    suite_add_tcase(s, tc);
    return s;
}
