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
#include <stdio.h>
#include <string.h>

#include "adapters/csv/csv_int.h"
#include "adapters/mapkit/mapkit.h"

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
    *min = *f == 'Y' ? 4 : n;
    *max = *f == 'Y' ? 4 : 2;
    return (int)(k - keys);
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
        if (!digits(&s, end, min, max, &d->v[part]))
            return false;
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

size_t
csv_date_parse(struct base_str text, const char *const *formats, size_t nformats, bool want_date,
               const char *default_tz, char *out, size_t cap)
{
    static const char *const iso[] = {"iso"};
    struct base_str t = base_str_trim(text);

    if (nformats == 0) {
        formats = iso;
        nformats = 1;
    }
    for (size_t i = 0; i < nformats; i++) {
        struct dparts d;
        size_t n;

        if (strcmp(formats[i], "iso") == 0)
            n = parse_iso(t, want_date, default_tz, out, cap);
        else
            n = match_format(t.ptr, t.ptr + t.len, formats[i], &d)
                    ? render(&d, "", 0, want_date, default_tz, out, cap)
                    : 0;
        if (n > 0)
            return n;
    }
    return 0;
}
