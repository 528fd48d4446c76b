/*
 * Helpers shared by the CDA unit suites: convert a document held in memory
 * and find resources of a type in the resulting Bundle.
 */
#ifndef TEST_UNIT_ADAPTERS_CDA_CDA_TEST_H
#define TEST_UNIT_ADAPTERS_CDA_CDA_TEST_H

#include <check.h>
#include <string.h>

#include <jansson.h>

#include "adapters/cda/cda.h"
#include "fhir/validate/fhir_validate.h"
#include "test/support/jsonpath.h"

static inline json_t *
convert_text(const char *xml, const struct cda_limits *lim, const struct cda_options *opt,
             json_t **warnings, struct base_err *err, int *rc)
{
    json_t *out = NULL;

    *rc = cda_to_bundle(xml, strlen(xml), lim, opt, &out, warnings, err);
    return out;
}

static inline size_t
count_type(const json_t *bundle, const char *type)
{
    return tu_bundle_count(bundle, type);
}

/* The n-th resource (0-based) of `type`. */
static inline json_t *
nth(const json_t *bundle, const char *type, size_t want)
{
    return tu_bundle_nth(bundle, type, want);
}

/* A document that must convert; fails the test otherwise. */
static inline json_t *
convert_ok(const char *xml, json_t **warnings)
{
    struct base_err err = {0};
    int rc;
    json_t *b = convert_text(xml, NULL, NULL, warnings, &err, &rc);

    ck_assert_msg(rc == BASE_OK, "%s: %s", err.where, err.msg);
    return b;
}

/* The whole Bundle is valid FHIR R4 (cardinality, types, bindings). */
static inline void
assert_bundle_valid(const json_t *b)
{
    struct base_err err = {0};

    ck_assert_msg(fhir_validate(b, NULL, NULL, NULL, &err) == BASE_OK, "%s: %s", err.where,
                  err.msg);
}

/* Whether `warnings` has an issue of `code` whose text holds `words`. */
static inline bool
has_issue(const json_t *warnings, const char *code, const char *words)
{
    size_t i;
    json_t *is;

    json_array_foreach(json_object_get(warnings, "issue"), i, is)
    {
        const char *c = json_string_value(json_object_get(is, "code"));
        const char *d = json_string_value(json_object_get(is, "diagnostics"));

        if (c != NULL && d != NULL && strcmp(c, code) == 0 && strstr(d, words) != NULL)
            return true;
    }
    return false;
}

/* A WS/T 500 header (GB/T 2261.1 gender, national OIDs) with patientRole
 * ids `ids` and the header's end `tail` (componentOf) around `body`. */
#define WST_DOC(ids, body) WST_DOC_WITH(ids, "", body)
#define WST_DOC_WITH(ids, tail, body)                                                              \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "                                                  \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"                                     \
    "<realmCode code=\"CN\"/><typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_MT000040\"/>" \
    "<templateId root=\"2.16.156.10011.2.1.1.69\"/>"                                               \
    "<id root=\"2.16.156.10011.1.1\" extension=\"RN-1\"/>"                                         \
    "<code code=\"C0049\" codeSystem=\"2.16.156.10011.2.4\"/><title>出院记录</title>"          \
    "<effectiveTime value=\"20240320093000\"/>"                                                    \
    "<recordTarget><patientRole>" ids "<patient>"                                                  \
    "<id root=\"2.16.156.10011.1.3\" extension=\"110101199003077316\"/><name>王小明</name>"     \
    "<administrativeGenderCode code=\"1\" codeSystem=\"2.16.156.10011.2.3.3.4\"/>"                 \
    "<maritalStatusCode code=\"20\" codeSystem=\"2.16.156.10011.2.3.3.5\"/>"                       \
    "</patient></patientRole></recordTarget>" tail "<component><structuredBody>" body              \
    "</structuredBody></component></ClinicalDocument>"

#define WST_SECTION(loinc, entries)                                                                \
    "<component><section><code code=\"" loinc                                                      \
    "\" codeSystem=\"2.16.840.1.113883.6.1\"/><text/>" entries "</section></component>"

#define WST_OBS(de, value, inner)                                                                  \
    "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"" de                      \
    "\" codeSystem=\"2.16.156.10011.2.2.1\"/>" value inner "</observation></entry>"

/* A US Realm header (C-CDA R2.1) around `body`. */
#define CCDA_DOC(body)                                                                             \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" xmlns:sdtc=\"urn:hl7-org:sdtc\" "                  \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"                                     \
    "<realmCode code=\"US\"/><typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>" \
    "<templateId root=\"2.16.840.1.113883.10.20.22.1.2\" extension=\"2015-08-01\"/>"               \
    "<id root=\"1.2.840.114350.1.13.999.2.7.8.688883.1\" extension=\"DOC1\"/>"                     \
    "<code code=\"34133-9\" codeSystem=\"2.16.840.1.113883.6.1\"/><title>CCD</title>"              \
    "<effectiveTime value=\"20230415103012-0500\"/>"                                               \
    "<recordTarget><patientRole><id root=\"1.2.840.114350.1.13.999.2.7.5.737384.14\" "             \
    "extension=\"E1\"/><patient><name><given>Jane</given><family>Doe</family></name>"              \
    "<administrativeGenderCode code=\"F\" codeSystem=\"2.16.840.1.113883.5.1\"/>"                  \
    "<birthTime value=\"19700502\"/></patient></patientRole></recordTarget>"                       \
    "<component><structuredBody>" body "</structuredBody></component></ClinicalDocument>"

#define CCDA_SECTION(tmpl, loinc, entries)                                                         \
    "<component><section><templateId root=\"2.16.840.1.113883.10.20.22.2." tmpl                    \
    "\" extension=\"2015-08-01\"/><code code=\"" loinc                                             \
    "\" codeSystem=\"2.16.840.1.113883.6.1\"/><text/>" entries "</section></component>"

/* The second sweep's cases (check_cda_vendors_round2.c), in cda_vendors. */
void cda_vendors_round2_tcases(Suite *s);
/* The third sweep's cases (check_cda_vendors_round3.c), in cda_vendors. */
void cda_vendors_round3_tcases(Suite *s);
/* The fourth sweep's cases (check_cda_vendors_round4.c), in cda_vendors. */
void cda_vendors_round4_tcases(Suite *s);
/* The fifth sweep's cases (check_cda_vendors_round5.c), in cda_vendors. */
void cda_vendors_round5_tcases(Suite *s);

#endif /* TEST_UNIT_ADAPTERS_CDA_CDA_TEST_H */
