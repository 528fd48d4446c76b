/*
 * Constructs met in vendors' C-CDA exports (Cerner, Allscripts, Greenway,
 * Partners, NIST and HL7 samples) during a sweep of public documents.  The
 * documents here are minimal ones written for these tests that reproduce
 * one construct each; each test fails without its fix.
 */
#include <check.h>
#include <string.h>

#include "adapters/cda/cda.h"
#include "test/support/jsonpath.h"
#include "test/unit/adapters/cda/cda_test.h"

/* A medication entry around `dose` and the consumable's `code`. */
#define MED(id, dose, code)                                                                        \
    "<entry><substanceAdministration classCode=\"SBADM\" moodCode=\"INT\">"                        \
    "<templateId root=\"2.16.840.1.113883.10.20.22.4.16\"/><id root=\"1.2.3\" extension=\"" id     \
    "\"/><statusCode code=\"active\"/><effectiveTime xsi:type=\"IVL_TS\"><low value=\"20070814\"/>" \
    "<high nullFlavor=\"UNK\"/></effectiveTime>" dose "<consumable><manufacturedProduct>"          \
    "<manufacturedMaterial>" code "</manufacturedMaterial></manufacturedProduct></consumable>"     \
    "</substanceAdministration></entry>"

/* ------------------------------------------------------------ medications */

/* unit="1" with the unit in the PQR translation's originalText */
START_TEST(dose_unit_from_translation)
{
    static const char doc[] = CCDA_DOC(CCDA_SECTION(
        "1.1", "10160-0",
        MED("A", "<doseQuantity value=\"0.1\" unit=\"1\"><translation value=\"0.1\">"
                 "<originalText>mg</originalText></translation></doseQuantity>",
            "<code code=\"17326\" displayName=\"????\" codeSystem=\"2.16.840.1.113883.6.27\">"
            "<originalText>clonidine</originalText><translation nullFlavor=\"OTH\" "
            "codeSystem=\"2.16.840.1.113883.6.88\"/></code>")
            MED("B", "<doseQuantity value=\"2\"><translation value=\"2\" code=\"{tbl}\" "
                     "codeSystem=\"2.16.840.1.113883.6.8\"/></doseQuantity>",
                "<code nullFlavor=\"OTH\"><originalText>aspirin</originalText>"
                "<translation code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/></code>")
                MED("C", "<doseQuantity value=\"5\" unit=\"1\"/>",
                    "<code code=\"1191\" codeSystem=\"2.16.840.1.113883.6.88\"/>")));
    json_t *b = convert_ok(doc, NULL);
    json_t *a = nth(b, "MedicationStatement", 0);
    json_t *m2 = nth(b, "MedicationStatement", 1);
    json_t *m3 = nth(b, "MedicationStatement", 2);

    ck_assert_uint_eq(count_type(b, "MedicationStatement"), 3);
    ck_assert_str_eq(tu_json_str(a, "dosage.0.doseAndRate.0.doseQuantity.unit"), "mg");
    /* a free-text unit claims no UCUM code */
    ck_assert_ptr_null(tu_json_at(a, "dosage.0.doseAndRate.0.doseQuantity.code"));
    /* "????" is what a charset conversion left of the name: no display */
    ck_assert_str_eq(tu_json_str(a, "medicationCodeableConcept.coding.0.code"), "17326");
    ck_assert_ptr_null(tu_json_at(a, "medicationCodeableConcept.coding.0.display"));
    ck_assert_str_eq(tu_json_str(a, "medicationCodeableConcept.text"), "clonidine");
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.doseAndRate.0.doseQuantity.code"), "{tbl}");
    ck_assert_str_eq(tu_json_str(m2, "dosage.0.doseAndRate.0.doseQuantity.system"),
                     "http://unitsofmeasure.org");
    ck_assert_str_eq(tu_json_str(m2, "medicationCodeableConcept.coding.0.code"), "1191");
    ck_assert_ptr_null(tu_json_at(m3, "dosage.0.doseAndRate.0.doseQuantity.unit"));
    json_decref(b);
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *
cda_vendors_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("cda_vendors");
    TCase *meds = tcase_create("medications");

    tcase_add_test(meds, dose_unit_from_translation);
    suite_add_tcase(s, meds);
    return s;
}
