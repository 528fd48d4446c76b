/*
 * PID -> Patient, NK1 -> Patient.contact, MRG -> Patient.link (merge).
 * v2-to-FHIR guide: Segment PID to Patient, NK1 to Patient, MRG.
 *
 * The Chinese resident identity number (居民身份证号码) gets its own
 * identifier under HL7V2_SYSTEM_CN_RESIDENT_ID when it is recognised — by
 * identifier type (NNCHN, NI, CZ, the WS 364.3 document type 01 and the
 * local spellings ID, IDCARD, SFZ, SFZH, SFZHM, 身份证), by assigning authority (its OID or the
 * names 身份证, 居民身份证, SFZ, SFZH, SFZHM, IDCARD), or in PID-19 where many Chinese HIS put it —
 * and only when it passes the GB 11643 check; otherwise it stays a local identifier and the mapping
 * warns.
 */
#include <string.h>

#include "adapters/hl7v2/map_int.h"

#define SYS_V2_0203 "http://terminology.hl7.org/CodeSystem/v2-0203"

/* ------------------------------------------------------ resident identity -- */

/* SFZ, SFZH, SFZHM: pinyin initials of 身份证(号码), as HIS such as
 * WinningSoft write them ("…^^^&SFZH"); "01": 居民身份证 in the Chinese
 * identity-document type code (WS 364.3 CV02.01.101, 身份证件类别代码)
 * that platform feeds put in CX-5 ('1402…^^^^01') */
static const char *const resid_types[] = {"NNCHN",
                                          "NI",
                                          "CZ",
                                          "ID",
                                          "IDCARD",
                                          "SFZ",
                                          "SFZH",
                                          "SFZHM",
                                          "RESID",
                                          "01",
                                          "\xE8\xBA\xAB\xE4\xBB\xBD\xE8\xAF\x81"}; /* 身份证 */
static const char *const resid_names[] = {
    "SFZ",
    "SFZH",
    "SFZHM",
    "IDCARD",
    "NNCHN",
    "\xE8\xBA\xAB\xE4\xBB\xBD\xE8\xAF\x81",                         /* 身份证 */
    "\xE5\xB1\x85\xE6\xB0\x91\xE8\xBA\xAB\xE4\xBB\xBD\xE8\xAF\x81", /* 居民身份证 */
    "2.16.156.10011.1.3"};

static bool
in_list(struct base_str s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (base_str_case_eq_cstr(s, list[i]))
            return true;
    }
    return false;
}

static bool
resident_hint(struct mctx *c, const struct at *at, struct base_str rep)
{
    return in_list(map_txt(c, at, rep, 5, 0), resid_types, BASE_ARRAY_LEN(resid_types)) ||
           in_list(map_txt(c, at, rep, 4, 1), resid_names, BASE_ARRAY_LEN(resid_names)) ||
           in_list(map_txt(c, at, rep, 4, 2), resid_names, BASE_ARRAY_LEN(resid_names));
}

/* Worth a warning when it fails the check?  NI, ID, CZ and 01 are generic
 * types (an Australian IHI is '8003…^^^AUSHIC^NI', 16 digits): under them
 * only a value of the Chinese number's length (15 or 18) was meant as
 * one. */
static bool
looks_resident(struct mctx *c, const struct at *at, struct base_str rep)
{
    static const char *const generic[] = {"NI", "ID", "CZ", "01"};
    struct base_str v = base_str_trim(map_txt(c, at, rep, 1, 0));

    if (v.len == 0)
        return false;
    if (in_list(map_txt(c, at, rep, 5, 0), generic, BASE_ARRAY_LEN(generic)) &&
        !in_list(map_txt(c, at, rep, 4, 1), resid_names, BASE_ARRAY_LEN(resid_names)) &&
        !in_list(map_txt(c, at, rep, 4, 2), resid_names, BASE_ARRAY_LEN(resid_names)))
        return v.len == 15 || v.len == 18;
    return true;
}

static struct hl7v2_j *
resident_identifier(struct mctx *c, const char *norm)
{
    struct hl7v2_j *id = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct hl7v2_j *type = hl7v2_j_obj(&c->jb, id, "type");

    hl7v2_j_cstr(&c->jb, id, "use", "official");
    map_coding(c, hl7v2_j_arr(&c->jb, type, "coding"), SYS_V2_0203, base_str_from_cstr("NI"),
               "National unique individual identifier");
    hl7v2_j_cstr(&c->jb, type, "text",
                 "\xE5\xB1\x85\xE6\xB0\x91\xE8\xBA\xAB\xE4\xBB\xBD\xE8\xAF\x81"
                 "\xE5\x8F\xB7\xE7\xA0\x81"); /* 居民身份证号码 */
    hl7v2_j_cstr(&c->jb, id, "system", HL7V2_SYSTEM_CN_RESIDENT_ID);
    hl7v2_j_str(&c->jb, id, "value", hl7v2_j_fmt(&c->jb, "%s", norm));
    return id;
}

/* ------------------------------------------------------------- identifiers -- */

struct pid_ids {
    struct hl7v2_j *arr;
    struct base_str sys; /* the key identifier */
    struct base_str val;
    int rank;       /* how good the key is (key_rank); 1 resident id */
    char resid[19]; /* resident id already added */
    /* identifiers added from PID-3/2/4: the same one in two fields (a v2.2
     * style PID-2 that repeats PID-3) is listed once */
    struct base_str seen_sys[16];
    struct base_str seen_val[16];
    size_t nseen;
};

static bool
seen_before(struct pid_ids *ids, struct base_str sys, struct base_str val)
{
    for (size_t i = 0; i < ids->nseen; i++) {
        if (base_str_eq(ids->seen_sys[i], sys) && base_str_eq(ids->seen_val[i], val))
            return true;
    }
    if (ids->nseen < BASE_ARRAY_LEN(ids->seen_sys)) {
        ids->seen_sys[ids->nseen] = sys;
        ids->seen_val[ids->nseen++] = val;
    }
    return false;
}

static void
consider_key(struct pid_ids *ids, struct base_str sys, struct base_str val, int rank)
{
    if (rank > ids->rank && sys.len > 0 && val.len > 0) {
        ids->sys = sys;
        ids->val = val;
        ids->rank = rank;
    }
}

static void
add_resident(struct mctx *c, struct pid_ids *ids, const char *norm)
{
    if (strcmp(ids->resid, norm) == 0)
        return;
    memcpy(ids->resid, norm, sizeof(ids->resid));
    hl7v2_j_add(ids->arr, NULL, resident_identifier(c, norm));
    consider_key(ids, base_str_from_cstr(HL7V2_SYSTEM_CN_RESIDENT_ID),
                 hl7v2_j_fmt(&c->jb, "%s", norm), 1);
}

/* How good a PID identifier is as the Patient's key.  PID-3 is the
 * patient identifier list (PID-2 and PID-4 are kept for backward
 * compatibility since v2.3.1): a record number there (MR, PI, PT, untyped,
 * or the "MRN" many senders write) is the best; any other PID-3 entry that
 * is not a person-level or account number (SS, DL, PPN, national ids,
 * account and visit numbers) still beats PID-2/PID-4, whose record
 * numbers come next. */
static int
key_rank(struct base_str type, uint32_t field)
{
    static const char *const record[] = {"MR", "PI", "PT", "MRN", "MRT", "PN", "PE"};
    static const char *const person[] = {"SS", "DL", "PPN", "AN", "VN", "NI", "NH", "DR", "BC"};
    bool is_record = type.len == 0;

    for (size_t i = 0; !is_record && i < BASE_ARRAY_LEN(record); i++)
        is_record = map_is(type, record[i]);
    if (is_record)
        return field == 3 ? 5 : 3;
    for (size_t i = 0; i < BASE_ARRAY_LEN(person); i++) {
        if (map_is(type, person[i]))
            return 2;
    }
    if (type.len > 2 && memcmp(type.ptr, "NN", 2) == 0)
        return 2; /* NNxxx: national person identifier of country xxx */
    return field == 3 ? 4 : 2;
}

static bool us_ssn_ok(struct base_str v);

static const char *
ssn_system(const struct mctx *c)
{
    return c->o->ssn_system != NULL ? c->o->ssn_system : "http://hl7.org/fhir/sid/us-ssn";
}

/* CX-4 'USSSA' is the US Social Security Administration (HL7 table 0363):
 * the number is the SSN, the same one PID-19 carries ('123456789^^^USSSA^SS'
 * became a member-local identifier beside the SSN of PID-19).  Only a
 * number the SSA could have issued: placeholders would link strangers. */
static void
ssn_authority(struct mctx *c, const struct at *at, struct base_str rep, struct hl7v2_j *id,
              struct base_str *sys)
{
    struct hl7v2_j *s;

    if (!map_is(map_txt(c, at, rep, 4, 1), "USSSA") || !us_ssn_ok(map_txt(c, at, rep, 1, 0)))
        return;
    *sys = base_str_from_cstr(ssn_system(c));
    s = hl7v2_j_get(id, "system");
    if (s != NULL)
        s->s = *sys;
}

static void
add_cx_list(struct mctx *c, const struct hl7v2_seg *pid, uint32_t field, struct pid_ids *ids)
{
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, pid, field); r <= nr_; r++) {
        struct at at;
        struct base_str rep = map_rep(c, pid, field, r, &at);
        struct base_str sys;
        struct base_str val;
        struct base_str type;
        struct hl7v2_j *id;
        char norm[19];
        bool failed = false;

        if (resident_hint(c, &at, rep)) {
            if (hl7v2_cn_resident_id(map_txt(c, &at, rep, 1, 0), norm)) {
                add_resident(c, ids, norm);
                continue;
            }
            failed = true;
            if (looks_resident(c, &at, rep))
                map_warn(c, &at,
                         "resident identity number fails the GB 11643 check; "
                         "kept as a local identifier");
        }
        id = map_cx(c, &at, rep, "id", &sys, &val);
        if (id == NULL)
            continue;
        if (failed && base_str_eq_cstr(sys, HL7V2_SYSTEM_CN_RESIDENT_ID)) {
            /* the sender named the national system ('…^^^&2.16.156.10011.1.3&ISO')
             * for a number that is none: under it, it would link whoever
             * else carries the same wrong number across members */
            struct hl7v2_j *s = hl7v2_j_get(id, "system");

            sys = map_authority_system(c, BASE_STR_NULL, BASE_STR_NULL, BASE_STR_NULL, "id");
            if (s != NULL)
                s->s = sys;
        }
        ssn_authority(c, &at, rep, id, &sys);
        if (!seen_before(ids, sys, val))
            hl7v2_j_add(ids->arr, NULL, id);
        type = map_txt(c, &at, rep, 5, 0);
        consider_key(ids, sys, val, key_rank(type, field));
    }
}

/* A US social security number as the SSA issues them: nine digits (dashes
 * and blanks aside), area not 000, 666 or 9xx, group not 00, serial not
 * 0000.  Feeds put placeholders in PID-19 ('SSN# HERE', '999-99-9999',
 * '000000000'); as identifiers those would link unrelated patients. */
static bool
us_ssn_ok(struct base_str v)
{
    char d[9];
    size_t n = 0;

    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] == '-' || v.ptr[i] == ' ')
            continue;
        if (v.ptr[i] < '0' || v.ptr[i] > '9' || n == sizeof(d))
            return false;
        d[n++] = v.ptr[i];
    }
    return n == 9 && memcmp(d, "000", 3) != 0 && memcmp(d, "666", 3) != 0 && d[0] != '9' &&
           memcmp(d + 3, "00", 2) != 0 && memcmp(d + 5, "0000", 4) != 0;
}

static void
add_ssn(struct mctx *c, const struct hl7v2_seg *pid, struct pid_ids *ids)
{
    struct base_str v = map_field(c, pid, 19);
    const char *sys = ssn_system(c);
    struct hl7v2_j *id;
    char norm[19];

    if (v.len == 0)
        return;
    if (hl7v2_cn_resident_id(v, norm)) {
        add_resident(c, ids, norm);
        return;
    }
    if (c->o->ssn_system == NULL && !us_ssn_ok(v)) {
        struct at at = {pid, 19, 1};

        /* 15 or 18 characters: a resident identity number (where Chinese
         * HIS put it) that failed its check, not a social security number */
        map_warn(c, &at,
                 v.len == 15 || v.len == 18
                     ? "resident identity number fails the GB 11643 check (and is no US "
                       "social security number); not mapped"
                     : "not a valid US social security number; not mapped");
        return;
    }
    if (seen_before(ids, base_str_from_cstr(sys), v))
        return; /* already in PID-3 under USSSA */
    id = hl7v2_j_obj(&c->jb, ids->arr, NULL);
    map_coding(c, hl7v2_j_arr(&c->jb, hl7v2_j_obj(&c->jb, id, "type"), "coding"), SYS_V2_0203,
               base_str_from_cstr("SS"), NULL);
    hl7v2_j_cstr(&c->jb, id, "system", sys);
    hl7v2_j_str(&c->jb, id, "value", v);
}

static void
add_dln(struct mctx *c, const struct hl7v2_seg *pid, struct pid_ids *ids)
{
    struct at at;
    struct base_str rep = map_rep(c, pid, 20, 1, &at);
    struct base_str num = map_txt(c, &at, rep, 1, 0);
    struct base_str state = map_txt(c, &at, rep, 2, 0);
    struct hl7v2_j *id;

    if (num.len == 0)
        return;
    id = hl7v2_j_obj(&c->jb, ids->arr, NULL);
    map_coding(c, hl7v2_j_arr(&c->jb, hl7v2_j_obj(&c->jb, id, "type"), "coding"), SYS_V2_0203,
               base_str_from_cstr("DL"), NULL);
    hl7v2_j_str(&c->jb, id, "system",
                map_authority_system(c, state.len > 0 ? state : base_str_from_cstr("DL"),
                                     BASE_STR_NULL, BASE_STR_NULL, "id"));
    hl7v2_j_str(&c->jb, id, "value", num);
    hl7v2_j_str(&c->jb, hl7v2_j_obj(&c->jb, id, "period"), "end",
                map_ts(c, &at, map_txt(c, &at, rep, 3, 0), TS_DATE));
}

/* ------------------------------------------------------------ demographics -- */

static const char *
gender(struct base_str g)
{
    /* HL7 table 0001, and GB/T 2261.1 codes and words Chinese HIS send */
    if (map_is(g, "M") || map_is(g, "1") || map_is(g, "\xE7\x94\xB7")) /* 男 */
        return "male";
    if (map_is(g, "F") || map_is(g, "2") || map_is(g, "\xE5\xA5\xB3")) /* 女 */
        return "female";
    if (map_is(g, "O") || map_is(g, "A") || map_is(g, "N"))
        return "other";
    if (map_is(g, "U") || map_is(g, "0") || map_is(g, "9"))
        return "unknown";
    /* some senders (Cerner exports among them) write the words, which are
     * the FHIR administrative-gender codes themselves */
    if (g.len > 1) {
        static const char *const words[] = {"male", "female", "other", "unknown"};

        for (size_t i = 0; i < BASE_ARRAY_LEN(words); i++) {
            if (base_str_case_eq_cstr(g, words[i]))
                return words[i];
        }
    }
    return NULL;
}

static const char *
marital(struct base_str m)
{
    /* v2-to-FHIR ConceptMap table-hl70002-to-v3-maritalstatus, plus the
     * GB/T 2261.2 codes (10 unmarried, 2x married, 30 widowed, 40 divorced,
     * 90 unspecified); O (other) and U (unknown) are v3 NullFlavor codes */
    static const char *const map[][2] = {
        {"A", "L"},  {"B", "U"},  {"C", "T"},   {"D", "D"},   {"E", "L"},    {"G", "T"},
        {"I", "I"},  {"M", "M"},  {"N", "A"},   {"P", "T"},   {"R", "T"},    {"S", "S"},
        {"W", "W"},  {"10", "S"}, {"20", "M"},  {"21", "M"},  {"22", "M"},   {"23", "M"},
        {"30", "W"}, {"40", "D"}, {"O", "OTH"}, {"U", "UNK"}, {"90", "UNK"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(map); i++) {
        if (map_is(m, map[i][0]))
            return map[i][1];
    }
    return NULL;
}

static void
map_marital(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *pid)
{
    struct at at;
    struct base_str rep = map_rep(c, pid, 16, 1, &at);
    struct base_str code = map_txt(c, &at, rep, 1, 0);
    const char *v3 = marital(code);
    struct hl7v2_j *cc;

    if (code.len == 0)
        return;
    if (v3 == NULL) {
        hl7v2_j_add(res, "maritalStatus", map_cwe(c, &at, rep, "PID-16"));
        return;
    }
    cc = map_concept1(c,
                      strcmp(v3, "OTH") == 0 || strcmp(v3, "UNK") == 0
                          ? "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
                          : "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
                      v3, NULL);
    hl7v2_j_str(&c->jb, cc, "text", map_txt(c, &at, rep, 2, 0));
    hl7v2_j_add(res, "maritalStatus", cc);
}

static void
map_birth(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *pid)
{
    struct at at;
    struct base_str rep = map_rep(c, pid, 7, 1, &at);
    struct base_str ts = map_txt(c, &at, rep, 1, 0);
    struct hl7v2_j *ext;
    struct base_str time;

    hl7v2_j_str(&c->jb, res, "birthDate", map_ts(c, &at, ts, TS_DATE));
    if (ts.len <= 8 || !hl7v2_j_present(hl7v2_j_get(res, "birthDate")))
        return;
    /* a birth time rides on the date (core extension patient-birthTime);
     * "1990-03-07" (a HIS export's ISO date) is longer than 8 and has none */
    time = map_ts(c, &at, ts, TS_DATETIME);
    if (time.len == 0 || memchr(time.ptr, 'T', time.len) == NULL)
        return;
    ext = hl7v2_j_obj(
        &c->jb, hl7v2_j_arr(&c->jb, hl7v2_j_obj(&c->jb, res, "_birthDate"), "extension"), NULL);
    hl7v2_j_cstr(&c->jb, ext, "url", "http://hl7.org/fhir/StructureDefinition/patient-birthTime");
    hl7v2_j_str(&c->jb, ext, "valueDateTime", time);
}

/* The same number in PID-13 and PID-14 (Chinese HIS fill both with the
 * mobile number) is one ContactPoint, not two. */
static bool
contact_listed(const struct hl7v2_j *arr, const struct hl7v2_j *cp)
{
    const struct hl7v2_j *v = hl7v2_j_get(cp, "value");
    const struct hl7v2_j *s = hl7v2_j_get(cp, "system");

    if (v == NULL || s == NULL)
        return false;
    for (const struct hl7v2_j *e = arr->first; e != NULL; e = e->next) {
        const struct hl7v2_j *ev = hl7v2_j_get(e, "value");
        const struct hl7v2_j *es = hl7v2_j_get(e, "system");

        if (ev != NULL && es != NULL && base_str_eq(ev->s, v->s) && base_str_eq(es->s, s->s))
            return true;
    }
    return false;
}

static void
map_repeated(struct mctx *c, struct hl7v2_j *arr, const struct hl7v2_seg *seg, uint32_t field,
             char kind, const char *use)
{
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, seg, field); r <= nr_; r++) {
        struct at at;
        struct base_str rep = map_rep(c, seg, field, r, &at);

        if (kind == 'n') {
            if (!map_xpn_pinyin(c, &at, rep, arr))
                hl7v2_j_add(arr, NULL, map_xpn(c, &at, rep));
        } else if (kind == 'a')
            hl7v2_j_add(arr, NULL, map_xad(c, &at, rep));
        else {
            struct hl7v2_j *cp = map_xtn(c, &at, rep, use);
            struct base_str email = map_txt(c, &at, rep, 4, 0);
            const struct hl7v2_j *sys = hl7v2_j_get(cp, "system");

            if (!contact_listed(arr, cp))
                hl7v2_j_add(arr, NULL, cp);
            /* a number and an e-mail address in one XTN
             * ('2024561000^^^someone@example.org'): both are contacts */
            if (sys != NULL && email.len > 0 && !base_str_eq_cstr(sys->s, "email") &&
                memchr(email.ptr, '@', email.len) != NULL) {
                struct hl7v2_j *em = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);

                hl7v2_j_cstr(&c->jb, em, "system", "email");
                hl7v2_j_str(&c->jb, em, "value", email);
                if (!contact_listed(arr, em))
                    hl7v2_j_add(arr, NULL, em);
            }
        }
    }
}

/* PID-15: FHIR languages are BCP 47 tags (urn:ietf:bcp:47, "zh", "en",
 * "zh-CN"); senders write ISO 639 codes with ISO639 / ISO6391 / HL70296 or
 * no system.  A two-letter code is the same tag (lower case); anything
 * else stays as the sender coded it. */
static struct hl7v2_j *
language(struct mctx *c, const struct at *at, struct base_str rep)
{
    struct base_str code = map_txt(c, at, rep, 1, 0);
    struct base_str sys = map_txt(c, at, rep, 3, 0);
    char tag[3];
    struct hl7v2_j *cc;
    struct hl7v2_j *cd;

    if (code.len != 2 || !((code.ptr[0] | 0x20) >= 'a' && (code.ptr[0] | 0x20) <= 'z') ||
        !((code.ptr[1] | 0x20) >= 'a' && (code.ptr[1] | 0x20) <= 'z') ||
        !(sys.len == 0 || base_str_case_eq_cstr(sys, "ISO639") ||
          base_str_case_eq_cstr(sys, "ISO6391") || base_str_case_eq_cstr(sys, "ISO639-1") ||
          base_str_case_eq_cstr(sys, "HL70296")))
        return map_cwe(c, at, rep, "PID-15");
    tag[0] = (char)(code.ptr[0] | 0x20);
    tag[1] = (char)(code.ptr[1] | 0x20);
    tag[2] = '\0';
    cc = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    cd = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, cc, "coding"), NULL);
    hl7v2_j_cstr(&c->jb, cd, "system", "urn:ietf:bcp:47");
    hl7v2_j_str(&c->jb, cd, "code", hl7v2_j_fmt(&c->jb, "%s", tag));
    hl7v2_j_str(&c->jb, cd, "display", map_txt(c, at, rep, 2, 0));
    return cc;
}

static void
map_misc(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *pid)
{
    struct at at;
    struct base_str v;
    struct base_str death;
    int64_t order;

    {
        struct base_str g = map_field(c, pid, 8);
        const char *code = gender(g);

        if (code == NULL && g.len > 0) {
            struct at gat = {pid, 8, 1};

            map_warn(c, &gat, "administrative sex not in table 0001; gender not mapped");
        }
        hl7v2_j_cstr(&c->jb, res, "gender", code);
    }
    map_birth(c, res, pid);
    at = (struct at){pid, 29, 1};
    death = map_ts(c, &at, map_field(c, pid, 29), TS_DATETIME);
    v = map_field(c, pid, 30);
    if (death.len > 0)
        hl7v2_j_str(&c->jb, res, "deceasedDateTime", death);
    else if (map_is(v, "Y") || map_is(v, "N"))
        hl7v2_j_bool(&c->jb, res, "deceasedBoolean", v.ptr[0] == 'Y');
    map_marital(c, res, pid);
    v = map_field(c, pid, 24);
    if (base_str_to_i64(map_field(c, pid, 25), &order) && order > 0 && order < 100)
        hl7v2_j_num(&c->jb, res, "multipleBirthInteger", hl7v2_j_fmt(&c->jb, "%d", (int)order));
    else if (map_is(v, "Y") || map_is(v, "N"))
        hl7v2_j_bool(&c->jb, res, "multipleBirthBoolean", v.ptr[0] == 'Y');
    v = map_rep(c, pid, 15, 1, &at);
    if (map_txt(c, &at, v, 0, 0).len > 0) {
        struct hl7v2_j *comm = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "communication"), NULL);

        hl7v2_j_add(comm, "language", language(c, &at, v));
    }
}

static void
map_mothers_maiden(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *pid)
{
    struct at at;
    struct base_str rep = map_rep(c, pid, 6, 1, &at);
    struct base_str family = map_txt(c, &at, rep, 1, 1);
    struct hl7v2_j *ext;

    if (family.len == 0)
        return;
    ext = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "extension"), NULL);
    hl7v2_j_cstr(&c->jb, ext, "url",
                 "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName");
    hl7v2_j_str(&c->jb, ext, "valueString", family);
}

/* PID-11 (repeating XAD); an address of type BR (table 0190: birth
 * residence) is where the patient was born, not where they live: it and
 * PID-23 birth place go to the patient-birthPlace extension (v2-to-FHIR
 * PID map). */
static void
map_addresses(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *pid)
{
    struct hl7v2_j *birth = NULL;
    struct hl7v2_j *ext;

    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, pid, 11); r <= nr_; r++) {
        struct at at;
        struct base_str rep = map_rep(c, pid, 11, r, &at);

        if (!map_is(map_txt(c, &at, rep, 7, 0), "BR")) {
            hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "address"), NULL, map_xad(c, &at, rep));
        } else if (birth == NULL) {
            birth = map_xad(c, &at, rep);
        }
    }
    if (!hl7v2_j_present(birth) && map_field(c, pid, 23).len > 0) {
        birth = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
        hl7v2_j_str(&c->jb, birth, "text", map_field(c, pid, 23));
    }
    if (!hl7v2_j_present(birth))
        return;
    ext = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "extension"), NULL);
    hl7v2_j_cstr(&c->jb, ext, "url", "http://hl7.org/fhir/StructureDefinition/patient-birthPlace");
    hl7v2_j_add(ext, "valueAddress", birth);
}

static void
fill_patient(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *pid, struct hl7v2_j *ids)
{
    map_mothers_maiden(c, res, pid);
    hl7v2_j_add(res, "identifier", ids);
    map_repeated(c, hl7v2_j_arr(&c->jb, res, "name"), pid, 5, 'n', NULL);
    {
        struct hl7v2_j *tel = hl7v2_j_arr(&c->jb, res, "telecom");

        map_repeated(c, tel, pid, 13, 't', "home");
        map_repeated(c, tel, pid, 14, 't', "work");
        map_repeated(c, tel, pid, 40, 't', "home");
    }
    map_misc(c, res, pid);
    map_addresses(c, res, pid);
}

static struct hl7v2_j *link_to(struct mctx *c, const struct ent *other, const char *type);
static struct hl7v2_j *links_of(struct mctx *c, struct hl7v2_j *res);

void
map_pid(struct mctx *c, const struct hl7v2_seg *pid)
{
    struct pid_ids ids = {0};
    struct base_str key[2];
    struct at at = {pid, 3, 0};
    struct ent *e;

    ids.arr = hl7v2_j_new(&c->jb, HL7V2_J_ARR);
    add_cx_list(c, pid, 3, &ids);
    add_cx_list(c, pid, 2, &ids);
    add_cx_list(c, pid, 4, &ids);
    add_ssn(c, pid, &ids);
    add_dln(c, pid, &ids);
    if (ids.rank == 0) {
        map_fail(c, BASE_E_INVALID, "required", &at, 0,
                 "patient has no identifier (PID-3, PID-2 and PID-4 are empty)");
        return;
    }
    key[0] = ids.sys;
    key[1] = ids.val;
    e = map_entry(c, "Patient", key, 2, ids.sys, ids.val);
    if (e == NULL)
        return;
    /* A24 "link patient information": the second PID is another record of
     * the same person; v2-to-FHIR ADT_A24 links the two as seealso */
    if (c->patient != NULL && c->patient != e && c->cls == MC_ADT && map_is(c->event, "A24")) {
        hl7v2_j_add(links_of(c, c->patient->res), NULL, link_to(c, e, "seealso"));
        hl7v2_j_add(links_of(c, e->res), NULL, link_to(c, c->patient, "seealso"));
    }
    c->patient = e;
    {
        struct base_str parts[3] = {ids.sys, BASE_STR_LIT("|"), ids.val};

        c->patient_key = map_concat(c, parts, 3);
    }
    c->encounter = NULL;
    if (hl7v2_j_get(e->res, "identifier") != NULL)
        return; /* the same patient again in this message: keep the first */
    fill_patient(c, e->res, pid, ids.arr);
}

/* ------------------------------------------------------------------- NK1 -- */

/* HL7 table 0063 (relationship), v2.5.1-v2.9 */
/* table 0131 contact role (v2.9) */
static const char *const contact_roles[] = {"BP", "C", "CP", "E", "EP", "F", "I",
                                            "N",  "O", "PR", "S", "U",  NULL};
static const char *const relationship_codes[] = {
    "ASC", "BRO", "CGV", "CHD", "DEP", "DOM", "EMC", "EME", "EMR", "EXF", "FCH",
    "FND", "FTH", "GCH", "GRD", "GRP", "MGR", "MTH", "NCH", "NON", "OAD", "OTH",
    "OWN", "PAR", "SCH", "SEL", "SIB", "SIS", "SPO", "TRA", "UNK", "WRD", NULL};

void
map_nk1(struct mctx *c, const struct hl7v2_seg *nk1)
{
    struct hl7v2_j *contact;
    struct hl7v2_j *rel;
    struct at at;
    struct base_str rep;

    if (c->patient == NULL)
        return;
    contact = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    rep = map_rep(c, nk1, 2, 1, &at);
    hl7v2_j_add(contact, "name", map_xpn(c, &at, rep));
    map_repeated(c, hl7v2_j_arr(&c->jb, contact, "telecom"), nk1, 5, 't', "home");
    map_repeated(c, hl7v2_j_arr(&c->jb, contact, "telecom"), nk1, 6, 't', "work");
    rep = map_rep(c, nk1, 4, 1, &at);
    hl7v2_j_add(contact, "address", map_xad(c, &at, rep));
    rep = map_rep(c, nk1, 13, 1, &at);
    hl7v2_j_add(contact, "organization", map_xon_ref(c, &at, rep));
    /* pat-1: a contact needs a name, telecom, address or organization */
    if (!hl7v2_j_present(contact))
        return;
    rel = hl7v2_j_arr(&c->jb, contact, "relationship");
    rep = map_rep(c, nk1, 7, 1, &at);
    hl7v2_j_add(rel, NULL, map_cwe_table(c, &at, rep, "NK1-7", "0131", contact_roles));
    rep = map_rep(c, nk1, 3, 1, &at);
    hl7v2_j_add(rel, NULL, map_cwe_table(c, &at, rep, "NK1-3", "0063", relationship_codes));
    hl7v2_j_add(hl7v2_j_get(c->patient->res, "contact") != NULL
                    ? hl7v2_j_get(c->patient->res, "contact")
                    : hl7v2_j_arr(&c->jb, c->patient->res, "contact"),
                NULL, contact);
}

/* ------------------------------------------------------------------- PD1 -- */

static void
general_practitioner(struct mctx *c, struct hl7v2_j *list, struct hl7v2_j *ref, const char *type)
{
    if (!hl7v2_j_present(ref))
        return;
    hl7v2_j_cstr(&c->jb, ref, "type", type);
    hl7v2_j_add(list, NULL, ref);
}

/* PD1-3 patient primary facility (XON) and PD1-4 primary care provider
 * (XCN) -> Patient.generalPractitioner (v2-to-FHIR PD1 map); logical
 * references, as elsewhere here. */
void
map_pd1(struct mctx *c, const struct hl7v2_seg *pd1)
{
    struct hl7v2_j *list;

    if (c->patient == NULL)
        return;
    list = hl7v2_j_get(c->patient->res, "generalPractitioner");
    if (list == NULL)
        list = hl7v2_j_arr(&c->jb, c->patient->res, "generalPractitioner");
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, pd1, 3); r <= nr_; r++) {
        struct at at;
        struct base_str rep = map_rep(c, pd1, 3, r, &at);

        general_practitioner(c, list, map_xon_ref(c, &at, rep), "Organization");
    }
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, pd1, 4); r <= nr_; r++) {
        struct at at;
        struct base_str rep = map_rep(c, pd1, 4, r, &at);

        general_practitioner(c, list, map_xcn_ref(c, &at, rep), "Practitioner");
    }
}

/* ------------------------------------------------------------------- MRG -- */

static struct hl7v2_j *
link_to(struct mctx *c, const struct ent *other, const char *type)
{
    struct hl7v2_j *l = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);

    map_ref_to(c, l, "other", other);
    hl7v2_j_cstr(&c->jb, l, "type", type);
    return l;
}

static struct hl7v2_j *
links_of(struct mctx *c, struct hl7v2_j *res)
{
    struct hl7v2_j *l = hl7v2_j_get(res, "link");

    return l != NULL ? l : hl7v2_j_arr(&c->jb, res, "link");
}

/*
 * The events whose MRG retires a patient record in favour of the PID's:
 * merges (A18 A30 A34 A36 A39 A40) and identifier changes (A46 A47), which
 * leave the old identifier's record behind the same way.  On the others MRG
 * names an account or visit being merged or moved, or a record that some
 * visits move away from (A41-A45, A49-A51); both patients stay as they are.
 */
static bool
mrg_retires_a_patient(const struct mctx *c)
{
    static const char *const ev[] = {"A18", "A30", "A34", "A36", "A39", "A40", "A46", "A47"};

    if (c->cls != MC_ADT)
        return false;
    for (size_t i = 0; i < BASE_ARRAY_LEN(ev); i++) {
        if (map_is(c->event, ev[i]))
            return true;
    }
    return false;
}

void
map_mrg(struct mctx *c, const struct hl7v2_seg *mrg)
{
    struct pid_ids ids = {0};
    struct base_str key[2];
    struct at at = {mrg, 1, 0};
    struct ent *old;
    struct base_str rep;

    if (!mrg_retires_a_patient(c)) {
        map_warn(c, &at,
                 "MRG on this event merges or moves an account or visit, not a patient; "
                 "no patient link made");
        return;
    }
    if (c->patient == NULL) {
        map_warn(c, &at, "merge without a surviving patient (no PID before MRG); not mapped");
        return;
    }
    ids.arr = hl7v2_j_new(&c->jb, HL7V2_J_ARR);
    add_cx_list(c, mrg, 1, &ids);
    if (ids.rank == 0) {
        map_fail(c, BASE_E_INVALID, "required", &at, 0, "merge names no prior patient identifier");
        return;
    }
    key[0] = ids.sys;
    key[1] = ids.val;
    old = map_entry(c, "Patient", key, 2, ids.sys, ids.val);
    if (old == NULL || old == c->patient)
        return;
    if (hl7v2_j_get(old->res, "identifier") == NULL) {
        /* the prior record becomes a stub: inactive, pointing at the survivor */
        hl7v2_j_add(old->res, "identifier", ids.arr);
        hl7v2_j_bool(&c->jb, old->res, "active", false);
        rep = map_rep(c, mrg, 7, 1, &at);
        hl7v2_j_add(hl7v2_j_arr(&c->jb, old->res, "name"), NULL, map_xpn(c, &at, rep));
    }
    hl7v2_j_add(links_of(c, old->res), NULL, link_to(c, c->patient, "replaced-by"));
    hl7v2_j_add(links_of(c, c->patient->res), NULL, link_to(c, old, "replaces"));
}

/* ------------------------------------------------------------- GB 11643 -- */

static int
check_char(const char *d17)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;

    for (int i = 0; i < 17; i++)
        sum += (d17[i] - '0') * w[i];
    return "10X98765432"[sum % 11];
}

static bool
plausible_birth(const char *d, int century)
{
    int y = century * 100 + (d[0] - '0') * 10 + (d[1] - '0');
    int m = (d[2] - '0') * 10 + (d[3] - '0');
    int day = (d[4] - '0') * 10 + (d[5] - '0');

    (void)y;
    return m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

bool
hl7v2_cn_resident_id(struct base_str s, char out[19])
{
    s = base_str_trim(s);
    for (size_t i = 0; i < s.len; i++) {
        bool last = i == 17;

        if (!(s.ptr[i] >= '0' && s.ptr[i] <= '9') &&
            !(last && (s.ptr[i] == 'X' || s.ptr[i] == 'x')))
            return false;
    }
    if (s.len == 18) {
        int y = (s.ptr[6] - '0') * 1000 + (s.ptr[7] - '0') * 100;

        if ((y != 1800 && y != 1900 && y != 2000) || !plausible_birth(s.ptr + 8, y / 100))
            return false;
        if (check_char(s.ptr) != (s.ptr[17] == 'x' ? 'X' : s.ptr[17]))
            return false;
        memcpy(out, s.ptr, 17);
        out[17] = s.ptr[17] == 'x' ? 'X' : s.ptr[17];
        out[18] = '\0';
        return true;
    }
    if (s.len == 15 && plausible_birth(s.ptr + 6, 19)) {
        /* GB 11643-1989: region(6) YYMMDD order(3); 1999 edition inserts "19" */
        memcpy(out, s.ptr, 6);
        out[6] = '1';
        out[7] = '9';
        memcpy(out + 8, s.ptr + 6, 9);
        out[17] = (char)check_char(out);
        out[18] = '\0';
        return true;
    }
    return false;
}
