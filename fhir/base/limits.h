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

/* --- CDA R2 documents (adapters/cda) -------------------------------------
 * The deepest corpus document nests 16 elements (C-CDA Discharge Summary);
 * 64 leaves room for deep narrative tables.  16 MiB keeps the base64 copy
 * of the original (4/3 larger) under BASE_LIMIT_FHIR_MAX_STRING. */
#define BASE_LIMIT_CDA_MAX_DOC         (16u << 20)
#define BASE_LIMIT_CDA_MAX_DEPTH       64u
#define BASE_LIMIT_CDA_MAX_NODES       500000u
#define BASE_LIMIT_CDA_MAX_ENTRIES     10000u  /* resources from one document */

/* --- CSV exports (adapters/csv) -------------------------------------------
 * Synthea's widest table (payers.csv) has 21 columns; HIS exports reach a
 * few hundred. */
#define BASE_LIMIT_CSV_MAX_COLUMNS     1024u
#define BASE_LIMIT_CSV_MAX_FIELD       (64u << 10) /* bytes of one field */
#define BASE_LIMIT_CSV_MAX_RECORD      (1u << 20)  /* bytes of one record */
#define BASE_LIMIT_CSV_MAX_MAPPING     (256u << 10) /* bytes of a mapping file */
#define BASE_LIMIT_CSV_MAX_RULES       512u        /* rules in a mapping file */
#define BASE_LIMIT_CSV_BATCH_ROWS      1000u       /* rows per emitted Bundle */
#define BASE_LIMIT_CSV_MAX_GROUP_ROWS  10000u      /* rows merged into one resource */

/* --- DICOMweb (adapters/dicomweb) -----------------------------------------
 * A QIDO-RS answer is a JSON array of datasets; sequences nest a few levels
 * (PS3.18 F.2).  Per-VR value lengths come from PS3.5 table 6.2-1; the
 * unbounded VRs (UC, UR, UT, LT...) are capped here. */
#define BASE_LIMIT_DICOMWEB_MAX_RESPONSE (32u << 20) /* bytes of one QIDO answer */
#define BASE_LIMIT_DICOMWEB_MAX_DEPTH    8u          /* nested SQ levels */
#define BASE_LIMIT_DICOMWEB_MAX_DATASETS 100000u     /* datasets in one answer */
#define BASE_LIMIT_DICOMWEB_MAX_TEXT     (64u << 10) /* bytes of a UC/UR/UT/LT value */
#define BASE_LIMIT_DICOMWEB_MAX_VALUES   4096u       /* values of one attribute */
#define BASE_LIMIT_DICOMWEB_TIMEOUT_MS   15000u      /* whole QIDO request */
#define BASE_LIMIT_DICOMWEB_CONNECT_MS   3000u
#define BASE_LIMIT_DICOMWEB_PAGE         100u        /* QIDO limit= per page */
#define BASE_LIMIT_DICOMWEB_MAX_STUDIES  1000u       /* studies for one patient */

#endif /* FHIR_BASE_LIMITS_H */
