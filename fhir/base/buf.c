#include "fhir/base/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/err.h"

void
base_buf_init(struct base_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max == 0 ? SIZE_MAX / 2 : max;
}

void
base_buf_fini(struct base_buf *b)
{
    base_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
base_buf_reset(struct base_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

int
base_buf_reserve(struct base_buf *b, size_t more)
{
    size_t need;
    size_t cap;
    char *p;

    if (more > b->max || b->len > b->max - more)
        return BASE_E_LIMIT;
    need = b->len + more + 1; /* + NUL */
    if (need <= b->cap)
        return BASE_OK;
    cap = b->cap < 256 ? 256 : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    p = base_realloc(b->data, cap);
    if (p == NULL)
        return BASE_E_NOMEM;
    b->data = p;
    b->cap = cap;
    return BASE_OK;
}

int
base_buf_append(struct base_buf *b, const void *p, size_t n)
{
    TRY(base_buf_reserve(b, n));
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return BASE_OK;
}

int
base_buf_append_cstr(struct base_buf *b, const char *s)
{
    return base_buf_append(b, s, strlen(s));
}

int
base_buf_append_str(struct base_buf *b, struct base_str s)
{
    return base_buf_append(b, s.ptr, s.len);
}

int
base_buf_putc(struct base_buf *b, char c)
{
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return BASE_OK;
    }
    return base_buf_append(b, &c, 1);
}

int
base_buf_vappendf(struct base_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return BASE_E_INTERNAL;
    TRY(base_buf_reserve(b, (size_t)n));
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return BASE_OK;
}

int
base_buf_appendf(struct base_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = base_buf_vappendf(b, fmt, ap);
    va_end(ap);
    return rc;
}

struct base_str
base_buf_str(const struct base_buf *b)
{
    return base_str_make(b->data != NULL ? b->data : "", b->len);
}

static void
buf_cleanup(void *obj)
{
    base_buf_fini(obj);
}

int
base_buf_tie(struct base_buf *b, struct base_arena *a)
{
    return base_arena_on_free(a, buf_cleanup, b) == 0 ? BASE_OK : BASE_E_NOMEM;
}

char *
base_buf_dup0(const struct base_buf *b, struct base_arena *a)
{
    return base_arena_strndup(a, b->data != NULL ? b->data : "", b->len);
}
