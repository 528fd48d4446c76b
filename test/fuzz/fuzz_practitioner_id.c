/* Practitioner ids from the URL (GET /fhir/Practitioner/{id}) back to user
 * names, and the user's Practitioner built from what was read: an id the
 * parser accepts must map back to itself (the mapping is one to one).
 * No shared-corpus folder applies; own seeds in test/fuzz/corpus/practitioner_id.  seeds: */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/gw_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char id[BASE_LIMIT_AUTH_MAX_USERNAME * 2 + 2];
    char user[BASE_LIMIT_AUTH_MAX_USERNAME + 1];
    char back[BASE_LIMIT_AUTH_MAX_USERNAME + 1];
    struct base_err err = {0};
    struct gw_auth_user u = {0};
    json_t *p;

    if (size >= sizeof(id))
        size = sizeof(id) - 1;
    memcpy(id, data, size);
    id[size] = '\0';
    if (gw_auth_practitioner_username(id, user, sizeof(user), &err) != BASE_OK)
        return 0;
    if (gw_auth_practitioner_id(user, back, sizeof(back), &err) != BASE_OK || strcmp(back, id) != 0)
        __builtin_trap();
    u.username = user;
    u.display_name = user;
    u.role = GW_AUTH_ROLE_CLINICIAN;
    u.is_enabled = true;
    p = gw_auth_practitioner(&u);
    if (p == NULL || strcmp(json_string_value(json_object_get(p, "id")), id) != 0)
        __builtin_trap();
    json_decref(p);
    return 0;
}
