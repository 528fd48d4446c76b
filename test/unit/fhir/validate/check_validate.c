/*
 * Hand-written validator cases: each invalid input must give exactly one
 * error, with the expected issue code at the expected location; each valid
 * input none.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/validate/fhir_validate.h"

static json_t *
parse(const char *text)
{
    json_t *v = NULL;
    struct base_err err = {0};

    ck_assert_msg(fhir_json_parse(text, strlen(text), NULL, &v, &err) == BASE_OK,
                  "test input does not parse: %s at %s", err.msg, err.where);
    return v;
}

static const char *
issue_str(const json_t *is, const char *key)
{
    if (strcmp(key, "expression") == 0) {
        const char *e = json_string_value(json_array_get(json_object_get(is, "expression"), 0));

        return e != NULL ? e : "";
    }
    return json_string_value(json_object_get(is, key));
}

static char *
describe(const json_t *oo)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    fhir_outcome_print(f, "", oo);
    fclose(f);
    return text;
}

/* Validate `text`; return the OperationOutcome and fill *r. */
static json_t *
validate(const char *text, const struct fhir_validate_opts *opts, struct fhir_validate_result *r)
{
    json_t *v = parse(text);
    json_t *oo = fhir_outcome_new();
    struct base_err err = {0};
    int rc = fhir_validate(v, opts, oo, r, &err);

    ck_assert_int_eq(rc, r->errors > 0 ? BASE_E_INVALID : BASE_OK);
    ck_assert_uint_eq(r->errors + r->warnings, json_array_size(json_object_get(oo, "issue")));
    if (r->errors > 0) {
        /* err describes the first error */
        const json_t *first = json_array_get(json_object_get(oo, "issue"), 0);

        ck_assert_str_eq(err.issue_code, issue_str(first, "code"));
        ck_assert_str_eq(err.msg, issue_str(first, "diagnostics"));
    }
    if (opts == NULL)
        ck_assert_uint_eq(fhir_validate_error_count(v), r->errors);
    json_decref(v);
    /* the text entry point (one-pass fast path, tree fallback) agrees */
    {
        json_t *oo2 = fhir_outcome_new();
        struct fhir_validate_result r2;
        char *a;
        char *b;

        ck_assert_int_eq(fhir_validate_json(text, strlen(text), opts, oo2, &r2, NULL), rc);
        a = describe(oo);
        b = describe(oo2);
        ck_assert_msg(strcmp(a, b) == 0, "tree:\n%s\ntext:\n%s", a, b);
        ck_assert_uint_eq(r2.errors, r->errors);
        ck_assert_uint_eq(r2.warnings, r->warnings);
        ck_assert_uint_eq(r2.issues, r->issues);
        ck_assert_int_eq(r2.truncated, r->truncated);
        free(a);
        free(b);
        json_decref(oo2);
    }
    return oo;
}

struct bad {
    const char *json;
    const char *code;
    const char *where;
};

#define P(body) "{\"resourceType\":\"Patient\"," body "}"
#define O(body)                                                                                    \
    "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"t\"}," body "}"
#define DIV                                                                                        \
    "\"text\":{\"status\":\"generated\",\"div\":\"<div "                                           \
    "xmlns=\\\"http://www.w3.org/1999/xhtml\\\">"

static const struct bad bad_cases[] = {
    /* resourceType */
    {"{\"id\":\"x\"}", "required", "resourceType"},
    {"{\"resourceType\":\"Patientx\"}", "structure", "resourceType"},
    {"{\"resourceType\":\"Resource\"}", "structure", "resourceType"},
    {"{\"resourceType\":\"HumanName\"}", "structure", "resourceType"},
    {"{\"resourceType\":7}", "structure", "resourceType"},
    {"[1]", "structure", ""},
    /* unknown elements */
    {P("\"foo\":1"), "structure", "Patient.foo"},
    {P("\"name\":[{\"familyName\":\"x\"}]"), "structure", "Patient.name[0].familyName"},
    {P("\"_foo\":{}"), "structure", "Patient._foo"},
    {P("\"_name\":[{}]"), "structure", "Patient._name"},
    {P("\"name\":[{\"_id\":{\"extension\":[{\"url\":\"u\",\"valueString\":\"x\"}]}}]"), "structure",
     "Patient.name[0]._id"},
    {P("\"valueString\":\"x\""), "structure", "Patient.valueString"},
    {P("\"name\":[{\"resourceType\":\"HumanName\",\"family\":\"x\"}]"), "structure",
     "Patient.name[0].resourceType"},
    {P("\"\\u00e9l\\u00e9ment\":1"), "structure", "Patient.(invalid name)"},
    /* JSON types */
    {P("\"active\":\"true\""), "structure", "Patient.active"},
    {P("\"active\":1"), "structure", "Patient.active"},
    {P("\"birthDate\":20150207"), "structure", "Patient.birthDate"},
    {P("\"gender\":{\"code\":\"male\"}"), "structure", "Patient.gender"},
    {P("\"maritalStatus\":\"M\""), "structure", "Patient.maritalStatus"},
    {P("\"multipleBirthInteger\":\"2\""), "structure", "Patient.multipleBirthInteger"},
    {O("\"valueQuantity\":{\"value\":\"1.5\"}"), "structure", "Observation.valueQuantity.value"},
    {P("\"text\":{\"status\":\"generated\",\"div\":5}"), "structure", "Patient.text.div"},
    /* arrays versus single values */
    {P("\"name\":{\"family\":\"x\"}"), "structure", "Patient.name"},
    {P("\"gender\":[\"male\"]"), "structure", "Patient.gender"},
    {P("\"name\":[]"), "structure", "Patient.name"},
    {P("\"name\":[{\"given\":\"x\"}]"), "structure", "Patient.name[0].given"},
    {P("\"birthDate\":null"), "structure", "Patient.birthDate"},
    {P("\"name\":[null]"), "structure", "Patient.name[0]"},
    {P("\"name\":[{}]"), "structure", "Patient.name[0]"},
    {P("\"name\":[{\"id\":\"a\"}]"), "invariant", "Patient.name[0]"},
    /* escapes that decode to whitespace in URIs and codes (the text path's
     * shortcut for them, 16 bytes at a time, assumed raw JSON text, which
     * has none; short strings never took it) */
    {P("\"identifier\":[{\"system\":\"http://x/a\\tb\"}]"), "value",
     "Patient.identifier[0].system"},
    {P("\"identifier\":[{\"system\":\"http://terminology.example.org/a\\tb\"}]"), "value",
     "Patient.identifier[0].system"},
    {P("\"identifier\":[{\"system\":\"http://terminology.example.org/a\\nb\"}]"), "value",
     "Patient.identifier[0].system"},
    {P("\"meta\":{\"profile\":[\"http://example.org/fhir/p\\r\"]}"), "value",
     "Patient.meta.profile[0]"},
    {P("\"photo\":[{\"url\":\"\\thttp://example.org/fhir/p\"}]"), "value", "Patient.photo[0].url"},
    {P("\"maritalStatus\":{\"coding\":[{\"code\":\"abcdefghijklmnop\\t\\tb\"}]}"), "value",
     "Patient.maritalStatus.coding[0].code"},
    {P("\"maritalStatus\":{\"coding\":[{\"code\":\"abcdefghijklmnopq\\n\"}]}"), "value",
     "Patient.maritalStatus.coding[0].code"},
    /* primitive formats */
    {P("\"id\":\"a b\""), "value", "Patient.id"},
    {P("\"birthDate\":\"2015-02-29\""), "value", "Patient.birthDate"},
    {P("\"birthDate\":\"\""), "value", "Patient.birthDate"},
    {P("\"deceasedDateTime\":\"2015-02-07T13:28:17\""), "value", "Patient.deceasedDateTime"},
    {P("\"multipleBirthInteger\":2147483648"), "value", "Patient.multipleBirthInteger"},
    {P("\"multipleBirthInteger\":1.0"), "value", "Patient.multipleBirthInteger"},
    {P("\"multipleBirthInteger\":-0.0"), "value", "Patient.multipleBirthInteger"},
    {P("\"photo\":[{\"size\":-1}]"), "value", "Patient.photo[0].size"},
    {P("\"photo\":[{\"contentType\":\"image/png\",\"data\":\"abc\"}]"), "value",
     "Patient.photo[0].data"},
    {P("\"photo\":[{\"url\":\"http://a b\"}]"), "value", "Patient.photo[0].url"},
    {P("\"name\":[{\"given\":[\"a\",\"\"]}]"), "value", "Patient.name[0].given[1]"},
    {P("\"meta\":{\"lastUpdated\":\"2015-02-07\"}"), "value", "Patient.meta.lastUpdated"},
    {P("\"identifier\":[{\"system\":\"urn:oid:1.2.x\"}]"), "value", "Patient.identifier[0].system"},
    {O("\"valueTime\":\"24:00:00\""), "value", "Observation.valueTime"},
    {O("\"component\":[{\"code\":{\"text\":\"c\"},\"valueInteger\":3000000000}]"), "value",
     "Observation.component[0].valueInteger"},
    {O("\"valueSampledData\":{\"origin\":{\"value\":1},\"period\":1,\"dimensions\":0,"
       "\"data\":\"1 2\"}"),
     "value", "Observation.valueSampledData.dimensions"},
    /* narrative */
    {P(DIV "<script>x</script></div>\"}"), "invariant", "Patient.text.div"},
    {P(DIV "x\"}"), "value", "Patient.text.div"},
    {P(DIV "</div>\"}"), "invariant", "Patient.text.div"},
    {P(DIV "<p>a<ul><li>b</li></ul></p></div>\"}"), "value", "Patient.text.div"},
    {P("\"text\":{\"status\":\"generated\"}"), "required", "Patient.text.div"},
    {P("\"text\":{\"status\":\"made-up\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">"
       "x</div>\"}"),
     "code-invalid", "Patient.text.status"},
    /* the "_name" form */
    {P("\"_birthDate\":{\"id\":\"x\"}"), "invariant", "Patient.birthDate"},
    {P("\"_birthDate\":[{\"extension\":[{\"url\":\"u\",\"valueCode\":\"x\"}]}]"), "structure",
     "Patient.birthDate"},
    {P("\"_birthDate\":\"x\""), "structure", "Patient.birthDate"},
    {P("\"_birthDate\":{\"extension\":[{\"url\":\"u\"}]}"), "invariant",
     "Patient.birthDate.extension[0]"},
    {P("\"name\":[{\"given\":[\"a\",null]}]"), "structure", "Patient.name[0].given[1]"},
    {P("\"name\":[{\"given\":[\"a\",null],\"_given\":[null,null]}]"), "structure",
     "Patient.name[0].given[1]"},
    {P("\"name\":[{\"given\":[\"a\",\"b\"],\"_given\":[null]}]"), "structure",
     "Patient.name[0].given"},
    {P("\"name\":[{\"_given\":{\"extension\":[{\"url\":\"u\",\"valueCode\":\"x\"}]}}]"),
     "structure", "Patient.name[0].given"},
    {P("\"name\":[{\"_given\":[null]}]"), "structure", "Patient.name[0].given[0]"},
    {P("\"_gender\":{\"extension\":[{\"url\":\"u\",\"valueCode\":\"x\"}],\"foo\":1}"), "structure",
     "Patient.gender.foo"},
    /* choice groups */
    {P("\"deceasedBoolean\":true,\"deceasedDateTime\":\"2015\""), "structure",
     "Patient.deceasedDateTime"},
    {P("\"deceasedBoolean\":true,\"_deceasedDateTime\":{\"extension\":[{\"url\":\"u\","
       "\"valueCode\":\"x\"}]}"),
     "structure", "Patient._deceasedDateTime"},
    {P("\"deceasedString\":\"x\""), "structure", "Patient.deceasedString"},
    {P("\"extension\":[{\"url\":\"u\",\"valueString\":\"a\",\"valueCode\":\"b\"}]"), "structure",
     "Patient.extension[0].valueCode"},
    /* required elements */
    {"{\"resourceType\":\"Observation\",\"code\":{\"text\":\"t\"}}", "required",
     "Observation.status"},
    {"{\"resourceType\":\"Observation\",\"status\":\"final\"}", "required", "Observation.code"},
    {P("\"link\":[{\"type\":\"seealso\"}]"), "required", "Patient.link[0].other"},
    {P("\"extension\":[{\"valueString\":\"a\"}]"), "required", "Patient.extension[0].url"},
    {"{\"resourceType\":\"MedicationAdministration\",\"status\":\"completed\","
     "\"medicationCodeableConcept\":{\"text\":\"m\"},\"subject\":{\"display\":\"p\"}}",
     "required", "MedicationAdministration.effective[x]"},
    /* required bindings */
    {P("\"gender\":\"mal\""), "code-invalid", "Patient.gender"},
    {O("\"valueQuantity\":{\"value\":1,\"comparator\":\"<<\"}"), "code-invalid",
     "Observation.valueQuantity.comparator"},
    {"{\"resourceType\":\"Observation\",\"status\":\"done\",\"code\":{\"text\":\"t\"}}",
     "code-invalid", "Observation.status"},
    {P("\"communication\":[{\"language\":{\"text\":\"en\"}}],\"contact\":[{\"name\":{\"text\":"
       "\"n\"},\"gender\":\"x\"}]"),
     "code-invalid", "Patient.contact[0].gender"},
    {"{\"resourceType\":\"Composition\",\"status\":\"final\",\"type\":{\"text\":\"t\"},"
     "\"date\":\"2015\",\"author\":[{\"display\":\"a\"}],\"title\":\"t\","
     "\"confidentiality\":\"Q\"}",
     "code-invalid", "Composition.confidentiality"},
    {"{\"resourceType\":\"Binary\",\"contentType\":\"not a mime type\"}", "code-invalid",
     "Binary.contentType"},
    {P("\"photo\":[{\"contentType\":\"image\"}]"), "code-invalid", "Patient.photo[0].contentType"},
    /* the xml/json shorthands are TestScript's and CapabilityStatement.format's only */
    {P("\"photo\":[{\"contentType\":\"json\"}]"), "code-invalid", "Patient.photo[0].contentType"},
    {"{\"resourceType\":\"Binary\",\"contentType\":\"xml\"}", "code-invalid", "Binary.contentType"},
    {"{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"date\":\"2015\","
     "\"kind\":\"instance\",\"fhirVersion\":\"4.0.1\",\"format\":[\"json\"],\"patchFormat\":"
     "[\"json\"],\"rest\":[{\"mode\":\"server\"}]}",
     "code-invalid", "CapabilityStatement.patchFormat[0]"},
    /* references */
    {P("\"managingOrganization\":{\"reference\":\"Organization/a b\"}"), "value",
     "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"Organisation/1\"}"), "value",
     "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"Organization\"}"), "value",
     "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"Organization/1/_history/\"}"), "value",
     "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"Organization/\"}"), "value",
     "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"Organization//1\"}"), "value",
     "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"Organization/1/x/2\"}"), "value",
     "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"Organization/1/_history/2/3\"}"), "value",
     "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"urn:uuid:123\"}"), "value",
     "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"urn:uuid:c757873d-ec9a-4326-a141-"
       "556f4323952g\"}"),
     "value", "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"urn:uuid:c757873d_ec9a-4326-a141-"
       "556f43239520\"}"),
     "value", "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"urn:oid:1.2.x\"}"), "value",
     "Patient.managingOrganization.reference"},
    {P("\"managingOrganization\":{\"reference\":\"#org1\"}"), "invariant",
     "Patient.managingOrganization.reference"},
    /* contained resources */
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\",\"foo\":1}],"
       "\"managingOrganization\":{\"reference\":\"#o\"}"),
     "structure", "Patient.contained[0].foo"},
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\",\"contained\":["
       "{\"resourceType\":\"Organization\",\"id\":\"p\"}]}],"
       "\"managingOrganization\":{\"reference\":\"#o\"}"),
     "invariant", "Patient.contained[0].contained"},
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\",\"meta\":{"
       "\"versionId\":\"1\"}}],\"managingOrganization\":{\"reference\":\"#o\"}"),
     "invariant", "Patient.contained[0].meta"},
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\",\"meta\":{"
       "\"security\":[{\"code\":\"R\"}]}}],\"managingOrganization\":{\"reference\":\"#o\"}"),
     "invariant", "Patient.contained[0].meta"},
    {P("\"contained\":[{\"id\":\"o\"}]"), "required", "Patient.contained[0].resourceType"},
    /* Bundles and Parameters validate what they carry */
    {"{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":"
     "{\"resourceType\":\"Patient\",\"gender\":\"x\"}}]}",
     "code-invalid", "Bundle.entry[0].resource.gender"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":"
     "{\"resourceType\":\"Patient\"}},{\"resource\":{\"resourceType\":\"Nope\"}}]}",
     "structure", "Bundle.entry[1].resource.resourceType"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}", NULL, NULL},
    {"{\"resourceType\":\"Bundle\",\"type\":\"everything\"}", "code-invalid", "Bundle.type"},
    {"{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"p\",\"resource\":"
     "{\"resourceType\":\"Patient\",\"birthDate\":\"2015-1\"}}]}",
     "value", "Parameters.parameter[0].resource.birthDate"},
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":"
     "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"c\"},"
     "\"subject\":{\"reference\":\"Patient?identifier=x\"}}}]}",
     NULL, NULL}, /* a warning only (conditional reference outside a transaction) */
    /* a contained Bundle does not make its entries part of a transaction */
    {P("\"contained\":[{\"resourceType\":\"Bundle\",\"id\":\"b\",\"type\":\"transaction\","
       "\"entry\":[{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\","
       "\"code\":{\"text\":\"c\"},\"subject\":{\"reference\":\"Patient?x=1\"}},"
       "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}],"
       "\"link\":[{\"type\":\"seealso\",\"other\":{\"reference\":\"#b\"}}]"),
     NULL, NULL},
    /* other invariants */
    {P("\"extension\":[{\"url\":\"u\"}]"), "invariant", "Patient.extension[0]"},
    {P("\"extension\":[{\"url\":\"u\",\"valueString\":\"a\",\"extension\":[{\"url\":\"v\","
       "\"valueString\":\"b\"}]}]"),
     "invariant", "Patient.extension[0]"},
    {"{\"resourceType\":\"MedicationRequest\",\"status\":\"active\",\"intent\":\"order\","
     "\"medicationCodeableConcept\":{\"text\":\"m\"},\"subject\":{\"display\":\"p\"},"
     "\"dosageInstruction\":[{\"doseAndRate\":[{\"doseQuantity\":{\"value\":1,"
     "\"comparator\":\"<\"}}]}]}",
     NULL, NULL}, /* R4 types the element Quantity (SimpleQuantity is a profile): valid */
    /* header-level adjudication reuses ClaimResponse.item.adjudication (contentReference),
     * whose category is required */
    {"{\"resourceType\":\"ClaimResponse\",\"status\":\"active\",\"type\":{\"text\":\"t\"},"
     "\"use\":\"claim\",\"patient\":{\"display\":\"p\"},\"created\":\"2014\","
     "\"insurer\":{\"display\":\"i\"},\"outcome\":\"complete\","
     "\"adjudication\":[{\"amount\":{\"value\":1,\"currency\":\"USD\"}}]}",
     "required", "ClaimResponse.adjudication[0].category"},
};

START_TEST(bad_case)
{
    const struct bad *bc = &bad_cases[_i];
    struct fhir_validate_result r;
    json_t *oo = validate(bc->json, NULL, &r);
    const json_t *first = json_array_get(json_object_get(oo, "issue"), 0);
    char *all = describe(oo);

    if (bc->code == NULL) {
        ck_assert_msg(r.errors == 0, "case %d %s: expected valid, got:\n%s", _i, bc->json, all);
    } else {
        ck_assert_msg(r.errors == 1, "case %d %s: expected one error, got %zu:\n%s", _i, bc->json,
                      r.errors, all);
        ck_assert_str_eq(issue_str(first, "severity"), "error");
        ck_assert_msg(strcmp(issue_str(first, "code"), bc->code) == 0 &&
                          strcmp(issue_str(first, "expression"), bc->where) == 0,
                      "case %d: want %s at %s, got:\n%s", _i, bc->code, bc->where, all);
    }
    free(all);
    json_decref(oo);
}
END_TEST

static const char *const good_cases[] = {
    "{\"resourceType\":\"Patient\"}",
    /* escaped solidus (PHP's json_encode writes it) and a code's single
     * inner whitespace, escaped */
    P("\"identifier\":[{\"system\":\"http:\\/\\/example.org\\/fhir\\/ids\"}],"
      "\"maritalStatus\":{\"coding\":[{\"code\":\"abcdefghijklmnop\\tb\"}]}"),
    P("\"id\":\"example\",\"active\":true,\"gender\":\"female\",\"birthDate\":\"1974-12\""),
    P("\"_birthDate\":{\"extension\":[{\"url\":\"http://x\",\"valueDateTime\":"
      "\"1974-12-25T14:35:45-05:00\"}]}"),
    P("\"_id\":{\"extension\":[{\"url\":\"u\",\"valueBoolean\":true}]}"),
    P("\"name\":[{\"given\":[\"a\",null,\"c\"],\"_given\":[null,{\"extension\":[{\"url\":\"u\","
      "\"valueCode\":\"x\"}]},{\"id\":\"g3\"}]}]"),
    P("\"name\":[{\"_given\":[{\"extension\":[{\"url\":\"u\",\"valueCode\":\"x\"}]}]}]"),
    P("\"birthDate\":\"1974-12-25\",\"_birthDate\":{\"id\":\"b\"}"),
    P("\"deceasedDateTime\":\"2015\",\"_deceasedDateTime\":{\"id\":\"d\"}"),
    P("\"multipleBirthInteger\":-2147483648"),
    P("\"multipleBirthInteger\":-0"),
    P(DIV "<p>Hi <b>there</b></p></div>\"},\"extension\":[{\"url\":\"u\",\"extension\":"
          "[{\"url\":\"v\",\"valueString\":\"x\"}]}]"),
    P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\"}],"
      "\"managingOrganization\":{\"reference\":\"#o\"}"),
    P("\"contained\":[{\"resourceType\":\"Practitioner\",\"id\":\"p\",\"meta\":{\"profile\":"
      "[\"http://x\"]},\"extension\":[{\"url\":\"u\",\"valueReference\":{\"reference\":\"#\"}}]}],"
      "\"generalPractitioner\":[{\"reference\":\"#p\"}]"),
    P("\"managingOrganization\":{\"reference\":\"Organization/1/_history/2\"}"),
    P("\"managingOrganization\":{\"reference\":\"http://example.org/fhir/Organization/1\"}"),
    P("\"managingOrganization\":{\"reference\":\"urn:uuid:c757873d-ec9a-4326-a141-556f43239520\"}"),
    /* RFC 4122: hex digits are case-insensitive on input (Reference.reference is a string) */
    P("\"managingOrganization\":{\"reference\":\"urn:uuid:C757873D-EC9A-4326-A141-556F43239520\"}"),
    P("\"managingOrganization\":{\"reference\":\"urn:oid:1.2.3\"}"),
    P("\"managingOrganization\":{\"identifier\":{\"value\":\"x\"}}"),
    O("\"valueQuantity\":{\"value\":1.50,\"unit\":\"mmHg\",\"system\":\"http://"
      "unitsofmeasure.org\","
      "\"code\":\"mm[Hg]\"},\"issued\":\"2015-02-07T13:28:17.239+02:00\","
      "\"effectiveDateTime\":\"2015-02-07T13:28:17Z\""),
    O("\"valueSampledData\":{\"origin\":{\"value\":0},\"period\":0.5,\"dimensions\":1,"
      "\"data\":\"1 2 E\"}"),
    O("\"_valueString\":{\"extension\":[{\"url\":\"u\",\"valueCode\":\"x\"}]}"),
    "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":"
    "\"urn:uuid:c757873d-ec9a-4326-a141-556f43239520\",\"resource\":{\"resourceType\":"
    "\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"c\"},\"subject\":{\"reference\":"
    "\"Patient?identifier=http://"
    "x|1\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}",
    "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"date\":\"2015\","
    "\"kind\":\"instance\",\"fhirVersion\":\"4.0.1\",\"format\":[\"json\",\"application/"
    "fhir+xml\"],\"rest\":[{\"mode\":\"server\"}]}",
    "{\"resourceType\":\"Binary\",\"contentType\":\"application/pdf\",\"data\":\"JVBERi0=\"}",
    /* R4's TestScript examples name the FHIR formats by their shorthands */
    "{\"resourceType\":\"TestScript\",\"url\":\"http://x.example/ts\",\"name\":\"t\","
    "\"status\":\"draft\",\"setup\":{\"action\":[{\"operation\":{\"accept\":\"json\","
    "\"contentType\":\"xml\",\"encodeRequestUrl\":true}},{\"assert\":{\"contentType\":"
    "\"json\",\"warningOnly\":false}}]}}",
    "{\"resourceType\":\"Task\",\"status\":\"draft\",\"intent\":\"order\","
    "\"businessStatus\":{\"text\":\"x\"}}",
    /* resource-level elements defined by contentReference (the flattened package lacks them) */
    "{\"resourceType\":\"ClaimResponse\",\"status\":\"active\",\"type\":{\"text\":\"t\"},"
    "\"use\":\"claim\",\"patient\":{\"display\":\"p\"},\"created\":\"2014-08-16\","
    "\"insurer\":{\"display\":\"i\"},\"outcome\":\"complete\",\"adjudication\":[{"
    "\"category\":{\"text\":\"eligible\"},\"amount\":{\"value\":100.47,\"currency\":\"USD\"}}]}",
    "{\"resourceType\":\"ExplanationOfBenefit\",\"status\":\"active\",\"type\":{\"text\":\"t\"},"
    "\"use\":\"claim\",\"patient\":{\"display\":\"p\"},\"created\":\"2014\","
    "\"insurer\":{\"display\":\"i\"},\"provider\":{\"display\":\"v\"},\"outcome\":"
    "\"complete\",\"insurance\":[{\"focal\":true,\"coverage\":{\"display\":\"c\"}}],"
    "\"adjudication\":[{\"category\":{\"text\":\"a\"},\"value\":0.5}]}",
    "{\"resourceType\":\"Invoice\",\"status\":\"issued\",\"totalPriceComponent\":[{\"type\":"
    "\"base\",\"amount\":{\"value\":10,\"currency\":\"EUR\"}}]}",
    "{\"resourceType\":\"SubstanceSpecification\",\"molecularWeight\":[{\"amount\":"
    "{\"value\":180.16}}]}",
    /* constructs met in the 2026-11-29 sweep of IG examples (AU Core, IHE BALP, SDC, MHD) */
    /* a required choice given only by its _name (data-absent-reason, json.html) */
    "{\"resourceType\":\"Immunization\",\"status\":\"not-done\",\"vaccineCode\":{\"text\":\"v\"},"
    "\"patient\":{\"reference\":\"Patient/p\"},\"_occurrenceDateTime\":{\"extension\":[{\"url\":"
    "\"http://hl7.org/fhir/StructureDefinition/data-absent-reason\",\"valueCode\":\"unknown\"}]}}",
    /* a required Reference that carries only an extension satisfies min 1 and ele-1 */
    "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"c\"},\"subject\":{\"extension\":[{"
    "\"url\":\"http://hl7.org/fhir/StructureDefinition/data-absent-reason\",\"valueCode\":"
    "\"masked\"}]}}",
    /* BALP-style audit record: outcome and network.type are codes, query is base64 */
    "{\"resourceType\":\"AuditEvent\",\"type\":{\"system\":\"http://terminology.hl7.org/"
    "CodeSystem/audit-event-type\",\"code\":\"rest\"},\"subtype\":[{\"system\":\"http://hl7.org/"
    "fhir/restful-interaction\",\"code\":\"search\"}],\"action\":\"E\",\"recorded\":"
    "\"2020-04-29T09:49:00.000Z\",\"outcome\":\"0\",\"agent\":[{\"type\":{\"coding\":[{\"system\":"
    "\"http://dicom.nema.org/resources/ontology/DCM\",\"code\":\"110153\"}]},\"who\":{\"display\":"
    "\"host\"},\"requestor\":false,\"network\":{\"address\":\"2001:0db8::7334\",\"type\":\"2\"}},"
    "{\"who\":{\"identifier\":{\"value\":\"u\"}},\"requestor\":true,\"policy\":[\"C187CC48\"]}],"
    "\"source\":{\"site\":\"s\",\"observer\":{\"reference\":\"Device/d\"}},\"entity\":[{\"what\":"
    "{\"reference\":\"Patient/p\"}},{\"type\":{\"code\":\"2\"},\"description\":\"GET x\\nAccept: "
    "y\",\"query\":\"R0VUIHgK\"}]}",
    /* Parameters.parameter.part nests by contentReference, any depth */
    "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"property\",\"part\":[{\"name\":"
    "\"code\",\"valueCode\":\"c\"},{\"name\":\"subproperty\",\"part\":[{\"name\":\"value\","
    "\"valueString\":\"v\"}]}]},{\"name\":\"r\",\"resource\":{\"resourceType\":"
    "\"QuestionnaireResponse\",\"status\":\"in-progress\",\"questionnaire\":\"#q\",\"contained\":"
    "[{\"resourceType\":\"Questionnaire\",\"id\":\"q\",\"status\":\"draft\"}]}}]}",
    /* Questionnaire.item.item and QuestionnaireResponse.item.answer.item recurse */
    "{\"resourceType\":\"Questionnaire\",\"status\":\"draft\",\"item\":[{\"linkId\":\"1\",\"type\":"
    "\"choice\",\"answerOption\":[{\"valueCoding\":{\"code\":\"a\"}}],\"item\":[{\"linkId\":"
    "\"1.1\",\"type\":\"string\",\"enableWhen\":[{\"question\":\"1\",\"operator\":\"=\","
    "\"answerCoding\":{\"code\":\"a\"}}]}]}]}",
    "{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\",\"item\":[{\"linkId\":"
    "\"1\",\"answer\":[{\"valueDate\":\"2015-02-23\",\"item\":[{\"linkId\":\"1.1\",\"answer\":[{"
    "\"valueString\":\"x\",\"extension\":[{\"url\":\"u\",\"extension\":[{\"url\":\"source\","
    "\"valueCode\":\"auto\"}]}]}]}]}]}]}",
    /* a document Bundle carried inside a transaction Bundle (IHE MHD ITI-65) */
    "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":\"urn:uuid:"
    "aaaaaaaa-bbbb-cccc-dddd-e00333300003\",\"resource\":{\"resourceType\":\"Bundle\",\"type\":"
    "\"document\",\"identifier\":{\"system\":\"urn:ietf:rfc:3986\",\"value\":"
    "\"urn:oid:1.2.3\"},\"timestamp\":\"2013-05-28T22:12:21Z\",\"entry\":[{\"fullUrl\":\"http://x/"
    "Composition/c\",\"resource\":{\"resourceType\":\"Composition\",\"status\":\"final\",\"type\":"
    "{\"text\":\"t\"},\"date\":\"2013-02-01T12:30:02Z\",\"author\":[{\"display\":\"a\"}],"
    "\"title\":\"t\",\"confidentiality\":\"N\",\"section\":[{\"title\":\"s\",\"mode\":"
    "\"working\",\"section\":[{\"title\":\"s2\",\"entry\":[{\"reference\":"
    "\"Patient/p\"}]}]}]}}]},\"request\":{\"method\":\"POST\",\"url\":\"Bundle\"}}]}",
};

START_TEST(good_case)
{
    struct fhir_validate_result r;
    json_t *oo = validate(good_cases[_i], NULL, &r);
    char *all = describe(oo);

    ck_assert_msg(r.errors == 0 && r.warnings == 0, "case %d: expected valid, got:\n%s", _i, all);
    free(all);
    json_decref(oo);
}
END_TEST

START_TEST(all_problems_are_reported)
{
    struct fhir_validate_result r;
    json_t *oo = validate(P("\"foo\":1,\"gender\":\"x\",\"birthDate\":\"2015-13\",\"active\":1,"
                            "\"name\":[{\"given\":[\"\",\"\"]}]"),
                          NULL, &r);

    ck_assert_uint_eq(r.errors, 6);
    ck_assert_uint_eq(r.issues, 6);
    ck_assert(!r.truncated);
    json_decref(oo);
}
END_TEST

START_TEST(issues_are_capped)
{
    struct fhir_validate_opts opts = {.max_issues = 3};
    struct fhir_validate_result r;
    json_t *oo;
    char buf[8192];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "{\"resourceType\":\"Patient\"");

    for (int i = 0; i < 50; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",\"x%d\":1", i);
    snprintf(buf + n, sizeof(buf) - n, "}");
    oo = fhir_outcome_new();
    {
        json_t *v = parse(buf);

        ck_assert_int_eq(fhir_validate(v, &opts, oo, &r, NULL), BASE_E_INVALID);
        ck_assert_uint_eq(fhir_validate_error_count(v), 50);
        json_decref(v);
    }
    ck_assert_uint_eq(r.errors, 50);
    ck_assert_uint_eq(r.issues, 3);
    ck_assert(r.truncated);
    ck_assert_uint_eq(json_array_size(json_object_get(oo, "issue")), 3);
    json_decref(oo);
}
END_TEST

START_TEST(warnings_and_errors_only)
{
    const char *text = P("\"name\":[{\"text\":\"a\\u0001b\"}]");
    struct fhir_validate_opts opts = {.no_warnings = true};
    struct fhir_validate_result r;
    json_t *oo = validate(text, NULL, &r);
    const json_t *is = json_array_get(json_object_get(oo, "issue"), 0);

    ck_assert_uint_eq(r.errors, 0);
    ck_assert_uint_eq(r.warnings, 1);
    ck_assert_str_eq(issue_str(is, "severity"), "warning");
    ck_assert_str_eq(issue_str(is, "expression"), "Patient.name[0].text");
    json_decref(oo);
    oo = validate(text, &opts, &r);
    ck_assert_uint_eq(r.warnings, 0);
    ck_assert_uint_eq(json_array_size(json_object_get(oo, "issue")), 0);
    json_decref(oo);
}
END_TEST

START_TEST(expected_type)
{
    struct fhir_validate_opts opts = {.expect_type = "Observation"};
    struct fhir_validate_result r;
    json_t *oo = validate(P("\"active\":true"), &opts, &r);

    ck_assert_uint_eq(r.errors, 1);
    ck_assert_str_eq(issue_str(json_array_get(json_object_get(oo, "issue"), 0), "expression"),
                     "resourceType");
    json_decref(oo);
}
END_TEST

/* Messages say where and why, never what: the bad values never appear. */
START_TEST(messages_never_quote_values)
{
    struct fhir_validate_result r;
    json_t *oo = validate(
        P("\"id\":\"SECRET1 x\",\"gender\":\"SECRET2\",\"birthDate\":\"SECRET3\","
          "\"name\":[{\"given\":[\"SECRET4\",\"\"]}],\"photo\":[{\"url\":"
          "\"SECRET5 "
          "y\",\"contentType\":\"image/png\",\"data\":\"SECRET6!\"}],\"managingOrganization\":{"
          "\"reference\":\"SECRET7 z\"}," DIV "SECRET8</p></div>\"}"),
        NULL, &r);
    char *all = describe(oo);

    ck_assert_uint_eq(r.errors, 8);
    ck_assert_msg(strstr(all, "SECRET") == NULL, "%s", all);
    free(all);
    json_decref(oo);
}
END_TEST

/*
 * Binary.data through the text path: plain alphabet-then-padding values are
 * checked in the pass that finds the string's end (out.fast); whitespace and
 * escapes take the general string path; every invalid value gives exactly
 * one error at Binary.data on both paths.  Lengths straddle the 64- and
 * 16-byte vector blocks.
 */
static char *
binary_with_data(const char *head, size_t fill, const char *tail)
{
    const char *pre = "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\"";
    size_t n = strlen(pre) + strlen(head) + fill + strlen(tail) + 3;
    char *s = malloc(n);

    ck_assert_ptr_nonnull(s);
    strcpy(s, pre);
    strcat(s, head);
    memset(s + strlen(s), 'Q', fill);
    s[strlen(pre) + strlen(head) + fill] = '\0';
    strcat(s, tail);
    strcat(s, "\"}");
    return s;
}

START_TEST(base64_on_the_text_path)
{
    static const struct {
        const char *head;
        size_t fill;
        const char *tail;
        bool valid;
        bool fast;
    } cases[] = {
        {"", 4, "", true, true},
        {"", 0, "QQ==", true, true},
        {"", 0, "QQQ=", true, true},
        {"", 64, "", true, true},
        {"", 124, "QQ==", true, true},
        {"", 1024, "", true, true},
        {"QQ/+", 76, "", true, true},
        {"", 60, "\\/QQQ", true, true},
        {"", 76, "\\nQQQQ", true, true},
        {"", 76, " QQQQ", true, true},
        {"", 0, "", false, false},
        {"", 1, "", false, false},
        {"", 63, "", false, false},
        {"", 65, "", false, false},
        {"", 64, "Q===", false, false},
        {"", 64, "====", false, false},
        {"", 64, "QQ=Q", false, false},
        {"", 64, "QQ=Q=", false, false},
        {"", 16, "-_QQ", false, false},
        {"", 70, "\\u0041QQQ", false, false},
        {"\xc3\xa9QQ", 64, "", false, false},
        {"Q Q", 62, "Q Q= =", true, true},
        {"    ", 0, "", true, true},
        {"QQQ Q", 100, "  QQ  QQ", true, true},
        {"QQQ Q", 100, "  QQ  Q", false, false},
        {"", 64, "QQ= Q", false, false},
        {"", 64, "Q= ==", false, false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = binary_with_data(cases[i].head, cases[i].fill, cases[i].tail);
        struct fhir_validate_result r;
        struct fhir_validate_result rt;
        json_t *oo = validate(text, NULL, &r);
        const json_t *is = json_array_get(json_object_get(oo, "issue"), 0);

        ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &rt, NULL),
                         cases[i].valid ? BASE_OK : BASE_E_INVALID);
        ck_assert_msg(rt.fast == cases[i].fast, "case %zu: fast %d", i, rt.fast);
        if (cases[i].valid) {
            ck_assert_msg(r.errors == 0, "case %zu", i);
        } else {
            ck_assert_msg(r.errors == 1, "case %zu: %zu errors", i, r.errors);
            ck_assert_str_eq(issue_str(is, "expression"), "Binary.data");
        }
        json_decref(oo);
        free(text);
    }
}
END_TEST

/*
 * The text path's member loop: single primitives checked without a path
 * step, escaped strings decoded into scratch, the one space after ':',
 * bit sets for what an object has seen.  Valid documents must stay on the
 * fast path (out.fast); invalid ones must leave it, and validate() checks
 * that both paths report the same issues at the same locations.
 */
START_TEST(member_loop_on_the_text_path)
{
    static const struct {
        const char *json;
        size_t errors;
        size_t warnings;
        bool fast;
    } cases[] = {
        {P("\"active\":true,\"gender\":\"female\",\"birthDate\":\"1974-12-25\","
           "\"multipleBirthInteger\":2"),
         0, 0, true},
        {"{\n  \"resourceType\": \"Patient\",\n  \"active\": true,\n  \"gender\" :\t\"male\" ,\n"
         "  \"name\": [ { \"family\": \"a\",  \"given\":\r\n[\"b\"] } ]\n}\n",
         0, 0, true},
        {"{\"resourceType\": \"Patient\", \"active\": false}", 0, 0, true},
        /* escapes decoded before a binding and a type check */
        {"{\"resourceType\":\"Binary\",\"contentType\":\"text\\/plain\"}", 0, 0, true},
        {P("\"name\":[{\"family\":\"a\\\"b\\\\c\\/d\\ne\\rf\\tg\"}]"), 0, 0, true},
        {P("\"gender\":\"ma\\/le\""), 1, 0, false},
        {P("\"gender\":\"m\\nale\""), 1, 0, false},
        {"{\"resourceType\":\"Binary\",\"contentType\":\"text\\/ plain\"}", 1, 0, false},
        {P("\"id\":\"a\\/b\""), 1, 0, false},
        {P("\"id\":\"a\\\\b\""), 1, 0, false},
        /* single primitives: wrong JSON types, null, arrays, empty */
        {P("\"active\":null"), 1, 0, false},
        {P("\"active\":[true]"), 1, 0, false},
        {P("\"active\":\"true\""), 1, 0, false},
        {P("\"active\":truex"), 0, 0, false}, /* not JSON: parsed below */
        {P("\"gender\":[\"male\"]"), 1, 0, false},
        {P("\"gender\":7"), 1, 0, false},
        {P("\"birthDate\":\"\""), 1, 0, false},
        {P("\"birthDate\":\"1974-02-30\""), 1, 0, false},
        {P("\"multipleBirthInteger\":\"2\""), 1, 0, false},
        {P("\"multipleBirthInteger\":2.5"), 1, 0, false},
        {P("\"multipleBirthBoolean\":0"), 1, 0, false},
        /* member names end at the first quote; escaped ones leave the fast path */
        {P("\"\\u0067ender\":\"male\""), 0, 0, false},
        {P("\"gen\\\"der\":\"male\""), 1, 0, false},
        {P("\"gender\\\\\":\"male\""), 1, 0, false},
        {P("\"g\xc3\xa9nder\":\"male\""), 1, 0, false},
        {P("\"gender\":\"male\",\"gender \":\"male\""), 1, 0, false},
        /* what an object has seen */
        {P("\"gender\":\"male\",\"gender\":\"male\""), 0, 0, false}, /* not JSON: below */
        {P("\"deceasedBoolean\":true,\"deceasedDateTime\":\"2015\""), 1, 0, false},
        {P("\"birthDate\":\"1974\",\"_birthDate\":{\"id\":\"b\"}"), 0, 0, true},
        {P("\"_birthDate\":{\"id\":\"b\"}"), 1, 0, false},
        {P("\"name\":[{\"id\":\"a\"}]"), 1, 0, false},
        {P("\"name\":[{\"id\":\"a\",\"text\":\"t\"}]"), 0, 0, true},
        {P("\"name\":[{\"_text\":{\"extension\":[{\"url\":\"u\",\"valueCode\":\"x\"}]}}]"), 0, 0,
         true},
        {P("\"extension\":[{\"url\":\"u\"}]"), 1, 0, false},
        {P("\"link\":[{\"type\":\"seealso\"}]"), 1, 0, false},
        /* the path after single primitives still names the warning's place */
        {"{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\",\"code\":"
         "{\"text\":\"c\"},\"subject\":{\"display\":\"d\",\"reference\":\"Patient?x=1\"},"
         "\"issued\":\"2015-02-07T13:28:17Z\"}",
         0, 1, true},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *text = cases[i].json;
        struct fhir_validate_result rt;
        json_t *v = NULL;

        if (fhir_json_parse(text, strlen(text), NULL, &v, NULL) != BASE_OK) {
            /* not JSON (or a duplicate name): one parse error, never fast */
            ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &rt, NULL),
                             BASE_E_INVALID);
            ck_assert_msg(rt.errors == 1 && !rt.fast, "case %zu", i);
            continue;
        }
        json_decref(v);
        {
            struct fhir_validate_result r;
            json_t *oo = validate(text, NULL, &r);

            ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &rt, NULL),
                             cases[i].errors > 0 ? BASE_E_INVALID : BASE_OK);
            ck_assert_msg(rt.fast == cases[i].fast, "case %zu: fast %d", i, rt.fast);
            ck_assert_msg(r.errors == cases[i].errors && r.warnings == cases[i].warnings,
                          "case %zu: %zu errors, %zu warnings", i, r.errors, r.warnings);
            if (cases[i].warnings > 0)
                ck_assert_str_eq(
                    issue_str(json_array_get(json_object_get(oo, "issue"), 0), "expression"),
                    "Observation.subject.reference");
            json_decref(oo);
        }
    }
}
END_TEST

/*
 * The text path's inline accepts (stream.c fast_datetime, fast_reference,
 * b64_run_avx2) may only say "valid" where the general checkers do: each
 * value near their edges goes through validate() (tree and text agree) and
 * stays on the fast path exactly when it is valid.
 */
START_TEST(inline_checks_on_the_text_path)
{
    static const struct {
        const char *json;
        size_t errors;
        size_t warnings;
    } cases[] = {
        /* date, dateTime, instant */
        {P("\"birthDate\":\"2000-02-29\""), 0, 0},
        {P("\"birthDate\":\"1900-02-29\""), 1, 0},
        {P("\"birthDate\":\"2001-02-29\""), 1, 0},
        {P("\"birthDate\":\"2004-02-29\""), 0, 0},
        {P("\"birthDate\":\"2001-04-31\""), 1, 0},
        {P("\"birthDate\":\"2001-12-31\""), 0, 0},
        {P("\"birthDate\":\"2001-13-01\""), 1, 0},
        {P("\"birthDate\":\"2001-00-01\""), 1, 0},
        {P("\"birthDate\":\"2001-01-00\""), 1, 0},
        {P("\"birthDate\":\"0000-01-01\""), 1, 0},
        {P("\"birthDate\":\"0001-01-01\""), 0, 0},
        {P("\"birthDate\":\"2001-1-01\""), 1, 0},
        {P("\"birthDate\":\"2001/01/01\""), 1, 0},
        {P("\"birthDate\":\"2001-01-01T00:00:00Z\""), 1, 0},
        {P("\"birthDate\":\"2001-01\""), 0, 0},
        {P("\"deceasedDateTime\":\"2001-01-01\""), 0, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T23:59:60Z\""), 0, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T23:59:61Z\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T24:00:00Z\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T23:60:00Z\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00Z\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01 10:00:00Z\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00ZZ\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00.Z\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00.1234567Z\""), 0, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00.5+01:00\""), 0, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00+14:00\""), 0, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00-14:00\""), 0, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00+14:01\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00+13:59\""), 0, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00+13:60\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00+1300\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00+13:00:00\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-01-01T10:00:00*13:00\""), 1, 0},
        {P("\"deceasedDateTime\":\"2001-02-30T10:00:00Z\""), 1, 0},
        {O("\"issued\":\"2015-02-07T13:28:17.239+02:00\""), 0, 0},
        {O("\"issued\":\"2015-02-07\""), 1, 0},
        {O("\"issued\":\"2015-02-07T13:28:17\""), 1, 0},
        /* references */
        {P("\"managingOrganization\":{\"reference\":\"urn:uuid:c757873d-ec9a-4326-a141-"
           "556f43239520\"}"),
         0, 0},
        {P("\"managingOrganization\":{\"reference\":\"urn:uuid:c757873d-ec9a-4326-a141-"
           "556f4323952g\"}"),
         1, 0},
        {P("\"managingOrganization\":{\"reference\":\"urn:uuid:c757873d0ec9a-4326-a141-"
           "556f4323952\"}"),
         1, 0},
        {P("\"managingOrganization\":{\"reference\":\"urn:uuid:c757873d-ec9a-4326-a141-"
           "556f43239520a\"}"),
         1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization/1\"}"), 0, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization/a-b.C\"}"), 0, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization/\"}"), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization/a_b\"}"), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization/a/b\"}"), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization/1/_history/2\"}"), 0, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization/"
           "0123456789012345678901234567890123456789012345678901234567890123\"}"),
         0, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization/"
           "01234567890123456789012345678901234567890123456789012345678901234\"}"),
         1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organisation/1\"}"), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Resource/1\"}"), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"HumanName/1\"}"), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization?identifier=a|b\"}"), 0, 1},
        {P("\"managingOrganization\":{\"reference\":\"Organization?\"}"), 0, 1},
        {P("\"managingOrganization\":{\"reference\":\"DomainResource?x=1\"}"), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization\"}"), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"a1:Organization/1\"}"), 0, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization:1/x\"}"), 0, 0},
        /* the same with the text going on (the type name read in two loads) */
#define MORE ",\"active\":true,\"gender\":\"male\",\"birthDate\":\"1974-12-25\""
        {P("\"managingOrganization\":{\"reference\":\"Organization/1\"}" MORE), 0, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization?a=b\"}" MORE), 0, 1},
        {P("\"managingOrganization\":{\"reference\":\"Organisation/1\"}" MORE), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization\"}" MORE), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Organization/\"}" MORE), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"O/1\"}" MORE), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"/1\"}" MORE), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"Org-anization/1\"}" MORE), 1, 0},
        {P("\"managingOrganization\":{\"reference\":\"SubstanceReferenceInformation/1\"}" MORE), 0,
         0},
        {P("\"managingOrganization\":{\"reference\":\"SubstanceReferenceInformationX/1\"}" MORE), 1,
         0},
        {P("\"managingOrganization\":{\"reference\":"
           "\"SubstanceReferenceInformationXYZ0123456789/1\"}" MORE),
         1, 0},
        {P("\"managingOrganization\":{\"reference\":\"MedicinalProductAuthorization?x\"}" MORE), 0,
         1},
#undef MORE
        /* values kept for the holder on the small string path: codings of a
         * required-bound CodeableConcept, contained ids and local references */
#define AI(cs) "{\"resourceType\":\"AllergyIntolerance\",\"patient\":{\"reference\":" \
               "\"Patient/p\"},\"clinicalStatus\":{\"coding\":[" cs "]}}"
        {AI("{\"system\":\"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical\","
            "\"code\":\"active\"}"),
         0, 0},
        {AI("{\"system\":\"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical\","
            "\"code\":\"activ\"}"),
         1, 0},
        {AI("{\"system\":\"http://example.org/other\",\"code\":\"active\"}"), 1, 0},
        {AI("{\"system\":\"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical\","
            "\"code\":\"active\"},{\"system\":\"http://x\",\"code\":\"y\"}"),
         0, 0},
#undef AI
        {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o1\"}],"
           "\"managingOrganization\":{\"reference\":\"#o1\"}"),
         0, 0},
        /* ref-1, and dom-3 for o1, which nothing refers to */
        {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o1\"}],"
           "\"managingOrganization\":{\"reference\":\"#o2\"}"),
         2, 0},
        {P("\"managingOrganization\":{\"reference\":\"\"}"), 1, 0},
        {P("\"id\":\"a b\",\"active\":true,\"gender\":\"male\""), 1, 0},
        /* codes, URIs and ids: no space (sixteen bytes at a time, short ones
         * read past their end when the text has the bytes) */
        {P("\"gender\":\"male\",\"language\":\"en-US\""), 0, 0},
        {P("\"language\":\"en US\""), 0, 0},
        {P("\"language\":\"en  US\""), 1, 0},
        {P("\"language\":\" en\""), 1, 0},
        {P("\"language\":\"en \""), 1, 0},
        {P("\"language\":\"0123456789abcdef\""), 0, 0},
        {P("\"language\":\"0123456789abcdef 0123456789abcdef\""), 0, 0},
        {P("\"language\":\"0123456789abcdef  0123456789abcdef\""), 1, 0},
        {P("\"implicitRules\":\"http://example.org/rules\""), 0, 0},
        {P("\"implicitRules\":\"http://example.org/ rules\""), 1, 0},
        {P("\"implicitRules\":\"http://example.org/0123456789abcdef/0123456789 \""), 1, 0},
        {P("\"implicitRules\":\"h\u00e9\""), 0, 0},
        {P("\"implicitRules\":\"http://\u00e9xample.org/r\u00e9gles\""), 0, 0},
        {P("\"id\":\"a.b-C9\""), 0, 0},
        {P("\"id\":\"a_b\""), 1, 0},
        {P("\"id\":\"_ab\",\"active\":true,\"gender\":\"male\""), 1, 0},
        {P("\"id\":\"ab_\",\"active\":true,\"gender\":\"male\""), 1, 0},
        {P("\"id\":\"ab\",\"active\":true,\"gender\":\"male\""), 0, 0},
        {P("\"id\":\"0123456789abcdef_0123\""), 1, 0},
        {P("\"implicitRules\":\" x\",\"active\":true,\"gender\":\"male\""), 1, 0},
        {P("\"implicitRules\":\"x \",\"active\":true,\"gender\":\"male\""), 1, 0},
        {P("\"implicitRules\":\"x\",\"active\":true,\"gender\":\"male\""), 0, 0},
        {P("\"name\":[{\"use\":\" usual\",\"text\":\"0123456789abcdef\"}]"), 2, 0},
        {P("\"implicitRules\":\"0123456789abcdef 0123456789abcdef\""), 1, 0},
        {P("\"implicitRules\":\"0123456789abcde \""), 1, 0},
        {P("\"id\":\"a/b\""), 1, 0},
        {P("\"id\":\"a b\""), 1, 0},
        {P("\"id\":\"\u00e9\""), 1, 0},
        {P("\"id\":\"0123456789012345678901234567890123456789012345678901234567890123\""), 0, 0},
        {P("\"id\":\"01234567890123456789012345678901234567890123456789012345678901234\""), 1, 0},
        {P("\"id\":\"0123456789012345/\""), 1, 0},
        {"{\"resourceType\":\"Patient\",\"id\":\"a\"}", 0, 0},
        {"{\"resourceType\":\"Patient\",\"id\":\"a_\"}", 1, 0},
        {"{\"resourceType\":\"Patient\",\"language\":\"a  b\"}", 1, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *text = cases[i].json;
        struct fhir_validate_result r;
        struct fhir_validate_result rt;
        json_t *oo = validate(text, NULL, &r);

        ck_assert_msg(r.errors == cases[i].errors && r.warnings == cases[i].warnings,
                      "case %zu: %zu errors, %zu warnings", i, r.errors, r.warnings);
        ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &rt, NULL),
                         cases[i].errors > 0 ? BASE_E_INVALID : BASE_OK);
        ck_assert_msg(rt.fast == (cases[i].errors == 0), "case %zu: fast %d", i, rt.fast);
        json_decref(oo);
    }
}
END_TEST

/*
 * The invariants and URN checks of this round, each valid and broken, on
 * both paths (validate() compares them issue by issue): the error count,
 * the first error's code, location and invariant key, and whether the text
 * path settles the document (by default: exactly when there is no error;
 * FAST_NO where it hands a valid document to the tree path on purpose).
 */
#define FAST_DEFAULT 0
#define FAST_NO      1
#define BUNDLE(type, entries)                                                                      \
    "{\"resourceType\":\"Bundle\",\"type\":\"" type "\",\"entry\":[" entries "]}"
#define PAT_ENTRY(url) "{\"fullUrl\":\"" url "\",\"resource\":{\"resourceType\":\"Patient\"}}"
#define PAT_ENTRY_V(url, v)                                                                        \
    "{\"fullUrl\":\"" url "\",\"resource\":{\"resourceType\":\"Patient\",\"meta\":{"               \
    "\"versionId\":\"" v "\"}}}"
#define PERIOD(body)  P("\"name\":[{\"text\":\"n\",\"period\":{" body "}}]")
#define RANGE(lo, hi) O("\"valueRange\":{\"low\":{" lo "},\"high\":{" hi "}}")
#define UCUM          "\"system\":\"http://unitsofmeasure.org\""
#define REPEAT(body)                                                                               \
    "{\"resourceType\":\"MedicationRequest\",\"status\":\"active\",\"intent\":\"order\","          \
    "\"medicationCodeableConcept\":{\"text\":\"m\"},\"subject\":{\"display\":\"p\"},"              \
    "\"dosageInstruction\":[{\"timing\":{\"repeat\":{" body "}}}]}"
#define TIMING "MedicationRequest.dosageInstruction[0].timing.repeat"
#define OBS_CODED(body)                                                                            \
    "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"    \
    "\"http://loinc.org\",\"code\":\"9272-6\",\"display\":\"Apgar\"}]}," body "}"
#define UUID "c757873d-ec9a-4326-a141-556f43239520"

static const struct {
    const char *json;
    size_t errors;
    size_t warnings;
    const char *code;  /* of the first error */
    const char *where; /* of the first error */
    const char *key;   /* in its message */
    int fast;
} invariant_cases[] = {
    /* urn:uuid and urn:oid in uri, url and canonical */
    {BUNDLE("collection", PAT_ENTRY("urn:uuid:" UUID)), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("urn:uuid:c757873d-ec9a-4326-a141-c5e300945f0g")), 1, 0,
     "value", "Bundle.entry[0].fullUrl", "urn:uuid", FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("urn:uuid:c757873d-ec9a-4326-a141-556f4323952")), 1, 0, "value",
     "Bundle.entry[0].fullUrl", "urn:uuid", FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("urn:uuid:" UUID "0")), 1, 0, "value",
     "Bundle.entry[0].fullUrl", "urn:uuid", FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("urn:uuid:" UUID "#frag")), 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("urn:uuid:C757873D-EC9A-4326-A141-556F43239520")), 0, 1, NULL,
     NULL, NULL, FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("urn:uuid:c757873d-ec9a-4326-a141-556f4323952A")), 0, 1, NULL,
     NULL, NULL, FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("urn:uuid:")), 1, 0, "value", "Bundle.entry[0].fullUrl",
     "urn:uuid", FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("urn:uuidx:" UUID)), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("urn:isbn:0451450523")), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {P("\"identifier\":[{\"system\":\"urn:oid:2.16.840.1.113883.4.3.25\",\"value\":\"1\"}]"), 0, 0,
     NULL, NULL, NULL, FAST_DEFAULT},
    {P("\"identifier\":[{\"system\":\"urn:oid:1.2.x\"}]"), 1, 0, "value",
     "Patient.identifier[0].system", "urn:oid", FAST_DEFAULT},
    {P("\"identifier\":[{\"system\":\"urn:oid:3.1\"}]"), 1, 0, "value",
     "Patient.identifier[0].system", "urn:oid", FAST_DEFAULT},
    {P("\"identifier\":[{\"system\":\"urn:oid:1.02\"}]"), 1, 0, "value",
     "Patient.identifier[0].system", "urn:oid", FAST_DEFAULT},
    {P("\"identifier\":[{\"system\":\"urn:oid:1\"}]"), 1, 0, "value",
     "Patient.identifier[0].system", "urn:oid", FAST_DEFAULT},
    {P("\"identifier\":[{\"system\":\"urn:oid:1.2\\/3\"}]"), 1, 0, "value",
     "Patient.identifier[0].system", "urn:oid", FAST_DEFAULT}, /* escaped: the general check */
    {P("\"meta\":{\"profile\":[\"http://x/p\",\"urn:uuid:" UUID "\"]}"), 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {P("\"meta\":{\"profile\":[\"http://x/p\",\"urn:uuid:C757873D-EC9A-4326-A141-556F43239520\"]}"),
     0, 1, NULL, NULL, NULL, FAST_DEFAULT},
    {P("\"meta\":{\"profile\":[\"urn:uuid:x\"]}"), 1, 0, "value", "Patient.meta.profile[0]",
     "urn:uuid", FAST_DEFAULT},
    {P("\"photo\":[{\"url\":\"urn:oid:1.2.x\"}]"), 1, 0, "value", "Patient.photo[0].url", "urn:oid",
     FAST_DEFAULT},
    {P("\"extension\":[{\"url\":\"urn:uuid:C757873D-EC9A-4326-A141-556F43239520\","
       "\"valueString\":\"x\"}]"),
     0, 1, NULL, NULL, NULL, FAST_DEFAULT},
    /* a Reference.reference is a string: its checks are rules.c's, unchanged */
    {P("\"managingOrganization\":{\"reference\":\"urn:uuid:C757873D-EC9A-4326-A141-"
       "556F43239520\"}"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* per-1 */
    {PERIOD("\"start\":\"2015-01-01\",\"end\":\"2015-01-02\""), 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-01-02\",\"end\":\"2015-01-02\""), 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-01-03\",\"end\":\"2015-01-02\""), 1, 0, "invariant",
     "Patient.name[0].period", "per-1", FAST_DEFAULT},
    {PERIOD("\"end\":\"2015-01-02\",\"start\":\"2015-01-03\""), 1, 0, "invariant",
     "Patient.name[0].period", "per-1", FAST_DEFAULT},
    {PERIOD("\"start\":\"2016\",\"end\":\"2015\""), 1, 0, "invariant", "Patient.name[0].period",
     "per-1", FAST_DEFAULT},
    {PERIOD("\"start\":\"2015\",\"end\":\"2015-06\""), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06\",\"end\":\"2015\""), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-07\",\"end\":\"2015-06-30\""), 1, 0, "invariant",
     "Patient.name[0].period", "per-1", FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-30\",\"end\":\"2015-06\""), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2016-01-01\",\"end\":\"2015-12\""), 1, 0, "invariant",
     "Patient.name[0].period", "per-1", FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T10:00:00Z\",\"end\":\"2015-06-01T10:00:01Z\""), 0, 0, NULL,
     NULL, NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T10:00:01Z\",\"end\":\"2015-06-01T10:00:00Z\""), 1, 0,
     "invariant", "Patient.name[0].period", "per-1", FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T10:00:00+02:00\",\"end\":\"2015-06-01T09:00:00Z\""), 0, 0, NULL,
     NULL, NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T10:00:00-02:00\",\"end\":\"2015-06-01T09:00:00Z\""), 1, 0,
     "invariant", "Patient.name[0].period", "per-1", FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T00:30:00+01:00\",\"end\":\"2015-05-31T23:45:00Z\""), 0, 0, NULL,
     NULL, NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T10:00:00.5Z\",\"end\":\"2015-06-01T10:00:00Z\""), 1, 0,
     "invariant", "Patient.name[0].period", "per-1", FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T10:00:00Z\",\"end\":\"2015-06-01T10:00:00.000Z\""), 0, 0, NULL,
     NULL, NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T10:00:00.25Z\",\"end\":\"2015-06-01T10:00:00.3Z\""), 0, 0, NULL,
     NULL, NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T10:00:00.35Z\",\"end\":\"2015-06-01T10:00:00.3Z\""), 1, 0,
     "invariant", "Patient.name[0].period", "per-1", FAST_DEFAULT},
    /* a date against a time: decided only when it holds in every zone */
    {PERIOD("\"start\":\"2015-06-02\",\"end\":\"2015-06-01T23:00:00-05:00\""), 0, 0, NULL, NULL,
     NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T10:00:00Z\",\"end\":\"2015-06-01\""), 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-01T23:00:00-05:00\",\"end\":\"2015-06-01\""), 0, 0, NULL, NULL,
     NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-03\",\"end\":\"2015-06-01T10:00:00Z\""), 1, 0, "invariant",
     "Patient.name[0].period", "per-1", FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-02T14:00:00Z\",\"end\":\"2015-06-01\""), 1, 0, "invariant",
     "Patient.name[0].period", "per-1", FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-06-02T13:59:59Z\",\"end\":\"2015-06-01\""), 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {PERIOD("\"start\":\"2016\",\"end\":\"2015-06-01T10:00:00Z\""), 1, 0, "invariant",
     "Patient.name[0].period", "per-1", FAST_DEFAULT},
    /* no value, no comparison; a bad value is its own error only */
    {PERIOD("\"_start\":{\"extension\":[{\"url\":\"u\",\"valueCode\":\"x\"}]},\"end\":\"2015\""), 0,
     0, NULL, NULL, NULL, FAST_DEFAULT},
    {PERIOD("\"start\":\"2015-13\",\"end\":\"2015\""), 1, 0, "value",
     "Patient.name[0].period.start", NULL, FAST_DEFAULT},
    /* rng-2 */
    {RANGE("\"value\":3,\"unit\":\"mg\"", "\"value\":5,\"unit\":\"mg\""), 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {RANGE("\"value\":5,\"unit\":\"mg\"", "\"value\":3,\"unit\":\"mg\""), 1, 0, "invariant",
     "Observation.valueRange", "rng-2", FAST_DEFAULT},
    {RANGE("\"value\":5,\"unit\":\"g\"", "\"value\":3,\"unit\":\"mg\""), 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {RANGE("\"value\":5," UCUM ",\"code\":\"mg\"", "\"value\":3," UCUM ",\"code\":\"mg\""), 1, 0,
     "invariant", "Observation.valueRange", "rng-2", FAST_DEFAULT},
    {RANGE("\"value\":5," UCUM ",\"code\":\"g\"", "\"value\":3," UCUM ",\"code\":\"mg\""), 0, 0,
     NULL, NULL, NULL, FAST_DEFAULT},
    {RANGE("\"value\":5," UCUM ",\"code\":\"mg\"", "\"value\":3,\"unit\":\"mg\""), 0, 0, NULL, NULL,
     NULL, FAST_DEFAULT},
    {RANGE("\"value\":1.50", "\"value\":1.5"), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {RANGE("\"value\":1.51", "\"value\":1.5"), 1, 0, "invariant", "Observation.valueRange", "rng-2",
     FAST_DEFAULT},
    {RANGE("\"value\":1e1", "\"value\":9.99"), 1, 0, "invariant", "Observation.valueRange", "rng-2",
     FAST_DEFAULT},
    {RANGE("\"value\":0.00001", "\"value\":1E-4"), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {RANGE("\"value\":-0.5", "\"value\":-0.25"), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {RANGE("\"value\":-0.25", "\"value\":-0.5"), 1, 0, "invariant", "Observation.valueRange",
     "rng-2", FAST_DEFAULT},
    {RANGE("\"value\":0", "\"value\":-0.0"), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {RANGE("\"value\":123456789012345678901234567890", "\"value\":123456789012345678901234567891"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {RANGE("\"value\":123456789012345678901234567891", "\"value\":123456789012345678901234567890"),
     1, 0, "invariant", "Observation.valueRange", "rng-2", FAST_DEFAULT},
    {O("\"valueRange\":{\"low\":{\"value\":5}}"), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {RANGE("\"unit\":\"mg\"", "\"value\":3,\"unit\":\"mg\""), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* the Quantity profiles (qty-3 too, a table rule) */
    {O("\"valueQuantity\":{\"value\":1,\"code\":\"mg\"}"), 1, 0, "invariant",
     "Observation.valueQuantity", "qty-3", FAST_DEFAULT},
    {"{\"resourceType\":\"Condition\",\"subject\":{\"display\":\"p\"},\"onsetAge\":{\"value\":"
     "5," UCUM ",\"code\":\"a\"}}",
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {"{\"resourceType\":\"Condition\",\"subject\":{\"display\":\"p\"},\"onsetAge\":{\"value\":5,"
     "\"unit\":\"years\"}}",
     1, 0, "invariant", "Condition.onsetAge", "age-1", FAST_DEFAULT},
    {"{\"resourceType\":\"Condition\",\"subject\":{\"display\":\"p\"},\"onsetAge\":{\"value\":"
     "0," UCUM ",\"code\":\"a\"}}",
     1, 0, "invariant", "Condition.onsetAge", "age-1", FAST_DEFAULT},
    {"{\"resourceType\":\"Condition\",\"subject\":{\"display\":\"p\"},\"onsetAge\":{\"value\":5,"
     "\"system\":\"http://x\",\"code\":\"a\"}}",
     1, 0, "invariant", "Condition.onsetAge", "age-1", FAST_DEFAULT},
    {P("\"extension\":[{\"url\":\"u\",\"valueCount\":{\"value\":2.0," UCUM ",\"code\":\"1\"}}]"), 0,
     0, NULL, NULL, NULL, FAST_DEFAULT},
    {P("\"extension\":[{\"url\":\"u\",\"valueCount\":{\"value\":2.5," UCUM ",\"code\":\"1\"}}]"), 1,
     0, "invariant", "Patient.extension[0].valueCount", "cnt-3", FAST_DEFAULT},
    {P("\"extension\":[{\"url\":\"u\",\"valueCount\":{\"value\":2," UCUM ",\"code\":\"a\"}}]"), 1,
     0, "invariant", "Patient.extension[0].valueCount", "cnt-3", FAST_DEFAULT},
    {P("\"extension\":[{\"url\":\"u\",\"valueDistance\":{\"value\":2}}]"), 1, 0, "invariant",
     "Patient.extension[0].valueDistance", "dis-1", FAST_DEFAULT},
    {P("\"extension\":[{\"url\":\"u\",\"valueDistance\":{\"value\":2," UCUM ",\"code\":\"m\"}}]"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* presence rules (generated tables) */
    {P("\"photo\":[{\"data\":\"QQ==\"}]"), 1, 0, "invariant", "Patient.photo[0]", "att-1",
     FAST_DEFAULT},
    {P("\"telecom\":[{\"value\":\"555\"}]"), 1, 0, "invariant", "Patient.telecom[0]", "cpt-2",
     FAST_DEFAULT},
    {P("\"telecom\":[{\"system\":\"phone\",\"value\":\"555\"}]"), 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {O("\"valueRatio\":{\"numerator\":{\"value\":1}}"), 1, 0, "invariant", "Observation.valueRatio",
     "rat-1", FAST_DEFAULT},
    {O("\"valueRatio\":{\"numerator\":{\"value\":1},\"denominator\":{\"value\":2}}"), 0, 0, NULL,
     NULL, NULL, FAST_DEFAULT},
    {P("\"contact\":[{\"gender\":\"male\"}]"), 1, 0, "invariant", "Patient.contact[0]", "pat-1",
     FAST_DEFAULT},
    {O("\"valueString\":\"x\",\"dataAbsentReason\":{\"text\":\"gone\"}"), 1, 0, "invariant",
     "Observation", "obs-6", FAST_DEFAULT},
    {O("\"_valueString\":{\"extension\":[{\"url\":\"u\",\"valueCode\":\"x\"}]},"
       "\"dataAbsentReason\":{\"text\":\"gone\"}"),
     1, 0, "invariant", "Observation", "obs-6", FAST_DEFAULT},
    {O("\"referenceRange\":[{\"appliesTo\":[{\"text\":\"x\"}]}]"), 1, 0, "invariant",
     "Observation.referenceRange[0]", "obs-3", FAST_DEFAULT},
    {O("\"referenceRange\":[{\"text\":\"normal\"}]"), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* obs-7: a component coded like the Observation, and a value */
    {OBS_CODED("\"valueQuantity\":{\"value\":8},\"component\":[{\"code\":{\"coding\":[{\"system\":"
               "\"http://loinc.org\",\"code\":\"32401-8\"}]},\"valueQuantity\":{\"value\":2}}]"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {OBS_CODED("\"valueQuantity\":{\"value\":8},\"component\":[{\"code\":{\"coding\":[{\"system\":"
               "\"http://loinc.org\",\"code\":\"9272-6\",\"display\":\"Apgar\"}]}}]"),
     1, 0, "invariant", "Observation", "obs-7", FAST_DEFAULT},
    {OBS_CODED("\"component\":[{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
               "\"9272-6\",\"display\":\"Apgar\"}]},\"valueQuantity\":{\"value\":2}}]"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* the same system and code with another display: not the same Coding
     * (the text path leaves it to the tree) */
    {OBS_CODED("\"valueQuantity\":{\"value\":8},\"component\":[{\"code\":{\"coding\":[{\"system\":"
               "\"http://loinc.org\",\"code\":\"9272-6\",\"display\":\"other\"}]}}]"),
     0, 0, NULL, NULL, NULL, FAST_NO},
    /* a contained Observation has its own codings */
    {OBS_CODED("\"valueQuantity\":{\"value\":8},\"contained\":[{\"resourceType\":\"Observation\","
               "\"id\":\"c\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://"
               "loinc.org\",\"code\":\"1-1\"}]}}],\"hasMember\":[{\"reference\":\"#c\"}],"
               "\"component\":[{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
               "\"1-1\"}]},\"valueQuantity\":{\"value\":2}}]"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* Timing.repeat */
    {REPEAT("\"duration\":1,\"durationUnit\":\"h\",\"period\":8,\"periodUnit\":\"h\""), 0, 0, NULL,
     NULL, NULL, FAST_DEFAULT},
    {REPEAT("\"duration\":1"), 1, 0, "invariant", TIMING, "tim-1", FAST_DEFAULT},
    {REPEAT("\"duration\":-1,\"durationUnit\":\"h\""), 1, 0, "invariant", TIMING ".duration",
     "tim-4", FAST_DEFAULT},
    {REPEAT("\"period\":-0.5,\"periodUnit\":\"h\""), 1, 0, "invariant", TIMING ".period", "tim-5",
     FAST_DEFAULT},
    {REPEAT("\"period\":-0,\"periodUnit\":\"h\""), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {REPEAT("\"offset\":30"), 1, 0, "invariant", TIMING ".offset", "tim-9", FAST_DEFAULT},
    {REPEAT("\"offset\":30,\"when\":[\"ACM\"]"), 0, 0, NULL, NULL, NULL, FAST_NO},
    {REPEAT("\"offset\":30,\"when\":[\"ACM\",\"CV\"]"), 1, 0, "invariant", TIMING ".offset",
     "tim-9", FAST_DEFAULT},
    {REPEAT("\"timeOfDay\":[\"10:00:00\"],\"when\":[\"MORN\"]"), 1, 0, "invariant", TIMING,
     "tim-10", FAST_DEFAULT},
    {REPEAT("\"countMax\":3"), 1, 0, "invariant", TIMING, "tim-8", FAST_DEFAULT},
    /* trd-3 */
    {"{\"resourceType\":\"EventDefinition\",\"status\":\"draft\",\"trigger\":[{\"type\":"
     "\"named-event\",\"name\":\"admit\"}]}",
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {"{\"resourceType\":\"EventDefinition\",\"status\":\"draft\",\"trigger\":[{\"type\":"
     "\"named-event\"}]}",
     1, 0, "invariant", "EventDefinition.trigger[0]", "trd-3", FAST_DEFAULT},
    {"{\"resourceType\":\"EventDefinition\",\"status\":\"draft\",\"trigger\":[{\"type\":"
     "\"data-added\"}]}",
     1, 0, "invariant", "EventDefinition.trigger[0]", "trd-3", FAST_DEFAULT},
    {"{\"resourceType\":\"EventDefinition\",\"status\":\"draft\",\"trigger\":[{\"type\":"
     "\"periodic\",\"timingDate\":\"2015\"}]}",
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* Bundles */
    {"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0}", 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {"{\"resourceType\":\"Bundle\",\"total\":0,\"type\":\"collection\"}", 1, 0, "invariant",
     "Bundle.total", "bdl-1", FAST_DEFAULT},
    {BUNDLE("collection", "{\"resource\":{\"resourceType\":\"Patient\"},\"search\":{\"mode\":"
                          "\"match\"}}"),
     1, 0, "invariant", "Bundle.entry[0].search", "bdl-2", FAST_DEFAULT},
    {BUNDLE("searchset", "{\"resource\":{\"resourceType\":\"Patient\"},\"search\":{\"mode\":"
                         "\"match\"}}"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {BUNDLE("transaction", "{\"resource\":{\"resourceType\":\"Patient\"}}"), 1, 0, "invariant",
     "Bundle.entry[0]", "bdl-3", FAST_DEFAULT},
    {BUNDLE("collection", "{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":"
                          "\"GET\",\"url\":\"Patient/1\"}}"),
     1, 0, "invariant", "Bundle.entry[0].request", "bdl-3", FAST_DEFAULT},
    {BUNDLE("batch-response", "{\"resource\":{\"resourceType\":\"Patient\"}}"), 1, 0, "invariant",
     "Bundle.entry[0]", "bdl-4", FAST_DEFAULT},
    {BUNDLE("batch-response", "{\"response\":{\"status\":\"200\"}}"), 0, 0, NULL, NULL, NULL,
     FAST_DEFAULT},
    {BUNDLE("history", "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/1\"},\"response\":{"
                       "\"status\":\"204\"}}"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {BUNDLE("collection", "{\"fullUrl\":\"http://x/Patient/1\"}"), 1, 0, "invariant",
     "Bundle.entry[0]", "bdl-5", FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("http://x/Patient/1") "," PAT_ENTRY("http://x/Patient/1")), 1,
     0, "invariant", "Bundle.entry[1].fullUrl", "bdl-7", FAST_DEFAULT},
    {BUNDLE("collection",
            PAT_ENTRY_V("http://x/Patient/1", "1") "," PAT_ENTRY_V("http://x/Patient/1", "2")),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {BUNDLE("collection",
            PAT_ENTRY_V("http://x/Patient/1", "1") "," PAT_ENTRY_V("http://x/Patient/1", "1")),
     1, 0, "invariant", "Bundle.entry[1].fullUrl", "bdl-7", FAST_DEFAULT},
    {BUNDLE("collection",
            PAT_ENTRY_V("http://x/Patient/1", "1") "," PAT_ENTRY("http://x/Patient/1")),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* more than eight entries: the text path's hash table */
    {BUNDLE(
         "collection",
         PAT_ENTRY("http://x/1") "," PAT_ENTRY("http://x/2") "," PAT_ENTRY("http://x/3") "," PAT_ENTRY("http://x/4") "," PAT_ENTRY("http://x/5") "," PAT_ENTRY(
             "http://x/6") "," PAT_ENTRY("http://x/7") "," PAT_ENTRY("http://x/8") "," PAT_ENTRY("h"
                                                                                                 "t"
                                                                                                 "t"
                                                                                                 "p"
                                                                                                 ":"
                                                                                                 "/"
                                                                                                 "/"
                                                                                                 "x"
                                                                                                 "/"
                                                                                                 "9") "," PAT_ENTRY("http://x/10")),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {BUNDLE(
         "collection",
         PAT_ENTRY("http://x/1") "," PAT_ENTRY("http://x/2") "," PAT_ENTRY("http://x/3") "," PAT_ENTRY("http://x/4") "," PAT_ENTRY("http://x/5") "," PAT_ENTRY(
             "http://x/6") "," PAT_ENTRY("http://x/7") "," PAT_ENTRY("http://x/8") "," PAT_ENTRY("h"
                                                                                                 "t"
                                                                                                 "t"
                                                                                                 "p"
                                                                                                 ":"
                                                                                                 "/"
                                                                                                 "/"
                                                                                                 "x"
                                                                                                 "/"
                                                                                                 "9") "," PAT_ENTRY("http://x/3")),
     1, 0, "invariant", "Bundle.entry[9].fullUrl", "bdl-7", FAST_DEFAULT},
    {BUNDLE("history",
            "{\"fullUrl\":\"http://x/1\",\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/1\"},"
            "\"response\":{\"status\":\"204\"}},{\"fullUrl\":\"http://x/1\",\"request\":{"
            "\"method\":\"DELETE\",\"url\":\"Patient/1\"},\"response\":{\"status\":\"204\"}}"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {BUNDLE("collection", PAT_ENTRY("http://x/Patient/1/_history/2")), 1, 0, "invariant",
     "Bundle.entry[0].fullUrl", "bdl-8", FAST_DEFAULT},
    /* a nested Bundle keeps its own entries */
    {BUNDLE("collection",
            PAT_ENTRY("http://x/1") ",{\"fullUrl\":\"http://x/b\",\"resource\":" BUNDLE(
                "collection", PAT_ENTRY("http://x/1")) "}"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* dom-3: a contained resource is referred to, or refers to the root */
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\"}]"), 1, 0, "invariant",
     "Patient.contained[0]", "dom-3", FAST_DEFAULT},
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\"},{\"resourceType\":"
       "\"Organization\",\"id\":\"p\"}],\"managingOrganization\":{\"reference\":\"#p\"}"),
     1, 0, "invariant", "Patient.contained[0]", "dom-3", FAST_DEFAULT},
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"name\":\"no id\"}]"), 0, 0, NULL, NULL,
     NULL, FAST_DEFAULT},
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\",\"extension\":[{"
       "\"url\":\"u\",\"valueUri\":\"#\"}]}]"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\",\"partOf\":{"
       "\"reference\":\"#\"}}]"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {P("\"extension\":[{\"url\":\"u\",\"valueUri\":\"#o\"}],\"contained\":[{\"resourceType\":"
       "\"Organization\",\"id\":\"o\"}]"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* one contained resource referring to the other counts; o itself is
     * referred to by nothing and does not refer to the root */
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\",\"partOf\":{"
       "\"reference\":\"#p\"}},{\"resourceType\":\"Organization\",\"id\":\"p\",\"partOf\":{"
       "\"reference\":\"#\"}}]"),
     1, 0, "invariant", "Patient.contained[0]", "dom-3", FAST_DEFAULT},
    {P("\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\",\"partOf\":{"
       "\"reference\":\"#p\"},\"extension\":[{\"url\":\"u\",\"valueReference\":{\"reference\":"
       "\"#\"}}]},{\"resourceType\":\"Organization\",\"id\":\"p\"}]"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {"{\"resourceType\":\"Questionnaire\",\"status\":\"draft\",\"contained\":[{\"resourceType\":"
     "\"ValueSet\",\"id\":\"vs\",\"status\":\"draft\"}],\"item\":[{\"linkId\":\"1\",\"type\":"
     "\"choice\",\"answerValueSet\":\"#vs\"}]}",
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    /* an escaped "#vs" decides on the tree path */
    {"{\"resourceType\":\"Questionnaire\",\"status\":\"draft\",\"contained\":[{\"resourceType\":"
     "\"ValueSet\",\"id\":\"vs\",\"status\":\"draft\"}],\"item\":[{\"linkId\":\"1\",\"type\":"
     "\"choice\",\"answerValueSet\":\"#v\\u0073\"}]}",
     0, 0, NULL, NULL, NULL, FAST_NO},
    /* a Bundle entry's resource is a root of its own */
    {BUNDLE("collection", "{\"fullUrl\":\"http://x/1\",\"resource\":{\"resourceType\":\"Patient\","
                          "\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\"}]}},"
                          "{\"fullUrl\":\"http://x/2\",\"resource\":{\"resourceType\":\"Patient\","
                          "\"managingOrganization\":{\"reference\":\"#o\"},\"contained\":[{"
                          "\"resourceType\":\"Organization\",\"id\":\"o\"}]}}"),
     1, 0, "invariant", "Bundle.entry[0].resource.contained[0]", "dom-3", FAST_DEFAULT},
#define DOC(head, entries)                                                                         \
    "{\"resourceType\":\"Bundle\",\"type\":\"document\"," head ",\"entry\":[" entries "]}"
#define DOC_ID "\"identifier\":{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:oid:1.2.3\"}"
#define DOC_TS "\"timestamp\":\"2015-02-07T13:28:17Z\""
#define COMP_ENTRY                                                                                 \
    "{\"fullUrl\":\"http://x/Composition/c\",\"resource\":{\"resourceType\":\"Composition\","      \
    "\"status\":\"final\",\"type\":{\"text\":\"t\"},\"date\":\"2015\",\"author\":[{\"display\":"   \
    "\"a\"}],\"title\":\"t\"}}"
    {DOC(DOC_ID "," DOC_TS, COMP_ENTRY), 0, 0, NULL, NULL, NULL, FAST_DEFAULT},
    {DOC(DOC_TS, COMP_ENTRY), 1, 0, "invariant", "Bundle.identifier", "bdl-9", FAST_DEFAULT},
    {DOC("\"identifier\":{\"value\":\"1\"}," DOC_TS, COMP_ENTRY), 1, 0, "invariant",
     "Bundle.identifier", "bdl-9", FAST_DEFAULT},
    {DOC(DOC_ID, COMP_ENTRY), 1, 0, "invariant", "Bundle.timestamp", "bdl-10", FAST_DEFAULT},
    {DOC(DOC_ID "," DOC_TS, PAT_ENTRY("http://x/Patient/1") "," COMP_ENTRY), 1, 0, "invariant",
     "Bundle.entry[0].resource", "bdl-11", FAST_DEFAULT},
    {DOC(DOC_ID "," DOC_TS, "{\"fullUrl\":\"http://x/1\",\"resource\":{\"resourceType\":"
                            "\"Patient\"}}"),
     1, 0, "invariant", "Bundle.entry[0].resource", "bdl-11", FAST_DEFAULT},
    /* no first resource: entry.first().resource.is(Composition) is empty */
    {"{\"resourceType\":\"Bundle\",\"type\":\"document\"," DOC_ID "," DOC_TS "}", 0, 0, NULL, NULL,
     NULL, FAST_DEFAULT},
    {BUNDLE("message", PAT_ENTRY("http://x/Patient/1")), 1, 0, "invariant",
     "Bundle.entry[0].resource", "bdl-12", FAST_DEFAULT},
    {BUNDLE("message", "{\"fullUrl\":\"http://x/m\",\"resource\":{\"resourceType\":"
                       "\"MessageHeader\",\"eventCoding\":{\"code\":\"e\"},\"source\":{"
                       "\"endpoint\":\"http://x\"}}}"),
     0, 0, NULL, NULL, NULL, FAST_DEFAULT},
#undef DOC
#undef DOC_ID
#undef DOC_TS
#undef COMP_ENTRY
};

START_TEST(invariants_on_both_paths)
{
    for (size_t i = 0; i < sizeof(invariant_cases) / sizeof(invariant_cases[0]); i++) {
        const char *text = invariant_cases[i].json;
        struct fhir_validate_result r;
        struct fhir_validate_result rt;
        json_t *oo = validate(text, NULL, &r);
        const json_t *issues = json_object_get(oo, "issue");
        const json_t *first = NULL;
        char *all = describe(oo);
        bool fast;

        ck_assert_msg(
            r.errors == invariant_cases[i].errors && r.warnings == invariant_cases[i].warnings,
            "case %zu %s: %zu errors, %zu warnings:\n%s", i, text, r.errors, r.warnings, all);
        for (size_t k = 0; first == NULL && k < json_array_size(issues); k++) {
            if (strcmp(issue_str(json_array_get(issues, k), "severity"), "error") == 0)
                first = json_array_get(issues, k);
        }
        if (invariant_cases[i].code != NULL) {
            ck_assert_ptr_nonnull(first);
            ck_assert_msg(
                strcmp(issue_str(first, "code"), invariant_cases[i].code) == 0 &&
                    strcmp(issue_str(first, "expression"), invariant_cases[i].where) == 0 &&
                    (invariant_cases[i].key == NULL ||
                     strstr(issue_str(first, "diagnostics"), invariant_cases[i].key) != NULL),
                "case %zu: want %s at %s (%s), got:\n%s", i, invariant_cases[i].code,
                invariant_cases[i].where, invariant_cases[i].key ? invariant_cases[i].key : "",
                all);
        }
        ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &rt, NULL),
                         invariant_cases[i].errors > 0 ? BASE_E_INVALID : BASE_OK);
        fast = invariant_cases[i].errors == 0 && invariant_cases[i].fast != FAST_NO;
        ck_assert_msg(rt.fast == fast, "case %zu %s: fast %d", i, text, rt.fast);
        free(all);
        json_decref(oo);
    }
}
END_TEST
#undef BUNDLE
#undef PAT_ENTRY
#undef PAT_ENTRY_V
#undef PERIOD
#undef RANGE
#undef UCUM
#undef REPEAT
#undef TIMING
#undef OBS_CODED
#undef UUID

/*
 * An attachment of n bytes with a space where k % period == phase and
 * bad_byte at bad (SIZE_MAX: none): the text path settles it exactly when
 * it is valid (no bad byte, (data characters) % 4 == 0), and the tree
 * agrees.
 */
static void
attachment_on_the_text_path(size_t n, size_t period, size_t phase, size_t bad, char bad_byte)
{
    char *text = binary_with_data("", n, "");
    char *data = strstr(text, "\"data\":\"") + 8;
    size_t spaces = 0;
    struct fhir_validate_result r;
    struct fhir_validate_result rt;
    json_t *oo;
    bool valid;

    for (size_t k = 0; k < n; k++) {
        if (k % period == phase) {
            data[k] = ' ';
            spaces++;
        }
    }
    if (bad != SIZE_MAX)
        data[bad] = bad_byte;
    valid = (n - spaces) % 4 == 0 && bad == SIZE_MAX;
    oo = validate(text, NULL, &r);
    ck_assert_msg(r.errors == (valid ? 0u : 1u), "n %zu, period %zu, bad %zu: %zu errors", n,
                  period, bad, r.errors);
    ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &rt, NULL),
                     valid ? BASE_OK : BASE_E_INVALID);
    ck_assert_msg(rt.fast == valid, "n %zu, period %zu, bad %zu: fast %d", n, period, bad, rt.fast);
    json_decref(oo);
    free(text);
}

/* Long attachments with spaces in every lane: the space count decides
 * validity ((data characters) % 4), past the vector loop's count flush. */
START_TEST(long_base64_on_the_text_path)
{
    for (size_t n = 8180; n < 8220; n++)
        attachment_on_the_text_path(n, 7, 3, n % 9 == 0 ? n - 2 * (n % 200) - 1 : SIZE_MAX, '-');
}
END_TEST

/* The line break between members and before the '}' (stream.c
 * skip_ws_line: a newline and up to 15 spaces in one load when 17 bytes
 * remain): indentation of 0 to 20 spaces, other whitespace after it, the
 * break near the end of the text, valid and unknown names after it.  Tree
 * and text agree, and the text path settles the document exactly when it
 * is valid. */
START_TEST(line_breaks_on_the_text_path)
{
    static const char *const after[] = {"", "\t", "\r", "\n", " \n  ", "\r\n", "\n\n"};
    static const char *const members[] = {"\"gender\":\"male\"", "\"gendr\":\"male\"",
                                          "\"id\":\"a\"", "\"i\":1"};
    char text[256];
    char closing[64];
    size_t tried = 0;

    for (size_t k = 0; k <= 20; k++) {
        for (size_t a = 0; a < BASE_ARRAY_LEN(after); a++) {
            for (size_t m = 0; m < 2 * BASE_ARRAY_LEN(members); m++) {
                struct fhir_validate_result r;
                struct fhir_validate_result rt;
                json_t *oo;
                size_t mi = m % BASE_ARRAY_LEN(members);
                int n;

                /* the second round breaks the line before the '}' too */
                if (m < BASE_ARRAY_LEN(members))
                    (void)snprintf(closing, sizeof(closing), "}");
                else
                    (void)snprintf(closing, sizeof(closing), "\n%*s%s}", (int)(20 - k), "",
                                   after[a]);
                n = snprintf(text, sizeof(text),
                             "{\"resourceType\":\"Patient\",\"active\":true,\n%*s%s%s%s", (int)k,
                             "", after[a], members[mi], closing);
                ck_assert(n > 0 && (size_t)n < sizeof(text));
                oo = validate(text, NULL, &r);
                ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &rt, NULL),
                                 r.errors == 0 ? BASE_OK : BASE_E_INVALID);
                ck_assert_msg(rt.fast == (r.errors == 0), "%zu spaces, after %zu, member %zu", k, a,
                              m);
                ck_assert_uint_eq(r.errors, mi == 1 || mi == 3 ? 1u : 0u);
                json_decref(oo);
                tried++;
            }
        }
    }
    ck_assert_uint_eq(tried, 21 * 7 * 8);
}
END_TEST

/* Escapes in a narrative at every offset of the 16-byte copy steps of
 * stream.c's decode(), in strings under and over its 4 KiB stack buffer:
 * the narrative is checked on the decoded text, so a wrong byte there
 * changes the verdict ("<\/p>" closes an element, "<\\/p>" is no tag).
 * \b and \f (controls) and \u escapes go to the tree, which decides. */
START_TEST(escapes_on_the_text_path)
{
    static const struct {
        const char *esc;
        bool valid;
    } forms[] = {
        {"<p>a<\\/p>", true}, {"y\\n", true},          {"\\\\", true},    {"\\\"", true},
        {"\\t\\/\\r", true},  {"<p>a<\\\\/p>", false}, {"<\\/p>", false}, {"y\\b", false},
        {"y\\f", false},      {"y\\u0041", true},
    };
    static const size_t fills[] = {0,  1,  2,  7,  13,   14,   15,   16,  17,
                                   30, 31, 32, 33, 4030, 4040, 4060, 5000};
    const char *head =
        "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":\"<div "
        "xmlns=\\\"http://www.w3.org/1999/xhtml\\\">";
    size_t cap = strlen(head) + 5000 + 64;
    char *text = malloc(cap);

    ck_assert_ptr_nonnull(text);
    for (size_t f = 0; f < BASE_ARRAY_LEN(fills); f++) {
        for (size_t k = 0; k < BASE_ARRAY_LEN(forms); k++) {
            struct fhir_validate_result r;
            struct fhir_validate_result rt;
            json_t *oo;
            size_t n = strlen(head);

            memcpy(text, head, n);
            memset(text + n, 'x', fills[f]);
            n += fills[f];
            (void)snprintf(text + n, cap - n, "%s<\\/div>\"}}", forms[k].esc);
            oo = validate(text, NULL, &r);
            ck_assert_msg(r.errors == (forms[k].valid ? 0u : 1u), "fill %zu, form %zu: %zu errors",
                          fills[f], k, r.errors);
            ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &rt, NULL),
                             forms[k].valid ? BASE_OK : BASE_E_INVALID);
            /* \u escapes are left to the tree */
            ck_assert_msg(rt.fast == (forms[k].valid && strstr(forms[k].esc, "\\u") == NULL),
                          "fill %zu, form %zu: fast %d", fills[f], k, rt.fast);
            json_decref(oo);
        }
    }
    free(text);
}
END_TEST

/* Every escape in a free-text string, at offsets on both sides of the
 * scanner's 16-byte steps: \b and \f decode to controls (a warning, left to
 * the tree), \u goes to the tree, the others stay on the text path. */
START_TEST(string_escapes_on_the_text_path)
{
    static const struct {
        const char *esc;
        bool fast;
        unsigned warnings;
    } forms[] = {
        {"\\b", false, 1}, {"\\f", false, 1}, {"\\n", true, 0},
        {"\\r", true, 0},  {"\\t", true, 0},  {"\\\"", true, 0},
        {"\\\\", true, 0}, {"\\/", true, 0},  {"\\u0041", false, 0},
    };
    char text[256];

    for (size_t fill = 0; fill < 40; fill++) {
        for (size_t k = 0; k < BASE_ARRAY_LEN(forms); k++) {
            struct fhir_validate_result r;
            struct fhir_validate_result rt;
            json_t *oo;

            (void)snprintf(text, sizeof(text),
                           "{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"%.*s%sz\"}]}",
                           (int)fill, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
                           forms[k].esc);
            oo = validate(text, NULL, &r);
            ck_assert_uint_eq(r.errors, 0);
            ck_assert_msg(r.warnings == forms[k].warnings, "fill %zu, form %zu: %zu warnings", fill,
                          k, r.warnings);
            ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &rt, NULL),
                             BASE_OK);
            ck_assert_msg(rt.fast == forms[k].fast, "fill %zu, form %zu: fast %d", fill, k,
                          rt.fast);
            json_decref(oo);
        }
    }
}
END_TEST

/* Spaces at the same lanes of every 128-byte step (a period of 4, 32, 128
 * or 7 bytes) until the AVX2 loop's byte counters wrap several times (they
 * count modulo 256; only the count modulo 4 matters), with and without a
 * byte outside the alphabet in the second to fourth 32-byte vector of a
 * step: the text path accepts exactly the valid ones, and the tree agrees. */
START_TEST(base64_space_counts_on_the_text_path)
{
    static const size_t periods[] = {4, 32, 128, 7};

    for (size_t pi = 0; pi < BASE_ARRAY_LEN(periods); pi++) {
        for (size_t n = 20000; n < 20012; n++) {
            for (size_t bad_at = 0; bad_at <= 3; bad_at++)
                attachment_on_the_text_path(n, periods[pi], periods[pi] - 1,
                                            bad_at > 0 ? 128 * 100 + 32 * bad_at + 5 : SIZE_MAX,
                                            '*');
        }
    }
}
END_TEST

/* Every printable ASCII byte (and a UTF-8 letter) inside the vector blocks
 * of an attachment: the nibble tables of the AVX2 check allow exactly the
 * alphabet and the space. */
START_TEST(base64_bytes_on_the_text_path)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (unsigned b = 0x20; b <= 0x80; b++) {
        char *text;
        char *data;
        struct fhir_validate_result r;
        struct fhir_validate_result rt;
        json_t *oo;

        if (b == '"' || b == '\\')
            continue;
        text = binary_with_data("", 256, "");
        data = strstr(text, "\"data\":\"") + 8;
        for (size_t k = 0; k < 256; k++)
            data[k] = alphabet[(k * 7) % 64];
        if (b == 0x80) {
            data[100] = '\xc3'; /* U+00E9 */
            data[101] = '\xa9';
        } else {
            data[100] = (char)b;
            data[101] = (char)b;
        }
        oo = validate(text, NULL, &r);
        ck_assert_msg(r.errors == (strchr(alphabet, (int)b) != NULL && b != 0 ? 0u : 1u) ||
                          (b == ' ' && r.errors == 1),
                      "byte %#x: %zu errors", b, r.errors);
        ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &rt, NULL),
                         r.errors == 0 ? BASE_OK : BASE_E_INVALID);
        ck_assert_msg(rt.fast == (r.errors == 0), "byte %#x: fast %d", b, rt.fast);
        json_decref(oo);
        free(text);
    }
}
END_TEST

START_TEST(validate_json_reports_parse_errors)
{
    json_t *oo = fhir_outcome_new();
    struct fhir_validate_result r;
    struct base_err err = {0};
    const char *text = "{\"resourceType\":\"Patient\",}";
    const json_t *is;

    ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, oo, &r, &err), BASE_E_INVALID);
    ck_assert_uint_eq(r.errors, 1);
    is = json_array_get(json_object_get(oo, "issue"), 0);
    ck_assert_str_eq(issue_str(is, "code"), "structure");
    ck_assert_str_eq(issue_str(is, "expression"), "line 1, column 27");
    json_decref(oo);
    text = "{\"resourceType\":\"Patient\",\"gender\":\"male\"}";
    ck_assert_int_eq(fhir_validate_json(text, strlen(text), NULL, NULL, &r, NULL), BASE_OK);
    ck_assert_uint_eq(r.errors, 0);
}
END_TEST

START_TEST(depth_limit)
{
    struct fhir_validate_opts opts = {.max_depth = 3};
    struct fhir_validate_result r;
    json_t *oo = validate(P("\"extension\":[{\"url\":\"a\",\"extension\":[{\"url\":\"b\","
                            "\"extension\":[{\"url\":\"c\",\"valueString\":\"x\"}]}]}]"),
                          &opts, &r);

    ck_assert_uint_ge(r.errors, 1);
    ck_assert_str_eq(issue_str(json_array_get(json_object_get(oo, "issue"), 0), "code"),
                     "too-costly");
    json_decref(oo);
}
END_TEST

START_TEST(validate_a_fragment)
{
    const struct fhir_model_type *cc = fhir_model_type_find("CodeableConcept", 15);
    const struct fhir_model_type *obs = fhir_model_type_find("Observation", 11);
    json_t *v = parse("{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"1-8\","
                      "\"userSelected\":\"yes\"}]}");
    json_t *oo = fhir_outcome_new();
    struct fhir_validate_result r;

    ck_assert_int_eq(fhir_validate_value(v, cc, "Observation.code", NULL, oo, &r, NULL),
                     BASE_E_INVALID);
    ck_assert_uint_eq(r.errors, 1);
    ck_assert_str_eq(issue_str(json_array_get(json_object_get(oo, "issue"), 0), "expression"),
                     "Observation.code.coding[0].userSelected");
    json_decref(v);
    json_decref(oo);
    /* sqty-1 applies when a value is checked as a SimpleQuantity */
    v = parse("{\"value\":1,\"comparator\":\"<\"}");
    oo = fhir_outcome_new();
    ck_assert_int_eq(fhir_validate_value(v, fhir_model_type_find("SimpleQuantity", 14), "Dose",
                                         NULL, oo, &r, NULL),
                     BASE_E_INVALID);
    ck_assert_str_eq(issue_str(json_array_get(json_object_get(oo, "issue"), 0), "expression"),
                     "Dose.comparator");
    ck_assert_str_eq(issue_str(json_array_get(json_object_get(oo, "issue"), 0), "code"),
                     "invariant");
    json_decref(v);
    json_decref(oo);
    v = parse("{\"resourceType\":\"Patient\"}");
    ck_assert_int_eq(fhir_validate_value(v, obs, NULL, NULL, NULL, &r, NULL), BASE_E_INVALID);
    json_decref(v);
}
END_TEST

Suite *
fhir_validate_suite(void)
{
    Suite *s = suite_create("fhir_validate");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, bad_case, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_loop_test(tc, good_case, 0, (int)(sizeof(good_cases) / sizeof(good_cases[0])));
    tcase_add_test(tc, all_problems_are_reported);
    tcase_add_test(tc, issues_are_capped);
    tcase_add_test(tc, warnings_and_errors_only);
    tcase_add_test(tc, expected_type);
    tcase_add_test(tc, messages_never_quote_values);
    tcase_add_test(tc, validate_json_reports_parse_errors);
    tcase_add_test(tc, base64_on_the_text_path);
    tcase_add_test(tc, member_loop_on_the_text_path);
    tcase_add_test(tc, inline_checks_on_the_text_path);
    tcase_add_test(tc, invariants_on_both_paths);
    tcase_add_test(tc, long_base64_on_the_text_path);
    tcase_add_test(tc, base64_bytes_on_the_text_path);
    tcase_add_test(tc, base64_space_counts_on_the_text_path);
    tcase_add_test(tc, line_breaks_on_the_text_path);
    tcase_add_test(tc, escapes_on_the_text_path);
    tcase_add_test(tc, string_escapes_on_the_text_path);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, validate_a_fragment);
    suite_add_tcase(s, tc);
    return s;
}
