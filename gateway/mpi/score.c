/*
 * gateway/mpi/score.c — Fellegi–Sunter record comparison.
 *
 * Each field of a record pair is put in an agreement level; a level has
 * m = P(level | same person) and u = P(level | different people), and adds
 * log2(m/u) to the pair's score (Fellegi & Sunter, "A Theory for Record
 * Linkage", JASA 1969).  The name's exact-agreement u is frequency-based
 * (Winkler): agreeing on 王伟 says less than agreeing on 欧阳娜娜.  The
 * m/u values, and why they are what they are, are in docs/design/mpi.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gateway/mpi/gw_mpi.h"

struct mu {
    double m;
    double u;
};

/* Indexed by enum gw_mpi_level; {0, 0} = level not used by the field.
 * m: estimated on the labelled synthetic population (pairs of one person,
 * both values present); u: random pairs of different people, with floors
 * for what a real region has and the synthetic set lacks (households that
 * share a phone or an address, 14 districts only).  docs/design/mpi.md
 * lists them with the weights they give. */
static const struct mu name_han[GW_MPI_L_COUNT] = {
    [GW_MPI_L_EXACT] = {0.87, 1e-4},
    [GW_MPI_L_PHONETIC] = {0.11, 3e-4},
    [GW_MPI_L_PARTIAL] = {0.01, 2e-3},
    [GW_MPI_L_DISAGREE] = {0.01, 0.9977},
};
static const struct mu name_py[GW_MPI_L_COUNT] = {
    [GW_MPI_L_EXACT] = {0.93, 3e-4},
    [GW_MPI_L_PARTIAL] = {0.04, 4e-3},
    [GW_MPI_L_DISAGREE] = {0.03, 0.9957},
};
static const struct mu birth[GW_MPI_L_COUNT] = {
    [GW_MPI_L_EXACT] = {0.85, 5e-5},
    [GW_MPI_L_PHONETIC] = {0.90, 0.0125},
    [GW_MPI_L_PARTIAL] = {0.14, 1e-3},
    [GW_MPI_L_DISAGREE] = {0.01, 0.999},
};
static const struct mu sex[GW_MPI_L_COUNT] = {
    [GW_MPI_L_EXACT] = {0.98, 0.5},
    [GW_MPI_L_DISAGREE] = {0.02, 0.5},
};
static const struct mu phone[GW_MPI_L_COUNT] = {
    [GW_MPI_L_EXACT] = {0.70, 1e-4},
    [GW_MPI_L_PARTIAL] = {0.02, 1e-4},
    [GW_MPI_L_DISAGREE] = {0.28, 0.9998},
};
static const struct mu address[GW_MPI_L_COUNT] = {
    [GW_MPI_L_EXACT] = {0.72, 1e-4},
    [GW_MPI_L_PARTIAL] = {0.03, 0.02},
    [GW_MPI_L_WEAK] = {0.05, 0.10},
    [GW_MPI_L_DISAGREE] = {0.20, 0.88},
};

/* Prior for the frequency-based u: a name seen n times among N records has
 * u = (n + k * u0) / (N + k), with u0 the static u above and k = 1000
 * records of prior weight, so a young index does not overrate agreement. */
#define FREQ_PRIOR_RECORDS 1000.0

static double
w(const struct mu *t, enum gw_mpi_level l)
{
    return l == GW_MPI_L_MISSING ? 0.0 : log2(t[l].m / t[l].u);
}

static double
w_freq(const struct mu *t, double n, double total)
{
    double u = (n + FREQ_PRIOR_RECORDS * t[GW_MPI_L_EXACT].u) / (total + FREQ_PRIOR_RECORDS);

    if (u > 0.5)
        u = 0.5;
    return log2(t[GW_MPI_L_EXACT].m / u);
}

static void
swapped(const struct gw_mpi_identity *x, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", x->name_py_given, x->name_py_family);
}

static void
fuzzy_of(const struct gw_mpi_identity *x, bool swap, char *out, size_t cap)
{
    char f[64];
    char g[64];

    if (x->name_py_family[0] == '\0') {
        gw_mpi_pinyin_fuzzy(x->name_py, out, cap);
        return;
    }
    gw_mpi_pinyin_fuzzy(x->name_py_family, f, sizeof(f));
    gw_mpi_pinyin_fuzzy(x->name_py_given, g, sizeof(g));
    snprintf(out, cap, "%s%s", swap ? g : f, swap ? f : g);
}

/* Romanized names come in either order ("Zhang San", "San Zhang"). */
static bool
py_equal(const struct gw_mpi_identity *a, const struct gw_mpi_identity *b, bool any_latin)
{
    char s[160];

    if (strcmp(a->name_py, b->name_py) == 0)
        return true;
    if (!any_latin)
        return false;
    swapped(b, s, sizeof(s));
    return b->name_py_family[0] != '\0' && strcmp(a->name_py, s) == 0;
}

static bool
py_close(const struct gw_mpi_identity *a, const struct gw_mpi_identity *b, bool any_latin)
{
    char fa[160];
    char fb[160];

    fuzzy_of(a, false, fa, sizeof(fa));
    fuzzy_of(b, false, fb, sizeof(fb));
    if (strcmp(fa, fb) == 0)
        return true;
    if (any_latin) {
        fuzzy_of(b, true, fb, sizeof(fb));
        if (strcmp(fa, fb) == 0)
            return true;
    }
    /* One slip of the keyboard in a romanized name, but the family name must
     * agree: given names of siblings are often one letter apart. */
    return strcmp(a->name_py_family, b->name_py_family) == 0 && a->name_py_family[0] != '\0' &&
           gw_mpi_jaro_winkler(a->name_py, b->name_py) >= 0.95;
}

static void
score_name(const struct gw_mpi_identity *a, const struct gw_mpi_identity *b,
           const struct gw_mpi_name_freq *freq, struct gw_mpi_score *s)
{
    bool both_han = a->name_han[0] != '\0' && b->name_han[0] != '\0';
    const struct mu *t = both_han ? name_han : name_py;
    enum gw_mpi_level l;

    if (a->name_py[0] == '\0' || b->name_py[0] == '\0') {
        l = GW_MPI_L_MISSING;
    } else if (both_han && strcmp(a->name_han, b->name_han) == 0) {
        l = GW_MPI_L_EXACT;
    } else if (py_equal(a, b, !both_han)) {
        l = both_han ? GW_MPI_L_PHONETIC : GW_MPI_L_EXACT;
    } else if (py_close(a, b, !both_han)) {
        l = GW_MPI_L_PARTIAL;
    } else {
        l = GW_MPI_L_DISAGREE;
    }
    s->level[GW_MPI_F_NAME] = l;
    if (l == GW_MPI_L_EXACT && freq != NULL)
        s->weight[GW_MPI_F_NAME] = w_freq(t, both_han ? freq->n_han : freq->n_py, freq->n_total);
    else
        s->weight[GW_MPI_F_NAME] = w(t, l);
}

/* One digit typed wrong, two adjacent digits swapped, or day and month
 * exchanged (DD/MM versus MM/DD forms). */
static bool
date_slip(const struct gw_mpi_identity *a, const struct gw_mpi_identity *b)
{
    char x[16];
    char y[16];
    int diff = 0;
    int first = -1;

    if (a->birth_year == b->birth_year && a->birth_month == b->birth_day &&
        a->birth_day == b->birth_month)
        return true;
    snprintf(x, sizeof(x), "%04d%02d%02d", a->birth_year, a->birth_month, a->birth_day);
    snprintf(y, sizeof(y), "%04d%02d%02d", b->birth_year, b->birth_month, b->birth_day);
    for (int i = 0; i < 8; i++) {
        if (x[i] != y[i]) {
            if (first < 0)
                first = i;
            diff++;
        }
    }
    if (diff == 1)
        return true;
    return diff == 2 && first < 7 && x[first] == y[first + 1] && x[first + 1] == y[first];
}

static enum gw_mpi_level
birth_level(const struct gw_mpi_identity *a, const struct gw_mpi_identity *b)
{
    if (a->birth_year == 0 || b->birth_year == 0)
        return GW_MPI_L_MISSING;
    if (a->birth_day == 0 || b->birth_day == 0) {
        bool months =
            a->birth_month == 0 || b->birth_month == 0 || a->birth_month == b->birth_month;

        return a->birth_year == b->birth_year && months ? GW_MPI_L_PHONETIC : GW_MPI_L_DISAGREE;
    }
    if (a->birth_year == b->birth_year && a->birth_month == b->birth_month &&
        a->birth_day == b->birth_day)
        return GW_MPI_L_EXACT;
    return date_slip(a, b) ? GW_MPI_L_PARTIAL : GW_MPI_L_DISAGREE;
}

static bool
phone_close(const char *x, const char *y)
{
    size_t lx = strlen(x);
    size_t ly = strlen(y);
    int diff = 0;

    /* a landline with and without its area code */
    if (lx >= 8 && ly >= 8 && strcmp(x + lx - 8, y + ly - 8) == 0)
        return true;
    if (lx != ly)
        return false;
    for (size_t i = 0; i < lx; i++)
        diff += x[i] != y[i];
    if (diff == 1)
        return true;
    for (size_t i = 0; diff == 2 && i + 1 < lx; i++) {
        if (x[i] != y[i])
            return x[i] == y[i + 1] && x[i + 1] == y[i];
    }
    return false;
}

static enum gw_mpi_level
phone_level(const struct gw_mpi_identity *a, const struct gw_mpi_identity *b)
{
    enum gw_mpi_level best = GW_MPI_L_DISAGREE;

    if (a->n_phone == 0 || b->n_phone == 0)
        return GW_MPI_L_MISSING;
    for (size_t i = 0; i < a->n_phone; i++) {
        for (size_t j = 0; j < b->n_phone; j++) {
            if (strcmp(a->phone[i], b->phone[j]) == 0)
                return GW_MPI_L_EXACT;
            if (phone_close(a->phone[i], b->phone[j]))
                best = GW_MPI_L_PARTIAL;
        }
    }
    return best;
}

static bool
part_eq(const char *x, const char *y)
{
    return x[0] != '\0' && strcmp(x, y) == 0;
}

static bool
part_compatible(const char *x, const char *y)
{
    return x[0] == '\0' || y[0] == '\0' || strcmp(x, y) == 0;
}

static enum gw_mpi_level
address_level(const struct gw_mpi_identity *a, const struct gw_mpi_identity *b)
{
    bool a_has = a->addr_city[0] || a->addr_district[0] || a->addr_detail[0];
    bool b_has = b->addr_city[0] || b->addr_district[0] || b->addr_detail[0];
    bool region_ok = part_compatible(a->addr_province, b->addr_province) &&
                     part_compatible(a->addr_city, b->addr_city);

    if (!a_has || !b_has)
        return GW_MPI_L_MISSING;
    if (region_ok && part_compatible(a->addr_district, b->addr_district) &&
        part_eq(a->addr_detail, b->addr_detail))
        return GW_MPI_L_EXACT;
    if (region_ok && part_eq(a->addr_district, b->addr_district))
        return GW_MPI_L_PARTIAL;
    if (part_compatible(a->addr_province, b->addr_province) && part_eq(a->addr_city, b->addr_city))
        return GW_MPI_L_WEAK;
    return GW_MPI_L_DISAGREE;
}

void
gw_mpi_score_pair(const struct gw_mpi_identity *a, const struct gw_mpi_identity *b,
                  const struct gw_mpi_name_freq *freq, struct gw_mpi_score *out)
{
    memset(out, 0, sizeof(*out));
    score_name(a, b, freq, out);
    out->level[GW_MPI_F_BIRTH] = birth_level(a, b);
    out->weight[GW_MPI_F_BIRTH] = w(birth, out->level[GW_MPI_F_BIRTH]);
    if (a->sex == GW_MPI_SEX_UNKNOWN || b->sex == GW_MPI_SEX_UNKNOWN)
        out->level[GW_MPI_F_SEX] = GW_MPI_L_MISSING;
    else
        out->level[GW_MPI_F_SEX] = a->sex == b->sex ? GW_MPI_L_EXACT : GW_MPI_L_DISAGREE;
    out->weight[GW_MPI_F_SEX] = w(sex, out->level[GW_MPI_F_SEX]);
    out->level[GW_MPI_F_PHONE] = phone_level(a, b);
    out->weight[GW_MPI_F_PHONE] = w(phone, out->level[GW_MPI_F_PHONE]);
    out->level[GW_MPI_F_ADDRESS] = address_level(a, b);
    out->weight[GW_MPI_F_ADDRESS] = w(address, out->level[GW_MPI_F_ADDRESS]);
    for (int f = 0; f < GW_MPI_F_COUNT; f++)
        out->total += out->weight[f];
    out->resid_conflict =
        a->has_resid && b->has_resid && strcmp(a->resid.number, b->resid.number) != 0;
    /* Twins share birth date (give or take a slip), phone and address and
     * differ only in the given name; FS assumes fields independent, which a
     * household is not, so such a pair may be proposed for review but never
     * linked. */
    enum gw_mpi_level nl = out->level[GW_MPI_F_NAME];
    bool other_name = nl == GW_MPI_L_PARTIAL || nl == GW_MPI_L_DISAGREE ||
                      /* a boy and a girl with names that sound alike: 思宇 / 思雨 */
                      (nl == GW_MPI_L_PHONETIC && out->level[GW_MPI_F_SEX] == GW_MPI_L_DISAGREE);
    out->twin_guard = other_name &&
                      (out->level[GW_MPI_F_BIRTH] == GW_MPI_L_EXACT ||
                       out->level[GW_MPI_F_BIRTH] == GW_MPI_L_PARTIAL) &&
                      (out->level[GW_MPI_F_PHONE] == GW_MPI_L_EXACT ||
                       out->level[GW_MPI_F_ADDRESS] == GW_MPI_L_EXACT ||
                       out->level[GW_MPI_F_ADDRESS] == GW_MPI_L_PARTIAL);
}

const char *
gw_mpi_field_name(enum gw_mpi_field f)
{
    static const char *const n[GW_MPI_F_COUNT] = {"name", "birthDate", "gender", "phone",
                                                  "address"};

    return (unsigned)f < GW_MPI_F_COUNT ? n[f] : "?";
}

const char *
gw_mpi_level_name(enum gw_mpi_level l)
{
    static const char *const n[GW_MPI_L_COUNT] = {"missing", "exact", "phonetic",
                                                  "partial", "weak",  "disagree"};

    return (unsigned)l < GW_MPI_L_COUNT ? n[l] : "?";
}
