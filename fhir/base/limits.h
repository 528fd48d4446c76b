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

/* --- Database and audit trail (gateway/db, gateway/audit) ----------------- */
#define BASE_LIMIT_DB_POOL_MAX         256u        /* connections in one pool */
#define BASE_LIMIT_DB_PARAMS           65535u      /* parameters of one statement (protocol) */
#define BASE_LIMIT_DB_MIGRATION_STMTS  10000u      /* statements in one migration file */
#define BASE_LIMIT_AUDIT_MAX_EVENT     (4u << 20)  /* bytes of one AuditEvent JSON */
#define BASE_LIMIT_AUDIT_MAX_FIELD     1024u       /* bytes of one indexed audit column */
#define BASE_LIMIT_AUDIT_MAX_ENTITIES  10000u      /* entity references of one event */
#define BASE_LIMIT_AUDIT_MAX_QUEUE     65536u      /* rows waiting for the audit writer */
#define BASE_LIMIT_AUDIT_MAX_BATCH     2048u       /* rows in one group commit */
#define BASE_LIMIT_AUDIT_MAX_PAGE      1000u       /* AuditEvents in one search page */

#endif /* FHIR_BASE_LIMITS_H */
