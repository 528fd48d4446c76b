/* Audit search page tokens (they come back from clients).  seeds: */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gateway/audit/audit_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_audit__page_key k;
    struct base_err err = {0};

    if (gw_audit__page_parse((const char *)data, size, &k, &err) == BASE_OK &&
        (strlen(k.time) != 27 || k.chain[0] == '\0' || k.seq[0] == '\0'))
        __builtin_trap();
    return 0;
}
