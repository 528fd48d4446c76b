/*
 * gateway/mpi/record.c — records as rows, and their blocking keys.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/mpi/mpi_int.h"

static const char *
dup_val(struct base_arena *a, const PGresult *r, int row, int col)
{
    const char *v = base_arena_strdup(a, mpi_val(r, row, col));

    return v != NULL ? v : "";
}

/* phones is a text[] of digit strings: "{13800138000,01065123456}". */
static void
parse_phones(struct base_arena *a, const char *v, struct gw_mpi_identity *id)
{
    if (v[0] != '{')
        return;
    v++;
    while (*v != '\0' && *v != '}' && id->n_phone < GW_MPI_MAX_PHONES) {
        size_t n = strcspn(v, ",}");
        const char *p = base_arena_strndup(a, v, n);

        if (p != NULL && n > 0)
            id->phone[id->n_phone++] = p;
        v += n;
        if (*v == ',')
            v++;
    }
}

int
mpi_row_from_result(struct base_arena *a, const PGresult *r, int row, struct mpi_row *out)
{
    struct gw_mpi_identity *id = &out->id;
    const char *resid;

    memset(out, 0, sizeof(*out));
    out->record_id = mpi_i64(r, row, 0);
    out->person_id = dup_val(a, r, row, 1);
    id->member = dup_val(a, r, row, 2);
    id->key.system = dup_val(a, r, row, 3);
    id->key.value = dup_val(a, r, row, 4);
    id->local[0] = id->key;
    id->n_local = 1;
    resid = mpi_val(r, row, 5);
    if (strlen(resid) == 18) {
        id->has_resid = true;
        memcpy(id->resid.number, resid, 19);
    }
    id->name_han = dup_val(a, r, row, 6);
    id->name_py = dup_val(a, r, row, 7);
    id->name_py_family = dup_val(a, r, row, 8);
    id->name_py_given = dup_val(a, r, row, 9);
    id->name_latin_only = mpi_val(r, row, 10)[0] == 't';
    id->birth_year = (int)mpi_i64(r, row, 11);
    id->birth_month = (int)mpi_i64(r, row, 12);
    id->birth_day = (int)mpi_i64(r, row, 13);
    id->sex = (enum gw_mpi_sex)mpi_i64(r, row, 14);
    parse_phones(a, mpi_val(r, row, 15), id);
    id->addr_province = dup_val(a, r, row, 16);
    id->addr_city = dup_val(a, r, row, 17);
    id->addr_district = dup_val(a, r, row, 18);
    id->addr_detail = dup_val(a, r, row, 19);
    out->person_pk = mpi_i64(r, row, 20);
    return BASE_OK;
}

struct keys {
    struct base_arena *a;
    const char **k;
    size_t n;
    size_t cap;
};

/* "<tag>:<s1>" or "<tag>:<s1>:<s2>" */
static int
add_key(struct keys *ks, const char *tag, const char *s1, const char *s2)
{
    char buf[256];

    if (ks->n + 1 >= ks->cap)
        return BASE_OK;
    snprintf(buf, sizeof(buf), "%s:%s%s%s", tag, s1, s2[0] ? ":" : "", s2);
    for (size_t i = 0; i < ks->n; i++) {
        if (strcmp(ks->k[i], buf) == 0)
            return BASE_OK;
    }
    ks->k[ks->n] = base_arena_strdup(ks->a, buf);
    if (ks->k[ks->n] == NULL)
        return BASE_E_NOMEM;
    ks->n++;
    return BASE_OK;
}

/* Name keys for both orders of a romanized name. */
static int
name_keys(struct keys *ks, const struct gw_mpi_identity *id, const char *year, const char *mmdd,
          bool swap)
{
    char f[64];
    char g[64];
    char full[160];

    gw_mpi_pinyin_fuzzy(id->name_py_family, f, sizeof(f));
    gw_mpi_pinyin_fuzzy(id->name_py_given, g, sizeof(g));
    if (f[0] == '\0' && g[0] == '\0')
        gw_mpi_pinyin_fuzzy(id->name_py, f, sizeof(f));
    snprintf(full, sizeof(full), "%s%s", swap ? g : f, swap ? f : g);
    if (full[0] == '\0')
        return BASE_OK;
    if (year[0] != '\0')
        TRY(add_key(ks, "n", full, year));
    if (mmdd[0] != '\0')
        TRY(add_key(ks, "m", full, mmdd));
    return BASE_OK;
}

/*
 * Blocking keys (docs/design/mpi.md, "Blocking").  A true match is found if
 * it shares one key; each key tolerates a different error:
 *   d:<YYYYMMDD>:<family initial>  name typos and homophones (same initial)
 *   n:<fuzzy pinyin>:<year>        day/month transposed, wrong day
 *   m:<fuzzy pinyin>:<MMDD>        wrong year digit
 *   p:<last 8 phone digits>        wrong or missing birth date
 *   h:<han name>:<district>        missing birth date, no phone
 */
int
mpi_block_keys(struct base_arena *a, const struct gw_mpi_identity *id, const char ***out)
{
    struct keys ks = {a, NULL, 0, 16};
    char year[16] = "";
    char mmdd[24] = "";
    char date[48];
    char init[2] = {id->name_py[0], '\0'};

    ks.k = BASE_NEW_N(a, const char *, ks.cap);
    if (ks.k == NULL)
        return BASE_E_NOMEM;
    if (id->birth_year > 0)
        snprintf(year, sizeof(year), "%04d", id->birth_year);
    if (id->birth_month > 0 && id->birth_day > 0) {
        snprintf(mmdd, sizeof(mmdd), "%02d%02d", id->birth_month, id->birth_day);
        snprintf(date, sizeof(date), "%s%s", year, mmdd);
        TRY(add_key(&ks, "d", date, init));
    }
    TRY(name_keys(&ks, id, year, mmdd, false));
    if (id->name_latin_only && id->name_py_given[0] != '\0')
        TRY(name_keys(&ks, id, year, mmdd, true));
    for (size_t i = 0; i < id->n_phone; i++) {
        size_t l = strlen(id->phone[i]);

        TRY(add_key(&ks, "p", l > 8 ? id->phone[i] + l - 8 : id->phone[i], ""));
    }
    if (id->name_han[0] != '\0' && id->addr_district[0] != '\0')
        TRY(add_key(&ks, "h", id->name_han, id->addr_district));
    ks.k[ks.n] = NULL;
    *out = ks.k;
    return BASE_OK;
}
