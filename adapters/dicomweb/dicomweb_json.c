/*
 * Reading the DICOM JSON model (PS3.18 annex F) strictly.
 *
 * F.2.2: a dataset is an object keyed by eight hex digits (gggg eeee);
 * each attribute is {"vr": .., "Value": [..]} or {"vr": .., "BulkDataURI":
 * ..} or {"vr": .., "InlineBinary": ..}.  F.2.3: the JSON type of each value
 * follows the VR (strings, numbers, PN objects, SQ datasets); null stands
 * for an empty value.
 *
 * Real PACS bend annex F in ways that still say what they mean, and one
 * such attribute must not cost a patient every study of the answer: numbers
 * of any numeric VR as numeric strings (dicomweb-client's recorded answers
 * carry US as "3"), a PN as its PS3.5 6.2.1 string form ("A=I=P"), and
 * values longer than PS3.5 table 6.2-1 allows (vendors' LO/SH, DS with 17+
 * digits, DA/TM ranges echoed from the query) are read; only UI and AT keep
 * their fixed bounds - a UID longer than 64 cannot be one, and FHIR's id
 * type holds 64 - and max_text caps everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/dicomweb/dicomweb_int.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"

struct dicomweb_limits
dicomweb_limits_default(void)
{
    struct dicomweb_limits l = {
        .max_doc = BASE_LIMIT_DICOMWEB_MAX_RESPONSE,
        .max_depth = BASE_LIMIT_DICOMWEB_MAX_DEPTH,
        .max_datasets = BASE_LIMIT_DICOMWEB_MAX_DATASETS,
        .max_values = BASE_LIMIT_DICOMWEB_MAX_VALUES,
        .max_text = BASE_LIMIT_DICOMWEB_MAX_TEXT,
    };
    return l;
}

enum vr_kind {
    K_STR,    /* string values */
    K_NUM,    /* binary numbers: JSON numbers (or numeric strings) */
    K_NUMSTR, /* IS, DS: numbers or numeric strings (annex F allows both) */
    K_PN,     /* person name objects */
    K_SQ,     /* datasets */
    K_AT,     /* tag strings "gggg eeee" */
    K_BULK    /* OB, OW, ...: BulkDataURI or InlineBinary only */
};

struct vr_info {
    const char *vr;
    enum vr_kind kind;
    size_t max; /* per value; characters for text VRs, 0 = max_text */
    bool chars; /* max counts characters (code points), not bytes */
};

/* Whether `vi->max` is a hard bound (see the top of this file). */
static bool
fixed_length(const struct vr_info *vi)
{
    return strcmp(vi->vr, "UI") == 0 || strcmp(vi->vr, "AT") == 0;
}

/* PS3.5 table 6.2-1.  DA and TM allow the ACR-NEMA forms "yyyy.mm.dd" and
 * "hh:mm:ss.frac" (10 and 16 bytes) that old images still carry. */
static const struct vr_info vrs[] = {
    {"AE", K_STR, 16, false},    {"AS", K_STR, 4, false},  {"AT", K_AT, 8, false},
    {"CS", K_STR, 16, false},    {"DA", K_STR, 10, false}, {"DS", K_NUMSTR, 16, false},
    {"DT", K_STR, 26, false},    {"FL", K_NUM, 0, false},  {"FD", K_NUM, 0, false},
    {"IS", K_NUMSTR, 12, false}, {"LO", K_STR, 64, true},  {"LT", K_STR, 10240, true},
    {"OB", K_BULK, 0, false},    {"OD", K_BULK, 0, false}, {"OF", K_BULK, 0, false},
    {"OL", K_BULK, 0, false},    {"OV", K_BULK, 0, false}, {"OW", K_BULK, 0, false},
    {"PN", K_PN, 64, true},      {"SH", K_STR, 16, true},  {"SL", K_NUM, 0, false},
    {"SQ", K_SQ, 0, false},      {"SS", K_NUM, 0, false},  {"ST", K_STR, 1024, true},
    {"SV", K_NUM, 0, false},     {"TM", K_STR, 16, false}, {"UC", K_STR, 0, true},
    {"UI", K_STR, 64, false},    {"UL", K_NUM, 0, false},  {"UN", K_BULK, 0, false},
    {"UR", K_STR, 0, false},     {"US", K_NUM, 0, false},  {"UT", K_STR, 0, true},
    {"UV", K_NUM, 0, false},
};

/* The tags the mapping reads, with the VR PS3.6 gives them: a dataset that
 * says otherwise is not what it claims to be. */
static const struct {
    const char *tag;
    const char *vr;
} known_tags[] = {
    {DW_SPECIFIC_CHARSET, "CS"},
    {DW_SOP_CLASS, "UI"},
    {DW_SOP_INSTANCE, "UI"},
    {DW_STUDY_DATE, "DA"},
    {DW_SERIES_DATE, "DA"},
    {DW_STUDY_TIME, "TM"},
    {DW_SERIES_TIME, "TM"},
    {DW_ACCESSION, "SH"},
    {DW_ACC_ISSUER, "SQ"},
    {DW_MODALITY, "CS"},
    {DW_MODALITIES, "CS"},
    {DW_TZ_OFFSET, "SH"},
    {DW_REFERRER, "PN"},
    {DW_STUDY_DESC, "LO"},
    {DW_PROC_CODES, "SQ"},
    {DW_SERIES_DESC, "LO"},
    {DW_READER, "PN"},
    {DW_RETRIEVE_URL, "UR"},
    {DW_CODE_VALUE, "SH"},
    {DW_CODE_SCHEME, "SH"},
    {DW_CODE_MEANING, "LO"},
    {DW_PATIENT_NAME, "PN"},
    {DW_PATIENT_ID, "LO"},
    {DW_ISSUER, "LO"},
    {DW_ISSUER_QUAL, "SQ"},
    {DW_LOCAL_NS, "UT"},
    {DW_UEID, "UT"},
    {DW_UEID_TYPE, "CS"},
    {DW_BIRTH_DATE, "DA"},
    {DW_SEX, "CS"},
    {DW_BODY_PART, "CS"},
    {DW_STUDY_UID, "UI"},
    {DW_SERIES_UID, "UI"},
    {DW_STUDY_ID, "SH"},
    {DW_SERIES_NUMBER, "IS"},
    {DW_INSTANCE_NUMBER, "IS"},
    {DW_LATERALITY, "CS"},
    {DW_N_SERIES, "IS"},
    {DW_N_STUDY_INSTANCES, "IS"},
    {DW_N_SERIES_INSTANCES, "IS"},
};

struct vctx {
    const struct dicomweb_limits *lim;
    struct base_err *err;
    char where[128];
};

static int
bad(struct vctx *v, int rc, const char *msg)
{
    return base_err_set(v->err, rc, rc == BASE_E_LIMIT ? "too-costly" : "structure", v->where, "%s",
                        msg);
}

static const struct vr_info *
find_vr(const char *vr)
{
    for (size_t i = 0; vr != NULL && i < BASE_ARRAY_LEN(vrs); i++) {
        if (strcmp(vrs[i].vr, vr) == 0)
            return &vrs[i];
    }
    return NULL;
}

static size_t
code_points(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static int
check_text(struct vctx *v, const struct vr_info *vi, const json_t *s)
{
    struct base_str t = fhir_json_str(s);
    size_t n = vi->chars ? code_points(t.ptr, t.len) : t.len;

    if (!fhir_json_is_string(s))
        return bad(v, BASE_E_INVALID, "value is not a string as its VR requires");
    if (fixed_length(vi) && n > vi->max)
        return bad(v, BASE_E_INVALID, "value is longer than its VR allows");
    if (t.len > v->lim->max_text)
        return bad(v, BASE_E_LIMIT, "value is longer than the configured limit");
    return BASE_OK;
}

static const char *const pn_groups[] = {"Alphabetic", "Ideographic", "Phonetic"};

/* A PN sent as its PS3.5 6.2.1 string "alphabetic=ideographic=phonetic"
 * instead of an F.2.2 object: the object it stands for. */
static int
pn_from_string(struct vctx *v, const json_t *s, json_t **out)
{
    struct base_str rest = fhir_json_str(s);
    json_t *pn = json_object();

    *out = NULL;
    if (pn == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < BASE_ARRAY_LEN(pn_groups); i++) {
        struct base_str g;
        bool more = base_str_cut(rest, '=', &g, &rest);

        if (g.len > 0 && json_object_set_new(pn, pn_groups[i], json_stringn(g.ptr, g.len)) != 0) {
            json_decref(pn);
            return BASE_E_NOMEM;
        }
        if (!more) {
            *out = pn;
            return BASE_OK;
        }
    }
    json_decref(pn);
    return bad(v, BASE_E_INVALID, "person name has more than three component groups");
}

static int
check_pn(struct vctx *v, const struct vr_info *vi, const json_t *pn)
{
    const char *key;
    json_t *g;

    if (!json_is_object(pn))
        return bad(v, BASE_E_INVALID, "person name is not an object");
    json_object_foreach((json_t *)pn, key, g)
    {
        bool known = false;

        for (size_t i = 0; i < BASE_ARRAY_LEN(pn_groups); i++)
            known = known || strcmp(key, pn_groups[i]) == 0;
        if (!known)
            return bad(v, BASE_E_INVALID, "person name has an unknown component group");
        TRY(check_text(v, vi, g));
    }
    return BASE_OK;
}

static bool
tag_syntax_ok(const char *k)
{
    if (strlen(k) != 8)
        return false;
    for (size_t i = 0; i < 8; i++) {
        char c = k[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static int
check_number(struct vctx *v, const struct vr_info *vi, const json_t *x)
{
    if (fhir_json_is_number(x))
        return BASE_OK;
    if (fhir_json_is_string(x)) {
        struct base_str t = base_str_trim(fhir_json_str(x));

        TRY(check_text(v, vi, x));
        if (t.len == 0 || fhir_json_number_syntax_ok(t.ptr, t.len) ||
            (t.ptr[0] == '+' && fhir_json_number_syntax_ok(t.ptr + 1, t.len - 1)))
            return BASE_OK;
    }
    return bad(v, BASE_E_INVALID, "value is not a number as its VR requires");
}

static int normalize(struct vctx *v, const json_t *ds, size_t depth, json_t **out);

/* One element of "Value". */
static int
check_value(struct vctx *v, const struct vr_info *vi, json_t *x, size_t depth, json_t **out)
{
    *out = NULL;
    if (json_is_null(x))
        return (*out = json_null()) != NULL ? BASE_OK : BASE_E_NOMEM;
    switch (vi->kind) {
    case K_STR:
    case K_AT:
        TRY(check_text(v, vi, x));
        if (vi->kind == K_AT && !tag_syntax_ok(json_string_value(x)))
            return bad(v, BASE_E_INVALID, "AT value is not a tag");
        break;
    case K_NUM:
    case K_NUMSTR:
        TRY(check_number(v, vi, x));
        break;
    case K_PN:
        if (fhir_json_is_string(x)) {
            TRY(check_text(v, vi, x));
            TRY(pn_from_string(v, x, out));
            int rc = check_pn(v, vi, *out);
            if (rc != BASE_OK) {
                json_decref(*out);
                *out = NULL;
            }
            return rc;
        }
        TRY(check_pn(v, vi, x));
        break;
    case K_SQ:
        if (!json_is_object(x))
            return bad(v, BASE_E_INVALID, "sequence item is not a dataset");
        return normalize(v, x, depth + 1, out);
    default:
        return bad(v, BASE_E_INVALID, "bulk data VR carries a Value");
    }
    *out = json_incref(x);
    return BASE_OK;
}

static int
check_values(struct vctx *v, const struct vr_info *vi, json_t *values, size_t depth, json_t **out)
{
    size_t i;
    json_t *x;

    if (!json_is_array(values))
        return bad(v, BASE_E_INVALID, "Value is not an array");
    if (json_array_size(values) > v->lim->max_values)
        return bad(v, BASE_E_LIMIT, "attribute has too many values");
    *out = json_array();
    if (*out == NULL)
        return BASE_E_NOMEM;
    json_array_foreach(values, i, x)
    {
        json_t *n = NULL;
        int rc = check_value(v, vi, x, depth, &n);

        if (rc != BASE_OK || json_array_append_new(*out, n) != 0) {
            json_decref(*out);
            *out = NULL;
            return rc != BASE_OK ? rc : BASE_E_NOMEM;
        }
    }
    return BASE_OK;
}

static int
expected_vr(struct vctx *v, const char *tag, const char *vr)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(known_tags); i++) {
        if (strcmp(known_tags[i].tag, tag) == 0 && strcmp(known_tags[i].vr, vr) != 0)
            return bad(v, BASE_E_INVALID, "attribute has a VR its tag never has");
    }
    return BASE_OK;
}

/* One attribute: {"vr": .., ("Value" | "BulkDataURI" | "InlineBinary")}. */
static int
check_attr(struct vctx *v, const char *tag, json_t *attr, size_t depth, json_t **out)
{
    json_t *vrj = json_object_get(attr, "vr");
    const struct vr_info *vi = find_vr(json_string_value(vrj));
    json_t *values = json_object_get(attr, "Value");
    size_t forms = (values != NULL) + (json_object_get(attr, "BulkDataURI") != NULL) +
                   (json_object_get(attr, "InlineBinary") != NULL);

    *out = NULL;
    if (!json_is_object(attr) || vrj == NULL)
        return bad(v, BASE_E_INVALID, "attribute has no vr");
    if (vi == NULL)
        return bad(v, BASE_E_INVALID, "attribute has an unknown VR");
    TRY(expected_vr(v, tag, vi->vr));
    if (forms > 1 || json_object_size(attr) > 2)
        return bad(v, BASE_E_INVALID, "attribute has unexpected members");
    if (values == NULL) {
        /* bulk data is referenced, never needed for the mapping */
        *out = json_pack("{s:s}", "vr", vi->vr);
        return *out != NULL ? BASE_OK : BASE_E_NOMEM;
    }
    json_t *checked = NULL;
    TRY(check_values(v, vi, values, depth, &checked));
    *out = json_pack("{s:s,s:o}", "vr", vi->vr, "Value", checked);
    return *out != NULL ? BASE_OK : BASE_E_NOMEM;
}

static void
upper(char *dst, const char *src)
{
    for (size_t i = 0; i < 8; i++)
        dst[i] = (src[i] >= 'a' && src[i] <= 'f') ? (char)(src[i] - 'a' + 'A') : src[i];
    dst[8] = '\0';
}

/* A checked copy of `ds` with upper-case tag keys. */
static int
normalize(struct vctx *v, const json_t *ds, size_t depth, json_t **out)
{
    size_t saved = strlen(v->where);
    const char *key;
    json_t *attr;
    json_t *res;

    *out = NULL;
    if (depth > v->lim->max_depth)
        return bad(v, BASE_E_LIMIT, "sequences nest too deeply");
    res = json_object();
    if (res == NULL)
        return BASE_E_NOMEM;
    json_object_foreach((json_t *)ds, key, attr)
    {
        char tag[9];
        json_t *checked = NULL;
        int rc;

        if (!tag_syntax_ok(key)) {
            json_decref(res);
            return bad(v, BASE_E_INVALID, "attribute key is not a tag");
        }
        upper(tag, key);
        (void)snprintf(v->where + saved, sizeof(v->where) - saved, ".%s", tag);
        rc = check_attr(v, tag, attr, depth, &checked);
        if (rc == BASE_OK && json_object_get(res, tag) != NULL)
            rc = bad(v, BASE_E_INVALID, "tag appears twice");
        if (rc != BASE_OK) {
            json_decref(checked);
            json_decref(res);
            return rc;
        }
        if (json_object_set_new(res, tag, checked) != 0) {
            json_decref(res);
            return BASE_E_NOMEM;
        }
        v->where[saved] = '\0';
    }
    *out = res;
    return BASE_OK;
}

static int
normalize_all(struct vctx *v, json_t *doc, json_t **datasets)
{
    bool one = json_is_object(doc);
    size_t n = one ? 1 : json_array_size(doc);
    json_t *arr;

    if (!one && !json_is_array(doc))
        return base_err_set(v->err, BASE_E_INVALID, "structure", "dataset",
                            "not DICOM JSON (neither a dataset nor an array of them)");
    if (n > v->lim->max_datasets)
        return base_err_set(v->err, BASE_E_LIMIT, "too-costly", "dataset",
                            "document has more than %zu datasets", v->lim->max_datasets);
    arr = json_array();
    if (arr == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *ds = one ? doc : json_array_get(doc, i);
        json_t *norm = NULL;
        int rc;

        (void)snprintf(v->where, sizeof(v->where), "dataset[%zu]", i);
        rc = json_is_object(ds) ? normalize(v, ds, 0, &norm)
                                : bad(v, BASE_E_INVALID, "array element is not a dataset");
        if (rc != BASE_OK || json_array_append_new(arr, norm) != 0) {
            json_decref(arr);
            return rc != BASE_OK ? rc : BASE_E_NOMEM;
        }
    }
    *datasets = arr;
    return BASE_OK;
}

/* Is the backslash at text[i] the start of an escape (an even number of
 * backslashes before it)? */
static bool
starts_escape(const char *text, size_t i)
{
    size_t n = 0;

    while (n < i && text[i - 1 - n] == '\\')
        n++;
    return n % 2 == 0;
}

/*
 * PS3.5 6.2 pads a UI value (and, against the rules, some writers pad
 * other text) with a trailing NUL to an even length.  Padding is not part
 * of a value, yet PACS that copy binary values into DICOM JSON send it as
 * "\u0000" before the closing quote, which a JSON string cannot carry here
 * (fhir_json_parse refuses U+0000).  Such trailing escapes are dropped
 * into a copy (*copy, NULL when there were none); a NUL anywhere else in a
 * string is still refused.
 */
static int
strip_nul_padding(const char *text, size_t len, char **copy, size_t *copy_len)
{
    static const char esc[] = "\\u0000";
    const size_t el = sizeof(esc) - 1;
    size_t o = 0;
    char *out = NULL;

    *copy = NULL;
    for (size_t i = 0; i < len; i++) {
        size_t j = i;

        if (text[i] == '\\' && starts_escape(text, i)) {
            while (j + el <= len && memcmp(text + j, esc, el) == 0)
                j += el;
        }
        if (j > i && j < len && text[j] == '"') {
            if (out == NULL) {
                out = malloc(len);
                if (out == NULL)
                    return BASE_E_NOMEM;
                memcpy(out, text, i);
                o = i;
            }
            i = j - 1; /* the quote is copied next */
            continue;
        }
        if (out != NULL)
            out[o++] = text[i];
    }
    *copy = out;
    *copy_len = o;
    return BASE_OK;
}

int
dicomweb_parse(const char *text, size_t len, const struct dicomweb_limits *lim, json_t **datasets,
               struct base_err *err)
{
    struct dicomweb_limits deflim = dicomweb_limits_default();
    struct fhir_json_limits jl = fhir_json_limits_default();
    struct vctx v = {.lim = lim != NULL ? lim : &deflim, .err = err};
    json_t *doc = NULL;
    int rc;

    *datasets = NULL;
    jl.max_doc = v.lim->max_doc;
    /* dataset > attribute > Value > item dataset: three JSON levels per SQ */
    jl.max_depth = 3 * v.lim->max_depth + 4;
    jl.max_array =
        v.lim->max_datasets > v.lim->max_values ? v.lim->max_datasets : v.lim->max_values;
    if (len > jl.max_doc) /* before copying it */
        return base_err_set(err, BASE_E_LIMIT, "too-costly", "byte 0",
                            "document exceeds size limit of %zu bytes", jl.max_doc);
    char *unpadded = NULL;
    size_t unpadded_len = 0;
    if (strip_nul_padding(text, len, &unpadded, &unpadded_len) != BASE_OK)
        return base_err_set(err, BASE_E_NOMEM, "exception", "dataset", "out of memory");
    rc = unpadded != NULL ? fhir_json_parse(unpadded, unpadded_len, &jl, &doc, err)
                          : fhir_json_parse(text, len, &jl, &doc, err);
    free(unpadded);
    if (rc != BASE_OK)
        return rc;
    rc = normalize_all(&v, doc, datasets);
    json_decref(doc);
    if (rc == BASE_E_NOMEM && (err == NULL || err->rc == 0))
        (void)base_err_set(err, rc, "exception", "dataset", "out of memory");
    return rc;
}
