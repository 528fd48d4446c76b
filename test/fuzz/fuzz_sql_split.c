/* SQL script splitter (migrations).  seeds: */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gateway/db/gw_db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
    const char *base;
    size_t size;
    unsigned last_line;
};

/* Every statement lies inside the input, is not empty, and lines only grow. */
static int
check(void *ctx, const char *sql, size_t len, unsigned line)
{
    struct span *s = ctx;

    if (sql < s->base || len == 0 || (size_t)(sql - s->base) + len > s->size || line < s->last_line)
        __builtin_trap();
    s->last_line = line;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct span s = {(const char *)data, size, 1};
    struct base_err err = {0};

    /* a syntax error always says where */
    if (gw_db_sql_split((const char *)data, size, 10000, check, &s, &err) == BASE_E_PARSE &&
        strncmp(err.where, "line ", 5) != 0)
        __builtin_trap();
    return 0;
}
