/*
 * base_utf8_valid() — its vector path (16-byte blocks, SSSE3) and its
 * scalar one — against the RFC 3629 oracle of test/support/utf8_ref.h:
 * the same verdict, and the same offset of the first bad byte.  The input
 * is also checked from every starting offset below 16, so that a sequence
 * meets each block edge.
 * seeds: hl7v2 cda */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fhir/base/str.h"
#include "test/support/utf8_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t off = 0; off < 16 && off <= size; off++) {
        size_t want_bad = 0;
        size_t got_bad = 0;
        bool want = utf8_ref_valid(data + off, size - off, &want_bad);
        bool got = base_utf8_valid((const char *)data + off, size - off, &got_bad);

        if (got != want || (!want && got_bad != want_bad))
            abort();
    }
    return 0;
}
