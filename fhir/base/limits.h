/*
 * fhir/base/limits.h — every input limit, named in one place.
 *
 * Each default can be overridden by configuration (see README, "Limits").
 * Depth defaults come from the real corpus: the deepest official R4 example
 * nests 11 JSON levels (Questionnaire items), real HL7 v2 and CDA far less;
 * the defaults leave generous headroom while keeping recursion bounded.
 */
#ifndef FHIR_BASE_LIMITS_H
#define FHIR_BASE_LIMITS_H

/* --- FHIR JSON / XML ---------------------------------------------------- */
#define BASE_LIMIT_FHIR_MAX_DOC        (64u << 20) /* bytes of one document */
#define BASE_LIMIT_FHIR_MAX_DEPTH      64u         /* nesting of objects/arrays */
#define BASE_LIMIT_FHIR_MAX_STRING     (32u << 20) /* bytes of one string value */
#define BASE_LIMIT_FHIR_MAX_ARRAY      1000000u    /* elements of one array */
#define BASE_LIMIT_FHIR_MAX_MEMBERS    10000u      /* members of one object */
#define BASE_LIMIT_FHIR_MAX_ISSUES     1000u       /* validation issues reported */

/* --- HTTP ----------------------------------------------------------------- */
#define BASE_LIMIT_HTTP_MAX_BODY       (16u << 20)
#define BASE_LIMIT_HTTP_MAX_URL        8192u
#define BASE_LIMIT_HTTP_MAX_HEADER     16384u
#define BASE_LIMIT_HTTP_MAX_PARAMS     64u
#define BASE_LIMIT_HTTP_MAX_PARAM_LEN  2048u

/* --- Master patient index (gateway/mpi) ----------------------------------- */
#define GW_MPI_LIMIT_NAME           256u  /* bytes of one name text/part */
#define GW_MPI_LIMIT_SYSTEM         256u  /* bytes of an identifier system */
#define GW_MPI_LIMIT_VALUE          128u  /* bytes of an identifier value */
#define GW_MPI_LIMIT_MEMBER         64u   /* bytes of a member id */
#define GW_MPI_LIMIT_ADDRESS        512u  /* bytes of one address part or text */
#define GW_MPI_LIMIT_PHONE          64u   /* bytes of one telecom value */
#define GW_MPI_LIMIT_LIST           64u   /* identifiers / names / telecoms / addresses read */
#define GW_MPI_LIMIT_PATIENT_DOC    (256u << 10) /* bytes of one reported Patient */
#define GW_MPI_LIMIT_CANDIDATES     256u  /* candidate records scored per ingest */
#define GW_MPI_LIMIT_PDQ_COUNT      100u  /* persons in one PDQm answer */
#define GW_MPI_LIMIT_REVIEW_PAGE    500u  /* review items in one list */

#endif /* FHIR_BASE_LIMITS_H */
