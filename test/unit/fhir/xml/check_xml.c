/*
 * fhir/xml by hand-written cases: the XML forms of the R4 representation
 * (https://hl7.org/fhir/R4/xml.html) read into the exact JSON trees, the
 * writer's output, and every error path of reader, pre-scan and writer —
 * each with its return code, issue code and location.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/xml/fhir_xml.h"

#define NS    "xmlns=\"http://hl7.org/fhir\""
#define XHTML "xmlns=\"http://www.w3.org/1999/xhtml\""

static json_t *
json(const char *text)
{
    json_t *j = NULL;
    struct base_err err = {0};

    ck_assert_msg(fhir_json_parse(text, strlen(text), NULL, &j, &err) == BASE_OK, "%s", err.msg);
    return j;
}

static char *
dump(const json_t *j)
{
    struct base_buf b;
    char *s;

    base_buf_init(&b, 0);
    ck_assert_int_eq(fhir_json_dump(j, FHIR_JSON_SORT_KEYS, &b, NULL), BASE_OK);
    s = strdup(b.data);
    base_buf_fini(&b);
    return s;
}

/* XML -> JSON must give `expect`, and the result must survive
 * JSON -> XML -> JSON unchanged (compact and pretty). */
static void
expect_json(const char *xml, const char *expect)
{
    json_t *got = NULL;
    json_t *want = json(expect);
    json_t *oo = fhir_outcome_new();
    struct base_err err = {0};
    struct base_buf b;

    ck_assert_msg(fhir_xml_read(xml, strlen(xml), NULL, oo, &got, &err) == BASE_OK, "%s: %s",
                  err.where, err.msg);
    ck_assert_uint_eq(json_array_size(json_object_get(oo, "issue")), 0);
    if (!fhir_json_equal(got, want)) {
        char *g = dump(got);

        ck_abort_msg("got %s\nwant %s", g, expect);
    }
    base_buf_init(&b, 0);
    for (unsigned flags = 0; flags <= FHIR_XML_PRETTY; flags++) {
        json_t *again = NULL;

        base_buf_reset(&b);
        ck_assert_int_eq(fhir_xml_write(got, flags, &b, &err), BASE_OK);
        ck_assert_int_eq(fhir_xml_read(b.data, b.len, NULL, NULL, &again, &err), BASE_OK);
        ck_assert_msg(fhir_json_equal(got, again), "unstable: %s", b.data);
        json_decref(again);
    }
    base_buf_fini(&b);
    json_decref(got);
    json_decref(want);
    json_decref(oo);
}

/* XML (len bytes, SIZE_MAX: a C string) -> rc; the first issue has `code`
 * and location `where` (when not NULL) and its message contains `msg` (when
 * not NULL).  Returns the tree (NULL unless rc is BASE_E_INVALID and a
 * resource was read). */
static json_t *
expect_fail_lim(const char *xml, size_t len, const struct fhir_xml_limits *lim, int rc,
                const char *code, const char *where, const char *msg)
{
    json_t *got = NULL;
    json_t *oo = fhir_outcome_new();
    struct base_err err = {0};
    json_t *is;

    if (len == SIZE_MAX)
        len = strlen(xml);
    ck_assert_int_eq(fhir_xml_read(xml, len, lim, oo, &got, &err), rc);
    ck_assert_int_ne(err.rc, 0);
    is = json_array_get(json_object_get(oo, "issue"), 0);
    ck_assert_ptr_nonnull(is);
    ck_assert_str_eq(json_string_value(json_object_get(is, "code")), code);
    ck_assert_str_eq(err.issue_code, code);
    if (where != NULL) {
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(is, "expression"), 0)),
                         where);
        ck_assert_str_eq(err.where, where);
    }
    if (msg != NULL)
        ck_assert_msg(strstr(json_string_value(json_object_get(is, "diagnostics")), msg) != NULL,
                      "message: %s", json_string_value(json_object_get(is, "diagnostics")));
    if (rc != BASE_E_INVALID)
        ck_assert_ptr_null(got);
    json_decref(oo);
    return got;
}

static void
expect_fail(const char *xml, int rc, const char *code, const char *where, const char *msg)
{
    json_decref(expect_fail_lim(xml, strlen(xml), NULL, rc, code, where, msg));
}

/* Reader problems that leave a tree: check it, then drop it. */
static void
expect_invalid(const char *xml, const char *where, const char *msg, const char *tree)
{
    json_t *got = expect_fail_lim(xml, SIZE_MAX, NULL, BASE_E_INVALID, "structure", where, msg);
    json_t *want;

    if (tree == NULL) {
        ck_assert_ptr_null(got);
        return;
    }
    ck_assert_ptr_nonnull(got);
    want = json(tree);
    if (!fhir_json_equal(got, want))
        ck_abort_msg("tree %s\nwant %s", dump(got), tree);
    json_decref(want);
    json_decref(got);
}

/* ------------------------------------------------------------ reading -- */

START_TEST(primitive_with_id_and_extension)
{
    expect_json("<Patient " NS "><birthDate id=\"b1\" value=\"1974-12-25\">"
                "<extension url=\"http://hl7.org/fhir/StructureDefinition/patient-birthTime\">"
                "<valueDateTime value=\"1974-12-25T14:35:45-05:00\"/></extension>"
                "</birthDate></Patient>",
                "{\"resourceType\":\"Patient\",\"birthDate\":\"1974-12-25\",\"_birthDate\":"
                "{\"id\":\"b1\",\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/"
                "patient-birthTime\",\"valueDateTime\":\"1974-12-25T14:35:45-05:00\"}]}}");
}
END_TEST

START_TEST(repeating_primitive_aligned_with_nulls)
{
    expect_json("<Patient " NS "><name><given value=\"A\"/>"
                "<given><extension url=\"http://x.org/e\"><valueString value=\"v\"/></extension>"
                "</given><given id=\"g3\" value=\"C\"/></name></Patient>",
                "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"A\",null,\"C\"],"
                "\"_given\":[null,{\"extension\":[{\"url\":\"http://x.org/e\","
                "\"valueString\":\"v\"}]},{\"id\":\"g3\"}]}]}");
    /* no item has an id or extension: no "_given"; no item has a value: no "given" */
    expect_json("<Patient " NS "><name><given value=\"A\"/><given value=\"B\"/></name></Patient>",
                "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"A\",\"B\"]}]}");
    expect_json("<Patient " NS "><name><given id=\"x\"/></name></Patient>",
                "{\"resourceType\":\"Patient\",\"name\":[{\"_given\":[{\"id\":\"x\"}]}]}");
}
END_TEST

START_TEST(primitive_with_extension_only)
{
    expect_json("<Patient " NS "><gender><extension "
                "url=\"http://hl7.org/fhir/StructureDefinition/data-absent-reason\">"
                "<valueCode value=\"unknown\"/></extension></gender></Patient>",
                "{\"resourceType\":\"Patient\",\"_gender\":{\"extension\":[{\"url\":"
                "\"http://hl7.org/fhir/StructureDefinition/data-absent-reason\","
                "\"valueCode\":\"unknown\"}]}}");
}
END_TEST

START_TEST(numbers_and_booleans_typed_by_the_model)
{
    expect_json("<Patient " NS "><active value=\"false\"/><deceasedBoolean value=\"true\"/>"
                "<multipleBirthInteger value=\"-3\"/></Patient>",
                "{\"resourceType\":\"Patient\",\"active\":false,\"deceasedBoolean\":true,"
                "\"multipleBirthInteger\":-3}");
    /* decimal text kept exactly, integers stay integers, codes stay strings */
    expect_json(
        "<Observation " NS "><status value=\"final\"/><code><text value=\"1.50\"/></code>"
        "<valueQuantity><value value=\"1.50\"/><comparator value=\"&lt;\"/>"
        "<code value=\"10\"/></valueQuantity></Observation>",
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":"
        "\"1.50\"},\"valueQuantity\":{\"value\":1.50,\"comparator\":\"<\",\"code\":\"10\"}}");
    expect_json("<Observation " NS "><status value=\"final\"/><code><text value=\"x\"/></code>"
                "<valueInteger value=\"2147483647\"/></Observation>",
                "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                "\"valueInteger\":2147483647}");
}
END_TEST

START_TEST(resources_inside_elements)
{
    expect_json("<Patient " NS "><contained><Organization><id value=\"o1\"/>"
                "<name value=\"Acme\"/></Organization></contained>"
                "<contained><Practitioner><id value=\"p1\"/></Practitioner></contained>"
                "<managingOrganization><reference value=\"#o1\"/></managingOrganization>"
                "</Patient>",
                "{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":\"Organization\","
                "\"id\":\"o1\",\"name\":\"Acme\"},{\"resourceType\":\"Practitioner\",\"id\":"
                "\"p1\"}],\"managingOrganization\":{\"reference\":\"#o1\"}}");
    expect_json("<Bundle " NS "><type value=\"batch-response\"/><entry><resource><Patient>"
                "<id value=\"a\"/></Patient></resource><response><status value=\"200\"/>"
                "<outcome><OperationOutcome><issue><severity value=\"information\"/>"
                "<code value=\"informational\"/></issue></OperationOutcome></outcome></response>"
                "</entry></Bundle>",
                "{\"resourceType\":\"Bundle\",\"type\":\"batch-response\",\"entry\":[{\"resource\":"
                "{\"resourceType\":\"Patient\",\"id\":\"a\"},\"response\":{\"status\":\"200\","
                "\"outcome\":{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
                "\"information\",\"code\":\"informational\"}]}}}]}");
    /* IHE MHD / CH Core style: the inner resource re-declares the FHIR namespace and comments
     * stand around it inside <resource> */
    expect_json("<Bundle " NS "><type value=\"transaction\"/><entry><resource>\n<!-- c -->\n"
                "<List " NS "><!-- <id value=\"x\"/> --><status value=\"current\"/>"
                "<mode value=\"working\"/></List><!-- d --></resource><request>"
                "<method value=\"POST\"/><url value=\"List\"/></request></entry></Bundle>",
                "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
                "{\"resourceType\":\"List\",\"status\":\"current\",\"mode\":\"working\"},"
                "\"request\":{\"method\":\"POST\",\"url\":\"List\"}}]}");
    expect_json("<Parameters " NS "><parameter><name value=\"p\"/><resource><Basic>"
                "<code><text value=\"t\"/></code></Basic></resource></parameter></Parameters>",
                "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"p\",\"resource\":"
                "{\"resourceType\":\"Basic\",\"code\":{\"text\":\"t\"}}}]}");
}
END_TEST

START_TEST(xml_syntax_that_carries_no_content)
{
    /* BOM, declaration, comments, xsi:schemaLocation, a prefix for FHIR */
    expect_json("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- c -->"
                "<f:Patient xmlns:f=\"http://hl7.org/fhir\" "
                "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                "xsi:schemaLocation=\"http://hl7.org/fhir patient.xsd\">\n"
                "  <!-- <!DOCTYPE in a comment is text --><f:id value=\"x\"/>\n"
                "  <f:active value=\"true\"><!-- c --></f:active>\n</f:Patient>\n<!-- end -->",
                "{\"resourceType\":\"Patient\",\"id\":\"x\",\"active\":true}");
    /* an XML 1.1 declaration: read as XML 1.0 (only 1.1's extra characters are refused) */
    expect_json("<?xml version=\"1.1\" encoding=\"UTF-8\"?>\n<Patient " NS "><id value=\"x\"/>"
                "</Patient>",
                "{\"resourceType\":\"Patient\",\"id\":\"x\"}");
}
END_TEST

START_TEST(attribute_values_escaped_and_exact)
{
    /* entities, character references, whitespace references, non-ASCII */
    expect_json("<Patient " NS "><name><text value=\"a &amp; b &lt;c&gt; &quot;q&quot; "
                "&apos;s&apos; &#38;amp; &#x9;&#10;&#13; \xC3\xA9\xE4\xB8\xAD\"/>"
                "<family value=\"  padded  \"/></name></Patient>",
                "{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"a & b <c> \\\"q\\\" 's' "
                "&amp; \\t\\n\\r \xC3\xA9\xE4\xB8\xAD\",\"family\":\"  padded  \"}]}");
}
END_TEST

START_TEST(narrative_canonical_form)
{
    /* prefix, entities, CDATA, comments, attribute quotes, empty elements */
    expect_json("<Patient " NS "><text><status value=\"generated\"/>"
                "<h:div xmlns:h=\"http://www.w3.org/1999/xhtml\" xmlns:u=\"urn:unused\">"
                "<h:p class='c' title=\"a&amp;b&#10;\">x &lt; y &amp; &quot;z&quot; 'q'"
                "<![CDATA[<raw>]]><!-- dropped --><h:br></h:br><h:img src=\"a.png\"/>"
                "</h:p></h:div></text></Patient>",
                "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":"
                "\"<div "
                "xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><p class=\\\"c\\\" "
                "title=\\\"a&amp;b&#10;\\\">x &lt; y &amp; &quot;z&quot; 'q'&lt;raw&gt;<br/>"
                "<img src=\\\"a.png\\\"/></p></div>\"}}");
    /* xml:lang is the one prefixed attribute XHTML has */
    expect_json(
        "<Patient " NS "><text><status value=\"generated\"/><div " XHTML
        " xml:lang=\"en\">t</div></text></Patient>",
        "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":"
        "\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\" xml:lang=\\\"en\\\">t</div>\"}}");
    /* an empty element keeps its spelling (`<span></span>` written `<span/>`
     * opens a span an HTML parser never closes), except those whose content
     * model is EMPTY (XHTML 1.0 Appendix C.2, C.3) */
    expect_json("<Patient " NS "><text><status value=\"generated\"/><div " XHTML
                "><table><tr><td></td><td/><td></td ></tr></table><a name=\"x\"></a>"
                "<span/>t<hr></hr><col/></div></text></Patient>",
                "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":"
                "\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><table><tr><td></td><td/>"
                "<td></td></tr></table><a name=\\\"x\\\"></a><span/>t<hr/><col/></div>\"}}");
}
END_TEST

/* ------------------------------------------------- reading: problems -- */

START_TEST(malformed_xml)
{
    expect_fail("<Patient " NS "><id value=\"x\"></Patient>", BASE_E_PARSE, "structure", NULL,
                "end tag does not match start tag");
    expect_fail("<Patient " NS "><id value=\"x/></Patient>", BASE_E_PARSE, "structure", NULL, NULL);
    expect_fail("", BASE_E_PARSE, "structure", "line 1, column 1", "the document is empty");
    expect_fail("  \n ", BASE_E_PARSE, "structure", "line 2, column 2", "the document is empty");
    expect_fail("\xEF\xBB\xBF", BASE_E_PARSE, "structure", NULL, "the document is empty");
    /* text or JSON posted as XML is said to be that (libxml2: "empty") */
    expect_fail("{\"resourceType\":\"Patient\"}", BASE_E_PARSE, "structure", "line 1, column 1",
                "the document does not start with XML markup");
    expect_fail("\n  Hello validator\n", BASE_E_PARSE, "structure", "line 2, column 3",
                "does not start with XML markup");
    expect_fail("<Patient " NS "/><Patient " NS "/>", BASE_E_PARSE, "structure", NULL,
                "content after the root element");
    expect_fail("<Patient " NS "><active value=\"&bogus;\"/></Patient>", BASE_E_PARSE, "structure",
                NULL, "entity");
    expect_fail("<Patient " NS "><active value=\"a\" value=\"b\"/></Patient>", BASE_E_PARSE,
                "structure", NULL, "attribute given twice");
    /* the first error libxml2 meets names the cause; the last ("unterminated
     * tag") named its consequence */
    expect_fail("<Patient " NS ">\n<name><family value=\"A < B\"/></name></Patient>", BASE_E_PARSE,
                "structure", "line 2, column 24", "malformed attribute");
    expect_fail("<Patient " NS ">\n<active value=true/></Patient>", BASE_E_PARSE, "structure",
                "line 2, column 15", "malformed attribute");
    expect_fail("<Patient " NS ">\n<name><family value=\"A & B\"/></name></Patient>", BASE_E_PARSE,
                "structure", "line 2, column 25", "name expected after '<' or '&'");
    expect_fail("< Patient/>", BASE_E_PARSE, "structure", "line 1, column 2", "name expected");
    /* cut off inside the root (a transfer cut short) is not "content after
     * the root", which libxml2's push mode calls both */
    expect_fail("<Patient " NS ">\n<active value=\"true\"/>\n", BASE_E_PARSE, "structure",
                "line 2, column 23", "the document ends before its root element is closed");
    expect_fail("<Patient " NS "><name><family value=\"x\"/>", BASE_E_PARSE, "structure", NULL,
                "the document ends before its root element is closed");
}
END_TEST

START_TEST(wrong_namespace)
{
    expect_invalid("<Patient xmlns=\"urn:other\"><id value=\"x\"/></Patient>", NULL,
                   "not in the FHIR namespace", NULL);
    expect_invalid("<Patient><id value=\"x\"/></Patient>", NULL, "not in the FHIR namespace", NULL);
    expect_invalid("<Patient " NS "><x:active xmlns:x=\"urn:x\" value=\"true\"/><id value=\"i\"/>"
                   "</Patient>",
                   "Patient.active", "element is not in the FHIR namespace",
                   "{\"resourceType\":\"Patient\",\"id\":\"i\"}");
    expect_invalid("<Patient " NS "><text><status value=\"generated\"/><div>t</div></text>"
                   "</Patient>",
                   "Patient.text.div", "not in the XHTML namespace",
                   "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\"}}");
    expect_invalid("<Patient " NS " xmlns:x=\"urn:x\" x:a=\"1\"/>", "Patient",
                   "attribute in a foreign namespace", "{\"resourceType\":\"Patient\"}");
}
END_TEST

START_TEST(root_not_a_resource)
{
    expect_invalid("<HumanName " NS "><family value=\"x\"/></HumanName>", NULL,
                   "not an R4 resource type", NULL);
    expect_invalid("<DomainResource " NS "/>", NULL, "not an R4 resource type", NULL);
}
END_TEST

START_TEST(unknown_elements_and_attributes)
{
    expect_invalid("<Patient " NS "><foo value=\"1\"><bar/></foo><active value=\"true\"/>"
                   "</Patient>",
                   "Patient.foo", "unknown element for type Patient",
                   "{\"resourceType\":\"Patient\",\"active\":true}");
    expect_invalid("<Patient " NS "><name><given value=\"a\"/><given value=\"b\" foo=\"x\"/>"
                   "</name></Patient>",
                   "Patient.name[0].given[1]", "unknown attribute",
                   "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\",\"b\"]}]}");
    /* the JSON-only "_name" form and Element.id as an element are not XML */
    expect_invalid("<Patient " NS "><name><_given value=\"a\"/></name></Patient>",
                   "Patient.name[0]._given", "unknown element",
                   "{\"resourceType\":\"Patient\",\"name\":[{}]}");
    expect_invalid("<Patient " NS "><name><id value=\"a\"/></name></Patient>", "Patient.name[0].id",
                   "unknown element", "{\"resourceType\":\"Patient\",\"name\":[{}]}");
    expect_invalid("<Patient " NS "><name value=\"x\"/></Patient>", "Patient.name[0]",
                   "unknown attribute for type HumanName",
                   "{\"resourceType\":\"Patient\",\"name\":[{}]}");
    expect_invalid("<Patient " NS " id=\"x\"/>", "Patient", "unknown attribute",
                   "{\"resourceType\":\"Patient\"}");
    /* names that could be anything are not echoed */
    expect_invalid("<Patient " NS "><Patient.ssn-123 value=\"1\"/></Patient>",
                   "Patient.(invalid name)", NULL, "{\"resourceType\":\"Patient\"}");
}
END_TEST

START_TEST(cardinality_and_order)
{
    expect_invalid("<Patient " NS "><gender value=\"male\"/><gender value=\"female\"/></Patient>",
                   "Patient.gender", "more than once",
                   "{\"resourceType\":\"Patient\",\"gender\":\"male\"}");
    expect_invalid("<Patient " NS "><deceasedBoolean value=\"true\"/>"
                   "<deceasedDateTime value=\"2020\"/></Patient>",
                   "Patient.deceasedDateTime", "more than one value for a choice element",
                   "{\"resourceType\":\"Patient\",\"deceasedBoolean\":true}");
    /* out of order: reported, content kept */
    expect_invalid("<Patient " NS "><gender value=\"male\"/><name><family value=\"F\"/></name>"
                   "</Patient>",
                   "Patient.name", "out of order",
                   "{\"resourceType\":\"Patient\",\"gender\":\"male\",\"name\":[{\"family\":"
                   "\"F\"}]}");
    expect_invalid("<Patient " NS "><name><given value=\"a\"/><family value=\"F\"/>"
                   "<given value=\"b\"/></name></Patient>",
                   "Patient.name[0].family", "out of order",
                   "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\",\"b\"],"
                   "\"family\":\"F\"}]}");
    expect_invalid("<Patient " NS "><name/><telecom/><name/></Patient>", "Patient.name",
                   "must be adjacent",
                   "{\"resourceType\":\"Patient\",\"name\":[{},{}],\"telecom\":[{}]}");
    /* ClaimResponse.adjudication (a contentReference to item.adjudication) sits between
     * addItem and total (R4 fhir-single.xsd) */
    expect_json("<ClaimResponse " NS "><outcome value=\"complete\"/><addItem>"
                "<productOrService><text value=\"s\"/></productOrService></addItem>"
                "<adjudication><category><text value=\"eligible\"/></category><amount>"
                "<value value=\"100.47\"/><currency value=\"USD\"/></amount></adjudication>"
                "<total><category><text value=\"submitted\"/></category><amount>"
                "<value value=\"135.57\"/></amount></total></ClaimResponse>",
                "{\"resourceType\":\"ClaimResponse\",\"outcome\":\"complete\",\"addItem\":[{"
                "\"productOrService\":{\"text\":\"s\"}}],\"adjudication\":[{\"category\":{"
                "\"text\":\"eligible\"},\"amount\":{\"value\":100.47,\"currency\":\"USD\"}}],"
                "\"total\":[{\"category\":{\"text\":\"submitted\"},\"amount\":{\"value\":"
                "135.57}}]}");
    expect_invalid("<Invoice " NS "><totalNet><value value=\"1\"/></totalNet>"
                   "<totalPriceComponent><type value=\"base\"/></totalPriceComponent></Invoice>",
                   "Invoice.totalPriceComponent", "out of order",
                   "{\"resourceType\":\"Invoice\",\"totalNet\":{\"value\":1},"
                   "\"totalPriceComponent\":[{\"type\":\"base\"}]}");
}
END_TEST

START_TEST(primitive_values)
{
    expect_invalid("<Patient " NS "><gender/><active value=\"true\"/></Patient>", "Patient.gender",
                   "no value attribute, id or extension",
                   "{\"resourceType\":\"Patient\",\"active\":true}");
    expect_invalid("<Patient " NS "><name><given value=\"a\"/><given/><given value=\"c\"/>"
                   "</name></Patient>",
                   "Patient.name[0].given[1]", "no value attribute",
                   "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\",\"c\"]}]}");
    expect_fail("<Patient " NS "><active value=\"SECRET\"/></Patient>", BASE_E_INVALID, "value",
                "Patient.active", "value is not a valid boolean (line 1)");
    expect_fail("<Patient " NS "><multipleBirthInteger value=\"01\"/></Patient>", BASE_E_INVALID,
                "value", "Patient.multipleBirthInteger", "not a valid integer");
    expect_fail("<Observation " NS "><valueQuantity><value value=\" 1.5\"/></valueQuantity>"
                "</Observation>",
                BASE_E_INVALID, "value", "Observation.valueQuantity.value", "not a valid decimal");
    expect_invalid("<Patient " NS ">hello<active value=\"true\">x</active></Patient>", "Patient",
                   "text content is not allowed", "{\"resourceType\":\"Patient\",\"active\":true}");
}
END_TEST

START_TEST(resource_wrappers)
{
    expect_invalid("<Patient " NS "><contained/></Patient>", "Patient.contained[0]",
                   "must contain a resource", "{\"resourceType\":\"Patient\"}");
    expect_invalid("<Patient " NS "><contained><Basic/><Basic/></contained></Patient>",
                   "Patient.contained[0]", "more than one resource",
                   "{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":\"Basic\"}]}");
    expect_invalid("<Patient " NS "><contained><HumanName/></contained></Patient>",
                   "Patient.contained[0]", "not an R4 resource type",
                   "{\"resourceType\":\"Patient\"}");
    expect_invalid("<Patient " NS "><contained><Basic><foo/></Basic></contained></Patient>",
                   "Patient.contained[0].foo", "unknown element for type Basic",
                   "{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":\"Basic\"}]}");
}
END_TEST

START_TEST(narrative_problems)
{
    expect_fail("<Patient " NS "><text><status value=\"generated\"/><div " XHTML
                "><x:b xmlns:x=\"urn:x\">t</x:b></div></text></Patient>",
                BASE_E_INVALID, "value", "Patient.text.div", "outside the XHTML namespace");
    expect_fail("<Patient " NS "><text><status value=\"generated\"/><div " XHTML
                " xmlns:x=\"urn:x\" x:a=\"1\">t</div></text></Patient>",
                BASE_E_INVALID, "value", "Patient.text.div", "outside the XHTML namespace");
}
END_TEST

START_TEST(doctype_and_entities_refused)
{
    static const char *const docs[] = {
        "<!DOCTYPE Patient><Patient " NS "/>",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE Patient [<!ENTITY x \"y\">]><Patient " NS
        "><id value=\"&x;\"/></Patient>",
        /* XXE */
        "<!DOCTYPE p [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><Patient " NS
        "><id value=\"&xxe;\"/></Patient>",
        "<!DOCTYPE Patient SYSTEM \"http://127.0.0.1:1/x.dtd\"><Patient " NS "/>",
        /* billion laughs */
        "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;\"><!ENTITY lol4 \"&lol3;&lol3;&lol3;\">"
        "]><Patient " NS "><id value=\"&lol4;\"/></Patient>",
        /* parameter entities, anywhere before the root */
        "<!-- x -->\n  <!DOCTYPE p [<!ENTITY % pe SYSTEM \"file:///etc/passwd\"> %pe;]>"
        "<Patient " NS "/>",
        /* inside the document (not well-formed anyway) */
        "<Patient " NS "><!ENTITY x \"y\"></Patient>",
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(docs); i++)
        expect_fail(docs[i], BASE_E_PARSE, "structure", NULL,
                    "document type declarations and entities are not allowed");
    expect_fail("<!DOCTYPE Patient><Patient " NS "/>", BASE_E_PARSE, "structure",
                "line 1, column 1", NULL);
}
END_TEST

START_TEST(encoding_and_bytes)
{
    static const char bad_utf8[] = "<Patient " NS "><id value=\"\xC3\x28\"/></Patient>";
    static const char nul[] = "<Patient " NS "><id value=\"a\0b\"/></Patient>";
    static const char utf16[] = "\xFF\xFE<\0P\0/\0>\0";

    expect_fail_lim(bad_utf8, sizeof(bad_utf8) - 1, NULL, BASE_E_PARSE, "structure",
                    "line 1, column 49", "invalid UTF-8");
    expect_fail_lim(nul, sizeof(nul) - 1, NULL, BASE_E_PARSE, "structure", NULL, "NUL");
    static const char utf16be[] = "\xFE\xFF\0<\0P\0/\0>";
    static const char utf16_nobom[] = "<\0P\0/\0>\0";
    /* the declaration is reported, not the first byte the UTF-8 check trips on */
    static const char latin1[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<Patient " NS
                                 "><name><family value=\"M\xFCller\"/></name></Patient>";

    expect_fail_lim(utf16, sizeof(utf16) - 1, NULL, BASE_E_PARSE, "structure", "line 1, column 1",
                    "the document is UTF-16; FHIR XML must be UTF-8");
    expect_fail_lim(utf16be, sizeof(utf16be) - 1, NULL, BASE_E_PARSE, "structure",
                    "line 1, column 1", "UTF-16");
    expect_fail_lim(utf16_nobom, sizeof(utf16_nobom) - 1, NULL, BASE_E_PARSE, "structure",
                    "line 1, column 1", "UTF-16");
    expect_fail_lim(latin1, sizeof(latin1) - 1, NULL, BASE_E_PARSE, "structure", "line 1, column 1",
                    "the document encoding must be UTF-8");
    expect_fail("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"windows-1252\"?><Patient " NS "/>",
                BASE_E_PARSE, "structure", "line 1, column 4", "must be UTF-8");
    expect_fail("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Patient " NS "/>", BASE_E_PARSE,
                "structure", NULL, "must be UTF-8");
    expect_fail("<?xml version=\"1.0\" encoding=\"UTF-16\"?><Patient " NS "/>", BASE_E_PARSE,
                "structure", NULL, "must be UTF-8");
    /* a character reference to a character XML cannot carry */
    expect_fail("<Patient " NS "><id value=\"&#1;\"/></Patient>", BASE_E_PARSE, "structure", NULL,
                "character not allowed");
}
END_TEST

/* XML 1.0 section 2.2: C0 controls other than tab, LF and CR, and U+FFFE and
 * U+FFFF, are not characters of any XML document — in values, text, comments
 * or CDATA alike.  The error names the character's place; libxml2 alone
 * called an attribute holding U+000B an "unterminated tag" (a Japanese
 * Bundle in the HL7 validator's test cases, japanese-utf8.xml). */
START_TEST(characters_outside_xml)
{
    expect_fail("<Patient " NS ">\n<name><family value=\"a\x0B\"/></name></Patient>", BASE_E_PARSE,
                "structure", "line 2, column 23",
                "character not allowed in XML (XML 1.0 section 2.2)");
    expect_fail("<Patient " NS "><!-- \x1F --></Patient>", BASE_E_PARSE, "structure",
                "line 1, column 43", "character not allowed in XML");
    expect_fail("<Patient " NS "><text><status value=\"generated\"/><div " XHTML
                "><![CDATA[\x08]]></div></text></Patient>",
                BASE_E_PARSE, "structure", NULL, "character not allowed in XML");
    expect_fail("<Patient " NS "><id value=\"a\xEF\xBF\xBE\"/></Patient>", BASE_E_PARSE,
                "structure", "line 1, column 50", "character not allowed in XML");
    expect_fail("<Patient " NS "><id value=\"a\xEF\xBF\xBF\"/></Patient>", BASE_E_PARSE,
                "structure", NULL, "character not allowed in XML");
    expect_fail("<Patient " NS ">\x7F\x0C</Patient>", BASE_E_PARSE, "structure",
                "line 1, column 39", "character not allowed in XML");
    /* at every offset within the 8-byte words the pre-scan reads at once,
     * and across their edges */
    for (size_t k = 0; k < 20; k++) {
        static const char *const bad[] = {"\x0B", "\x01", "\xEF\xBF\xBE", "\xEF\xBF\xBF"};
        char xml[160];
        char where[32];
        json_t *got = NULL;
        struct base_err err = {0};

        for (size_t b = 0; b < 4; b++) {
            snprintf(xml, sizeof(xml), "<Patient " NS "><id value=\"%.*s%s\"/></Patient>", (int)k,
                     "aaaaaaaaaaaaaaaaaaaa", bad[b]);
            snprintf(where, sizeof(where), "line 1, column %zu", 49 + k);
            json_decref(expect_fail_lim(xml, SIZE_MAX, NULL, BASE_E_PARSE, "structure", where,
                                        "character not allowed in XML"));
        }
        snprintf(xml, sizeof(xml), "<Patient " NS "><id value=\"%.*s\xEF\xBF\xBD\t\"/></Patient>",
                 (int)k, "aaaaaaaaaaaaaaaaaaaa");
        ck_assert_int_eq(fhir_xml_read(xml, strlen(xml), NULL, NULL, &got, &err), BASE_OK);
        json_decref(got);
    }
    /* their neighbours are characters: tab, CR, LF, DEL, C1, U+FFFD */
    expect_json(
        "<Patient " NS "\t\r\n><name><family value=\"a\x7F\xC2\x85\xEF\xBF\xBD\"/></name>"
        "</Patient>",
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\x7F\xC2\x85\xEF\xBF\xBD\"}]}");
}
END_TEST

/* A document that is not well-formed gets one issue, its syntax error: the
 * elements its broken tag swallowed are not reported as unknown (an
 * unclosed <id> made <status> and <mode> children of id), and issues the
 * caller's OperationOutcome held before stay. */
START_TEST(syntax_error_is_the_only_issue)
{
    static const char xml[] = "<List " NS ">\n<id value=\"x\">\n<status value=\"current\"/>"
                              "<mode value=\"working\"/></List>";
    json_t *got = NULL;
    json_t *oo = fhir_outcome_new();
    json_t *issues;
    struct base_err err = {0};

    ck_assert_int_eq(fhir_outcome_add(oo, "error", "structure", "earlier", "kept"), BASE_OK);
    ck_assert_int_eq(fhir_xml_read(xml, sizeof(xml) - 1, NULL, oo, &got, &err), BASE_E_PARSE);
    ck_assert_ptr_null(got);
    issues = json_object_get(oo, "issue");
    ck_assert_uint_eq(json_array_size(issues), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(issues, 0), "diagnostics")),
                     "kept");
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(json_array_get(issues, 1), "expression"), 0)),
                     "line 3, column 56");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(issues, 1), "diagnostics")),
                     "end tag does not match start tag");
    ck_assert_str_eq(err.msg, "end tag does not match start tag");
    json_decref(oo);
    /* the same through fhir_xml_validate: one error, the syntax */
    {
        struct fhir_validate_result res = {0};

        oo = fhir_outcome_new();
        base_err_clear(&err);
        ck_assert_int_eq(fhir_xml_validate(xml, sizeof(xml) - 1, NULL, oo, &res, &err),
                         BASE_E_INVALID);
        ck_assert_uint_eq(res.errors, 1);
        ck_assert_uint_eq(json_array_size(json_object_get(oo, "issue")), 1);
        ck_assert_str_eq(err.msg, "end tag does not match start tag");
        json_decref(oo);
    }
}
END_TEST

/* Build "<Patient><extension url="u"><extension url="u">... depth times. */
static char *
nested_extensions(size_t depth)
{
    size_t cap = depth * 64 + 128;
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap, "<Patient " NS ">");

    for (size_t i = 0; i < depth; i++)
        n += (size_t)snprintf(s + n, cap - n, "<extension url=\"u\">");
    for (size_t i = 0; i < depth; i++)
        n += (size_t)snprintf(s + n, cap - n, "</extension>");
    snprintf(s + n, cap - n, "</Patient>");
    return s;
}

START_TEST(limits_depth_and_elements)
{
    char *deep = nested_extensions(150);
    char *ok = nested_extensions(90);
    char *very_deep = nested_extensions(100000);
    struct fhir_xml_limits lim = fhir_xml_limits_default();
    json_t *got = NULL;

    expect_fail(deep, BASE_E_LIMIT, "too-costly", NULL, "element nesting exceeds the limit");
    expect_fail(very_deep, BASE_E_LIMIT, "too-costly", NULL, "element nesting");
    ck_assert_int_eq(fhir_xml_read(ok, strlen(ok), NULL, NULL, &got, NULL), BASE_OK);
    json_decref(got);
    lim.max_depth = 10;
    expect_fail_lim(ok, strlen(ok), &lim, BASE_E_LIMIT, "too-costly", NULL, "nesting");
    lim = fhir_xml_limits_default();
    lim.max_elements = 50;
    expect_fail_lim(ok, strlen(ok), &lim, BASE_E_LIMIT, "too-costly", NULL,
                    "number of elements exceeds the limit");
    /* nesting inside the narrative counts too */
    lim = fhir_xml_limits_default();
    lim.max_depth = 6;
    expect_fail_lim("<Patient " NS "><text><status value=\"generated\"/><div " XHTML
                    "><p><b><i><p>x</p></i></b></p></div></text></Patient>",
                    SIZE_MAX, &lim, BASE_E_LIMIT, "too-costly", NULL, "nesting");
    free(deep);
    free(ok);
    free(very_deep);
}
END_TEST

/* A Bundle of `entries` one-line entries of about 1 KB each (few nodes per
 * byte, so the tree stays cheap under the sanitizers); `tail` ends it. */
static char *
big_bundle(size_t entries, const char *tail, size_t *out_len)
{
    static const char head[] = "<entry><resource><Binary><contentType value=\"text/plain\"/>"
                               "<data value=\"";
    static const char foot[] = "\"/></Binary></resource></entry>\n";
    size_t data = 1000;
    size_t cap = entries * (sizeof(head) + data + sizeof(foot)) + 256;
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap, "<Bundle " NS ">\n<type value=\"collection\"/>\n");

    for (size_t i = 0; i < entries; i++) {
        memcpy(s + n, head, sizeof(head) - 1);
        n += sizeof(head) - 1;
        memset(s + n, 'A', data);
        n += data;
        memcpy(s + n, foot, sizeof(foot) - 1);
        n += sizeof(foot) - 1;
    }
    n += (size_t)snprintf(s + n, cap - n, "%s", tail);
    *out_len = n;
    return s;
}

START_TEST(documents_over_ten_megabytes)
{
    /* libxml2 (no XML_PARSE_HUGE) halts a push parser fed more than 10 MB
     * at once ("Huge input lookup"): a 13 MB Bundle was "not well-formed" */
    size_t entries = 10000, len;
    char *doc = big_bundle(entries, "</Bundle>\n", &len);
    json_t *got = NULL;
    struct base_buf b;
    struct base_err err = {0};

    ck_assert_uint_gt(len, 11u * 1000 * 1000);
    ck_assert_int_eq(fhir_xml_read(doc, len, NULL, NULL, &got, &err), BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(got, "entry")), entries);
    base_buf_init(&b, 0);
    ck_assert_int_eq(fhir_xml_write(got, FHIR_XML_PRETTY, &b, &err), BASE_OK);
    json_decref(got);
    got = NULL;
    ck_assert_int_eq(fhir_xml_read(b.data, b.len, NULL, NULL, &got, &err), BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(got, "entry")), entries);
    json_decref(got);
    base_buf_fini(&b);
    free(doc);
    /* an error past the first pieces is still located by line */
    doc = big_bundle(entries, "<entry></Bundle>\n", &len);
    expect_fail_lim(doc, len, NULL, BASE_E_PARSE, "structure", "line 10003, column 17", NULL);
    free(doc);
}
END_TEST

START_TEST(limits_attributes)
{
    size_t n = 60000;
    char *many = malloc(n * 16 + 64);
    size_t cap = n * 16 + 64;
    size_t len = (size_t)snprintf(many, cap, "<Patient " NS);
    struct fhir_xml_limits lim = fhir_xml_limits_default();
    char *big;
    clock_t t0 = clock();

    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(many + len, cap - len, " a%zu=\"x\"", i);
    len += (size_t)snprintf(many + len, cap - len, "/>");
    /* refused before libxml2's pairwise duplicate check could take minutes */
    expect_fail_lim(many, len, NULL, BASE_E_LIMIT, "too-costly", "line 1, column 279",
                    "too many attributes");
    ck_assert_msg((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0, "attribute bomb was slow");
    free(many);
    /* one huge value attribute: over the default limit, and over a small one */
    cap = BASE_LIMIT_FHIR_XML_MAX_VALUE + 100;
    big = malloc(cap);
    len = (size_t)snprintf(big, cap, "<Binary " NS "><data value=\"");
    memset(big + len, 'A', BASE_LIMIT_FHIR_XML_MAX_VALUE + 4);
    len += BASE_LIMIT_FHIR_XML_MAX_VALUE + 4;
    len += (size_t)snprintf(big + len, cap - len, "\"/></Binary>");
    expect_fail_lim(big, len, NULL, BASE_E_LIMIT, "too-costly", "line 1, column 49",
                    "attribute value exceeds the size limit");
    free(big);
    lim.max_value = 8;
    expect_fail_lim("<Patient " NS "><id value=\"123456789\"/></Patient>", SIZE_MAX, &lim,
                    BASE_E_LIMIT, "too-costly", NULL, "attribute value");
    lim = fhir_xml_limits_default();
    lim.max_doc = 10;
    expect_fail_lim("<Patient " NS "/>", SIZE_MAX, &lim, BASE_E_LIMIT, "too-costly", NULL,
                    "document exceeds the size limit");
}
END_TEST

START_TEST(issues_are_capped)
{
    struct fhir_xml_limits lim = fhir_xml_limits_default();
    const char *xml = "<Patient " NS "><a/><b/><c/><d/><e/></Patient>";
    json_t *oo = fhir_outcome_new();
    json_t *got = NULL;

    lim.max_issues = 2;
    ck_assert_int_eq(fhir_xml_read(xml, strlen(xml), &lim, oo, &got, NULL), BASE_E_INVALID);
    ck_assert_uint_eq(json_array_size(json_object_get(oo, "issue")), 2);
    json_decref(got);
    json_decref(oo);
}
END_TEST

START_TEST(sniff)
{
    ck_assert(fhir_xml_sniff("<Patient/>", 10));
    ck_assert(fhir_xml_sniff("\xEF\xBB\xBF \n\t<x", 8));
    ck_assert(!fhir_xml_sniff("{\"a\":1}", 7));
    ck_assert(!fhir_xml_sniff("", 0));
    ck_assert(!fhir_xml_sniff("   ", 3));
}
END_TEST

/* ------------------------------------------------------------ writing -- */

static char *
write_ok(const char *json_text, unsigned flags)
{
    json_t *j = json(json_text);
    struct base_buf b;
    struct base_err err = {0};
    char *s;

    base_buf_init(&b, 0);
    ck_assert_msg(fhir_xml_write(j, flags, &b, &err) == BASE_OK, "%s: %s", err.where, err.msg);
    s = strdup(b.data);
    base_buf_fini(&b);
    json_decref(j);
    return s;
}

static void
expect_write_fail(const char *json_text, int rc, const char *code, const char *where,
                  const char *msg)
{
    json_t *j = json(json_text);
    struct base_buf b;
    struct base_err err = {0};

    base_buf_init(&b, 0);
    ck_assert_int_eq(fhir_xml_write(j, 0, &b, &err), rc);
    ck_assert_str_eq(err.issue_code, code);
    ck_assert_str_eq(err.where, where);
    if (msg != NULL)
        ck_assert_msg(strstr(err.msg, msg) != NULL, "message: %s", err.msg);
    base_buf_fini(&b);
    json_decref(j);
}

START_TEST(writer_form)
{
    char *x = write_ok("{\"name\":[{\"given\":[\"A\",null],\"_given\":[null,{\"id\":\"g\","
                       "\"extension\":[{\"valueBoolean\":true,\"url\":\"http://e\"}]}],"
                       "\"family\":\"F\"}],\"id\":\"p1\",\"resourceType\":\"Patient\","
                       "\"active\":true}",
                       0);

    /* definition order, not member order; id/url as attributes */
    ck_assert_str_eq(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Patient " NS
                        "><id value=\"p1\"/><active value=\"true\"/><name><family value=\"F\"/>"
                        "<given value=\"A\"/><given id=\"g\"><extension url=\"http://e\">"
                        "<valueBoolean value=\"true\"/></extension></given></name></Patient>");
    free(x);
    x = write_ok("{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"a&b<c>\\\"'\\t\\n\\r\"}]}",
                 FHIR_XML_NO_DECLARATION);
    ck_assert_str_eq(x, "<Patient " NS "><name><text value=\"a&amp;b&lt;c&gt;&quot;'&#9;&#10;"
                        "&#13;\"/></name></Patient>");
    free(x);
    x = write_ok("{\"resourceType\":\"Patient\",\"active\":true,\"name\":[{\"family\":\"F\"}]}",
                 FHIR_XML_PRETTY | FHIR_XML_NO_DECLARATION);
    ck_assert_str_eq(x, "<Patient " NS ">\n  <active value=\"true\"/>\n  <name>\n    <family "
                        "value=\"F\"/>\n  </name>\n</Patient>\n");
    free(x);
    x = write_ok("{\"resourceType\":\"Basic\",\"code\":{\"text\":\"c\"},\"contained\":[{"
                 "\"resourceType\":\"Patient\",\"id\":\"a\"}]}",
                 FHIR_XML_NO_DECLARATION);
    ck_assert_str_eq(x, "<Basic " NS "><contained><Patient><id value=\"a\"/></Patient>"
                        "</contained><code><text value=\"c\"/></code></Basic>");
    free(x);
}
END_TEST

START_TEST(writer_refuses_what_xml_cannot_say)
{
    expect_write_fail("{\"resourceType\":\"Patient\",\"foo\":1}", BASE_E_INVALID, "structure",
                      "Patient.foo", "unknown element for type Patient");
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\"],\"gvn\":1}]}",
                      BASE_E_INVALID, "structure", "Patient.name[0].gvn", NULL);
    expect_write_fail("{\"resourceType\":\"Patient\",\"active\":\"true\"}", BASE_E_INVALID,
                      "structure", "Patient.active", "wrong JSON type for boolean");
    expect_write_fail("{\"resourceType\":\"Patient\",\"birthDate\":1990}", BASE_E_INVALID,
                      "structure", "Patient.birthDate", "wrong JSON type for date");
    expect_write_fail("{\"resourceType\":\"Patient\",\"multipleBirthInteger\":\"2\"}",
                      BASE_E_INVALID, "structure", "Patient.multipleBirthInteger",
                      "wrong JSON type for integer");
    expect_write_fail("{\"resourceType\":\"Patient\",\"gender\":[\"male\"]}", BASE_E_INVALID,
                      "structure", "Patient.gender", "found an array");
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":{\"family\":\"F\"}}", BASE_E_INVALID,
                      "structure", "Patient.name", "non-empty array");
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":[]}", BASE_E_INVALID, "structure",
                      "Patient.name", "non-empty array");
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\",\"b\"],"
                      "\"_given\":[null]}]}",
                      BASE_E_INVALID, "structure", "Patient.name[0].given", "does not align");
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\",null]}]}",
                      BASE_E_INVALID, "structure", "Patient.name[0].given[1]",
                      "null without id or extension");
    expect_write_fail("{\"resourceType\":\"Patient\",\"gender\":null}", BASE_E_INVALID, "structure",
                      "Patient.gender", "null without id or extension");
    /* found by fuzz_fhir_xml: written as <gender/>, which the reader refuses */
    expect_write_fail("{\"resourceType\":\"Patient\",\"_gender\":{}}", BASE_E_INVALID, "structure",
                      "Patient.gender", "empty object without a value");
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[null,\"b\"],"
                      "\"_given\":[{},null]}]}",
                      BASE_E_INVALID, "structure", "Patient.name[0].given[0]",
                      "empty object without a value");
    expect_write_fail("{\"resourceType\":\"Patient\",\"_gender\":{\"foo\":1}}", BASE_E_INVALID,
                      "structure", "Patient.gender.foo", "unknown element for type code");
    expect_write_fail("{\"resourceType\":\"Patient\",\"_gender\":\"x\"}", BASE_E_INVALID,
                      "structure", "Patient.gender", "\"_\" form");
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":[{\"id\":5}]}", BASE_E_INVALID,
                      "structure", "Patient.name[0].id", "expected a string");
    expect_write_fail("{\"resourceType\":\"Patient\",\"deceasedBoolean\":true,"
                      "\"deceasedDateTime\":\"2020\"}",
                      BASE_E_INVALID, "structure", "Patient.deceasedDateTime",
                      "more than one value for choice element deceased[x]");
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":[5]}", BASE_E_INVALID, "structure",
                      "Patient.name[0]", "expected an object");
}
END_TEST

START_TEST(writer_resources_and_characters)
{
    json_t *j;
    struct base_buf b;
    struct base_err err = {0};

    expect_write_fail("{\"id\":\"x\"}", BASE_E_INVALID, "structure", "resourceType",
                      "missing or unknown resourceType");
    expect_write_fail("{\"resourceType\":\"Nope\"}", BASE_E_INVALID, "structure", "resourceType",
                      NULL);
    expect_write_fail("{\"resourceType\":\"Resource\"}", BASE_E_INVALID, "structure",
                      "resourceType", NULL);
    expect_write_fail("{\"resourceType\":\"Patient\",\"contained\":[{\"id\":\"a\"}]}",
                      BASE_E_INVALID, "structure", "Patient.contained[0].resourceType", NULL);
    expect_write_fail("{\"resourceType\":\"Patient\",\"contained\":[\"x\"]}", BASE_E_INVALID,
                      "structure", "Patient.contained[0]", "expected a resource");
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\\u0001b\"}]}",
                      BASE_E_INVALID, "value", "Patient.name[0].family.value",
                      "character XML cannot carry");
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\\uFFFE\"}]}",
                      BASE_E_INVALID, "value", "Patient.name[0].family.value", NULL);
    expect_write_fail("{\"resourceType\":\"Patient\",\"name\":[{\"id\":\"\\u001f\"}]}",
                      BASE_E_INVALID, "value", "Patient.name[0].id", NULL);
    /* not a JSON tree the parser could make: a string with U+0000 */
    j = json_pack("{s:s, s:[{s:s%}]}", "resourceType", "Patient", "name", "family", "a\0b",
                  (size_t)3);
    base_buf_init(&b, 0);
    ck_assert_int_eq(fhir_xml_write(j, 0, &b, &err), BASE_E_INVALID);
    base_buf_fini(&b);
    json_decref(j);
    /* a bounded output buffer */
    j = json("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Chalmers\"}]}");
    base_buf_init(&b, 40);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(fhir_xml_write(j, 0, &b, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.issue_code, "too-costly");
    base_buf_fini(&b);
    json_decref(j);
}
END_TEST

START_TEST(writer_narrative)
{
    char *x = write_ok("{\"resourceType\":\"Basic\",\"code\":{\"text\":\"c\"},\"text\":{\"status\":"
                       "\"generated\",\"div\":\"<div xmlns='http://www.w3.org/1999/xhtml'>"
                       "<p>a &amp; b<br></br>&#233;</p><!-- c --></div>\"}}",
                       FHIR_XML_NO_DECLARATION);

    ck_assert_str_eq(x, "<Basic " NS "><text><status value=\"generated\"/><div " XHTML
                        "><p>a &amp; b<br/>\xC3\xA9</p></div></text><code><text value=\"c\"/>"
                        "</code></Basic>");
    free(x);
    /* empty elements: spelling kept, `<br/>` for EMPTY content models */
    x = write_ok("{\"resourceType\":\"Basic\",\"code\":{\"text\":\"c\"},\"text\":{\"status\":"
                 "\"generated\",\"div\":\"<div xmlns='http://www.w3.org/1999/xhtml'>"
                 "<p>t<a name='n'></a><span/><img src='i.png'></img></p><p></p></div>\"}}",
                 FHIR_XML_NO_DECLARATION);
    ck_assert_str_eq(x, "<Basic " NS "><text><status value=\"generated\"/><div " XHTML
                        "><p>t<a name=\"n\"></a><span/><img src=\"i.png\"/></p><p></p></div>"
                        "</text><code><text value=\"c\"/></code></Basic>");
    free(x);
    expect_write_fail("{\"resourceType\":\"Basic\",\"text\":{\"status\":\"generated\",\"div\":"
                      "\"<div>no namespace</div>\"}}",
                      BASE_E_INVALID, "value", "Basic.text.div", "root div element");
    expect_write_fail("{\"resourceType\":\"Basic\",\"text\":{\"status\":\"generated\",\"div\":"
                      "\"<p xmlns='http://www.w3.org/1999/xhtml'>x</p>\"}}",
                      BASE_E_INVALID, "value", "Basic.text.div", "root div element");
    expect_write_fail("{\"resourceType\":\"Basic\",\"text\":{\"status\":\"generated\",\"div\":"
                      "\"plain text\"}}",
                      BASE_E_INVALID, "value", "Basic.text.div", "not well-formed");
    expect_write_fail("{\"resourceType\":\"Basic\",\"text\":{\"status\":\"generated\",\"div\":"
                      "\"<div xmlns='http://www.w3.org/1999/xhtml'>x</div></text><x>\"}}",
                      BASE_E_INVALID, "value", "Basic.text.div", "not well-formed");
    expect_write_fail("{\"resourceType\":\"Basic\",\"text\":{\"status\":\"generated\",\"div\":"
                      "\"<!DOCTYPE d [<!ENTITY e 'x'>]><div "
                      "xmlns='http://www.w3.org/1999/xhtml'>&e;</div>\"}}",
                      BASE_E_INVALID, "value", "Basic.text.div", "not well-formed");
    expect_write_fail("{\"resourceType\":\"Basic\",\"text\":{\"status\":\"generated\",\"div\":"
                      "\"<div xmlns='http://www.w3.org/1999/xhtml'>\\u0002</div>\"}}",
                      BASE_E_INVALID, "value", "Basic.text.div", "character XML cannot carry");
    expect_write_fail("{\"resourceType\":\"Basic\",\"text\":{\"status\":\"generated\",\"div\":1}}",
                      BASE_E_INVALID, "structure", "Basic.text.div", "must be a string");
}
END_TEST

/* Deeper than the writer follows: a tree built by code, not by the parser. */
START_TEST(writer_depth_limit)
{
    json_t *root = json("{\"resourceType\":\"Basic\",\"code\":{\"text\":\"c\"}}");
    json_t *cur = root;
    struct base_buf b;
    struct base_err err = {0};

    for (int i = 0; i < 300; i++) {
        json_t *ext = json_pack("{s:s}", "url", "u");

        json_object_set_new(cur, "extension", json_pack("[o]", ext));
        cur = ext;
    }
    base_buf_init(&b, 0);
    ck_assert_int_eq(fhir_xml_write(root, 0, &b, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.issue_code, "too-costly");
    base_buf_fini(&b);
    json_decref(root);
}
END_TEST

/* ------------------------------------------------------------ validate -- */

START_TEST(validate_reports_reader_and_validator_issues)
{
    const char *xml = "<Observation " NS "><foo/><status value=\"bogus\"/>"
                      "<code><text value=\"x\"/></code></Observation>";
    json_t *oo = fhir_outcome_new();
    struct fhir_validate_result r = {0};
    struct fhir_validate_opts o = {.expect_type = "Observation"};
    json_t *issues;

    ck_assert_int_eq(fhir_xml_validate(xml, strlen(xml), &o, oo, &r, NULL), BASE_E_INVALID);
    issues = json_object_get(oo, "issue");
    ck_assert_uint_eq(json_array_size(issues), 2);
    ck_assert_uint_eq(r.errors, 2);
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(json_array_get(issues, 0), "expression"), 0)),
                     "Observation.foo");
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(json_array_get(issues, 1), "expression"), 0)),
                     "Observation.status");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(issues, 1), "code")),
                     "code-invalid");
    json_decref(oo);
    /* syntax errors: one issue; expect_type honoured */
    oo = fhir_outcome_new();
    ck_assert_int_eq(fhir_xml_validate("no xml", 6, NULL, oo, &r, NULL), BASE_E_INVALID);
    ck_assert_uint_eq(json_array_size(json_object_get(oo, "issue")), 1);
    json_decref(oo);
    o.expect_type = "Patient";
    xml = "<Observation " NS "><status value=\"final\"/><code><text value=\"x\"/></code>"
          "</Observation>";
    ck_assert_int_eq(fhir_xml_validate(xml, strlen(xml), &o, NULL, &r, NULL), BASE_E_INVALID);
    o.expect_type = NULL;
    ck_assert_int_eq(fhir_xml_validate(xml, strlen(xml), &o, NULL, &r, NULL), BASE_OK);
    ck_assert_uint_eq(r.errors, 0);
}
END_TEST

/* Validate `xml`: `errors` errors, the first at `where` with `code`; the
 * same count without an OperationOutcome. */
static void
expect_validate(const char *xml, size_t errors, const char *where, const char *code)
{
    json_t *oo = fhir_outcome_new();
    json_t *is;
    struct fhir_validate_result r = {0};

    ck_assert_int_eq(fhir_xml_validate(xml, strlen(xml), NULL, oo, &r, NULL),
                     errors > 0 ? BASE_E_INVALID : BASE_OK);
    ck_assert_uint_eq(r.errors, errors);
    ck_assert_uint_eq(json_array_size(json_object_get(oo, "issue")), errors);
    ck_assert_uint_eq(r.issues, errors);
    is = json_array_get(json_object_get(oo, "issue"), 0);
    if (errors > 0) {
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(is, "expression"), 0)),
                         where);
        ck_assert_str_eq(json_string_value(json_object_get(is, "code")), code);
    }
    json_decref(oo);
    r = (struct fhir_validate_result){0};
    ck_assert_int_eq(fhir_xml_validate(xml, strlen(xml), NULL, NULL, &r, NULL),
                     errors > 0 ? BASE_E_INVALID : BASE_OK);
    ck_assert_uint_eq(r.errors, errors);
    ck_assert_uint_eq(r.issues, 0);
}

/* An element the reader reports and leaves out of the tree (a value its
 * type cannot read, a narrative it refuses, an element in a foreign
 * namespace) is still in the document: its one issue is said where it is,
 * and the validator's "missing required element" for the same place is
 * withdrawn, as a JSON document with the same mistake (which keeps the
 * element) gets one issue.  An unknown element is no such element: the
 * required one is missing. */
START_TEST(validate_one_issue_for_a_refused_element)
{
    expect_validate("<Group " NS "><type value=\"person\"/><actual value=\"true\"/><characteristic>"
                    "<code><text value=\"t\"/></code><valueBoolean value=\"1\"/>"
                    "<exclude value=\"false\"/></characteristic></Group>",
                    1, "Group.characteristic[0].valueBoolean", "value");
    expect_validate("<Group " NS "><type value=\"person\"/><actual value=\"yes\"/></Group>", 1,
                    "Group.actual", "value");
    expect_validate("<Group " NS "><type xmlns=\"urn:x\" value=\"person\"/>"
                    "<actual value=\"true\"/></Group>",
                    1, "Group.type", "structure");
    expect_validate("<Patient " NS
                    "><text><status value=\"generated\"/><div xmlns=\"urn:x\">x</div>"
                    "</text></Patient>",
                    1, "Patient.text.div", "structure");
    expect_validate("<Patient " NS "><text><status value=\"generated\"/><div " XHTML
                    "><svg xmlns=\"http://www.w3.org/2000/svg\"/>x</div></text></Patient>",
                    1, "Patient.text.div", "value");
    /* a bad value with an extension keeps the element */
    expect_validate("<Group " NS "><type value=\"person\"/><actual value=\"1\"><extension "
                    "url=\"http://e\"><valueString value=\"s\"/></extension></actual></Group>",
                    1, "Group.actual", "value");
    /* the same place missing for another reason is still reported */
    expect_validate("<Group " NS "><type value=\"person\"/><actual value=\"true\"/><characteristic>"
                    "<code><text value=\"t\"/></code><value value=\"true\"/>"
                    "<exclude value=\"false\"/></characteristic></Group>",
                    2, "Group.characteristic[0].value", "structure");
    expect_validate("<Group " NS "><type value=\"person\"/></Group>", 1, "Group.actual",
                    "required");
}
END_TEST

Suite *
fhir_xml_suite(void)
{
    Suite *s = suite_create("fhir_xml");
    TCase *tc = tcase_create("xml");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, primitive_with_id_and_extension);
    tcase_add_test(tc, repeating_primitive_aligned_with_nulls);
    tcase_add_test(tc, primitive_with_extension_only);
    tcase_add_test(tc, numbers_and_booleans_typed_by_the_model);
    tcase_add_test(tc, resources_inside_elements);
    tcase_add_test(tc, xml_syntax_that_carries_no_content);
    tcase_add_test(tc, attribute_values_escaped_and_exact);
    tcase_add_test(tc, narrative_canonical_form);
    tcase_add_test(tc, malformed_xml);
    tcase_add_test(tc, wrong_namespace);
    tcase_add_test(tc, root_not_a_resource);
    tcase_add_test(tc, unknown_elements_and_attributes);
    tcase_add_test(tc, cardinality_and_order);
    tcase_add_test(tc, primitive_values);
    tcase_add_test(tc, resource_wrappers);
    tcase_add_test(tc, narrative_problems);
    tcase_add_test(tc, doctype_and_entities_refused);
    tcase_add_test(tc, encoding_and_bytes);
    tcase_add_test(tc, characters_outside_xml);
    tcase_add_test(tc, syntax_error_is_the_only_issue);
    tcase_add_test(tc, limits_depth_and_elements);
    tcase_add_test(tc, limits_attributes);
    tcase_add_test(tc, documents_over_ten_megabytes);
    tcase_add_test(tc, issues_are_capped);
    tcase_add_test(tc, sniff);
    tcase_add_test(tc, writer_form);
    tcase_add_test(tc, writer_refuses_what_xml_cannot_say);
    tcase_add_test(tc, writer_resources_and_characters);
    tcase_add_test(tc, writer_narrative);
    tcase_add_test(tc, writer_depth_limit);
    tcase_add_test(tc, validate_reports_reader_and_validator_issues);
    tcase_add_test(tc, validate_one_issue_for_a_refused_element);
    suite_add_tcase(s, tc);
    return s;
}
