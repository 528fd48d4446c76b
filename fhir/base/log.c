#include "fhir/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Startup configuration: written once before any thread starts. */
static enum base_log_level log_level = BASE_LOG_INFO;
static int log_fd = 2;

void
base_log_set_level(enum base_log_level level)
{
    log_level = level;
}

void
base_log_set_fd(int fd)
{
    log_fd = fd;
}

bool
base_log_parse_level(const char *s, enum base_log_level *out)
{
    static const char *names[] = {"error", "warn", "info", "debug"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum base_log_level)i;
            return true;
        }
    }
    return false;
}

bool
base_log_enabled(enum base_log_level level)
{
    return level <= log_level;
}

static size_t
put_escaped(char *out, size_t cap, size_t at, const char *s)
{
    for (; s != NULL && *s != '\0' && at + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            out[at++] = '\\';
            out[at++] = (char)c;
        } else if (c < 0x20) {
            at += (size_t)snprintf(out + at, cap - at, "\\u%04x", c);
        } else {
            out[at++] = (char)c;
        }
    }
    return at;
}

static size_t
put_raw(char *out, size_t cap, size_t at, const char *s)
{
    while (*s != '\0' && at + 1 < cap)
        out[at++] = *s++;
    return at;
}

void
base_log_write(enum base_log_level level, const char *req_id, const char *event, const char *fmt,
               ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    char msg[1024];
    char line[2560];
    char ts[96];
    struct timeval tv;
    struct tm tm;
    size_t at = 0;
    va_list ap;
    ssize_t wr;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(tv.tv_usec / 1000));
    at = put_raw(line, sizeof(line), at, "{\"ts\":\"");
    at = put_raw(line, sizeof(line), at, ts);
    at = put_raw(line, sizeof(line), at, "\",\"level\":\"");
    at = put_raw(line, sizeof(line), at, names[level <= BASE_LOG_DEBUG ? level : BASE_LOG_DEBUG]);
    at = put_raw(line, sizeof(line), at, "\",\"event\":\"");
    at = put_escaped(line, sizeof(line), at, event);
    if (req_id != NULL) {
        at = put_raw(line, sizeof(line), at, "\",\"req_id\":\"");
        at = put_escaped(line, sizeof(line), at, req_id);
    }
    at = put_raw(line, sizeof(line), at, "\",\"msg\":\"");
    at = put_escaped(line, sizeof(line), at, msg);
    at = put_raw(line, sizeof(line), at, "\"}\n");
    /* One write() per line so lines from threads do not interleave. */
    wr = write(log_fd, line, at);
    (void)wr;
}
