/* What demo-feed reads from an MLLP peer: frames found in arbitrary bytes,
 * each frame read as an HL7 v2 acknowledgement.  Own seeds (ACKs framed
 * and not) in test/fuzz/corpus/demo_ack; HL7 messages as further shapes.
 * seeds: hl7v2/valid */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fhir/base/limits.h"
#include "gateway/demo/gw_demo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t at = 0;
    struct gw_demo_ack ack;

    /* the input unframed, as one acknowledgement */
    if (gw_demo_ack_parse(p, size, &ack, NULL) == BASE_OK &&
        (strlen(ack.code) != 2 || strlen(ack.text) >= sizeof(ack.text)))
        __builtin_trap();
    /* and as a stream of frames, the way the feed consumes it */
    while (at < size) {
        size_t start = 0;
        size_t len = 0;
        size_t used = 0;
        int found =
            gw_demo_mllp_find(p + at, size - at, GW_DEMO_LIMIT_ACK, &start, &len, &used, NULL);

        if (found < 0 || (found == 0 && used == 0))
            break;
        if (start + len > size - at || used > size - at)
            __builtin_trap();
        if (found == 1 && gw_demo_ack_parse(p + at + start, len, &ack, NULL) == BASE_OK &&
            strlen(ack.code) != 2)
            __builtin_trap();
        at += used;
        if (found == 0)
            break;
    }
    return 0;
}
