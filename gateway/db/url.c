/*
 * Connection strings.  libpq itself parses postgresql:// URLs (RFC 3986 with
 * percent-decoding; a Unix-socket folder goes in ?host=/dir or as a
 * percent-encoded host) and key=value conninfo; we only check and describe
 * them, never echo them: a URL may carry a password.
 */
#include "gateway/db/gw_db.h"

#include <stdio.h>
#include <string.h>

int
gw_db_url_check(const char *url, struct base_err *err)
{
    PQconninfoOption *opts;
    char *msg = NULL;

    ENSURE(url != NULL && url[0] != '\0', err, BASE_E_INVALID, "required", "database",
           "no database URL configured");
    opts = PQconninfoParse(url, &msg);
    PQfreemem(msg); /* libpq's message may quote the URL */
    ENSURE(opts != NULL, err, BASE_E_INVALID, "value", "database",
           "database URL is not a valid postgresql:// URL or connection string");
    PQconninfoFree(opts);
    return BASE_OK;
}

void
gw_db_url_describe(const char *url, char *out, size_t cap)
{
    static const char *const shown[] = {"host", "hostaddr", "port", "dbname", "user", "sslmode"};
    PQconninfoOption *opts;
    char *msg = NULL;
    size_t at = 0;

    if (cap == 0)
        return;
    out[0] = '\0';
    opts = url != NULL ? PQconninfoParse(url, &msg) : NULL;
    PQfreemem(msg);
    if (opts == NULL) {
        snprintf(out, cap, "(invalid connection string)");
        return;
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(shown); i++) {
        for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
            int n;

            if (strcmp(o->keyword, shown[i]) != 0 || o->val == NULL || o->val[0] == '\0')
                continue;
            n = snprintf(out + at, cap - at, "%s%s=%s", at > 0 ? " " : "", o->keyword, o->val);
            if (n < 0 || (size_t)n >= cap - at) {
                out[at] = '\0';
                PQconninfoFree(opts);
                return;
            }
            at += (size_t)n;
        }
    }
    if (at == 0)
        snprintf(out, cap, "(libpq defaults)");
    PQconninfoFree(opts);
}
