/*
 * Roles and purposes of use: the vocabulary the policy engine decides with.
 * Purpose-of-use codes are HL7 v3 ActReason (v3-PurposeOfUse value set),
 * as IHE BALP records them in AuditEvent.purposeOfUse.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

/* Any user may let an app keep access (SMART permission-offline/-online);
 * only the authorization code flow grants it, and only to an app whose
 * registration lists it. */
#define REFRESH "offline_access online_access"

static const struct {
    enum gw_auth_role role;
    const char *name;
    const char *ceiling;  /* scopes this role may ever hold */
    const char *defaults; /* scopes granted when a user asks for none */
    enum gw_auth_pou pou; /* default purpose of use */
} roles[] = {
    /* Clinicians read and search across members; writes go to the member
     * hospitals' own systems, never through the gateway. */
    {GW_AUTH_ROLE_CLINICIAN, "clinician", "openid fhirUser " REFRESH " user/*.rs",
     "openid fhirUser user/*.rs", GW_AUTH_POU_TREAT},
    /* Regulators see the audit trail and the member registry, no clinical data. */
    {GW_AUTH_ROLE_REGULATOR, "regulator",
     "openid fhirUser " REFRESH " user/AuditEvent.rs user/Organization.rs user/Endpoint.rs "
     "system/AuditEvent.rs system/Organization.rs system/Endpoint.rs",
     "openid fhirUser user/AuditEvent.rs user/Organization.rs user/Endpoint.rs",
     GW_AUTH_POU_HCOMPL},
    /* Administrators manage members; they have no access to clinical data. */
    {GW_AUTH_ROLE_ADMIN, "admin",
     "openid fhirUser " REFRESH " user/Organization.cruds user/Endpoint.cruds",
     "openid fhirUser user/Organization.cruds user/Endpoint.cruds", GW_AUTH_POU_HSYSADMIN},
    /* A patient only ever holds patient/ scopes: their own compartment. */
    {GW_AUTH_ROLE_PATIENT, "patient", "openid fhirUser launch/patient " REFRESH " patient/*.rs",
     "openid fhirUser patient/*.rs", GW_AUTH_POU_PATRQT},
    {GW_AUTH_ROLE_MEMBER_SYSTEM, "member-system", "system/*.rs", "system/*.rs", GW_AUTH_POU_TREAT},
};

const char *
gw_auth_role_name(enum gw_auth_role role)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(roles); i++) {
        if (roles[i].role == role)
            return roles[i].name;
    }
    return "none";
}

bool
gw_auth_role_parse(struct base_str s, enum gw_auth_role *out)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(roles); i++) {
        if (base_str_eq_cstr(s, roles[i].name)) {
            *out = roles[i].role;
            return true;
        }
    }
    return false;
}

const char *
gw_auth_role_scope_ceiling(enum gw_auth_role role)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(roles); i++) {
        if (roles[i].role == role)
            return roles[i].ceiling;
    }
    return "";
}

const char *
gw_auth_role_default_scopes(enum gw_auth_role role)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(roles); i++) {
        if (roles[i].role == role)
            return roles[i].defaults;
    }
    return "";
}

enum gw_auth_pou
gw_auth_role_default_pou(enum gw_auth_role role)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(roles); i++) {
        if (roles[i].role == role)
            return roles[i].pou;
    }
    return GW_AUTH_POU_NONE;
}

/* ------------------------------------------------------- purpose of use -- */

#define R_CLIN (1u << GW_AUTH_ROLE_CLINICIAN)
#define R_REG  (1u << GW_AUTH_ROLE_REGULATOR)
#define R_ADM  (1u << GW_AUTH_ROLE_ADMIN)
#define R_PAT  (1u << GW_AUTH_ROLE_PATIENT)
#define R_SYS  (1u << GW_AUTH_ROLE_MEMBER_SYSTEM)

static const struct {
    enum gw_auth_pou pou;
    const char *code;
    const char *display;
    unsigned roles; /* roles that may claim it */
} pous[] = {
    {GW_AUTH_POU_TREAT, "TREAT", "treatment", R_CLIN | R_SYS},
    {GW_AUTH_POU_ETREAT, "ETREAT", "Emergency Treatment", R_CLIN | R_SYS},
    {GW_AUTH_POU_BTG, "BTG", "break the glass", R_CLIN | R_SYS},
    {GW_AUTH_POU_ERTREAT, "ERTREAT", "emergency room treatment", R_CLIN | R_SYS},
    {GW_AUTH_POU_COC, "COC", "coordination of care", R_CLIN | R_SYS},
    {GW_AUTH_POU_CAREMGT, "CAREMGT", "care management", R_CLIN | R_SYS},
    {GW_AUTH_POU_PATRQT, "PATRQT", "patient requested", R_PAT},
    {GW_AUTH_POU_FAMRQT, "FAMRQT", "family requested", 0},
    {GW_AUTH_POU_PWATRNY, "PWATRNY", "power of attorney", 0},
    {GW_AUTH_POU_HOPERAT, "HOPERAT", "healthcare operations", R_REG | R_ADM | R_SYS},
    {GW_AUTH_POU_HSYSADMIN, "HSYSADMIN", "health system administration", R_ADM},
    {GW_AUTH_POU_HCOMPL, "HCOMPL", "health compliance", R_REG},
    {GW_AUTH_POU_HLEGAL, "HLEGAL", "legal", R_REG},
    {GW_AUTH_POU_HQUALIMP, "HQUALIMP", "health quality improvement", R_REG},
    {GW_AUTH_POU_PATSFTY, "PATSFTY", "patient safety", R_REG},
    {GW_AUTH_POU_PUBHLTH, "PUBHLTH", "public health", R_REG},
    {GW_AUTH_POU_HRESCH, "HRESCH", "healthcare research", 0},
    {GW_AUTH_POU_HPAYMT, "HPAYMT", "healthcare payment", 0},
    {GW_AUTH_POU_RECORDMGT, "RECORDMGT", "records management", R_ADM},
};

const char *
gw_auth_pou_code(enum gw_auth_pou pou)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(pous); i++) {
        if (pous[i].pou == pou)
            return pous[i].code;
    }
    return "";
}

const char *
gw_auth_pou_display(enum gw_auth_pou pou)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(pous); i++) {
        if (pous[i].pou == pou)
            return pous[i].display;
    }
    return "";
}

bool
gw_auth_pou_parse(struct base_str s, enum gw_auth_pou *out)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(pous); i++) {
        if (base_str_eq_cstr(s, pous[i].code)) {
            *out = pous[i].pou;
            return true;
        }
    }
    return false;
}

bool
gw_auth_pou_is_emergency(enum gw_auth_pou pou)
{
    return pou == GW_AUTH_POU_ETREAT || pou == GW_AUTH_POU_BTG || pou == GW_AUTH_POU_ERTREAT;
}

bool
gw_auth_role_allows_pou(enum gw_auth_role role, enum gw_auth_pou pou)
{
    if (role == GW_AUTH_ROLE_NONE)
        return false;
    for (size_t i = 0; i < BASE_ARRAY_LEN(pous); i++) {
        if (pous[i].pou == pou)
            return (pous[i].roles & (1u << role)) != 0;
    }
    return false;
}
