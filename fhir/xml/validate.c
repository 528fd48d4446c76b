/*
 * XML validation: the reader's problems (what only XML can get wrong:
 * order, namespaces, attributes, syntax), then the validator on the tree,
 * so an XML resource gets the same issues as its JSON form.
 */
#include "fhir/base/limits.h"
#include "fhir/xml/xml_int.h"

int
fhir_xml_validate(const char *text, size_t len, const struct fhir_validate_opts *opts, json_t *oo,
                  struct fhir_validate_result *out, struct base_err *err)
{
    struct fhir_xml_limits lim = fhir_xml_limits_default();
    struct fhir_xml__stats st = {0};
    struct fhir_validate_opts vo = {0};
    struct fhir_validate_result vr = {0};
    json_t *res = NULL;
    int rc;

    if (opts != NULL) {
        vo = *opts;
        if (opts->max_issues > 0)
            lim.max_issues = opts->max_issues;
    }
    rc = fhir_xml__read(text, len, &lim, oo, &res, err, &st);
    if (rc == BASE_E_NOMEM) {
        json_decref(res);
        return rc;
    }
    if (res != NULL) {
        /* the validator's own budget is what the reader left */
        vo.max_issues = lim.max_issues > st.issues ? lim.max_issues - st.issues : 0;
        if (vo.max_issues == 0) {
            vo.max_issues = 1;
            st.truncated = true;
        }
        rc = fhir_validate(res, &vo, st.truncated ? NULL : oo, &vr, err);
        json_decref(res);
    }
    vr.errors += st.errors;
    vr.issues += st.issues;
    vr.truncated = vr.truncated || st.truncated;
    vr.fast = false;
    if (out != NULL)
        *out = vr;
    if (rc == BASE_E_NOMEM)
        return rc;
    return vr.errors > 0 ? BASE_E_INVALID : BASE_OK;
}
