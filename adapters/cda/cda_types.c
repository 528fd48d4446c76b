/*
 * CDA R2 data types (HL7 V3 Data Types R1) -> FHIR R4 data types, following
 * the C-CDA on FHIR mapping guidance where it speaks: II -> Identifier,
 * CD -> CodeableConcept, TS -> dateTime, IVL_TS -> Period, PQ -> Quantity,
 * PN -> HumanName, AD -> Address, TEL -> ContactPoint.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/cda/cda_int.h"
#include "fhir/json/fhir_json.h"
#include "fhir/validate/fhir_validate.h"

static bool
is_uuid(const char *s)
{
    static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (strlen(s) != sizeof(pattern) - 1)
        return false;
    for (size_t i = 0; pattern[i] != '\0'; i++) {
        char ch = s[i];
        bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');

        if (pattern[i] == '-' ? ch != '-' : !hex)
            return false;
    }
    return true;
}

static char *
lower_dup(struct cda_ctx *c, const char *s)
{
    char *d = base_arena_strdup(c->arena, s);

    for (char *p = d; p != NULL && *p != '\0'; p++) {
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    }
    return d;
}

/* "urn:oid:<root>" / "urn:uuid:<root>" for an II root; NULL if neither. */
static const char *
root_urn(struct cda_ctx *c, const char *root)
{
    if (adapter_oid_valid(base_str_from_cstr(root)))
        return base_arena_sprintf(c->arena, "urn:oid:%s", root);
    if (is_uuid(root))
        return base_arena_sprintf(c->arena, "urn:uuid:%s", lower_dup(c, root));
    return NULL;
}

/* OIDs CDA documents use besides the ones FHIR registers (mapkit's table):
 * older C32/C-CDA R1.1 exports name CVX by the HITSP OID, and C-CDA R2.1
 * discharge dispositions use NUBC UB-04 FL17 (HL7 THO URI). */
static const struct cda_pair cda_only_systems[] = {
    {"2.16.840.1.113883.6.59", "http://hl7.org/fhir/sid/cvx"},
    {"2.16.840.1.113883.6.301.5", "https://www.nubc.org/CodeSystem/PatDischargeStatus"},
    /* Value sets named where their code system belongs (the ONC
     * certification samples write codeSystem="2.16.840.1.113883.1.11.19563",
     * the Personal Relationship Role Type value set, for RoleCode FTH).
     * Each draws from one code system, which is the codes' system. */
    {"2.16.840.1.113883.1.11.19563", "http://terminology.hl7.org/CodeSystem/v3-RoleCode"},
    {"2.16.840.1.113883.1.11.1", "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender"},
    {"2.16.840.1.113883.1.11.12249", "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"},
    {"2.16.840.1.113883.1.11.78",
     "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"},
    {"2.16.840.1.113883.3.88.12.3221.6.8", "http://snomed.info/sct"}, /* Problem Severity */
    {"2.16.840.1.113883.3.88.12.3221.7.4", "http://snomed.info/sct"}, /* Problem Type */
};

const char *
cda_system(struct cda_ctx *c, const char *oid)
{
    const char *uri;

    if (oid == NULL || oid[0] == '\0')
        return NULL;
    uri = CDA_LOOKUP(cda_only_systems, oid);
    if (uri == NULL)
        uri = adapter_oid_uri(base_str_from_cstr(oid));
    if (uri != NULL)
        return base_arena_strdup(c->arena, uri);
    return root_urn(c, oid);
}

/* An extension that is a null flavor written as a value (extension="UNK"
 * next to the NPI root, Greenway): no number, not the number "UNK" shared
 * by everyone who has none. */
static bool
null_flavor_text(const char *ext)
{
    static const char *const flavors[] = {"UNK", "NI",  "NA", "NAV",     "NASK", "ASKU",
                                          "MSK", "OTH", "NP", "UNKNOWN", "NULL", "N/A"};
    struct base_str t = base_str_trim(base_str_from_cstr(ext));

    for (size_t i = 0; i < BASE_ARRAY_LEN(flavors); i++) {
        if (t.len == strlen(flavors[i]) && strncasecmp(t.ptr, flavors[i], t.len) == 0)
            return true;
    }
    return false;
}

/* Report generators fill every slot of a template, writing NA, N/A or 无
 * where the HIS had nothing (a WS/T 500 检查报告 generator: <name>NA</name>,
 * telecom value="NA", an ICD-10 code="NA" displayName="NA").  Such a text
 * is no name, no number and no code.  Exact case: "Na" is a name (and
 * sodium). */
/* A template placeholder the generator never filled: FreeMarker/JSP EL
 * "${patient.patientName!}" (a WS/T 500 检验报告 template sent as is),
 * "#{...}", Mustache "{{...}}", ASP/JSP "<%= ... %>".  As data it became a
 * patient named "${patient.patientName!}" whose resident ID was
 * "${patient.patientId!}" -- one identifier for every such patient. */
static bool
placeholder(struct base_str t)
{
    static const struct {
        const char *open;
        const char *close;
    } forms[] = {{"${", "}"}, {"#{", "}"}, {"{{", "}}"}, {"<%", "%>"}};

    for (size_t i = 0; i < BASE_ARRAY_LEN(forms); i++) {
        size_t o = strlen(forms[i].open);
        size_t c = strlen(forms[i].close);

        if (t.len > o + c && memcmp(t.ptr, forms[i].open, o) == 0 &&
            memcmp(t.ptr + t.len - c, forms[i].close, c) == 0)
            return true;
    }
    return false;
}

/* A name in Han characters ending as a data element's name does
 * (名称 name, 代码/编码 code, 签名 signature, 姓名 person's name, 号码
 * number): FreeMarker defaults write the element's own name where the HIS
 * had no value -- <name>药物名称</name>, <name>处方审核药剂师签名</name>.
 * No drug, diagnosis or person is called so. */
static bool
element_name_text(struct base_str t)
{
    static const char *const suffixes[] = {"\u540d\u79f0", "\u4ee3\u7801", "\u7f16\u7801",
                                           "\u7b7e\u540d", "\u59d3\u540d", "\u53f7\u7801"};

    for (size_t i = 0; i < t.len; i++) {
        if ((unsigned char)t.ptr[i] < 0x80) /* all Han: no digits, letters, spaces */
            return false;
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(suffixes); i++) {
        size_t n = strlen(suffixes[i]);

        if (t.len > n && memcmp(t.ptr + t.len - n, suffixes[i], n) == 0)
            return true;
    }
    return false;
}

bool
cda_filler_text(const char *s)
{
    return cda_fixed_filler(s) ||
           (s != NULL && element_name_text(base_str_trim(base_str_from_cstr(s))));
}

bool
cda_fixed_filler(const char *s)
{
    static const char *const fillers[] = {
        "NA", "N/A", "UNK", "NI", "NULL", "null", "\u65e0" /* 无 */, "\u4e0d\u8be6" /* 不详 */,
        "-",  "--"};
    struct base_str t = base_str_trim(base_str_from_cstr(s));

    if (s != NULL && placeholder(t))
        return true;

    for (size_t i = 0; s != NULL && i < BASE_ARRAY_LEN(fillers); i++) {
        if (t.len == strlen(fillers[i]) && memcmp(t.ptr, fillers[i], t.len) == 0)
            return true;
    }
    return false;
}

/* A value in Chinese characters without a single digit: the name of the
 * data element a generator writes where it has no value -- FreeMarker
 * defaults such as ${xyPrescription.门急诊号!'门急诊号'} put "门急诊号",
 * "患者身份证件号码", "医疗机构组织机构代码", "患者ID" into the id.  Every
 * patient such a generator sends without a number would share it, and the
 * gateway links patients by identifier.  Identifiers of people, visits and
 * organisations have digits (GB 11643, GB 32100, HIS numbers); a name in
 * Han characters does not identify. */
static bool
element_name_as_value(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    bool han = false;

    for (; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9')
            return false;
        if ((p[0] & 0xF0) == 0xE0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
            unsigned cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);

            if (cp >= 0xFF10 && cp <= 0xFF19) /* fullwidth digits */
                return false;
            han = han || (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF);
            p += 2;
        }
    }
    return han;
}

/* WS/T 500's identifier types are OIDs under 2.16.156.10011.1 (1.3
 * resident ID, 1.4 staff, 1.5 institution, 1.11 outpatient number, 1.26
 * department...), its code systems under 2.16.156.10011.2: namespaces.  A
 * template's <id root="2.16.156.10011.1.26"/> without an extension names
 * no one; as an identifier it made every department of every hospital one
 * Organization, and every patient of <id root="2.16.156.10011.1.11"/> one
 * Patient. */
static bool
wst_namespace(const char *root)
{
    static const char arc[] = "2.16.156.10011.";

    return strncmp(root, arc, sizeof(arc) - 1) == 0;
}

/* HIS exports fill the resident identity numbers (GB 11643) they do not
 * have with one digit repeated -- "000000000000000000", "111111111111111"
 * -- and as WS/T 500's 2.16.156.10011.1.3 identifier such a value was the
 * key of one Patient for every such patient of the hospital.  Numbers that
 * merely fail the check character are kept: the gateway's patient index
 * validates them (gateway/mpi/resid.c), and test data is full of them. */
static bool
resident_id_placeholder(const char *v)
{
    size_t n = strlen(v);

    return n >= 6 && strspn(v, (char[]){v[0], '\0'}) == n;
}

/* Identifier schemes are ASCII (GB 11643 resident numbers, insurer and
 * record numbers), but values typed through a CJK IME come in full-width
 * forms (U+FF01-FF5E: "１３１", "Ｘ" -- a JAHIS health check-up CDA, HIS
 * forms): the same number in another document, written in ASCII, was
 * another identifier, so the patient was not linked.  The ASCII form, in
 * the arena when it differs; `s` itself otherwise (or when out of memory). */
static const char *
narrow_ascii(struct cda_ctx *c, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    char *out;
    size_t n = 0;

    if (strstr(s, "\xef\xbc") == NULL && strstr(s, "\xef\xbd") == NULL)
        return s;
    out = BASE_NEW_N(c->arena, char, strlen(s) + 1);
    if (out == NULL)
        return s;
    for (size_t i = 0; u[i] != '\0';) {
        unsigned cp = 0;

        if (u[i] == 0xEF && (u[i + 1] == 0xBC || u[i + 1] == 0xBD) && u[i + 2] >= 0x80 &&
            u[i + 2] <= 0xBF)
            cp = 0xFF00u + (u[i + 1] == 0xBD ? 0x40u : 0u) + (u[i + 2] - 0x80u);
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            out[n++] = (char)(cp - 0xFF01 + '!');
            i += 3;
        } else {
            out[n++] = (char)u[i++];
        }
    }
    out[n] = '\0';
    return out;
}

json_t *
cda_identifier(struct cda_ctx *c, const xmlNode *ii, struct cda_key *key)
{
    const char *root = cda_attr(c, ii, "root");
    const char *ext = cda_attr(c, ii, "extension");
    struct cda_key k;
    json_t *id;

    if (root == NULL || cda_attr(c, ii, "nullFlavor") != NULL)
        return NULL;
    if (ext != NULL)
        ext = narrow_ascii(c, ext);
    /* HL7 V3 Data Types R1 II: an extension, when present, is not empty.
     * WS/T 500 exports write extension="" for a number they do not have
     * (the health card number, the outpatient number); that is no
     * identifier, not the namespace OID itself. */
    if (ext != NULL && (cda_blank(ext) || null_flavor_text(ext)))
        return NULL;
    /* ...or a filler: <id root="2.16.156.10011.1.19" extension="-"/> (a
     * WS/T 500 generator's health card number) would make every patient
     * without a card share the identifier "-" -- and the gateway links
     * patients by identifier */
    if (ext != NULL && cda_filler_text(ext))
        return NULL;
    if (ext != NULL && strcmp(root, "2.16.156.10011.1.3") == 0 && resident_id_placeholder(ext)) {
        (void)cda_warn(c, ii, "value",
                       "resident identity number is one digit repeated (a placeholder); skipped");
        return NULL;
    }
    if (ext != NULL && element_name_as_value(ext)) {
        (void)cda_warn(c, ii, "value",
                       "identifier extension is a name in Chinese characters without digits (a "
                       "generator's data element name, not a number); skipped");
        return NULL;
    }
    /* A root alone is an identifier only when it names one thing; a
     * namespace FHIR knows (NPI 2.16.840.1.113883.4.6, SSN, a code system)
     * names a set.  Greenway sends <id root="2.16.840.1.113883.4.6"/> for
     * a legal authenticator without an NPI: as an identifier it would make
     * every such person one Practitioner across documents. */
    if (ext == NULL && (adapter_oid_uri(base_str_from_cstr(root)) != NULL || wst_namespace(root)))
        return NULL;
    if (ext != NULL) {
        /* FHIR R4 datatypes.html#Identifier + C-CDA on FHIR: the root names
         * the namespace of the extension. */
        const char *known = adapter_oid_uri(base_str_from_cstr(root));

        k.system = known != NULL ? known : root_urn(c, root);
        k.value = ext;
    } else {
        k.system = "urn:ietf:rfc:3986";
        k.value = root_urn(c, root);
    }
    if (k.system == NULL || k.value == NULL) {
        (void)cda_warn(c, ii, "value", "identifier root is neither an OID nor a UUID; skipped");
        return NULL;
    }
    id = json_object();
    if (id == NULL || adapter_jset_str(id, "system", k.system) != BASE_OK ||
        adapter_jset_str(id, "value", k.value) != BASE_OK) {
        json_decref(id);
        (void)cda_nomem(c);
        return NULL;
    }
    if (key != NULL)
        *key = k;
    return id;
}

json_t *
cda_identifiers(struct cda_ctx *c, const xmlNode *parent, struct cda_key *first)
{
    json_t *arr = NULL;

    CDA_EACH(ii, parent, "id")
    {
        struct cda_key k = {0};
        json_t *id = cda_identifier(c, ii, &k);

        if (id == NULL)
            continue;
        if (arr == NULL && (arr = json_array()) == NULL) {
            json_decref(id);
            (void)cda_nomem(c);
            return NULL;
        }
        if (json_array_size(arr) == 0 && first != NULL)
            *first = k;
        if (json_array_append_new(arr, id) != 0)
            (void)cda_nomem(c);
    }
    return arr;
}

struct cda_key
cda_derived_key(struct cda_ctx *c, const char *label)
{
    /* Deterministic: the same document yields the same keys in the same
     * order, so a re-ingested document updates rather than duplicates. */
    char uuid[ADAPTER_UUID_LEN + 1];
    char *name = base_arena_sprintf(c->arena, "%s/%s/%zu", c->doc_key, label, ++c->derived);
    struct cda_key k = {"urn:ietf:rfc:3986", NULL};

    if (name == NULL)
        return k;
    adapter_uuid5(name, strlen(name), uuid);
    k.value = base_arena_sprintf(c->arena, "urn:uuid:%s", uuid);
    return k;
}

/* displayName, unless it is only question marks: what an export's
 * charset conversion leaves of a name it could not encode (a Cerner CCD
 * sends displayName="????" for an RxNorm drug).  Such a display would be
 * shown to doctors as the drug's name; none is better. */
const char *
cda_display_of(struct cda_ctx *c, const xmlNode *cd)
{
    const char *d = cda_attr(c, cd, "displayName");
    const char *sys = cda_attr(c, cd, "codeSystem");

    if (d == NULL)
        return NULL;
    /* a data element's own display is its name ("诊断代码"): that is right
     * there, only the fixed fillers are none */
    if (sys != NULL && strncmp(sys, CDA_WST_DATA_ELEMENTS, strlen(CDA_WST_DATA_ELEMENTS)) == 0
            ? cda_fixed_filler(d)
            : cda_filler_text(d))
        return NULL;
    for (const char *p = d; *p != '\0'; p++) {
        if (*p != '?' && *p != ' ')
            return d;
    }
    return NULL;
}

/* A filler (cda_filler_text) written as the code of a system whose codes
 * all have digits -- SNOMED CT, LOINC, RxNorm, ICD-9/10 (also the Chinese
 * editions), CPT, CVX, NDC -- is no code.  Local systems are left alone:
 * "NA" is sodium in many lab catalogues. */
static bool
filler_code(struct cda_ctx *c, const xmlNode *cd, const char *code)
{
    static const char *const numeric[] = {
        "2.16.840.1.113883.6.96",   "2.16.840.1.113883.6.1",  "2.16.840.1.113883.6.88",
        "2.16.840.1.113883.6.3",    "2.16.840.1.113883.6.90", "2.16.840.1.113883.6.103",
        "2.16.840.1.113883.6.104",  "2.16.840.1.113883.6.4",  "2.16.840.1.113883.6.12",
        "2.16.840.1.113883.12.292", "2.16.840.1.113883.6.69", "2.16.156.10011.2.3.3.11",
        "2.16.156.10011.2.3.3.12"};
    const char *sys = cda_attr(c, cd, "codeSystem");

    /* a null flavor written as the code of no system (athenahealth's
     * <functionCode code="UNK" displayName="Primary Care Provider"/>): no
     * code; the display name becomes the concept's text */
    if (sys == NULL)
        return null_flavor_text(code);
    /* the codes of China's national tables (2.16.156.10011.2.3: GB/T 2261,
     * 用药途径, ICD-10 and GB/T 15657 editions) have digits; a name in Han
     * characters there is a generator's default, code="用药途径代码" */
    if (strncmp(sys, "2.16.156.10011.2.3.", 19) == 0 && element_name_as_value(code))
        return true;
    if (!cda_filler_text(code))
        return false;
    /* ...and every national table: their codes have digits too (a
     * sub-table such as 2.16.156.10011.2.3.3.11.3, the main-diagnosis
     * ICD-10 edition, let code="null" through before) */
    if (strncmp(sys, "2.16.156.10011.2.3.", 19) == 0)
        return true;
    for (size_t i = 0; i < BASE_ARRAY_LEN(numeric); i++) {
        if (strcmp(sys, numeric[i]) == 0)
            return true;
    }
    return false;
}

/* A filler code in a Chinese national table: the display next to it is
 * the template's, not the HIS's. */
static bool
wst_filler_code(struct cda_ctx *c, const xmlNode *cd)
{
    const char *sys = cda_attr(c, cd, "codeSystem");
    const char *code = cda_attr(c, cd, "code");

    return sys != NULL && code != NULL && strncmp(sys, "2.16.156.10011.2.3.", 19) == 0 &&
           filler_code(c, cd, code);
}

json_t *
cda_coding(struct cda_ctx *c, const xmlNode *cd)
{
    const char *code = cda_attr(c, cd, "code");
    json_t *cc;
    json_t *coding;

    if (code == NULL || code[0] == '\0' || filler_code(c, cd, code))
        return NULL;
    cc = json_object();
    if (cc == NULL || adapter_cc_add_coding(cc, cda_system(c, cda_attr(c, cd, "codeSystem")), code,
                                            cda_display_of(c, cd), NULL) != BASE_OK) {
        json_decref(cc);
        (void)cda_nomem(c);
        return NULL;
    }
    coding = json_incref(json_array_get(json_object_get(cc, "coding"), 0));
    json_decref(cc);
    return coding;
}

static int
add_coding(struct cda_ctx *c, json_t *cc, const xmlNode *cd)
{
    const char *code = cda_attr(c, cd, "code");

    if (code == NULL || code[0] == '\0' || filler_code(c, cd, code))
        return BASE_OK;
    return adapter_cc_add_coding(cc, cda_system(c, cda_attr(c, cd, "codeSystem")), code,
                                 cda_display_of(c, cd), &c->opt->codemap);
}

json_t *
cda_concept(struct cda_ctx *c, const xmlNode *cd)
{
    json_t *cc;
    const char *text;

    if (cd == NULL)
        return NULL;
    cc = json_object();
    if (cc == NULL || add_coding(c, cc, cd) != BASE_OK)
        goto nomem;
    CDA_EACH(tr, cd, "translation")
    {
        if (add_coding(c, cc, tr) != BASE_OK)
            goto nomem;
    }
    text = cda_narrative(c, cda_child(cd, "originalText"));
    /* No code at all but a displayName (WS/T 500 writes <code
     * displayName="主治医师"/> for titles, panels and sections): the name is
     * the concept's text rather than lost. */
    /* ...unless the code is a filler (code="null" displayName="创伤性脑损伤":
     * a template's fixed display next to the value the HIS did not have) */
    if ((text == NULL || text[0] == '\0') && json_object_get(cc, "coding") == NULL &&
        !wst_filler_code(c, cd))
        text = cda_display_of(c, cd);
    if (text != NULL && text[0] != '\0' && adapter_jset_str(cc, "text", text) != BASE_OK)
        goto nomem;
    if (json_object_size(cc) == 0) {
        json_decref(cc);
        return NULL;
    }
    return cc;
nomem:
    json_decref(cc);
    (void)cda_nomem(c);
    return NULL;
}

static bool
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Copy digits of `*p` into out, skipping the separators `sep`. */
static void
copy_digits(const char **p, const char *sep, char *out, size_t *o, size_t cap)
{
    for (; **p != '\0' && (is_digit(**p) || strchr(sep, **p) != NULL); (*p)++) {
        if (is_digit(**p) && *o + 1 < cap)
            out[(*o)++] = **p;
    }
}

/* "2024-03-20", "2024-03-20T09:30:00.5+08:00" or "2024-03-20 09:30:00"
 * (XML Schema or SQL times that exports put into a TS) -> the HL7 form
 * "20240320093000.5+0800"; anything else is returned as it is. */
static const char *
iso_to_ts(struct cda_ctx *c, const char *v)
{
    char out[48];
    size_t o = 0;
    const char *p = v;

    if (strlen(v) < 5 || strlen(v) > 40 || !is_digit(v[0]) || v[4] != '-')
        return v;
    copy_digits(&p, "-", out, &o, sizeof(out));
    if (*p == 'T' || *p == ' ')
        p++;
    copy_digits(&p, ":", out, &o, sizeof(out));
    if (*p == '.') {
        out[o++] = *p++;
        copy_digits(&p, "", out, &o, sizeof(out));
    }
    if (*p == 'Z') {
        memcpy(out + o, "+0000", 5);
        o += 5;
        p++;
    } else if (*p == '+' || *p == '-') {
        out[o++] = *p++;
        copy_digits(&p, ":", out, &o, sizeof(out));
    }
    if (*p != '\0')
        return v;
    out[o] = '\0';
    return base_arena_strdup(c->arena, out);
}

/* Digits with at most a fraction and a zone: HL7 TS itself. */
static bool
is_ts_shaped(const char *v)
{
    size_t d = strspn(v, "0123456789");

    return v[d] == '\0' || v[d] == '.' || v[d] == '+' || (v[d] == '-' && d >= 8);
}

/* The length of a date/time separator at p: / - . : space T, or 年 月 日
 * 时 分 秒 点 (UTF-8, three bytes each); 0 if none. */
static size_t
local_separator(const char *p)
{
    static const char *const han[] = {"\u5e74", "\u6708", "\u65e5", "\u65f6",
                                      "\u5206", "\u79d2", "\u70b9"};

    if (*p != '\0' && strchr("/-.: T", *p) != NULL)
        return 1;
    for (size_t i = 0; i < BASE_ARRAY_LEN(han); i++) {
        if (strncmp(p, han[i], 3) == 0)
            return 3;
    }
    return 0;
}

/* Dates as Chinese HIS exports and Java date formats write them into a TS:
 * "2019年5月10日", "2019/05/10 13:44:03", "2019-5-10", "2019年5月10日 13时44分",
 * "20190510 134403" -> "20190510134403".  Fields are numbers between
 * separators: a 4-digit year, then month, day, hour (1-2 digits), minute
 * and second (2); or an 8-digit date and a 4/6-digit time.  No zone is
 * read here (the configured one applies, as for any TS without one);
 * anything else is returned as it is, for adapter_ts_to_fhir to refuse. */
static const char *
local_to_ts(struct cda_ctx *c, const char *v)
{
    static const size_t min_len[] = {4, 1, 1, 1, 2, 2};
    static const size_t max_len[] = {4, 2, 2, 2, 2, 2};
    unsigned field[6];
    size_t len[6];
    size_t n = 0;
    const char *p = v;
    bool separated = false;

    while (*p != '\0' && n < 6) {
        size_t k = 0;
        unsigned x = 0;

        while (is_digit(p[k]) && k < 9)
            x = x * 10 + (unsigned)(p[k++] - '0');
        if (k == 0)
            return v;
        field[n] = x;
        len[n++] = k;
        p += k;
        for (size_t sep; (sep = local_separator(p)) > 0; p += sep)
            separated = true;
    }
    if (*p != '\0' || !separated || n == 0)
        return v;
    /* "20190510 134403" */
    if (n <= 2 && len[0] == 8 && (n == 1 || len[1] == 4 || len[1] == 6)) {
        return n == 1 ? base_arena_sprintf(c->arena, "%08u", field[0])
                      : base_arena_sprintf(c->arena, "%08u%0*u", field[0], (int)len[1], field[1]);
    }
    for (size_t i = 0; i < n; i++) {
        if (len[i] < min_len[i] || len[i] > max_len[i])
            return v;
    }
    if (n < 3)
        return v; /* "2019-05" is ISO's own, handled before */
    char out[16];
    int w = snprintf(out, sizeof(out), "%04u%02u%02u", field[0], field[1], field[2]);

    for (size_t i = 3; i < n && w > 0 && (size_t)w + 2 < sizeof(out); i++)
        w += snprintf(out + w, sizeof(out) - (size_t)w, "%02u", field[i]);
    return base_arena_strdup(c->arena, out);
}

/* A zone of hours only ("+08", which ISO 8601 allows and some exports
 * write into a TS) gets its minutes, as HL7 V3 TS (+ZZzz) has them. */
static const char *
zone_minutes(struct cda_ctx *c, const char *v)
{
    const char *sign = strrchr(v, '+');
    size_t len = strlen(v);

    if (sign == NULL)
        sign = strrchr(v, '-');
    if (sign == NULL || sign - v < 8 || len - (size_t)(sign - v) != 3 || !is_digit(sign[1]) ||
        !is_digit(sign[2]))
        return v;
    return base_arena_sprintf(c->arena, "%s00", v);
}

const char *
cda_ts(struct cda_ctx *c, const xmlNode *ts, bool want_date)
{
    const char *v = cda_attr(c, ts, "value");
    char buf[ADAPTER_TS_MAX];

    if (v == NULL || cda_blank(v) || cda_filler_text(v)) /* value="NA": no time */
        return NULL;
    const char *as_is = v;

    v = iso_to_ts(c, v);
    if (v != NULL)
        v = zone_minutes(c, v);
    if (v == NULL) {
        (void)cda_nomem(c);
        return NULL;
    }
    if (adapter_ts_to_fhir(base_str_from_cstr(v), c->opt->default_tz, want_date, buf,
                           sizeof(buf)) == 0) {
        /* not HL7 TS nor ISO: perhaps a local form ("2019年5月10日") */
        v = is_ts_shaped(as_is) ? as_is : local_to_ts(c, as_is);
        if (v == as_is || v == NULL ||
            adapter_ts_to_fhir(base_str_from_cstr(v), c->opt->default_tz, want_date, buf,
                               sizeof(buf)) == 0) {
            (void)cda_warn(c, ts, "value", "invalid timestamp; skipped");
            return NULL;
        }
    }
    return base_arena_strdup(c->arena, buf);
}

json_t *
cda_period(struct cda_ctx *c, const xmlNode *ivl)
{
    const char *start;
    const char *end;
    json_t *p;

    if (ivl == NULL)
        return NULL;
    start = cda_ts(c, ivl, false);
    end = NULL;
    if (start == NULL) {
        start = cda_ts(c, cda_child(ivl, "low"), false);
        end = cda_ts(c, cda_child(ivl, "high"), false);
    }
    /* <center value=.../> alone: a point, the interval around it unknown */
    if (start == NULL && end == NULL)
        start = end = cda_ts(c, cda_child(ivl, "center"), false);
    if (start == NULL && end == NULL)
        return NULL;
    if (start != NULL && end != NULL &&
        fhir_validate_period_inverted(start, strlen(start), end, strlen(end))) {
        /* FHIR R4 per-1: start <= end.  Which end is wrong is unknown;
         * the start (when it began) is kept. */
        (void)cda_warn(c, ivl, "value", "interval ends before it starts; end skipped");
        end = NULL;
    }
    p = json_object();
    if (p == NULL || adapter_jset_str(p, "start", start) != BASE_OK ||
        adapter_jset_str(p, "end", end) != BASE_OK) {
        json_decref(p);
        (void)cda_nomem(c);
        return NULL;
    }
    return p;
}

const char *
cda_time_point(struct cda_ctx *c, const xmlNode *ivl)
{
    const char *t;

    if (ivl == NULL)
        return NULL;
    t = cda_ts(c, ivl, false);
    if (t == NULL)
        t = cda_ts(c, cda_child(ivl, "low"), false);
    if (t == NULL)
        t = cda_ts(c, cda_child(ivl, "center"), false);
    if (t == NULL)
        t = cda_ts(c, cda_child(ivl, "high"), false);
    return t;
}

/* Greenway and Kinsights put the text itself in the reference:
 * <originalText><reference value="Topical Ointment"/></originalText>.  A
 * value that points nowhere, has no '#', and reads as words (letters and
 * spaces, no digits, no URI punctuation) is that text; an unresolved
 * "#id" or "ID0EAB" stays unresolved. */
static bool
reference_is_text(const char *v)
{
    bool letter = false;

    for (const char *p = v; *p != '\0'; p++) {
        if ((*p >= '0' && *p <= '9') || *p == '#' || *p == ':' || *p == '/' || *p == '.' ||
            *p == '_')
            return false;
        letter = letter || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
    }
    return letter;
}

/* The referenced narrative and the element's own words next to the
 * reference (HL7 samples: <text><reference value="#Med1"/> 2 puffs QID PRN
 * wheezing</text> -- the drug's name is the target, the directions are
 * not).  Either alone when one holds the other (originalText "Hives" next
 * to a reference to "Hives"). */
static const char *
with_own_text(struct cda_ctx *c, const char *target, const char *own)
{
    if (own[0] == '\0' || strstr(target, own) != NULL)
        return target;
    if (strstr(own, target) != NULL)
        return own;
    const char *both = base_arena_sprintf(c->arena, "%s %s", target, own);

    return both != NULL ? both : target;
}

const char *
cda_narrative(struct cda_ctx *c, const xmlNode *text)
{
    xmlNodePtr ref = cda_child(text, "reference");
    const char *v = cda_attr(c, ref, "value");
    const char *t;

    if (text == NULL)
        return NULL;
    if (v != NULL && v[0] != '\0') {
        /* CDA R2 section 4.3.5.1: <reference value="#id"/> points into the
         * section narrative; its text is the original text.  Some exports
         * leave out the '#'. */
        xmlNodePtr target = xmlHashLookup(c->ids, (const xmlChar *)(v[0] == '#' ? v + 1 : v));

        /* an empty target (<content ID="Allergy1"/>Eggs, EMERGE) says
         * nothing: the element's own text, if any, does */
        t = target != NULL ? cda_text(c, target) : "";
        if (t[0] != '\0')
            return with_own_text(c, t, cda_text(c, text));
        if (target == NULL && reference_is_text(v))
            return v;
    }
    t = cda_text(c, text);
    return t[0] != '\0' ? t : NULL;
}

/* ---------------------------------------------------- "no information" */

/* Words that, after "no"/"none"/"not", make a text a statement that there
 * is nothing to record rather than a name. */
static const char *const nothing_words[] = {
    "data",     "information", "applicable", "available", "known",   "documented",
    "recorded", "reported",    "on file",    "found",     "current", "active",
};

/* Whole texts that say the same. */
static const char *const nothing_texts[] = {
    "none",           "n/a",           "na",     "nil", "unknown",
    "not applicable", "not available", "\u65e0", /* 无 none */
    "\u4e0d\u8be6",                              /* 不详 unknown */
    "\u672a\u77e5",                              /* 未知 unknown */
};

bool
cda_says_nothing(const json_t *cc)
{
    const char *text = json_string_value(json_object_get(cc, "text"));
    char low[160];
    size_t n = 0;

    if (json_object_get(cc, "coding") != NULL || text == NULL)
        return false;
    if (cda_filler_text(text)) /* NA, 无, a generator's "药物名称" */
        return true;
    while (*text == ' ')
        text++;
    for (; text[n] != '\0'; n++) {
        if (n + 1 >= sizeof(low))
            return false; /* a long text names something */
        low[n] = (char)((text[n] >= 'A' && text[n] <= 'Z') ? text[n] + ('a' - 'A') : text[n]);
    }
    while (n > 0 && (low[n - 1] == ' ' || low[n - 1] == '.'))
        n--;
    low[n] = '\0';
    for (size_t i = 0; i < BASE_ARRAY_LEN(nothing_texts); i++) {
        if (strcmp(low, nothing_texts[i]) == 0)
            return true;
    }
    if (strncmp(low, "no ", 3) != 0 && strncmp(low, "none ", 5) != 0 &&
        strncmp(low, "not ", 4) != 0)
        return false;
    for (size_t i = 0; i < BASE_ARRAY_LEN(nothing_words); i++) {
        if (strstr(low, nothing_words[i]) != NULL)
            return true;
    }
    return false;
}

int
cda_warn_nothing(struct cda_ctx *c, const xmlNode *n)
{
    return cda_warn(c, n, "informational",
                    "entry says there is no information (a null flavor, or only text such as "
                    "\"no data\"); no resource");
}

int
cda_warn_planned(struct cda_ctx *c, const xmlNode *act)
{
    return cda_warn(
        c, act, "not-supported",
        "planned entry (moodCode not EVN) is not mapped; kept in the attached document");
}

/* Range low above high breaks FHIR R4 rng-2 (low <= high).  Units are
 * not converted: bounds in different units are not compared. */
bool
cda_range_inverted(const json_t *low, const json_t *high)
{
    const char *lu = json_string_value(json_object_get(low, "unit"));
    const char *hu = json_string_value(json_object_get(high, "unit"));
    double l = fhir_json_number_double(json_object_get(low, "value"));
    double h = fhir_json_number_double(json_object_get(high, "value"));

    if (low == NULL || high == NULL || (lu == NULL) != (hu == NULL) ||
        (lu != NULL && strcmp(lu, hu) != 0))
        return false;
    return l > h; /* false when either is NaN */
}

json_t *
cda_ratio(struct cda_ctx *c, const xmlNode *rto)
{
    json_t *num;
    json_t *den;

    if (rto == NULL)
        return NULL;
    num = cda_quantity(c, cda_child(rto, "numerator"));
    den = cda_quantity(c, cda_child(rto, "denominator"));
    if (num == NULL || den == NULL) {
        json_decref(num);
        json_decref(den);
        return NULL;
    }
    return json_pack("{s:o,s:o}", "numerator", num, "denominator", den);
}

/* targetSiteCode -> bodySite.  A qualifier (laterality: "Left", the HL7
 * example "Problem TargetSiteCode Qualifier") has no slot of its own in an
 * R4 CodeableConcept; it goes into the text ("Left Lower leg structure")
 * rather than being lost. */
int
cda_body_sites(struct cda_ctx *c, json_t *res, const xmlNode *act)
{
    CDA_EACH(site, act, "targetSiteCode")
    {
        json_t *cc = cda_concept(c, site);
        xmlNodePtr q = cda_child(cda_child(site, "qualifier"), "value");
        const char *qual = cda_display_of(c, q);
        const char *name = json_string_value(json_object_get(cc, "text"));

        if (cc == NULL)
            continue;
        if (name == NULL)
            name = json_string_value(
                json_object_get(json_array_get(json_object_get(cc, "coding"), 0), "display"));
        if (qual != NULL && !cda_blank(qual) &&
            adapter_jset_str(cc, "text",
                             name != NULL ? base_arena_sprintf(c->arena, "%s %s", qual, name)
                                          : qual) != BASE_OK) {
            json_decref(cc);
            return cda_nomem(c);
        }
        TRY(adapter_jpush(res, "bodySite", cc));
    }
    return BASE_OK;
}
