#include "fhir/base/rd.h"

#include <string.h>

void
base_rd_init(struct base_rd *rd, const char *p, size_t len)
{
    rd->p = p;
    rd->len = p == NULL ? 0 : len;
    rd->off = 0;
}

bool
base_rd_empty(const struct base_rd *rd)
{
    return rd->off >= rd->len;
}

size_t
base_rd_remaining(const struct base_rd *rd)
{
    return rd->len - rd->off;
}

struct base_str
base_rd_rest(const struct base_rd *rd)
{
    return base_str_make(rd->p + rd->off, rd->len - rd->off);
}

bool
base_rd_peek(const struct base_rd *rd, char *out)
{
    if (base_rd_empty(rd))
        return false;
    *out = rd->p[rd->off];
    return true;
}

bool
base_rd_getc(struct base_rd *rd, char *out)
{
    if (!base_rd_peek(rd, out))
        return false;
    rd->off++;
    return true;
}

bool
base_rd_take(struct base_rd *rd, size_t n, struct base_str *out)
{
    if (n > base_rd_remaining(rd))
        return false;
    *out = base_str_make(rd->p + rd->off, n);
    rd->off += n;
    return true;
}

struct base_str
base_rd_take_until(struct base_rd *rd, char delim)
{
    size_t rem = base_rd_remaining(rd);
    const char *start = rd->p + rd->off;
    const char *hit = rem > 0 ? memchr(start, delim, rem) : NULL;
    struct base_str s;

    if (hit == NULL) {
        s = base_str_make(start, rem);
        rd->off = rd->len;
        return s;
    }
    s = base_str_make(start, (size_t)(hit - start));
    rd->off += s.len + 1;
    return s;
}

bool
base_rd_accept(struct base_rd *rd, const char *lit)
{
    size_t n = strlen(lit);

    if (n > base_rd_remaining(rd) || memcmp(rd->p + rd->off, lit, n) != 0)
        return false;
    rd->off += n;
    return true;
}

bool
base_rd_skip(struct base_rd *rd, size_t n)
{
    if (n > base_rd_remaining(rd))
        return false;
    rd->off += n;
    return true;
}
