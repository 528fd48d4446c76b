/*
 * FHIRPath-like locations for the reader's and writer's messages, in the
 * validator's form ("Patient.name[0].given[1]").
 */
#include <stdio.h>
#include <string.h>

#include "fhir/xml/xml_int.h"

/* Element names come from the document: they are shown only when they look
 * like FHIR names (STYLE: never echo client text). */
static bool
plausible_name(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return false;
    }
    return true;
}

static void
put(char *buf, size_t cap, size_t *n, const char *s, size_t len)
{
    if (*n + 1 >= cap)
        return;
    if (len > cap - 1 - *n)
        len = cap - 1 - *n;
    memcpy(buf + *n, s, len);
    *n += len;
    buf[*n] = '\0';
}

static void
put_step(char *buf, size_t cap, size_t *n, const char *name, size_t len, long index)
{
    char ix[24];

    if (*n > 0)
        put(buf, cap, n, ".", 1);
    if (plausible_name(name, len))
        put(buf, cap, n, name, len);
    else
        put(buf, cap, n, "(invalid name)", 14);
    if (index >= 0) {
        int k = snprintf(ix, sizeof(ix), "[%ld]", index);

        if (k > 0)
            put(buf, cap, n, ix, (size_t)k);
    }
}

void
fhir_xml__render_path(const struct fhir_xml__seg *segs, size_t n, const char *extra,
                      size_t extra_len, char *buf, size_t cap)
{
    size_t used = 0;

    if (cap == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (segs[i].name != NULL)
            put_step(buf, cap, &used, segs[i].name, segs[i].len, segs[i].index);
    }
    if (extra != NULL)
        put_step(buf, cap, &used, extra, extra_len, -1);
}
