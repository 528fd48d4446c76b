/*
 * What happens to the demo's people: conditions with onsets, allergies,
 * visits at each member (with diagnoses, lab panels, prescriptions,
 * procedures, vaccinations, imaging) and the values of their lab tests.
 *
 * A lab value is a function of (person, test, day) — a personal baseline,
 * the effects of the person's conditions (a shift from onset and a slope
 * per year: HbA1c falls under treatment, creatinine climbs with chronic
 * kidney disease) and day-to-day noise — so two hospitals measuring the
 * same person see one continuous trend, and the live feed continues it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/demo/demo_int.h"

#define OOM(err) base_err_set((err), BASE_E_NOMEM, "exception", "demo", "out of memory")

enum {
    RNG_COND = 10,
    RNG_ALLERGY = 11,
    RNG_VISITS = 12,
    RNG_VISIT = 13,
    RNG_LAB_BASE = 14,
    RNG_LAB_NOISE = 15,
    RNG_VITAL = 16
};

int
demo_age(const struct demo_person *p, int day)
{
    int ymd = demo_ymd(day);

    return ymd / 10000 - p->birth / 10000 - (ymd % 10000 < p->birth % 10000);
}

/* ---------------------------------------------------------- conditions -- */

static bool
has_cond(const struct demo_person *p, int ix)
{
    for (int k = 0; k < p->n_cond; k++) {
        if (p->cond[k].ix == ix)
            return true;
    }
    return false;
}

static void
add_cond(struct demo_person *p, int ix, int onset)
{
    if (p->n_cond < DEMO_MAX_CONDS && !has_cond(p, ix)) {
        p->cond[p->n_cond].ix = ix;
        p->cond[p->n_cond].onset = onset;
        p->n_cond++;
    }
}

bool
demo_cond_active(const struct demo_person *p, int k, int day)
{
    const struct demo_condition *c = &demo_conditions[p->cond[k].ix];
    int since = day - p->cond[k].onset;

    return c->kind == DEMO_CHRONIC ? since >= 0 : since >= 0 && since <= 10;
}

static bool
eligible(const struct demo_region *r, const struct demo_person *p, const struct demo_condition *c)
{
    return demo_age(p, r->end_day) >= c->min_age && (c->sex == 0 || c->sex == p->sex);
}

static void
random_conditions(const struct demo_region *r, struct demo_person *p)
{
    struct demo_rng rng = demo_rng_for(r->cfg.seed, RNG_COND, p->synth, 0);
    int span = r->end_day - r->start_day;

    for (size_t i = 0; i < demo_n_conditions; i++) {
        const struct demo_condition *c = &demo_conditions[i];
        unsigned x = demo_rng_below(&rng, 1000);
        int onset;

        if (!eligible(r, p, c) || x >= (unsigned)c->permille)
            continue;
        /* chronic conditions often began before the data window */
        onset = c->kind == DEMO_CHRONIC
                    ? r->start_day - 3 * 365 + (int)demo_rng_below(&rng, (unsigned)span + 2 * 365)
                    : r->start_day + 30 + (int)demo_rng_below(&rng, (unsigned)span - 60);
        add_cond(p, (int)i, onset);
    }
}

/* The shared patient: type 2 diabetes (HbA1c trend), chronic kidney disease
 * stage 3 (creatinine trend), hypertension, hyperlipidemia, and a depressive
 * episode that their consent withholds. */
static void
star_conditions(const struct demo_region *r, struct demo_person *p)
{
    p->n_cond = 0;
    add_cond(p, DEMO_C_DIABETES, r->start_day - 2 * 365 + 40);
    add_cond(p, DEMO_C_HYPERTENSION, r->start_day - 5 * 365);
    add_cond(p, DEMO_C_CKD, r->start_day - 300);
    add_cond(p, 2, r->start_day - 4 * 365);
    add_cond(p, DEMO_C_DEPRESSION, r->start_day + 3 * 365 + 120);
    p->n_allergy = 1;
    p->allergy[0] = 0; /* penicillin */
}

static void
allergies(const struct demo_region *r, struct demo_person *p)
{
    struct demo_rng rng = demo_rng_for(r->cfg.seed, RNG_ALLERGY, p->synth, 0);
    unsigned x = demo_rng_below(&rng, 100);
    int n = x < 18 ? 1 : x < 23 ? 2 : 0;

    for (int k = 0; k < n; k++) {
        int a = (int)demo_rng_below(&rng, (unsigned)demo_n_allergens);

        if (k == 0 || a != p->allergy[0])
            p->allergy[p->n_allergy++] = a;
    }
}

/* A region's worth of sensitive diagnoses, whatever the dice said: the
 * consent and label features need something to act on. */
static void
ensure_sensitive(const struct demo_region *r)
{
    static const struct {
        int cond;
        int want;
    } need[] = {{DEMO_C_HIV, 2}, {DEMO_C_ALCOHOL, 3}, {DEMO_C_DEPRESSION, 4}};

    for (size_t k = 0; k < BASE_ARRAY_LEN(need); k++) {
        int have = 0;

        for (size_t i = 0; i < r->n_persons; i++)
            have += has_cond(&r->persons[i], need[k].cond);
        for (size_t i = 0; i < r->n_persons && have < need[k].want; i++) {
            /* every 7th person from the 11th: spread over the region */
            struct demo_person *p = &r->persons[(11 + i * 7) % r->n_persons];

            if (p->star || has_cond(p, need[k].cond) || p->n_rec < 1 ||
                !eligible(r, p, &demo_conditions[need[k].cond]))
                continue;
            add_cond(p, need[k].cond, r->start_day + 200 + (int)(i % 900));
            have++;
        }
    }
}

/* ------------------------------------------------------------ visits -- */

static int
primary_dx_dept(const struct demo_person *p, const struct demo_visit *v)
{
    return v->n_dx > 0 ? demo_conditions[p->cond[v->dx[0]].ix].dept : DEMO_DEPT_GENERAL;
}

/* Conditions addressed at a visit: acute ones on their days, then up to
 * three chronic ones active by then. */
static void
visit_dx(const struct demo_person *p, struct demo_visit *v, struct demo_rng *rng)
{
    int start = (int)demo_rng_below(rng, (unsigned)(p->n_cond > 0 ? p->n_cond : 1));

    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < p->n_cond && v->n_dx < 3; i++) {
            int k = (start + i) % p->n_cond;
            bool acute = demo_conditions[p->cond[k].ix].kind == DEMO_ACUTE;

            if (acute != (pass == 0) || !demo_cond_active(p, k, v->day))
                continue;
            if (!acute && demo_rng_below(rng, 100) >= 70 && v->n_dx > 0)
                continue;
            v->dx[v->n_dx++] = k;
        }
    }
}

static void
visit_class(const struct demo_person *p, struct demo_visit *v, struct demo_rng *rng, bool star)
{
    const struct demo_condition *c = v->n_dx > 0 ? &demo_conditions[p->cond[v->dx[0]].ix] : NULL;
    unsigned x = demo_rng_below(rng, 100);

    v->cls = DEMO_OUTPATIENT;
    if (c != NULL && c->kind == DEMO_ACUTE && (c->procedure >= 0 || x < 45))
        v->cls = x < 30 && c->procedure < 0 ? DEMO_EMERGENCY : DEMO_INPATIENT;
    else if (!star && x < 8 && v->n_dx > 0)
        v->cls = DEMO_INPATIENT;
    if (v->cls == DEMO_INPATIENT)
        v->los = 4 + (int)demo_rng_below(rng, 8);
    v->dept = v->cls == DEMO_EMERGENCY ? DEMO_DEPT_EMERGENCY : primary_dx_dept(p, v);
    v->minute = v->cls == DEMO_OUTPATIENT ? 8 * 60 + (int)demo_rng_below(rng, 8 * 60)
                                          : 7 * 60 + (int)demo_rng_below(rng, 14 * 60);
}

static void
add_drug(struct demo_visit *v, int d)
{
    for (int i = 0; i < v->n_drugs; i++) {
        if (v->drugs[i] == d)
            return;
    }
    if (v->n_drugs < 4)
        v->drugs[v->n_drugs++] = d;
}

static void
visit_orders(const struct demo_person *p, struct demo_visit *v, struct demo_rng *rng)
{
    if (v->cls != DEMO_OUTPATIENT || demo_rng_below(rng, 100) < 45)
        v->panels |= 1u << DEMO_P_ROUTINE_CBC;
    if (v->cls == DEMO_INPATIENT)
        v->panels |= 0x0Fu; /* CBC, renal, electrolytes, liver on admission */
    for (int i = 0; i < v->n_dx; i++) {
        const struct demo_condition *c = &demo_conditions[p->cond[v->dx[i]].ix];

        for (int k = 0; k < 3 && c->panels[k] >= 0; k++)
            v->panels |= 1u << c->panels[k];
        for (int k = 0; k < 3 && c->drugs[k] >= 0; k++)
            add_drug(v, c->drugs[k]);
        if (c->procedure >= 0 && v->procedure < 0 &&
            demo_rng_below(rng, 100) < (c->kind == DEMO_ACUTE ? 85u : 12u))
            v->procedure = c->procedure;
    }
    if (v->cls == DEMO_OUTPATIENT && demo_rng_below(rng, 100) < 9)
        v->vaccine = (int)demo_rng_below(rng, (unsigned)demo_n_vaccines);
}

unsigned
demo_panels_for(const struct demo_person *p, int day)
{
    unsigned panels = 1u << DEMO_P_ROUTINE_CBC;

    for (int k = 0; k < p->n_cond; k++) {
        const struct demo_condition *c = &demo_conditions[p->cond[k].ix];

        if (!demo_cond_active(p, k, day))
            continue;
        for (int i = 0; i < 3 && c->panels[i] >= 0; i++)
            panels |= 1u << c->panels[i];
    }
    return panels;
}

/* Imaging at img-c: what the person's conditions call for, else a routine
 * chest film or abdominal ultrasound (health check-ups). */
static int
visit_imaging(const struct demo_person *p, int day, struct demo_rng *rng)
{
    int options[8];
    int n = 0;

    for (int k = 0; k < p->n_cond; k++) {
        const struct demo_condition *c = &demo_conditions[p->cond[k].ix];

        if (day < p->cond[k].onset)
            continue;
        for (int i = 0; i < 2 && c->imaging[i] >= 0 && n < 8; i++)
            options[n++] = c->imaging[i];
    }
    if (n == 0 || demo_rng_below(rng, 100) < 20)
        return demo_rng_below(rng, 2) == 0 ? DEMO_I_CR_CHEST : 8;
    return options[demo_rng_below(rng, (unsigned)n)];
}

static int
visit_count(const struct demo_rec *rec, struct demo_rng *rng)
{
    const struct demo_person *p = rec->person;
    int chronic = 0;

    for (int k = 0; k < p->n_cond; k++)
        chronic += demo_conditions[p->cond[k].ix].kind == DEMO_CHRONIC;
    if (p->star)
        return rec->member == DEMO_HOSP_A ? 16 : rec->member == DEMO_HOSP_B ? 7 : 2;
    if (rec->member == DEMO_IMG_C)
        return 1 + (demo_rng_below(rng, 4) == 0);
    if (rec->member == DEMO_HOSP_B)
        return 1 + (int)demo_rng_below(rng, 2) + (chronic > 0);
    return 1 + (int)demo_rng_below(rng, 3) + (chronic > 0 ? 1 + (int)demo_rng_below(rng, 2) : 0);
}

static int
cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a;
    int y = *(const int *)b;

    return x < y ? -1 : x > y;
}

/* Visit days: spread over the window; acute illnesses are seen on their
 * day by the first hospital that knows the person. */
static void
visit_days(const struct demo_region *r, const struct demo_rec *rec, int *days, int n,
           struct demo_rng *rng)
{
    const struct demo_person *p = rec->person;
    int span = r->end_day - r->start_day - 10;
    bool first_hospital =
        rec->member != DEMO_IMG_C && (rec->member == DEMO_HOSP_A || p->rec[DEMO_HOSP_A] == NULL);
    int k = 0;

    for (int i = 0; i < n; i++) {
        days[i] = p->star ? r->start_day + 20 + i * (span / n) + (rec->member == DEMO_HOSP_B) * 45 +
                                (int)demo_rng_below(rng, 20)
                          : r->start_day + (int)demo_rng_below(rng, (unsigned)span);
    }
    for (int c = 0; first_hospital && c < p->n_cond && k < n; c++) {
        if (demo_conditions[p->cond[c].ix].kind == DEMO_ACUTE)
            days[k++] = p->cond[c].onset;
    }
    qsort(days, (size_t)n, sizeof(*days), cmp_int);
}

static void
star_visit(const struct demo_rec *rec, struct demo_visit *v, size_t i, size_t n)
{
    /* one admission at each hospital (hosp-b: the discharge summary) */
    if (rec->member != DEMO_IMG_C && i == n / 2) {
        v->cls = DEMO_INPATIENT;
        v->los = 8;
        v->panels |= 0x0Fu;
    }
    if (rec->member != DEMO_IMG_C)
        v->panels |= (1u << DEMO_P_HBA1C) | (1u << DEMO_P_RENAL) | (1u << DEMO_P_GLUCOSE);
    v->imaging = rec->member == DEMO_IMG_C ? (i == 0 ? DEMO_I_CT_CHEST : DEMO_I_US_KIDNEY) : -1;
    v->dept = rec->member == DEMO_IMG_C ? DEMO_DEPT_RADIOLOGY : DEMO_DEPT_ENDO;
}

static void
visit_number(const struct demo_rec *rec, size_t serial, struct demo_visit *v)
{
    static const char *const prefix[DEMO_N_MEMBERS] = {"V", "ZY", "ACC"};
    const char *pre = prefix[rec->member];

    if (rec->member == DEMO_HOSP_B && v->cls != DEMO_INPATIENT)
        pre = "MZ"; /* 门诊 (outpatient) vs 住院 (inpatient) numbers */
    snprintf(v->number, sizeof(v->number), "%s%09zu", pre, 210000000 + serial * 3);
}

static int
rec_visits(const struct demo_region *r, struct demo_rec *rec, size_t *serial, struct base_err *err)
{
    struct demo_person *p = rec->person;
    struct demo_rng rng = demo_rng_for(r->cfg.seed, RNG_VISITS, p->synth, rec->member);
    int n = visit_count(rec, &rng);
    int days[32];

    rec->visits = BASE_NEW_N(r->a, struct demo_visit, (size_t)n);
    if (rec->visits == NULL)
        return OOM(err);
    visit_days(r, rec, days, n, &rng);
    for (int i = 0; i < n; i++) {
        struct demo_visit *v = &rec->visits[i];
        struct demo_rng vr =
            demo_rng_for(r->cfg.seed, RNG_VISIT, p->synth * 4 + rec->member, (uint64_t)i);

        v->day = days[i];
        v->procedure = v->vaccine = v->imaging = -1;
        visit_dx(p, v, &vr);
        visit_class(p, v, &vr, p->star);
        v->doctor = (int)demo_rng_below(&vr, DEMO_STAFF_PER_MEMBER);
        if (rec->member == DEMO_IMG_C) {
            v->cls = DEMO_OUTPATIENT;
            v->los = 0;
            v->dept = DEMO_DEPT_RADIOLOGY;
            v->imaging = visit_imaging(p, v->day, &vr);
            v->referrer = (int)demo_rng_below(&vr, 2);
        } else {
            visit_orders(p, v, &vr);
        }
        if (p->star)
            star_visit(rec, v, (size_t)i, (size_t)n);
        visit_number(rec, (*serial)++, v);
    }
    rec->n_visits = (size_t)n;
    return BASE_OK;
}

/* Put condition k into a visit of a hospital that knows the person (the
 * last one, or the last after onset), with its drugs: sensitive diagnoses
 * must reach the data for the labels and consents to have work. */
static void
ensure_in_visit(struct demo_person *p, int k, enum demo_member prefer)
{
    struct demo_rec *rec = p->rec[prefer] != NULL        ? p->rec[prefer]
                           : p->rec[DEMO_HOSP_A] != NULL ? p->rec[DEMO_HOSP_A]
                                                         : p->rec[DEMO_HOSP_B];
    const struct demo_condition *c = &demo_conditions[p->cond[k].ix];
    struct demo_visit *v;

    if (rec == NULL || rec->member == DEMO_IMG_C || rec->n_visits == 0)
        return;
    for (size_t i = 0; i < rec->n_visits; i++) {
        for (int d = 0; d < rec->visits[i].n_dx; d++) {
            if (rec->visits[i].dx[d] == k)
                return;
        }
    }
    v = &rec->visits[rec->n_visits - 1];
    if (p->cond[k].onset > v->day)
        p->cond[k].onset = v->day - 30;
    if (v->n_dx == 3)
        v->n_dx = 2;
    v->dx[v->n_dx++] = k;
    for (int i = 0; i < 3 && c->drugs[i] >= 0; i++)
        add_drug(v, c->drugs[i]);
}

static void
ensure_sensitive_visits(struct demo_person *p)
{
    for (int k = 0; k < p->n_cond; k++) {
        int ix = p->cond[k].ix;

        if (ix == DEMO_C_DEPRESSION || ix == DEMO_C_ALCOHOL || ix == DEMO_C_HIV)
            ensure_in_visit(p, k, p->star ? DEMO_HOSP_B : DEMO_HOSP_A);
    }
}

int
demo_clinical_build(struct demo_region *r, struct base_err *err)
{
    size_t serial[DEMO_N_MEMBERS] = {0};

    for (size_t i = 0; i < r->n_persons; i++) {
        struct demo_person *p = &r->persons[i];

        if (p->star) {
            star_conditions(r, p);
            continue;
        }
        random_conditions(r, p);
        allergies(r, p);
        if (p->consent == DEMO_CONSENT_DENY_PSY)
            add_cond(p, DEMO_C_DEPRESSION, r->start_day + 500);
    }
    ensure_sensitive(r);
    for (size_t i = 0; i < r->n_persons; i++) {
        for (int m = 0; m < DEMO_N_MEMBERS; m++) {
            if (r->persons[i].rec[m] != NULL)
                TRY(rec_visits(r, r->persons[i].rec[m], &serial[m], err));
        }
        ensure_sensitive_visits(&r->persons[i]);
    }
    return BASE_OK;
}

/* ------------------------------------------------------------- values -- */

bool
demo_lab_lo(const struct demo_lab *l, char sex, double *v)
{
    *v = sex == 'F' ? l->lo_f : l->lo_m;
    return *v >= 0;
}

bool
demo_lab_hi(const struct demo_lab *l, char sex, double *v)
{
    *v = sex == 'F' ? l->hi_f : l->hi_m;
    return *v >= 0;
}

void
demo_lab_range(const struct demo_lab *l, char sex, char out[32])
{
    double lo;
    double hi;
    bool has_lo = demo_lab_lo(l, sex, &lo);
    bool has_hi = demo_lab_hi(l, sex, &hi);
    int d = l->decimals;

    /* HL7 v2.5 OBX-7: "lower-upper", ">lower" or "<upper" */
    if (has_lo && has_hi)
        snprintf(out, 32, "%.*f-%.*f", d, lo, d, hi);
    else if (has_lo)
        snprintf(out, 32, ">%.*f", d, lo);
    else
        snprintf(out, 32, "<%.*f", d, hi);
}

/* CKD-EPI 2009 creatinine equation (Levey et al., Ann Intern Med 2009),
 * without the race coefficient, as Chinese labs report it. */
static double
ckd_epi(double creat_umol, int age, char sex)
{
    double scr = creat_umol / 88.4;
    double k = sex == 'F' ? 0.7 : 0.9;
    double alpha = sex == 'F' ? -0.329 : -0.411;
    double ratio = scr / k;
    double e = 141.0 * pow(ratio < 1 ? ratio : 1, alpha) * pow(ratio > 1 ? ratio : 1, -1.209) *
               pow(0.993, age);

    return sex == 'F' ? e * 1.018 : e;
}

static double
raw_value(const struct demo_region *r, const struct demo_person *p, int lab, int day)
{
    const struct demo_lab *l = &demo_labs[lab];
    struct demo_rng base = demo_rng_for(r->cfg.seed, RNG_LAB_BASE, p->synth, (uint64_t)lab);
    struct demo_rng noise =
        demo_rng_for(r->cfg.seed, RNG_LAB_NOISE, p->synth * 64 + (uint64_t)lab, (uint64_t)day);
    double v = (p->sex == 'F' ? l->mean_f : l->mean_m) + l->sd * 0.8 * demo_rng_gauss(&base);

    for (int k = 0; k < p->n_cond; k++) {
        const struct demo_condition *c = &demo_conditions[p->cond[k].ix];
        double years = (day - p->cond[k].onset) / 365.25;

        if (!demo_cond_active(p, k, day))
            continue;
        for (int i = 0; i < 5 && c->fx[i].lab >= 0; i++) {
            double effect = c->fx[i].shift + c->fx[i].slope * years;

            if (c->fx[i].lab != lab)
                continue;
            /* treatment improves a value but does not cure the disease */
            if ((c->fx[i].shift > 0 && effect < c->fx[i].shift * 0.3) ||
                (c->fx[i].shift < 0 && effect > c->fx[i].shift * 0.3))
                effect = c->fx[i].shift * 0.3;
            v += effect;
        }
    }
    v += l->sd * 0.35 * demo_rng_gauss(&noise);
    return v < l->min ? l->min : v > l->max ? l->max : v;
}

double
demo_lab_value(const struct demo_region *r, const struct demo_person *p, int lab, int day,
               char out[24], const char **flag)
{
    const struct demo_lab *l = &demo_labs[lab];
    double v = lab == DEMO_L_EGFR
                   ? ckd_epi(raw_value(r, p, DEMO_L_CREATININE, day), demo_age(p, day), p->sex)
                   : raw_value(r, p, lab, day);
    double lo;
    double hi;

    if (lab == DEMO_L_EGFR && v > l->max)
        v = l->max;
    snprintf(out, 24, "%.*f", l->decimals, v);
    v = strtod(out, NULL); /* flag what is printed */
    *flag = "N";
    if (l->crit_lo > 0 && v < l->crit_lo)
        *flag = "LL";
    else if (l->crit_hi > 0 && v > l->crit_hi)
        *flag = "HH";
    else if (demo_lab_lo(l, p->sex, &lo) && v < lo)
        *flag = "L";
    else if (demo_lab_hi(l, p->sex, &hi) && v > hi)
        *flag = "H";
    return v;
}

void
demo_vital_value(const struct demo_region *r, const struct demo_person *p, int vital, int day,
                 char out[24])
{
    struct demo_rng base = demo_rng_for(r->cfg.seed, RNG_VITAL, p->synth, (uint64_t)vital);
    struct demo_rng noise =
        demo_rng_for(r->cfg.seed, RNG_VITAL + 100, p->synth * 8 + (uint64_t)vital, (uint64_t)day);
    bool male = p->sex == 'M';
    int age = demo_age(p, day);
    double v;

    switch (vital) {
    case 0: /* systolic */
        v = 112 + age * 0.35 + (has_cond(p, DEMO_C_HYPERTENSION) ? 22 : 0) +
            8 * demo_rng_gauss(&noise);
        break;
    case 1: /* diastolic */
        v = 70 + age * 0.1 + (has_cond(p, DEMO_C_HYPERTENSION) ? 12 : 0) +
            5 * demo_rng_gauss(&noise);
        break;
    case 2:
        v = 76 + 6 * demo_rng_gauss(&base) + 5 * demo_rng_gauss(&noise);
        break;
    case 3:
        v = 36.6 + 0.2 * demo_rng_gauss(&noise);
        break;
    case 4:
        v = (male ? 70 : 58) + 8 * demo_rng_gauss(&base) + 0.8 * demo_rng_gauss(&noise);
        break;
    default:
        v = (male ? 170 : 158) + 5 * demo_rng_gauss(&base);
        break;
    }
    snprintf(out, 24, "%.*f", demo_vitals[vital].decimals, v);
}
