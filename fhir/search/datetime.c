/*
 * FHIR date, dateTime and instant values as [low, high) ranges of UTC
 * microseconds.  R4 §3.1.1.4.2: a date search value and a date in a
 * resource both stand for the whole interval their precision covers
 * ("2020-03" is all of March 2020), and the prefixes compare intervals.
 */
#include "fhir/search/search_int.h"

#include <string.h>

#include "fhir/base/civil.h"

#define US_PER_SEC  1000000LL
#define US_PER_MIN  (60LL * US_PER_SEC)
#define US_PER_HOUR (60LL * US_PER_MIN)
#define US_PER_DAY  (24LL * US_PER_HOUR)

static int
days_in_month(int64_t y, int64_t m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dm[m - 1];
}

/* n digits at s[*i] as a number; false if not all digits. */
static bool
digits(const char *s, size_t len, size_t *i, int n, int64_t *out)
{
    int64_t v = 0;

    if (*i + (size_t)n > len)
        return false;
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];

        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    *out = v;
    return true;
}

struct dt {
    int64_t y, mo, d, h, mi, sec;
    int64_t frac_us; /* fraction in microseconds */
    int64_t step_us; /* width of the interval at this precision (time part) */
    int precision;   /* 1 year, 2 month, 3 day, 4 time */
    int64_t tz_us;   /* offset east of UTC */
};

/* "Z", "+hh:mm" or "-hh:mm" (a space for '+' when lenient). */
static bool
parse_tz(const char *s, size_t len, size_t *i, bool lenient, struct dt *t)
{
    int64_t hh;
    int64_t mm;
    char c;

    if (*i == len)
        return true; /* no timezone: taken as UTC */
    c = s[*i];
    if (c == 'Z') {
        (*i)++;
        return true;
    }
    if (c != '+' && c != '-' && !(lenient && c == ' '))
        return false;
    (*i)++;
    if (!digits(s, len, i, 2, &hh) || *i >= len || s[*i] != ':')
        return false;
    (*i)++;
    if (!digits(s, len, i, 2, &mm) || hh > 14 || mm > 59)
        return false;
    t->tz_us = (hh * US_PER_HOUR + mm * US_PER_MIN) * (c == '-' ? -1 : 1);
    return true;
}

static bool
parse_time(const char *s, size_t len, size_t *i, struct dt *t)
{
    if (!digits(s, len, i, 2, &t->h) || *i >= len || s[*i] != ':' || t->h > 23)
        return false;
    (*i)++;
    if (!digits(s, len, i, 2, &t->mi) || t->mi > 59)
        return false;
    t->step_us = US_PER_MIN;
    if (*i < len && s[*i] == ':') {
        (*i)++;
        /* R4 time grammar allows a leap second (60). */
        if (!digits(s, len, i, 2, &t->sec) || t->sec > 60)
            return false;
        t->step_us = US_PER_SEC;
        if (*i < len && s[*i] == '.') {
            int64_t scale = US_PER_SEC;
            int n = 0;

            for ((*i)++; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, n++) {
                if (scale > 1) {
                    scale /= 10;
                    t->frac_us += (s[*i] - '0') * scale;
                }
            }
            if (n == 0 || n > 9)
                return false;
            t->step_us = scale;
        }
    }
    return true;
}

static bool
parse_dt(const char *s, size_t len, bool lenient, struct dt *t)
{
    size_t i = 0;

    memset(t, 0, sizeof(*t));
    t->mo = 1;
    t->d = 1;
    if (s == NULL || !digits(s, len, &i, 4, &t->y) || t->y < 1)
        return false;
    t->precision = 1;
    if (i < len && s[i] == '-') {
        i++;
        if (!digits(s, len, &i, 2, &t->mo) || t->mo < 1 || t->mo > 12)
            return false;
        t->precision = 2;
        if (i < len && s[i] == '-') {
            i++;
            if (!digits(s, len, &i, 2, &t->d) || t->d < 1 || t->d > days_in_month(t->y, t->mo))
                return false;
            t->precision = 3;
            if (i < len && s[i] == 'T') {
                i++;
                if (!parse_time(s, len, &i, t) || !parse_tz(s, len, &i, lenient, t))
                    return false;
                t->precision = 4;
            }
        }
    }
    return i == len;
}

static bool
date_range(const char *s, size_t len, bool lenient, int64_t *low, int64_t *high)
{
    struct dt t;
    int64_t start;

    if (!parse_dt(s, len, lenient, &t))
        return false;
    start = base_days_from_civil(t.y, t.mo, t.d) * US_PER_DAY;
    switch (t.precision) {
    case 1:
        *low = start;
        *high = base_days_from_civil(t.y + 1, 1, 1) * US_PER_DAY;
        return true;
    case 2:
        *low = start;
        *high = base_days_from_civil(t.mo == 12 ? t.y + 1 : t.y, t.mo == 12 ? 1 : t.mo + 1, 1) *
                US_PER_DAY;
        return true;
    case 3:
        *low = start;
        *high = start + US_PER_DAY;
        return true;
    default:
        *low = start + t.h * US_PER_HOUR + t.mi * US_PER_MIN + t.sec * US_PER_SEC + t.frac_us -
               t.tz_us;
        *high = *low + t.step_us;
        return true;
    }
}

bool
fhir_search_date_range(const char *s, size_t len, int64_t *low, int64_t *high)
{
    return date_range(s, len, false, low, high);
}

bool
sp_date_range_lenient(const char *s, size_t len, int64_t *low, int64_t *high)
{
    return date_range(s, len, true, low, high);
}
