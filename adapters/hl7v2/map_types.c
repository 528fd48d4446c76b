/*
 * HL7 v2 data types -> FHIR data types, following the v2-to-FHIR guide's
 * datatype maps (CWE, CX, EI, XPN, XAD, XTN, XCN, XON, DTM).
 */
#include <stdlib.h>
#include <string.h>

#include "adapters/codemap/codemap.h"
#include "adapters/hl7v2/map_int.h"
#include "fhir/validate/fhir_validate.h"

#define EXT_REPRESENTATION "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
#define SYS_V2_0203        "http://terminology.hl7.org/CodeSystem/v2-0203"

/* -------------------------------------------------------------- CWE/CE -- */

static void
apply_codemap(struct mctx *c, struct hl7v2_j *codings, struct base_str name, struct base_str uri,
              struct base_str code)
{
    const struct codemap_target *t = NULL;

    if (c->o->codemap != NULL) {
        t = codemap_lookup(c->o->codemap, uri, code);
        if (t == NULL && name.len > 0)
            t = codemap_lookup(c->o->codemap, name, code);
    }
    for (const struct codemap_target *x = t; x != NULL; x = x->next) {
        struct hl7v2_j *cd = hl7v2_j_obj(&c->jb, codings, NULL);

        hl7v2_j_cstr(&c->jb, cd, "system", x->system);
        hl7v2_j_cstr(&c->jb, cd, "code", x->code);
        hl7v2_j_cstr(&c->jb, cd, "display", x->display);
    }
    if (c->o->codemap_report != NULL)
        codemap_report_note(c->o->codemap_report, uri, code, t != NULL);
}

/* Is `code` shaped as a LOINC code?  Terms are 1-7 digits, '-' and a
 * mod-10 (Luhn) check digit (LOINC Users' Guide, "Check digit"); answers,
 * parts and groups carry a letter prefix (LA, LP, LG, LL). */
static bool
loinc_code(struct base_str code)
{
    size_t i = 0;
    size_t dash;
    unsigned sum = 0;
    bool prefixed = code.len > 2 && code.ptr[0] == 'L' && code.ptr[1] >= 'A' && code.ptr[1] <= 'Z';

    if (prefixed)
        i = 2;
    for (dash = i; dash < code.len && code.ptr[dash] >= '0' && code.ptr[dash] <= '9'; dash++)
        ;
    if (dash == i || dash - i > 8 || dash + 2 != code.len || code.ptr[dash] != '-' ||
        code.ptr[dash + 1] < '0' || code.ptr[dash + 1] > '9')
        return false;
    if (prefixed)
        return true;
    /* Luhn over the digits and the check digit: the check digit is not
     * doubled, every second digit left of it is */
    sum = (unsigned)(code.ptr[dash + 1] - '0');
    for (size_t k = 0; k < dash - i; k++) {
        unsigned d = (unsigned)(code.ptr[dash - 1 - k] - '0');

        if (k % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return sum % 10 == 0;
}

/* One coding triplet (code, display, system name) of a CWE. */
static void
cwe_coding(struct mctx *c, const struct at *at, struct base_str rep, uint32_t first,
           const char *field_name, struct hl7v2_j *codings)
{
    struct base_str code = map_txt(c, at, rep, first, 0);
    struct base_str display;
    struct base_str name;
    struct hl7v2_j *cd;
    struct base_str uri;
    bool standard = false;

    if (code.len == 0)
        return;
    display = map_txt(c, at, rep, first + 1, 0);
    name = map_txt(c, at, rep, first + 2, 0);
    if (map_is(name, "L") || base_str_case_eq_cstr(name, "LOCAL"))
        /* table 0396 'L': "local general code", no system of its own.
         * Senders mark every local table so; as one system 'RA' of TXA-2
         * (a document type) and 'RA' of OBX-3 (a test) would be one code.
         * The field names the local system, as when CWE-3 is empty. */
        name = BASE_STR_NULL;
    uri = map_code_system(c, name, field_name, &standard);
    if (standard && base_str_eq_cstr(uri, "http://loinc.org") && !loinc_code(code)) {
        /* 'WBC^White Blood Cell Count^LN': the sender's own code under the
         * LOINC name; as a LOINC coding it would be a wrong one */
        map_warn(c, at, "code is not a LOINC code; kept in the sender's code system");
        uri = map_code_system(c, BASE_STR_NULL, field_name, &standard);
        name = BASE_STR_NULL;
    }
    cd = hl7v2_j_obj(&c->jb, codings, NULL);
    hl7v2_j_str(&c->jb, cd, "system", uri);
    hl7v2_j_str(&c->jb, cd, "code", map_code(c, code));
    hl7v2_j_str(&c->jb, cd, "display", display);
    if (!standard)
        apply_codemap(c, codings, name.len > 0 ? name : base_str_from_cstr(field_name), uri, code);
}

struct hl7v2_j *
map_cwe(struct mctx *c, const struct at *at, struct base_str rep, const char *field_name)
{
    struct hl7v2_j *cc = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct hl7v2_j *codings = hl7v2_j_arr(&c->jb, cc, "coding");
    struct base_str original = map_txt(c, at, rep, 9, 0);

    cwe_coding(c, at, rep, 1, field_name, codings);
    cwe_coding(c, at, rep, 4, field_name, codings);
    cwe_coding(c, at, rep, 10, field_name, codings);
    if (original.len == 0 && !hl7v2_j_present(codings))
        original = map_txt(c, at, rep, 2, 0); /* text without a code */
    hl7v2_j_str(&c->jb, cc, "text", original);
    return cc;
}

struct hl7v2_j *
map_table_code(struct mctx *c, const struct at *at, struct base_str rep, const char *table)
{
    struct base_str code = map_txt(c, at, rep, 1, 0);
    struct hl7v2_j *cc = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct hl7v2_j *cd;

    if (code.len == 0)
        return cc;
    cd = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, cc, "coding"), NULL);
    {
        struct base_str parts[2] = {BASE_STR_LIT("http://terminology.hl7.org/CodeSystem/v2-"),
                                    base_str_from_cstr(table)};

        hl7v2_j_str(&c->jb, cd, "system", map_concat(c, parts, 2));
    }
    hl7v2_j_str(&c->jb, cd, "code", map_code(c, code));
    hl7v2_j_str(&c->jb, cd, "display", map_txt(c, at, rep, 2, 0));
    return cc;
}

/* A CWE from a field bound to an HL7 table that senders often send bare
 * (no CWE-3): a code of that table gets the table's system, anything else
 * (a local code, Chinese text) stays the sender's, as map_cwe makes it.
 * `codes` ends with NULL. */
struct hl7v2_j *
map_cwe_table(struct mctx *c, const struct at *at, struct base_str rep, const char *field_name,
              const char *table, const char *const *codes)
{
    struct base_str code = map_txt(c, at, rep, 1, 0);

    if (map_txt(c, at, rep, 3, 0).len == 0 && code.len > 0) {
        for (const char *const *k = codes; *k != NULL; k++) {
            if (map_is(code, *k))
                return map_table_code(c, at, rep, table);
        }
    }
    return map_cwe(c, at, rep, field_name);
}

/* ------------------------------------------------------------ CX and EI -- */

struct hl7v2_j *
map_period(struct mctx *c, const struct at *at, struct hl7v2_j *parent, const char *key,
           struct base_str start, struct base_str end)
{
    struct hl7v2_j *p;

    if (start.len == 0 && end.len == 0)
        return NULL;
    if (start.len > 0 && end.len > 0 &&
        fhir_validate_period_inverted(start.ptr, start.len, end.ptr, end.len)) {
        map_warn(c, at, "period ends before it starts; end omitted");
        end = BASE_STR_NULL;
    }
    p = hl7v2_j_obj(&c->jb, parent, key);
    hl7v2_j_str(&c->jb, p, "start", start);
    hl7v2_j_str(&c->jb, p, "end", end);
    return p;
}

/* The validity of an identifier, name or address (CX-7/8, XPN-12/13,
 * XAD-13/14). */
static void
period_from(struct mctx *c, const struct at *at, struct hl7v2_j *parent, struct base_str start,
            struct base_str end)
{
    (void)map_period(c, at, parent, "period", map_ts(c, at, start, TS_DATETIME),
                     map_ts(c, at, end, TS_DATETIME));
}

/* HL7 table 0203 (identifier type, v2.9 / THO v2-0203), sorted (strcmp).
 * Only these, and NNxxx (national person identifier of country xxx), are
 * codes of that system; a number ("21", as Chinese LIS number their id
 * types), a local word ("MRN", "SFZH", "EPI") or a shifted component
 * ("ISO" where CX-4 was split with '^') is the sender's own code. */
static const char *const table_0203[] = {
    "AC", "ACSN", "AIN", "AM", "AMA", "AN", "ANC", "AND", "ANON", "ANT", "APRN", "ASID", "BA",
    "BC", "BCFN", "BCT", "BR", "BRN", "BSNR", "CAII", "CC", "CONM", "CY", "CZ", "DC", "DCFN",
    "DDS", "DEA", "DFN", "DI", "DL", "DN", "DO", "DP", "DPM", "DR", "DS", "DSG", "EI", "EN", "ESN",
    "FDR", "FDRFN", "FGN", "FI", "FILL", "GI", "GIN", "GL", "GN", "HC", "IND", "IRISTEM", "JHN",
    "L&I", "LACSN", "LANR", "LI", "LN", "LR", "MA", "MB", "MC", "MCD", "MCN", "MCR", "MCT", "MD",
    "MI", "MR", "MRT", "MS", "NBSNR", "NCT", "NE", "NH", "NI", "NII", "NIIP", "NP", "NPI", "OBI",
    "OD", "PA", "PC", "PCN", "PE", "PEN", "PGN", "PHC", "PHE", "PHO", "PI", "PIN", "PLAC", "PN",
    "PNT", "PPIN", "PPN", "PRC", "PRN", "PT", "QA", "RI", "RN", "RPH", "RRI", "RRP", "SAMN", "SB",
    "SID", "SL", "SN", "SNBSN", "SNO", "SP", "SR", "SRX", "SS", "STN", "TAX", "TN", "TPR", "TRL",
    "U", "UDI", "UPIN", "USID", "VN", "VP", "VS", "WC", "WCN", "WP", "XV", "XX",
};

static int
cmp_code(const void *key, const void *elem)
{
    const struct base_str *k = key;
    const char *e = *(const char *const *)elem;
    size_t n = strlen(e);
    int r = memcmp(k->ptr, e, k->len < n ? k->len : n);

    return r != 0 ? r : (k->len > n) - (k->len < n);
}

static bool
table_0203_code(struct base_str code)
{
    if (code.len == 5 && memcmp(code.ptr, "NN", 2) == 0) {
        for (size_t i = 2; i < 5; i++) {
            if (code.ptr[i] < 'A' || code.ptr[i] > 'Z')
                return false;
        }
        return true;
    }
    return bsearch(&code, table_0203, BASE_ARRAY_LEN(table_0203), sizeof(table_0203[0]),
                   cmp_code) != NULL;
}

static void
id_type(struct mctx *c, struct hl7v2_j *id, struct base_str code)
{
    struct hl7v2_j *cd;
    bool standard;

    if (code.len == 0)
        return;
    cd = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, hl7v2_j_obj(&c->jb, id, "type"), "coding"), NULL);
    if (table_0203_code(code))
        hl7v2_j_cstr(&c->jb, cd, "system", SYS_V2_0203);
    else
        hl7v2_j_str(&c->jb, cd, "system", map_code_system(c, BASE_STR_NULL, "CX-5", &standard));
    hl7v2_j_str(&c->jb, cd, "code", map_code(c, code));
}

/* "0", "000000000": what HIS write where they have no number (PV1-50
 * '000000000', PID-4 '0', PV1-5 '0').  As an identifier it is shared by
 * every record that lacks one: a conditional update by it would put one
 * patient's visit or order on top of another's. */
static bool
placeholder_id(struct mctx *c, const struct at *at, struct base_str value)
{
    for (size_t i = 0; i < value.len; i++) {
        if (value.ptr[i] != '0')
            return false;
    }
    map_warn(c, at, "identifier is a placeholder (only zeros); not mapped");
    return true;
}

struct hl7v2_j *
map_cx(struct mctx *c, const struct at *at, struct base_str rep, const char *kind,
       struct base_str *sys_out, struct base_str *val_out)
{
    struct base_str value = map_txt(c, at, rep, 1, 0);
    struct base_str ns = map_txt(c, at, rep, 4, 1);
    struct base_str uid = map_txt(c, at, rep, 4, 2);
    struct base_str uid_type = map_txt(c, at, rep, 4, 3);
    struct hl7v2_j *id;
    struct base_str sys;

    if (value.len == 0 || placeholder_id(c, at, value))
        return NULL;
    sys = map_authority_system(c, ns, uid, uid_type, kind);
    id = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    id_type(c, id, map_txt(c, at, rep, 5, 0));
    hl7v2_j_str(&c->jb, id, "system", sys);
    hl7v2_j_str(&c->jb, id, "value", value);
    period_from(c, at, id, map_txt(c, at, rep, 7, 0), map_txt(c, at, rep, 8, 0));
    if (sys_out != NULL)
        *sys_out = sys;
    if (val_out != NULL)
        *val_out = value;
    return id;
}

struct hl7v2_j *
map_ei(struct mctx *c, const struct at *at, struct base_str rep, const char *kind,
       const char *type_code, struct base_str *sys_out, struct base_str *val_out)
{
    struct base_str value = map_txt(c, at, rep, 1, 0);
    struct hl7v2_j *id;
    struct base_str sys;

    if (value.len == 0 || placeholder_id(c, at, value))
        return NULL;
    sys = map_authority_system(c, map_txt(c, at, rep, 2, 0), map_txt(c, at, rep, 3, 0),
                               map_txt(c, at, rep, 4, 0), kind);
    id = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    if (type_code != NULL)
        id_type(c, id, base_str_from_cstr(type_code));
    hl7v2_j_str(&c->jb, id, "system", sys);
    hl7v2_j_str(&c->jb, id, "value", value);
    if (sys_out != NULL)
        *sys_out = sys;
    if (val_out != NULL)
        *val_out = value;
    return id;
}

/* ------------------------------------------------------------------ XPN -- */

static const char *
name_use(struct base_str t)
{
    /* v2-to-FHIR ConceptMap table-hl70200-to-name-use */
    static const char *const map[][2] = {
        {"L", "official"},  {"R", "official"}, {"C", "official"}, {"D", "usual"},
        {"A", "usual"},     {"T", "usual"},    {"M", "maiden"},   {"N", "nickname"},
        {"S", "anonymous"}, {"TEMP", "temp"},  {"B", "old"},      {"BAD", "old"},
        {"NOUSE", "old"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(map); i++) {
        if (map_is(t, map[i][0]))
            return map[i][1];
    }
    return NULL;
}

static void
name_representation(struct mctx *c, struct hl7v2_j *name, struct base_str code)
{
    const char *v = map_is(code, "I")   ? "IDE"
                    : map_is(code, "P") ? "SYL"
                    : map_is(code, "A") ? "ABC"
                                        : NULL;
    struct hl7v2_j *ext;

    if (v == NULL)
        return;
    ext = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, name, "extension"), NULL);
    hl7v2_j_cstr(&c->jb, ext, "url", EXT_REPRESENTATION);
    hl7v2_j_cstr(&c->jb, ext, "valueCode", v);
}

/* Latin letters (digits, blanks, apostrophes, hyphens, dots) and nothing
 * else: how pinyin (and test names) are written. */
static bool
latin_name(struct base_str s)
{
    bool letter = false;

    for (size_t i = 0; i < s.len; i++) {
        char ch = s.ptr[i];

        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'))
            letter = true;
        else if (!((ch >= '0' && ch <= '9') || ch == ' ' || ch == '\'' || ch == '-' || ch == '.'))
            return false;
    }
    return letter;
}

/* Chinese HIS write the patient's name as "pinyin^汉字" ('ZHANG SAN^张三',
 * 'CESHI1^测试1111'): the first component the romanised whole name, the
 * second the name in characters — not family^given (as "张^三" is).  Read
 * as family and given it became family 'ZHANG SAN', given '张三'.  Made
 * into two names: the characters (text, ideographic) and the pinyin
 * (text, syllabic).  Only in that exact shape: components 1 and 2, one
 * Latin, the other with Chinese characters and no Latin letter.  Others
 * (RIS and PACS interfaces: '张三丰^zhangsanfeng') put the characters
 * first; read as family and given that became given name 'zhangsanfeng'. */
bool
map_xpn_pinyin(struct mctx *c, const struct at *at, struct base_str rep, struct hl7v2_j *arr)
{
    struct base_str romanised;
    struct base_str hanzi;
    const char *use;

    if (!map_has_cjk(rep)) /* the common case, decided on the raw bytes */
        return false;
    romanised = map_txt(c, at, rep, 1, 0);
    hanzi = map_txt(c, at, rep, 2, 0);
    if (map_has_cjk(romanised)) {
        struct base_str t = romanised;

        /* a whole name has two characters or more (6 bytes of UTF-8);
         * one is a family name alone: '张^San' stays family and given */
        if (romanised.len < 6)
            return false;
        romanised = hanzi;
        hanzi = t;
    }
    if (!map_has_cjk(hanzi) || !latin_name(romanised) || map_txt(c, at, rep, 3, 0).len > 0 ||
        map_txt(c, at, rep, 4, 0).len > 0 || map_txt(c, at, rep, 5, 0).len > 0 ||
        map_txt(c, at, rep, 6, 0).len > 0)
        return false;
    for (size_t i = 0; i < hanzi.len; i++) {
        if ((hanzi.ptr[i] | 0x20) >= 'a' && (hanzi.ptr[i] | 0x20) <= 'z')
            return false;
    }
    use = name_use(map_txt(c, at, rep, 7, 0));
    for (int k = 0; k < 2; k++) {
        struct hl7v2_j *name = hl7v2_j_obj(&c->jb, arr, NULL);
        struct hl7v2_j *ext;

        hl7v2_j_str(&c->jb, name, "text", k == 0 ? hanzi : romanised);
        hl7v2_j_cstr(&c->jb, name, "use", use);
        ext = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, name, "extension"), NULL);
        hl7v2_j_cstr(&c->jb, ext, "url", EXT_REPRESENTATION);
        hl7v2_j_cstr(&c->jb, ext, "valueCode", k == 0 ? "IDE" : "SYL");
        period_from(c, at, name, map_txt(c, at, rep, 12, 0), map_txt(c, at, rep, 13, 0));
    }
    return true;
}

struct hl7v2_j *
map_xpn(struct mctx *c, const struct at *at, struct base_str rep)
{
    struct base_str family = map_txt(c, at, rep, 1, 1);
    struct base_str given = map_txt(c, at, rep, 2, 0);
    struct base_str middle = map_txt(c, at, rep, 3, 0);
    struct hl7v2_j *name = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct hl7v2_j *g;
    bool cjk = map_has_cjk(family) || map_has_cjk(given);

    if (cjk && given.len == 0 && middle.len == 0) {
        /* "张三" in one component: family/given cannot be split reliably
         * (compound surnames such as 欧阳), so keep the whole name as text */
        hl7v2_j_str(&c->jb, name, "text", family);
    } else {
        if (cjk) {
            struct base_str parts[3] = {family, given, middle};

            hl7v2_j_str(&c->jb, name, "text", map_join(c, parts, 3, ""));
        }
        hl7v2_j_str(&c->jb, name, "family", family);
        g = hl7v2_j_arr(&c->jb, name, "given");
        hl7v2_j_str(&c->jb, g, NULL, given);
        hl7v2_j_str(&c->jb, g, NULL, middle);
    }
    hl7v2_j_str(&c->jb, hl7v2_j_arr(&c->jb, name, "prefix"), NULL, map_txt(c, at, rep, 5, 0));
    g = hl7v2_j_arr(&c->jb, name, "suffix");
    hl7v2_j_str(&c->jb, g, NULL, map_txt(c, at, rep, 4, 0));
    hl7v2_j_str(&c->jb, g, NULL, map_txt(c, at, rep, 6, 0));
    hl7v2_j_str(&c->jb, g, NULL, map_txt(c, at, rep, 14, 0)); /* professional suffix */
    if (hl7v2_j_present(name)) {
        hl7v2_j_cstr(&c->jb, name, "use", name_use(map_txt(c, at, rep, 7, 0)));
        name_representation(c, name, map_txt(c, at, rep, 8, 0));
    }
    period_from(c, at, name, map_txt(c, at, rep, 12, 0), map_txt(c, at, rep, 13, 0));
    return name;
}

/* ------------------------------------------------------------------ XAD -- */

static void
address_use(struct mctx *c, struct hl7v2_j *addr, struct base_str t)
{
    const char *use = NULL;
    const char *type = NULL;

    if (map_is(t, "H") || map_is(t, "RH") || map_is(t, "P"))
        use = "home";
    else if (map_is(t, "B") || map_is(t, "O"))
        use = "work";
    else if (map_is(t, "C") || map_is(t, "V"))
        use = "temp";
    else if (map_is(t, "BA"))
        use = "old";
    else if (map_is(t, "M"))
        type = "postal";
    else if (map_is(t, "SH"))
        type = "physical";
    hl7v2_j_cstr(&c->jb, addr, "use", use);
    hl7v2_j_cstr(&c->jb, addr, "type", type);
}

static bool
ascii_alnum(char ch)
{
    return (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
}

/* A Chinese address reads from the largest unit down, unspaced: province,
 * city, district, street.  HIS often write the whole address in the street
 * line and fill province and city as well ('浙江省杭州市余杭区^^杭州^浙江'):
 * a unit the later parts already hold is not repeated.  Two Latin parts
 * ('Sesamstreet 17', '76137') keep a blank between them. */
static struct base_str
cn_address_text(struct mctx *c, const struct base_str *parts, size_t n)
{
    struct base_str keep[10];
    struct base_str sep = BASE_STR_LIT(" ");
    size_t k = 0;

    for (size_t i = 0; i < n && i < 4; i++) { /* n <= 5: at most 9 slices */
        bool inside = parts[i].len == 0;

        for (size_t j = i + 1; j < n && !inside; j++)
            inside = parts[j].len >= parts[i].len &&
                     memmem(parts[j].ptr, parts[j].len, parts[i].ptr, parts[i].len) != NULL;
        if (inside)
            continue;
        if (k > 0 && ascii_alnum(keep[k - 1].ptr[keep[k - 1].len - 1]) &&
            ascii_alnum(parts[i].ptr[0]))
            keep[k++] = sep;
        keep[k++] = parts[i];
    }
    for (size_t i = 4; i < n; i++) {
        if (parts[i].len == 0)
            continue;
        if (k > 0 && ascii_alnum(keep[k - 1].ptr[keep[k - 1].len - 1]) &&
            ascii_alnum(parts[i].ptr[0]))
            keep[k++] = sep;
        keep[k++] = parts[i];
    }
    return map_concat(c, keep, k);
}

struct hl7v2_j *
map_xad(struct mctx *c, const struct at *at, struct base_str rep)
{
    struct hl7v2_j *addr = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct hl7v2_j *lines;
    struct base_str street = map_txt(c, at, rep, 1, 1);
    struct base_str parts[7];

    if (street.len == 0) {
        parts[0] = map_txt(c, at, rep, 1, 3); /* dwelling number */
        parts[1] = map_txt(c, at, rep, 1, 2); /* street name */
        street = map_join(c, parts, 2, " ");
    } else {
        /* SAD.1 is the whole line ("Büchenweg 12&Büchenweg&12"), but some
         * senders put only the house number there ("1000&Hospital Lane"):
         * the street name and dwelling number it lacks are added */
        parts[0] = street;
        parts[1] = map_txt(c, at, rep, 1, 2);
        parts[2] = map_txt(c, at, rep, 1, 3);
        for (size_t i = 1; i < 3; i++) {
            if (parts[i].len > 0 && memmem(street.ptr, street.len, parts[i].ptr, parts[i].len))
                parts[i] = BASE_STR_NULL;
        }
        if (parts[1].len + parts[2].len > 0)
            street = map_join(c, parts, 3, " ");
    }
    parts[0] = map_txt(c, at, rep, 6, 0); /* country */
    parts[1] = map_txt(c, at, rep, 4, 0); /* state / province */
    parts[2] = map_txt(c, at, rep, 3, 0); /* city */
    parts[3] = map_txt(c, at, rep, 9, 2); /* county / district (CWE text, else code) */
    if (parts[3].len == 0)
        parts[3] = map_txt(c, at, rep, 9, 1);
    parts[4] = street;
    parts[5] = map_txt(c, at, rep, 2, 0); /* other designation */
    parts[6] = map_txt(c, at, rep, 5, 0); /* postal code */
    if (map_has_cjk(map_join(c, parts, 6, "")))
        hl7v2_j_str(&c->jb, addr, "text", cn_address_text(c, parts + 1, 5));
    lines = hl7v2_j_arr(&c->jb, addr, "line");
    hl7v2_j_str(&c->jb, lines, NULL, parts[4]);
    hl7v2_j_str(&c->jb, lines, NULL, parts[5]);
    hl7v2_j_str(&c->jb, addr, "city", parts[2]);
    hl7v2_j_str(&c->jb, addr, "district", parts[3]);
    hl7v2_j_str(&c->jb, addr, "state", parts[1]);
    hl7v2_j_str(&c->jb, addr, "postalCode", parts[6]);
    hl7v2_j_str(&c->jb, addr, "country", parts[0]);
    period_from(c, at, addr, map_txt(c, at, rep, 13, 0), map_txt(c, at, rep, 14, 0));
    if (hl7v2_j_present(addr))
        address_use(c, addr, map_txt(c, at, rep, 7, 0));
    return addr;
}

/* ------------------------------------------------------------------ XTN -- */

/* XTN-5 country code is NM; a sender that shifted its components by one
 * puts the equipment type there ('^PRN^^^PH^555^5555555'). */
static bool
xtn_country_ok(struct base_str cc)
{
    size_t i = cc.len > 0 && cc.ptr[0] == '+';

    if (i == cc.len)
        return false;
    for (; i < cc.len; i++) {
        if (cc.ptr[i] < '0' || cc.ptr[i] > '9')
            return false;
    }
    return true;
}

static struct base_str
xtn_number(struct mctx *c, const struct at *at, struct base_str rep)
{
    struct base_str v = map_txt(c, at, rep, 12, 0); /* unformatted number (v2.6+) */
    struct base_str parts[4];

    if (v.len == 0)
        v = map_txt(c, at, rep, 1, 0);
    if (v.len > 0)
        return v;
    parts[0] = map_txt(c, at, rep, 5, 0);
    if (!xtn_country_ok(parts[0]))
        parts[0] = BASE_STR_NULL;
    else if (parts[0].ptr[0] != '+')
        parts[0] = hl7v2_j_fmt(&c->jb, "+%.*s", (int)parts[0].len, parts[0].ptr);
    parts[1] = map_txt(c, at, rep, 6, 0);
    if (parts[1].len > 0)
        parts[1] = hl7v2_j_fmt(&c->jb, "(%.*s)", (int)parts[1].len, parts[1].ptr);
    parts[2] = map_txt(c, at, rep, 7, 0);
    parts[3] = map_txt(c, at, rep, 8, 0);
    if (parts[3].len > 0)
        parts[3] = hl7v2_j_fmt(&c->jb, "ext. %.*s", (int)parts[3].len, parts[3].ptr);
    if (parts[2].len == 0)
        return BASE_STR_NULL;
    return map_join(c, parts, 4, " ");
}

/* A bare Chinese mobile number (Chinese HIS put it in PID-13 without
 * XTN-2/3): 11 digits, 1 then 3-9 (MIIT numbering plan), optionally after
 * +86 or 86. */
static bool
cn_mobile(struct base_str v)
{
    if (base_str_starts_with(v, "+86"))
        v = base_str_trim(base_str_sub(v, 3, v.len - 3));
    else if (v.len == 13 && base_str_starts_with(v, "86"))
        v = base_str_sub(v, 2, v.len - 2);
    if (v.len != 11 || v.ptr[0] != '1' || v.ptr[1] < '3' || v.ptr[1] > '9')
        return false;
    for (size_t i = 2; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return false;
    }
    return true;
}

static bool
has_digit(struct base_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] >= '0' && s.ptr[i] <= '9')
            return true;
    }
    return false;
}

/* '(000)000-0000', '0000000': no number, written where the form wanted one */
static bool
zero_number(struct base_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] >= '1' && s.ptr[i] <= '9')
            return false;
    }
    return true;
}

struct hl7v2_j *
map_xtn(struct mctx *c, const struct at *at, struct base_str rep, const char *default_use)
{
    struct base_str use = map_txt(c, at, rep, 2, 0);
    struct base_str equip = map_txt(c, at, rep, 3, 0);
    struct base_str email = map_txt(c, at, rep, 4, 0);
    struct hl7v2_j *cp = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct base_str country = map_txt(c, at, rep, 5, 0);
    const char *system = "phone";
    struct base_str value;

    if (country.len > 0 && !xtn_country_ok(country)) {
        map_warn(c, at, "country code (XTN-5) is not a number; not part of the number");
        if (equip.len == 0)
            equip = country; /* components shifted by one: XTN-5 holds XTN-3 */
    }
    /* XTN-4 alone is an e-mail address, unless the equipment type says
     * it is a phone ('^^PH^+4583363014', Danish feeds put numbers there) */
    if (map_is(equip, "Internet") || map_is(equip, "X.400") || map_is(use, "NET") ||
        (email.len > 0 && xtn_number(c, at, rep).len == 0 &&
         (equip.len == 0 || memchr(email.ptr, '@', email.len) != NULL))) {
        system = "email";
        value = email.len > 0 ? email : map_txt(c, at, rep, 1, 0);
    } else {
        value = xtn_number(c, at, rep);
        if (value.len == 0 && email.len > 0) {
            map_warn(c, at, "a number in XTN-4 (e-mail) with a phone equipment type; read as one");
            value = email;
        }
        if (map_is(equip, "FX"))
            system = "fax";
        else if (map_is(equip, "BP") || map_is(use, "BPN"))
            system = "pager";
    }
    if (value.len == 0)
        return cp;
    if (strcmp(system, "email") != 0 && !has_digit(value)) {
        /* 'UNKNOWN', 'NONE', or a code shifted into the phone field
         * ('NK1|1|JONES^SARAH||555-4321||SPO'): no number to call */
        map_warn(c, at, "telephone number without a digit; not mapped");
        return cp;
    }
    if (strcmp(system, "email") != 0 && zero_number(value)) {
        map_warn(c, at, "telephone number is a placeholder (only zeros); not mapped");
        return cp;
    }
    hl7v2_j_cstr(&c->jb, cp, "system", system);
    hl7v2_j_str(&c->jb, cp, "value", value);
    if (map_is(equip, "CP"))
        hl7v2_j_cstr(&c->jb, cp, "use", "mobile");
    else if (map_is(use, "PRN") || map_is(use, "ORN"))
        hl7v2_j_cstr(&c->jb, cp, "use", "home");
    else if (map_is(use, "WPN"))
        hl7v2_j_cstr(&c->jb, cp, "use", "work");
    else if (map_is(use, "VHN"))
        hl7v2_j_cstr(&c->jb, cp, "use", "temp");
    else if (use.len == 0 && equip.len == 0 && cn_mobile(value))
        hl7v2_j_cstr(&c->jb, cp, "use", "mobile");
    else if (use.len == 0 && strcmp(system, "email") != 0)
        hl7v2_j_cstr(&c->jb, cp, "use", default_use);
    return cp;
}

/* ------------------------------------------------------------ XCN, XON -- */

struct hl7v2_j *
map_xcn_ref(struct mctx *c, const struct at *at, struct base_str rep)
{
    struct base_str id = map_txt(c, at, rep, 1, 0);
    struct base_str parts[5];
    struct hl7v2_j *ref = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct base_str display;

    parts[0] = map_txt(c, at, rep, 6, 0); /* prefix */
    parts[1] = map_txt(c, at, rep, 3, 0); /* given */
    parts[2] = map_txt(c, at, rep, 4, 0); /* middle */
    parts[3] = map_txt(c, at, rep, 2, 1); /* family */
    parts[4] = map_txt(c, at, rep, 5, 0); /* suffix */
    if (map_has_cjk(parts[3]) || map_has_cjk(parts[1])) {
        struct base_str cn[2] = {parts[3], parts[1]};

        display = map_join(c, cn, 2, "");
    } else {
        display = map_join(c, parts, 5, " ");
    }
    if (display.len == 0 && id.len > 0 &&
        (map_has_cjk(id) || memchr(id.ptr, ' ', id.len) != NULL ||
         memchr(id.ptr, ',', id.len) != NULL)) {
        /* a name where the ID belongs ('张检验师', 'SMITH, JOHN'): the
         * person's name, not an identifier other messages would share */
        display = id;
        id = BASE_STR_NULL;
    }
    if (id.len > 0) {
        struct hl7v2_j *ident = hl7v2_j_obj(&c->jb, ref, "identifier");

        hl7v2_j_str(&c->jb, ident, "system",
                    map_authority_system(c, map_txt(c, at, rep, 9, 1), map_txt(c, at, rep, 9, 2),
                                         map_txt(c, at, rep, 9, 3), "practitioner"));
        hl7v2_j_str(&c->jb, ident, "value", id);
    }
    hl7v2_j_str(&c->jb, ref, "display", display);
    return ref;
}

struct hl7v2_j *
map_xon_ref(struct mctx *c, const struct at *at, struct base_str rep)
{
    struct hl7v2_j *ref = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct base_str id = map_txt(c, at, rep, 10, 0);

    if (id.len == 0)
        id = map_txt(c, at, rep, 3, 0);
    if (id.len > 0) {
        struct hl7v2_j *ident = hl7v2_j_obj(&c->jb, ref, "identifier");

        hl7v2_j_str(&c->jb, ident, "system",
                    map_authority_system(c, map_txt(c, at, rep, 6, 1), map_txt(c, at, rep, 6, 2),
                                         map_txt(c, at, rep, 6, 3), "organization"));
        hl7v2_j_str(&c->jb, ident, "value", id);
    }
    hl7v2_j_str(&c->jb, ref, "display", map_txt(c, at, rep, 1, 0));
    return ref;
}
