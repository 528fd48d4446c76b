/* FHIR JSON reader and writer.  seeds: fhir-r4-examples/json synthea/bulk-ndjson-10-patients */
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fhir_json_limits lim = fhir_json_limits_default();
    json_t *v = NULL;
    json_t *again = NULL;
    struct base_buf out;

    lim.max_doc = 1u << 20;
    if (fhir_json_parse((const char *)data, size, &lim, &v, NULL) != BASE_OK)
        return 0;
    base_buf_init(&out, 8u << 20);
    /* a round trip must reproduce the same tree */
    if (fhir_json_dump(v, 0, &out, NULL) == BASE_OK &&
        (fhir_json_parse(out.data, out.len, &lim, &again, NULL) != BASE_OK ||
         !fhir_json_equal(v, again)))
        __builtin_trap();
    json_decref(again);
    json_decref(v);
    base_buf_fini(&out);
    return 0;
}
