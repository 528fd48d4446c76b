/*
 * CDA R2 -> FHIR: every corpus document, the Chinese WS/T 500-style test
 * document, refusal of hostile XML, limits, options and the golden cases.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "adapters/cda/cda.h"
#include "fhir/json/fhir_json.h"
#include "test/support/golden.h"
#include "test/support/jsonpath.h"
#include "test/support/runcli.h"
#include "test/support/testutil.h"
#include "test/unit/adapters/cda/cda_test.h"

/* ------------------------------------------------------------- helpers */

static json_t *
convert_file(const char *path, const struct cda_options *opt, json_t **warnings)
{
    struct base_err err = {0};
    json_t *out = NULL;
    size_t len = 0;
    char *xml = tu_read_file(path, &len);
    int rc;

    ck_assert_msg(xml != NULL, "cannot read %s", path);
    rc = cda_to_bundle(xml, len, NULL, opt, &out, warnings, &err);
    ck_assert_msg(rc == BASE_OK, "%s: %s: %s", path, err.where, err.msg);
    free(xml);
    return out;
}

static json_t *
convert_corpus(const char *name)
{
    char rel[256];

    snprintf(rel, sizeof(rel), "cda/%s", name);
    return convert_file(tu_corpus_path(rel), NULL, NULL);
}

/* fullUrl of the n-th entry of `type`. */
static const char *
url_of(const json_t *bundle, const char *type, size_t want)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        const char *t =
            json_string_value(json_object_get(json_object_get(e, "resource"), "resourceType"));

        if (t != NULL && strcmp(t, type) == 0 && want-- == 0)
            return json_string_value(json_object_get(e, "fullUrl"));
    }
    return NULL;
}

/* Resource of `type` whose code.coding[0].code (or codeKey path) is `code`. */
static json_t *
by_code(const json_t *bundle, const char *type, const char *key, const char *code)
{
    json_t *r;

    for (size_t i = 0; (r = nth(bundle, type, i)) != NULL; i++) {
        const char *c = json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(r, key), "coding"), 0), "code"));

        if (c != NULL && strcmp(c, code) == 0)
            return r;
    }
    return NULL;
}

static const char *
number_at(const json_t *v, const char *key, char *buf, size_t cap)
{
    struct base_str s = fhir_json_number_text(json_object_get(v, key), buf, cap);

    snprintf(buf, cap, "%.*s", (int)s.len, s.ptr);
    return buf;
}

/* --------------------------------------------------- corpus: counts */

struct expect_counts {
    const char *file;
    size_t patient, practitioner, organization, encounter, condition, allergy, medication,
        observation, report, procedure, immunization;
};

/* Counted from the source documents: sections with coded entries per
 * kind (smoking status in Social History counts as an Observation), ids
 * repeated by the examples kept as separate resources; Practitioners
 * include the documentationOf/serviceEvent performers (the CareTeam). */
/* clang-format off */
static const struct expect_counts corpus_counts[] = {
    /* file                                         Pat Pra Org Enc Con All Med Obs Rep Pro Imm */
    {"Basic_Metabolic_Panel_with_Troponin_C-CDA2.1.xml", 0, 0, 0, 0, 0, 0, 0, 9, 3, 0, 0},
    {"CCD.xml",                                        1, 1, 3, 0, 0, 1, 0, 11, 1, 3, 0},
    {"CDA_Embedded_Text_Plain_Surgical_Consult.xml",   1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0},
    {"CDA_with_Embedded_PDF.xml",                      1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0},
    {"Diagnostic_Imaging_Report.xml",                  1, 4, 1, 1, 0, 0, 0, 0, 0, 0, 0},
    {"Discharge_Summary.xml",                          1, 4, 3, 1, 4, 3, 1, 5, 0, 1, 2},
    {"Lab_with_Multiple_Reference_Ranges_C-CDA2.1.xml", 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0},
    {"Panel_of_Vital_Signs_in_Metric_Units_C-CDA2.1.xml", 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0},
    {"Progress_Note.xml",                              1, 4, 4, 1, 3, 2, 2, 14, 2, 0, 0},
    {"Result_with_greater_than_a_specified_value_C-CDA2.1.xml", 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0},
    {"Unstructured_Document_reference.xml",            1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0},
};
/* clang-format on */

START_TEST(corpus_document_counts)
{
    const struct expect_counts *e = &corpus_counts[_i];
    json_t *b = convert_corpus(e->file);

    ck_assert_str_eq(tu_json_str(b, "resourceType"), "Bundle");
    ck_assert_str_eq(tu_json_str(b, "type"), "transaction");
    ck_assert_uint_eq(count_type(b, "DocumentReference"), 1);
    ck_assert_uint_eq(count_type(b, "Patient"), e->patient);
    ck_assert_uint_eq(count_type(b, "Practitioner"), e->practitioner);
    ck_assert_uint_eq(count_type(b, "Organization"), e->organization);
    ck_assert_uint_eq(count_type(b, "Encounter"), e->encounter);
    ck_assert_uint_eq(count_type(b, "Condition"), e->condition);
    ck_assert_uint_eq(count_type(b, "AllergyIntolerance"), e->allergy);
    ck_assert_uint_eq(count_type(b, "MedicationStatement"), e->medication);
    ck_assert_uint_eq(count_type(b, "Observation"), e->observation);
    ck_assert_uint_eq(count_type(b, "DiagnosticReport"), e->report);
    ck_assert_uint_eq(count_type(b, "Procedure"), e->procedure);
    ck_assert_uint_eq(count_type(b, "Immunization"), e->immunization);
    json_decref(b);
}
END_TEST

/* Every "reference" inside `v` that is a urn:uuid names an entry of `urls`. */
static void
assert_refs_resolve(const json_t *v, const json_t *urls)
{
    const char *key;
    json_t *x;
    size_t i;

    if (json_is_object(v)) {
        const char *ref = json_string_value(json_object_get(v, "reference"));

        if (ref != NULL && strncmp(ref, "urn:uuid:", 9) == 0)
            ck_assert_msg(json_object_get(urls, ref) != NULL, "dangling reference %s", ref);
        json_object_foreach((json_t *)v, key, x) assert_refs_resolve(x, urls);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) assert_refs_resolve(x, urls);
    }
}

/* Every entry: urn:uuid fullUrl, PUT conditional on identifier, the
 * resource carries the identifier it is keyed on, no empty arrays, and
 * every urn:uuid reference resolves inside the Bundle. */
START_TEST(corpus_bundle_shape)
{
    json_t *b = convert_corpus(corpus_counts[_i].file);
    size_t i;
    json_t *e;

    json_t *urls = json_object();

    json_array_foreach(json_object_get(b, "entry"), i, e)
    {
        const char *url = tu_json_str(e, "request.url");
        json_t *r = json_object_get(e, "resource");
        json_t *ids = json_object_get(r, "identifier");

        ck_assert_ptr_nonnull(strstr(tu_json_str(e, "fullUrl"), "urn:uuid:"));
        ck_assert_str_eq(tu_json_str(e, "request.method"), "PUT");
        ck_assert_ptr_nonnull(strstr(url, "?identifier="));
        ck_assert(json_array_size(ids) > 0 || json_object_get(r, "masterIdentifier") != NULL);
        ck_assert(ids == NULL || json_array_size(ids) > 0);
        ck_assert_msg(tu_entry_keyed(e), "entry %zu is keyed on an identifier it lacks", i);
        json_object_set_new(urls, tu_json_str(e, "fullUrl"), json_true());
    }
    assert_refs_resolve(b, urls);
    json_decref(urls);
    json_decref(b);
}
END_TEST

START_TEST(ccd_patient_and_vitals)
{
    json_t *b = convert_corpus("CCD.xml");
    json_t *p = nth(b, "Patient", 0);
    json_t *bp = by_code(b, "Observation", "code", "8480-6");
    char num[32];

    ck_assert_str_eq(tu_json_str(p, "name.0.family"), "Jones");
    ck_assert_str_eq(tu_json_str(p, "name.0.given.0"), "Isabella");
    ck_assert_str_eq(tu_json_str(p, "gender"), "female");
    ck_assert_str_eq(tu_json_str(p, "birthDate"), "1950-12-19");
    ck_assert_str_eq(tu_json_str(p, "identifier.0.system"), "urn:oid:1.3.6.1.4.1.16517.1");
    ck_assert_str_eq(tu_json_str(p, "identifier.0.value"), "98765432");
    ck_assert_str_eq(tu_json_str(p, "identifier.1.system"), "http://hl7.org/fhir/sid/us-ssn");
    ck_assert_str_eq(tu_json_str(p, "telecom.0.value"), "+1(444)444-4444");
    ck_assert_str_eq(tu_json_str(p, "telecom.0.use"), "mobile");
    ck_assert_str_eq(tu_json_str(p, "address.0.city"), "Beaverton");
    ck_assert_ptr_nonnull(bp);
    ck_assert_str_eq(number_at(json_object_get(bp, "valueQuantity"), "value", num, sizeof(num)),
                     "120");
    ck_assert_str_eq(tu_json_str(bp, "valueQuantity.code"), "mm[Hg]");
    ck_assert_str_eq(tu_json_str(bp, "category.0.coding.0.code"), "vital-signs");
    ck_assert_str_eq(tu_json_str(bp, "effectiveDateTime"), "2014-10-01T10:30:26-05:00");
    /* a pending result: value nullFlavor NA -> dataAbsentReason */
    ck_assert_str_eq(
        tu_json_str(by_code(b, "Observation", "code", "804-5"), "dataAbsentReason.coding.0.code"),
        "not-applicable");
    /* the practitioner behind the author, NPI as identifier */
    ck_assert_str_eq(tu_json_str(nth(b, "Practitioner", 0), "identifier.0.system"),
                     "http://hl7.org/fhir/sid/us-npi");
    json_decref(b);
}
END_TEST

START_TEST(ccd_document_reference_keeps_original)
{
    size_t len = 0;
    char *xml = tu_read_file(tu_corpus_path("cda/CCD.xml"), &len);
    json_t *b = convert_corpus("CCD.xml");
    json_t *dr = nth(b, "DocumentReference", 0);
    const char *data = tu_json_str(dr, "content.0.attachment.data");
    unsigned char *raw = malloc(strlen(data));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hash[64];
    int n = EVP_DecodeBlock(raw, (const unsigned char *)data, (int)strlen(data));

    ck_assert_str_eq(tu_json_str(dr, "content.0.attachment.contentType"),
                     "application/hl7-cda+xml");
    ck_assert_int_ge(n, (int)len);
    ck_assert_mem_eq(raw, xml, len);
    ck_assert_int_eq(
        json_integer_value(json_object_get(
            json_object_get(json_array_get(json_object_get(dr, "content"), 0), "attachment"),
            "size")),
        (json_int_t)len);
    EVP_Digest(xml, len, md, &mdlen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)hash, md, (int)mdlen);
    ck_assert_str_eq(tu_json_str(dr, "content.0.attachment.hash"), hash);
    ck_assert_str_eq(tu_json_str(dr, "masterIdentifier.value"), "EHRVersion2.0");
    ck_assert_str_eq(tu_json_str(dr, "type.coding.0.code"), "34133-9");
    ck_assert_str_eq(tu_json_str(dr, "subject.reference"), url_of(b, "Patient", 0));
    free(raw);
    free(xml);
    json_decref(b);
}
END_TEST

START_TEST(greater_than_value_is_a_comparator)
{
    json_t *b = convert_corpus("Result_with_greater_than_a_specified_value_C-CDA2.1.xml");
    json_t *o = nth(b, "Observation", 0);
    char num[32];

    /* the file uses xsi:type without declaring xsi: the value survives */
    ck_assert_str_eq(tu_json_str(o, "valueQuantity.comparator"), ">");
    ck_assert_str_eq(number_at(json_object_get(o, "valueQuantity"), "value", num, sizeof(num)),
                     "500");
    ck_assert_str_eq(tu_json_str(o, "valueQuantity.unit"), "mg/dL");
    ck_assert_uint_eq(json_array_size(json_object_get(o, "referenceRange")), 2);
    ck_assert_str_eq(tu_json_str(o, "referenceRange.0.type.coding.0.code"), "normal");
    json_t *low = json_object_get(json_array_get(json_object_get(o, "referenceRange"), 0), "low");
    ck_assert_str_eq(number_at(low, "value", num, sizeof(num)), "80");
    ck_assert_str_eq(tu_json_str(o, "effectiveDateTime"), "2014-03-02T09:08:00-05:00");
    json_decref(b);
}
END_TEST

START_TEST(multiple_reference_ranges)
{
    json_t *b = convert_corpus("Lab_with_Multiple_Reference_Ranges_C-CDA2.1.xml");
    json_t *o = nth(b, "Observation", 0);

    ck_assert_str_eq(tu_json_str(o, "valueString"), "Borderline, equal to 1:80");
    ck_assert_uint_eq(json_array_size(json_object_get(o, "referenceRange")), 3);
    ck_assert_str_eq(tu_json_str(o, "interpretation.0.coding.0.code"), "A");
    ck_assert_str_eq(tu_json_str(o, "interpretation.0.coding.0.system"),
                     "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation");
    ck_assert_str_eq(tu_json_str(nth(b, "DiagnosticReport", 0), "result.0.reference"),
                     url_of(b, "Observation", 0));
    json_decref(b);
}
END_TEST

START_TEST(discharge_summary_entries)
{
    json_t *b = convert_corpus("Discharge_Summary.xml");
    json_t *refused = NULL;
    json_t *r;

    for (size_t i = 0; (r = nth(b, "Immunization", i)) != NULL; i++) {
        if (strcmp(tu_json_str(r, "status"), "not-done") == 0)
            refused = r;
    }
    ck_assert_ptr_nonnull(refused);
    ck_assert_str_eq(tu_json_str(refused, "statusReason.coding.0.code"), "PATOBJ");
    r = by_code(b, "AllergyIntolerance", "code", "2670"); /* codeine */
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(tu_json_str(r, "reaction.0.manifestation.0.coding.0.code"), "56018004");
    ck_assert_str_eq(tu_json_str(r, "reaction.0.severity"), "moderate");
    ck_assert_str_eq(tu_json_str(r, "clinicalStatus.coding.0.code"), "active");
    r = nth(b, "MedicationStatement", 0);
    ck_assert_str_eq(tu_json_str(r, "medicationCodeableConcept.coding.0.code"), "197806");
    /* QID: institutionSpecified q6h is 4 a day, not every 6 hours (the
     * document's own comment says so) */
    ck_assert_str_eq(tu_json_str(r, "dosage.0.timing.repeat.periodUnit"), "d");
    ck_assert_int_eq(json_integer_value(tu_json_at(r, "dosage.0.timing.repeat.frequency")), 4);
    r = by_code(b, "Condition", "code", "74400008"); /* admission diagnosis: appendicitis */
    ck_assert_str_eq(tu_json_str(r, "category.0.coding.0.code"), "encounter-diagnosis");
    ck_assert_str_eq(tu_json_str(r, "encounter.reference"), url_of(b, "Encounter", 0));
    ck_assert_str_eq(tu_json_str(nth(b, "Encounter", 0), "status"), "finished");
    ck_assert_str_eq(tu_json_str(nth(b, "Procedure", 0), "code.coding.0.code"), "6025007");
    json_decref(b);
}
END_TEST

START_TEST(unstructured_bodies)
{
    json_t *b = convert_corpus("CDA_with_Embedded_PDF.xml");
    json_t *dr = nth(b, "DocumentReference", 0);

    ck_assert_str_eq(tu_json_str(dr, "content.1.attachment.contentType"), "application/pdf");
    ck_assert(strncmp(tu_json_str(dr, "content.1.attachment.data"), "JVBERi0", 7) == 0);
    json_decref(b);
    b = convert_corpus("CDA_Embedded_Text_Plain_Surgical_Consult.xml");
    dr = nth(b, "DocumentReference", 0);
    ck_assert_str_eq(tu_json_str(dr, "content.1.attachment.contentType"), "text/plain");
    ck_assert(strncmp(tu_json_str(dr, "content.1.attachment.data"), "TE9DQUwgVElUTEU6", 16) == 0);
    json_decref(b);
    b = convert_corpus("Unstructured_Document_reference.xml");
    ck_assert_str_eq(tu_json_str(nth(b, "DocumentReference", 0), "content.1.attachment.url"),
                     "UD_sample.pdf");
    json_decref(b);
}
END_TEST

START_TEST(same_document_same_bundle)
{
    json_t *a = convert_corpus("Progress_Note.xml");
    json_t *b = convert_corpus("Progress_Note.xml");

    ck_assert(fhir_json_equal(a, b));
    json_decref(a);
    json_decref(b);
}
END_TEST

/* ---------------------------------------------- Chinese WS/T 500 style */

START_TEST(chinese_document)
{
    json_t *b = convert_file("test/golden/cda/wst500_discharge_zh/input.xml", NULL, NULL);
    json_t *p = nth(b, "Patient", 0);
    json_t *c = nth(b, "Condition", 0);

    ck_assert_str_eq(tu_json_str(p, "name.0.text"), "张三");
    ck_assert_str_eq(tu_json_str(p, "gender"), "male");
    ck_assert_str_eq(tu_json_str(p, "identifier.1.system"), "urn:oid:2.16.156.10011.1.3");
    ck_assert_str_eq(tu_json_str(p, "identifier.1.value"), "210102198001011232");
    ck_assert_str_eq(tu_json_str(p, "address.0.city"), "沈阳市");
    ck_assert_str_eq(tu_json_str(p, "address.0.district"), "和平区");
    ck_assert_str_eq(tu_json_str(p, "maritalStatus.coding.0.system"),
                     "urn:oid:2.16.156.10011.2.3.3.5");
    ck_assert_str_eq(tu_json_str(c, "code.coding.0.system"), "urn:oid:2.16.156.10011.2.3.3.11");
    ck_assert_str_eq(tu_json_str(c, "code.coding.0.display"), "肺炎");
    ck_assert_str_eq(tu_json_str(c, "category.0.coding.0.code"), "encounter-diagnosis");
    ck_assert_str_eq(tu_json_str(nth(b, "AllergyIntolerance", 0), "code.text"), "青霉素");
    ck_assert_str_eq(
        tu_json_str(nth(b, "MedicationStatement", 0), "medicationCodeableConcept.coding.0.display"),
        "阿莫西林胶囊");
    ck_assert_str_eq(tu_json_str(nth(b, "Encounter", 0), "class.code"), "IMP");
    ck_assert_str_eq(tu_json_str(nth(b, "Encounter", 0), "location.0.location.display"),
                     "呼吸内科 3病区");
    ck_assert_str_eq(tu_json_str(nth(b, "Observation", 0), "effectiveDateTime"),
                     "2024-03-15T08:00:00+08:00");
    ck_assert_str_eq(tu_json_str(nth(b, "DocumentReference", 0), "content.0.attachment.language"),
                     "zh-CN");
    ck_assert_uint_eq(count_type(b, "Procedure"), 1);
    ck_assert_uint_eq(count_type(b, "Immunization"), 1);
    ck_assert_uint_eq(count_type(b, "Organization"), 1); /* one hospital, met four times */
    json_decref(b);
}
END_TEST

/* ---------------------------------------------------- hostile input */

static void
assert_refused(const char *xml, int want_rc, const char *issue)
{
    struct base_err err = {0};
    int rc;
    json_t *out = convert_text(xml, NULL, NULL, NULL, &err, &rc);

    ck_assert_int_eq(rc, want_rc);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err.issue_code, issue);
}

START_TEST(refuses_billion_laughs)
{
    assert_refused("<?xml version=\"1.0\"?>\n"
                   "<!DOCTYPE ClinicalDocument [\n"
                   " <!ENTITY lol \"lol\">\n"
                   " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
                   " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
                   " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
                   "]>\n"
                   "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>&lol3;</title>"
                   "</ClinicalDocument>",
                   BASE_E_INVALID, "security");
}
END_TEST

START_TEST(refuses_external_entity)
{
    assert_refused("<?xml version=\"1.0\"?>\n"
                   "<!DOCTYPE ClinicalDocument [\n"
                   " <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n"
                   "]>\n"
                   "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>&xxe;</title>"
                   "</ClinicalDocument>",
                   BASE_E_INVALID, "security");
}
END_TEST

START_TEST(refuses_parameter_entity_and_external_dtd)
{
    assert_refused(
        "<!DOCTYPE ClinicalDocument [ <!ENTITY % p SYSTEM \"http://127.0.0.1:1/x\"> %p; ]>"
        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>",
        BASE_E_INVALID, "security");
    assert_refused("<!DOCTYPE ClinicalDocument SYSTEM \"http://127.0.0.1:1/cda.dtd\">"
                   "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>",
                   BASE_E_INVALID, "security");
}
END_TEST

START_TEST(plain_doctype_is_fine)
{
    struct base_err err = {0};
    int rc;
    json_t *out = convert_text("<!DOCTYPE ClinicalDocument><ClinicalDocument "
                               "xmlns=\"urn:hl7-org:v3\"><id root=\"1.2.3\" extension=\"d1\"/>"
                               "</ClinicalDocument>",
                               NULL, NULL, NULL, &err, &rc);

    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_uint_eq(count_type(out, "DocumentReference"), 1);
    json_decref(out);
}
END_TEST

START_TEST(rejects_malformed_xml_with_line)
{
    struct base_err err = {0};
    int rc;
    json_t *out = convert_text("<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n<title>x</titel>\n"
                               "</ClinicalDocument>",
                               NULL, NULL, NULL, &err, &rc);

    ck_assert_int_eq(rc, BASE_E_PARSE);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err.where, "line 2");
    /* the message never quotes the input */
    ck_assert_ptr_null(strstr(err.msg, "titel"));
}
END_TEST

START_TEST(rejects_foreign_root)
{
    assert_refused("<html/>", BASE_E_INVALID, "structure");
    assert_refused("<ClinicalDocument xmlns=\"urn:example\"/>", BASE_E_INVALID, "structure");
    assert_refused("", BASE_E_PARSE, "structure");
}
END_TEST

START_TEST(limits_depth_nodes_size_entries)
{
    struct cda_limits lim = cda_limits_default();
    struct base_err err = {0};
    char deep[8192];
    size_t o = (size_t)snprintf(deep, sizeof(deep), "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">");
    int rc;
    json_t *out;

    for (int i = 0; i < 70; i++)
        o += (size_t)snprintf(deep + o, sizeof(deep) - o, "<a>");
    for (int i = 0; i < 70; i++)
        o += (size_t)snprintf(deep + o, sizeof(deep) - o, "</a>");
    snprintf(deep + o, sizeof(deep) - o, "</ClinicalDocument>");
    out = convert_text(deep, &lim, NULL, NULL, &err, &rc);
    ck_assert_int_eq(rc, BASE_E_LIMIT);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(strstr(err.msg, "deeper"));

    lim = cda_limits_default();
    lim.max_nodes = 50;
    memset(&err, 0, sizeof(err));
    size_t len = 0;
    char *xml = tu_read_file(tu_corpus_path("cda/CCD.xml"), &len);
    ck_assert_int_eq(cda_to_bundle(xml, len, &lim, NULL, &out, NULL, &err), BASE_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "nodes"));

    lim = cda_limits_default();
    lim.max_doc = 1000;
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(cda_to_bundle(xml, len, &lim, NULL, &out, NULL, &err), BASE_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "bytes"));

    lim = cda_limits_default();
    lim.max_entries = 5;
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(cda_to_bundle(xml, len, &lim, NULL, &out, NULL, &err), BASE_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "entries"));
    free(xml);
}
END_TEST

/* ---------------------------------------------------------- options */

static const char fragment[] =
    "<section><code code=\"11450-4\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
    "<entry><observation classCode=\"OBS\" moodCode=\"EVN\">"
    "<id root=\"1.2.3.4\" extension=\"p1\"/>"
    "<effectiveTime><low value=\"20200102101500\"/></effectiveTime>"
    "<value xsi:type=\"CD\" code=\"L-38\" codeSystem=\"1.2.3.99\" displayName=\"local\"/>"
    "</observation></entry></section>";

static bool
map_local(void *ctx, const char *system, const char *code, struct adapter_coding *out)
{
    (void)ctx;
    if (strcmp(system, "urn:oid:1.2.3.99") != 0 || strcmp(code, "L-38") != 0)
        return false;
    out->system = "http://snomed.info/sct";
    out->code = "38341003";
    out->display = "Hypertensive disorder";
    return true;
}

START_TEST(fragment_needs_patient_ref)
{
    struct base_err err = {0};
    json_t *warnings = NULL;
    int rc;
    json_t *out = convert_text(fragment, NULL, NULL, &warnings, &err, &rc);

    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_uint_eq(count_type(out, "Condition"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 1);
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.code"), "required");
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.expression.0"), "/section/entry/observation");
    json_decref(out);
    json_decref(warnings);
}
END_TEST

START_TEST(options_patient_tz_codemap)
{
    struct cda_options opt = {
        .default_tz = "+08:00", .patient_ref = "Patient/42", .codemap = {map_local, NULL}};
    struct base_err err = {0};
    int rc;
    json_t *out = convert_text(fragment, NULL, &opt, NULL, &err, &rc);
    json_t *c = nth(out, "Condition", 0);

    ck_assert_int_eq(rc, BASE_OK);
    ck_assert_str_eq(tu_json_str(c, "subject.reference"), "Patient/42");
    ck_assert_str_eq(tu_json_str(c, "onsetDateTime"), "2020-01-02T10:15:00+08:00");
    ck_assert_str_eq(tu_json_str(c, "code.coding.0.code"), "L-38");
    ck_assert_str_eq(tu_json_str(c, "code.coding.1.system"), "http://snomed.info/sct");
    ck_assert_str_eq(tu_json_str(c, "code.coding.1.code"), "38341003");
    json_decref(out);
    /* without a zone the time is cut to its date, never invented */
    opt.default_tz = NULL;
    out = convert_text(fragment, NULL, &opt, NULL, &err, &rc);
    ck_assert_str_eq(tu_json_str(nth(out, "Condition", 0), "onsetDateTime"), "2020-01-02");
    json_decref(out);
}
END_TEST

START_TEST(bad_values_are_warnings)
{
    json_t *warnings = NULL;
    json_t *b =
        convert_file(tu_corpus_path("cda/Result_with_greater_than_a_specified_value_C-CDA2.1.xml"),
                     NULL, &warnings);

    /* the organizer's effectiveTime "2014030200908-0500" is not a timestamp */
    ck_assert_uint_eq(json_array_size(json_object_get(warnings, "issue")), 2);
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.severity"), "warning");
    ck_assert_str_eq(tu_json_str(warnings, "issue.0.expression.0"),
                     "/section/entry/organizer/effectiveTime/low");
    /* ... so the report takes its result's time (DiagnosticReport.effective) */
    ck_assert_str_eq(tu_json_str(nth(b, "DiagnosticReport", 0), "effectiveDateTime"),
                     "2014-03-02T09:08:00-05:00");
    json_decref(warnings);
    json_decref(b);
}
END_TEST

/* -------------------------------------------------------------- CLI */

START_TEST(cli_converts_and_refuses)
{
    const char *ok[] = {tu_bin("fhirgate"), "convert", "--from", "cda",
                  "test/golden/cda/wst500_discharge_zh/input.xml", NULL};
    const char *bad[] = {tu_bin("fhirgate"), "convert", "--from", "cda",
                   "test/golden/cda/billion_laughs/input.xml", NULL};
    struct tu_run r;
    json_t *b = NULL;

    ck_assert_int_eq(tu_run(ok, &r), 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(fhir_json_parse(r.out, r.out_len, NULL, &b, NULL), BASE_OK);
    ck_assert_str_eq(tu_json_str(b, "type"), "transaction");
    ck_assert_uint_eq(count_type(b, "Patient"), 1);
    json_decref(b);
    tu_run_free(&r);
    ck_assert_int_eq(tu_run(bad, &r), 0);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    ck_assert_ptr_nonnull(strstr(r.err, "entities or an external DTD, which are refused"));
    tu_run_free(&r);
}
END_TEST

/* ----------------------------------------------------------- golden */

static int
golden_cda(const char *dir, const char *data, size_t len, json_t **out, struct base_err *err)
{
    (void)dir;
    return cda_to_bundle(data, len, NULL, NULL, out, NULL, err);
}

START_TEST(golden_cases)
{
    size_t cases = 0;

    ck_assert_int_eq(tu_golden_run("cda", golden_cda, &cases), 0);
    ck_assert_uint_ge(cases, 3);
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *cda_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("cda");
    TCase *corpus = tcase_create("corpus");
    TCase *hostile = tcase_create("hostile");
    TCase *opts = tcase_create("options");

    tcase_set_timeout(corpus, 60);
    tcase_add_loop_test(corpus, corpus_document_counts, 0, (int)BASE_ARRAY_LEN(corpus_counts));
    tcase_add_loop_test(corpus, corpus_bundle_shape, 0, (int)BASE_ARRAY_LEN(corpus_counts));
    tcase_add_test(corpus, ccd_patient_and_vitals);
    tcase_add_test(corpus, ccd_document_reference_keeps_original);
    tcase_add_test(corpus, greater_than_value_is_a_comparator);
    tcase_add_test(corpus, multiple_reference_ranges);
    tcase_add_test(corpus, discharge_summary_entries);
    tcase_add_test(corpus, unstructured_bodies);
    tcase_add_test(corpus, same_document_same_bundle);
    tcase_add_test(corpus, chinese_document);
    tcase_add_test(corpus, golden_cases);
    tcase_add_test(corpus, cli_converts_and_refuses);
    tcase_add_test(hostile, refuses_billion_laughs);
    tcase_add_test(hostile, refuses_external_entity);
    tcase_add_test(hostile, refuses_parameter_entity_and_external_dtd);
    tcase_add_test(hostile, plain_doctype_is_fine);
    tcase_add_test(hostile, rejects_malformed_xml_with_line);
    tcase_add_test(hostile, rejects_foreign_root);
    tcase_add_test(hostile, limits_depth_nodes_size_entries);
    tcase_add_test(opts, fragment_needs_patient_ref);
    tcase_add_test(opts, options_patient_tz_codemap);
    tcase_add_test(opts, bad_values_are_warnings);
    suite_add_tcase(s, corpus);
    suite_add_tcase(s, hostile);
    suite_add_tcase(s, opts);
    return s;
}
