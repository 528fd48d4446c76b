/*
 * gateway/demo/cda_int.h — the demo's CDA writer (cda_doc.c: header and
 * document; cda_body.c: sections and entries).
 */
#ifndef GATEWAY_DEMO_CDA_INT_H
#define GATEWAY_DEMO_CDA_INT_H

#include "gateway/demo/demo_int.h"

#define OID_LOINC    "2.16.840.1.113883.6.1"
#define OID_SNOMED   "2.16.840.1.113883.6.96"
#define OID_RXNORM   "2.16.840.1.113883.6.88"
#define OID_CVX      "2.16.840.1.113883.12.292"
#define OID_ICD9CM3  "2.16.840.1.113883.6.104"
#define OID_ICD10_CN "2.16.156.10011.2.3.3.11" /* ICD-10 (GB/T 14396), as WS/T 500 names it */
#define OID_ACTCODE  "2.16.840.1.113883.5.4"
#define OID_INTERP   "2.16.840.1.113883.5.83"
#define OID_NCI      "2.16.840.1.113883.3.26.1.1"
#define CCDA_T       "2.16.840.1.113883.10.20.22"
#define CCDA_V       "2015-08-01"

struct cdoc {
    const struct demo_region *r;
    const struct demo_rec *rec;
    const struct demo_person *p;
    const struct demo_visit *v;
    struct base_buf *b;
    char id[40];        /* document id (extension) */
    char entry_oid[72]; /* root of entry ids */
    int n_entries;
    int day; /* document time */
    int minute;
    bool discharge; /* discharge summary (else progress note) */
};

/* <tag code codeSystem codeSystemName displayName/> */
BASE_MUST_CHECK int demo_cda_code(struct base_buf *b, const char *tag, const char *code,
                                  const char *system, const char *system_name, const char *display);
/* A new entry id <id root= extension=/> with `kind`; or a stable one (key). */
BASE_MUST_CHECK int demo_cda_entry_id(struct cdoc *d, const char *key);
/* <tag value="YYYYMMDDHHMMSS+0800"/> */
BASE_MUST_CHECK int demo_cda_time(struct base_buf *b, const char *tag, int day, int minute);
/* The structured body. */
BASE_MUST_CHECK int demo_cda_body(struct cdoc *d);

#endif /* GATEWAY_DEMO_CDA_INT_H */
