/*
 * Arena JSON tree: builders and a compact writer that prunes empties.
 * The tree is built by our own code (depth <= 10), never from input, so the
 * recursion in the writer is bounded by construction.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "adapters/hl7v2/jtree.h"
#include "fhir/base/arena.h"
#include "fhir/base/err.h"

void
hl7v2_jb_init(struct hl7v2_jb *jb, struct base_arena *a)
{
    memset(jb, 0, sizeof(*jb));
    jb->a = a;
}

bool
hl7v2_jb_failed(const struct hl7v2_jb *jb)
{
    return jb->failed;
}

struct hl7v2_j *
hl7v2_j_new(struct hl7v2_jb *jb, enum hl7v2_jkind kind)
{
    struct hl7v2_j *j;

    if (jb->nslab == 0) {
        jb->slab = base_arena_alloc(jb->a, HL7V2_J_SLAB * sizeof(*j));
        if (jb->slab == NULL) {
            jb->failed = true;
            memset(&jb->scratch, 0, sizeof(jb->scratch));
            return &jb->scratch;
        }
        jb->nslab = HL7V2_J_SLAB;
    }
    j = jb->slab++;
    jb->nslab--;
    *j = (struct hl7v2_j){.kind = kind};
    return j;
}

static struct hl7v2_j *
member(const struct hl7v2_j *obj, const char *key, size_t klen)
{
    for (struct hl7v2_j *c = obj->first; c != NULL; c = c->next) {
        if (c->key != NULL &&
            (c->key == key || (c->klen == klen && memcmp(c->key, key, klen) == 0)))
            return c;
    }
    return NULL;
}

static void
link_member(struct hl7v2_j *parent, const char *key, size_t klen, struct hl7v2_j *child)
{
    child->key = key;
    child->klen = (uint32_t)klen;
    child->next = NULL;
    if (parent->last != NULL)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
}

void
hl7v2_j_add_k(struct hl7v2_j *parent, const char *key, size_t klen, struct hl7v2_j *child)
{
    struct hl7v2_j *old;

    if (parent == NULL || child == NULL || child == parent)
        return;
    if (key != NULL && (old = member(parent, key, klen)) != NULL) {
        /* JSON members are unique: arrays merge, anything else keeps the first */
        if (old->kind == HL7V2_J_ARR && child->kind == HL7V2_J_ARR && child->first != NULL) {
            if (old->last != NULL)
                old->last->next = child->first;
            else
                old->first = child->first;
            old->last = child->last;
            child->first = child->last = NULL;
        }
        return;
    }
    link_member(parent, key, klen, child);
}

static struct hl7v2_j *
add_new(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, size_t klen,
        enum hl7v2_jkind kind)
{
    struct hl7v2_j *j;

    if (key != NULL && parent != NULL && (j = member(parent, key, klen)) != NULL) {
        /* get-or-create for containers; a second scalar is dropped (first wins) */
        if (j->kind == kind && (kind == HL7V2_J_OBJ || kind == HL7V2_J_ARR))
            return j;
        return hl7v2_j_new(jb, kind); /* detached: never written */
    }
    j = hl7v2_j_new(jb, kind);
    if (j != &jb->scratch && parent != NULL && parent != &jb->scratch)
        link_member(parent, key, klen, j); /* the key is known to be new */
    return j;
}

struct hl7v2_j *
hl7v2_j_obj_k(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, size_t klen)
{
    return add_new(jb, parent, key, klen, HL7V2_J_OBJ);
}

struct hl7v2_j *
hl7v2_j_arr_k(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, size_t klen)
{
    return add_new(jb, parent, key, klen, HL7V2_J_ARR);
}

void
hl7v2_j_str_k(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, size_t klen,
              struct base_str s)
{
    if (s.len == 0)
        return;
    add_new(jb, parent, key, klen, HL7V2_J_STR)->s = s;
}

void
hl7v2_j_num_k(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, size_t klen,
              struct base_str lit)
{
    if (lit.len == 0)
        return;
    add_new(jb, parent, key, klen, HL7V2_J_NUM)->s = lit;
}

void
hl7v2_j_bool_k(struct hl7v2_jb *jb, struct hl7v2_j *parent, const char *key, size_t klen, bool v)
{
    add_new(jb, parent, key, klen, v ? HL7V2_J_TRUE : HL7V2_J_FALSE);
}

struct hl7v2_j *
hl7v2_j_get_k(const struct hl7v2_j *obj, const char *key, size_t klen)
{
    return obj != NULL && key != NULL ? member(obj, key, klen) : NULL;
}

bool
hl7v2_j_present(const struct hl7v2_j *j)
{
    if (j == NULL)
        return false;
    switch (j->kind) {
    case HL7V2_J_OBJ:
    case HL7V2_J_ARR:
        for (const struct hl7v2_j *c = j->first; c != NULL; c = c->next) {
            if (hl7v2_j_present(c))
                return true;
        }
        return false;
    case HL7V2_J_STR:
    case HL7V2_J_NUM:
        return j->s.len > 0;
    default:
        return true;
    }
}

size_t
hl7v2_j_count(const struct hl7v2_j *arr)
{
    size_t n = 0;

    for (const struct hl7v2_j *c = arr != NULL ? arr->first : NULL; c != NULL; c = c->next)
        n += hl7v2_j_present(c);
    return n;
}

struct base_str
hl7v2_j_fmt(struct hl7v2_jb *jb, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = base_arena_vsprintf(jb->a, fmt, ap);
    va_end(ap);
    if (s == NULL) {
        jb->failed = true;
        return BASE_STR_NULL;
    }
    return base_str_from_cstr(s);
}

/* ---------------------------------------------------------------- writer -- */

/* Bytes a JSON string cannot hold as they are (RFC 8259 section 7). */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

/* Append raw bytes; the caller has reserved room. */
static inline void
put(struct base_buf *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* base_buf_reserve with the common case inline: the Bundle's buffer is
 * sized up front, so nearly every call fits, and the writer asks once per
 * node (a call per node was a fifth of the writer's instructions).  Fitting
 * within cap respects max: cap never exceeds max + 1 (fhir/base/buf.h). */
static inline int
room(struct base_buf *b, size_t n)
{
    if (b->data != NULL && n < b->cap - b->len)
        return BASE_OK;
    return base_buf_reserve(b, n);
}

/* Does any of the 8 bytes need escaping (< 0x20, '"' or '\\')?  SWAR tests
 * (Hacker's Delight 6-1): a byte is zero / below n when its high bit is
 * set in (x - 0x01..) & ~x. */
static inline bool
chunk_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t high = 0x8080808080808080u;
    uint64_t q = w ^ (ones * '"');
    uint64_t bs = w ^ (ones * '\\');
    uint64_t ctl = (w - ones * 0x20) & ~w;

    return (((q - ones) & ~q) | ((bs - ones) & ~bs) | ctl) & high;
}

/* Does the string need any escape?  Most values do not: test 8 bytes at a
 * time, the last (overlapping) 8 for the tail, bytes only below 8. */
static inline bool
plain_string(struct base_str s)
{
    size_t i = 0;
    uint64_t w;

    if (s.len < 8) {
        for (; i < s.len; i++) {
            if (needs_escape[(unsigned char)s.ptr[i]])
                return false;
        }
        return true;
    }
    for (; i + 8 <= s.len; i += 8) {
        memcpy(&w, s.ptr + i, 8);
        if (chunk_needs_escape(w))
            return false;
    }
    memcpy(&w, s.ptr + s.len - 8, 8);
    return !chunk_needs_escape(w);
}

static int
write_escaped(struct base_buf *b, struct base_str s)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    /* room for the plain case; escapes reserve their own (a multi-megabyte
     * base64 attachment must not ask for six times its size) */
    TRY(room(b, s.len + 2));
    b->data[b->len++] = '"';
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        char esc[6] = {'\\', 'u', '0', '0', 0, 0};

        if (!needs_escape[c])
            continue;
        TRY(room(b, (i - run) + 6 + (s.len - i) + 1));
        put(b, s.ptr + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            put(b, "\\\"", 2);
            break;
        case '\\':
            put(b, "\\\\", 2);
            break;
        case '\n':
            put(b, "\\n", 2);
            break;
        case '\r':
            put(b, "\\r", 2);
            break;
        case '\t':
            put(b, "\\t", 2);
            break;
        default:
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            put(b, esc, 6);
            break;
        }
    }
    TRY(room(b, (s.len - run) + 2));
    put(b, s.ptr + run, s.len - run);
    b->data[b->len++] = '"';
    return BASE_OK;
}

static inline int
write_string(struct base_buf *b, struct base_str s)
{
    if (!plain_string(s))
        return write_escaped(b, s);
    TRY(room(b, s.len + 2));
    b->data[b->len++] = '"';
    put(b, s.ptr, s.len);
    b->data[b->len++] = '"';
    return BASE_OK;
}

static int write_node(const struct hl7v2_j *j, struct base_buf *b, bool *wrote);

/* Children are written optimistically and rolled back when a container
 * turns out empty, so pruning costs one pass.  Punctuation is written
 * straight into room reserved with the key.  The buffer is NUL-terminated
 * once, by hl7v2_j_write, not after every node. */
static int
write_children(const struct hl7v2_j *j, struct base_buf *b, char open, char close, bool *wrote)
{
    size_t start = b->len;
    bool obj = j->kind == HL7V2_J_OBJ;
    bool first = true;

    TRY(room(b, 2));
    b->data[b->len++] = open;
    for (const struct hl7v2_j *c = j->first; c != NULL; c = c->next) {
        size_t mark = b->len;
        size_t klen = obj ? c->klen : 0;
        bool child = false;

        if ((c->kind == HL7V2_J_STR || c->kind == HL7V2_J_NUM) && c->s.len == 0)
            continue;
        TRY(room(b, klen + 5));
        if (!first)
            b->data[b->len++] = ',';
        if (obj) {
            b->data[b->len++] = '"';
            put(b, c->key, klen);
            put(b, "\":", 2);
        }
        if (c->kind == HL7V2_J_STR) { /* the most common member: no call */
            TRY(write_string(b, c->s));
            first = false;
            continue;
        }
        TRY(write_node(c, b, &child));
        if (!child) {
            b->len = mark; /* an empty container: no member at all */
            continue;
        }
        first = false;
    }
    if (first) {
        b->len = start;
        *wrote = false;
        return BASE_OK;
    }
    *wrote = true;
    TRY(room(b, 1));
    b->data[b->len++] = close;
    return BASE_OK;
}

static int
write_node(const struct hl7v2_j *j, struct base_buf *b, bool *wrote)
{
    *wrote = true;
    switch (j->kind) {
    case HL7V2_J_OBJ:
        return write_children(j, b, '{', '}', wrote);
    case HL7V2_J_ARR:
        return write_children(j, b, '[', ']', wrote);
    case HL7V2_J_STR:
        return write_string(b, j->s);
    case HL7V2_J_NUM:
        TRY(room(b, j->s.len));
        put(b, j->s.ptr, j->s.len);
        return BASE_OK;
    case HL7V2_J_TRUE:
        TRY(room(b, 4));
        put(b, "true", 4);
        return BASE_OK;
    case HL7V2_J_FALSE:
        TRY(room(b, 5));
        put(b, "false", 5);
        return BASE_OK;
    default:
        BASE_ASSERT_UNREACHABLE();
        return BASE_E_INTERNAL;
    }
}

int
hl7v2_j_write(const struct hl7v2_j *j, struct base_buf *out)
{
    bool wrote = false;
    size_t start = out->len;
    int rc = write_node(j, out, &wrote);

    if (rc == BASE_OK && !wrote && j->kind == HL7V2_J_OBJ) {
        out->len = start; /* a top-level object is written even when empty */
        rc = base_buf_append(out, "{}", 2);
    }
    if (out->data != NULL)
        out->data[out->len] = '\0'; /* room() always leaves a byte for it */
    return rc;
}
