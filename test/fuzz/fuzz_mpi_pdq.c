/* PDQm (ITI-78) parameters into a query: one "name=value" per line, as a
 * client sends them decoded.  No shared-corpus folder holds queries; own
 * seeds in test/fuzz/corpus/mpi_pdq.  seeds: */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/mpi/gw_mpi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a = base_arena_new(4u << 20);
    struct gw_mpi_pdq_query q;
    char *text;

    if (a == NULL)
        return 0;
    memset(&q, 0, sizeof(q));
    text = base_arena_strndup(a, (const char *)data, size);
    for (char *line = text; line != NULL && *line != '\0';) {
        char *end = strchr(line, '\n');
        char *eq;

        if (end != NULL)
            *end = '\0';
        eq = strchr(line, '=');
        if (eq != NULL) {
            struct base_err err = {0};

            *eq = '\0';
            /* a refusal always says why */
            if (gw_mpi_pdq_param(a, &q, line, eq + 1, &err) != BASE_OK && err.rc == BASE_OK)
                __builtin_trap();
        }
        line = end != NULL ? end + 1 : NULL;
    }
    /* the query stays within its arrays, every criterion on its terms */
    if (q.n_crit > GW_MPI_LIMIT_PDQ_PARAMS || q.n_terms > GW_MPI_LIMIT_PDQ_TERMS ||
        q.n_domains > GW_MPI_LIMIT_PDQ_TERMS)
        __builtin_trap();
    for (size_t i = 0; i < q.n_crit; i++)
        if (q.crit[i].n == 0 || q.crit[i].first + q.crit[i].n > q.n_terms)
            __builtin_trap();
    base_arena_free(a);
    return 0;
}
