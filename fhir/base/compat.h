/*
 * fhir/base/compat.h — compiler attributes and tiny helpers used everywhere.
 */
#ifndef FHIR_BASE_COMPAT_H
#define FHIR_BASE_COMPAT_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#define BASE_MUST_CHECK __attribute__((warn_unused_result))
#define BASE_UNUSED     __attribute__((unused))
#define BASE_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define BASE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* abort() is reserved for broken invariants, never for bad input. */
#define BASE_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "assertion failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#define BASE_ASSERT_UNREACHABLE() BASE_ASSERT(!"unreachable")

/* Size arithmetic that cannot wrap: returns 1 and sets *out when it fits. */
static inline int
base_mul_ok(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

static inline int
base_add_ok(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

#endif /* FHIR_BASE_COMPAT_H */
