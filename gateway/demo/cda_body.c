/*
 * The sections of hosp-b's documents, each with its narrative (what a
 * clinician reads) and C-CDA R2.1 entries (what the converter maps):
 * diagnoses, problems, family history, allergies, results, vital signs,
 * procedures, medications, immunizations and treatment goals.  Templates: C-CDA R2.1 (HL7, 2015),
 * section and entry OIDs under 2.16.840.1.113883.10.20.22.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gateway/demo/cda_int.h"

/* ------------------------------------------------------------ section -- */

static int
sec_begin(struct cdoc *d, const char *tmpl, const char *loinc, const char *display,
          const char *title)
{
    struct base_buf *b = d->b;

    TRY(base_buf_append_cstr(b, "<component><section>"));
    if (tmpl != NULL)
        TRY(base_buf_appendf(b, "<templateId root=\"" CCDA_T ".2.%s\" extension=\"" CCDA_V "\"/>",
                             tmpl));
    TRY(demo_cda_code(b, "code", loinc, OID_LOINC, "LOINC", display));
    TRY(base_buf_append_cstr(b, "<title>"));
    TRY(demo_xml(b, title));
    return base_buf_append_cstr(b, "</title>");
}

static int
sec_end(struct cdoc *d)
{
    return base_buf_append_cstr(d->b, "</section></component>\n");
}

/* Narrative: <text><list><item>…</item></list></text>, one item per line. */
static int
list_begin(struct cdoc *d)
{
    return base_buf_append_cstr(d->b, "<text><list>");
}

static int list_item(struct cdoc *d, const char *fmt, ...) BASE_PRINTF(2, 3);

static int
list_item(struct cdoc *d, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    TRY(base_buf_append_cstr(d->b, "<item>"));
    TRY(demo_xml(d->b, line));
    return base_buf_append_cstr(d->b, "</item>");
}

static int
list_end(struct cdoc *d)
{
    return base_buf_append_cstr(d->b, "</list></text>");
}

static int
entry_tmpl(struct cdoc *d, const char *n)
{
    return base_buf_appendf(d->b, "<templateId root=\"" CCDA_T ".4.%s\" extension=\"" CCDA_V "\"/>",
                            n);
}

/* ---------------------------------------------------------- problems -- */

/* Problem observation (4.4): ICD-10 value with the SNOMED CT translation. */
static int
problem_obs(struct cdoc *d, const struct demo_cond *pc, bool with_onset, const char *key)
{
    const struct demo_condition *c = &demo_conditions[pc->ix];
    struct base_buf *b = d->b;

    TRY(base_buf_append_cstr(b, "<entryRelationship typeCode=\"SUBJ\">"
                                "<observation classCode=\"OBS\" moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "4"));
    TRY(demo_cda_entry_id(d, key));
    TRY(base_buf_append_cstr(b, "<code code=\"282291009\" codeSystem=\"" OID_SNOMED
                                "\" displayName=\"Diagnosis\"/><statusCode code=\"completed\"/>"));
    if (with_onset) {
        TRY(base_buf_append_cstr(b, "<effectiveTime>"));
        TRY(demo_cda_time(b, "low", pc->onset, 9 * 60));
        TRY(base_buf_append_cstr(b, "</effectiveTime>"));
    }
    TRY(base_buf_append_cstr(b, "<value xsi:type=\"CD\" code=\""));
    TRY(demo_xml(b, c->icd10));
    TRY(base_buf_append_cstr(b, "\" codeSystem=\"" OID_ICD10_CN "\" codeSystemName=\"ICD-10\" "
                                "displayName=\""));
    TRY(demo_xml(b, c->zh));
    TRY(base_buf_append_cstr(b, "\">"));
    TRY(demo_cda_code(b, "translation", c->snomed, OID_SNOMED, "SNOMED CT", c->en));
    return base_buf_append_cstr(b, "</value></observation></entryRelationship>");
}

/* Concern / diagnosis act around a problem observation. */
/* Problem-list items keep one id per patient and condition in every
 * document (`key`), so each new document updates the same Condition; a
 * visit's diagnoses are new entries of that document (key NULL). */
static int
problem_entry(struct cdoc *d, const struct demo_cond *pc, const char *act_tmpl,
              const char *act_code, const char *act_system, bool with_onset, const char *key)
{
    struct base_buf *b = d->b;
    char act_key[64];

    snprintf(act_key, sizeof(act_key), "%s-A", key != NULL ? key : "");
    TRY(base_buf_append_cstr(b, "<entry><act classCode=\"ACT\" moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, act_tmpl));
    TRY(demo_cda_entry_id(d, key != NULL ? act_key : NULL));
    TRY(base_buf_appendf(b, "<code code=\"%s\" codeSystem=\"%s\"/><statusCode code=\"%s\"/>",
                         act_code, act_system, with_onset ? "active" : "completed"));
    TRY(base_buf_append_cstr(b, "<effectiveTime>"));
    TRY(demo_cda_time(b, "low", with_onset ? pc->onset : d->v->day, 9 * 60));
    TRY(base_buf_append_cstr(b, "</effectiveTime>"));
    TRY(problem_obs(d, pc, with_onset, key));
    return base_buf_append_cstr(b, "</act></entry>");
}

static int
dx_section(struct cdoc *d, const char *tmpl, const char *loinc, const char *display,
           const char *title, const char *act_tmpl)
{
    const struct demo_person *p = d->p;

    TRY(sec_begin(d, tmpl, loinc, display, title));
    TRY(list_begin(d));
    for (int i = 0; i < d->v->n_dx; i++) {
        const struct demo_condition *c = &demo_conditions[p->cond[d->v->dx[i]].ix];

        TRY(list_item(d, "%d. %s（%s）", i + 1, c->zh, c->icd10));
    }
    if (d->v->n_dx == 0)
        TRY(list_item(d, "健康查体"));
    TRY(list_end(d));
    for (int i = 0; i < d->v->n_dx; i++) {
        const struct demo_cond *pc = &p->cond[d->v->dx[i]];

        if (act_tmpl != NULL) {
            TRY(problem_entry(d, pc, act_tmpl, loinc, OID_LOINC, false, NULL));
            continue;
        }
        /* WS/T 500 style: a plain act around the observation */
        TRY(base_buf_append_cstr(d->b, "<entry><act classCode=\"ACT\" moodCode=\"EVN\">"
                                       "<code code=\"CONC\" codeSystem=\"2.16.840.1.113883.5.6\"/>"
                                       "<statusCode code=\"completed\"/>"));
        TRY(problem_obs(d, pc, false, NULL));
        TRY(base_buf_append_cstr(d->b, "</act></entry>"));
    }
    return sec_end(d);
}

static int
problem_section(struct cdoc *d)
{
    const struct demo_person *p = d->p;
    int n = 0;

    TRY(sec_begin(d, "5.1", "11450-4", "Problem list - Reported", "既往史及慢性病"));
    TRY(list_begin(d));
    for (int k = 0; k < p->n_cond; k++) {
        const struct demo_condition *c = &demo_conditions[p->cond[k].ix];
        char onset[16];

        if (c->kind != DEMO_CHRONIC || p->cond[k].onset > d->v->day)
            continue;
        snprintf(onset, sizeof(onset), "%08d", demo_ymd(p->cond[k].onset));
        TRY(list_item(d, "%s（%s），%.4s年%.2s月起", c->zh, c->icd10, onset, onset + 4));
        n++;
    }
    if (n == 0)
        TRY(list_item(d, "否认慢性病史"));
    TRY(list_end(d));
    for (int k = 0; k < p->n_cond; k++) {
        const struct demo_condition *c = &demo_conditions[p->cond[k].ix];
        char key[48];

        snprintf(key, sizeof(key), "%s-PRB-%s", d->rec->mrn, c->icd10);
        if (c->kind == DEMO_CHRONIC && p->cond[k].onset <= d->v->day)
            TRY(problem_entry(d, &p->cond[k], "3", "CONC", "2.16.840.1.113883.5.6", true, key));
    }
    return sec_end(d);
}

/* ---------------------------------------------------------- allergies -- */

static const char *
allergy_type_code(char t)
{
    return t == 'D' ? "416098002" : t == 'F' ? "414285001" : "426232007";
}

static const char *
severity_code(const char *sev, const char **zh)
{
    *zh = strcmp(sev, "severe") == 0 ? "重度" : strcmp(sev, "moderate") == 0 ? "中度" : "轻度";
    return strcmp(sev, "severe") == 0     ? "24484000"
           : strcmp(sev, "moderate") == 0 ? "6736007"
                                          : "255604002";
}

static int
reaction(struct cdoc *d, const struct demo_allergen *al)
{
    struct base_buf *b = d->b;
    const char *sev_zh;
    const char *sev = severity_code(al->severity, &sev_zh);

    TRY(base_buf_append_cstr(b, "<entryRelationship typeCode=\"MFST\" inversionInd=\"true\">"
                                "<observation classCode=\"OBS\" moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "9"));
    TRY(demo_cda_entry_id(d, NULL));
    TRY(base_buf_append_cstr(b, "<code code=\"ASSERTION\" codeSystem=\"" OID_ACTCODE
                                "\"/><statusCode code=\"completed\"/>"
                                "<value xsi:type=\"CD\" code=\""));
    TRY(base_buf_appendf(b, "%s\" codeSystem=\"" OID_SNOMED "\" displayName=\"",
                         al->reaction_snomed));
    TRY(demo_xml(b, al->reaction_zh));
    TRY(base_buf_append_cstr(b, "\"/><entryRelationship typeCode=\"SUBJ\" inversionInd=\"true\">"
                                "<observation classCode=\"OBS\" moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "8"));
    TRY(base_buf_appendf(b,
                         "<code code=\"SEV\" codeSystem=\"" OID_ACTCODE
                         "\"/><statusCode code=\"completed\"/><value xsi:type=\"CD\" code=\"%s\" "
                         "codeSystem=\"" OID_SNOMED "\" displayName=\"%s\"/>",
                         sev, sev_zh));
    return base_buf_append_cstr(b, "</observation></entryRelationship></observation>"
                                   "</entryRelationship>");
}

/* One allergy keeps its ids in every document of the patient (as the
 * problem list does): the AllergyIntolerance is updated, not repeated. */
static int
allergy_entry(struct cdoc *d, const struct demo_allergen *al)
{
    struct base_buf *b = d->b;
    int first_day = d->rec->visits[0].day;
    char key[48];
    char obs_key[52];

    snprintf(key, sizeof(key), "%s-ALG-%s", d->rec->mrn, al->snomed);
    snprintf(obs_key, sizeof(obs_key), "%s-O", key);
    TRY(base_buf_append_cstr(b, "<entry><act classCode=\"ACT\" moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "30"));
    TRY(demo_cda_entry_id(d, key));
    TRY(base_buf_append_cstr(b, "<code code=\"CONC\" codeSystem=\"2.16.840.1.113883.5.6\"/>"
                                "<statusCode code=\"active\"/><effectiveTime>"));
    TRY(demo_cda_time(b, "low", first_day, 9 * 60));
    TRY(base_buf_append_cstr(b, "</effectiveTime><entryRelationship typeCode=\"SUBJ\">"
                                "<observation classCode=\"OBS\" moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "7"));
    TRY(demo_cda_entry_id(d, obs_key));
    TRY(base_buf_append_cstr(b, "<code code=\"ASSERTION\" codeSystem=\"" OID_ACTCODE
                                "\"/><statusCode code=\"completed\"/><effectiveTime>"));
    TRY(demo_cda_time(b, "low", first_day, 9 * 60));
    TRY(base_buf_append_cstr(b, "</effectiveTime>"));
    TRY(demo_cda_code(b, "value xsi:type=\"CD\"", allergy_type_code(al->type), OID_SNOMED,
                      "SNOMED CT", NULL));
    TRY(base_buf_append_cstr(b, "<participant typeCode=\"CSM\"><participantRole classCode=\"MANU\">"
                                "<playingEntity classCode=\"MMAT\">"));
    TRY(demo_cda_code(b, "code", al->snomed, OID_SNOMED, "SNOMED CT", al->zh));
    TRY(base_buf_append_cstr(b, "<name>"));
    TRY(demo_xml(b, al->zh));
    TRY(base_buf_append_cstr(b, "</name></playingEntity></participantRole></participant>"));
    TRY(reaction(d, al));
    return base_buf_append_cstr(b, "</observation></entryRelationship></act></entry>");
}

static int
allergy_section(struct cdoc *d)
{
    const struct demo_person *p = d->p;

    TRY(sec_begin(d, "6.1", "48765-2", "Allergies and adverse reactions Document", "过敏史"));
    TRY(list_begin(d));
    for (int i = 0; i < p->n_allergy; i++) {
        const struct demo_allergen *al = &demo_allergens[p->allergy[i]];
        const char *sev_zh;

        (void)severity_code(al->severity, &sev_zh);
        TRY(list_item(d, "%s过敏：%s（%s）", al->zh, al->reaction_zh, sev_zh));
    }
    if (p->n_allergy == 0)
        TRY(list_item(d, "否认药物及食物过敏史"));
    TRY(list_end(d));
    for (int i = 0; i < p->n_allergy; i++)
        TRY(allergy_entry(d, &demo_allergens[p->allergy[i]]));
    return sec_end(d);
}

/* ------------------------------------------------------------ results -- */

static int
pq_range(struct cdoc *d, const struct demo_lab *l)
{
    struct base_buf *b = d->b;
    double lo;
    double hi;
    bool has_lo = demo_lab_lo(l, d->p->sex, &lo);
    bool has_hi = demo_lab_hi(l, d->p->sex, &hi);

    TRY(base_buf_append_cstr(b, "<referenceRange><observationRange><value xsi:type=\"IVL_PQ\">"));
    if (has_lo)
        TRY(base_buf_appendf(b, "<low value=\"%.*f\" unit=\"%s\"/>", l->decimals, lo, l->unit));
    if (has_hi)
        TRY(base_buf_appendf(b, "<high value=\"%.*f\" unit=\"%s\"/>", l->decimals, hi, l->unit));
    return base_buf_append_cstr(b, "</value><interpretationCode code=\"N\" codeSystem=\"" OID_INTERP
                                   "\"/></observationRange></referenceRange>");
}

static int
result_obs(struct cdoc *d, int lab, int day, int minute)
{
    const struct demo_lab *l = &demo_labs[lab];
    struct base_buf *b = d->b;
    char value[24];
    const char *flag;

    (void)demo_lab_value(d->r, d->p, lab, day, value, &flag);
    TRY(base_buf_append_cstr(b, "<component><observation classCode=\"OBS\" moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "2"));
    TRY(demo_cda_entry_id(d, NULL));
    TRY(demo_cda_code(b, "code", l->loinc, OID_LOINC, "LOINC", l->zh));
    TRY(base_buf_append_cstr(b, "<statusCode code=\"completed\"/>"));
    TRY(demo_cda_time(b, "effectiveTime", day, minute));
    TRY(base_buf_appendf(b, "<value xsi:type=\"PQ\" value=\"%s\" unit=\"%s\"/>", value, l->unit));
    TRY(base_buf_appendf(b, "<interpretationCode code=\"%s\" codeSystem=\"" OID_INTERP "\"/>",
                         flag));
    TRY(pq_range(d, l));
    return base_buf_append_cstr(b, "</observation></component>");
}

static int
result_narrative(struct cdoc *d, unsigned panels, int day)
{
    static const char *const zh_flag[] = {"N", "", "H", "↑", "L", "↓", "HH", "↑↑", "LL", "↓↓"};

    for (size_t k = 0; k < demo_n_panels; k++) {
        const struct demo_panel *pn = &demo_panels[k];

        if (!(panels & (1u << k)))
            continue;
        for (int i = 0; i < 6 && pn->labs[i] >= 0; i++) {
            const struct demo_lab *l = &demo_labs[pn->labs[i]];
            char value[24];
            char range[32];
            const char *flag;
            const char *mark = "";

            (void)demo_lab_value(d->r, d->p, pn->labs[i], day, value, &flag);
            demo_lab_range(l, d->p->sex, range);
            for (size_t f = 0; f < BASE_ARRAY_LEN(zh_flag); f += 2) {
                if (strcmp(zh_flag[f], flag) == 0)
                    mark = zh_flag[f + 1];
            }
            TRY(list_item(d, "%s %s：%s %s%s（参考范围 %s）", pn->zh, l->zh, value, l->unit, mark,
                          range));
        }
    }
    return BASE_OK;
}

static int
organizers(struct cdoc *d, unsigned panels, int day, int minute)
{
    struct base_buf *b = d->b;

    for (size_t k = 0; k < demo_n_panels; k++) {
        const struct demo_panel *pn = &demo_panels[k];

        if (!(panels & (1u << k)))
            continue;
        TRY(base_buf_append_cstr(b, "<entry typeCode=\"DRIV\"><organizer classCode=\"BATTERY\" "
                                    "moodCode=\"EVN\">"));
        TRY(entry_tmpl(d, "1"));
        TRY(demo_cda_entry_id(d, NULL));
        TRY(demo_cda_code(b, "code", pn->loinc, OID_LOINC, "LOINC", pn->zh));
        TRY(base_buf_append_cstr(b, "<statusCode code=\"completed\"/>"));
        TRY(demo_cda_time(b, "effectiveTime", day, minute));
        for (int i = 0; i < 6 && pn->labs[i] >= 0; i++)
            TRY(result_obs(d, pn->labs[i], day, minute));
        TRY(base_buf_append_cstr(b, "</organizer></entry>"));
    }
    return BASE_OK;
}

static int
results_section(struct cdoc *d)
{
    const struct demo_visit *v = d->v;
    /* a stay: admission labs on the first morning, the diagnoses' panels
     * again before discharge; a visit: the day's draw */
    int day1 = v->cls == DEMO_INPATIENT ? v->day + 1 : v->day;
    int day2 = v->day + v->los - 1;
    unsigned second = v->cls == DEMO_INPATIENT && v->los > 3 ? v->panels & ~0x0Cu : 0;

    if (v->panels == 0)
        return BASE_OK;
    TRY(sec_begin(d, "3.1", "30954-2", "Relevant diagnostic tests/laboratory data Narrative",
                  "实验室检查"));
    TRY(list_begin(d));
    TRY(result_narrative(d, v->panels, day1));
    if (second != 0)
        TRY(result_narrative(d, second, day2));
    TRY(list_end(d));
    TRY(organizers(d, v->panels, day1, 7 * 60 + 30));
    if (second != 0)
        TRY(organizers(d, second, day2, 7 * 60 + 30));
    return sec_end(d);
}

/* --------------------------------------------------------- vital signs -- */

static int
vitals_section(struct cdoc *d)
{
    struct base_buf *b = d->b;
    char values[6][24];
    int minute = d->v->minute + 10;

    for (size_t i = 0; i < demo_n_vitals; i++)
        demo_vital_value(d->r, d->p, (int)i, d->v->day, values[i]);
    TRY(sec_begin(d, "4.1", "8716-3", "Vital signs", "生命体征"));
    TRY(list_begin(d));
    TRY(list_item(d, "血压 %s/%s mmHg，心率 %s 次/分，体温 %s ℃，体重 %s kg，身高 %s cm", values[0],
                  values[1], values[2], values[3], values[4], values[5]));
    TRY(list_end(d));
    TRY(base_buf_append_cstr(b, "<entry typeCode=\"DRIV\"><organizer classCode=\"CLUSTER\" "
                                "moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "26"));
    TRY(demo_cda_entry_id(d, NULL));
    TRY(base_buf_append_cstr(b,
                             "<code code=\"46680005\" codeSystem=\"" OID_SNOMED
                             "\" displayName=\"Vital signs\"/><statusCode code=\"completed\"/>"));
    TRY(demo_cda_time(b, "effectiveTime", d->v->day, minute));
    for (size_t i = 0; i < demo_n_vitals; i++) {
        const struct demo_vital *vt = &demo_vitals[i];

        TRY(base_buf_append_cstr(b, "<component><observation classCode=\"OBS\" moodCode=\"EVN\">"));
        TRY(entry_tmpl(d, "27"));
        TRY(demo_cda_entry_id(d, NULL));
        TRY(demo_cda_code(b, "code", vt->loinc, OID_LOINC, "LOINC", vt->zh));
        TRY(base_buf_append_cstr(b, "<statusCode code=\"completed\"/>"));
        TRY(demo_cda_time(b, "effectiveTime", d->v->day, minute));
        TRY(base_buf_appendf(b, "<value xsi:type=\"PQ\" value=\"%s\" unit=\"%s\"/>", values[i],
                             vt->unit));
        TRY(base_buf_append_cstr(b, "</observation></component>"));
    }
    TRY(base_buf_append_cstr(b, "</organizer></entry>"));
    return sec_end(d);
}

/* --------------------------------------------------------- procedures -- */

static int
procedure_section(struct cdoc *d)
{
    const struct demo_procedure *pr = &demo_procedures[d->v->procedure];
    struct base_buf *b = d->b;
    int day = d->v->cls == DEMO_INPATIENT ? d->v->day + 2 : d->v->day;

    TRY(sec_begin(d, "7.1", "47519-4", "History of Procedures Document", "手术及操作"));
    TRY(list_begin(d));
    TRY(list_item(d, "%s（ICD-9-CM-3 %s）", pr->zh, pr->icd9cm3));
    TRY(list_end(d));
    TRY(base_buf_append_cstr(b, "<entry><procedure classCode=\"PROC\" moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "14"));
    TRY(demo_cda_entry_id(d, NULL));
    TRY(base_buf_appendf(b,
                         "<code code=\"%s\" codeSystem=\"" OID_ICD9CM3
                         "\" codeSystemName=\"ICD-9-CM-3\" displayName=\"",
                         pr->icd9cm3));
    TRY(demo_xml(b, pr->zh));
    TRY(base_buf_append_cstr(b, "\">"));
    TRY(demo_cda_code(b, "translation", pr->snomed, OID_SNOMED, "SNOMED CT", pr->en));
    TRY(base_buf_append_cstr(b, "</code><statusCode code=\"completed\"/>"));
    TRY(demo_cda_time(b, "effectiveTime", day, 9 * 60 + 30));
    TRY(base_buf_append_cstr(b, "</procedure></entry>"));
    return sec_end(d);
}

/* -------------------------------------------------------- medications -- */

static const char *
nci_route(const char *v2, const char **zh)
{
    static const char *const t[][3] = {{"PO", "C38288", "口服"},
                                       {"SC", "C38299", "皮下注射"},
                                       {"IH", "C38216", "吸入"},
                                       {"IM", "C28161", "肌内注射"}};

    for (size_t i = 0; i < BASE_ARRAY_LEN(t); i++) {
        if (strcmp(t[i][0], v2) == 0) {
            *zh = t[i][2];
            return t[i][1];
        }
    }
    *zh = "口服";
    return "C38288";
}

static int
period_hours(const char *freq)
{
    return strcmp(freq, "BID") == 0   ? 12
           : strcmp(freq, "TID") == 0 ? 8
           : strcmp(freq, "PRN") == 0 ? 0
                                      : 24;
}

static int
med_entry(struct cdoc *d, const struct demo_drug *dr, int day, int days)
{
    struct base_buf *b = d->b;
    const char *route_zh;
    const char *route = nci_route(dr->route, &route_zh);
    int hours = period_hours(dr->freq);

    TRY(base_buf_append_cstr(b, "<entry><substanceAdministration classCode=\"SBADM\" "
                                "moodCode=\"INT\">"));
    TRY(entry_tmpl(d, "16"));
    TRY(demo_cda_entry_id(d, NULL));
    TRY(base_buf_appendf(b, "<text>%s %s%s %s %s</text><statusCode code=\"active\"/>", dr->zh,
                         dr->dose, dr->dose_unit, route_zh, dr->freq_zh));
    TRY(base_buf_append_cstr(b, "<effectiveTime xsi:type=\"IVL_TS\">"));
    TRY(demo_cda_time(b, "low", day, 10 * 60));
    TRY(demo_cda_time(b, "high", day + days, 10 * 60));
    TRY(base_buf_append_cstr(b, "</effectiveTime>"));
    if (hours > 0)
        TRY(base_buf_appendf(b,
                             "<effectiveTime xsi:type=\"PIVL_TS\" institutionSpecified=\"true\" "
                             "operator=\"A\"><period value=\"%d\" unit=\"h\"/></effectiveTime>",
                             hours));
    TRY(demo_cda_code(b, "routeCode", route, OID_NCI, "NCI Thesaurus", route_zh));
    TRY(base_buf_appendf(b, "<doseQuantity value=\"%s\" unit=\"%s\"/>", dr->dose, dr->dose_unit));
    TRY(base_buf_append_cstr(b, "<consumable><manufacturedProduct classCode=\"MANU\">"));
    TRY(entry_tmpl(d, "23"));
    TRY(base_buf_append_cstr(b, "<manufacturedMaterial>"));
    TRY(demo_cda_code(b, "code", dr->rxnorm, OID_RXNORM, "RxNorm", dr->en));
    TRY(base_buf_appendf(b, "<name>%s</name>", dr->zh));
    return base_buf_append_cstr(b, "</manufacturedMaterial></manufacturedProduct></consumable>"
                                   "</substanceAdministration></entry>");
}

static int
med_section(struct cdoc *d)
{
    const struct demo_visit *v = d->v;
    bool stay = v->cls == DEMO_INPATIENT;
    int day = stay ? v->day + v->los : v->day;

    if (v->n_drugs == 0)
        return BASE_OK;
    if (stay)
        TRY(sec_begin(d, "11.1", "10183-2", "Hospital discharge medications Narrative",
                      "出院带药"));
    else
        TRY(sec_begin(d, "1.1", "10160-0", "History of Medication use Narrative", "处方用药"));
    TRY(list_begin(d));
    for (int i = 0; i < v->n_drugs; i++) {
        const struct demo_drug *dr = &demo_drugs[v->drugs[i]];
        const char *route_zh;

        (void)nci_route(dr->route, &route_zh);
        TRY(list_item(d, "%s %s%s %s %s，共%d天", dr->zh, dr->dose, dr->dose_unit, route_zh,
                      dr->freq_zh, dr->days));
    }
    TRY(list_end(d));
    for (int i = 0; i < v->n_drugs; i++)
        TRY(med_entry(d, &demo_drugs[v->drugs[i]], day, demo_drugs[v->drugs[i]].days));
    return sec_end(d);
}

/* ------------------------------------------------------- immunizations -- */

static int
immunization_section(struct cdoc *d)
{
    const struct demo_vaccine *vac = &demo_vaccines[d->v->vaccine];
    struct base_buf *b = d->b;

    TRY(sec_begin(d, "2.1", "11369-6", "History of Immunization Narrative", "预防接种"));
    TRY(list_begin(d));
    TRY(list_item(d, "%s 0.5 mL 肌内注射", vac->zh));
    TRY(list_end(d));
    TRY(base_buf_append_cstr(b, "<entry><substanceAdministration classCode=\"SBADM\" "
                                "moodCode=\"EVN\" negationInd=\"false\">"));
    TRY(entry_tmpl(d, "52"));
    TRY(demo_cda_entry_id(d, NULL));
    TRY(base_buf_append_cstr(b, "<statusCode code=\"completed\"/>"));
    TRY(demo_cda_time(b, "effectiveTime", d->v->day, d->v->minute + 40));
    TRY(base_buf_append_cstr(b, "<doseQuantity value=\"0.5\" unit=\"mL\"/><consumable>"
                                "<manufacturedProduct classCode=\"MANU\">"));
    TRY(entry_tmpl(d, "54"));
    TRY(base_buf_append_cstr(b, "<manufacturedMaterial>"));
    TRY(demo_cda_code(b, "code", vac->cvx, OID_CVX, "CVX", vac->zh));
    return base_buf_append_cstr(b, "</manufacturedMaterial></manufacturedProduct></consumable>"
                                   "</substanceAdministration></entry></section></component>\n");
}

/* ------------------------------------------------------------- course -- */

static int
course_section(struct cdoc *d)
{
    const struct demo_visit *v = d->v;
    const char *first = v->n_dx > 0 ? demo_conditions[d->p->cond[v->dx[0]].ix].zh : "不适";
    char in[16];
    char out[16];

    snprintf(in, sizeof(in), "%08d", demo_ymd(v->day));
    snprintf(out, sizeof(out), "%08d", demo_ymd(v->day + v->los));
    TRY(sec_begin(d, NULL, "8648-8", "Hospital course Narrative", "住院经过"));
    TRY(base_buf_append_cstr(d->b, "<text><paragraph>"));
    TRY(base_buf_appendf(d->b,
                         "患者于%.4s年%.2s月%.2s日因“%s”入住%s，完善相关检查，给予对症治疗，"
                         "病情好转，于%.4s年%.2s月%.2s日出院，住院%d天。出院后门诊随诊，"
                         "按时服药，定期复查。",
                         in, in + 4, in + 6, first, demo_depts[v->dept].zh, out, out + 4, out + 6,
                         v->los));
    TRY(base_buf_append_cstr(d->b, "</paragraph></text>"));
    return sec_end(d);
}

/* ----------------------------------------------------- family history -- */

/* Relatives and their conditions come from the person's index, not from
 * the region's random stream: adding this section left every other
 * generated byte as it was. */
static uint32_t
person_mix(const struct demo_person *p, uint32_t salt)
{
    uint32_t h = (uint32_t)p->index * 2654435761u ^ salt;

    h ^= h >> 15;
    h *= 2246822519u;
    return h ^ (h >> 13);
}

struct relative {
    const char *role; /* v3 RoleCode */
    const char *zh;
    char sex;
};

static const struct relative relatives[] = {{"FTH", "父亲", 'M'}, {"MTH", "母亲", 'F'}};

/* Conditions that run in families, as indices into demo_conditions. */
static const int familial[] = {0, 1, 2, 4, 5};

static int
family_condition(const struct demo_person *p, int r)
{
    uint32_t h = person_mix(p, 0x51u + (uint32_t)r);

    /* about half the fathers and a third of the mothers have one */
    if (h % 6 >= (r == 0 ? 3u : 2u))
        return -1;
    return familial[(h >> 8) % BASE_ARRAY_LEN(familial)];
}

static int
family_age(const struct demo_person *p, int r)
{
    return 45 + (int)((person_mix(p, 0xa7u + (uint32_t)r) >> 4) % 25);
}

/* Family History Organizer (4.45) with one Family History Observation
 * (4.46) and its Age Observation (4.31). */
static int
family_entry(struct cdoc *d, int r, int cond)
{
    const struct demo_condition *c = &demo_conditions[cond];
    const struct relative *rel = &relatives[r];
    struct base_buf *b = d->b;
    char key[48];
    char obs_key[52];

    snprintf(key, sizeof(key), "%s-FH-%s", d->rec->mrn, rel->role);
    snprintf(obs_key, sizeof(obs_key), "%s-%s", key, c->icd10);
    TRY(base_buf_append_cstr(b, "<entry typeCode=\"DRIV\"><organizer classCode=\"CLUSTER\" "
                                "moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "45"));
    TRY(demo_cda_entry_id(d, key));
    TRY(base_buf_append_cstr(b, "<statusCode code=\"completed\"/><subject>"
                                "<relatedSubject classCode=\"PRS\">"));
    TRY(demo_cda_code(b, "code", rel->role, "2.16.840.1.113883.5.111", "RoleCode", rel->zh));
    TRY(base_buf_appendf(b,
                         "<subject><administrativeGenderCode code=\"%c\" "
                         "codeSystem=\"2.16.840.1.113883.5.1\"/></subject>",
                         rel->sex));
    TRY(base_buf_append_cstr(b, "</relatedSubject></subject><component>"
                                "<observation classCode=\"OBS\" moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "46"));
    TRY(demo_cda_entry_id(d, obs_key));
    TRY(demo_cda_code(b, "code", "64572001", OID_SNOMED, "SNOMED CT", "Disease"));
    TRY(base_buf_append_cstr(b, "<statusCode code=\"completed\"/><value xsi:type=\"CD\" code=\""));
    TRY(demo_xml(b, c->icd10));
    TRY(base_buf_append_cstr(b, "\" codeSystem=\"" OID_ICD10_CN "\" codeSystemName=\"ICD-10\" "
                                "displayName=\""));
    TRY(demo_xml(b, c->zh));
    TRY(base_buf_append_cstr(b, "\">"));
    TRY(demo_cda_code(b, "translation", c->snomed, OID_SNOMED, "SNOMED CT", c->en));
    TRY(base_buf_append_cstr(b, "</value><entryRelationship typeCode=\"SUBJ\" "
                                "inversionInd=\"true\"><observation classCode=\"OBS\" "
                                "moodCode=\"EVN\">"));
    TRY(entry_tmpl(d, "31"));
    TRY(demo_cda_code(b, "code", "445518008", OID_SNOMED, "SNOMED CT", "Age At Onset"));
    TRY(base_buf_appendf(b,
                         "<statusCode code=\"completed\"/><value xsi:type=\"PQ\" value=\"%d\" "
                         "unit=\"a\"/></observation></entryRelationship>",
                         family_age(d->p, r)));
    return base_buf_append_cstr(b, "</observation></component></organizer></entry>");
}

static int
family_section(struct cdoc *d)
{
    int cond[BASE_ARRAY_LEN(relatives)];
    int n = 0;

    TRY(sec_begin(d, "15", "10157-6", "History of family member diseases Narrative", "家族史"));
    TRY(list_begin(d));
    for (size_t r = 0; r < BASE_ARRAY_LEN(relatives); r++) {
        cond[r] = family_condition(d->p, (int)r);
        if (cond[r] < 0)
            continue;
        TRY(list_item(d, "%s：%s（发病 %d 岁）", relatives[r].zh, demo_conditions[cond[r]].zh,
                      family_age(d->p, (int)r)));
        n++;
    }
    if (n == 0)
        TRY(list_item(d, "否认家族遗传病史"));
    TRY(list_end(d));
    for (size_t r = 0; r < BASE_ARRAY_LEN(relatives); r++) {
        if (cond[r] >= 0)
            TRY(family_entry(d, (int)r, cond[r]));
    }
    return sec_end(d);
}

/* -------------------------------------------------------------- goals -- */

/* The treatment targets of the Chinese guidelines for the chronic
 * conditions the demo tracks (hypertension 2018, type 2 diabetes 2020,
 * dyslipidaemia 2016): one Goal Observation (4.121) each. */
struct target {
    int cond; /* index into demo_conditions */
    const char *loinc;
    const char *display;
    const char *high;
    const char *unit;
    const char *zh;
};

static const struct target targets[] = {
    {0, "8480-6", "Systolic blood pressure", "140", "mm[Hg]", "收缩压控制在 140 mmHg 以下"},
    {1, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "7.0", "%",
     "糖化血红蛋白控制在 7.0% 以下"},
    {2, "13457-7", "Cholesterol in LDL [Mass or Moles/volume] in Serum or Plasma by calculation",
     "3.4", "mmol/L", "低密度脂蛋白胆固醇控制在 3.4 mmol/L 以下"},
};

static const struct target *
target_of(const struct demo_person *p, int k, int day)
{
    if (demo_conditions[p->cond[k].ix].kind != DEMO_CHRONIC || p->cond[k].onset > day)
        return NULL;
    for (size_t i = 0; i < BASE_ARRAY_LEN(targets); i++) {
        if (targets[i].cond == p->cond[k].ix)
            return &targets[i];
    }
    return NULL;
}

static int
goal_entry(struct cdoc *d, const struct target *t, int onset)
{
    struct base_buf *b = d->b;
    char key[48];

    snprintf(key, sizeof(key), "%s-GOAL-%s", d->rec->mrn, t->loinc);
    TRY(base_buf_append_cstr(b, "<entry><observation classCode=\"OBS\" moodCode=\"GOL\">"));
    TRY(entry_tmpl(d, "121"));
    TRY(demo_cda_entry_id(d, key));
    TRY(demo_cda_code(b, "code", t->loinc, OID_LOINC, "LOINC", t->display));
    TRY(base_buf_append_cstr(b, "<text>"));
    TRY(demo_xml(b, t->zh));
    TRY(base_buf_append_cstr(b, "</text><statusCode code=\"active\"/>"));
    TRY(demo_cda_time(b, "effectiveTime", onset, 9 * 60));
    TRY(base_buf_appendf(b, "<value xsi:type=\"IVL_PQ\"><high value=\"%s\" unit=\"%s\"/></value>",
                         t->high, t->unit));
    return base_buf_append_cstr(b, "</observation></entry>");
}

static bool
has_goals(const struct cdoc *d)
{
    for (int k = 0; k < d->p->n_cond; k++) {
        if (target_of(d->p, k, d->v->day) != NULL)
            return true;
    }
    return false;
}

static int
goal_section(struct cdoc *d)
{
    const struct demo_person *p = d->p;

    TRY(sec_begin(d, "60", "61146-7", "Goals", "治疗目标"));
    TRY(list_begin(d));
    for (int k = 0; k < p->n_cond; k++) {
        const struct target *t = target_of(p, k, d->v->day);

        if (t != NULL)
            TRY(list_item(d, "%s", t->zh));
    }
    TRY(list_end(d));
    for (int k = 0; k < p->n_cond; k++) {
        const struct target *t = target_of(p, k, d->v->day);

        if (t != NULL)
            TRY(goal_entry(d, t, p->cond[k].onset));
    }
    return sec_end(d);
}

int
demo_cda_body(struct cdoc *d)
{
    const struct demo_visit *v = d->v;

    TRY(base_buf_append_cstr(d->b, "<component><structuredBody>\n"));
    if (d->discharge) {
        TRY(dx_section(d, "43", "46241-6", "Hospital admission diagnosis Narrative", "入院诊断",
                       "34"));
        TRY(dx_section(d, "24", "11535-2", "Hospital discharge Dx Narrative", "出院诊断", "33"));
        TRY(course_section(d));
    } else {
        TRY(dx_section(d, NULL, "29548-5", "Diagnosis Narrative", "门诊诊断", NULL));
    }
    TRY(problem_section(d));
    TRY(family_section(d));
    TRY(allergy_section(d));
    TRY(vitals_section(d));
    TRY(results_section(d));
    if (v->procedure >= 0)
        TRY(procedure_section(d));
    TRY(med_section(d));
    if (v->vaccine >= 0 && !d->discharge)
        TRY(immunization_section(d));
    if (has_goals(d))
        TRY(goal_section(d));
    return base_buf_append_cstr(d->b, "</structuredBody></component>\n");
}
