/*
 * gateway/mpi/mpi_int.h — internals shared by the MPI's files.
 */
#ifndef GATEWAY_MPI_MPI_INT_H
#define GATEWAY_MPI_MPI_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <unicode/utypes.h>

#include "fhir/base/err.h"
#include "gateway/mpi/gw_mpi.h"

struct base_arena;

/* ---- translit.c ---------------------------------------------------------- */
enum mpi_tr {
    MPI_TR_SIMPLIFY = 0, /* NFKC; Traditional-Simplified */
    MPI_TR_PINYIN,       /* Han-Latin/Names; Latin-ASCII; Lower */
    MPI_TR_LATIN,        /* NFKC; Any-Latin; Latin-ASCII; Lower */
    MPI_TR_COUNT
};

BASE_MUST_CHECK int mpi_translit(struct base_arena *a, enum mpi_tr which, const UChar *in,
                                 int32_t n, UChar **out, int32_t *out_n, struct base_err *err);
BASE_MUST_CHECK int mpi_utf8_to_u16(struct base_arena *a, const char *s, size_t len, UChar **out,
                                    int32_t *out_n, struct base_err *err);
char *mpi_u16_to_utf8(struct base_arena *a, const UChar *s, int32_t n);
bool mpi_is_han(UChar32 c);

/* ---- norm.c ------------------------------------------------------------------ */
/* NFKC + traditional->simplified, all white space removed (addresses). */
BASE_MUST_CHECK int mpi_norm_text(struct base_arena *a, const char *s, size_t len, const char **out,
                                  struct base_err *err);
/* Length in bytes of a leading Chinese compound surname of `han` (0 if none). */
size_t mpi_compound_surname(const char *han);

/* ---- store.c: small libpq helpers -------------------------------------------- */
/* Run a parameterized statement; the result is cleared when `a` is freed.
 * `want` is PGRES_TUPLES_OK or PGRES_COMMAND_OK.  BASE_E_IO on failure
 * (the server message goes to the log only: it may quote values). */
BASE_MUST_CHECK int mpi_q(PGconn *db, struct base_arena *a, const char *sql, int n,
                          const char *const *params, ExecStatusType want, PGresult **out,
                          struct base_err *err);
/* The same without keeping the result. */
BASE_MUST_CHECK int mpi_cmd(PGconn *db, const char *sql, int n, const char *const *params,
                            struct base_err *err);
/* One statement of a pipeline; `res` is filled (tied to the arena). */
struct mpi_stmt {
    const char *sql;
    int n;
    const char *const *params;
    ExecStatusType want;
    PGresult *res;
};
/* Send the statements in one round trip (libpq pipeline mode) and collect
 * their results; the first failure sets err (the later statements of an
 * open transaction are then aborted by the server). */
BASE_MUST_CHECK int mpi_pipeline(PGconn *db, struct base_arena *a, struct mpi_stmt *st, size_t n,
                                 struct base_err *err);
BASE_MUST_CHECK int mpi_begin(PGconn *db, struct base_err *err);
BASE_MUST_CHECK int mpi_commit(PGconn *db, struct base_err *err);
void mpi_rollback(PGconn *db);
/* Text of a cell, "" for NULL (never NULL). */
const char *mpi_val(const PGresult *r, int row, int col);
int64_t mpi_i64(const PGresult *r, int row, int col);
double mpi_f64(const PGresult *r, int row, int col);

/* ---- record.c: identities <-> rows --------------------------------------------- */
/* Columns selected by MPI_RECORD_COLS, in that order, from a row into *id. */
#define MPI_RECORD_COLS                                                                            \
    "r.id, p.public_id, r.member_id, r.local_system, r.local_value, r.resident_id, r.name_han, "   \
    "r.name_py, r.name_py_family, r.name_py_given, r.name_latin_only, r.birth_year, "              \
    "r.birth_month, r.birth_day, r.sex, r.phones, r.addr_province, r.addr_city, "                  \
    "r.addr_district, r.addr_detail, p.id"
#define MPI_RECORD_NCOLS 21

struct mpi_row {
    int64_t record_id;
    int64_t person_pk;
    const char *person_id; /* public id */
    struct gw_mpi_identity id;
};

BASE_MUST_CHECK int mpi_row_from_result(struct base_arena *a, const PGresult *r, int row,
                                        struct mpi_row *out);
/* Blocking keys of an identity (NULL-terminated array in `a`). */
BASE_MUST_CHECK int mpi_block_keys(struct base_arena *a, const struct gw_mpi_identity *id,
                                   const char ***out);
/* Postgres text[] literal of a string list, elements quoted. */
char *mpi_pg_array(struct base_arena *a, const char *const *items, size_t n);

/* Merge person `merged` into `survivor` (primary keys) inside an open
 * transaction that holds the MPI lock: what gw_mpi_merge does, undoable by
 * gw_mpi_unmerge.  BASE_E_CONFLICT for the same person, an inactive one or
 * different valid resident ids. */
BASE_MUST_CHECK int mpi_merge_persons(PGconn *db, struct base_arena *a, int64_t survivor,
                                      int64_t merged, const char *actor, const char *reason,
                                      int64_t *merge_id, struct base_err *err);

/* ---- ingest.c ------------------------------------------------------------------- */
/* Insert a history row for record `record_pk`. */
BASE_MUST_CHECK int mpi_history(PGconn *db, int64_t record_pk, const char *action,
                                int64_t from_person, int64_t to_person, const char *link_type,
                                double score, const char *actor, const char *reason,
                                int64_t merge_id, struct base_err *err);

/* ---- ingest.c: candidates ------------------------------------------------------ */
/* A person found through the blocking keys, by its best-scoring record. */
struct mpi_cand {
    int64_t person_pk;
    const char *person_id;
    int64_t record_pk;         /* the candidate record of the best pair */
    struct gw_mpi_score score; /* the best pair */
    bool blocked;              /* a different valid resident identity number */
};
/* The persons `id` might be, scored (Fellegi-Sunter), best first. */
BASE_MUST_CHECK int mpi_scored_candidates(PGconn *db, struct base_arena *a,
                                          const struct gw_mpi_config *cfg,
                                          const struct gw_mpi_identity *id, struct mpi_cand **out,
                                          size_t *n, struct base_err *err);

/* ---- query.c ------------------------------------------------------------------ */
#define MPI_MOTHERS_MAIDEN_NAME_URL                                                                \
    "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"

/* A UUID in its 8-4-4-4-12 hex form (a regional person id). */
bool mpi_uuid_syntax(const char *s);

/* Regional (public) id -> the active person's pk, following merges;
 * BASE_E_NOTFOUND for no such person or a value that is no UUID. */
BASE_MUST_CHECK int mpi_person_by_public(PGconn *db, struct base_arena *a, const char *public_id,
                                         int64_t *pk, struct base_err *err);

/* The regional Patient of person `pk` (its identifiers, and the demographics
 * of its best record); `*out` is a new reference for the caller. */
BASE_MUST_CHECK int mpi_patient_of(PGconn *db, struct base_arena *a,
                                   const struct gw_mpi_config *cfg, int64_t pk, json_t **out,
                                   struct base_err *err);

/* Append searchset entry `e` (NULL: out of memory; a reference the entries
 * take) with its fullUrl "<base_url>/Patient/<resource id>" when base_url is
 * set. */
BASE_MUST_CHECK int mpi_entry_append(struct base_arena *a, const char *base_url, json_t *entries,
                                     json_t *e, struct base_err *err);

#endif /* GATEWAY_MPI_MPI_INT_H */
