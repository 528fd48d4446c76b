/*
 * Error locations: "PID-5[2].1 (segment 3)", formatted and read back (the
 * ACK builder turns them into an ERR-2 error location).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "adapters/hl7v2/hl7v2_int.h"

void
hl7v2_loc_format(const struct hl7v2_loc *loc, char *buf, size_t cap)
{
    size_t n = 0;

#define PUT(...)                                                                                   \
    do {                                                                                           \
        int k_ = snprintf(buf + n, cap - n, __VA_ARGS__);                                          \
        if (k_ < 0 || (size_t)k_ >= cap - n)                                                       \
            return;                                                                                \
        n += (size_t)k_;                                                                           \
    } while (0)

    if (cap == 0)
        return;
    buf[0] = '\0';
    if (loc->seg[0] != '\0' && loc->field > 0) {
        PUT("%s-%u", loc->seg, (unsigned)loc->field);
        if (loc->rep > 0)
            PUT("[%u]", (unsigned)loc->rep);
        if (loc->comp > 0)
            PUT(".%u", (unsigned)loc->comp);
        if (loc->comp > 0 && loc->sub > 0)
            PUT(".%u", (unsigned)loc->sub);
        if (loc->seg_index > 0)
            PUT(" (segment %u)", (unsigned)loc->seg_index);
    } else if (loc->seg_index > 0) {
        if (loc->seg[0] != '\0')
            PUT("%s (segment %u)", loc->seg, (unsigned)loc->seg_index);
        else
            PUT("segment %u", (unsigned)loc->seg_index);
    } else if (loc->seg[0] != '\0') {
        PUT("%s", loc->seg);
    }
#undef PUT
}

int
hl7v2_err_at(struct base_err *err, int rc, const char *issue, const struct hl7v2_loc *loc,
             const char *fmt, ...)
{
    char where[128];
    char msg[160];
    va_list ap;

    if (err == NULL || err->rc != 0)
        return rc;
    hl7v2_loc_format(loc, where, sizeof(where));
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return base_err_set(err, rc, issue, where, "%s", msg);
}

static bool
read_u32(const char **pp, uint32_t *out)
{
    const char *p = *pp;
    uint32_t v = 0;

    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        if (v > 100000000u)
            return false;
        v = v * 10u + (uint32_t)(*p - '0');
        p++;
    }
    *pp = p;
    *out = v;
    return true;
}

static bool
parse_segment_suffix(const char *p, struct hl7v2_loc *loc)
{
    if (*p == '\0')
        return true;
    if (strncmp(p, " (segment ", 10) != 0)
        return false;
    p += 10;
    return read_u32(&p, &loc->seg_index) && p[0] == ')' && p[1] == '\0';
}

bool
hl7v2_loc_parse(const char *where, struct hl7v2_loc *loc)
{
    const char *p = where;

    memset(loc, 0, sizeof(*loc));
    if (strncmp(p, "segment ", 8) == 0) {
        p += 8;
        return read_u32(&p, &loc->seg_index) && *p == '\0';
    }
    if (!(p[0] >= 'A' && p[0] <= 'Z') || !hl7v2_is_id_char(p[1]) || !hl7v2_is_id_char(p[2]))
        return false;
    memcpy(loc->seg, p, 3);
    p += 3;
    if (*p == '-') {
        p++;
        if (!read_u32(&p, &loc->field))
            return false;
        if (*p == '[') {
            p++;
            if (!read_u32(&p, &loc->rep) || *p != ']')
                return false;
            p++;
        }
        if (*p == '.') {
            p++;
            if (!read_u32(&p, &loc->comp))
                return false;
            if (*p == '.') {
                p++;
                if (!read_u32(&p, &loc->sub))
                    return false;
            }
        }
    }
    return parse_segment_suffix(p, loc);
}
