/* DICOM JSON reader and the ImagingStudy mapping, with and without the
 * member's patient issuer.  seeds: dicom/dicomweb-json,
 * test/fuzz/corpus/dicomweb (shared_pacs_issuers.json: one PatientID under
 * two issuers, qualifiers, Issuer of Accession Number, ACR-NEMA dates) */
#include <stddef.h>
#include <stdint.h>

#include "adapters/dicomweb/dicomweb.h"
#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dicomweb_limits lim = dicomweb_limits_default();
    struct dicomweb_options opt = {.default_tz = "Z", .pacs_name = "fuzz"};
    struct dicomweb_options own = {.patient_ref = "Patient/1",
                                   .patient_issuer = "HOSP_A",
                                   .patient_id_system = "urn:oid:2.16.156.99.1"};
    json_t *datasets = NULL;
    json_t *studies = NULL;
    json_t *bundle = NULL;
    json_t *warnings = NULL;
    struct base_buf out;

    lim.max_doc = 1u << 20;
    if (dicomweb_parse((const char *)data, size, &lim, &datasets, NULL) != BASE_OK)
        return 0;
    /* strict path (QIDO answers) and lenient path (convert) */
    int strict = dicomweb_studies(datasets, &opt, &studies, NULL);
    if (strict == BASE_OK) {
        base_buf_init(&out, 64u << 20);
        if (fhir_json_dump(studies, 0, &out, NULL) != BASE_OK)
            __builtin_trap();
        base_buf_fini(&out);
    }
    if (dicomweb_to_bundle((const char *)data, size, &lim, &opt, &bundle, &warnings, NULL) !=
        BASE_OK)
        __builtin_trap(); /* it parsed above, so it must convert */
    json_decref(bundle);
    json_decref(warnings);
    json_decref(studies);
    /* the member's issuer leaves studies out, never fails what passed */
    if (dicomweb_studies(datasets, &own, &studies, NULL) != strict ||
        dicomweb_datasets_to_bundle(datasets, &own, &bundle, &warnings, NULL) != BASE_OK)
        __builtin_trap();
    json_decref(bundle);
    json_decref(warnings);
    json_decref(studies);
    json_decref(datasets);
    return 0;
}
