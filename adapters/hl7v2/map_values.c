/*
 * Values: v2 TS/DTM/DT -> FHIR date/dateTime/instant, NM -> decimal text,
 * units -> UCUM, quantities.
 */
#include <string.h>

#include "adapters/hl7v2/map_int.h"

/* ------------------------------------------------------------- date/time -- */

struct dtm {
    int year, mon, day, hour, min, sec; /* -1 when absent */
    struct base_str frac;               /* digits after the point */
    int tzsign;                         /* 0 = no offset */
    int tzh, tzm;
};

static int
digits(const char *p, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static bool
valid_day(int y, int m, int d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (d < 1 || d > mdays[m - 1])
        return false;
    return !(m == 2 && d == 29 && !leap);
}

static bool
parse_tz(struct base_str s, struct dtm *t)
{
    if (s.len == 0)
        return true;
    if (s.len != 5 || (s.ptr[0] != '+' && s.ptr[0] != '-'))
        return false;
    t->tzsign = s.ptr[0] == '+' ? 1 : -1;
    t->tzh = digits(s.ptr + 1, 2);
    t->tzm = digits(s.ptr + 3, 2);
    /* FHIR: offsets -14:00..+14:00 (regex allows hours 00-14) */
    return t->tzh >= 0 && t->tzm >= 0 && t->tzm < 60 &&
           (t->tzh < 14 || (t->tzh == 14 && t->tzm == 0));
}

/* YYYY[MM[DD[HH[MM[SS[.S{1,4}]]]]]][+/-ZZZZ].  Old senders append
 * hundredths without the point (16 digits): read as a fraction; so are 18
 * digits, unless their last four are an offset without its sign. */
static bool
parse_dtm(struct base_str s, struct dtm *t)
{
    size_t n = 0;
    int *fields[6] = {&t->year, &t->mon, &t->day, &t->hour, &t->min, &t->sec};
    static const size_t width[6] = {4, 2, 2, 2, 2, 2};

    memset(t, 0, sizeof(*t));
    t->mon = t->day = t->hour = t->min = t->sec = -1;
    while (n < s.len && s.ptr[n] >= '0' && s.ptr[n] <= '9')
        n++;
    if (n < 4 || n % 2 != 0 || n > 18)
        return false;
    for (size_t i = 0, off = 0; i < 6 && off < n && off < 14; off += width[i], i++)
        *fields[i] = digits(s.ptr + off, width[i]);
    /* "…SS0700" (a California IIS writes MSH-7 so): an offset that lost its
     * sign, not ten-thousandths; read as a fraction the time was off by the
     * offset and the default zone.  Which sign is unknowable: invalid. */
    if (n == 18 && digits(s.ptr + 14, 2) <= 14 && digits(s.ptr + 16, 2) % 15 == 0)
        return false;
    if (n > 14)
        t->frac = base_str_make(s.ptr + 14, n - 14);
    if (n == 14 && n < s.len && s.ptr[n] == '.') {
        size_t f = ++n;

        while (n < s.len && s.ptr[n] >= '0' && s.ptr[n] <= '9')
            n++;
        if (n == f || n - f > 4)
            return false;
        t->frac = base_str_make(s.ptr + f, n - f);
    }
    if (!parse_tz(base_str_sub(s, n, s.len - n), t))
        return false;
    if (t->year < 1 || (t->mon != -1 && (t->mon < 1 || t->mon > 12)))
        return false;
    if (t->day != -1 && !valid_day(t->year, t->mon, t->day))
        return false;
    return t->hour <= 23 && t->min <= 59 && t->sec <= 59;
}

static char *
put2(char *o, int v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

/* Hand-formatted: this runs for every date in every message. */
static struct base_str
format_dtm(struct mctx *c, const struct dtm *t, bool with_time)
{
    char buf[64];
    char *o = buf;

    o = put2(o, t->year / 100);
    o = put2(o, t->year % 100);
    if (t->mon > 0) {
        *o++ = '-';
        o = put2(o, t->mon);
    }
    if (t->day > 0) {
        *o++ = '-';
        o = put2(o, t->day);
    }
    if (with_time) {
        *o++ = 'T';
        o = put2(o, t->hour < 0 ? 0 : t->hour);
        *o++ = ':';
        o = put2(o, t->min < 0 ? 0 : t->min);
        *o++ = ':';
        o = put2(o, t->sec < 0 ? 0 : t->sec);
        if (t->frac.len > 0) {
            *o++ = '.';
            memcpy(o, t->frac.ptr, t->frac.len);
            o += t->frac.len;
        }
        if (t->tzsign != 0) {
            *o++ = t->tzsign > 0 ? '+' : '-';
            o = put2(o, t->tzh);
            *o++ = ':';
            o = put2(o, t->tzm);
        } else {
            size_t n = c->tz.len < 8 ? c->tz.len : 8;

            memcpy(o, c->tz.ptr, n);
            o += n;
        }
    }
    {
        struct base_str s = base_str_make(buf, (size_t)(o - buf));

        return map_concat(c, &s, 1);
    }
}

static bool
is_digits(struct base_str s, size_t off, size_t n)
{
    return off + n <= s.len && digits(s.ptr + off, n) >= 0;
}

/* HIS exports that build messages from database columns often write dates
 * the ISO 8601 / SQL way: "1990-03-07", "2024-11-05 08:30:15",
 * "2024/11/05T08:30:15.5+08:00".  Unambiguous, so read as the v2 DTM they
 * stand for ("19900307", "20241105083015", …); anything else is returned
 * unchanged for the v2 parser to judge. */
static struct base_str
iso_to_dtm(struct mctx *c, struct base_str s)
{
    char buf[40];
    size_t n = 0;
    size_t i = 10;
    char sep;

    /* ISO 8601 basic format, "19500131T143414" (DICOM gateways such as
     * dcm4che's test data): the DTM with a 'T' between date and time */
    if (s.len >= 13 && s.len <= 32 && s.ptr[8] == 'T' && is_digits(s, 0, 8) && is_digits(s, 9, 4)) {
        struct base_str parts[2] = {base_str_make(s.ptr, 8), base_str_sub(s, 9, s.len - 9)};

        return map_concat(c, parts, 2);
    }
    if (s.len < 10 || s.len > 32 || (s.ptr[4] != '-' && s.ptr[4] != '/') || s.ptr[7] != s.ptr[4] ||
        !is_digits(s, 0, 4) || !is_digits(s, 5, 2) || !is_digits(s, 8, 2))
        return s;
    sep = s.ptr[4];
    memcpy(buf, s.ptr, 4);
    memcpy(buf + 4, s.ptr + 5, 2);
    memcpy(buf + 6, s.ptr + 8, 2);
    n = 8;
    if (i < s.len && (s.ptr[i] == ' ' || s.ptr[i] == 'T') && is_digits(s, i + 1, 2) &&
        i + 3 < s.len && s.ptr[i + 3] == ':' && is_digits(s, i + 4, 2)) {
        memcpy(buf + n, s.ptr + i + 1, 2);
        memcpy(buf + n + 2, s.ptr + i + 4, 2);
        n += 4;
        i += 6;
        if (i < s.len && s.ptr[i] == ':' && is_digits(s, i + 1, 2)) {
            memcpy(buf + n, s.ptr + i + 1, 2);
            n += 2;
            i += 3;
        }
    }
    /* the rest: ".fff" and an offset "+08:00" / "+0800" */
    for (; i < s.len && n + 1 < sizeof(buf); i++) {
        if (s.ptr[i] == ':' && n >= 3 && (buf[n - 3] == '+' || buf[n - 3] == '-'))
            continue;
        if (s.ptr[i] == sep && sep == '/')
            return s;
        buf[n++] = s.ptr[i];
    }
    {
        struct base_str out = base_str_make(buf, n);

        return map_concat(c, &out, 1);
    }
}

/* HIS exports built from SQL Server columns write the type's default,
 * 1900-01-01 00:00 (or its minimum, 1753-01-01), where the column is empty
 * ("PV1-45 19000101000000" on an admission).  Taken as a date it would
 * close the visit a century before it began. */
static bool
null_date(struct base_str dtm)
{
    if (dtm.len < 8 || (memcmp(dtm.ptr, "19000101", 8) != 0 && memcmp(dtm.ptr, "17530101", 8) != 0))
        return false;
    for (size_t i = 8; i < dtm.len && dtm.ptr[i] != '+' && dtm.ptr[i] != '-'; i++) {
        if (dtm.ptr[i] != '0' && dtm.ptr[i] != '.')
            return false;
    }
    return true;
}

struct base_str
map_ts(struct mctx *c, const struct at *at, struct base_str text, enum ts_kind kind)
{
    struct dtm t;

    if (text.len == 0)
        return BASE_STR_NULL;
    text = iso_to_dtm(c, text);
    if (null_date(text)) {
        map_warn(c, at, "date/time is a database placeholder for none; omitted");
        return BASE_STR_NULL;
    }
    if (!parse_dtm(text, &t)) {
        map_warn(c, at, "not a valid HL7 date/time; omitted");
        return BASE_STR_NULL;
    }
    if (kind == TS_DATE || (kind == TS_DATETIME && t.hour < 0))
        return format_dtm(c, &t, false);
    if (t.day < 0)
        return BASE_STR_NULL; /* an instant needs at least a full date */
    /* FHIR dateTime with a time needs seconds and an offset: pad both */
    return format_dtm(c, &t, true);
}

/*
 * The offset MSH-7 carries ("+HH:MM"), empty when it has none or is not a
 * valid date/time.  v2 (2.A "TS"/"DTM"): a time without an offset is in the
 * sender's local zone, and MSH-7 is where the sender states that zone; a
 * configured default only stands in for a sender that does not say.
 */
struct base_str
map_sender_tz(struct mctx *c, struct base_str msh7)
{
    struct dtm t;
    char buf[6];

    if (msh7.len == 0 || !parse_dtm(iso_to_dtm(c, msh7), &t) || t.tzsign == 0)
        return BASE_STR_NULL;
    buf[0] = t.tzsign > 0 ? '+' : '-';
    put2(buf + 1, t.tzh);
    buf[3] = ':';
    put2(buf + 4, t.tzm);
    {
        struct base_str s = base_str_make(buf, sizeof(buf));

        return map_concat(c, &s, 1);
    }
}

/* ------------------------------------------------------------------ NM -- */

struct base_str
map_decimal(struct mctx *c, struct base_str s)
{
    size_t i = 0;
    size_t a, b, d, e;
    size_t x = 0; /* where the exponent's digits start; 0 = no exponent */
    bool neg = false;
    bool point = false;
    bool xneg = false;

    s = base_str_trim(s);
    if (s.len > 0 && (s.ptr[0] == '+' || s.ptr[0] == '-')) {
        neg = s.ptr[0] == '-';
        i = 1;
    }
    for (a = i; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++)
        ;
    b = i;
    if (i < s.len && s.ptr[i] == '.') {
        point = true;
        i++;
    }
    for (d = i; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++)
        ;
    e = i;
    if (i + 1 < s.len && (s.ptr[i] == 'E' || s.ptr[i] == 'e') && e > a + point) {
        /* analysers print "1.2E3" under NM (v2 NM has no exponent, FHIR
         * decimal and JSON numbers do): the same value, not text */
        i++;
        if (s.ptr[i] == '+' || s.ptr[i] == '-')
            xneg = s.ptr[i++] == '-';
        for (x = i; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++)
            ;
        if (x == i || i - x > 3)
            return BASE_STR_NULL;
    }
    if (i != s.len || (a == b && d == e))
        return BASE_STR_NULL;
    /* already a JSON number: keep the text exactly (1.50 stays 1.50) */
    if (x == 0 && s.ptr[0] != '+' && b > a && !(s.ptr[a] == '0' && b - a > 1) && (!point || e > d))
        return s;
    if (x > 0) {
        while (x + 1 < s.len && s.ptr[x] == '0')
            x++;
        while (a + 1 < b && s.ptr[a] == '0')
            a++;
        return hl7v2_j_fmt(&c->jb, "%s%.*s%s%.*sE%s%.*s", neg ? "-" : "", a < b ? (int)(b - a) : 1,
                           a < b ? s.ptr + a : "0", e > d ? "." : "", (int)(e - d), s.ptr + d,
                           xneg ? "-" : "", (int)(s.len - x), s.ptr + x);
    }
    /* v2 NM also allows "+5", "007", ".5" and "5.": same value, JSON spelling */
    while (a + 1 < b && s.ptr[a] == '0')
        a++;
    return hl7v2_j_fmt(&c->jb, "%s%.*s%s%.*s", neg ? "-" : "", a < b ? (int)(b - a) : 1,
                       a < b ? s.ptr + a : "0", e > d ? "." : "", (int)(e - d), s.ptr + d);
}

/* ---------------------------------------------------------------- units -- */

struct unit {
    const char *v2;
    const char *ucum;
};

/* Spellings seen from LIS (including Chinese analysers) -> UCUM. */
static const struct unit units[] = {
    {"%", "%"},
    {"g/dL", "g/dL"},
    {"g/dl", "g/dL"},
    {"mg/dL", "mg/dL"},
    {"mg/dl", "mg/dL"},
    {"ng/dL", "ng/dL"},
    {"ug/dL", "ug/dL"},
    {"g/L", "g/L"},
    {"g/l", "g/L"},
    {"mg/L", "mg/L"},
    {"mg/l", "mg/L"},
    {"ug/L", "ug/L"},
    {"ng/mL", "ng/mL"},
    {"ng/ml", "ng/mL"},
    {"pg/mL", "pg/mL"},
    {"pg/ml", "pg/mL"},
    {"ug/mL", "ug/mL"},
    {"mmol/L", "mmol/L"},
    {"mmol/l", "mmol/L"},
    {"umol/L", "umol/L"},
    {"umol/l", "umol/L"},
    {"\xC2\xB5mol/L", "umol/L"}, /* micro sign */
    {"\xCE\xBCmol/L", "umol/L"}, /* Greek mu */
    {"nmol/L", "nmol/L"},
    {"pmol/L", "pmol/L"},
    {"mEq/L", "meq/L"},
    {"meq/L", "meq/L"},
    {"mEq/l", "meq/L"},
    {"U/L", "U/L"},
    {"u/L", "U/L"},
    {"IU/L", "[IU]/L"},
    {"IU/mL", "[IU]/mL"},
    {"mIU/mL", "m[IU]/mL"},
    {"uIU/mL", "u[IU]/mL"},
    {"fL", "fL"},
    {"fl", "fL"},
    {"pg", "pg"},
    {"mg", "mg"},
    {"ug", "ug"},
    {"g", "g"},
    {"grams", "g"},
    {"kg", "kg"},
    {"mL", "mL"},
    {"ml", "mL"},
    {"ML", "mL"}, /* UCUM case-insensitive form, IIS dose units 'ML^ML^ISO+' */
    {"L", "L"},
    {"cm", "cm"},
    {"mm", "mm"},
    {"m", "m"},
    {"kg/m2", "kg/m2"},
    {"mL/min", "mL/min"},
    {"mL/min/1.73m2", "mL/min/{1.73_m2}"},
    {"mL/min/1.73m^2", "mL/min/{1.73_m2}"}, /* Australian pathology, '^' sent as \S\ */
    {"mL/min/1.73 m2", "mL/min/{1.73_m2}"},
    {"mm[Hg]", "mm[Hg]"},
    {"mmHg", "mm[Hg]"},
    {"mm Hg", "mm[Hg]"},
    {"/min", "/min"},
    {"bpm", "/min"},
    {"beats/min", "/min"},
    {"Cel", "Cel"},
    {"degC", "Cel"},
    {"\xC2\xB0"
     "C",
     "Cel"},
    {"[degF]", "[degF]"},
    {"degF", "[degF]"},
    {"\xC2\xB0"
     "F",
     "[degF]"},
    {"10*3/uL", "10*3/uL"},
    {"10^3/uL", "10*3/uL"},
    {"10E3/uL", "10*3/uL"},
    {"x10E3/uL", "10*3/uL"},
    {"K/uL", "10*3/uL"},
    {"thou/uL", "10*3/uL"},
    {"10*6/uL", "10*6/uL"},
    {"10^6/uL", "10*6/uL"},
    {"x10E6/uL", "10*6/uL"},
    {"M/uL", "10*6/uL"},
    {"mill/uL", "10*6/uL"},
    {"10*9/L", "10*9/L"},
    {"10^9/L", "10*9/L"},
    {"x10E9/L", "10*9/L"},
    {"x10^9/L", "10*9/L"}, /* Australian and British pathology */
    {"\xC3\x97"
     "10^9/L",
     "10*9/L"},
    {"10*12/L", "10*12/L"},
    {"10^12/L", "10*12/L"},
    {"x10E12/L", "10*12/L"},
    {"x10^12/L", "10*12/L"},
    {"\xC3\x97"
     "10^12/L",
     "10*12/L"},
    {"/uL", "/uL"},
    {"cells/uL", "/uL"},
    {"/HPF", "/[HPF]"},
    {"/LPF", "/[LPF]"},
    {"mm/h", "mm/h"},
    {"mm/hr", "mm/h"},
    {"s", "s"},
    {"sec", "s"},
    {"seconds", "s"},
    {"min", "min"},
    {"h", "h"},
    {"hr", "h"},
    {"d", "d"},
    {"wk", "wk"},
    {"mo", "mo"},
    {"a", "a"},
    {"yr", "a"},
    {"mOsm/kg", "mosm/kg"},
    {"[pH]", "[pH]"},
    {"pH", "[pH]"},
    {"ratio", "{ratio}"},
    {"L/L", "L/L"},
    {"mmol/mol", "mmol/mol"},
    {"U/mL", "U/mL"},
    {"U/ml", "U/mL"},
    {"kU/L", "kU/L"},
    {"KU/L", "kU/L"},
    {"IU/ml", "[IU]/mL"},
    {"mIU/ml", "m[IU]/mL"},
    {"uIU/ml", "u[IU]/mL"},
    {"\xCE\xBCIU/mL", "u[IU]/mL"}, /* Greek mu */
    {"ng/L", "ng/L"},
    {"\xCE\xBCg/L", "ug/L"}, /* Greek mu, as Chinese LIS print it */
    {"\xC2\xB5g/L", "ug/L"}, /* micro sign */
    {"\xCE\xBCg/mL", "ug/mL"},
    {"\xCE\xBCmol/l", "umol/L"},
    {"\xCE\xBCL", "uL"},
    {"uL", "uL"},
    {"/\xCE\xBCL", "/uL"},
    {"/\xC2\xB5L", "/uL"},
    {"/ul", "/uL"},
    {"mL/min/1.73 sq.m.", "mL/min/{1.73_m2}"},
    {"mL/min/1.73m\xC2\xB2", "mL/min/{1.73_m2}"}, /* superscript two */
    {"mg/24h", "mg/(24.h)"},
    {"g/24h", "g/(24.h)"},
    {"\xE7\xA7\x92", "s"},             /* 秒 (seconds, coagulation times) */
    {"\xE4\xB8\xAA/\xCE\xBCL", "/uL"}, /* 个/μL (cells per microlitre, urine) */
    {"\xE4\xB8\xAA/uL", "/uL"},
    {"\xE4\xB8\xAA/ul", "/uL"},
    {"\xE4\xB8\xAA/HP", "/[HPF]"}, /* 个/HP (per high-power field) */
    {"/HP", "/[HPF]"},
    {"\xE6\xAC\xA1/\xE5\x88\x86", "/min"}, /* 次/分 (per minute) */
};

/* A unit that is only a UCUM annotation ("{Ratio}", "{cells}": newborn
 * screening and ELR feeds) is a valid UCUM code as written: curly braces
 * around ASCII 33-126 other than braces (UCUM 2.1 section 12). */
static bool
ucum_annotation(struct base_str u)
{
    if (u.len < 3 || u.ptr[0] != '{' || u.ptr[u.len - 1] != '}')
        return false;
    for (size_t i = 1; i + 1 < u.len; i++) {
        unsigned char ch = (unsigned char)u.ptr[i];

        if (ch < 33 || ch > 126 || ch == '{' || ch == '}')
            return false;
    }
    return true;
}

/* Letters, all of them upper case ("MG", "MMOL/L"): how upper-case lab
 * systems print units. */
static bool
upper_case_unit(struct base_str u)
{
    bool upper = false;

    for (size_t i = 0; i < u.len; i++) {
        if (u.ptr[i] >= 'a' && u.ptr[i] <= 'z')
            return false;
        upper |= u.ptr[i] >= 'A' && u.ptr[i] <= 'Z';
    }
    return upper;
}

struct base_str
map_ucum(struct base_str unit)
{
    unit = base_str_trim(unit);
    for (size_t i = 0; i < BASE_ARRAY_LEN(units); i++) {
        if (map_is(unit, units[i].v2))
            return base_str_from_cstr(units[i].ucum);
    }
    if (ucum_annotation(unit))
        return unit;
    /* upper-case lab systems ('MG', 'MMOL/L', 'G/DL'): UCUM's case-insensitive
     * forms of the same units.  Not for one-letter units and 'mo', whose
     * upper case is another unit (A ampere, not a year) */
    if (unit.len >= 2 && upper_case_unit(unit)) {
        char first = (char)(unit.ptr[0] | 0x20);

        for (size_t i = 0; i < BASE_ARRAY_LEN(units); i++) {
            if ((units[i].v2[0] | 0x20) == first && units[i].v2[1] != '\0' &&
                strcmp(units[i].v2, "mo") != 0 && base_str_case_eq_cstr(unit, units[i].v2))
                return base_str_from_cstr(units[i].ucum);
        }
    }
    return BASE_STR_NULL;
}

/* Chinese LIS write cell counts as "10^9/L" without escaping the '^'
 * (\S\), so the unit arrives as component 1 "10" and component 2 "9/L".
 * Recognised only in that exact shape: a power of ten, a text starting
 * with the exponent, and nothing after. */
static bool
power_of_ten_unit(struct mctx *c, const struct at *at, struct base_str rep, struct base_str id,
                  struct base_str text, struct base_str sys)
{
    /* also behind the multiplication sign: "×10^9/L", "x10^12/L" (the unit
     * came out as "9/L", a wrong unit, before) */
    if (!(map_is(id, "10") || map_is(id, "x10") || map_is(id, "X10") || map_is(id, "*10") ||
          map_is(id, "\xC3\x97"
                     "10")) ||
        sys.len > 0 || text.len < 2 || text.ptr[0] < '1' || text.ptr[0] > '9' ||
        map_txt(c, at, rep, 4, 0).len > 0)
        return false;
    for (size_t i = 0; i < text.len; i++) {
        if (text.ptr[i] == '/')
            return i > 0 && i <= 2;
        if (text.ptr[i] < '0' || text.ptr[i] > '9')
            return false;
    }
    return false;
}

struct hl7v2_j *
map_quantity(struct mctx *c, struct base_str value, const struct at *unit_at,
             struct base_str unit_rep)
{
    struct hl7v2_j *q = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct base_str id = map_txt(c, unit_at, unit_rep, 1, 0);
    struct base_str text = map_txt(c, unit_at, unit_rep, 2, 0);
    struct base_str sys = map_txt(c, unit_at, unit_rep, 3, 0);
    struct base_str ucum;

    value = map_decimal(c, value); /* idempotent; no caller can write a bad number literal */
    if (value.len == 0)
        return q;
    if (power_of_ten_unit(c, unit_at, unit_rep, id, text, sys)) {
        /* "10^9/L" sent unescaped: the '^' split the unit in two */
        struct base_str parts[3] = {id, BASE_STR_LIT("^"), text};

        id = map_concat(c, parts, 3);
        text = id;
    }
    hl7v2_j_num(&c->jb, q, "value", value);
    if (base_str_case_eq_cstr(sys, "UCUM") && id.len > 0)
        ucum = id;
    else if ((ucum = map_ucum(id)).len == 0)
        ucum = map_ucum(text);
    hl7v2_j_str(&c->jb, q, "unit", text.len > 0 ? text : id);
    if (ucum.len > 0) {
        hl7v2_j_cstr(&c->jb, q, "system", "http://unitsofmeasure.org");
        hl7v2_j_str(&c->jb, q, "code", ucum);
    }
    return q;
}
