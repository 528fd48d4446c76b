/*
 * Bundle writer's spliced entries: the non-allocating JSON check against
 * the real reader.  seeds: fhir-r4-examples/json synthea/bulk-ndjson-10-patients */
/* Invariants: whatever the check accepts, spliced into a Bundle, parses
 * with fhir_json_parse (a member can never break out of its entry); and
 * every object the reader accepts (within the depth limit) the check
 * accepts too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/bundle/fhir_bundle.h"
#include "fhir/json/fhir_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fhir_bundle_header h = {FHIR_BUNDLE_SEARCHSET, NULL, NULL, true, 1, NULL, 0};
    struct fhir_bundle_writer w;
    struct fhir_json_limits lim = fhir_json_limits_default();
    struct base_buf out;
    json_t *v = NULL;
    json_t *whole = NULL;
    int checked;
    int parsed;

    lim.max_doc = 1u << 20;
    lim.max_depth = BASE_LIMIT_FHIR_MAX_DEPTH - 2; /* the entry sits two levels down */
    base_buf_init(&out, 4u << 20);
    checked = fhir_bundle_writer_begin(&w, &out, &h);
    if (checked == BASE_OK)
        checked = fhir_bundle_writer_entry_raw(&w, "urn:uuid:x", (const char *)data, size,
                                               FHIR_BUNDLE_MODE_MATCH, NULL, NULL);
    parsed = fhir_json_parse((const char *)data, size, &lim, &v, NULL);
    if (parsed == BASE_OK && json_is_object(v) && checked != BASE_OK)
        __builtin_trap(); /* the check refused an object the reader accepts */
    if (checked == BASE_OK) {
        struct base_err err = {0};

        lim.max_depth = BASE_LIMIT_FHIR_MAX_DEPTH + 2;
        if (fhir_bundle_writer_end(&w) != BASE_OK)
            __builtin_trap();
        /* Duplicate member names are the one thing the O(1)-memory check
         * leaves to the reader (documented in fhir_bundle.h). */
        if (fhir_json_parse(out.data, out.len, &lim, &whole, &err) != BASE_OK
                ? strstr(err.msg, "duplicate") == NULL
                : json_array_size(json_object_get(whole, "entry")) != 1)
            __builtin_trap(); /* a spliced entry broke the Bundle */
    }
    json_decref(v);
    json_decref(whole);
    base_buf_fini(&out);
    return 0;
}
