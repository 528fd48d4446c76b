#include <check.h>
#include <string.h>

#include "adapters/label/adapter_label.h"
#include "fhir/json/fhir_json.h"

static json_t *
js(const char *text)
{
    json_t *v = NULL;

    ck_assert_int_eq(fhir_json_parse(text, strlen(text), NULL, &v, NULL), BASE_OK);
    return v;
}

static const char *
label(const char *system, const char *code)
{
    return adapter_label_for_code(system, strlen(system), code, strlen(code));
}

START_TEST(icd10_ranges)
{
    const char *icd = "http://hl7.org/fhir/sid/icd-10";

    ck_assert_str_eq(label(icd, "F32.9"), "PSY");
    ck_assert_str_eq(label(icd, "F10.2"), "ETH");
    ck_assert_str_eq(label(icd, "f19"), "ETH");
    ck_assert_str_eq(label(icd, "F20"), "PSY");
    ck_assert_str_eq(label(icd, "B20"), "HIV");
    ck_assert_str_eq(label(icd, "Z21"), "HIV");
    ck_assert_str_eq(label(icd, "O98.7"), "HIV");
    ck_assert_str_eq(label(icd, "O80"), "SEX");
    ck_assert_str_eq(label("urn:oid:2.16.840.1.113883.6.3", "A53.9"), "STD");
    ck_assert_str_eq(label(icd, "T74.1"), "SDV");
    ck_assert_ptr_null(label(icd, "I10"));
    ck_assert_ptr_null(label(icd, "E11.9"));
    ck_assert_ptr_null(label(icd, "F"));
    ck_assert_ptr_null(label("http://example.org/local", "F32"));
    ck_assert_str_eq(label("http://loinc.org", "7918-6"), "HIV");
    ck_assert_ptr_null(label("http://loinc.org", "4548-4"));
    ck_assert_str_eq(label("http://snomed.info/sct", "35489007"), "PSY");
}
END_TEST

START_TEST(resource_gets_labels_once)
{
    json_t *c = js("{\"resourceType\":\"Condition\",\"meta\":{\"security\":[{\"system\":"
                   "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"PSY\"}]},"
                   "\"code\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10\","
                   "\"code\":\"F32.1\"},{\"system\":\"http://snomed.info/sct\",\"code\":"
                   "\"35489007\"}]},\"subject\":{\"reference\":\"Patient/1\"}}");
    json_t *sec;

    ck_assert_int_eq(adapter_label_resource(c), 1); /* PSY present already; R added */
    sec = json_object_get(json_object_get(c, "meta"), "security");
    ck_assert_uint_eq(json_array_size(sec), 2);
    ck_assert_int_eq(adapter_label_resource(c), 0); /* idempotent */
    json_decref(c);
}
END_TEST

START_TEST(unlabelled_resources_are_untouched)
{
    json_t *o = js("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":"
                   "[{\"system\":\"http://loinc.org\",\"code\":\"4548-4\"}]}}");
    json_t *h = js("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":"
                   "[{\"system\":\"http://loinc.org\",\"code\":\"75622-1\"}]}}");

    ck_assert_int_eq(adapter_label_resource(o), 0);
    ck_assert_ptr_null(json_object_get(o, "meta"));
    ck_assert_int_eq(adapter_label_resource(h), 2); /* HIV + R */
    json_decref(o);
    json_decref(h);
}
END_TEST

/* A document whose coded entries are mental-health diagnoses is itself
 * mental-health data: the DocumentReference carrying it gets their labels,
 * other resources of the Bundle do not. */
START_TEST(carriers_take_the_labels_of_their_source)
{
    json_t *b = js("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                   "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p\"}},"
                   "{\"resource\":{\"resourceType\":\"Condition\",\"code\":{\"coding\":"
                   "[{\"system\":\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"F32.9\"}]}}},"
                   "{\"resource\":{\"resourceType\":\"Condition\",\"code\":{\"coding\":"
                   "[{\"system\":\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"I10\"}]}}},"
                   "{\"resource\":{\"resourceType\":\"DocumentReference\",\"type\":{\"coding\":"
                   "[{\"system\":\"http://loinc.org\",\"code\":\"11506-3\"}]}}}]}");
    json_t *entries = json_object_get(b, "entry");
    json_t *doc = json_object_get(json_array_get(entries, 3), "resource");
    json_t *sec;

    ck_assert_int_gt(adapter_label_bundle(b), 0);
    sec = json_object_get(json_object_get(doc, "meta"), "security");
    ck_assert_uint_eq(json_array_size(sec), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sec, 0), "code")), "PSY");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sec, 1), "code")), "R");
    ck_assert_ptr_null(json_object_get(json_object_get(json_array_get(entries, 0), "resource"),
                                       "meta"));
    ck_assert_ptr_null(json_object_get(json_object_get(json_array_get(entries, 2), "resource"),
                                       "meta"));
    /* a second pass adds nothing */
    ck_assert_int_eq(adapter_label_bundle(b), 0);
    json_decref(b);
    /* nothing sensitive: nothing added anywhere */
    b = js("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":"
           "\"DocumentReference\"}}]}");
    ck_assert_int_eq(adapter_label_bundle(b), 0);
    json_decref(b);
}
END_TEST

Suite *adapter_label_suite(void)
{
    Suite *s = suite_create("adapter_label");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, icd10_ranges);
    tcase_add_test(tc, resource_gets_labels_once);
    tcase_add_test(tc, unlabelled_resources_are_untouched);
    tcase_add_test(tc, carriers_take_the_labels_of_their_source);
    suite_add_tcase(s, tc);
    return s;
}
