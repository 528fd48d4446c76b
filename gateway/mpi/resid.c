/*
 * gateway/mpi/resid.c — resident identity numbers (公民身份号码), GB 11643-1999.
 *
 * Structure (GB 11643-1999 §4): 6-digit address code (GB/T 2260), 8-digit
 * birth date YYYYMMDD, 3-digit sequence code (odd for men, even for women),
 * 1 check character computed with ISO 7064:1983 MOD 11-2 over the first 17
 * digits.  Only the province-level part of the address code is checked: a
 * number keeps the county code it was issued under even after that county
 * is renamed or abolished, so a current GB/T 2260 table would reject valid
 * numbers, and the province list has been stable since 1997 (Chongqing).
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "gateway/mpi/gw_mpi.h"

#define WHERE "resident-id"

/* GB/T 2260 province-level codes: 11-15, 21-23, 31-37, 41-46, 50-54, 61-65,
 * 71 (Taiwan), 81 (Hong Kong), 82 (Macao); 83 is the code that the 2018
 * residence permits for Taiwan residents use (830000). */
static bool
province_ok(unsigned p)
{
    return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
           (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
           p == 81 || p == 82 || p == 83;
}

char
gw_mpi_resid_check_char(const char *d17)
{
    /* ISO 7064 MOD 11-2: weight of position i (1-based from the left, 18
     * positions) is 2^(18-i) mod 11; the check value makes the weighted sum
     * including it congruent to 1 mod 11. */
    static const int weight[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char map[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
    int sum = 0;

    for (int i = 0; i < 17; i++) {
        if (d17[i] < '0' || d17[i] > '9')
            return 0;
        sum += (d17[i] - '0') * weight[i];
    }
    return map[sum % 11];
}

static bool
leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m < 1 || m > 12)
        return 0;
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

static int
today_utc(void)
{
    time_t now = time(NULL);
    struct tm tm;

    if (gmtime_r(&now, &tm) == NULL)
        return 99991231;
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/*
 * Copy the characters of `s` into out (up to 18), dropping ASCII spaces and
 * hyphens and mapping full-width digits (U+FF10-FF19) and X (U+FF38/FF58).
 * Returns the count, or -1 on any other character or when too long.
 */
static int
squeeze(const char *s, size_t len, char out[19])
{
    int n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char put;

        if (c == ' ' || c == '-' || c == '\t')
            continue;
        if (c == 0xEF && i + 2 < len && (unsigned char)s[i + 1] == 0xBC &&
            (unsigned char)s[i + 2] >= 0x90 && (unsigned char)s[i + 2] <= 0x99) {
            put = (char)('0' + ((unsigned char)s[i + 2] - 0x90));
            i += 2;
        } else if (c == 0xEF && i + 2 < len &&
                   (((unsigned char)s[i + 1] == 0xBC && (unsigned char)s[i + 2] == 0xB8) ||
                    ((unsigned char)s[i + 1] == 0xBD && (unsigned char)s[i + 2] == 0x98))) {
            put = 'X';
            i += 2;
        } else if (c >= '0' && c <= '9') {
            put = (char)c;
        } else if (c == 'x' || c == 'X') {
            put = 'X';
        } else {
            return -1;
        }
        if (n == 18)
            return -1;
        out[n++] = put;
    }
    out[n] = '\0';
    return n;
}

static int
digits_value(const char *p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

static bool
all_digits(const char *p, int n)
{
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
    }
    return true;
}

/* Widen the 15-digit first-generation number: region(6) YYMMDD(6) seq(3)
 * -> region(6) 19YYMMDD(8) seq(3) check(1) (GB 11643-1999 appendix; first-
 * generation numbers were only issued to people born in the 1900s). */
static void
widen_15(const char in[19], char out[19])
{
    memcpy(out, in, 6);
    out[6] = '1';
    out[7] = '9';
    memcpy(out + 8, in + 6, 9);
    out[17] = gw_mpi_resid_check_char(out);
    out[18] = '\0';
}

static int
check_region(const char *num, struct gw_mpi_resid *out, struct base_err *err)
{
    unsigned p = (unsigned)digits_value(num, 2);

    out->region = (unsigned)digits_value(num, 6);
    if (num[0] == '9') {
        /* Foreigner's permanent residence ID card (2023 edition): "9", the
         * province code of the issuing office, a 3-digit nationality code,
         * then birth date, sequence and MOD 11-2 check like GB 11643. */
        ENSURE(province_ok((unsigned)digits_value(num + 1, 2)), err, BASE_E_INVALID, "value", WHERE,
               "unknown province code");
        out->kind = GW_MPI_RESID_FOREIGN_PR;
        return BASE_OK;
    }
    ENSURE(province_ok(p), err, BASE_E_INVALID, "value", WHERE, "unknown province code");
    out->kind = p >= 81 ? GW_MPI_RESID_PERMIT : GW_MPI_RESID_CITIZEN;
    return BASE_OK;
}

static int
check_birth(const char *num, int today, struct gw_mpi_resid *out, struct base_err *err)
{
    int y = digits_value(num + 6, 4);
    int m = digits_value(num + 10, 2);
    int d = digits_value(num + 12, 2);

    /* 1850: nobody alive or recently treated was born earlier; the standard
     * itself sets no lower bound. */
    ENSURE(y >= 1850 && d >= 1 && d <= days_in_month(y, m), err, BASE_E_INVALID, "value", WHERE,
           "birth date does not exist");
    ENSURE(y * 10000 + m * 100 + d <= (today > 0 ? today : today_utc()), err, BASE_E_INVALID,
           "value", WHERE, "birth date is in the future");
    out->birth_year = y;
    out->birth_month = m;
    out->birth_day = d;
    return BASE_OK;
}

int
gw_mpi_resid_parse(const char *s, size_t len, int today, struct gw_mpi_resid *out,
                   struct base_err *err)
{
    char raw[19];
    struct gw_mpi_resid r;
    int n;

    memset(&r, 0, sizeof(r));
    ENSURE(s != NULL && len <= 64, err, BASE_E_INVALID, "value", WHERE, "wrong length");
    n = squeeze(s, len, raw);
    ENSURE(n >= 0, err, BASE_E_INVALID, "value", WHERE, "unexpected character");
    ENSURE(n == 18 || n == 15, err, BASE_E_INVALID, "value", WHERE, "wrong length");
    if (n == 15) {
        ENSURE(all_digits(raw, 15), err, BASE_E_INVALID, "value", WHERE, "unexpected character");
        widen_15(raw, r.number);
        r.from_15 = true;
    } else {
        ENSURE(all_digits(raw, 17), err, BASE_E_INVALID, "value", WHERE, "unexpected character");
        memcpy(r.number, raw, 19);
    }
    TRY(check_region(r.number, &r, err));
    TRY(check_birth(r.number, today, &r, err));
    ENSURE(gw_mpi_resid_check_char(r.number) == r.number[17], err, BASE_E_INVALID, "value", WHERE,
           "check character does not match");
    r.sex = ((r.number[16] - '0') % 2 == 1) ? GW_MPI_SEX_MALE : GW_MPI_SEX_FEMALE;
    *out = r;
    return BASE_OK;
}
