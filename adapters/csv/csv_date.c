/*
 * Dates and times in CSV exports, by format patterns from the mapping:
 *   YYYY year, MM / M month, DD / D day, hh / h hour, mm minute, ss second,
 *   any other character must match itself;
 *   "iso": ISO 8601 / FHIR forms (2014-07-08, 2014-07-08T15:35:36Z,
 *   2014-07-08T15:35:36.5+08:00, 2014-07-08 15:35:36).
 * The parts become an HL7-style timestamp that adapters/mapkit turns into
 * a FHIR date or dateTime, so ranges, leap years and the time-zone rule
 * are checked in one place.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/csv/csv_int.h"
#include "adapters/mapkit/mapkit.h"
#include "fhir/base/civil.h"

struct dparts {
    int v[6]; /* Y M D h m s, -1 when absent */
};

static bool
digits(const char **p, const char *end, size_t min, size_t max, int *out)
{
    size_t n = 0;
    int v = 0;

    while (*p + n < end && n < max && (*p)[n] >= '0' && (*p)[n] <= '9') {
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n < min)
        return false;
    *p += n;
    *out = v;
    return true;
}

/* The token at `f` ("YYYY", "MM", "M"...): which part, and its widths. */
static int
token(const char *f, size_t *flen, size_t *min, size_t *max)
{
    static const char keys[] = "YMDhms";
    const char *k = strchr(keys, *f);
    size_t n = 1;

    if (*f == '\0' || k == NULL)
        return -1;
    while (f[n] == *f)
        n++;
    *flen = n;
    *min = *f == 'Y' && n != 2 ? 4 : n;
    *max = *f == 'Y' && n != 2 ? 4 : 2;
    return (int)(k - keys);
}

/* "MMM": an English month abbreviation (Oracle and Excel "05-Mar-24"). */
static bool
month_name(const char **p, const char *end, int *out)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";

    if (end - *p < 3)
        return false;
    for (int m = 0; m < 12; m++) {
        if (strncasecmp(*p, names + 3 * m, 3) == 0) {
            *out = m + 1;
            *p += 3;
            return true;
        }
    }
    return false;
}

static bool
match_format(const char *s, const char *end, const char *fmt, struct dparts *d)
{
    for (int i = 0; i < 6; i++)
        d->v[i] = -1;
    while (*fmt != '\0') {
        size_t flen;
        size_t min;
        size_t max;
        int part = token(fmt, &flen, &min, &max);

        if (part < 0) {
            if (s == end || *s != *fmt)
                return false;
            s++;
            fmt++;
            continue;
        }
        if (part == 1 && flen == 3 ? !month_name(&s, end, &d->v[part])
                                   : !digits(&s, end, min, max, &d->v[part]))
            return false;
        /* "YY": Excel's window, 00-29 -> 20xx, 30-99 -> 19xx */
        if (part == 0 && flen == 2)
            d->v[0] += d->v[0] < 30 ? 2000 : 1900;
        fmt += flen;
    }
    return s == end;
}

/* Parts -> "YYYYMMDD[hh[mm[ss]]]" (+ zone) for adapter_ts_to_fhir. */
static size_t
render(const struct dparts *d, const char *zone, size_t zlen, bool want_date,
       const char *default_tz, char *out, size_t cap)
{
    char ts[48];
    int n;

    if (d->v[0] < 0 || d->v[1] < 0 || d->v[2] < 0)
        return 0;
    n = snprintf(ts, sizeof(ts), "%04d%02d%02d", d->v[0], d->v[1], d->v[2]);
    for (int i = 3; i < 6 && d->v[i] >= 0 && n > 0 && (size_t)n < sizeof(ts); i++)
        n += snprintf(ts + n, sizeof(ts) - (size_t)n, "%02d", d->v[i] % 100);
    if (n <= 0 || (size_t)n + zlen >= sizeof(ts))
        return 0;
    memcpy(ts + n, zone, zlen);
    return adapter_ts_to_fhir(base_str_make(ts, (size_t)n + zlen), default_tz, want_date, out, cap);
}

/* ISO 8601: date, optional 'T' or ' ' and time, optional fraction and zone. */
static size_t
parse_iso(struct base_str t, bool want_date, const char *default_tz, char *out, size_t cap)
{
    const char *p = t.ptr;
    const char *end = t.ptr + t.len;
    char ts[64];
    size_t o = 0;

    while (p < end && o < sizeof(ts) - 1) {
        char c = *p;

        if (c == '+' || c == 'Z' || (c == '-' && o >= 8)) {
            /* the zone, copied as is ("+08:00", "-0500", "Z") */
            size_t z = (size_t)(end - p);

            if (o + z >= sizeof(ts))
                return 0;
            memcpy(ts + o, p, z);
            o += z;
            break;
        }
        if ((c == '-' && (o == 4 || o == 6)) || ((c == 'T' || c == ' ') && o == 8) ||
            (c == ':' && (o == 10 || o == 12))) {
            p++;
            continue;
        }
        if (c == '.' || (c >= '0' && c <= '9')) {
            ts[o++] = c;
            p++;
            continue;
        }
        return 0;
    }
    return adapter_ts_to_fhir(base_str_make(ts, o), default_tz, want_date, out, cap);
}

/*
 * "excel": a serial day number as Excel stores dates (1900 date system),
 * written out when a date cell was formatted as a number.  Day 1 is
 * 1900-01-01 and Excel counts a 1900-02-29 that never was (serial 60), so
 * from 61 on the date is 1899-12-30 + serial.  A fraction is the time of day.
 */
static size_t
parse_excel(struct base_str t, bool want_date, const char *default_tz, char *out, size_t cap)
{
    struct dparts d = {{-1, -1, -1, -1, -1, -1}};
    const char *p = t.ptr;
    const char *end = t.ptr + t.len;
    int serial;
    long secs = -1;

    if (!digits(&p, end, 1, 6, &serial) || serial < 61 || serial > 2958465)
        return 0;
    if (p < end && *p == '.') {
        double frac = 0;
        double scale = 0.1;

        for (p++; p < end && *p >= '0' && *p <= '9'; p++, scale /= 10)
            frac += (*p - '0') * scale;
        secs = (long)(frac * 86400.0 + 0.5);
        if (secs >= 86400)
            secs = 86399;
    }
    if (p != end)
        return 0;
    /* Excel's day 25569 is 1970-01-01 */
    {
        int64_t y;
        int64_t m;
        int64_t dd;

        base_civil_from_days((int64_t)serial - 25569, &y, &m, &dd);
        d.v[0] = (int)y;
        d.v[1] = (int)m;
        d.v[2] = (int)dd;
    }
    if (secs >= 0) {
        d.v[3] = (int)(secs / 3600);
        d.v[4] = (int)(secs / 60 % 60);
        d.v[5] = (int)(secs % 60);
    }
    return render(&d, "", 0, want_date, default_tz, out, cap);
}

/* Full-width digits and separators (U+FF0D -, U+FF0F /, U+FF10-19, U+FF1A :,
 * U+3000 space: Chinese IMEs) as ASCII, so one format reads both. */
static struct base_str
halfwidth(struct base_str t, char *buf, size_t cap)
{
    const unsigned char *p = (const unsigned char *)t.ptr;
    size_t n = 0;

    for (size_t i = 0; i < t.len; n++) {
        if (n == cap)
            return t;
        if (i + 2 < t.len && p[i] == 0xEF && p[i + 1] == 0xBC &&
            (p[i + 2] == 0x8D || (p[i + 2] >= 0x8F && p[i + 2] <= 0x9A))) {
            buf[n] = (char)(p[i + 2] - 0x8D + '-');
            i += 3;
        } else if (i + 2 < t.len && p[i] == 0xE3 && p[i + 1] == 0x80 && p[i + 2] == 0x80) {
            buf[n] = ' ';
            i += 3;
        } else {
            buf[n] = (char)p[i++];
        }
    }
    return base_str_make(buf, n);
}

/*
 * A mapping's format is one word (arguments split at spaces), but exports
 * append a time to a date after a space ("2024/3/5 8:30", Excel's m/d/yyyy
 * h:mm): a value the format does not match whole is tried as the format
 * followed by " h:mm" or " h:mm:ss".
 */
static bool
match_with_time(struct base_str t, const char *fmt, struct dparts *d)
{
    static const char *const times[] = {"h:mm:ss", "h:mm"};
    const char *sp = memrchr(t.ptr, ' ', t.len);
    struct dparts tm;

    if (match_format(t.ptr, t.ptr + t.len, fmt, d))
        return true;
    if (sp == NULL || strchr(fmt, 'h') != NULL || !match_format(t.ptr, sp, fmt, d))
        return false;
    for (size_t i = 0; i < BASE_ARRAY_LEN(times); i++) {
        if (match_format(sp + 1, t.ptr + t.len, times[i], &tm)) {
            for (int k = 3; k < 6; k++)
                d->v[k] = tm.v[k];
            return true;
        }
    }
    return false;
}

size_t
csv_date_parse(struct base_str text, const char *const *formats, size_t nformats, bool want_date,
               const char *default_tz, char *out, size_t cap)
{
    static const char *const iso[] = {"iso"};
    char buf[128];
    struct base_str t = halfwidth(base_str_trim(text), buf, sizeof(buf));

    if (nformats == 0) {
        formats = iso;
        nformats = 1;
    }
    for (size_t i = 0; i < nformats; i++) {
        struct dparts d;
        size_t n;

        if (strcmp(formats[i], "iso") == 0)
            n = parse_iso(t, want_date, default_tz, out, cap);
        else if (strcmp(formats[i], "excel") == 0)
            n = parse_excel(t, want_date, default_tz, out, cap);
        else
            n = match_with_time(t, formats[i], &d)
                    ? render(&d, "", 0, want_date, default_tz, out, cap)
                    : 0;
        if (n > 0)
            return n;
    }
    return 0;
}
