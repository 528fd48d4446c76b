/* The gateway's config file (gw_config_parse: schema, types, ranges,
 * cross-key rules); own seeds in test/fuzz/corpus/gateway_config.  seeds: */
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/arena.h"
#include "gateway/config/gw_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a = base_arena_new(16u << 20);
    struct gw_config *c = NULL;
    struct base_err err = {0};

    if (a == NULL)
        return 0;
    if (gw_config_parse(a, (const char *)data, size, "/fuzz/gateway.conf", &c, &err) == BASE_OK) {
        /* a parsed config is complete: the fields the daemon reads are set */
        if (c->node_id == NULL || c->fhir_base == NULL || c->signing_key == NULL)
            __builtin_trap();
    }
    base_arena_free(a);
    return 0;
}
