/*
 * DICOM datasets -> FHIR R4 ImagingStudy (imagingstudy.html and its
 * "DICOM mapping" column), Patient and a WADO-RS Endpoint.
 *
 * Datasets of any QIDO-RS level (or WADO-RS metadata) are grouped by Study
 * Instance UID, then Series Instance UID, then SOP Instance UID; counts
 * come from the Number of Study/Series Related ... attributes when the PACS
 * sends them, else from what was seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/dicomweb/dicomweb_int.h"
#include "adapters/mapkit/mapkit.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"

#define DCM_URI  "http://dicom.nema.org/resources/ontology/DCM"
#define SCT_URI  "http://snomed.info/sct"
#define REPR_EXT "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"

/* ---------------------------------------------------------- accessors */

static const json_t *
value_at(const json_t *ds, const char *tag, size_t idx)
{
    return json_array_get(json_object_get(json_object_get(ds, tag), "Value"), idx);
}

struct base_str
dw_str(const json_t *ds, const char *tag, size_t idx)
{
    return base_str_trim(fhir_json_str(value_at(ds, tag, idx)));
}

size_t
dw_count(const json_t *ds, const char *tag)
{
    return json_array_size(json_object_get(json_object_get(ds, tag), "Value"));
}

/* An IS written as a real ("1.0", 1.0, 1e2 - exporters that keep counts as
 * floating point): the integer when the value is integral and small. */
static bool
integral_real(const json_t *v, long long *out)
{
    char buf[40];
    struct base_str s = fhir_json_is_string(v) ? base_str_trim(fhir_json_str(v)) : BASE_STR_NULL;
    double d;

    if (s.len > 0 && s.ptr[0] == '+')
        s = base_str_sub(s, 1, s.len - 1);
    if (fhir_json_is_number(v))
        d = fhir_json_number_double(v);
    else if (s.len > 0 && s.len < sizeof(buf) && fhir_json_number_syntax_ok(s.ptr, s.len)) {
        memcpy(buf, s.ptr, s.len);
        buf[s.len] = '\0';
        d = strtod(buf, NULL);
    } else
        return false;
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || (double)(long long)d != d)
        return false; /* NaN, beyond 2^53, or a fraction */
    *out = (long long)d;
    return true;
}

bool
dw_int(const json_t *ds, const char *tag, long long *out)
{
    const json_t *v = value_at(ds, tag, 0);
    int64_t n;

    if (fhir_json_number_i64(v, &n)) {
        *out = n;
        return true;
    }
    struct base_str s = base_str_trim(fhir_json_str(v));
    if (s.len > 0 && s.ptr[0] == '+')
        s = base_str_sub(s, 1, s.len - 1);
    if (!base_str_to_i64(s, &n))
        return integral_real(v, out);
    *out = n;
    return true;
}

const json_t *
dw_pn(const json_t *ds, const char *tag)
{
    const json_t *v = value_at(ds, tag, 0);

    return json_is_object(v) ? v : NULL;
}

const json_t *
dw_items(const json_t *ds, const char *tag)
{
    const json_t *v = json_object_get(json_object_get(ds, tag), "Value");

    return json_is_array(v) ? v : NULL;
}

/* ---------------------------------------------------------- names */

/* PS3.5 6.2.1: family^given^middle^prefix^suffix in each group. */
struct pn_parts {
    struct base_str c[5];
};

static void
split_pn(struct base_str s, struct pn_parts *p)
{
    struct base_str rest = s;

    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < 5; i++) {
        struct base_str head;
        bool more = base_str_cut(rest, '^', &head, &rest);

        p->c[i] = base_str_trim(head);
        if (!more)
            break;
    }
}

/* Whether `s` holds CJK script (Han, kana, Hangul), whose names are
 * written family first without spaces; pinyin with tone marks is not. */
static bool
cjk(struct base_str s)
{
    for (size_t i = 0; i + 2 < s.len; i++) {
        unsigned char b0 = (unsigned char)s.ptr[i];
        unsigned char b1 = (unsigned char)s.ptr[i + 1];
        unsigned char b2 = (unsigned char)s.ptr[i + 2];

        if ((b0 & 0xF0) != 0xE0 || (b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80)
            continue;
        unsigned cp = ((unsigned)(b0 & 0x0F) << 12) | ((unsigned)(b1 & 0x3F) << 6) | (b2 & 0x3F);
        if ((cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
            (cp >= 0xF900 && cp <= 0xFAFF))
            return true;
    }
    return false;
}

/* Display text of one group: CJK names run together family first
 * ("王小東"); alphabetic ones read "prefix given middle family suffix". */
static json_t *
pn_text(const struct pn_parts *p)
{
    static const size_t western[] = {3, 1, 2, 0, 4};
    static const size_t eastern[] = {3, 0, 1, 2, 4};
    bool east = false;
    char buf[512];
    size_t o = 0;

    for (size_t i = 0; i < 5; i++)
        east = east || cjk(p->c[i]);
    for (size_t k = 0; k < 5; k++) {
        struct base_str s = p->c[east ? eastern[k] : western[k]];

        if (s.len == 0 || o + s.len + 1 >= sizeof(buf))
            continue;
        if (o > 0 && !east)
            buf[o++] = ' ';
        memcpy(buf + o, s.ptr, s.len);
        o += s.len;
    }
    return o > 0 ? json_stringn(buf, o) : NULL;
}

static int
human_name(json_t *names, struct base_str group, const char *repr)
{
    struct pn_parts p;
    json_t *hn;
    json_t *text;

    split_pn(group, &p);
    text = pn_text(&p);
    if (text == NULL)
        return BASE_OK; /* "^^^^": no name at all */
    hn = json_object();
    if (hn == NULL || adapter_jset(hn, "text", text) != BASE_OK ||
        adapter_jset_strn(hn, "family", p.c[0]) != BASE_OK ||
        (p.c[1].len > 0 &&
         adapter_jpush(hn, "given", json_stringn(p.c[1].ptr, p.c[1].len)) != BASE_OK) ||
        (p.c[2].len > 0 &&
         adapter_jpush(hn, "given", json_stringn(p.c[2].ptr, p.c[2].len)) != BASE_OK) ||
        (p.c[3].len > 0 &&
         adapter_jpush(hn, "prefix", json_stringn(p.c[3].ptr, p.c[3].len)) != BASE_OK) ||
        (p.c[4].len > 0 &&
         adapter_jpush(hn, "suffix", json_stringn(p.c[4].ptr, p.c[4].len)) != BASE_OK) ||
        adapter_jpush(hn, "extension",
                      json_pack("{s:s,s:s}", "url", REPR_EXT, "valueCode", repr)) != BASE_OK) {
        json_decref(hn);
        return BASE_E_NOMEM;
    }
    return json_array_append_new(names, hn) == 0 ? BASE_OK : BASE_E_NOMEM;
}

/* All groups of a PN as HumanNames (NULL when there is no name).  ISO 21090
 * EN.representation: ABC alphabetic, IDE ideographic, SYL syllabic. */
static json_t *
pn_names(const json_t *pn)
{
    static const struct {
        const char *group, *repr;
    } groups[] = {{"Alphabetic", "ABC"}, {"Ideographic", "IDE"}, {"Phonetic", "SYL"}};
    json_t *names = json_array();

    for (size_t i = 0; names != NULL && i < BASE_ARRAY_LEN(groups); i++) {
        struct base_str g = fhir_json_str(json_object_get(pn, groups[i].group));

        if (g.len > 0 && human_name(names, g, groups[i].repr) != BASE_OK) {
            json_decref(names);
            return NULL;
        }
    }
    if (names != NULL && json_array_size(names) == 0) {
        json_decref(names);
        return NULL;
    }
    return names;
}

/* The text to show for a person: the ideographic name when there is one
 * (what a Chinese reader expects), else the first group. */
static json_t *
pn_display(const json_t *pn)
{
    json_t *names = pn_names(pn);
    json_t *pick = NULL;
    size_t i;
    json_t *hn;

    json_array_foreach(names, i, hn)
    {
        const char *repr = json_string_value(
            json_object_get(json_array_get(json_object_get(hn, "extension"), 0), "valueCode"));

        if (pick == NULL || (repr != NULL && strcmp(repr, "IDE") == 0))
            pick = json_object_get(hn, "text");
    }
    json_incref(pick);
    json_decref(names);
    return pick;
}

/* ---------------------------------------------------------- issuers */

/* The OID an issuer names: PS3.3 10.14 (HL7v2 Hierarchic Designator
 * Macro) puts it in Universal Entity ID (0040,0032) with type (0040,0033)
 * ISO, inside `qual_tag` (Issuer of Patient ID Qualifiers, Issuer of
 * Accession Number); many PACS write the OID as the plain Issuer of
 * Patient ID instead.  Empty when the issuer is only a local name. */
static struct base_str
issuer_oid(const json_t *ds, const char *issuer_tag, const char *qual_tag)
{
    const json_t *q = json_array_get(dw_items(ds, qual_tag), 0);
    struct base_str ueid = dw_str(q, DW_UEID, 0);
    struct base_str type = dw_str(q, DW_UEID_TYPE, 0);
    struct base_str issuer = issuer_tag != NULL ? dw_str(ds, issuer_tag, 0) : BASE_STR_NULL;

    if ((type.len == 0 || base_str_eq_cstr(type, "ISO")) && adapter_oid_valid(ueid))
        return ueid;
    return adapter_oid_valid(issuer) ? issuer : BASE_STR_NULL;
}

/* A PatientID is unique only within its issuer (PS3.3 C.7.1.1): when the
 * member's issuer is known and `ds` names a different one, the PatientID
 * matched another assigner's patient.  The configured patient_issuer is
 * compared with the issuer's name and OID; the OID of a "urn:oid:"
 * patient_id_system only with an OID (a PACS that names the member's own
 * issuer by a local name must not lose the member's studies). */
static bool
foreign_patient(const json_t *ds, const struct dicomweb_options *opt)
{
    struct base_str name = dw_str(ds, DW_ISSUER, 0);
    struct base_str oid = issuer_oid(ds, DW_ISSUER, DW_ISSUER_QUAL);

    if (opt->patient_issuer != NULL && opt->patient_issuer[0] != '\0') {
        struct base_str own = base_str_from_cstr(opt->patient_issuer);

        return (name.len > 0 || oid.len > 0) && !base_str_eq(name, own) && !base_str_eq(oid, own);
    }
    if (opt->patient_id_system != NULL && strncmp(opt->patient_id_system, "urn:oid:", 8) == 0)
        return oid.len > 0 && !base_str_eq_cstr(oid, opt->patient_id_system + 8);
    return false;
}

/* ---------------------------------------------------------- grouping */

/* A dataset without a Study Instance UID is an error, or -- when
 * `warnings` is given -- skipped with a warning. */
static int
add_dataset(json_t *studies, const json_t *ds, size_t index, const json_t *skip, json_t *warnings,
            struct base_err *err)
{
    struct base_str st = dw_str(ds, DW_STUDY_UID, 0);
    struct base_str se = dw_str(ds, DW_SERIES_UID, 0);
    struct base_str in = dw_str(ds, DW_SOP_INSTANCE, 0);
    char key[80];
    json_t *study;

    if (st.len == 0 || st.len >= sizeof(key)) {
        char where[32];

        (void)snprintf(where, sizeof(where), "dataset[%zu]", index);
        if (warnings != NULL)
            return fhir_outcome_add(warnings, "warning", "required", where,
                                    "dataset has no Study Instance UID; skipped");
        return base_err_set(err, BASE_E_INVALID, "required", where,
                            "dataset has no Study Instance UID");
    }
    (void)snprintf(key, sizeof(key), "%.*s", (int)st.len, st.ptr);
    if (json_object_get(skip, key) != NULL)
        return BASE_OK; /* its series and instances go with it */
    study = json_object_get(studies, key);
    if (study == NULL) {
        study = json_pack("{s:O,s:{}}", "ds", ds, "series");
        if (study == NULL || json_object_set_new(studies, key, study) != 0)
            return BASE_E_NOMEM;
    }
    if (se.len == 0 || se.len >= sizeof(key))
        return BASE_OK;
    (void)snprintf(key, sizeof(key), "%.*s", (int)se.len, se.ptr);
    json_t *series = json_object_get(json_object_get(study, "series"), key);
    if (series == NULL) {
        series = json_pack("{s:O,s:{}}", "ds", ds, "instances");
        if (series == NULL ||
            json_object_set_new(json_object_get(study, "series"), key, series) != 0)
            return BASE_E_NOMEM;
    }
    if (in.len == 0 || in.len >= sizeof(key))
        return BASE_OK;
    (void)snprintf(key, sizeof(key), "%.*s", (int)in.len, in.ptr);
    if (json_object_get(json_object_get(series, "instances"), key) == NULL &&
        json_object_set(json_object_get(series, "instances"), key, (json_t *)ds) != 0)
        return BASE_E_NOMEM;
    return BASE_OK;
}

/* ---------------------------------------------------------- codings */

static json_t *
coding(const char *system, struct base_str code, struct base_str display)
{
    json_t *c = json_object();

    if (c == NULL || adapter_jset_str(c, "system", system) != BASE_OK ||
        adapter_jset_strn(c, "code", code) != BASE_OK ||
        adapter_jset_strn(c, "display", display) != BASE_OK) {
        json_decref(c);
        return NULL;
    }
    return c;
}

/* Coding Scheme Designator (0008,0102) -> FHIR system (PS3.16 section 8). */
static const char *
scheme_uri(struct base_str scheme)
{
    if (base_str_eq_cstr(scheme, "DCM"))
        return DCM_URI;
    if (base_str_eq_cstr(scheme, "SCT"))
        return SCT_URI;
    if (base_str_eq_cstr(scheme, "LN"))
        return "http://loinc.org";
    return NULL; /* local schemes (99...) keep code and meaning only */
}

static json_t *
procedure_codes(const json_t *ds)
{
    const json_t *items = dw_items(ds, DW_PROC_CODES);
    json_t *out = json_array();
    size_t i;
    json_t *it;

    json_array_foreach(items, i, it)
    {
        struct base_str code = dw_str(it, DW_CODE_VALUE, 0);
        struct base_str meaning = dw_str(it, DW_CODE_MEANING, 0);
        json_t *cc;

        if (code.len == 0 && meaning.len == 0)
            continue;
        cc = json_object();
        if (cc == NULL || out == NULL ||
            (code.len > 0 && adapter_jpush(cc, "coding",
                                           coding(scheme_uri(dw_str(it, DW_CODE_SCHEME, 0)), code,
                                                  meaning)) != BASE_OK) ||
            adapter_jset_strn(cc, "text", meaning) != BASE_OK ||
            json_array_append_new(out, cc) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* Body Part Examined (0018,0015) -> SNOMED CT, for the defined terms
 * whose codes PS3.16 annex L gives; other terms keep their text. */
static json_t *
body_site(struct base_str part)
{
    static const struct {
        const char *term, *code, *display;
    } sites[] = {
        {"ABDOMEN", "818981001", "Abdomen"},
        {"ABDOMENPELVIS", "818982008", "Abdomen and Pelvis"},
        {"ANKLE", "70258002", "Ankle joint"},
        {"BRAIN", "12738006", "Brain"},
        {"BREAST", "76752008", "Breast"},
        {"CHEST", "43799004", "Chest"},
        {"CSPINE", "122494005", "Cervical spine"},
        {"HEAD", "69536005", "Head"},
        {"HEART", "80891009", "Heart"},
        {"KNEE", "72696002", "Knee"},
        {"LSPINE", "122496007", "Lumbar spine"},
        {"NECK", "45048000", "Neck"},
        {"PELVIS", "12921003", "Pelvis"},
        {"TSPINE", "122495006", "Thoracic spine"},
    };

    if (part.len == 0)
        return NULL;
    for (size_t i = 0; i < BASE_ARRAY_LEN(sites); i++) {
        if (base_str_case_eq_cstr(part, sites[i].term)) /* CS is upper case; not all write it so */
            return coding(SCT_URI, base_str_from_cstr(sites[i].code),
                          base_str_from_cstr(sites[i].display));
    }
    return coding(NULL, BASE_STR_NULL, part);
}

static json_t *
laterality(struct base_str lat)
{
    /* Laterality (0020,0060) L / R -> SNOMED CT (PS3.16 CID 244) */
    if (base_str_case_eq_cstr(lat, "L"))
        return coding(SCT_URI, BASE_STR_LIT("7771000"), BASE_STR_LIT("Left"));
    if (base_str_case_eq_cstr(lat, "R"))
        return coding(SCT_URI, BASE_STR_LIT("24028007"), BASE_STR_LIT("Right"));
    return NULL;
}

/* ---------------------------------------------------------- building */

struct build {
    const struct dicomweb_options *opt;
    const char *subject_ref;  /* reference for subject, or NULL */
    const char *endpoint_ref; /* "#wado" or a fullUrl, or NULL */
    json_t *contained;        /* Endpoint to contain, or NULL */
};

static int
set_count(json_t *res, const char *key, const json_t *ds, const char *tag, size_t seen)
{
    long long n = 0;

    if (dw_int(ds, tag, &n) && n >= 0 && n <= INT32_MAX)
        return adapter_jset(res, key, json_integer(n));
    if (seen > 0)
        return adapter_jset(res, key, json_integer((json_int_t)seen));
    return BASE_OK;
}

/* PS3.5 6.2 (DA, TM): for compatibility with ACR-NEMA, readers should
 * also accept "yyyy.mm.dd" and "hh:mm:ss.frac" - old modalities still
 * write them, and PACS pass them on unchanged (Orthanc does; some write
 * "yyyy-mm-dd").  The value without those separators, in `buf`. */
static struct base_str
acr_nema(struct base_str v, bool date, char *buf, size_t cap)
{
    size_t o = 0;

    if (v.len >= cap)
        return v;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        bool sep = date ? (c == '.' || c == '-') && (i == 4 || i == 7) : c == ':' && o % 2 == 0;

        if (!sep)
            buf[o++] = c;
    }
    return (struct base_str){buf, o};
}

/* started from DA + TM + Timezone Offset From UTC.  A malformed offset
 * ("0800" without its sign, PS3.3 C.12.1.1.8) or time costs only that part:
 * without them the configured zone applies, or the value is the date. */
static int
set_started(json_t *res, const json_t *ds, const char *date_tag, const char *time_tag,
            const json_t *study_ds, const char *default_tz)
{
    char out[ADAPTER_TS_MAX];
    char dbuf[16];
    char tbuf[32];
    struct base_str da = acr_nema(dw_str(ds, date_tag, 0), true, dbuf, sizeof(dbuf));
    struct base_str tm = acr_nema(dw_str(ds, time_tag, 0), false, tbuf, sizeof(tbuf));
    size_t n = adapter_da_tm_to_fhir(da, tm, dw_str(study_ds, DW_TZ_OFFSET, 0), default_tz, out,
                                     sizeof(out));

    if (n == 0)
        n = adapter_da_tm_to_fhir(da, tm, BASE_STR_NULL, default_tz, out, sizeof(out));
    if (n == 0)
        n = adapter_da_tm_to_fhir(da, BASE_STR_NULL, BASE_STR_NULL, NULL, out, sizeof(out));
    return n > 0 ? adapter_jset(res, "started", json_stringn(out, n)) : BASE_OK;
}

/* The DCM codes in one Modality / Modalities in Study value.  CS values are
 * upper case (PS3.5 6.2) and backslash separates values (6.4): some PACS
 * send "CT\\PT" as one JSON string, or lower case.  Anything else that is
 * not a defined-term shape (1-16 of A-Z 0-9 _) is left out. */
static size_t
modality_codes(struct base_str v, char codes[][17], size_t max)
{
    size_t n = 0;
    bool more = true;

    while (more && n < max) {
        struct base_str one;
        size_t len = 0;
        bool ok;

        more = base_str_cut(v, '\\', &one, &v);
        one = base_str_trim(one);
        ok = one.len > 0 && one.len < 17;
        for (size_t i = 0; ok && i < one.len; i++) {
            char c = one.ptr[i];

            c = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
            ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            codes[n][len++] = c;
        }
        if (ok) {
            codes[n][len] = '\0';
            n++;
        }
    }
    return n;
}

static int
note_modalities(json_t *seen, struct base_str v)
{
    char codes[8][17];
    size_t n = modality_codes(v, codes, BASE_ARRAY_LEN(codes));

    for (size_t i = 0; i < n; i++) {
        if (json_object_get(seen, codes[i]) == NULL &&
            json_object_set_new(seen, codes[i], json_true()) != 0)
            return BASE_E_NOMEM;
    }
    return BASE_OK;
}

static int
add_instance(json_t *series, const json_t *ds)
{
    struct base_str uid = dw_str(ds, DW_SOP_INSTANCE, 0);
    struct base_str cls = dw_str(ds, DW_SOP_CLASS, 0);
    char urn[80];
    long long num;
    json_t *in;

    if (uid.len == 0 || cls.len == 0 || cls.len > 64)
        return BASE_OK; /* uid and sopClass are 1..1 */
    (void)snprintf(urn, sizeof(urn), "urn:oid:%.*s", (int)cls.len, cls.ptr);
    in = json_object();
    if (in == NULL || adapter_jset_strn(in, "uid", uid) != BASE_OK ||
        adapter_jset(in, "sopClass",
                     json_pack("{s:s,s:s}", "system", "urn:ietf:rfc:3986", "code", urn)) !=
            BASE_OK ||
        (dw_int(ds, DW_INSTANCE_NUMBER, &num) && num >= 0 && num <= INT32_MAX &&
         adapter_jset(in, "number", json_integer(num)) != BASE_OK)) {
        json_decref(in);
        return BASE_E_NOMEM;
    }
    return adapter_jpush(series, "instance", in);
}

static int
series_body(json_t *s, const json_t *sr, const json_t *study_ds, const struct build *b)
{
    const json_t *ds = json_object_get(sr, "ds");
    const json_t *instances = json_object_get(sr, "instances");
    char mod[1][17];
    size_t nmod = modality_codes(dw_str(ds, DW_MODALITY, 0), mod, 1);
    long long num;
    const char *key;
    json_t *in;

    TRY(adapter_jset_strn(s, "uid", dw_str(ds, DW_SERIES_UID, 0)));
    if (dw_int(ds, DW_SERIES_NUMBER, &num) && num >= 0 && num <= INT32_MAX)
        TRY(adapter_jset(s, "number", json_integer(num)));
    /* series.modality is 1..1: "OT" (other) when the PACS did not say */
    TRY(adapter_jset(s, "modality",
                     coding(DCM_URI, base_str_from_cstr(nmod > 0 ? mod[0] : "OT"),
                            BASE_STR_NULL)));
    TRY(adapter_jset_strn(s, "description", dw_str(ds, DW_SERIES_DESC, 0)));
    TRY(set_count(s, "numberOfInstances", ds, DW_N_SERIES_INSTANCES, json_object_size(instances)));
    if (b->endpoint_ref != NULL)
        TRY(adapter_jpush(s, "endpoint", adapter_reference(b->endpoint_ref, NULL)));
    json_t *site = body_site(dw_str(ds, DW_BODY_PART, 0));
    if (site != NULL)
        TRY(adapter_jset(s, "bodySite", site));
    json_t *lat = laterality(dw_str(ds, DW_LATERALITY, 0));
    if (lat != NULL)
        TRY(adapter_jset(s, "laterality", lat));
    TRY(set_started(s, ds, DW_SERIES_DATE, DW_SERIES_TIME, study_ds, b->opt->default_tz));
    json_object_foreach((json_t *)instances, key, in) TRY(add_instance(s, in));
    return BASE_OK;
}

static int
add_modalities(json_t *res, const json_t *st)
{
    const json_t *ds = json_object_get(st, "ds");
    json_t *seen = json_object();
    const char *key;
    json_t *sr;
    int rc = BASE_OK;

    if (seen == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < dw_count(ds, DW_MODALITIES) && rc == BASE_OK; i++)
        rc = note_modalities(seen, dw_str(ds, DW_MODALITIES, i));
    json_object_foreach(json_object_get(st, "series"), key, sr)
    {
        if (rc == BASE_OK)
            rc = note_modalities(seen, dw_str(json_object_get(sr, "ds"), DW_MODALITY, 0));
    }
    json_object_foreach(seen, key, sr)
    {
        if (rc == BASE_OK)
            rc = adapter_jpush(res, "modality",
                               coding(DCM_URI, base_str_from_cstr(key), BASE_STR_NULL));
    }
    json_decref(seen);
    return rc;
}

static int
add_people(json_t *res, const json_t *ds, const struct build *b)
{
    json_t *subject = json_object();
    json_t *name;

    if (subject == NULL)
        return BASE_E_NOMEM;
    TRY(adapter_jset(res, "subject", subject));
    TRY(adapter_jset_str(subject, "reference", b->subject_ref));
    name = pn_display(dw_pn(ds, DW_PATIENT_NAME));
    if (name != NULL)
        TRY(adapter_jset(subject, "display", name));
    if (json_object_size(subject) == 0) /* Reference needs something */
        TRY(adapter_jset_str(subject, "display", "unknown patient"));
    name = pn_display(dw_pn(ds, DW_REFERRER));
    if (name != NULL)
        TRY(adapter_jset(res, "referrer", json_pack("{s:o}", "display", name)));
    name = pn_display(dw_pn(ds, DW_READER));
    if (name != NULL)
        TRY(adapter_jpush(res, "interpreter", json_pack("{s:o}", "display", name)));
    return BASE_OK;
}

static int
study_identifiers(json_t *res, const json_t *ds)
{
    struct base_str uid = dw_str(ds, DW_STUDY_UID, 0);
    struct base_str acc = dw_str(ds, DW_ACCESSION, 0);
    char urn[80];

    /* R4 ImagingStudy: the Study Instance UID as an OID URN in urn:dicom:uid */
    (void)snprintf(urn, sizeof(urn), "urn:oid:%.*s", (int)uid.len, uid.ptr);
    TRY(adapter_jpush(res, "identifier",
                      json_pack("{s:s,s:s}", "system", "urn:dicom:uid", "value", urn)));
    if (acc.len == 0)
        return BASE_OK;
    json_t *id = json_pack("{s:{s:[{s:s,s:s}]},s:s%}", "type", "coding", "system",
                           "http://terminology.hl7.org/CodeSystem/v2-0203", "code", "ACSN", "value",
                           acc.ptr, acc.len);
    /* Issuer of Accession Number Sequence (0008,0051): the RIS that
     * assigned it - accession numbers repeat across RIS of a region. */
    struct base_str oid = issuer_oid(ds, NULL, DW_ACC_ISSUER);
    struct base_str ns = dw_str(json_array_get(dw_items(ds, DW_ACC_ISSUER), 0), DW_LOCAL_NS, 0);
    if (oid.len > 0)
        (void)snprintf(urn, sizeof(urn), "urn:oid:%.*s", (int)oid.len, oid.ptr);
    if (id == NULL || (oid.len > 0 && adapter_jset_str(id, "system", urn) != BASE_OK) ||
        (ns.len > 0 &&
         adapter_jset(id, "assigner", json_pack("{s:s%}", "display", ns.ptr, ns.len)) != BASE_OK)) {
        json_decref(id);
        return BASE_E_NOMEM;
    }
    return adapter_jpush(res, "identifier", id);
}

static int
study_body(json_t *res, const json_t *st, const struct build *b)
{
    const json_t *ds = json_object_get(st, "ds");
    const json_t *series = json_object_get(st, "series");
    size_t instances = 0;
    const char *key;
    json_t *sr;

    if (b->contained != NULL)
        TRY(adapter_jpush(res, "contained", json_incref(b->contained)));
    TRY(study_identifiers(res, ds));
    TRY(adapter_jset_str(res, "status", "available"));
    TRY(add_modalities(res, st));
    TRY(add_people(res, ds, b));
    TRY(set_started(res, ds, DW_STUDY_DATE, DW_STUDY_TIME, ds, b->opt->default_tz));
    if (b->endpoint_ref != NULL)
        TRY(adapter_jpush(res, "endpoint", adapter_reference(b->endpoint_ref, NULL)));
    json_object_foreach((json_t *)series, key, sr)
    {
        long long n = 0;

        instances += dw_int(json_object_get(sr, "ds"), DW_N_SERIES_INSTANCES, &n) && n > 0
                         ? (size_t)n
                         : json_object_size(json_object_get(sr, "instances"));
    }
    TRY(set_count(res, "numberOfSeries", ds, DW_N_SERIES, json_object_size(series)));
    TRY(set_count(res, "numberOfInstances", ds, DW_N_STUDY_INSTANCES, instances));
    json_t *codes = procedure_codes(ds);
    if (codes == NULL)
        return BASE_E_NOMEM;
    if (json_array_size(codes) > 0)
        TRY(adapter_jset(res, "procedureCode", codes));
    else
        json_decref(codes);
    TRY(adapter_jset_strn(res, "description", dw_str(ds, DW_STUDY_DESC, 0)));
    json_object_foreach((json_t *)series, key, sr)
    {
        json_t *s = json_object();

        if (s == NULL || adapter_jpush(res, "series", s) != BASE_OK)
            return BASE_E_NOMEM;
        TRY(series_body(s, sr, ds, b));
    }
    return BASE_OK;
}

static json_t *
imaging_study(const json_t *st, const struct build *b, struct base_err *err)
{
    json_t *res = json_pack("{s:s}", "resourceType", "ImagingStudy");

    if (res == NULL || study_body(res, st, b) != BASE_OK) {
        json_decref(res);
        (void)base_err_set(err, BASE_E_NOMEM, "exception", "ImagingStudy", "out of memory");
        return NULL;
    }
    return res;
}

/* WADO-RS root: configured, else the study's Retrieve URL without the
 * trailing "/studies/<uid>" (PS3.18 10.4: {root}/studies/{uid}). */
static char *
wado_root(const struct dicomweb_options *opt, const json_t *ds, char *buf, size_t cap)
{
    struct base_str url = dw_str(ds, DW_RETRIEVE_URL, 0);
    long cut = -1;

    if (opt->wado_base != NULL) {
        (void)snprintf(buf, cap, "%s", opt->wado_base);
        return buf;
    }
    for (size_t i = 0; i + 9 <= url.len; i++) {
        if (memcmp(url.ptr + i, "/studies/", 9) == 0)
            cut = (long)i;
    }
    if (cut <= 0 || (size_t)cut >= cap)
        return NULL;
    (void)snprintf(buf, cap, "%.*s", (int)cut, url.ptr);
    return buf;
}

static json_t *
endpoint(const char *address, const char *name, bool contained)
{
    json_t *e = json_pack("{s:s,s:s,s:{s:s,s:s},s:[{s:s}],s:[s],s:s}", "resourceType", "Endpoint",
                          "status", "active", "connectionType", "system",
                          "http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "code",
                          "dicom-wado-rs", "payloadType", "text", "DICOM WADO-RS",
                          "payloadMimeType", "application/dicom", "address", address);

    if (e == NULL)
        return NULL;
    if ((contained && adapter_jset_str(e, "id", "wado") != BASE_OK) ||
        adapter_jset_str(e, "name", name) != BASE_OK) {
        json_decref(e);
        return NULL;
    }
    return e;
}

/*
 * The studies to leave out: another issuer's patient's (foreign_patient())
 * when they would get the member's subject (patient_ref) or when their
 * issuer has no OID to name their own Patient by.  Warned about once each
 * when `warnings` is given.
 */
static int
foreign_studies(const json_t *datasets, const struct dicomweb_options *opt, json_t *skip,
                json_t *warnings)
{
    size_t i;
    json_t *ds;

    json_array_foreach(datasets, i, ds)
    {
        struct base_str st = dw_str(ds, DW_STUDY_UID, 0);
        char key[80];
        char where[32];

        if (st.len == 0 || st.len >= sizeof(key) || !foreign_patient(ds, opt) ||
            (opt->patient_ref == NULL && issuer_oid(ds, DW_ISSUER, DW_ISSUER_QUAL).len > 0))
            continue;
        (void)snprintf(key, sizeof(key), "%.*s", (int)st.len, st.ptr);
        if (json_object_get(skip, key) != NULL)
            continue;
        if (json_object_set_new(skip, key, json_true()) != 0)
            return BASE_E_NOMEM;
        (void)snprintf(where, sizeof(where), "dataset[%zu]", i);
        if (warnings != NULL &&
            fhir_outcome_add(warnings, "warning", "business-rule", where,
                             "study of a PatientID from another issuer; skipped") != BASE_OK)
            return BASE_E_NOMEM;
    }
    return BASE_OK;
}

static int
group(const json_t *datasets, const struct dicomweb_options *opt, json_t **studies,
      json_t *warnings, struct base_err *err)
{
    json_t *skip = json_object();
    int rc = skip != NULL ? foreign_studies(datasets, opt, skip, warnings) : BASE_E_NOMEM;
    size_t i;
    json_t *ds;

    *studies = rc == BASE_OK ? json_object() : NULL;
    if (*studies == NULL) {
        json_decref(skip);
        return base_err_set(err, BASE_E_NOMEM, "exception", "dataset", "out of memory");
    }
    json_array_foreach(datasets, i, ds)
    {
        if (rc == BASE_OK)
            rc = add_dataset(*studies, ds, i, skip, warnings, err);
    }
    json_decref(skip);
    if (rc != BASE_OK) {
        json_decref(*studies);
        *studies = NULL;
        return rc == BASE_E_NOMEM ? base_err_set(err, rc, "exception", "dataset", "out of memory")
                                  : rc;
    }
    return BASE_OK;
}

int
dicomweb_studies(const json_t *datasets, const struct dicomweb_options *opt, json_t **out,
                 struct base_err *err)
{
    static const struct dicomweb_options none = {0};
    json_t *studies = NULL;
    json_t *arr;
    const char *key;
    json_t *st;

    *out = NULL;
    opt = opt != NULL ? opt : &none;
    TRY(group(datasets, opt, &studies, NULL, err));
    arr = json_array();
    json_object_foreach(studies, key, st)
    {
        char root[1024];
        const char *addr = wado_root(opt, json_object_get(st, "ds"), root, sizeof(root));
        struct build b = {opt, opt->patient_ref, addr != NULL ? "#wado" : NULL,
                          addr != NULL ? endpoint(addr, opt->pacs_name, true) : NULL};
        json_t *res = arr != NULL ? imaging_study(st, &b, err) : NULL;

        json_decref(b.contained);
        if (res == NULL || json_array_append_new(arr, res) != 0) {
            json_decref(arr);
            json_decref(studies);
            return base_err_set(err, BASE_E_NOMEM, "exception", "ImagingStudy", "out of memory");
        }
    }
    json_decref(studies);
    *out = arr;
    return BASE_OK;
}

/* ---------------------------------------------------------- Bundle */

static const char *
patient_system(const struct dicomweb_options *opt, const json_t *ds, char *buf, size_t cap)
{
    struct base_str issuer = issuer_oid(ds, DW_ISSUER, DW_ISSUER_QUAL);

    if (opt->patient_id_system != NULL && !foreign_patient(ds, opt))
        return opt->patient_id_system;
    if (issuer.len > 0) {
        (void)snprintf(buf, cap, "urn:oid:%.*s", (int)issuer.len, issuer.ptr);
        return buf;
    }
    /* No namespace known: a fixed placeholder that adapter configuration
     * replaces (patient_id_system) with the hospital's record-number URI.
     * An issuer known only by its local name still tells two patients
     * apart (PS3.3 C.7.1.1): the name, percent-encoded, follows. */
    struct base_str name = dw_str(ds, DW_ISSUER, 0);
    size_t o = (size_t)snprintf(buf, cap, "urn:fhirgate:dicom:patient-id");
    if (name.len > 0 && o + 1 < cap)
        buf[o++] = ':';
    for (size_t i = 0; i < name.len && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)name.ptr[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, cap - o, "%%%02X", c);
    }
    buf[o] = '\0';
    return buf;
}

/*
 * PS3.3 C.7.1.1 Other Patient IDs Sequence (0010,1002): the patient's
 * identifiers in other namespaces — a PACS shared by a region often carries
 * the resident identity number here, with its issuer as an OID.  Items
 * whose issuer is not an OID have no namespace we can name, so they are
 * left out rather than guessed.
 */
static int
other_patient_ids(json_t *p, const json_t *ds)
{
    const json_t *items = dw_items(ds, DW_OTHER_IDS);

    for (size_t i = 0; i < json_array_size(items); i++) {
        const json_t *item = json_array_get(items, i);
        struct base_str id = dw_str(item, DW_PATIENT_ID, 0);
        struct base_str issuer = issuer_oid(item, DW_ISSUER, DW_ISSUER_QUAL);
        char sys[96];
        char val[80];

        if (id.len == 0 || id.len >= sizeof(val) || issuer.len == 0 || issuer.len + 9 > sizeof(sys))
            continue;
        (void)snprintf(sys, sizeof(sys), "urn:oid:%.*s", (int)issuer.len, issuer.ptr);
        (void)snprintf(val, sizeof(val), "%.*s", (int)id.len, id.ptr);
        TRY(adapter_jpush(p, "identifier", json_pack("{s:s,s:s}", "system", sys, "value", val)));
    }
    return BASE_OK;
}

/* A PatientID of zeros only ("0", "00000000") is what anonymisers and
 * modalities write when nobody entered one: a key made of it would file
 * every such study under one Patient (the HL7 v2 and CDA mappings refuse
 * such identifiers for the same reason). */
static bool
placeholder_patient_id(struct base_str pid)
{
    for (size_t i = 0; i < pid.len; i++) {
        if (pid.ptr[i] != '0')
            return false;
    }
    return pid.len > 0;
}

static int
put_patient(struct adapter_tx *tx, const json_t *ds, const struct dicomweb_options *opt,
            json_t *warnings, const char **ref, struct base_err *err)
{
    struct base_str pid = dw_str(ds, DW_PATIENT_ID, 0);
    struct base_str sex = dw_str(ds, DW_SEX, 0);
    char sysbuf[640]; /* a 64-character issuer name, percent-encoded */
    char idbuf[80];
    char date[ADAPTER_TS_MAX];
    const char *system = patient_system(opt, ds, sysbuf, sizeof(sysbuf));
    json_t *p;

    *ref = NULL;
    if (placeholder_patient_id(pid))
        return fhir_outcome_add(warnings, "warning", "business-rule", "PatientID (0010,0020)",
                                "PatientID is a placeholder (only zeros); the study names its "
                                "patient by name only");
    if (pid.len == 0 || pid.len >= sizeof(idbuf))
        return BASE_OK;
    (void)snprintf(idbuf, sizeof(idbuf), "%.*s", (int)pid.len, pid.ptr);
    p = json_pack("{s:s,s:[{s:s,s:s}]}", "resourceType", "Patient", "identifier", "system", system,
                  "value", idbuf);
    if (p == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "Patient", "out of memory");
    json_t *names = pn_names(dw_pn(ds, DW_PATIENT_NAME));
    if (names != NULL && adapter_jset(p, "name", names) != BASE_OK) {
        json_decref(p);
        return base_err_set(err, BASE_E_NOMEM, "exception", "Patient", "out of memory");
    }
    char dbuf[16];
    struct base_str birth = acr_nema(dw_str(ds, DW_BIRTH_DATE, 0), true, dbuf, sizeof(dbuf));
    if (adapter_ts_to_fhir(birth, NULL, true, date, sizeof(date)) > 0 &&
        adapter_jset_str(p, "birthDate", date) != BASE_OK) {
        json_decref(p);
        return base_err_set(err, BASE_E_NOMEM, "exception", "Patient", "out of memory");
    }
    /* PS3.3 C.7.1.1: Patient's Sex M, F, O */
    const char *g = base_str_case_eq_cstr(sex, "M")   ? "male"
                    : base_str_case_eq_cstr(sex, "F") ? "female"
                    : base_str_case_eq_cstr(sex, "O") ? "other"
                                                      : NULL;
    if (adapter_jset_str(p, "gender", g) != BASE_OK) {
        json_decref(p);
        return base_err_set(err, BASE_E_NOMEM, "exception", "Patient", "out of memory");
    }
    if (other_patient_ids(p, ds) != BASE_OK) {
        json_decref(p);
        return base_err_set(err, BASE_E_NOMEM, "exception", "Patient", "out of memory");
    }
    return adapter_tx_put(tx, p, system, idbuf, ref, err);
}

static int
put_study(struct adapter_tx *tx, const json_t *st, const struct dicomweb_options *opt,
          json_t *warnings, struct base_err *err)
{
    const json_t *ds = json_object_get(st, "ds");
    struct base_str uid = dw_str(ds, DW_STUDY_UID, 0);
    const char *patient = opt->patient_ref;
    char root[1024];
    char urn[80];
    const char *addr = wado_root(opt, ds, root, sizeof(root));

    if (patient == NULL)
        TRY(put_patient(tx, ds, opt, warnings, &patient, err));
    /* The WADO-RS Endpoint is contained, as in the live form: a study that
     * travels through the gateway must carry its address itself — a
     * reference to the member's own Endpoint/ID cannot be resolved by the
     * gateway's clients (its /fhir/Endpoint is the region's registry). */
    struct build b = {opt, patient, addr != NULL ? "#wado" : NULL,
                      addr != NULL ? endpoint(addr, opt->pacs_name, true) : NULL};
    if (addr != NULL && b.contained == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "Endpoint", "out of memory");
    json_t *res = imaging_study(st, &b, err);
    json_decref(b.contained);
    if (res == NULL)
        return err != NULL && err->rc != 0 ? err->rc : BASE_E_NOMEM;
    (void)snprintf(urn, sizeof(urn), "urn:oid:%.*s", (int)uid.len, uid.ptr);
    return adapter_tx_put(tx, res, "urn:dicom:uid", urn, NULL, err);
}

int
dicomweb_datasets_to_bundle(const json_t *datasets, const struct dicomweb_options *opt,
                            json_t **out, json_t **warnings, struct base_err *err)
{
    static const struct dicomweb_options none = {0};
    json_t *studies = NULL;
    struct adapter_tx tx = {0};
    const char *key;
    json_t *st;
    int rc;

    *out = NULL;
    if (warnings != NULL)
        *warnings = NULL;
    opt = opt != NULL ? opt : &none;
    json_t *oo = fhir_outcome_new();
    if (oo == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "dataset", "out of memory");
    rc = group(datasets, opt, &studies, oo, err);
    if (rc == BASE_OK)
        rc = adapter_tx_init(&tx, 0, err);
    json_object_foreach(studies, key, st)
    {
        if (rc == BASE_OK)
            rc = put_study(&tx, st, opt, oo, err);
    }
    if (rc == BASE_OK) {
        *out = adapter_tx_take(&tx);
        if (warnings != NULL)
            *warnings = json_incref(oo);
    }
    adapter_tx_fini(&tx);
    json_decref(oo);
    json_decref(studies);
    return rc;
}

int
dicomweb_to_bundle(const char *text, size_t len, const struct dicomweb_limits *lim,
                   const struct dicomweb_options *opt, json_t **out, json_t **warnings,
                   struct base_err *err)
{
    json_t *datasets = NULL;
    int rc;

    *out = NULL;
    if (warnings != NULL)
        *warnings = NULL;
    rc = dicomweb_parse(text, len, lim, &datasets, err);
    if (rc == BASE_OK)
        rc = dicomweb_datasets_to_bundle(datasets, opt, out, warnings, err);
    json_decref(datasets);
    return rc;
}
