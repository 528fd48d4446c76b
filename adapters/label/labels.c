/*
 * Sensitivity labelling by code.
 *
 * ICD-10 ranges follow the chapters of ICD-10 (WHO 2019; China's national
 * edition GB/T 14396 keeps the same categories):
 *   F10-F19  mental and behavioural disorders due to psychoactive substance
 *            use                                  -> ETH (substance abuse)
 *   F00-F99  (the rest of chapter V)              -> PSY (psychiatry)
 *   B20-B24  HIV disease; Z21 asymptomatic HIV; R75 inconclusive HIV test;
 *            O98.7 HIV complicating pregnancy     -> HIV
 *   A50-A64  infections with a predominantly sexual mode of transmission
 *                                                 -> STD
 *   O00-O9A  pregnancy, childbirth, puerperium; Z30-Z39 contraception and
 *            reproduction; N96-N98 infertility    -> SEX (reproductive health)
 *   T74, T76 maltreatment; Y05 sexual assault; Y07 perpetrator of
 *            maltreatment                         -> SDV
 */
#include "adapters/label/adapter_label.h"

#include <string.h>

#include "fhir/json/fhir_json.h"

struct icd_range {
    char lo[4]; /* first category, e.g. "F10" */
    char hi[4]; /* last category, inclusive */
    const char *label;
};

/* Order matters: the first matching range wins (F10-F19 before F00-F99). */
static const struct icd_range icd_ranges[] = {
    {"F10", "F19", "ETH"}, {"F00", "F99", "PSY"}, {"B20", "B24", "HIV"}, {"Z21", "Z21", "HIV"},
    {"R75", "R75", "HIV"}, {"A50", "A64", "STD"}, {"O00", "O9A", "SEX"}, {"Z30", "Z39", "SEX"},
    {"N96", "N98", "SEX"}, {"T74", "T74", "SDV"}, {"T76", "T76", "SDV"}, {"Y05", "Y05", "SDV"},
    {"Y07", "Y07", "SDV"},
};

/* LOINC tests whose result discloses HIV status (antibody, antigen, RNA). */
static const char *const loinc_hiv[] = {
    "10351-5", "20447-9", "25836-8", "29893-5", "31201-7", "43009-0", "48345-3",
    "49580-4", "5221-7",  "56888-1", "68961-2", "7917-8",  "7918-6",  "75622-1",
    "80387-4", "9821-0",  "41143-9", "14092-1", "21007-0", "44873-5",
};

struct coded_label {
    const char *code;
    const char *label;
};

/* SNOMED CT concepts commonly sent as Condition codes. */
static const struct coded_label snomed[] = {
    {"86406008", "HIV"},  /* human immunodeficiency virus infection */
    {"165816005", "HIV"}, /* HIV positive */
    {"74732009", "PSY"},  /* mental disorder */
    {"35489007", "PSY"},  /* depressive disorder */
    {"58214004", "PSY"},  /* schizophrenia */
    {"66214007", "ETH"},  /* substance abuse */
    {"7200002", "ETH"},   /* alcoholism */
    {"77386006", "SEX"},  /* pregnancy */
};

static bool
system_is(const char *s, size_t n, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
            return true;
    }
    return false;
}

static bool
is_icd10(const char *s, size_t n)
{
    static const char *const names[] = {
        "http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm",
        "http://hl7.org/fhir/sid/icd-10-cn", "urn:oid:2.16.840.1.113883.6.3",
        "urn:oid:2.16.840.1.113883.6.90", "urn:oid:2.16.156.10011.2.3.3.11",
        "ICD10", "I10", "ICD-10"};

    return system_is(s, n, names, BASE_ARRAY_LEN(names));
}

static const char *
icd_label(const char *code, size_t n)
{
    char cat[4];

    /* a category is a letter and two characters: "F32", "O9A"; ".x" follows */
    if (n < 3)
        return NULL;
    for (size_t i = 0; i < 3; i++)
        cat[i] = (code[i] >= 'a' && code[i] <= 'z') ? (char)(code[i] - 32) : code[i];
    cat[3] = '\0';
    if (cat[0] < 'A' || cat[0] > 'Z')
        return NULL;
    if (memcmp(cat, "O98", 3) == 0 && n >= 5 && code[3] == '.' && code[4] == '7')
        return "HIV";
    for (size_t i = 0; i < BASE_ARRAY_LEN(icd_ranges); i++) {
        if (strcmp(cat, icd_ranges[i].lo) >= 0 && strcmp(cat, icd_ranges[i].hi) <= 0)
            return icd_ranges[i].label;
    }
    return NULL;
}

const char *
adapter_label_for_code(const char *system, size_t system_len, const char *code, size_t code_len)
{
    static const char *const loinc[] = {"http://loinc.org", "urn:oid:2.16.840.1.113883.6.1", "LN"};
    static const char *const sct[] = {"http://snomed.info/sct", "urn:oid:2.16.840.1.113883.6.96",
                                      "SCT", "SNM"};

    if (system == NULL || code == NULL || code_len == 0)
        return NULL;
    if (is_icd10(system, system_len))
        return icd_label(code, code_len);
    if (system_is(system, system_len, loinc, BASE_ARRAY_LEN(loinc))) {
        for (size_t i = 0; i < BASE_ARRAY_LEN(loinc_hiv); i++) {
            if (strlen(loinc_hiv[i]) == code_len && memcmp(loinc_hiv[i], code, code_len) == 0)
                return "HIV";
        }
        return NULL;
    }
    if (system_is(system, system_len, sct, BASE_ARRAY_LEN(sct))) {
        for (size_t i = 0; i < BASE_ARRAY_LEN(snomed); i++) {
            if (strlen(snomed[i].code) == code_len && memcmp(snomed[i].code, code, code_len) == 0)
                return snomed[i].label;
        }
    }
    return NULL;
}

static bool
has_label(const json_t *security, const char *system, const char *code)
{
    for (size_t i = 0; i < json_array_size(security); i++) {
        const json_t *c = json_array_get(security, i);

        if (base_str_eq_cstr(fhir_json_str(json_object_get(c, "code")), code) &&
            base_str_eq_cstr(fhir_json_str(json_object_get(c, "system")), system))
            return true;
    }
    return false;
}

static int
add_label(json_t *res, const char *system, const char *code, const char *display)
{
    json_t *meta = json_object_get(res, "meta");
    json_t *security;

    if (meta == NULL) {
        meta = json_object();
        if (meta == NULL || json_object_set_new(res, "meta", meta) != 0)
            return BASE_E_NOMEM;
    }
    security = json_object_get(meta, "security");
    if (security == NULL) {
        security = json_array();
        if (security == NULL || json_object_set_new(meta, "security", security) != 0)
            return BASE_E_NOMEM;
    }
    if (has_label(security, system, code))
        return 0;
    if (json_array_append_new(security, json_pack("{s:s, s:s, s:s}", "system", system, "code",
                                                  code, "display", display)) != 0)
        return BASE_E_NOMEM;
    return 1;
}

static const char *
label_display(const char *label)
{
    static const struct coded_label names[] = {
        {"PSY", "psychiatry disorder information sensitivity"},
        {"ETH", "substance abuse information sensitivity"},
        {"HIV", "HIV/AIDS information sensitivity"},
        {"STD", "sexually transmitted disease information sensitivity"},
        {"SEX", "sexuality and reproductive health information sensitivity"},
        {"SDV", "sexual assault, abuse, or domestic violence information sensitivity"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(names); i++) {
        if (strcmp(names[i].code, label) == 0)
            return names[i].label;
    }
    return label;
}

/* Collect the distinct labels one CodeableConcept calls for into `found`. */
static void
scan_concept(const json_t *concept, const char **found, size_t *nfound, size_t cap)
{
    const json_t *codings = json_object_get(concept, "coding");

    for (size_t i = 0; i < json_array_size(codings); i++) {
        const json_t *c = json_array_get(codings, i);
        struct base_str sys = fhir_json_str(json_object_get(c, "system"));
        struct base_str code = fhir_json_str(json_object_get(c, "code"));
        const char *l = adapter_label_for_code(sys.ptr, sys.len, code.ptr, code.len);
        bool dup = false;

        for (size_t k = 0; l != NULL && k < *nfound; k++)
            dup = dup || strcmp(found[k], l) == 0;
        if (l != NULL && !dup && *nfound < cap)
            found[(*nfound)++] = l;
    }
}

static void
scan_member(const json_t *res, const char *name, const char **found, size_t *nfound, size_t cap)
{
    const json_t *v = json_object_get(res, name);

    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            scan_concept(json_array_get(v, i), found, nfound, cap);
    } else if (json_is_object(v)) {
        scan_concept(v, found, nfound, cap);
    }
}

int
adapter_label_resource(json_t *resource)
{
    static const char *const members[] = {"code", "valueCodeableConcept", "reasonCode",
                                          "category"};
    const char *found[8];
    size_t nfound = 0;
    int added = 0;

    if (!json_is_object(resource))
        return 0;
    for (size_t i = 0; i < BASE_ARRAY_LEN(members); i++)
        scan_member(resource, members[i], found, &nfound, BASE_ARRAY_LEN(found));
    for (size_t i = 0; i < nfound; i++) {
        int rc = add_label(resource, ADAPTER_LABEL_SYSTEM_ACTCODE, found[i],
                           label_display(found[i]));

        if (rc < 0)
            return rc;
        added += rc;
    }
    if (nfound > 0) {
        int rc = add_label(resource, ADAPTER_LABEL_SYSTEM_CONF, "R", "restricted");

        if (rc < 0)
            return rc;
        added += rc;
    }
    return added;
}

/* Types that carry a whole source document or report text: whatever any
 * resource converted from the same source is labeled, they show too. */
static bool
is_carrier(const json_t *res)
{
    static const char *const types[] = {"DocumentReference", "Binary", "Composition",
                                        "DiagnosticReport"};
    struct base_str t = fhir_json_str(json_object_get(res, "resourceType"));

    for (size_t i = 0; i < BASE_ARRAY_LEN(types); i++) {
        if (base_str_eq_cstr(t, types[i]))
            return true;
    }
    return false;
}

/* The ActCode sensitivity labels one resource carries, added to `found`. */
static void
collect_labels(const json_t *res, const char **found, size_t *nfound, size_t cap)
{
    const json_t *security = json_object_get(json_object_get(res, "meta"), "security");

    for (size_t i = 0; i < json_array_size(security); i++) {
        const json_t *c = json_array_get(security, i);
        const char *code = json_string_value(json_object_get(c, "code"));
        bool dup = false;

        if (code == NULL ||
            !base_str_eq_cstr(fhir_json_str(json_object_get(c, "system")),
                              ADAPTER_LABEL_SYSTEM_ACTCODE))
            continue;
        for (size_t k = 0; k < *nfound; k++)
            dup = dup || strcmp(found[k], code) == 0;
        if (!dup && *nfound < cap)
            found[(*nfound)++] = code;
    }
}

int
adapter_label_bundle(json_t *bundle)
{
    json_t *entries = json_object_get(bundle, "entry");
    const char *found[16];
    size_t nfound = 0;
    int added = 0;
    size_t i;
    json_t *e;

    json_array_foreach(entries, i, e)
    {
        json_t *res = json_object_get(e, "resource");
        int rc = adapter_label_resource(res);

        if (rc < 0)
            return rc;
        added += rc;
        collect_labels(res, found, &nfound, BASE_ARRAY_LEN(found));
    }
    if (nfound == 0)
        return added;
    json_array_foreach(entries, i, e)
    {
        json_t *res = json_object_get(e, "resource");

        if (!json_is_object(res) || !is_carrier(res))
            continue;
        for (size_t k = 0; k < nfound; k++) {
            int rc = add_label(res, ADAPTER_LABEL_SYSTEM_ACTCODE, found[k],
                               label_display(found[k]));

            if (rc < 0)
                return rc;
            added += rc;
        }
        {
            int rc = add_label(res, ADAPTER_LABEL_SYSTEM_CONF, "R", "restricted");

            if (rc < 0)
                return rc;
            added += rc;
        }
    }
    return added;
}
