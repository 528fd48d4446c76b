/*
 * The demo region's people: drawn from the MPI's labelled synthetic
 * population (gw_mpi_synth.h) — the same names, resident identity numbers
 * and registration errors the patient index is measured on — then thinned
 * so that most people are known to one member only, as in a real region,
 * while more than sixty are seen at two or three.  Each kept synthetic
 * record becomes the person's record at one member, with that member's
 * own record number.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/demo/demo_int.h"
#include "gateway/mpi/gw_mpi.h"
#include "gateway/mpi/gw_mpi_synth.h"

#define OOM(err) base_err_set((err), BASE_E_NOMEM, "exception", "demo", "out of memory")

/* Registration errors that would hide the shared patient from a quick look. */
#define STAR_AVOID                                                                                 \
    (GW_MPI_SYNTH_HOMOPHONE | GW_MPI_SYNTH_CHAR_TYPO | GW_MPI_SYNTH_TRADITIONAL |                  \
     GW_MPI_SYNTH_ROMANIZED | GW_MPI_SYNTH_DATE_SWAP | GW_MPI_SYNTH_DATE_TYPO |                    \
     GW_MPI_SYNTH_NO_DATE | GW_MPI_SYNTH_NO_ID | GW_MPI_SYNTH_BAD_ID | GW_MPI_SYNTH_TWIN |         \
     GW_MPI_SYNTH_NAMESAKE)

enum { RNG_KEEP = 1, RNG_SOURCE = 2, RNG_CONSENT = 3, RNG_STAFF = 4 };

/* ----------------------------------------------------------- names -- */

static bool
is_ascii(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s >= 0x80)
            return false;
    }
    return true;
}

/* Two-character surnames (复姓) a one-string Han name may start with. */
static size_t
surname_len(const char *s)
{
    static const char *const compound[] = {"欧阳", "司马", "诸葛", "上官", "司徒", "东方",
                                           "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯"};
    size_t first = 1;

    for (size_t i = 0; i < BASE_ARRAY_LEN(compound); i++) {
        if (strncmp(s, compound[i], strlen(compound[i])) == 0)
            return strlen(compound[i]);
    }
    while (s[first] != '\0' && ((unsigned char)s[first] & 0xC0) == 0x80)
        first++;
    return first;
}

static const char *
upper_dup(struct base_arena *a, const char *s)
{
    char *u = base_arena_strdup(a, s);

    for (char *p = u; p != NULL && *p != '\0'; p++) {
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    }
    return u;
}

/* Pinyin of a Han name part, upper case and without spaces ("SANFENG"). */
static const char *
pinyin(struct base_arena *a, const char *han)
{
    const char *h = NULL;
    const char *py = NULL;
    const char *syl = NULL;

    if (han[0] == '\0' || gw_mpi_norm_name(a, han, strlen(han), &h, &py, &syl, NULL) != BASE_OK ||
        py == NULL)
        return "";
    return upper_dup(a, py);
}

static int
split_text(struct base_arena *a, const char *text, struct demo_name *n)
{
    const char *sp = strchr(text, ' ');
    size_t fl = sp != NULL ? (size_t)(sp - text) : n->latin ? strlen(text) : surname_len(text);

    n->family = base_arena_strndup(a, text, fl);
    n->given = base_arena_strdup(a, sp != NULL ? sp + 1 : text + fl);
    return n->family != NULL && n->given != NULL ? BASE_OK : BASE_E_NOMEM;
}

static int
read_name(struct base_arena *a, const json_t *pt, struct demo_name *n)
{
    const json_t *nm = json_array_get(json_object_get(pt, "name"), 0);
    struct base_str family = fhir_json_str(json_object_get(nm, "family"));
    struct base_str given = fhir_json_str(json_array_get(json_object_get(nm, "given"), 0));
    struct base_str text = fhir_json_str(json_object_get(nm, "text"));

    memset(n, 0, sizeof(*n));
    if (family.len > 0) {
        n->split = true;
        n->family = base_str_dup0(a, family);
        n->given = base_str_dup0(a, given);
        n->latin = is_ascii(n->family);
        n->text = n->family == NULL || n->given == NULL ? NULL
                  : n->latin ? base_arena_sprintf(a, "%s %s", n->family, n->given)
                             : base_arena_sprintf(a, "%s%s", n->family, n->given);
    } else {
        n->text = base_str_dup0(a, text);
        n->latin = n->text != NULL && is_ascii(n->text);
        if (n->text == NULL || split_text(a, n->text, n) != BASE_OK)
            return BASE_E_NOMEM;
    }
    if (n->text == NULL || n->family == NULL || n->given == NULL)
        return BASE_E_NOMEM;
    n->py_family = n->latin ? upper_dup(a, n->family) : pinyin(a, n->family);
    n->py_given = n->latin ? upper_dup(a, n->given) : pinyin(a, n->given);
    return n->py_family != NULL && n->py_given != NULL ? BASE_OK : BASE_E_NOMEM;
}

/* ----------------------------------------------------------- records -- */

static const char *
str_or_empty(struct base_arena *a, const json_t *v)
{
    struct base_str s = fhir_json_str(v);
    char *d = base_str_dup0(a, s);

    return d != NULL ? d : "";
}

static void
read_addr(struct base_arena *a, const json_t *pt, struct demo_addr *ad)
{
    const json_t *x = json_array_get(json_object_get(pt, "address"), 0);

    ad->text = str_or_empty(a, json_object_get(x, "text"));
    ad->province = str_or_empty(a, json_object_get(x, "state"));
    ad->city = str_or_empty(a, json_object_get(x, "city"));
    ad->district = str_or_empty(a, json_object_get(x, "district"));
    ad->line = str_or_empty(a, json_array_get(json_object_get(x, "line"), 0));
}

static void
read_resid(const json_t *pt, int today, struct demo_rec *rec)
{
    const json_t *ids = json_object_get(pt, "identifier");
    struct gw_mpi_resid parsed;

    rec->resid_state = DEMO_RESID_NONE;
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const json_t *id = json_array_get(ids, i);
        struct base_str v = fhir_json_str(json_object_get(id, "value"));

        if (!base_str_eq_cstr(fhir_json_str(json_object_get(id, "system")), GW_MPI_RESID_SYSTEM) ||
            v.len == 0 || v.len >= sizeof(rec->resid))
            continue;
        memcpy(rec->resid, v.ptr, v.len);
        rec->resid[v.len] = '\0';
        rec->resid_state = gw_mpi_resid_parse(v.ptr, v.len, today, &parsed, NULL) == BASE_OK
                               ? DEMO_RESID_VALID
                               : DEMO_RESID_INVALID;
    }
}

static int
read_record(struct base_arena *a, const struct gw_mpi_synth_record *s, int today,
            struct demo_rec *rec, struct base_err *err)
{
    const json_t *pt = s->patient;
    struct base_str bd = fhir_json_str(json_object_get(pt, "birthDate"));
    struct base_str g = fhir_json_str(json_object_get(pt, "gender"));
    int y = 0;
    int m = 0;
    int d = 0;

    rec->flags = s->flags;
    if (read_name(a, pt, &rec->name) != BASE_OK)
        return OOM(err);
    read_resid(pt, today, rec);
    if (bd.len > 0 && gw_mpi_norm_birth_date(bd.ptr, bd.len, &y, &m, &d) && d > 0)
        rec->birth = y * 10000 + m * 100 + d;
    rec->sex = base_str_eq_cstr(g, "male") ? 'M' : base_str_eq_cstr(g, "female") ? 'F' : 'U';
    rec->phone = str_or_empty(
        a, json_object_get(json_array_get(json_object_get(pt, "telecom"), 0), "value"));
    read_addr(a, pt, &rec->addr);
    return BASE_OK;
}

/* -------------------------------------------------------------- people -- */

struct pool {
    const struct gw_mpi_synth_record *by[DEMO_N_MEMBERS]; /* per member, or NULL */
};

static int
member_of(const char *synth_member)
{
    /* the synthetic population names its members hosp-1 ... hosp-3 */
    return synth_member[5] - '1';
}

static int
group(struct base_arena *a, const struct gw_mpi_synth_record *recs, size_t n, struct pool **out,
      size_t *n_out, struct base_err *err)
{
    size_t np = 0;
    struct pool *pools;

    for (size_t i = 0; i < n; i++)
        np = recs[i].person + 1 > np ? recs[i].person + 1 : np;
    pools = BASE_NEW_N(a, struct pool, np);
    if (pools == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++) {
        int m = member_of(recs[i].member);

        if (m >= 0 && m < DEMO_N_MEMBERS)
            pools[recs[i].person].by[m] = &recs[i];
    }
    *out = pools;
    *n_out = np;
    return BASE_OK;
}

/* How many members know this person: most people use one hospital. */
static int
keep_count(struct demo_rng *r)
{
    double u = demo_rng_unit(r);

    return u < 0.70 ? 1 : u < 0.93 ? 2 : 3;
}

/* Pick `k` of the members holding a record, the general hospital most often. */
static unsigned
pick_members(struct demo_rng *r, const struct pool *p, int k)
{
    static const unsigned weight[DEMO_N_MEMBERS] = {5, 3, 2};
    unsigned chosen = 0;

    for (int round = 0; round < k; round++) {
        unsigned total = 0;
        unsigned x;

        for (int m = 0; m < DEMO_N_MEMBERS; m++)
            total += p->by[m] != NULL && !(chosen & (1u << m)) ? weight[m] : 0;
        if (total == 0)
            break;
        x = demo_rng_below(r, total);
        for (int m = 0; m < DEMO_N_MEMBERS; m++) {
            unsigned w = p->by[m] != NULL && !(chosen & (1u << m)) ? weight[m] : 0;

            if (x < w) {
                chosen |= 1u << m;
                break;
            }
            x -= w;
        }
    }
    return chosen;
}

static int
age_on(int birth, int ymd)
{
    return ymd / 10000 - birth / 10000 - (ymd % 10000 < birth % 10000);
}

/* The well-known shared patient: known to all three members under one
 * valid resident id, names and birth dates registered without errors. */
static bool
star_candidate(const struct pool *p, int as_of, int min_age, int max_age, bool rich)
{
    const char *id = NULL;
    struct gw_mpi_resid parsed;

    for (int m = 0; m < DEMO_N_MEMBERS; m++) {
        const json_t *ids;
        const char *v;
        const json_t *nm;

        if (p->by[m] == NULL || (p->by[m]->flags & STAR_AVOID) != 0)
            return false;
        /* the richest tier: phone and address at both hospitals, a
         * three-character name (rarer, so the imaging centre's record,
         * which has no resident id in FHIR, links on demographics) */
        nm = json_object_get(json_array_get(json_object_get(p->by[m]->patient, "name"), 0), "text");
        if (rich && ((m != DEMO_IMG_C &&
                      (p->by[m]->flags & (GW_MPI_SYNTH_NO_PHONE | GW_MPI_SYNTH_NO_ADDRESS)) != 0) ||
                     json_string_length(nm) != 9))
            return false;
        ids = json_object_get(p->by[m]->patient, "identifier");
        v = json_string_value(json_object_get(json_array_get(ids, 1), "value"));
        if (v == NULL || (id != NULL && strcmp(v, id) != 0))
            return false;
        id = v;
    }
    if (gw_mpi_resid_parse(id, strlen(id), as_of, &parsed, NULL) != BASE_OK)
        return false;
    int birth = parsed.birth_year * 10000 + parsed.birth_month * 100 + parsed.birth_day;
    int age = age_on(birth, as_of);
    return age >= min_age && age <= max_age;
}

static size_t
find_star(const struct pool *pools, size_t np, int as_of)
{
    static const struct {
        int min_age;
        int max_age;
        bool rich;
    } tiers[] = {{50, 66, true}, {35, 80, true}, {50, 66, false}, {35, 80, false}};

    for (size_t t = 0; t < BASE_ARRAY_LEN(tiers); t++) {
        for (size_t i = 0; i < np; i++) {
            if (star_candidate(&pools[i], as_of, tiers[t].min_age, tiers[t].max_age, tiers[t].rich))
                return i;
        }
    }
    return np;
}

static void
mrn_for(enum demo_member m, size_t seq, char out[24])
{
    /* each member's own numbering: a HIS registration number, a hospital
     * record number, a PACS patient id */
    if (m == DEMO_HOSP_A)
        snprintf(out, 24, "%010zu", (size_t)10300000 + seq * 7);
    else if (m == DEMO_HOSP_B)
        snprintf(out, 24, "B%07zu", (size_t)2040000 + seq * 3);
    else
        snprintf(out, 24, "IC%06zu", (size_t)500000 + seq * 11);
}

static unsigned
hosp_b_sources(struct demo_rng *r, const struct demo_rec *rec, bool star)
{
    double u = demo_rng_unit(r);

    /* The Synthea patients mapping requires a birth date, so a record
     * registered without one only goes out as CDA. */
    if (star || rec->birth == 0 || u < 0.55)
        return DEMO_SRC_CDA;
    return u < 0.88 ? DEMO_SRC_CSV : DEMO_SRC_CDA | DEMO_SRC_CSV;
}

static void
person_truth(struct demo_person *p, int as_of)
{
    struct gw_mpi_resid parsed;

    for (int m = 0; m < DEMO_N_MEMBERS; m++) {
        const struct demo_rec *rec = p->rec[m];

        if (rec == NULL)
            continue;
        if (rec->resid_state == DEMO_RESID_VALID && p->resid[0] == '\0' &&
            gw_mpi_resid_parse(rec->resid, strlen(rec->resid), as_of, &parsed, NULL) == BASE_OK) {
            memcpy(p->resid, parsed.number, sizeof(p->resid));
            p->birth = parsed.birth_year * 10000 + parsed.birth_month * 100 + parsed.birth_day;
            p->sex = parsed.sex == GW_MPI_SEX_MALE ? 'M' : 'F';
        }
    }
    for (int m = 0; m < DEMO_N_MEMBERS && (p->birth == 0 || p->sex == 0); m++) {
        const struct demo_rec *rec = p->rec[m];

        if (rec == NULL)
            continue;
        if (p->birth == 0 && rec->birth != 0)
            p->birth = rec->birth;
        if (p->sex == 0 && rec->sex != 'U')
            p->sex = rec->sex;
    }
    if (p->birth == 0)
        p->birth = 19700701;
    if (p->sex == 0)
        p->sex = 'F';
}

static int
add_person(struct demo_region *r, const struct pool *pool, size_t synth, bool star,
           size_t seq[DEMO_N_MEMBERS], struct base_err *err)
{
    struct demo_rng rng = demo_rng_for(r->cfg.seed, RNG_KEEP, synth, 0);
    struct demo_person *p = &r->persons[r->n_persons];
    unsigned chosen = star ? 7u : pick_members(&rng, pool, keep_count(&rng));

    memset(p, 0, sizeof(*p));
    p->index = r->n_persons;
    p->synth = synth;
    p->star = star;
    for (int m = 0; m < DEMO_N_MEMBERS; m++) {
        struct demo_rec *rec;

        if (!(chosen & (1u << m)))
            continue;
        rec = BASE_NEW(r->a, struct demo_rec);
        if (rec == NULL)
            return OOM(err);
        rec->member = (enum demo_member)m;
        rec->person = p;
        mrn_for(rec->member, seq[m]++, rec->mrn);
        TRY(read_record(r->a, pool->by[m], r->cfg.as_of, rec, err));
        rec->sources = m == DEMO_HOSP_A  ? DEMO_SRC_HL7
                       : m == DEMO_IMG_C ? DEMO_SRC_DICOM
                                         : hosp_b_sources(&rng, rec, star);
        p->rec[m] = rec;
        p->n_rec++;
    }
    person_truth(p, r->cfg.as_of);
    if (star)
        r->star = p;
    r->n_persons++;
    return BASE_OK;
}

/* ------------------------------------------------------------ consents -- */

static bool
consent_fit(const struct demo_person *p, enum demo_consent_kind k)
{
    if (p->star || p->consent != DEMO_CONSENT_NONE || p->resid[0] == '\0' || p->n_rec < 2)
        return false;
    return k != DEMO_CONSENT_DENY_MEMBER || p->rec[DEMO_HOSP_B] != NULL;
}

/* A few people say no (consents/NAME.json): three opt out of sharing, one
 * withholds what hosp-b holds, one withholds psychiatric data; the shared
 * patient withholds psychiatric data too (the portal's withheld banner and
 * break-the-glass). */
static void
pick_consents(struct demo_region *r)
{
    static const enum demo_consent_kind want[] = {DEMO_CONSENT_OPTOUT, DEMO_CONSENT_OPTOUT,
                                                  DEMO_CONSENT_OPTOUT, DEMO_CONSENT_DENY_MEMBER,
                                                  DEMO_CONSENT_DENY_PSY};
    struct demo_rng rng = demo_rng_for(r->cfg.seed, RNG_CONSENT, 0, 0);

    r->star->consent = DEMO_CONSENT_STAR;
    for (size_t k = 0; k < BASE_ARRAY_LEN(want); k++) {
        size_t start = demo_rng_below(&rng, (unsigned)r->n_persons);

        for (size_t i = 0; i < r->n_persons; i++) {
            struct demo_person *p = &r->persons[(start + i) % r->n_persons];

            if (consent_fit(p, want[k])) {
                p->consent = want[k];
                break;
            }
        }
    }
}

/* --------------------------------------------------------------- staff -- */

/* Doctors' names come from a second synthetic population (same name
 * tables, another seed): clean Han registrations only. */
static int
make_staff(struct demo_region *r, struct base_err *err)
{
    struct gw_mpi_synth_config sc = {r->cfg.seed ^ 0x5354414646ull, 200, 1, r->cfg.as_of};
    struct gw_mpi_synth_record *recs = NULL;
    size_t n = 0;
    size_t k = 0;
    struct demo_rng rng = demo_rng_for(r->cfg.seed, RNG_STAFF, 0, 0);

    TRY(gw_mpi_synth_generate(r->a, &sc, &recs, &n, err));
    for (size_t i = 0; i < n && k < DEMO_N_MEMBERS * DEMO_STAFF_PER_MEMBER; i++) {
        struct demo_rec tmp;
        struct demo_staff *s;

        memset(&tmp, 0, sizeof(tmp));
        if ((recs[i].flags & STAR_AVOID & ~(GW_MPI_SYNTH_NO_ID | GW_MPI_SYNTH_BAD_ID)) != 0)
            continue;
        TRY(read_record(r->a, &recs[i], r->cfg.as_of, &tmp, err));
        if (tmp.name.latin || tmp.sex == 'U' || tmp.name.given[0] == '\0')
            continue;
        s = &r->staff[k / DEMO_STAFF_PER_MEMBER][k % DEMO_STAFF_PER_MEMBER];
        s->family = tmp.name.family;
        s->given = tmp.name.given;
        s->py_family = tmp.name.py_family;
        s->py_given = tmp.name.py_given;
        s->sex = tmp.sex;
        s->dept = (int)((k % DEMO_STAFF_PER_MEMBER) % (demo_n_depts - 1));
        snprintf(s->id, sizeof(s->id), "D%04u", 1000 + (unsigned)k * 7 + demo_rng_below(&rng, 7));
        k++;
    }
    ENSURE(k == DEMO_N_MEMBERS * DEMO_STAFF_PER_MEMBER, err, BASE_E_INTERNAL, "exception", "demo",
           "too few clean names for the staff");
    return BASE_OK;
}

/* ---------------------------------------------------------------- all -- */

static int
check_config(const struct gw_demo_config *cfg, struct base_err *err)
{
    int y = cfg->as_of / 10000;
    int m = cfg->as_of / 100 % 100;
    int d = cfg->as_of % 100;

    ENSURE(y >= 2000 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 &&
               demo_ymd(demo_days(cfg->as_of)) == cfg->as_of,
           err, BASE_E_INVALID, "value", "--as-of", "not a date between 2000 and 2200");
    ENSURE(cfg->n_people >= 320 && cfg->n_people <= 20000, err, BASE_E_INVALID, "value", "--people",
           "between 320 and 20000 people");
    return BASE_OK;
}

int
demo_region_build(struct base_arena *a, const struct gw_demo_config *cfg, struct demo_region *r,
                  struct base_err *err)
{
    struct gw_mpi_synth_config sc = {cfg->seed, cfg->n_people, DEMO_N_MEMBERS, cfg->as_of};
    struct gw_mpi_synth_record *recs = NULL;
    struct pool *pools = NULL;
    size_t n = 0;
    size_t np = 0;
    size_t seq[DEMO_N_MEMBERS] = {0};
    size_t star;

    TRY(check_config(cfg, err));
    memset(r, 0, sizeof(*r));
    r->a = a;
    r->cfg = *cfg;
    r->end_day = demo_days(cfg->as_of);
    r->start_day = demo_days(cfg->as_of - GW_DEMO_YEARS * 10000) + 1;
    TRY(gw_mpi_synth_generate(a, &sc, &recs, &n, err));
    TRY(group(a, recs, n, &pools, &np, err));
    star = find_star(pools, np, cfg->as_of);
    ENSURE(star < np, err, BASE_E_INVALID, "value", "--seed",
           "no person fits the shared patient; try another seed");
    r->persons = BASE_NEW_N(a, struct demo_person, np);
    if (r->persons == NULL)
        return OOM(err);
    for (size_t i = 0; i < np; i++) {
        if (pools[i].by[0] != NULL || pools[i].by[1] != NULL || pools[i].by[2] != NULL)
            TRY(add_person(r, &pools[i], i, i == star, seq, err));
    }
    pick_consents(r);
    TRY(make_staff(r, err));
    return demo_clinical_build(r, err);
}
