/* FHIR XML reader and writer.  seeds: fhir-r4-examples/xml fhir-r4-examples/json */
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/validate/fhir_validate.h"
#include "fhir/xml/fhir_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tree -> XML -> tree.  With `same`, the writer must accept the tree and
 * the reader must give it back unchanged.  Returns the tree read back, or
 * NULL when the writer refused. */
static json_t *
trip(const json_t *j, unsigned flags, const struct fhir_xml_limits *lim, bool same)
{
    struct base_buf x;
    json_t *back = NULL;
    int rc;

    base_buf_init(&x, 16u << 20);
    rc = fhir_xml_write(j, flags, &x, NULL);
    if (rc == BASE_OK && fhir_xml_read(x.data, x.len, lim, NULL, &back, NULL) != BASE_OK)
        __builtin_trap(); /* the reader refused the writer's output */
    if (same && (rc != BASE_OK || !fhir_json_equal(j, back)))
        __builtin_trap();
    base_buf_fini(&x);
    return back;
}

/* fhir_xml_validate counts the same errors whether or not it keeps the
 * issues (it withdraws the validator's "missing" for elements the reader
 * refused, for which it needs them); below the issue cap, where both keep
 * every one. */
static void
same_counts(const char *text, size_t size)
{
    json_t *oo = fhir_outcome_new();
    struct fhir_validate_result a = {0};
    struct fhir_validate_result b = {0};
    int ra;
    int rb;

    if (oo == NULL)
        return;
    ra = fhir_xml_validate(text, size, NULL, oo, &a, NULL);
    rb = fhir_xml_validate(text, size, NULL, NULL, &b, NULL);
    if (ra != BASE_E_NOMEM && rb != BASE_E_NOMEM && !a.truncated && a.errors < 500 &&
        (ra != rb || a.errors != b.errors ||
         a.issues != json_array_size(json_object_get(oo, "issue"))))
        __builtin_trap();
    json_decref(oo);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fhir_xml_limits lim = fhir_xml_limits_default();
    const char *text = (const char *)data;
    json_t *j = NULL;
    json_t *canon = NULL;

    lim.max_doc = 1u << 20;
    if (size > lim.max_doc)
        return 0;
    if (fhir_xml_sniff(text, size)) {
        /* whatever the reader builds, even from a document with problems,
         * the writer can say, and it reads back the same */
        int rc = fhir_xml_read(text, size, &lim, NULL, &j, NULL);

        same_counts(text, size);

        if (j != NULL && (rc == BASE_OK || rc == BASE_E_INVALID)) {
            (void)fhir_validate_error_count(j);
            json_decref(trip(j, FHIR_XML_COMPACT, &lim, true));
            json_decref(trip(j, FHIR_XML_PRETTY, &lim, true));
        }
    } else if (fhir_json_parse(text, size, NULL, &j, NULL) == BASE_OK) {
        /* JSON the writer accepts: one trip through XML puts narrative and
         * "_name" arrays in canonical form; from there it is stable */
        canon = trip(j, FHIR_XML_COMPACT, &lim, false);
        if (canon != NULL)
            json_decref(trip(canon, FHIR_XML_COMPACT, &lim, true));
    }
    json_decref(canon);
    json_decref(j);
    return 0;
}
