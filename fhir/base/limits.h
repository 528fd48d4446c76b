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

/* --- Authentication (gateway/auth) --------------------------------------- */
/* A gateway access token is ~700 bytes; SMART client assertions ~600-1500.
 * 8 KiB leaves room for RSA-4096 signatures and long scope lists while
 * keeping every token far below the HTTP header limit. */
#define BASE_LIMIT_AUTH_MAX_TOKEN       8192u  /* bytes of one compact JWT */
#define BASE_LIMIT_AUTH_MAX_JOSE_HEADER 1024u  /* decoded bytes of a JOSE header */
#define BASE_LIMIT_AUTH_MAX_CLAIMS      6144u  /* decoded bytes of a JWT claims set */
#define BASE_LIMIT_AUTH_MAX_JSON_DEPTH  4u     /* nesting inside header/claims */
#define BASE_LIMIT_AUTH_MAX_JSON_MEMBERS 64u   /* members of one header/claims object */
#define BASE_LIMIT_AUTH_MAX_JSON_ARRAY  32u    /* elements of one array (aud) */
#define BASE_LIMIT_AUTH_MAX_JSON_STRING 4096u  /* bytes of one string (scope) */
#define BASE_LIMIT_AUTH_MAX_CLAIM_TEXT  256u   /* bytes of an identifier claim */
#define BASE_LIMIT_AUTH_MAX_KID         128u   /* bytes of a key id */
#define BASE_LIMIT_AUTH_MAX_KEYS        16u    /* keys in one key set / JWKS */
#define BASE_LIMIT_AUTH_MAX_JWKS        65536u /* bytes of a client's JWKS document */
#define BASE_LIMIT_AUTH_MAX_HEADER      8192u  /* bytes of an Authorization header */
#define BASE_LIMIT_AUTH_MAX_SCOPES      64u    /* scopes in one scope string */
#define BASE_LIMIT_AUTH_MAX_SCOPE_LEN   256u   /* bytes of one scope */
#define BASE_LIMIT_AUTH_MAX_FORM        16384u /* bytes of a token request body */
#define BASE_LIMIT_AUTH_MAX_FORM_FIELDS 16u    /* fields of a token request */
#define BASE_LIMIT_AUTH_MAX_PASSWORD    1024u  /* bytes of a password */
#define BASE_LIMIT_AUTH_MIN_PASSWORD    12u    /* characters of a new password */
#define BASE_LIMIT_AUTH_MAX_USERNAME    64u    /* bytes of a user name */
#define BASE_LIMIT_AUTH_CLOCK_SKEW      60     /* seconds tolerated on exp/nbf/iat */
#define BASE_LIMIT_AUTH_ASSERTION_LIFE  300    /* SMART: client assertion exp <= 5 min */

/* --- HL7 v2 (adapters/hl7v2, adapters/mllp, adapters/codemap) ----------- */
/* From the shared corpus: at most 73 fields in a segment, 17 repetitions, 21
 * components, 9 subcomponents, 180 segments, one 85 KB ED payload.  The
 * defaults leave room for big ORU feeds and base64 PDFs while bounding
 * every count a hostile sender controls. */
#define BASE_LIMIT_HL7V2_MAX_MESSAGE   (16u << 20) /* bytes of one message */
#define BASE_LIMIT_HL7V2_MAX_SEGMENTS  20000u      /* segments in one message */
#define BASE_LIMIT_HL7V2_MAX_FIELDS    256u        /* fields in one segment */
#define BASE_LIMIT_HL7V2_MAX_REPS      1000u       /* repetitions in one field */
#define BASE_LIMIT_HL7V2_MAX_COMPS     64u         /* components in one repetition */
#define BASE_LIMIT_HL7V2_MAX_SUBS      32u         /* subcomponents in one component */
#define BASE_LIMIT_HL7V2_MAX_MESSAGES  100000u     /* messages in one file or batch */
#define BASE_LIMIT_HL7V2_MAX_FILE      (256u << 20) /* bytes of one batch file */
#define BASE_LIMIT_MLLP_MAX_FRAME      BASE_LIMIT_HL7V2_MAX_MESSAGE
#define BASE_LIMIT_MLLP_MAX_CLIENTS    1024u       /* concurrent MLLP connections */
#define BASE_LIMIT_MLLP_IDLE_MS        60000u      /* silent connection is closed */
#define BASE_LIMIT_MLLP_FRAME_MS       120000u     /* a frame must end within this */
#define BASE_LIMIT_MLLP_MAX_INFLIGHT   256u        /* un-ACKed messages per connection */
#define BASE_LIMIT_CODEMAP_MAX_FILE    (64u << 20) /* bytes of one code-map CSV */
#define BASE_LIMIT_CODEMAP_MAX_FIELD   4096u       /* bytes of one CSV field */
#define BASE_LIMIT_CODEMAP_MAX_ROWS    2000000u    /* rows over all code-map files */
#define BASE_LIMIT_CODEMAP_MAX_UNMAPPED 1000u      /* distinct unmapped codes listed per system */

#endif /* FHIR_BASE_LIMITS_H */
