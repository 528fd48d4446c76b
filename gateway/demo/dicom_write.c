/*
 * A DICOM Part 10 writer (gw_demo_dicom.h): Explicit VR Little Endian,
 * defined-length sequences, values checked against PS3.5 section 6.2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "gateway/demo/gw_demo_dicom.h"

#define DCM_MAX_DEPTH 8u /* nested sequences; the demo uses one level */

enum vr_kind { VR_TEXT, VR_BIN, VR_SEQ };

struct vr_info {
    const char *name;
    enum vr_kind kind;
    bool long_len;    /* PS3.5 7.1.2: 2 reserved bytes and a 32-bit length */
    size_t max;       /* per value: characters for text VRs (0 = no bound) */
    bool multi;       /* a backslash separates values (not LT/ST/UT/UR) */
    bool count_chars; /* max counts characters (UTF-8 code points), not bytes */
};

/* PS3.5 table 6.2-1 (the VRs this writer accepts). */
static const struct vr_info vrs[] = {
    {"AE", VR_TEXT, false, 16, true, false},    {"AS", VR_TEXT, false, 4, true, false},
    {"CS", VR_TEXT, false, 16, true, false},    {"DA", VR_TEXT, false, 8, true, false},
    {"DS", VR_TEXT, false, 16, true, false},    {"DT", VR_TEXT, false, 26, true, false},
    {"IS", VR_TEXT, false, 12, true, false},    {"LO", VR_TEXT, false, 64, true, true},
    {"LT", VR_TEXT, false, 10240, false, true}, {"PN", VR_TEXT, false, 64, true, true},
    {"SH", VR_TEXT, false, 16, true, true},     {"ST", VR_TEXT, false, 1024, false, true},
    {"TM", VR_TEXT, false, 14, true, false},    {"UC", VR_TEXT, true, 0, true, true},
    {"UI", VR_TEXT, false, 64, true, false},    {"UR", VR_TEXT, true, 0, false, false},
    {"UT", VR_TEXT, true, 0, false, true},      {"US", VR_BIN, false, 0, true, false},
    {"UL", VR_BIN, false, 0, true, false},      {"OB", VR_BIN, true, 0, false, false},
    {"OW", VR_BIN, true, 0, false, false},      {"SQ", VR_SEQ, true, 0, false, false},
};

struct dcm_elem {
    uint32_t tag;
    const struct vr_info *vr;
    const uint8_t *val;
    size_t len;
    struct gw_demo_dcm *const *items;
    size_t n_items;
    size_t order; /* insertion order, for a stable sort */
};

struct gw_demo_dcm {
    struct base_arena *a;
    struct dcm_elem *el;
    size_t n;
    size_t cap;
};

static const struct vr_info *
vr_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < BASE_ARRAY_LEN(vrs); i++) {
        if (strcmp(vrs[i].name, name) == 0)
            return &vrs[i];
    }
    return NULL;
}

static int
bad(struct base_err *err, uint32_t tag, const char *what)
{
    char where[16];

    snprintf(where, sizeof(where), "(%04X,%04X)", (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF));
    return base_err_set(err, BASE_E_INVALID, "value", where, "%s", what);
}

struct gw_demo_dcm *
gw_demo_dcm_new(struct base_arena *a)
{
    struct gw_demo_dcm *ds = BASE_NEW(a, struct gw_demo_dcm);

    if (ds != NULL)
        ds->a = a;
    return ds;
}

static int
add(struct gw_demo_dcm *ds, uint32_t tag, const struct vr_info *vr, const void *val, size_t len,
    struct base_err *err)
{
    struct dcm_elem *e;

    if (ds->n == ds->cap) {
        size_t cap = ds->cap == 0 ? 32 : ds->cap * 2;
        struct dcm_elem *el = base_arena_grow(ds->a, ds->el, ds->n, cap, sizeof(*el));

        if (el == NULL)
            return base_err_set(err, BASE_E_NOMEM, "exception", "dicom", "out of memory");
        ds->el = el;
        ds->cap = cap;
    }
    e = &ds->el[ds->n];
    memset(e, 0, sizeof(*e));
    e->tag = tag;
    e->vr = vr;
    e->len = len;
    e->order = ds->n;
    if (len > 0) {
        e->val = base_arena_memdup(ds->a, val, len);
        if (e->val == NULL)
            return base_err_set(err, BASE_E_NOMEM, "exception", "dicom", "out of memory");
    }
    ds->n++;
    return BASE_OK;
}

bool
gw_demo_dcm_uid_ok(const char *s)
{
    size_t n = strlen(s);
    size_t comp = 0; /* length of the current component */

    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (comp == 0)
                return false;
            comp = 0;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return false;
        /* PS3.5 9.1: a component of more than one digit has no leading 0 */
        if (comp == 1 && s[i - 1] == '0')
            return false;
        comp++;
    }
    return comp > 0;
}

/* UTF-8 code points in s[0..n) (the text is assumed valid UTF-8). */
static size_t
chars(const char *s, size_t n)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static bool
char_ok(const char *vr, unsigned char c)
{
    if (c < 0x20 && !(c == '\n' || c == '\r' || c == '\t' || c == 0x0C || c == 0x1B))
        return false;
    if (strcmp(vr, "CS") == 0)
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '_';
    if (strcmp(vr, "DA") == 0)
        return c >= '0' && c <= '9';
    if (strcmp(vr, "TM") == 0)
        return (c >= '0' && c <= '9') || c == '.';
    if (strcmp(vr, "DS") == 0)
        return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'E' || c == 'e' ||
               c == ' ';
    if (strcmp(vr, "IS") == 0)
        return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == ' ';
    if (strcmp(vr, "AS") == 0)
        return (c >= '0' && c <= '9') || c == 'D' || c == 'W' || c == 'M' || c == 'Y';
    if (strcmp(vr, "AE") == 0 || strcmp(vr, "UI") == 0)
        return c >= 0x20 && c < 0x7F;
    return true;
}

/* One value (between backslashes) of a text VR. */
static bool
value_ok(const struct vr_info *vr, const char *v, size_t n)
{
    size_t len = vr->count_chars ? chars(v, n) : n;

    if (vr->max > 0 && len > vr->max)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!char_ok(vr->name, (unsigned char)v[i]))
            return false;
    }
    if (strcmp(vr->name, "UI") == 0 && n > 0) {
        char uid[65];

        memcpy(uid, v, n);
        uid[n] = '\0';
        return gw_demo_dcm_uid_ok(uid);
    }
    if (strcmp(vr->name, "DA") == 0 || strcmp(vr->name, "AS") == 0)
        return n == 0 || n == vr->max;
    return true;
}

int
gw_demo_dcm_str(struct gw_demo_dcm *ds, uint32_t tag, const char *vr_name, const char *s,
                struct base_err *err)
{
    const struct vr_info *vr = vr_find(vr_name);
    size_t n = strlen(s);
    size_t from = 0;

    if (vr == NULL || vr->kind != VR_TEXT)
        return bad(err, tag, "not a text value representation");
    for (size_t i = 0; i <= n; i++) {
        if (i < n && !(vr->multi && s[i] == '\\'))
            continue;
        if (!value_ok(vr, s + from, i - from))
            return bad(err, tag, "value does not fit its value representation");
        from = i + 1;
    }
    if (n > 0xFFFF && !vr->long_len)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "dicom", "text value too long");
    return add(ds, tag, vr, s, n, err);
}

int
gw_demo_dcm_us(struct gw_demo_dcm *ds, uint32_t tag, const uint16_t *v, size_t n,
               struct base_err *err)
{
    uint8_t b[64];

    if (n == 0 || n > sizeof(b) / 2)
        return bad(err, tag, "1 to 32 US values");
    for (size_t i = 0; i < n; i++) {
        b[2 * i] = (uint8_t)(v[i] & 0xFF);
        b[2 * i + 1] = (uint8_t)(v[i] >> 8);
    }
    return add(ds, tag, vr_find("US"), b, 2 * n, err);
}

int
gw_demo_dcm_ul(struct gw_demo_dcm *ds, uint32_t tag, const uint32_t *v, size_t n,
               struct base_err *err)
{
    uint8_t b[64];

    if (n == 0 || n > sizeof(b) / 4)
        return bad(err, tag, "1 to 16 UL values");
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < 4; k++)
            b[4 * i + k] = (uint8_t)(v[i] >> (8 * k));
    }
    return add(ds, tag, vr_find("UL"), b, 4 * n, err);
}

int
gw_demo_dcm_bytes(struct gw_demo_dcm *ds, uint32_t tag, const char *vr_name, const void *data,
                  size_t len, struct base_err *err)
{
    const struct vr_info *vr = vr_find(vr_name);

    if (vr == NULL || (strcmp(vr->name, "OB") != 0 && strcmp(vr->name, "OW") != 0))
        return bad(err, tag, "bytes need OB or OW");
    if (strcmp(vr->name, "OW") == 0 && len % 2 != 0)
        return bad(err, tag, "OW needs an even number of bytes");
    if (len > 0xFFFFFFFEu)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "dicom", "value too long");
    return add(ds, tag, vr, data, len, err);
}

int
gw_demo_dcm_seq(struct gw_demo_dcm *ds, uint32_t tag, struct gw_demo_dcm *const *items, size_t n,
                struct base_err *err)
{
    TRY(add(ds, tag, vr_find("SQ"), NULL, 0, err));
    ds->el[ds->n - 1].items = items;
    ds->el[ds->n - 1].n_items = n;
    return BASE_OK;
}

/* ------------------------------------------------------------- encoding -- */

static int
put_u16(struct base_buf *b, uint32_t v)
{
    uint8_t x[2] = {(uint8_t)(v & 0xFF), (uint8_t)((v >> 8) & 0xFF)};

    return base_buf_append(b, x, 2);
}

static int
put_u32(struct base_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

    return base_buf_append(b, x, 4);
}

static int
put_header(struct base_buf *b, uint32_t tag, const struct vr_info *vr, size_t len)
{
    TRY(put_u16(b, tag >> 16));
    TRY(put_u16(b, tag & 0xFFFF));
    TRY(base_buf_append(b, vr->name, 2));
    if (vr->long_len) {
        TRY(put_u16(b, 0));
        return put_u32(b, (uint32_t)len);
    }
    return put_u16(b, (uint32_t)len);
}

static int
cmp_elem(const void *pa, const void *pb)
{
    const struct dcm_elem *a = pa;
    const struct dcm_elem *b = pb;

    if (a->tag != b->tag)
        return a->tag < b->tag ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static int encode_set(const struct gw_demo_dcm *ds, unsigned depth, struct base_buf *out,
                      struct base_err *err);

static int
encode_seq(const struct dcm_elem *e, unsigned depth, struct base_buf *out, struct base_err *err)
{
    struct base_buf body;
    int rc = BASE_OK;

    base_buf_init(&body, 0);
    for (size_t i = 0; i < e->n_items && rc == BASE_OK; i++) {
        struct base_buf item;

        base_buf_init(&item, 0);
        rc = encode_set(e->items[i], depth + 1, &item, err);
        /* PS3.5 7.5: Item (FFFE,E000) with its defined length */
        if (rc == BASE_OK && (rc = put_u16(&body, 0xFFFE)) == BASE_OK &&
            (rc = put_u16(&body, 0xE000)) == BASE_OK &&
            (rc = put_u32(&body, (uint32_t)item.len)) == BASE_OK)
            rc = base_buf_append(&body, item.data, item.len);
        base_buf_fini(&item);
    }
    if (rc == BASE_OK && body.len > 0xFFFFFFFEu)
        rc = base_err_set(err, BASE_E_LIMIT, "too-long", "dicom", "sequence too long");
    if (rc == BASE_OK && (rc = put_header(out, e->tag, e->vr, body.len)) == BASE_OK)
        rc = base_buf_append(out, body.data, body.len);
    base_buf_fini(&body);
    return rc < 0 && err != NULL && err->rc == 0
               ? base_err_set(err, rc, "exception", "dicom", "could not encode a sequence")
               : rc;
}

static int
encode_elem(const struct dcm_elem *e, unsigned depth, struct base_buf *out, struct base_err *err)
{
    size_t padded = e->len + (e->len & 1);

    if (e->vr->kind == VR_SEQ)
        return encode_seq(e, depth, out, err);
    if (!e->vr->long_len && padded > 0xFFFF)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "dicom", "value too long");
    if (put_header(out, e->tag, e->vr, padded) != BASE_OK ||
        base_buf_append(out, e->val, e->len) != BASE_OK)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "dicom", "output buffer full");
    if (padded != e->len) {
        /* PS3.5 6.2: UI pads with NUL, other text with space, OB with NUL */
        char pad = e->vr->kind == VR_TEXT && strcmp(e->vr->name, "UI") != 0 ? ' ' : '\0';

        if (base_buf_putc(out, pad) != BASE_OK)
            return base_err_set(err, BASE_E_LIMIT, "too-long", "dicom", "output buffer full");
    }
    return BASE_OK;
}

static int
encode_set(const struct gw_demo_dcm *ds, unsigned depth, struct base_buf *out, struct base_err *err)
{
    struct dcm_elem *sorted;
    int rc = BASE_OK;

    if (depth > DCM_MAX_DEPTH)
        return base_err_set(err, BASE_E_LIMIT, "too-costly", "dicom", "sequences nest too deep");
    if (ds->n == 0)
        return BASE_OK;
    sorted = base_malloc(ds->n * sizeof(*sorted));
    if (sorted == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "dicom", "out of memory");
    memcpy(sorted, ds->el, ds->n * sizeof(*sorted));
    qsort(sorted, ds->n, sizeof(*sorted), cmp_elem);
    for (size_t i = 0; i < ds->n && rc == BASE_OK; i++) {
        if (i > 0 && sorted[i].tag == sorted[i - 1].tag)
            rc = bad(err, sorted[i].tag, "the same tag twice");
        else if ((sorted[i].tag >> 16) == 0x0002)
            rc = bad(err, sorted[i].tag, "group 0002 belongs to the meta header");
        else
            rc = encode_elem(&sorted[i], depth, out, err);
    }
    base_free(sorted);
    return rc;
}

static const struct dcm_elem *
find(const struct gw_demo_dcm *ds, uint32_t tag)
{
    for (size_t i = 0; i < ds->n; i++) {
        if (ds->el[i].tag == tag)
            return &ds->el[i];
    }
    return NULL;
}

/* The value of a UI element as a C string, or NULL. */
static const char *
uid_of(const struct gw_demo_dcm *ds, uint32_t tag, char out[65])
{
    const struct dcm_elem *e = find(ds, tag);

    if (e == NULL || strcmp(e->vr->name, "UI") != 0 || e->len == 0 || e->len > 64)
        return NULL;
    memcpy(out, e->val, e->len);
    out[e->len] = '\0';
    return out;
}

/* PS3.10 7.1: File Meta Information, Explicit VR Little Endian. */
static int
meta(const char *sop_class, const char *sop_inst, const char *impl_uid, const char *impl_name,
     struct base_buf *out, struct base_err *err)
{
    static const uint8_t version[2] = {0x00, 0x01};
    struct base_arena *a = base_arena_new(0);
    struct gw_demo_dcm *m = a != NULL ? gw_demo_dcm_new(a) : NULL;
    struct base_buf body;
    int rc;

    if (m == NULL) {
        base_arena_free(a);
        return base_err_set(err, BASE_E_NOMEM, "exception", "dicom", "out of memory");
    }
    base_buf_init(&body, 0);
    rc = gw_demo_dcm_bytes(m, GW_DEMO_DCM_TAG(0x0002, 0x0001), "OB", version, 2, err);
    if (rc == BASE_OK)
        rc = gw_demo_dcm_str(m, GW_DEMO_DCM_TAG(0x0002, 0x0002), "UI", sop_class, err);
    if (rc == BASE_OK)
        rc = gw_demo_dcm_str(m, GW_DEMO_DCM_TAG(0x0002, 0x0003), "UI", sop_inst, err);
    if (rc == BASE_OK)
        rc =
            gw_demo_dcm_str(m, GW_DEMO_DCM_TAG(0x0002, 0x0010), "UI", GW_DEMO_DCM_EXPLICIT_LE, err);
    if (rc == BASE_OK)
        rc = gw_demo_dcm_str(m, GW_DEMO_DCM_TAG(0x0002, 0x0012), "UI", impl_uid, err);
    if (rc == BASE_OK)
        rc = gw_demo_dcm_str(m, GW_DEMO_DCM_TAG(0x0002, 0x0013), "SH", impl_name, err);
    /* encode_set refuses group 0002 in data sets; the meta elements go
     * out one by one, already in tag order. */
    for (size_t i = 0; i < m->n && rc == BASE_OK; i++)
        rc = encode_elem(&m->el[i], 0, &body, err);
    if (rc == BASE_OK) {
        uint32_t glen = (uint32_t)body.len;

        rc = gw_demo_dcm_ul(m, GW_DEMO_DCM_TAG(0x0002, 0x0000), &glen, 1, err);
        if (rc == BASE_OK)
            rc = encode_elem(&m->el[m->n - 1], 0, out, err);
        if (rc == BASE_OK && base_buf_append(out, body.data, body.len) != BASE_OK)
            rc = base_err_set(err, BASE_E_LIMIT, "too-long", "dicom", "output buffer full");
    }
    base_buf_fini(&body);
    base_arena_free(a);
    return rc;
}

int
gw_demo_dcm_write(const struct gw_demo_dcm *ds, const char *impl_uid, const char *impl_name,
                  struct base_buf *out, struct base_err *err)
{
    static const uint8_t preamble[128];
    char sop_class[65];
    char sop_inst[65];

    if (uid_of(ds, GW_DEMO_DCM_TAG(0x0008, 0x0016), sop_class) == NULL ||
        uid_of(ds, GW_DEMO_DCM_TAG(0x0008, 0x0018), sop_inst) == NULL)
        return base_err_set(err, BASE_E_INVALID, "required", "(0008,0016)",
                            "SOP Class and SOP Instance UIDs are required");
    if (base_buf_append(out, preamble, sizeof(preamble)) != BASE_OK ||
        base_buf_append(out, "DICM", 4) != BASE_OK)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "dicom", "output buffer full");
    TRY(meta(sop_class, sop_inst, impl_uid, impl_name, out, err));
    return encode_set(ds, 0, out, err);
}
