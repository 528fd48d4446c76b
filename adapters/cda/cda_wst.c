/*
 * WS/T 500 laboratory results.  Shared-document generators write one
 * organizer per test item whose components are data elements (WS 363):
 *   检验项目代码   DE04.30.019.00  ST (specimen as COMP observations)
 *   检验项目名称   DE04.30.020.00  ST
 *   检验结果代码   DE04.30.017.00  CD (正常 / 异常, 2.16.156.10011.2.3.2.38)
 *   检验定量结果   DE04.30.015.00  REAL (unit as COMP DE04.30.016.00)
 * Mapped one by one, each would be an Observation coded by the data element
 * ("quantitative result") naming no test; together they are one
 * Observation of the test.
 */
#include <string.h>

#include "adapters/cda/cda_int.h"

#define DE_ITEM_CODE   "DE04.30.019.00"
#define DE_ITEM_NAME   "DE04.30.020.00"
#define DE_RESULT_CODE "DE04.30.017.00"
#define DE_QUANTITY    "DE04.30.015.00"

/* The organizer's component observation for data element `de`. */
static xmlNodePtr
element(struct cda_ctx *c, const xmlNode *org, const char *de)
{
    CDA_EACH(comp, org, "component")
    {
        xmlNodePtr obs = cda_child(comp, "observation");
        const char *e = cda_wst_element(c, obs);

        if (e != NULL && strcmp(e, de) == 0)
            return obs;
    }
    return NULL;
}

/* The element's value as text: an ST's content, or a CD's code (the WS/T
 * 500 检验记录 template writes 检验项目代码 as <value xsi:type="CD"
 * code="718-7" displayName="血红蛋白"/>, which has no content: the
 * organizer was then not read as one test, but as three Observations
 * coded by data element, and the test's name was lost). */
static const char *
element_text(struct cda_ctx *c, const xmlNode *org, const char *de)
{
    xmlNodePtr v = cda_child(element(c, org, de), "value");
    const char *t = cda_text(c, v);
    const char *code = cda_attr(c, v, "code");

    if (t[0] == '\0' && code != NULL && !cda_blank(code))
        return code;
    return t;
}

/* The test's name: the 检验项目名称 element, else the item code's
 * displayName. */
static const char *
item_name(struct cda_ctx *c, const xmlNode *org)
{
    const char *name = element_text(c, org, DE_ITEM_NAME);
    const char *display;

    if (name[0] != '\0')
        return name;
    display = cda_attr(c, cda_child(element(c, org, DE_ITEM_CODE), "value"), "displayName");
    return display != NULL && !cda_blank(display) && !cda_filler_text(display) ? display : "";
}

bool
cda_wst_lab_item(struct cda_ctx *c, const xmlNode *org)
{
    bool named = element_text(c, org, DE_ITEM_CODE)[0] != '\0' ||
                 element_text(c, org, DE_ITEM_NAME)[0] != '\0';

    return named &&
           (element(c, org, DE_QUANTITY) != NULL || element(c, org, DE_RESULT_CODE) != NULL);
}

/* LOINC codes are digits, a hyphen and a check digit ("6690-2"). */
static bool
looks_like_loinc(const char *s)
{
    size_t digits = strspn(s, "0123456789");

    return digits > 0 && s[digits] == '-' && s[digits + 1] >= '0' && s[digits + 1] <= '9' &&
           s[digits + 2] == '\0';
}

/* The test: its code when it is LOINC (other item codes are the
 * laboratory's own and have no system to name), its name as text. */
static json_t *
item_code(struct cda_ctx *c, const xmlNode *org)
{
    const char *code = element_text(c, org, DE_ITEM_CODE);
    const char *name = item_name(c, org);
    json_t *cc = json_object();

    if (cc == NULL)
        return NULL;
    if (looks_like_loinc(code) &&
        adapter_cc_add_coding(cc, "http://loinc.org", code, NULL, &c->opt->codemap) != BASE_OK)
        goto nomem;
    if (adapter_jset_str(cc, "text", name[0] != '\0' ? name : code) != BASE_OK)
        goto nomem;
    return cc;
nomem:
    json_decref(cc);
    return NULL;
}

static int
item_body(struct cda_ctx *c, json_t *res, const xmlNode *org, json_t *code)
{
    xmlNodePtr item = element(c, org, DE_ITEM_CODE);
    xmlNodePtr quantity = element(c, org, DE_QUANTITY);
    json_t *interp = cda_concept(c, cda_child(element(c, org, DE_RESULT_CODE), "value"));

    TRY(adapter_jset(res, "code", code)); /* first: consumed even on failure */
    if (interp != NULL)
        TRY(adapter_jpush(res, "interpretation", interp));
    const char *st = cda_attr(c, cda_child(org, "statusCode"), "code");

    TRY(adapter_jset_str(res, "status",
                         (st != NULL && strcmp(st, "nullified") == 0) ||
                                 cda_in_nullified_organizer(c, org)
                             ? "entered-in-error"
                             : "final"));
    TRY(adapter_jpush(res, "category",
                      adapter_cc("http://terminology.hl7.org/CodeSystem/observation-category",
                                 "laboratory", "Laboratory")));
    if (c->patient != NULL)
        TRY(adapter_jset(res, "subject", adapter_reference(c->patient, NULL)));
    if (c->encounter != NULL)
        TRY(adapter_jset(res, "encounter", adapter_reference(c->encounter, NULL)));
    TRY(cda_observation_time(c, res, cda_child(item, "effectiveTime")));
    if (json_object_get(res, "effectiveDateTime") == NULL &&
        json_object_get(res, "effectivePeriod") == NULL)
        TRY(cda_observation_time(c, res, cda_child(org, "effectiveTime")));
    return cda_set_value(c, res, cda_child(quantity, "value"));
}

int
cda_map_wst_lab_item(struct cda_ctx *c, xmlNodePtr org)
{
    json_t *code = item_code(c, org);
    json_t *res;

    if (code == NULL)
        return cda_nomem(c);
    res = cda_resource(c, "Observation");
    if (res == NULL) {
        json_decref(code);
        return cda_nomem(c);
    }
    if (item_body(c, res, org, code) != BASE_OK) {
        json_decref(res);
        return cda_nomem(c);
    }
    return cda_emit(c, res, org, "Observation", NULL);
}
