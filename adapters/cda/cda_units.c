/*
 * Physical quantities: PQ -> Quantity, and the unit a PQ is written in ->
 * its UCUM code where it has one (HL7 V3 Data Types R1: PQ.unit is UCUM;
 * exports write Chinese vital-sign units, US vendor and lab shorthand, dose
 * forms).  The unit as written always stays Quantity.unit; a UCUM code is
 * claimed only for a unit that is, or maps to, one.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/cda/cda_int.h"
#include "fhir/json/fhir_json.h"

/* Units exports write that are not UCUM (Chinese vital signs, US vendor
 * shorthand) -> the UCUM code; the unit as written stays Quantity.unit. */
static const struct cda_pair ucum_units[] = {
    {"\u2103", "Cel"},             /* ℃ */
    {"\u00b0C", "Cel"},            /* °C */
    {"\u00b0F", "[degF]"},         /* °F */
    {"\u6444\u6c0f\u5ea6", "Cel"}, /* 摄氏度 */
    /* a bare C or F: a body temperature (WS/T 500 生命体征测量记录 writes
     * 体温(C) unit="C"), not the UCUM coulomb or farad it would claim */
    {"C", "Cel"},
    {"F", "[degF]"},
    {"deg C", "Cel"},
    {"degC", "Cel"},
    {"deg F", "[degF]"},
    {"degF", "[degF]"},
    {"mmHg", "mm[Hg]"},
    {"mm Hg", "mm[Hg]"},
    {"bpm", "/min"},
    {"beats/min", "/min"},
    {"breaths/min", "/min"},
    {"\u6b21/\u5206", "/min"}, /* 次/分 */
    {"\u6b21/min", "/min"},
    {"\u6b21/\u5206\u949f", "/min"}, /* 次/分钟 */
    {"\u5c81", "a"},                 /* 岁 */
    {"lb", "[lb_av]"},
    {"lbs", "[lb_av]"},
    {"in", "[in_i]"},
    {"inch", "[in_i]"},
    {"kg/m\u00b2", "kg/m2"}, /* kg/m² */
    /* US exports' spellings of UCUM units */
    {"mcg", "ug"},
    {"cc", "mL"},
    {"gm", "g"},
    {"gms", "g"},
};

/* Dose forms written as the unit (Greenway "tablet", "Container"; Cerner
 * "puff"): words, not UCUM units.  Claiming them as UCUM codes would be a
 * wrong claim; they keep their text only (C-CDA puts dose forms in
 * administrationUnitCode, exports put them here). */
static const char *const dose_form_units[] = {
    "tab",        "tabs",     "tablet",      "tablets",    "tablet(s)", "cap",   "caps",
    "capsule",    "capsules", "puff",        "puffs",      "drop",      "drops", "gtt",
    "each",       "ea",       "unit",        "units",      "dose",      "doses", "spray",
    "sprays",     "patch",    "application", "applicator", "container", "vial",  "ampule",
    "inhalation", "packet",   "suppository",
};

/* UCUM atoms outside [] and {} are short ("mmol", "mbar"): a run of five
 * or more letters there ("milliGRAM(s)", Allscripts) is a word. */
static bool
has_word(const char *unit)
{
    int depth = 0;
    int run = 0;

    for (const char *p = unit; *p != '\0'; p++) {
        if (*p == '[' || *p == '{')
            depth++;
        else if ((*p == ']' || *p == '}') && depth > 0)
            depth--;
        run = depth == 0 && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) ? run + 1 : 0;
        if (run >= 5)
            return true;
    }
    return false;
}

static bool
dose_form_unit(const char *unit)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(dose_form_units); i++) {
        if (strcasecmp(unit, dose_form_units[i]) == 0)
            return true;
    }
    return false;
}

/* Lab shorthand for UCUM units, token by token between the '/'s: the
 * spellings US lab systems export (LIS result units, athenahealth,
 * Practice Fusion, NIST samples).  Left as they were, "K/uL" claims kelvin
 * per microlitre, "x10E3/uL" and "IU/L" are no UCUM at all -- a receiver
 * converting units would compute nonsense. */
static const struct cda_pair unit_tokens[] = {
    {"mcg", "ug"},     {"\u00b5g", "ug"},     {"\u03bcg", "ug"}, {"mcL", "uL"},
    {"\u00b5L", "uL"}, {"\u03bcL", "uL"},     {"IU", "[IU]"},    {"mIU", "m[IU]"},
    {"uIU", "u[IU]"},  {"\u00b5IU", "u[IU]"}, {"hr", "h"},       {"hrs", "h"},
    {"sec", "s"},      {"gm", "g"},           {"cc", "mL"},      {"cumm", "mm3"},
    {"hpf", "[HPF]"},  {"HPF", "[HPF]"},      {"lpf", "[LPF]"},  {"LPF", "[LPF]"},
};
/* Count units written before a volume: K/uL (thousands), M/uL (millions). */
static const struct cda_pair count_prefixes[] = {
    {"K", "10*3"}, {"k", "10*3"},   {"THOU", "10*3"}, {"Thou", "10*3"}, {"thou", "10*3"},
    {"M", "10*6"}, {"MIL", "10*6"}, {"Mil", "10*6"},  {"mil", "10*6"},
};
static const char *const volumes[] = {"uL", "UL", "ul", "mcL", "\u00b5L", "\u03bcL", "mm3", "cumm"};

static bool
is_volume(const char *tok)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(volumes); i++) {
        if (strcmp(tok, volumes[i]) == 0)
            return true;
    }
    return false;
}

/* "x10E3", "10e9", "10^6", "X10*3" -> "10*N" in `out` (cap bytes). */
static bool
power_of_ten(const char *tok, char *out, size_t cap)
{
    const char *p = tok + ((tok[0] == 'x' || tok[0] == 'X') ? 1 : 0);
    size_t digits = 0;

    if (p[0] != '1' || p[1] != '0' || strchr("Ee^*", p[2]) == NULL || p[2] == '\0')
        return false;
    for (const char *d = p + 3; *d != '\0'; d++, digits++) {
        if (*d < '0' || *d > '9')
            return false;
    }
    return digits > 0 && digits < 3 && snprintf(out, cap, "10*%s", p + 3) < (int)cap;
}

/* The rewritten unit, or NULL when nothing in it is shorthand. */
static const char *
lab_unit(struct cda_ctx *c, const char *unit)
{
    char buf[128];
    char *toks[8];
    size_t n = 0;
    char out[160];
    size_t len = 0;
    bool changed = false;

    if (strlen(unit) >= sizeof(buf))
        return NULL;
    memcpy(buf, unit, strlen(unit) + 1);
    for (char *p = buf; n < BASE_ARRAY_LEN(toks);) {
        toks[n++] = p;
        p = strchr(p, '/');
        if (p == NULL)
            break;
        *p++ = '\0';
    }
    for (size_t i = 0; i < n; i++) {
        char pow[16];
        const char *t = toks[i];
        const char *r = CDA_LOOKUP(unit_tokens, t);

        if (i == 0 && n > 1 && is_volume(toks[1]) && CDA_LOOKUP(count_prefixes, t) != NULL)
            r = CDA_LOOKUP(count_prefixes, t);
        else if (i == 0 && power_of_ten(t, pow, sizeof(pow)))
            r = pow;
        else if (i > 0 && is_volume(t) && strcmp(t, "mm3") != 0)
            r = strcmp(t, "uL") == 0 ? NULL : "uL";
        const char *part = r != NULL ? r : t;
        size_t plen = strlen(part);

        changed = changed || r != NULL;
        if (len + plen + 2 >= sizeof(out))
            return NULL;
        if (i > 0)
            out[len++] = '/';
        memcpy(out + len, part, plen);
        len += plen;
    }
    return changed ? base_arena_strndup(c->arena, out, len) : NULL;
}

/* The UCUM code for a PQ unit, or NULL when the unit cannot be UCUM (a
 * space or a character outside printable ASCII): then only the text is
 * kept, rather than claiming a UCUM code that is not one. */
static const char *
ucum_code(struct cda_ctx *c, const char *unit)
{
    const char *known = CDA_LOOKUP(ucum_units, unit);
    char *code;

    if (known != NULL)
        return known;
    known = lab_unit(c, unit);
    if (known != NULL)
        return known;
    if (dose_form_unit(unit) || has_word(unit))
        return NULL;
    for (const char *p = unit; *p != '\0'; p++) {
        if (*p <= ' ' || *p > '~')
            return NULL;
    }
    if (strchr(unit, '^') == NULL)
        return unit;
    /* "10^9/L" (lab exports) is written 10*9/L in UCUM */
    code = base_arena_strdup(c->arena, unit);
    for (char *p = code; p != NULL && *p != '\0'; p++) {
        if (*p == '^')
            *p = '*';
    }
    return code;
}

static bool
cda_unitless(const char *unit)
{
    return unit == NULL || cda_blank(unit) || strcmp(unit, "1") == 0;
}

/* A PQ without a unit (or the default "1") whose translation names the
 * unit: `<doseQuantity value="0.1" unit="1"><translation value="0.1">
 * <originalText>mg</originalText></translation>` (PQ.translation is a PQR,
 * HL7 V3 Data Types R1 - an EHR's own unit code next to the UCUM one).
 * Dropping it would turn "0.1 mg" into a bare 0.1.  The text is the unit;
 * a UCUM code is claimed only when the translation is coded in UCUM. */
static int
translation_unit(struct cda_ctx *c, json_t *q, const xmlNode *pq)
{
    for (xmlNodePtr tr = cda_child(pq, "translation"); tr != NULL;
         tr = cda_next(tr, "translation")) {
        const char *code = cda_attr(c, tr, "code");
        const char *sys = cda_attr(c, tr, "codeSystem");
        const char *text = cda_narrative(c, cda_child(tr, "originalText"));
        bool ucum = code != NULL && !cda_blank(code) && sys != NULL &&
                    strcmp(sys, "2.16.840.1.113883.6.8") == 0;

        if (cda_blank(text))
            text = cda_display_of(c, tr);
        if (cda_blank(text))
            text = code;
        if (cda_blank(text) || (strcmp(text, "1") == 0 && !ucum))
            continue;
        TRY(adapter_jset_str(q, "unit", text));
        if (!ucum)
            return BASE_OK;
        TRY(adapter_jset_str(q, "system", "http://unitsofmeasure.org"));
        return adapter_jset_str(q, "code", code);
    }
    return BASE_OK;
}

json_t *
cda_quantity_of(struct cda_ctx *c, const xmlNode *pq, const char *value)
{
    const char *unit = cda_attr(c, pq, "unit");
    struct base_str v = base_str_trim(base_str_from_cstr(value));
    json_t *num;
    json_t *q;

    /* "5." is an XML Schema decimal; FHIR's is not */
    if (v.len > 1 && v.ptr[v.len - 1] == '.' && v.ptr[v.len - 2] >= '0' && v.ptr[v.len - 2] <= '9')
        v.len--;
    num = adapter_decimal(v);
    if (num == NULL)
        return NULL;
    q = json_object();
    if (q == NULL || adapter_jset(q, "value", num) != BASE_OK) {
        json_decref(q);
        (void)cda_nomem(c);
        return NULL;
    }
    if (cda_unitless(unit) ? translation_unit(c, q, pq) != BASE_OK
                           : cda_set_unit(c, q, unit) != BASE_OK)
        (void)cda_nomem(c);
    return q;
}

int
cda_set_unit(struct cda_ctx *c, json_t *q, const char *unit)
{
    const char *code;

    if (unit == NULL || cda_blank(unit) || strcmp(unit, "1") == 0)
        return BASE_OK; /* "1" is the PQ default: a plain number */
    code = ucum_code(c, unit);
    /* CDA PQ units are UCUM (HL7 V3 Data Types R1, PQ.unit) */
    TRY(adapter_jset_str(q, "unit", unit));
    if (code == NULL)
        return BASE_OK;
    TRY(adapter_jset_str(q, "system", "http://unitsofmeasure.org"));
    return adapter_jset_str(q, "code", code);
}

/* A unit UCUM cannot express makes the PQ nullFlavor="OTH" and moves the
 * number and the lab's unit into a translation (HL7 C-CDA example "Results
 * Unit Non-UCUM": <value xsi:type="PQ" nullFlavor="OTH"><translation
 * value="152" nullFlavor="OTH"><originalText>THOUS/MCL</originalText>).
 * The quantity is that number, its unit the text (translation_unit). */
const char *
cda_pq_value(struct cda_ctx *c, const xmlNode *pq)
{
    const char *v = cda_attr(c, pq, "value");
    const char *nf = cda_attr(c, pq, "nullFlavor");

    if (v != NULL || nf == NULL || strcmp(nf, "OTH") != 0)
        return v;
    for (xmlNodePtr tr = cda_child(pq, "translation"); tr != NULL;
         tr = cda_next(tr, "translation")) {
        v = cda_attr(c, tr, "value");
        if (v != NULL && !cda_blank(v))
            return v;
    }
    return NULL;
}

json_t *
cda_quantity(struct cda_ctx *c, const xmlNode *pq)
{
    const char *v = cda_pq_value(c, pq);
    json_t *q;

    if (v == NULL)
        return NULL;
    q = cda_quantity_of(c, pq, v);
    if (q == NULL && c->err->rc == 0)
        (void)cda_warn(c, pq, "value", "quantity value is not a number; skipped");
    return q;
}
