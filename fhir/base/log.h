/*
 * fhir/base/log.h — structured logs: one JSON object per line on stderr.
 *
 *   {"ts":"2026-11-28T14:33:20.123Z","level":"info","event":"request",
 *    "req_id":"…","msg":"method=GET status=200 ms=3"}
 *
 * `msg` is a printf-formatted logfmt string; it is JSON-escaped on output.
 * Never log resource content, names, record numbers or tokens: log
 * locations, counts, status codes and pseudonymous ids.
 *
 * The level is startup configuration (set once before threads start).
 */
#ifndef FHIR_BASE_LOG_H
#define FHIR_BASE_LOG_H

#include <stdbool.h>

#include "fhir/base/compat.h"

enum base_log_level {
    BASE_LOG_ERROR = 0,
    BASE_LOG_WARN = 1,
    BASE_LOG_INFO = 2,
    BASE_LOG_DEBUG = 3
};

/* Startup only.  Also reads nothing from the environment by itself. */
void base_log_set_level(enum base_log_level level);
/* Parse "error" | "warn" | "info" | "debug"; false if unknown. */
bool base_log_parse_level(const char *s, enum base_log_level *out);
bool base_log_enabled(enum base_log_level level);
/* Redirect output to fd (startup only; default 2). */
void base_log_set_fd(int fd);

void base_log_write(enum base_log_level level, const char *req_id, const char *event,
                    const char *fmt, ...) BASE_PRINTF(4, 5);

/* The level is checked before the arguments are evaluated. */
#define BASE_LOG(level, event, ...)                                                                \
    do {                                                                                           \
        if (base_log_enabled(level))                                                               \
            base_log_write((level), NULL, (event), __VA_ARGS__);                                   \
    } while (0)

#define BASE_LOG_REQ(level, req_id, event, ...)                                                    \
    do {                                                                                           \
        if (base_log_enabled(level))                                                               \
            base_log_write((level), (req_id), (event), __VA_ARGS__);                               \
    } while (0)

#endif /* FHIR_BASE_LOG_H */
