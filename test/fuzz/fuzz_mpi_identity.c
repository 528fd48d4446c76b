/* MPI identity records from members (a FHIR Patient), the Patient a
 * $match describes, and resident identity numbers.  seeds: fhir-r4-examples/json
 * synthea/bulk-ndjson-10-patients */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/mpi/gw_mpi.h"
#include "gateway/mpi/mpi_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a = base_arena_new(8u << 20);
    struct gw_mpi_identity id;
    struct gw_mpi_resid r;
    struct gw_mpi_score s;

    if (a == NULL)
        return 0;
    if (gw_mpi_resid_parse((const char *)data, size, 20260101, &r, NULL) == BASE_OK &&
        gw_mpi_resid_parse(r.number, 18, 20260101, &r, NULL) != BASE_OK)
        __builtin_trap(); /* a normalized number must validate again */
    if (gw_mpi_identity_from_json(a, "fuzz", (const char *)data, size, 20260101, &id, NULL) ==
        BASE_OK) {
        const char **keys;

        /* a parsed identity must score against itself without trouble */
        gw_mpi_score_pair(&id, &id, NULL, &s);
        if (id.name_py[0] != '\0' && s.level[GW_MPI_F_NAME] != GW_MPI_L_EXACT)
            __builtin_trap();
        if (mpi_block_keys(a, &id, &keys) != BASE_OK)
            __builtin_trap();
    }
    {
        /* $match: the same reader without the record key; never fails
         * where the member's reader succeeds */
        json_t *v = NULL;

        if (fhir_json_parse((const char *)data, size, NULL, &v, NULL) == BASE_OK &&
            fhir_json_tie(a, v) == BASE_OK) {
            bool member_ok =
                gw_mpi_identity_from_patient(a, "fuzz", v, 20260101, &id, NULL) == BASE_OK;

            if (gw_mpi_identity_for_match(a, v, 20260101, &id, NULL) != BASE_OK && member_ok)
                __builtin_trap();
        } else {
            json_decref(v);
        }
    }
    base_arena_free(a);
    return 0;
}
