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

/* --- configuration files (fhir/base/conf) --------------------------------- */
#define BASE_LIMIT_CONF_MAX_FILE       (1u << 20) /* bytes of one config file */
#define BASE_LIMIT_CONF_MAX_LINE       4096u      /* bytes of one line */
#define BASE_LIMIT_CONF_MAX_SECTIONS   4096u      /* sections in one file */
#define BASE_LIMIT_CONF_MAX_ENTRIES    20000u     /* key = value lines in one file */
#define BASE_LIMIT_CONF_MAX_LIST_ITEMS 1024u      /* items of one list value */
#define BASE_LIMIT_CONF_MAX_SECRET     16384u     /* bytes of one secret (keys, passwords) */

#endif /* FHIR_BASE_LIMITS_H */
