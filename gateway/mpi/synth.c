/*
 * gateway/mpi/synth.c — the labelled synthetic population (gw_mpi_synth.h).
 *
 * Rates are per mille and chosen from what regional-platform reports
 * describe for registration data: most records are clean, a few percent
 * carry each kind of error, and missing phones/addresses are common.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/mpi/gw_mpi.h"
#include "gateway/mpi/gw_mpi_synth.h"
#include "gateway/mpi/synth_tables.inc"

#define OOM(err) base_err_set((err), BASE_E_NOMEM, "exception", "synth", "out of memory")

struct syn_person {
    const struct syn_char *sur;
    const struct syn_char *given[2];
    size_t n_given;
    int sex; /* 1 male, 2 female */
    int y;
    int m;
    int d;
    char resid[19];
    char phone[12];
    char phone2[12];
    const struct syn_region *region;
    unsigned street;
    unsigned number;
    const struct syn_region *region2; /* after moving */
    unsigned street2;
    unsigned flags;
};

struct rng {
    uint64_t s;
};

static uint64_t
next(struct rng *r)
{
    /* splitmix64 (Steele, Lea, Flood 2014): fast, fixed, portable */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned
rnd(struct rng *r, unsigned n)
{
    return n == 0 ? 0 : (unsigned)(next(r) % n);
}

static const struct syn_char *
pick(struct rng *r, const struct syn_char *t, size_t n)
{
    unsigned total = 0;
    unsigned x;

    for (size_t i = 0; i < n; i++)
        total += t[i].weight;
    x = rnd(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < t[i].weight)
            return &t[i];
        x -= t[i].weight;
    }
    return &t[n - 1];
}

struct gw_mpi_synth_config
gw_mpi_synth_default(void)
{
    struct gw_mpi_synth_config c = {20261128u, 2200, 5, 20260101};
    return c;
}

static int
days_in(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : d[m - 1];
}

static void
make_resid(struct syn_person *p, unsigned seq)
{
    char d17[18];

    /* the sequence code's parity is the sex (GB 11643-1999 4.3) */
    seq = (seq % 500) * 2 + (p->sex == 1 ? 1 : 0);
    snprintf(d17, sizeof(d17), "%s%04d%02d%02d%03u", p->region->code, p->y, p->m, p->d, seq % 1000);
    memcpy(p->resid, d17, 17);
    p->resid[17] = gw_mpi_resid_check_char(d17);
    p->resid[18] = '\0';
}

static void
make_phone(struct rng *r, char out[12])
{
    static const char *const prefix[] = {"138", "139", "135", "136", "150", "151", "186",
                                         "187", "133", "153", "177", "189", "199", "158"};

    snprintf(out, 12, "%s%08u", prefix[rnd(r, BASE_ARRAY_LEN(prefix))], rnd(r, 100000000));
}

static void
pick_given(struct rng *r, struct syn_person *p)
{
    const struct syn_char *t = p->sex == 1 ? syn_given_m : syn_given_f;
    size_t n = p->sex == 1 ? BASE_ARRAY_LEN(syn_given_m) : BASE_ARRAY_LEN(syn_given_f);

    p->n_given = rnd(r, 100) < 35 ? 1 : 2;
    p->given[0] = pick(r, t, n);
    p->given[1] = pick(r, t, n);
}

static void
new_person(struct rng *r, const struct gw_mpi_synth_config *cfg, struct syn_person *p)
{
    memset(p, 0, sizeof(*p));
    p->sur = pick(r, syn_surnames, BASE_ARRAY_LEN(syn_surnames));
    p->sex = 1 + (int)rnd(r, 2);
    pick_given(r, p);
    do {
        p->y = 1930 + (int)rnd(r, 92);
        p->m = 1 + (int)rnd(r, 12);
        p->d = 1 + (int)rnd(r, (unsigned)days_in(p->y, p->m));
    } while (p->y * 10000 + p->m * 100 + p->d > cfg->today);
    p->region = &syn_regions[rnd(r, BASE_ARRAY_LEN(syn_regions))];
    p->region2 = &syn_regions[rnd(r, BASE_ARRAY_LEN(syn_regions))];
    p->street = rnd(r, BASE_ARRAY_LEN(syn_streets));
    p->street2 = (p->street + 1 + rnd(r, BASE_ARRAY_LEN(syn_streets) - 1)) %
                 (unsigned)BASE_ARRAY_LEN(syn_streets);
    p->number = 1 + rnd(r, 300);
    make_resid(p, rnd(r, 500));
    make_phone(r, p->phone);
    make_phone(r, p->phone2);
}

/* A twin: same family, birth date, home and phone; own given name. */
static void
twin_of(struct rng *r, const struct syn_person *a, struct syn_person *b)
{
    *b = *a;
    b->sex = 1 + (int)rnd(r, 2);
    do {
        pick_given(r, b);
        if (rnd(r, 2) == 0 && a->n_given == 2) {
            b->n_given = 2; /* siblings often share the first given character */
            b->given[0] = a->given[0];
        }
    } while (b->n_given == a->n_given && strcmp(b->given[0]->han, a->given[0]->han) == 0 &&
             (b->n_given == 1 || strcmp(b->given[1]->han, a->given[1]->han) == 0));
    make_resid(b, (unsigned)(a->resid[14] - '0') * 50 + (unsigned)(a->resid[15] - '0') * 5 + 1);
    if (strcmp(a->resid, b->resid) == 0)
        make_resid(b, (unsigned)(a->resid[15] - '0') + 7);
    make_phone(r, b->phone2);
}

/* ---- one record --------------------------------------------------------------------------- */

struct rec {
    char name[64];
    char *nm; /* points into name */
};

static void
han_name(const struct syn_person *p, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%s", p->sur->han, p->given[0]->han,
             p->n_given == 2 ? p->given[1]->han : "");
}

/* Replace the first character of `s` found in the table's column 0. */
static bool
replace_from(struct rng *r, char *s, size_t cap, const char *const (*tab)[2], size_t n)
{
    size_t start = rnd(r, (unsigned)n);

    for (size_t k = 0; k < n; k++) {
        const char *const *e = tab[(start + k) % n];
        char *at = strstr(s, e[0]);
        char buf[96];

        if (at == NULL)
            continue;
        snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - s), s, e[1], at + strlen(e[0]));
        snprintf(s, cap, "%s", buf);
        return true;
    }
    return false;
}

static void
traditional(char *s, size_t cap)
{
    for (size_t k = 0; k < BASE_ARRAY_LEN(syn_traditional); k++) {
        char *at;

        while ((at = strstr(s, syn_traditional[k][0])) != NULL) {
            char buf[96];

            snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - s), s, syn_traditional[k][1],
                     at + strlen(syn_traditional[k][0]));
            snprintf(s, cap, "%s", buf);
        }
    }
}

static void
cap_first(const char *in, char *out, size_t cap, bool upper)
{
    size_t n = 0;

    for (; in[n] != '\0' && n + 1 < cap; n++) {
        char c = in[n];

        out[n] = (upper || n == 0) && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    out[n] = '\0';
}

static json_t *
romanized(struct rng *r, const struct syn_person *p)
{
    char fam[32];
    char given[32];
    char g0[32];
    unsigned style = rnd(r, 4);

    snprintf(g0, sizeof(g0), "%s%s", p->given[0]->py, p->n_given == 2 ? p->given[1]->py : "");
    cap_first(p->sur->py, fam, sizeof(fam), style == 3);
    cap_first(g0, given, sizeof(given), style == 3);
    if (style == 0)
        return json_pack("{s:s, s:[s]}", "family", fam, "given", given);
    char text[80];
    snprintf(text, sizeof(text), "%s %s", style == 2 ? given : fam, style == 2 ? fam : given);
    return json_pack("{s:s}", "text", text);
}

static json_t *
name_json(struct rng *r, const struct syn_person *p, unsigned *flags)
{
    char s[96];
    unsigned x = rnd(r, 1000);

    han_name(p, s, sizeof(s));
    if (x < 80) {
        *flags |= GW_MPI_SYNTH_ROMANIZED;
        return romanized(r, p);
    }
    if (x < 150 && replace_from(r, s, sizeof(s), syn_homophones, BASE_ARRAY_LEN(syn_homophones)))
        *flags |= GW_MPI_SYNTH_HOMOPHONE;
    else if (x >= 150 && x < 170 &&
             replace_from(r, s, sizeof(s), syn_char_typos, BASE_ARRAY_LEN(syn_char_typos)))
        *flags |= GW_MPI_SYNTH_CHAR_TYPO;
    else if (x >= 170 && x < 200) {
        traditional(s, sizeof(s));
        *flags |= GW_MPI_SYNTH_TRADITIONAL;
    }
    if (rnd(r, 10) == 0) {
        /* family and given apart, as some HIS forms store them */
        size_t fl = strlen(p->sur->han);
        char fam[32];

        snprintf(fam, sizeof(fam), "%.*s", (int)fl, s);
        return json_pack("{s:s, s:[s]}", "family", fam, "given", s + fl);
    }
    if (rnd(r, 10) == 0) {
        char spaced[100];
        size_t fl = strlen(p->sur->han);

        snprintf(spaced, sizeof(spaced), "%.*s %s", (int)fl, s, s + fl);
        return json_pack("{s:s}", "text", spaced);
    }
    return json_pack("{s:s}", "text", s);
}

static bool
valid_date(int y, int m, int d, int today)
{
    return y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= days_in(y, m) &&
           y * 10000 + m * 100 + d <= today;
}

/* Birth date as reported: exact, day/month swapped, or one slip. */
static void
birth(struct rng *r, const struct syn_person *p, int today, char out[16], unsigned *flags)
{
    unsigned x = rnd(r, 1000);
    int y = p->y;
    int m = p->m;
    int d = p->d;

    out[0] = '\0';
    if (x < 30) {
        *flags |= GW_MPI_SYNTH_NO_DATE;
        return;
    }
    if (x < 70 && d <= 12 && d != m && valid_date(y, d, m, today)) {
        int t = m;

        m = d;
        d = t;
        *flags |= GW_MPI_SYNTH_DATE_SWAP;
    } else if (x < 100) {
        char s[9];

        for (int tries = 0; tries < 8; tries++) {
            int i = 2 + (int)rnd(r, 5);
            int ny;
            int nm;
            int nd;

            snprintf(s, sizeof(s), "%04d%02d%02d", p->y, p->m, p->d);
            if (rnd(r, 2) == 0) {
                char t = s[i];

                s[i] = s[i + 1];
                s[i + 1] = t;
            } else {
                s[i] = (char)('0' + (s[i] - '0' + 1 + (int)rnd(r, 9)) % 10);
            }
            ny = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
            nm = (s[4] - '0') * 10 + (s[5] - '0');
            nd = (s[6] - '0') * 10 + (s[7] - '0');
            if (valid_date(ny, nm, nd, today) && (ny != y || nm != m || nd != d)) {
                y = ny;
                m = nm;
                d = nd;
                *flags |= GW_MPI_SYNTH_DATE_TYPO;
                break;
            }
        }
    }
    snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

static json_t *
identifiers(struct rng *r, const struct syn_person *p, unsigned member, unsigned mrn,
            unsigned *flags)
{
    char sys[64];
    char val[32];
    json_t *arr;
    unsigned x = rnd(r, 1000);

    snprintf(sys, sizeof(sys), "urn:oid:1.2.156.112604.%u.1", member);
    snprintf(val, sizeof(val), "MRN%06u", mrn);
    arr = json_pack("[{s:{s:[{s:s, s:s}]}, s:s, s:s}]", "type", "coding", "system",
                    "http://terminology.hl7.org/CodeSystem/v2-0203", "code", "MR", "system", sys,
                    "value", val);
    if (arr == NULL)
        return NULL;
    if (x < 280) {
        *flags |= GW_MPI_SYNTH_NO_ID;
        return arr;
    }
    char id[24];
    snprintf(id, sizeof(id), "%s", p->resid);
    if (x < 330) {
        /* a mistyped number: two digits swapped or the check character wrong */
        unsigned i = rnd(r, 16);

        if (id[i] != id[i + 1] && rnd(r, 2) == 0) {
            char t = id[i];

            id[i] = id[i + 1];
            id[i + 1] = t;
        } else {
            id[17] = id[17] == '0' ? '1' : '0';
        }
        if (gw_mpi_resid_check_char(id) != id[17])
            *flags |= GW_MPI_SYNTH_BAD_ID;
    } else if (rnd(r, 10) == 0 && id[17] == 'X') {
        id[17] = 'x';
    }
    json_array_append_new(arr, json_pack("{s:s, s:s}", "system", GW_MPI_RESID_SYSTEM, "value", id));
    return arr;
}

static json_t *
telecom(struct rng *r, const struct syn_person *p, unsigned *flags)
{
    unsigned x = rnd(r, 1000);
    const char *ph = p->phone;
    char out[32];

    if (x < 250) {
        *flags |= GW_MPI_SYNTH_NO_PHONE;
        return NULL;
    }
    if (x < 380) {
        ph = p->phone2;
        *flags |= GW_MPI_SYNTH_NEW_PHONE;
    }
    switch (rnd(r, 4)) {
    case 0:
        snprintf(out, sizeof(out), "+86 %.3s %.4s %.4s", ph, ph + 3, ph + 7);
        break;
    case 1:
        snprintf(out, sizeof(out), "%.3s-%.4s-%.4s", ph, ph + 3, ph + 7);
        break;
    default:
        snprintf(out, sizeof(out), "%s", ph);
        break;
    }
    return json_pack("[{s:s, s:s, s:s}]", "system", "phone", "value", out, "use", "mobile");
}

static json_t *
address(struct rng *r, const struct syn_person *p, unsigned *flags)
{
    unsigned x = rnd(r, 1000);
    const struct syn_region *g = p->region;
    unsigned street = p->street;
    char line[64];
    char text[160];

    if (x < 300) {
        *flags |= GW_MPI_SYNTH_NO_ADDRESS;
        return NULL;
    }
    if (x < 400) {
        g = p->region2;
        street = p->street2;
        *flags |= GW_MPI_SYNTH_MOVED;
    }
    snprintf(line, sizeof(line), "%s%u号", syn_streets[street], p->number);
    switch (rnd(r, 3)) {
    case 0:
        return json_pack("[{s:s, s:s, s:s, s:s, s:[s]}]", "use", "home", "state", g->province,
                         "city", g->city, "district", g->district, "line", line);
    case 1:
        snprintf(text, sizeof(text), "%s%s%s%s",
                 strcmp(g->province, g->city) == 0 ? "" : g->province, g->city, g->district, line);
        break;
    default:
        snprintf(text, sizeof(text), "%s%s%s", g->city, g->district, line);
        break;
    }
    return json_pack("[{s:s, s:s}]", "use", "home", "text", text);
}

static json_t *
gender(struct rng *r, const struct syn_person *p)
{
    unsigned x = rnd(r, 1000);
    int sex = p->sex;

    if (x < 20)
        return json_string("unknown");
    if (x < 30)
        sex = 3 - sex;
    return json_string(sex == 1 ? "male" : "female");
}

static json_t *
patient(struct rng *r, const struct gw_mpi_synth_config *cfg, const struct syn_person *p,
        unsigned member, unsigned mrn, unsigned *flags)
{
    char bd[16];
    json_t *pt;
    json_t *v;

    pt = json_pack("{s:s, s:o, s:[o]}", "resourceType", "Patient", "identifier",
                   identifiers(r, p, member, mrn, flags), "name", name_json(r, p, flags));
    if (pt == NULL)
        return NULL;
    json_object_set_new(pt, "gender", gender(r, p));
    birth(r, p, cfg->today, bd, flags);
    if (bd[0] != '\0')
        json_object_set_new(pt, "birthDate", json_string(bd));
    if ((v = telecom(r, p, flags)) != NULL)
        json_object_set_new(pt, "telecom", v);
    if ((v = address(r, p, flags)) != NULL)
        json_object_set_new(pt, "address", v);
    return pt;
}

/* ---- the population -------------------------------------------------------------------------- */

static size_t
records_of(struct rng *r, size_t n_members)
{
    unsigned x = rnd(r, 100);
    size_t n = x < 15 ? 1 : x < 50 ? 2 : x < 85 ? 3 : 4;

    return n > n_members ? n_members : n;
}

static int
people(struct base_arena *a, struct rng *r, const struct gw_mpi_synth_config *cfg,
       struct syn_person **out, size_t *n_out, struct base_err *err)
{
    size_t n_pairs = cfg->n_people * 15 / 1000;
    size_t total = cfg->n_people + 2 * n_pairs;
    struct syn_person *ps = BASE_NEW_N(a, struct syn_person, total);
    size_t n = cfg->n_people;

    if (ps == NULL)
        return OOM(err);
    for (size_t i = 0; i < cfg->n_people; i++)
        new_person(r, cfg, &ps[i]);
    for (size_t k = 0; k < n_pairs; k++) {
        struct syn_person *p = &ps[rnd(r, (unsigned)cfg->n_people)];

        /* pairs only: a third sibling could repeat the second's name */
        while (p->flags & GW_MPI_SYNTH_TWIN)
            p = &ps[rnd(r, (unsigned)cfg->n_people)];
        twin_of(r, p, &ps[n]);
        p->flags |= GW_MPI_SYNTH_TWIN;
        ps[n++].flags |= GW_MPI_SYNTH_TWIN;
    }
    for (size_t k = 0; k < n_pairs; k++) {
        struct syn_person *p = &ps[rnd(r, (unsigned)cfg->n_people)];
        struct syn_person *q = &ps[n++];

        /* a stranger with the same name and birth date */
        new_person(r, cfg, q);
        q->sur = p->sur;
        q->sex = p->sex;
        memcpy(q->given, p->given, sizeof(q->given));
        q->n_given = p->n_given;
        q->y = p->y;
        q->m = p->m;
        q->d = p->d;
        while (q->region == p->region)
            q->region = &syn_regions[rnd(r, BASE_ARRAY_LEN(syn_regions))];
        make_resid(q, rnd(r, 500));
        p->flags |= GW_MPI_SYNTH_NAMESAKE;
        q->flags |= GW_MPI_SYNTH_NAMESAKE;
    }
    *out = ps;
    *n_out = n;
    return BASE_OK;
}

int
gw_mpi_synth_generate(struct base_arena *a, const struct gw_mpi_synth_config *cfg,
                      struct gw_mpi_synth_record **out, size_t *n_out, struct base_err *err)
{
    struct rng r = {cfg->seed};
    struct syn_person *ps;
    size_t np = 0;
    size_t n = 0;
    unsigned mrn[10] = {0};
    struct gw_mpi_synth_record *recs;

    ENSURE(cfg->n_members >= 1 && cfg->n_members <= 9 && cfg->n_people >= 1 &&
               cfg->n_people <= 1000000,
           err, BASE_E_INVALID, "value", "synth", "1-9 members and 1-1000000 people");
    TRY(people(a, &r, cfg, &ps, &np, err));
    recs = BASE_NEW_N(a, struct gw_mpi_synth_record, np * 4);
    if (recs == NULL)
        return OOM(err);
    for (size_t i = 0; i < np; i++) {
        size_t k = records_of(&r, cfg->n_members);
        unsigned first = rnd(&r, (unsigned)cfg->n_members);

        for (size_t j = 0; j < k; j++) {
            unsigned m = (first + (unsigned)j) % (unsigned)cfg->n_members + 1;
            struct gw_mpi_synth_record *x = &recs[n];

            x->person = i;
            x->flags = ps[i].flags;
            x->member = base_arena_sprintf(a, "hosp-%u", m);
            x->patient = patient(&r, cfg, &ps[i], m, 100000 + ++mrn[m], &x->flags);
            if (x->member == NULL || x->patient == NULL || fhir_json_tie(a, x->patient) != 0)
                return OOM(err);
            n++;
        }
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd(&r, (unsigned)i);
        struct gw_mpi_synth_record t = recs[i - 1];

        recs[i - 1] = recs[j];
        recs[j] = t;
    }
    *out = recs;
    *n_out = n;
    return BASE_OK;
}
