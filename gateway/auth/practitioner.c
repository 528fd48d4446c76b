/*
 * The FHIR resource a signed-in user is (SMART App Launch 2.x §fhirUser):
 * a patient's regional Patient, or the Practitioner the gateway makes of a
 * user acting for the region (clinician, regulator, administrator).
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

#include "fhir/base/arena.h"

/* Two user-name characters a FHIR id may not hold (R4 datatypes.html#id is
 * [A-Za-z0-9.-]); user names are lower case, so these upper-case letters
 * are free and the mapping is one to one, of the same length. */
#define ID_FOR_UNDERSCORE 'U'
#define ID_FOR_AT         'A'

bool
gw_auth_role_has_practitioner(enum gw_auth_role role)
{
    return role == GW_AUTH_ROLE_CLINICIAN || role == GW_AUTH_ROLE_REGULATOR ||
           role == GW_AUTH_ROLE_ADMIN;
}

int
gw_auth_practitioner_id(const char *username, char *out, size_t cap, struct base_err *err)
{
    char norm[BASE_LIMIT_AUTH_MAX_USERNAME + 1];
    size_t len = username != NULL ? strlen(username) : 0;

    TRY(gw_auth_username_normalize(username != NULL ? username : "", len, norm, sizeof(norm), err));
    ENSURE(cap > len, err, BASE_E_INVALID, "value", "Practitioner.id", "buffer too small");
    for (size_t i = 0; i <= len; i++)
        out[i] = norm[i] == '_' ? ID_FOR_UNDERSCORE : norm[i] == '@' ? ID_FOR_AT : norm[i];
    return BASE_OK;
}

int
gw_auth_practitioner_username(const char *id, char *out, size_t cap, struct base_err *err)
{
    size_t len = id != NULL ? strlen(id) : 0;
    char raw[BASE_LIMIT_AUTH_MAX_USERNAME + 1];

    ENSURE(len > 0 && len <= BASE_LIMIT_AUTH_MAX_USERNAME, err, BASE_E_NOTFOUND, "not-found",
           "Practitioner.id", "no such practitioner");
    for (size_t i = 0; i < len; i++) {
        char c = id[i];

        /* any other upper-case letter names nobody (user names are lower
         * case), nor does '_' or '@' (no FHIR id holds them) */
        ENSURE((!(c >= 'A' && c <= 'Z') || c == ID_FOR_UNDERSCORE || c == ID_FOR_AT) && c != '_' &&
                   c != '@',
               err, BASE_E_NOTFOUND, "not-found", "Practitioner.id", "no such practitioner");
        raw[i] = c == ID_FOR_UNDERSCORE ? '_' : c == ID_FOR_AT ? '@' : c;
    }
    if (gw_auth_username_normalize(raw, len, out, cap, &(struct base_err){0}) != BASE_OK)
        return base_err_set(err, BASE_E_NOTFOUND, "not-found", "Practitioner.id",
                            "no such practitioner");
    return BASE_OK;
}

const char *
gw_auth_fhir_user(struct base_arena *a, const struct gw_auth_principal *p)
{
    char id[BASE_LIMIT_AUTH_MAX_USERNAME + 1];

    if (p->role == GW_AUTH_ROLE_PATIENT)
        return p->patient != NULL ? base_arena_sprintf(a, "Patient/%s", p->patient) : NULL;
    if (!gw_auth_role_has_practitioner(p->role) ||
        gw_auth_practitioner_id(p->subject, id, sizeof(id), &(struct base_err){0}) != BASE_OK)
        return NULL;
    return base_arena_sprintf(a, "Practitioner/%s", id);
}

json_t *
gw_auth_practitioner(const struct gw_auth_user *u)
{
    char id[BASE_LIMIT_AUTH_MAX_USERNAME + 1];
    json_t *v;

    if (u == NULL || !gw_auth_role_has_practitioner(u->role) ||
        gw_auth_practitioner_id(u->username, id, sizeof(id), &(struct base_err){0}) != BASE_OK)
        return NULL;
    /* identifier: the sign-in name, in the gateway's own system; active:
     * the account's state (a disabled account is no longer acting). */
    v = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}], s:b}", "resourceType", "Practitioner", "id", id,
                  "identifier", "use", "usual", "system", GW_AUTH_USER_SYSTEM, "value", u->username,
                  "active", u->is_enabled);
    /* The name as the portal shows it, whole: a Chinese name (王伟) has no
     * separator to split family from given reliably, so HumanName.text. */
    if (v != NULL && u->display_name != NULL && u->display_name[0] != '\0' &&
        json_object_set_new(
            v, "name", json_pack("[{s:s, s:s}]", "use", "usual", "text", u->display_name)) != 0) {
        json_decref(v);
        return NULL;
    }
    return v;
}
