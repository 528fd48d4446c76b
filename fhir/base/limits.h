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

/* --- HTTP (gateway/http; config keys in docs/design/http.md) ------------- */
#define BASE_LIMIT_HTTP_MAX_BODY       (16u << 20) /* request body -> 413 */
#define BASE_LIMIT_HTTP_MAX_URL        4096u       /* request target -> 414 */
#define BASE_LIMIT_HTTP_MAX_HEADER     4096u       /* all header lines -> 431 */
#define BASE_LIMIT_HTTP_MAX_PARAMS     64u         /* query parameters -> 414 */
#define BASE_LIMIT_HTTP_MAX_PARAM_LEN  2048u       /* one raw name=value -> 414 */
#define BASE_LIMIT_HTTP_MAX_SEGMENTS   32u         /* path segments -> 414 */
#define BASE_LIMIT_HTTP_MAX_CONNECTIONS 4096u      /* open connections in all */
#define BASE_LIMIT_HTTP_MAX_PER_IP     256u        /* per client address (0 = none) */
/* MHD's fixed pool per connection holds the request line, the headers and
 * the answer's headers; all of it is touched, so it is resident for the
 * connection's life.  7 KiB gives 17.3 KiB (17 750 bytes) per idle HTTPS
 * connection (measured, docs/design/http.md; nginx: 14.2 KiB); it must
 * exceed max(max_url, max_header) by 1 KiB so that the 414/431 answers
 * themselves fit. */
#define BASE_LIMIT_HTTP_CONN_MEMORY    7168u
#define BASE_LIMIT_HTTP_IDLE_MS        30000u      /* no traffic on a connection */
#define BASE_LIMIT_HTTP_HEADER_MS      10000u      /* accept to complete headers */
#define BASE_LIMIT_HTTP_BODY_MS        60000u      /* headers to complete body */
#define BASE_LIMIT_HTTP_REQUEST_MEMORY (64u << 20) /* arena budget of one request */
#define BASE_LIMIT_HTTP_MAX_RESPONSE   (256u << 20) /* one serialized answer */

/* --- configuration files (fhir/base/conf) --------------------------------- */
#define BASE_LIMIT_CONF_MAX_FILE       (1u << 20) /* bytes of one config file */
#define BASE_LIMIT_CONF_MAX_LINE       4096u      /* bytes of one line */
#define BASE_LIMIT_CONF_MAX_SECTIONS   4096u      /* sections in one file */
#define BASE_LIMIT_CONF_MAX_ENTRIES    20000u     /* key = value lines in one file */
#define BASE_LIMIT_CONF_MAX_LIST_ITEMS 1024u      /* items of one list value */
#define BASE_LIMIT_CONF_MAX_SECRET     16384u     /* bytes of one secret (keys, passwords) */

#endif /* FHIR_BASE_LIMITS_H */
