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

/* --- Adapter store (adapters/store) --------------------------------------- */
#define BASE_LIMIT_STORE_MAX_ENTRIES     10000u     /* entries of one transaction Bundle */
#define BASE_LIMIT_STORE_MAX_BATCH       10000u     /* Bundles applied in one database transaction */
#define BASE_LIMIT_STORE_MAX_LEDGER_KEY  512u       /* bytes of a message source or id (MSH-10) */
#define BASE_LIMIT_STORE_MAX_ACK         65536u     /* bytes of an acknowledgement kept in the ledger */
#define BASE_LIMIT_STORE_MAX_WRITE       (256u << 20) /* bytes sent for one Bundle's write */
#define BASE_LIMIT_STORE_MAX_OFFSET      100000u    /* _offset / paging depth of a search */
#define BASE_LIMIT_STORE_MAX_ROW         (64u << 20) /* bytes of one stored resource returned */

#endif /* FHIR_BASE_LIMITS_H */
