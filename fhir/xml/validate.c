/*
 * XML validation: the reader's problems (what only XML can get wrong:
 * order, namespaces, attributes, syntax), then the validator on the tree,
 * so an XML resource gets the same issues as its JSON form.
 */
#include <string.h>

#include "fhir/base/limits.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/xml/xml_int.h"

/* The validator's "missing required element" issues, from index `from` of
 * oo's issues on, at a place the reader reported and left out: the element
 * is in the document, and its one problem was said where it is (a JSON
 * document with the same mistake keeps the element and gets one issue
 * too).  Returns how many were withdrawn. */
static size_t
withdraw_missing(json_t *oo, size_t from, const json_t *dropped)
{
    json_t *issues = json_object_get(oo, "issue");
    size_t removed = 0;

    for (size_t i = from; i < json_array_size(issues);) {
        const json_t *is = json_array_get(issues, i);
        const char *code = json_string_value(json_object_get(is, "code"));
        const char *where = json_string_value(json_array_get(json_object_get(is, "expression"), 0));

        if (code != NULL && strcmp(code, "required") == 0 && where != NULL &&
            json_object_get(dropped, where) != NULL && json_array_remove(issues, i) == 0) {
            removed++;
            continue;
        }
        i++;
    }
    return removed;
}

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
        json_decref(st.dropped);
        return rc;
    }
    if (res != NULL) {
        /* the validator's own budget is what the reader left */
        vo.max_issues = lim.max_issues > st.issues ? lim.max_issues - st.issues : 0;
        if (vo.max_issues == 0) {
            vo.max_issues = 1;
            st.truncated = true;
        }
        /* without the caller's outcome the issues are still needed once to
         * tell which to withdraw, so that the counts do not depend on it */
        bool filter = !st.truncated && json_object_size(st.dropped) > 0;
        json_t *tmp = filter && oo == NULL ? fhir_outcome_new() : NULL;
        json_t *target = st.truncated ? NULL : oo != NULL ? oo : tmp;
        size_t from = target != NULL ? json_array_size(json_object_get(target, "issue")) : 0;
        size_t gone;

        rc = fhir_validate(res, &vo, target, &vr, err);
        json_decref(res);
        gone = filter && target != NULL ? withdraw_missing(target, from, st.dropped) : 0;
        vr.errors -= gone < vr.errors ? gone : vr.errors;
        vr.issues -= gone < vr.issues ? gone : vr.issues;
        if (tmp != NULL) { /* as if counted without an outcome */
            vr.issues = 0;
            vr.truncated = false;
            json_decref(tmp);
        }
    }
    json_decref(st.dropped);
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
