/*
 * adapters/cda/cda_int.h — internals shared by the CDA converter's files.
 */
#ifndef ADAPTERS_CDA_CDA_INT_H
#define ADAPTERS_CDA_CDA_INT_H

#include <stdbool.h>

#include <libxml/hash.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "adapters/cda/cda.h"
#include "fhir/base/arena.h"

#define CDA_NS  "urn:hl7-org:v3"
#define SDTC_NS "urn:hl7-org:sdtc"
#define XSI_NS  "http://www.w3.org/2001/XMLSchema-instance"

/* A business identifier: what the Bundle entry's conditional update keys on. */
struct cda_key {
    const char *system;
    const char *value;
};

struct cda_ctx {
    const struct cda_limits *lim;
    const struct cda_options *opt;
    struct base_arena *arena; /* temporary strings; freed after the call */
    struct base_err *err;
    const char *xml; /* the original bytes (attached to the DocumentReference) */
    size_t xml_len;
    xmlDocPtr doc;
    xmlXPathContextPtr xp;
    xmlHashTablePtr ids;     /* narrative ID attribute -> element */
    struct adapter_tx tx;    /* the Bundle */
    json_t *warnings;        /* OperationOutcome of skipped values */
    size_t warning_count;    /* issues in `warnings` */
    size_t warnings_omitted; /* beyond lim->max_warnings: counted only */
    char doc_key[40];        /* "urn:uuid:" of the document id, base for derived ids */
    size_t derived;          /* counter for derived identifiers */
    const char *patient;     /* reference for subject/patient, or NULL */
    const char *encounter;   /* fullUrl of the Encounter, or NULL */
    json_t *doc_authors;     /* references for DocumentReference.author */
    const char *custodian;   /* fullUrl of the custodian Organization */
    const char *authenticator;
    const xmlNode *result_time; /* organizer effectiveTime for its results */
    bool within_nullified;      /* mapping the parts of an act recorded in error */
};

/* ---- cda_xml.c: navigation ------------------------------------------- */
struct cda_pair {
    const char *from;
    const char *to;
};
/* t[i].to where t[i].from equals key (NULL key or no match: NULL). */
const char *cda_lookup(const struct cda_pair *t, size_t n, const char *key);
#define CDA_LOOKUP(table, key) cda_lookup((table), BASE_ARRAY_LEN(table), (key))

bool cda_is(const xmlNode *n, const char *name);
xmlNodePtr cda_child(const xmlNode *parent, const char *name);
xmlNodePtr cda_next(const xmlNode *cur, const char *name);
/* First child in the urn:hl7-org:sdtc extension namespace named `name`. */
xmlNodePtr cda_sdtc_child(const xmlNode *parent, const char *name);
#define CDA_EACH(var, parent, name)                                                                \
    for (xmlNodePtr var = cda_child((parent), (name)); var != NULL; var = cda_next(var, (name)))
/* Attribute without namespace; NULL when absent.  Lives as long as the doc
 * or the arena. */
const char *cda_attr(struct cda_ctx *c, const xmlNode *n, const char *name);
/* xsi:type without any prefix ("PQ"), tolerating an undeclared xsi: prefix. */
const char *cda_xsi_type(struct cda_ctx *c, const xmlNode *n);
bool cda_has_template(struct cda_ctx *c, const xmlNode *n, const char *root);
bool cda_negated(struct cda_ctx *c, const xmlNode *act);
/* WS/T 500 observations are coded by data element (WS 363 卫生信息数据元目录,
 * "DE04.10.186.00"): that code when `obs` has one, else NULL. */
#define CDA_WST_DATA_ELEMENTS "2.16.156.10011.2.2.1"
const char *cda_wst_element(struct cda_ctx *c, const xmlNode *obs);
/* The TS value of the first WS/T 500 observation of data element `de`
 * anywhere in the document, as FHIR dateTime; NULL if none. */
const char *cda_wst_time(struct cda_ctx *c, const char *de);
/* True when `s` holds only XML white space (or nothing). */
bool cda_blank(const char *s);
/* Trimmed, whitespace-collapsed text content in the arena ("" if none). */
const char *cda_text(struct cda_ctx *c, const xmlNode *n);
/* Elements selected by an XPath (prefix hl7: for urn:hl7-org:v3) relative
 * to `from`; *out is freed with the arena.  BASE_E_NOMEM / BASE_E_INTERNAL. */
BASE_MUST_CHECK int cda_xpath(struct cda_ctx *c, xmlNodePtr from, const char *expr,
                              xmlNodeSetPtr *out);
/* Where a node is, for warnings ("/ClinicalDocument/component/..."). */
const char *cda_where(struct cda_ctx *c, const xmlNode *n);
/* Record a skipped value.  Returns BASE_OK or BASE_E_NOMEM (also kept in
 * c->err, so callers may ignore the result). */
int cda_warn(struct cda_ctx *c, const xmlNode *n, const char *code, const char *msg);

/* ---- cda_types.c: CDA data types -> FHIR data types ------------------- */
/* II -> Identifier; NULL when absent/nullFlavor.  *key (optional) gets the
 * system and value.  BASE_E_NOMEM through c->err on failure (*rc). */
json_t *cda_identifier(struct cda_ctx *c, const xmlNode *ii, struct cda_key *key);
/* All <id> children as an Identifier array (NULL if none); first key. */
json_t *cda_identifiers(struct cda_ctx *c, const xmlNode *parent, struct cda_key *first);
/* A key derived from the document and a label, when the source has no id. */
struct cda_key cda_derived_key(struct cda_ctx *c, const char *label);
const char *cda_system(struct cda_ctx *c, const char *oid);
/* CD/CE/CV/CO -> CodeableConcept (with translations), NULL if nothing. */
json_t *cda_concept(struct cda_ctx *c, const xmlNode *cd);
/* CD -> one Coding (no translations), NULL if no code. */
json_t *cda_coding(struct cda_ctx *c, const xmlNode *cd);
/* TS @value -> FHIR date/dateTime text in the arena; NULL (and a warning)
 * when invalid, NULL silently when absent. */
const char *cda_ts(struct cda_ctx *c, const xmlNode *ts, bool want_date);
/* IVL_TS (or a TS with @value) -> Period, NULL if empty. */
json_t *cda_period(struct cda_ctx *c, const xmlNode *ivl);
/* The point in time of an effectiveTime (value, else low, else high). */
const char *cda_time_point(struct cda_ctx *c, const xmlNode *ivl);
/* PQ -> Quantity (UCUM), NULL when the value is not a number. */
/* NA, N/A, 无... written where a generator had nothing (exact case). */
bool cda_filler_text(const char *s);
/* The same without the WS/T 500 data element names ("药物名称"). */
bool cda_fixed_filler(const char *s);
json_t *cda_quantity(struct cda_ctx *c, const xmlNode *pq);
/* PQ value, or the value of its translation when the PQ is nullFlavor OTH. */
const char *cda_pq_value(struct cda_ctx *c, const xmlNode *pq);
/* The same with the number's text given (a comparator taken off); NULL
 * without a warning when it is not a number. */
json_t *cda_quantity_of(struct cda_ctx *c, const xmlNode *pq, const char *value);
/* targetSiteCode children of `act` -> res.bodySite[] (qualifiers such as
 * laterality in the text).  BASE_E_NOMEM. */
BASE_MUST_CHECK int cda_body_sites(struct cda_ctx *c, json_t *res, const xmlNode *act);
/* RTO (numerator/denominator PQs) -> Ratio, NULL unless both are numbers. */
json_t *cda_ratio(struct cda_ctx *c, const xmlNode *rto);
/* Two Quantities whose low is above their high (FHIR R4 rng-2 forbids
 * such a Range); false when their units differ or a value is missing. */
bool cda_range_inverted(const json_t *low, const json_t *high);
/* Quantity.unit, and the UCUM system and code when the unit is (or maps
 * to) UCUM.  BASE_E_NOMEM. */
BASE_MUST_CHECK int cda_set_unit(struct cda_ctx *c, json_t *q, const char *unit);
json_t *cda_human_name(struct cda_ctx *c, const xmlNode *pn);
json_t *cda_address(struct cda_ctx *c, const xmlNode *ad);
json_t *cda_contact(struct cda_ctx *c, const xmlNode *tel);
/* Add name/addr/telecom children of `from` to `res` as name[], address[],
 * telecom[].  BASE_E_NOMEM. */
BASE_MUST_CHECK int cda_add_demographics(struct cda_ctx *c, json_t *res, const xmlNode *names,
                                         const xmlNode *contacts);
/* A concept with no coding whose text says there is nothing ("No
 * medication data is applicable", "None", 无): what exports put in an
 * entry to fill a section they have nothing for.  It names no drug,
 * vaccine, procedure or problem and must not become one. */
bool cda_says_nothing(const json_t *cc);
/* The warning for an entry so skipped. */
BASE_MUST_CHECK int cda_warn_nothing(struct cda_ctx *c, const xmlNode *n);
/* A planned act (moodCode INT, ARQ, PRMS...) in a section of things done
 * -- C-CDA allows INT for procedures, immunizations and results -- is no
 * Procedure, Immunization or Observation; it is said, not dropped without
 * a word. */
BASE_MUST_CHECK int cda_warn_planned(struct cda_ctx *c, const xmlNode *act);
/* displayName of a CD, unless a filler (NA, 无...) or only '?'; NULL if none. */
const char *cda_display_of(struct cda_ctx *c, const xmlNode *cd);
/* Text behind <text><reference value="#id"/></text> or the text itself. */
const char *cda_narrative(struct cda_ctx *c, const xmlNode *text);

/* ---- cda_inflate.c ---------------------------------------------------- */
struct base_buf;
/* Inflate `in` compressed as ED compression `alg` (DF, GZ, ZL) into `out`,
 * whose max bounds the result.  BASE_E_INVALID (an algorithm not
 * supported), BASE_E_PARSE (not a valid stream, cut short, or bytes after
 * its end), BASE_E_LIMIT (larger than out->max), BASE_E_NOMEM. */
BASE_MUST_CHECK int cda_inflate(const char *alg, const void *in, size_t in_len,
                                struct base_buf *out);

/* ---- cda_header.c ----------------------------------------------------- */
BASE_MUST_CHECK int cda_map_header(struct cda_ctx *c, xmlNodePtr root);
BASE_MUST_CHECK int cda_map_document(struct cda_ctx *c, xmlNodePtr root);
BASE_MUST_CHECK int cda_map_patient(struct cda_ctx *c, xmlNodePtr root);
BASE_MUST_CHECK int cda_map_encounter(struct cda_ctx *c, xmlNodePtr root);
/* Organization / Practitioner from an assigned entity; *ref gets the
 * fullUrl (NULL when there is nothing to map). */
BASE_MUST_CHECK int cda_map_organization(struct cda_ctx *c, const xmlNode *org, const char **ref);
BASE_MUST_CHECK int cda_map_practitioner(struct cda_ctx *c, const xmlNode *assigned,
                                         const char **ref);

/* ---- cda_sections.c / cda_clinical.c / cda_results.c ------------------ */
BASE_MUST_CHECK int cda_map_sections(struct cda_ctx *c, xmlNodePtr root);

enum cda_kind {
    CDA_PROBLEM,
    CDA_DIAGNOSIS, /* admission / discharge diagnoses: encounter-diagnosis */
    CDA_MEDICATION,
    CDA_ALLERGY,
    CDA_RESULT,
    CDA_VITAL,
    CDA_SOCIAL, /* social history: smoking status, tobacco and alcohol use */
    CDA_ENCOUNTER,
    CDA_EXAM,    /* physical examination: the WS/T 500 vital signs in it */
    CDA_CONCERN, /* health concerns: their Problem Observations */
    CDA_PROCEDURE,
    CDA_IMMUNIZATION,
    CDA_GOAL,    /* Goals (C-CDA 2.60): Goal Observations */
    CDA_FAMILY,  /* Family History (C-CDA 2.15): Family History Organizers */
    CDA_CARETEAM /* Care Teams (C-CDA 2.500): Care Team Organizers */
};

BASE_MUST_CHECK int cda_map_condition(struct cda_ctx *c, xmlNodePtr obs, xmlNodePtr concern,
                                      enum cda_kind kind);
/* A WS/T 500 diagnosis organizer (名称 + 编码 data elements) -> Condition. */
BASE_MUST_CHECK int cda_map_condition_organizer(struct cda_ctx *c, xmlNodePtr org,
                                                enum cda_kind kind);
BASE_MUST_CHECK int cda_map_allergy(struct cda_ctx *c, xmlNodePtr obs, xmlNodePtr concern);
BASE_MUST_CHECK int cda_map_medication(struct cda_ctx *c, xmlNodePtr sbadm);
BASE_MUST_CHECK int cda_map_immunization(struct cda_ctx *c, xmlNodePtr sbadm);
BASE_MUST_CHECK int cda_map_procedure(struct cda_ctx *c, xmlNodePtr act);
BASE_MUST_CHECK int cda_map_observation(struct cda_ctx *c, xmlNodePtr obs, enum cda_kind kind,
                                        const char **ref);
BASE_MUST_CHECK int cda_map_report(struct cda_ctx *c, xmlNodePtr organizer);
/* A Pregnancy Observation that is itself nullFlavored: "unknown if pregnant". */
bool cda_unknown_pregnancy(struct cda_ctx *c, const xmlNode *obs);
/* An organizer around `obs` (its panel, or the panel of that) is nullified. */
bool cda_in_nullified_organizer(struct cda_ctx *c, const xmlNode *obs);
/* Observation.value[x] from a CDA value by its xsi:type (or its shape);
 * effective[x] from an effectiveTime.  BASE_E_NOMEM. */
BASE_MUST_CHECK int cda_set_value(struct cda_ctx *c, json_t *res, const xmlNode *v);
BASE_MUST_CHECK int cda_observation_time(struct cda_ctx *c, json_t *res, const xmlNode *et);
/* cda_wst.c: a WS/T 500 lab organizer (one test item as data elements)
 * -> one Observation of that test. */
bool cda_wst_lab_item(struct cda_ctx *c, const xmlNode *org);
BASE_MUST_CHECK int cda_map_wst_lab_item(struct cda_ctx *c, xmlNodePtr org);
/* cda_family.c: Family History Organizer (4.45), or a Family History
 * Observation (4.46) on its own -> FamilyMemberHistory. */
BASE_MUST_CHECK int cda_map_family_history(struct cda_ctx *c, xmlNodePtr act);
/* cda_care.c: Goal Observation (4.121) -> Goal; Care Team Organizer
 * (4.500) -> CareTeam; documentationOf/serviceEvent/performer -> CareTeam. */
BASE_MUST_CHECK int cda_map_goal(struct cda_ctx *c, xmlNodePtr obs);
BASE_MUST_CHECK int cda_map_care_team(struct cda_ctx *c, xmlNodePtr organizer);
BASE_MUST_CHECK int cda_map_service_event_team(struct cda_ctx *c, xmlNodePtr root);
/* A negated observation of the generic "Problem" (55607006 and kin):
 * C-CDA's "no known problems", SNOMED 160245001 in FHIR. */
bool cda_no_known_problems(struct cda_ctx *c, const xmlNode *obs);
/* cda_security.c: section confidentialityCode and DS4P Privacy Annotations
 * around `act` -> res.meta.security.  BASE_E_NOMEM. */
BASE_MUST_CHECK int cda_security_labels(struct cda_ctx *c, json_t *res, const xmlNode *act);
/* The coded label `cd` (a confidentialityCode) -> res.meta.security. */
BASE_MUST_CHECK int cda_add_security_label(struct cda_ctx *c, json_t *res, const xmlNode *cd);
/* A DS4P Privacy Annotation / Marking: no clinical entry. */
bool cda_privacy_marking(struct cda_ctx *c, const xmlNode *n);
/* Age Observation (4.31) under `obs` -> an Age (FHIR age-1), else NULL. */
json_t *cda_onset_age(struct cda_ctx *c, const xmlNode *obs);
/* administrativeGenderCode (HL7 v3 or GB/T 2261.1) -> FHIR gender code. */
const char *cda_gender(struct cda_ctx *c, const xmlNode *code);
/* Encounter Activity (C-CDA 4.49) -> Encounter, its Encounter Diagnosis
 * acts -> Condition (encounter-diagnosis) referring to it. */
BASE_MUST_CHECK int cda_map_encounter_activity(struct cda_ctx *c, xmlNodePtr enc);

/* Shared by the entry mappers: new resource {"resourceType": type}. */
json_t *cda_resource(struct cda_ctx *c, const char *type);
/* Put `res` into the Bundle keyed by the act's first id (or a derived key);
 * consumes res.  *ref (optional) gets the fullUrl. */
BASE_MUST_CHECK int cda_emit(struct cda_ctx *c, json_t *res, const xmlNode *act, const char *label,
                             const char **ref);
/* The patient reference, or a warning that `n` was skipped for lack of one. */
BASE_MUST_CHECK int cda_need_patient(struct cda_ctx *c, const xmlNode *n, bool *have);
int cda_nomem(struct cda_ctx *c);

#endif /* ADAPTERS_CDA_CDA_INT_H */
