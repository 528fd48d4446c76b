/* HL7 v2: file split, ER7 parser, FHIR mapping and ACK.  The mapped Bundle
 * must always be valid JSON (no duplicate members, valid UTF-8) and valid
 * FHIR R4 (fhir/validate finds no error).
 * seeds: hl7v2/valid hl7v2/malformed hl7v2/line-endings */
#include <stddef.h>
#include <stdint.h>

#include "adapters/hl7v2/hl7v2.h"
#include "adapters/hl7v2/hl7v2_map.h"
#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/validate/fhir_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one_message(struct base_arena *a, const char *p, size_t n)
{
    static const struct hl7v2_ack_opts ack = {"FUZZ", "FUZZ", "A1", "20240101000000"};
    struct hl7v2_msg *m = NULL;
    struct hl7v2_bundle *b = NULL;
    struct base_err err = {0};
    struct base_str out;
    json_t *tree = NULL;
    int rc = hl7v2_msg_parse(a, p, n, NULL, NULL, &m, &err);

    if (hl7v2_ack_build(a, m, base_str_make(p, n), rc == BASE_OK ? HL7V2_ACK_AA : HL7V2_ACK_AE,
                        &err, &ack, &out, NULL) != BASE_OK)
        __builtin_trap();
    if (rc != BASE_OK || hl7v2_map(a, m, NULL, &b, NULL) != BASE_OK)
        return;
    if (hl7v2_bundle_tree(b, &tree, NULL) != BASE_OK)
        __builtin_trap(); /* the mapper wrote JSON that does not parse */
    {
        struct fhir_validate_opts vo = {.no_warnings = true};
        struct fhir_validate_result res = {0};

        if (fhir_validate(tree, &vo, NULL, &res, NULL) != BASE_OK || res.errors > 0)
            __builtin_trap(); /* the mapper wrote invalid FHIR */
    }
    json_decref(tree);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a = base_arena_new(64u << 20);
    struct hl7v2_file f;

    if (a == NULL)
        return 0;
    one_message(a, (const char *)data, size);
    if (hl7v2_file_split(a, (const char *)data, size, NULL, &f, NULL) == BASE_OK) {
        for (size_t i = 0; i < f.nmsgs && i < 8; i++)
            one_message(a, f.msgs[i].data.ptr, f.msgs[i].data.len);
    }
    base_arena_free(a);
    return 0;
}
