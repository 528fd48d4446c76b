/*
 * Small helpers of the demo generator: the random streams, civil dates,
 * UIDs under 2.25, file output and text escapes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/mapkit/mapkit.h"
#include "fhir/base/civil.h"
#include "gateway/demo/demo_int.h"

/* ------------------------------------------------------------------ rng -- */

static uint64_t
mix(uint64_t z)
{
    /* splitmix64's finalizer (Steele, Lea, Flood 2014) */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct demo_rng
demo_rng_for(uint64_t seed, uint32_t tag, uint64_t a, uint64_t b)
{
    struct demo_rng r = {mix(mix(mix(seed ^ ((uint64_t)tag << 32)) ^ a) + b)};

    return r;
}

uint64_t
demo_rng_next(struct demo_rng *r)
{
    return mix(r->s += 0x9E3779B97F4A7C15ull);
}

unsigned
demo_rng_below(struct demo_rng *r, unsigned n)
{
    return n == 0 ? 0 : (unsigned)(demo_rng_next(r) % n);
}

double
demo_rng_unit(struct demo_rng *r)
{
    return (double)(demo_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double
demo_rng_gauss(struct demo_rng *r)
{
    /* Irwin-Hall: the sum of 6 uniforms, centred and scaled; bounded by
     * construction (|x| < 4.3), which keeps lab values plausible. */
    double s = 0;

    for (int i = 0; i < 6; i++)
        s += demo_rng_unit(r);
    return (s - 3.0) * 1.41421356;
}

/* ---------------------------------------------------------------- dates -- */

/* Days since 1970-01-01 <-> YYYYMMDD (fhir/base/civil.h). */
int
demo_days(int ymd)
{
    return (int)base_days_from_civil(ymd / 10000, ymd / 100 % 100, ymd % 100);
}

int
demo_ymd(int days)
{
    int64_t y;
    int64_t m;
    int64_t d;

    base_civil_from_days(days, &y, &m, &d);
    return (int)(y * 10000 + m * 100 + d);
}

void
demo_ts(int day, int minute, int second, char out[16])
{
    int ymd = demo_ymd(day + minute / 1440);

    unsigned m = (unsigned)(minute % 1440);

    /* 14 characters: the 8-digit date of any year 1000-9999 and HHMMSS */
    snprintf(out, 16, "%08u%02u%02u%02u", (unsigned)ymd % 100000000u, m / 60 % 24, m % 60,
             (unsigned)second % 60);
}

/* ----------------------------------------------------------------- UIDs -- */

void
demo_uid(const char *name, char out[72])
{
    char uuid[ADAPTER_UUID_LEN + 1];
    uint8_t n[16];
    char digits[48];
    size_t nd = 0;
    size_t k = 0;

    adapter_uuid5(name, strlen(name), uuid);
    for (size_t i = 0; uuid[i] != '\0' && k < 32; i++) {
        char c = uuid[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

        if (v < 0)
            continue;
        n[k / 2] = (uint8_t)(k % 2 == 0 ? v << 4 : n[k / 2] | v);
        k++;
    }
    /* PS3.5 B.2: "2.25." and the UUID as one unsigned decimal integer,
     * by repeated division of the 128-bit big-endian number by 10 */
    for (bool zero = false; !zero;) {
        unsigned rem = 0;

        zero = true;
        for (size_t i = 0; i < 16; i++) {
            unsigned cur = rem * 256 + n[i];

            n[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            zero = zero && n[i] == 0;
        }
        digits[nd++] = (char)('0' + rem);
    }
    memcpy(out, "2.25.", 5);
    for (size_t i = 0; i < nd; i++)
        out[5 + i] = digits[nd - 1 - i];
    out[5 + nd] = '\0';
}

void
demo_member_oid(enum demo_member m, int arc, char out[72])
{
    char name[64];

    snprintf(name, sizeof(name), "fhirgate demo member %s", demo_members[m].id);
    demo_uid(name, out);
    if (arc > 0) {
        size_t len = strlen(out);

        snprintf(out + len, 72 - len, ".%d", arc);
    }
}

/* ----------------------------------------------------------------- files -- */

static int
mkdirs(char *path)
{
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return 0;
}

int
demo_write(struct demo_out *o, const char *rel, const void *data, size_t len, struct base_err *err)
{
    char path[4096];
    const char *p = data;
    int fd;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", o->dir, rel) >= sizeof(path) ||
        mkdirs(path) != 0)
        return base_err_set(err, BASE_E_IO, "exception", rel, "could not create the folder");
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return base_err_set(err, BASE_E_IO, "exception", rel, "could not create: %s",
                            strerror(errno));
    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return base_err_set(err, BASE_E_IO, "exception", rel, "could not write: %s",
                                strerror(errno));
        }
        p += w;
        len -= (size_t)w;
        o->bytes += (size_t)w;
    }
    if (close(fd) != 0)
        return base_err_set(err, BASE_E_IO, "exception", rel, "could not write: %s",
                            strerror(errno));
    o->files++;
    return BASE_OK;
}

/* ------------------------------------------------------------------ text -- */

int
demo_xml(struct base_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        const char *e = NULL;

        switch (*s) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&apos;";
            break;
        default:
            break;
        }
        TRY(e != NULL ? base_buf_append_cstr(b, e) : base_buf_putc(b, *s));
    }
    return BASE_OK;
}

int
demo_csv_field(struct base_buf *b, const char *s)
{
    /* RFC 4180 2.6/2.7: quote a field holding a comma, quote or line break,
     * doubling the quotes inside */
    if (strpbrk(s, ",\"\r\n") == NULL)
        return base_buf_append_cstr(b, s);
    TRY(base_buf_putc(b, '"'));
    for (; *s != '\0'; s++) {
        if (*s == '"')
            TRY(base_buf_putc(b, '"'));
        TRY(base_buf_putc(b, *s));
    }
    return base_buf_putc(b, '"');
}
