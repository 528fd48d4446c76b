/*
 * gateway/mpi/pdq.c — PDQm (IHE ITI-78) search over the regional persons.
 *
 * The parameters (gw_mpi_pdq_param, pure) become criteria; each criterion
 * is one SQL condition over a member record, its values ORed (R4
 * search.html#combining), the criteria ANDed.  The SQL text is assembled
 * from fixed fragments chosen by field and modifier; every value is a bound
 * parameter.  Identifiers, _id and the regional id are person-level (any
 * record of the person), the demographics record-level (one record holds
 * them all, as before).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "gateway/mpi/mpi_int.h"

#define PDQ_MAX_ARGS ((int)GW_MPI_LIMIT_PDQ_TERMS * 3 + 4)
#define PDQ_MAX_SQL  (64u << 10)

/* ---- parameters (pure) ------------------------------------------------------ */

static const struct {
    const char *name;
    enum gw_mpi_pdq_field field;
} PDQ_FIELDS[] = {
    {"_id", GW_MPI_PDQ_ID},
    {"identifier", GW_MPI_PDQ_IDENTIFIER},
    {"name", GW_MPI_PDQ_NAME},
    {"family", GW_MPI_PDQ_FAMILY},
    {"given", GW_MPI_PDQ_GIVEN},
    {"birthdate", GW_MPI_PDQ_BIRTHDATE},
    {"gender", GW_MPI_PDQ_GENDER},
    {"telecom", GW_MPI_PDQ_TELECOM},
    {"phone", GW_MPI_PDQ_TELECOM},
    {"address", GW_MPI_PDQ_ADDRESS},
    {"address-city", GW_MPI_PDQ_ADDRESS_CITY},
    {"address-state", GW_MPI_PDQ_ADDRESS_STATE},
    {"address-postalcode", GW_MPI_PDQ_ADDRESS_POSTALCODE},
    {"address-country", GW_MPI_PDQ_ADDRESS_COUNTRY},
    {"mothersMaidenName", GW_MPI_PDQ_MOTHERS_MAIDEN_NAME},
};

static bool
is_string_field(enum gw_mpi_pdq_field f)
{
    return f == GW_MPI_PDQ_NAME || f == GW_MPI_PDQ_FAMILY || f == GW_MPI_PDQ_GIVEN ||
           f >= GW_MPI_PDQ_ADDRESS;
}

/* FHIR id syntax (R4 datatypes.html#id) */
static bool
fhir_id_ok(const char *id)
{
    size_t n = strlen(id);

    return n >= 1 && n <= 64 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

int
gw_mpi_pdq_date(const char *value, struct gw_mpi_date_bound *out, struct base_err *err)
{
    static const char *const prefixes[] = {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"};
    struct gw_mpi_date_bound b = {"eq", 0, 0};
    const char *s = value;
    int y, m, d;

    if (s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z') {
        size_t k = 0;

        while (k < BASE_ARRAY_LEN(prefixes) && strncmp(s, prefixes[k], 2) != 0)
            k++;
        /* ap ("approximately") is for the server to define (R4
         * search.html#prefix); a birth date search should say what it means */
        ENSURE(k < BASE_ARRAY_LEN(prefixes), err, BASE_E_INVALID, "value", "birthdate",
               "birthdate prefixes are eq, ne, gt, lt, ge, le, sa and eb");
        memcpy(b.op, s, 2);
        s += 2;
    }
    /* a date, to the day at most: birthDate is a FHIR date */
    ENSURE(strlen(s) <= 10 && gw_mpi_norm_birth_date(s, strlen(s), &y, &m, &d), err, BASE_E_INVALID,
           "value", "birthdate",
           "birthdate must be a date (YYYY, YYYY-MM or YYYY-MM-DD), with an optional prefix");
    b.lo = y * 10000 + (m > 0 ? m : 1) * 100 + (d > 0 ? d : 1);
    b.hi = y * 10000 + (m > 0 ? m : 12) * 100 + (d > 0 ? d : 31);
    *out = b;
    return BASE_OK;
}

/* The identifier token (R4 search.html#token): SYSTEM|VALUE, |VALUE (no
 * system), VALUE (any system), or SYSTEM| (ITI-78: that domain). */
static int
identifier_term(struct base_arena *a, struct gw_mpi_pdq_query *q, char *v,
                struct gw_mpi_pdq_term *t, struct base_err *err)
{
    char *bar = strchr(v, '|');
    struct gw_mpi_resid rid;

    t->system = NULL;
    t->value = v;
    if (bar != NULL) {
        *bar = '\0';
        t->system = v;
        t->value = bar + 1;
    }
    ENSURE(t->value[0] != '\0' || (t->system != NULL && t->system[0] != '\0'), err, BASE_E_INVALID,
           "value", "identifier", "identifier must be [SYSTEM|]VALUE or SYSTEM|");
    ENSURE(strlen(t->value) <= GW_MPI_LIMIT_VALUE &&
               (t->system == NULL || strlen(t->system) <= GW_MPI_LIMIT_SYSTEM),
           err, BASE_E_INVALID, "value", "identifier", "identifier too long");
    if (t->value[0] == '\0') {
        ENSURE(q->n_domains < GW_MPI_LIMIT_PDQ_TERMS, err, BASE_E_INVALID, "too-costly",
               "identifier", "too many identifier domains");
        q->domains[q->n_domains++] = t->system;
        return BASE_OK;
    }
    /* GB 11643: a resident identity number is checked before use */
    if (t->system != NULL && strcmp(t->system, GW_MPI_RESID_SYSTEM) == 0) {
        struct base_err why = {0};

        /* the parameter is where the client can look; the reason stays */
        if (gw_mpi_resid_parse(t->value, strlen(t->value), 0, &rid, &why) != BASE_OK)
            return base_err_set(err, BASE_E_INVALID, "value", "identifier", "%s", why.msg);
        t->value = base_arena_strdup(a, rid.number);
        ENSURE(t->value != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    return BASE_OK;
}

static int
term_of(struct base_arena *a, struct gw_mpi_pdq_query *q, enum gw_mpi_pdq_field f, char *v,
        struct gw_mpi_pdq_term *t, struct base_err *err)
{
    const char *bar;

    memset(t, 0, sizeof(*t));
    t->value = v;
    switch (f) {
    case GW_MPI_PDQ_ID:
        ENSURE(fhir_id_ok(v), err, BASE_E_INVALID, "value", "_id", "_id must be a FHIR id");
        return BASE_OK;
    case GW_MPI_PDQ_IDENTIFIER:
        return identifier_term(a, q, v, t, err);
    case GW_MPI_PDQ_NAME:
    case GW_MPI_PDQ_FAMILY:
    case GW_MPI_PDQ_GIVEN:
        ENSURE(v[0] != '\0' && strlen(v) <= GW_MPI_LIMIT_NAME, err, BASE_E_INVALID, "value", "name",
               "a name must be 1 to %u bytes", GW_MPI_LIMIT_NAME);
        return BASE_OK;
    case GW_MPI_PDQ_BIRTHDATE:
        return gw_mpi_pdq_date(v, &t->date, err);
    case GW_MPI_PDQ_GENDER:
        ENSURE(gw_mpi_norm_gender(v) != GW_MPI_SEX_UNKNOWN || strcmp(v, "unknown") == 0, err,
               BASE_E_INVALID, "value", "gender", "gender must be male, female, other or unknown");
        return BASE_OK;
    case GW_MPI_PDQ_TELECOM:
        /* token: "phone|138…" or the number alone (ITI-78 telecom) */
        bar = strchr(v, '|');
        t->value = bar != NULL ? bar + 1 : v;
        ENSURE(t->value[0] != '\0' && strlen(t->value) <= GW_MPI_LIMIT_PHONE, err, BASE_E_INVALID,
               "value", "telecom", "telecom must be a phone number");
        return BASE_OK;
    default:
        /* a part of an address (or a name), not a pattern */
        ENSURE(v[0] != '\0' && strlen(v) <= 128, err, BASE_E_INVALID, "value",
               f == GW_MPI_PDQ_MOTHERS_MAIDEN_NAME ? "mothersMaidenName" : "address",
               "the value must be 1 to 128 characters");
        return BASE_OK;
    }
}

/* Cut `v` at its bare commas (R4 search.html#combining: alternatives);
 * "\," is a comma in a value.  The pieces stay in `v`. */
static size_t
split_or(char *v, char **pieces, size_t max)
{
    size_t n = 0;
    char *w = v;

    pieces[n++] = v;
    for (char *r = v; *r != '\0'; r++) {
        if (r[0] == '\\' && r[1] == ',') {
            *w++ = *++r;
        } else if (r[0] == ',') {
            *w++ = '\0';
            if (n == max)
                return max + 1;
            pieces[n++] = w;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return n;
}

/* active (token true|false, OR list): every regional person is active
 * (a merged one resolves to its survivor), so a parameter without "true"
 * matches nobody. */
static int
active_param(struct gw_mpi_pdq_query *q, char *v, struct base_err *err)
{
    char *alt[GW_MPI_LIMIT_PDQ_TERMS];
    size_t n = split_or(v, alt, BASE_ARRAY_LEN(alt));
    bool any_true = false;

    ENSURE(n <= BASE_ARRAY_LEN(alt), err, BASE_E_INVALID, "too-costly", "active",
           "too many values");
    for (size_t i = 0; i < n; i++) {
        ENSURE(strcmp(alt[i], "true") == 0 || strcmp(alt[i], "false") == 0, err, BASE_E_INVALID,
               "value", "active", "active must be true or false");
        any_true = any_true || strcmp(alt[i], "true") == 0;
    }
    q->active_given = true;
    q->inactive_only = q->inactive_only || !any_true;
    return BASE_OK;
}

int
gw_mpi_pdq_param(struct base_arena *a, struct gw_mpi_pdq_query *q, const char *name,
                 const char *value, struct base_err *err)
{
    const char *colon = strchr(name, ':');
    size_t len = colon != NULL ? (size_t)(colon - name) : strlen(name);
    struct gw_mpi_pdq_criterion *c;
    char *alt[GW_MPI_LIMIT_PDQ_TERMS];
    char *v = base_arena_strdup(a, value);
    size_t k = 0;
    size_t n;

    ENSURE(v != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    if (len == 6 && strncmp(name, "active", 6) == 0 && colon == NULL)
        return active_param(q, v, err);
    while (k < BASE_ARRAY_LEN(PDQ_FIELDS) &&
           !(strlen(PDQ_FIELDS[k].name) == len && strncmp(PDQ_FIELDS[k].name, name, len) == 0))
        k++;
    ENSURE(k < BASE_ARRAY_LEN(PDQ_FIELDS), err, BASE_E_INVALID, "not-supported", "query",
           "unknown search parameter for Patient");
    ENSURE(q->n_crit < GW_MPI_LIMIT_PDQ_PARAMS, err, BASE_E_INVALID, "too-costly", "query",
           "at most %u search parameters", GW_MPI_LIMIT_PDQ_PARAMS);
    c = &q->crit[q->n_crit];
    memset(c, 0, sizeof(*c));
    c->field = PDQ_FIELDS[k].field;
    /* :exact and :contains on the string parameters (R4 search.html#string;
     * ITI-78 2:3.78.4.1.2.2 requires :exact) */
    if (colon != NULL) {
        bool exact = strcmp(colon, ":exact") == 0;

        ENSURE(is_string_field(c->field) && (exact || strcmp(colon, ":contains") == 0), err,
               BASE_E_INVALID, "not-supported", "query",
               "unsupported search parameter modifier for Patient");
        c->match = exact ? GW_MPI_PDQ_EXACT : GW_MPI_PDQ_CONTAINS;
    }
    if (c->field >= GW_MPI_PDQ_ADDRESS) {
        /* address parts and mothersMaidenName keep their commas: real
         * addresses hold them and clients rarely escape them */
        alt[0] = v;
        n = 1;
    } else {
        n = split_or(v, alt, BASE_ARRAY_LEN(alt));
    }
    ENSURE(n <= GW_MPI_LIMIT_PDQ_TERMS - q->n_terms, err, BASE_E_INVALID, "too-costly", "query",
           "at most %u values in one search", GW_MPI_LIMIT_PDQ_TERMS);
    if (c->field == GW_MPI_PDQ_BIRTHDATE) {
        size_t dates = 0;

        for (size_t i = 0; i < q->n_crit; i++)
            dates += q->crit[i].field == GW_MPI_PDQ_BIRTHDATE;
        ENSURE(dates < GW_MPI_LIMIT_PDQ_BIRTHDATES, err, BASE_E_INVALID, "too-costly", "birthdate",
               "at most %d birthdate parameters", GW_MPI_LIMIT_PDQ_BIRTHDATES);
    }
    c->first = q->n_terms;
    for (size_t i = 0; i < n; i++)
        TRY(term_of(a, q, c->field, alt[i], &q->terms[c->first + i], err));
    c->n = n;
    q->n_terms += n;
    q->n_crit++;
    return BASE_OK;
}

/* ---- SQL ------------------------------------------------------------------------ */

struct pdq_sql {
    struct base_buf b;
    const char *p[PDQ_MAX_ARGS];
    int n;
    int rc;
};

/* The next bound parameter's number ($n), holding `v` (NULL: out of
 * memory, remembered in s->rc). */
static int
arg(struct pdq_sql *s, const char *v)
{
    if (v == NULL && s->rc == BASE_OK)
        s->rc = BASE_E_NOMEM;
    if (s->n >= PDQ_MAX_ARGS) {
        s->rc = s->rc == BASE_OK ? BASE_E_LIMIT : s->rc;
        return s->n;
    }
    s->p[s->n++] = v;
    return s->n;
}

static void BASE_PRINTF(2, 3) put(struct pdq_sql *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (s->rc == BASE_OK)
        s->rc = base_buf_vappendf(&s->b, fmt, ap);
    va_end(ap);
}

static int
norm_query_name(struct base_arena *a, const char *s, const char **han, const char **py,
                struct base_err *err)
{
    const char *syl;

    TRY(gw_mpi_norm_name(a, s, strlen(s), han, py, &syl, err));
    if ((*han)[0] == '\0')
        *han = NULL;
    if ((*py)[0] == '\0')
        *py = NULL;
    return BASE_OK;
}

/*
 * A name value against a record (normalized: Han characters, pinyin a-z,
 * safe in a LIKE pattern).  A Han value matches the same characters, or a
 * romanized record by its pinyin; a pinyin value matches by sound, Han
 * records included.  By default a part starting with the value matches
 * (R4 search.html#string: `name=赵` or `name=zhao` finds 赵浩 by the family
 * name).  The family name has no Han column of its own: a Han family is a
 * prefix of the Han name and, for :exact and :contains, its pinyin is that
 * of the record's family.  Given names compare by pinyin.
 */
static int
name_sql(struct pdq_sql *s, struct base_arena *a, enum gw_mpi_pdq_field f, enum gw_mpi_pdq_match m,
         const char *value, struct base_err *err)
{
    const char *han;
    const char *py;
    int h, p;

    TRY(norm_query_name(a, value, &han, &py, err));
    if (py == NULL) {
        put(s, "false");
        return BASE_OK;
    }
    p = arg(s, py);
    h = han != NULL ? arg(s, han) : 0;
    if (f == GW_MPI_PDQ_GIVEN || (f == GW_MPI_PDQ_FAMILY && han == NULL) ||
        (f == GW_MPI_PDQ_FAMILY && m == GW_MPI_PDQ_CONTAINS)) {
        const char *col = f == GW_MPI_PDQ_GIVEN ? "r.name_py_given" : "r.name_py_family";

        if (m == GW_MPI_PDQ_EXACT)
            put(s, "%s = $%d::text", col, p);
        else if (m == GW_MPI_PDQ_CONTAINS)
            put(s, "strpos(%s, $%d::text) > 0", col, p);
        else
            put(s, "%s LIKE $%d::text || '%%'", col, p);
    } else if (f == GW_MPI_PDQ_FAMILY) {
        /* :exact: the record's family is the value's, 欧 is not 欧阳 */
        if (m == GW_MPI_PDQ_EXACT)
            put(s,
                "((r.name_han LIKE $%d::text || '%%' AND r.name_py_family = $%d::text) OR "
                "(r.name_han = '' AND r.name_py_family = $%d::text))",
                h, p, p);
        else
            put(s,
                "(r.name_han LIKE $%d::text || '%%' OR (r.name_han = '' AND "
                "r.name_py_family = $%d::text))",
                h, p);
    } else if (han != NULL) {
        if (m == GW_MPI_PDQ_CONTAINS)
            put(s,
                "(strpos(r.name_han, $%d::text) > 0 OR (r.name_han = '' AND "
                "strpos(r.name_py, $%d::text) > 0))",
                h, p);
        else
            put(s,
                "(r.name_han %s $%d::text%s OR (r.name_han = '' AND (r.name_py = $%d::text OR "
                "r.name_py_given || r.name_py_family = $%d::text)))",
                m == GW_MPI_PDQ_EXACT ? "=" : "LIKE", h, m == GW_MPI_PDQ_EXACT ? "" : " || '%'", p,
                p);
    } else if (m == GW_MPI_PDQ_CONTAINS) {
        put(s,
            "(strpos(r.name_py, $%d::text) > 0 OR strpos(r.name_py_given || r.name_py_family, "
            "$%d::text) > 0)",
            p, p);
    } else if (m == GW_MPI_PDQ_EXACT) {
        put(s, "(r.name_py = $%d::text OR r.name_py_given || r.name_py_family = $%d::text)", p, p);
    } else {
        put(s,
            "(r.name_py_given || r.name_py_family = $%d::text OR r.name_py LIKE $%d::text || "
            "'%%' OR r.name_py_given LIKE $%d::text || '%%')",
            p, p, p);
    }
    return BASE_OK;
}

/* `x` (an SQL text expression) against bound parameter $k, as modifier `m`
 * says; case-insensitive but for :exact (R4 search.html#string). */
static void
text_cmp(struct pdq_sql *s, const char *x, enum gw_mpi_pdq_match m, int k)
{
    if (m == GW_MPI_PDQ_EXACT)
        put(s, "%s = $%d::text", x, k);
    else if (m == GW_MPI_PDQ_CONTAINS)
        put(s, "strpos(lower(%s), lower($%d::text)) > 0", x, k);
    else
        put(s, "starts_with(lower(%s), lower($%d::text))", x, k);
}

#define PDQ_ADDRESSES                                                                              \
    "jsonb_array_elements(CASE WHEN jsonb_typeof(r.resource->'address') = 'array' THEN "           \
    "r.resource->'address' ELSE '[]' END) ad"

/* ITI-78 address parameters over every address the member reported;
 * `address` looks in every part (line, city, district, state, postalCode,
 * country, text), anywhere in it by default: Chinese addresses run
 * together without separators. */
static void
address_sql(struct pdq_sql *s, enum gw_mpi_pdq_field f, enum gw_mpi_pdq_match m, const char *v)
{
    static const char *const part[] = {"ad->>'city'", "ad->>'state'", "ad->>'postalCode'",
                                       "ad->>'country'"};
    int k = arg(s, v);

    if (f == GW_MPI_PDQ_MOTHERS_MAIDEN_NAME) {
        put(s, "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof("
               "r.resource->'extension') = 'array' THEN r.resource->'extension' ELSE '[]' END) ex "
               "WHERE ex->>'url' = '" MPI_MOTHERS_MAIDEN_NAME_URL "' AND ");
        text_cmp(s, "(ex->>'valueString')", m, k);
        put(s, ")");
        return;
    }
    if (f == GW_MPI_PDQ_ADDRESS) {
        put(s, "EXISTS (SELECT 1 FROM " PDQ_ADDRESSES ", LATERAL (SELECT ad->>'text' UNION ALL "
               "SELECT ad->>'city' UNION ALL SELECT ad->>'district' UNION ALL SELECT ad->>'state' "
               "UNION ALL SELECT ad->>'postalCode' UNION ALL SELECT ad->>'country' UNION ALL "
               "SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(ad->'line') = 'array' "
               "THEN ad->'line' ELSE '[]' END)) part(v) WHERE ");
        text_cmp(s, "part.v", m == GW_MPI_PDQ_DEFAULT ? GW_MPI_PDQ_CONTAINS : m, k);
        put(s, ")");
        return;
    }
    put(s, "EXISTS (SELECT 1 FROM " PDQ_ADDRESSES " WHERE ");
    text_cmp(s, part[f - GW_MPI_PDQ_ADDRESS_CITY], m, k);
    put(s, ")");
}

/* The person (following merges) a regional id names, as a bigint text;
 * NULL when none. */
static int
regional_pk(PGconn *db, struct base_arena *a, const char *id, const char **out,
            struct base_err *err)
{
    int64_t pk = 0;
    int rc = mpi_person_by_public(db, a, id, &pk, err);

    *out = NULL;
    if (rc == BASE_E_NOTFOUND) {
        base_err_clear(err);
        return BASE_OK;
    }
    TRY(rc);
    *out = base_arena_sprintf(a, "%lld", (long long)pk);
    ENSURE(*out != NULL, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    return BASE_OK;
}

/* Person-level conditions are "= ANY(ARRAY(subquery))": the subquery runs
 * once (an InitPlan) and the record is then found through its person_id
 * index, also under OR, where "IN (subquery)" would become a hashed
 * SubPlan tested against every record. */
#define PDQ_HOLDERS                                                                                \
    "r.person_id = ANY(ARRAY(SELECT r2.person_id FROM mpi.identifier i JOIN mpi.record r2 ON "     \
    "r2.id = i.record_id WHERE "
#define PDQ_RESIDENTS "r.person_id = ANY(ARRAY(SELECT person_id FROM mpi.record WHERE resident_id "

/*
 * An identifier token, person-level: with a system, the persons holding
 * SYSTEM|VALUE (the regional id and the resident id have their own
 * columns); without, VALUE in any system; SYSTEM| every person holding an
 * identifier of that domain; |VALUE nobody (the index keeps no identifier
 * without a system).
 */
static int
identifier_sql(struct pdq_sql *s, PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
               const struct gw_mpi_pdq_term *t, struct base_err *err)
{
    const char *sys = t->system;
    const char *pk = NULL;
    struct gw_mpi_resid rid;
    bool any = sys == NULL;

    if (sys != NULL && sys[0] == '\0') {
        put(s, "false");
        return BASE_OK;
    }
    if (t->value[0] == '\0') {
        if (strcmp(sys, cfg->person_system) == 0)
            put(s, "true");
        else if (strcmp(sys, GW_MPI_RESID_SYSTEM) == 0)
            put(s, PDQ_RESIDENTS "<> ''))");
        else
            put(s, PDQ_HOLDERS "i.system = $%d::text))", arg(s, sys));
        return BASE_OK;
    }
    put(s, "(false");
    if (any || strcmp(sys, cfg->person_system) == 0) {
        TRY(regional_pk(db, a, t->value, &pk, err));
        if (pk != NULL)
            put(s, " OR r.person_id = $%d::bigint", arg(s, pk));
    }
    if ((any || strcmp(sys, GW_MPI_RESID_SYSTEM) == 0) &&
        gw_mpi_resid_parse(t->value, strlen(t->value), cfg->today, &rid, NULL) == BASE_OK)
        put(s, " OR " PDQ_RESIDENTS "= $%d::text))", arg(s, base_arena_strdup(a, rid.number)));
    if (any)
        put(s, " OR " PDQ_HOLDERS "i.value = $%d::text))", arg(s, t->value));
    else if (strcmp(sys, cfg->person_system) != 0 && strcmp(sys, GW_MPI_RESID_SYSTEM) != 0)
        put(s, " OR " PDQ_HOLDERS "i.system = $%d::text AND i.value = $%d::text))", arg(s, sys),
            arg(s, t->value));
    put(s, ")");
    return BASE_OK;
}

/* The record's birth date as the days it stands for ("1980" is all of
 * 1980), against a bound (R4 search.html#prefix; ge/le are the range above
 * or below, or equal). */
#define RB_LO "(r.birth_year * 10000 + greatest(r.birth_month, 1) * 100 + greatest(r.birth_day, 1))"
#define RB_HI                                                                                      \
    "(r.birth_year * 10000 + (CASE WHEN r.birth_month = 0 THEN 12 ELSE r.birth_month END) * 100 "  \
    "+ (CASE WHEN r.birth_day = 0 THEN 31 ELSE r.birth_day END))"
#define RB_IN "(" RB_LO " >= $%d::int AND " RB_HI " <= $%d::int)"

static int
birthdate_sql(struct pdq_sql *s, struct base_arena *a, const struct gw_mpi_date_bound *b)
{
    const char *lo = base_arena_sprintf(a, "%d", b->lo);
    const char *hi = base_arena_sprintf(a, "%d", b->hi);
    const char *op = b->op;

    put(s, "(r.birth_year > 0 AND ");
    if (strcmp(op, "gt") == 0)
        put(s, RB_HI " > $%d::int", arg(s, hi));
    else if (strcmp(op, "sa") == 0)
        put(s, RB_LO " > $%d::int", arg(s, hi));
    else if (strcmp(op, "lt") == 0)
        put(s, RB_LO " < $%d::int", arg(s, lo));
    else if (strcmp(op, "eb") == 0)
        put(s, RB_HI " < $%d::int", arg(s, lo));
    else {
        int l = arg(s, lo);
        int h = arg(s, hi);

        if (strcmp(op, "ne") == 0)
            put(s, "NOT " RB_IN, l, h);
        else if (strcmp(op, "ge") == 0)
            put(s, "(" RB_HI " > $%d::int OR " RB_IN ")", h, l, h);
        else if (strcmp(op, "le") == 0)
            put(s, "(" RB_LO " < $%d::int OR " RB_IN ")", l, l, h);
        else
            put(s, RB_IN, l, h);
    }
    put(s, ")");
    return BASE_OK;
}

static int
term_sql(struct pdq_sql *s, PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
         const struct gw_mpi_pdq_criterion *c, const struct gw_mpi_pdq_term *t,
         struct base_err *err)
{
    char phone[24];

    switch (c->field) {
    case GW_MPI_PDQ_ID:
        /* the person with that id (not its survivor: _id is the resource's
         * own id); an id that is no UUID names nobody here */
        if (mpi_uuid_syntax(t->value))
            put(s, "r.person_id = (SELECT p.id FROM mpi.person p WHERE p.public_id = $%d::uuid)",
                arg(s, t->value));
        else
            put(s, "false");
        return BASE_OK;
    case GW_MPI_PDQ_IDENTIFIER:
        return identifier_sql(s, db, a, cfg, t, err);
    case GW_MPI_PDQ_NAME:
    case GW_MPI_PDQ_FAMILY:
    case GW_MPI_PDQ_GIVEN:
        return name_sql(s, a, c->field, c->match, t->value, err);
    case GW_MPI_PDQ_BIRTHDATE:
        return birthdate_sql(s, a, &t->date);
    case GW_MPI_PDQ_GENDER:
        put(s, "r.sex = $%d::int",
            arg(s, base_arena_sprintf(a, "%d", (int)gw_mpi_norm_gender(t->value))));
        return BASE_OK;
    case GW_MPI_PDQ_TELECOM:
        /* as the records keep them; a number that is no number matches none */
        if (gw_mpi_norm_phone(t->value, strlen(t->value), phone) == GW_MPI_PHONE_NONE)
            put(s, "false");
        else
            put(s, "$%d::text = ANY(r.phones)", arg(s, base_arena_strdup(a, phone)));
        return BASE_OK;
    default:
        address_sql(s, c->field, c->match, t->value);
        return BASE_OK;
    }
}

/* SELECT … FROM mpi.record r WHERE <every criterion> */
static int
where_sql(struct pdq_sql *s, PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
          const struct gw_mpi_pdq_query *q, const char *select, struct base_err *err)
{
    put(s, "%s FROM mpi.record r WHERE true", select);
    for (size_t i = 0; i < q->n_crit; i++) {
        const struct gw_mpi_pdq_criterion *c = &q->crit[i];

        put(s, " AND (false");
        for (size_t k = 0; k < c->n; k++) {
            put(s, " OR ");
            TRY(term_sql(s, db, a, cfg, c, &q->terms[c->first + k], err));
        }
        put(s, ")");
    }
    return BASE_OK;
}

/* The persons matching q: one page of them (`count`, after q->after) in
 * person order, or (count_only) how many. */
static int
pdq_run(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
        const struct gw_mpi_pdq_query *q, size_t count, bool count_only, PGresult **out,
        struct base_err *err)
{
    struct pdq_sql s = {.rc = BASE_OK};
    int rc;

    base_buf_init(&s.b, PDQ_MAX_SQL);
    rc = where_sql(
        &s, db, a, cfg, q,
        count_only ? "SELECT count(DISTINCT r.person_id)" : "SELECT DISTINCT r.person_id", err);
    if (rc == BASE_OK && !count_only) {
        /* a page's last entry is where the next one starts */
        if (q->after != NULL && mpi_uuid_syntax(q->after))
            put(&s,
                " AND r.person_id > (SELECT p.id FROM mpi.person p WHERE p.public_id = "
                "$%d::uuid)",
                arg(&s, q->after));
        else if (q->after != NULL)
            put(&s, " AND false");
        put(&s, " ORDER BY r.person_id LIMIT $%d::int",
            arg(&s, base_arena_sprintf(a, "%zu", count)));
    }
    if (rc == BASE_OK && s.rc != BASE_OK)
        rc = base_err_set(err, s.rc == BASE_E_NOMEM ? BASE_E_NOMEM : BASE_E_INVALID,
                          s.rc == BASE_E_NOMEM ? "exception" : "too-costly", "query",
                          "the search is too large");
    if (rc == BASE_OK) {
        char *sql = base_buf_dup0(&s.b, a);

        rc = sql == NULL ? base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory")
                         : mpi_q(db, a, sql, s.n, s.p, PGRES_TUPLES_OK, out, err);
    }
    base_buf_fini(&s.b);
    return rc;
}

/* Only the identifiers of the domains asked for (ITI-78 Case 2). */
static void
keep_domains(json_t *pt, const struct gw_mpi_pdq_query *q)
{
    json_t *ids = json_object_get(pt, "identifier");

    for (size_t i = 0; q->n_domains > 0 && i < json_array_size(ids);) {
        const char *sys = json_string_value(json_object_get(json_array_get(ids, i), "system"));
        bool keep = false;

        for (size_t k = 0; sys != NULL && !keep && k < q->n_domains; k++)
            keep = strcmp(sys, q->domains[k]) == 0;
        if (keep)
            i++;
        else
            json_array_remove(ids, i);
    }
    if (q->n_domains > 0 && json_array_size(ids) == 0)
        json_object_del(pt, "identifier");
}

static int
bundle_add(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
           const struct gw_mpi_pdq_query *q, int64_t pk, const char *base_url, json_t *entries,
           struct base_err *err)
{
    json_t *pt = NULL;

    TRY(mpi_patient_of(db, a, cfg, pk, &pt, err));
    keep_domains(pt, q);
    return mpi_entry_append(a, base_url, entries,
                            json_pack("{s:o, s:{s:s}}", "resource", pt, "search", "mode", "match"),
                            err);
}

/* Past GW_MPI_LIMIT_PDQ_MATCHES: the first page and a word on why no more
 * follow (R4 search.html#errors: an outcome entry says what was not done). */
static int
cap_outcome(json_t *entries, struct base_err *err)
{
    json_t *oo = fhir_outcome_new();
    char msg[128];

    snprintf(msg, sizeof(msg),
             "more than %u persons match; only the first page is given: narrow the search",
             GW_MPI_LIMIT_PDQ_MATCHES);
    ENSURE(oo != NULL && fhir_outcome_add(oo, "warning", "too-costly", NULL, msg) == BASE_OK &&
               json_array_append_new(entries, json_pack("{s:o, s:{s:s}}", "resource", oo, "search",
                                                        "mode", "outcome")) == 0,
           err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    return BASE_OK;
}

/* A page of persons: `count` of them and whether more follow (one more is
 * asked for); `total` every match (counted apart only when the page does
 * not show them all). */
static int
pdq_page(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
         const struct gw_mpi_pdq_query *q, size_t count, const char *base_url, json_t *entries,
         size_t *total, bool *more, struct base_err *err)
{
    PGresult *r;
    size_t n;

    TRY(pdq_run(db, a, cfg, q, count + 1, false, &r, err));
    n = (size_t)PQntuples(r);
    *more = n > count;
    if (!*more && q->after == NULL) {
        *total = n;
    } else {
        PGresult *c;

        TRY(pdq_run(db, a, cfg, q, 0, true, &c, err));
        *total = (size_t)mpi_i64(c, 0, 0);
    }
    ENSURE(*total <= GW_MPI_LIMIT_PDQ_MATCHES || q->after == NULL, err, BASE_E_INVALID,
           "too-costly", "_cursor", "more than %u persons match; narrow the search",
           GW_MPI_LIMIT_PDQ_MATCHES);
    for (size_t i = 0; i < n && i < count; i++)
        TRY(bundle_add(db, a, cfg, q, mpi_i64(r, (int)i, 0), base_url, entries, err));
    if (*total > GW_MPI_LIMIT_PDQ_MATCHES) {
        *more = false;
        TRY(cap_outcome(entries, err));
    }
    return BASE_OK;
}

/* ITI-78 Case 4: a domain asked for that the index does not know is a 404
 * "targetSystem not found". */
static int
domains_known(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
              const struct gw_mpi_pdq_query *q, struct base_err *err)
{
    for (size_t i = 0; i < q->n_domains; i++) {
        bool known = false;

        TRY(gw_mpi_domain_known(db, a, cfg, q->domains[i], &known, err));
        ENSURE(known, err, BASE_E_NOTFOUND, "not-found", "identifier", "targetSystem not found");
    }
    return BASE_OK;
}

int
gw_mpi_pdq_search(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
                  const struct gw_mpi_pdq_query *q, const char *base_url, json_t **out, bool *more,
                  struct base_err *err)
{
    size_t count =
        q->count == 0 || q->count > GW_MPI_LIMIT_PDQ_COUNT ? GW_MPI_LIMIT_PDQ_COUNT : q->count;
    json_t *bundle = json_pack("{s:s, s:s, s:i, s:[]}", "resourceType", "Bundle", "type",
                               "searchset", "total", 0, "entry");
    size_t total = 0;
    bool more_local = false;

    if (more == NULL)
        more = &more_local;
    *more = false;
    ENSURE(bundle != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    TRY(fhir_json_tie(a, bundle));
    /* ITI-78: each parameter alone is a search; none at all would list the
     * region's index */
    ENSURE(q->n_crit > 0 || q->active_given, err, BASE_E_INVALID, "required", "query",
           "a Patient search needs at least one search parameter");
    TRY(domains_known(db, a, cfg, q, err));
    if (q->inactive_only) {
        /* active=false: every person the index returns is active */
    } else if (q->count_only) {
        PGresult *r;

        TRY(pdq_run(db, a, cfg, q, 0, true, &r, err));
        total = (size_t)mpi_i64(r, 0, 0);
    } else {
        TRY(pdq_page(db, a, cfg, q, count, base_url, json_object_get(bundle, "entry"), &total, more,
                     err));
    }
    json_object_set_new(bundle, "total", json_integer((json_int_t)total));
    *out = json_incref(bundle);
    return BASE_OK;
}
