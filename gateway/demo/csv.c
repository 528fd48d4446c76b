/*
 * hosp-b's CSV export in the Synthea 3 layout (the columns the shipped
 * mappings in adapters/csv/mappings/synthea/ read): patients,
 * organizations, providers, encounters, conditions, observations,
 * medications, allergies, procedures and immunizations.  Dates are
 * ISO 8601 in UTC as Synthea writes them; codes are those the mappings
 * expect (SNOMED CT for encounters, procedures and allergies, ICD-10 for
 * conditions with SYSTEM=ICD10, LOINC, RxNorm, CVX); descriptions are
 * Chinese.  The export has no column for the resident identity number:
 * the patient index links these records by name, birth date, sex and
 * address.
 */
#include <stdio.h>
#include <string.h>

#include "gateway/demo/demo_int.h"

enum csv_file {
    F_PATIENTS,
    F_ORGANIZATIONS,
    F_PROVIDERS,
    F_ENCOUNTERS,
    F_CONDITIONS,
    F_OBSERVATIONS,
    F_MEDICATIONS,
    F_ALLERGIES,
    F_PROCEDURES,
    F_IMMUNIZATIONS,
    F_COUNT
};

static const struct {
    const char *name;
    const char *header;
} files[F_COUNT] = {
    {"patients", "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,MIDDLE,LAST,SUFFIX,"
                 "MAIDEN,MARITAL,RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,"
                 "ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE,INCOME"},
    {"organizations", "Id,NAME,ADDRESS,CITY,STATE,ZIP,LAT,LON,PHONE,REVENUE,UTILIZATION"},
    {"providers", "Id,ORGANIZATION,NAME,GENDER,SPECIALITY,ADDRESS,CITY,STATE,ZIP,LAT,LON,"
                  "ENCOUNTERS,PROCEDURES"},
    {"encounters", "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,"
                   "DESCRIPTION,BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,"
                   "REASONDESCRIPTION"},
    {"conditions", "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION"},
    {"observations", "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE"},
    {"medications", "START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,"
                    "PAYER_COVERAGE,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION"},
    {"allergies", "START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY,REACTION1,"
                  "DESCRIPTION1,SEVERITY1,REACTION2,DESCRIPTION2,SEVERITY2"},
    {"procedures", "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION,BASE_COST,REASONCODE,"
                   "REASONDESCRIPTION"},
    {"immunizations", "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST"},
};

struct csvw {
    struct base_buf b[F_COUNT];
    size_t rows;
};

/* One row: `n` fields, each escaped per RFC 4180, CRLF ended (as RFC 4180
 * writes records; the reader takes either). */
static int
row(struct csvw *w, enum csv_file f, size_t n, const char *const *field)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            TRY(base_buf_putc(&w->b[f], ','));
        TRY(demo_csv_field(&w->b[f], field[i] != NULL ? field[i] : ""));
    }
    w->rows++;
    return base_buf_append_cstr(&w->b[f], "\r\n");
}

#define ROW(w, f, ...)                                                                             \
    row((w), (f), BASE_ARRAY_LEN(((const char *const[]){__VA_ARGS__})),                            \
        (const char *const[]){__VA_ARGS__})

/* Local (UTC+8) day + minute as Synthea's UTC "YYYY-MM-DDTHH:MM:SSZ". */
static void
iso_utc(int day, int minute, char out[40])
{
    int t = minute - 8 * 60;
    int d = day;

    while (t < 0) {
        t += 1440;
        d--;
    }
    d += t / 1440;
    t %= 1440;
    int ymd = demo_ymd(d);
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:00Z", ymd / 10000, ymd / 100 % 100, ymd % 100,
             t / 60, t % 60);
}

static void
iso_date(int ymd, char out[16])
{
    snprintf(out, 16, "%04d-%02d-%02d", ymd / 10000, ymd / 100 % 100, ymd % 100);
}

/* -------------------------------------------------------------- tables -- */

static int
patient_row(struct csvw *w, const struct demo_rec *rec)
{
    char birth[16];
    const struct demo_addr *ad = &rec->addr;
    const char *sex = rec->sex == 'M' ? "M" : rec->sex == 'F' ? "F" : "";

    iso_date(rec->birth, birth);
    return ROW(w, F_PATIENTS, rec->mrn, birth, "", "", "", "", "", rec->name.given, "",
               rec->name.family, "", "", "", "asian", "nonhispanic", sex, "",
               ad->text[0] != '\0' ? ad->text : ad->line, ad->city, ad->province, ad->district, "",
               "", "", "", "", "", "");
}

static int
static_rows(const struct demo_region *r, struct csvw *w)
{
    const struct demo_member_info *m = &demo_members[DEMO_HOSP_B];

    TRY(ROW(w, F_ORGANIZATIONS, m->id, m->name, "黄河北大街10号", m->city, "辽宁省", "110032", "",
            "", m->phone, "", ""));
    for (int i = 0; i < DEMO_STAFF_PER_MEMBER; i++) {
        const struct demo_staff *s = &r->staff[DEMO_HOSP_B][i];
        char name[64];

        snprintf(name, sizeof(name), "%s%s", s->family, s->given);
        TRY(ROW(w, F_PROVIDERS, s->id, m->id, name, s->sex == 'M' ? "M" : "F",
                demo_depts[s->dept].zh, "黄河北大街10号", m->city, "辽宁省", "110032", "", "", "",
                ""));
    }
    return BASE_OK;
}

static int
encounter_row(const struct demo_region *r, struct csvw *w, const struct demo_rec *rec,
              const struct demo_visit *v)
{
    const struct demo_condition *c =
        v->n_dx > 0 ? &demo_conditions[rec->person->cond[v->dx[0]].ix] : NULL;
    const char *cls = v->cls == DEMO_INPATIENT   ? "inpatient"
                      : v->cls == DEMO_EMERGENCY ? "emergency"
                                                 : "ambulatory";
    const char *code = v->cls == DEMO_INPATIENT   ? "32485007"
                       : v->cls == DEMO_EMERGENCY ? "50849002"
                       : c == NULL                ? "185349003"
                       : c->kind == DEMO_ACUTE    ? "185345009"
                                                  : "390906007";
    const char *desc = v->cls == DEMO_INPATIENT   ? "住院"
                       : v->cls == DEMO_EMERGENCY ? "急诊"
                       : c == NULL                ? "健康查体"
                                                  : "门诊就诊";
    char start[40];
    char stop[40];

    iso_utc(v->day, v->minute, start);
    iso_utc(v->day + v->los, v->los > 0 ? 10 * 60 : v->minute + 25, stop);
    return ROW(w, F_ENCOUNTERS, v->number, start, stop, rec->mrn, demo_members[DEMO_HOSP_B].id,
               r->staff[DEMO_HOSP_B][v->doctor].id, "", cls, code, desc, "", "", "",
               c != NULL ? c->snomed : "", c != NULL ? c->zh : "");
}

static int
condition_rows(struct csvw *w, const struct demo_rec *rec, const struct demo_visit *v,
               unsigned *seen)
{
    for (int i = 0; i < v->n_dx; i++) {
        const struct demo_cond *pc = &rec->person->cond[v->dx[i]];
        const struct demo_condition *c = &demo_conditions[pc->ix];
        char start[16];
        char stop[16];

        if (*seen & (1u << v->dx[i]))
            continue; /* one row per condition, at the visit that found it */
        *seen |= 1u << v->dx[i];
        iso_date(demo_ymd(c->kind == DEMO_ACUTE ? v->day : pc->onset), start);
        stop[0] = '\0';
        if (c->kind == DEMO_ACUTE)
            iso_date(demo_ymd(v->day + 14), stop);
        TRY(ROW(w, F_CONDITIONS, start, stop, rec->mrn, v->number, "ICD10", c->icd10, c->zh));
    }
    return BASE_OK;
}

static int
observation_rows(const struct demo_region *r, struct csvw *w, const struct demo_rec *rec,
                 const struct demo_visit *v)
{
    char date[40];
    int day = v->cls == DEMO_INPATIENT ? v->day + 1 : v->day;

    iso_utc(v->day, v->minute + 10, date);
    for (size_t i = 0; i < demo_n_vitals; i++) {
        char value[24];

        demo_vital_value(r, rec->person, (int)i, v->day, value);
        TRY(ROW(w, F_OBSERVATIONS, date, rec->mrn, v->number, "vital-signs", demo_vitals[i].loinc,
                demo_vitals[i].zh, value, demo_vitals[i].unit, "numeric"));
    }
    iso_utc(day, 7 * 60 + 30, date);
    for (size_t k = 0; k < demo_n_panels; k++) {
        const struct demo_panel *pn = &demo_panels[k];

        for (int i = 0; (v->panels & (1u << k)) && i < 6 && pn->labs[i] >= 0; i++) {
            const struct demo_lab *l = &demo_labs[pn->labs[i]];
            char value[24];
            const char *flag;

            (void)demo_lab_value(r, rec->person, pn->labs[i], day, value, &flag);
            TRY(ROW(w, F_OBSERVATIONS, date, rec->mrn, v->number, "laboratory", l->loinc, l->zh,
                    value, l->unit, "numeric"));
        }
    }
    return BASE_OK;
}

static int
medication_rows(struct csvw *w, const struct demo_rec *rec, size_t vi)
{
    const struct demo_visit *v = &rec->visits[vi];
    const struct demo_condition *c =
        v->n_dx > 0 ? &demo_conditions[rec->person->cond[v->dx[0]].ix] : NULL;

    for (int i = 0; i < v->n_drugs; i++) {
        const struct demo_drug *d = &demo_drugs[v->drugs[i]];
        char start[40];
        char stop[40];
        int day = v->day + v->los;

        iso_utc(day, 10 * 60, start);
        iso_utc(day + d->days, 10 * 60, stop);
        /* the last prescription of a long-term drug is still running */
        if (vi + 1 == rec->n_visits && d->days >= 30)
            stop[0] = '\0';
        TRY(ROW(w, F_MEDICATIONS, start, stop, rec->mrn, "", v->number, d->rxnorm, d->zh, "", "",
                "1", "", c != NULL ? c->snomed : "", c != NULL ? c->zh : ""));
    }
    return BASE_OK;
}

static int
allergy_rows(struct csvw *w, const struct demo_rec *rec)
{
    const struct demo_visit *v = &rec->visits[0];
    char start[16];

    iso_date(demo_ymd(v->day), start);
    for (int i = 0; i < rec->person->n_allergy; i++) {
        const struct demo_allergen *al = &demo_allergens[rec->person->allergy[i]];
        const char *cat = al->type == 'D' ? "medication" : al->type == 'F' ? "food" : "environment";
        char sev[16];

        snprintf(sev, sizeof(sev), "%s", al->severity);
        for (char *p = sev; *p != '\0'; p++)
            *p = (char)(*p - 'a' + 'A'); /* Synthea writes MILD / MODERATE / SEVERE */
        TRY(ROW(w, F_ALLERGIES, start, "", rec->mrn, v->number, al->snomed, "SNOMED-CT", al->zh,
                "allergy", cat, al->reaction_snomed, al->reaction_zh, sev, "", "", ""));
    }
    return BASE_OK;
}

static int
procedure_row(struct csvw *w, const struct demo_rec *rec, const struct demo_visit *v)
{
    const struct demo_procedure *pr = &demo_procedures[v->procedure];
    const struct demo_condition *c =
        v->n_dx > 0 ? &demo_conditions[rec->person->cond[v->dx[0]].ix] : NULL;
    int day = v->cls == DEMO_INPATIENT ? v->day + 2 : v->day;
    char start[40];
    char stop[40];

    iso_utc(day, 9 * 60 + 30, start);
    iso_utc(day, 10 * 60 + 30, stop);
    return ROW(w, F_PROCEDURES, start, stop, rec->mrn, v->number, "SNOMED-CT", pr->snomed, pr->zh,
               "", c != NULL ? c->snomed : "", c != NULL ? c->zh : "");
}

static int
immunization_row(struct csvw *w, const struct demo_rec *rec, const struct demo_visit *v)
{
    const struct demo_vaccine *vac = &demo_vaccines[v->vaccine];
    char date[40];

    iso_utc(v->day, v->minute + 40, date);
    return ROW(w, F_IMMUNIZATIONS, date, rec->mrn, v->number, vac->cvx, vac->zh, "");
}

static int
record_rows(const struct demo_region *r, struct csvw *w, const struct demo_rec *rec)
{
    unsigned seen = 0;

    TRY(patient_row(w, rec));
    TRY(allergy_rows(w, rec));
    for (size_t i = 0; i < rec->n_visits; i++) {
        const struct demo_visit *v = &rec->visits[i];

        TRY(encounter_row(r, w, rec, v));
        TRY(condition_rows(w, rec, v, &seen));
        TRY(observation_rows(r, w, rec, v));
        TRY(medication_rows(w, rec, i));
        if (v->procedure >= 0)
            TRY(procedure_row(w, rec, v));
        if (v->vaccine >= 0)
            TRY(immunization_row(w, rec, v));
    }
    return BASE_OK;
}

static int
build(const struct demo_region *r, struct csvw *w)
{
    for (int f = 0; f < F_COUNT; f++) {
        TRY(base_buf_append_cstr(&w->b[f], files[f].header));
        TRY(base_buf_append_cstr(&w->b[f], "\r\n"));
    }
    TRY(static_rows(r, w));
    for (size_t i = 0; i < r->n_persons; i++) {
        const struct demo_rec *rec = r->persons[i].rec[DEMO_HOSP_B];

        if (rec != NULL && (rec->sources & DEMO_SRC_CSV))
            TRY(record_rows(r, w, rec));
    }
    return BASE_OK;
}

int
demo_csv_write_all(const struct demo_region *r, struct demo_out *o, size_t *n_rows,
                   struct base_err *err)
{
    struct csvw w;
    int rc;

    memset(&w, 0, sizeof(w));
    for (int f = 0; f < F_COUNT; f++)
        base_buf_init(&w.b[f], 256u << 20);
    rc = build(r, &w) == BASE_OK
             ? BASE_OK
             : base_err_set(err, BASE_E_LIMIT, "too-long", "csv", "export too large");
    for (int f = 0; f < F_COUNT && rc == BASE_OK; f++) {
        char name[64];

        snprintf(name, sizeof(name), "hosp-b/csv/%s.csv", files[f].name);
        rc = demo_write(o, name, w.b[f].data, w.b[f].len, err);
    }
    for (int f = 0; f < F_COUNT; f++)
        base_buf_fini(&w.b[f]);
    *n_rows = w.rows;
    return rc;
}
