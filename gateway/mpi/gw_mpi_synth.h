/*
 * gateway/mpi/gw_mpi_synth.h — a labelled synthetic population for the MPI.
 *
 * Deterministic (one 64-bit seed, integer PRNG) so the match-quality test
 * and the demo's data generator see the same people on every machine.
 * People get realistic Chinese names (surnames drawn with census-like
 * frequencies, so 王 李 张 刘 陈 are shared by many), valid GB 11643
 * numbers, mobile phones and addresses; then each person is reported by
 * one to four members, each report with the errors real registrations
 * have: homophone and other character typos, traditional characters,
 * romanized names in either order, transposed or mistyped birth dates,
 * wrong or missing gender, changed or missing phones and addresses,
 * invalid or missing resident identity numbers.  The population also holds
 * twins (same family, birth date, phone, address) and unrelated people
 * sharing a name and birth date.  Every record carries its true person.
 */
#ifndef GATEWAY_MPI_GW_MPI_SYNTH_H
#define GATEWAY_MPI_GW_MPI_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct base_arena;

struct gw_mpi_synth_config {
    uint64_t seed;
    size_t n_people;  /* persons before twins/namesakes are added */
    size_t n_members; /* members "hosp-1" ... (1..9) */
    int today;        /* YYYYMMDD: no birth date after it */
};

/* What was done to a record (bit set), for per-error reporting. */
enum gw_mpi_synth_flag {
    GW_MPI_SYNTH_HOMOPHONE = 1u << 0,
    GW_MPI_SYNTH_CHAR_TYPO = 1u << 1,
    GW_MPI_SYNTH_TRADITIONAL = 1u << 2,
    GW_MPI_SYNTH_ROMANIZED = 1u << 3,
    GW_MPI_SYNTH_DATE_SWAP = 1u << 4,
    GW_MPI_SYNTH_DATE_TYPO = 1u << 5,
    GW_MPI_SYNTH_NO_DATE = 1u << 6,
    GW_MPI_SYNTH_NO_ID = 1u << 7,
    GW_MPI_SYNTH_BAD_ID = 1u << 8,
    GW_MPI_SYNTH_NO_PHONE = 1u << 9,
    GW_MPI_SYNTH_NEW_PHONE = 1u << 10,
    GW_MPI_SYNTH_NO_ADDRESS = 1u << 11,
    GW_MPI_SYNTH_MOVED = 1u << 12,
    GW_MPI_SYNTH_TWIN = 1u << 13,    /* the person has a twin */
    GW_MPI_SYNTH_NAMESAKE = 1u << 14 /* the person shares name and birth date with another */
};

struct gw_mpi_synth_record {
    size_t person;      /* the true person (0-based) */
    const char *member; /* "hosp-N" */
    json_t *patient;    /* the FHIR Patient as the member reports it (owned by the arena) */
    unsigned flags;     /* enum gw_mpi_synth_flag */
};

/* Defaults: seed 20261128, 2200 people, 5 members. */
struct gw_mpi_synth_config gw_mpi_synth_default(void);

/* Generate the records, shuffled (members report in any order). */
BASE_MUST_CHECK int gw_mpi_synth_generate(struct base_arena *a,
                                          const struct gw_mpi_synth_config *cfg,
                                          struct gw_mpi_synth_record **out, size_t *n_out,
                                          struct base_err *err);

#endif /* GATEWAY_MPI_GW_MPI_SYNTH_H */
