/*
 * HTTP dates and conditional GET (RFC 9110 5.6.7, 13.1.2, 13.1.3, 13.2.2):
 * what a static file and a FHIR read (R4 http.html#cread) answer 304 to.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fhir/base/str.h"
#include "gateway/http/gw_http_parse.h"

static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void
gw_http_date_format(time_t t, char *out, size_t cap)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool
gw_http_date_parse(const char *s, time_t *out)
{
    char wd[4];
    char mon[4];
    struct tm tm;
    int n = 0;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d GMT%n", wd, &tm.tm_mday, mon, &tm.tm_year,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 7 ||
        s[n] != '\0')
        return false;
    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++) {
        if (strcmp(mon, months[i]) == 0)
            tm.tm_mon = i;
    }
    if (tm.tm_mon < 0 || tm.tm_year < 1970 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return false;
    tm.tm_year -= 1900;
    *out = timegm(&tm);
    return *out != (time_t)-1;
}

bool
gw_http_etag_matches(const char *inm, const char *etag)
{
    struct base_str rest = base_str_from_cstr(inm);
    struct base_str want = base_str_from_cstr(etag);

    if (base_str_starts_with(want, "W/"))
        want = base_str_sub(want, 2, want.len - 2);
    while (rest.len > 0) {
        struct base_str item;

        (void)base_str_cut(rest, ',', &item, &rest);
        item = base_str_trim(item);
        while (item.len > 0 && (item.ptr[0] == ' ' || item.ptr[0] == '\t'))
            item = base_str_sub(item, 1, item.len - 1);
        if (base_str_eq_cstr(item, "*"))
            return true;
        if (base_str_starts_with(item, "W/"))
            item = base_str_sub(item, 2, item.len - 2);
        if (base_str_eq(item, want))
            return true;
    }
    return false;
}

bool
gw_http_not_modified(const struct gw_http_req *r, const char *etag, time_t last_modified)
{
    const char *inm = gw_http_req_header(r, "If-None-Match");
    const char *ims;
    time_t since;

    if (inm != NULL)
        return gw_http_etag_matches(inm, etag); /* If-Modified-Since is then ignored */
    ims = gw_http_req_header(r, "If-Modified-Since");
    return ims != NULL && gw_http_date_parse(ims, &since) && last_modified <= since;
}
