/*
 * OBR -> DiagnosticReport (results) or ServiceRequest (orders); SPM (and
 * OBR-15) -> Specimen; NTE -> notes.  v2-to-FHIR guide: Segment OBR to
 * DiagnosticReport / ServiceRequest, SPM to Specimen, NTE to Annotation.
 * OBX is in map_obx.c.
 */
#include <string.h>

#include "adapters/hl7v2/map_int.h"

#define SYS_V2_0203 "http://terminology.hl7.org/CodeSystem/v2-0203"

/* ------------------------------------------------------------ statuses -- */

static const char *
report_status(struct base_str s)
{
    /* HL7 table 0123 -> DiagnosticReport.status (v2-to-FHIR ConceptMap) */
    static const char *const map[][2] = {
        {"O", "registered"},  {"I", "registered"}, {"S", "registered"}, {"A", "partial"},
        {"P", "preliminary"}, {"C", "corrected"},  {"R", "partial"},    {"F", "final"},
        {"X", "cancelled"},   {"Y", "final"},      {"Z", "final"},      {"M", "partial"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(map); i++) {
        if (map_is(s, map[i][0]))
            return map[i][1];
    }
    return "unknown";
}

const char *
map_order_status(struct base_str control, struct base_str status)
{
    /* ORC-5 (table 0038) first, then ORC-1 (table 0119) */
    static const char *const st[][2] = {
        {"A", "active"},   {"CA", "revoked"},          {"CM", "completed"},
        {"DC", "revoked"}, {"ER", "entered-in-error"}, {"HD", "on-hold"},
        {"IP", "active"},  {"RP", "revoked"},          {"SC", "active"},
    };
    static const char *const ctl[][2] = {
        {"NW", "active"},    {"OK", "active"},  {"SC", "active"},  {"XO", "active"},
        {"RL", "active"},    {"CA", "revoked"}, {"OC", "revoked"}, {"DC", "revoked"},
        {"OD", "revoked"},   {"CR", "revoked"}, {"HD", "on-hold"}, {"OH", "on-hold"},
        {"RE", "completed"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(st); i++) {
        if (map_is(status, st[i][0]))
            return st[i][1];
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(ctl); i++) {
        if (map_is(control, ctl[i][0]))
            return ctl[i][1];
    }
    return "active";
}

/* --------------------------------------------------------------- orders -- */

/* Placer/filler numbers from OBR-2/3, falling back to ORC-2/3. */
void
map_order_ids(struct mctx *c, const struct hl7v2_seg *seg, uint32_t pf, uint32_t ff,
              struct order_ids *o)
{
    struct at at;

    memset(o, 0, sizeof(*o));
    o->placer =
        map_ei(c, &at, map_rep(c, seg, pf, 1, &at), "order/placer", "PLAC", &o->psys, &o->pval);
    if (o->placer == NULL && c->orc != NULL && c->orc != seg)
        o->placer = map_ei(c, &at, map_rep(c, c->orc, 2, 1, &at), "order/placer", "PLAC", &o->psys,
                           &o->pval);
    o->filler =
        map_ei(c, &at, map_rep(c, seg, ff, 1, &at), "order/filler", "FILL", &o->fsys, &o->fval);
    if (o->filler == NULL && c->orc != NULL && c->orc != seg)
        o->filler = map_ei(c, &at, map_rep(c, c->orc, 3, 1, &at), "order/filler", "FILL", &o->fsys,
                           &o->fval);
}

struct ent *
map_order_entry(struct mctx *c, const char *type, const struct order_ids *o, struct base_str extra,
                bool filler_first)
{
    struct base_str key[3];
    struct base_str sys = filler_first ? o->fsys : o->psys;
    struct base_str val = filler_first ? o->fval : o->pval;
    struct ent *e;

    if (val.len == 0) {
        sys = filler_first ? o->psys : o->fsys;
        val = filler_first ? o->pval : o->fval;
    }
    key[0] = sys;
    key[1] = val;
    key[2] = val.len > 0 ? BASE_STR_NULL : extra;
    if (val.len == 0)
        key[0] = c->patient_key;
    e = map_entry(c, type, key, 3, sys, val);
    if (e == NULL || hl7v2_j_get(e->res, "subject") != NULL || hl7v2_j_get(e->res, "status"))
        return e;
    if (val.len > 0) {
        struct hl7v2_j *ids = hl7v2_j_arr(&c->jb, e->res, "identifier");

        hl7v2_j_add(ids, NULL, o->placer);
        hl7v2_j_add(ids, NULL, o->filler);
    }
    return e;
}

static struct base_str
group_key(const struct ent *e)
{
    return e->cond.len > 0 ? e->cond : base_str_from_cstr(e->uuid);
}

/* HL7 table 0074 (diagnostic service section ID, v2.9 / THO v2-0074). */
static const char *const table_0074[] = {
    "AU",  "BG",  "BLB", "CG",  "CH",  "CP",  "CT",  "CTH", "CUS", "EC", "EN",  "GE",  "HM", "ICU",
    "IMM", "LAB", "MB",  "MCB", "MYC", "NMR", "NMS", "NRS", "OSL", "OT", "OUS", "PAR", "PF", "PHR",
    "PHY", "RAD", "RC",  "RT",  "RUS", "RX",  "SP",  "SR",  "TX",  "VR", "VUS", "XRC",
};

/* OBR-24 -> category.  Only a table 0074 code is a v2-0074 coding (also
 * when written in lower case, 'Lab'); senders put words there too
 * ('Microbiology', '病理', a shifted '1234'), which are their own codes
 * (local system, looked up in the code maps) with the word as text. */
static struct hl7v2_j *
report_category(struct mctx *c, const struct hl7v2_seg *obr)
{
    struct at at;
    struct base_str rep = map_rep(c, obr, 24, 1, &at);
    struct base_str section = map_txt(c, &at, rep, 1, 0);

    if (section.len > 0) {
        char up[4];
        struct hl7v2_j *cc;

        if (section.len <= 3) {
            for (size_t i = 0; i < section.len; i++)
                up[i] = (char)(section.ptr[i] >= 'a' && section.ptr[i] <= 'z' ? section.ptr[i] - 32
                                                                              : section.ptr[i]);
            up[section.len] = '\0';
            for (size_t i = 0; i < BASE_ARRAY_LEN(table_0074); i++) {
                if (strcmp(up, table_0074[i]) == 0)
                    return map_concept1(c, "http://terminology.hl7.org/CodeSystem/v2-0074",
                                        table_0074[i], NULL);
            }
        }
        cc = map_cwe(c, &at, hl7v2_comp(c->m, rep, 1), "OBR-24"); /* ID: one component */
        if (hl7v2_j_get(cc, "text") == NULL)
            hl7v2_j_str(&c->jb, cc, "text", section);
        return cc;
    }
    if (c->o->obs_category != NULL)
        return map_concept1(c, "http://terminology.hl7.org/CodeSystem/observation-category",
                            c->o->obs_category, NULL);
    return NULL;
}

static struct hl7v2_j *
obr_code(struct mctx *c, const struct hl7v2_seg *obr)
{
    struct at at;
    struct hl7v2_j *code = map_cwe(c, &at, map_rep(c, obr, 4, 1, &at), "OBR-4");

    if (!hl7v2_j_present(code)) {
        map_warn(c, &at, "no universal service identifier; code set to text only");
        hl7v2_j_cstr(&c->jb, code, "text", "unspecified");
    }
    return code;
}

static void
obr_effective(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *obr)
{
    struct at at = {obr, 7, 1};
    struct base_str start = map_ts(c, &at, map_field(c, obr, 7), TS_DATETIME);
    struct base_str end;

    at.field = 8;
    end = map_ts(c, &at, map_field(c, obr, 8), TS_DATETIME);
    if (end.len > 0 && start.len > 0) {
        (void)map_period(c, &at, res, "effectivePeriod", start, end);
    } else {
        hl7v2_j_str(&c->jb, res, "effectiveDateTime", start);
    }
}

/* OBR-32 is NDL: its first component is a CNN in subcomponents. */
static struct hl7v2_j *
ndl_ref(struct mctx *c, const struct hl7v2_seg *obr, uint32_t field)
{
    struct at at;
    struct base_str rep = map_rep(c, obr, field, 1, &at);
    struct base_str parts[2] = {map_txt(c, &at, rep, 1, 3), map_txt(c, &at, rep, 1, 2)};
    struct base_str id = map_txt(c, &at, rep, 1, 1);
    struct hl7v2_j *ref = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);

    if (id.len > 0) {
        struct hl7v2_j *ident = hl7v2_j_obj(&c->jb, ref, "identifier");

        hl7v2_j_str(&c->jb, ident, "system",
                    map_authority_system(c, map_txt(c, &at, rep, 1, 9), map_txt(c, &at, rep, 1, 10),
                                         map_txt(c, &at, rep, 1, 11), "practitioner"));
        hl7v2_j_str(&c->jb, ident, "value", id);
    }
    hl7v2_j_str(&c->jb, ref, "display", map_join(c, parts, 2, " "));
    return ref;
}

/* Without placer or filler number an order is told apart by its group
 * (ORC-4), service (OBR-4), set id (OBR-1) and visit. */
static struct base_str
order_extra(struct mctx *c, const struct hl7v2_seg *obr)
{
    struct at at;
    struct base_str parts[4] = {map_txt(c, &at, map_rep(c, c->orc, 4, 1, &at), 1, 0),
                                map_txt(c, &at, map_rep(c, obr, 4, 1, &at), 1, 0),
                                map_field(c, obr, 1),
                                base_str_from_cstr(c->encounter != NULL ? c->encounter->uuid : "")};

    return map_join(c, parts, 4, "|");
}

static struct base_str
obr_test(struct mctx *c, const struct hl7v2_seg *obr)
{
    struct at at;
    struct base_str rep = map_rep(c, obr, 4, 1, &at);
    struct base_str code = map_txt(c, &at, rep, 1, 0);

    return code.len > 0 ? code : map_txt(c, &at, rep, 2, 0);
}

/* The report or order of an OBR.  One placer/filler number on several OBR
 * with different tests (a requisition or accession number shared by its
 * tests, as many LIS send) would make them one resource and drop the
 * others: the first keeps the number as its identifier, each other test
 * gets its own resource keyed by the number and OBR-4 (the number is not
 * its identifier, or the conditional update by it would match two). The
 * same OBR twice is still one. */
static struct ent *
obr_entry(struct mctx *c, const char *type, const struct order_ids *o,
          const struct hl7v2_seg *obr, bool *sibling)
{
    bool filler_first = strcmp(type, "DiagnosticReport") == 0;
    struct ent *e = map_order_entry(c, type, o, order_extra(c, obr), filler_first);
    struct base_str test = obr_test(c, obr);

    *sibling = false;
    if (e != NULL && hl7v2_j_get(e->res, "status") != NULL && test.len > 0 &&
        e->test.len > 0 && !base_str_eq(e->test, test)) {
        struct base_str key[4] = {filler_first ? o->fval : o->pval, o->pval, o->fval, test};

        e = map_entry(c, type, key, 4, BASE_STR_NULL, BASE_STR_NULL);
        *sibling = true;
    }
    if (e != NULL && hl7v2_j_get(e->res, "status") == NULL)
        e->test = test;
    return e;
}

static void
map_report(struct mctx *c, const struct hl7v2_seg *obr, const struct order_ids *o)
{
    bool sibling;
    struct ent *e = obr_entry(c, "DiagnosticReport", o, obr, &sibling);
    struct hl7v2_j *res;
    struct at at;

    if (e == NULL)
        return;
    c->report = e;
    c->report_key = group_key(e);
    res = e->res;
    if (hl7v2_j_get(res, "status") != NULL)
        return;
    hl7v2_j_cstr(&c->jb, res, "status", report_status(map_field(c, obr, 25)));
    hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "category"), NULL, report_category(c, obr));
    hl7v2_j_add(res, "code", obr_code(c, obr));
    map_ref_to(c, res, "subject", c->patient);
    map_ref_to(c, res, "encounter", c->encounter);
    obr_effective(c, res, obr);
    at = (struct at){obr, 22, 1};
    hl7v2_j_str(&c->jb, res, "issued", map_ts(c, &at, map_field(c, obr, 22), TS_INSTANT));
    hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "resultsInterpreter"), NULL, ndl_ref(c, obr, 32));
}

static const char *
priority(struct base_str p)
{
    if (map_is(p, "S") || map_is(p, "STAT"))
        return "stat";
    if (map_is(p, "A") || map_is(p, "ASAP"))
        return "asap";
    if (map_is(p, "R") || map_is(p, "ROUTINE"))
        return "routine";
    return NULL;
}

/* OBR-5 (v2.3 and earlier), else the priority of the order's timing:
 * OBR-27.6 / ORC-7.6 (TQ, to v2.4) or TQ1-9 (v2.5+), table 0027. */
static struct base_str
order_priority(struct mctx *c, const struct hl7v2_seg *obr)
{
    struct at at;
    struct base_str p = map_txt(c, &at, map_rep(c, obr, 5, 1, &at), 1, 0);

    if (p.len == 0)
        p = map_txt(c, &at, map_rep(c, obr, 27, 1, &at), 6, 0);
    if (p.len == 0 && c->orc != NULL)
        p = map_txt(c, &at, map_rep(c, c->orc, 7, 1, &at), 6, 0);
    if (p.len == 0 && c->tq1 != NULL)
        p = map_txt(c, &at, map_rep(c, c->tq1, 9, 1, &at), 1, 0);
    return p;
}

/* When the service is to be done: OBR-7, else the start of the order's
 * timing (TQ1-7 in v2.5+ OMG/OML, ORC-7.4 before) — an imaging request
 * usually has no observation time yet, only the booked start. */
static struct base_str
order_when(struct mctx *c, const struct hl7v2_seg *obr)
{
    struct at at = {obr, 7, 1};
    struct base_str when = map_ts(c, &at, map_field(c, obr, 7), TS_DATETIME);

    if (when.len == 0 && c->tq1 != NULL) {
        at = (struct at){c->tq1, 7, 1};
        when = map_ts(c, &at, map_field(c, c->tq1, 7), TS_DATETIME);
    }
    if (when.len == 0 && c->orc != NULL)
        when = map_ts(c, &at, map_txt(c, &at, map_rep(c, c->orc, 7, 1, &at), 4, 0), TS_DATETIME);
    return when;
}

static void
map_service_request(struct mctx *c, const struct hl7v2_seg *obr, const struct order_ids *o)
{
    bool sibling;
    struct ent *e = obr_entry(c, "ServiceRequest", o, obr, &sibling);
    struct hl7v2_j *res;
    struct hl7v2_j *req;
    struct at at;

    if (e == NULL)
        return;
    c->order = e;
    c->report_key = group_key(e);
    res = e->res;
    if (hl7v2_j_get(res, "status") != NULL)
        return;
    if (sibling) {
        /* the shared placer number: the requisition all its tests belong to */
        struct order_ids again;

        map_order_ids(c, obr, 2, 3, &again);
        hl7v2_j_add(res, "requisition", again.placer);
    }
    hl7v2_j_cstr(&c->jb, res, "status",
                 map_order_status(map_field(c, c->orc, 1), map_field(c, c->orc, 5)));
    hl7v2_j_cstr(&c->jb, res, "intent", "order");
    hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "category"), NULL, report_category(c, obr));
    hl7v2_j_cstr(&c->jb, res, "priority", priority(order_priority(c, obr)));
    hl7v2_j_add(res, "code", obr_code(c, obr));
    map_ref_to(c, res, "subject", c->patient);
    map_ref_to(c, res, "encounter", c->encounter);
    hl7v2_j_str(&c->jb, res, "occurrenceDateTime", order_when(c, obr));
    {
        /* OBR-13 relevant clinical information: Chinese RIS and HIS send
         * the history and clinical diagnosis the examination is asked for
         * ('反复腹痛3天'); it was dropped */
        struct base_str rep = map_rep(c, obr, 13, 1, &at);
        struct base_str parts[8];
        size_t n = 0;
        struct base_str info;

        /* ST, but DRAGONRIS-style interfaces split it into parts (history,
         * clinical diagnosis, …): joined, not sent with raw carets */
        for (uint32_t k = 1; k <= BASE_ARRAY_LEN(parts); k++) {
            parts[n] = map_txt(c, &at, rep, k, 0);
            n += parts[n].len > 0;
        }
        info = map_join(c, parts, n, "; ");
        hl7v2_j_str(&c->jb, hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "note"), NULL), "text",
                    info);
    }
    at = (struct at){c->orc, 9, 1};
    hl7v2_j_str(&c->jb, res, "authoredOn", map_ts(c, &at, map_field(c, c->orc, 9), TS_DATETIME));
    req = map_xcn_ref(c, &at, map_rep(c, c->orc, 12, 1, &at));
    if (!hl7v2_j_present(req))
        req = map_xcn_ref(c, &at, map_rep(c, obr, 16, 1, &at));
    hl7v2_j_add(res, "requester", req);
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, obr, 31); r <= nr_; r++)
        hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "reasonCode"), NULL,
                    map_cwe(c, &at, map_rep(c, obr, 31, r, &at), "OBR-31"));
}

/* v2.3-2.6 OBR-15 specimen source, when the sender has no SPM. */
static void
obr_specimen(struct mctx *c, const struct hl7v2_seg *obr)
{
    struct at at;
    struct base_str rep = map_rep(c, obr, 15, 1, &at);
    struct hl7v2_j *type = map_cwe(c, &at, hl7v2_comp(c->m, rep, 1), "OBR-15");
    struct base_str key[2] = {c->report_key, base_str_from_cstr("OBR-15")};
    struct ent *e;

    if (!hl7v2_j_present(type) || c->patient == NULL)
        return;
    e = map_entry(c, "Specimen", key, 2, BASE_STR_NULL, BASE_STR_NULL);
    if (e == NULL)
        return;
    c->specimen = e;
    if (hl7v2_j_get(e->res, "type") != NULL)
        return;
    hl7v2_j_add(e->res, "type", type);
    map_ref_to(c, e->res, "subject", c->patient);
    at = (struct at){obr, 7, 1};
    hl7v2_j_str(&c->jb, hl7v2_j_obj(&c->jb, e->res, "collection"), "collectedDateTime",
                map_ts(c, &at, map_field(c, obr, 7), TS_DATETIME));
}

static void
link_specimen(struct mctx *c, const struct ent *sp)
{
    struct ent *group = c->report != NULL ? c->report : c->order;
    struct hl7v2_j *list;

    /* Of the group resources only DiagnosticReport and ServiceRequest have
     * `specimen` (R4); an RXE order (MedicationRequest) followed by SPM has not. */
    if (group == NULL || sp == NULL ||
        (strcmp(group->type, "DiagnosticReport") != 0 &&
         strcmp(group->type, "ServiceRequest") != 0))
        return;
    list = hl7v2_j_get(group->res, "specimen");
    if (list == NULL)
        list = hl7v2_j_arr(&c->jb, group->res, "specimen");
    for (const struct hl7v2_j *r = list->first; r != NULL; r = r->next) {
        const struct hl7v2_j *ref = hl7v2_j_get(r, "reference");

        if (ref != NULL && base_str_eq_cstr(ref->s, sp->urn))
            return; /* the same SPM repeated: one reference is enough */
    }
    hl7v2_j_add(list, NULL, map_ref(c, sp));
}

void
map_obr(struct mctx *c, const struct hl7v2_seg *obr)
{
    struct order_ids o;
    struct ent *head = c->spm_first ? c->specimen : NULL; /* the SPM this order is under */

    c->report = NULL;
    c->order = NULL;
    c->obs = NULL;
    c->specimen = head;
    c->obx_in_group = 0;
    c->report_key = BASE_STR_NULL;
    c->report_section = map_field(c, obr, 24);
    if (c->patient == NULL || (c->cls != MC_RESULT && c->cls != MC_ORDER))
        return;
    map_order_ids(c, obr, 2, 3, &o);
    if (c->cls == MC_RESULT)
        map_report(c, obr, &o);
    else
        map_service_request(c, obr, &o);
    /* v2.5+ ORU_R01 puts the SPECIMEN group after the OBX: its SPM
     * describes the sample, and OBR-15 would make a second Specimen */
    if (head == NULL && !map_group_has(c, obr, "SPM"))
        obr_specimen(c, obr);
    link_specimen(c, c->specimen);
}

/* ------------------------------------------------------------------ NTE -- */

void
map_nte(struct mctx *c, const struct hl7v2_seg *nte)
{
    struct ent *target = c->obs != NULL ? c->obs : c->order;
    struct base_str parts[16];
    size_t n = 0;
    struct at at;
    struct hl7v2_j *notes;

    if (target == NULL) {
        if (c->report != NULL) {
            at = (struct at){nte, 3, 0};
            map_warn(c, &at, "report-level note has no place in an R4 DiagnosticReport");
        }
        return;
    }
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, nte, 3);
         r <= nr_ && n < BASE_ARRAY_LEN(parts); r++)
        parts[n++] = map_txt(c, &at, map_rep(c, nte, 3, r, &at), 0, 0);
    if (map_join(c, parts, n, "\n").len == 0)
        return;
    notes = hl7v2_j_get(target->res, "note");
    if (notes == NULL)
        notes = hl7v2_j_arr(&c->jb, target->res, "note");
    hl7v2_j_str(&c->jb, hl7v2_j_obj(&c->jb, notes, NULL), "text", map_join(c, parts, n, "\n"));
}

/* ------------------------------------------------------------------ SPM -- */

/* Whether `ns` is a namespace the message names elsewhere: MSH-3 or MSH-4
 * (HD.1), or the namespace (EI.2) of an ORC/OBR order or group number. */
static bool
message_namespace(struct mctx *c, struct base_str ns)
{
    for (size_t i = 0; i < c->m->nsegs; i++) {
        const struct hl7v2_seg *s = &c->m->segs[i];
        bool msh = i == 0;

        if (!msh && memcmp(s->id, "ORC", 3) != 0 && memcmp(s->id, "OBR", 3) != 0)
            continue;
        /* MSH-3..4; ORC-2..4 (placer, filler, placer group); OBR-2..3 */
        uint32_t last = msh ? 4 : s->id[1] == 'R' ? 4 : 3;

        for (uint32_t f = msh ? 3 : 2; f <= last; f++) {
            struct at at;
            struct base_str rep = map_rep(c, s, f, 1, &at);

            if (base_str_eq(map_txt(c, &at, rep, msh ? 1 : 2, 0), ns))
                return true;
        }
    }
    return false;
}

/* SPM-2 is EIP, but senders (the IHE LTW examples, Sunquest exports) write
 * an EI there: 'S123^LAB', the second component the namespace of the
 * first, not a filler id.  Read as EIP, every specimen of the message had
 * the "filler id" LAB and all but the first were dropped.  It is an EI
 * when neither component has subcomponents and the second is a namespace
 * the message uses (MSH-3/4, ORC/OBR order and group numbers). */
static bool
specimen_ei(struct mctx *c, const struct at *at, struct base_str rep, struct base_str *sys,
            struct base_str *val, struct hl7v2_j *ids)
{
    struct base_str c1 = hl7v2_comp(c->m, rep, 1);
    struct base_str c2 = hl7v2_comp(c->m, rep, 2);
    struct base_str ns;
    struct hl7v2_j *id;

    if (c1.len == 0 || c2.len == 0 || memchr(c1.ptr, c->m->d.sub, c1.len) != NULL ||
        memchr(c2.ptr, c->m->d.sub, c2.len) != NULL)
        return false;
    ns = map_txt(c, at, rep, 2, 0);
    if (ns.len == 0 || !message_namespace(c, ns))
        return false;
    map_warn(c, at, "an EI (id^namespace) where EIP (placer^filler) is due; one identifier");
    *sys = map_authority_system(c, ns, BASE_STR_NULL, BASE_STR_NULL, "specimen");
    *val = map_txt(c, at, rep, 1, 0);
    id = hl7v2_j_obj(&c->jb, ids, NULL);
    hl7v2_j_str(&c->jb, id, "system", *sys);
    hl7v2_j_str(&c->jb, id, "value", *val);
    return true;
}

static void
specimen_ids(struct mctx *c, const struct hl7v2_seg *spm, struct base_str *sys,
             struct base_str *val, struct hl7v2_j **ids)
{
    struct at at;
    struct base_str rep = map_rep(c, spm, 2, 1, &at);

    *ids = hl7v2_j_new(&c->jb, HL7V2_J_ARR);
    if (specimen_ei(c, &at, rep, sys, val, *ids))
        return;
    /* SPM-2 is EIP: placer EI ^ filler EI, each in subcomponents */
    for (uint32_t part = 2; part >= 1; part--) {
        struct base_str comp = hl7v2_comp(c->m, rep, part);
        struct base_str v = map_txt(c, &at, comp, 1, 0);
        struct hl7v2_j *id;
        struct base_str s;

        if (v.len == 0)
            v = map_txt(c, &at, hl7v2_sub(c->m, comp, 1), 0, 0);
        if (v.len == 0)
            continue;
        s = map_authority_system(c, map_txt(c, &at, hl7v2_sub(c->m, comp, 2), 0, 0),
                                 map_txt(c, &at, hl7v2_sub(c->m, comp, 3), 0, 0),
                                 map_txt(c, &at, hl7v2_sub(c->m, comp, 4), 0, 0), "specimen");
        id = hl7v2_j_obj(&c->jb, *ids, NULL);
        map_coding(c, hl7v2_j_arr(&c->jb, hl7v2_j_obj(&c->jb, id, "type"), "coding"), SYS_V2_0203,
                   base_str_from_cstr(part == 1 ? "PLAC" : "FILL"), NULL);
        hl7v2_j_str(&c->jb, id, "system", s);
        hl7v2_j_str(&c->jb, id, "value", v);
        if (val->len == 0) {
            *sys = s;
            *val = v;
        }
    }
}

static void
fill_specimen(struct mctx *c, struct hl7v2_j *res, const struct hl7v2_seg *spm)
{
    struct at at;
    struct hl7v2_j *coll = hl7v2_j_obj(&c->jb, res, "collection");
    struct base_str rep = map_rep(c, spm, 17, 1, &at);
    struct base_str start = map_ts(c, &at, map_txt(c, &at, rep, 1, 0), TS_DATETIME);
    struct base_str end = map_ts(c, &at, map_txt(c, &at, rep, 2, 0), TS_DATETIME);

    hl7v2_j_add(res, "type", map_cwe(c, &at, map_rep(c, spm, 4, 1, &at), "SPM-4"));
    map_ref_to(c, res, "subject", c->patient);
    at = (struct at){spm, 18, 1};
    hl7v2_j_str(&c->jb, res, "receivedTime", map_ts(c, &at, map_field(c, spm, 18), TS_DATETIME));
    if (end.len > 0 && start.len > 0) {
        at = (struct at){spm, 17, 1};
        (void)map_period(c, &at, coll, "collectedPeriod", start, end);
    } else {
        hl7v2_j_str(&c->jb, coll, "collectedDateTime", start);
    }
    hl7v2_j_add(coll, "method", map_cwe(c, &at, map_rep(c, spm, 7, 1, &at), "SPM-7"));
    hl7v2_j_add(coll, "bodySite", map_cwe(c, &at, map_rep(c, spm, 8, 1, &at), "SPM-8"));
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, spm, 24); r <= nr_; r++)
        hl7v2_j_add(hl7v2_j_arr(&c->jb, res, "condition"), NULL,
                    map_cwe(c, &at, map_rep(c, spm, 24, r, &at), "SPM-24"));
}

void
map_spm(struct mctx *c, const struct hl7v2_seg *spm)
{
    struct base_str sys = BASE_STR_NULL;
    struct base_str val = BASE_STR_NULL;
    struct hl7v2_j *ids;
    struct base_str key[3];
    struct ent *e;

    if (c->patient == NULL)
        return;
    if (c->spm_first) { /* a new specimen group: the orders before it are not its */
        c->report = NULL;
        c->order = NULL;
        c->obs = NULL;
        c->report_key = BASE_STR_NULL;
    }
    specimen_ids(c, spm, &sys, &val, &ids);
    key[0] = val.len > 0 ? sys : c->report_key;
    key[1] = val.len > 0 ? val : c->patient_key;
    key[2] = val.len > 0 ? BASE_STR_NULL : map_field(c, spm, 1);
    e = map_entry(c, "Specimen", key, 3, sys, val);
    if (e == NULL)
        return;
    if (hl7v2_j_get(e->res, "subject") == NULL) {
        if (val.len > 0)
            hl7v2_j_add(e->res, "identifier", ids);
        fill_specimen(c, e->res, spm);
    }
    c->specimen = e;
    link_specimen(c, e);
    /* observations of this group that came before the SPM */
    for (size_t i = 0; i < c->nents; i++) {
        struct ent *o = c->ents[i];

        if (o->group == c->report_key.ptr && c->report_key.len > 0 &&
            strcmp(o->type, "Observation") == 0 && hl7v2_j_get(o->res, "specimen") == NULL)
            map_ref_to(c, o->res, "specimen", e);
    }
}
