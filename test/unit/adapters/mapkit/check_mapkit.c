/*
 * adapters/mapkit: timestamps, identifiers, search-URL escaping, OIDs,
 * decimals and the transaction Bundle builder.
 */
#include <check.h>
#include <string.h>

#include "adapters/mapkit/mapkit.h"
#include "fhir/json/fhir_json.h"

static const char *
ts(const char *in, const char *tz, bool date)
{
    static char out[ADAPTER_TS_MAX];

    if (adapter_ts_to_fhir(base_str_from_cstr(in), tz, date, out, sizeof(out)) == 0)
        return "(invalid)";
    return out;
}

START_TEST(timestamps)
{
    ck_assert_str_eq(ts("2014", NULL, false), "2014");
    ck_assert_str_eq(ts("201410", NULL, false), "2014-10");
    ck_assert_str_eq(ts("20141015", NULL, false), "2014-10-15");
    ck_assert_str_eq(ts("20141015103026-0500", NULL, false), "2014-10-15T10:30:26-05:00");
    ck_assert_str_eq(ts("201410151030+0800", NULL, false), "2014-10-15T10:30:00+08:00");
    ck_assert_str_eq(ts("2014101510", "Z", false), "2014-10-15T10:00:00Z");
    ck_assert_str_eq(ts("20141015103026.123+0000", NULL, false), "2014-10-15T10:30:26.123+00:00");
    /* no zone, none configured: the date only */
    ck_assert_str_eq(ts("20141015103026", NULL, false), "2014-10-15");
    ck_assert_str_eq(ts("20141015103026", "+08:00", false), "2014-10-15T10:30:26+08:00");
    ck_assert_str_eq(ts("20141015103026-0500", NULL, true), "2014-10-15");
    /* DICOM legacy forms */
    ck_assert_str_eq(ts("1997.04.24", NULL, false), "1997-04-24");
    ck_assert_str_eq(ts("20000229", NULL, false), "2000-02-29");
    /* invalid */
    ck_assert_str_eq(ts("19000229", NULL, false), "(invalid)");
    ck_assert_str_eq(ts("20141301", NULL, false), "(invalid)");
    ck_assert_str_eq(ts("20140431", NULL, false), "(invalid)");
    ck_assert_str_eq(ts("2014030200908-0500", NULL, false), "(invalid)");
    ck_assert_str_eq(ts("20140302246000", "Z", false), "(invalid)");
    ck_assert_str_eq(ts("201403021200+1430", NULL, false), "(invalid)");
    ck_assert_str_eq(ts("0000", NULL, false), "(invalid)");
    ck_assert_str_eq(ts("2014-03-02", NULL, false), "(invalid)");
    ck_assert_str_eq(ts("", NULL, false), "(invalid)");
    ck_assert_str_eq(ts("20140302120000.", "Z", false), "(invalid)");
}
END_TEST

START_TEST(dicom_date_time)
{
    char out[ADAPTER_TS_MAX];

    ck_assert_uint_gt(adapter_da_tm_to_fhir(BASE_STR_LIT("20040119"), BASE_STR_LIT("072730"),
                                            BASE_STR_LIT("+0800"), NULL, out, sizeof(out)),
                      0);
    ck_assert_str_eq(out, "2004-01-19T07:27:30+08:00");
    ck_assert_uint_gt(adapter_da_tm_to_fhir(BASE_STR_LIT("20040119"), BASE_STR_LIT("0727"),
                                            BASE_STR_NULL, NULL, out, sizeof(out)),
                      0);
    ck_assert_str_eq(out, "2004-01-19");
    ck_assert_uint_gt(adapter_da_tm_to_fhir(BASE_STR_LIT("1997.04.24"), BASE_STR_LIT("14:04:38"),
                                            BASE_STR_NULL, "Z", out, sizeof(out)),
                      0);
    ck_assert_str_eq(out, "1997-04-24T14:04:38Z");
    ck_assert_uint_gt(adapter_da_tm_to_fhir(BASE_STR_LIT("20040119"), BASE_STR_LIT("072730.123456"),
                                            BASE_STR_LIT("-0500"), NULL, out, sizeof(out)),
                      0);
    ck_assert_str_eq(out, "2004-01-19T07:27:30.123456-05:00");
    ck_assert_uint_eq(adapter_da_tm_to_fhir(BASE_STR_LIT("2004"), BASE_STR_NULL, BASE_STR_NULL,
                                            NULL, out, sizeof(out)),
                      0);
    ck_assert_uint_eq(adapter_da_tm_to_fhir(BASE_STR_LIT("20040119"), BASE_STR_LIT("25"),
                                            BASE_STR_NULL, "Z", out, sizeof(out)),
                      0);
}
END_TEST

START_TEST(uuid5_is_stable_and_versioned)
{
    char a[ADAPTER_UUID_LEN + 1];
    char b[ADAPTER_UUID_LEN + 1];

    adapter_uuid5("Patient|s|v", 11, a);
    adapter_uuid5("Patient|s|v", 11, b);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(strlen(a), 36);
    ck_assert_int_eq(a[14], '5');
    ck_assert(strchr("89ab", a[19]) != NULL);
    adapter_uuid5("Patient|s|w", 11, b);
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(identifier_query_escapes)
{
    json_t *q = adapter_identifier_query("Patient", "urn:oid:1.2.3", "A|B,C $x\\&y=z#");

    ck_assert_str_eq(json_string_value(q),
                     "Patient?identifier=urn:oid:1.2.3|A%5C%7CB%5C%2CC%20%5C%24x%5C%5C%26y%3Dz%23");
    json_decref(q);
    q = adapter_identifier_query("Patient", "urn:oid:2.16.156.10011.1.3", "张");
    ck_assert_str_eq(json_string_value(q),
                     "Patient?identifier=urn:oid:2.16.156.10011.1.3|%E5%BC%A0");
    json_decref(q);
}
END_TEST

START_TEST(oids)
{
    ck_assert(adapter_oid_valid(BASE_STR_LIT("2.16.156.10011.1.3")));
    ck_assert(adapter_oid_valid(BASE_STR_LIT("1.2.840.10008.5.1.4.1.1.4")));
    ck_assert(!adapter_oid_valid(BASE_STR_LIT("1")));
    ck_assert(!adapter_oid_valid(BASE_STR_LIT("1.02")));
    ck_assert(!adapter_oid_valid(BASE_STR_LIT("1..2")));
    ck_assert(!adapter_oid_valid(BASE_STR_LIT("1.2.")));
    ck_assert(!adapter_oid_valid(BASE_STR_LIT("a.b")));
    ck_assert_str_eq(adapter_oid_uri(BASE_STR_LIT("2.16.840.1.113883.6.1")), "http://loinc.org");
    ck_assert_str_eq(adapter_oid_uri(BASE_STR_LIT("2.16.840.1.113883.6.96")),
                     "http://snomed.info/sct");
    ck_assert_str_eq(adapter_oid_uri(BASE_STR_LIT("2.16.840.1.113883.12.292")),
                     "http://hl7.org/fhir/sid/cvx");
    ck_assert_str_eq(adapter_oid_uri(BASE_STR_LIT("2.16.840.1.113883.12.203")),
                     "http://terminology.hl7.org/CodeSystem/v2-0203");
    ck_assert_ptr_null(adapter_oid_uri(BASE_STR_LIT("2.16.156.10011.2.3.3.11")));
}
END_TEST

static const char *
dec(const char *in)
{
    static char buf[64];
    json_t *d = adapter_decimal(base_str_from_cstr(in));
    struct base_str s;

    if (d == NULL)
        return "(null)";
    s = fhir_json_number_text(d, buf, sizeof(buf));
    memmove(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    json_decref(d);
    return buf;
}

START_TEST(decimals)
{
    ck_assert_str_eq(dec("1.50"), "1.50");
    ck_assert_str_eq(dec(" +.5 "), "0.5");
    ck_assert_str_eq(dec("-.25"), "-0.25");
    ck_assert_str_eq(dec("007"), "7");
    ck_assert_str_eq(dec("0.0"), "0.0");
    ck_assert_str_eq(dec("1e3"), "1e3");
    ck_assert_str_eq(dec("1,5"), "(null)");
    ck_assert_str_eq(dec("4.222.835"), "(null)");
    ck_assert_str_eq(dec(""), "(null)");
    ck_assert_str_eq(dec("."), "(null)");
}
END_TEST

START_TEST(tx_dedupes_and_limits)
{
    struct adapter_tx tx;
    struct base_err err = {0};
    const char *u1 = NULL;
    const char *u2 = NULL;
    json_t *b;

    ck_assert_int_eq(adapter_tx_init(&tx, 2, &err), BASE_OK);
    ck_assert_int_eq(adapter_tx_put(&tx, json_pack("{s:s}", "resourceType", "Organization"),
                                    "urn:oid:1.2", "A", &u1, &err),
                     BASE_OK);
    ck_assert_int_eq(adapter_tx_put(&tx, json_pack("{s:s}", "resourceType", "Organization"),
                                    "urn:oid:1.2", "A", &u2, &err),
                     BASE_OK);
    ck_assert_str_eq(u1, u2);
    ck_assert_uint_eq(adapter_tx_count(&tx), 1);
    ck_assert_str_eq(adapter_tx_find(&tx, "Organization", "urn:oid:1.2", "A"), u1);
    ck_assert_ptr_null(adapter_tx_find(&tx, "Patient", "urn:oid:1.2", "A"));
    ck_assert_int_eq(adapter_tx_put(&tx, json_pack("{s:s}", "resourceType", "Patient"),
                                    "urn:oid:1.2", "A", NULL, &err),
                     BASE_OK);
    ck_assert_int_eq(adapter_tx_put(&tx, json_pack("{s:s}", "resourceType", "Patient"),
                                    "urn:oid:1.2", "B", NULL, &err),
                     BASE_E_LIMIT);
    ck_assert_int_eq(
        adapter_tx_put(&tx, json_pack("{s:s}", "resourceType", "Patient"), "", "B", NULL, &err),
        BASE_E_INVALID);
    ck_assert_int_eq(err.rc, BASE_E_LIMIT); /* the first error stays in err */
    b = adapter_tx_take(&tx);
    ck_assert_str_eq(json_string_value(json_object_get(b, "type")), "transaction");
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 2);
    ck_assert_str_eq(
        json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(b, "entry"), 0), "request"), "url")),
        "Organization?identifier=urn:oid:1.2|A");
    json_decref(b);
    adapter_tx_fini(&tx);
}
END_TEST

START_TEST(tx_requires_identifier)
{
    struct adapter_tx tx;
    struct base_err err = {0};
    json_t *b;

    ck_assert_int_eq(adapter_tx_init(&tx, 0, &err), BASE_OK);
    ck_assert_int_eq(
        adapter_tx_put(&tx, json_pack("{s:s}", "resourceType", "Patient"), "s", "", NULL, &err),
        BASE_E_INVALID);
    ck_assert_int_eq(adapter_tx_put(&tx, json_object(), "s", "v", NULL, &err), BASE_E_INVALID);
    b = adapter_tx_take(&tx);
    ck_assert_ptr_null(json_object_get(b, "entry")); /* no empty array */
    json_decref(b);
    adapter_tx_fini(&tx);
}
END_TEST

static bool
to_loinc(void *ctx, const char *system, const char *code, struct adapter_coding *out)
{
    (void)ctx;
    (void)system;
    if (strcmp(code, "GLU") != 0)
        return false;
    out->system = "http://loinc.org";
    out->code = "2345-7";
    out->display = NULL;
    return true;
}

START_TEST(codemap_adds_standard_coding)
{
    struct adapter_codemap map = {to_loinc, NULL};
    json_t *cc = json_object();

    ck_assert_int_eq(adapter_cc_add_coding(cc, "urn:oid:1.2.3", "GLU", "Glucose", &map), BASE_OK);
    ck_assert_int_eq(adapter_cc_add_coding(cc, "urn:oid:1.2.3", "NA", NULL, &map), BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(cc, "coding")), 3);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(cc, "coding"), 1), "code")),
                     "2345-7");
    json_decref(cc);
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *adapter_mapkit_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("adapter_mapkit");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, timestamps);
    tcase_add_test(tc, dicom_date_time);
    tcase_add_test(tc, uuid5_is_stable_and_versioned);
    tcase_add_test(tc, identifier_query_escapes);
    tcase_add_test(tc, oids);
    tcase_add_test(tc, decimals);
    tcase_add_test(tc, tx_dedupes_and_limits);
    tcase_add_test(tc, tx_requires_identifier);
    tcase_add_test(tc, codemap_adds_standard_coding);
    suite_add_tcase(s, tc);
    return s;
}
