/*
 * Narrative XHTML: the purpose-built checker (fhir/validate/xhtml_fast.c)
 * against libxml2, the reference.  The fast path may give up on anything,
 * but what it accepts libxml2 must accept, and fhir_validate_xhtml() must
 * always return libxml2's verdict.  seeds: none (test/fuzz/corpus/xhtml_diff)
 */
#include <stddef.h>
#include <stdint.h>

#include "fhir/validate/fhir_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    enum fhir_xhtml_fault ref;
    bool fast;

    if (size > 65536)
        return 0;
    ref = fhir_validate_xhtml_libxml2(text, size);
    fast = fhir_validate_xhtml_fast(text, size);
    if (fast && ref != FHIR_XHTML_OK)
        __builtin_trap();
    if (fhir_validate_xhtml(text, size) != ref)
        __builtin_trap();
    return 0;
}
