/*
 * Confidentiality and sensitivity marked inside a document -> the security
 * labels (meta.security) of the resources mapped from it.
 *
 * HL7 CDA R2 gives a section its own confidentialityCode, and the HL7
 * Data Segmentation for Privacy IG (DS4P R2, the ONC "security tags"
 * certification samples) marks sections and entries with Privacy
 * Annotations: an organizer (template 2.16.840.1.113883.3.3251.1.4) of
 * Security Observations whose values are confidentiality (R, V), sensitivity
 * (ETH, HIV, PSY, SDV...) or handling codes.  The gateway decides access on
 * meta.security alone (adapters/label adds labels by code; it keeps the ones
 * present), so a marking the document makes must reach the resource: a
 * medication marked ETH (42 CFR Part 2 substance-use treatment) is no
 * ordinary one even when its drug code is.
 *
 * The Privacy Annotations themselves are no clinical entries; the section
 * mapper skips them (cda_privacy_marking()).
 */
#include <string.h>

#include "adapters/cda/cda_int.h"

#define DS4P_ANNOTATION "2.16.840.1.113883.3.3251.1.4" /* Privacy Annotation organizer */
#define DS4P_MARKING    "2.16.840.1.113883.3.3251.1.9" /* Privacy Marking entry */

bool
cda_privacy_marking(struct cda_ctx *c, const xmlNode *n)
{
    return cda_has_template(c, n, DS4P_ANNOTATION) || cda_has_template(c, n, DS4P_MARKING);
}

/* One label coding, unless meta.security has it already. */
int
cda_add_security_label(struct cda_ctx *c, json_t *res, const xmlNode *cd)
{
    json_t *coding;
    json_t *meta;
    json_t *sec;
    size_t i;
    json_t *had;

    if (cd == NULL || cda_attr(c, cd, "codeSystem") == NULL)
        return BASE_OK; /* a label of no system labels nothing */
    coding = cda_coding(c, cd);
    if (coding == NULL)
        return c->err->rc != 0 ? c->err->rc : BASE_OK;
    meta = json_object_get(res, "meta");
    if (meta == NULL && adapter_jset(res, "meta", meta = json_object()) != BASE_OK)
        goto nomem;
    sec = json_object_get(meta, "security");
    json_array_foreach(sec, i, had)
    {
        if (json_equal(json_object_get(had, "system"), json_object_get(coding, "system")) &&
            json_equal(json_object_get(had, "code"), json_object_get(coding, "code"))) {
            json_decref(coding);
            return BASE_OK;
        }
    }
    return adapter_jpush(meta, "security", coding);
nomem:
    json_decref(coding);
    return cda_nomem(c);
}

/* The Security Observations of a Privacy Annotation organizer. */
static int
annotation_labels(struct cda_ctx *c, json_t *res, const xmlNode *org)
{
    CDA_EACH(comp, org, "component")
    {
        xmlNodePtr obs = cda_child(comp, "observation");

        if (obs != NULL && !cda_negated(c, obs))
            TRY(cda_add_security_label(c, res, cda_child(obs, "value")));
    }
    return BASE_OK;
}

/* Annotations attached to `n`: entryRelationship/organizer (clinical
 * statements) or component/organizer (organizers), and the organizers of
 * a section's Privacy Marking entries. */
static int
attached_labels(struct cda_ctx *c, json_t *res, const xmlNode *n, const char *link)
{
    CDA_EACH(rel, n, link)
    {
        xmlNodePtr org = cda_child(rel, "organizer");

        if (org != NULL && cda_privacy_marking(c, org))
            TRY(annotation_labels(c, res, org));
        else if (org != NULL && cda_privacy_marking(c, rel)) /* entry marked 3251.1.9 */
            TRY(annotation_labels(c, res, org));
    }
    return BASE_OK;
}

int
cda_security_labels(struct cda_ctx *c, json_t *res, const xmlNode *act)
{
    if (act == NULL)
        return BASE_OK;
    TRY(attached_labels(c, res, act, "entryRelationship"));
    TRY(attached_labels(c, res, act, "component"));
    /* every section the act sits in: its confidentialityCode and markings */
    for (const xmlNode *up = act->parent; up != NULL && up->type == XML_ELEMENT_NODE;
         up = up->parent) {
        if (!cda_is(up, "section"))
            continue;
        TRY(cda_add_security_label(c, res, cda_child(up, "confidentialityCode")));
        TRY(attached_labels(c, res, up, "entry"));
    }
    return BASE_OK;
}
