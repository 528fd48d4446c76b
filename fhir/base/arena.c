#include "fhir/base/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN          16u
#define FIRST_CHUNK    4096u
#define MAX_CHUNK      (1u << 20)

struct chunk {
    struct chunk *next;
    size_t cap;   /* usable bytes after the header */
    size_t used;
    /* data follows, aligned */
};

struct cleanup {
    struct cleanup *next;
    base_cleanup_fn fn;
    void *obj;
};

struct base_arena {
    struct chunk *chunks;        /* newest first */
    struct cleanup *cleanups;    /* newest first */
    struct base_arena *parent;
    struct base_arena *children; /* first child */
    struct base_arena *sibling;  /* next child of our parent */
    size_t budget;               /* 0 = unlimited */
    size_t used;                 /* bytes handed out */
    size_t next_chunk;           /* size of the next chunk to grab */
};

/* Test hook only: thread-local so parallel tests do not interfere. */
static _Thread_local size_t fail_countdown;
static _Thread_local size_t alloc_count;

static int
torture_says_fail(void)
{
    alloc_count++;
    if (fail_countdown == 0)
        return 0;
    if (--fail_countdown == 0)
        return 1;
    return 0;
}

size_t
base_alloc_fail_after(size_t n)
{
    size_t seen = alloc_count;

    alloc_count = 0;
    fail_countdown = n;
    return seen;
}

void *
base_malloc(size_t size)
{
    if (torture_says_fail())
        return NULL;
    return malloc(size == 0 ? 1 : size);
}

void *
base_calloc(size_t n, size_t size)
{
    if (torture_says_fail())
        return NULL;
    return calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
}

void *
base_realloc(void *p, size_t size)
{
    if (torture_says_fail())
        return NULL;
    return realloc(p, size == 0 ? 1 : size);
}

void
base_free(void *p)
{
    free(p);
}

static size_t
header_size(void)
{
    return (sizeof(struct chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static struct base_arena *
arena_init(size_t budget)
{
    struct base_arena *a = base_calloc(1, sizeof(*a));

    if (a == NULL)
        return NULL;
    a->budget = budget;
    a->next_chunk = FIRST_CHUNK;
    return a;
}

struct base_arena *
base_arena_new(size_t budget)
{
    return arena_init(budget);
}

struct base_arena *
base_arena_child(struct base_arena *parent, size_t budget)
{
    struct base_arena *a = arena_init(budget);

    if (a == NULL || parent == NULL)
        return a;
    a->parent = parent;
    a->sibling = parent->children;
    parent->children = a;
    return a;
}

static void
unlink_from_parent(struct base_arena *a)
{
    struct base_arena **pp;

    if (a->parent == NULL)
        return;
    for (pp = &a->parent->children; *pp != NULL; pp = &(*pp)->sibling) {
        if (*pp == a) {
            *pp = a->sibling;
            break;
        }
    }
    a->parent = NULL;
}

static void
arena_destroy(struct base_arena *a)
{
    struct cleanup *c;
    struct chunk *ch;

    /* Cleanups may reference memory of children, so run ours first,
     * then children (which cannot reference ours after we are gone). */
    for (c = a->cleanups; c != NULL; c = c->next)
        c->fn(c->obj);
    while (a->children != NULL) {
        struct base_arena *child = a->children;

        a->children = child->sibling;
        child->parent = NULL;
        arena_destroy(child);
    }
    ch = a->chunks;
    while (ch != NULL) {
        struct chunk *next = ch->next;

        free(ch);
        ch = next;
    }
    free(a);
}

void
base_arena_free(struct base_arena *a)
{
    if (a == NULL)
        return;
    unlink_from_parent(a);
    arena_destroy(a);
}

static struct chunk *
grab_chunk(struct base_arena *a, size_t need)
{
    size_t cap = a->next_chunk;
    size_t total;
    struct chunk *ch;

    if (need > cap / 4) {
        cap = need; /* a big block gets a chunk of its own */
    } else if (a->next_chunk < MAX_CHUNK) {
        a->next_chunk *= 2;
    }
    if (!base_add_ok(cap, header_size(), &total))
        return NULL;
    ch = base_malloc(total);
    if (ch == NULL)
        return NULL;
    ch->cap = cap;
    ch->used = 0;
    if (need == cap && a->chunks != NULL) {
        /* keep the partly used current chunk in front for small allocations */
        ch->next = a->chunks->next;
        a->chunks->next = ch;
    } else {
        ch->next = a->chunks;
        a->chunks = ch;
    }
    return ch;
}

void *
base_arena_alloc(struct base_arena *a, size_t size)
{
    struct chunk *ch;
    size_t rounded;
    char *p;

    if (a == NULL)
        return NULL;
    if (size == 0)
        size = 1;
    if (!base_add_ok(size, ALIGN - 1, &rounded))
        return NULL;
    rounded &= ~(size_t)(ALIGN - 1);
    if (a->budget != 0 && (rounded > a->budget || a->used > a->budget - rounded))
        return NULL;
    ch = a->chunks;
    if (ch == NULL || ch->cap - ch->used < rounded) {
        ch = grab_chunk(a, rounded);
        if (ch == NULL)
            return NULL;
    }
    p = (char *)ch + header_size() + ch->used;
    ch->used += rounded;
    a->used += rounded;
    return p;
}

void *
base_arena_zalloc(struct base_arena *a, size_t n, size_t size)
{
    size_t total;
    void *p;

    if (!base_mul_ok(n, size, &total))
        return NULL;
    p = base_arena_alloc(a, total);
    if (p != NULL)
        memset(p, 0, total);
    return p;
}

char *
base_arena_strndup(struct base_arena *a, const char *s, size_t len)
{
    size_t total;
    char *p;

    if (!base_add_ok(len, 1, &total))
        return NULL;
    p = base_arena_alloc(a, total);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
base_arena_strdup(struct base_arena *a, const char *s)
{
    return base_arena_strndup(a, s, strlen(s));
}

void *
base_arena_memdup(struct base_arena *a, const void *src, size_t len)
{
    void *p = base_arena_alloc(a, len);

    if (p != NULL && len > 0)
        memcpy(p, src, len);
    return p;
}

char *
base_arena_vsprintf(struct base_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *p;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    p = base_arena_alloc(a, (size_t)n + 1);
    if (p == NULL)
        return NULL;
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *
base_arena_sprintf(struct base_arena *a, const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = base_arena_vsprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void *
base_arena_grow(struct base_arena *a, void *old, size_t old_n, size_t new_n, size_t elem_size)
{
    size_t old_len;
    void *p = base_arena_zalloc(a, new_n, elem_size);

    if (p == NULL || old == NULL || old_n == 0)
        return p;
    if (!base_mul_ok(old_n < new_n ? old_n : new_n, elem_size, &old_len))
        return NULL;
    memcpy(p, old, old_len);
    return p;
}

int
base_arena_on_free(struct base_arena *a, base_cleanup_fn fn, void *obj)
{
    struct cleanup *c = base_arena_alloc(a, sizeof(*c));

    if (c == NULL) {
        fn(obj);
        return -1; /* BASE_E_NOMEM; err.h is not included to keep this leaf */
    }
    c->fn = fn;
    c->obj = obj;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}

size_t
base_arena_used(const struct base_arena *a)
{
    return a == NULL ? 0 : a->used;
}
