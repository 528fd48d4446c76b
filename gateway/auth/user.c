/*
 * User records and lockout policy: the rules that hold whatever store
 * keeps them.
 */
#include "gateway/auth/gw_auth.h"

#include <string.h>

int
gw_auth_username_normalize(const char *name, size_t len, char *out, size_t cap,
                           struct base_err *err)
{
    ENSURE(len > 0 && len <= BASE_LIMIT_AUTH_MAX_USERNAME && cap > len, err, BASE_E_INVALID,
           "value", "username", "user name must have 1-%u characters",
           BASE_LIMIT_AUTH_MAX_USERNAME);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        ENSURE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   (i > 0 && (c == '.' || c == '_' || c == '@' || c == '-')),
               err, BASE_E_INVALID, "value", "username",
               "user name may contain only letters, digits and . _ @ - "
               "(starting with a letter or digit)");
        out[i] = c;
    }
    out[len] = '\0';
    return BASE_OK;
}

static bool
nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

int
gw_auth_user_check(const struct gw_auth_user *u, struct base_err *err)
{
    char norm[BASE_LIMIT_AUTH_MAX_USERNAME + 1];

    ENSURE(u->username != NULL, err, BASE_E_INVALID, "required", "username",
           "user name is required");
    TRY(gw_auth_username_normalize(u->username, strlen(u->username), norm, sizeof(norm), err));
    ENSURE(strcmp(norm, u->username) == 0, err, BASE_E_INVALID, "value", "username",
           "user name must be in lower case");
    ENSURE(u->role == GW_AUTH_ROLE_CLINICIAN || u->role == GW_AUTH_ROLE_REGULATOR ||
               u->role == GW_AUTH_ROLE_ADMIN || u->role == GW_AUTH_ROLE_PATIENT,
           err, BASE_E_INVALID, "value", "role",
           "user role must be clinician, regulator, admin or patient");
    ENSURE(u->role != GW_AUTH_ROLE_CLINICIAN || nonempty(u->organization), err, BASE_E_INVALID,
           "required", "organization", "a clinician must belong to a member organization");
    ENSURE(u->role != GW_AUTH_ROLE_PATIENT || nonempty(u->patient), err, BASE_E_INVALID, "required",
           "patient", "a patient user needs a patient link");
    ENSURE(u->role == GW_AUTH_ROLE_PATIENT || u->patient == NULL, err, BASE_E_INVALID, "value",
           "patient", "only patient users have a patient link");
    ENSURE(u->display_name == NULL || strlen(u->display_name) <= BASE_LIMIT_AUTH_MAX_CLAIM_TEXT,
           err, BASE_E_INVALID, "value", "display_name", "display name exceeds %u bytes",
           BASE_LIMIT_AUTH_MAX_CLAIM_TEXT);
    ENSURE(u->organization == NULL || strlen(u->organization) <= BASE_LIMIT_AUTH_MAX_CLAIM_TEXT,
           err, BASE_E_INVALID, "value", "organization", "organization exceeds %u bytes",
           BASE_LIMIT_AUTH_MAX_CLAIM_TEXT);
    ENSURE(u->patient == NULL || strlen(u->patient) <= BASE_LIMIT_AUTH_MAX_CLAIM_TEXT, err,
           BASE_E_INVALID, "value", "patient", "patient link exceeds %u bytes",
           BASE_LIMIT_AUTH_MAX_CLAIM_TEXT);
    return BASE_OK;
}

void
gw_auth_lockout_policy_default(struct gw_auth_lockout_policy *p)
{
    /* NIST SP 800-63B §5.2.2 allows at most 100 consecutive failures; we
     * are stricter per account and looser per address (shared NAT). */
    p->user_max_failures = 5;
    p->addr_max_failures = 20;
    p->window = 15 * 60;
    p->lock_duration = 15 * 60;
}
