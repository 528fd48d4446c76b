/*
 * The canonical forms: the exact bytes hashed per row and signed per
 * checkpoint (docs/design/storage.md).  The expected hash was computed with
 * standard tools: the canonical text written by a few lines of Python and
 * hashed with `sha256sum`.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/buf.h"
#include "gateway/audit/audit_int.h"

static const char *const ents[] = {"Patient/p1", "Observation/1"};

static const char expected_text[] =
    "fhirgate-audit-v1\n"
    "4:gw-a\n"
    "1:7\n"
    "27:2026-01-31T23:59:59.123456Z\n"
    "64:0000000000000000000000000000000000000000000000000000000000000000\n"
    "1:R\n"
    "4:read\n"
    "1:0\n"
    "3:200\n"
    "7:dr-wang\n"
    "9:clinician\n"
    "10:hospital-a\n"
    "10:Patient/p1\n"
    "31:10:Patient/p1\n13:Observation/1\n\n"
    "5:TREAT\n"
    "5:false\n"
    "-\n"
    "5:req-1\n"
    "4:gw-a\n"
    "8:10.0.0.7\n"
    "47:{\"resourceType\":\"AuditEvent\",\"x\":1,\"note\":\"\xc3\xbc\"}\n";

static void
sample(struct gw_audit__canon *c, struct base_buf *ent)
{
    memset(c, 0, sizeof(*c));
    base_buf_init(ent, 0);
    ck_assert_int_eq(gw_audit__entities_canon(ents, 2, ent), BASE_OK);
    gw_audit__canon_set(c, GW_AUDIT__CHAIN, "gw-a");
    gw_audit__canon_set(c, GW_AUDIT__SEQ, "7");
    gw_audit__canon_set(c, GW_AUDIT__RECORDED, "2026-01-31T23:59:59.123456Z");
    gw_audit__canon_set(c, GW_AUDIT__PREV, GW_AUDIT__ZERO_HASH);
    gw_audit__canon_set(c, GW_AUDIT__ACTION, "R");
    gw_audit__canon_set(c, GW_AUDIT__SUBTYPE, "read");
    gw_audit__canon_set(c, GW_AUDIT__OUTCOME, "0");
    gw_audit__canon_set(c, GW_AUDIT__STATUS, "200");
    gw_audit__canon_set(c, GW_AUDIT__USER, "dr-wang");
    gw_audit__canon_set(c, GW_AUDIT__ROLE, "clinician");
    gw_audit__canon_set(c, GW_AUDIT__ORG, "hospital-a");
    gw_audit__canon_set(c, GW_AUDIT__PATIENT, "Patient/p1");
    c->v[GW_AUDIT__ENTITIES] = ent->data;
    c->len[GW_AUDIT__ENTITIES] = ent->len;
    gw_audit__canon_set(c, GW_AUDIT__PURPOSE, "TREAT");
    gw_audit__canon_set(c, GW_AUDIT__BREAK_GLASS, "false");
    gw_audit__canon_set(c, GW_AUDIT__REASON, NULL);
    gw_audit__canon_set(c, GW_AUDIT__REQUEST, "req-1");
    gw_audit__canon_set(c, GW_AUDIT__NODE, "gw-a");
    gw_audit__canon_set(c, GW_AUDIT__CLIENT, "10.0.0.7");
    gw_audit__canon_set(c, GW_AUDIT__EVENT,
                        "{\"resourceType\":\"AuditEvent\",\"x\":1,\"note\":\"\xc3\xbc\"}");
}

START_TEST(row_canonical_form_and_hash)
{
    struct gw_audit__canon c;
    struct base_buf ent;
    struct base_buf text;
    char hash[65];

    sample(&c, &ent);
    base_buf_init(&text, 0);
    ck_assert_int_eq(gw_audit__row_canonical(&c, &text), BASE_OK);
    ck_assert_uint_eq(text.len, sizeof(expected_text) - 1);
    ck_assert(memcmp(text.data, expected_text, text.len) == 0);
    ck_assert_int_eq(gw_audit__row_hash(&c, hash), BASE_OK);
    ck_assert_str_eq(hash, "04c0664c5f29cacafbbfc1ab50ec49f706b21f80f7302823abc6386cc29da225");
    base_buf_fini(&text);
    base_buf_fini(&ent);
}
END_TEST

START_TEST(every_field_counts)
{
    struct gw_audit__canon c;
    struct base_buf ent;
    char base[65];
    char h[65];

    sample(&c, &ent);
    ck_assert_int_eq(gw_audit__row_hash(&c, base), BASE_OK);
    for (int i = 0; i < GW_AUDIT__NCOLS; i++) {
        struct gw_audit__canon m = c;

        /* NULL differs from the empty string, and from any value */
        m.v[i] = m.v[i] == NULL ? "" : NULL;
        m.len[i] = 0;
        ck_assert_int_eq(gw_audit__row_hash(&m, h), BASE_OK);
        ck_assert_str_ne(h, base);
    }
    /* shifting bytes between neighbouring fields changes the hash */
    {
        struct gw_audit__canon m = c;

        gw_audit__canon_set(&m, GW_AUDIT__ACTION, "Rr");
        gw_audit__canon_set(&m, GW_AUDIT__SUBTYPE, "ead");
        ck_assert_int_eq(gw_audit__row_hash(&m, h), BASE_OK);
        ck_assert_str_ne(h, base);
    }
    base_buf_fini(&ent);
}
END_TEST

START_TEST(entities_encodings)
{
    static const char *const tricky[] = {"a\"b", "c\\d", "e,f", "{g}", ""};
    struct base_buf b;

    base_buf_init(&b, 0);
    ck_assert_int_eq(gw_audit__entities_literal(tricky, 5, &b), BASE_OK);
    ck_assert_str_eq(b.data, "{\"a\\\"b\",\"c\\\\d\",\"e,f\",\"{g}\",\"\"}");
    base_buf_reset(&b);
    ck_assert_int_eq(gw_audit__entities_canon(tricky, 5, &b), BASE_OK);
    ck_assert_str_eq(b.data, "3:a\"b\n3:c\\d\n3:e,f\n3:{g}\n0:\n");
    base_buf_reset(&b);
    ck_assert_int_eq(gw_audit__entities_literal(tricky, 0, &b), BASE_OK);
    ck_assert_str_eq(b.data, "{}");
    base_buf_fini(&b);
    /* no entities at all is "" (not NULL) once encoded */
    base_buf_init(&b, 0);
    ck_assert_int_eq(gw_audit__entities_canon(tricky, 0, &b), BASE_OK);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_uint_eq(b.len, 0);
    base_buf_fini(&b);
    /* a bounded buffer refuses rather than truncates */
    base_buf_init(&b, 8);
    ck_assert_int_eq(gw_audit__entities_canon(tricky, 5, &b), BASE_E_LIMIT);
    base_buf_fini(&b);
}
END_TEST

START_TEST(checkpoint_canonical_form)
{
    struct gw_audit__cp cp = {
        "gw-a",     1000, "ab", "2026-01-31T23:59:59.123456Z", "2026-02-01T00:00:00.000001Z",
        "interval", "k1"};
    struct base_buf b;

    base_buf_init(&b, 0);
    ck_assert_int_eq(gw_audit__cp_canonical(&cp, &b), BASE_OK);
    ck_assert_str_eq(b.data, "fhirgate-audit-checkpoint-v1\n4:gw-a\n4:1000\n2:ab\n"
                             "27:2026-01-31T23:59:59.123456Z\n27:2026-02-01T00:00:00.000001Z\n"
                             "8:interval\n2:k1\n");
    base_buf_fini(&b);
}
END_TEST

START_TEST(times_and_hex)
{
    char t[32];
    unsigned char bytes[4];

    gw_audit__format_time(0, t);
    ck_assert_str_eq(t, "1970-01-01T00:00:00.000000Z");
    gw_audit__format_time(1769903999123456LL, t);
    ck_assert_str_eq(t, "2026-01-31T23:59:59.123456Z");
    gw_audit__format_time(-1, t);
    ck_assert_str_eq(t, "1969-12-31T23:59:59.999999Z");
    gw_audit__hex((const unsigned char *)"\x00\xff\x10", 3, t);
    ck_assert_str_eq(t, "00ff10");
    ck_assert_int_eq(gw_audit__unhex("\\x00ff10", bytes, sizeof(bytes)), 3);
    ck_assert(memcmp(bytes, "\x00\xff\x10", 3) == 0);
    ck_assert_int_eq(gw_audit__unhex("0A0b", bytes, sizeof(bytes)), 2);
    ck_assert_int_eq(gw_audit__unhex("abc", bytes, sizeof(bytes)), -1);        /* odd */
    ck_assert_int_eq(gw_audit__unhex("zz", bytes, sizeof(bytes)), -1);         /* not hex */
    ck_assert_int_eq(gw_audit__unhex("0011223344", bytes, sizeof(bytes)), -1); /* too long */
}
END_TEST

Suite *audit_canon_suite(void)
{
    Suite *s = suite_create("audit_canon");
    TCase *tc = tcase_create("canon");

    tcase_add_test(tc, row_canonical_form_and_hash);
    tcase_add_test(tc, every_field_counts);
    tcase_add_test(tc, entities_encodings);
    tcase_add_test(tc, checkpoint_canonical_form);
    tcase_add_test(tc, times_and_hex);
    suite_add_tcase(s, tc);
    return s;
}
