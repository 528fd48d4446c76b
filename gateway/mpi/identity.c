/*
 * gateway/mpi/identity.c — a member's FHIR Patient to a normalized identity.
 *
 * Input is untrusted: every string is length-checked against the MPI limits
 * in fhir/base/limits.h, lists are read up to GW_MPI_LIMIT_LIST entries, and
 * errors name the element, never its value.  Elements the matcher does not
 * need are ignored, whatever they hold.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "gateway/mpi/mpi_int.h"

#define RESID_OID "2.16.156.10011.1.3"

struct ctx {
    struct base_arena *a;
    struct base_err *err;
    char where[96];
};

/* A string member of `obj`: NULL when absent; BASE_E_INVALID when present
 * but not a string, BASE_E_LIMIT when longer than `max`. */
static int
get_str(struct ctx *c, const json_t *obj, const char *key, size_t max, const char **out)
{
    const json_t *v = json_object_get(obj, key);
    struct base_str s;

    *out = NULL;
    if (v == NULL)
        return BASE_OK;
    ENSURE(fhir_json_is_string(v), c->err, BASE_E_INVALID, "structure", c->where,
           "expected a string");
    s = fhir_json_str(v);
    ENSURE(s.len <= max, c->err, BASE_E_LIMIT, "too-long", c->where, "value too long");
    ENSURE(memchr(s.ptr, '\0', s.len) == NULL, c->err, BASE_E_INVALID, "value", c->where,
           "embedded NUL");
    *out = s.ptr;
    return BASE_OK;
}

/* c->where = "Patient.<field>[i]" or "Patient.<field>[i].<sub>". */
static void
at(struct ctx *c, const char *field, size_t i, const char *sub)
{
    snprintf(c->where, sizeof(c->where), "Patient.%s[%zu]%s%s", field, i, sub[0] ? "." : "", sub);
}

/* An array member, or NULL; BASE_E_INVALID when not an array. */
static int
get_array(struct ctx *c, const json_t *obj, const char *key, const json_t **out)
{
    const json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL)
        return BASE_OK;
    snprintf(c->where, sizeof(c->where), "Patient.%s", key);
    ENSURE(json_is_array(v), c->err, BASE_E_INVALID, "structure", c->where, "expected an array");
    *out = v;
    return BASE_OK;
}

static size_t
list_len(const json_t *arr)
{
    size_t n = arr != NULL ? json_array_size(arr) : 0;

    return n > GW_MPI_LIMIT_LIST ? GW_MPI_LIMIT_LIST : n;
}

/* Identifier.type has the v2-0203 code `code`? */
static bool
has_type(const json_t *ident, const char *code)
{
    const json_t *coding = json_object_get(json_object_get(ident, "type"), "coding");

    for (size_t i = 0; json_is_array(coding) && i < json_array_size(coding) && i < 16; i++) {
        const json_t *cd = json_array_get(coding, i);
        const json_t *v = json_object_get(cd, "code");

        if (fhir_json_is_string(v) && strcmp(json_string_value(v), code) == 0)
            return true;
    }
    return false;
}

static bool
is_resid_system(const char *system)
{
    return system != NULL &&
           (strcmp(system, GW_MPI_RESID_SYSTEM) == 0 || strcmp(system, RESID_OID) == 0);
}

static int
take_resid(struct ctx *c, const char *value, int today, struct gw_mpi_identity *out)
{
    struct gw_mpi_resid r;

    if (out->has_resid)
        return BASE_OK; /* the first valid one wins */
    if (gw_mpi_resid_parse(value, strlen(value), today, &r, NULL) == BASE_OK) {
        out->has_resid = true;
        out->resid = r;
    } else {
        out->resid_invalid = true;
    }
    (void)c;
    return BASE_OK;
}

static int
take_local(struct ctx *c, const char *system, const char *value, bool mr,
           struct gw_mpi_identity *out)
{
    struct gw_mpi_local_id id = {system, value};

    if (out->n_local == GW_MPI_MAX_LOCAL_IDS)
        return BASE_OK;
    ENSURE(system != NULL && system[0] != '\0', c->err, BASE_E_INVALID, "required", c->where,
           "local identifier without system");
    if (mr && out->n_local > 0) {
        /* the medical record number is the record key: move it first */
        memmove(&out->local[1], &out->local[0], out->n_local * sizeof(out->local[0]));
        out->local[0] = id;
    } else {
        out->local[out->n_local] = id;
    }
    out->n_local++;
    return BASE_OK;
}

static int
read_identifiers(struct ctx *c, const json_t *patient, int today, bool need_local,
                 struct gw_mpi_identity *out)
{
    const json_t *arr;
    bool have_mr = false;

    TRY(get_array(c, patient, "identifier", &arr));
    for (size_t i = 0; i < list_len(arr); i++) {
        const json_t *ident = json_array_get(arr, i);
        const char *system;
        const char *value;

        at(c, "identifier", i, "");
        ENSURE(json_is_object(ident), c->err, BASE_E_INVALID, "structure", c->where,
               "expected an object");
        at(c, "identifier", i, "system");
        TRY(get_str(c, ident, "system", GW_MPI_LIMIT_SYSTEM, &system));
        at(c, "identifier", i, "value");
        TRY(get_str(c, ident, "value", GW_MPI_LIMIT_VALUE, &value));
        if (value == NULL || value[0] == '\0')
            continue;
        if (is_resid_system(system) || has_type(ident, "NNCHN")) {
            TRY(take_resid(c, value, today, out));
        } else {
            bool mr = has_type(ident, "MR") && !have_mr;

            TRY(take_local(c, system, value, mr, out));
            have_mr = have_mr || mr;
        }
    }
    snprintf(c->where, sizeof(c->where), "Patient.identifier");
    ENSURE(out->n_local > 0 || !need_local, c->err, BASE_E_INVALID, "required", c->where,
           "no local identifier of the member");
    out->key = out->local[0];
    return BASE_OK;
}

/* HumanName to its parts: family, given (joined) and text. */
static int
name_parts(struct ctx *c, const json_t *hn, size_t i, const char **family, const char **given,
           const char **text)
{
    const json_t *g = json_object_get(hn, "given");
    char buf[GW_MPI_LIMIT_NAME + 1];
    size_t n = 0;

    at(c, "name", i, "family");
    TRY(get_str(c, hn, "family", GW_MPI_LIMIT_NAME, family));
    at(c, "name", i, "text");
    TRY(get_str(c, hn, "text", GW_MPI_LIMIT_NAME, text));
    at(c, "name", i, "given");
    ENSURE(g == NULL || json_is_array(g), c->err, BASE_E_INVALID, "structure", c->where,
           "expected an array");
    for (size_t k = 0; g != NULL && k < json_array_size(g) && k < 8; k++) {
        struct base_str s = fhir_json_str(json_array_get(g, k));

        ENSURE(fhir_json_is_string(json_array_get(g, k)), c->err, BASE_E_INVALID, "structure",
               c->where, "expected a string");
        ENSURE(n + s.len + 1 <= GW_MPI_LIMIT_NAME && memchr(s.ptr, '\0', s.len) == NULL, c->err,
               BASE_E_LIMIT, "too-long", c->where, "value too long");
        if (n > 0)
            buf[n++] = ' ';
        memcpy(buf + n, s.ptr, s.len);
        n += s.len;
    }
    buf[n] = '\0';
    *given = n > 0 ? base_arena_strdup(c->a, buf) : NULL;
    ENSURE(n == 0 || *given != NULL, c->err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    return BASE_OK;
}

/* Split a Han-only name into family and given: compound surname or first
 * character. */
static void
split_han(struct ctx *c, const char *han, const char **fam_han, const char **given_han)
{
    size_t l = mpi_compound_surname(han);

    if (l == 0) {
        unsigned char b = (unsigned char)han[0];

        l = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    }
    *fam_han = base_arena_strndup(c->a, han, l);
    *given_han = han + l;
}

static int
norm_part(struct ctx *c, const char *s, const char **han, const char **py)
{
    const char *syl;

    if (s == NULL) {
        *han = *py = "";
        return BASE_OK;
    }
    return gw_mpi_norm_name(c->a, s, strlen(s), han, py, &syl, c->err);
}

static int
use_name(struct ctx *c, const char *family, const char *given, const char *text,
         struct gw_mpi_identity *out)
{
    const char *fh;
    const char *fp;
    const char *gh;
    const char *gp;

    if (given == NULL && family != NULL) {
        /* the whole name in family ("张三"): split it like a text */
        text = family;
        family = NULL;
    }
    if (family != NULL || given != NULL) {
        TRY(norm_part(c, family, &fh, &fp));
        TRY(norm_part(c, given, &gh, &gp));
        out->name_han = (fh[0] || gh[0]) ? base_arena_sprintf(c->a, "%s%s", fh, gh) : "";
        out->name_py_family = fp;
        out->name_py_given = gp;
        out->name_latin_only = fh[0] == '\0' && gh[0] == '\0';
    } else {
        const char *syl;

        TRY(gw_mpi_norm_name(c->a, text, strlen(text), &out->name_han, &fp, &syl, c->err));
        out->name_latin_only = out->name_han[0] == '\0';
        if (!out->name_latin_only) {
            split_han(c, out->name_han, &fh, &gh);
            TRY(norm_part(c, fh, &fh, &out->name_py_family));
            TRY(norm_part(c, gh, &gh, &out->name_py_given));
        } else {
            /* "San Zhang" or "Zhang San": keep the written order; scoring
             * also tries the other one. */
            const char *sp = strchr(syl, ' ');

            out->name_py_family = sp ? base_arena_strndup(c->a, syl, (size_t)(sp - syl)) : fp;
            out->name_py_given = sp ? base_arena_sprintf(c->a, "%s", sp + 1) : "";
        }
    }
    ENSURE(out->name_han && out->name_py_family && out->name_py_given, c->err, BASE_E_NOMEM,
           "exception", "mpi", "out of memory");
    out->name_py = base_arena_sprintf(c->a, "%s%s", out->name_py_family, out->name_py_given);
    ENSURE(out->name_py != NULL, c->err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    /* remove the spaces a multi-word given name kept */
    char *w = (char *)out->name_py;
    size_t k = 0;
    for (size_t i = 0; w[i] != '\0'; i++) {
        if (w[i] != ' ')
            w[k++] = w[i];
    }
    w[k] = '\0';
    return BASE_OK;
}

/* Prefer a name with Han characters (the legal name); else the first. */
static int
read_names(struct ctx *c, const json_t *patient, struct gw_mpi_identity *out)
{
    const json_t *arr;
    const char *best[3] = {NULL, NULL, NULL};
    bool best_han = false;

    TRY(get_array(c, patient, "name", &arr));
    for (size_t i = 0; i < list_len(arr); i++) {
        const json_t *hn = json_array_get(arr, i);
        const char *p[3];

        at(c, "name", i, "");
        ENSURE(json_is_object(hn), c->err, BASE_E_INVALID, "structure", c->where,
               "expected an object");
        TRY(name_parts(c, hn, i, &p[0], &p[1], &p[2]));
        if (p[0] == NULL && p[1] == NULL && p[2] == NULL)
            continue;
        bool han = false;
        for (size_t k = 0; k < 3 && !han; k++)
            han = p[k] != NULL && (unsigned char)p[k][0] >= 0xE0;
        if (best[0] == NULL && best[1] == NULL && best[2] == NULL) {
            memcpy(best, p, sizeof(best));
            best_han = han;
        } else if (han && !best_han) {
            memcpy(best, p, sizeof(best));
            best_han = true;
        }
    }
    out->name_han = out->name_py = out->name_py_family = out->name_py_given = "";
    if (best[0] == NULL && best[1] == NULL && best[2] == NULL)
        return BASE_OK;
    snprintf(c->where, sizeof(c->where), "Patient.name");
    return use_name(c, best[0], best[1], best[2], out);
}

static int
read_telecom(struct ctx *c, const json_t *patient, struct gw_mpi_identity *out)
{
    const json_t *arr;

    TRY(get_array(c, patient, "telecom", &arr));
    for (size_t i = 0; i < list_len(arr) && out->n_phone < GW_MPI_MAX_PHONES; i++) {
        const json_t *cp = json_array_get(arr, i);
        const char *system;
        const char *value;
        char digits[24];

        at(c, "telecom", i, "");
        ENSURE(json_is_object(cp), c->err, BASE_E_INVALID, "structure", c->where,
               "expected an object");
        at(c, "telecom", i, "system");
        TRY(get_str(c, cp, "system", 32, &system));
        at(c, "telecom", i, "value");
        TRY(get_str(c, cp, "value", GW_MPI_LIMIT_PHONE, &value));
        if (value == NULL ||
            (system != NULL && strcmp(system, "phone") != 0 && strcmp(system, "sms") != 0))
            continue;
        if (gw_mpi_norm_phone(value, strlen(value), digits) == GW_MPI_PHONE_NONE)
            continue;
        out->phone[out->n_phone] = base_arena_strdup(c->a, digits);
        ENSURE(out->phone[out->n_phone] != NULL, c->err, BASE_E_NOMEM, "exception", "mpi",
               "out of memory");
        out->n_phone++;
    }
    return BASE_OK;
}

/* The home address (use home or absent), else the first. */
static int
read_address(struct ctx *c, const json_t *patient, struct gw_mpi_identity *out)
{
    const json_t *arr;
    const json_t *pick = NULL;
    const char *p[5];
    const json_t *line;
    static const char *const keys[5] = {"state", "city", "district", "", "text"};

    out->addr_province = out->addr_city = out->addr_district = out->addr_detail = "";
    TRY(get_array(c, patient, "address", &arr));
    for (size_t i = 0; i < list_len(arr); i++) {
        const json_t *ad = json_array_get(arr, i);
        const json_t *use = json_object_get(ad, "use");

        at(c, "address", i, "");
        ENSURE(json_is_object(ad), c->err, BASE_E_INVALID, "structure", c->where,
               "expected an object");
        if (pick == NULL ||
            (fhir_json_is_string(use) && strcmp(json_string_value(use), "home") == 0))
            pick = ad;
    }
    if (pick == NULL)
        return BASE_OK;
    for (size_t k = 0; k < 5; k++) {
        p[k] = NULL;
        if (keys[k][0] == '\0')
            continue;
        snprintf(c->where, sizeof(c->where), "Patient.address.%s", keys[k]);
        TRY(get_str(c, pick, keys[k], GW_MPI_LIMIT_ADDRESS, &p[k]));
    }
    line = json_object_get(pick, "line");
    snprintf(c->where, sizeof(c->where), "Patient.address.line");
    if (json_is_array(line) && json_array_size(line) > 0) {
        const json_t *l0 = json_array_get(line, 0);

        ENSURE(fhir_json_is_string(l0), c->err, BASE_E_INVALID, "structure", c->where,
               "expected a string");
        ENSURE(fhir_json_str(l0).len <= GW_MPI_LIMIT_ADDRESS, c->err, BASE_E_LIMIT, "too-long",
               c->where, "value too long");
        p[3] = json_string_value(l0);
    }
    return gw_mpi_norm_address(c->a, p[0], p[1], p[2], p[3], p[4], &out->addr_province,
                               &out->addr_city, &out->addr_district, &out->addr_detail, c->err);
}

static int
read_birth_gender(struct ctx *c, const json_t *patient, struct gw_mpi_identity *out)
{
    const char *bd;
    const char *g;

    snprintf(c->where, sizeof(c->where), "Patient.birthDate");
    TRY(get_str(c, patient, "birthDate", 32, &bd));
    if (bd != NULL)
        ENSURE(gw_mpi_norm_birth_date(bd, strlen(bd), &out->birth_year, &out->birth_month,
                                      &out->birth_day),
               c->err, BASE_E_INVALID, "value", c->where, "not a valid date");
    snprintf(c->where, sizeof(c->where), "Patient.gender");
    TRY(get_str(c, patient, "gender", 32, &g));
    out->sex = gw_mpi_norm_gender(g);
    return BASE_OK;
}

static int
identity_read(struct base_arena *a, const char *member, const json_t *patient, int today,
              bool need_local, struct gw_mpi_identity *out, struct base_err *err)
{
    struct ctx c = {a, err, "Patient"};
    const json_t *rt = json_object_get(patient, "resourceType");

    memset(out, 0, sizeof(*out));
    ENSURE(member != NULL && member[0] != '\0' && strlen(member) <= GW_MPI_LIMIT_MEMBER, err,
           BASE_E_INVALID, "value", "member", "member id missing or too long");
    ENSURE(json_is_object(patient) && fhir_json_is_string(rt) &&
               strcmp(json_string_value(rt), "Patient") == 0,
           err, BASE_E_INVALID, "structure", "Patient.resourceType", "not a Patient resource");
    out->member = member;
    TRY(read_identifiers(&c, patient, today, need_local, out));
    TRY(read_names(&c, patient, out));
    TRY(read_birth_gender(&c, patient, out));
    TRY(read_telecom(&c, patient, out));
    TRY(read_address(&c, patient, out));
    return BASE_OK;
}

int
gw_mpi_identity_from_patient(struct base_arena *a, const char *member, const json_t *patient,
                             int today, struct gw_mpi_identity *out, struct base_err *err)
{
    return identity_read(a, member, patient, today, true, out, err);
}

int
gw_mpi_identity_for_match(struct base_arena *a, const json_t *patient, int today,
                          struct gw_mpi_identity *out, struct base_err *err)
{
    return identity_read(a, "$match", patient, today, false, out, err);
}

int
gw_mpi_identity_from_json(struct base_arena *a, const char *member, const char *text, size_t len,
                          int today, struct gw_mpi_identity *out, struct base_err *err)
{
    struct fhir_json_limits lim = fhir_json_limits_default();
    json_t *v = NULL;

    lim.max_doc = GW_MPI_LIMIT_PATIENT_DOC;
    lim.max_depth = 16;
    TRY(fhir_json_parse(text, len, &lim, &v, err));
    TRY(fhir_json_tie(a, v));
    return gw_mpi_identity_from_patient(a, member, v, today, out, err);
}
