/*
 * Exact decimals for number and quantity search.  A double cannot say
 * whether 5.45 lies in [5.35, 5.45); mantissa × 10^exp can, and it keeps
 * the precision of the text, which FHIR search depends on (R4 §3.1.1.4.1:
 * "the precision of the value in the search determines the range").
 */
#include "fhir/search/search_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fhir/json/fhir_json.h"

#define DEC_MAX_DIGITS 17 /* so mant * 10 ± 5 still fits int64 */
#define DEC_MAX_EXP    400

bool
fhir_search_dec_parse(const char *s, size_t len, struct fhir_search_dec *out)
{
    bool neg = false;
    int64_t mant = 0;
    int digits = 0;
    int32_t exp = 0;
    size_t i = 0;

    if (s == NULL || !fhir_json_number_syntax_ok(s, len))
        return false;
    if (s[0] == '-') {
        neg = true;
        i++;
    }
    for (bool frac = false; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.') {
            frac = true;
            continue;
        }
        if (digits == 0 && s[i] == '0') {
            exp -= frac ? 1 : 0; /* leading zeros carry no precision */
            continue;
        }
        if (digits < DEC_MAX_DIGITS) {
            mant = mant * 10 + (s[i] - '0');
            digits++;
            exp -= frac ? 1 : 0;
        } else if (!frac) {
            exp++; /* drop a digit beyond the precision we keep */
        }
    }
    if (i < len) {
        int64_t e = 0;

        if (!base_str_to_i64(base_str_make(s + i + 1, len - i - 1), &e) && s[i + 1] != '+')
            return false;
        if (s[i + 1] == '+' && !base_str_to_i64(base_str_make(s + i + 2, len - i - 2), &e))
            return false;
        if (e > DEC_MAX_EXP || e < -DEC_MAX_EXP)
            return false;
        exp += (int32_t)e;
    }
    out->mant = neg ? -mant : mant;
    out->exp = exp;
    return true;
}

static int
ndigits(int64_t m)
{
    int n = 1;

    if (m < 0)
        m = -m;
    while (m >= 10) {
        m /= 10;
        n++;
    }
    return n;
}

static __int128
pow10_128(int n)
{
    __int128 p = 1;

    while (n-- > 0)
        p *= 10;
    return p;
}

int
fhir_search_dec_cmp(struct fhir_search_dec a, struct fhir_search_dec b)
{
    int sa = (a.mant > 0) - (a.mant < 0);
    int sb = (b.mant > 0) - (b.mant < 0);
    int oa;
    int ob;
    __int128 x;
    __int128 y;

    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    oa = ndigits(a.mant) + a.exp;
    ob = ndigits(b.mant) + b.exp;
    if (oa != ob)
        return (oa < ob ? -1 : 1) * sa;
    /* Same order of magnitude: the exponents differ by at most 17. */
    x = a.mant;
    y = b.mant;
    if (a.exp > b.exp)
        x *= pow10_128(a.exp - b.exp);
    else
        y *= pow10_128(b.exp - a.exp);
    return x < y ? -1 : x > y ? 1 : 0;
}

size_t
fhir_search_dec_format(struct fhir_search_dec d, char *buf, size_t cap)
{
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%lld", (long long)(d.mant < 0 ? -d.mant : d.mant));
    const char *sign = d.mant < 0 ? "-" : "";
    int w;

    if (cap < 48 || n <= 0)
        return 0;
    if (d.mant == 0)
        w = snprintf(buf, cap, "0");
    else if (d.exp >= 0 && d.exp <= 18)
        w = snprintf(buf, cap, "%s%s%.*s", sign, digits, (int)d.exp, "000000000000000000");
    else if (d.exp < 0 && -d.exp < n)
        w = snprintf(buf, cap, "%s%.*s.%s", sign, n + d.exp, digits, digits + n + d.exp);
    else if (d.exp < 0 && -d.exp - n <= 12)
        w = snprintf(buf, cap, "%s0.%.*s%s", sign, -d.exp - n, "000000000000", digits);
    else
        w = snprintf(buf, cap, "%s%se%d", sign, digits, (int)d.exp);
    return w > 0 && (size_t)w < cap ? (size_t)w : 0;
}

double
fhir_search_dec_double(struct fhir_search_dec d)
{
    return (double)d.mant * pow(10.0, (double)d.exp);
}

void
sp_dec_precision_range(struct fhir_search_dec v, struct fhir_search_dec *low,
                       struct fhir_search_dec *high)
{
    low->mant = v.mant * 10 - 5;
    low->exp = v.exp - 1;
    high->mant = v.mant * 10 + 5;
    high->exp = v.exp - 1;
}

void
sp_dec_approx_range(struct fhir_search_dec v, struct fhir_search_dec *low,
                    struct fhir_search_dec *high)
{
    int64_t mag = v.mant < 0 ? -v.mant : v.mant;

    low->mant = v.mant * 10 - mag;
    low->exp = v.exp - 1;
    high->mant = v.mant * 10 + mag;
    high->exp = v.exp - 1;
}
