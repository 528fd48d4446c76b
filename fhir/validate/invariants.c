/*
 * The R4 core invariants that look at values (the ones that only ask which
 * child elements are present are tables in gen/invariants.c): per-1,
 * rng-2, the Quantity profiles' age-1, cnt-3, dis-1 and mqty-1, tim-4,
 * tim-5, tim-9, trd-3, obs-7 and the Bundle's bdl-1..bdl-4 and
 * bdl-7..bdl-12.  The pure parts (comparisons of dates and decimals, the
 * rules on a Quantity's parts, the Bundle codes) serve both paths; the
 * rest is the tree path's (stream.c keeps what it needs as it reads).
 *
 * An invariant is reported when its FHIRPath expression evaluates to
 * false.  An empty result — FHIRPath's "unknown": partial dates compared
 * at a precision one of them lacks, quantities in different units, a
 * document Bundle without a first resource — is not reported (the HL7
 * Java validator counts it as a failure).  Where the expression is known
 * to say more or less than its human text, the text decides: cnt-3's
 * `value.toString().contains('.')` refuses 5.0, a whole number; bdl-7
 * concatenates fullUrl and versionId without a separator (compared here
 * as a pair); tim-9's `when in (...)` fails on several whens (the R4
 * errata's `when.select($this in ...).allFalse()` is used); drt-1's
 * expression contradicts its text, so it is not checked.
 */
#include "fhir/validate/validate_int.h"

#include <stdlib.h>
#include <string.h>

#include "fhir/base/civil.h"
#include "fhir/json/fhir_json.h"

/* ------------------------------------------------------- date and time -- */

struct dt {
    int64_t days; /* days since 1970-01-01 of the date (its first day) */
    int64_t end;  /* days of the first day after the date's precision */
    int64_t secs; /* with a time: seconds since the epoch, UTC */
    const char *frac;
    size_t frac_len;
    unsigned y, m, d; /* m, d 0 when absent */
    bool time;
};

static unsigned
num(const char *s, size_t n)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10u + (unsigned)(s[i] - '0');
    return v;
}

/* A valid dateTime (primitive.c has checked it). */
static void
dt_parse(const char *s, size_t len, struct dt *t)
{
    memset(t, 0, sizeof(*t));
    t->y = num(s, 4);
    if (len >= 7)
        t->m = num(s + 5, 2);
    if (len >= 10)
        t->d = num(s + 8, 2);
    if (t->d != 0) {
        t->days = base_days_from_civil(t->y, t->m, t->d);
        t->end = t->days + 1;
    } else if (t->m != 0) {
        t->days = base_days_from_civil(t->y, t->m, 1);
        t->end = t->m == 12 ? base_days_from_civil(t->y + 1, 1, 1)
                            : base_days_from_civil(t->y, t->m + 1, 1);
    } else {
        t->days = base_days_from_civil(t->y, 1, 1);
        t->end = base_days_from_civil(t->y + 1, 1, 1);
    }
    if (len > 10) {
        size_t i = 19;
        int64_t off = 0;

        t->time = true;
        t->secs = t->days * 86400 + (int64_t)num(s + 11, 2) * 3600 + (int64_t)num(s + 14, 2) * 60 +
                  (int64_t)num(s + 17, 2);
        if (s[i] == '.') {
            t->frac = s + i + 1;
            while (++i < len && s[i] >= '0' && s[i] <= '9')
                ;
            t->frac_len = (size_t)(s + i - t->frac);
        }
        if (s[i] != 'Z') {
            off = (int64_t)num(s + i + 1, 2) * 3600 + (int64_t)num(s + i + 4, 2) * 60;
            if (s[i] == '-')
                off = -off;
        }
        t->secs -= off;
    }
}

/* Fractions of a second as decimals: a > b? */
static bool
frac_after(const struct dt *a, const struct dt *b)
{
    size_t n = a->frac_len > b->frac_len ? a->frac_len : b->frac_len;

    for (size_t i = 0; i < n; i++) {
        char x = i < a->frac_len ? a->frac[i] : '0';
        char y = i < b->frac_len ? b->frac[i] : '0';

        if (x != y)
            return x > y;
    }
    return false;
}

#define ZONE_SLACK (14 * 3600) /* a date, which has no zone, is in one of -14:00 .. +14:00 */

bool
fhir_validate__dt_after(const char *a, size_t alen, const char *b, size_t blen)
{
    struct dt x;
    struct dt y;

    /* the same form in the same zone (bulk data nearly always): the text
     * orders as the time does */
    if (alen == blen && (alen <= 10 || memcmp(a + alen - 6, b + blen - 6, 6) == 0))
        return memcmp(a, b, alen) > 0;
    dt_parse(a, alen, &x);
    dt_parse(b, blen, &y);
    if (x.time && y.time)
        return x.secs > y.secs || (x.secs == y.secs && frac_after(&x, &y));
    if (!x.time && !y.time) {
        /* precision by precision; a precision one lacks leaves it open */
        if (x.y != y.y)
            return x.y > y.y;
        if (x.m == 0 || y.m == 0)
            return false;
        if (x.m != y.m)
            return x.m > y.m;
        if (x.d == 0 || y.d == 0)
            return false;
        return x.d > y.d;
    }
    if (!x.time) /* a date after a time: its first moment in any zone */
        return x.days * 86400 - ZONE_SLACK > y.secs;
    /* a time after a date: at or past its end in any zone */
    return x.secs >= y.end * 86400 + ZONE_SLACK;
}

bool
fhir_validate_period_inverted(const char *start, size_t slen, const char *end, size_t elen)
{
    return fhir_validate__dt_after(start, slen, end, elen);
}

int
fhir_validate_decimal_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = fhir_validate__dec_cmp(a, alen, b, blen);

    return (r > 0) - (r < 0);
}

/* ------------------------------------------------------------- decimals -- */

/* A JSON number literal as sign, significant digits and the power of ten
 * of its first significant digit (value = 0.d1d2... x 10^mag). */
struct dec {
    bool neg;
    bool zero;
    long mag;
    const char *ip, *ipe; /* integer part's digits */
    const char *fp, *fpe; /* fraction's digits */
};

static void
dec_parse(const char *s, size_t len, struct dec *d)
{
    const char *p = s;
    const char *end = s + len;
    long exp = 0;
    long nint;

    memset(d, 0, sizeof(*d));
    if (p < end && *p == '-') {
        d->neg = true;
        p++;
    }
    d->ip = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    d->ipe = p;
    d->fp = d->fpe = p;
    if (p < end && *p == '.') {
        d->fp = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        d->fpe = p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool eneg = false;

        p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (exp < 100000000L)
                exp = exp * 10 + (*p - '0');
        }
        if (eneg)
            exp = -exp;
    }
    /* leading zeros */
    while (d->ip < d->ipe && *d->ip == '0')
        d->ip++;
    nint = (long)(d->ipe - d->ip);
    if (nint == 0) {
        long lead = 0;

        while (d->fp < d->fpe && *d->fp == '0') {
            d->fp++;
            lead++;
        }
        if (d->fp == d->fpe) {
            d->zero = true;
            return;
        }
        d->mag = -lead + exp;
    } else {
        d->mag = nint + exp;
    }
}

/* Digit k (from 0) of the significant digits, '0' past them. */
static char
dec_digit(const struct dec *d, size_t k)
{
    size_t ni = (size_t)(d->ipe - d->ip);

    if (k < ni)
        return d->ip[k];
    k -= ni;
    return k < (size_t)(d->fpe - d->fp) ? d->fp[k] : '0';
}

static size_t
dec_ndigits(const struct dec *d)
{
    return (size_t)(d->ipe - d->ip) + (size_t)(d->fpe - d->fp);
}

/* |a| against |b| for non-zero values. */
static int
dec_cmp_abs(const struct dec *a, const struct dec *b)
{
    size_t n;

    if (a->mag != b->mag)
        return a->mag > b->mag ? 1 : -1;
    n = dec_ndigits(a) > dec_ndigits(b) ? dec_ndigits(a) : dec_ndigits(b);
    for (size_t k = 0; k < n; k++) {
        char x = dec_digit(a, k);
        char y = dec_digit(b, k);

        if (x != y)
            return x > y ? 1 : -1;
    }
    return 0;
}

int
fhir_validate__dec_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    struct dec x;
    struct dec y;
    int sx;
    int sy;

    dec_parse(a, alen, &x);
    dec_parse(b, blen, &y);
    sx = x.zero ? 0 : x.neg ? -1 : 1;
    sy = y.zero ? 0 : y.neg ? -1 : 1;
    if (sx != sy)
        return sx > sy ? 1 : -1;
    if (sx == 0)
        return 0;
    return sx > 0 ? dec_cmp_abs(&x, &y) : -dec_cmp_abs(&x, &y);
}

int
fhir_validate__dec_sign(const char *s, size_t len)
{
    struct dec d;

    dec_parse(s, len, &d);
    return d.zero ? 0 : d.neg ? -1 : 1;
}

bool
fhir_validate__dec_whole(const char *s, size_t len)
{
    struct dec d;
    size_t n;

    dec_parse(s, len, &d);
    if (d.zero)
        return true;
    if (d.mag <= 0)
        return false;
    /* every significant digit past the units is 0 */
    n = dec_ndigits(&d);
    for (size_t k = (size_t)d.mag; k < n; k++) {
        if (dec_digit(&d, k) != '0')
            return false;
    }
    return true;
}

/* ----------------------------------------------------------- quantities -- */

static bool
str_eq(struct base_str a, struct base_str b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

bool
fhir_validate__qty_above(const struct fhir_validate__qty *lo, const struct fhir_validate__qty *hi)
{
    bool same_unit;

    if (!lo->has_value || !hi->has_value || lo->comparator_el || hi->comparator_el)
        return false;
    if (lo->code_el || hi->code_el || lo->system_el || hi->system_el)
        same_unit = lo->has_code && hi->has_code && lo->has_system && hi->has_system &&
                    str_eq(lo->code, hi->code) && str_eq(lo->system, hi->system);
    else if (lo->unit_el || hi->unit_el)
        same_unit = lo->has_unit && hi->has_unit && str_eq(lo->unit, hi->unit);
    else
        same_unit = true;
    return same_unit &&
           fhir_validate__dec_cmp(lo->value.ptr, lo->value.len, hi->value.ptr, hi->value.len) > 0;
}

static bool
system_is(const struct fhir_validate__qty *q, const char *want)
{
    /* "system.empty() or system = X": a system with only extensions
     * compares as unknown */
    return !q->system_el || !q->has_system || base_str_eq_cstr(q->system, want);
}

const char *
fhir_validate__qty_profile(const struct fhir_model_type *t, const struct fhir_validate__qty *q)
{
    /* "code.exists() or value.empty()" */
    bool coded = q->code_el || !q->value_el;

    switch (t->index) {
    case FHIR_T_AGE:
        if (!coded || !system_is(q, "http://unitsofmeasure.org") ||
            (q->has_value && fhir_validate__dec_sign(q->value.ptr, q->value.len) <= 0))
            return "age-1";
        return NULL;
    case FHIR_T_DISTANCE:
        return coded && system_is(q, "http://unitsofmeasure.org") ? NULL : "dis-1";
    case FHIR_T_MONEYQUANTITY:
        return coded && system_is(q, "urn:iso:std:iso:4217") ? NULL : "mqty-1";
    case FHIR_T_COUNT:
        if (!coded || !system_is(q, "http://unitsofmeasure.org") ||
            (q->has_code && !base_str_eq_cstr(q->code, "1")) ||
            (q->has_value && !fhir_validate__dec_whole(q->value.ptr, q->value.len)))
            return "cnt-3";
        return NULL;
    default:
        return NULL;
    }
}

/* ---------------------------------------------------------------- codes -- */

enum fhir_validate__btype
fhir_validate__bundle_type(struct base_str s)
{
    static const char *const names[] = {
        "document", "message",   "transaction", "transaction-response", "batch", "batch-response",
        "history",  "searchset", "collection"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (base_str_eq_cstr(s, names[i]))
            return (enum fhir_validate__btype)(i + 1);
    }
    return FHIR_VALIDATE__BT_UNKNOWN;
}

bool
fhir_validate__tim9_code(struct base_str s)
{
    return base_str_eq_cstr(s, "C") || base_str_eq_cstr(s, "CM") || base_str_eq_cstr(s, "CD") ||
           base_str_eq_cstr(s, "CV");
}

bool
fhir_validate__trd3_fails(struct base_str type, bool has_name, bool has_timing, bool has_data)
{
    if (base_str_eq_cstr(type, "named-event"))
        return !has_name;
    if (base_str_eq_cstr(type, "periodic"))
        return !has_timing;
    if (base_str_starts_with(type, "data-"))
        return !has_data;
    return false;
}

/* Messages (STYLE: lower case, no trailing period, within base_err.msg
 * with the key) for the invariants checked here. */
static const struct {
    const char *key;
    const char *human;
} texts[] = {
    {"per-1", "period start is after its end"},
    {"rng-2", "range low is above its high"},
    {"age-1", "an Age needs a code when it has a value, UCUM as its system and a positive value"},
    {"cnt-3", "a Count needs the code 1 when it has a value, UCUM as its system and a whole "
              "number as its value"},
    {"dis-1", "a Distance needs a code when it has a value, and UCUM as its system"},
    {"mqty-1", "a MoneyQuantity needs a code when it has a value, and ISO 4217 as its system"},
    {"tim-4", "duration must not be negative"},
    {"tim-5", "period must not be negative"},
    {"tim-9", "an offset needs a when, and none of C, CM, CD, CV"},
    {"trd-3", "a named event needs a name, a periodic event timing, a data event data"},
    {"obs-7", "a component has the code of the Observation itself, so the Observation must not "
              "have a value"},
    {"bdl-1", "total only when a search or history"},
    {"bdl-2", "entry.search only when a search"},
    {"bdl-3", "entry.request is mandatory for batch, transaction and history, otherwise "
              "prohibited"},
    {"bdl-4", "entry.response is mandatory for batch-response, transaction-response and history, "
              "otherwise prohibited"},
    {"bdl-7", "fullUrl must be unique in a bundle, or entries with the same fullUrl must have "
              "different meta.versionId"},
    {"bdl-8", "fullUrl cannot be a version specific reference"},
    {"bdl-9", "a document must have an identifier with a system and a value"},
    {"bdl-10", "a document must have a date"},
    {"bdl-11", "a document must have a Composition as the first resource"},
    {"bdl-12", "a message must have a MessageHeader as the first resource"},
};

const char *
fhir_validate__invariant_text(const char *key)
{
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        if (strcmp(texts[i].key, key) == 0)
            return texts[i].human;
    }
    return "invariant";
}

/* ------------------------------------------------------------ tree path -- */

static void
broken(struct fhir_validate__ctx *c, const char *extra, const char *key)
{
    fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "invariant", extra,
                         extra != NULL ? strlen(extra) : 0, "%s (%s)",
                         fhir_validate__invariant_text(key), key);
}

static bool
has_el(const json_t *obj, const char *name)
{
    char buf[40];
    size_t n = strlen(name);

    if (json_object_get(obj, name) != NULL)
        return true;
    buf[0] = '_';
    memcpy(buf + 1, name, n + 1);
    return json_object_get(obj, buf) != NULL;
}

/* A string member that is a valid primitive of kind `prim`. */
static bool
valid_str(const json_t *v, enum fhir_model_prim prim, struct base_str *out)
{
    if (!fhir_json_is_string(v))
        return false;
    *out = fhir_json_str(v);
    return fhir_validate_primitive(prim, out->ptr, out->len) == FHIR_PRIM_OK;
}

/* A Quantity object's parts; `buf` holds an integer value's text. */
static void
qty_of(const json_t *q, struct fhir_validate__qty *out, char *buf, size_t cap)
{
    const json_t *v = json_object_get(q, "value");

    memset(out, 0, sizeof(*out));
    if (!json_is_object(q))
        return;
    out->value_el = has_el(q, "value");
    out->comparator_el = has_el(q, "comparator");
    out->unit_el = has_el(q, "unit");
    out->system_el = has_el(q, "system");
    out->code_el = has_el(q, "code");
    if (fhir_json_is_number(v) && !json_is_real(v)) {
        out->value = fhir_json_number_text(v, buf, cap);
        out->has_value = out->value.len > 0;
    }
    out->has_unit = valid_str(json_object_get(q, "unit"), FHIR_PRIM_STRING, &out->unit);
    out->has_system = valid_str(json_object_get(q, "system"), FHIR_PRIM_URI, &out->system);
    out->has_code = valid_str(json_object_get(q, "code"), FHIR_PRIM_CODE, &out->code);
}

static bool
number_sign_below_zero(const json_t *v)
{
    char buf[40];
    struct base_str t;

    if (!fhir_json_is_number(v) || json_is_real(v))
        return false;
    t = fhir_json_number_text(v, buf, sizeof(buf));
    return t.len > 0 && fhir_validate__dec_sign(t.ptr, t.len) < 0;
}

static void
timing_repeat(struct fhir_validate__ctx *c, const json_t *obj)
{
    if (number_sign_below_zero(json_object_get(obj, "duration")))
        broken(c, "duration", "tim-4");
    if (number_sign_below_zero(json_object_get(obj, "period")))
        broken(c, "period", "tim-5");
    if (has_el(obj, "offset")) {
        const json_t *when = json_object_get(obj, "when");
        bool bad = !has_el(obj, "when");

        for (size_t i = 0; i < json_array_size(when); i++) {
            const json_t *w = json_array_get(when, i);

            bad |= fhir_json_is_string(w) && fhir_validate__tim9_code(fhir_json_str(w));
        }
        if (bad)
            broken(c, "offset", "tim-9");
    }
}

/* obs-7: a component coded like the Observation itself, and a value. */
static bool
coding_in(const json_t *coding, const json_t *codings)
{
    for (size_t i = 0; i < json_array_size(codings); i++) {
        if (json_equal(fhir_validate__mut(coding), json_array_get(codings, i)))
            return true;
    }
    return false;
}

static void
observation(struct fhir_validate__ctx *c, const json_t *obj, uint64_t present)
{
    const json_t *own = json_object_get(json_object_get(obj, "code"), "coding");
    const json_t *comps = json_object_get(obj, "component");

    if (!((present >> FHIR_VE_OBSERVATION_VALUE) & 1u) || !json_is_array(own))
        return;
    for (size_t i = 0; i < json_array_size(comps); i++) {
        const json_t *cod =
            json_object_get(json_object_get(json_array_get(comps, i), "code"), "coding");

        for (size_t k = 0; k < json_array_size(cod); k++) {
            if (coding_in(json_array_get(cod, k), own)) {
                broken(c, NULL, "obs-7");
                return;
            }
        }
    }
}

/* bdl-7: entries' (fullUrl, meta.versionId) pairs. */
struct urlkey {
    struct base_str url;
    struct base_str vid;
    bool has_vid;
    size_t index;
};

static int
urlkey_cmp(const void *pa, const void *pb)
{
    const struct urlkey *a = pa;
    const struct urlkey *b = pb;
    size_t n = a->url.len < b->url.len ? a->url.len : b->url.len;
    int r = memcmp(a->url.ptr, b->url.ptr, n);

    if (r != 0 || a->url.len != b->url.len)
        return r != 0 ? r : (a->url.len < b->url.len ? -1 : 1);
    if (a->has_vid != b->has_vid)
        return a->has_vid ? 1 : -1;
    if (a->has_vid) {
        n = a->vid.len < b->vid.len ? a->vid.len : b->vid.len;
        r = memcmp(a->vid.ptr, b->vid.ptr, n);
        if (r != 0 || a->vid.len != b->vid.len)
            return r != 0 ? r : (a->vid.len < b->vid.len ? -1 : 1);
    }
    return a->index < b->index ? -1 : a->index > b->index ? 1 : 0;
}

/* Which entries repeat an earlier entry's (fullUrl, versionId): dup[i]. */
static bool
duplicate_urls(const json_t *entries, bool *dup)
{
    size_t n = json_array_size(entries);
    size_t k = 0;
    struct urlkey *keys = malloc((n > 0 ? n : 1) * sizeof(*keys));

    if (keys == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(entries, i);
        const json_t *u = json_object_get(e, "fullUrl");
        const json_t *vid =
            json_object_get(json_object_get(json_object_get(e, "resource"), "meta"), "versionId");

        dup[i] = false;
        if (!fhir_json_is_string(u))
            continue;
        keys[k].url = fhir_json_str(u);
        keys[k].has_vid = fhir_json_is_string(vid);
        keys[k].vid = keys[k].has_vid ? fhir_json_str(vid) : base_str_make("", 0);
        keys[k].index = i;
        k++;
    }
    qsort(keys, k, sizeof(*keys), urlkey_cmp);
    for (size_t i = 1; i < k; i++) {
        struct urlkey a = keys[i - 1];
        struct urlkey b = keys[i];

        a.index = b.index = 0;
        if (urlkey_cmp(&a, &b) == 0)
            dup[keys[i].index] = true;
    }
    free(keys);
    return true;
}

static void
bundle(struct fhir_validate__ctx *c, const json_t *obj, uint64_t present)
{
    const json_t *ty = json_object_get(obj, "type");
    enum fhir_validate__btype bt = fhir_json_is_string(ty)
                                       ? fhir_validate__bundle_type(fhir_json_str(ty))
                                       : FHIR_VALIDATE__BT_UNKNOWN;
    const json_t *entries = json_object_get(obj, "entry");
    size_t n = json_is_array(entries) ? json_array_size(entries) : 0;
    bool *dup = NULL;

    /* a Bundle whose type is missing or not a bundle-type code was
     * reported as such; the rules that depend on it are left */
    if (bt != FHIR_VALIDATE__BT_UNKNOWN) {
        if (((present >> FHIR_VE_BUNDLE_TOTAL) & 1u) && bt != FHIR_VALIDATE__BT_SEARCHSET &&
            bt != FHIR_VALIDATE__BT_HISTORY)
            broken(c, "total", "bdl-1");
        if (bt == FHIR_VALIDATE__BT_DOCUMENT) {
            const json_t *id = json_object_get(obj, "identifier");

            if (!has_el(id, "system") || !has_el(id, "value"))
                broken(c, "identifier", "bdl-9");
            if (!fhir_json_is_string(json_object_get(obj, "timestamp")))
                broken(c, "timestamp", "bdl-10");
        }
        if (bt != FHIR_VALIDATE__BT_HISTORY && n > 1) {
            dup = calloc(n, sizeof(*dup));
            if (dup == NULL || !duplicate_urls(entries, dup))
                c->rc = BASE_E_NOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(entries, i);
        const json_t *url = json_object_get(e, "fullUrl");

        if (!json_is_object(e))
            continue;
        fhir_validate__push(c, "entry", 5, (long)i);
        if (bt != FHIR_VALIDATE__BT_UNKNOWN) {
            bool req = json_object_get(e, "request") != NULL;
            bool resp = json_object_get(e, "response") != NULL;

            if (json_object_get(e, "search") != NULL && bt != FHIR_VALIDATE__BT_SEARCHSET)
                broken(c, "search", "bdl-2");
            if (req != fhir_validate__bt_request(bt))
                broken(c, req ? "request" : NULL, "bdl-3");
            if (resp != fhir_validate__bt_response(bt))
                broken(c, resp ? "response" : NULL, "bdl-4");
        }
        if (fhir_json_is_string(url)) {
            struct base_str u = fhir_json_str(url);

            if (memmem(u.ptr, u.len, "/_history/", 10) != NULL)
                broken(c, "fullUrl", "bdl-8");
        }
        if (dup != NULL && dup[i])
            broken(c, "fullUrl", "bdl-7");
        fhir_validate__pop(c);
    }
    free(dup);
    if (bt == FHIR_VALIDATE__BT_DOCUMENT || bt == FHIR_VALIDATE__BT_MESSAGE) {
        const char *want = bt == FHIR_VALIDATE__BT_DOCUMENT ? "Composition" : "MessageHeader";
        const char *key = bt == FHIR_VALIDATE__BT_DOCUMENT ? "bdl-11" : "bdl-12";
        const json_t *res = json_object_get(json_array_get(entries, 0), "resource");
        const json_t *rt = json_object_get(res, "resourceType");

        /* entry.first().resource.is(X): without a first resource the
         * answer is empty (unknown), not false */
        if (json_is_object(res) &&
            (!fhir_json_is_string(rt) || !base_str_eq_cstr(fhir_json_str(rt), want))) {
            fhir_validate__push(c, "entry", 5, 0);
            broken(c, "resource", key);
            fhir_validate__pop(c);
        }
    }
}

void
fhir_validate__invariants(struct fhir_validate__ctx *c, const json_t *obj,
                          const struct fhir_model_type *t, uint64_t present)
{
    char b1[40];
    char b2[40];
    struct fhir_validate__qty q1;
    struct fhir_validate__qty q2;
    const char *key;

    for (unsigned i = fhir_validate__rule_at[t->index]; i < fhir_validate__rule_at[t->index + 1];
         i++) {
        const struct fhir_validate__rule *r = &fhir_validate__rules[i];

        if (fhir_validate__rule_fails(r, present))
            fhir_validate__issue(c, FHIR_VALIDATE__ERROR, "invariant", NULL, 0, "%s (%s)", r->human,
                                 r->key);
    }
    switch (t->index) {
    case FHIR_T_PERIOD: {
        struct base_str a;
        struct base_str b;

        if (valid_str(json_object_get(obj, "start"), FHIR_PRIM_DATETIME, &a) &&
            valid_str(json_object_get(obj, "end"), FHIR_PRIM_DATETIME, &b) &&
            fhir_validate_period_inverted(a.ptr, a.len, b.ptr, b.len))
            broken(c, NULL, "per-1");
        break;
    }
    case FHIR_T_RANGE:
        qty_of(json_object_get(obj, "low"), &q1, b1, sizeof(b1));
        qty_of(json_object_get(obj, "high"), &q2, b2, sizeof(b2));
        if (fhir_validate__qty_above(&q1, &q2))
            broken(c, NULL, "rng-2");
        break;
    case FHIR_T_AGE:
    case FHIR_T_COUNT:
    case FHIR_T_DISTANCE:
    case FHIR_T_MONEYQUANTITY:
        qty_of(obj, &q1, b1, sizeof(b1));
        key = fhir_validate__qty_profile(t, &q1);
        if (key != NULL)
            broken(c, NULL, key);
        break;
    case FHIR_VT_TIMING_REPEAT:
        timing_repeat(c, obj);
        break;
    case FHIR_T_TRIGGERDEFINITION: {
        struct base_str ty;

        if (fhir_json_is_string(json_object_get(obj, "type"))) {
            ty = fhir_json_str(json_object_get(obj, "type"));
            if (fhir_validate__trd3_fails(ty, (present >> FHIR_VE_TRIGGERDEFINITION_NAME) & 1u,
                                          (present >> FHIR_VE_TRIGGERDEFINITION_TIMING) & 1u,
                                          (present >> FHIR_VE_TRIGGERDEFINITION_DATA) & 1u))
                broken(c, NULL, "trd-3");
        }
        break;
    }
    case FHIR_T_OBSERVATION:
        observation(c, obj, present);
        break;
    case FHIR_T_BUNDLE:
        bundle(c, obj, present);
        break;
    default:
        break;
    }
}
