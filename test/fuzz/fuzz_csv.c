/* CSV reader, mapping parser and loader.  seeds: csv/synthea-csv */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "adapters/csv/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Exercises every transform, grouping, conditions and [+]/[=] paths. */
static const char mapping[] =
    "resource Observation\n"
    "identity urn:oid:1.2.3 {A}/{B?} | uuid\n"
    "group {A}\n"
    "status = final\n"
    "code.coding[+].code = {B} | upper\n"
    "code.coding[=].system = http://loinc.org when B\n"
    "null NULL -\n"
    "effectiveDateTime = {C,D?} | datetime iso M/D/YYYY YYYYMMDDhhmmss DD-MMM-YY excel\n"
    "issued = {D?} | date YYYY-MM-DD\n"
    "valueQuantity.value = {E?} | decimal comparator when F=numeric\n"
    "valueQuantity.comparator = {E?} | comparator when F=numeric\n"
    "referenceRange[0].low.value = {E?} | decimal , when E~number\n"
    "valueInteger = {E?} | integer when F!=numeric\n"
    "valueBoolean = {F?} | boolean\n"
    "subject = {A} | ref Patient urn:oid:1.2\n"
    "interpretation[0].text = {G?} | lower | map h=high l=low *=other required\n";

static int
drop_bundle(void *ctx, json_t *bundle)
{
    (void)ctx;
    json_decref(bundle);
    return BASE_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csv_limits lim = csv_limits_default();
    struct csv_load_options opt = {.batch_rows = 3, .default_tz = "Z"};
    struct csv_mapping *m = NULL;
    struct csv_load *l = NULL;
    size_t chunk = size > 0 ? (size_t)data[0] % 17 + 1 : 1;

    lim.max_record = 4096;
    lim.max_field = 512;
    lim.max_columns = 64;
    /* an input that looks like a mapping file exercises the mapping parser */
    if (size > 9 && memcmp(data, "resource ", 9) == 0) {
        if (csv_mapping_parse((const char *)data, size, &lim, &m, NULL) == BASE_OK)
            csv_mapping_free(m);
        return 0;
    }
    if (csv_mapping_parse(mapping, sizeof(mapping) - 1, &lim, &m, NULL) != BASE_OK)
        __builtin_trap();
    if (csv_load_new(m, &lim, &opt, drop_bundle, NULL, NULL, &l, NULL) == BASE_OK) {
        int rc = BASE_OK;

        for (size_t off = 0; off < size && rc == BASE_OK; off += chunk)
            rc = csv_load_feed(l, (const char *)data + off, off + chunk > size ? size - off : chunk,
                               NULL);
        if (rc == BASE_OK)
            rc = csv_load_finish(l, NULL, NULL);
        (void)rc; /* rejecting the input is a fine outcome */
        csv_load_free(l);
    }
    csv_mapping_free(m);
    return 0;
}
