/*
 * hosp-a's HL7 v2.5 feed: what its HIS and LIS send over MLLP, one message
 * per file in time order (hosp-a/hl7/NNNNN.hl7).
 *
 * Per visit: ADT^A04 (outpatient or emergency registration) or ADT^A01
 * (admission) with AL1 allergies and DG1 diagnoses; ORU^R01 lab results
 * (LOINC with the LIS code as alternate, UCUM units, OBX-7 reference range,
 * OBX-8 flags); RDE^O11 prescriptions (ORC, RXE, TQ1, RXR); VXU^V04
 * vaccinations; for admissions ADT^A08 (a bed transfer), results during
 * the stay and ADT^A03 (discharge, with final DG1 and PR1).
 *
 * HL7 v2.5 ch. 2: MSH-18 "UNICODE UTF-8" (the names are Chinese); original
 * acknowledgement mode (MSH-15/16 empty: the receiver answers AA/AE/AR);
 * segments end with CR.  PID-3 repeats the hospital's record number
 * (assigning authority HOSPA, type MR) and the resident identity number
 * (type NNCHN, assigning authority the OID 2.16.156.10011.1.3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/demo/demo_int.h"

#define OOM(err) base_err_set((err), BASE_E_NOMEM, "exception", "demo", "out of memory")

enum ev_kind { EV_A04, EV_A01, EV_A08, EV_A03, EV_ORU, EV_RDE, EV_VXU };

struct event {
    int64_t at; /* minutes since 1970 (local) */
    const struct demo_rec *rec;
    size_t visit;
    enum ev_kind kind;
    unsigned panels; /* ORU */
    int drug;        /* RDE: index into the visit's drugs */
    int n;           /* occurrence within the visit (order numbers) */
    size_t serial;   /* creation order: ties */
};

struct events {
    struct event *ev;
    size_t n;
    size_t cap;
};

/* --------------------------------------------------------------- text -- */

/* HL7 v2.5 2.7: escape the delimiters inside a value. */
static int
esc(struct base_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        const char *e = NULL;

        switch (*s) {
        case '|':
            e = "\\F\\";
            break;
        case '^':
            e = "\\S\\";
            break;
        case '&':
            e = "\\T\\";
            break;
        case '~':
            e = "\\R\\";
            break;
        case '\\':
            e = "\\E\\";
            break;
        case '\r':
        case '\n':
            e = "\\.br\\";
            break;
        default:
            break;
        }
        TRY(e != NULL ? base_buf_append_cstr(b, e) : base_buf_putc(b, *s));
    }
    return BASE_OK;
}

static int
ts_field(struct base_buf *b, int day, int minute)
{
    char ts[16];

    demo_ts(day, minute, 0, ts);
    return base_buf_appendf(b, "%s+0800", ts);
}

/* XCN of a doctor: id^family^given^^^^^^HOSPA */
static int
xcn(struct base_buf *b, const struct demo_staff *s)
{
    TRY(base_buf_appendf(b, "%s^", s->id));
    TRY(esc(b, s->family));
    TRY(base_buf_putc(b, '^'));
    TRY(esc(b, s->given));
    return base_buf_appendf(b, "^^^^^^%s", demo_members[DEMO_HOSP_A].namespace);
}

/* --------------------------------------------------------------- segments -- */

static int
seg_msh(struct base_buf *b, const char *app, const char *type, int day, int minute,
        const char *control)
{
    TRY(base_buf_appendf(b, "MSH|^~\\&|%s|%s|FHIRGATE|REGION|", app,
                         demo_members[DEMO_HOSP_A].namespace));
    TRY(ts_field(b, day, minute));
    return base_buf_appendf(b, "||%s|%s|P|2.5|||||CHN|UNICODE UTF-8\r", type, control);
}

static int
seg_evn(struct base_buf *b, const char *event, int day, int minute)
{
    TRY(base_buf_appendf(b, "EVN|%s|", event));
    TRY(ts_field(b, day, minute));
    return base_buf_append_cstr(b, "\r");
}

static int
pid_ids(struct base_buf *b, const struct demo_rec *rec)
{
    char oid[72];

    demo_member_oid(DEMO_HOSP_A, DEMO_ARC_PATIENT, oid);
    TRY(esc(b, rec->mrn));
    TRY(base_buf_appendf(b, "^^^%s&%s&ISO^MR", demo_members[DEMO_HOSP_A].namespace, oid));
    if (rec->resid_state == DEMO_RESID_NONE)
        return BASE_OK;
    TRY(base_buf_putc(b, '~'));
    TRY(esc(b, rec->resid));
    return base_buf_append_cstr(b, "^^^&" DEMO_RESID_OID "&ISO^NNCHN");
}

/* XPN family^given^^^^^L (HL7 v2.5 2.A.88): the HIS keeps the parts even
 * when the registration desk typed one string ("张 三" -> 张^三); a
 * romanized registration keeps its word order, mistakes included. */
static int
pid_name(struct base_buf *b, const struct demo_name *n)
{
    TRY(esc(b, n->family));
    TRY(base_buf_putc(b, '^'));
    TRY(esc(b, n->given));
    return base_buf_append_cstr(b, "^^^^^L");
}

/* XAD: street^other^city^state^zip^country^type^^county */
static int
pid_addr(struct base_buf *b, const struct demo_addr *ad)
{
    if (ad->text[0] != '\0') {
        TRY(esc(b, ad->text));
        return base_buf_append_cstr(b, "^^^^^CHN^H");
    }
    if (ad->line[0] == '\0' && ad->city[0] == '\0')
        return BASE_OK;
    TRY(esc(b, ad->line));
    TRY(base_buf_append_cstr(b, "^^"));
    TRY(esc(b, ad->city));
    TRY(base_buf_putc(b, '^'));
    TRY(esc(b, ad->province));
    TRY(base_buf_append_cstr(b, "^^CHN^H^^"));
    return esc(b, ad->district);
}

static int
seg_pid(struct base_buf *b, const struct demo_rec *rec)
{
    TRY(base_buf_append_cstr(b, "PID|1||"));
    TRY(pid_ids(b, rec));
    TRY(base_buf_append_cstr(b, "||"));
    TRY(pid_name(b, &rec->name));
    TRY(base_buf_append_cstr(b, "||"));
    if (rec->birth != 0)
        TRY(base_buf_appendf(b, "%08d", rec->birth));
    TRY(base_buf_appendf(b, "|%c|||", rec->sex));
    TRY(pid_addr(b, &rec->addr));
    TRY(base_buf_append_cstr(b, "||"));
    if (rec->phone[0] != '\0') {
        TRY(esc(b, rec->phone));
        TRY(base_buf_append_cstr(b, "^PRN^CP"));
    }
    return base_buf_append_cstr(b, "\r");
}

static const struct demo_staff *
doctor(const struct demo_region *r, const struct demo_visit *v)
{
    return &r->staff[DEMO_HOSP_A][v->doctor];
}

/* PV1: class, location, attending, service, admitting, visit number,
 * admit and discharge times (HL7 v2.5 3.4.3). */
static int
seg_pv1(const struct demo_region *r, struct base_buf *b, const struct demo_visit *v, int bed,
        bool discharged)
{
    const struct demo_dept *d = &demo_depts[v->dept];
    char oid[72];

    demo_member_oid(DEMO_HOSP_A, DEMO_ARC_VISIT, oid);
    TRY(base_buf_appendf(b, "PV1|1|%c|%s^", v->cls, d->code));
    if (v->cls == DEMO_INPATIENT)
        TRY(base_buf_appendf(b, "%02d%02d^%02d", 3 + v->dept % 9, 10 + bed, 1 + bed % 3));
    else
        TRY(base_buf_append_cstr(b, "^"));
    TRY(base_buf_appendf(b, "^%s^^^^^%s%s||||", demo_members[DEMO_HOSP_A].namespace, d->zh,
                         v->cls == DEMO_INPATIENT ? "病区" : "门诊"));
    TRY(xcn(b, doctor(r, v)));
    TRY(base_buf_appendf(b, "|||%s||||%s|||", d->code, v->cls == DEMO_EMERGENCY ? "7" : "1"));
    TRY(xcn(b, doctor(r, v)));
    TRY(base_buf_appendf(b, "||%s^^^%s&%s&ISO^VN", v->number, demo_members[DEMO_HOSP_A].namespace,
                         oid));
    /* PV1-20 .. PV1-43 empty, PV1-44 admit, PV1-45 discharge */
    for (int f = 19; f < 44; f++)
        TRY(base_buf_putc(b, '|'));
    TRY(ts_field(b, v->day, v->minute));
    TRY(base_buf_putc(b, '|'));
    if (discharged)
        TRY(ts_field(b, v->day + (v->los > 0 ? v->los : 0), v->los > 0 ? 10 * 60 : v->minute + 40));
    return base_buf_append_cstr(b, "\r");
}

static int
seg_al1(struct base_buf *b, const struct demo_person *p)
{
    static const struct {
        char type;
        const char *code;
    } types[] = {
        {'D', "DA^药物过敏^HL70127"}, {'F', "FA^食物过敏^HL70127"}, {'E', "EA^环境过敏^HL70127"}};

    for (int i = 0; i < p->n_allergy; i++) {
        const struct demo_allergen *al = &demo_allergens[p->allergy[i]];
        const char *t = types[0].code;
        const char *sev = strcmp(al->severity, "severe") == 0     ? "SV^重度"
                          : strcmp(al->severity, "moderate") == 0 ? "MO^中度"
                                                                  : "MI^轻度";

        for (size_t k = 0; k < BASE_ARRAY_LEN(types); k++) {
            if (types[k].type == al->type)
                t = types[k].code;
        }
        TRY(base_buf_appendf(b, "AL1|%d|%s|%s^%s^SCT|%s^HL70128|%s\r", i + 1, t, al->snomed, al->zh,
                             sev, al->reaction_zh));
    }
    return BASE_OK;
}

static int
seg_dg1(struct base_buf *b, const struct demo_person *p, const struct demo_visit *v, char type,
        int day, int minute)
{
    for (int i = 0; i < v->n_dx; i++) {
        const struct demo_condition *c = &demo_conditions[p->cond[v->dx[i]].ix];

        TRY(base_buf_appendf(b, "DG1|%d||%s^%s^I10||", i + 1, c->icd10, c->zh));
        TRY(ts_field(b, day, minute));
        TRY(base_buf_appendf(b, "|%c\r", type));
    }
    return BASE_OK;
}

static int
seg_pr1(struct base_buf *b, const struct demo_visit *v, int day)
{
    const struct demo_procedure *pr = &demo_procedures[v->procedure];

    TRY(base_buf_appendf(b, "PR1|1||%s^%s^I9CP^%s^%s^SCT||", pr->icd9cm3, pr->zh, pr->snomed,
                         pr->en));
    TRY(ts_field(b, day, 9 * 60 + 30));
    return base_buf_append_cstr(b, "\r");
}

/* ------------------------------------------------------------- results -- */

static int
seg_obx(const struct demo_region *r, struct base_buf *b, const struct demo_person *p, int lab,
        int set_id, int day, int minute)
{
    const struct demo_lab *l = &demo_labs[lab];
    char value[24];
    char range[32];
    const char *flag;

    (void)demo_lab_value(r, p, lab, day, value, &flag);
    demo_lab_range(l, p->sex, range);
    TRY(base_buf_appendf(b, "OBX|%d|NM|%s^%s^LN^%s^%s^99LIS||%s|%s^%s^UCUM|%s|%s|||F|||", set_id,
                         l->loinc, l->zh, l->local, l->zh, value, l->unit, l->unit, range, flag));
    TRY(ts_field(b, day, minute));
    return base_buf_append_cstr(b, "\r");
}

static int
order_group(const struct demo_region *r, struct base_buf *b, const struct demo_rec *rec,
            const struct demo_visit *v, int panel, const char *orders, int day, int minute)
{
    const struct demo_panel *pn = &demo_panels[panel];
    const struct demo_staff *dr = doctor(r, v);
    int n = 0;

    TRY(base_buf_appendf(b, "ORC|RE|%sL%d^HIS|%sR%d^LIS||CM||||", orders, panel, orders, panel));
    TRY(ts_field(b, day, minute + 150));
    TRY(base_buf_append_cstr(b, "|||"));
    TRY(xcn(b, dr));
    TRY(base_buf_appendf(b, "\rOBR|%d|%sL%d^HIS|%sR%d^LIS|%s^%s^LN^%s^%s^99LIS|||", panel + 1,
                         orders, panel, orders, panel, pn->loinc, pn->zh, pn->local, pn->zh));
    TRY(ts_field(b, day, minute));
    /* OBR-15 specimen source (kept for receivers without SPM), OBR-16
     * ordering provider, OBR-22 report time, OBR-24 section, OBR-25 status */
    TRY(base_buf_append_cstr(b, "||||||||"));
    TRY(base_buf_appendf(b, "%s^%s^HL70487|", pn->specimen,
                         strcmp(pn->specimen, "BLD") == 0 ? "全血" : "血清"));
    TRY(xcn(b, dr));
    TRY(base_buf_append_cstr(b, "||||||"));
    TRY(ts_field(b, day, minute + 150));
    TRY(base_buf_appendf(b, "||%s|F\r", panel == DEMO_P_ROUTINE_CBC ? "HM" : "CH"));
    for (int k = 0; k < 6 && pn->labs[k] >= 0; k++)
        TRY(seg_obx(r, b, rec->person, pn->labs[k], ++n, day, minute));
    return BASE_OK;
}

/* The results of one draw: one ORC/OBR group per panel (HL7 v2.5 7.3.1). */
static int
results(const struct demo_region *r, struct base_buf *b, const struct demo_rec *rec,
        const struct demo_visit *v, unsigned panels, const char *orders, int day, int minute)
{
    for (int k = 0; k < (int)demo_n_panels; k++) {
        if (panels & (1u << k))
            TRY(order_group(r, b, rec, v, k, orders, day, minute));
    }
    return BASE_OK;
}

/* ----------------------------------------------------------- orders -- */

static int
rde(const struct demo_region *r, struct base_buf *b, const struct demo_visit *v, int k,
    const char *orders, int day, int minute)
{
    const struct demo_drug *d = &demo_drugs[v->drugs[k]];
    int days = v->los > 0 && d->days > v->los ? v->los : d->days;

    TRY(base_buf_appendf(b, "ORC|NW|%sM%d^HIS|||||||", orders, k));
    TRY(ts_field(b, day, minute));
    TRY(base_buf_append_cstr(b, "|||"));
    TRY(xcn(b, doctor(r, v)));
    TRY(base_buf_appendf(b, "|||||||||%s\r", demo_members[DEMO_HOSP_A].name));
    TRY(base_buf_appendf(b,
                         "RXE|^%s|%s^%s^RXNORM^%s^%s^99HIS|%s||%s^%s^UCUM|%s^%s^99HIS|^%s|||"
                         "%d|%s^%s^99HIS|0|||%sM%d\r",
                         d->freq, d->rxnorm, d->en, d->local, d->zh, d->dose, d->dose_unit,
                         d->dose_unit, d->form, d->form_zh, d->freq_zh,
                         days * (strcmp(d->freq, "BID") == 0   ? 2
                                 : strcmp(d->freq, "TID") == 0 ? 3
                                                               : 1),
                         d->form, d->form_zh, orders, k));
    TRY(base_buf_appendf(b, "TQ1|1||%s|||%d^d&天&UCUM|", d->freq, days));
    TRY(ts_field(b, day, minute));
    TRY(base_buf_putc(b, '|'));
    TRY(ts_field(b, day + days, minute));
    return base_buf_appendf(b, "\rRXR|%s^%s^HL70162\r", d->route, d->route_zh);
}

static int
vxu(struct base_buf *b, const struct demo_visit *v, const char *orders, int day, int minute)
{
    const struct demo_vaccine *vac = &demo_vaccines[v->vaccine];

    TRY(base_buf_appendf(b, "ORC|RE|%sV^HIS|%sV^HIS\rRXA|0|1|", orders, orders));
    TRY(ts_field(b, day, minute));
    TRY(base_buf_putc(b, '|'));
    TRY(ts_field(b, day, minute));
    TRY(base_buf_appendf(b, "|%s^%s^CVX|0.5|mL^mL^UCUM||00^新接种^NIP001||||||%s%03d|||||CP|A\r",
                         vac->cvx, vac->zh, "LOT", v->day % 997));
    return base_buf_append_cstr(b, "RXR|IM^肌内注射^HL70162|LD^左三角肌^HL70163\r");
}

/* ------------------------------------------------------------ messages -- */

static const char *
ev_type(enum ev_kind k, const char **app, const char **evn)
{
    *app = "HIS";
    *evn = NULL;
    switch (k) {
    case EV_A04:
        *evn = "A04";
        return "ADT^A04^ADT_A01";
    case EV_A01:
        *evn = "A01";
        return "ADT^A01^ADT_A01";
    case EV_A08:
        *evn = "A08";
        return "ADT^A08^ADT_A01";
    case EV_A03:
        *evn = "A03";
        return "ADT^A03^ADT_A03";
    case EV_ORU:
        *app = "LIS";
        return "ORU^R01^ORU_R01";
    case EV_RDE:
        return "RDE^O11^RDE_O11";
    case EV_VXU:
    default:
        return "VXU^V04^VXU_V04";
    }
}

static int
body(const struct demo_region *r, struct base_buf *b, const struct event *e, int day, int minute)
{
    const struct demo_rec *rec = e->rec;
    const struct demo_visit *v = &rec->visits[e->visit];
    char orders[40];

    snprintf(orders, sizeof(orders), "%s%02d", v->number, e->n);
    switch (e->kind) {
    case EV_A04:
    case EV_A01:
        TRY(seg_pv1(r, b, v, 0, false));
        TRY(seg_al1(b, rec->person));
        return seg_dg1(b, rec->person, v, e->kind == EV_A01 ? 'A' : 'W', day, minute);
    case EV_A08:
        return seg_pv1(r, b, v, 1, false);
    case EV_A03:
        TRY(seg_pv1(r, b, v, 1, true));
        TRY(seg_dg1(b, rec->person, v, 'F', day, minute));
        return v->procedure >= 0 ? seg_pr1(b, v, v->day + 2) : BASE_OK;
    case EV_ORU:
        TRY(seg_pv1(r, b, v, 0, false));
        return results(r, b, rec, v, e->panels, orders, day, minute - 150);
    case EV_RDE:
        TRY(seg_pv1(r, b, v, 0, false));
        return rde(r, b, v, e->drug, orders, day, minute);
    case EV_VXU:
    default:
        return vxu(b, v, orders, day, minute);
    }
}

/* Drop empty trailing fields ("…|\r" -> "…\r"): receivers accept them,
 * but senders do not write them (HL7 v2.5 2.5.3: trailing delimiters may
 * be omitted).  No value holds a bare '|': they are escaped as \F\. */
static void
trim_segments(struct base_buf *b, size_t from)
{
    size_t w = from;

    for (size_t i = from; i < b->len; i++) {
        if (b->data[i] == '\r') {
            while (w > from && b->data[w - 1] == '|')
                w--;
        }
        b->data[w++] = b->data[i];
    }
    b->len = w;
    b->data[w] = '\0';
}

static int
render(const struct demo_region *r, const struct event *e, size_t index, struct base_buf *b)
{
    const char *app;
    const char *evn;
    const char *type = ev_type(e->kind, &app, &evn);
    int day = (int)(e->at / 1440);
    int minute = (int)(e->at % 1440);
    char control[24];

    snprintf(control, sizeof(control), "HA%08zu", index + 1);
    TRY(seg_msh(b, app, type, day, minute, control));
    if (evn != NULL)
        TRY(seg_evn(b, evn, day, minute));
    TRY(seg_pid(b, e->rec));
    TRY(body(r, b, e, day, minute));
    trim_segments(b, 0);
    return BASE_OK;
}

/* ------------------------------------------------------------- events -- */

static int
push(struct base_arena *a, struct events *es, const struct event *e)
{
    if (es->n == es->cap) {
        size_t cap = es->cap == 0 ? 1024 : es->cap * 2;
        struct event *ev = base_arena_grow(a, es->ev, es->n, cap, sizeof(*ev));

        if (ev == NULL)
            return BASE_E_NOMEM;
        es->ev = ev;
        es->cap = cap;
    }
    es->ev[es->n] = *e;
    es->ev[es->n].serial = es->n;
    es->n++;
    return BASE_OK;
}

static int
ev_add(struct base_arena *a, struct events *es, const struct demo_rec *rec, size_t visit,
       enum ev_kind kind, int day, int minute, int n)
{
    struct event e = {.at = (int64_t)day * 1440 + minute,
                      .rec = rec,
                      .visit = visit,
                      .kind = kind,
                      .drug = -1,
                      .n = n};

    if (kind == EV_ORU)
        e.panels = rec->visits[visit].panels;
    return push(a, es, &e);
}

/* One RDE^O11 per prescription, `after` minutes into the visit. */
static int
drug_events(struct base_arena *a, struct events *es, const struct demo_rec *rec, size_t i,
            int after)
{
    const struct demo_visit *v = &rec->visits[i];

    for (int k = 0; k < v->n_drugs; k++) {
        struct event e = {.at = (int64_t)v->day * 1440 + v->minute + after + k,
                          .rec = rec,
                          .visit = i,
                          .kind = EV_RDE,
                          .drug = k,
                          .n = 1};

        TRY(push(a, es, &e));
    }
    return BASE_OK;
}

/* Inpatient stays: admission, orders, results on the morning after, a bed
 * transfer, results before discharge, discharge. */
static int
stay_events(struct base_arena *a, struct events *es, const struct demo_rec *rec, size_t i)
{
    const struct demo_visit *v = &rec->visits[i];
    int last = v->day + v->los;

    TRY(ev_add(a, es, rec, i, EV_A01, v->day, v->minute, 0));
    TRY(drug_events(a, es, rec, i, 60));
    TRY(ev_add(a, es, rec, i, EV_ORU, v->day + 1, 10 * 60, 1));
    TRY(ev_add(a, es, rec, i, EV_A08, v->day + 2, 15 * 60, 0));
    if (v->los > 3) {
        struct event e = {.at = (int64_t)(last - 1) * 1440 + 10 * 60,
                          .rec = rec,
                          .visit = i,
                          .kind = EV_ORU,
                          .drug = -1,
                          .n = 2};

        /* the follow-up draw: the panels the diagnoses call for */
        e.panels = v->panels & ~0x0Cu;
        TRY(push(a, es, &e));
    }
    return ev_add(a, es, rec, i, EV_A03, last, 10 * 60, 0);
}

static int
visit_events(struct base_arena *a, struct events *es, const struct demo_rec *rec, size_t i)
{
    const struct demo_visit *v = &rec->visits[i];

    if (v->cls == DEMO_INPATIENT)
        return stay_events(a, es, rec, i);
    TRY(ev_add(a, es, rec, i, EV_A04, v->day, v->minute, 0));
    TRY(drug_events(a, es, rec, i, 25));
    if (v->vaccine >= 0)
        TRY(ev_add(a, es, rec, i, EV_VXU, v->day, v->minute + 50, 3));
    if (v->panels != 0)
        TRY(ev_add(a, es, rec, i, EV_ORU, v->day, v->minute + 180, 1));
    return BASE_OK;
}

static int
cmp_event(const void *pa, const void *pb)
{
    const struct event *a = pa;
    const struct event *b = pb;

    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return a->serial < b->serial ? -1 : a->serial > b->serial;
}

int
demo_hl7_write_all(const struct demo_region *r, struct demo_out *o, size_t *n_messages,
                   struct base_err *err)
{
    struct events es = {0};
    struct base_buf b;
    int rc = BASE_OK;

    for (size_t i = 0; i < r->n_persons; i++) {
        const struct demo_rec *rec = r->persons[i].rec[DEMO_HOSP_A];

        for (size_t v = 0; rec != NULL && v < rec->n_visits; v++) {
            if (visit_events(r->a, &es, rec, v) != BASE_OK)
                return OOM(err);
        }
    }
    qsort(es.ev, es.n, sizeof(*es.ev), cmp_event);
    base_buf_init(&b, 1u << 20);
    for (size_t i = 0; i < es.n && rc == BASE_OK; i++) {
        char name[40];

        base_buf_reset(&b);
        if (render(r, &es.ev[i], i, &b) != BASE_OK) {
            rc = base_err_set(err, BASE_E_LIMIT, "too-long", "hl7", "message too large");
            break;
        }
        snprintf(name, sizeof(name), "hosp-a/hl7/%05zu.hl7", i + 1);
        rc = demo_write(o, name, b.data, b.len, err);
    }
    base_buf_fini(&b);
    *n_messages = es.n;
    return rc;
}

/* A new result for the live feed: same shape as the replayed ORU^R01. */
int
demo_hl7_live_oru(const struct demo_region *r, const struct demo_rec *rec, int day, int minute,
                  unsigned panels, const char *tag, size_t seq, struct base_buf *out,
                  struct base_err *err)
{
    const struct demo_visit *v = &rec->visits[rec->n_visits - 1];
    struct demo_visit live = *v;
    char control[48];
    char orders[48];
    size_t start = out->len;

    /* an outpatient draw: the last visit's doctor and department, a new
     * visit number and new order numbers */
    live.cls = DEMO_OUTPATIENT;
    live.los = 0;
    live.day = day;
    live.minute = minute;
    snprintf(live.number, sizeof(live.number), "L%s%06zu", tag, seq);
    snprintf(control, sizeof(control), "HAL%s%06zu", tag, seq);
    snprintf(orders, sizeof(orders), "%s", live.number);
    if (seg_msh(out, "LIS", "ORU^R01^ORU_R01", day, minute, control) != BASE_OK ||
        seg_pid(out, rec) != BASE_OK || seg_pv1(r, out, &live, 0, false) != BASE_OK ||
        results(r, out, rec, &live, panels, orders, day, minute) != BASE_OK)
        return base_err_set(err, BASE_E_LIMIT, "too-long", "hl7", "message too large");
    trim_segments(out, start);
    return BASE_OK;
}
