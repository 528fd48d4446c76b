/*
 * hosp-b's CDA R2 documents: a discharge summary (出院小结) for each stay and
 * a progress note (门诊病历) for each outpatient visit, C-CDA R2.1 shaped
 * (US Realm Header + Discharge Summary / Progress Note templates, section
 * and entry templates) with Chinese content and the WS/T 500 conventions a
 * Chinese hospital's export has: the resident identity number on
 * recordTarget/patientRole/patient/id under 2.16.156.10011.1.3, the
 * hospital's record number on patientRole/id, sex coded in GB/T 2261.1,
 * diagnoses in ICD-10 under the national OID.
 */
#include <stdio.h>
#include <string.h>

#include "gateway/demo/cda_int.h"
#include "gateway/mpi/gw_mpi.h"

int
demo_cda_code(struct base_buf *b, const char *tag, const char *code, const char *system,
              const char *system_name, const char *display)
{
    TRY(base_buf_appendf(b, "<%s code=\"", tag));
    TRY(demo_xml(b, code));
    TRY(base_buf_appendf(b, "\" codeSystem=\"%s\"", system));
    if (system_name != NULL)
        TRY(base_buf_appendf(b, " codeSystemName=\"%s\"", system_name));
    if (display != NULL) {
        TRY(base_buf_append_cstr(b, " displayName=\""));
        TRY(demo_xml(b, display));
        TRY(base_buf_putc(b, '"'));
    }
    return base_buf_append_cstr(b, "/>");
}

int
demo_cda_entry_id(struct cdoc *d, const char *key)
{
    if (key != NULL)
        return base_buf_appendf(d->b, "<id root=\"%s\" extension=\"%s\"/>", d->entry_oid, key);
    return base_buf_appendf(d->b, "<id root=\"%s\" extension=\"%s-%d\"/>", d->entry_oid, d->id,
                            ++d->n_entries);
}

int
demo_cda_time(struct base_buf *b, const char *tag, int day, int minute)
{
    char ts[16];

    demo_ts(day, minute, 0, ts);
    return base_buf_appendf(b, "<%s value=\"%s+0800\"/>", tag, ts);
}

static int
text_el(struct base_buf *b, const char *tag, const char *s)
{
    TRY(base_buf_appendf(b, "<%s>", tag));
    TRY(demo_xml(b, s));
    return base_buf_appendf(b, "</%s>", tag);
}

/* ------------------------------------------------------------ header -- */

static int
addr(struct base_buf *b, const struct demo_addr *ad)
{
    if (ad->text[0] == '\0' && ad->line[0] == '\0')
        return BASE_OK;
    TRY(base_buf_append_cstr(b, "<addr use=\"H\">"));
    if (ad->text[0] != '\0') {
        TRY(text_el(b, "streetAddressLine", ad->text));
    } else {
        /* WS/T 500 address parts: province, city, county (district) */
        TRY(text_el(b, "state", ad->province));
        TRY(text_el(b, "city", ad->city));
        TRY(text_el(b, "county", ad->district));
        TRY(text_el(b, "streetAddressLine", ad->line));
    }
    return base_buf_append_cstr(b, "</addr>");
}

static int
telecom(struct base_buf *b, const char *phone)
{
    char digits[24];

    /* tel: URIs (RFC 3966) have no spaces: the national number, +86 */
    if (phone[0] == '\0' || gw_mpi_norm_phone(phone, strlen(phone), digits) == GW_MPI_PHONE_NONE)
        return BASE_OK;
    return base_buf_appendf(b, "<telecom use=\"MC\" value=\"tel:+86-%s\"/>", digits);
}

static int
person_name(struct base_buf *b, const struct demo_name *n)
{
    if (!n->split)
        return text_el(b, "name", n->text);
    TRY(base_buf_append_cstr(b, "<name>"));
    TRY(text_el(b, "family", n->family));
    TRY(text_el(b, "given", n->given));
    return base_buf_append_cstr(b, "</name>");
}

static int
organization(struct base_buf *b, const char *tag)
{
    const struct demo_member_info *m = &demo_members[DEMO_HOSP_B];
    char oid[72];

    demo_member_oid(DEMO_HOSP_B, 0, oid);
    TRY(base_buf_appendf(b, "<%s><id root=\"%s\"/>", tag, oid));
    TRY(text_el(b, "name", m->name));
    TRY(base_buf_appendf(b, "<telecom use=\"WP\" value=\"tel:+86-%s\"/>", m->phone));
    TRY(base_buf_appendf(b, "<addr><state>辽宁省</state><city>%s</city><county>%s</county></addr>",
                         m->city, m->district));
    return base_buf_appendf(b, "</%s>", tag);
}

static int
record_target(struct cdoc *d)
{
    const struct demo_rec *rec = d->rec;
    struct base_buf *b = d->b;
    char oid[72];
    static const char *const sex[] = {"1\" displayName=\"男性", "2\" displayName=\"女性",
                                      "0\" displayName=\"未知的性别"};

    demo_member_oid(DEMO_HOSP_B, DEMO_ARC_PATIENT, oid);
    TRY(base_buf_appendf(b, "<recordTarget><patientRole><id root=\"%s\" extension=\"%s\"/>", oid,
                         rec->mrn));
    TRY(addr(b, &rec->addr));
    TRY(telecom(b, rec->phone));
    TRY(base_buf_append_cstr(b, "<patient>"));
    if (rec->resid_state != DEMO_RESID_NONE) {
        TRY(base_buf_append_cstr(b, "<id root=\"" DEMO_RESID_OID "\" extension=\""));
        TRY(demo_xml(b, rec->resid));
        TRY(base_buf_append_cstr(b, "\"/>"));
    }
    TRY(person_name(b, &rec->name));
    TRY(base_buf_appendf(
        b,
        "<administrativeGenderCode code=\"%s\" codeSystem=\"2.16.156.10011.2.3.3.4\" "
        "codeSystemName=\"生理性别代码表（GB/T 2261.1）\"/>",
        sex[rec->sex == 'M'   ? 0
            : rec->sex == 'F' ? 1
                              : 2]));
    if (rec->birth != 0)
        TRY(base_buf_appendf(b, "<birthTime value=\"%08d\"/>", rec->birth));
    TRY(base_buf_append_cstr(b, "</patient>"));
    TRY(organization(b, "providerOrganization"));
    return base_buf_append_cstr(b, "</patientRole></recordTarget>");
}

static int
assigned_person(struct cdoc *d, const struct demo_staff *s)
{
    char oid[72];

    demo_member_oid(DEMO_HOSP_B, DEMO_ARC_STAFF, oid);
    TRY(base_buf_appendf(d->b, "<id root=\"%s\" extension=\"%s\"/>", oid, s->id));
    TRY(base_buf_append_cstr(d->b, "<assignedPerson><name><family>"));
    TRY(demo_xml(d->b, s->family));
    TRY(base_buf_append_cstr(d->b, "</family><given>"));
    TRY(demo_xml(d->b, s->given));
    return base_buf_append_cstr(d->b, "</given></name></assignedPerson>");
}

static int
participants(struct cdoc *d)
{
    const struct demo_staff *author = &d->r->staff[DEMO_HOSP_B][d->v->doctor];
    const struct demo_staff *chief =
        &d->r->staff[DEMO_HOSP_B][(d->v->doctor + 5) % DEMO_STAFF_PER_MEMBER];
    struct base_buf *b = d->b;

    TRY(base_buf_append_cstr(b, "<author>"));
    TRY(demo_cda_time(b, "time", d->day, d->minute));
    TRY(base_buf_append_cstr(b, "<assignedAuthor>"));
    TRY(assigned_person(d, author));
    TRY(organization(b, "representedOrganization"));
    TRY(base_buf_append_cstr(b, "</assignedAuthor></author>"));
    TRY(base_buf_append_cstr(b, "<custodian><assignedCustodian>"));
    TRY(organization(b, "representedCustodianOrganization"));
    TRY(base_buf_append_cstr(b, "</assignedCustodian></custodian>"));
    TRY(base_buf_append_cstr(b, "<legalAuthenticator>"));
    TRY(demo_cda_time(b, "time", d->day, d->minute + 30));
    TRY(base_buf_append_cstr(b, "<signatureCode code=\"S\"/><assignedEntity>"));
    TRY(assigned_person(d, chief));
    return base_buf_append_cstr(b, "</assignedEntity></legalAuthenticator>");
}

static int
encounter(struct cdoc *d)
{
    const struct demo_visit *v = d->v;
    struct base_buf *b = d->b;
    char oid[72];
    bool stay = v->cls == DEMO_INPATIENT;

    demo_member_oid(DEMO_HOSP_B, DEMO_ARC_VISIT, oid);
    TRY(base_buf_appendf(b,
                         "<componentOf><encompassingEncounter><id root=\"%s\" extension=\"%s\"/>",
                         oid, v->number));
    TRY(demo_cda_code(b, "code",
                      stay                       ? "IMP"
                      : v->cls == DEMO_EMERGENCY ? "EMER"
                                                 : "AMB",
                      OID_ACTCODE, "ActCode",
                      stay                       ? "住院"
                      : v->cls == DEMO_EMERGENCY ? "急诊"
                                                 : "门诊"));
    TRY(base_buf_append_cstr(b, "<effectiveTime>"));
    TRY(demo_cda_time(b, "low", v->day, v->minute));
    if (stay)
        TRY(demo_cda_time(b, "high", v->day + v->los, 10 * 60));
    else
        TRY(demo_cda_time(b, "high", v->day, v->minute + 25));
    TRY(base_buf_append_cstr(b, "</effectiveTime><location><healthCareFacility><location>"));
    TRY(base_buf_appendf(b, "<name>%s%s</name>", demo_depts[v->dept].zh, stay ? "病区" : "门诊"));
    TRY(base_buf_append_cstr(b, "</location>"));
    TRY(organization(b, "serviceProviderOrganization"));
    return base_buf_append_cstr(
        b, "</healthCareFacility></location></encompassingEncounter></componentOf>");
}

static int
header(struct cdoc *d)
{
    struct base_buf *b = d->b;
    char oid[72];

    demo_member_oid(DEMO_HOSP_B, DEMO_ARC_DOCUMENT, oid);
    TRY(base_buf_append_cstr(b,
                             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                             "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
                             "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
                             "<realmCode code=\"CN\"/>"
                             "<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>"
                             "<templateId root=\"" CCDA_T ".1.1\" extension=\"" CCDA_V "\"/>"));
    TRY(base_buf_appendf(b, "<templateId root=\"" CCDA_T ".1.%s\" extension=\"" CCDA_V "\"/>",
                         d->discharge ? "8" : "9"));
    TRY(base_buf_appendf(b, "<id root=\"%s\" extension=\"%s\"/>", oid, d->id));
    TRY(demo_cda_code(b, "code", d->discharge ? "18842-5" : "11506-3", OID_LOINC, "LOINC",
                      d->discharge ? "Discharge summary" : "Progress note"));
    TRY(text_el(b, "title", d->discharge ? "出院小结" : "门诊病历"));
    TRY(demo_cda_time(b, "effectiveTime", d->day, d->minute));
    TRY(base_buf_append_cstr(
        b, "<confidentialityCode code=\"N\" codeSystem=\"2.16.840.1.113883.5.25\"/>"
           "<languageCode code=\"zh-CN\"/>\n"));
    TRY(record_target(d));
    TRY(participants(d));
    return encounter(d);
}

/* ------------------------------------------------------------ writing -- */

static int
document(const struct demo_region *r, const struct demo_rec *rec, size_t vi, struct base_buf *b,
         struct demo_out *o, struct base_err *err)
{
    struct cdoc d;
    char name[80];

    memset(&d, 0, sizeof(d));
    d.r = r;
    d.rec = rec;
    d.p = rec->person;
    d.v = &rec->visits[vi];
    d.b = b;
    d.discharge = d.v->cls == DEMO_INPATIENT;
    d.day = d.discharge ? d.v->day + d.v->los : d.v->day;
    d.minute = d.discharge ? 11 * 60 : d.v->minute + 30;
    snprintf(d.id, sizeof(d.id), "%s-%s", d.v->number, d.discharge ? "CYXJ" : "MZBL");
    demo_member_oid(DEMO_HOSP_B, DEMO_ARC_ENTRY, d.entry_oid);
    base_buf_reset(b);
    if (header(&d) != BASE_OK || demo_cda_body(&d) != BASE_OK ||
        base_buf_append_cstr(b, "</ClinicalDocument>\n") != BASE_OK)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "cda", "document too large");
    snprintf(name, sizeof(name), "hosp-b/cda/%s.xml", d.id);
    return demo_write(o, name, b->data, b->len, err);
}

/* Which visits of a record have a document: all of them for the EMR's
 * own patients; for patients also in the CSV export, their stays (or the
 * last visit). */
static bool
documented(const struct demo_rec *rec, size_t vi)
{
    bool any_stay = false;

    if (!(rec->sources & DEMO_SRC_CDA))
        return false;
    if (!(rec->sources & DEMO_SRC_CSV))
        return true;
    for (size_t i = 0; i < rec->n_visits; i++)
        any_stay = any_stay || rec->visits[i].cls == DEMO_INPATIENT;
    return any_stay ? rec->visits[vi].cls == DEMO_INPATIENT : vi + 1 == rec->n_visits;
}

int
demo_cda_write_all(const struct demo_region *r, struct demo_out *o, size_t *n_docs,
                   struct base_err *err)
{
    struct base_buf b;
    int rc = BASE_OK;

    *n_docs = 0;
    base_buf_init(&b, 4u << 20);
    for (size_t i = 0; i < r->n_persons && rc == BASE_OK; i++) {
        const struct demo_rec *rec = r->persons[i].rec[DEMO_HOSP_B];

        for (size_t v = 0; rec != NULL && v < rec->n_visits && rc == BASE_OK; v++) {
            if (!documented(rec, v))
                continue;
            rc = document(r, rec, v, &b, o, err);
            (*n_docs)++;
        }
    }
    base_buf_fini(&b);
    return rc;
}
