/*
 * OBX -> Observation (or, for ED/RP values in results, the report's
 * presentedForm).  v2-to-FHIR guide: Segment OBX to Observation, and the
 * OBX-5 value type table (NM, SN, ST/TX/FT, CE/CWE/CNE, DT/TS/DTM, TM, CQ,
 * MO, DR, ED).
 */
#include <string.h>

#include "adapters/hl7v2/map_int.h"
#include "fhir/base/arena.h"

#define SYS_INTERP_V3 "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#define SYS_OBS_CAT   "http://terminology.hl7.org/CodeSystem/observation-category"

static const char *
obs_status(struct base_str s)
{
    /* HL7 table 0085 -> observation-status (v2-to-FHIR ConceptMap) */
    static const char *const map[][2] = {
        {"A", "amended"},     {"B", "amended"},
        {"C", "corrected"},   {"D", "entered-in-error"},
        {"F", "final"},       {"I", "registered"},
        {"N", "cancelled"},   {"O", "registered"},
        {"P", "preliminary"}, {"R", "preliminary"},
        {"S", "preliminary"}, {"U", "final"},
        {"V", "final"},       {"W", "entered-in-error"},
        {"X", "cancelled"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(map); i++) {
        if (map_is(s, map[i][0]))
            return map[i][1];
    }
    return "unknown";
}

static bool
v3_interpretation(struct base_str code)
{
    static const char *const codes[] = {
        "<",   ">",  "A",  "AA",  "AC",    "B",     "CAR", "Carrier", "D",   "DET", "E",   "EX",
        "EXP", "H",  "H>", "HH",  "HU",    "HX",    "I",   "IE",      "IND", "L",   "L<",  "LL",
        "LU",  "LX", "MS", "N",   "NCL",   "ND",    "NEG", "NR",      "NS",  "OBX", "POS", "QCF",
        "R",   "RR", "S",  "SDD", "SYN-R", "SYN-S", "TOX", "U",       "UNE", "VS",  "W",   "WR",
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(codes); i++) {
        if (map_is(code, codes[i]))
            return true;
    }
    return false;
}

static const char *
section_category(struct base_str s)
{
    static const char *const lab[] = {"LAB", "HM",  "CH", "MB",  "SR", "BLB", "CG",   "IMM", "MCB",
                                      "MYC", "PAR", "SP", "TX",  "VR", "HEM", "CHEM", "SER", "URN",
                                      "CP",  "AU",  "BG", "CUS", "EC", "HM",  "ICU"};
    static const char *const img[] = {"RAD", "CT",  "MR",  "US",  "NMR", "RX",
                                      "XRC", "NMS", "VUS", "OUS", "RUS", "CTH"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(lab); i++) {
        if (map_is(s, lab[i]))
            return "laboratory";
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(img); i++) {
        if (map_is(s, img[i]))
            return "imaging";
    }
    return NULL;
}

/* ----------------------------------------------------------------- values -- */

struct val {
    struct mctx *c;
    const struct hl7v2_seg *obx;
    struct hl7v2_j *res;
    struct at at;        /* OBX-5, its first valued repetition */
    struct base_str rep; /* that repetition, raw */
    struct at unit_at;   /* OBX-6 */
    struct base_str unit;
};

static void
comparator_quantity(struct val *v, struct base_str text)
{
    struct mctx *c = v->c;
    const char *cmp = NULL;
    struct base_str num;
    struct hl7v2_j *q;

    text = base_str_trim(text);
    if (base_str_starts_with(text, "<=") || base_str_starts_with(text, ">="))
        cmp = text.ptr[0] == '<' ? "<=" : ">=";
    else if (base_str_starts_with(text, "<") || base_str_starts_with(text, ">"))
        cmp = text.ptr[0] == '<' ? "<" : ">";
    num = cmp != NULL ? map_decimal(c, base_str_sub(text, strlen(cmp), text.len)) : BASE_STR_NULL;
    if (num.len == 0) {
        map_warn(c, &v->at, "numeric value is not a number; kept as a string");
        hl7v2_j_str(&c->jb, v->res, "valueString", text);
        return;
    }
    q = map_quantity(c, num, &v->unit_at, v->unit);
    hl7v2_j_cstr(&c->jb, q, "comparator", cmp);
    hl7v2_j_add(v->res, "valueQuantity", q);
}

/* "12,5": a decimal comma (European LIS).  Only one comma, digits around
 * it and one or two after it: "1,500" may be a thousands separator. */
static struct base_str
comma_decimal(struct mctx *c, struct base_str text)
{
    const char *comma;
    size_t at;
    size_t after;
    char *copy;

    text = base_str_trim(text);
    comma = text.len > 0 ? memchr(text.ptr, ',', text.len) : NULL;
    if (comma == NULL)
        return BASE_STR_NULL;
    at = (size_t)(comma - text.ptr);
    after = text.len - at - 1;
    if (at == 0 || after == 0 || after > 2 || memchr(comma + 1, ',', after) != NULL ||
        memchr(text.ptr, '.', text.len) != NULL)
        return BASE_STR_NULL;
    copy = base_arena_alloc(c->a, text.len);
    if (copy == NULL)
        return BASE_STR_NULL;
    memcpy(copy, text.ptr, text.len);
    copy[at] = '.';
    return map_decimal(c, base_str_make(copy, text.len));
}

static void
value_nm(struct val *v)
{
    struct base_str text = map_txt(v->c, &v->at, v->rep, 0, 0);
    struct base_str num = map_decimal(v->c, text);

    if (num.len == 0 && text.len > 0 && (num = comma_decimal(v->c, text)).len > 0)
        map_warn(v->c, &v->at, "number written with a decimal comma; read as a decimal point");
    if (num.len == 0 && text.len > 0 && memchr(v->rep.ptr, v->c->m->d.comp, v->rep.len) != NULL &&
        map_decimal(v->c, map_txt(v->c, &v->at, v->rep, 1, 0)).len == 0 &&
        (map_txt(v->c, &v->at, v->rep, 2, 0).len > 0 ||
         map_txt(v->c, &v->at, v->rep, 3, 0).len > 0)) {
        /* a coded result under NM ('POS^Positive^L'): a CWE, not text with
         * its component separators in it */
        map_warn(v->c, &v->at, "coded value (CWE) under value type NM; read as a code");
        hl7v2_j_add(v->res, "valueCodeableConcept", map_cwe(v->c, &v->at, v->rep, "OBX-5"));
        return;
    }
    if (num.len == 0 && text.len > 0) {
        comparator_quantity(v, text);
        return;
    }
    hl7v2_j_add(v->res, "valueQuantity", map_quantity(v->c, num, &v->unit_at, v->unit));
}

static void
value_sn(struct val *v)
{
    struct mctx *c = v->c;
    struct base_str cmp = map_txt(c, &v->at, v->rep, 1, 0);
    struct base_str n1 = map_decimal(c, map_txt(c, &v->at, v->rep, 2, 0));
    struct base_str sep = map_txt(c, &v->at, v->rep, 3, 0);
    struct base_str n2 = map_decimal(c, map_txt(c, &v->at, v->rep, 4, 0));
    struct hl7v2_j *q;

    /* SN written as a bare number ('OBX|1|SN|CREATININE||103.4'): the
     * comparator component is missing, the number is in SN.1 */
    if (n1.len == 0 && sep.len == 0 && n2.len == 0 && map_decimal(c, cmp).len > 0) {
        n1 = map_decimal(c, cmp);
        cmp = BASE_STR_NULL;
        map_warn(c, &v->at, "SN value without its comparator component; read as the number");
    }
    if (n1.len > 0 && n2.len > 0 && (map_is(sep, ":") || map_is(sep, "/"))) {
        struct hl7v2_j *r = hl7v2_j_obj(&c->jb, v->res, "valueRatio");

        hl7v2_j_num(&c->jb, hl7v2_j_obj(&c->jb, r, "numerator"), "value", n1);
        hl7v2_j_num(&c->jb, hl7v2_j_obj(&c->jb, r, "denominator"), "value", n2);
        return;
    }
    if (n1.len > 0 && n2.len > 0 && map_is(sep, "-")) {
        struct hl7v2_j *r = hl7v2_j_obj(&c->jb, v->res, "valueRange");

        hl7v2_j_add(r, "low", map_quantity(c, n1, &v->unit_at, v->unit));
        hl7v2_j_add(r, "high", map_quantity(c, n2, &v->unit_at, v->unit));
        return;
    }
    if (n1.len > 0 && sep.len == 0 && n2.len == 0 &&
        (cmp.len == 0 || map_is(cmp, "<") || map_is(cmp, ">") || map_is(cmp, "<=") ||
         map_is(cmp, ">=") || map_is(cmp, "="))) {
        q = map_quantity(c, n1, &v->unit_at, v->unit);
        if (cmp.len > 0 && !map_is(cmp, "="))
            hl7v2_j_str(&c->jb, q, "comparator", cmp);
        hl7v2_j_add(v->res, "valueQuantity", q);
        return;
    }
    /* "2+" (sep as suffix), "<>": no FHIR structure; keep the text */
    {
        struct base_str parts[4] = {cmp, map_txt(c, &v->at, v->rep, 2, 0), sep,
                                    map_txt(c, &v->at, v->rep, 4, 0)};

        hl7v2_j_str(&c->jb, v->res, "valueString", map_join(c, parts, 4, ""));
    }
}

static void
value_text(struct val *v)
{
    struct mctx *c = v->c;
    struct base_str parts[64];
    size_t n = 0;

    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, v->obx, 5);
         r <= nr_ && n < BASE_ARRAY_LEN(parts); r++) {
        struct at at;
        struct base_str rep = map_rep(c, v->obx, 5, r, &at);

        parts[n++] = map_txt(c, &at, rep, 0, 0);
    }
    hl7v2_j_str(&c->jb, v->res, "valueString", map_join(c, parts, n, "\n"));
}

static void
value_time(struct val *v)
{
    struct base_str t = map_txt(v->c, &v->at, v->rep, 0, 0);
    int d[3] = {0, 0, 0};
    size_t n = 0;

    while (n < t.len && n < 6 && t.ptr[n] >= '0' && t.ptr[n] <= '9')
        n++;
    if (n < 2 || n % 2 != 0) {
        map_warn(v->c, &v->at, "not a valid HL7 time; omitted");
        return;
    }
    for (size_t i = 0; i < n / 2; i++)
        d[i] = (t.ptr[2 * i] - '0') * 10 + (t.ptr[2 * i + 1] - '0');
    if (d[0] > 23 || d[1] > 59 || d[2] > 59) {
        map_warn(v->c, &v->at, "not a valid HL7 time; omitted");
        return;
    }
    hl7v2_j_str(&v->c->jb, v->res, "valueTime",
                hl7v2_j_fmt(&v->c->jb, "%02d:%02d:%02d", d[0], d[1], d[2]));
}

static void
value_other(struct val *v, struct base_str type)
{
    struct mctx *c = v->c;

    if (map_is(type, "CQ")) {
        hl7v2_j_add(v->res, "valueQuantity",
                    map_quantity(c, map_decimal(c, map_txt(c, &v->at, v->rep, 1, 0)), &v->at,
                                 hl7v2_comp(c->m, v->rep, 2)));
    } else if (map_is(type, "MO")) {
        struct hl7v2_j *q = hl7v2_j_obj(&c->jb, v->res, "valueQuantity");
        struct base_str cur = map_txt(c, &v->at, v->rep, 2, 0);

        hl7v2_j_num(&c->jb, q, "value", map_decimal(c, map_txt(c, &v->at, v->rep, 1, 0)));
        if (cur.len > 0) {
            hl7v2_j_cstr(&c->jb, q, "system", "urn:iso:std:iso:4217");
            hl7v2_j_str(&c->jb, q, "code", cur);
        }
    } else if (map_is(type, "DR")) {
        (void)map_period(c, &v->at, v->res, "valuePeriod",
                         map_ts(c, &v->at, map_txt(c, &v->at, v->rep, 1, 0), TS_DATETIME),
                         map_ts(c, &v->at, map_txt(c, &v->at, v->rep, 2, 0), TS_DATETIME));
    } else if (map_is(type, "ID") || map_is(type, "IS")) {
        struct hl7v2_j *cc = hl7v2_j_obj(&c->jb, v->res, "valueCodeableConcept");

        hl7v2_j_str(&c->jb, hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, cc, "coding"), NULL), "code",
                    map_txt(c, &v->at, v->rep, 1, 0));
    } else {
        /* XPN, XAD, CX, EI, NA, …: no FHIR counterpart in Observation.value */
        map_warn(c, &v->at, "value type has no Observation.value counterpart; kept as text");
        hl7v2_j_str(&c->jb, v->res, "valueString", map_txt(c, &v->at, v->rep, 0, 0));
    }
}

/* OBX-2 empty with a value (v2.3 feeds do it; the value type is required
 * only from v2.5 on when OBX-5 is valued): a single value that is a number,
 * optionally behind a comparator ("<0.5"), is read as NM so that it keeps
 * its quantity and unit; anything else is text. */
static bool
untyped_number(const struct val *v)
{
    struct base_str text = base_str_trim(map_txt(v->c, &v->at, v->rep, 0, 0));
    size_t skip = 0;

    if (map_nreps(v->c, v->obx, 5) != 1 || text.len == 0)
        return false;
    if (text.len > 0 && (text.ptr[0] == '<' || text.ptr[0] == '>'))
        skip = text.len > 1 && text.ptr[1] == '=' ? 2 : 1;
    return map_decimal(v->c, base_str_sub(text, skip, text.len)).len > 0;
}

/* A number sent as ST or TX with its unit in OBX-6 (vital-sign devices,
 * Thai and Chinese HIS exports): as a string the unit was lost, so it is
 * read as NM, warned. */
static bool
text_quantity(const struct val *v, struct base_str type)
{
    if (!map_is(type, "ST") && !map_is(type, "TX"))
        return false;
    if (map_txt(v->c, &v->unit_at, v->unit, 0, 0).len == 0 || !untyped_number(v))
        return false;
    map_warn(v->c, &v->at, "number sent as text with a unit (OBX-6); read as a quantity");
    return true;
}

/* Value types no table 0125 has, as LIS write them ('NUM', 'TXT'): the
 * standard type they name, warned. */
static struct base_str
value_type_alias(struct mctx *c, const struct hl7v2_seg *obx, struct base_str type)
{
    static const char *const alias[][2] = {
        {"NUM", "NM"},  {"NUMERIC", "NM"}, {"TXT", "TX"},
        {"TEXT", "TX"}, {"STR", "ST"},     {"STRING", "ST"},
    };

    if (type.len == 0 || type.len == 2 || (type.len == 3 && type.ptr[2] == 'E'))
        return type; /* the usual NM ST TX FT SN CE CWE CNE … */
    for (size_t i = 0; i < BASE_ARRAY_LEN(alias); i++) {
        if (base_str_case_eq_cstr(type, alias[i][0])) {
            struct at at = {obx, 2, 1};

            map_warn(c, &at, "value type not in table 0125; read as the type it names");
            return base_str_from_cstr(alias[i][1]);
        }
    }
    return type;
}

static bool split_range(struct base_str s, struct base_str *lo, struct base_str *hi);

/* A count given as a range under ST with a unit ('0-2' '/HP', the
 * microscopy of a Chinese urinalysis): valueRange keeps the unit the
 * text lost. */
static bool
text_range(struct val *v, struct base_str type)
{
    struct mctx *c = v->c;
    struct base_str text;
    struct base_str lo;
    struct base_str hi;
    struct hl7v2_j *r;

    if ((!map_is(type, "ST") && !map_is(type, "TX") && type.len > 0) ||
        map_txt(c, &v->unit_at, v->unit, 0, 0).len == 0)
        return false;
    text = map_txt(c, &v->at, v->rep, 0, 0);
    if (!split_range(text, &lo, &hi))
        return false;
    lo = map_decimal(c, lo);
    hi = map_decimal(c, hi);
    if (lo.len == 0 || hi.len == 0 || lo.ptr[0] == '-')
        return false;
    r = hl7v2_j_obj(&c->jb, v->res, "valueRange");
    hl7v2_j_add(r, "low", map_quantity(c, lo, &v->unit_at, v->unit));
    hl7v2_j_add(r, "high", map_quantity(c, hi, &v->unit_at, v->unit));
    return true;
}

static bool
coded(struct base_str type)
{
    return map_is(type, "CE") || map_is(type, "CWE") || map_is(type, "CNE") || map_is(type, "CF") ||
           map_is(type, "CV");
}

/* A coded value.  OBX-5 repeats when one finding has several answers (the
 * organisms a culture grew, v2.5.1 7.4.2.5); value[x] holds one, so the
 * first is the value and each further one a component with the same code
 * (OBX-3) and no value[x] (invariant obs-7: a component with the
 * Observation's own code excludes value[x]).  Before, all but the first
 * were dropped. */
static void
value_coded(struct val *v, size_t valued)
{
    struct mctx *c = v->c;

    if (valued < 2) {
        hl7v2_j_add(v->res, "valueCodeableConcept", map_cwe(c, &v->at, v->rep, "OBX-5"));
        return;
    }
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, v->obx, 5); r <= nr_; r++) {
        struct at at;
        struct at cat;
        struct base_str rep = map_rep(c, v->obx, 5, r, &at);
        struct hl7v2_j *comp;
        struct hl7v2_j *code;

        if (map_txt(c, &at, rep, 0, 0).len == 0)
            continue;
        comp = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, v->res, "component"), NULL);
        code = map_cwe(c, &cat, map_rep(c, v->obx, 3, 1, &cat), "OBX-3");
        if (!hl7v2_j_present(code))
            hl7v2_j_cstr(&c->jb, code, "text", "unspecified");
        hl7v2_j_add(comp, "code", code);
        hl7v2_j_add(comp, "valueCodeableConcept", map_cwe(c, &at, rep, "OBX-5"));
    }
}

static void
map_value(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *obx, struct base_str type)
{
    struct val v = {.c = c, .obx = obx, .res = res};
    size_t valued = 0;

    /* the value is the first repetition that has one ("~1" sends an empty
     * first repetition) */
    for (uint32_t r = (uint32_t)map_nreps(c, obx, 5); r >= 1; r--) {
        struct at at;
        struct base_str rep = map_rep(c, obx, 5, r, &at);

        if (map_txt(c, &at, rep, 0, 0).len > 0) {
            v.rep = rep;
            v.at = at;
            valued++;
        }
    }
    v.unit = map_rep(c, obx, 6, 1, &v.unit_at);
    if (valued == 0)
        return;
    if (valued > 1 && !map_is(type, "TX") && !map_is(type, "FT") && !map_is(type, "ST") &&
        !coded(type) && type.len > 0)
        map_warn(c, &v.at, "repeated value: only the first repetition is mapped");
    if (map_is(type, "NM") || (type.len == 0 && untyped_number(&v)) || text_quantity(&v, type))
        value_nm(&v);
    else if (map_is(type, "SN"))
        value_sn(&v);
    else if (text_range(&v, type))
        return;
    else if (type.len == 0 || map_is(type, "ST") || map_is(type, "TX") || map_is(type, "FT") ||
             map_is(type, "TN"))
        value_text(&v);
    else if (coded(type))
        value_coded(&v, valued);
    else if (map_is(type, "DT") || map_is(type, "TS") || map_is(type, "DTM"))
        hl7v2_j_str(&c->jb, res, "valueDateTime",
                    map_ts(c, &v.at, map_txt(c, &v.at, v.rep, 1, 0),
                           map_is(type, "DT") ? TS_DATE : TS_DATETIME));
    else if (map_is(type, "TM"))
        value_time(&v);
    else
        value_other(&v, type);
}

/* ------------------------------------------------------ range and flags -- */

static bool
split_at(struct base_str s, size_t i, size_t seplen, struct base_str *lo, struct base_str *hi)
{
    struct base_str l = base_str_trim(base_str_make(s.ptr, i));
    struct base_str h = base_str_trim(base_str_sub(s, i + seplen, s.len));

    if (l.len == 0 || h.len == 0)
        return false; /* "+N~": not a range; lo/hi stay empty, not unchecked text */
    *lo = l;
    *hi = h;
    return true;
}

/* "3.5-5.0", "3.5 - 5.0", "-1-1", "125--350", "4.3 to 6.2", and the "3.5~5.5" or
 * "3.5～5.5" Chinese analysers print (the '~' arrives escaped as \R\). */
static bool
split_range(struct base_str s, struct base_str *lo, struct base_str *hi)
{
    for (size_t i = 1; i < s.len; i++) {
        char prev = s.ptr[i - 1];

        /* "125--350": a doubled dash is one separator, unless the low
         * end is negative ("-5--1") */
        if (s.ptr[i] == '-' && ((prev >= '0' && prev <= '9') || prev == ' ' || prev == '.'))
            return split_at(
                s, i,
                i + 1 < s.len && s.ptr[i + 1] == '-' && base_str_trim(s).ptr[0] != '-' ? 2 : 1, lo,
                hi);
        /* '&': ends as subcomponents ("4.50&5.90", Spanish LIS) */
        if (s.ptr[i] == '~' || s.ptr[i] == '&')
            return split_at(s, i, 1, lo, hi);
        /* full-width tilde and hyphen (～ －) and the en and em dashes
         * (– —) Chinese LIS print between the ends */
        if (i + 3 <= s.len && (memcmp(s.ptr + i, "\xEF\xBD\x9E", 3) == 0 ||
                               memcmp(s.ptr + i, "\xEF\xBC\x8D", 3) == 0 ||
                               memcmp(s.ptr + i, "\xE2\x80\x93", 3) == 0 ||
                               memcmp(s.ptr + i, "\xE2\x80\x94", 3) == 0))
            return split_at(s, i, 3, lo, hi);
        if (i + 4 <= s.len && memcmp(s.ptr + i, " to ", 4) == 0)
            return split_at(s, i, 4, lo, hi);
    }
    return false;
}

/* The numeric ends of a range text; empty when it has none. */
static void
range_ends(struct mctx *c, struct base_str text, struct base_str *lo, struct base_str *hi)
{
    *lo = BASE_STR_NULL;
    *hi = BASE_STR_NULL;
    if (split_range(text, lo, hi)) {
        struct base_str rest = *hi;

        *lo = map_decimal(c, *lo);
        /* a low end that is no number means the dash split something else
         * ("儿童<500;成人45-125"): neither end is known */
        *hi = lo->len > 0 ? map_decimal(c, rest) : BASE_STR_NULL;
        /* nor when the rest holds further parts ("0-14岁:15-20;>14岁:…"):
         * only a unit after the high end ("3.5-5.0 mmol/L") keeps the low */
        if (hi->len == 0 &&
            (base_str_find_chr(rest, ';', 0) >= 0 || base_str_find_chr(rest, ':', 0) >= 0 ||
             memmem(rest.ptr, rest.len, "\xEF\xBC", 2) != NULL ||
             memmem(rest.ptr, rest.len, "\xE5\xB2\x81", 3) != NULL))
            *lo = BASE_STR_NULL;
    } else if (base_str_starts_with(text, "<")) {
        *hi = map_decimal(c,
                          base_str_sub(text, text.len > 1 && text.ptr[1] == '=' ? 2 : 1, text.len));
    } else if (base_str_starts_with(text, ">")) {
        *lo = map_decimal(c,
                          base_str_sub(text, text.len > 1 && text.ptr[1] == '=' ? 2 : 1, text.len));
    } else if (base_str_starts_with(text, "\xE2\x89\xA4")) { /* ≤ */
        *hi = map_decimal(c, base_str_trim(base_str_sub(text, 3, text.len)));
    } else if (base_str_starts_with(text, "\xE2\x89\xA5")) { /* ≥ */
        *lo = map_decimal(c, base_str_trim(base_str_sub(text, 3, text.len)));
    }
}

/* OBX-7 is ST, but some LIS (Cerner among them) send the range and then its
 * ends as components: "35-150^35^150", ">40^>40".  When the first component
 * is a range, or components 2-3 are numbers, the first component is the text;
 * otherwise a component separator is text the sender did not escape, and
 * the whole field is the range. */
static struct base_str
range_text(struct mctx *c, const struct at *at, struct base_str rep, struct base_str *lo,
           struct base_str *hi)
{
    if (rep.len > 0 && memchr(rep.ptr, c->m->d.comp, rep.len) != NULL) {
        struct base_str t1 = map_txt(c, at, rep, 1, 0);

        range_ends(c, t1, lo, hi);
        if (lo->len == 0 && hi->len == 0) {
            *lo = map_decimal(c, map_txt(c, at, rep, 2, 0));
            *hi = map_decimal(c, map_txt(c, at, rep, 3, 0));
        }
        if (lo->len > 0 || hi->len > 0)
            return t1;
    }
    rep = map_txt(c, at, rep, 0, 0);
    range_ends(c, rep, lo, hi);
    return rep;
}

/* Sex labels before the ends of a sex-specific range ("男4.3-5.8 女3.8-5.1",
 * "M:130-175;F:115-150"); a Latin one must stand alone ("fL" is no F). */
static const struct {
    const char *label;
    bool male;
    bool latin;
} sex_labels[] = {{"\xE7\x94\xB7\xE6\x80\xA7", true, false},  /* 男性 */
                  {"\xE5\xA5\xB3\xE6\x80\xA7", false, false}, /* 女性 */
                  {"\xE7\x94\xB7", true, false},              /* 男 */
                  {"\xE5\xA5\xB3", false, false},             /* 女 */
                  {"Female", false, true},
                  {"Male", true, true},
                  {"F", false, true},
                  {"M", true, true}};

static bool
latin_letter(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/* The length of the sex label at s[i] (0: none), its sex in *male. */
static size_t
sex_label(struct base_str s, size_t i, bool *male)
{
    for (size_t k = 0; k < BASE_ARRAY_LEN(sex_labels); k++) {
        size_t n = strlen(sex_labels[k].label);

        if (i + n > s.len || memcmp(s.ptr + i, sex_labels[k].label, n) != 0)
            continue;
        if (sex_labels[k].latin && ((i > 0 && latin_letter(s.ptr[i - 1])) ||
                                    (i + n < s.len && latin_letter(s.ptr[i + n]))))
            continue;
        *male = sex_labels[k].male;
        return n;
    }
    return 0;
}

/* s without the separators around a part of a sex-specific range: ':' after
 * the label, ';' ',' '&' '/' between the parts (ASCII or full-width). */
static struct base_str
range_part(struct base_str s)
{
    static const char *const seps[] = {
        ":", ";", ",", "&", "/", "\xEF\xBC\x9A", "\xEF\xBC\x9B", "\xEF\xBC\x8C"};
    bool cut = true;

    while (cut) {
        s = base_str_trim(s);
        cut = false;
        for (size_t k = 0; k < BASE_ARRAY_LEN(seps); k++) {
            size_t n = strlen(seps[k]);

            if (s.len >= n && memcmp(s.ptr, seps[k], n) == 0) {
                s = base_str_sub(s, n, s.len);
                cut = true;
            } else if (s.len >= n && memcmp(s.ptr + s.len - n, seps[k], n) == 0) {
                s.len -= n;
                cut = true;
            }
        }
    }
    return s;
}

/* A range for men and one for women in one OBX-7 -> two referenceRange
 * with appliesTo (FHIR R4 Observation.referenceRange.appliesTo; SNOMED CT
 * 248153007 |Male|, 248152002 |Female|, as in the R4 examples).  Only when
 * the text is exactly: label, range, label of the other sex, range. */
static bool
sex_ranges(struct mctx *c, struct hl7v2_j *res, struct base_str text, const struct at *uat,
           struct base_str unit)
{
    size_t start[2];
    size_t len[2];
    bool male[2];
    size_t n = 0;
    struct base_str lo[2];
    struct base_str hi[2];
    struct base_str part[2];

    text = base_str_trim(text);
    if (text.len < 4)
        return false;
    for (size_t i = 0; i < text.len;) {
        size_t l = sex_label(text, i, &male[n < 2 ? n : 1]);

        if (l == 0) {
            i++;
            continue;
        }
        if (n == 2 || (n == 0 && i != 0))
            return false;
        start[n] = i;
        len[n++] = l;
        i += l;
    }
    if (n != 2 || male[0] == male[1])
        return false;
    for (int k = 0; k < 2; k++) {
        size_t end = k == 0 ? start[1] : text.len;

        part[k] = range_part(base_str_sub(text, start[k] + len[k], end - start[k] - len[k]));
        range_ends(c, part[k], &lo[k], &hi[k]);
        if (lo[k].len == 0 && hi[k].len == 0)
            return false;
    }
    for (int k = 0; k < 2; k++) {
        struct hl7v2_j *rr = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "referenceRange"), NULL);
        struct hl7v2_j *cc = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, rr, "appliesTo"), NULL);

        if (lo[k].len > 0)
            hl7v2_j_add(rr, "low", map_quantity(c, lo[k], uat, unit));
        if (hi[k].len > 0)
            hl7v2_j_add(rr, "high", map_quantity(c, hi[k], uat, unit));
        map_coding(c, hl7v2_j_arr(&c->jb, cc, "coding"), "http://snomed.info/sct",
                   base_str_from_cstr(male[k] ? "248153007" : "248152002"),
                   male[k] ? "Male" : "Female");
        hl7v2_j_str(&c->jb, cc, "text", base_str_sub(text, start[k], len[k]));
        hl7v2_j_str(&c->jb, rr, "text",
                    base_str_make(text.ptr + start[k],
                                  (size_t)(part[k].ptr + part[k].len - (text.ptr + start[k]))));
    }
    return true;
}

#define SUI "\xE5\xB2\x81" /* 岁, years of age */

/* An age label in years ("0-14岁", "<1岁", ">=14岁", "≥60岁") -> its ends. */
static bool
age_label(struct mctx *c, struct base_str l, struct base_str *lo, struct base_str *hi)
{
    l = base_str_trim(l);
    *lo = BASE_STR_NULL;
    *hi = BASE_STR_NULL;
    if (l.len == 0)
        return false;
    if (l.ptr[0] == '<' || l.ptr[0] == '>' || base_str_starts_with(l, "\xE2\x89\xA4") ||
        base_str_starts_with(l, "\xE2\x89\xA5")) {
        bool below = l.ptr[0] == '<' || base_str_starts_with(l, "\xE2\x89\xA4");
        size_t skip = (unsigned char)l.ptr[0] == 0xE2 ? 3 : 1 + (l.len > 1 && l.ptr[1] == '=');
        struct base_str n = map_decimal(c, base_str_sub(l, skip, l.len));

        *(below ? hi : lo) = n;
        return n.len > 0;
    }
    range_ends(c, l, lo, hi);
    return lo->len > 0 && hi->len > 0;
}

/* One range per age group in one OBX-7, the groups given in years
 * ("0-14岁:15-20;>14岁:3.5-9.5") -> one referenceRange each with age
 * (years, UCUM 'a').  Only when every part has an age label and a range;
 * groups named without ages (儿童, 成人, 新生儿) stay text. */
static bool
age_ranges(struct mctx *c, struct hl7v2_j *res, struct base_str text, const struct at *uat,
           struct base_str unit)
{
    struct base_str part[4];
    size_t n = 0;
    size_t from = 0;

    text = base_str_trim(text);
    if (text.len < 8 || memmem(text.ptr, text.len, SUI, 3) == NULL)
        return false;
    for (size_t i = 0; i <= text.len; i++) {
        bool end = i == text.len || text.ptr[i] == ';' || text.ptr[i] == ',';
        size_t w = 1;

        if (!end && i + 3 <= text.len &&
            (memcmp(text.ptr + i, "\xEF\xBC\x9B", 3) == 0 ||
             memcmp(text.ptr + i, "\xEF\xBC\x8C", 3) == 0)) {
            end = true;
            w = 3;
        }
        if (!end)
            continue;
        if (n == BASE_ARRAY_LEN(part))
            return false;
        part[n++] = base_str_trim(base_str_sub(text, from, i - from));
        from = i + w;
        i += w - 1;
    }
    if (n < 2)
        return false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < n; k++) {
            const char *sui = memmem(part[k].ptr, part[k].len, SUI, 3);
            struct base_str alo, ahi, lo, hi;
            struct hl7v2_j *rr;
            struct hl7v2_j *age;

            if (sui == NULL ||
                !age_label(c, base_str_make(part[k].ptr, (size_t)(sui - part[k].ptr)), &alo, &ahi))
                return false;
            range_ends(
                c, range_part(base_str_sub(part[k], (size_t)(sui - part[k].ptr) + 3, part[k].len)),
                &lo, &hi);
            if (lo.len == 0 && hi.len == 0)
                return false;
            if (pass == 0)
                continue; /* all parts read before anything is written */
            rr = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "referenceRange"), NULL);
            if (lo.len > 0)
                hl7v2_j_add(rr, "low", map_quantity(c, lo, uat, unit));
            if (hi.len > 0)
                hl7v2_j_add(rr, "high", map_quantity(c, hi, uat, unit));
            age = hl7v2_j_obj(&c->jb, rr, "age");
            for (int e = 0; e < 2; e++) {
                struct base_str v = e == 0 ? alo : ahi;
                struct hl7v2_j *q;

                if (v.len == 0)
                    continue;
                q = hl7v2_j_obj(&c->jb, age, e == 0 ? "low" : "high");
                hl7v2_j_num(&c->jb, q, "value", v);
                hl7v2_j_cstr(&c->jb, q, "unit", "a");
                hl7v2_j_cstr(&c->jb, q, "system", "http://unitsofmeasure.org");
                hl7v2_j_cstr(&c->jb, q, "code", "a");
            }
            hl7v2_j_str(&c->jb, rr, "text", part[k]);
        }
    }
    return true;
}

static void
reference_range(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *obx)
{
    struct at at;
    struct at uat;
    struct base_str lo;
    struct base_str hi;
    struct base_str text = range_text(c, &at, map_rep(c, obx, 7, 1, &at), &lo, &hi);
    struct base_str unit = map_rep(c, obx, 6, 1, &uat);
    struct hl7v2_j *rr;

    if (text.len == 0 && lo.len == 0 && hi.len == 0)
        return;
    if (lo.len == 0 && hi.len == 0 &&
        (sex_ranges(c, res, text, &uat, unit) || age_ranges(c, res, text, &uat, unit)))
        return;
    rr = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "referenceRange"), NULL);
    if (lo.len > 0)
        hl7v2_j_add(rr, "low", map_quantity(c, lo, &uat, unit));
    if (hi.len > 0)
        hl7v2_j_add(rr, "high", map_quantity(c, hi, &uat, unit));
    hl7v2_j_str(&c->jb, rr, "text", text);
}

/* Chinese LIS flag results with arrows, alone ("↑", "↓↓") or after the
 * table 0078 letter ("H↑"): the arrows are the letter (H, L, HH, LL), and
 * the sender's flag is kept as the text. */
static struct base_str
arrow_flag(struct base_str code)
{
    static const char up[] = "\xE2\x86\x91";   /* ↑ U+2191 */
    static const char down[] = "\xE2\x86\x93"; /* ↓ U+2193 */
    size_t letters = 0;
    size_t ups = 0;
    size_t downs = 0;

    while (letters < code.len && code.ptr[letters] >= 'A' && code.ptr[letters] <= 'Z')
        letters++;
    for (size_t i = letters; i < code.len; i += 3) {
        if (i + 3 > code.len)
            return code;
        if (memcmp(code.ptr + i, up, 3) == 0)
            ups++;
        else if (memcmp(code.ptr + i, down, 3) == 0)
            downs++;
        else
            return code;
    }
    if (letters > 0 || (ups > 0) == (downs > 0) || ups + downs > 2)
        return letters > 0 ? base_str_make(code.ptr, letters) : code;
    if (ups > 0)
        return base_str_from_cstr(ups == 2 ? "HH" : "H");
    return base_str_from_cstr(downs == 2 ? "LL" : "L");
}

/* The words Chinese LIS flag results with (高 high, 偏低 low, 阳性
 * positive, …) and lower-case letters ('h', 'n'): the table 0078 code
 * they stand for, the sender's flag kept as text. */
static struct base_str
flag_word(struct base_str code)
{
    static const char *const words[][2] = {
        {"\xE9\xAB\x98", "H"},                          /* 高 */
        {"\xE5\x81\x8F\xE9\xAB\x98", "H"},              /* 偏高 */
        {"\xE4\xBD\x8E", "L"},                          /* 低 */
        {"\xE5\x81\x8F\xE4\xBD\x8E", "L"},              /* 偏低 */
        {"\xE9\x98\xB3\xE6\x80\xA7", "POS"},            /* 阳性 */
        {"\xE9\x98\xB4\xE6\x80\xA7", "NEG"},            /* 阴性 */
        {"\xE6\xAD\xA3\xE5\xB8\xB8", "N"},              /* 正常 */
        {"\xE5\xBC\x82\xE5\xB8\xB8", "A"},              /* 异常 */
        {"\xE5\x8D\xB1\xE6\x80\xA5", "AA"},             /* 危急 */
        {"\xE5\x8D\xB1\xE6\x80\xA5\xE5\x80\xBC", "AA"}, /* 危急值 */
    };
    static const char *const lower[][2] = {{"h", "H"}, {"l", "L"}, {"hh", "HH"}, {"ll", "LL"},
                                           {"n", "N"}, {"a", "A"}, {"aa", "AA"}};

    if (code.len == 0 || v3_interpretation(code))
        return code;
    for (size_t i = 0; i < BASE_ARRAY_LEN(lower); i++) {
        if (base_str_eq_cstr(code, lower[i][0]))
            return base_str_from_cstr(lower[i][1]);
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(words); i++) {
        if (base_str_eq_cstr(code, words[i][0]))
            return base_str_from_cstr(words[i][1]);
    }
    return code;
}

static void
interpretation(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *obx)
{
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, obx, 8); r <= nr_; r++) {
        struct at at;
        struct base_str rep = map_rep(c, obx, 8, r, &at);
        struct base_str flag = map_txt(c, &at, rep, 1, 0);
        struct base_str code = arrow_flag(flag);
        struct base_str text = map_txt(c, &at, rep, 2, 0);
        struct hl7v2_j *cc;
        struct hl7v2_j *cd;

        if (code.len == 0)
            continue;
        code = flag_word(code);
        cc = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "interpretation"), NULL);
        if (v3_interpretation(code) || map_is(code, "HM") || map_is(code, "UU")) {
            cd = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, cc, "coding"), NULL);
            hl7v2_j_cstr(&c->jb, cd, "system",
                         v3_interpretation(code) ? SYS_INTERP_V3
                                                 : "http://terminology.hl7.org/CodeSystem/v2-0078");
            hl7v2_j_str(&c->jb, cd, "code", map_code(c, code));
        } else {
            /* 'N/A', '*', '+': no table 0078 code; the sender's flag as text */
            map_warn(c, &at, "abnormal flag not in table 0078; kept as text");
            text = text.len > 0 ? text : flag;
        }
        hl7v2_j_str(&c->jb, cc, "text", text.len > 0 || base_str_eq(code, flag) ? text : flag);
    }
}

/* ------------------------------------------------------------- entry -- */

/* The entry of an OBX, keyed by OBX-21 (its instance identifier) when
 * given, else by the report, OBX-3 and OBX-4; the same code and sub-id
 * twice in a group are numbered so each OBX keeps its own, repeatable
 * identity. */
static struct ent *
observation_key(struct mctx *c, struct base_str *key, struct base_str sys, struct base_str val)
{
    for (uint32_t n = 1; n <= c->nents + 1; n++) {
        struct ent *e;

        key[3] = n == 1 ? BASE_STR_NULL : hl7v2_j_fmt(&c->jb, "#%u", (unsigned)n);
        e = map_entry(c, "Observation", key, 4, sys, val);
        if (e == NULL || hl7v2_j_get(e->res, "status") == NULL || val.len > 0)
            return e;
    }
    return NULL;
}

static struct ent *
observation_entry(struct mctx *c, const struct hl7v2_seg *obx, struct base_str group)
{
    struct at at;
    struct base_str sys = BASE_STR_NULL;
    struct base_str val = BASE_STR_NULL;
    struct hl7v2_j *id =
        map_ei(c, &at, map_rep(c, obx, 21, 1, &at), "observation", NULL, &sys, &val);
    struct base_str rep = map_rep(c, obx, 3, 1, &at);
    struct base_str code = map_txt(c, &at, rep, 1, 0);
    struct base_str key[4];
    struct ent *e;

    if (code.len == 0)
        code = map_txt(c, &at, rep, 2, 0);
    if (id != NULL) {
        key[0] = sys;
        key[1] = val;
        key[2] = BASE_STR_NULL;
        e = observation_key(c, key, sys, val);
        if (e == NULL || hl7v2_j_get(e->res, "status") == NULL)
            return e;
        /* Two results under one instance identifier are a sender error, but
         * both are results: the later one is kept under its position. */
        at = (struct at){obx, 21, 1};
        map_warn(c, &at, "observation identifier (OBX-21) repeated; OBX keyed by its position");
    }
    key[0] = group;
    key[1] = code;
    key[2] = map_field(c, obx, 4);
    return observation_key(c, key, BASE_STR_NULL, BASE_STR_NULL);
}

/* OBX-15 producer's ID (CE: id^name^system), the performing lab of v2.3
 * to v2.4 feeds that have no OBX-23 (v2-to-FHIR OBX map: performer). */
static struct hl7v2_j *
producer(struct mctx *c, const struct hl7v2_seg *obx)
{
    struct at at;
    struct base_str rep = map_rep(c, obx, 15, 1, &at);
    struct base_str id = map_txt(c, &at, rep, 1, 0);
    struct base_str name = map_txt(c, &at, rep, 2, 0);
    struct hl7v2_j *ref = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);

    if (id.len > 0) {
        struct hl7v2_j *ident = hl7v2_j_obj(&c->jb, ref, "identifier");

        hl7v2_j_str(&c->jb, ident, "system",
                    map_authority_system(c, map_txt(c, &at, rep, 3, 0), BASE_STR_NULL,
                                         BASE_STR_NULL, "organization"));
        hl7v2_j_str(&c->jb, ident, "value", id);
    }
    hl7v2_j_str(&c->jb, ref, "display", name.len > 0 ? name : id);
    return ref;
}

/* OBX-18 equipment instance identifier (EI, repeating) -> device: a
 * logical reference, as the gateway keeps no Device resources. */
static void
observation_device(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *obx)
{
    struct at at;
    struct hl7v2_j *id = map_ei(c, &at, map_rep(c, obx, 18, 1, &at), "device", NULL, NULL, NULL);

    if (id != NULL)
        hl7v2_j_add(hl7v2_j_obj(&c->jb, res, "device"), "identifier", id);
}

/* An OBX without a value (an analyser's parameter it did not measure, a
 * result not yet known) says why in dataAbsentReason (FHIR R4
 * Observation.dataAbsentReason, obs-6): OBX-11 N "not asked" -> not
 * performed, X "results cannot be obtained" -> error, else unknown. */
static void
absent_reason(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *obx)
{
    struct base_str st = map_field(c, obx, 11);

    for (const struct hl7v2_j *m = res->first; m != NULL; m = m->next) {
        if (m->klen > 5 && memcmp(m->key, "value", 5) == 0 && hl7v2_j_present(m))
            return;
    }
    hl7v2_j_add(res, "dataAbsentReason",
                map_concept1(c, "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                             map_is(st, "N")   ? "not-performed"
                             : map_is(st, "X") ? "error"
                                               : "unknown",
                             NULL));
}

static void
observation_body(struct mctx *c, struct ent *e, const struct hl7v2_seg *obx)
{
    struct hl7v2_j *res = e->res;
    struct at at;
    struct base_str type = map_field(c, obx, 2);
    struct hl7v2_j *perf;
    const char *cat;

    if (hl7v2_j_get(res, "identifier") == NULL)
        hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "identifier"), NULL,
                    map_ei(c, &at, map_rep(c, obx, 21, 1, &at), "observation", NULL, NULL, NULL));
    hl7v2_j_cstr(&c->jb, res, "status", obs_status(map_field(c, obx, 11)));
    cat = c->report != NULL || c->order != NULL
              ? section_category(c->report != NULL ? c->report_section : BASE_STR_NULL)
              : NULL;
    if (cat == NULL && (c->report != NULL || c->order != NULL))
        cat = c->o->obs_category;
    if (cat != NULL)
        hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "category"), NULL,
                    map_concept1(c, SYS_OBS_CAT, cat, NULL));
    hl7v2_j_add(res, "code", map_cwe(c, &at, map_rep(c, obx, 3, 1, &at), "OBX-3"));
    if (!hl7v2_j_present(hl7v2_j_get(res, "code"))) {
        map_warn(c, &at, "observation without an identifier (OBX-3); code set to text only");
        hl7v2_j_cstr(&c->jb, hl7v2_j_get(res, "code"), "text", "unspecified");
    }
    map_ref_to(c, res, "subject", c->patient);
    map_ref_to(c, res, "encounter", c->encounter);
    at = (struct at){obx, 14, 1};
    hl7v2_j_str(&c->jb, res, "effectiveDateTime",
                map_ts(c, &at, map_field(c, obx, 14), TS_DATETIME));
    if (!hl7v2_j_present(hl7v2_j_get(res, "effectiveDateTime")) && c->report != NULL) {
        struct hl7v2_j *eff = hl7v2_j_get(c->report->res, "effectiveDateTime");

        if (eff != NULL)
            hl7v2_j_str(&c->jb, res, "effectiveDateTime", eff->s);
    }
    perf = hl7v2_j_arr(&c->jb, res, "performer");
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, obx, 16); r <= nr_; r++)
        hl7v2_j_add(perf, NULL, map_xcn_ref(c, &at, map_rep(c, obx, 16, r, &at)));
    hl7v2_j_add(perf, NULL, map_xon_ref(c, &at, map_rep(c, obx, 23, 1, &at)));
    if (map_field(c, obx, 23).len == 0)
        hl7v2_j_add(perf, NULL, producer(c, obx));
    /* v2.5+ OBX-25 performing organization medical director (CLIA, ELR) */
    hl7v2_j_add(perf, NULL, map_xcn_ref(c, &at, map_rep(c, obx, 25, 1, &at)));
    observation_device(c, res, obx);
    map_value(c, res, obx, value_type_alias(c, obx, type));
    absent_reason(c, res, obx);
    interpretation(c, res, obx);
    hl7v2_j_add(res, "method", map_cwe(c, &at, map_rep(c, obx, 17, 1, &at), "OBX-17"));
    map_ref_to(c, res, "specimen", c->specimen);
    reference_range(c, res, obx);
}

static void
link_to_group(struct mctx *c, struct ent *e)
{
    struct ent *g = c->report != NULL ? c->report : c->order;
    const char *key = c->report != NULL ? "result"
                      : g != NULL && strcmp(g->type, "MedicationRequest") == 0
                          ? "supportingInformation"
                          : "supportingInfo";
    struct hl7v2_j *list;

    if (g == NULL)
        return;
    list = hl7v2_j_get(g->res, key);
    if (list == NULL)
        list = hl7v2_j_arr(&c->jb, g->res, key);
    hl7v2_j_add(list, NULL, map_ref(c, e));
}

void
map_obx(struct mctx *c, const struct hl7v2_seg *obx)
{
    struct base_str type = map_field(c, obx, 2);
    struct base_str group = c->report_key;
    struct ent *e;

    if (c->cls == MC_DOCUMENT) {
        map_doc_obx(c, obx);
        return;
    }
    if (c->patient == NULL)
        return;
    if (map_is(type, "ED") || map_is(type, "RP")) {
        e = map_report_attachment(c, obx);
        if (e != NULL)
            link_to_group(c, e); /* an order's attachment: its supportingInfo */
        return;
    }
    if (group.len == 0) {
        struct base_str parts[2] = {
            c->patient_key, base_str_from_cstr(c->encounter != NULL ? c->encounter->uuid : "")};

        group = map_join(c, parts, 2, "|");
    }
    e = observation_entry(c, obx, group);
    if (e == NULL)
        return;
    e->group = c->report_key.ptr;
    observation_body(c, e, obx);
    link_to_group(c, e);
    c->obs = e;
}
