/* MLLP de-framer: arbitrary bytes in arbitrary read sizes.  Frames never
 * exceed the limit and never hold more bytes than came in.
 * seeds: hl7v2/mllp */
#include <stddef.h>
#include <stdint.h>

#include "adapters/mllp/mllp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mllp_deframer d;
    size_t off = 1;
    size_t chunk;
    uint64_t framed = 0;

    if (size < 1)
        return 0;
    chunk = (size_t)data[0] % 17 + 1; /* the first byte picks the read size */
    mllp_deframer_init(&d, 256);
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        size_t used = 0;
        struct base_str f;
        int rc = mllp_deframer_feed(&d, (const char *)data + off, n, &used, &f, NULL);

        if (used > n || (used == 0 && rc != MLLP_NEED_MORE))
            __builtin_trap();
        if (rc == MLLP_FRAME) {
            if (f.len > 256)
                __builtin_trap();
            framed += f.len + 3;
        }
        off += used;
    }
    if (framed + d.garbage > size)
        __builtin_trap();
    mllp_deframer_fini(&d);
    return 0;
}
