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
