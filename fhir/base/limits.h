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

/* --- FHIR search (fhir/search) ------------------------------------------ */
#define BASE_LIMIT_SEARCH_MAX_QUERY      8192u  /* bytes of one query string */
#define BASE_LIMIT_SEARCH_MAX_PARAMS     64u    /* name=value pairs in one query */
#define BASE_LIMIT_SEARCH_MAX_PARAM_LEN  2048u  /* bytes of one parameter value */
#define BASE_LIMIT_SEARCH_MAX_OR_VALUES  32u    /* comma-separated values of one parameter */
#define BASE_LIMIT_SEARCH_MAX_SORT_KEYS  8u     /* keys in _sort */
#define BASE_LIMIT_SEARCH_MAX_ELEMENTS   64u    /* names in _elements */
#define BASE_LIMIT_SEARCH_MAX_INCLUDES   16u    /* _include + _revinclude */
#define BASE_LIMIT_SEARCH_DEFAULT_COUNT  50u    /* page size when _count is absent */
#define BASE_LIMIT_SEARCH_MAX_COUNT      1000u  /* _count is capped here */
#define BASE_LIMIT_SEARCH_MAX_INDEX_VALUES 10000u /* index values of one parameter in one resource */

/* --- Federation (gateway/fed) ------------------------------------------ */
#define BASE_LIMIT_FED_DEADLINE_MS       3000u      /* one federated query, all members */
#define BASE_LIMIT_FED_CONNECT_MS        1000u      /* TCP + TLS setup to one member */
#define BASE_LIMIT_FED_MAX_BODY          (16u << 20) /* bytes of one member answer */
#define BASE_LIMIT_FED_MAX_REQUESTS      512u       /* member requests in one job */
#define BASE_LIMIT_FED_MAX_INFLIGHT      512u       /* concurrent upstream requests, all loops */
#define BASE_LIMIT_FED_MAX_PER_MEMBER    16u        /* concurrent upstream requests per member */
#define BASE_LIMIT_FED_MAX_QUEUE         4096u      /* jobs waiting for a loop thread */
#define BASE_LIMIT_FED_MAX_MEMBERS       4096u      /* members the breaker table tracks */
#define BASE_LIMIT_FED_MAX_HEADERS       16u        /* extra request headers per member request */
#define BASE_LIMIT_FED_MAX_ENTRIES       100000u    /* entries in one member answer */
#define BASE_LIMIT_FED_MAX_IDENTIFIERS   32u        /* identifiers per entry used for de-duplication */
#define BASE_LIMIT_FED_MAX_LABELS        64u        /* meta.security codings kept per entry */
#define BASE_LIMIT_FED_MAX_CURSOR        4096u      /* characters of a paging cursor */
#define BASE_LIMIT_FED_CURSOR_TTL_S      600u       /* lifetime of a paging cursor */
#define BASE_LIMIT_FED_BREAKER_FAILURES  5u         /* consecutive failures that open a circuit */
#define BASE_LIMIT_FED_BREAKER_OPEN_MS   10000u     /* open circuit: wait before a trial request */

#endif /* FHIR_BASE_LIMITS_H */
