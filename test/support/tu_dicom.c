/*
 * A strict Part 10 reader for tests (tu_dicom.h).  PS3.10 7.1 (meta
 * information), PS3.5 7.1.2 (explicit VR element layout), 7.5 (sequences).
 */
#include "test/support/tu_dicom.h"

#include <stdio.h>
#include <string.h>

struct walker {
    const uint8_t *p;
    size_t len;
    tu_dcm_fn fn;
    void *ctx;
    char *why;
};

static uint32_t
u16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
u32(const uint8_t *p)
{
    return u16(p) | u16(p + 2) << 16;
}

static bool
long_vr(const char *vr)
{
    static const char *const l[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                    "SV", "UC", "UN", "UR", "UT", "UV"};

    for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
        if (strcmp(l[i], vr) == 0)
            return true;
    }
    return false;
}

static bool
known_vr(const char *vr)
{
    static const char *const k[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT",
                                    "FL", "FD", "IS", "LO", "LT", "PN", "SH",
                                    "SL", "SS", "ST", "TM", "UI", "UL", "US"};

    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        if (strcmp(k[i], vr) == 0)
            return true;
    }
    return long_vr(vr);
}

static int
fail(struct walker *w, const char *what, uint32_t tag)
{
    snprintf(w->why, 128, "%s at (%04X,%04X)", what, (unsigned)(tag >> 16),
             (unsigned)(tag & 0xFFFF));
    return -1;
}

static int walk_set(struct walker *w, size_t from, size_t to, int depth, bool meta, size_t *end);

static int
walk_items(struct walker *w, size_t from, size_t to, int depth, uint32_t tag)
{
    size_t at = from;

    while (at < to) {
        size_t end;
        uint32_t len;

        if (to - at < 8 || u16(w->p + at) != 0xFFFE || u16(w->p + at + 2) != 0xE000)
            return fail(w, "sequence holds something other than an item", tag);
        len = u32(w->p + at + 4);
        if (len == 0xFFFFFFFFu || len > to - at - 8)
            return fail(w, "item length undefined or past its sequence", tag);
        if (walk_set(w, at + 8, at + 8 + len, depth + 1, false, &end) != 0)
            return -1;
        at += 8 + (size_t)len;
    }
    return 0;
}

static int
element(struct walker *w, size_t *at, size_t to, int depth, uint32_t *tag)
{
    struct tu_dcm_elem e = {.depth = depth};
    size_t hdr = 8;
    uint32_t len;

    if (to - *at < 8)
        return fail(w, "truncated element header", *tag);
    e.tag = u16(w->p + *at) << 16 | u16(w->p + *at + 2);
    memcpy(e.vr, w->p + *at + 4, 2);
    if (!known_vr(e.vr))
        return fail(w, "unknown VR", e.tag);
    if (long_vr(e.vr)) {
        if (to - *at < 12 || u16(w->p + *at + 6) != 0)
            return fail(w, "bad long-form header", e.tag);
        len = u32(w->p + *at + 8);
        hdr = 12;
    } else {
        len = u16(w->p + *at + 6);
    }
    if (len == 0xFFFFFFFFu || len > to - *at - hdr)
        return fail(w, "length undefined or past the end", e.tag);
    if (len % 2 != 0)
        return fail(w, "odd value length", e.tag);
    if (e.tag <= *tag && *tag != 0)
        return fail(w, "tags not ascending", e.tag);
    e.val = w->p + *at + hdr;
    e.len = len;
    if (w->fn != NULL)
        w->fn(w->ctx, &e);
    if (strcmp(e.vr, "SQ") == 0 && walk_items(w, *at + hdr, *at + hdr + len, depth, e.tag) != 0)
        return -1;
    *tag = e.tag;
    *at += hdr + len;
    return 0;
}

static int
walk_set(struct walker *w, size_t from, size_t to, int depth, bool meta, size_t *end)
{
    size_t at = from;
    uint32_t last = 0;

    while (at < to) {
        if (meta && to - at >= 2 && u16(w->p + at) != 0x0002)
            break; /* the meta group ends where group 0002 does */
        if (element(w, &at, to, depth, &last) != 0)
            return -1;
        if (!meta && depth == 0 && (last >> 16) == 0x0002)
            return fail(w, "group 0002 inside the data set", last);
    }
    *end = at;
    return 0;
}

int
tu_dcm_walk(const uint8_t *data, size_t len, tu_dcm_fn fn, void *ctx, char why[128])
{
    struct walker w = {data, len, fn, ctx, why};
    size_t meta_end = 0;
    size_t end = 0;

    why[0] = '\0';
    if (len < 144 || memcmp(data + 128, "DICM", 4) != 0)
        return fail(&w, "no preamble and DICM prefix", 0);
    /* PS3.10 7.1: (0002,0000) UL first, its value the bytes of the rest of
     * group 0002 */
    if (u16(data + 132) != 0x0002 || u16(data + 134) != 0x0000 ||
        memcmp(data + 136, "UL", 2) != 0 || u16(data + 138) != 4)
        return fail(&w, "meta header does not start with its group length", 0x00020000);
    if (walk_set(&w, 132, len, 0, true, &meta_end) != 0)
        return -1;
    if (meta_end - 144 != u32(data + 140))
        return fail(&w, "meta group length does not match", 0x00020000);
    if (walk_set(&w, meta_end, len, 0, false, &end) != 0)
        return -1;
    return end == len ? 0 : fail(&w, "bytes after the data set", 0);
}

struct finder {
    uint32_t tag;
    char *out;
    size_t cap;
    bool found;
};

static void
find_cb(void *ctx, const struct tu_dcm_elem *e)
{
    struct finder *f = ctx;
    size_t n = e->len < f->cap - 1 ? e->len : f->cap - 1;

    if (f->found || e->depth != 0 || e->tag != f->tag)
        return;
    memcpy(f->out, e->val, n);
    while (n > 0 && (f->out[n - 1] == ' ' || f->out[n - 1] == '\0'))
        n--;
    f->out[n] = '\0';
    f->found = true;
}

bool
tu_dcm_string(const uint8_t *data, size_t len, uint32_t tag, char *out, size_t cap)
{
    struct finder f = {tag, out, cap, false};
    char why[128];

    return tu_dcm_walk(data, len, find_cb, &f, why) == 0 && f.found;
}
