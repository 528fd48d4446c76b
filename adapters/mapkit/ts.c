/*
 * HL7 v3 TS / v2 DTM / DICOM DA, TM, DT  ->  FHIR R4 date and dateTime.
 *
 * FHIR R4 datatypes.html#dateTime: YYYY, YYYY-MM, YYYY-MM-DD or
 * YYYY-MM-DDThh:mm:ss[.f+](Z|+hh:mm|-hh:mm); "if hours and minutes are
 * specified, a time zone SHALL be populated" and seconds are mandatory.
 */
#include "adapters/mapkit/mapkit.h"

#include <stdio.h>
#include <string.h>

struct ts_parts {
    int year, month, day, hour, minute, second; /* -1 when absent */
    const char *frac;                           /* digits after '.', not NUL-terminated */
    size_t frac_len;
    char tz[7]; /* "+08:00" or "" */
};

static bool
take_digits(const char **p, const char *end, size_t n, int *out)
{
    int v = 0;

    if ((size_t)(end - *p) < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = (*p)[i];

        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool
is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool
parts_valid(const struct ts_parts *t)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (t->year < 1)
        return false;
    if (t->month != -1 && (t->month < 1 || t->month > 12))
        return false;
    if (t->day != -1) {
        if (t->day < 1 || t->day > mdays[t->month - 1])
            return false;
        if (t->month == 2 && t->day == 29 && !is_leap(t->year))
            return false;
    }
    if (t->hour != -1 && t->hour > 23)
        return false;
    if (t->minute != -1 && t->minute > 59)
        return false;
    /* 60 is a leap second, which FHIR's dateTime pattern allows. */
    return t->second == -1 || t->second <= 60;
}

/* "+ZZZZ" / "-ZZZZ" / "+ZZ:ZZ" / "Z" at *p, to the end. */
static bool
parse_tz(const char *p, const char *end, char tz[7])
{
    int hh;
    int mm;
    char sign;

    if (end - p == 1 && *p == 'Z') {
        memcpy(tz, "Z", 2);
        return true;
    }
    if (p == end || (*p != '+' && *p != '-'))
        return false;
    sign = *p++;
    if (!take_digits(&p, end, 2, &hh))
        return false;
    if (p < end && *p == ':')
        p++;
    if (!take_digits(&p, end, 2, &mm) || p != end || hh > 14 || mm > 59)
        return false;
    /* FHIR's pattern caps offsets at 14:00 */
    if (hh == 14 && mm != 0)
        return false;
    tz[0] = sign;
    tz[1] = (char)('0' + hh / 10);
    tz[2] = (char)('0' + hh % 10);
    tz[3] = ':';
    tz[4] = (char)('0' + mm / 10);
    tz[5] = (char)('0' + mm % 10);
    tz[6] = '\0';
    return true;
}

/* Time part "HH[MM[SS[.F+]]]" or legacy "HH:MM[:SS[.F+]]" up to `end`. */
static bool
parse_time(const char **pp, const char *end, struct ts_parts *t)
{
    const char *p = *pp;
    bool colons = end - p >= 3 && p[2] == ':';

    if (p == end || *p == '+' || *p == '-' || *p == 'Z')
        return true;
    if (!take_digits(&p, end, 2, &t->hour))
        return false;
    if (colons && p < end && *p == ':')
        p++;
    if (p < end && p[0] >= '0' && p[0] <= '9' && !take_digits(&p, end, 2, &t->minute))
        return false;
    if (colons && p < end && *p == ':')
        p++;
    if (t->minute != -1 && p < end && p[0] >= '0' && p[0] <= '9' &&
        !take_digits(&p, end, 2, &t->second))
        return false;
    if (t->second != -1 && p < end && *p == '.') {
        t->frac = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        t->frac_len = (size_t)(p - t->frac);
        if (t->frac_len == 0 || t->frac_len > 9)
            return false;
    }
    *pp = p;
    return true;
}

/* Date part "YYYY[MM[DD]]" or legacy DICOM "YYYY.MM.DD". */
static bool
parse_date(const char **pp, const char *end, struct ts_parts *t)
{
    const char *p = *pp;
    bool dots = end - p >= 5 && p[4] == '.';

    if (!take_digits(&p, end, 4, &t->year))
        return false;
    if (dots) {
        if (end - p < 6 || p[0] != '.' || p[3] != '.')
            return false;
        p++;
        if (!take_digits(&p, end, 2, &t->month))
            return false;
        p++;
        if (!take_digits(&p, end, 2, &t->day))
            return false;
        *pp = p;
        return true;
    }
    if (p < end && *p >= '0' && *p <= '9' && !take_digits(&p, end, 2, &t->month))
        return false;
    if (t->month != -1 && p < end && *p >= '0' && *p <= '9' && !take_digits(&p, end, 2, &t->day))
        return false;
    *pp = p;
    return true;
}

static void
parts_init(struct ts_parts *t)
{
    memset(t, 0, sizeof(*t));
    t->year = t->month = t->day = t->hour = t->minute = t->second = -1;
}

static size_t
format_parts(const struct ts_parts *t, const char *default_tz, bool want_date, char *out,
             size_t cap)
{
    const char *tz = t->tz[0] != '\0' ? t->tz : default_tz;
    int n;

    if (t->month == -1)
        n = snprintf(out, cap, "%04d", t->year);
    else if (t->day == -1)
        n = snprintf(out, cap, "%04d-%02d", t->year, t->month);
    else if (want_date || t->hour == -1 || tz == NULL)
        n = snprintf(out, cap, "%04d-%02d-%02d", t->year, t->month, t->day);
    else
        n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d%s%.*s%s", t->year, t->month, t->day,
                     t->hour, t->minute < 0 ? 0 : t->minute, t->second < 0 ? 0 : t->second,
                     t->frac_len > 0 ? "." : "", (int)t->frac_len, t->frac != NULL ? t->frac : "",
                     tz);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}

size_t
adapter_ts_to_fhir(struct base_str ts, const char *default_tz, bool want_date, char *out,
                   size_t cap)
{
    struct ts_parts t;
    const char *p = ts.ptr;
    const char *end;

    if (ts.len == 0 || ts.ptr == NULL || cap == 0)
        return 0;
    end = ts.ptr + ts.len;
    parts_init(&t);
    if (!parse_date(&p, end, &t))
        return 0;
    /* A time needs the full date in front of it. */
    if (t.day != -1 && !parse_time(&p, end, &t))
        return 0;
    if (p != end && !parse_tz(p, end, t.tz))
        return 0;
    if (!parts_valid(&t))
        return 0;
    return format_parts(&t, default_tz, want_date, out, cap);
}

size_t
adapter_da_tm_to_fhir(struct base_str da, struct base_str tm, struct base_str tz,
                      const char *default_tz, char *out, size_t cap)
{
    struct ts_parts t;
    const char *p = da.ptr;

    if (da.len == 0 || cap == 0)
        return 0;
    parts_init(&t);
    if (!parse_date(&p, da.ptr + da.len, &t) || p != da.ptr + da.len || t.day == -1)
        return 0;
    if (tm.len > 0) {
        p = tm.ptr;
        if (!parse_time(&p, tm.ptr + tm.len, &t) || p != tm.ptr + tm.len)
            return 0;
    }
    if (tz.len > 0 && !parse_tz(tz.ptr, tz.ptr + tz.len, t.tz))
        return 0;
    if (!parts_valid(&t))
        return 0;
    return format_parts(&t, default_tz, false, out, cap);
}
