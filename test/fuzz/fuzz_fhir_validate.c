/* FHIR JSON validation.  seeds: fhir-r4-examples/json synthea/bulk-ndjson-10-patients */
#include <stddef.h>
#include <stdint.h>

#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/validate/fhir_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fhir_json_limits lim = fhir_json_limits_default();
    struct fhir_validate_opts opts = {.max_issues = 64};
    struct fhir_validate_result r = {0};
    struct base_err err = {0};
    const char *text = (const char *)data;
    json_t *v = NULL;
    json_t *oo;
    int rc;

    /* the lexical checkers and the narrative parser take any bytes */
    for (int p = FHIR_PRIM_BASE64BINARY; p < FHIR_PRIM_XHTML; p++)
        (void)fhir_validate_primitive((enum fhir_model_prim)p, text, size);
    if (size < 65536)
        (void)fhir_validate_xhtml(text, size);

    /* the one-pass text path must agree with parse + tree walk */
    if (size <= (1u << 20)) {
        json_t *oo_text = fhir_outcome_new();
        json_t *oo_tree = fhir_outcome_new();
        struct fhir_validate_result rt = {0};
        int rc_text = fhir_validate_json(text, size, &opts, oo_text, &rt, NULL);

        if (fhir_json_parse(text, size, NULL, &v, NULL) == BASE_OK) {
            rc = fhir_validate(v, &opts, oo_tree, &r, NULL);
            if (rc_text != rc || !fhir_json_equal(oo_text, oo_tree) || rt.errors != r.errors ||
                rt.warnings != r.warnings)
                __builtin_trap();
            json_decref(v);
            v = NULL;
        } else if (rc_text != BASE_E_INVALID || rt.fast) {
            __builtin_trap();
        }
        json_decref(oo_text);
        json_decref(oo_tree);
    }

    lim.max_doc = 1u << 20;
    if (fhir_json_parse(text, size, &lim, &v, NULL) != BASE_OK)
        return 0;
    oo = fhir_outcome_new();
    if (oo == NULL) {
        json_decref(v);
        return 0;
    }
    rc = fhir_validate(v, &opts, oo, &r, &err);
    /* the counting path and the reporting path must agree */
    if (rc != BASE_E_NOMEM &&
        (fhir_validate_error_count(v) != r.errors || r.issues > opts.max_issues ||
         json_array_size(json_object_get(oo, "issue")) != r.issues ||
         (rc == BASE_OK) != (r.errors == 0)))
        __builtin_trap();
    json_decref(oo);
    json_decref(v);
    return 0;
}
