/* CDA R2 reader and mapping to FHIR.  seeds: cda */
#include <stddef.h>
#include <stdint.h>

#include "adapters/cda/cda.h"
#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cda_limits lim = cda_limits_default();
    struct cda_options opt = {.default_tz = "+08:00", .patient_ref = "Patient/fuzz"};
    json_t *bundle = NULL;
    json_t *warnings = NULL;
    struct base_buf out;

    lim.max_doc = 1u << 20;
    lim.max_inflated = 1u << 20; /* a deflate bomb costs time, not a finding */
    if (cda_to_bundle((const char *)data, size, &lim, &opt, &bundle, &warnings, NULL) != BASE_OK)
        return 0;
    /* whatever was produced must serialize */
    base_buf_init(&out, 64u << 20);
    if (fhir_json_dump(bundle, 0, &out, NULL) != BASE_OK)
        __builtin_trap();
    base_buf_fini(&out);
    json_decref(bundle);
    json_decref(warnings);
    return 0;
}
