#include "fhir/base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
copy_bounded(char *dst, size_t cap, const char *src)
{
    size_t n;

    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int
base_err_set(struct base_err *err, int rc, const char *issue_code, const char *where,
             const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->rc != 0)
        return rc;
    err->rc = rc;
    copy_bounded(err->issue_code, sizeof(err->issue_code),
                 issue_code != NULL ? issue_code : "processing");
    copy_bounded(err->where, sizeof(err->where), where);
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->log_detail[0] = '\0';
    return rc;
}

void
base_err_log_detail(struct base_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err->log_detail, sizeof(err->log_detail), fmt, ap);
    va_end(ap);
}

void
base_err_clear(struct base_err *err)
{
    if (err != NULL)
        memset(err, 0, sizeof(*err));
}

const char *
base_rc_name(int rc)
{
    switch (rc) {
    case BASE_OK:
        return "ok";
    case BASE_E_NOMEM:
        return "nomem";
    case BASE_E_LIMIT:
        return "limit";
    case BASE_E_PARSE:
        return "parse";
    case BASE_E_INVALID:
        return "invalid";
    case BASE_E_NOTFOUND:
        return "notfound";
    case BASE_E_AUTH:
        return "auth";
    case BASE_E_UPSTREAM:
        return "upstream";
    case BASE_E_IO:
        return "io";
    case BASE_E_INTERNAL:
        return "internal";
    case BASE_E_CONFLICT:
        return "conflict";
    default:
        return "unknown";
    }
}
