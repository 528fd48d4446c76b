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

/* --- FHIR XML (fhir/xml) -------------------------------------------------- */
/* The official R4 examples and the Synthea lines nest at most 11 XML
 * elements (Bundle entries with narrative tables); libxml2 itself stops at
 * 256 without XML_PARSE_HUGE. */
#define BASE_LIMIT_FHIR_XML_MAX_DEPTH    100u       /* element nesting */
#define BASE_LIMIT_FHIR_XML_MAX_ELEMENTS 4000000u   /* elements of one document */
/* libxml2 2.9 checks duplicate attributes pairwise (quadratic): a tag with
 * 40 000 attributes takes seconds.  FHIR elements carry at most id, url,
 * value and a few namespace declarations; narrative tags a handful more. */
#define BASE_LIMIT_FHIR_XML_MAX_ATTRS    32u        /* attributes + xmlns of one tag */
/* libxml2's own cap for one attribute value without XML_PARSE_HUGE (which
 * we never set): base64 attachments in value="" must fit in it. */
#define BASE_LIMIT_FHIR_XML_MAX_VALUE    10000000u  /* bytes of one attribute value */

/* --- FHIR narrative fast checker (fhir/validate/xhtml_fast.c) ------------ */
/* Past these the narrative is not refused: libxml2 decides it (256 levels,
 * 10 MB per text or attribute value).  The corpus' divs nest at most 6
 * elements and are at most 30 KB. */
#define BASE_LIMIT_FHIR_XHTML_FAST_MAX_DEPTH 64u        /* open elements */
#define BASE_LIMIT_FHIR_XHTML_FAST_MAX_LEN   (1u << 20) /* bytes of one div */

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
/* SMART App Launch (authorization code + PKCE).  The signed login-page
 * request must fit BASE_LIMIT_AUTH_MAX_CLAIMS with all of these at their
 * maximum; real clients send a ~60-byte redirect URI and a ~16-byte state. */
#define BASE_LIMIT_AUTH_MAX_REDIRECT_URI 1024u /* bytes of one redirect_uri */
#define BASE_LIMIT_AUTH_MAX_REDIRECT_URIS 16u  /* redirect URIs of one app client */
#define BASE_LIMIT_AUTH_MAX_STATE       512u   /* bytes of the OAuth2 state */
#define BASE_LIMIT_AUTH_MAX_REQ_SCOPE   2048u  /* bytes of an authorize request's scope */
#define BASE_LIMIT_AUTH_CODE_LIFE       60     /* seconds an authorization code lives */
#define BASE_LIMIT_AUTH_LOGIN_PAGE_LIFE 600    /* seconds to submit the sign-in page */
/* Refresh tokens (RFC 9700 §4.14.2: bounded): a family of rotated tokens ends
 * this long after the sign-in that started it, however often it is used. */
#define BASE_LIMIT_AUTH_REFRESH_OFFLINE_LIFE (30 * 86400) /* offline_access */
#define BASE_LIMIT_AUTH_REFRESH_ONLINE_LIFE  (12 * 3600)  /* online_access */
#define BASE_LIMIT_AUTH_MAX_REFRESH_TOKEN    256u         /* bytes of a presented refresh_token */

/* --- CDA R2 documents (adapters/cda) -------------------------------------
 * The deepest corpus document nests 16 elements (C-CDA Discharge Summary);
 * 64 leaves room for deep narrative tables.  16 MiB keeps the base64 copy
 * of the original (4/3 larger) under BASE_LIMIT_FHIR_MAX_STRING. */
#define BASE_LIMIT_CDA_MAX_DOC         (16u << 20)
#define BASE_LIMIT_CDA_MAX_DEPTH       64u
#define BASE_LIMIT_CDA_MAX_NODES       500000u
#define BASE_LIMIT_CDA_MAX_ENTRIES     10000u  /* resources from one document */
/* Warnings listed for one document; further ones are only counted, so a
 * document of 100,000 empty entries costs no more than one of 1,000. */
#define BASE_LIMIT_CDA_MAX_WARNINGS    1000u
/* Bytes a compressed nonXMLBody (ED compression DF/GZ/ZL) may inflate to:
 * as large as a whole document, so its base64 fits a FHIR string too;
 * deflate reaches ~1000:1, so a 16 KiB body can claim this much. */
#define BASE_LIMIT_CDA_MAX_INFLATED    (16u << 20)

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
#define BASE_LIMIT_DICOMWEB_MAX_LISTED   200000u     /* studies read to list a PACS's patients */

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
#define GW_MPI_LIMIT_PDQ_BIRTHDATES 4     /* birthdate parameters in one PDQm query */
#define GW_MPI_LIMIT_PDQ_PARAMS     16u   /* criteria (search parameters) in one PDQm query */
#define GW_MPI_LIMIT_PDQ_TERMS      32u   /* values in them, OR lists counted out */
#define GW_MPI_LIMIT_PDQ_MATCHES    1000u /* persons one PDQm search may page through */
#define GW_MPI_LIMIT_REVIEW_PAGE    500u  /* review items in one list */

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

/* --- Adapter store (adapters/store) --------------------------------------- */
#define BASE_LIMIT_STORE_MAX_ENTRIES     10000u     /* entries of one transaction Bundle */
#define BASE_LIMIT_STORE_MAX_BATCH       10000u     /* Bundles applied in one database transaction */
#define BASE_LIMIT_STORE_MAX_LEDGER_KEY  512u       /* bytes of a message source or id (MSH-10) */
#define BASE_LIMIT_STORE_MAX_ACK         65536u     /* bytes of an acknowledgement kept in the ledger */
#define BASE_LIMIT_STORE_MAX_WRITE       (256u << 20) /* bytes sent for one Bundle's write */
#define BASE_LIMIT_STORE_MAX_OFFSET      100000u    /* _offset / paging depth of a search */
#define BASE_LIMIT_STORE_MAX_ROW         (64u << 20) /* bytes of one stored resource returned */
#define BASE_LIMIT_STORE_MAX_INCLUDED    1000u      /* resources _include/_revinclude add to one page */

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

/* --- Adapter daemon (adapters/daemon, adapters/facade) --------------------
 * Group commit: the committer waits at most batch_latency for a batch to
 * fill (a lone message pays that once), and takes at most batch_max
 * messages per transaction.  Queue: messages received but not yet
 * committed (beyond it the sender gets AR and retries). */
#define BASE_LIMIT_ADAPTER_BATCH_MAX        500u         /* messages per commit */
#define BASE_LIMIT_ADAPTER_BATCH_LATENCY_MS 2u           /* wait for a batch to fill */
#define BASE_LIMIT_ADAPTER_QUEUE_MAX        20000u       /* messages waiting for a commit */
#define BASE_LIMIT_ADAPTER_DROP_POLL_MS     1000u        /* drop folders: scan interval */
#define BASE_LIMIT_ADAPTER_DROP_SETTLE_MS   1000u        /* file size stable this long */
#define BASE_LIMIT_ADAPTER_MAX_DOCUMENT     (16u << 20)  /* one CDA document / dropped HL7 file */
#define BASE_LIMIT_ADAPTER_MAX_FILE         (1024ull << 20) /* largest max_document setting */
#define BASE_LIMIT_ADAPTER_PACS_PATIENTS    100000u      /* patients one PACS sync round asks */
#define BASE_LIMIT_ADAPTER_LIVE_SEEN        8192u        /* live studies remembered for a read by id */

/* --- Demo data and feed (gateway/demo) -------------------------------------- */
#define GW_DEMO_LIMIT_ACK           (64u << 10)  /* bytes of one MLLP-framed acknowledgement */
#define GW_DEMO_LIMIT_MESSAGE_FILE  (16u << 20)  /* bytes of one .hl7 file the feed sends */
#define GW_DEMO_LIMIT_MANIFEST      (64u << 20)  /* bytes of manifest.json (read by --live) */
#define GW_DEMO_LIMIT_FILES         1000000u     /* .hl7 files in the feed's folder */

#endif /* FHIR_BASE_LIMITS_H */
