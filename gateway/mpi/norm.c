/*
 * gateway/mpi/norm.c — normalization of names, phones, dates and gender.
 *
 * Names go through ICU (translit.c): full-width to half-width, traditional
 * to simplified, then Han-Latin/Names for pinyin.  The result is two keys a
 * comparison can use: the Han characters ("张三") and the pinyin
 * ("zhangsan"); a romanized name ("ZHANG San", "Zhāng Sān") only has the
 * second.  Middle dots of minority and foreign names (阿依古丽·买买提) and
 * every kind of space are removed.
 */
#include <ctype.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/utf16.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "gateway/mpi/mpi_int.h"

/* Separators inside names: middle dots used for transcribed names
 * (U+00B7, U+2022, U+2027, U+30FB, U+FF65, U+FE52), hyphens, apostrophes,
 * periods and commas ("ZHANG, San"). */
static bool
is_name_separator(UChar32 c)
{
    return c == 0x00B7 || c == 0x2022 || c == 0x2027 || c == 0x30FB || c == 0xFF65 || c == 0xFE52 ||
           c == '-' || c == '\'' || c == '.' || c == ',' || c == 0x2010 || c == 0x2011 ||
           c == 0xFF0C || c == 0x3001;
}

/* Keep the Han characters of a simplified UTF-16 name. */
static char *
han_only(struct base_arena *a, const UChar *s, int32_t n)
{
    UChar *keep = base_arena_alloc(a, ((size_t)n + 1) * sizeof(UChar));
    int32_t k = 0;

    if (keep == NULL)
        return NULL;
    for (int32_t i = 0; i < n;) {
        UChar32 c;

        U16_NEXT(s, i, n, c);
        if (mpi_is_han(c))
            U16_APPEND_UNSAFE(keep, k, c);
    }
    return mpi_u16_to_utf8(a, keep, k);
}

/* Letters of a transliterated name: [a-z] runs separated by one space.
 * Writes the syllable form ("zhang san") and the joined form ("zhangsan"). */
static int
letters(struct base_arena *a, const UChar *s, int32_t n, const char **syl, const char **joined,
        struct base_err *err)
{
    char *sy = base_arena_alloc(a, (size_t)n + 1);
    char *jo = base_arena_alloc(a, (size_t)n + 1);
    size_t ns = 0;
    size_t nj = 0;
    bool gap = false;

    ENSURE(sy != NULL && jo != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    for (int32_t i = 0; i < n; i++) {
        UChar c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (UChar)(c - 'A' + 'a');
        if (c >= 'a' && c <= 'z') {
            if (gap && ns > 0)
                sy[ns++] = ' ';
            gap = false;
            sy[ns++] = (char)c;
            jo[nj++] = (char)c;
        } else if (!(c >= '0' && c <= '9')) {
            /* tone numbers ("zhang1") vanish; anything else separates */
            gap = true;
        }
    }
    sy[ns] = '\0';
    jo[nj] = '\0';
    *syl = sy;
    *joined = jo;
    return BASE_OK;
}

/* Replace separators by spaces so Han-Latin sees word boundaries. */
static void
blank_separators(UChar *s, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        if (is_name_separator(s[i]) || u_isUWhiteSpace(s[i]))
            s[i] = ' ';
    }
}

int
gw_mpi_norm_name(struct base_arena *a, const char *s, size_t len, const char **han, const char **py,
                 const char **syllables, struct base_err *err)
{
    UChar *u = NULL;
    UChar *simp = NULL;
    UChar *lat = NULL;
    int32_t n = 0;
    int32_t ns = 0;
    int32_t nl = 0;

    ENSURE(len <= GW_MPI_LIMIT_NAME, err, BASE_E_LIMIT, "too-long", "name", "name too long");
    TRY(mpi_utf8_to_u16(a, s, len, &u, &n, err));
    TRY(mpi_translit(a, MPI_TR_SIMPLIFY, u, n, &simp, &ns, err));
    blank_separators(simp, ns);
    *han = han_only(a, simp, ns);
    ENSURE(*han != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    /* Han-Latin for Han text; Any-Latin also covers Cyrillic and other
     * scripts of transcribed foreign names. */
    TRY(mpi_translit(a, (*han)[0] != '\0' ? MPI_TR_PINYIN : MPI_TR_LATIN, simp, ns, &lat, &nl,
                     err));
    return letters(a, lat, nl, syllables, py, err);
}

int
mpi_norm_text(struct base_arena *a, const char *s, size_t len, const char **out,
              struct base_err *err)
{
    UChar *u = NULL;
    UChar *simp = NULL;
    int32_t n = 0;
    int32_t ns = 0;
    int32_t k = 0;

    TRY(mpi_utf8_to_u16(a, s, len, &u, &n, err));
    TRY(mpi_translit(a, MPI_TR_SIMPLIFY, u, n, &simp, &ns, err));
    for (int32_t i = 0; i < ns; i++) {
        if (!u_isUWhiteSpace(simp[i]) && simp[i] != ',' && simp[i] != 0x3001)
            simp[k++] = simp[i];
    }
    *out = mpi_u16_to_utf8(a, simp, k);
    ENSURE(*out != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    return BASE_OK;
}

/* Two-character surnames among the common compound surnames (复姓); a Han
 * name starting with one has that as its family name. */
static const char *const compound_surnames[] = {
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "澹台", "南宫", "西门", "独孤", "呼延",
    "申屠", "太史", "闻人", "公冶", "濮阳", "淳于", "单于", "赫连", "百里", "东郭", "万俟",
};

size_t
mpi_compound_surname(const char *han)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(compound_surnames); i++) {
        size_t l = strlen(compound_surnames[i]);

        if (strncmp(han, compound_surnames[i], l) == 0 && han[l] != '\0')
            return l;
    }
    return 0;
}

/* ---- phones ----------------------------------------------------------------- */

/* Cut at an extension marker: "转" (U+8F6C), "ext", "x", "#", ",", ";", "/". */
static size_t
phone_main_len(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '#' || c == ',' || c == ';' || c == '/' || c == 'x' || c == 'X' || c == 'e' ||
            c == 'E')
            return i;
        if (c == 0xE8 && i + 2 < len && (unsigned char)s[i + 1] == 0xBD &&
            (unsigned char)s[i + 2] == 0xAC)
            return i;
    }
    return len;
}

enum gw_mpi_phone_kind
gw_mpi_norm_phone(const char *s, size_t len, char out[24])
{
    char d[24];
    size_t n = 0;
    bool plus = false;
    const char *p;

    out[0] = '\0';
    if (s == NULL || len > GW_MPI_LIMIT_PHONE)
        return GW_MPI_PHONE_NONE;
    len = phone_main_len(s, len);
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (n == sizeof(d) - 1)
                return GW_MPI_PHONE_NONE;
            d[n++] = s[i];
        } else if (s[i] == '+' && n == 0) {
            plus = true;
        }
    }
    d[n] = '\0';
    p = d;
    /* International prefix: "+86", "0086", or a bare "86" before a number
     * that is complete without it.  Other countries stay as dialled. */
    if (plus && strncmp(p, "86", 2) != 0)
        goto other;
    if (strncmp(p, "0086", 4) == 0)
        p += 4;
    else if (strncmp(p, "86", 2) == 0 && (plus || strlen(p) == 13 || strlen(p) == 12))
        p += 2;
    n = strlen(p);
    if (n == 11 && p[0] == '1' && p[1] >= '3' && p[1] <= '9') {
        memcpy(out, p, 12);
        return GW_MPI_PHONE_MOBILE;
    }
    /* Landline: area code 10, 2x (2 digits) or 3 digits, subscriber 7-8
     * digits; the trunk prefix 0 is dropped after +86 and restored here. */
    if (p[0] != '0' && (plus || p != d) && n >= 9 && n <= 11) {
        out[0] = '0';
        memcpy(out + 1, p, n + 1);
        return GW_MPI_PHONE_LANDLINE;
    }
    if (p[0] == '0' && n >= 10 && n <= 12) {
        memcpy(out, p, n + 1);
        return GW_MPI_PHONE_LANDLINE;
    }
other:
    if (n < 7)
        return GW_MPI_PHONE_NONE;
    memcpy(out, d, strlen(d) + 1);
    return GW_MPI_PHONE_OTHER;
}

/* ---- dates and gender ----------------------------------------------------------- */

static bool
two_digits(const char *s, int *v)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
        return false;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

bool
gw_mpi_norm_birth_date(const char *s, size_t len, int *y, int *m, int *d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int hi = 0;
    int lo = 0;

    *y = *m = *d = 0;
    if (s == NULL || len < 4 || !two_digits(s, &hi) || !two_digits(s + 2, &lo))
        return false;
    *y = hi * 100 + lo;
    if (len >= 7 && s[4] == '-' && two_digits(s + 5, m) && *m >= 1 && *m <= 12) {
        if (len >= 10 && s[7] == '-' && two_digits(s + 8, d) && *d >= 1 && *d <= mdays[*m - 1]) {
            bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;

            if (*m == 2 && *d == 29 && !leap)
                goto bad;
            return len == 10 || s[10] == 'T';
        }
        if (len == 7)
            return true;
    } else if (len == 4) {
        return *y >= 1;
    }
bad:
    *y = *m = *d = 0;
    return false;
}

enum gw_mpi_sex
gw_mpi_norm_gender(const char *code)
{
    if (code == NULL)
        return GW_MPI_SEX_UNKNOWN;
    if (strcmp(code, "male") == 0)
        return GW_MPI_SEX_MALE;
    if (strcmp(code, "female") == 0)
        return GW_MPI_SEX_FEMALE;
    if (strcmp(code, "other") == 0)
        return GW_MPI_SEX_OTHER;
    return GW_MPI_SEX_UNKNOWN;
}

/* ---- string similarity ------------------------------------------------------------ */

double
gw_mpi_jaro_winkler(const char *a, const char *b)
{
    enum { MAXL = 64 };
    size_t la = strlen(a);
    size_t lb = strlen(b);
    bool ma[MAXL] = {0};
    bool mb[MAXL] = {0};
    size_t match = 0;
    size_t trans = 0;
    size_t prefix = 0;

    if (la == 0 || lb == 0)
        return la == lb ? 1.0 : 0.0;
    if (la > MAXL)
        la = MAXL;
    if (lb > MAXL)
        lb = MAXL;
    size_t win = (la > lb ? la : lb) / 2;
    win = win > 0 ? win - 1 : 0;
    for (size_t i = 0; i < la; i++) {
        size_t lo = i > win ? i - win : 0;
        size_t hi = i + win + 1 < lb ? i + win + 1 : lb;

        for (size_t j = lo; j < hi; j++) {
            if (!mb[j] && a[i] == b[j]) {
                ma[i] = mb[j] = true;
                match++;
                break;
            }
        }
    }
    if (match == 0)
        return 0.0;
    for (size_t i = 0, j = 0; i < la; i++) {
        if (!ma[i])
            continue;
        while (!mb[j])
            j++;
        if (a[i] != b[j])
            trans++;
        j++;
    }
    double m = (double)match;
    double jaro = (m / (double)la + m / (double)lb + (m - (double)trans / 2.0) / m) / 3.0;
    while (prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix])
        prefix++;
    return jaro + (double)prefix * 0.1 * (1.0 - jaro);
}

void
gw_mpi_pinyin_fuzzy(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    bool start = true;

    if (cap == 0)
        return;
    for (size_t i = 0; s[i] != '\0' && n + 1 < cap; i++) {
        char c = s[i];

        if (c == ' ') {
            start = true;
            continue;
        }
        /* Merges that Mandarin speakers of many regions make and that
         * fuzzy-pinyin input methods offer: zh/z ch/c sh/s, l/n, -ng/-n. */
        if ((c == 'z' || c == 'c' || c == 's') && s[i + 1] == 'h')
            i++;
        else if (c == 'n' && s[i + 1] == 'g')
            i++;
        else if (c == 'l' && start)
            c = 'n';
        out[n++] = c;
        start = false;
    }
    out[n] = '\0';
}
