/*
 * fhir/base/arena.h — region allocator with a budget, children and cleanups.
 *
 * One arena per request (or per message, per document): everything computed
 * for it is allocated here and released with one base_arena_free().  The
 * budget is a security limit: an allocation that would exceed it returns
 * NULL, which callers turn into BASE_E_NOMEM / BASE_E_LIMIT.
 *
 * Foreign resources (json_t, xmlDoc, PGresult, CURL *) are tied to an arena
 * with base_arena_on_free(); cleanups run in reverse order of registration.
 * An arena is used by one thread at a time.
 */
#ifndef FHIR_BASE_ARENA_H
#define FHIR_BASE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "fhir/base/compat.h"

struct base_arena;
typedef void (*base_cleanup_fn)(void *obj);

/* New top-level arena.  `budget` is the most bytes it may hand out in all
 * (0 = unlimited).  Returns NULL when out of memory. */
BASE_MUST_CHECK struct base_arena *base_arena_new(size_t budget);

/* New arena whose lifetime ends no later than `parent`'s: freeing the parent
 * frees it too.  Its own `budget` applies (0 = unlimited). */
BASE_MUST_CHECK struct base_arena *base_arena_child(struct base_arena *parent, size_t budget);

/* Run cleanups (newest first), free children, then the memory.  NULL is a no-op. */
void base_arena_free(struct base_arena *a);

/* Memory aligned for any type; NULL when the budget is exhausted. */
BASE_MUST_CHECK void *base_arena_alloc(struct base_arena *a, size_t size);
/* Zeroed memory for n elements of `size` bytes; checks n*size for overflow. */
BASE_MUST_CHECK void *base_arena_zalloc(struct base_arena *a, size_t n, size_t size);
/* Copy of `len` bytes plus a terminating NUL. */
BASE_MUST_CHECK char *base_arena_strndup(struct base_arena *a, const char *s, size_t len);
BASE_MUST_CHECK char *base_arena_strdup(struct base_arena *a, const char *s);
BASE_MUST_CHECK void *base_arena_memdup(struct base_arena *a, const void *p, size_t len);
BASE_MUST_CHECK char *base_arena_sprintf(struct base_arena *a, const char *fmt, ...)
    BASE_PRINTF(2, 3);
BASE_MUST_CHECK char *base_arena_vsprintf(struct base_arena *a, const char *fmt, va_list ap)
    BASE_PRINTF(2, 0);
/* Grow an arena array from old_n to new_n elements (contents copied). */
BASE_MUST_CHECK void *base_arena_grow(struct base_arena *a, void *old, size_t old_n, size_t new_n,
                                      size_t elem_size);

/* Register `fn(obj)` to run when the arena is freed.  Returns BASE_OK or
 * BASE_E_NOMEM; on failure `fn(obj)` is called at once so nothing leaks. */
BASE_MUST_CHECK int base_arena_on_free(struct base_arena *a, base_cleanup_fn fn, void *obj);

/* Bytes handed out so far (for metrics and tests). */
size_t base_arena_used(const struct base_arena *a);

/*
 * Allocation torture (tests only): make the n-th raw allocation from now on
 * fail (n >= 1), on this thread; 0 turns it off.  Returns how many raw
 * allocations happened since the last call.
 */
size_t base_alloc_fail_after(size_t n);

/* The only raw allocator entry points; everything outside fhir/base uses
 * arenas or these (which honour the torture hook). */
BASE_MUST_CHECK void *base_malloc(size_t size);
BASE_MUST_CHECK void *base_calloc(size_t n, size_t size);
BASE_MUST_CHECK void *base_realloc(void *p, size_t size);
void base_free(void *p);

#define BASE_NEW(a, type)      ((type *)base_arena_zalloc((a), 1, sizeof(type)))
#define BASE_NEW_N(a, type, n) ((type *)base_arena_zalloc((a), (n), sizeof(type)))

#endif /* FHIR_BASE_ARENA_H */
