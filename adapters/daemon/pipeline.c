/*
 * Steps every input shares between conversion and the store: sensitivity
 * labels on every resource (adapters/label: the gateway filters by label,
 * and only the source knows the codes) and validation against the R4
 * definitions (fhir/validate): what does not validate is never stored.
 */
#include <string.h>

#include "adapters/daemon/daemon_int.h"
#include "adapters/label/adapter_label.h"
#include "fhir/validate/fhir_validate.h"

int
adapter__prepare_bundle(json_t *bundle, json_t *oo, struct base_err *err)
{
    struct fhir_validate_opts vo = {0};
    struct fhir_validate_result vr;

    if (adapter_label_bundle(bundle) < 0)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    /* The transaction Bundle as a whole: conditional references
     * ("Practitioner?identifier=…") are valid only inside one, and every
     * entry's resource is checked by its own type (fhir_validate.h). */
    vo.expect_type = "Bundle";
    vo.no_warnings = true;
    return fhir_validate(bundle, &vo, oo, &vr, err);
}
