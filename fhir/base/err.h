/*
 * fhir/base/err.h — error values.
 *
 * Every fallible function returns an int: 0 (BASE_OK) on success or a
 * negative enum base_rc.  Detail for the caller (and for an
 * OperationOutcome) goes into an optional struct base_err.  Messages never
 * quote input values (they may be patient data); they say *where*.
 */
#ifndef FHIR_BASE_ERR_H
#define FHIR_BASE_ERR_H

#include "fhir/base/compat.h"

enum base_rc {
    BASE_OK = 0,
    BASE_E_NOMEM = -1,    /* allocation failed or arena budget exhausted */
    BASE_E_LIMIT = -2,    /* input exceeded a configured limit */
    BASE_E_PARSE = -3,    /* not syntactically valid */
    BASE_E_INVALID = -4,  /* well-formed but semantically invalid */
    BASE_E_NOTFOUND = -5, /* no such thing */
    BASE_E_AUTH = -6,     /* authentication / authorization failure */
    BASE_E_UPSTREAM = -7, /* a federated peer failed or timed out */
    BASE_E_IO = -8,       /* socket, file or database I/O */
    BASE_E_INTERNAL = -9, /* bug: should be unreachable */
    BASE_E_CONFLICT = -10 /* state conflict (duplicate, version mismatch) */
};

struct base_err {
    int rc;                /* enum base_rc; 0 while no error was set */
    char issue_code[24];   /* FHIR OperationOutcome issue.code ("structure") */
    char where[128];       /* location: "PID-5[2].1", "Patient.birthDate", "line 3" */
    char msg[160];         /* client-safe, PHI-free, lower case, no period */
    char log_detail[160];  /* log-only detail; still PHI-free */
};

/*
 * Record an error and return `rc`.  The first error wins: later calls on an
 * err that already holds one return `rc` but leave it unchanged, so the root
 * cause survives.  `err` may be NULL.  `issue_code` and `where` may be NULL.
 */
int base_err_set(struct base_err *err, int rc, const char *issue_code, const char *where,
                 const char *fmt, ...) BASE_PRINTF(5, 6);

/* Add log-only detail to an error already set (no effect if err is NULL). */
void base_err_log_detail(struct base_err *err, const char *fmt, ...) BASE_PRINTF(2, 3);

/* Forget any error held so `err` can be reused. */
void base_err_clear(struct base_err *err);

/* Short stable name of a return code ("limit", "parse", …). */
const char *base_rc_name(int rc);

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int try_rc_ = (expr);                                                                      \
        if (try_rc_ < 0)                                                                           \
            return try_rc_;                                                                        \
    } while (0)

#define ENSURE(cond, err, rc, issue, where, ...)                                                   \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return base_err_set((err), (rc), (issue), (where), __VA_ARGS__);                       \
    } while (0)

#endif /* FHIR_BASE_ERR_H */
