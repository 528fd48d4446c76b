/*
 * Tamper evidence, end to end: rows written by the real writer on two
 * chains, then changed, removed or inserted directly in the database by a
 * superuser (who can bypass the append-only trigger), then checked by the
 * real `fhirgate audit verify`, which must exit 1 and name the row by
 * chain, sequence number and time — and exit 0 while nothing was touched.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/audit/gw_audit.h"
#include "test/support/audittest.h"
#include "test/support/pgtest.h"

#define ROWS 30

static struct at_env env;

/* Rows 1..30 on chains gw-a and gw-b, a signed checkpoint every 10 rows. */
static void
setup(void)
{
    struct gw_db_pool *p;
    struct gw_audit *a;
    struct gw_audit *b;
    struct base_err err = {0};

    ck_assert(at_env_init(&env, "tamper"));
    p = at_pool(env.url_app, 2);
    a = at_audit(p, "gw-a", env.key, 10, NULL);
    b = at_audit(p, "gw-b", env.key, 10, NULL);
    ck_assert(a != NULL && b != NULL);
    for (int i = 1; i <= ROWS; i++) {
        struct at_rec x;

        at_rec_make(&x, i, NULL, NULL, NULL);
        ck_assert_int_eq(gw_audit_append(a, &x.r, NULL, &err), BASE_OK);
        ck_assert_int_eq(gw_audit_append(b, &x.r, NULL, &err), BASE_OK);
    }
    gw_audit_free(a);
    gw_audit_free(b);
    gw_db_pool_free(p);
}

static void
teardown(void)
{
    at_env_fini(&env);
}

/* Run `sql` (statements separated by ;) as a superuser with the
 * append-only triggers bypassed, as an attacker with full access would. */
static void
tamper(const char *sql)
{
    char *block = NULL;

    ck_assert_int_ge(asprintf(&block,
                              "DO $tamper$ BEGIN PERFORM set_config('session_replication_role', "
                              "'replica', true); %s; END $tamper$",
                              sql),
                     0);
    ck_assert_msg(pt_sql(env.db, block, NULL) >= 0, "tamper failed: %s", sql);
    free(block);
}

static char *
row_time(const char *chain, int seq)
{
    char sql[256];
    char *t = NULL;

    snprintf(sql, sizeof(sql),
             "SELECT audit.canon_time(recorded_at) FROM audit.event WHERE chain_id = '%s' AND "
             "seq = %d",
             chain, seq);
    ck_assert_int_ge(pt_sql(env.db, sql, &t), 0);
    ck_assert_ptr_nonnull(t);
    return t;
}

/* verify must fail and say "chain CHAIN: row seq SEQ (TIME) was WHAT"
 * (for a removed row: "(after TIME)", the row before the gap). */
static void
expect(const char *chain, int seq, const char *time, const char *what)
{
    const char *key[] = {"--key", env.pub, NULL};
    char *out = NULL;
    char want[256];

    ck_assert_int_eq(at_verify_cli(&env, key, &out), 1);
    snprintf(want, sizeof(want), "chain %s: row seq %d (%s%s) was %s", chain, seq,
             strcmp(what, "removed") == 0 && strcmp(time, "at the start") != 0 ? "after " : "",
             time, what);
    ck_assert_msg(strstr(out, want) != NULL, "expected '%s' in:\n%s", want, out);
    ck_assert_ptr_nonnull(strstr(out, "chain gw-b: intact"));
    ck_assert_ptr_nonnull(strstr(out, "audit verify: FAILED"));
    if (getenv("AT_SHOW") != NULL)
        fprintf(stderr, "%s", out);
    free(out);
}

START_TEST(untouched_trail_verifies)
{
    const char *key[] = {"--key", env.pub, NULL};
    char *out = NULL;

    ck_assert_int_eq(at_verify_cli(&env, key, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "chain gw-a: intact: rows 1..30 (30 rows), 3 checkpoints"));
    ck_assert_ptr_nonnull(strstr(out, "chain gw-b: intact"));
    ck_assert_ptr_nonnull(strstr(out, "audit verify: intact: 2 chain(s), 60 rows"));
    free(out);
    /* without --key: the keys stored in the database, with a note */
    ck_assert_int_eq(at_verify_cli(&env, NULL, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "give --key"));
    free(out);
}
END_TEST

START_TEST(changed_json_is_named)
{
    char *t = row_time("gw-a", 17);

    tamper("UPDATE audit.event SET event_text = replace(event_text, 'dr-wang', 'dr-li') "
           "WHERE chain_id = 'gw-a' AND seq = 17");
    expect("gw-a", 17, t, "changed");
    free(t);
}
END_TEST

START_TEST(changed_column_is_named)
{
    char *t = row_time("gw-a", 9);

    tamper(
        "UPDATE audit.event SET patient_ref = 'Patient/other' WHERE chain_id = 'gw-a' AND seq = 9");
    expect("gw-a", 9, t, "changed");
    free(t);
}
END_TEST

START_TEST(invalid_json_text_is_named)
{
    char *t = row_time("gw-a", 17);

    tamper("UPDATE audit.event SET event_text = '{broken' WHERE chain_id = 'gw-a' AND seq = 17");
    expect("gw-a", 17, t, "changed");
    free(t);
}
END_TEST

START_TEST(changed_hash_is_named)
{
    char *t = row_time("gw-a", 12);

    tamper("UPDATE audit.event SET hash = repeat('a', 64) WHERE chain_id = 'gw-a' AND seq = 12");
    expect("gw-a", 12, t, "changed");
    free(t);
}
END_TEST

START_TEST(changed_and_rehashed_row_is_named)
{
    char *t = row_time("gw-a", 17);

    tamper("UPDATE audit.event SET event_text = replace(event_text, 'dr-wang', 'dr-li') "
           "WHERE chain_id = 'gw-a' AND seq = 17; "
           "UPDATE audit.event e SET hash = encode(sha256(convert_to(audit.canonical(e), 'UTF8')), "
           "'hex') WHERE chain_id = 'gw-a' AND seq = 17");
    expect("gw-a", 17, t, "changed");
    free(t);
}
END_TEST

START_TEST(removed_row_is_named)
{
    char *t = row_time("gw-a", 22);

    /* named with the time of the row before the gap */
    tamper("DELETE FROM audit.event WHERE chain_id = 'gw-a' AND seq = 23");
    expect("gw-a", 23, t, "removed");
    free(t);
}
END_TEST

START_TEST(removed_first_rows_are_named)
{
    tamper("DELETE FROM audit.event WHERE chain_id = 'gw-a' AND seq <= 3");
    expect("gw-a", 1, "at the start", "removed");
}
END_TEST

START_TEST(removed_tail_is_named)
{
    char *t = row_time("gw-a", 27);

    tamper("DELETE FROM audit.event WHERE chain_id = 'gw-a' AND seq >= 28");
    expect("gw-a", 28, t, "removed");
    /* also when the head is moved back to hide it: the signed checkpoint
     * at seq 30 still says the rows existed */
    tamper("UPDATE audit.chain SET last_seq = 27, last_hash = (SELECT hash FROM audit.event "
           "WHERE chain_id = 'gw-a' AND seq = 27) WHERE chain_id = 'gw-a'");
    expect("gw-a", 28, t, "removed");
    free(t);
}
END_TEST

/* A forged copy of row `seq` with other content, a consistent hash and the
 * same predecessor: as good a forgery as one can make without the key.
 * (Its time differs by 1 us: the primary key refuses an exact duplicate.) */
#define FORGE(seq)                                                                                 \
    "INSERT INTO audit.event SELECT chain_id, seq, recorded_at + interval '1 microsecond', "       \
    "replace(event_text, 'dr-wang', 'dr-forged'), action, subtype, outcome, http_status, "         \
    "'dr-forged', agent_role, agent_org, "                                                         \
    "patient_ref, entities, purpose, break_glass, reason, request_id, node, client_addr, "         \
    "prev_hash, 'x' FROM audit.event WHERE chain_id = 'gw-a' AND seq = " #seq "; "                 \
    "UPDATE audit.event e SET hash = encode(sha256(convert_to(audit.canonical(e), 'UTF8')), "      \
    "'hex') WHERE hash = 'x'"

START_TEST(forged_row_in_the_middle_is_named)
{
    char *t = NULL;

    tamper(FORGE(14));
    ck_assert_int_eq(pt_count(env.db, "SELECT count(*) FROM audit.event WHERE chain_id = 'gw-a' "
                                      "AND seq = 14"),
                     2);
    /* the forged one is named, not the genuine one */
    ck_assert_int_ge(pt_sql(env.db,
                            "SELECT audit.canon_time(recorded_at) FROM audit.event "
                            "WHERE chain_id = 'gw-a' AND seq = 14 AND agent_user = 'dr-forged'",
                            &t),
                     0);
    expect("gw-a", 14, t, "inserted");
    free(t);
}
END_TEST

START_TEST(forged_row_at_the_end_is_named)
{
    char *t = NULL;

    /* seq 31 after the real last row, linked to it, consistently hashed */
    tamper("INSERT INTO audit.event SELECT chain_id, 31, recorded_at + interval '1 second', "
           "event_text, action, subtype, outcome, http_status, agent_user, agent_role, agent_org, "
           "patient_ref, entities, purpose, break_glass, reason, 'req-forged', node, client_addr, "
           "hash, 'x' FROM audit.event WHERE chain_id = 'gw-a' AND seq = 30; "
           "UPDATE audit.event e SET hash = encode(sha256(convert_to(audit.canonical(e), 'UTF8')), "
           "'hex') WHERE hash = 'x'");
    t = row_time("gw-a", 31);
    expect("gw-a", 31, t, "inserted");
    free(t);
}
END_TEST

START_TEST(rewritten_chain_is_caught_by_the_checkpoint)
{
    char *t = row_time("gw-a", 20);

    /* change row 17, then recompute every later link and hash and the head:
     * the chain is self-consistent again; only the signature can tell */
    tamper("UPDATE audit.event SET event_text = replace(event_text, 'dr-wang', 'dr-li') "
           "WHERE chain_id = 'gw-a' AND seq = 17; "
           "FOR s IN 17..30 LOOP "
           "UPDATE audit.event SET prev_hash = (SELECT hash FROM audit.event WHERE chain_id = "
           "'gw-a' AND seq = s - 1) WHERE chain_id = 'gw-a' AND seq = s; "
           "UPDATE audit.event e SET hash = encode(sha256(convert_to(audit.canonical(e), "
           "'UTF8')), 'hex') WHERE chain_id = 'gw-a' AND seq = s; END LOOP; "
           "UPDATE audit.chain SET last_hash = (SELECT hash FROM audit.event WHERE chain_id = "
           "'gw-a' AND seq = 30) WHERE chain_id = 'gw-a'");
    expect("gw-a", 20, t, "rewritten");
    free(t);
}
END_TEST

START_TEST(forged_checkpoint_is_named)
{
    const char *key[] = {"--key", env.pub, NULL};
    char *out = NULL;

    tamper(
        "UPDATE audit.checkpoint SET hash = repeat('b', 64) WHERE chain_id = 'gw-a' AND seq = 20");
    ck_assert_int_eq(at_verify_cli(&env, key, &out), 1);
    ck_assert_msg(strstr(out, "chain gw-a: checkpoint at seq 20") != NULL &&
                      strstr(out, "is invalid: checkpoint signed at") != NULL &&
                      strstr(out, "signature does not verify") != NULL,
                  "%s", out);
    free(out);
}
END_TEST

START_TEST(other_key_is_refused)
{
    char other[600];
    char other_pub[600];
    const char *key[] = {"--key", other_pub, NULL};
    struct base_err err = {0};
    char *out = NULL;

    snprintf(other, sizeof(other), "%s.other", env.key);
    snprintf(other_pub, sizeof(other_pub), "%s.other", env.pub);
    ck_assert_int_eq(gw_audit_key_generate(other, other_pub, &err), BASE_OK);
    ck_assert_int_eq(at_verify_cli(&env, key, &out), 1);
    ck_assert_ptr_nonnull(strstr(out, "signed by a key other than the one given"));
    free(out);
}
END_TEST

START_TEST(range_starts_at_the_checkpoint_before_from)
{
    char *t21 = row_time("gw-a", 21);
    char *t5 = row_time("gw-a", 5);
    const char *from[] = {"--key", env.pub, "--from", t21, "--chain", "gw-a", NULL};
    char *out = NULL;

    tamper(
        "UPDATE audit.event SET patient_ref = 'Patient/other' WHERE chain_id = 'gw-a' AND seq = 5");
    /* rows 21..30, anchored at the signed checkpoint of row 20: intact */
    ck_assert_int_eq(at_verify_cli(&env, from, &out), 0);
    ck_assert_msg(strstr(out, "chain gw-a: intact: rows 21..30 (10 rows)") != NULL, "%s", out);
    free(out);
    /* the whole chain is not */
    expect("gw-a", 5, t5, "changed");
    free(t21);
    free(t5);
}
END_TEST

START_TEST(bad_options_are_usage_errors)
{
    const char *badtime[] = {"--from", "yesterday-ish", NULL};
    const char *nokey[] = {"--key", "/nonexistent.pem", NULL};
    const char *unknown[] = {"--bogus", NULL};
    char *out = NULL;

    ck_assert_int_eq(at_verify_cli(&env, badtime, &out), 1);
    ck_assert_ptr_nonnull(strstr(out, "from"));
    free(out);
    ck_assert_int_eq(at_verify_cli(&env, nokey, &out), 1);
    free(out);
    ck_assert_int_eq(at_verify_cli(&env, unknown, &out), 2);
    free(out);
}
END_TEST

Suite *audit_tamper_suite(void)
{
    Suite *s = suite_create("audit_tamper");
    TCase *tc = tcase_create("tamper");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, untouched_trail_verifies);
    tcase_add_test(tc, changed_json_is_named);
    tcase_add_test(tc, changed_column_is_named);
    tcase_add_test(tc, invalid_json_text_is_named);
    tcase_add_test(tc, changed_hash_is_named);
    tcase_add_test(tc, changed_and_rehashed_row_is_named);
    tcase_add_test(tc, removed_row_is_named);
    tcase_add_test(tc, removed_first_rows_are_named);
    tcase_add_test(tc, removed_tail_is_named);
    tcase_add_test(tc, forged_row_in_the_middle_is_named);
    tcase_add_test(tc, forged_row_at_the_end_is_named);
    tcase_add_test(tc, rewritten_chain_is_caught_by_the_checkpoint);
    tcase_add_test(tc, forged_checkpoint_is_named);
    tcase_add_test(tc, other_key_is_refused);
    tcase_add_test(tc, range_starts_at_the_checkpoint_before_from);
    tcase_add_test(tc, bad_options_are_usage_errors);
    suite_add_tcase(s, tc);
    return s;
}
